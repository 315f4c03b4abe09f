"""Crash safety (issue 4) and reading during a crash (issue 7).

The real CLI (`python -m speechqa.cli ingest FOLDER --db DB`) runs as a subprocess and is killed with
SIGKILL at points spread over its run (the clock starts when it opens the catalog: before that it only
loads the model and writes nothing): while it builds a fresh index, while changed files are re-indexed,
while `--sync` removes documents, and right inside a document write (a `pending` row seen) or a removal.
Rerunning the same command (in this process, through the same `speechqa.cli.main`) must leave exactly
what a clean build of the same folder holds: the same documents, texts, passages (ids, offsets, sections,
tokens), no stray passage rows, and the same vectors (Chroma ids, metadata, embeddings, count), with the
keyword index in step. Vectors are in Chroma's embedded store (PersistentClient).

A second test asks questions in this process, in a loop, while another process re-indexes and is killed:
no ask may raise, and no citation may show a document that is not whole in the index.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import cli_argv
from tests.support.env import ENV, REPO

pytestmark = pytest.mark.slow


PLACES = ["东城区", "西城区", "南湖区", "北山县", "江滨市", "河口镇", "青松县", "白云区", "石桥乡", "金沙县",
          "临江区", "凤鸣镇", "红旗区", "长乐县", "新港区", "梅林镇"]
TOPICS = ["停车收费", "社区食堂", "老旧小区改造", "垃圾分类", "公交线路", "河道治理", "学校建设", "养老服务",
          "农村公路", "夜市管理", "供暖保障", "防汛准备", "菜市场升级", "口袋公园", "充电桩建设", "托育服务"]


def speech(i: int, version: int, paragraphs: int) -> str:
    """A small speech with figures unique to (document, version): a wrong version is detectable."""
    place, topic = PLACES[i], TOPICS[i]
    lines = [f"在{place}{topic}工作推进会上的讲话", f"（2023年{i % 12 + 1}月{i + 3}日）", ""]
    for j in range(paragraphs):
        figure = 1000 * (i + 1) + 100 * version + j
        lines.append(
            f"第{j + 1}项，{place}{topic}要抓紧抓实。今年{place}安排{topic}专项资金{figure}万元，"
            f"完成改造点位{figure % 97 + 3}处，第{version + 1}轮督查发现问题{j + 2}个，"
            f"由{place}{topic}办公室牵头整改，月底前报区政府。"
        )
    return "\n".join(lines) + "\n"


def write_folder(folder: Path, docs: dict[int, tuple[int, int]]) -> None:
    """docs: document number -> (version, paragraphs)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i, (version, paragraphs) in docs.items():
        (folder / f"speech_{i:02d}.txt").write_text(speech(i, version, paragraphs), encoding="utf-8")


# Base folder A; B changes three files (longer, shorter, same length) and adds three; C (with --sync)
# drops four, changes two and adds one.
FOLDER_A = {i: (0, 4 + i % 4) for i in range(10)}
FOLDER_B = {**FOLDER_A, 1: (1, 9), 4: (1, 2), 7: (1, FOLDER_A[7][1]), 10: (0, 5), 11: (0, 6), 12: (0, 3)}
FOLDER_C = {i: v for i, v in FOLDER_A.items() if i not in (0, 3, 5, 8)} | {2: (2, 3), 6: (2, 8), 13: (0, 4)}


def run_in_process(args: list[str]) -> int:
    """The same command, in this process (the embedding model is loaded once for all reruns)."""
    from speechqa.cli import main

    return main(args)


# --- what an index holds ---------------------------------------------------------------------------


@dataclass
class State:
    documents: dict[str, tuple[object, ...]]
    texts: dict[str, str]
    passages: list[tuple[object, ...]]
    all_passage_rows: list[tuple[object, ...]]  # every row of the table, also those of non-ok documents
    dense: dict[str, dict[str, object]]
    vectors: dict[str, np.ndarray]
    dense_count: int
    dense_doc_ids: set[str]
    keyword_ids: list[str]
    extra: dict[str, object] = field(default_factory=dict)


