"""A stand-in for `bot.qa.QA.ask_stream` that replays scripted events, for the chat handlers' unit tests.

It records what each call was given (the follow-up history above all) and whether the app closed the
stream before its end (停止)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamCall:
    question: str
    history: list[tuple[str, str]]
    where: dict[str, str] | None
    closed_early: bool = False


@dataclass
class ScriptedQA:
    """`scripts[question]` are the events `ask_stream(question, …)` yields, in order."""

    scripts: dict[str, list[dict[str, Any]]]
    calls: list[StreamCall] = field(default_factory=list)

    def ask_stream(self, question: str, history: Sequence[tuple[str, str]] | None = None, k: int | None = None,
                   where: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        call = StreamCall(question, list(history or []), where)
        self.calls.append(call)
        try:
            yield from self.scripts[question]
        except GeneratorExit:
            call.closed_early = True
            raise
