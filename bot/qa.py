"""The answer chain behind the CLI and the app: check the question, retrieve, decide, answer, cite."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from bot.extractive import compose, pick_sentences
from bot.refusal import coverage, satisfies, specifics
from bot.types import Answer, Citation
from ingest.model import Document
from core.settings import Settings
from vectorstore.archive import Archive
from vectorstore.catalog import DocRow, StoreError
from vectorstore.embeddings import ServiceUnavailable
from vectorstore.query import document_year
from vectorstore.retrieval import HybridRetriever, Mode, Retrieval

REFUSAL = "资料库中没有找到相关内容，无法回答这个问题。"
EMPTY_QUESTION = "请输入问题。"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_question(question: str, max_chars: int) -> tuple[str, str]:
    """(question, error): control characters dropped, whitespace folded; an error for empty or too long."""
    q = _CONTROL.sub("", unicodedata.normalize("NFC", question or ""))
    q = " ".join(q.split())
    if not q:
        return "", EMPTY_QUESTION
    if len(q) > max_chars:
        return "", f"问题太长（{len(q)} 字），请精简到 {max_chars} 字以内再提问。"
    return q, ""


class QA:
    """Loads the archive and models once; `ask` is safe to call from several threads."""

    def __init__(self, settings: Settings, collection: str | None = None, archive: Archive | None = None) -> None:
        self.settings = settings
        self.archive = archive or Archive(settings, collection)
        self.retriever = HybridRetriever(self.archive, settings)

    def retrieve(self, question: str, k: int | None = None, where: dict[str, str] | None = None,
                 mode: Mode = "hybrid") -> Retrieval:
        return self.retriever.search(question, k, where, mode)

    def doc_rows(self, retrieval: Retrieval) -> dict[str, DocRow | None]:
        """The catalog row of every document among the hits, read once per question."""
        cat, coll = self.archive.catalog, self.archive.collection
        return {d: cat.document(coll, d) for d in dict.fromkeys(h.doc_id for h in retrieval.hits)}

    def should_refuse(self, retrieval: Retrieval, rows: dict[str, DocRow | None] | None = None) -> bool:
        """True when the archive does not hold the answer. Any one of:
        - nothing was found;
        - no top passage's document mentions what the question pins down (a year, "第五次", "十七大");
        - the archive discusses the topic only for other years than the one named (year support);
        - keyword and dense search agree on no document among their top ones (each found something
          different: neither found the subject);
        - the top passages together miss most of the question's rare terms (coverage)."""
        s = self.settings
        top = retrieval.hits[: s.refusal_depth]
        if not top:
            return True
        known = rows if rows is not None else self.doc_rows(retrieval)
        rows_top = [known.get(h.doc_id) for h in top]
        headings = [f"{r.title} {r.meeting}" if r else "" for r in rows_top]
        specs = specifics(retrieval.info.text)
        if specs:
            texts = self.retriever.texts() if any(sp.year for sp in specs) else {}
            if not any(
                all(satisfies(sp, texts.get(h.doc_id, h.text) if sp.year else h.text, head,
                              document_year(r.date, r.title) if r else None) for sp in specs)
                for h, head, r in zip(top, headings, rows_top, strict=True)
            ):
                return True
        if retrieval.year_support is not None and retrieval.year_support < s.min_year_support:
            return True
        if retrieval.keyword_docs and retrieval.dense_docs and not set(retrieval.keyword_docs) & set(retrieval.dense_docs):
            return True
        views = [f"{head}\n{h.text}" for h, head in zip(top, headings, strict=True)]
        return coverage(retrieval.tokens, views, self.archive.keyword()).share < s.min_coverage

    def ask(self, question: str, k: int | None = None, where: dict[str, str] | None = None,
            mode: Mode = "hybrid", *, generate: bool = True) -> Answer:
        t0 = time.perf_counter()
        q, error = clean_question(question, self.settings.max_question_chars)
        if error:
            return Answer(question=question, answer=error, refused=True, error=error,
                          ms={"retrieve": 0.0, "total": (time.perf_counter() - t0) * 1000})
        try:
            retrieval = self.retrieve(q, k, where, mode)
        except (ServiceUnavailable, StoreError) as exc:  # a server is down or the index disk fails: say so
            ms = {"retrieve": 0.0, "total": (time.perf_counter() - t0) * 1000}
            return Answer(question=q, answer=str(exc), refused=True, error=str(exc), ms=ms)
        ms = {"retrieve": retrieval.ms}
        rows = self.doc_rows(retrieval)
        if self.should_refuse(retrieval, rows):
            ms["total"] = (time.perf_counter() - t0) * 1000
            return Answer(question=q, answer=REFUSAL, refused=True, ms=ms)
        citations = self._citations(retrieval, rows)
        chosen = pick_sentences(q, [c.text for c in citations], self.archive.keyword().idf)
        text = compose(chosen) if chosen else "以下资料可能与问题有关，请查看引文。[1]"
        ms["total"] = (time.perf_counter() - t0) * 1000
        answer = Answer(question=q, answer=text, refused=False, citations=citations, ms=ms)
        # --- issue 5: generated answers (bot.chain); checked, falls back to the extractive text above ---
        if generate and self.settings.answer_mode != "extractive":
            from bot.chain import generate_answer

            answer = generate_answer(self, answer)
        return answer

    def ask_stream(self, question: str, history: Sequence[tuple[str, str]] | None = None, k: int | None = None,
                   where: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """`ask` as events: {"type": "rewrite"|"token"|"notice", ...}, then {"type": "answer", "answer"}.
        `history` ((question, answer) pairs) makes follow-ups standalone. See `bot.chain.stream_answer`."""
        from bot.chain import stream_answer

        yield from stream_answer(self, question, history, k, where)
        # --- end issue 5 ---

    def _citations(self, retrieval: Retrieval, rows: dict[str, DocRow | None] | None = None) -> list[Citation]:
        known = rows if rows is not None else self.doc_rows(retrieval)
        out = []
        for n, h in enumerate(retrieval.hits, start=1):
            row = known.get(h.doc_id)
            out.append(
                Citation(
                    n=n, doc_id=h.doc_id, source=h.doc_id, title=row.title if row else h.doc_id,
                    date=row.date if row else "", speaker=row.speaker if row else "",
                    meeting=row.meeting if row else "", text=h.text, start=h.start, end=h.end,
                    score=round(h.score, 6), section=h.section, page=h.page,
                    hit_start=h.hit_start, hit_end=h.hit_end,
                )
            )
        return out

    def get_document(self, doc_id: str) -> Document | None:
        return self.archive.document(doc_id)

    def list_documents(self) -> list[dict[str, object]]:
        return [d.to_dict() for d in self.archive.documents()]

    def facets(self) -> dict[str, list[str]]:
        years = {document_year(d.date, d.title) for d in self.archive.documents()}
        return {"year": sorted(str(y) for y in years if y)}
