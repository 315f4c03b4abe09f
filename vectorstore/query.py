"""What a question says about which documents it wants (years, names that appear in titles) and which of
its words carry it (key terms, bigrams). The Chinese-text rules themselves live in core.zh."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import rjieba

from core.zh import congresses, normalize, npc_sessions, years_in

# "到2020年" (not "到2020年底"): a target a plan sets, written years before; not the year of the document
_TARGET_YEAR = re.compile(r"到((?:19[4-9]\d|20\d\d)|[〇○零0-9一二三四五六七八九]{4})年(?![底末初])")


_GENERIC = frozenset(
    ["年", "月", "日", "号", "届", "次", "第", "后", "前", "当年", "最终", "比上年", "上年", "增长", "同比", "今年", "去年", "明年", "报告", "提到", "提出", "分别", "具体"]
)
# Interrogative words and the words built on them ("哪几天", "多少岁", "几项", "那份"): they say what is asked,
# not what about. Whole words only: 何立峰, 几内亚, 那曲, 任何, 几乎 hold 何/几/那 but ask nothing.
_MEASURE = "个些项条次天日月年号家所位名人种类点岁届批部处份件座辆户张本期轮里儿样篇场句段章节首封间台层级度季周"
ASKING = re.compile(
    rf"哪[一几]?[{_MEASURE}]?|几[{_MEASURE}十百千万亿]|那[{_MEASURE}么]"
    r"|谁|吗|呢|啥|什么样?|怎么样?|怎样|为什么|为何|如何|何时|何地|何处|何人|何种|何以|何为|何谓"
    r"|多少|多大|多长|多久|多高|多远|多重|多快|是否|还是"
)
_NUMERIC = re.compile(r"^\d+(\.\d+)?$")
_NON_WORD = re.compile(r"[\W_]+")


def question_bigrams(question: str) -> set[str]:
    """The normalised question's character bigrams, interrogative words and punctuation left out: what a
    passage that answers it tends to repeat word for word, whatever the word segmenter made of either."""
    pieces = _NON_WORD.split(ASKING.sub(" ", normalize(question)))
    return {p[i : i + 2] for p in pieces for i in range(len(p) - 1)}


def is_asking(token: str) -> bool:
    """Does the token hold an interrogative word (哪个, 几项, 多少, 什么, 谁, 吗 …)? 何立峰 and 那曲 do not."""
    return ASKING.search(token) is not None


_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def is_word(term: str, df: Mapping[str, int]) -> bool:
    """A real word rather than a segmentation accident ("率定" cut from "增长率定为"): in jieba's dictionary
    or in at least two passages of the archive. Digits and Latin letters always count (they are never
    accidents of the segmenter)."""
    return not _CJK_WORD.fullmatch(term) or rjieba.has_word(term) or df.get(term, 0) >= 2


def straddled(term: str, text: str) -> bool:
    """Is every occurrence of the term in the text cut across by a dictionary word ("人代会上作的": "会上"
    runs across the start of "上作")? Then the term is a segmentation accident even when the same accident
    recurs in the archive ("会议上作报告")."""
    found = False
    for m in re.finditer(re.escape(term), text):
        found = True
        a, b = m.start(), m.end()
        cut = any(rjieba.has_word(text[i:j])
                  for edge in (a, b) for i in range(max(0, edge - 3), edge) for j in range(edge + 1, min(len(text), edge + 3) + 1)
                  if j - i >= 2 and not (a <= i and j <= b))
        if not cut:
            return False
    return found


def _inside(term: str, text: str, spans: list[tuple[int, int]]) -> bool:
    """Does every occurrence of the term in the text lie inside one of the spans?"""
    found = [(m.start(), m.end()) for m in re.finditer(re.escape(term), text)]
    return bool(found) and all(any(a <= i and j <= b for a, b in spans) for i, j in found)


def key_terms(tokens: list[str], df: Mapping[str, int] | None = None, text: str = "") -> list[str]:
    """The question's tokens that say what it is about, in order, once each: no interrogatives, generic
    words or single characters (single digits stay).

    With `df` (passage frequency of each token in the archive), a term that is not a real word (see
    `is_word`) is replaced by its dictionary parts ("何立峰" unknown -> its parts; "率定" -> nothing), so a
    segmentation accident never becomes the rarest, heaviest term of the question. With the question's
    `text` as well, a two-character term outside the dictionary that a dictionary word cuts across there
    (`straddled`) is such an accident too, however often the archive repeats it (longer ones, "赤字率",
    are names and compounds the dictionary lacks). A term found in the text only inside an interrogative
    the segmenter kept whole ("多长时间": 时间, 长时间) asks, like it."""
    seen: list[str] = []
    asked = [(m.start(), m.end()) for t in set(tokens) if len(t) > 2 and is_asking(t) for m in re.finditer(re.escape(t), text)]
    for token in tokens:
        if asked and _inside(token, text, asked):
            continue  # "时间", "长时间" of "多长时间": the segmenter's pieces of an interrogative
        real = df is None or is_word(token, df)
        if real and df is not None and text and len(token) == 2 and _CJK_WORD.fullmatch(token) and not rjieba.has_word(token):
            real = not straddled(token, text)
        parts = [token] if real else rjieba.cut(token, False)
        for t in parts:
            if t in _GENERIC or len(t) < 2 and not _NUMERIC.match(t) or t in seen or is_asking(t):
                continue
            seen.append(t)
    return seen


_RELATIVE_YEARS = {"今年": 0, "本年": 0, "本年度": 0, "去年": -1, "上一年": -1, "前年": -2, "明年": 1}


def aliases(text: str) -> list[str]:
    """Full names for the congresses a text names in short form: 十八大 -> 十八大, 第十八次全国代表大会
    (not 三大攻坚战: see core.zh.congresses)."""
    out = []
    for c in congresses(text):
        out += [c.short, c.full]
    return out


def relative_years(text: str, this_year: int, lag: int = 0) -> dict[str, int]:
    """The year each relative word of the text means: today's year plus its offset. `lag` moves "今年" back
    that many years, for an archive that holds nothing of this year yet on the question's topic
    (`bot.qa.QA.retrieve` and `ask` retry so; the answer's note says how "今年" was read)."""
    return {w: this_year + offset - (lag if offset == 0 else 0) for w, offset in _RELATIVE_YEARS.items() if w in text}


@dataclass
class QueryInfo:
    text: str
    years: list[int]  # years the question asks about (a target year, "到2020年", is not one of them)
    expanded: str  # the question plus spelled-out aliases, for keyword search
    phrases: list[str]  # alias phrases, matched whole against titles
    named_years: list[int] = field(default_factory=list)  # the years written in the question ("今年" is not)
    relative: dict[str, int] = field(default_factory=dict)  # "今年" -> the year it was read as
    this_year: int = 0  # today's year, against which the relative words were read


def analyse(question: str, this_year: int | None = None, lag: int = 0) -> QueryInfo:
    """`this_year`: today's (by default); `lag`: see `relative_years`."""
    this_year = this_year or date.today().year
    phrases = aliases(question)
    named = years_in(_TARGET_YEAR.sub("", normalize(question)))
    relative = relative_years(question, this_year, lag)
    # the NPC session named is the document's year ("三届人大一次会议" met in 1964), unless the question names
    # its document as a congress's ("十一大报告提到四届人大…": the session is a topic)
    sessions = [] if congresses(question) else [y for s in npc_sessions(question) for y in s.years]
    years = sorted(set(named) | set(relative.values()) | set(sessions))
    expanded = question + (" " + " ".join(phrases) if phrases else "")
    return QueryInfo(text=question, years=years, expanded=expanded, phrases=phrases, named_years=sorted(set(named)),
                     relative=relative, this_year=this_year)


def document_year(date: str, title: str) -> int | None:
    """The year a document belongs to: its title's year when it names one (a 2018 report), else its date's,
    else the year of the NPC session its title names (a resolution of "第二届全国人民代表大会第三次会议")."""
    ys = years_in(title) or years_in(date or "") or [y for s in npc_sessions(title) if len(s.years) == 1 for y in s.years]
    return ys[-1] if ys else None
