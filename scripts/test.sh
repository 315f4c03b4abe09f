#!/usr/bin/env bash
# Set up everything (venv, Chromium, CJK fonts) and run the whole test suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
