"""The OpenAI-compatible /v1 API (issue 16), driven over HTTP on the real server (`app.server_app` under
uvicorn, as `speechqa serve` runs it) by the official `openai` package and LangChain's `ChatOpenAI`, over a
fresh index of demo/archive plus a second archive: answers carry [n], citations are `speechqa ask --json`'s."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from bot.qa import EMPTY_QUESTION, QA
from bot.types import Answer, Citation
from core.settings import Settings
from speechqa.loadtest import run_load
from tests.support.api_server import serve_with_api
from tests.support.app_server import DEMO_ARCHIVE, DEMO_FACT, DEMO_QUESTION, OUT_OF_SCOPE, REFUSAL
from tests.support.archives import NOTICE, PARKING_Q, write
from tests.support.cli import cli_argv, run_cli
from tests.support.env import ENV
from tests.support.servers import Server, chroma_run, free_port, serving
from ui.api import Turn, load_keys, open_api_refusal, sentences, stream_chunks

pytestmark = pytest.mark.slow

KEY = "sq-test-key-1"
OTHER_KEY = "sq-test-key-2"
ADMIN_PASSWORD = "admin-secret-16"
NOTICES = "区政府通知"  # the second archive
FIRST = "2025年临江区计划整治多少条背街小巷？"
FOLLOW_UP = "由哪个部门牵头？"
MARKER = re.compile(r"\[\d+\]")
TIMEOUT_S = 300.0


@dataclass
class Api:
    url: str  # the app's base URL; the API is url + "v1"
    qa: QA
    settings: Settings
    db: Path

    @property
    def base(self) -> str:
        return self.url + "v1"

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base, api_key=key, timeout=TIMEOUT_S, max_retries=0)


def _index(settings: Settings, paths: list[Path]) -> None:
    from vectorstore.archive import Archive

    report = Archive(settings).index_paths(paths)
    assert not report.failed, report.summary()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    db = root / "db"
    settings = Settings(db=db, api_keys=[KEY, OTHER_KEY, ADMIN_PASSWORD], admin_password=ADMIN_PASSWORD)
    _index(settings, [DEMO_ARCHIVE])
    _index(settings.model_copy(update={"collection": NOTICES}),
           [write(root / "notices", "停车收费.txt", NOTICE.format(fee="6"))])
    qa = QA(settings)
    with serve_with_api(qa, settings) as url:
        yield Api(url, qa, settings, db)


def _extra(obj: Any, name: str) -> Any:
    """A field the openai SDK does not model (`citations`, `usage_unit`...): kept in `model_extra`."""
    return (obj.model_extra or {})[name]


# --------------------------------------------------------------------------------- the openai package
def test_models_are_the_archives_default_first(api: Api) -> None:
    ids = [m.id for m in api.client().models.list()]
    assert ids == ["default", NOTICES]
    assert api.client().models.retrieve(NOTICES).id == NOTICES


def test_completion_carries_markers_and_the_cli_citations(api: Api) -> None:
    done = api.client().chat.completions.create(model="default",
                                                messages=[{"role": "user", "content": DEMO_QUESTION}])
    text = done.choices[0].message.content or ""
    assert done.object == "chat.completion" and done.choices[0].finish_reason == "stop"
    assert MARKER.search(text) and DEMO_FACT in text
    citations = _extra(done, "citations")
    cli = run_cli("ask", DEMO_QUESTION, "--json", "--db", str(api.db), timeout=TIMEOUT_S)
    assert cli.returncode == 0, cli.stderr[-2000:]
    expected = json.loads(cli.stdout.strip().splitlines()[-1])
    assert citations == expected["citations"]
    assert text == expected["answer"]
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= {c["n"] for c in citations}
    for field in ("n", "doc_id", "source", "title", "date", "speaker", "text", "start", "end", "page"):
        assert field in citations[0]
    # usage counts characters, and says so
    assert _extra(done, "usage_unit") == "characters"
    assert done.usage is not None and done.usage.completion_tokens == len(text)
    assert done.usage.prompt_tokens == len(DEMO_QUESTION)


def test_streamed_completion_is_the_same_answer_with_citations_on_the_last_chunk(api: Api) -> None:
    chunks = list(api.client().chat.completions.create(
        model="default", messages=[{"role": "user", "content": DEMO_QUESTION}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    expected = api.qa.ask(DEMO_QUESTION).to_dict()
    assert text == expected["answer"] and MARKER.search(text)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(finals) == 1
    assert _extra(finals[0], "citations") == expected["citations"]
    assert all("citations" not in (c.model_extra or {}) for c in chunks if c is not finals[0])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text)


def test_stream_ends_with_done(api: Api) -> None:
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": DEMO_QUESTION}]}
    with httpx.stream("POST", api.base + "/chat/completions", json=body, timeout=TIMEOUT_S,
                      headers={"Authorization": f"Bearer {KEY}"}) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        events = [line for line in resp.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert all(json.loads(e[6:])["object"] == "chat.completion.chunk" for e in events[:-1])


def test_follow_up_is_rewritten_from_the_history(api: Api) -> None:
    client = api.client()
    first = client.chat.completions.create(model="default", messages=[{"role": "user", "content": FIRST}])
    messages = [{"role": "system", "content": "你是助手。"}, {"role": "user", "content": FIRST},
                {"role": "assistant", "content": first.choices[0].message.content or ""},
                {"role": "user", "content": FOLLOW_UP}]
    done = client.chat.completions.create(model="default", messages=messages)  # type: ignore[arg-type]
    standalone = _extra(done, "question")
    assert standalone != FOLLOW_UP and "背街小巷" in standalone
    text = done.choices[0].message.content or ""
    assert MARKER.search(text) and "城管局" in text
    assert _extra(done, "citations") == api.qa.ask(standalone).to_dict()["citations"]
    alone = client.chat.completions.create(model="default", messages=[{"role": "user", "content": FOLLOW_UP}])
    assert _extra(alone, "question") == FOLLOW_UP  # without history nothing is rewritten


def test_model_picks_the_archive(api: Api) -> None:
    done = api.client().chat.completions.create(model=NOTICES, messages=[{"role": "user", "content": PARKING_Q}])
    text = done.choices[0].message.content or ""
    assert "6" in text and MARKER.search(text)
    assert [c["doc_id"] for c in _extra(done, "citations")] == ["停车收费.txt"]


def test_refusal_is_a_normal_completion_without_citations(api: Api) -> None:
    done = api.client().chat.completions.create(model="default", messages=[{"role": "user", "content": OUT_OF_SCOPE}])
    assert REFUSAL in (done.choices[0].message.content or "")
    assert _extra(done, "citations") == [] and _extra(done, "refused") is True


def test_wrong_missing_or_admin_key_is_refused(api: Api) -> None:
    for key in ("wrong-key", ADMIN_PASSWORD):
        with pytest.raises(openai.AuthenticationError) as err:
            api.client(key).chat.completions.create(model="default", messages=[{"role": "user", "content": DEMO_QUESTION}])
        assert err.value.status_code == 401
        assert err.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    resp = httpx.get(api.base + "/models", timeout=TIMEOUT_S)
    assert resp.status_code == 401 and set(resp.json()["error"]) == {"message", "type", "param", "code"}
    assert [m.id for m in api.client(OTHER_KEY).models.list()][0] == "default"  # every staff key works


def test_unknown_model_is_404(api: Api) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        api.client().chat.completions.create(model="no-such-archive", messages=[{"role": "user", "content": "你好？"}])
    assert err.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert "no-such-archive" in err.value.body["message"]  # type: ignore[index]


def test_empty_or_overlong_question_is_400(api: Api) -> None:
    client = api.client()
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "   "}])
    assert err.value.body["message"] == EMPTY_QUESTION  # type: ignore[index]
    long = "临江区" * (api.settings.max_question_chars // 3 + 1)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": long}])
    assert "问题太长" in err.value.body["message"]  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):  # the last message must be the user's question
        client.chat.completions.create(model="default", messages=[{"role": "assistant", "content": "好的"}])


def test_speechqa_serve_serves_chat_and_api_on_one_port(api: Api, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**ENV, "SPEECHQA_API_KEYS": OTHER_KEY}
    with serving(cli_argv("serve", "--db", str(api.db), "--port", str(port)), base + "/", env=env,
                 log=tmp_path / "serve.log", timeout=TIMEOUT_S):
        assert "sq-question" in httpx.get(base + "/config", timeout=TIMEOUT_S).text  # the chat
        client = openai.OpenAI(base_url=base + "/v1", api_key=OTHER_KEY, timeout=TIMEOUT_S, max_retries=0)
        assert [m.id for m in client.models.list()] == ["default", NOTICES]
        done = client.chat.completions.create(model="default", messages=[{"role": "user", "content": DEMO_QUESTION}])
        assert _extra(done, "citations") == api.qa.ask(DEMO_QUESTION).to_dict()["citations"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0).models.list()  # not this server's key


# --------------------------------------------------------------------------------- LangChain
def test_langchain_chat_openai_gets_cited_answers(api: Api) -> None:
    chat = ChatOpenAI(base_url=api.base, api_key=KEY, model="default", timeout=TIMEOUT_S, max_retries=0)  # type: ignore[arg-type]
    expected = api.qa.ask(DEMO_QUESTION).to_dict()["answer"]
    reply = chat.invoke(DEMO_QUESTION)
    assert reply.content == expected and MARKER.search(str(reply.content))
    streamed = "".join(str(part.content) for part in chat.stream(DEMO_QUESTION))
    assert streamed == expected


# --------------------------------------------------------------------------------- retrieve, load, keys
def test_retrieve_gives_the_cited_passages_without_an_answer(api: Api) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    resp = httpx.post(api.base + "/retrieve", json={"model": "default", "question": DEMO_QUESTION},
                      headers=headers, timeout=TIMEOUT_S)
    assert resp.status_code == 200
    out = resp.json()
    assert "answer" not in out and out["refused"] is False
    assert out["data"] == api.qa.ask(DEMO_QUESTION).to_dict()["citations"]
    none = httpx.post(api.base + "/chunks", json={"text": OUT_OF_SCOPE}, headers=headers, timeout=TIMEOUT_S).json()
    assert none["refused"] is True and none["data"] == []


def test_load_through_v1_has_no_errors(api: Api) -> None:
    result = run_load(api.url, [DEMO_QUESTION, OUT_OF_SCOPE], users=4, seconds=8, api="openai", key=KEY,
                      keep_answers=True)
    assert result.errors == [], result.errors[:3]
    assert result.requests >= 4
    assert all("citations" in a for a in result.answers)
    bad = run_load(api.url, [DEMO_QUESTION], users=1, seconds=1, max_requests=1, api="openai", key="wrong")
    assert len(bad.errors) == 1 and "401" in bad.errors[0]


def test_open_binding_without_keys_refuses_the_api(tmp_path: Path) -> None:
    assert open_api_refusal("127.0.0.1", []) == "" and open_api_refusal("::1", []) == ""
    assert open_api_refusal("0.0.0.0", ["k"]) == ""
    reason = open_api_refusal("0.0.0.0", [])
    assert "SPEECHQA_API_KEYS" in reason
    settings = Settings(db=tmp_path / "db")
    write(tmp_path / "a", "停车收费.txt", NOTICE.format(fee="6"))
    _index(settings, [tmp_path / "a"])
    with serve_with_api(QA(settings), settings, api_host="0.0.0.0") as url:
        resp = httpx.get(url + "v1/models", timeout=TIMEOUT_S)
        assert resp.status_code == 403 and resp.json()["error"]["message"] == reason
        assert httpx.get(url, timeout=TIMEOUT_S).status_code == 200  # the chat itself is served


def test_store_down_is_503_with_the_chats_message(tmp_path: Path) -> None:
    from vectorstore.chroma_store import DenseStore

    argv, chroma_url, heartbeat = chroma_run(tmp_path / "chroma", free_port())
    chroma = Server(argv, heartbeat)
    chroma.start()
    try:
        settings = Settings(db=tmp_path / "db", chroma_url=chroma_url)
        _index(settings, [write(tmp_path / "a", "停车收费.txt", NOTICE.format(fee="6"))])
        qa = QA(settings)
        with serve_with_api(qa, settings) as url:
            client = openai.OpenAI(base_url=url + "v1", api_key="unused", timeout=TIMEOUT_S, max_retries=0)
            ask = {"model": "default", "messages": [{"role": "user", "content": PARKING_Q}]}
            assert _extra(client.chat.completions.create(**ask), "citations")  # type: ignore[call-overload]
            chroma.stop()
            shown = qa.ask(PARKING_Q)  # what the chat shows now
            assert shown.error and shown.answer == shown.error
            for stream in (False, True):
                with pytest.raises(openai.InternalServerError) as err:
                    client.chat.completions.create(**ask, stream=stream)  # type: ignore[call-overload]
                assert err.value.status_code == 503 and err.value.body["message"] == shown.error  # type: ignore[index]
            resp = httpx.post(url + "v1/retrieve", json={"question": PARKING_Q}, timeout=TIMEOUT_S)
            assert resp.status_code == 503 and resp.json()["error"]["message"] == shown.error
    finally:
        chroma.stop()
        DenseStore.forget_clients()


def test_keys_come_from_the_environment_list_and_the_keys_file(tmp_path: Path) -> None:
    keys_file = write(tmp_path, "keys.txt", "# staff keys\nfile-key-1\n\n  file-key-2  \nadmin-pw\n")
    settings = Settings(api_keys=" env-1, env-2 ,", api_keys_file=keys_file, admin_password="admin-pw")  # type: ignore[arg-type]
    assert load_keys(settings) == ["env-1", "env-2", "file-key-1", "file-key-2"]


def test_stream_pieces_are_whole_sentences_with_their_markers() -> None:
    text = "甲事项已完成。[1]乙！？[2][3]\n末尾没有句号[4]"
    assert sentences(text) == ["甲事项已完成。[1]", "乙！？[2][3]", "\n末尾没有句号[4]"]
    assert "".join(sentences(text)) == text


def _sse_bodies(lines: list[str]) -> list[Any]:
    return [json.loads(x[6:]) for x in lines if x.startswith("data: {")]


def test_generated_stream_sends_only_the_checked_answer_with_keepalives() -> None:
    cite = Citation(n=1, doc_id="a.txt", source="a.txt", title="通知", date="2025-01-02", speaker="", text="甲乙",
                    start=0, end=2, score=1.0)
    final = Answer(question="后来的问题？", answer="核对后的回答。[1]", refused=False, citations=[cite], mode="openai")
    events = [{"type": "rewrite", "question": "后来的问题？"}, {"type": "token", "text": "未经核对的"},
              {"type": "token", "text": "草稿"}, {"type": "notice", "text": "已删去一句无法核对的内容。"},
              {"type": "answer", "answer": final}]
    lines = list(stream_chunks("default", iter(events), Turn("问题？"), 3, include_usage=True, keepalive_s=0.0))
    assert lines[-1] == "data: [DONE]\n\n"
    assert sum(line.startswith(":") for line in lines) == 2  # one keep-alive comment per token
    bodies = _sse_bodies(lines)
    text = "".join(b["choices"][0]["delta"].get("content", "") for b in bodies if b["choices"])
    assert text == final.answer and "草稿" not in text
    last = next(b for b in bodies if b["choices"] and b["choices"][0]["finish_reason"] == "stop")
    assert last["citations"] == [cite.to_dict()] and last["question"] == "后来的问题？"
    assert last["notices"] == ["已删去一句无法核对的内容。"] and last["mode"] == "openai"
    assert bodies[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": len(final.answer),
                                   "total_tokens": 3 + len(final.answer)}


def test_a_failure_midway_is_an_error_event_and_the_stream_is_closed() -> None:
    closed: list[bool] = []

    def events() -> Iterator[dict[str, Any]]:
        try:
            yield {"type": "token", "text": "草稿"}
            raise RuntimeError("the model crashed")
        finally:
            closed.append(True)

    lines = list(stream_chunks("default", events(), Turn("问题？"), 3))
    assert lines[-1] == "data: [DONE]\n\n" and closed == [True]
    error = _sse_bodies(lines)[-1]["error"]
    assert error["type"] == "server_error" and error["message"].startswith("抱歉")
