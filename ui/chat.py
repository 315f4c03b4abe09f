"""The chat: its turns kept as data (a list of `Turn` in a gr.State), rendered into chat messages, and the
handlers that ask (streaming a generated answer), stop and answer the HTTP API.

The history handed to `QA.ask_stream` for rewriting follow-up questions comes from the turns themselves,
never from the rendered HTML. Only checked answers enter it: a draft stopped with 停止 was never checked
against the sources, so its turn keeps the question with an empty answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import gradio as gr

from bot.types import Answer
from ui.render import (
    render_answer,
    render_notes,
    render_refused,
    render_stopped,
    render_streaming,
    render_user,
)
from ui.text import (
    ALL_YEARS,
    CHAT_PLACEHOLDER,
    LABEL_CHAT,
    LABEL_CLEAR,
    LABEL_ONLY_DOC,
    LABEL_QUESTION,
    LABEL_SEND,
    LABEL_STOP,
    LABEL_YEAR,
    MSG_ERROR,
    MSG_NO_DOC_OPEN,
    MSG_UNKNOWN_COLLECTION,
    NOTE_REWRITE,
    PLACEHOLDER_QUESTION,
)

if TYPE_CHECKING:
    from bot.qa import QA

log = logging.getLogger("speechqa.app")

STREAM_EVERY_S = 0.1  # at most this often a streamed answer is re-sent to the browser while tokens arrive

Status = Literal["pending", "answered", "stopped", "refused"]


@dataclass(frozen=True)
class Turn:
    """One question and what became of it.

    status: "pending" while it is answered (`draft` holds the model's unchecked text so far), "answered"
    (`answer` is the checked answer), "stopped" (停止 while pending; `draft` is what had been shown),
    "refused" (the app's own `message` instead of an answer: unknown archive, no document open, an error).
    """

    question: str
    status: Status = "pending"
    notes: tuple[str, ...] = ()
    draft: str = ""
    answer: Answer | None = None
    message: str = ""

    def checked_answer(self) -> str:
        """The answer text for the follow-up history: the checked answer only, "" for anything else."""
        if self.status != "answered" or self.answer is None or self.answer.error:
            return ""
        return self.answer.answer


def chat_history(turns: Sequence[Turn] | None) -> list[tuple[str, str]]:
    """(question, answer) pairs for rewriting a follow-up question; turns without a question are left out."""
    return [(t.question.strip(), t.checked_answer()) for t in turns or [] if t.question.strip()]


def turn_messages(turn: Turn) -> list[dict[str, str]]:
    """The chat messages of one turn: the question (when there is one) and the reply as it stands."""
    if turn.status == "answered" and turn.answer is not None:
        reply = render_notes(turn.notes) + render_answer(turn.answer)
    elif turn.status == "stopped":
        reply = render_stopped(turn.draft, turn.notes)
    elif turn.status == "refused":
        reply = render_refused(turn.message)
    else:
        reply = render_streaming(turn.draft, turn.notes)
    user = [{"role": "user", "content": render_user(turn.question)}] if turn.question.strip() else []
    return [*user, {"role": "assistant", "content": reply}]


def chat_messages(turns: Sequence[Turn] | None) -> list[dict[str, str]]:
    """The Chatbot's value for these turns."""
    return [m for t in turns or [] for m in turn_messages(t)]


def stop_turns(turns: Sequence[Turn] | None) -> list[Turn] | None:
    """The turns after 停止: the pending last turn becomes "stopped" (its draft kept, unchecked); None when
    no turn was pending (the answer had already come)."""
    turns = list(turns or [])
    if not turns or turns[-1].status != "pending":
        return None
    turns[-1] = replace(turns[-1], status="stopped")
    return turns


def search_filter(year: str, only_doc: bool, current_doc: str) -> dict[str, str] | None:
    """The metadata filter of the chat's 年份 and 只在右侧打开的文档中查找 controls."""
    where: dict[str, str] = {}
    if year and year != ALL_YEARS:
        where["year"] = year
    if only_doc and current_doc:
        where["doc"] = current_doc
    return where or None


class Chat:
    """The chat's event handlers. `qa_for(collection)` gives the archive's QA, or None for an unknown one;
    a streamed answer is re-sent to the browser at most every `stream_every_s` seconds."""

    def __init__(self, qa_for: Callable[[str | None], QA | None], top_k: int,
                 stream_every_s: float = STREAM_EVERY_S) -> None:
        self.qa_for = qa_for
        self.top_k = top_k
        self.stream_every_s = stream_every_s

    def respond(self, message: str, turns: list[Turn] | None, year: str, only_doc: bool, current_doc: str,
                collection: str) -> Iterator[tuple[Any, ...]]:
        """The chat turn, streamed: (textbox, chat, turns, 发送, 停止) after each step. The earlier turns make a
        follow-up standalone (shown as "已理解为：…"); generated tokens show as they come; the final, checked
        answer replaces them, with its citations and any notice (time-out, dropped sentences, fallback).
        Every yield hands out a new list of new turns: what the session keeps is always what was shown."""
        before = list(turns or [])
        past = chat_history(before)
        shown_before = chat_messages(before)
        message = message or ""
        keep = (gr.skip(), gr.skip())

        def step(turn: Turn) -> tuple[Any, Any]:
            return shown_before + turn_messages(turn), [*before, turn]

        chosen = self.qa_for(collection)
        if chosen is None or (only_doc and not current_doc):
            refusal = MSG_UNKNOWN_COLLECTION if chosen is None else MSG_NO_DOC_OPEN
            yield "", *step(Turn(message, "refused", message=refusal)), *keep
            return
        # while it runs: 发送 off (Enter is ignored too: trigger_mode="once"), 停止 on; `idle` undoes this
        yield "", *step(Turn(message)), gr.Button(interactive=False), gr.Button(interactive=True)
        notes: list[str] = []
        text = ""
        answer: Answer | None = None
        events = chosen.ask_stream(message, past, k=self.top_k, where=search_filter(year, only_doc, current_doc))
        try:
            shown = time.monotonic()
            for event in events:
                kind = event.get("type")
                if kind == "rewrite":
                    notes.insert(0, NOTE_REWRITE.format(q=event.get("question", "")))
                elif kind == "notice":
                    if event.get("text") and event["text"] not in notes:
                        notes.append(str(event["text"]))
                    continue
                elif kind == "token":
                    text += str(event.get("text") or "")
                    if time.monotonic() - shown < self.stream_every_s:
                        continue
                elif kind == "answer":
                    answer = event.get("answer")
                    continue
                else:
                    continue
                yield "", *step(Turn(message, notes=tuple(notes), draft=text)), *keep
                shown = time.monotonic()
            if not isinstance(answer, Answer):
                raise RuntimeError("the answer stream ended without an answer")
            final = Turn(message, "answered", notes=tuple(notes), answer=answer)
        except Exception:
            log.exception("answering failed")
            final = Turn(message, "refused", message=MSG_ERROR)
        finally:
            # 停止 etc. (Gradio closes this generator): close the answer stream now, not when collected
            close = getattr(events, "close", None)
            if close is not None:
                close()
        yield "", *step(final), *keep

    @staticmethod
    def idle() -> tuple[Any, Any]:
        """After a turn, finished or stopped: 发送 on, 停止 off."""
        return gr.Button(interactive=True), gr.Button(interactive=False)

    @staticmethod
    def stopped(turns: list[Turn] | None) -> tuple[Any, Any]:
        """停止: (turns, chat) with the pending turn's draft struck through as unchecked; unchanged otherwise."""
        after = stop_turns(turns)
        if after is None:
            return gr.skip(), gr.skip()
        return after, chat_messages(after)

    @staticmethod
    def cleared() -> tuple[list[Turn], list[dict[str, str]]]:
        """清空对话 (and another archive): no turns, an empty chat."""
        return [], []

    def ask(self, question: str, collection: str = "", year: str = "") -> dict[str, Any]:
        """Answer a question from the archive: the answer with [n] markers, whether it was refused, and
        the citations (doc_id, title, date, speaker, text, start, end). For other tools and load tests."""
        chosen = self.qa_for(collection or None)
        if chosen is None:
            return {"answer": MSG_UNKNOWN_COLLECTION, "refused": True, "citations": [], "error": MSG_UNKNOWN_COLLECTION}
        try:
            answer = chosen.ask(question or "", where={"year": year} if year else None)
        except Exception:
            log.exception("ask failed")
            return {"answer": MSG_ERROR, "refused": True, "citations": [], "error": MSG_ERROR}
        return answer.to_dict()


@dataclass
class ChatTab:
    """The 问答 tab's components."""

    turns: gr.State
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    stop: gr.Button
    clear: gr.Button
    year: gr.Dropdown
    only_doc: gr.Checkbox


def build_chat_tab(years: list[str]) -> ChatTab:
    """Lay out the 问答 tab (inside a gr.Tab context); `years` are the 年份 choices."""
    turns = gr.State([])  # list[Turn]: the chat as data; the Chatbot only shows it
    chatbot = gr.Chatbot(
        label=LABEL_CHAT, height=560, elem_id="sq-chat", buttons=[], feedback_options=None, latex_delimiters=[],
        allow_tags=False, placeholder=CHAT_PLACEHOLDER, group_consecutive_messages=False,
    )
    with gr.Row(equal_height=True):
        question = gr.Textbox(label=LABEL_QUESTION, show_label=False, placeholder=PLACEHOLDER_QUESTION, lines=1,
                              max_lines=4, scale=6, elem_id="sq-question", autofocus=True)
        send = gr.Button(LABEL_SEND, variant="primary", scale=1, min_width=80, elem_id="sq-send")
        stop = gr.Button(LABEL_STOP, variant="stop", scale=1, min_width=80, interactive=False, elem_id="sq-stop")
        clear = gr.Button(LABEL_CLEAR, variant="secondary", scale=1, min_width=80)
    with gr.Row(equal_height=True):
        year = gr.Dropdown(choices=years, value=ALL_YEARS, label=LABEL_YEAR, scale=1, min_width=140,
                           elem_id="sq-year")
        only_doc = gr.Checkbox(label=LABEL_ONLY_DOC, value=False, scale=2)
    return ChatTab(turns, chatbot, question, send, stop, clear, year, only_doc)
