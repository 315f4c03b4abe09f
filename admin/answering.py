"""The answering settings of the running server (answer mode, model server, key, time limit): checking the
form's values, showing them without the API key, and 测试连接 (one tiny prompt under a short time limit).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import queue
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from admin.messages import (
    KEY_SET,
    KEY_UNSET,
    MSG_BAD_KEY,
    MSG_BAD_MODE,
    MSG_BAD_MODEL,
    MSG_BAD_TIMEOUT,
    MSG_BAD_URL,
    MSG_NEED_TIMEOUT,
    MSG_NEED_URL,
    MSG_NO_LLAMACPP,
    MSG_NO_OPENAI,
    MSG_PROBE_AUTH,
    MSG_PROBE_CONNECT,
    MSG_PROBE_ERROR,
    MSG_PROBE_HTTP,
    MSG_PROBE_NOT_FOUND,
    MSG_PROBE_TIMEOUT,
    MSG_URL_CREDENTIALS,
    MSG_URL_TOO_LONG,
    PACKAGED_MODEL,
)
from bot import llm
from core.settings import Settings

log = logging.getLogger("speechqa.admin")

ANSWER_MODES = {"extractive": "摘录", "llamacpp": "本地模型", "openai": "OpenAI 兼容服务"}
MIN_TIMEOUT_S = 1.0
MAX_TIMEOUT_S = 600.0
MAX_URL_CHARS = 500
MAX_MODEL_CHARS = 200
MAX_KEY_CHARS = 1000
PROBE_TIMEOUT_S = 20.0  # 测试连接 waits at most this long for a reply (or the time limit entered, if shorter)
PROBE_LOAD_S = 120.0  # ...after at most this long for the client or local model to load (imports take seconds)
PROBE_PROMPT = "请只回复一个字：好"


@dataclass(frozen=True)
class AnswerView:
    """The answering settings as the admin tab shows them: whether an API key is set, never the key."""

    mode: str
    base_url: str
    model: str
    key_set: bool
    timeout_s: float
    model_path: str  # llamacpp: llm_model_path, "" for the packaged model (not editable in the tab)

    @classmethod
    def of(cls, settings: Settings) -> AnswerView:
        return cls(mode=settings.answer_mode, base_url=settings.llm_base_url, model=settings.llm_model,
                   key_set=bool(settings.llm_api_key.get_secret_value()), timeout_s=float(settings.llm_timeout_s),
                   model_path=settings.llm_model_path)

    def summary(self) -> str:
        """One Chinese line per setting."""
        lines = [f"回答方式：{ANSWER_MODES.get(self.mode, self.mode)}"]
        if self.mode == "extractive":
            lines[0] += "（直接摘录资料原文，不使用模型）"
        if self.mode == "llamacpp":
            lines.append(f"模型文件：{self.model_path or PACKAGED_MODEL}")
        else:
            lines.append(f"服务地址：{self.base_url or '（未填写）'}")
            lines.append(f"模型名称：{self.model or '（未填写，使用服务的默认模型）'}")
            lines.append(f"API 密钥：{KEY_SET if self.key_set else KEY_UNSET}")
        lines.append(f"时间限制：{self.timeout_s:g} 秒")
        return "\n".join(lines)


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(ch).startswith(("C", "Zl", "Zp")) for ch in text)


def check_base_url(url: str) -> str:
    """"" when `url` (already stripped; may be empty) is usable as the model server's address, else why not."""
    if not url:
        return ""
    if len(url) > MAX_URL_CHARS:
        return MSG_URL_TOO_LONG.format(n=MAX_URL_CHARS)
    if _has_controls(url) or any(ch.isspace() for ch in url):
        return MSG_BAD_URL
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return MSG_BAD_URL
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return MSG_BAD_URL
    if parts.username is not None or parts.password is not None:
        return MSG_URL_CREDENTIALS
    return ""


