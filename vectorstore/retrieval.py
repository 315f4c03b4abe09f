"""Hybrid retrieval: BM25 and dense ranks fused, nudged by what the question says about years and titles,
then shaped into citable passages (neighbouring hits merged, a little context on each side)."""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.settings import Settings
from core.zh import holds, normalize, sentence_breaks, squash, years_in
from vectorstore.archive import Archive
from vectorstore.dedup import COPY_DEPTH, near_duplicate
from vectorstore.keyword import KeywordIndex, tokenize
from vectorstore.query import QueryInfo, analyse, document_year, key_terms, question_bigrams

# "keyword"/"dense": one ranking only, with the year/title focusing and boosts; "bm25"/"vector": the plain
# component (one ranking, no focusing, no boosts), the baseline every other part is judged against.
Mode = Literal["hybrid", "keyword", "dense", "bm25", "vector"]
_PLAIN = {"bm25": "keyword", "vector": "dense"}
EXACT_MAX_PASSAGES = 4000  # a filtered dense search over at most this many passages is done exactly, in memory


@dataclass
class Hit:
    """One retrieved passage, possibly widened by merged neighbours and context."""

    doc_id: str
    start: int  # offsets of the shown text in the cleaned document
    end: int
    hit_start: int  # offsets of the best retrieved passage (what a viewer highlights)
    hit_end: int
    score: float
    section: str = ""
    page: int = 0
    text: str = ""
    keyword_score: float = 0.0
    dense_similarity: float = 0.0
    passage_ids: list[str] = field(default_factory=list)
    span_start: int = 0  # offsets of all merged passages
    span_end: int = 0
    copies: list[str] = field(default_factory=list)  # other documents holding a near-duplicate of this passage


@dataclass
class DocMeta:
    doc_id: str
    sha256: str
    title: str
    year: int | None
    title_norm: str  # squashed (normalised, no whitespace) title and meeting


@dataclass
class Retrieval:
    hits: list[Hit]
    info: QueryInfo
    tokens: list[str]
    ms: float
    keyword_docs: list[str] = field(default_factory=list)  # top documents of the plain keyword ranking
    dense_docs: list[str] = field(default_factory=list)  # top documents of the plain dense ranking
    year_support: float | None = None  # best keyword score on the named years / best overall (None: no year)


