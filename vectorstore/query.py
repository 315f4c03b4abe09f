"""What a question says about which documents it wants: years, and names that appear in titles."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.normalize import normalize

_YEAR = re.compile(r"(?<!\d)(19[4-9]\d|20[0-9]\d)(?!\d)")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})年")
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CONGRESS = re.compile(r"(?:党的)?([一二三四五六七八九十]{1,3})大")


def cn_number(text: str) -> int | None:
    """一..九十九 in Chinese numerals."""
    if not text or any(c not in _CN_NUM for c in text):
        return None
    if "十" not in text:
        return _CN_NUM[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)


def years_in(text: str) -> list[int]:
    norm = normalize(text)
    found = [int(y) for y in _YEAR.findall(norm)]
    found += [int(m.translate(_CN_DIGITS)) for m in _CN_YEAR.findall(text)]
    return sorted(set(found))


def expand_aliases(text: str) -> str:
    """Spell out common short forms so they meet the documents' full names: 十八大 -> 第十八次全国代表大会."""
    extra = []
    for m in _CONGRESS.finditer(text):
        if cn_number(m.group(1)):
            extra.append(f"第{m.group(1)}次全国代表大会")
    return text + (" " + " ".join(extra) if extra else "")


@dataclass
class QueryInfo:
    text: str
    years: list[int]
    expanded: str


def analyse(question: str) -> QueryInfo:
    return QueryInfo(text=question, years=years_in(question), expanded=expand_aliases(question))


def document_year(date: str, title: str) -> int | None:
    """The year a document belongs to: its title's year when it names one (a 2018 report), else its date's."""
    ys = years_in(title)
    if ys:
        return ys[-1]
    m = _YEAR.search(normalize(date or ""))
    return int(m.group(1)) if m else None
