"""`speechqa eval`: retrieval and answer quality on a question set, hybrid beside keyword-only and dense-only.

Scoring follows the dev set's README: hit@k over distinct cited documents in citation order, span@5 over
the first five cited passages (gold strings normalised like the passages: entities, NFKC, t2s, no
whitespace), MRR, refusal accuracy on unanswerable questions, the share of answerable ones refused, and
retrieval latency.

With `answer_mode` ("llamacpp" or "openai"), a second table puts the answers side by side: the extractive
answer (hybrid retrieval, as `QA.ask` gives it by default) and the generated one (`QA.ask_stream` with that
answer mode, checked by `bot.verify`), each scored on the citations the user is shown, with time to the
first token and to the final answer, and the verifier's path counts (`bot.verify.COUNTERS`).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import llm, verify
from bot.llm import LLMUnavailable
from bot.qa import QA
from bot.types import Answer, Citation, Unit
from core.settings import Settings
from core.zh import squash
from speechqa.answer_eval import AnswerScore, select
from speechqa.stats import mean, pct

MODES = ("hybrid", "keyword", "dense", "bm25", "vector")


@dataclass
class Tally:
    hits: dict[int, list[int]] = field(default_factory=lambda: {1: [], 3: [], 5: []})
    span: list[int] = field(default_factory=list)
    span_budget: list[int] = field(default_factory=list)
    span_opened: list[int] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    refused_ok: list[int] = field(default_factory=list)
    wrongly_refused: list[int] = field(default_factory=list)
    retrieve_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        return {
            "hit@1": mean(self.hits[1]), "hit@3": mean(self.hits[3]), "hit@5": mean(self.hits[5]),
            "span@5": mean(self.span), "span@1250": mean(self.span_budget),
            "span@1250[n]": mean(self.span_opened), "mrr": mean(self.rr),
            "refusal_acc": mean(self.refused_ok),
            "wrongly_refused": mean(self.wrongly_refused),
            "p50_ms": pct(self.retrieve_ms, 0.5), "p95_ms": pct(self.retrieve_ms, 0.95),
            "total_p95_ms": pct(self.total_ms, 0.95),
        }


def cited_docs(answer: Answer) -> list[str]:
    return doc_names(answer.citations)


def doc_names(citations: list[Citation]) -> list[str]:
    """Distinct document file names, in citation order."""
    docs: list[str] = []
    for c in citations:
        if c.doc_id not in docs:
            docs.append(c.doc_id)
    return docs


def rank_of(gold: str, docs: list[str]) -> int | None:
    """0-based position of the gold document among cited ones: the same path, or the same path below the
    folder the archive was ingested from ("gwr_2018.txt" is "corpus/gwr_2018.txt")."""
    for i, d in enumerate(docs):
        if d == gold or d.endswith("/" + gold):
            return i
    return None


def score(item: dict[str, object], answer: Answer, tally: Tally, k: int = 5) -> dict[str, object]:
    tally.retrieve_ms.append(answer.ms.get("retrieve", 0.0))
    tally.total_ms.append(answer.ms.get("total", 0.0))
    gold = item.get("doc")
    if not gold:
        tally.refused_ok.append(int(answer.refused))
        return {"refused": answer.refused}
    tally.wrongly_refused.append(int(answer.refused))
    docs = cited_docs(answer)
    rank = rank_of(str(gold), docs)
    for cut in tally.hits:
        tally.hits[cut].append(int(rank is not None and rank < cut))
    tally.rr.append(1.0 / (rank + 1) if rank is not None else 0.0)
    found = span_found(item, answer.citations[:k])
    tally.span.append(int(found))
    tally.span_budget.append(int(span_in(item, budget_texts(answer.citations))))
    tally.span_opened.append(int(span_in(item, budget_texts(answer.citations, answer.units))))
    return {"refused": answer.refused, "docs": docs[:k], "span": found}


def budget_texts(citations: list[Citation], units: Sequence[Unit] = (), total: int = 1250,
                 each: int = 250) -> list[str]:
    """The citation text a reader gets at the reference pipeline's budget (five 250-character chunks =
    1,250 characters): of each citation, in order, the `each` characters around its retrieved hit; with the
    answer's `units`, around the first unit the answer took from it (what its [n] opens) when that lies in
    the citation's text."""
    out: list[str] = []
    left = total
    for c in citations:
        if left <= 0:
            break
        size = min(each, left)
        hit_start, hit_end = c.hit_start, c.hit_end
        taken = [u for u in units if u.n == c.n and c.start <= u.start and u.end <= c.end]
        if taken:
            hit_start, hit_end = taken[0].start, taken[0].end
        hs = max(0, hit_start - c.start) if hit_end > hit_start else 0
        he = min(len(c.text), hit_end - c.start) if hit_end > hit_start else len(c.text)
        lo = max(0, min(hs - max(0, size - (he - hs)) // 2, len(c.text) - size))
        out.append(c.text[lo : lo + size])
        left -= len(out[-1])
    return out


def span_in(item: dict[str, object], texts: list[str]) -> bool:
    parts = list(item.get("answer_parts") or []) or [item["answer"]]  # type: ignore[call-overload]
    flat = [squash(t) for t in texts]
    return all(any(squash(str(p)) in t for t in flat) for p in parts)


# ------------------------------------------------------------------------------------------- answers
_CITE = re.compile(r"\[(\d+)\]")
PATHS = ("generated_kept", "sentences_dropped", "fallback_extractive", "fallback_refusal")


def span_found(item: dict[str, object], citations: list[Citation]) -> bool:
    """Every gold part occurs in one of the citations' texts (normalised like `score`)."""
    return span_in(item, [c.text for c in citations])


def cited_in_text(answer: Answer) -> list[Citation]:
    """The citations the answer's text points at with [n], in order of first mention."""
    by_n = {c.n: c for c in answer.citations}
    out: list[Citation] = []
    for n in _CITE.findall(answer.answer):
        c = by_n.get(int(n))
        if c is not None and all(c is not o for o in out):
            out.append(c)
    return out


@dataclass
class AnswerTally:
    """One row of the answers table: what the user is shown, scored as `score` does, plus latency (seconds,
    over the questions answered, i.e. not refused: the ones the model is asked)."""

    label: str
    hits: dict[int, list[int]] = field(default_factory=lambda: {1: [], 5: []})
    span: list[int] = field(default_factory=list)
    span_cited: list[int] = field(default_factory=list)
    refused_ok: list[int] = field(default_factory=list)
    wrongly_refused: list[int] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)

    def add(self, item: dict[str, object], answer: Answer, first_s: float, total_s: float, k: int = 5,
            ) -> dict[str, object]:
        shown = answer.citations[:k]
        cited = cited_in_text(answer)
        docs = doc_names(shown)
        rec: dict[str, object] = {
            "answer": answer.answer, "refused": answer.refused, "mode": answer.mode,
            "docs": docs, "cited_docs": doc_names(cited),
            "first_s": round(first_s, 3), "total_s": round(total_s, 3),
        }
        if not answer.refused:
            self.first_s.append(first_s)
            self.total_s.append(total_s)
        gold = item.get("doc")
        if not gold:
            self.refused_ok.append(int(answer.refused))
            return rec
        self.wrongly_refused.append(int(answer.refused))
        rank = rank_of(str(gold), docs)
        for cut in self.hits:
            self.hits[cut].append(int(rank is not None and rank < cut))
        rec["span"] = span_found(item, shown)
        rec["span_cited"] = span_found(item, cited)
        self.span.append(int(rec["span"]))
        self.span_cited.append(int(rec["span_cited"]))
        return rec

    def row(self) -> dict[str, float]:
        return {
            "hit@1": mean(self.hits[1]), "hit@5": mean(self.hits[5]), "span@5": mean(self.span),
            "span_cited": mean(self.span_cited), "refusal_acc": mean(self.refused_ok),
            "wrongly_refused": mean(self.wrongly_refused),
            "answered_unanswerable": float(len(self.refused_ok) - sum(self.refused_ok)),
            "first_p50_s": pct(self.first_s, 0.5), "first_p95_s": pct(self.first_s, 0.95),
            "total_p50_s": pct(self.total_s, 0.5), "total_p95_s": pct(self.total_s, 0.95),
        }


ANSWER_COLS = ["hit@1", "hit@5", "span@5", "span_cited", "refusal_acc", "wrongly_refused", "answered_unanswerable",
               "first_p50_s", "first_p95_s", "total_p50_s", "total_p95_s"]


@dataclass
class AnswerRun:
    extractive: AnswerTally
    generated: AnswerTally
    paths: dict[str, object]  # bot.verify.COUNTERS.snapshot() after the run
    model_load_s: float
    timeout_s: float

    def table(self) -> str:
        n_ans = len(self.extractive.wrongly_refused)
        n_un = len(self.extractive.refused_ok)
        lines = [
            f"answers: {n_ans + n_un} questions ({n_ans} answerable, {n_un} unanswerable)  "
            f"latency over the {len(self.generated.total_s)} answered  (model load {self.model_load_s:.1f} s, "
            f"time limit {self.timeout_s:g} s)",
            "| answers | " + " | ".join(ANSWER_COLS) + " |",
            "|---" * (len(ANSWER_COLS) + 1) + "|",
        ]
        for t in (self.extractive, self.generated):
            row = t.row()
            cells = [f"{row[c]:.0f}" if c == "answered_unanswerable" else
                     f"{row[c]:.1f}" if c.endswith("_s") else f"{row[c]:.2f}" for c in ANSWER_COLS]
            lines.append(f"| {t.label} | " + " | ".join(cells) + " |")
        p = self.paths
        lines.append(
            f"verifier (generated): shown as is {p['generated_kept']}, trimmed {p['sentences_dropped']}, "
            f"fell back to extractive {p['fallback_extractive']} (timeouts {p['timeouts']}, errors {p['errors']}), "
            f"refused {p['fallback_refusal']}; dropped sentences {json.dumps(p['dropped'], ensure_ascii=False)}; "
            f"citations moved {p['recited']}"
        )
        return "\n".join(lines)


def model_label(settings: Settings, chat: Any) -> str:
    """`llamacpp, <gguf stem>` or `openai, <model name>`."""
    if chat.name == "llamacpp":
        return f"llamacpp, {Path(settings.llm_model_path or llm.MODEL_FILE).stem}"
    return f"{chat.name}, {settings.llm_model or 'default'}"


def _clear_query_cache(qa: QA) -> None:
    clear = getattr(qa.archive.embedder, "clear", None)
    if clear:
        clear()  # each answer pays for its own query embedding


def ask_generated(qa: QA, question: str, k: int) -> tuple[Answer, dict[str, Any], list[str], float, float]:
    """(final answer, check, notices, seconds to the first token, seconds to the final answer) through
    `QA.ask_stream`. With no token (refused, a failure before the first token) the first-token time is the
    time to the answer event: what the user waits before seeing anything."""
    t0 = time.perf_counter()
    first: float | None = None
    final: Answer | None = None
    check: dict[str, Any] = {}
    notices: list[str] = []
    for event in qa.ask_stream(question, k=k):
        if event["type"] == "token" and first is None:
            first = time.perf_counter() - t0
        elif event["type"] == "notice":
            notices.append(str(event["text"]))
        elif event["type"] == "answer":
            final = event["answer"]
            check = dict(event.get("check") or {})
    total = time.perf_counter() - t0
    if final is None:
        raise RuntimeError("ask_stream ended without an answer")
    return final, check, notices, total if first is None else first, total


def run_answers(qa: QA, items: list[dict[str, Any]], records: list[dict[str, object]], k: int = 5) -> AnswerRun:
    """Extractive and generated answers for every item, side by side; adds "extractive" and "generated" to
    each record. The model is loaded first, outside the timings; LLMUnavailable when it cannot be."""
    t0 = time.perf_counter()
    chat = llm.build_chat_model(qa.settings)
    if chat is None:
        raise LLMUnavailable("answer_mode=extractive：没有可评测的生成式回答。")
    load_s = time.perf_counter() - t0
    ext, gen = AnswerTally("extractive"), AnswerTally(f"generated ({model_label(qa.settings, chat)})")
    verify.COUNTERS.reset()
    for i, (item, rec) in enumerate(zip(items, records, strict=True), start=1):
        q = str(item["question"])
        _clear_query_cache(qa)
        t = time.perf_counter()
        base = qa.ask(q, k=k, generate=False)
        took = time.perf_counter() - t
        rec["extractive"] = ext.add(item, base, took, took, k)
        _clear_query_cache(qa)
        before = verify.COUNTERS.snapshot()
        ans, check, notices, first, total = ask_generated(qa, q, k)
        after = verify.COUNTERS.snapshot()
        path = next((p for p in PATHS if after[p] != before[p]), "")
        rec["generated"] = {
            **gen.add(item, ans, first, total, k), "path": path, "raw": check.get("generated", ""),
            "dropped": check.get("dropped", []), "notices": notices,
            "timeout": after["timeouts"] != before["timeouts"], "error": after["errors"] != before["errors"],
        }
        print(f"[{i}/{len(items)}] {item.get('id') or ''} {path or '-'} first {first:.1f} s total {total:.1f} s",
              file=sys.stderr, flush=True)
    return AnswerRun(ext, gen, verify.COUNTERS.snapshot(), load_s, qa.settings.llm_timeout_s)


def run_eval(questions: Path, settings: Settings, k: int = 5, out: str | None = None,
             modes: tuple[str, ...] = MODES, answer_mode: str | None = None, limit: int | None = None,
             qa: QA | None = None, archive: str | None = None, split: str | None = None) -> int:
    """Print the retrieval table, the table of what the user reads (`speechqa.answer_eval`, the product's
    hybrid answers) and, with `answer_mode`, the generated answers beside the extractive ones; 1 when the
    model is missing. `archive`/`split` keep the questions of one archive and one split."""
    items = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line.strip()]
    if archive or split:
        items = select(items, archive, split)
    if limit is not None:
        items = items[:limit]
    if answer_mode:
        settings = settings.model_copy(update={"answer_mode": answer_mode})
    t0 = time.perf_counter()
    qa = qa or QA(settings)
    if answer_mode and qa.settings.answer_mode != answer_mode:
        qa.settings = qa.settings.model_copy(update={"answer_mode": answer_mode})
    qa.ask("预热", generate=False)  # load models and indexes outside the timings
    qa.warm()  # and analyse the documents, as the app does when it starts
    load_s = time.perf_counter() - t0
    tallies = {m: Tally() for m in modes}
    read = AnswerScore()
    records = []
    for item in items:
        rec: dict[str, object] = {"id": item.get("id"), "question": item["question"], "gold": item.get("doc")}
        for m in modes:
            clear = getattr(qa.archive.embedder, "clear", None)
            if clear:
                clear()  # every mode pays for its own query embedding
            ans = qa.ask(str(item["question"]), k=k, mode=m, generate=False)  # type: ignore[arg-type]
            rec[m] = score(item, ans, tallies[m], k)
            if m == "hybrid":
                rec["answer"] = ans.answer
                rec["read"] = read.add(item, ans.answer, ans.refused, ans.ms.get("total", 0.0))
        records.append(rec)
    answers: AnswerRun | None = None
    if answer_mode:
        try:
            answers = run_answers(qa, items, records, k)
        except LLMUnavailable as e:
            print(f"无法使用生成式回答：{e}", file=sys.stderr)
            return 1
    if out:
        Path(out).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    n_docs = len(qa.archive.documents())
    n_pass = len(qa.archive.keyword().rows)
    print(f"questions: {len(items)}  documents: {n_docs}  passages: {n_pass}  "
          f"chunk {settings.chunk_size}/{settings.chunk_overlap}  embedder {qa.archive.embedder.name}  "
          f"(load {load_s:.1f} s)")
    cols = ["hit@1", "hit@3", "hit@5", "span@5", "span@1250", "span@1250[n]", "mrr", "refusal_acc",
            "wrongly_refused", "p50_ms", "p95_ms"]
    print("| retrieval | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for m in modes:
        row = tallies[m].row()
        print(f"| {m} | " + " | ".join(f"{row[c]:.2f}" if "ms" not in c else f"{row[c]:.0f}" for c in cols) + " |")
    if "hybrid" in modes:
        print()
        print(read.table("answer read (hybrid, extractive)"))
    if answers is not None:
        print()
        print(answers.table())
    sys.stdout.flush()
    return 0
