"""Shared fixtures: real Chroma stores in temporary folders, the real packaged embedding model. What they
build comes from tests/support/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.runtime import apply_defaults
from tests.support import archives
from tests.support.env import CORPUS

apply_defaults()  # the tests are an entry point too: offline, no telemetry, passive OpenMP threads


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., object]:
    from core.settings import Settings

    def make(**kw: object) -> Settings:
        kw.setdefault("db", tmp_path / "db")
        return Settings(**kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def seed_qa(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Any:
    """The two seed speeches indexed once, with the real model, for the read-only tests."""
    return archives.seed_qa(tmp_path_factory.mktemp("seed") / "db", corpus_dir)
