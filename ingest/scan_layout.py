"""Where each OCR line of a scanned page stands in the document's cleaned text.

Cleaning joins the recognised lines into paragraphs, drops running page numbers and chrome, and rewrites
whitespace; the characters themselves stay. So a page's lines are aligned with that page's cleaned text
by their non-space characters (difflib over the two squashed strings; runs of two or more characters in
common): a line spans from the first to the last of its characters found in the text. A line none of whose
characters survived is left unplaced.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from ingest.model import ScanLine, ScanPage
from ingest.ocr import OcrPage


def _squash(text: str, base: int = 0) -> tuple[str, list[int]]:
    """`text` without whitespace, and the offset (plus `base`) of each character kept."""
    offsets = [base + i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i - base] for i in offsets), offsets


def place_lines(page_text: str, base: int, ocr: OcrPage) -> tuple[ScanLine, ...]:
    """The page's OCR lines with their [start, end) in the document text; `page_text` starts at `base`."""
    text, text_offsets = _squash(page_text, base)
    owners: list[int] = []  # line index of each squashed OCR character
    squashed: list[str] = []
    for n, line in enumerate(ocr.lines):
        chars = "".join(line.text.split())
        squashed.append(chars)
        owners.extend([n] * len(chars))
    spans: list[list[int]] = [[-1, -1] for _ in ocr.lines]
    matcher = SequenceMatcher(None, "".join(squashed), text, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        if size < 2:  # a lone character in common (a dropped page number's digit) places nothing
            continue
        for k in range(size):
            span = spans[owners[a + k]]
            offset = text_offsets[b + k]
            span[0] = offset if span[0] < 0 else min(span[0], offset)
            span[1] = max(span[1], offset + 1)
    return tuple(ScanLine(line.text, line.box, *span) for line, span in zip(ocr.lines, spans, strict=True))


def scan_pages(text: str, page_starts: list[int], scans: dict[int, OcrPage]) -> list[ScanPage]:
    """The OCR layout of every scanned page (0-based index in `scans`) placed in the cleaned `text`."""
    out: list[ScanPage] = []
    ends = [*page_starts[1:], len(text)]
    for index in sorted(scans):
        ocr = scans[index]
        if not ocr.image or index >= len(page_starts):
            continue
        start, end = page_starts[index], ends[index]
        out.append(ScanPage(index + 1, ocr.image, ocr.width, ocr.height, place_lines(text[start:end], start, ocr)))
    return out
