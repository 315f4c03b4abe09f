"""What the answer chain returns to the CLI, the HTTP API and the app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass
class Citation:
    n: int  # 1-based number used as [n] in the answer
    doc_id: str
    source: str  # path relative to the ingested folder
    title: str
    date: str
    speaker: str
    text: str  # the cited passage as the document has it (hit plus a little context)
    start: int  # offsets of `text` in the cleaned document text
    end: int
    score: float
    section: str = ""
    page: int = 0
    meeting: str = ""
    hit_start: int = 0  # offsets of the retrieved passage itself (inside start..end)
    hit_end: int = 0
    copies: list[str] = field(default_factory=list)  # other documents holding the same passage (near-duplicates)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Role = Literal["lead", "item", "sentence"]


@dataclass
class Unit:
    """One piece of an answer cited on its own (a sentence, a list's lead, one item): the [n] after it opens
    citation n's document with `start..end` highlighted. `text == document text[start:end]`."""

    n: int
    doc_id: str
    start: int
    end: int
    text: str
    role: Role
    part: int = 0  # which part of a compound question it answers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer: str  # Chinese text with [n] markers, or the refusal / error message
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    ms: dict[str, float] = field(default_factory=dict)
    error: str = ""  # set (in Chinese) when the question itself was rejected, e.g. empty or too long
    mode: str = "extractive"
    units: list[Unit] = field(default_factory=list)  # the extractive answer's pieces, in the order shown

    def quoted(self, c: Citation) -> str:
        """What the answer took from citation c: its units' texts (one per line), else the passage that
        retrieval found (not the context around it)."""
        texts = [u.text for u in self.units if u.n == c.n]
        if texts:
            return "\n".join(texts)
        if c.start <= c.hit_start < c.hit_end <= c.end:
            return c.text[c.hit_start - c.start : c.hit_end - c.start]
        return c.text

    def to_dict(self) -> dict[str, Any]:
        """The one JSON form of an answer: what `speechqa ask --json` prints and the app's HTTP API returns.
        {"question", "answer", "refused", "citations": [Citation.to_dict()...], "ms": {"retrieve", "total",
        ...} (milliseconds, rounded to 0.01), "error", "mode", "units": [Unit.to_dict()...]}."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "ms": {k: round(v, 2) for k, v in self.ms.items()},
            "error": self.error,
            "mode": self.mode,
            "units": [u.to_dict() for u in self.units],
        }
