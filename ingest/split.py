"""Split a document into overlapping passages that point into its text by offsets.

Cut points are scored by kind (paragraph break < sentence end < comma < space < anything) and by
distance from the target size; a cut never lands inside a number when any other cut is possible.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from core.zh import CN_NUMERALS, SENTENCE_END
from ingest.headings import find_headings
from ingest.model import Document, Passage

_DIGITS = "0123456789０１２３４５６７８９"
_NUMBER_INNER = ".,．:：/%％‰"

# Cut positions p (a passage ends at p, exclusive), by kind, with the cost of each kind.
_PARAGRAPH = re.compile(r"(?=\n)")
_SENTENCE = SENTENCE_END  # after a run of sentence ends and the closing quotes/brackets that follow
_COMMA = re.compile(r"[，、,：:](?![，、,：:])")
_SPACE = re.compile(r"(?=[ \t\u3000])")
_KINDS: list[tuple[re.Pattern[str], float]] = [
    (_PARAGRAPH, 0.0),
    (_SENTENCE, 0.25),
    (_COMMA, 0.6),
    (_SPACE, 0.9),
]
_ANY_COST = 1.2
_NUMBER_SEARCH = 40  # how far from the target a hard cut looks for a position outside a number
_BEYOND_COST = 0.3  # extra cost for cuts beyond 1.5 * size


def _is_digit(ch: str) -> bool:
    return ch in _DIGITS


def _numberish(ch: str) -> bool:
    return ch in _DIGITS or ch in CN_NUMERALS


def inside_number(text: str, p: int) -> bool:
    """Would cutting at p split a number such as 134.9, 1,256, 10:30, 5%, "1 9 9 7" or 一九四九?"""
    if p <= 0 or p >= len(text):
        return False
    left, right = text[p - 1], text[p]
    if _numberish(left) and _numberish(right):
        return True
    if _is_digit(left) and right in _NUMBER_INNER:
        return True
    if left in _NUMBER_INNER + " " and right in _DIGITS and p >= 2 and _is_digit(text[p - 2]):
        return True
    return _is_digit(left) and right == " " and p + 1 < len(text) and _is_digit(text[p + 1])


def _best_cut(text: str, pos: int, lo: int, hi: int, size: int) -> int:
    """The cheapest cut position in [lo, hi] for a passage starting at pos."""
    target = pos + size
    soft_hi = pos + size + size // 2
    window = text[lo : hi + 1]
    best = -1
    best_cost = float("inf")
    for pattern, kind_cost in _KINDS:
        if kind_cost >= best_cost:
            break
        for m in pattern.finditer(window):
            p = lo + m.end()
            if p <= pos or p > hi or inside_number(text, p):
                continue
            cost = kind_cost + abs(p - target) / size + (_BEYOND_COST if p > soft_hi else 0.0)
            if cost < best_cost:
                best, best_cost = p, cost
    if best >= 0 and best_cost < _ANY_COST:
        return best
    # No natural boundary: the safe position nearest the target, else the target itself.
    target = min(max(target, lo), hi)
    for delta in range(0, min(_NUMBER_SEARCH, max(target - lo, hi - target)) + 1):
        for p in (target - delta, target + delta):
            if lo <= p <= hi and not inside_number(text, p) and not text[p - 1].isspace():
                return p
    return best if best >= 0 else target


def _next_start(text: str, pos: int, end: int, overlap: int) -> int:
    """Where the next passage starts: about `overlap` characters before `end`, at a sentence start."""
    if overlap <= 0:
        start = end
    else:
        lo = max(pos + 1, end - overlap - overlap // 2)
        hi = max(lo, end - max(1, overlap // 2))
        target = end - overlap
        start = -1
        window = text[lo - 1 : hi]
        for pattern in (_PARAGRAPH, _SENTENCE, _COMMA, _SPACE):
            candidates = [lo - 1 + m.end() for m in pattern.finditer(window)]
            candidates = [p for p in candidates if lo <= p <= hi and not inside_number(text, p)]
            if candidates:
                start = min(candidates, key=lambda p: abs(p - target))
                break
        if start < 0:
            start = max(pos + 1, min(target, end - 1))
            while start > pos + 1 and inside_number(text, start) and end - start < 2 * overlap:
                start -= 1
    n = len(text)
    while start < n and text[start].isspace():
        start += 1
    return start


def split_text(text: str, size: int = 250, overlap: int = 50) -> list[tuple[int, int]]:
    """(start, end) spans over `text`; see split_document."""
    if size < 1:
        raise ValueError("size must be positive")
    overlap = max(0, min(overlap, size // 2))
    hard_max = 2 * size
    n = len(text)
    last = n
    while last > 0 and text[last - 1].isspace():
        last -= 1
    pos = 0
    while pos < last and text[pos].isspace():
        pos += 1
    spans: list[tuple[int, int]] = []
    prev_end = pos
    while pos < last:
        if last - pos <= size + size // 2:
            spans.append((pos, last))
            break
        lo = max(pos + max(1, size // 2), prev_end + 1)
        hi = min(pos + hard_max, last)
        end = _best_cut(text, pos, lo, hi, size)
        while end > pos + 1 and text[end - 1].isspace():
            end -= 1
        if end <= prev_end:  # never go backwards
            end = min(prev_end + 1, last)
        spans.append((pos, end))
        if end >= last:
            break
        prev_end = end
        pos = _next_start(text, pos, end, overlap)
    return spans


def _spans(doc: Document, size: int, overlap: int) -> list[tuple[int, int]]:
    """The passages' spans: over the whole text, or page by page for a paged document."""
    if not doc.page_starts:
        return split_text(doc.text, size, overlap)
    ends = [*doc.page_starts[1:], len(doc.text)]
    return [(a + start, a + end) for a, b in zip(doc.page_starts, ends, strict=True)
            for start, end in split_text(doc.text[a:b], size, overlap)]


def split_document(doc: Document, size: int = 250, overlap: int = 50) -> list[Passage]:
    """Passages of about `size` characters (at most 2 * size) sharing about `overlap` characters.

    `Passage.text == doc.text[start:end]` always; together the passages cover every non-whitespace
    character; none starts or ends with whitespace. `section` is the nearest heading above the
    passage or within its first third; `page` the 1-based page of a paged document (pdf, ofd, scans;
    0 without pages): each page is split on its own, so a passage never runs across a page break.
    """
    text = doc.text
    heading_starts, heading_labels = find_headings(text)
    passages: list[Passage] = []
    for index, (start, end) in enumerate(_spans(doc, size, overlap)):
        # A heading in the first third (typically just after the overlap with the previous passage)
        # names the passage's section better than the one above its first character.
        h = bisect_right(heading_starts, start + (end - start) // 3) - 1
        page = bisect_right(doc.page_starts, start) if doc.page_starts else 0
        passages.append(
            Passage(
                doc_id=doc.doc_id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                section=heading_labels[h] if h >= 0 else "",
                page=max(page, 1) if doc.page_starts else 0,
            )
        )
    return passages
