"""Fixtures for the ingest tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

CORPUS = Path("/work/shared/corpus")

# Hypothesis keeps caches in ./.hypothesis by default; keep the repository clean.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "speechqa-hypothesis")
)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus folder {CORPUS} is missing on this machine")
    return CORPUS