def read_state(db: Path) -> State:
    from core.settings import Settings
    from vectorstore.archive import Archive

    archive = Archive(Settings(db=db))
    cat, coll = archive.catalog, archive.collection
    docs = {
        d.doc_id: (d.sha256, d.state, d.title, d.date, d.speaker, d.meeting, d.format, d.n_passages)
        for d in cat.documents(coll, state=None)
    }
    passages = [(p.doc_id, p.idx, p.start, p.end, p.section, p.page, tuple(p.tokens)) for p in cat.passages(coll)]
    with sqlite3.connect(cat.path) as con:
        all_rows = con.execute(
            'SELECT doc_id, idx, start, "end" FROM passages WHERE collection=? ORDER BY doc_id, idx', (coll,)
        ).fetchall()
    got = archive.dense.collection.get(include=["metadatas", "embeddings"])
    dense = {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
    vectors = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}
    state = State(
        documents=docs, texts=cat.texts(coll), passages=passages, all_passage_rows=all_rows, dense=dense,
        vectors=vectors, dense_count=archive.dense.count(), dense_doc_ids=archive.dense.doc_ids(),
        keyword_ids=[r.passage_id for r in archive.keyword().rows],
    )
    archive.catalog.close()
    return state


def assert_same_index(got: State, want: State, label: str) -> None:
    assert got.documents == want.documents, f"{label}: documents differ"
    assert all(d[1] == "ok" for d in got.documents.values()), f"{label}: documents left pending"
    assert got.texts == want.texts, f"{label}: document texts differ"
    assert got.passages == want.passages, f"{label}: passages differ"
    assert got.all_passage_rows == want.all_passage_rows, f"{label}: stale passage rows"
    assert sorted(got.dense) == sorted(want.dense), f"{label}: Chroma ids differ"
    assert got.dense == want.dense, f"{label}: Chroma metadata differs"
    assert got.dense_count == want.dense_count == len(want.passages), f"{label}: Chroma count"
    assert got.dense_doc_ids == set(want.documents), f"{label}: Chroma documents"
    assert got.keyword_ids == [f"{p[0]}#{p[1]}" for p in want.passages], f"{label}: keyword index"
    for pid, vec in want.vectors.items():
        cos = float(np.dot(vec, got.vectors[pid]) / (np.linalg.norm(vec) * np.linalg.norm(got.vectors[pid])))
        assert cos > 0.999, f"{label}: vector of {pid} differs (cosine {cos:.4f})"


# --- killing ---------------------------------------------------------------------------------------


def catalog_open(pid: int, db: Path) -> bool:
    """True once the process holds the catalog open: its model is loaded and it is using the archive."""
    target = str(db / "catalog.sqlite3")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False


class CatalogWatch:
    """Reads the catalog's document rows while another process writes it (one read-only connection,
    polled in a tight loop: a document is `pending` for only some tens of milliseconds)."""

    def __init__(self, db: Path) -> None:
        self.path = db / "catalog.sqlite3"
        self.con: sqlite3.Connection | None = None

    def rows(self) -> list[tuple[str, str]] | None:
        """(doc_id, state) of every row, or None while the catalog cannot be read yet."""
        try:
            if self.con is None:
                if not self.path.exists():
                    return None
                self.con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0.2)
            return self.con.execute("SELECT doc_id, state FROM documents").fetchall()
        except sqlite3.Error:
            return None

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


@dataclass
class Kill:
    killed: bool
    after: float  # seconds after the CLI opened the catalog
    how: str


