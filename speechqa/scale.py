"""An archive grown to many times its size without embedding it again, and the serving figures measured
on it: the `--scale` part of `speechqa bench`.

Replica r (1 <= r < scale) of every document is written through the archive's own write path
(`split_document`, `passage_view`, `passage_tokens`, `Archive.write_document`: catalog, Chroma, keyword index) as
`replica-r/<doc_id>`. Its text and metadata (title, date, speaker, meeting, url) go through a per-replica
character mapping that is deterministic, one character for one character (so lengths and offsets are kept)
and invertible:

- ASCII and full-width digits are rotated by 1 + (r - 1) % 9, so years and figures differ (2018 -> 3129
  for r = 1; the date metadata is mapped the same way, so a replica's year stays consistent with its text);
- two pairs of common Han characters (国/民, 发/展, 经/济, 建/设, 社/会, 改/革; which two depends on r) are
  swapped, so the keyword index sees different words;
- punctuation, whitespace and Chinese numerals are left alone, so passages are cut at the same offsets.

Each replica passage's vector is the original passage's vector (found in the embedding cache under the
inverse mapping of the replica's view text) plus Gaussian noise, renormalised. The noise is calibrated
so that the cosine to the original equals the mean cosine between really embedding a sample of replica
views and their originals. A lookup that misses is embedded for real and counted.

`python -m speechqa.scale build|measure` runs one step in its own process (the bench runs both so that the
serving process's memory is its own).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.runtime import apply_defaults
from core.settings import Settings
from ingest import split_document
from ingest.model import Document
from speechqa.stats import mean, pct

if TYPE_CHECKING:
    from vectorstore.archive import Archive

PAIRS = (("国", "民"), ("发", "展"), ("经", "济"), ("建", "设"), ("社", "会"), ("改", "革"))
MAX_REPLICA = 27  # replicas 1..27 have pairwise different mappings
_DIGIT_SETS = ("0123456789", "０１２３４５６７８９")
PREFIX = "replica-"


@dataclass(frozen=True)
class ReplicaMap:
    """The character mapping of replica r (see the module docstring)."""

    r: int
    forward: dict[int, str]
    backward: dict[int, str]

    @classmethod
    def of(cls, r: int) -> ReplicaMap:
        if not 1 <= r <= MAX_REPLICA:
            raise ValueError(f"replica number must be in 1..{MAX_REPLICA}, got {r}")
        k = r - 1
        rot = 1 + k % 9
        pairs = {k % len(PAIRS), (k % len(PAIRS) + 1 + k // 9) % len(PAIRS)}
        fwd: dict[str, str] = {}
        for digits in _DIGIT_SETS:
            for i, ch in enumerate(digits):
                fwd[ch] = digits[(i + rot) % 10]
        for i in sorted(pairs):
            a, b = PAIRS[i]
            fwd[a], fwd[b] = b, a
        back = {v: k2 for k2, v in fwd.items()}
        return cls(r, str.maketrans(fwd), str.maketrans(back))

    def apply(self, text: str) -> str:
        return text.translate(self.forward)

    def invert(self, text: str) -> str:
        return text.translate(self.backward)


def replica_id(r: int, doc_id: str) -> str:
    return f"{PREFIX}{r}/{doc_id}"


def is_replica(doc_id: str) -> bool:
    return doc_id.startswith(PREFIX)


def replica_document(doc: Document, m: ReplicaMap) -> Document:
    """Replica `m.r` of a document: every text field mapped, a content key of its own."""
    return Document(
        doc_id=replica_id(m.r, doc.doc_id), text=m.apply(doc.text), title=m.apply(doc.title),
        date=m.apply(doc.date), speaker=m.apply(doc.speaker), url=m.apply(doc.url),
        meeting=m.apply(doc.meeting), format=doc.format,
        sha256=hashlib.sha256(f"{doc.sha256}|{PREFIX}{m.r}".encode()).hexdigest(),
        page_starts=list(doc.page_starts),
    )


def text_key(text: str) -> str:
    """The embedding cache's key of a text (as `Archive._embed` computes it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sigma_for_cosine(cosine: float, dim: int) -> float:
    """Per-component noise that takes a unit vector to the given expected cosine once renormalised:
    cos = 1 / sqrt(1 + dim * sigma^2)."""
    cosine = min(max(cosine, 1e-3), 1.0)
    return math.sqrt(max(1.0 / (cosine * cosine) - 1.0, 0.0) / dim)


