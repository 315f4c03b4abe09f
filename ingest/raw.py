"""What a format reader hands to the cleaner: page texts plus metadata hints from the format itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.metadata import Metadata
from ingest.ocr import OcrPage


@dataclass
class RawDoc:
    pages: list[str]  # one entry per pdf page; a single entry for the other formats
    hints: Metadata = field(default_factory=Metadata)  # values the format states outright (html title …)
    fallback_title: str = ""  # a title to use only when the text has no title-like line (pdf info)
    reflow: bool = False  # pdf: join hard-wrapped lines
    scans: dict[int, OcrPage] = field(default_factory=dict)  # 0-based page -> what OCR read on its image
