"""Administration behind the app's 管理 tab: login sessions, uploads, re-indexing, removal, collections,
and the answering settings (answer mode, model server, key, time limit) of the running server.

The app only wires widgets to these methods. Every action takes the caller's session token and checks
it here, on the server, before doing anything: hiding the tab is never the protection. With no admin
password configured, every action (login included) is refused.

Uploads are copied into `settings.upload_dir / <collection>/` under a sanitised name (never a path),
staged in a hidden folder while they are indexed and moved into place only when indexing succeeded, so
a failed upload leaves neither a file nor a changed document behind. All writes are serialised by one
lock; readers (the chat) keep working on the same `Archive` objects meanwhile.

Answering settings changed here replace the settings object of every pooled QA (`model_copy(update=...)`)
and apply to the next question; they live in this process only (a restart reads the settings file again).
The API key is write-only: nothing here returns it, only whether one is set.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import logging
import math
import os
import queue
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot import llm
from bot.qa import QA
from ingest import discover
from ingest.model import IngestError
from core.settings import Settings
from vectorstore.archive import FileResult, IngestReport, Progress

log = logging.getLogger("speechqa.admin")

ALLOWED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".csv", ".docx", ".pdf")
STAGING = ".incoming"  # hidden: a re-index of the upload folder never walks into it
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; Chinese takes 3 bytes a character
MAX_COLLECTION_CHARS = 40
SESSION_TTL_S = 8 * 3600.0
MAX_SESSIONS = 1000
COPY_CHUNK = 2**20

# --- user-facing text (Chinese) ---
MSG_DISABLED = "管理功能未启用：服务器没有设置管理员密码。"
MSG_LOGIN_REQUIRED = "请先登录管理员账号（登录可能已过期，请重新登录）。"
MSG_WRONG_PASSWORD = "密码错误"
MSG_EMPTY_PASSWORD = "请输入管理员密码。"
MSG_LOGGED_IN = "已登录，可以管理资料库。"
MSG_LOGGED_OUT = "已退出登录。"
MSG_UNKNOWN_COLLECTION = "没有名为“{name}”的资料库。"
MSG_NO_FILES = "请先选择要上传的文件。"
MSG_BAD_NAME = "文件名无效（去掉路径和特殊字符后为空），未上传。"
MSG_LOCK_FILE = "这是 Office 的临时文件（以 ~$ 开头），不是文档，未上传。"
MSG_BAD_TYPE = "不支持的文件类型“{ext}”，只能上传 {allowed} 文件。"
MSG_TOO_BIG = "文件太大（{size}），超过了 {limit} 的上传上限，未上传。"
MSG_EMPTY_FILE = "文件是空的（0 字节），未上传。"
MSG_UNREADABLE = "无法读取上传的文件，请重新上传。"
MSG_DUPLICATE = "与同一批中的另一个文件同名（{name}），未上传。"
MSG_REPLACED = "已替换同名的旧文件"
MSG_SAME = "与资料库中的版本相同"
MSG_NOT_SAVED = "，文件未保存"
MSG_SYNC_REMOVED = "文件已不在文件夹中，已从资料库移除"
MSG_NO_FOLDER = "请输入服务器上的文件夹路径。"
MSG_FOLDER_MISSING = "服务器上找不到这个路径：{path}"
MSG_FOLDER_RELATIVE = "请输入完整路径（以 / 开头），例如 /data/讲话稿。"
MSG_SYNC_EMPTY = "这个路径下没有可索引的文件；为避免清空资料库，没有执行同步删除。"
MSG_INDEX_ERROR = "索引时出错，已中止：{error}"
MSG_NO_DOC = "请先选择要删除的文档。"
MSG_DOC_MISSING = "没有找到这份文档（{doc_id}），它可能已被删除。"
MSG_REMOVED = "已删除文档：{title}（{doc_id}），之后的回答不会再引用它。"
MSG_DOCS = "资料库“{name}”共有 {n} 份文档。"
MSG_COLLECTION_EXISTS = "资料库“{name}”已经存在。"
MSG_COLLECTION_CREATED = "已新建资料库“{name}”，现在可以向它上传文件。"
MSG_COLLECTION_EMPTY_NAME = "请输入新资料库的名称。"
MSG_COLLECTION_BAD_NAME = "资料库名称不能包含路径符号或特殊字符，不能以“.”开头，长度不超过 {n} 个字。"
MSG_DONE = "{action}完成：已索引 {indexed} 个，未变化 {unchanged} 个，失败 {failed} 个{removed}，用时 {seconds:.1f} 秒。"
ACTION_UPLOAD = "上传"
ACTION_REINDEX = "重新索引"
STATUS_LABELS = {"indexed": "已索引", "unchanged": "未变化", "failed": "失败", "removed": "已移除"}
REPORT_HEADERS = ["文件", "状态", "段落数", "说明"]
DOC_HEADERS = ["标题", "日期", "段落数", "文档编号"]

# --- answering settings ---
ANSWER_MODES = {"extractive": "摘录", "llamacpp": "本地模型", "openai": "OpenAI 兼容服务"}
MIN_TIMEOUT_S = 1.0
MAX_TIMEOUT_S = 600.0
MAX_URL_CHARS = 500
MAX_MODEL_CHARS = 200
MAX_KEY_CHARS = 1000
PROBE_TIMEOUT_S = 20.0  # 测试连接 waits at most this long for a reply (or the time limit entered, if shorter)
PROBE_LOAD_S = 120.0  # ...after at most this long for the client or local model to load (imports take seconds)
PROBE_PROMPT = "请只回复一个字：好"
MSG_RUNTIME_ONLY = "仅对当前运行的服务生效，重启后恢复为配置文件中的设置。"
MSG_BAD_MODE = "未知的回答方式“{mode}”，请选择：摘录、本地模型或 OpenAI 兼容服务。"
MSG_BAD_URL = "服务地址必须以 http:// 或 https:// 开头并包含主机名，例如 http://127.0.0.1:8080/v1。"
MSG_URL_TOO_LONG = "服务地址太长（超过 {n} 个字符）。"
MSG_URL_CREDENTIALS = "服务地址中不要包含用户名或密码，密钥请填在“API 密钥”一栏。"
MSG_NEED_URL = "选择“OpenAI 兼容服务”时必须填写服务地址，例如 http://127.0.0.1:8080/v1。"
MSG_BAD_MODEL = "模型名称不能包含控制字符，长度不超过 {n} 个字符。"
MSG_BAD_KEY = "API 密钥不能包含空格或控制字符，长度不超过 {n} 个字符。"
MSG_NEED_TIMEOUT = "请填写时间限制（秒）。"
MSG_BAD_TIMEOUT = "时间限制必须是 {lo:g} 到 {hi:g} 之间的秒数。"
MSG_NO_OPENAI = "未安装 langchain-openai，无法使用 OpenAI 兼容服务。" + llm.INSTALL_HINT
MSG_NO_LLAMACPP = "未安装 llama-cpp-python 或 langchain-community，无法使用本地模型。" + llm.INSTALL_HINT
MSG_ANSWER_NOW = "当前生效的回答设置：\n{summary}"
MSG_ANSWER_SAVED = "已保存。之后提出的新问题按以下设置回答（{note}）：\n{summary}"
MSG_PROBE_EXTRACTIVE = "摘录方式不使用模型，不需要测试连接。"
MSG_PROBE_OK = "测试成功：{name}在 {s:.1f} 秒内开始回复。（测试不会保存设置。）"
MSG_PROBE_FAILED = "测试失败：{reason}"
MSG_PROBE_TIMEOUT = "模型在 {s:g} 秒内没有回复（服务可能正忙，或模型在这台机器上太慢）。"
MSG_PROBE_CONNECT = "无法连接到 {url}（服务没有运行、地址或端口不对，或被防火墙拦截）。"
MSG_PROBE_AUTH = "服务拒绝了请求（HTTP {code}），请检查 API 密钥。"
MSG_PROBE_NOT_FOUND = "服务返回 HTTP 404：请检查服务地址（通常以 /v1 结尾）和模型名称。"
MSG_PROBE_HTTP = "服务返回错误（HTTP {code}）。"
MSG_PROBE_ERROR = "{kind}：{detail}"
KEY_SET = "已设置"
KEY_UNSET = "未设置"
PACKAGED_MODEL = "随软件提供的 Qwen2.5-Coder-1.5B"

ProgressFn = Callable[[Progress], None]

# Windows-reserved and shell-troublesome characters; path separators are handled before this.
_UNSAFE = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


class UnknownCollection(KeyError):
    """A collection name that is neither in the store nor created in this process."""


@dataclass
class ActionResult:
    """What an admin action did. `rows` fill the report or document table; `changed` means the archive
    changed, so lists shown elsewhere should be refreshed."""

    ok: bool
    message: str
    rows: list[list[object]] = field(default_factory=list)
    changed: bool = False
    answer: AnswerView | None = None  # the answering settings in effect (answer-settings actions only)


# --- names ---
def _drop_controls(text: str) -> str:
    """Remove control, format (bidi overrides, zero-width), surrogate, private and unassigned characters."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("C", "Zl", "Zp")))


