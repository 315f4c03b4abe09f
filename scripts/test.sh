#!/usr/bin/env bash
# Set up everything (venv, Chromium, CJK fonts, the local answer model of speechqa[llm]) and run the whole
# test suite, browser tests and the real-model test included. SPEECHQA_SKIP_LLM=1 leaves the model out
# (its tests then say why they skip); the first run compiles llama.cpp (about 11 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
if [ "${SPEECHQA_SKIP_LLM:-0}" != 1 ]; then
  bash scripts/fetch_llm.sh
fi
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
