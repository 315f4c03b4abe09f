"""The app's 管理 wiring (no model, no server): no tab or endpoint without a password, every admin event
takes the session token, writes are serialised, and the answer-settings form never sends the key back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin.messages import MSG_LOGIN_REQUIRED
from core.settings import Settings
from tests.support.admin import KEY, PASSWORD, UNREACHABLE, admin_settings


class _FakeCatalog:
    def collections(self) -> list[str]:
        return ["default", "区政府"]


class _FakeArchive:
    collection = "default"
    catalog = _FakeCatalog()

    def documents(self) -> list[Any]:
        return []


class _FakeQA:
    archive = _FakeArchive()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def facets(self) -> dict[str, list[str]]:
        return {"year": ["2025"]}

    def list_documents(self) -> list[dict[str, object]]:
        return []


def _build(tmp_path: Path, password: str) -> Any:
    import gradio as gr

    import app

    settings = admin_settings(tmp_path, password)
    demo = app.build_app(_FakeQA(settings), settings)  # type: ignore[arg-type]
    tabs = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    return demo, tabs


def test_app_without_password_has_no_admin_tab_or_endpoint(tmp_path: Path) -> None:
    demo, tabs = _build(tmp_path, "")
    assert tabs == ["问答", "文档浏览"]
    assert not any(str(fn.api_name).startswith("admin") for fn in demo.fns.values())
    assert not any(fn.name in ("upload", "reindex", "remove", "login") for fn in demo.fns.values())


def test_app_admin_events_all_take_the_session_token_and_writes_are_serialised(tmp_path: Path) -> None:
    import gradio as gr

    demo, tabs = _build(tmp_path, PASSWORD)
    assert tabs == ["问答", "文档浏览", "管理"]
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    admin_fns = {name: fn for name, fn in fns.items() if str(name).startswith("admin")}
    assert set(admin_fns) == {"admin_login", "admin_logout", "admin_upload", "admin_reindex", "admin_remove",
                              "admin_documents", "admin_create_collection", "admin_answer_settings",
                              "admin_answer_test"}
    for name, fn in admin_fns.items():
        assert any(isinstance(b, gr.State) for b in fn.inputs), f"{name} does not see the session token"
    for name in ("admin_upload", "admin_reindex", "admin_remove", "admin_create_collection"):
        assert (admin_fns[name].concurrency_limit, admin_fns[name].concurrency_id) == (1, "admin-write")
    assert admin_fns["admin_answer_settings"].concurrency_limit == 1
    asks = [fn for fn in demo.fns.values() if fn.name == "respond"]
    # one answering event, triggered by Enter and by the send button (so a second one cannot start meanwhile)
    assert len(asks) == 1 and {t[1] for t in asks[0].targets} == {"submit", "click"}
    assert all(fn.concurrency_limit == 4 and fn.concurrency_id == "ask" for fn in asks)
    collection = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "sq-collection")
    assert [c[1] for c in collection.choices] == ["default", "区政府"]


def test_app_answer_settings_form_never_sends_the_key_back(tmp_path: Path) -> None:
    """The 回答设置 events as the browser calls them: empty before login, filled after, the key write-only."""
    demo, _ = _build(tmp_path, PASSWORD)
    fns = {fn.api_name: fn.fn for fn in demo.fns.values()}
    components = {b._id: b for b in demo.blocks.values()}
    save_fn = next(fn for fn in demo.fns.values() if fn.api_name == "admin_answer_settings")
    assert [getattr(components[b._id], "elem_id", None) for b in save_fn.inputs[:6]] == [
        "sq-answer-mode", "sq-llm-url", "sq-llm-model", "sq-llm-key", "sq-llm-clear-key", "sq-llm-timeout"]
    # the page itself (sent to anyone) carries no setting
    for elem_id in ("sq-answer-mode", "sq-llm-url", "sq-llm-model", "sq-llm-key", "sq-llm-timeout"):
        block = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)
        assert block.value in (None, ""), elem_id

    refused = fns["admin_answer_settings"]("openai", UNREACHABLE, "qwen", KEY, False, 5, "forged")
    assert MSG_LOGIN_REQUIRED in str(refused) and KEY not in str(refused)

    out = fns["admin_login"](PASSWORD, "default", "")
    token = out[0]
    assert token and "当前生效的回答设置" in str(out[-1]) and "extractive" in out

    saved = fns["admin_answer_settings"]("openai", UNREACHABLE, "qwen", KEY, False, 5, token)
    assert "已保存" in str(saved[6]) and "API 密钥：已设置" in str(saved[6])
    assert saved[:3] == ("openai", UNREACHABLE, "qwen") and saved[5] == 5.0
    assert saved[3].value == "" and "已设置" in saved[3].placeholder
    assert KEY not in repr(saved)
    again = fns["admin_login"](PASSWORD, "default", token)
    assert KEY not in repr(again) and "已设置" in again[-4].placeholder

    bad = fns["admin_answer_settings"]("openai", "ftp://x", "qwen", KEY, False, 5, again[0])
    assert "http://" in str(bad[6]) and KEY not in repr(bad)
