"""Deciding that the archive does not hold the answer.

The rule: weight each key term of the question by its rarity in the archive (IDF over passages) and ask
what share of that weight the top passages contain. A question about something the archive never
mentions (a meeting, a figure, an event) leaves its rarest terms uncovered and is refused.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from ingest.normalize import squash
from vectorstore.keyword import KeywordIndex

_GENERIC = frozenset(["年", "月", "日", "号", "届", "次", "第", "后", "前", "当年", "最终", "比上年", "上年", "增长", "同比"])
_NUMERIC = re.compile(r"^\d+(\.\d+)?$")


@dataclass
class Coverage:
    share: float  # IDF-weighted share of the question's key terms found in the top passages
    missing: list[str]
    terms: list[str]


class TermStats:
    """Document frequencies of tokens over a keyword index's passages (computed once per generation)."""

    def __init__(self, keyword: KeywordIndex) -> None:
        self.generation = keyword.generation
        self.n = max(1, len(keyword.rows))
        self.df: Counter[str] = Counter()
        for r in keyword.rows:
            self.df.update(set(r.tokens))

    def idf(self, term: str) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 0.5))


def key_terms(tokens: list[str]) -> list[str]:
    seen: list[str] = []
    for t in tokens:
        if t in _GENERIC or len(t) < 2 and not _NUMERIC.match(t) or t in seen:
            continue
        seen.append(t)
    return seen


def coverage(tokens: list[str], passages: list[str], stats: TermStats) -> Coverage:
    terms = key_terms(tokens)
    if not terms:
        return Coverage(1.0, [], [])
    haystack = squash("".join(passages))
    total = found = 0.0
    missing = []
    for t in terms:
        w = stats.idf(t)
        total += w
        if t in haystack:
            found += w
        else:
            missing.append(t)
    return Coverage(found / total if total else 1.0, missing, terms)
