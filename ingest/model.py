"""Data passed from ingest to the rest of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field


class IngestError(Exception):
    """A file that cannot be ingested. The message is shown to users, in Chinese."""


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
