"""Hybrid retrieval: BM25 and dense ranks fused, nudged by what the question says about years and titles,
then shaped into citable passages (neighbouring hits merged, a little context on each side)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ingest.normalize import normalize
from speechqa.settings import Settings
from vectorstore.archive import Archive
from vectorstore.keyword import KeywordIndex, tokenize
from vectorstore.query import QueryInfo, analyse, document_year

Mode = Literal["hybrid", "keyword", "dense"]
_SENT_END = re.compile(r"[。！？；!?;\n]")


@dataclass
class Hit:
    """One retrieved passage, possibly widened by merged neighbours and context."""

    doc_id: str
    start: int  # offsets of the shown text in the cleaned document
    end: int
    hit_start: int  # offsets of the retrieved passage(s) themselves
    hit_end: int
    score: float
    section: str = ""
    page: int = 0
    text: str = ""
    keyword_score: float = 0.0
    dense_similarity: float = 0.0
    passage_ids: list[str] = field(default_factory=list)


@dataclass
class DocMeta:
    doc_id: str
    sha256: str
    title: str
    year: int | None
    title_norm: str


@dataclass
class Retrieval:
    hits: list[Hit]
    info: QueryInfo
    tokens: list[str]
    ms: float


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
                rows = self.archive.catalog.documents(self.archive.collection)
                self._meta = {
                    r.doc_id: DocMeta(r.doc_id, r.sha256, r.title, document_year(r.date, r.title), normalize(r.title))
                    for r in rows
                }
                self._texts = self.archive.catalog.texts(self.archive.collection)
                self._meta_gen = keyword.generation
            return self._meta, self._texts

    def metadata_match(self, info: QueryInfo, meta: DocMeta) -> float:
        """1 when the question names the document's year; a little when it names the year before (a report
        looks back on the previous year); negative when it names only other years."""
        if not info.years or meta.year is None:
            return 0.0
        if meta.year in info.years:
            return 1.0
        if meta.year - 1 in info.years:
            return 0.3
        return -0.5

    def search(
        self, question: str, k: int | None = None, where: dict[str, str] | None = None, mode: Mode = "hybrid"
    ) -> Retrieval:
        t0 = time.perf_counter()
        s = self.settings
        k = k or s.top_k
        info = analyse(question)
        keyword = self.archive.keyword()
        metas, texts = self._docs(keyword)
        allowed_docs = self._filter(metas, where)
        tokens = tokenize(info.expanded)

        fused: dict[str, float] = {}
        kw_scores: dict[str, float] = {}
        dense_sims: dict[str, float] = {}
        if mode in ("hybrid", "keyword"):
            allowed = None
            if allowed_docs is not None:
                allowed = np.fromiter((r.doc_id in allowed_docs for r in keyword.rows), bool, len(keyword.rows))
            for rank, h in enumerate(keyword.search(tokens, s.keyword_depth, allowed)):
                pid = keyword.rows[h.row].passage_id
                kw_scores[pid] = h.score
                fused[pid] = fused.get(pid, 0.0) + s.keyword_weight / (s.rrf_k + rank + 1)
        if mode in ("hybrid", "dense"):
            qvec = self.archive.embedder.embed_query(question)
            chroma_where = None
            if allowed_docs is not None:
                chroma_where = {"doc_id": {"$in": sorted(allowed_docs)}} if allowed_docs else {"doc_id": "\0"}
            rank = 0
            for h in self.archive.dense.query(qvec, s.dense_depth, chroma_where):
                meta = metas.get(h.doc_id)
                if meta is None or meta.sha256 != h.sha256 or h.passage_id not in keyword.position:
                    continue  # a document being replaced or removed right now: not citable
                dense_sims[h.passage_id] = h.similarity
                fused[h.passage_id] = fused.get(h.passage_id, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
                rank += 1

        scale = (s.keyword_weight + s.dense_weight) / (s.rrf_k + 1)
        scored: list[tuple[float, str]] = []
        for pid, base in fused.items():
            row = keyword.rows[keyword.position[pid]]
            meta = metas.get(row.doc_id)
            boost = self.metadata_match(info, meta) if meta else 0.0
            scored.append((base + s.metadata_boost * scale * boost, pid))
        scored.sort(key=lambda x: -x[0])

        hits = self._shape(scored, keyword, texts, k, kw_scores, dense_sims)
        return Retrieval(hits, info, tokens, (time.perf_counter() - t0) * 1000)

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
        """Top passages into at most k citations: a hit next to one already taken widens it instead."""
        s = self.settings
        hits: list[Hit] = []
        per_doc: dict[str, int] = {}
        for score, pid in scored:
            row = keyword.rows[keyword.position[pid]]
            merged = False
            for h in hits:
                if h.doc_id == row.doc_id and row.start <= h.hit_end + 1 and row.end >= h.hit_start - 1:
                    if (max(h.hit_end, row.end) - min(h.hit_start, row.start)) <= s.max_citation_chars:
                        h.hit_start, h.hit_end = min(h.hit_start, row.start), max(h.hit_end, row.end)
                        h.passage_ids.append(pid)
                    merged = True
                    break
            if merged:
                continue
            if len(hits) >= k:
                continue
            if per_doc.get(row.doc_id, 0) >= s.max_hits_per_doc:
                continue
            per_doc[row.doc_id] = per_doc.get(row.doc_id, 0) + 1
            hits.append(
                Hit(
                    doc_id=row.doc_id, start=row.start, end=row.end, hit_start=row.start, hit_end=row.end,
                    score=score, section=row.section, page=row.page,
                    keyword_score=kw_scores.get(pid, 0.0), dense_similarity=dense_sims.get(pid, 0.0),
                    passage_ids=[pid],
                )
            )
        for h in hits:
            text = texts.get(h.doc_id, "")
            h.start, h.end = widen(text, h.hit_start, h.hit_end, s.context_chars)
            h.text = text[h.start : h.end]
        return hits


def widen(text: str, start: int, end: int, chars: int) -> tuple[int, int]:
    """Extend [start, end) by up to `chars` on each side, stopping at a sentence end where there is one."""
    if chars <= 0:
        return start, end
    lo = max(0, start - chars)
    stops = list(_SENT_END.finditer(text[lo:start]))
    new_start = lo + stops[-1].end() if stops and lo > 0 else lo
    hi = min(len(text), end + chars)
    right = text[end:hi]
    ends = list(_SENT_END.finditer(right))
    new_end = end + ends[-1].end() if ends and hi < len(text) else hi
    while new_start < start and text[new_start].isspace():
        new_start += 1
    while new_end > end and text[new_end - 1].isspace():
        new_end -= 1
    return new_start, new_end
