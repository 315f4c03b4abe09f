"""The default answer: the retrieved sentences that best answer the question, each cited. No model, no
invention: every word shown is the archive's own.

A sentence scores by the question's key terms it holds, each weighted by its rarity in the archive, plus
a bonus when it holds the kind of thing the question asks for (a figure for 多少, a date for 哪天, a
responsible body for 谁负责). Earlier citations win ties.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.zh import squash
from vectorstore.keyword import tokenize
from vectorstore.query import key_terms

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?[”’」』）)]*")
_ANSWER_KINDS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"多少|几[个项条家所次年万亿倍]|多大|比例|规模|目标是|增长"), re.compile(r"\d|[一二三四五六七八九十百千万亿]+[个项条家所万亿%倍]")),
    (re.compile(r"哪天|哪一天|几月|几日|何时|什么时候|时间|日期|哪年|哪一年"), re.compile(r"\d+月|\d+日|[一二三四五六七八九十]+月|年底|月底|前完成|之前")),
    (re.compile(r"谁|哪位|哪个部门|哪些部门|负责|牵头|主持"), re.compile(r"负责|牵头|主持|由.{1,12}(承担|落实|组织)|同志|局长|区长|市长|主任|书记|委员")),
    (re.compile(r"哪里|在哪|哪座|哪个城市|地点"), re.compile(r"在.{1,10}(召开|举行|开幕)|[省市县区]")),
]


@dataclass
class Sentence:
    citation: int  # 1-based citation number
    text: str
    score: float
    order: int  # position among all candidate sentences (citation order, then text order)


def sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def answer_kind_bonus(question: str, sentence: str) -> float:
    """1 when the sentence holds what the question asks for (a figure, a date, a person or body)."""
    return float(any(ask.search(question) and has.search(sentence) for ask, has in _ANSWER_KINDS))


def pick_sentences(question: str, passages: list[str], idf: Callable[[str], float],
                   max_sentences: int = 3, max_chars: int = 300) -> list[Sentence]:
    terms = [squash(t) for t in key_terms(tokenize(question))]
    weights = {t: idf(t) for t in terms if t}
    total = sum(weights.values())
    if not total:
        return []
    cands: list[Sentence] = []
    order = 0
    for n, passage in enumerate(passages, start=1):
        for sent in sentences(passage):
            flat = squash(sent)
            got = sum(w for t, w in weights.items() if t in flat) / total
            if got > 0:
                score = (got + 0.25 * answer_kind_bonus(question, sent)) / (1.0 + 0.1 * (n - 1))
                cands.append(Sentence(n, sent, score, order))
            order += 1
    if not cands:
        return []
    cands.sort(key=lambda c: (-c.score, c.order))
    best = cands[0].score
    chosen: list[Sentence] = []
    total_chars = 0
    seen: set[str] = set()
    for c in cands:
        if len(chosen) >= max_sentences or c.score < 0.7 * best:
            break
        key = squash(c.text)
        if key in seen or total_chars + len(c.text) > max_chars and chosen:
            continue
        seen.add(key)
        chosen.append(c)
        total_chars += len(c.text)
    chosen.sort(key=lambda c: c.order)
    return chosen


def compose(chosen: list[Sentence]) -> str:
    return "".join(f"{c.text}[{c.citation}]" for c in chosen)
