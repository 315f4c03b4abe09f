"""The answer chain behind the CLI and the app: check the question, retrieve, decide, answer, cite."""

from __future__ import annotations

import dataclasses
import re
import time
import unicodedata
from collections.abc import Iterator
from typing import Any

from bot import chain
from bot.anchor import anchor
from bot.answer import Extraction, Observer, Source, Thresholds, extract, prepare, subject_weights
from bot.question import analyse_question, events_in, places_in
from bot.refusal import coverage, satisfies, specifics
from bot.rewrite import History, rewrite_question
from bot.types import Answer, Citation, Unit
from core.settings import Settings
from core.zh import PROVINCES, squash
from ingest.model import Document
from vectorstore.archive import Archive
from vectorstore.catalog import DocRow, StoreError
from vectorstore.embeddings import ServiceUnavailable
from vectorstore.keyword import tokenize
from vectorstore.query import QueryInfo, document_year, key_terms, question_bigrams
from vectorstore.retrieval import HybridRetriever, Mode, Retrieval

REFUSAL = "资料库中没有找到相关内容，无法回答这个问题。"
REFUSAL_NAMED = REFUSAL + "（资料库中没有关于“{what}”的资料。）"
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


def assumed_year_note(info: QueryInfo) -> str:
    """How the question's "今年/去年…" were read: against today's year, or "今年" as last year when the archive
    holds nothing of this year on the topic (`QA.retrieve`)."""
    said = [(w, y) for w, y in info.relative.items() if w in _SAID]
    if not said:
        return ""
    notes = [
        f"资料库中没有{info.this_year}年的相关资料，“{w}”按{y}年理解" if _SAID[w] == 0 and y < info.this_year
        else f"“{w}”按{y}年理解"
        for w, y in said
    ]
    return "\n（" + "；".join(notes) + "。）"


_SAID = {"今年": 0, "去年": -1, "明年": 1, "前年": -2}  # the relative words a note names (not 本年度 beside 本年)


def _years_before(answer: Answer, year: int) -> bool:
    """Every document the answer takes its text from is of a year before `year`."""
    cited = {c.doc_id: document_year(c.date, c.title) for c in answer.citations}
    years = [cited.get(u.doc_id) for u in answer.units]
    return bool(years) and all(y is not None and y < year for y in years)


