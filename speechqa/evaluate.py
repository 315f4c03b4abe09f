"""`speechqa eval`: retrieval and answer quality on a question set, hybrid beside keyword-only and dense-only.

Scoring follows the dev set's README: hit@k over distinct cited documents in citation order, span@5 over
the first five cited passages (gold strings normalised like the passages: entities, NFKC, t2s, no
whitespace), MRR, refusal accuracy on unanswerable questions, the share of answerable ones refused, and
retrieval latency.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.qa import QA
from bot.types import Answer
from ingest.normalize import squash
from speechqa.settings import Settings

MODES = ("hybrid", "keyword", "dense")


@dataclass
class Tally:
    hits: dict[int, list[int]] = field(default_factory=lambda: {1: [], 3: [], 5: []})
    span: list[int] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    refused_ok: list[int] = field(default_factory=list)
    wrongly_refused: list[int] = field(default_factory=list)
    retrieve_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        def mean(xs: list[int] | list[float]) -> float:
            return sum(xs) / len(xs) if xs else float("nan")

        def pct(xs: list[float], q: float) -> float:
            if not xs:
                return float("nan")
            xs = sorted(xs)
            return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

        return {
            "hit@1": mean(self.hits[1]), "hit@3": mean(self.hits[3]), "hit@5": mean(self.hits[5]),
            "span@5": mean(self.span), "mrr": mean(self.rr), "refusal_acc": mean(self.refused_ok),
            "wrongly_refused": mean(self.wrongly_refused),
            "p50_ms": pct(self.retrieve_ms, 0.5), "p95_ms": pct(self.retrieve_ms, 0.95),
            "total_p95_ms": pct(self.total_ms, 0.95),
        }


def cited_docs(answer: Answer) -> list[str]:
    docs: list[str] = []
    for c in answer.citations:
        name = c.doc_id.rsplit("/", 1)[-1]
        if name not in docs:
            docs.append(name)
    return docs


def score(item: dict[str, object], answer: Answer, tally: Tally, k: int = 5) -> dict[str, object]:
    tally.retrieve_ms.append(answer.ms.get("retrieve", 0.0))
    tally.total_ms.append(answer.ms.get("total", 0.0))
    gold = item.get("doc")
    if not gold:
        tally.refused_ok.append(int(answer.refused))
        return {"refused": answer.refused}
    tally.wrongly_refused.append(int(answer.refused))
    docs = cited_docs(answer)
    for cut in tally.hits:
        tally.hits[cut].append(int(gold in docs[:cut]))
    tally.rr.append(1.0 / (docs.index(str(gold)) + 1) if gold in docs else 0.0)
    parts = list(item.get("answer_parts") or []) or [item["answer"]]
    texts = [squash(c.text) for c in answer.citations[:k]]
    found = all(any(squash(str(p)) in t for t in texts) for p in parts)
    tally.span.append(int(found))
    return {"refused": answer.refused, "docs": docs[:k], "span": found}


def run_eval(questions: Path, settings: Settings, k: int = 5, out: str | None = None,
             modes: tuple[str, ...] = MODES) -> int:
    items = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    qa = QA(settings)
    qa.ask("预热")  # load models and indexes outside the timings
    load_s = time.perf_counter() - t0
    tallies = {m: Tally() for m in modes}
    records = []
    for item in items:
        rec: dict[str, object] = {"id": item.get("id"), "question": item["question"], "gold": item.get("doc")}
        for m in modes:
            clear = getattr(qa.archive.embedder, "clear", None)
            if clear:
                clear()  # every mode pays for its own query embedding
            ans = qa.ask(str(item["question"]), k=k, mode=m)  # type: ignore[arg-type]
            rec[m] = score(item, ans, tallies[m], k)
        records.append(rec)
    if out:
        Path(out).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    n_docs = len(qa.archive.documents())
    n_pass = len(qa.archive.keyword().rows)
    print(f"questions: {len(items)}  documents: {n_docs}  passages: {n_pass}  "
          f"chunk {settings.chunk_size}/{settings.chunk_overlap}  embedder {qa.archive.embedder.name}  "
          f"(load {load_s:.1f} s)")
    cols = ["hit@1", "hit@3", "hit@5", "span@5", "mrr", "refusal_acc", "wrongly_refused", "p50_ms", "p95_ms"]
    print("| retrieval | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for m in modes:
        row = tallies[m].row()
        print(f"| {m} | " + " | ".join(f"{row[c]:.2f}" if "ms" not in c else f"{row[c]:.0f}" for c in cols) + " |")
    sys.stdout.flush()
    return 0