def _truncate_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def sanitize_filename(name: str) -> str:
    """A safe single file name from whatever a browser or client sent; "" when nothing usable is left.

    Directories (either slash), drive letters, `..`, control and invisible format characters are removed;
    Chinese and other letters are kept. The result never contains a separator, never starts with a dot
    (hidden files are skipped by the indexer) and fits in a file system name.
    """
    text = _drop_controls(unicodedata.normalize("NFC", str(name or "")))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # strip any directories, Windows ones too
    text = _UNSAFE.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    if not text or set(text) <= {".", "_"}:
        return ""
    stem, ext = os.path.splitext(text)
    if len(ext.encode("utf-8")) > 16:  # not a real extension: keep it in the stem
        stem, ext = text, ""
    stem = _truncate_utf8(stem, MAX_NAME_BYTES - len(ext.encode("utf-8"))).rstrip(" .")
    if not stem:
        return ""
    return stem + ext


def collection_folder_name(collection: str) -> str:
    """The upload sub-folder of a collection: its sanitised name, or a hash when that would be empty or differ."""
    safe = sanitize_filename(collection)
    if safe and safe == collection:
        return safe
    digest = hashlib.sha1(collection.encode("utf-8")).hexdigest()[:12]
    return f"{safe[:40]}-{digest}" if safe else f"collection-{digest}"


