"""Deciding that the archive does not hold the answer.

The rule: weight each key term of the question by its rarity in the archive (IDF over passages) and ask
what share of that weight the top passages contain. A question about something the archive never
mentions (a meeting, a figure, an event) leaves its rarest terms uncovered and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.normalize import squash
from vectorstore.keyword import KeywordIndex
from vectorstore.query import key_terms


@dataclass
class Coverage:
    share: float  # IDF-weighted share of the question's key terms found in the top passages
    missing: list[str]
    terms: list[str]


def coverage(tokens: list[str], passages: list[str], stats: KeywordIndex, per_passage: bool = False) -> Coverage:
    """Coverage of the question's key terms by the passages together, or (per_passage) by the best one."""
    if per_passage and passages:
        return max((coverage(tokens, [p], stats) for p in passages), key=lambda c: c.share)
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
