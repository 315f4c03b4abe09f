"""Dates written in Chinese documents, to ISO strings: "2022-09-20", "2026-02", "2018"."""

from __future__ import annotations

import re
import unicodedata

_ARABIC = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?")
_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_DATE = re.compile(
    r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月(?:([一二三四五六七八九十]{1,3})日)?"
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")

ARABIC_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
CN_DATE = r"[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日"
ANY_DATE = rf"(?:{ARABIC_DATE}|{CN_DATE})"


def fold(text: str) -> str:
    """Full-width digits and punctuation to ASCII, for pattern matching only."""
    return unicodedata.normalize("NFKC", text)


def _cn_number(text: str) -> int:
    """Chinese numerals up to 31: 三, 十, 十二, 二十, 二十七, 三十一."""
    if "十" not in text:
        return _CN_DIGITS.get(text, 0) if len(text) == 1 else 0
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _iso(year: int, month: int, day: int | None) -> str:
    if not (1000 <= year <= 2999 and 1 <= month <= 12):
        return ""
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= 31:
        return ""
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_date(text: str) -> str:
    """The first date in `text` as YYYY-MM-DD (or YYYY-MM); "" when there is none."""
    text = fold(text)
    m = _ARABIC.search(text)
    if m:
        iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
        if iso:
            return iso
    m = _CN_DATE.search(text)
    if m:
        year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        day = _cn_number(m.group(3)) if m.group(3) else None
        return _iso(year, _cn_number(m.group(2)), day)
    return ""


def parse_year(text: str) -> str:
    """A year written as "2018年" in `text` (e.g. a title), or ""."""
    m = _YEAR.search(fold(text))
    return m.group(1) if m else ""
