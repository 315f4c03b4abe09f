"""Citations that hold what an answer took from them.

An extractive answer may take units from outside its citation's passage: the whole first-ranked document is
read when its passages do not answer, and a list runs on past the passage it starts in. Each [n] must still
open a passage that shows the unit, so the citations are redrawn around the units (`anchor`):
- a unit another citation's passage holds is cited to that one;
- a citation none of whose units lies in its passage cites the passage around them instead (highlighted);
- one with units inside and outside grows to hold them all, up to `limit` characters;
- units farther away get a citation of their own, numbered after the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.types import Citation, Unit
from vectorstore.retrieval import Hit

PassageAt = Callable[[str, int, int], Hit]  # (doc_id, start, end) -> the passage around start..end, as cited


def _inside(c: Citation, u: Unit) -> bool:
    return c.doc_id == u.doc_id and c.start <= u.start and u.end <= c.end


def _runs(units: list[Unit], mine: list[int], limit: int) -> list[list[int]]:
    """The units (indexes, by position) in runs that fit in one citation of `limit` characters."""
    groups: list[list[int]] = []
    for i in sorted(mine, key=lambda i: units[i].start):
        if groups and units[i].end - units[groups[-1][0]].start <= limit:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def anchor(citations: list[Citation], units: list[Unit], texts: dict[str, str], passage_at: PassageAt,
           limit: int) -> tuple[list[Citation], list[Unit]]:
    """The citations and units redrawn so that every unit lies in the passage its [n] cites (see above).
    `citations[n - 1]` is citation n; the inputs are not changed."""
    out = list(citations)
    units = list(units)
    for i, u in enumerate(units):
        if not _inside(citations[u.n - 1], u):
            holder = next((c for c in citations if _inside(c, u)), None)
            if holder is not None:
                units[i] = dataclasses.replace(u, n=holder.n)
    for c in citations:
        mine = [i for i, u in enumerate(units) if u.n == c.n]
        if all(_inside(c, units[i]) for i in mine):
            continue
        groups = _runs(units, mine, limit)
        home = next((g for g in groups if any(_inside(c, units[i]) for i in g)), None)
        away: list[list[int]] = []
        for g in groups:
            lo, hi = min(units[i].start for i in g), max(units[i].end for i in g)
            if g is home and max(hi, c.end) - min(lo, c.start) <= limit:
                a, b = min(lo, c.start), max(hi, c.end)
                out[c.n - 1] = dataclasses.replace(c, start=a, end=b, text=texts.get(c.doc_id, "")[a:b])
            elif g is home:
                away.append([i for i in g if not _inside(c, units[i])])
            else:
                away.append(g)
        for k, g in enumerate(x for x in away if x):
            lo, hi = min(units[i].start for i in g), max(units[i].end for i in g)
            h = passage_at(c.doc_id, lo, hi)
            n = c.n if home is None and k == 0 else len(out) + 1
            moved = dataclasses.replace(c, n=n, text=h.text, start=h.start, end=h.end, section=h.section,
                                        page=h.page, hit_start=h.hit_start, hit_end=h.hit_end, copies=[])
            if n == c.n:
                out[n - 1] = moved
            else:
                out.append(moved)
            for i in g:
                units[i] = dataclasses.replace(units[i], n=n)
    return out, units