class QA:
    """Loads the archive and models once; `ask` is safe to call from several threads."""

    def __init__(self, settings: Settings, collection: str | None = None, archive: Archive | None = None) -> None:
        self.settings = settings
        self.archive = archive or Archive(settings, collection)
        self.retriever = HybridRetriever(self.archive, settings)

    def warm(self) -> None:
        """Load the indexes and analyse every document once (`bot.answer.prepare`), so that the first
        questions are as quick as the later ones."""
        prepare(self.retriever.texts().values())

    def retrieve(self, question: str, k: int | None = None, where: dict[str, str] | None = None,
                 mode: Mode = "hybrid") -> Retrieval:
        """The hybrid search. A question that says "今年" (and names no year) about a topic the archive holds
        nothing of this year on yet is read as asking about last year, when the archive has that year
        (documents are filed after the fact); the answer's note says so (`assumed_year_note`). The hits are
        then ordered for what the question names: a province, a meeting or a resolution."""
        retrieval = self.retriever.search(question, k, where, mode)
        if self._this_year_as_asked(retrieval) and self._unsupported(retrieval):
            earlier = self.retriever.search(question, k, where, mode, lag=1)
            if not self._unsupported(earlier):
                retrieval = earlier
        if not retrieval.hits:
            return retrieval
        rows = self.doc_rows(retrieval)
        return self._named_event_first(self._other_provinces_last(retrieval, rows), rows)

    @staticmethod
    def _named_event_first(retrieval: Retrieval, rows: dict[str, DocRow | None]) -> Retrieval:
        """A question naming a meeting ("2017年底召开的中央经济工作会议…") or a resolution is about it: passages
        of documents whose title or meeting names it come first, in their order."""
        events = [squash(e) for e in events_in(retrieval.info.text)]
        if "决议" in retrieval.info.text:
            events.append("决议")  # "批准政府工作报告的决议": the resolution, not the report it approves
        if not events:
            return retrieval

        def names(doc_id: str) -> bool:
            row = rows.get(doc_id)
            return row is not None and all(e in squash(f"{row.title}{row.meeting}") for e in events)

        hits = sorted(retrieval.hits, key=lambda h: not names(h.doc_id))
        return retrieval if hits == retrieval.hits else dataclasses.replace(retrieval, hits=hits)

    @staticmethod
    def _other_provinces_last(retrieval: Retrieval, rows: dict[str, DocRow | None]) -> Retrieval:
        """A question about a province ("海南省2026年…") is not answered by another province's report: passages
        of documents whose title names only other provinces follow the rest, in their order."""
        asked = [p for p in PROVINCES if p in squash(retrieval.info.text)]
        if not asked:
            return retrieval

        def elsewhere(doc_id: str) -> bool:
            row = rows.get(doc_id)
            title = squash(f"{row.title}{row.meeting}") if row else ""
            return not any(p in title for p in asked) and any(p in title for p in PROVINCES)

        hits = sorted(retrieval.hits, key=lambda h: elsewhere(h.doc_id))  # stable: the order within each kept
        return retrieval if hits == retrieval.hits else dataclasses.replace(retrieval, hits=hits)

    def _unsupported(self, retrieval: Retrieval) -> bool:
        """The archive discusses the topic, but not for the years asked."""
        return retrieval.year_support is not None and retrieval.year_support < self.settings.min_year_support

    def doc_rows(self, retrieval: Retrieval) -> dict[str, DocRow | None]:
        """The catalog row of every document among the hits, read once per question."""
        cat, coll = self.archive.catalog, self.archive.collection
        return {d: cat.document(coll, d) for d in dict.fromkeys(h.doc_id for h in retrieval.hits)}

    def should_refuse(self, retrieval: Retrieval, rows: dict[str, DocRow | None] | None = None) -> bool:
        return self.refusal_reason(retrieval, rows) is not None

    def refusal_reason(self, retrieval: Retrieval, rows: dict[str, DocRow | None] | None = None) -> str | None:
        """Why the archive does not hold the answer (Chinese, for the user), or None when it may. Any one of:
        - nothing was found;
        - no top passage's document mentions what the question pins down (a year, "第五次", "十七大");
        - a place the question names is in no top source (its title, meeting or passage);
        - the archive discusses the topic only for other years than the one named (year support; the
          refusal names the year, and says how "今年" was read);
        - the top passages together miss most of the question's rare terms (coverage).
        Whether the passages hold an answer of the kind asked is decided after, by `bot.answer.extract`."""
        s = self.settings
        top = retrieval.hits[: s.refusal_depth]
        if not top:
            return REFUSAL
        known = rows if rows is not None else self.doc_rows(retrieval)
        rows_top = [known.get(h.doc_id) for h in top]
        headings = [f"{r.title} {r.meeting}" if r else "" for r in rows_top]
        specs = specifics(retrieval.info.text)
        if specs:
            texts = self.retriever.texts() if any(sp.years for sp in specs) else {}
            if not any(
                all(satisfies(sp, texts.get(h.doc_id, h.text) if sp.years else h.text, head,
                              document_year(r.date, r.title) if r else None) for sp in specs)
                for h, head, r in zip(top, headings, rows_top, strict=True)
            ):
                return REFUSAL_NAMED.format(what="、".join(sp.label for sp in specs))
        places = places_in(retrieval.info.text)
        if places:  # any cited source will do: a province's report often ranks below the national one
            every = [known.get(h.doc_id) for h in retrieval.hits]
            views = [squash(f"{r.title} {r.meeting}{h.text}" if r else h.text) for h, r in zip(retrieval.hits, every,
                                                                                            strict=True)]
            missing = [p for p in places if not any(squash(p) in v for v in views)]
            if missing:
                return REFUSAL_NAMED.format(what="、".join(missing))
        if self._unsupported(retrieval):
            # say which year was looked for ("今年" is today's year: the note says so)
            years = "、".join(f"{y}年" for y in retrieval.info.years)
            return REFUSAL_NAMED.format(what=years) + assumed_year_note(retrieval.info).strip()
        views = [f"{head}\n{h.text}" for h, head in zip(top, headings, strict=True)]
        if coverage(retrieval.tokens, views, self.archive.keyword()).share < s.min_coverage:
            return REFUSAL
        return None

    def extract(self, question: str, retrieval: Retrieval, citations: list[Citation],
                observe: Observer | None = None) -> Extraction:
        """The answer units of the asked kind in the cited documents (`bot.answer`; `observe`: see there)."""
        keyword = self.archive.keyword()
        sources = [Source(c.n, c.doc_id, c.start, c.end, c.hit_start, c.hit_end, c.title, c.speaker,
                          document_year(c.date, c.title), c.meeting, c.date) for c in citations]
        weights = subject_weights(key_terms(tokenize(question), keyword.df, question), keyword.idf)  # not the aliases
        s = self.settings
        limits = Thresholds(about=s.answer_about, about_list=s.answer_about_list, top_about=s.answer_top_about)
        return extract(analyse_question(question, retrieval.info.named_years), sources, self.retriever.texts(),
                       weights, question_bigrams(question), limits, observe)

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
        answer = self._read(q, retrieval, t0)
        if self._this_year_as_asked(retrieval) and (answer.refused or _years_before(answer, retrieval.info.this_year)):
            # nothing of the kind asked in this year's documents yet: last year's, said so
            earlier = self._read(q, self.retriever.search(q, k, where, mode, lag=1), t0)
            answer = answer if earlier.refused else earlier
        # --- issue 5: generated answers (bot.chain); checked, falls back to the extractive text above ---
        if generate and self.settings.answer_mode != "extractive":
            answer = chain.generate_answer(self.settings, answer)
        return answer

    def _read(self, q: str, retrieval: Retrieval, t0: float) -> Answer:
        """The extractive answer (or the refusal) the retrieved passages give."""
        ms = {"retrieve": retrieval.ms}
        rows = self.doc_rows(retrieval)
        reason = self.refusal_reason(retrieval, rows)
        citations = self.citations(retrieval, rows) if reason is None else []
        extraction = self.extract(q, retrieval, citations) if citations else Extraction(reason=reason or REFUSAL)
        if not extraction.answered:
            ms["total"] = (time.perf_counter() - t0) * 1000
            return Answer(question=q, answer=extraction.reason or REFUSAL, refused=True, ms=ms)
        citations, units = self.anchored(citations, extraction.units)
        text = dataclasses.replace(extraction, units=units).text + assumed_year_note(retrieval.info)
        ms["total"] = (time.perf_counter() - t0) * 1000
        return Answer(question=q, answer=text, refused=False, citations=citations, ms=ms, units=units)

    def anchored(self, citations: list[Citation], units: list[Unit]) -> tuple[list[Citation], list[Unit]]:
        """`bot.anchor.anchor` over this archive: a citation grows up to `max_citation_chars` plus context."""
        limit = self.settings.max_citation_chars + 2 * self.settings.context_chars
        return anchor(citations, units, self.retriever.texts(), self.retriever.passage_at, limit)

    @staticmethod
    def _this_year_as_asked(retrieval: Retrieval) -> bool:
        """"今年" read as today's year, in a question naming no year: `retrieve`'s reading of it as last year is
        open."""
        info = retrieval.info
        return info.relative.get("今年") == info.this_year and not info.named_years

    def ask_stream(self, question: str, history: History | None = None, k: int | None = None,
                   where: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """`ask` as events: optionally {"type": "rewrite", "question"} (`history`, (question, answer) pairs,
        made a follow-up standalone), {"type": "token", "text"}..., optionally {"type": "notice", "text"}
        (Chinese, for the user), and last {"type": "answer", "answer", "check"?}. The final answer's text
        replaces whatever the tokens showed: only it has been checked (`bot.chain.stream_checked`)."""
        s = self.settings
        generating = s.answer_mode != "extractive"
        chat, reason = chain.chat_model(s) if generating else (None, "")
        standalone = question
        cleaned, error = clean_question(question, s.max_question_chars)
        if history and not error:
            standalone = rewrite_question(cleaned, history, chat, min(20.0, s.llm_timeout_s))
            if standalone != cleaned:
                yield {"type": "rewrite", "question": standalone}
        base = self.ask(standalone, k, where, generate=False)
        if not generating:
            yield {"type": "answer", "answer": base}
            return
        yield from chain.stream_checked(base, chat, reason, s.llm_timeout_s)
        # --- end issue 5 ---

    def citations(self, retrieval: Retrieval, rows: dict[str, DocRow | None] | None = None) -> list[Citation]:
        """The retrieved hits as numbered Citations ([n] in the answer is `citations[n - 1]`)."""
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
                    hit_start=h.hit_start, hit_end=h.hit_end, copies=list(h.copies),
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
