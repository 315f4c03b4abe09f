"""What a question says about which documents it wants: years, and names that appear in titles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.zh import normalize

_YEAR = re.compile(r"(?<!\d)(19[4-9]\d|20[0-9]\d)(?!\d)")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_CN_YEAR = re.compile(r"([〇○零0-9一二三四五六七八九]{4})年")  # 二〇二〇年, and 二０二０年 once normalised
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# "到2020年" (not "到2020年底"): a target a plan sets, written years before; not the year of the document
_TARGET_YEAR = re.compile(r"到((?:19[4-9]\d|20\d\d)|[〇○零0-9一二三四五六七八九]{4})年(?![底末初])")
_CONGRESS = re.compile(r"(?:党的)?([一二三四五六七八九十]{1,3})大")


def cn_number(text: str) -> int | None:
    """一..九十九 in Chinese numerals."""
    if not text or any(c not in _CN_NUM for c in text):
        return None
    if "十" not in text:
        return _CN_NUM[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)


_CN_NUMERALS = "一二三四五六七八九十百零〇两"


def holds(text: str, term: str) -> bool:
    """`term in text`, except that a term starting with a Chinese numeral must not be the tail of a larger
    number: "五大" is not in "十五大", "四届" not in "第十四届"."""
    if not term or term[0] not in _CN_NUMERALS:
        return term in text
    i = text.find(term)
    while i != -1:
        if i == 0 or text[i - 1] not in _CN_NUMERALS:
            return True
        i = text.find(term, i + 1)
    return False


def years_in(text: str) -> list[int]:
    norm = normalize(text)
    found = [int(y) for y in _YEAR.findall(norm)]
    found += [int(m.translate(_CN_DIGITS)) for m in _CN_YEAR.findall(norm)]
    return sorted(set(found))


_GENERIC = frozenset(
    ["年", "月", "日", "号", "届", "次", "第", "后", "前", "当年", "最终", "比上年", "上年", "增长", "同比", "今年", "去年", "明年", "报告", "提到", "提出", "分别", "具体"]
)
# Interrogatives and the words built on them ("哪几天", "多少岁", "那份") say what is asked, not what about.
_ASKING = re.compile(r"[哪几谁何吗呢啥那]|多少|什么|怎么|怎样|多大|多长|多久|多高|为何|是否|还是")
_NUMERIC = re.compile(r"^\d+(\.\d+)?$")



_NON_WORD = re.compile(r"[\W_]+")


def question_bigrams(question: str) -> set[str]:
    """The normalised question's character bigrams, interrogatives and punctuation left out: what a passage
    that answers it tends to repeat word for word, whatever the word segmenter made of either."""
    pieces = _NON_WORD.split(_ASKING.sub(" ", normalize(question)))
    return {p[i : i + 2] for p in pieces for i in range(len(p) - 1)}


def key_terms(tokens: list[str]) -> list[str]:
    seen: list[str] = []
    for t in tokens:
        if t in _GENERIC or len(t) < 2 and not _NUMERIC.match(t) or t in seen or _ASKING.search(t):
            continue
        seen.append(t)
    return seen



_RELATIVE_YEARS = {"今年": 0, "本年": 0, "本年度": 0, "去年": -1, "上一年": -1, "前年": -2, "明年": 1}


def aliases(text: str) -> list[str]:
    """Full names for common short forms: 十八大 -> 第十八次全国代表大会."""
    out = []
    for m in _CONGRESS.finditer(text):
        if cn_number(m.group(1)):
            out += [m.group(0).removeprefix("党的"), f"第{m.group(1)}次全国代表大会"]
    return out


def relative_years(text: str, this_year: int) -> list[int]:
    return sorted({this_year + d for word, d in _RELATIVE_YEARS.items() if word in text})


@dataclass
class QueryInfo:
    text: str
    years: list[int]  # years the question asks about (a target year, "到2020年", is not one of them)
    expanded: str  # the question plus spelled-out aliases, for keyword search
    phrases: list[str]  # alias phrases, matched whole against titles


def analyse(question: str, this_year: int | None = None) -> QueryInfo:
    this_year = this_year or date.today().year
    phrases = aliases(question)
    named = years_in(_TARGET_YEAR.sub("", normalize(question)))
    years = sorted(set(named) | set(relative_years(question, this_year)))
    expanded = question + (" " + " ".join(phrases) if phrases else "")
    return QueryInfo(text=question, years=years, expanded=expanded, phrases=phrases)


def document_year(date: str, title: str) -> int | None:
    """The year a document belongs to: its title's year when it names one (a 2018 report), else its date's."""
    ys = years_in(title)
    if ys:
        return ys[-1]
    m = _YEAR.search(normalize(date or ""))
    return int(m.group(1)) if m else None
