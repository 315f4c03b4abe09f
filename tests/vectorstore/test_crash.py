"""Crash safety (issue 4) and reading during a crash (issue 7).

The real CLI runs as a subprocess and is killed with SIGKILL at points spread over its run: while it
builds a fresh index, while changed files are re-indexed, while `--sync` removes documents, and right
inside a document write (between `pending` and `ok`). Rerunning the same command must leave exactly what
a clean build of the same folder holds: the same documents, passages (ids, offsets, tokens) and vectors
(Chroma ids, metadata, count), and nothing else.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}

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


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "speechqa.cli", *args]


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
    from speechqa.settings import Settings
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


# --- killing ----------------------------------------------------------------------------------------


def catalog_open(pid: int, db: Path) -> bool:
    """True once the process holds the catalog open: the model is loaded, the archive is being used."""
    target = str(db / "catalog.sqlite3")
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


def pending_or_fewer(db: Path, start_docs: int) -> bool:
    """A document write or removal is under way: a `pending` row, or fewer rows than at the start."""
    path = db / "catalog.sqlite3"
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
        try:
            pending, total = con.execute(
                "SELECT SUM(state='pending'), COUNT(*) FROM documents"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return bool(pending) or (total or 0) < start_docs


@dataclass
class Kill:
    killed: bool
    after: float  # seconds after the archive was opened
    how: str


def run_and_kill(args: list[str], db: Path, delay: float | None, start_docs: int = 0, extra: float = 0.0,
                 timeout: float = 300.0) -> Kill:
    """Start the CLI; SIGKILL it `delay` seconds after it opened the catalog, or (delay None) `extra`
    seconds after a document write or removal is seen under way."""
    log = open(db.parent / f"{db.name}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(cli(*args), env=ENV, cwd=REPO, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + timeout
        while not catalog_open(proc.pid, db):
            if proc.poll() is not None:
                return Kill(False, 0.0, "exited before opening the catalog")
            if time.monotonic() > deadline:
                raise TimeoutError("the CLI never opened the catalog")
            time.sleep(0.005)
        t0 = time.monotonic()
        if delay is None:
            while not pending_or_fewer(db, start_docs):
                if proc.poll() is not None:
                    return Kill(False, time.monotonic() - t0, "finished before a write was seen")
                if time.monotonic() > deadline:
                    raise TimeoutError("no write seen")
                time.sleep(0.002)
            time.sleep(extra)
            how = f"write seen, +{extra:.3f}s"
        else:
            time.sleep(delay)
            how = f"+{delay:.2f}s"
        if proc.poll() is not None:
            return Kill(False, time.monotonic() - t0, "finished before the kill")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        return Kill(True, time.monotonic() - t0, how)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


# --- the test ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Folders A, B, C and clean builds of each (the same CLI command, run once in this process)."""
    root = tmp_path_factory.mktemp("crash")
    out: dict[str, object] = {"root": root}
    for name, docs in (("A", FOLDER_A), ("B", FOLDER_B), ("C", FOLDER_C)):
        folder = root / f"folder_{name}"
        write_folder(folder, docs)
        db = root / f"clean_{name}"
        t0 = time.monotonic()
        assert run_in_process(["ingest", str(folder), "--db", str(db)]) == 0
        out[f"seconds_{name}"] = time.monotonic() - t0
        out[f"folder_{name}"] = folder
        out[f"clean_{name}"] = db
    for name, sync in (("B", False), ("C", True)):  # how long the incremental runs from A take
        db = root / f"timing_{name}"
        shutil.copytree(root / "clean_A", db)
        t0 = time.monotonic()
        assert run_in_process(["ingest", str(out[f"folder_{name}"]), "--db", str(db)] + (["--sync"] if sync else [])) == 0
        out[f"seconds_{name}"] = time.monotonic() - t0
    return out


def test_killed_ingest_then_rerun_equals_a_clean_build(world: dict[str, object]) -> None:
    from vectorstore.chroma_store import DenseStore

    root: Path = world["root"]  # type: ignore[assignment]
    rng = random.Random(int(os.environ.get("SPEECHQA_CRASH_SEED", "4")))
    want = {name: read_state(world[f"clean_{name}"]) for name in "ABC"}  # type: ignore[arg-type]
    n_a = len(FOLDER_A)
    # (scenario, start from A's index?, target folder, --sync, kill plan)
    plans: list[tuple[str, bool, str, bool, float | None, float]] = []
    n = 4
    for scenario, base, target, sync, seconds in (("fresh", False, "A", False, world["seconds_A"]),
                                                  ("changed", True, "B", False, world["seconds_B"]),
                                                  ("sync", True, "C", True, world["seconds_C"])):
        for k in range(n):  # stratified: one random delay in each quarter of the run (plus a margin)
            plans.append((scenario, base, target, sync, (k + rng.random()) / n * float(seconds) * 1.2, 0.0))
    for scenario, base, target, sync in (("changed", True, "B", False), ("sync", True, "C", True),
                                         ("fresh", False, "A", False)):
        plans.append((scenario, base, target, sync, None, rng.uniform(0.0, 0.15)))  # inside a write
    report = []
    for t, (scenario, base, target, sync, delay, extra) in enumerate(plans):
        db = root / f"trial_{t:02d}"
        if base:
            shutil.copytree(world["clean_A"], db)  # type: ignore[arg-type]
        args = ["ingest", str(world[f"folder_{target}"]), "--db", str(db)] + (["--sync"] if sync else [])
        kill = run_and_kill(args, db, delay, start_docs=n_a if base else 0, extra=extra)
        report.append((t, scenario, kill))
        code = run_in_process(args)
        assert code == 0, f"trial {t} ({scenario}, {kill}): rerun failed"
        assert_same_index(read_state(db), want[target], f"trial {t} ({scenario}, {kill})")
        DenseStore.forget_clients()
    print("\n".join(f"trial {t:2d} {s:8s} killed={k.killed} at {k.after:6.2f}s ({k.how})" for t, s, k in report))
    killed = [r for r in report if r[2].killed]
    assert len(killed) >= 10, report
    assert {r[1] for r in killed} == {"fresh", "changed", "sync"}