def check_collection_name(name: str) -> str:
    """"" when `name` may be a new collection's name, else the reason in Chinese."""
    if not name:
        return MSG_COLLECTION_EMPTY_NAME
    if len(name) > MAX_COLLECTION_CHARS or sanitize_filename(name) != name or name.startswith("."):
        return MSG_COLLECTION_BAD_NAME.format(n=MAX_COLLECTION_CHARS)
    return ""


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def check_upload(name: str, size: int, max_bytes: int) -> str:
    """"" when a file with this (already sanitised) name and size may be uploaded, else the reason."""
    if not name:
        return MSG_BAD_NAME
    if name.startswith("~$"):
        return MSG_LOCK_FILE
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        return MSG_BAD_TYPE.format(ext=ext or "（无扩展名）", allowed=" ".join(ALLOWED_EXTENSIONS))
    if size > max_bytes:
        return MSG_TOO_BIG.format(size=_mb(size), limit=f"{max_bytes / 2**20:g} MB")
    if size <= 0:
        return MSG_EMPTY_FILE
    return ""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


# --- answering settings ---
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


# --- sessions ---
class Sessions:
    """Login tokens issued by the server. A token is valid until it expires or is revoked."""

    def __init__(self, ttl_s: float = SESSION_TTL_S, max_sessions: int = MAX_SESSIONS) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            while len(self._expiry) >= self.max_sessions:  # drop the oldest
                self._expiry.pop(min(self._expiry, key=self._expiry.__getitem__))
            self._expiry[token] = now + self.ttl_s
        return token

    def valid(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        with self._lock:
            expiry = self._expiry.get(token)
            if expiry is None:
                return False
            if expiry <= time.monotonic():
                del self._expiry[token]
                return False
            return True

    def revoke(self, token: object) -> None:
        if isinstance(token, str):
            with self._lock:
                self._expiry.pop(token, None)


# --- collections ---
class QAPool:
    """One QA (and so one Archive) per collection, created on first use and shared by chat and admin."""

    def __init__(self, settings: Settings, default: QA | None = None,
                 factory: Callable[[str], QA] | None = None) -> None:
        self.settings = settings
        self._factory = factory or (lambda name: QA(self.settings, collection=name))
        self._lock = threading.Lock()
        self._qas: dict[str, QA] = {}
        self._overrides: dict[str, Any] = {}  # settings changed at runtime: applied to QAs created later too
        if default is None:
            default = self._factory(settings.collection)
        self.default_name = default.archive.collection
        self._qas[self.default_name] = default
        self._created: set[str] = set()

    def names(self) -> list[str]:
        """Collections in the store, the configured one and the ones created here; the default first."""
        try:
            stored = self._qas[self.default_name].archive.catalog.collections()
        except Exception:
            log.exception("listing collections failed")
            stored = []
        with self._lock:
            rest = set(stored) | {self.settings.collection} | self._created | set(self._qas)
        rest.discard(self.default_name)
        return [self.default_name, *sorted(rest)]

    def known(self, name: str) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str | None) -> QA:
        """The QA of a known collection (the default for an empty name); UnknownCollection otherwise."""
        name = name or self.default_name
        with self._lock:
            qa = self._qas.get(name)
        if qa is not None:
            return qa
        if not self.known(name):
            raise UnknownCollection(name)
        with self._lock:
            if name not in self._qas:
                created = self._factory(name)
                if self._overrides:
                    created.settings = created.settings.model_copy(update=self._overrides)
                self._qas[name] = created
            return self._qas[name]

    def create(self, name: str) -> None:
        with self._lock:
            self._created.add(name)

    def update_settings(self, update: dict[str, Any]) -> Settings:
        """Replace the settings of every QA (and of those created later) by a copy with `update` applied;
        questions asked from now on use them. Only fields read per question (the answering ones) may be
        changed this way: archives and retrievers keep the settings they were built with."""
        with self._lock:
            self._overrides.update(update)
            self.settings = self.settings.model_copy(update=update)
            for qa in self._qas.values():
                qa.settings = qa.settings.model_copy(update=update)
            return self.settings


