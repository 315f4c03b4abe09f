"""The OpenAI-compatible API served under /v1 beside the chat: any OpenAI client (the `openai` SDK, LangChain's
`ChatOpenAI`, Open WebUI, Cherry Studio...) can ask the archive.

- `GET /v1/models`: one model per archive (collection), the default first; `GET /v1/models/{id}`.
- `POST /v1/chat/completions`: `model` picks the archive, the last user message is the question and the
  earlier turns are the history (follow-ups are rewritten as in the chat). The answer text carries the [n]
  markers; `citations` (`Citation.to_dict()`, as `speechqa ask --json` prints them) sits beside `choices`
  (on the final chunk when streaming). A refusal is a normal completion with `citations: []`. Usage counts
  characters, not tokens (`usage_unit: "characters"`).
- `POST /v1/retrieve` (and `/v1/chunks`, PrivateGPT's name): the passages an answer would cite, no answer.

Only reading: no admin action is reachable here. With keys, every request needs `Authorization: Bearer KEY`;
the admin password is never a key. Errors have OpenAI's shape `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.pool import QAPool, UnknownCollection
from bot.qa import QA, clean_question
from bot.types import Answer
from core.settings import Settings
from core.zh import sentence_breaks

log = logging.getLogger("speechqa.api")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
USAGE_UNIT = "characters"
KEEPALIVE_S = 5.0  # while a generated answer is written and checked, an SSE comment this often

MSG_BAD_KEY = "API 密钥无效或缺失：请在请求头中提供 Authorization: Bearer <密钥>。"
MSG_UNKNOWN_MODEL = "没有名为“{model}”的资料库（模型）。可用的资料库见 GET /v1/models。"
MSG_NO_QUESTION = "最后一条消息应当是用户（user）的问题。"
MSG_BAD_REQUEST = "请求格式不正确：{detail}"
MSG_NOT_FOUND = "没有这个接口：{path}"
MSG_SERVER_ERROR = "抱歉，系统暂时无法回答这个问题，请稍后再试。"  # the chat's MSG_ERROR
MSG_DISABLED = (
    "OpenAI 兼容接口（/v1）未启用：服务监听在 {host}（不只本机可访问），但没有设置 API 密钥。"
    "请设置环境变量 SPEECHQA_API_KEYS=密钥1,密钥2（或在 SPEECHQA_API_KEYS_FILE 指定的文件中每行写一个密钥）后重启；"
    "只在本机使用时可改用 --host 127.0.0.1。"
)


# ------------------------------------------------------------------------------------------------ keys
def load_keys(settings: Settings) -> list[str]:
    """The staff keys: `api_keys` plus the lines of `api_keys_file` (blank lines and # comments skipped).
    A key equal to the admin password is dropped (with a warning): the admin password never opens /v1."""
    keys = [k.get_secret_value().strip() for k in settings.api_keys]
    if settings.api_keys_file is not None:
        lines = settings.api_keys_file.read_text("utf-8").splitlines()
        keys += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    admin = settings.admin_password.get_secret_value()
    if admin and admin in keys:
        log.warning("an API key equals the admin password; that key is ignored")
    return list(dict.fromkeys(k for k in keys if k and k != admin))


def open_api_refusal(host: str, keys: Sequence[str]) -> str:
    """Why the API must not start (Chinese, saying how to set keys), or "" when it may: a server reachable
    from other machines needs keys."""
    if keys or host.strip().strip("[]").lower() in LOOPBACK:
        return ""
    return MSG_DISABLED.format(host=host)


# ------------------------------------------------------------------------------------------------ errors
class ApiError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def _http_error(status: int, path: str, detail: Any) -> ApiError:
    if status == 404:
        return ApiError(404, MSG_NOT_FOUND.format(path=path), code="not_found")
    if status == 405:
        return ApiError(405, MSG_BAD_REQUEST.format(detail="不支持这个请求方法"), code="method_not_allowed")
    return ApiError(status, str(detail), type_="server_error" if status >= 500 else "invalid_request_error")


# ------------------------------------------------------------------------------------------------ requests
class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, n, tools... are accepted and ignored

    model: str = ""
    messages: list[Message]
    stream: bool = False
    stream_options: dict[str, Any] | None = None


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = ""
    question: str = ""
    text: str = ""  # PrivateGPT's /v1/chunks field
    k: int | None = None
    limit: int | None = None  # PrivateGPT's name for k


def message_text(message: Message) -> str:
    """A message's text: the string, or its text parts joined (OpenAI's multi-part content)."""
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "".join(str(p.get("text") or "") for p in parts if p.get("type") in ("text", "input_text"))


def split_conversation(messages: Sequence[Message]) -> tuple[str, list[tuple[str, str]]]:
    """(question, history): the last message must be the user's; earlier user turns paired with the assistant
    reply that followed each (system and tool messages are ignored)."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, MSG_NO_QUESTION, param="messages", code="invalid_messages")
    history: list[tuple[str, str]] = []
    for m in turns[:-1]:
        if m.role == "user":
            history.append((message_text(m), ""))
        elif history and not history[-1][1]:
            history[-1] = (history[-1][0], message_text(m))
    return message_text(turns[-1]), history


