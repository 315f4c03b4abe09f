"""The structure government texts are written in: enumerations and the lead that introduces them.

Minutes, notices and reports state what was decided as numbered items: "会议决定：（一）…（二）…",
"一是…；二是…；三是…", "1. … 2. …", "①…②…", "第一，…第二，…", or lines headed "一、… 二、…". This
module finds those enumerations in cleaned text, with offsets, so that an answer can show every item
and cite each one on its own.

Contract:
- `enumerations(text)` returns runs of at least two items of one marker family whose indices count up
  from 1 without a gap; `text[item.start:item.end]` is the item with its marker, no surrounding
  whitespace or trailing separator; items of one run do not overlap and are in text order.
- The lead is the sentence right before the first item (`lead_start == lead_end` when there is none).
- Pure functions of the text: nothing here reads files or keeps state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.zh import SENTENCE_ENDS, cn_number

_CN = "一二三四五六七八九十"
_FULL_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# (family, pattern, inline): an inline family's items may stand inside a sentence; the others start a line.
_FAMILIES: list[tuple[str, re.Pattern[str], bool]] = [
    ("paren", re.compile(rf"[（(]([{_CN}]{{1,3}})[）)]"), False),
    ("paren_digit", re.compile(r"[（(]([0-9０-９]{1,2})[）)]"), False),
    ("comma", re.compile(rf"([{_CN}]{{1,3}})、"), False),
    ("digit", re.compile(r"([0-9０-９]{1,2})[.．、](?![0-9０-９])"), False),
    ("row", re.compile(r"([0-9０-９]{1,2})\t"), False),  # a table row: "1\t项目名称\t…"
    ("shi", re.compile(rf"(?<![{_CN}第])([{_CN}]{{1,3}})(?:是|要|在于)(?=[\u4e00-\u9fff“\"])"), True),
    ("circled", re.compile(rf"([{_CIRCLED}])"), True),
    ("di", re.compile(rf"第([{_CN}]{{1,3}})[，,、：:]"), True),
]
_ORDER_WORDS = ("首先", "其次", "再次", "最后")
_LINE_START = re.compile(r"(?:^|\n)[ \t\u3000]*$")
_SENTENCE_END = SENTENCE_ENDS.replace("；", "").replace(";", "") + "\n"  # a lead ends at a full stop, not a "；"
_LEAD_HINT = re.compile(r"[：:]\s*$|决定|议定|要求|如下|以下|包括|主要有|分别是|提出|部署|确定|重点|措施|任务|举措")
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s|[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[章节部分])")
MAX_GAP = 4000  # characters between two items of one run at most
MAX_LEAD = 160  # characters of lead sentence kept at most (its end)


@dataclass(frozen=True)
class Item:
    start: int  # offsets of the item in the text, marker included
    end: int
    body_start: int  # where the item's own words start (after the marker)
    index: int  # 1-based position in its enumeration
    marker: str


@dataclass(frozen=True)
class Enumeration:
    family: str
    items: tuple[Item, ...]
    lead_start: int  # the sentence that introduces the items; lead_start == lead_end when none
    lead_end: int
    inline: bool = False

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValueError("an enumeration has at least two items")
        if [i.index for i in self.items] != list(range(1, len(self.items) + 1)):
            raise ValueError("items count up from 1")
        if any(a.end > b.start for a, b in zip(self.items, self.items[1:], strict=False)):
            raise ValueError("items are in text order and do not overlap")

    @property
    def start(self) -> int:
        return min(self.lead_start, self.items[0].start) if self.lead_end > self.lead_start else self.items[0].start

    @property
    def end(self) -> int:
        return self.items[-1].end


@dataclass(frozen=True)
class _Marker:
    family: str
    index: int
    start: int
    body: int
    inline: bool
    text: str


def _index(family: str, raw: str) -> int | None:
    if family == "circled":
        return _CIRCLED.index(raw) + 1
    if family in ("digit", "paren_digit"):
        return int(raw.translate(_FULL_DIGITS))
    return cn_number(raw)


def _markers(text: str) -> list[_Marker]:
    out: list[_Marker] = []
    for family, pattern, inline in _FAMILIES:
        for m in pattern.finditer(text):
            at_line = bool(_LINE_START.search(text, 0, m.start())) if m.start() else True
            if not inline and not at_line:
                # line-start families also count right after a sentence or clause end ("。（二）", "；2.")
                before = text[max(0, m.start() - 1) : m.start()]
                if family in ("comma", "digit") or before not in "。；;：:":
                    continue
            index = _index(family, m.group(1))
            if index is None or index > 60:
                continue
            out.append(_Marker(family, index, m.start(), m.end(), inline, m.group(0)))
    for i, word in enumerate(_ORDER_WORDS):
        for m in re.finditer(rf"{word}[，,：:]", text):
            index = len(_ORDER_WORDS) if word == "最后" else i + 1
            out.append(_Marker("order", index, m.start(), m.end(), True, m.group(0)))
    out.sort(key=lambda k: (k.start, k.family))
    return out


def _runs(markers: list[_Marker]) -> list[list[_Marker]]:
    """Per family, chains 1, 2, 3 … in text order ("最后" may close an order-word chain at any length)."""
    runs: list[list[_Marker]] = []
    by_family: dict[str, list[_Marker]] = {}
    for m in markers:
        by_family.setdefault(m.family, []).append(m)
    for family, ms in by_family.items():
        open_runs: list[list[_Marker]] = []
        for m in ms:
            placed = False
            for run in reversed(open_runs):
                last = run[-1]
                nxt = last.index + 1
                closes = family == "order" and m.index == len(_ORDER_WORDS) and last.index >= 2
                if (m.index == nxt or closes) and m.start - last.start <= MAX_GAP and m.start >= last.body:
                    run.append(m)
                    placed = True
                    break
            if not placed and m.index == 1:
                open_runs.append([m])
        runs.extend(r for r in open_runs if len(r) >= 2)
    return runs


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and (text[end - 1].isspace() or text[end - 1] in "；;，,、"):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _paragraph_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl == -1 else nl


def _sentence_end(text: str, pos: int, limit: int) -> int:
    for i in range(pos, min(len(text), limit)):
        if text[i] in _SENTENCE_END:
            return i + 1 if text[i] != "\n" else i
    return min(len(text), limit)


def _is_table_header(line: str) -> bool:
    return "\t" in line and not re.search(r"[0-9０-９]", line)


def _lead(text: str, first: int) -> tuple[int, int]:
    """The sentence that introduces the list starting at `first`: of the two sentences right before it
    (a table's header line skipped), the nearer one that says a list follows ("会议决定：", "以下10项")."""
    end = first
    while end > 0 and text[end - 1] in " \t\u3000\n":
        end -= 1
    line_start = text.rfind("\n", 0, end) + 1
    if _is_table_header(text[line_start:end]):
        end = line_start
        while end > 0 and text[end - 1] in " \t\u3000\n":
            end -= 1
    lo = max(0, end - 400)
    stop = end
    for _ in range(2):
        start = stop
        if start > lo and text[start - 1] in _SENTENCE_END:
            start -= 1  # the sentence's own end
        while start > lo and text[start - 1] not in _SENTENCE_END:
            start -= 1
        if start >= stop:
            break
        seg_start, seg_end = _trim(text, max(start, stop - MAX_LEAD), stop)
        if _LEAD_HINT.search(text[seg_start:seg_end]) and not _HEADING_LINE.match(text[seg_start:seg_end]):
            return seg_start, seg_end
        if start == 0 or text[start - 1] == "\n":
            break  # the paragraph before the list starts here
        stop = start
    return first, first


def _items(text: str, run: list[_Marker]) -> tuple[Item, ...] | None:
    items: list[Item] = []
    inline = run[0].inline
    for i, m in enumerate(run):
        if i + 1 < len(run):
            end = run[i + 1].start
            if inline:
                # an inline item ends at its sentence end when that comes before the next marker
                stop = _sentence_end(text, m.body, end)
                end = min(end, stop)
        else:
            end = _sentence_end(text, m.body, m.body + 400) if inline else _paragraph_end(text, m.body)
        start, end = _trim(text, m.start, end)
        if end <= m.body:
            return None
        items.append(Item(start, end, m.body, m.index, m.text.strip()))
    return tuple(items)


def enumerations(text: str) -> list[Enumeration]:
    """Every enumeration in the text, outer ones first (by start), with their leads."""
    found: list[Enumeration] = []
    for run in _runs(_markers(text)):
        items = _items(text, run)
        if items is None:
            continue
        lead_start, lead_end = _lead(text, items[0].start)
        try:
            found.append(Enumeration(run[0].family, items, lead_start, lead_end, run[0].inline))
        except ValueError:
            continue
    found.sort(key=lambda e: (e.start, -e.end))
    return found