# --- administration ---
class Admin:
    """The admin actions. Each takes the session token returned by `login` and refuses without a valid one."""

    def __init__(self, settings: Settings, pool: QAPool, fail_delay_s: float = 0.5,
                 sessions: Sessions | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.fail_delay_s = fail_delay_s
        self.sessions = sessions or Sessions()
        self.write_lock = threading.Lock()
        self.settings_lock = threading.Lock()  # not the write lock: a long re-index must not block a mode change
        self.upload_root = Path(settings.uploads)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.admin_password.get_secret_value())

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings.max_upload_mb * 2**20)

    # --- login ---
    def login(self, password: str | None) -> tuple[str, str]:
        """(token, message): a fresh token on the right password, ("", reason) otherwise."""
        if not self.enabled:
            return "", MSG_DISABLED
        if not password:
            return "", MSG_EMPTY_PASSWORD
        expected = self.settings.admin_password.get_secret_value().encode("utf-8")
        if not hmac.compare_digest(str(password).encode("utf-8"), expected):
            log.warning("admin login failed")
            if self.fail_delay_s > 0:
                time.sleep(self.fail_delay_s)  # slows guessing down
            return "", MSG_WRONG_PASSWORD
        log.info("admin logged in")
        return self.sessions.issue(), MSG_LOGGED_IN

    def logout(self, token: str | None) -> str:
        self.sessions.revoke(token)
        return MSG_LOGGED_OUT

    def refusal(self, token: str | None) -> str:
        """"" when the token belongs to a logged-in admin session, else why the action is refused."""
        if not self.enabled:
            return MSG_DISABLED
        if not self.sessions.valid(token):
            return MSG_LOGIN_REQUIRED
        return ""

    def is_admin(self, token: str | None) -> bool:
        return not self.refusal(token)

    def _qa(self, collection: str | None) -> QA:
        return self.pool.get(collection)

    def _authorized(self, token: str | None, collection: str | None) -> QA | ActionResult:
        """The collection's QA for a valid admin session, else the refusal to return (checked on the server)."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        try:
            return self._qa(collection)
        except UnknownCollection:
            return ActionResult(False, MSG_UNKNOWN_COLLECTION.format(name=collection))

    def upload_folder(self, collection: str) -> Path:
        folder = self.upload_root / collection_folder_name(collection)
        if not _inside(folder, self.upload_root):  # cannot happen with a sanitised name; checked anyway
            raise ValueError(f"unsafe upload folder for collection {collection!r}")
        return folder

    # --- reading ---
    def documents(self, token: str | None, collection: str | None) -> ActionResult:
        """Title, date, passages, doc_id of every document, newest first."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        docs = sorted(qa.archive.documents(), key=lambda d: (d.date or "", d.title or "", d.doc_id), reverse=True)
        rows: list[list[object]] = [[d.title or d.doc_id, d.date or "", d.n_passages, d.doc_id] for d in docs]
        return ActionResult(True, MSG_DOCS.format(name=qa.archive.collection, n=len(rows)), rows)

    # --- writing ---
    def upload(self, token: str | None, collection: str | None, files: Sequence[str | Path | tuple[str | Path, str]],
               progress: ProgressFn | None = None) -> ActionResult:
        """Validate, save and index uploaded files. An item is a path (its name is the uploaded name) or
        (path, uploaded name)."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        items = [(Path(f[0]), str(f[1])) if isinstance(f, tuple) else (Path(f), Path(f).name) for f in files or []]
        if not items:
            return ActionResult(False, MSG_NO_FILES)
        archive = qa.archive
        with self.write_lock:
            t0 = time.perf_counter()
            folder = self.upload_folder(archive.collection)
            staging = folder / STAGING
            staging.mkdir(parents=True, exist_ok=True)
            rows: dict[str, list[object]] = {}
            order: list[str] = []
            staged: dict[str, Path] = {}
            refused_rows: list[list[object]] = []
            for src, original in items:
                name = sanitize_filename(original)
                label = name or original
                if name in staged:
                    refused_rows.append([label, STATUS_LABELS["failed"], 0, MSG_DUPLICATE.format(name=name)])
                    continue
                error = self._stage(src, name, staging)
                if error:
                    refused_rows.append([label, STATUS_LABELS["failed"], 0, error])
                    continue
                staged[name] = staging / name
                order.append(name)
            report = IngestReport()
            if staged:
                try:
                    report = archive.index_paths(list(staged.values()), progress=progress)
                except Exception as exc:  # keep nothing half-done on disk; the archive recovers itself
                    log.exception("indexing uploads failed")
                    for path in staged.values():
                        path.unlink(missing_ok=True)
                    return ActionResult(False, MSG_INDEX_ERROR.format(error=exc), refused_rows)
            for r in report.results:
                name = r.doc_id
                path = staged.get(name)
                if path is None:
                    continue
                note = r.error
                if r.status in ("indexed", "unchanged"):
                    target = folder / name
                    replaced = target.exists() or target.is_symlink()
                    if target.is_symlink() or target.is_dir():
                        self._discard(target)
                    os.replace(path, target)
                    note = MSG_SAME if r.status == "unchanged" else (MSG_REPLACED if replaced else "")
                else:
                    path.unlink(missing_ok=True)
                    note = (r.error or STATUS_LABELS["failed"]) + MSG_NOT_SAVED
                rows[name] = [name, STATUS_LABELS.get(r.status, r.status), r.passages, note]
            for name in order:  # a staged file the indexer skipped: should not happen, never kept
                if name not in rows:
                    (staging / name).unlink(missing_ok=True)
                    rows[name] = [name, STATUS_LABELS["failed"], 0, MSG_BAD_TYPE.format(
                        ext=os.path.splitext(name)[1], allowed=" ".join(ALLOWED_EXTENSIONS))]
            self._discard(staging)
            if report.count("indexed"):
                archive.refresh_keyword()
            table = [rows[n] for n in order] + refused_rows
            failed = len(refused_rows) + report.count("failed")
            message = MSG_DONE.format(action=ACTION_UPLOAD, indexed=report.count("indexed"),
                                      unchanged=report.count("unchanged"), failed=failed, removed="",
                                      seconds=time.perf_counter() - t0)
            log.info("admin upload to %s: %s", archive.collection, report.summary())
            return ActionResult(failed == 0, message, table, changed=report.count("indexed") > 0)

    def _stage(self, src: Path, name: str, staging: Path) -> str:
        """Copy one upload into the staging folder; the reason when it is refused."""
        try:
            size = src.stat().st_size
        except (OSError, ValueError):
            return MSG_UNREADABLE
        error = check_upload(name, size, self.max_upload_bytes)
        if error:
            return error
        target = staging / name
        if not _inside(target, staging) or target.parent.resolve() != staging.resolve():
            return MSG_BAD_NAME
        copied = 0
        try:
            with src.open("rb") as fin, open(target, "wb") as fout:
                while chunk := fin.read(COPY_CHUNK):
                    copied += len(chunk)
                    if copied > self.max_upload_bytes:  # grew after the size check
                        break
                    fout.write(chunk)
        except OSError:
            target.unlink(missing_ok=True)
            return MSG_UNREADABLE
        if copied > self.max_upload_bytes:
            target.unlink(missing_ok=True)
            return MSG_TOO_BIG.format(size=_mb(copied), limit=f"{self.max_upload_bytes / 2**20:g} MB")
        return ""

    @staticmethod
    def _discard(path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

    def reindex(self, token: str | None, collection: str | None, folder: str | None, sync: bool = False,
                progress: ProgressFn | None = None) -> ActionResult:
        """Index a server-side folder (or file) incrementally; with `sync`, remove documents no longer in it."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        text = _drop_controls(str(folder or "")).strip().strip("\"'").strip()
        if not text:
            return ActionResult(False, MSG_NO_FOLDER)
        path = Path(text).expanduser()
        if not path.is_absolute():  # relative to the server's working folder would surprise the admin
            return ActionResult(False, MSG_FOLDER_RELATIVE)
        if not path.exists():
            return ActionResult(False, MSG_FOLDER_MISSING.format(path=text))
        archive = qa.archive
        with self.write_lock:
            t0 = time.perf_counter()
            try:
                if sync and not discover([path]):
                    return ActionResult(False, MSG_SYNC_EMPTY)
                report = archive.index_paths([path], progress=progress, sync=bool(sync))
            except IngestError as exc:
                return ActionResult(False, str(exc))
            except Exception as exc:
                log.exception("re-index of %s failed", path)
                return ActionResult(False, MSG_INDEX_ERROR.format(error=exc))
            rows = [self._report_row(r) for r in report.results]
            removed = report.count("removed")
            message = MSG_DONE.format(action=ACTION_REINDEX, indexed=report.count("indexed"),
                                      unchanged=report.count("unchanged"), failed=len(report.failed),
                                      removed=f"，移除 {removed} 个" if sync else "",
                                      seconds=time.perf_counter() - t0)
            log.info("admin re-index of %s into %s: %s", path, archive.collection, report.summary())
            return ActionResult(not report.failed, message, rows,
                                changed=bool(report.count("indexed") or removed))

    @staticmethod
    def _report_row(r: FileResult) -> list[object]:
        note = r.error
        if r.status == "removed":
            note = MSG_SYNC_REMOVED
        elif r.status == "unchanged":
            note = MSG_SAME
        return [r.doc_id, STATUS_LABELS.get(r.status, r.status), r.passages, note]

    def remove(self, token: str | None, collection: str | None, doc_id: str | None) -> ActionResult:
        """Remove one document (and its uploaded file, if it was uploaded); it is never cited again."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        doc_id = str(doc_id or "").strip()
        if not doc_id:
            return ActionResult(False, MSG_NO_DOC)
        archive = qa.archive
        with self.write_lock:
            row = archive.catalog.document(archive.collection, doc_id)
            if row is None or not archive.remove(doc_id):
                return ActionResult(False, MSG_DOC_MISSING.format(doc_id=doc_id))
            archive.refresh_keyword()
            # an uploaded file would come back with the next re-index of the upload folder
            if sanitize_filename(doc_id) == doc_id:
                folder = self.upload_folder(archive.collection)
                uploaded = folder / doc_id
                if _inside(uploaded, folder) and (uploaded.is_file() or uploaded.is_symlink()):
                    uploaded.unlink(missing_ok=True)
            log.info("admin removed %s from %s", doc_id, archive.collection)
            return ActionResult(True, MSG_REMOVED.format(title=row.title or doc_id, doc_id=doc_id), changed=True)

    def create_collection(self, token: str | None, name: str | None) -> ActionResult:
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        name = unicodedata.normalize("NFC", str(name or "")).strip()
        error = check_collection_name(name)
        if error:
            return ActionResult(False, error)
        with self.write_lock:
            if self.pool.known(name):
                return ActionResult(False, MSG_COLLECTION_EXISTS.format(name=name))
            self.pool.create(name)
        log.info("admin created collection %s", name)
        return ActionResult(True, MSG_COLLECTION_CREATED.format(name=name), changed=True)

    # --- answering settings ---
    def answer_settings(self, token: str | None) -> ActionResult:
        """The answering settings in effect (the API key only as set / not set)."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        view = AnswerView.of(self.settings)
        return ActionResult(True, MSG_ANSWER_NOW.format(summary=view.summary()), answer=view)

    def set_answer_settings(self, token: str | None, mode: object, base_url: object, model: object,
                            api_key: object, timeout_s: object, clear_key: bool = False) -> ActionResult:
        """Check and apply new answering settings to every collection's QA, for the questions asked from
        now on, in this process only. An empty `api_key` keeps the current key; `clear_key` removes it."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        with self.settings_lock:
            update, error = check_answer_settings(self.settings, mode, base_url, model, api_key, timeout_s,
                                                  clear_key)
            if error:
                return ActionResult(False, error, answer=AnswerView.of(self.settings))
            self.settings = self.settings.model_copy(update=update)
            self.pool.update_settings(update)
            llm.release_models(self.settings)
            view = AnswerView.of(self.settings)
        log.info("admin changed the answering settings: mode=%s base_url=%s model=%s key=%s timeout=%gs",
                 view.mode, view.base_url, view.model, "set" if view.key_set else "unset", view.timeout_s)
        return ActionResult(True, MSG_ANSWER_SAVED.format(note=MSG_RUNTIME_ONLY.rstrip("。"), summary=view.summary()),
                            changed=True, answer=view)

    def test_answer_settings(self, token: str | None, mode: object, base_url: object, model: object,
                             api_key: object, timeout_s: object, clear_key: bool = False) -> ActionResult:
        """测试连接: check the form's values as `set_answer_settings` does, then send the model one tiny
        prompt under a short time limit. Nothing is saved."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        update, error = check_answer_settings(self.settings, mode, base_url, model, api_key, timeout_s, clear_key)
        if error:
            return ActionResult(False, error)
        if update["answer_mode"] == "extractive":
            return ActionResult(True, MSG_PROBE_EXTRACTIVE)
        limit = min(float(update["llm_timeout_s"]), PROBE_TIMEOUT_S)
        candidate = self.settings.model_copy(update={**update, "llm_timeout_s": limit})
        t0 = time.perf_counter()
        ok, reason = probe_model(candidate, limit)
        if not ok:
            return ActionResult(False, MSG_PROBE_FAILED.format(reason=reason))
        name = ANSWER_MODES[candidate.answer_mode]
        return ActionResult(True, MSG_PROBE_OK.format(name=name, s=time.perf_counter() - t0))
