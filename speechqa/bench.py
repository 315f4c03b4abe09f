"""`speechqa bench`: one command for the figures in docs/BENCHMARKS.md.

1. Ingest beside the raw embedder, in the same run: on a subset of the folder (every k-th file, about
   `subset` passages), the whole ingest of those files into a fresh store (nothing cached), and the
   embedder alone on exactly the passage views ingest embeds, the two taking turns file by file, so that
   load that comes and goes on a shared machine hits both sides alike (`ingest_beside_raw`).
2. The arithmetic limit: FLOPs per passage from the real token counts (the model's own tokenizer), the
   padding the batching adds, and the GFLOP/s achieved; optionally the fp32 rate beside the default.
3. Serving at 1x and at `scale`x: the index (a copy of `--from-db`, or a fresh ingest of the folder), then
   replicas written by `speechqa.scale`; each measured in a fresh process (load time, memory, retrieval
   and extractive end-to-end latency over the questions, hit@5).
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from ingest import discover, load_document, split_document
from ingest.model import Document
from vectorstore.archive import Archive, IngestReport, Progress, passage_view


@dataclass
class Subset:
    folder: Path  # a copy of the chosen files, their relative paths kept
    files: int
    step: int  # every step-th file of the folder
    docs: list[tuple[Document, list[str]]] = field(default_factory=list)  # each document and its views

    @property
    def views(self) -> list[str]:
        return [v for _, vs in self.docs for v in vs]


def pick_subset(folder: Path, settings: Settings, target: int, dest: Path) -> Subset:
    """Every k-th file of the folder (k chosen for about `target` passages), copied under `dest`."""
    loaded: list[tuple[Path, Document, list[str]]] = []
    for path, doc_id in discover([folder]):
        try:
            doc = load_document(path, doc_id, settings.max_file_mb * 2**20)
        except Exception:  # noqa: BLE001 - bad files are the ingest's business, not the benchmark's
            continue
        views = [passage_view(doc, p) for p in split_document(doc, settings.chunk_size, settings.chunk_overlap)]
        if views:
            loaded.append((path, doc, views))
    total = sum(len(v) for _, _, v in loaded)
    step = max(1, round(total / max(1, target)))
    chosen = loaded[::step]
    sub = Subset(dest, len(chosen), step)
    for path, doc, views in chosen:
        out = dest / doc.doc_id
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        sub.docs.append((doc, views))
    return sub


def raw_rate(embedder: object, views: list[str]) -> float:
    """Passages/s of the embedder alone: all views in one call (sorted by length, full batches)."""
    t0 = time.perf_counter()
    embedder.embed_passages(views)  # type: ignore[attr-defined]
    return len(views) / (time.perf_counter() - t0)


@dataclass
class Interleaved:
    report: IngestReport
    ingest_s: float  # the whole ingest's wall time, the raw embedder's turns taken out
    raw_s: float  # the raw embedder's time over all the views
    raw_passages: int
    turns: int  # how many times the two alternated


def ingest_beside_raw(archive: Archive, folder: Path, embedder: object, views: list[str], batch: int,
                      passages: int, seed: int = 0) -> Interleaved:
    """The whole ingest of `folder` and the raw embedder over the same views, in alternating turns.

    The raw side embeds the views in the batches one call would make (sorted by length, `batch` at a time),
    taken in a shuffled order; before each file the ingest starts (its progress callback), the raw side
    catches up to the same share of its work. Both sides therefore run through the same minutes of
    whatever else loads the machine, which a raw sample taken before the ingest does not."""
    order = sorted(range(len(views)), key=lambda i: len(views[i]))
    batches = [[views[i] for i in order[b : b + batch]] for b in range(0, len(order), batch)]
    random.Random(seed).shuffle(batches)
    state = {"raw_s": 0.0, "raw_done": 0, "aside": 0.0, "next": 0, "turns": 0}

    def turn(p: Progress) -> None:
        t = time.perf_counter()
        target = len(views) * min(1.0, p.passages_done / max(1, passages)) if p.current else len(views)
        ran = False
        while state["next"] < len(batches) and state["raw_done"] < target:
            chunk = batches[int(state["next"])]
            t0 = time.perf_counter()
            embedder.embed_passages(chunk)  # type: ignore[attr-defined]
            state["raw_s"] += time.perf_counter() - t0
            state["raw_done"] += len(chunk)
            state["next"] += 1
            ran = True
        state["turns"] += int(ran)
        state["aside"] += time.perf_counter() - t

    t0 = time.perf_counter()
    report = archive.index_paths([folder], progress=turn)
    wall = time.perf_counter() - t0
    turn(Progress(1, 1, passages, "", 0.0))  # whatever the raw side has left (nothing, normally)
    return Interleaved(report, wall - state["aside"], float(state["raw_s"]), int(state["raw_done"]),
                       int(state["turns"]))


# --- the arithmetic ---

@dataclass
class Flops:
    layers: int
    hidden: int
    matmul_params: int  # weights of the encoder's linear layers (what each token multiplies)
    tokens: list[int]  # real tokens per passage view (prompt and special tokens included)
    padded_raw: float  # executed FLOPs / useful FLOPs, batches as `raw_rate` makes them
    padded_ingest: float  # ... as ingest makes them (per document)

    def per_passage(self, n: int) -> float:
        """FLOPs of one passage of n tokens: 2 per weight per token, plus attention (QK^T and AV)."""
        return 2.0 * self.matmul_params * n + 4.0 * self.layers * n * n * self.hidden

    @property
    def mean_gflop(self) -> float:
        return sum(self.per_passage(n) for n in self.tokens) / len(self.tokens) / 1e9


def count_flops(embedder: object, subset: Subset, batch: int, multiple: int = 64) -> Flops | None:
    """The real work per passage, for a sentence-transformers embedder (None for another back-end)."""
    import torch

    inner = getattr(embedder, "inner", embedder)
    model = getattr(inner, "_model", None)
    if model is None or not hasattr(model, "tokenizer"):
        return None
    config = model[0].auto_model.config
    matmul = sum(m.weight.numel() for name, m in model.named_modules()
                 if isinstance(m, torch.nn.Linear) and ".encoder." in f".{name}")
    prefix = getattr(inner, "_pp", "")
    max_len = int(model.max_seq_length or 512)

    def lengths(views: list[str]) -> list[int]:
        ids = model.tokenizer([prefix + v for v in views], truncation=True, max_length=max_len)["input_ids"]
        return [len(x) for x in ids]

    per_doc = [lengths(vs) for _, vs in subset.docs]
    tokens = [n for ns in per_doc for n in ns]
    f = Flops(int(config.num_hidden_layers), int(config.hidden_size), int(matmul), tokens, 1.0, 1.0)

    def executed(groups: list[list[int]]) -> float:
        total = 0.0
        for ns in groups:
            ns = sorted(ns)
            for b in range(0, len(ns), batch):
                chunk = ns[b : b + batch]
                padded = min(max_len, math.ceil(max(chunk) / multiple) * multiple)
                total += len(chunk) * f.per_passage(padded)
        return total

    useful = sum(f.per_passage(n) for n in tokens)
    f.padded_raw = executed([tokens]) / useful
    f.padded_ingest = executed(per_doc) / useful
    return f


# --- running the steps ---

def _child(args: list[str]) -> object:
    """Run `python -m speechqa.scale ...` in its own process; its JSON result."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.run([sys.executable, "-m", "speechqa.scale", *args], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    for line in proc.stderr.splitlines():
        if line.startswith("replica "):
            print("  " + line, file=sys.stderr, flush=True)
    if proc.returncode != 0:
        raise RuntimeError(f"speechqa.scale {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _load_note(step: str) -> str:
    """The machine's 1-minute load average after a step (2 cores: above 2, something else shares them)."""
    try:
        return f"{step} {Path('/proc/loadavg').read_text().split()[0]}"
    except OSError:
        return ""


def run_bench(folder: Path, questions: Path | None, settings: Settings, *, from_db: Path | None = None,
              scale: int = 1, subset: int = 2000, fp32_sample: int = 256, passes: int = 3,
              work: Path | None = None, profile: bool = False, out: Path | None = None) -> int:
    from vectorstore.embeddings import get_embedder

    started = time.strftime("%Y-%m-%d %H:%M")
    tmp = work or Path(tempfile.mkdtemp(prefix="speechqa-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    loads: list[str] = [_load_note("start")]
    try:
        # 1. ingest beside the raw embedder
        shutil.rmtree(tmp / "subset", ignore_errors=True)
        shutil.rmtree(tmp / "ingest-db", ignore_errors=True)
        sub = pick_subset(folder, settings, subset, tmp / "subset")
        views = list(dict.fromkeys(sub.views))  # ingest embeds each distinct view once
        emb = get_embedder(settings)
        emb.embed_passages(views[:32])  # model loaded and warm before anything is timed
        say(f"whole ingest of {sub.files} files and the raw embedder over its {len(views)} passages, in turns ...")
        archive = Archive(settings.model_copy(update={"db": tmp / "ingest-db"}))
        both = ingest_beside_raw(archive, sub.folder, emb, views, settings.embed_batch, len(sub.views))
        report, ingest_s = both.report, both.ingest_s
        loads.append(_load_note("ingest"))
        embedded = len(archive.catalog.cached_vectors(emb.name, _keys(views)))
        t1 = time.perf_counter()
        again = archive.index_paths([sub.folder])
        reingest_s = time.perf_counter() - t1
        ingest_rate = report.chunks / ingest_s
        raw_mean = both.raw_passages / both.raw_s
        say(f"  ingest {ingest_rate:.1f} passages/s, raw embedder {raw_mean:.1f}")
        fp32 = fp32_flops = float("nan")
        if fp32_sample and getattr(getattr(emb, "inner", emb), "_bf16", False):
            say(f"fp32 sample of {fp32_sample} ...")
            e32 = get_embedder(settings.model_copy(update={"embed_bf16": "off"}))
            sample = views[:: max(1, len(views) // fp32_sample)][:fp32_sample]
            e32.embed_passages(sample[:16])
            fp32 = raw_rate(e32, sample)
            fp32_flops = _mean_flops(count_flops(e32, sub, settings.embed_batch), sample, e32)
        flops = count_flops(emb, sub, settings.embed_batch)

        # 2. the index at 1x and at scale x, then both measured side by side
        db1, dbn = tmp / "db-1x", tmp / f"db-{scale}x"
        for d in (db1, dbn):
            shutil.rmtree(d, ignore_errors=True)
        if from_db:
            shutil.copytree(from_db, db1)
            how = f"a copy of {from_db}"
        else:
            say(f"whole ingest of {folder} for the 1x index ...")
            t2 = time.perf_counter()
            full = Archive(settings.model_copy(update={"db": db1})).index_paths([folder])
            how = f"a fresh ingest of {folder} ({full.chunks} passages, {time.perf_counter() - t2:.0f} s)"
        dbs = [db1]
        build: dict[str, object] | None = None
        if scale > 1:
            say(f"building replicas to {scale}x ...")
            shutil.copytree(db1, dbn)
            build = _child(["build", "--db", str(dbn), "--scale", str(scale)])  # type: ignore[assignment]
            loads.append(_load_note(f"{scale}x build"))
            dbs.append(dbn)
        rows: list[dict[str, Any]] = []
        if questions:
            say("serving: " + " and ".join(f"{d.name}" for d in dbs) + ", question by question ...")
            args = ["measure", "--questions", str(questions), "--passes", str(passes)]
            for d in dbs:
                args += ["--db", str(d)] + (["--profile", str(tmp / f"profile-{d.name}.pstats")] if profile else [])
            rows = _child(args)  # type: ignore[assignment]
            loads.append(_load_note("serving"))

        # 3. the report
        cores = os.cpu_count() or 0
        head = [f"Run {started} on {platform.machine()}, {cores} cores; chunk {settings.chunk_size}/"
                f"{settings.chunk_overlap}; embedder {emb.name}; 1-minute load average (2 cores) at the start and "
                f"after each step: {', '.join(x for x in loads if x)}.", ""]
        ing = [
            "| ingest beside the raw embedder | value |", "|---|---|",
            f"| subset | {sub.files} files (1 in {sub.step} of the folder), "
            f"{report.chunks} passages, {len(views)} distinct ({embedded} embedded by ingest) |",
            f"| raw embedder alone (same views, one-call batches), passages/s | {raw_mean:.1f} "
            f"({both.raw_s:.1f} s, in {both.turns} turns between the ingest's files) |",
            f"| whole ingest (fresh store: load, clean, split, tokenize, embed, write, keyword index), passages/s "
            f"| {ingest_rate:.1f} ({ingest_s:.1f} s, {report.count('indexed')} files, {len(report.failed)} failed) |",
            f"| ingest / raw embedder | {ingest_rate / raw_mean:.0%} |",
            f"| re-ingest unchanged, s | {reingest_s:.2f} ({again.count('unchanged')} unchanged) |",
        ]
        if not math.isnan(fp32):
            ing.append(f"| raw embedder in fp32 (bf16 autocast off), {fp32_sample} passages, passages/s | {fp32:.1f} |")
        ari: list[str] = []
        if flops:
            g = flops.mean_gflop
            mean_tok = sum(flops.tokens) / len(flops.tokens)
            ari = [
                "| arithmetic (e5-small) | value |", "|---|---|",
                f"| weights multiplied per token (encoder linear layers) | {flops.matmul_params / 1e6:.1f} M "
                f"({flops.layers} layers, hidden {flops.hidden}) |",
                f"| tokens per passage view, mean / max | {mean_tok:.0f} / {max(flops.tokens)} |",
                f"| GFLOP per passage (real tokens) / per 200-token passage | {g:.2f} / {flops.per_passage(200) / 1e9:.2f} |",
                f"| padding to a multiple of 64: executed / useful work, raw batches / ingest batches "
                f"| {flops.padded_raw:.2f} / {flops.padded_ingest:.2f} |",
                f"| achieved, raw embedder | {raw_mean * g:.0f} GFLOP/s useful, "
                f"{raw_mean * g * flops.padded_raw:.0f} executed |",
                f"| achieved, ingest | {ingest_rate * g:.0f} GFLOP/s useful, "
                f"{ingest_rate * g * flops.padded_ingest:.0f} executed |",
                "| the issue's limit: ~8 GFLOP per 200-token passage, ~20 passages/s fp32 on 2 cores | "
                f"~160 GFLOP/s; at this corpus's {g:.2f} GFLOP per passage: {160 / g:.0f} passages/s |",
            ]
            if not math.isnan(fp32):
                ari.append(f"| achieved, fp32 | {fp32 * fp32_flops:.0f} GFLOP/s useful, "
                           f"{fp32 / (160 / g):.0%} of the issue's fp32 limit |")
        srv: list[str] = []
        if rows:
            labels = ["1x"] + ([f"{scale}x"] if len(rows) > 1 else [])
            srv = ["| serving | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]

            def line(name: str, fmt: Callable[[dict[str, Any]], str]) -> None:
                srv.append(f"| {name} | " + " | ".join(fmt(r) for r in rows) + " |")

            line("documents / passages", lambda r: f"{r['documents']:,} / {r['passages']:,}")
            line("on disk, MB", lambda r: f"{r['disk_mb']:.0f}")
            line("serving process: start to first answer, s", lambda r: f"{r['load_s']:.1f}")
            line("serving process RSS after loading / after the questions, MB",
                 lambda r: f"{r['rss_loaded_mb']:.0f} / {r['rss_after_mb']:.0f}")
            line(f"retrieval p50 / p95 / max, ms ({rows[0]['questions']} questions x {passes}, "
                 "the indexes asked in turn)",
                 lambda r: f"{r['retrieve_p50']:.0f} / {r['retrieve_p95']:.0f} / {r['retrieve_max']:.0f}")
            line("extractive answer end to end p50 / p95 / max, ms",
                 lambda r: f"{r['total_p50']:.0f} / {r['total_p95']:.0f} / {r['total_max']:.0f}")
            line("hit@5, the original gold document", lambda r: f"{r['hit5_original']:.2f}")
            line("hit@5, the gold document or one of its replicas", lambda r: f"{r['hit5_any']:.2f}")
            line("hit@5 of the ranking alone (refusal not applied)", lambda r: f"{r['hit5_ranking']:.2f}")
            line("refusal accuracy (unanswerable) / answerable refused",
                 lambda r: f"{r['refusal_acc']:.2f} / {r['wrongly_refused']:.2f}")
            line("citations from replicas", lambda r: f"{r['replica_citations']} of {r['citations']}")
        bld: list[str] = []
        if build:
            bld = [
                f"The {scale}x index: {how}, plus {build['documents']:,} replica documents "
                f"({build['passages']:,} passages) written through the archive's write path in "
                f"{build['seconds']:.0f} s (keyword index rebuild {build['keyword_seconds']:.0f} s; builder peak RSS "
                f"{build['rss_peak_mb']:.0f} MB); {build['real_embeddings']} passages embedded for real (cache misses), "
                f"{build['calibration_embeddings']} more to calibrate the noise: real embeddings of replica views have "
                f"cosine {build['cosine']:.3f} to their originals, so noise sigma {build['sigma']:.4f} per component.",
            ]
        elif rows:
            bld = [f"The 1x index: {how}."]
        text = head + ing + [""] + ari + [""] + srv + ([""] + bld if bld else [])
        print("\n".join(text))
        if profile:
            _print_profiles(tmp)
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            cmd = "speechqa " + " ".join(sys.argv[1:])
            with out.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(["", f"## `{cmd}`", ""] + text) + "\n")
        return 0
    finally:
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)


def _keys(texts: list[str]) -> list[str]:
    from speechqa.scale import text_key

    return [text_key(t) for t in texts]


def _mean_flops(flops: Flops | None, sample: list[str], embedder: object) -> float:
    """Mean GFLOP per passage of a sample of views."""
    if flops is None:
        return float("nan")
    inner = getattr(embedder, "inner", embedder)
    model = inner._model  # type: ignore[attr-defined]
    ids = model.tokenizer([inner._pp + v for v in sample], truncation=True,  # type: ignore[attr-defined]
                          max_length=int(model.max_seq_length or 512))["input_ids"]
    return sum(flops.per_passage(len(x)) for x in ids) / len(ids) / 1e9


def _print_profiles(folder: Path) -> None:
    import pstats

    for f in sorted(folder.glob("profile-*.pstats")):
        print(f"\n{f.name}: top 25 by cumulative time")
        pstats.Stats(str(f)).sort_stats("cumulative").print_stats(25)
