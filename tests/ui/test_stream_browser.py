"""Streamed generated answers in real Chromium: tokens as they come, the checked answer with its citations,
the 停止 button, the time limit, and follow-up questions made standalone.

The real app over a fresh index of demo/archive, served in-process; the chat model is a test double
(LangChain's FakeListChatModel, one character per `SLEEP_S`) put in through `bot.llm.build_chat_model`,
the hook `bot.chain` asks for its model. Its answer is built from passages the demo question retrieves, so
that the answer check keeps it. The real model has its own test (tests/bot/test_llm_server.py).
Needs Debian's `chromium`; deselect with `-m "not browser"`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from playwright.sync_api import Page, expect

from core.settings import Settings
from tests.support.app_server import DEMO_ARCHIVE, DEMO_FACT, DEMO_QUESTION, OUT_OF_SCOPE, REFUSAL, serve_app
from tests.support.browser import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, ask, click_until, squash

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FOLLOW_UP = "那由哪个部门牵头呢？"
REWRITTEN = "2025年临江区整治背街小巷由哪个部门牵头？"
STOPPED_DRAFT = "已停止生成。以下为未经核对的草稿，仅供参考。"
UNCHECKED = "未核对"
STREAMING = "#sq-chat .sq-answer.sq-pending:not(.sq-waiting)"  # an answer being written, with text
SLEEP_S = 0.08  # per character: the double's answer (about 130 characters) takes about 10 s
TIMEOUT_S = 2.0  # the time limit of the time-out test, far below that


class SlowChatModel(FakeListChatModel):
    """FakeListChatModel that answers the follow-up rewrite prompt at once and remembers the prompts it got."""

    rewrite: str = ""
    prompts: list[str] = []

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        from bot.rewrite import REWRITE_SYSTEM

        self.prompts.append("\n".join(str(m.content) for m in messages))
        if messages and str(messages[0].content) == REWRITE_SYSTEM:
            yield ChatGenerationChunk(message=AIMessageChunk(content=self.rewrite))
            return
        yield from super()._stream(messages, stop, run_manager, **kwargs)


@dataclass
class Served:
    url: str
    qa: Any  # bot.qa.QA
    settings: Settings
    model: SlowChatModel
    generated: str  # what the double writes, and (checked and kept) the final answer
    extractive: str  # the answer without a model
    closed: list[str]  # questions whose answer stream the app closed before its end


def _sentence(text: str, needle: str) -> str:
    """The sentence of `text` holding `needle`, without a leading list number ("１．")."""
    for s in re.findall(r"[^。！？\n]+[。！？]", text):
        if needle in s:
            return re.sub(r"^\s*[0-9０-９]+[.．、]\s*", "", s).strip()
    raise AssertionError(f"no sentence with {needle!r} in {text!r}")


def _fake_answer(qa: Any, settings: Settings) -> tuple[str, str]:
    """(generated, extractive): two sentences of the passages the demo question retrieves, cited [1] and
    [n], that the answer check keeps whole; and the extractive answer they replace."""
    from bot import chain, verify

    base = qa.ask(DEMO_QUESTION, k=settings.top_k, generate=False)
    assert not base.refused and base.citations
    texts, heads = chain.model_passages(base.citations)
    first = _sentence(texts[0], "条")  # the notice's first figure sentence, e.g. 首批集中整治背街小巷２０条…
    n = next(i for i, t in enumerate(texts, start=1) if DEMO_FACT in t)
    fact = _sentence(texts[n - 1], DEMO_FACT)
    generated = f"{first.rstrip('。')}[1]。{fact.rstrip('。')}[{n}]。"
    verdict = verify.check_answer(generated, texts, base.answer, headers=heads, counters=None)
    assert verdict.path == "generated_kept", verdict
    assert squash(generated) != squash(base.answer)
    return generated, base.answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from bot import llm as llm_mod
    from bot.qa import QA
    from vectorstore.archive import Archive

    settings = Settings(db=tmp_path_factory.mktemp("stream") / "db", answer_mode="openai", llm_timeout_s=60.0)
    report = Archive(settings).index_paths([DEMO_ARCHIVE])
    assert not report.failed, report.summary()
    qa = QA(settings)
    generated, extractive = _fake_answer(qa, settings)
    model = SlowChatModel(responses=[generated], sleep=SLEEP_S, rewrite=REWRITTEN)
    closed: list[str] = []
    ask_stream = qa.ask_stream

    def watched(question: str, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from ask_stream(question, *args, **kwargs)
        except GeneratorExit:
            closed.append(question)
            raise

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(llm_mod, "build_chat_model", lambda *_a, **_k: llm_mod.ChatModel(model, "openai"))
        mp.setattr(qa, "ask_stream", watched)
        with serve_app(qa, settings) as url:
            yield Served(url, qa, settings, model, generated, extractive, closed)


def _streamed_text(page: Page) -> str:
    """The text of the answer being written ("" while none is), read in one step: the message may stop being
    the one being written between a count and a read (the final answer replaces it), and a read of a
    locator that no longer matches waits for it."""
    text = page.locator(STREAMING).evaluate_all("els => els.length ? els[els.length - 1].innerText : ''")
    return squash(str(text))


def test_tokens_stream_then_the_checked_answer_cites_and_opens_its_documents(served: Served, page: Page) -> None:
    page.goto(served.url)
    ask(page, DEMO_QUESTION)
    expect(page.get_by_role("button", name="停止")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="发送")).to_be_disabled(timeout=UI_TIMEOUT_MS)

    # (a) the assistant message grows, a prefix of the model's text at a time, before the final answer
    full = squash(served.generated)
    seen: list[str] = []
    cites = page.locator("#sq-chat .sq-cites")
    deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
    while cites.count() == 0 and time.monotonic() < deadline:
        text = _streamed_text(page)
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        page.wait_for_timeout(150)
    partial = [t for t in seen if t != full]
    assert len(partial) >= 3, seen
    assert all(full.startswith(t) for t in partial), seen
    assert [len(t) for t in partial] == sorted(len(t) for t in partial), seen

    # (b) the final message: the checked answer (the model's, kept whole) with its [n] linked and cited
    expect(cites.last).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#sq-chat .sq-pending")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    answer = page.locator("#sq-chat .sq-answer").last
    assert squash(answer.inner_text()) == full
    expect(answer.locator("a.sq-ref")).to_have_count(len(set(re.findall(r"\[\d+\]", served.generated))), timeout=UI_TIMEOUT_MS)
    expect(cites.last).to_contain_text(DEMO_FACT, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="发送")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="停止")).to_be_disabled(timeout=UI_TIMEOUT_MS)

    expected = served.qa.ask(DEMO_QUESTION, k=served.settings.top_k, generate=False)
    viewer = page.locator("#sq-viewer")
    for c in expected.citations[:2]:
        link = cites.last.locator("a.sq-cite").nth(c.n - 1)
        expect(link).to_contain_text(f"[{c.n}] {c.title}", timeout=UI_TIMEOUT_MS)
        click_until(link, viewer.locator(".sq-doc-note"), f"[{c.n}]")
        expect(viewer.locator(".sq-doc-title")).to_have_text(c.title, timeout=UI_TIMEOUT_MS)
        expect(viewer.locator("mark#sq-hit")).to_be_in_viewport(timeout=UI_TIMEOUT_MS)
    # the [1] inside the answer text opens the document too
    click_until(answer.locator("a.sq-ref", has_text="[1]"), viewer.locator(".sq-doc-note"), "[1]")
    expect(viewer.locator(".sq-doc-title")).to_have_text(expected.citations[0].title, timeout=UI_TIMEOUT_MS)


def test_stop_leaves_the_draft_struck_through_unchecked_and_out_of_the_follow_up(
        served: Served, page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    before = served.closed.count(DEMO_QUESTION)
    page.goto(served.url)
    ask(page, DEMO_QUESTION)
    page.wait_for_function(f"() => (document.querySelector({STREAMING!r})?.innerText || '').length >= 8",
                           timeout=ANSWER_TIMEOUT_MS)
    page.get_by_role("button", name="停止").click(timeout=UI_TIMEOUT_MS)

    # (c) the message keeps a beginning of the model's text, struck through and labelled 未核对 under a note
    # that it was stopped and never checked; no answer, no citations
    chat = page.locator("#sq-chat")
    expect(chat.locator(".sq-stopped")).to_have_text(STOPPED_DRAFT, timeout=UI_TIMEOUT_MS)
    expect(chat.locator(".sq-pending")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    draft = chat.locator(".sq-draft").last
    expect(draft.locator(".sq-draft-label")).to_have_text(UNCHECKED, timeout=UI_TIMEOUT_MS)
    struck = draft.locator("del")
    expect(struck).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert "line-through" in struck.evaluate("e => getComputedStyle(e).textDecorationLine")
    shown = squash(struck.inner_text())
    full = squash(served.generated)
    assert len(shown) >= 8 and full.startswith(shown) and shown != full, shown
    expect(chat.locator(".sq-cites")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="发送")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="停止")).to_be_disabled(timeout=UI_TIMEOUT_MS)

    # the app stopped reading the answer stream and closed it; the message stays as it is
    # (that the model then stops too is bot.llm's part: `stream_with_deadline` ends it at its next chunk)
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while served.closed.count(DEMO_QUESTION) < before + 1 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert served.closed.count(DEMO_QUESTION) == before + 1
    page.wait_for_timeout(1500)  # long enough for 18 more characters
    assert squash(struck.inner_text()) == shown
    expect(chat.locator(".sq-stopped")).to_have_count(1, timeout=UI_TIMEOUT_MS)

    # the chat takes the next question; a follow-up is rewritten from the question alone, never the draft
    monkeypatch.setattr(served.qa.settings, "llm_timeout_s", TIMEOUT_S)  # the answer itself doesn't matter
    served.model.prompts.clear()
    ask(page, FOLLOW_UP)
    expect(chat.locator(".sq-note", has_text="已理解为：")).to_have_text(f"已理解为：{REWRITTEN}",
                                                                     timeout=ANSWER_TIMEOUT_MS)
    rewrite_prompt = squash(served.model.prompts[0])
    assert squash(DEMO_QUESTION) in rewrite_prompt and squash(FOLLOW_UP) in rewrite_prompt
    assert shown[:8] not in rewrite_prompt
    expect(chat.locator(".sq-pending")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
    ask(page, OUT_OF_SCOPE)
    expect(chat.locator(".sq-answer").last).to_contain_text(REFUSAL, timeout=ANSWER_TIMEOUT_MS)
    expect(chat.locator(".sq-draft")).to_have_count(1, timeout=UI_TIMEOUT_MS)  # the stopped draft stays as it was


def test_time_limit_shows_the_notice_and_the_extractive_answer(served: Served, page: Page,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.chain import TIMEOUT_NOTICE

    monkeypatch.setattr(served.qa.settings, "llm_timeout_s", TIMEOUT_S)
    assert len(served.generated) * SLEEP_S > 3 * TIMEOUT_S
    page.goto(served.url)
    ask(page, DEMO_QUESTION)

    # (d) the Chinese notice, then the extractive answer with its citations
    chat = page.locator("#sq-chat")
    cites = chat.locator(".sq-cites")
    expect(cites.last).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(chat.locator(".sq-note").last).to_have_text(TIMEOUT_NOTICE.format(s=f"{TIMEOUT_S:g}"), timeout=UI_TIMEOUT_MS)
    assert squash(chat.locator(".sq-answer").last.inner_text()) == squash(served.extractive)
    first = re.search(r"\[\d+\]", served.extractive)  # the extractive answer's own first citation marker
    assert first is not None
    expect(chat.locator(".sq-answer").last.locator("a.sq-ref").first).to_have_text(first.group(0),
                                                                                  timeout=UI_TIMEOUT_MS)
    click_until(cites.last.locator("a.sq-cite").first, page.locator("#sq-viewer .sq-doc-note"), "[1]")


def test_follow_up_question_is_rewritten_with_the_chat_history(served: Served, page: Page,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(served.qa.settings, "llm_timeout_s", TIMEOUT_S)  # the answers themselves don't matter
    page.goto(served.url)
    chat = page.locator("#sq-chat")
    ask(page, DEMO_QUESTION)
    expect(chat.locator(".sq-cites")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    first_answer = squash(chat.locator(".sq-answer").last.inner_text())
    served.model.prompts.clear()

    ask(page, FOLLOW_UP)
    expect(chat.locator(".sq-note", has_text="已理解为：")).to_have_text(f"已理解为：{REWRITTEN}",
                                                                     timeout=ANSWER_TIMEOUT_MS)
    expect(chat.locator(".sq-user").last).to_have_text(FOLLOW_UP, timeout=UI_TIMEOUT_MS)
    # the model was shown the earlier turn as plain text: the question and the beginning of its answer
    rewrite_prompt = served.model.prompts[0]
    assert DEMO_QUESTION in rewrite_prompt and FOLLOW_UP in rewrite_prompt
    assert first_answer[:20] in squash(rewrite_prompt)
    assert "<" not in rewrite_prompt.split("对话记录：", 2)[-1].split("后续问题", 1)[0]
    expect(chat.locator(".sq-pending")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
