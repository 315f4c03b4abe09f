"""The chat kept as data (ui.chat): the follow-up history comes from the turns, never from the HTML, and a
draft stopped with 停止 is shown struck through as unchecked and never enters that history (issue 13)."""

from __future__ import annotations

from typing import Any

from bot.types import Answer, Citation
from tests.support.scripted_qa import ScriptedQA
from ui.chat import Chat, Turn, chat_history, chat_messages, stop_turns
from ui.text import ALL_YEARS, LABEL_UNCHECKED, MSG_NO_DOC_OPEN, MSG_STOPPED, MSG_STOPPED_DRAFT

FIRST = "2025年临江区计划整治多少条背街小巷？"
FOLLOW_UP = "那由哪个部门牵头呢？"
THIRD = "那完成时限呢？"
DRAFT = ["由区城管局", "牵头<b>负责</b>", "，各街道配合"]  # unchecked model text, markup included
CITATION = Citation(n=1, doc_id="纪要.txt", source="纪要.txt", title="会议纪要", date="2025-03-01", speaker="",
                    meeting="", text="首批集中整治背街小巷６０条。", start=0, end=14, score=1.0)
CHECKED = Answer(question=FIRST, answer="首批集中整治背街小巷６０条[1]。", refused=False, citations=[CITATION])


def _tokens(parts: list[str]) -> list[dict[str, Any]]:
    return [{"type": "token", "text": t} for t in parts]


def _qa() -> ScriptedQA:
    follow_up_answer = Answer(question=FOLLOW_UP, answer="由区城管局牵头[1]。", refused=False, citations=[CITATION])
    return ScriptedQA({
        FIRST: [*_tokens(["首批", "集中整治"]), {"type": "answer", "answer": CHECKED}],
        FOLLOW_UP: [{"type": "rewrite", "question": "2025年临江区整治背街小巷由哪个部门牵头？"}, *_tokens(DRAFT),
                    {"type": "answer", "answer": follow_up_answer}],
        THIRD: [{"type": "answer", "answer": Answer(question=THIRD, answer="资料库中没有找到相关内容。", refused=True)}],
    })


def _run(chat: Chat, question: str, turns: list[Turn]) -> list[tuple[Any, ...]]:
    return list(chat.respond(question, turns, ALL_YEARS, False, "", "default"))


def _stop_after_draft(chat: Chat, question: str, turns: list[Turn], min_chars: int) -> list[Turn]:
    """Ask, let the draft grow to `min_chars`, then do what 停止 does: Gradio closes the handler, and
    `stopped` gets the turns as last shown."""
    steps = chat.respond(question, turns, ALL_YEARS, False, "", "default")
    shown: list[Turn] = []
    for out in steps:
        shown = out[2]
        if len(shown[-1].draft) >= min_chars:
            break
    steps.close()
    after, messages = Chat.stopped(shown)
    assert messages == chat_messages(after)
    return after


def test_stopped_draft_is_struck_through_unchecked_and_left_out_of_the_follow_up_history() -> None:
    qa = _qa()
    chat = Chat(lambda _c: qa, top_k=5, stream_every_s=0.0)  # type: ignore[arg-type, return-value]
    turns = _run(chat, FIRST, [])[-1][2]
    assert [t.status for t in turns] == ["answered"]

    turns = _stop_after_draft(chat, FOLLOW_UP, turns, min_chars=len(DRAFT[0] + DRAFT[1]))
    assert qa.calls[-1].closed_early  # the answer stream itself was closed
    stopped = turns[-1]
    assert stopped.status == "stopped" and stopped.draft == DRAFT[0] + DRAFT[1] and stopped.answer is None

    # shown: the note, the 未核对 label and the draft struck through (escaped); never as an answer
    html = chat_messages(turns)[-1]["content"]
    assert MSG_STOPPED_DRAFT in html and LABEL_UNCHECKED in html
    assert "<del>由区城管局牵头&lt;b&gt;负责&lt;/b&gt;</del>" in html
    assert "sq-pending" not in html and "sq-cite" not in html
    assert "已理解为：2025年临江区整治背街小巷由哪个部门牵头？" in html

    # the follow-up history: the checked first answer, the stopped question with no answer at all
    assert chat_history(turns) == [(FIRST, CHECKED.answer), (FOLLOW_UP, "")]
    _run(chat, THIRD, turns)
    assert qa.calls[-1].history == [(FIRST, CHECKED.answer), (FOLLOW_UP, "")]
    assert all(DRAFT[0] not in a for _q, a in qa.calls[-1].history)


def test_stop_before_the_first_token_keeps_nothing_and_stop_after_the_answer_changes_nothing() -> None:
    qa = _qa()
    chat = Chat(lambda _c: qa, top_k=5, stream_every_s=0.0)  # type: ignore[arg-type, return-value]
    steps = chat.respond(FIRST, [], ALL_YEARS, False, "", "default")
    waiting = next(steps)[2]  # the turn is shown as waiting; 停止 now
    steps.close()
    turns, _ = Chat.stopped(waiting)
    assert turns[-1].status == "stopped" and turns[-1].draft == ""
    html = chat_messages(turns)[-1]["content"]
    assert MSG_STOPPED in html and LABEL_UNCHECKED not in html
    assert chat_history(turns) == [(FIRST, "")]

    done = _run(chat, FIRST, [])[-1][2]
    assert stop_turns(done) is None  # the answer came first: 停止 leaves it as it is
    assert chat_history(done) == [(FIRST, CHECKED.answer)]


def test_history_is_the_turns_data_whatever_the_messages_show() -> None:
    qa = _qa()
    chat = Chat(lambda _c: qa, top_k=5, stream_every_s=0.0)  # type: ignore[arg-type, return-value]
    turns = _run(chat, FIRST, [])[-1][2]
    outs = _run(chat, FOLLOW_UP, turns)
    assert qa.calls[-1].history == [(FIRST, CHECKED.answer)]
    # while streaming, the session's turns and the chat shown always agree
    for out in outs:
        assert out[1] == chat_messages(out[2])
    turns = outs[-1][2]
    assert chat_history(turns) == [(FIRST, CHECKED.answer), (FOLLOW_UP, "由区城管局牵头[1]。")]

    # the app's own refusal is not an answer either; an unknown archive never asks at all
    refused = list(chat.respond(THIRD, turns, ALL_YEARS, True, "", "default"))[-1][2]
    assert refused[-1].message == MSG_NO_DOC_OPEN and chat_history(refused)[-1] == (THIRD, "")
    calls = len(qa.calls)
    nowhere = Chat(lambda _c: None, top_k=5)
    assert list(nowhere.respond(THIRD, turns, ALL_YEARS, False, "", "x"))[-1][2][-1].status == "refused"
    assert len(qa.calls) == calls
