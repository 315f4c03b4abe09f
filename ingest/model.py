"""Data passed from ingest to the rest of the pipeline."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any


class IngestError(Exception):
    """A file that cannot be ingested. The message is shown to users, in Chinese."""


@dataclass(frozen=True)
class ScanLine:
    """One line OCR read on a scanned page: its text, its box on the page image, and where it stands in the
    document's cleaned text (start == end == -1 when cleaning dropped it, e.g. a running page number)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the page image
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class ScanPage:
    """A page whose text was read by OCR: the page image (its key in the OCR cache) and its lines."""

    page: int  # 1-based page number
    image: str  # key of the stored page image (ingest.ocr.page_image_path)
    width: int
    height: int
    lines: tuple[ScanLine, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "image": self.image, "width": self.width, "height": self.height,
                "lines": [[ln.text, list(ln.box), ln.start, ln.end] for ln in self.lines]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanPage:
        lines = tuple(ScanLine(str(t), (float(b[0]), float(b[1]), float(b[2]), float(b[3])), int(a), int(z))
                      for t, b, a, z in data.get("lines", []))
        return cls(int(data["page"]), str(data["image"]), int(data["width"]), int(data["height"]), lines)

    def lines_in(self, start: int, end: int) -> list[ScanLine]:
        """The lines holding any of the document text [start, end)."""
        return [ln for ln in self.lines if ln.start >= 0 and ln.start < end and start < ln.end]


@dataclass
class Document:
    """One cleaned document. `text` is what users see; passages point into it by offsets."""

    doc_id: str  # path relative to the ingested folder, posix separators (the file name for a lone file)
    text: str  # cleaned body text
    title: str
    date: str = ""  # ISO: YYYY-MM-DD, YYYY-MM or YYYY; "" when unknown
    speaker: str = ""  # speaker or role, "" when unknown
    url: str = ""  # source URL found in the file, "" when none
    meeting: str = ""  # meeting or occasion, "" when unknown
    format: str = ""  # txt, md, html, csv, docx, pdf
    sha256: str = ""  # of the raw file bytes
    page_starts: list[int] = field(default_factory=list)  # pdf: offset in `text` where each page starts
    scans: list[ScanPage] = field(default_factory=list)  # the pages read by OCR, in page order

    def scan(self, page: int) -> ScanPage | None:
        """The OCR layout of a 1-based page, None when that page was not scanned."""
        return next((s for s in self.scans if s.page == page), None)

    def page_of(self, offset: int) -> int:
        """The 1-based page holding `offset` of the text; 0 when the format has no pages."""
        if not self.page_starts:
            return 0
        return max(1, bisect_right(self.page_starts, offset))

    @property
    def source(self) -> str:
        return self.doc_id

    def pages(self) -> list[tuple[int, str]]:
        """(1-based page number, that page's text) for a paged document (pdf, ofd, images); one (0, text)
        when the format has no pages."""
        if not self.page_starts:
            return [(0, self.text)]
        ends = [*self.page_starts[1:], len(self.text)]
        return [(i, self.text[a:b]) for i, (a, b) in enumerate(zip(self.page_starts, ends, strict=True), start=1)]


@dataclass
class Passage:
    """A span of a document's cleaned text: `text == document.text[start:end]`."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    section: str = ""  # nearest heading above the passage ("一、…"), "" when none
    page: int = 0  # 1-based pdf page of `start`; 0 when the format has no pages

    @property
    def passage_id(self) -> str:
        return f"{self.doc_id}#{self.index}"
