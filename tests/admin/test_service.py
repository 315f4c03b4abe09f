"""The admin service: login, refusal of every action without it, and uploads, re-indexing, removal and
collections on the real archive (the last ones with the packaged model, marked slow).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from admin.messages import MSG_DISABLED, MSG_LOGIN_REQUIRED, MSG_WRONG_PASSWORD
from admin.service import Admin
from bot.pool import QAPool
from tests.support.admin import PASSWORD, admin_settings, touched_admin
from tests.support.archives import write


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    admin, _ = touched_admin(tmp_path)
    for wrong in ("wrong", PASSWORD + " ", PASSWORD[:-1], "正确的密码"):
        token, message = admin.login(wrong)
        assert token == "" and message == MSG_WRONG_PASSWORD
    token, message = admin.login("")
    assert token == "" and "请输入" in message
    token, message = admin.login(PASSWORD)  # non-ASCII passwords compare as bytes
    assert token and admin.is_admin(token) and message


def test_wrong_password_is_slowed_down(tmp_path: Path) -> None:
    admin, _ = touched_admin(tmp_path)
    admin.fail_delay_s = 0.2
    t0 = time.perf_counter()
    admin.login("guess")
    assert time.perf_counter() - t0 >= 0.2


def test_logout_revokes_the_token(tmp_path: Path) -> None:
    admin, _ = touched_admin(tmp_path)
    token, _ = admin.login(PASSWORD)
    admin.logout(token)
    assert admin.refusal(token) == MSG_LOGIN_REQUIRED


def _every_action(admin: Admin, token: Any, tmp_path: Path) -> list[Any]:
    src = write(tmp_path / "src", "通知.txt", "关于口袋公园建设的通知\n全市新建口袋公园四十五个。\n")
    return [
        admin.upload(token, "default", [src]),
        admin.upload(token, "default", [(src, "../../escape.txt")]),
        admin.reindex(token, "default", str(tmp_path / "src"), sync=True),
        admin.remove(token, "default", "通知.txt"),
        admin.documents(token, "default"),
        admin.create_collection(token, "区政府"),
        admin.answer_settings(token),
        admin.set_answer_settings(token, "openai", "http://127.0.0.1:9/v1", "qwen", "sk-x", 5),
        admin.set_answer_settings(token, "extractive", "", "", "", 60, clear_key=True),
        admin.test_answer_settings(token, "openai", "http://127.0.0.1:9/v1", "qwen", "sk-x", 5),
    ]


@pytest.mark.parametrize("token", ["", None, "forged-token", "x" * 43])
def test_actions_without_login_are_refused_and_change_nothing(tmp_path: Path, token: Any) -> None:
    admin, pool = touched_admin(tmp_path)
    admin.login(PASSWORD)  # someone else is logged in: that does not help this caller
    for result in _every_action(admin, token, tmp_path):
        assert not result.ok and result.message == MSG_LOGIN_REQUIRED
        assert result.rows == [] and not result.changed and result.answer is None
    assert pool.calls == []
    assert admin.settings.answer_mode == "extractive" and not admin.settings.llm_base_url
    assert not (tmp_path / "uploads").exists()
    assert not (tmp_path / "db").exists()


def test_revoked_token_is_refused(tmp_path: Path) -> None:
    admin, pool = touched_admin(tmp_path)
    token, _ = admin.login(PASSWORD)
    admin.logout(token)
    for result in _every_action(admin, token, tmp_path):
        assert not result.ok and result.message == MSG_LOGIN_REQUIRED
    assert pool.calls == []


def test_without_a_password_everything_is_refused(tmp_path: Path) -> None:
    admin, pool = touched_admin(tmp_path, password="")
    assert not admin.enabled
    for attempt in ("", "anything", PASSWORD):
        token, message = admin.login(attempt)
        assert token == "" and message == MSG_DISABLED
    stray = admin.sessions.issue()  # even a token that somehow exists does not open the door
    for token in ("", stray):
        for result in _every_action(admin, token, tmp_path):
            assert not result.ok and result.message == MSG_DISABLED
    assert pool.calls == []
    assert not (tmp_path / "uploads").exists()


# --- the real archive (the packaged model) ---
FACT = "青川市2027年计划新建口袋公园４５个，由市园林局负责。"
PARK_DOC = f"关于2027年城市绿化工作的安排\n{FACT}\n各区要做好选址和养护工作。\n"
BUS_DOC = "关于公交线网优化的通知\n全市年内新开公交线路十二条，由市交通运输局负责组织实施。\n"
QUESTION = "青川市2027年计划新建多少个口袋公园？由哪个部门负责？"


@pytest.fixture
def real_admin(tmp_path: Path) -> tuple[Admin, Any]:
    settings = admin_settings(tmp_path, max_upload_mb=1, reindex_roots=[tmp_path])
    pool = QAPool(settings)
    return Admin(settings, pool, fail_delay_s=0.0), pool


def _cited(pool: Any, question: str, doc_id: str) -> bool:
    answer = pool.get(None).ask(question)
    return not answer.refused and any(c.doc_id == doc_id for c in answer.citations)


@pytest.mark.slow
def test_upload_lists_cites_and_remove_forgets(tmp_path: Path, real_admin: tuple[Admin, Any]) -> None:
    admin, pool = real_admin
    token, _ = admin.login(PASSWORD)
    src = tmp_path / "incoming"
    park = write(src, "abc", PARK_DOC)  # the browser's temp name; the uploaded name travels beside it
    bus = write(src, "公交.txt", BUS_DOC)
    exe = write(src, "tool.exe", "MZ")
    big = src / "big.txt"
    big.write_bytes(("很长的文件。" * 100_000).encode("utf-8"))  # > 1 MB
    seen: list[Any] = []

    result = admin.upload(token, None, [(park, "../../2027年绿化安排.txt"), bus, exe, big, (bus, "公交.txt")],
                          progress=seen.append)
    rows: dict[object, list[object]] = {}
    for r in result.rows:
        rows.setdefault(r[0], r)
    assert rows["2027年绿化安排.txt"][1:3] == ["已索引", 1]
    assert rows["公交.txt"][1] == "已索引"
    assert rows["tool.exe"][1] == "失败" and "不支持的文件类型" in str(rows["tool.exe"][3])
    assert rows["big.txt"][1] == "失败" and "文件太大" in str(rows["big.txt"][3])
    duplicate = [r for r in result.rows if r[0] == "公交.txt"][1]  # the same name twice in one batch
    assert duplicate[1] == "失败" and "同名" in str(duplicate[3])
    assert not result.ok and result.changed and "已索引 2 个" in result.message
    assert seen and seen[-1].files_done == seen[-1].files_total == 2

    folder = tmp_path / "uploads" / "default"
    assert sorted(p.name for p in folder.iterdir()) == ["2027年绿化安排.txt", "公交.txt"]  # staging cleared
    assert not (tmp_path / "2027年绿化安排.txt").exists() and not (tmp_path / "uploads" / "2027年绿化安排.txt").exists()

    listed = admin.documents(token, None)
    assert listed.ok
    assert {r[3] for r in listed.rows} == {"2027年绿化安排.txt", "公交.txt"}
    title, _date, passages, _doc_id = next(r for r in listed.rows if r[3] == "2027年绿化安排.txt")
    assert "城市绿化" in str(title) and passages == 1
    assert _cited(pool, QUESTION, "2027年绿化安排.txt")

    again = admin.upload(token, "default", [(park, "2027年绿化安排.txt")])
    assert again.ok and again.rows[0][1] == "未变化" and not again.changed

    removed = admin.remove(token, "default", "2027年绿化安排.txt")
    assert removed.ok and removed.changed
    assert not (folder / "2027年绿化安排.txt").exists()  # a re-index of the upload folder won't bring it back
    assert not _cited(pool, QUESTION, "2027年绿化安排.txt")
    assert not admin.remove(token, "default", "2027年绿化安排.txt").ok
    assert [r[3] for r in admin.documents(token, "default").rows] == ["公交.txt"]


@pytest.mark.slow
def test_reindex_folder_checks_the_path_and_syncs(tmp_path: Path, real_admin: tuple[Admin, Any]) -> None:
    admin, pool = real_admin
    token, _ = admin.login(PASSWORD)
    folder = tmp_path / "speeches"
    write(folder, "市政府/公交.txt", BUS_DOC)
    write(folder, "市政府/绿化.txt", PARK_DOC)

    assert "找不到" in admin.reindex(token, None, str(tmp_path / "missing")).message
    assert "完整路径" in admin.reindex(token, None, "speeches").message
    assert "文件夹路径" in admin.reindex(token, None, "  ").message
    (tmp_path / "empty").mkdir()
    assert "没有执行同步删除" in admin.reindex(token, None, str(tmp_path / "empty"), sync=True).message

    seen: list[Any] = []
    first = admin.reindex(token, None, f'"{folder}"', progress=seen.append)
    assert first.ok and [r[1] for r in first.rows] == ["已索引", "已索引"] and seen
    assert _cited(pool, QUESTION, "市政府/绿化.txt")

    (folder / "市政府" / "绿化.txt").unlink()
    second = admin.reindex(token, None, str(folder), sync=True)
    statuses = {r[0]: r[1] for r in second.rows}
    assert statuses == {"市政府/公交.txt": "未变化", "市政府/绿化.txt": "已移除"}
    assert "移除 1 个" in second.message
    assert not _cited(pool, QUESTION, "市政府/绿化.txt")


@pytest.mark.slow
def test_collections_are_separate(tmp_path: Path, real_admin: tuple[Admin, Any]) -> None:
    admin, pool = real_admin
    token, _ = admin.login(PASSWORD)
    assert not admin.create_collection(token, "../区政府").ok
    assert not admin.create_collection(token, "default").ok  # exists
    assert admin.create_collection(token, "区政府").ok
    assert pool.names() == ["default", "区政府"]
    src = write(tmp_path / "in", "绿化.txt", PARK_DOC)
    assert admin.upload(token, "区政府", [src]).ok
    assert (tmp_path / "uploads" / "区政府" / "绿化.txt").is_file()
    assert admin.documents(token, "default").rows == []
    assert [r[3] for r in admin.documents(token, "区政府").rows] == ["绿化.txt"]
    assert pool.get("区政府").ask(QUESTION).citations[0].doc_id == "绿化.txt"
    assert pool.get("default").ask(QUESTION).refused
    assert "没有名为" in admin.upload(token, "不存在", [src]).message
