"""Dates written in Chinese documents, to ISO strings: "2022-09-20", "2026-02", "2018"."""

from __future__ import annotations

import re
import unicodedata

from core.zh import cn_number

_ARABIC = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?")
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
        year, month = cn_number(m.group(1)), cn_number(m.group(2))
        day = cn_number(m.group(3)) if m.group(3) else None
        if year is None or month is None or (m.group(3) and day is None):
            return ""
        return _iso(year, month, day)
    return ""


def parse_year(text: str) -> str:
    """A year written as "2018年" in `text` (e.g. a title), or ""."""
    m = _YEAR.search(fold(text))
    return m.group(1) if m else ""
