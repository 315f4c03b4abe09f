"""Re-indexing reads only folders under the configured roots, and never replaces a document with a file of
the same name from another place (issue 13). A real archive with the hashing embedder: no model needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from admin.service import Admin
from bot.pool import QAPool
from core.settings import Settings
from tests.support.admin import PASSWORD, admin_settings, hashed_pool
from tests.support.archives import write

PARK = "关于2027年城市绿化工作的安排\n青川市2027年计划新建口袋公园４５个，由市园林局负责。\n"
BUS = "关于公交线网优化的通知\n全市年内新开公交线路十二条，由市交通运输局负责组织实施。\n"


def _admin(tmp_path: Path, **kw: Any) -> tuple[Admin, QAPool, str]:
    settings = admin_settings(tmp_path, **kw)
    pool = hashed_pool(settings)
    admin = Admin(settings, pool, fail_delay_s=0.0)
    token, _ = admin.login(PASSWORD)
    return admin, pool, token


def _doc_ids(pool: QAPool) -> list[str]:
    return sorted(d.doc_id for d in pool.get(None).archive.documents())


def _text(pool: QAPool, doc_id: str) -> str:
    doc = pool.get(None).archive.document(doc_id)
    assert doc is not None, doc_id
    return doc.text


def test_only_the_upload_folder_by_default(tmp_path: Path) -> None:
    admin, pool, token = _admin(tmp_path)
    outside = tmp_path / "speeches"
    write(outside, "绿化.txt", PARK)
    refused = admin.reindex(token, None, str(outside))
    assert not refused.ok and not refused.changed and refused.rows == []
    assert "只能索引以下文件夹中的内容" in refused.message and str((tmp_path / "uploads").resolve()) in refused.message
    assert _doc_ids(pool) == []

    inside = write(tmp_path / "uploads" / "default", "绿化.txt", PARK).parent
    done = admin.reindex(token, None, str(inside))
    assert done.ok and _doc_ids(pool) == ["绿化.txt"]


def test_configured_roots_allow_their_folders_and_nothing_else(tmp_path: Path) -> None:
    roots = [tmp_path / "a", tmp_path / "b"]
    admin, pool, token = _admin(tmp_path, reindex_roots=roots)
    write(tmp_path / "a" / "市政府", "绿化.txt", PARK)
    write(tmp_path / "b", "公交.txt", BUS)
    write(tmp_path / "uploads" / "default", "上传.txt", BUS)
    write(tmp_path / "c", "其他.txt", BUS)
    for folder in (tmp_path / "c", tmp_path / "uploads", tmp_path, Path("/etc")):
        refused = admin.reindex(token, None, str(folder), sync=True)
        assert not refused.ok and "只能索引以下文件夹中的内容" in refused.message, folder
        assert str(roots[0]) in refused.message and str(roots[1]) in refused.message
    assert _doc_ids(pool) == []
    assert admin.reindex(token, None, str(tmp_path / "a" / "市政府")).ok
    assert admin.reindex(token, None, str(tmp_path / "b" / "公交.txt")).ok  # a single file under a root
    assert _doc_ids(pool) == ["公交.txt", "绿化.txt"]


def test_roots_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("SPEECHQA_REINDEX_ROOTS", f"{tmp_path / 'a'}, {tmp_path / 'b'}{os.pathsep}{tmp_path / 'c'}")
    assert Settings().reindex_roots == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    monkeypatch.setenv("SPEECHQA_REINDEX_ROOTS", str(tmp_path / "a"))
    admin = Admin(Settings(db=tmp_path / "db", admin_password=PASSWORD), hashed_pool(Settings(db=tmp_path / "db")),
                  fail_delay_s=0.0)
    token, _ = admin.login(PASSWORD)
    write(tmp_path / "b", "公交.txt", BUS)
    assert "只能索引" in admin.reindex(token, None, str(tmp_path / "b")).message
    write(tmp_path / "a", "绿化.txt", PARK)
    assert admin.reindex(token, None, str(tmp_path / "a")).ok


def test_dotdot_and_symlink_escapes_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    admin, pool, token = _admin(tmp_path, reindex_roots=[root])
    write(root / "inner", "公交.txt", BUS)
    secret = write(tmp_path / "secret", "机密.txt", PARK).parent
    (root / "link").symlink_to(secret, target_is_directory=True)
    (root / "inner" / "nested").symlink_to(tmp_path, target_is_directory=True)
    for given in (f"{root}/../secret", f"{root}/inner/../../secret", str(root / "link"),
                  f"{root}/inner/nested/secret", f"{root}/link/../inner"):
        refused = admin.reindex(token, None, given, sync=True)
        assert not refused.ok and "只能索引" in refused.message, given
    assert _doc_ids(pool) == []
    (tmp_path / "alias").symlink_to(root / "inner", target_is_directory=True)  # a link into a root is fine
    assert admin.reindex(token, None, str(tmp_path / "alias")).ok
    assert _doc_ids(pool) == ["公交.txt"]


def test_the_same_file_name_in_two_folders_never_replaces_the_first(tmp_path: Path) -> None:
    root = tmp_path / "root"
    admin, pool, token = _admin(tmp_path, reindex_roots=[root])
    first = write(root / "甲", "report.txt", PARK).parent
    write(root / "甲", "公交.txt", BUS)
    second = write(root / "乙", "report.txt", BUS).parent
    assert admin.reindex(token, None, str(first)).ok

    clash = admin.reindex(token, None, str(second))
    assert not clash.ok and not clash.changed
    row = next(r for r in clash.rows if r[0] == "report.txt")
    assert row[1] == "失败" and "已有同名文档“report.txt”" in str(row[3]) and "未替换" in str(row[3])
    assert "口袋公园" in _text(pool, "report.txt")  # still the first folder's document
    assert _doc_ids(pool) == ["report.txt", "公交.txt"]
    synced = admin.reindex(token, None, str(second), sync=True)  # the sync removes 公交.txt, not the name
    assert not synced.ok and _doc_ids(pool) == ["report.txt"] and "口袋公园" in _text(pool, "report.txt")

    # the first folder keeps updating its own document
    (first / "report.txt").write_text(PARK + "各区要做好选址和养护工作。\n", encoding="utf-8")
    again = admin.reindex(token, None, str(first))
    assert again.ok and [r[1] for r in again.rows] == ["已索引", "已索引"]
    assert "选址和养护" in _text(pool, "report.txt")

    # once the document is removed, the second folder's file may take the name
    assert admin.remove(token, None, "report.txt").ok
    assert admin.reindex(token, None, str(second)).ok
    assert "公交线路" in _text(pool, "report.txt")
    assert not admin.reindex(token, None, str(first)).ok  # and now the first folder's is refused


def test_a_document_of_unknown_origin_is_replaced_only_by_the_same_bytes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    admin, pool, token = _admin(tmp_path, reindex_roots=[root])
    cli = write(tmp_path / "cli", "report.txt", PARK).parent
    assert pool.get(None).archive.index_paths([cli]).count("indexed") == 1  # as `speechqa ingest` does
    write(root / "other", "report.txt", BUS)
    refused = admin.reindex(token, None, str(root / "other"))
    assert not refused.ok and "已有同名文档" in str(refused.rows[0][3])
    assert "口袋公园" in _text(pool, "report.txt")
    write(root / "copy", "report.txt", PARK)  # the same bytes: nothing is replaced, the copy claims it
    same = admin.reindex(token, None, str(root / "copy"))
    assert same.ok and same.rows[0][1] == "未变化"
    # the claimed document now follows its file
    (root / "copy" / "report.txt").write_text(PARK + "补充说明。\n", encoding="utf-8")
    assert admin.reindex(token, None, str(root / "copy")).ok
    assert "补充说明" in _text(pool, "report.txt")


def test_an_upload_never_replaces_a_reindexed_document_of_the_same_name(tmp_path: Path) -> None:
    admin, pool, token = _admin(tmp_path, reindex_roots=[tmp_path / "root"])
    write(tmp_path / "root", "report.txt", PARK)
    assert admin.reindex(token, None, str(tmp_path / "root")).ok
    src = write(tmp_path / "in", "report.txt", BUS)
    refused = admin.upload(token, None, [src])
    assert not refused.ok and "已有同名文档" in str(refused.rows[0][3])
    assert "口袋公园" in _text(pool, "report.txt")
    assert not (tmp_path / "uploads" / "default" / "report.txt").exists()
    # an uploaded document is replaced by the next upload of its name, as before
    notice = write(tmp_path / "in", "通知.txt", BUS)
    assert admin.upload(token, None, [notice]).ok
    notice.write_text(BUS + "线路图另发。\n", encoding="utf-8")
    replaced = admin.upload(token, None, [notice])
    assert replaced.ok and replaced.rows[0][3] == "已替换同名的旧文件"
