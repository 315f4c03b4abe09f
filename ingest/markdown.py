"""Markdown: a little syntax noise removed; title from the first "# " line, url from "来源：https://…"."""

from __future__ import annotations

import re

from ingest.metadata import Metadata
from ingest.raw import RawDoc

_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SOURCE_URL = re.compile(
    r"^(?:来源|出处|原文|Source)\s*[:：]\s*<?(https?://[^\s>]+)>?\s*$", re.MULTILINE | re.IGNORECASE
)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|/|\.|#|mailto:)[^)\n]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_FENCE_OR_RULE = re.compile(r"^\s{0,3}(?:```.*|~~~.*|(?:[-*_]\s*){3,})$", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_HTML_TAG = re.compile(r"</?(?:br|p|div|span|b|i|strong|em|u|sup|sub)\b[^>\n]*>", re.IGNORECASE)


def strip_markdown(text: str) -> str:
    """Remove markup that is not text; heading "#" markers stay (they mark sections)."""
    text = _FENCE_OR_RULE.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _QUOTE.sub("", text)
    return _HTML_TAG.sub("\n", text)


def read_markdown(text: str) -> RawDoc:
    hints = Metadata()
    m = _TITLE.search(text)
    if m:
        hints.title = strip_markdown(m.group(1)).strip()
    m = _SOURCE_URL.search(text[:5000])
    if m:
        hints.url = m.group(1)
    return RawDoc(pages=[strip_markdown(text)], hints=hints)