def add_noise(vectors: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    out = vectors.astype(np.float32) + rng.normal(0.0, sigma, vectors.shape).astype(np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@dataclass
class BuildReport:
    scale: int
    originals: int = 0
    documents: int = 0  # replica documents written
    passages: int = 0  # replica passages written
    skipped: int = 0  # replica documents already present (a resumed build)
    real_embeddings: int = 0  # cache lookups that missed: embedded for real
    calibration_embeddings: int = 0
    cosine: float = float("nan")  # mean cosine, real embedding of a replica view vs its original's vector
    sigma: float = 0.0
    seconds: float = 0.0  # the whole build, keyword index included
    keyword_seconds: float = 0.0
    total_documents: int = 0
    total_passages: int = 0
    notes: list[str] = field(default_factory=list)


def _originals(archive: Archive) -> list[Document]:
    docs = []
    for row in archive.documents():
        if not is_replica(row.doc_id):
            doc = archive.document(row.doc_id)
            if doc is not None:
                docs.append(doc)
    return docs


def calibrate(archive: Archive, originals: list[Document], scale: int, sample: int, seed: int = 0) -> tuple[float, int]:
    """Mean cosine between the real embedding of `sample` replica passage views (random documents, passages
    and replicas) and their originals' cached vectors; and how many were embedded."""
    from vectorstore.archive import passage_view

    if sample <= 0 or not originals or scale < 2:
        return float("nan"), 0
    s = archive.settings
    rng = np.random.default_rng(seed)
    views, keys = [], []
    for _ in range(sample):
        doc = originals[int(rng.integers(len(originals)))]
        m = ReplicaMap.of(int(rng.integers(1, scale)))
        rdoc = replica_document(doc, m)
        passages = split_document(rdoc, s.chunk_size, s.chunk_overlap)
        if not passages:
            continue
        view = passage_view(rdoc, passages[int(rng.integers(len(passages)))])
        views.append(view)
        keys.append(text_key(m.invert(view)))
    cached = archive.catalog.cached_vectors(archive.embedder.name, keys)
    pairs = [(v, cached[k]) for v, k in zip(views, keys, strict=True) if k in cached]
    if not pairs:
        return float("nan"), 0
    real = archive.embedder.embed_passages([v for v, _ in pairs])
    cos = [float(np.dot(a, b)) for a, (_, b) in zip(real, pairs, strict=True)]
    return float(np.mean(cos)), len(pairs)


def build_replicas(archive: Archive, scale: int, *, noise: float | None = None, calibration: int = 64,
                   seed: int = 0, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Grow the archive to `scale` times its original documents (see the module docstring). Replicas
    already written with the same content key are kept, so an interrupted build resumes."""
    from vectorstore.archive import passage_tokens, passage_view

    if not 1 <= scale <= MAX_REPLICA + 1:
        raise ValueError(f"scale must be in 1..{MAX_REPLICA + 1}")
    t0 = time.perf_counter()
    s = archive.settings
    catalog, model, dim = archive.catalog, archive.embedder.name, archive.embedder.dim
    originals = _originals(archive)
    report = BuildReport(scale=scale, originals=len(originals))
    if noise is None:
        report.cosine, report.calibration_embeddings = calibrate(archive, originals, scale, calibration, seed)
        report.sigma = sigma_for_cosine(report.cosine, dim) if not math.isnan(report.cosine) else 0.02
    else:
        report.sigma = noise
    archive.recover()
    for r in range(1, scale):
        m = ReplicaMap.of(r)
        for doc in originals:
            rdoc = replica_document(doc, m)
            known = catalog.document(archive.collection, rdoc.doc_id)
            if known is not None and known.state == "ok" and known.sha256 == rdoc.sha256:
                report.skipped += 1
                continue
            passages = split_document(rdoc, s.chunk_size, s.chunk_overlap)
            if not passages:
                continue
            views = [passage_view(rdoc, p) for p in passages]
            okeys = [text_key(m.invert(v)) for v in views]
            cached = catalog.cached_vectors(model, okeys)
            base = np.zeros((len(views), dim), dtype=np.float32)
            miss = []
            for i, k in enumerate(okeys):
                if k in cached:
                    base[i] = cached[k]
                else:
                    miss.append(i)
            vectors = add_noise(base, report.sigma, np.random.default_rng([seed, r, zlib.crc32(doc.doc_id.encode())]))
            if miss:  # not in the cache (an original embedded under other settings): its real vector
                vectors[miss] = archive.embedder.embed_passages([views[i] for i in miss])
                report.real_embeddings += len(miss)
            tokens = passage_tokens(rdoc, passages)
            archive.write_document(rdoc, passages, tokens, vectors, known)
            # what a real ingest leaves on disk too: the vectors in the embedding cache, by view text
            catalog.store_vectors(model, {text_key(v): vec for v, vec in zip(views, vectors, strict=True)})
            report.documents += 1
            report.passages += len(passages)
        if progress:
            progress(f"replica {r}/{scale - 1}: {report.documents} documents, {report.passages} passages, "
                     f"{time.perf_counter() - t0:.0f} s")
    t1 = time.perf_counter()
    archive.refresh_keyword()
    keyword = archive.keyword()
    report.keyword_seconds = time.perf_counter() - t1
    report.total_documents = len(archive.documents())
    report.total_passages = len(keyword.rows)
    report.seconds = time.perf_counter() - t0
    return report


# --- measuring serving processes ---

def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB."""
    cur = peak = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return cur, peak


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def read_questions(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


class Server:
    """A serving process's work over one index: loaded once, then asked question by question, each paying
    its own query embedding (the query cache is cleared first, as `speechqa eval` does)."""

    def __init__(self, db: Path, profile: Path | None = None) -> None:
        from bot.qa import QA

        self.db = db
        t0 = time.perf_counter()
        self.qa = QA(Settings(db=db, answer_mode="extractive"))
        self.qa.ask("预热")  # model, keyword index, texts and vectors loaded outside the timings
        self.load_s = time.perf_counter() - t0
        self.rss_loaded = rss_mb()[0]
        self.profile = profile
        self.profiler = None
        if profile is not None:
            import cProfile

            self.profiler = cProfile.Profile()

    def ask(self, item: dict[str, object], score: bool) -> dict[str, object]:
        clear = getattr(self.qa.archive.embedder, "clear", None)
        if clear:
            clear()
        if self.profiler is not None:
            self.profiler.enable()
        ans = self.qa.ask(str(item["question"]))
        if self.profiler is not None:
            self.profiler.disable()
        out: dict[str, object] = {"retrieve": ans.ms.get("retrieve", 0.0), "total": ans.ms.get("total", 0.0)}
        if score:
            out["refused"] = ans.refused
            out["docs"] = list(dict.fromkeys(c.doc_id for c in ans.citations))
            out["citations"] = len(ans.citations)
            out["replica_citations"] = sum(1 for c in ans.citations if is_replica(c.doc_id))
            if item.get("doc"):  # the ranking alone, refusal not applied (not timed)
                out["ranked"] = list(dict.fromkeys(h.doc_id for h in self.qa.retrieve(str(item["question"])).hits))
        return out

    def stats(self) -> dict[str, object]:
        if self.profiler is not None and self.profile is not None:
            self.profiler.dump_stats(str(self.profile))
        rss_after, rss_peak = rss_mb()
        return {"db": str(self.db), "documents": len(self.qa.archive.documents()),
                "passages": len(self.qa.archive.keyword().rows), "disk_mb": folder_mb(self.db),
                "load_s": self.load_s, "rss_loaded_mb": self.rss_loaded, "rss_after_mb": rss_after,
                "rss_peak_mb": rss_peak}


@dataclass
class Tally:
    """Latencies of every pass; dev-set scores of the first."""

    retrieve_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    hits_original: list[int] = field(default_factory=list)
    hits_any: list[int] = field(default_factory=list)
    hits_ranking: list[int] = field(default_factory=list)
    refused_ok: list[int] = field(default_factory=list)
    wrongly_refused: list[int] = field(default_factory=list)
    citations: int = 0
    replica_citations: int = 0

    def add(self, item: dict[str, object], got: dict[str, object]) -> None:
        self.retrieve_ms.append(float(got["retrieve"]))  # type: ignore[arg-type]
        self.total_ms.append(float(got["total"]))  # type: ignore[arg-type]
        if "docs" not in got:
            return
        self.citations += int(got["citations"])  # type: ignore[call-overload]
        self.replica_citations += int(got["replica_citations"])  # type: ignore[call-overload]
        gold = item.get("doc")
        if not gold:
            self.refused_ok.append(int(bool(got["refused"])))
            return
        docs: list[str] = list(got["docs"])  # type: ignore[call-overload]
        self.wrongly_refused.append(int(bool(got["refused"])))
        self.hits_original.append(int(gold in docs[:5]))
        bases = list(dict.fromkeys(d.split("/", 1)[1] if is_replica(d) else d for d in docs))
        self.hits_any.append(int(gold in bases[:5]))
        self.hits_ranking.append(int(gold in list(got.get("ranked") or [])[:5]))  # type: ignore[call-overload]

    def summary(self) -> dict[str, object]:
        r, t = self.retrieve_ms, self.total_ms
        return {
            "samples": len(r),
            "retrieve_p50": statistics.median(r), "retrieve_p95": pct(r, 0.95), "retrieve_max": max(r),
            "total_p50": statistics.median(t), "total_p95": pct(t, 0.95), "total_max": max(t),
            "hit5_original": mean(self.hits_original), "hit5_any": mean(self.hits_any),
            "hit5_ranking": mean(self.hits_ranking), "refusal_acc": mean(self.refused_ok),
            "wrongly_refused": mean(self.wrongly_refused), "citations": self.citations,
            "replica_citations": self.replica_citations,
        }


def measure(db: Path, questions: Path, passes: int = 3, profile: Path | None = None) -> dict[str, object]:
    """What a serving process costs over `db` (this process): load time and memory, retrieval and
    extractive end-to-end latency over the questions `passes` times, dev-set scores."""
    items = read_questions(questions)
    server = Server(db, profile)
    tally = Tally()
    for p in range(passes):
        for item in items:
            tally.add(item, server.ask(item, score=p == 0))
    return {**server.stats(), **tally.summary(), "questions": len(items), "passes": passes}


def measure_side_by_side(dbs: list[Path], questions: Path, passes: int = 3,
                         profiles: list[Path] | None = None) -> list[dict[str, object]]:
    """`measure` for several indexes at once, each in its own serving process (`python -m speechqa.scale
    serve`), asked the same question one after the other (the order swapped every question), so that
    load that comes and goes on a shared machine hits all of them alike."""
    items = read_questions(questions)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    procs = []
    for i, db in enumerate(dbs):
        cmd = [sys.executable, "-m", "speechqa.scale", "serve", "--db", str(db)]
        if profiles:
            cmd += ["--profile", str(profiles[i])]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, env=env, cwd=Path(__file__).resolve().parents[1]))

    def call(proc: subprocess.Popen[str], message: dict[str, object]) -> dict[str, object]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"serving process for {message} ended (exit {proc.wait()})")
        return json.loads(line)

    try:
        for proc in procs:  # each loads in turn: start-up times are not inflated by each other
            call(proc, {"cmd": "ready"})
        tallies = [Tally() for _ in dbs]
        n = 0
        for p in range(passes):
            for item in items:
                order = list(range(len(dbs)))
                if n % 2:
                    order.reverse()
                n += 1
                for i in order:
                    tallies[i].add(item, call(procs[i], {"cmd": "ask", "item": item, "score": p == 0}))
        stats = [call(proc, {"cmd": "stats"}) for proc in procs]
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return [{**s, **t.summary(), "questions": len(items), "passes": passes} for s, t in zip(stats, tallies, strict=True)]


def _serve(db: Path, profile: Path | None) -> None:
    """The serving side of `measure_side_by_side`: JSON commands on stdin, one JSON answer each on stdout.
    The index is loaded on the first command, so that processes started together load one after another."""
    server: Server | None = None
    for line in sys.stdin:
        msg = json.loads(line)
        if server is None:
            server = Server(db, profile)
        if msg["cmd"] == "ready":
            out: dict[str, object] = {"ready": True}
        elif msg["cmd"] == "ask":
            out = server.ask(msg["item"], bool(msg.get("score")))
        else:
            out = server.stats()
        print(json.dumps(out, ensure_ascii=False), flush=True)


def _main(argv: list[str] | None = None) -> int:
    apply_defaults()
    parser = argparse.ArgumentParser(prog="python -m speechqa.scale")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="grow the archive in --db to --scale times its size")
    b.add_argument("--db", required=True)
    b.add_argument("--scale", type=int, required=True)
    b.add_argument("--noise", type=float, default=None, help="per-component noise (default: calibrated)")
    b.add_argument("--calibration", type=int, default=64)
    m = sub.add_parser("measure", help="serving figures over one or more --db, side by side")
    m.add_argument("--db", required=True, action="append")
    m.add_argument("--questions", required=True)
    m.add_argument("--passes", type=int, default=3)
    m.add_argument("--profile", action="append", help="write cProfile stats of the questions here (one per --db)")
    s = sub.add_parser("serve", help="(used by measure) answer JSON commands on stdin")
    s.add_argument("--db", required=True)
    s.add_argument("--profile")
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        _serve(Path(args.db), Path(args.profile) if args.profile else None)
        return 0
    if args.cmd == "build":
        from vectorstore.archive import Archive

        archive = Archive(Settings(db=Path(args.db)))
        report = build_replicas(archive, args.scale, noise=args.noise, calibration=args.calibration,
                                progress=lambda msg: print(msg, file=sys.stderr, flush=True))
        out: object = {**asdict(report), "rss_peak_mb": rss_mb()[1], "disk_mb": folder_mb(Path(args.db))}
    else:
        dbs = [Path(d) for d in args.db]
        profiles = [Path(p) for p in args.profile] if args.profile else None
        if len(dbs) == 1:
            out = [measure(dbs[0], Path(args.questions), args.passes, profiles[0] if profiles else None)]
        else:
            out = measure_side_by_side(dbs, Path(args.questions), args.passes, profiles)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
