"""The default answer: the retrieved sentences that best match the question, each cited. No model, no
invention: every word shown is the archive's own."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.normalize import normalize

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?[”’」』）)]*")
_CJK_OR_ALNUM = re.compile(r"[\u4e00-\u9fff0-9a-z%.]")
# Bigrams of question words carry no content.
_QUESTION_BIGRAMS = frozenset(
    ["什么", "多少", "哪些", "哪个", "哪里", "哪一", "一天", "几月", "几日", "是否", "怎么", "怎样", "如何", "是谁", "谁负", "请问", "提出", "提到", "主要", "哪几", "几天", "定了", "了多", "为多", "是多", "有哪", "要求", "问题", "一下", "会议", "决定", "工作"]
)


def bigrams(text: str) -> set[str]:
    norm = normalize(text)
    grams = set()
    for a, b in zip(norm, norm[1:], strict=False):
        if _CJK_OR_ALNUM.match(a) and _CJK_OR_ALNUM.match(b):
            grams.add(a + b)
    return grams - _QUESTION_BIGRAMS


@dataclass
class Sentence:
    citation: int  # 1-based citation number
    text: str
    score: float
    order: int  # position among all candidate sentences (citation order, then text order)


def sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def pick_sentences(question: str, passages: list[str], max_sentences: int = 3, max_chars: int = 300) -> list[Sentence]:
    """Score every sentence of every passage by the question bigrams it shares (earlier citations win
    ties) and keep the best few that clear half the best score."""
    q = bigrams(question)
    if not q:
        return []
    cands: list[Sentence] = []
    order = 0
    for n, passage in enumerate(passages, start=1):
        for sent in sentences(passage):
            shared = q & bigrams(sent)
            if shared:
                rank_weight = 1.0 / (1.0 + 0.15 * (n - 1))
                cands.append(Sentence(n, sent, len(shared) * rank_weight, order))
            order += 1
    if not cands:
        return []
    cands.sort(key=lambda c: (-c.score, c.order))
    best = cands[0].score
    chosen: list[Sentence] = []
    total = 0
    seen: set[str] = set()
    for c in cands:
        if len(chosen) >= max_sentences or c.score < 0.5 * best:
            break
        key = normalize(c.text)
        if key in seen:
            continue
        if total + len(c.text) > max_chars and chosen:
            continue
        seen.add(key)
        chosen.append(c)
        total += len(c.text)
    chosen.sort(key=lambda c: c.order)
    return chosen


def compose(chosen: list[Sentence]) -> str:
    return "".join(f"{c.text}[{c.citation}]" for c in chosen)
