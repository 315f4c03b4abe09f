"""The 管理 tab in real Chromium, and its endpoints called directly through gradio_client.

Two servers in-process over one fresh store holding two small demo documents: one with an admin password
(the tab is there; every admin endpoint checks the session's login on the server), one without (no tab,
no admin endpoints). The 回答设置 test switches the running server to an OpenAI-compatible server that
is not there and back. Needs Debian's `chromium`; deselect with `-m "not browser"`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from core.settings import Settings
from tests.support.app_server import DEMO_ARCHIVE, serve_app
from tests.support.browser import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, ask

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SEED_DOCS = ["市城管局/青川市城市管理局2025年第3次局长办公会议纪要.txt", "市政府/青川市政务网站安全检查情况通报.txt"]
INDEX_TIMEOUT_MS = ANSWER_TIMEOUT_MS

PASSWORD = "管理员-Pa55-口令"
DOCX_NAME = "青川市2027年城市绿化工作安排.docx"
DOCX_TITLE = "青川市2027年城市绿化工作安排"
FACT = "青川市2027年计划新建口袋公园４５个，由市园林局负责"
QUESTION = "青川市2027年计划新建多少个口袋公园？由哪个部门负责？"
LOGIN_REQUIRED = "请先登录管理员账号"
ADMIN_ENDPOINTS = ("/admin_login", "/admin_logout", "/admin_upload", "/admin_reindex", "/admin_remove",
                   "/admin_documents", "/admin_create_collection", "/admin_answer_settings", "/admin_answer_test")
UNREACHABLE = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
LLM_KEY = "sk-browser-SECRET-9931"
ANSWER_QUESTION = "“净美青川”春季行动由哪个部门牵头负责？"
FALLBACK = "已改为显示从资料中摘录的回答"
RUNTIME_ONLY = "仅对当前运行的服务生效，重启后恢复为配置文件中的设置"


@dataclass
class Server:
    url: str
    qa: Any  # bot.qa.QA
    settings: Settings


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from vectorstore.archive import Archive

    root = tmp_path_factory.mktemp("admin")
    seed = root / "seed"
    for rel in SEED_DOCS:
        (seed / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO_ARCHIVE / rel, seed / rel)
    settings = Settings(db=root / "db", upload_dir=root / "uploads")
    report = Archive(settings).index_paths([seed])
    assert report.count("indexed") == len(SEED_DOCS), report.summary()
    return settings


@pytest.fixture(scope="module")
def admin_server(store: Settings) -> Iterator[Server]:
    from bot.qa import QA

    settings = store.model_copy(update={"admin_password": SecretStr(PASSWORD)})
    qa = QA(settings)
    with serve_app(qa, settings) as url:
        yield Server(url=url, qa=qa, settings=settings)


@pytest.fixture(scope="module")
def plain_server(store: Settings) -> Iterator[Server]:
    from bot.qa import QA

    assert not store.admin_password.get_secret_value()
    qa = QA(store)
    with serve_app(qa, store) as url:
        yield Server(url=url, qa=qa, settings=store)


@pytest.fixture(scope="module")
def docx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(DOCX_TITLE, level=1)
    document.add_paragraph("2027年，全市城市绿化工作坚持见缝插绿、方便群众的原则。")
    document.add_paragraph(f"{FACT}，年底前全部建成开放。")
    document.add_paragraph("各区要做好选址、建设和日常养护工作，确保公园建得好、管得住。")
    path = tmp_path_factory.mktemp("docx") / DOCX_NAME
    document.save(str(path))
    return path


def _doc_ids(server: Server) -> list[str]:
    return sorted(str(d["doc_id"]) for d in server.qa.list_documents())


def _uploads(server: Server) -> list[str]:
    folder = Path(server.settings.upload_dir)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def _client(server: Server) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _ask(page: Page, question: str) -> None:
    """Ask in the chat tab and wait until the answer replaced the working message."""
    page.get_by_role("tab", name="问答").click(timeout=UI_TIMEOUT_MS)
    ask(page, question)
    expect(page.locator("#sq-chat .sq-answer").last).not_to_contain_text("正在查找资料", timeout=ANSWER_TIMEOUT_MS)


def test_admin_uploads_a_docx_that_gets_cited_then_removes_it(admin_server: Server, page: Page,
                                                              docx_file: Path) -> None:
    before = _doc_ids(admin_server)
    page.goto(admin_server.url)
    page.get_by_role("tab", name="管理").click()
    panel = page.locator("#sq-admin-panel")
    expect(panel).to_be_hidden(timeout=UI_TIMEOUT_MS)

    # a wrong password is refused
    page.locator("#sq-admin-password input, #sq-admin-password textarea").first.fill("wrong")
    page.locator("#sq-admin-login-btn").click()
    expect(page.locator("#sq-admin-login-msg")).to_contain_text("密码错误", timeout=UI_TIMEOUT_MS)
    expect(panel).to_be_hidden(timeout=UI_TIMEOUT_MS)

    # the right one opens the panel with the document list
    page.locator("#sq-admin-password input, #sq-admin-password textarea").first.fill(PASSWORD)
    page.locator("#sq-admin-login-btn").click()
    expect(panel).to_be_visible(timeout=UI_TIMEOUT_MS)
    docs_table = page.locator("#sq-admin-docs")
    for doc_id in before:
        expect(docs_table).to_contain_text(doc_id, timeout=UI_TIMEOUT_MS)

    # upload the .docx: indexed, reported, listed, saved in the collection's upload folder
    page.locator("#sq-upload input[type=file]").set_input_files(str(docx_file))
    # the file widget shows the stem and the extension in separate elements
    expect(page.locator("#sq-upload")).to_contain_text(Path(DOCX_NAME).stem, timeout=UI_TIMEOUT_MS)
    page.locator("#sq-upload-btn").click()
    report = page.locator("#sq-report")
    expect(report).to_contain_text("已索引", timeout=INDEX_TIMEOUT_MS)
    expect(report).to_contain_text(DOCX_NAME, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#sq-admin-status")).to_contain_text("上传完成", timeout=UI_TIMEOUT_MS)
    expect(docs_table).to_contain_text(DOCX_NAME, timeout=UI_TIMEOUT_MS)
    expect(docs_table).to_contain_text(DOCX_TITLE, timeout=UI_TIMEOUT_MS)
    assert _doc_ids(admin_server) == sorted([*before, DOCX_NAME])
    assert _uploads(admin_server) == ["default", f"default/{DOCX_NAME}"]

    # the chat finds and cites it
    _ask(page, QUESTION)
    cites = page.locator("#sq-chat .sq-cites").last
    expect(cites).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(cites).to_contain_text(DOCX_TITLE, timeout=UI_TIMEOUT_MS)
    expect(cites).to_contain_text("口袋公园４５个", timeout=UI_TIMEOUT_MS)

    # remove it
    page.get_by_role("tab", name="管理").click()
    pick = page.locator("#sq-remove-pick input").first
    pick.click()
    page.get_by_role("option", name=f"{DOCX_TITLE}（{DOCX_NAME}）").click()
    page.locator("#sq-remove-btn").click()
    expect(page.locator("#sq-admin-status")).to_contain_text("已删除文档", timeout=UI_TIMEOUT_MS)
    expect(docs_table).not_to_contain_text(DOCX_NAME, timeout=UI_TIMEOUT_MS)
    assert _doc_ids(admin_server) == before
    assert _uploads(admin_server) == ["default"]

    # asked again: never cited again
    _ask(page, QUESTION)
    chat = page.locator("#sq-chat")
    last = chat.locator(".sq-answer").last
    expect(last).not_to_contain_text("４５", timeout=UI_TIMEOUT_MS)
    expect(chat.locator(".sq-cites")).to_have_count(1, timeout=UI_TIMEOUT_MS)  # only the first answer's citations remain
    expect(chat.locator(".sq-cites").last).to_contain_text(DOCX_TITLE, timeout=UI_TIMEOUT_MS)  # ...which is that first answer
    answer = admin_server.qa.ask(QUESTION)
    assert all(c.doc_id != DOCX_NAME for c in answer.citations)


def test_admin_endpoints_refuse_callers_who_did_not_log_in(admin_server: Server, docx_file: Path,
                                                           tmp_path: Path) -> None:
    from gradio_client import handle_file

    before, uploads_before = _doc_ids(admin_server), _uploads(admin_server)
    victim = before[0]
    client = _client(admin_server)
    calls: list[tuple[tuple[Any, ...], str]] = [
        (([handle_file(str(docx_file))], "default"), "/admin_upload"),
        (("default", victim), "/admin_remove"),
        ((str(tmp_path), True, "default"), "/admin_reindex"),  # sync over an empty folder would empty the store
        (("default",), "/admin_documents"),
        (("区政府",), "/admin_create_collection"),
        (("openai", UNREACHABLE, "qwen", LLM_KEY, False, 5), "/admin_answer_settings"),
        (("openai", UNREACHABLE, "qwen", LLM_KEY, False, 5), "/admin_answer_test"),
    ]
    for args, api_name in calls:
        out = client.predict(*args, api_name=api_name)
        assert LOGIN_REQUIRED in str(out), (api_name, out)
        assert victim not in str(out) or api_name == "/admin_remove", "no document list without login"
    assert _doc_ids(admin_server) == before
    assert _uploads(admin_server) == uploads_before
    assert admin_server.qa.settings.answer_mode == "extractive" and not admin_server.qa.settings.llm_base_url

    # a wrong password does not help
    out = client.predict("not-the-password", "default", api_name="/admin_login")
    assert "密码错误" in str(out)
    assert LOGIN_REQUIRED in str(client.predict("default", victim, api_name="/admin_remove"))

    # the login belongs to one session: another client logging in opens nothing for this one
    other = _client(admin_server)
    other.predict(PASSWORD, "default", api_name="/admin_login")
    assert victim in str(other.predict("default", api_name="/admin_documents"))
    assert LOGIN_REQUIRED in str(client.predict("default", victim, api_name="/admin_remove"))
    assert LOGIN_REQUIRED in str(client.predict([handle_file(str(docx_file))], "default",
                                                api_name="/admin_upload"))
    # a logged-in caller sets a key and never gets it back; then the settings are put back
    try:
        saved = other.predict("openai", UNREACHABLE, "qwen", LLM_KEY, False, 5, api_name="/admin_answer_settings")
        assert "已保存" in str(saved) and "API 密钥：已设置" in str(saved) and LLM_KEY not in str(saved)
        assert admin_server.qa.settings.llm_api_key.get_secret_value() == LLM_KEY
        assert LOGIN_REQUIRED in str(client.predict("extractive", "", "", "", True, 60,
                                                    api_name="/admin_answer_settings"))
        assert admin_server.qa.settings.answer_mode == "openai"
    finally:
        back = other.predict("extractive", "", "", "", True, 60, api_name="/admin_answer_settings")
    assert "已保存" in str(back) and admin_server.qa.settings.answer_mode == "extractive"
    assert not admin_server.qa.settings.llm_api_key.get_secret_value()
    other.predict(api_name="/admin_logout")
    assert LOGIN_REQUIRED in str(other.predict("default", api_name="/admin_documents"))
    assert _doc_ids(admin_server) == before
    assert _uploads(admin_server) == uploads_before


def _login(page: Page, server: Server) -> None:
    page.goto(server.url)
    page.get_by_role("tab", name="管理").click()
    page.locator("#sq-admin-password input, #sq-admin-password textarea").first.fill(PASSWORD)
    page.locator("#sq-admin-login-btn").click()
    expect(page.locator("#sq-admin-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)


def _restore_extractive(server: Server) -> None:
    """Whatever happened in the browser, leave the shared server answering extractively."""
    qa = server.qa
    if qa.settings.answer_mode != "extractive":
        qa.settings = qa.settings.model_copy(update={"answer_mode": "extractive"})


def test_admin_switches_the_answer_mode_of_the_running_server(admin_server: Server, page: Page) -> None:
    expected = admin_server.qa.ask(ANSWER_QUESTION, generate=False)
    assert not expected.refused and "市容处" in expected.answer
    fragment = re.sub(r"\[\d+\]", "", expected.answer)[:16]
    _login(page, admin_server)
    panel = page.locator("#sq-admin-panel")
    mode = page.locator("#sq-answer-mode")
    url = page.locator("#sq-llm-url input")
    key = page.locator("#sq-llm-key input")
    limit = page.locator("#sq-llm-timeout input")
    message = page.locator("#sq-answer-msg")
    save = page.locator("#sq-answer-save")
    # the settings in effect, the key only as set / not set, and that changes last until a restart
    expect(panel).to_contain_text(RUNTIME_ONLY, timeout=UI_TIMEOUT_MS)
    expect(mode.get_by_label("摘录", exact=True)).to_be_checked(timeout=UI_TIMEOUT_MS)
    expect(message).to_contain_text("回答方式：摘录", timeout=UI_TIMEOUT_MS)
    expect(message).to_contain_text("API 密钥：未设置", timeout=UI_TIMEOUT_MS)
    expect(limit).to_have_value("60", timeout=UI_TIMEOUT_MS)
    try:
        mode.get_by_label("OpenAI 兼容服务", exact=True).check()
        url.fill(UNREACHABLE)
        key.fill(LLM_KEY)
        limit.fill("0")
        save.click()  # refused: out of range
        expect(message).to_contain_text("时间限制必须是 1 到 600 之间的秒数", timeout=UI_TIMEOUT_MS)
        assert admin_server.qa.settings.answer_mode == "extractive"

        limit.fill("3")
        save.click()
        expect(message).to_contain_text("已保存", timeout=UI_TIMEOUT_MS)
        for text in ("回答方式：OpenAI 兼容服务", f"服务地址：{UNREACHABLE}", "API 密钥：已设置", "时间限制：3 秒",
                     RUNTIME_ONLY):
            expect(message).to_contain_text(text, timeout=UI_TIMEOUT_MS)
        expect(key).to_have_value("", timeout=UI_TIMEOUT_MS)  # the key is not sent back, only whether one is set
        expect(key).to_have_attribute("placeholder", re.compile("已设置"), timeout=UI_TIMEOUT_MS)
        assert LLM_KEY not in page.content()
        settings = admin_server.qa.settings
        assert (settings.answer_mode, settings.llm_base_url, settings.llm_timeout_s) == ("openai", UNREACHABLE, 3.0)
        assert settings.llm_api_key.get_secret_value() == LLM_KEY

        # the chat tries the server, cannot reach it, says so in Chinese and shows the extractive answer
        _ask(page, ANSWER_QUESTION)
        chat = page.locator("#sq-chat")
        expect(chat.locator(".sq-note").last).to_contain_text(FALLBACK, timeout=UI_TIMEOUT_MS)
        expect(chat.locator(".sq-answer").last).to_contain_text(fragment, timeout=UI_TIMEOUT_MS)
        expect(chat.locator(".sq-cites").last).to_contain_text("局长办公会议纪要", timeout=UI_TIMEOUT_MS)

        # back to extractive: the next answer comes without a notice
        page.get_by_role("tab", name="管理").click()
        mode.get_by_label("摘录", exact=True).check()
        save.click()
        expect(message).to_contain_text("已保存", timeout=UI_TIMEOUT_MS)
        expect(message).to_contain_text("回答方式：摘录", timeout=UI_TIMEOUT_MS)
        assert admin_server.qa.settings.answer_mode == "extractive"
        _ask(page, ANSWER_QUESTION)
        expect(chat.locator(".sq-answer")).to_have_count(2, timeout=UI_TIMEOUT_MS)
        expect(chat.locator(".sq-note")).to_have_count(1, timeout=UI_TIMEOUT_MS)  # only the first answer's
        expect(chat.locator(".sq-answer").last).to_contain_text(fragment, timeout=UI_TIMEOUT_MS)
    finally:
        _restore_extractive(admin_server)


def test_without_a_password_there_is_no_admin_tab_and_no_admin_endpoint(plain_server: Server, page: Page) -> None:
    page.goto(plain_server.url)
    expect(page.get_by_role("tab", name="问答")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("tab", name="文档浏览")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("tab", name="管理")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#sq-admin-password, #sq-upload")).to_have_count(0, timeout=UI_TIMEOUT_MS)

    client = _client(plain_server)
    names = {d.get("api_name") for d in client.config["dependencies"]}
    assert not any(str(n).startswith("admin") for n in names)
    before = _doc_ids(plain_server)
    for api_name in ADMIN_ENDPOINTS:
        with pytest.raises(ValueError):
            client.predict(api_name=api_name)
    assert _doc_ids(plain_server) == before