# ------------------------------------------------------------------------------------------------ answers
Event = dict[str, Any]  # what `QA.ask_stream` yields


@dataclass
class Turn:
    """One question answered through the API, read from `QA.ask_stream`'s events: the standalone question
    (after a follow-up rewrite), the notices, and the final (checked) answer."""

    question: str
    notices: list[str] = field(default_factory=list)
    answer: Answer | None = None

    def take(self, event: Event) -> str:
        """Record one event; returns its type ("token" events are only counted by the caller)."""
        kind = str(event.get("type") or "")
        if kind == "rewrite":
            self.question = str(event.get("question") or self.question)
        elif kind == "notice":
            text = str(event.get("text") or "")
            if text and text not in self.notices:
                self.notices.append(text)
        elif kind == "answer" and isinstance(event.get("answer"), Answer):
            self.answer = event["answer"]
        return kind

    def final(self) -> Answer:
        if not isinstance(self.answer, Answer):
            raise RuntimeError("the answer stream ended without an answer")
        return self.answer

    def extras(self) -> dict[str, Any]:
        """What the response carries beside `choices`: the citations (`Citation.to_dict()`) and the rest."""
        answer = self.final()
        return {"citations": [c.to_dict() for c in answer.citations], "refused": answer.refused,
                "question": self.question, "notices": self.notices, "mode": answer.mode}


_MARKERS = re.compile(r"(?:\[\d+\])+")


def sentences(text: str) -> list[str]:
    """The answer text in pieces for streaming: sentence by sentence (`core.zh.sentence_breaks`), each with
    the [n] after it (joined, exactly the text)."""
    cuts = [0, *sentence_breaks(text, _MARKERS), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def usage(prompt_chars: int, text: str) -> dict[str, Any]:
    """OpenAI's usage object, counted in characters (`USAGE_UNIT`): the messages' text and the answer's."""
    return {"prompt_tokens": prompt_chars, "completion_tokens": len(text), "total_tokens": prompt_chars + len(text)}


def completion(model: str, turn: Turn, prompt_chars: int) -> dict[str, Any]:
    """A `chat.completion` for the turn's final answer, its citations beside `choices`."""
    text = turn.final().answer
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": usage(prompt_chars, text), "usage_unit": USAGE_UNIT, **turn.extras(),
    }


