#!/usr/bin/env bash
# Set up, index the bundled demo archive on first start, and serve the app at http://127.0.0.1:7860.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False
# Incremental: a second start re-reads the files but embeds nothing that has not changed.
.venv/bin/speechqa ingest demo/archive "$@" || echo "[run] some demo files could not be indexed (see above)"
exec .venv/bin/speechqa serve --host "${SPEECHQA_HOST:-127.0.0.1}" --port "${SPEECHQA_PORT:-7860}"