def run_and_kill(args: list[str], db: Path, delay: float | None = None, watch: str = "",
                 docs: frozenset[str] = frozenset(), extra: float = 0.0, timeout: float = 600.0) -> Kill:
    """Start the CLI and SIGKILL it: `delay` seconds after it opened the catalog (the clock starts there:
    before, it only loads the model and writes nothing), or `extra` seconds after it is seen
    - `watch="write"`: writing a document (a `pending` row),
    - `watch="removal"`: removing one of `docs` (its row `pending`, or gone),
    - `watch="rows"`: having committed all of `docs`."""
    log = open(db.parent / f"{db.name}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(cli_argv(*args), env=ENV, cwd=REPO, stdout=log, stderr=log)
    catalog = CatalogWatch(db)
    try:
        deadline = time.monotonic() + timeout
        while not catalog_open(proc.pid, db):
            if proc.poll() is not None:
                return Kill(False, 0.0, "exited before opening the catalog")
            if time.monotonic() > deadline:
                raise TimeoutError("the CLI never opened the catalog")
            time.sleep(0.005)
        t0 = time.monotonic()
        if watch:
            while True:
                rows = catalog.rows()
                if rows is not None:
                    state = dict(rows)
                    if ((watch == "write" and "pending" in state.values())
                            or (watch == "removal" and any(state.get(d, "pending") == "pending" for d in docs))
                            or (watch == "rows" and all(state.get(d) == "ok" for d in docs))):
                        break
                if proc.poll() is not None:
                    return Kill(False, time.monotonic() - t0, f"finished before a {watch} was seen")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no {watch} seen")
            time.sleep(extra)
            how = f"{watch} seen, +{extra:.3f}s"
        else:
            while time.monotonic() - t0 < (delay or 0.0):
                if proc.poll() is not None:
                    return Kill(False, time.monotonic() - t0, "finished before the kill")
                time.sleep(0.002)
            how = f"+{delay:.2f}s"
        if proc.poll() is not None:
            return Kill(False, time.monotonic() - t0, "finished before the kill")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        return Kill(True, time.monotonic() - t0, how)
    finally:
        catalog.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


# --- the tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Folders A, B, C; clean builds of each (the same CLI command, run in this process); and how long the
    incremental runs from A's index take (they are checked against the clean builds too)."""
    from core.settings import Settings
    from vectorstore.embeddings import get_embedder

    root = tmp_path_factory.mktemp("crash")
    out: dict[str, object] = {"root": root}
    get_embedder(Settings())  # loaded before anything is timed
    for name, docs in (("A", FOLDER_A), ("B", FOLDER_B), ("C", FOLDER_C)):
        folder = root / f"folder_{name}"
        write_folder(folder, docs)
        db = root / f"clean_{name}"
        t0 = time.monotonic()
        assert run_in_process(["ingest", str(folder), "--db", str(db)]) == 0
        out[f"seconds_{name}"] = time.monotonic() - t0
        out[f"folder_{name}"] = folder
        out[f"clean_{name}"] = db
        out[f"state_{name}"] = read_state(db)
    for name, sync in (("B", False), ("C", True)):
        db = root / f"incremental_{name}"
        shutil.copytree(root / "clean_A", db)
        t0 = time.monotonic()
        args = ["ingest", str(out[f"folder_{name}"]), "--db", str(db)] + (["--sync"] if sync else [])
        assert run_in_process(args) == 0
        out[f"seconds_{name}"] = time.monotonic() - t0
        assert_same_index(read_state(db), out[f"state_{name}"], f"incremental A -> {name}")  # type: ignore[arg-type]
    return out


@dataclass
class Plan:
    scenario: str  # fresh | changed | sync
    fraction: float | None = None  # of the run's expected length, for a timed kill
    watch: str = ""  # or: kill when a write / removal is seen
    extra: float = 0.0


SCENARIOS = {"fresh": ("A", False, False), "changed": ("B", True, False), "sync": ("C", True, True)}


def test_killed_ingest_then_rerun_equals_a_clean_build(world: dict[str, object]) -> None:
    from vectorstore.chroma_store import DenseStore

    root: Path = world["root"]  # type: ignore[assignment]
    rng = random.Random(int(os.environ.get("SPEECHQA_CRASH_SEED", "7")))
    expected = {s: float(world[f"seconds_{t}"]) for s, (t, _, _) in SCENARIOS.items()}  # type: ignore[arg-type]
    n = 2  # timed kills per scenario: one in each half of the run
    plans = [Plan(s, fraction=(k + rng.random()) / n * 0.95) for s in SCENARIOS for k in range(n)]
    rng.shuffle(plans)
    # Right inside a write: a document is pending for some tens of milliseconds (old vectors deleted, new
    # ones added, then the catalog commit), a removal likewise.
    plans += [Plan("changed", watch="write", extra=rng.uniform(0, 0.03)),
              Plan("changed", watch="write", extra=rng.uniform(0, 0.03)),
              Plan("fresh", watch="write", extra=rng.uniform(0, 0.03)),
              Plan("fresh", watch="write", extra=rng.uniform(0, 0.03)),
              Plan("sync", watch="removal", extra=rng.uniform(0, 0.03)),
              Plan("sync", watch="removal", extra=0.0)]

    def kill_run(t: int, plan: Plan) -> tuple[Path, list[str], Kill]:
        target, base, sync = SCENARIOS[plan.scenario]
        db = root / f"trial_{t:02d}"
        if base:
            shutil.copytree(world["clean_A"], db)  # type: ignore[arg-type]
        args = ["ingest", str(world[f"folder_{target}"]), "--db", str(db)] + (["--sync"] if sync else [])
        delay = None if plan.watch else plan.fraction * expected[plan.scenario]  # type: ignore[operator]
        gone = frozenset(f"speech_{i:02d}.txt" for i in FOLDER_A if i not in FOLDER_C)
        kill = run_and_kill(args, db, delay, plan.watch, gone, plan.extra)
        return db, args, kill

    report: list[tuple[int, Plan, Kill]] = []
    retried: set[int] = set()
    # The next trial's CLI starts (model load: seconds) while this process reruns and checks the last one.
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(kill_run, 0, plans[0])
        t = 0
        while t < len(plans):
            plan = plans[t]
            db, args, kill = future.result()
            if not kill.killed and not plan.watch and id(plan) not in retried:
                # The run was shorter than expected: learn its length and try that point once more.
                expected[plan.scenario] = kill.after
                retried.add(id(plan))
                plans.append(plan)
            if t + 1 < len(plans):
                future = pool.submit(kill_run, t + 1, plans[t + 1])
            report.append((t, plan, kill))
            label = f"trial {t} ({plan.scenario}, {kill})"
            assert run_in_process(args) == 0, f"{label}: the rerun failed"
            target = SCENARIOS[plan.scenario][0]
            assert_same_index(read_state(db), world[f"state_{target}"], label)  # type: ignore[arg-type]
            DenseStore.forget_clients()
            t += 1
    print("\n" + "\n".join(f"trial {t:2d} {p.scenario:8s} killed={k.killed!s:5s} at {k.after:6.2f}s ({k.how})"
                           for t, p, k in report))
    killed = [(p, k) for _, p, k in report if k.killed]
    assert len(killed) >= 10, report
    assert {p.scenario for p, _ in killed} == set(SCENARIOS)
    assert any(p.watch == "removal" for p, _ in killed) and any(p.watch == "write" for p, _ in killed)


# --- issue 7: readers while an ingest runs and is killed ---------------------------------------------


def versions_of(folders: list[Path]) -> dict[str, list[tuple[str, set[tuple[int, int]]]]]:
    """Every version of every document a reader may legitimately see: (cleaned text, passage spans)."""
    from core.settings import Settings
    from ingest import load_document, split_document

    s = Settings()
    out: dict[str, list[tuple[str, set[tuple[int, int]]]]] = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            doc = load_document(path, path.name)
            spans = {(p.start, p.end) for p in split_document(doc, s.chunk_size, s.chunk_overlap)}
            if all(v[0] != doc.text for v in out.get(path.name, [])):
                out.setdefault(path.name, []).append((doc.text, spans))
    return out


def test_readers_during_a_killed_ingest_never_fail_nor_cite_half_documents(world: dict[str, object]) -> None:
    """While the CLI re-indexes changed files and adds new ones (folder A -> B) and is killed, a reader in
    this process (opened before, like a running app) asks in a loop. It never raises, and every citation is
    a passage of a whole version of its document: the text at the cited offsets is that version's text,
    the highlighted span is one of its passages, and a version that was not in the index before the run is
    cited only if it is, completely, in the index the killed run left behind."""
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.chroma_store import DenseStore

    root: Path = world["root"]  # type: ignore[assignment]
    db = root / "reader_db"
    shutil.copytree(world["clean_A"], db)  # type: ignore[arg-type]
    versions = versions_of([world["folder_A"], world["folder_B"]])  # type: ignore[list-item]
    new_texts = {d: t for d, t in read_state(world["clean_B"]).texts.items()  # type: ignore[arg-type]
                 if t != world["state_A"].texts.get(d)}  # type: ignore[attr-defined]
    questions = [f"{PLACES[i]}今年安排{TOPICS[i]}专项资金多少万元？" for i in FOLDER_B]
    questions += [f"{PLACES[i]}{TOPICS[i]}第{j}项完成改造点位多少处？" for i in (1, 4, 7, 10) for j in (1, 2)]

    qa = QA(Settings(db=db))
    rng = random.Random(11)
    args = ["ingest", str(world["folder_B"]), "--db", str(db)]
    # Killed after the first new file is in (files go in name order: the changed ones, 01, 04 (it shrank:
    # stale vectors deleted) and 07, were replaced before), while the next is embedded or written.
    box: dict[str, Kill] = {}
    writer = threading.Thread(target=lambda: box.setdefault(
        "kill", run_and_kill(args, db, watch="rows", docs=frozenset({"speech_10.txt"}), extra=rng.uniform(0, 0.3))))
    answers, errors = [], []
    writer.start()
    ended = None
    while ended is None or time.monotonic() - ended < 1.5:  # and a little after the kill
        q = rng.choice(questions)
        try:
            answers.append((q, qa.ask(q)))
        except Exception:  # noqa: BLE001
            errors.append(traceback.format_exc())
        if ended is None and not writer.is_alive():
            ended = time.monotonic()
    writer.join()
    kill = box["kill"]
    assert not errors, f"{len(errors)} of {len(answers) + len(errors)} asks raised:\n{errors[0]}"
    assert kill.killed, kill
    assert len(answers) >= 10 and sum(bool(a.citations) for _, a in answers) >= len(answers) // 4

    left = read_state(db)  # what the killed run left (no rerun yet)
    by_doc: dict[str, list[tuple[object, ...]]] = {}
    for p in left.passages:
        by_doc.setdefault(str(p[0]), []).append(p)
    cited_new = set()
    for q, ans in answers:
        for c in ans.citations:
            match = [text for text, spans in versions[c.doc_id]
                     if text[c.start : c.end] == c.text and (c.hit_start, c.hit_end) in spans]
            assert match, f"{q}: citation of {c.doc_id} [{c.start}:{c.end}] matches no whole version"
            if c.doc_id in new_texts and match[0] == new_texts[c.doc_id]:
                cited_new.add(c.doc_id)
    for doc_id in cited_new:  # cited in its new version: then that version is in the index, whole
        assert left.texts.get(doc_id) == new_texts[doc_id], doc_id
        assert left.documents[doc_id][1] == "ok"
        ids = {f"{p[0]}#{p[1]}" for p in by_doc[doc_id]}
        assert {i for i, m in left.dense.items() if m["doc_id"] == doc_id} == ids, doc_id
        assert {m["sha256"] for i, m in left.dense.items() if m["doc_id"] == doc_id} == {left.documents[doc_id][0]}
    print(f"\n{len(answers)} answers, {sum(len(a.citations) for _, a in answers)} citations, "
          f"new versions cited: {sorted(cited_new)}; {kill}")

    # and this process, which had the store open throughout, repairs the index like any rerun
    assert run_in_process(args) == 0
    assert_same_index(read_state(db), world["state_B"], "rerun after the reader")  # type: ignore[arg-type]
    DenseStore.forget_clients()
