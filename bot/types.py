"""What the answer chain returns to the CLI and the app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["citations"] = [c.to_dict() for c in self.citations]
        return d