def _sse(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def stream_chunks(model: str, events: Iterator[Event], turn: Turn, prompt_chars: int, include_usage: bool = False,
                  keepalive_s: float = KEEPALIVE_S) -> Iterator[str]:
    """Server-sent events in OpenAI's `chat.completion.chunk` format for the rest of a turn's `events`.

    Only the checked answer is sent: a generated draft may lose sentences when checked, and text once sent
    cannot be taken back; while tokens arrive, an SSE comment every `keepalive_s` keeps the connection open.
    The answer goes out sentence by sentence, the citations ride on the final chunk (finish_reason "stop"),
    then the usage chunk when asked for, then `data: [DONE]`. A failure midway is sent as an OpenAI error
    event (the `openai` package raises it). The events are closed in the end, whatever happens."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra})

    yield chunk({"role": "assistant", "content": ""})
    try:
        last = time.monotonic()
        for event in events:
            if turn.take(event) == "token" and time.monotonic() - last >= keepalive_s:
                last = time.monotonic()
                yield ": 正在生成并核对回答\n\n"
        text = turn.final().answer
    except Exception:
        log.exception("answering through /v1 failed")
        yield _sse(ApiError(500, MSG_SERVER_ERROR, type_="server_error", code="internal_error").body())
        yield "data: [DONE]\n\n"
        return
    finally:
        _close(events)
    for piece in sentences(text):
        yield chunk({"content": piece})
    yield chunk({}, "stop", **turn.extras())
    if include_usage:
        yield _sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [],
                    "usage": usage(prompt_chars, text), "usage_unit": USAGE_UNIT})
    yield "data: [DONE]\n\n"


class OpenAIApi:
    """The /v1 handlers over a pool of archives. `keys`: the staff keys (none: no check, loopback only);
    `concurrency`: questions answered at once (the chat's limit), the others wait."""

    def __init__(self, pool: QAPool, keys: Sequence[str] = (), concurrency: int = 4) -> None:
        self.pool = pool
        self.keys = [k.encode() for k in keys]
        self.slots = threading.BoundedSemaphore(concurrency)
        self.created = int(time.time())

    # --- access
    def check_key(self, request: Request) -> None:
        if not self.keys:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        token = given.strip().encode()
        ok = False
        for key in self.keys:  # compare with every key, in constant time
            ok |= hmac.compare_digest(token, key)
        if scheme.lower() != "bearer" or not ok:
            raise ApiError(401, MSG_BAD_KEY, code="invalid_api_key")

    def qa(self, model: str) -> tuple[str, QA]:
        name = model or self.pool.default_name
        try:
            return name, self.pool.get(name)
        except UnknownCollection:
            raise ApiError(404, MSG_UNKNOWN_MODEL.format(model=name), param="model", code="model_not_found") from None

    # --- models
    def model_card(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": self.created, "owned_by": "speechqa"}

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [self.model_card(n) for n in self.pool.names()]}

    def model(self, model_id: str) -> dict[str, Any]:
        name, _qa = self.qa(model_id)
        return self.model_card(name)

    # --- chat
    def chat(self, body: ChatRequest) -> JSONResponse | StreamingResponse:
        """Answer the conversation's last question. Everything up to the first token or the answer (question
        checks, rewrite, retrieval, the extractive answer) runs before the response starts, so a bad question
        or a store that is down is a proper HTTP error even when streaming."""
        name, qa = self.qa(body.model)
        question, history = split_conversation(body.messages)
        max_chars = qa.settings.max_question_chars
        cleaned, error = clean_question(question, max_chars)
        if error:
            raise ApiError(400, error, param="messages", code="invalid_question")
        prompt_chars = sum(len(message_text(m)) for m in body.messages)
        turn = Turn(cleaned)
        with self.slots:
            events = qa.ask_stream(cleaned, history or None)
            try:
                head = _until_token_or_answer(events, turn, max_chars)
                if not body.stream:
                    for event in events:
                        turn.take(event)
                    return JSONResponse(completion(name, turn, prompt_chars))
            except ApiError:
                _close(events)
                raise
            except Exception:
                _close(events)
                log.exception("answering through /v1 failed")
                raise ApiError(500, MSG_SERVER_ERROR, type_="server_error", code="internal_error") from None
        rest = itertools.chain(head, events)
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        return StreamingResponse(stream_chunks(name, _closing(rest, events), turn, prompt_chars, include_usage),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # --- retrieval only
    def retrieve(self, body: RetrieveRequest) -> dict[str, Any]:
        """The passages an answer to the question would cite (none when the archive does not cover it)."""
        name, qa = self.qa(body.model)
        question, error = clean_question(body.question or body.text, qa.settings.max_question_chars)
        if error:
            raise ApiError(400, error, param="question", code="invalid_question")
        with self.slots:
            try:
                retrieval = qa.retrieve(question, body.k or body.limit)
                rows = qa.doc_rows(retrieval)
                reason = qa.refusal_reason(retrieval, rows)
                citations = qa.citations(retrieval, rows) if reason is None else []
            except OSError as exc:  # ServiceUnavailable, StoreError: Chinese messages for users
                raise ApiError(503, str(exc), type_="server_error", code="archive_unavailable") from None
        return {"object": "list", "model": name, "question": question, "refused": reason is not None,
                "reason": reason or "", "data": [c.to_dict() for c in citations]}


def _until_token_or_answer(events: Iterator[Event], turn: Turn, max_chars: int) -> list[Event]:
    """Read events into `turn` up to the first token or the answer; an answer that carries an error becomes
    the HTTP error (400 for the question, 503 when the store or a server it needs is down, with the message
    the chat shows). Returns the token read, if any, still to be handled."""
    for event in events:
        kind = turn.take(event)
        if kind == "token":
            return [event]
        if kind == "answer":
            answer = turn.final()
            if answer.error:
                _q, error = clean_question(answer.question, max_chars)
                if error:
                    raise ApiError(400, error, param="messages", code="invalid_question")
                raise ApiError(503, answer.error, type_="server_error", code="archive_unavailable")
            return []
    return []


def _closing(events: Iterator[Event], source: Iterator[Event]) -> Iterator[Event]:
    """`events`, closing `source` (the answer stream) when done or abandoned."""
    try:
        yield from events
    finally:
        _close(source)


def _close(events: Iterator[Event]) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()


# ------------------------------------------------------------------------------------------------ the app
def create_api(pool: QAPool, keys: Sequence[str] = (), concurrency: int = 4) -> FastAPI:
    """The /v1 FastAPI app (mount it at "/v1"): models, chat completions, retrieve."""
    api = OpenAIApi(pool, keys, concurrency)
    app = FastAPI(title="speechqa OpenAI-compatible API", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(api.check_key)])
    _errors_in_openai_shape(app)

    @app.get("/models")
    def models() -> dict[str, Any]:
        return api.models()

    @app.get("/models/{model_id:path}")
    def model(model_id: str) -> dict[str, Any]:
        return api.model(model_id)

    @app.post("/chat/completions", response_model=None)
    def chat(body: ChatRequest) -> JSONResponse | StreamingResponse:
        return api.chat(body)

    @app.post("/retrieve")
    @app.post("/chunks")
    def retrieve(body: RetrieveRequest) -> dict[str, Any]:
        return api.retrieve(body)

    return app


def disabled_api(reason: str) -> FastAPI:
    """What /v1 answers when the API may not start (`open_api_refusal`): every request gets `reason`."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    _errors_in_openai_shape(app)

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    def refused(path: str) -> JSONResponse:
        return ApiError(403, reason, type_="permission_error", code="api_disabled").response()

    return app


def _errors_in_openai_shape(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        detail = f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
        return ApiError(400, MSG_BAD_REQUEST.format(detail=detail), param=where or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _http_error(exc.status_code, request.url.path, exc.detail).response()
