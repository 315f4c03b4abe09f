"""The CLI contract other tooling relies on, run as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.archives import CANTEEN, write
from tests.support.cli import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> tuple[Path, Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("cli")
    folder = root / "docs"
    folder.mkdir()
    (folder / "sub").mkdir()
    (folder / "seed_000.txt").write_bytes((corpus_dir / "seed_000.txt").read_bytes())
    write(folder, "sub/notice.txt", CANTEEN, "gbk")
    write(folder, "empty.txt", "")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "bad.txt").write_bytes(b"\xff\xfe\xfa" + bytes([0x80, 0x00, 0xC3]) * 500)
    db = root / "db"
    proc = run_cli("ingest", str(folder), "--db", str(db), "--json")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return folder, db, {"code": proc.returncode, "summary": summary, "stderr": proc.stderr}


def test_ingest_reports_each_bad_file_and_indexes_the_rest(indexed) -> None:  # noqa: ANN001
    _, _, result = indexed
    summary = result["summary"]
    assert result["code"] == 1
    assert summary["indexed"] == 2 and summary["unchanged"] == 0
    failed = {Path(f["path"]).name: f["error"] for f in summary["failed"]}
    assert set(failed) == {"empty.txt", "binary.txt", "bad.txt"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e) for e in failed.values())  # Chinese messages
    assert set(summary) == {"indexed", "unchanged", "failed", "chunks", "seconds"}
    assert summary["chunks"] > 0


def test_reingest_is_incremental(indexed) -> None:  # noqa: ANN001
    folder, db, _ = indexed
    proc = run_cli("ingest", str(folder), "--db", str(db), "--json")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 1, proc.stderr  # the bad files are still bad
    assert summary["indexed"] == 0 and summary["unchanged"] == 2 and len(summary["failed"]) == 3


def test_ask_json_contract(indexed) -> None:  # noqa: ANN001
    _, db, _ = indexed
    proc = run_cli("ask", "会议决定5月的工作重点是什么？", "--db", str(db), "--json", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"id", "question", "answer", "refused", "citations", "ms", "error", "mode", "units"}
    assert out["id"] is None and out["error"] == "" and out["mode"] == "extractive"
    assert out["refused"] is False and 1 <= len(out["citations"]) <= 3
    c = out["citations"][0]
    assert {"n", "doc_id", "source", "title", "date", "speaker", "text", "start", "end", "score"} <= set(c)
    assert c["source"] == "seed_000.txt" and "共享单车" in c["text"]
    assert set(out["ms"]) >= {"retrieve", "total"}


def test_ask_batch_keeps_input_order(indexed, tmp_path: Path) -> None:  # noqa: ANN001
    _, db, _ = indexed
    batch = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "社区食堂由哪个部门负责？"}, {"id": "b", "question": "第七次全国人口普查的标准时点是哪一天？"},
            {"id": "c", "question": "政策预判要做到哪三不当？"}]
    batch.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    proc = run_cli("ask", "--batch", str(batch), "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    outs = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [o["id"] for o in outs] == ["a", "b", "c"]
    assert outs[0]["citations"][0]["source"] == "sub/notice.txt"
    assert outs[1]["refused"] is True and outs[1]["citations"] == []
    assert outs[2]["citations"][0]["source"] == "seed_000.txt"


def test_ask_json_is_the_answers_own_json_form(indexed) -> None:  # noqa: ANN001
    """The CLI prints `Answer.to_dict()` (the form the app's HTTP API returns too), plus the outer "id"."""
    from bot.qa import QA
    from core.settings import Settings

    _, db, _ = indexed
    question = "社区食堂由哪个部门负责？"
    proc = run_cli("ask", question, "--db", str(db), "--json", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    qa = QA(Settings(db=db))
    try:
        expected = json.loads(json.dumps(qa.ask(question, k=3).to_dict(), ensure_ascii=False))
    finally:
        qa.archive.close()
    assert printed.pop("id") is None
    assert set(printed["ms"]) == set(expected["ms"])  # the timings themselves differ from run to run
    printed["ms"] = expected["ms"]
    assert printed == expected
    assert expected["citations"][0]["source"] == "sub/notice.txt"


def test_usage_error_exits_2() -> None:
    assert run_cli("ingest").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_docs_list_show_remove(indexed, tmp_path: Path) -> None:  # noqa: ANN001
    folder, db, _ = indexed
    db2 = tmp_path / "db2"
    assert run_cli("ingest", str(folder / "sub"), "--db", str(db2)).returncode == 0
    listed = json.loads(run_cli("docs", "list", "--json", "--db", str(db2)).stdout)
    assert [d["doc_id"] for d in listed] == ["notice.txt"]
    shown = run_cli("docs", "show", "notice.txt", "--db", str(db2))
    assert "社区食堂" in shown.stdout
    assert run_cli("docs", "remove", "notice.txt", "--db", str(db2)).returncode == 0
    assert json.loads(run_cli("docs", "list", "--json", "--db", str(db2)).stdout) == []
    assert run_cli("docs", "remove", "notice.txt", "--db", str(db2)).returncode == 1


def test_ingest_leaves_the_index_folder_whole_on_disk(tmp_path: Path) -> None:
    """After `ingest` returns, its catalog is closed: no WAL file that a copy of the folder could miss
    (in-process, as the crash test and the admin page run it)."""
    from speechqa.cli import main

    folder = tmp_path / "docs"
    write(folder, "notice.txt", "关于社区食堂建设的通知\n全区年内建成社区食堂二十家，由区民政局负责。\n")
    db = tmp_path / "db"
    assert main(["ingest", str(folder), "--db", str(db)]) == 0
    assert (db / "catalog.sqlite3").exists()
    assert not (db / "catalog.sqlite3-wal").exists()
