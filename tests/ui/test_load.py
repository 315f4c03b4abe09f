"""8 users asking through the app's HTTP API while an administrator re-indexes: no errors, and no
answer cites a document that is not fully indexed (issues 6 and 7)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from core.settings import Settings
from speechqa.loadtest import run_load
from tests.support.app_server import DEMO_ARCHIVE, DEMO_QUESTION, OUT_OF_SCOPE, serve_app

pytestmark = pytest.mark.slow

QUESTIONS = [
    DEMO_QUESTION,
    "临江区2026年地区生产总值增长目标是多少？",
    "市城管局计划新增多少个生活垃圾分类投放点？",
    "青川市年内新建多少个口袋公园？",
    OUT_OF_SCOPE,
]
NEW_DOC = "关于口袋公园建设的通知\n青川市年内新建口袋公园四十五个，由市园林局负责，年底前全部建成。\n"


def test_eight_users_while_the_archive_is_reindexed(tmp_path: Path) -> None:
    from bot.qa import QA

    folder = tmp_path / "archive"
    shutil.copytree(DEMO_ARCHIVE, folder)
    settings = Settings(db=tmp_path / "db")
    qa = QA(settings)
    assert not qa.archive.index_paths([folder]).failed
    before = {d["doc_id"]: qa.get_document(str(d["doc_id"])).text for d in qa.list_documents()}  # type: ignore[union-attr]
    reindex_errors: list[BaseException] = []

    def admin() -> None:
        try:
            (folder / "口袋公园.txt").write_text(NEW_DOC, "utf-8")
            for path in list(folder.rglob("*.md"))[:3]:  # corrected versions of three documents
                path.write_text(path.read_text("utf-8") + "\n（本文已更正。）\n", "utf-8")
            qa.archive.index_paths([folder], sync=True)
        except BaseException as exc:  # noqa: BLE001
            reindex_errors.append(exc)

    with serve_app(qa, settings) as url:
        worker = threading.Thread(target=admin)
        worker.start()
        result = run_load(url, QUESTIONS, users=8, seconds=25, keep_answers=True)
        worker.join(timeout=300)
    assert not worker.is_alive(), "the re-index did not finish within 300 s"
    assert not reindex_errors
    assert result.errors == [], result.errors[:3]
    assert result.requests >= 8
    # every cited passage is exactly the text of its document, as the catalog holds it now or held it before
    # the re-index, at the offsets the citation gives: never a mix of two versions, never a removed document
    for ans in result.answers:
        for c in ans["citations"]:  # type: ignore[union-attr]
            doc = qa.get_document(c["doc_id"])
            versions = [t for t in (before.get(c["doc_id"]), doc.text if doc else None) if t is not None]
            assert versions, c["doc_id"]
            assert c["text"].strip() and any(t[c["start"] : c["end"]] == c["text"] for t in versions), c
    final = qa.ask("青川市年内新建多少个口袋公园？")
    assert not final.refused and final.citations[0].doc_id == "口袋公园.txt"
