"""The `speechqa` command line run as a real subprocess, the way users and scripts run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.env import ENV, REPO


def cli_argv(*args: str) -> list[str]:
    """The argv of `speechqa ARGS` with this interpreter."""
    return [sys.executable, "-m", "speechqa.cli", *args]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `speechqa ARGS` to the end; `env` adds to (or overrides) the tests' environment."""
    return subprocess.run(cli_argv(*args), capture_output=True, text=True, env={**ENV, **(env or {})}, cwd=cwd,
                          timeout=timeout)