class HybridRetriever:
    """Reads one archive. Cheap per query: no model loads, no index rebuilds (only on a new generation)."""

    def __init__(self, archive: Archive, settings: Settings) -> None:
        self.archive = archive
        self.settings = settings
        self._meta: dict[str, DocMeta] = {}
        self._texts: dict[str, str] = {}
        self._meta_gen = -1
        self._lock = threading.Lock()

    def _docs(self, keyword: KeywordIndex) -> tuple[dict[str, DocMeta], dict[str, str]]:
        with self._lock:
            if self._meta_gen != keyword.generation:
                rows, texts = self.archive.catalog.snapshot(self.archive.collection)
                self._meta = {
                    r.doc_id: DocMeta(r.doc_id, r.sha256, r.title, document_year(r.date, r.title),
                                     squash(f"{r.title} {r.meeting}"))
                    for r in rows
                }
                self._texts = texts
                self._meta_gen = keyword.generation
            return self._meta, self._texts

    def texts(self) -> dict[str, str]:
        """Every document's cleaned text as of the current generation (cached, shared with the caller)."""
        return self._docs(self.archive.keyword())[1]

    def passage_at(self, doc_id: str, start: int, end: int) -> Hit:
        """The cited text around `start..end` of a document (what an answer took from it outside the passages
        retrieved): highlighted itself, with the context a retrieved hit gets and the section and page of the
        passage it begins in."""
        keyword = self.archive.keyword()
        text = self._docs(keyword)[1].get(doc_id, "")
        rows = [keyword.rows[i] for i in keyword.rows_in(doc_id)]
        row = next((r for r in rows if r.start <= start < r.end), None)
        lo, hi = widen(text, start, end, self.settings.context_chars)
        return Hit(doc_id=doc_id, start=lo, end=hi, hit_start=start, hit_end=end, score=0.0,
                   section=row.section if row else "", page=row.page if row else 0, text=text[lo:hi],
                   span_start=start, span_end=end)

    def metadata_match(self, info: QueryInfo, meta: DocMeta) -> float:
        """1 when the question names the document's year; `year_after_match` when it names the year before
        (a report gives last year's results); `other_year_match` (negative) when it names only other years."""
        if not info.years or meta.year is None:
            return 0.0
        if meta.year in info.years:
            return 1.0
        if meta.year - 1 in info.years:
            return self.settings.year_after_match
        return self.settings.other_year_match

    def title_match(self, info: QueryInfo, metas: dict[str, DocMeta], keyword: KeywordIndex) -> dict[str, float]:
        """Per document, the share of the question's title-worthy terms its title (or meeting) holds.

        Title-worthy: rare in the passages (a place, a congress, a named meeting, not "会议" or "工作"),
        or a spelled-out alias. A term's weight is its rarity among titles."""
        limit = self.settings.title_term_max_df * len(keyword.rows)
        terms = [squash(t) for t in key_terms(tokenize(info.text), keyword.df) if keyword.df.get(t, 0) <= limit]
        terms += [squash(p) for p in info.phrases]
        n = len(metas)
        if not terms or not n:
            return {}
        weights: dict[str, float] = {}
        for t in set(terms):
            df = sum(1 for m in metas.values() if holds(m.title_norm, t))
            if df:
                weights[t] = math.log(1 + n / df)
        total = sum(weights.values())
        if not total:
            return {}
        out = {}
        for d, m in metas.items():
            got = sum(w for t, w in weights.items() if holds(m.title_norm, t))
            if got:
                out[d] = got / total
        return out

    def search(
        self, question: str, k: int | None = None, where: dict[str, str] | None = None, mode: Mode = "hybrid",
        lag: int = 0,
    ) -> Retrieval:
        """`lag`: read "今年" as that many years before today (`vectorstore.query.relative_years`)."""
        t0 = time.perf_counter()
        s = self.settings
        k = k or s.top_k
        plain_only = mode in _PLAIN
        mode = _PLAIN.get(mode, mode)  # type: ignore[assignment]
        info = analyse(question, lag=lag)
        keyword = self.archive.keyword()
        metas, texts = self._docs(keyword)
        allowed_docs = self._filter(metas, where)
        tokens = tokenize(info.text if plain_only else info.expanded)

        titles = {} if plain_only else self.title_match(info, metas, keyword)
        focus = [] if plain_only else self._focus(info, metas, titles, allowed_docs)
        kw_scores: dict[str, float] = {}
        dense_sims: dict[str, float] = {}
        lists: list[tuple[str, float, list[str]]] = []  # (side, weight, ranked passage ids)
        qvec = self.archive.embedder.embed_query(question) if mode in ("hybrid", "dense") else None
        searches: list[tuple[set[str] | None, int | None]] = [(allowed_docs, None)]
        searches += [(docs, s.focus_depth) for docs in focus]
        plain: dict[str, list[str]] = {}
        sides: dict[str, list[tuple[str, float, list[str]]]] = {"keyword": [], "dense": []}
        for docs, depth in searches:
            if mode in ("hybrid", "keyword"):
                ranked = self._keyword(keyword, tokens, docs, depth or s.keyword_depth, kw_scores)
                lists.append(("keyword", s.keyword_weight, ranked))
                sides["keyword"].append(("keyword", s.keyword_weight, ranked))
                plain.setdefault("keyword", ranked)
            if qvec is not None:
                ranked = self._dense(keyword, metas, qvec, docs, depth or s.dense_depth, dense_sims)
                lists.append(("dense", s.dense_weight, ranked))
                sides["dense"].append(("dense", s.dense_weight, ranked))

        scored = self._fuse(lists, keyword, metas, info if not plain_only else analyse(""), titles)
        if mode == "hybrid" and s.phrase_weight:
            scored = self._phrase_rerank(scored, question, keyword, texts)
        hits = self._shape(scored, keyword, texts, k, kw_scores, dense_sims)
        return Retrieval(
            hits, info, tokens, (time.perf_counter() - t0) * 1000,
            keyword_docs=top_docs(keyword, [p for _, p in self._fuse(sides["keyword"], keyword, metas, info, titles)],
                                  s.agreement_depth),
            dense_docs=top_docs(keyword, [p for _, p in self._fuse(sides["dense"], keyword, metas, info, titles)],
                                s.agreement_depth),
            year_support=self._year_support(info, keyword, metas, texts, plain.get("keyword", []), kw_scores),
        )

    def _fuse(self, lists: list[tuple[str, float, list[str]]], keyword: KeywordIndex, metas: dict[str, DocMeta],
              info: QueryInfo, titles: dict[str, float]) -> list[tuple[float, str]]:
        """Weighted reciprocal-rank fusion of ranked lists, plus the year and title agreement boosts."""
        s = self.settings
        # "best": a passage counts once per side (keyword, dense), at its best rank in that side's lists
        # (the whole-archive search and the focused ones); "sum": once per list
        shares: dict[tuple[object, str], float] = {}
        for i, (side, weight, ranked) in enumerate(lists):
            group = side if s.focus_fusion == "best" else i
            for rank, pid in enumerate(ranked):
                share = weight / (s.rrf_k + rank + 1)
                if share > shares.get((group, pid), 0.0):
                    shares[group, pid] = share
        fused: dict[str, float] = {}
        for (_, pid), share in shares.items():
            fused[pid] = fused.get(pid, 0.0) + share
        scale = self._first_place()
        scored: list[tuple[float, str]] = []
        for pid, base in fused.items():
            row = keyword.rows[keyword.position[pid]]
            meta = metas.get(row.doc_id)
            boost = s.metadata_boost * self.metadata_match(info, meta) if meta else 0.0
            boost += s.title_boost * titles.get(row.doc_id, 0.0)
            scored.append((base + scale * boost, pid))
        scored.sort(key=lambda x: -x[0])
        return scored

    def _first_place(self) -> float:
        """The fused score of a passage ranked first by both keyword and dense search: the unit of the boosts."""
        s = self.settings
        return (s.keyword_weight + s.dense_weight) / (s.rrf_k + 1)

    def _phrase_rerank(self, scored: list[tuple[float, str]], question: str, keyword: KeywordIndex,
                       texts: dict[str, str]) -> list[tuple[float, str]]:
        """The fused top passages re-ordered by how many of the question's character bigrams each holds: of two
        passages on the same subject (last year's resolution and this year's), the one that says what the
        question says, in its words, goes first. A share of 1 is worth a first place in both rankings."""
        s = self.settings
        grams = question_bigrams(question)
        if not grams:
            return scored
        scale = self._first_place()
        head = []
        for score, pid in scored[: s.phrase_depth]:
            row = keyword.rows[keyword.position[pid]]
            text = squash(texts.get(row.doc_id, "")[row.start : row.end])
            share = sum(1 for g in grams if g in text) / len(grams)
            head.append((score + s.phrase_weight * scale * share, pid))
        head.sort(key=lambda x: -x[0])
        return head + scored[s.phrase_depth :]

    @staticmethod
    def _year_support(info: QueryInfo, keyword: KeywordIndex, metas: dict[str, DocMeta], texts: dict[str, str],
                      ranked: list[str], scores: dict[str, float]) -> float | None:
        """For a question naming years: how well the best passage about those years matches, relative to the
        best passage of any year. Near 0: the archive discusses the topic, but only for other years."""
        if not info.years or not ranked:
            return None
        best_any = scores.get(ranked[0], 0.0)
        if best_any <= 0:
            return None
        best_year = 0.0
        for pid in ranked:
            row = keyword.rows[keyword.position[pid]]
            meta = metas.get(row.doc_id)
            if (meta and meta.year in info.years) or set(years_in(texts.get(row.doc_id, "")[row.start : row.end])) & set(info.years):
                best_year = max(best_year, scores.get(pid, 0.0))
        return best_year / best_any

    def _focus(self, info: QueryInfo, metas: dict[str, DocMeta], titles: dict[str, float],
               allowed: set[str] | None) -> list[set[str]]:
        """Groups of documents the question points at, by title terms, by year, and by both, when a group is
        small: each is searched on its own too, so its best passages compete even when the whole archive
        drowns them out."""
        by_title = {d for d, share in titles.items() if share >= 0.5}
        by_year = {d for d, m in metas.items() if m.year in info.years} if info.years else set()
        groups = []
        for docs in (by_title & by_year, by_title, by_year):
            if allowed is not None:
                docs = docs & allowed
            if docs and len(docs) <= self.settings.focus_max_docs and docs not in groups:
                groups.append(docs)
        return groups

    @staticmethod
    def _keyword(keyword: KeywordIndex, tokens: list[str], docs: set[str] | None, depth: int,
                 scores: dict[str, float]) -> list[str]:
        allowed = keyword.rows_of(docs) if docs is not None else None
        ranked = []
        for h in keyword.search(tokens, depth, allowed):
            pid = keyword.rows[h.row].passage_id
            scores[pid] = h.score
            ranked.append(pid)
        return ranked

    def _dense(self, keyword: KeywordIndex, metas: dict[str, DocMeta], qvec: np.ndarray, docs: set[str] | None,
               depth: int, sims: dict[str, float]) -> list[str]:
        where = None
        if docs is not None:
            where = {"doc_id": {"$in": sorted(docs)}} if docs else {"doc_id": "\0"}
        rows = {d: keyword.rows_in(d) for d in docs or ()}
        if docs is not None and sum(len(ix) for ix in rows.values()) <= EXACT_MAX_PASSAGES:
            # a few documents (a year, a title, a filter): exact search over their vectors, fetched by id
            # and cached; Chroma's metadata filter scans the whole collection (150-300 ms at 160k passages)
            wanted = {d: (metas[d].sha256, [keyword.rows[i].passage_id for i in ix])
                      for d, ix in rows.items() if d in metas and len(ix)}
            found = self.archive.dense.query_docs(qvec, wanted, depth)
        else:
            found = self.archive.dense.query(qvec, depth, where)
        ranked = []
        for h in found:
            meta = metas.get(h.doc_id)
            if meta is None or meta.sha256 != h.sha256 or h.passage_id not in keyword.position:
                continue  # a document being replaced or removed right now: not citable
            sims[h.passage_id] = h.similarity
            ranked.append(h.passage_id)
        return ranked

    @staticmethod
    def _filter(metas: dict[str, DocMeta], where: dict[str, str] | None) -> set[str] | None:
        if not where:
            return None
        docs = set(metas)
        if where.get("year"):
            want = {int(y) for y in re.findall(r"\d{4}", str(where["year"]))}
            docs = {d for d in docs if metas[d].year in want}
        if where.get("doc"):
            docs &= {where["doc"]}
        if where.get("title"):
            needle = normalize(where["title"])
            docs = {d for d in docs if needle in metas[d].title_norm}
        return docs

    def _shape(
        self,
        scored: list[tuple[float, str]],
        keyword: KeywordIndex,
        texts: dict[str, str],
        k: int,
        kw_scores: dict[str, float],
        dense_sims: dict[str, float],
    ) -> list[Hit]:
        """Top passages into at most k citations: a hit next to one already taken widens it instead; a
        near-duplicate of a passage taken from another document (the same text under another path, a
        re-publication) only names that document in the taken hit's `copies`."""
        s = self.settings
        hits: list[Hit] = []
        per_doc: dict[str, int] = {}
        taken: dict[str, str] = {}  # passage id -> text, of every passage in `hits`
        for rank, (score, pid) in enumerate(scored):
            row = keyword.rows[keyword.position[pid]]
            merged = False
            for h in hits:
                if h.doc_id == row.doc_id and row.start <= h.span_end + 1 and row.end >= h.span_start - 1:
                    if (max(h.span_end, row.end) - min(h.span_start, row.start)) <= s.max_citation_chars:
                        h.span_start, h.span_end = min(h.span_start, row.start), max(h.span_end, row.end)
                        h.passage_ids.append(pid)
                        taken[pid] = texts.get(row.doc_id, "")[row.start : row.end]
                    merged = True
                    break
            if merged or (len(hits) >= k and rank >= COPY_DEPTH):
                continue
            passage = texts.get(row.doc_id, "")[row.start : row.end]
            original = next((h for h in hits if h.doc_id != row.doc_id
                             and any(near_duplicate(passage, taken[p]) for p in h.passage_ids)), None)
            if original is not None:
                if row.doc_id not in original.copies:
                    original.copies.append(row.doc_id)
                continue
            if len(hits) >= k:
                continue
            if per_doc.get(row.doc_id, 0) >= s.max_hits_per_doc:
                continue
            per_doc[row.doc_id] = per_doc.get(row.doc_id, 0) + 1
            taken[pid] = passage
            hits.append(
                Hit(
                    doc_id=row.doc_id, start=row.start, end=row.end, hit_start=row.start, hit_end=row.end,
                    span_start=row.start, span_end=row.end,
                    score=score, section=row.section, page=row.page,
                    keyword_score=kw_scores.get(pid, 0.0), dense_similarity=dense_sims.get(pid, 0.0),
                    passage_ids=[pid],
                )
            )
        for h in hits:
            text = texts.get(h.doc_id, "")
            h.start, h.end = widen(text, h.span_start, h.span_end, s.context_chars)
            h.text = text[h.start : h.end]
        return hits


def top_docs(keyword: KeywordIndex, ranked: list[str], n: int) -> list[str]:
    """The first n distinct documents of a ranking of passage ids."""
    out: list[str] = []
    for pid in ranked:
        doc = keyword.rows[keyword.position[pid]].doc_id
        if doc not in out:
            out.append(doc)
            if len(out) == n:
                break
    return out


def widen(text: str, start: int, end: int, chars: int) -> tuple[int, int]:
    """Extend [start, end) by up to `chars` on each side, stopping at a sentence end where there is one."""
    if chars <= 0:
        return start, end
    lo = max(0, start - chars)
    hi = min(len(text), end + chars)
    breaks = [lo + b for b in sentence_breaks(text[lo : hi + 1])]  # one more character: an end at hi counts
    left = [b for b in breaks if lo < b <= start]
    new_start = left[-1] if left and lo > 0 else lo
    right = [b for b in breaks if end < b <= hi]
    new_end = right[-1] if right and hi < len(text) else hi
    while new_start < start and text[new_start].isspace():
        new_start += 1
    while new_end > end and text[new_end - 1].isspace():
        new_end -= 1
    return new_start, new_end