def parse_timeout(value: object) -> tuple[float, str]:
    """(seconds, "") for a time limit within [MIN_TIMEOUT_S, MAX_TIMEOUT_S], else (0, why not)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0, MSG_NEED_TIMEOUT
    bad = MSG_BAD_TIMEOUT.format(lo=MIN_TIMEOUT_S, hi=MAX_TIMEOUT_S)
    if isinstance(value, bool):
        return 0.0, bad
    try:
        seconds = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0, bad
    if not math.isfinite(seconds) or not MIN_TIMEOUT_S <= seconds <= MAX_TIMEOUT_S:
        return 0.0, bad
    return seconds, ""


def _installed(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


def local_model_problem(settings: Settings) -> str:
    """"" when llama.cpp and its model are there for `answer_mode=llamacpp`, else the Chinese reason.

    Cheap: looks for the packages and the model file (or the packaged model's parts); neither loads the
    model nor joins the parts (the first question does that)."""
    if not _installed("llama_cpp", "langchain_community"):
        return MSG_NO_LLAMACPP
    try:
        if settings.llm_model_path:
            llm.model_path(settings)  # only checks that the file exists
        elif not (Path(settings.model_cache) / llm.MODEL_FILE).is_file():
            llm.part_files()
    except llm.LLMUnavailable as e:
        return str(e)
    return ""


def check_answer_settings(current: Settings, mode: object, base_url: object, model: object, api_key: object,
                          timeout_s: object, clear_key: bool = False) -> tuple[dict[str, Any], str]:
    """(update for `Settings.model_copy`, "") for valid form values, else ({}, the Chinese reason).

    An empty `api_key` keeps the key in effect (the form never shows it); `clear_key` removes it unless a
    new key is given. The mode's requirements are checked too: a server address for openai, llama.cpp and
    a model for llamacpp."""
    mode = str(mode or "").strip()
    if mode not in ANSWER_MODES:
        return {}, MSG_BAD_MODE.format(mode=mode[:40])
    url = str(base_url or "").strip()
    error = check_base_url(url)
    if error:
        return {}, error
    name = str(model or "").strip()
    if len(name) > MAX_MODEL_CHARS or _has_controls(name):
        return {}, MSG_BAD_MODEL.format(n=MAX_MODEL_CHARS)
    key = str(api_key or "").strip()
    if len(key) > MAX_KEY_CHARS or _has_controls(key) or any(ch.isspace() for ch in key):
        return {}, MSG_BAD_KEY.format(n=MAX_KEY_CHARS)
    seconds, error = parse_timeout(timeout_s)
    if error:
        return {}, error
    update: dict[str, Any] = {"answer_mode": mode, "llm_base_url": url, "llm_model": name,
                              "llm_timeout_s": seconds}
    if key:
        update["llm_api_key"] = SecretStr(key)
    elif clear_key:
        update["llm_api_key"] = SecretStr("")
    if mode == "openai":
        if not url:
            return {}, MSG_NEED_URL
        if not _installed("langchain_openai"):
            return {}, MSG_NO_OPENAI
    elif mode == "llamacpp":
        error = local_model_problem(current.model_copy(update=update))
        if error:
            return {}, error
    return update, ""


def _probe_reason(error: BaseException, settings: Settings, limit_s: float) -> str:
    """A failed 测试连接 in Chinese, without the API key. Client errors are told apart by their classes'
    names (openai's, httpx's and LangChain's wrappers of them), so none of those packages is imported here."""
    kinds = {c.__name__ for c in type(error).__mro__}
    if isinstance(error, TimeoutError) or kinds & {"APITimeoutError", "ModelTimeoutError", "TimeoutException"}:
        return MSG_PROBE_TIMEOUT.format(s=limit_s)
    if isinstance(error, llm.LLMUnavailable):
        return str(error)
    code = getattr(error, "status_code", None)
    if isinstance(code, int):
        if code in (401, 403):
            return MSG_PROBE_AUTH.format(code=code)
        return MSG_PROBE_NOT_FOUND if code == 404 else MSG_PROBE_HTTP.format(code=code)
    if kinds & {"APIConnectionError", "ModelConnectionError", "ConnectError"} or isinstance(error, ConnectionError):
        return MSG_PROBE_CONNECT.format(url=settings.llm_base_url)
    detail = str(error)[:200]
    key = settings.llm_api_key.get_secret_value()
    if key:
        detail = detail.replace(key, "***")
    return MSG_PROBE_ERROR.format(kind=type(error).__name__, detail=detail)


def probe_model(settings: Settings, limit_s: float, load_s: float = PROBE_LOAD_S) -> tuple[bool, str]:
    """Send one tiny prompt to the model `settings` name and wait at most `limit_s` for its first words,
    counted from when the model is ready (loading it, or importing its client, may take up to `load_s` more,
    as it does before a first question). (True, "") on an answer, else (False, the Chinese reason). The
    model stops as soon as it has answered or the limit has passed."""
    outcome: queue.Queue[BaseException | None] = queue.Queue()

    def run() -> None:
        try:
            chat = llm.build_chat_model(settings)
            if chat is not None:
                stream = llm.stream_with_deadline(chat.model, [("human", PROBE_PROMPT)], limit_s, chat.lock)
                try:
                    next(stream, None)
                finally:
                    stream.close()
            outcome.put(None)
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            outcome.put(e)

    threading.Thread(target=run, name="speechqa-probe", daemon=True).start()
    try:
        error = outcome.get(timeout=load_s + limit_s + 0.5)
    except queue.Empty:
        error = TimeoutError()
    if error is None:
        return True, ""
    if not isinstance(error, TimeoutError | llm.LLMUnavailable):
        log.warning("answer model test failed: %s", type(error).__name__)
    return False, _probe_reason(error, settings, limit_s)
