"""The cleaning pipeline: prepared lines -> chrome stripped -> broken lines joined -> clean text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.chrome import drop_repeated_title_lines, pre_join, strip_chrome
from ingest.lines import join_broken_lines, prepare_lines, uses_blank_line_paragraphs


@dataclass
class Cleaned:
    text: str
    page_starts: list[int]  # offset of each page in `text` (one per input page)
    prepared: list[str]  # prepared lines of all pages before chrome stripping, for metadata


_PAGE_NUMBER = re.compile(
    r"^(?:[-—－–·\s]*\d{1,4}[-—－–·\s]*|第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|page\s*\d+(?:\s*of\s*\d+)?)$",
    re.IGNORECASE,
)


def _reflow_width(lines: list[str]) -> int:
    lengths = sorted(len(x) for x in lines if x)
    if len(lengths) < 8:
        return 0
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    return int(0.85 * p90) if p90 >= 15 else 0


def clean_page(raw: str, reflow: bool = False, first: bool = True) -> tuple[str, list[str]]:
    """Clean one page of text; returns (clean text, prepared lines)."""
    prepared = pre_join(prepare_lines(raw))
    stripped = strip_chrome(prepared)
    if reflow:  # pdf pages: running page numbers ("- 3 -", "第 3 页 共 9 页") are not text
        stripped = ["" if _PAGE_NUMBER.match(x) else x for x in stripped]
    soft = uses_blank_line_paragraphs(stripped)
    paragraphs = join_broken_lines(stripped, soft, _reflow_width(stripped) if reflow else 0)
    if first:
        paragraphs = drop_repeated_title_lines(paragraphs)
    return "\n".join(paragraphs), prepared


def clean_pages(pages: list[str], reflow: bool = False) -> Cleaned:
    parts: list[str] = []
    starts: list[int] = []
    prepared_all: list[str] = []
    offset = 0
    seen_text = False
    for raw in pages:
        text, prepared = clean_page(raw, reflow=reflow, first=not seen_text)
        prepared_all.extend(prepared)
        if text and parts:
            offset += 1  # the "\n" between pages
        starts.append(offset)
        if text:
            parts.append(text)
            offset += len(text)
            seen_text = True
    return Cleaned(text="\n".join(parts), page_starts=starts, prepared=prepared_all)
