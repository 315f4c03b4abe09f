"""Heading lines in cleaned text ("一、…", "（一）…", "第一章…", "# …", short title-like lines)."""

from __future__ import annotations

import re

from core.zh import SENTENCE_ENDS
from ingest.metadata import is_title_like

_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]|"
    r"第[一二三四五六七八九十百千零〇\d]+(?:章|节|篇|部分|编|条)|第[一二三四五六七八九十]+[，、,])"
)
_ARABIC_NUMBERED = re.compile(
    r"^[0-9０-９]{1,2}[、．.](?![0-9０-９])"
)  # "3．成立工人学校", but list items too
_SHORT_LABEL = 25
_MARKDOWN = re.compile(r"^#{1,6}\s+(.+)$")
_LABEL_END = re.compile(f"[{SENTENCE_ENDS}]")
MAX_LABEL = 40
_SHORT_HEADING = 25


def heading_label(line: str) -> str:
    """The section label if `line` is a heading, else ""."""
    line = line.strip()
    if not line:
        return ""
    m = _MARKDOWN.match(line)
    if m:
        return m.group(1).strip()[:MAX_LABEL]
    if _NUMBERED.match(line):
        head = _LABEL_END.split(line, maxsplit=1)[0]
        return head[:MAX_LABEL].strip()
    if _ARABIC_NUMBERED.match(line):  # a heading only when short: "1. 对全区…，其中…" is a list item
        head = _LABEL_END.split(line, maxsplit=1)[0].strip()
        return head if len(head) <= _SHORT_LABEL and "，" not in head and "," not in head else ""
    if len(line) <= _SHORT_HEADING and "。" not in line and "\t" not in line and is_title_like(line):
        return line
    return ""


def find_headings(text: str) -> tuple[list[int], list[str]]:
    """Start offsets and labels of heading lines, in text order."""
    starts: list[int] = []
    labels: list[str] = []
    offset = 0
    for line in text.split("\n"):
        label = heading_label(line)
        if label:
            starts.append(offset + (len(line) - len(line.lstrip())))
            labels.append(label)
        offset += len(line) + 1
    return starts, labels
