"""`speechqa bench`: ingest throughput beside the raw embedder's, re-ingest time, retrieval and answer
latency, and memory, measured in one run and printed as a Markdown table."""

from __future__ import annotations

import json
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ingest import discover, load_document, split_document
from speechqa.settings import Settings


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def raw_embedder_rate(settings: Settings, folder: Path, sample: int) -> tuple[float, int]:
    """Passages/s of the embedder alone, on the first `sample` passages the pipeline would embed."""
    from vectorstore.archive import passage_view
    from vectorstore.embeddings import get_embedder

    views: list[str] = []
    for path, doc_id in discover([folder]):
        try:
            doc = load_document(path, doc_id, settings.max_file_mb * 2**20)
        except Exception:  # noqa: BLE001 - bad files are the ingest's business, not the benchmark's
            continue
        views += [passage_view(doc, p) for p in split_document(doc, settings.chunk_size, settings.chunk_overlap)]
        if len(views) >= sample:
            break
    views = views[:sample]
    emb = get_embedder(settings)
    emb.embed_passages(views[:8])  # warm up
    t0 = time.perf_counter()
    step = max(1, settings.embed_batch)
    views.sort(key=len)  # the pipeline batches by length too
    for i in range(0, len(views), step):
        emb.embed_passages(views[i : i + step])
    return len(views) / (time.perf_counter() - t0), len(views)


def run_bench(folder: Path, questions: Path | None, settings: Settings, sample: int = 400,
              out: Path | None = None) -> int:
    from bot.qa import QA
    from vectorstore.archive import Archive

    tmp = Path(tempfile.mkdtemp(prefix="speechqa-bench-"))
    try:
        s = settings.model_copy(update={"db": tmp / "db"})
        rate, n_sample = raw_embedder_rate(s, folder, sample)
        archive = Archive(s)
        t0 = time.perf_counter()
        report = archive.index_paths([folder])
        ingest_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = archive.index_paths([folder])
        reingest_s = time.perf_counter() - t1
        files = report.count("indexed")
        passages = report.chunks
        qa = QA(s, archive=archive)
        qs = [json.loads(line)["question"] for line in questions.read_text("utf-8").splitlines() if line.strip()] \
            if questions else [r.title for r in archive.documents()][:60]
        qa.ask(qs[0])
        retrieve_ms, total_ms = [], []
        for q in qs:
            ans = qa.ask(q)
            retrieve_ms.append(ans.ms.get("retrieve", 0.0))
            total_ms.append(ans.ms.get("total", 0.0))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pipeline_rate = passages / ingest_s if ingest_s else float("nan")
        rows = [
            ("embedder", archive.embedder.name),
            ("files indexed / failed", f"{files} / {len(report.failed)}"),
            ("passages", str(passages)),
            (f"raw embedder, passages/s (sample of {n_sample})", f"{rate:.1f}"),
            ("whole ingest, passages/s", f"{pipeline_rate:.1f}"),
            ("whole ingest, files/s", f"{files / ingest_s:.2f}"),
            ("ingest / raw embedder", f"{pipeline_rate / rate:.0%}"),
            ("whole ingest, s", f"{ingest_s:.1f}"),
            ("re-ingest unchanged, s", f"{reingest_s:.1f} ({again.count('unchanged')} unchanged)"),
            ("questions", str(len(qs))),
            ("retrieval p50 / p95, ms", f"{statistics.median(retrieve_ms):.0f} / {_pct(retrieve_ms, 0.95):.0f}"),
            ("extractive answer p50 / p95, ms", f"{statistics.median(total_ms):.0f} / {_pct(total_ms, 0.95):.0f}"),
            ("peak RSS of the process, MB", f"{rss_mb:.0f}"),
        ]
        text = [f"Machine: {platform.machine()}, {Path('/proc/cpuinfo').read_text().count('processor')} cores; "
                f"chunk {s.chunk_size}/{s.chunk_overlap}; {time.strftime('%Y-%m-%d')}", "",
                "| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
        print("\n".join(text))
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(["", f"## `speechqa bench {folder}`", ""] + text) + "\n")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
