"""Fixtures for the ingest tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Hypothesis keeps caches in ./.hypothesis by default; keep the repository clean.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "speechqa-hypothesis")
)
