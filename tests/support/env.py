"""Where the tests find the checkout and the shared corpus, and the environment their child processes get."""

from __future__ import annotations

import os
from pathlib import Path

from core.runtime import DEFAULTS

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

# Offline, no telemetry, passive OpenMP threads: what every entry point sets (core.runtime), fixed for
# the servers and CLI runs the tests start.
ENV = {**os.environ, **DEFAULTS}
