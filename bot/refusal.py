"""Deciding that the archive does not hold the answer.

Two checks on the top passages found:
- specifics: what the question pins down exactly (a year, "第五次会议", "十七大", "十九届五中全会") must be
  mentioned by a cited source; similar words about another year or session do not answer it;
- coverage: weight each key term of the question by its rarity in the archive (IDF over passages) and ask
  what share of that weight the top passages contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.zh import CN_NUMERALS, congresses, holds, npc_sessions, plenums, squash, years_in
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
    terms = key_terms(tokens, stats.df)  # real words only: a segmentation accident is no rare term
    if not terms:
        return Coverage(1.0, [], [])
    haystack = squash("".join(passages))
    total = found = 0.0
    missing = []
    for t in terms:
        w = stats.idf(t)
        total += w
        if holds(haystack, t):
            found += w
        else:
            missing.append(t)
    return Coverage(found / total if total else 1.0, missing, terms)


_ORDINAL = re.compile(rf"第[{CN_NUMERALS}0-9]+[次届号期]|(?<![第{CN_NUMERALS}])[{CN_NUMERALS}]{{1,3}}届")


@dataclass
class Specific:
    """Something a question pins down exactly (a year, a session, a congress): a source that does not
    mention it is about something else, however similar its words."""

    label: str
    forms: list[str]  # squashed strings, any of which satisfies it
    years: tuple[int, ...] = ()  # a year (or an NPC session's years): a source of one of them satisfies it too


def specifics(question: str) -> list[Specific]:
    out = [Specific(str(y), [], (y,)) for y in years_in(question)]
    # an NPC session: the year it met (the 1964 report never says "三届") or its name however written
    sessions = npc_sessions(question)
    out += [Specific(s.label, [squash(f) for f in s.forms], s.years) for s in sessions
            if not set(s.years) <= set(years_in(question))]
    plenary = plenums(question)  # "十九届五中全会": not any meeting of the 十九届
    out += [Specific(p.label, [squash(f) for f in p.forms]) for p in plenary]
    for m in _ORDINAL.finditer(question):
        if not any(m.group(0) in s.label for s in [*sessions, *plenary]):
            out.append(Specific(m.group(0), [squash(m.group(0))]))
    for c in congresses(question):
        out.append(Specific(c.short, [squash(c.short), squash(c.full)]))
    return out


def satisfies(spec: Specific, text: str, heading: str, doc_year: int | None) -> bool:
    """Does a cited source (its passage text, its title and meeting, its year) mention the specific?"""
    if spec.years and (doc_year in spec.years or set(spec.years) & set(years_in(text) + years_in(heading))):
        return True
    hay = squash(heading) + squash(text)
    return any(holds(hay, f) for f in spec.forms)
