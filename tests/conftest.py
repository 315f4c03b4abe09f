"""Shared fixtures: real Chroma stores in temporary folders, the real packaged embedding model."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., object]:
    from speechqa.settings import Settings

    def make(**kw: object) -> Settings:
        kw.setdefault("db", tmp_path / "db")
        return Settings(**kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def seed_qa(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path):  # noqa: ANN201
    """The two seed speeches indexed once, with the real model, for the read-only tests."""
    from bot.qa import QA
    from speechqa.settings import Settings
    from vectorstore.archive import Archive

    settings = Settings(db=tmp_path_factory.mktemp("seed") / "db")
    archive = Archive(settings)
    report = archive.index_paths([corpus_dir / "seed_000.txt", corpus_dir / "seed_004.txt"])
    assert report.count("indexed") == 2, report.summary()
    return QA(settings, archive=archive)


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
