"""Near-duplicate passages: the same text under two paths, or re-published with another header line.

The test: character 5-gram shingles of the squashed text (`core.zh.squash`: normalised, no whitespace),
Jaccard similarity at least `THRESHOLD`, and no contradicting figures. Shingles rather than SimHash: the
passages are short (about 250 characters), there are at most a few dozen per query, and a set intersection
is exact and fast enough (microseconds), with nothing to tune but one threshold.

Why these numbers: the passage splitter cuts at paragraph ends, so a copy with an added or changed header line
is cut into the same passages after the first one (Jaccard 1.0), and the first one still shares most of its
shingles (0.78 to 0.99 with a one-line header). Two documents sharing one common sentence share a small part
of a 250-character passage (well under 0.5). A figure changed between two versions (每小时6元 / 9元, next
year's report on the same template) is a different statement, not a copy: when each text states a number the
other does not, they are never near-duplicates, however similar the words. Over the shared corpus (12,433
passages) this finds two pairs across documents, both real copies: a work report's closing thanks repeated the
next year, and a speech passage quoted whole in a later article.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.zh import CN_NUMERALS, squash

SHINGLE = 5  # characters per shingle
THRESHOLD = 0.8  # Jaccard similarity of the shingle sets from which two passages are copies
# Once the citations are full, only candidates among the top this many are still checked, to name their copies
# (a copy scores as its original does, so it ranks next to it): about 20 fingerprints per query, ~0.4 ms each.
COPY_DEPTH = 20
_NUMBER = re.compile(rf"[0-9]+(?:\.[0-9]+)?|[{CN_NUMERALS}]+")


@lru_cache(maxsize=1024)  # about 30 kB per passage: 30 MB at most
def fingerprint(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(shingles, numbers) of a passage's text; cached by text, so a passage seen again costs a lookup."""
    flat = squash(text)
    if len(flat) <= SHINGLE:
        shingles = frozenset([flat]) if flat else frozenset()
    else:
        shingles = frozenset(flat[i : i + SHINGLE] for i in range(len(flat) - SHINGLE + 1))
    return shingles, frozenset(_NUMBER.findall(flat))


def near_duplicate(a: str, b: str, threshold: float = THRESHOLD) -> bool:
    """True when `a` and `b` are the same passage: shingle Jaccard >= threshold and no figure of one
    contradicted by the other (a number only one of them states, as a header's date, is allowed)."""
    (sa, na), (sb, nb) = fingerprint(a), fingerprint(b)
    if not sa or not sb:
        return False
    small, large = sorted((len(sa), len(sb)))
    if small < threshold * large:  # Jaccard <= |small| / |large|: no intersection needed
        return False
    if (na - nb) and (nb - na):
        return False
    return len(sa & sb) / len(sa | sb) >= threshold
