"""The real app in real Chromium: a fresh index of demo/archive, the real QA, the Gradio server in-process.

Needs Debian's `chromium` (and `fonts-noto-cjk` for a readable screenshot). Deselect with `-m "not browser"`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.app_server import DEMO_FACT, DEMO_QUESTION, OUT_OF_SCOPE, REFUSAL, Served, serve_demo
from tests.support.browser import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, ask, click_until, squash
from tests.support.env import REPO

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOT_ENV = "SPEECHQA_SCREENSHOT"  # a path for the screenshot, or "1" for the README's docs/screenshot.png
README_SCREENSHOT = REPO / "docs" / "screenshot.png"
QUESTION_PAYLOAD = '<img src=x onerror="window.__sqXss=3">'
XSS_QUESTION = QUESTION_PAYLOAD + "跨站脚本漏洞的测试语句是什么？"
XSS_DOC_TITLE = "政府网站安全检查情况的通报"
XSS_TEXTS = ('<script>window.__sqXss=1;alert("xss")</script>', '<img src=x onerror="window.__sqXss=2">')
PAGE_SCRIPT_DOC_TITLE = "百日攻坚"
PAGE_SCRIPT_TEXTS = ("网页统计脚本不应出现在正文里", "访问量统计加载中", "_shareCfg")


def _screenshot_path() -> Path | None:
    """Where to save the screenshot: only when asked (the test never writes into the repository by itself)."""
    wanted = os.environ.get(SCREENSHOT_ENV, "").strip()
    if not wanted:
        return None
    return README_SCREENSHOT if wanted == "1" else Path(wanted)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_demo(tmp_path_factory.mktemp("app") / "db") as app:
        yield app


def _last_bot_message(page: Page) -> Any:
    return page.locator("#sq-chat .sq-answer").last


def test_cited_answer_opens_the_whole_document_at_the_highlighted_passage(served: Served, page: Page) -> None:
    expected = served.qa.ask(DEMO_QUESTION, k=served.settings.top_k)
    assert not expected.refused and expected.citations
    page.goto(served.url)
    ask(page, DEMO_QUESTION)

    cites = page.locator("#sq-chat .sq-cites").last
    expect(cites).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer = _last_bot_message(page)
    first = expected.units[0].n if expected.units else 1  # the answer is cited: its first unit's [n] is shown
    expect(answer).to_contain_text(f"[{first}]", timeout=UI_TIMEOUT_MS)
    expect(cites).to_contain_text(DEMO_FACT, timeout=UI_TIMEOUT_MS)  # the fact that answers the demo question is cited
    links = cites.locator("a.sq-cite")
    expect(links).to_have_count(len(expected.citations), timeout=UI_TIMEOUT_MS)

    # every citation opens its whole document with its own passage marked and in view; [1] last
    for c in [*expected.citations[1:], expected.citations[0]]:
        link = links.nth(c.n - 1)
        expect(link).to_contain_text(f"[{c.n}] {c.title}", timeout=UI_TIMEOUT_MS)
        viewer = page.locator("#sq-viewer")
        click_until(link, viewer.locator(".sq-doc-note"), f"[{c.n}]")
        doc = served.qa.get_document(c.doc_id)
        assert doc is not None
        mark = viewer.locator("mark#sq-hit")
        expect(mark).to_be_visible(timeout=UI_TIMEOUT_MS)
        expect(mark).to_be_in_viewport(timeout=UI_TIMEOUT_MS)
        assert squash(mark.inner_text()) == squash(doc.text[c.hit_start:c.hit_end])
        assert squash(c.text[c.hit_start - c.start:c.hit_end - c.start]) in squash(mark.inner_text())
        expect(viewer.locator(".sq-doc-title")).to_have_text(doc.title, timeout=UI_TIMEOUT_MS)
        assert squash(viewer.locator(".sq-doc-body").inner_text()) == squash(doc.text)

    shot = _screenshot_path()
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), timeout=UI_TIMEOUT_MS)


def test_question_the_archive_does_not_answer_is_refused_without_citations(served: Served, page: Page) -> None:
    assert served.qa.ask(OUT_OF_SCOPE).refused
    page.goto(served.url)
    ask(page, OUT_OF_SCOPE)
    expect(_last_bot_message(page)).to_contain_text(REFUSAL, timeout=ANSWER_TIMEOUT_MS)
    chat = page.locator("#sq-chat")
    expect(chat.locator(".sq-cites")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(chat.locator("a.sq-cite")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#sq-viewer mark")).to_have_count(0, timeout=UI_TIMEOUT_MS)


def test_markup_in_documents_and_questions_stays_inert_text(served: Served, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(served.url)

    # a question carrying markup is shown as typed, and so are answers quoting markup
    ask(page, XSS_QUESTION)
    chat = page.locator("#sq-chat")
    expect(chat.locator(".sq-cites").last).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(chat).to_contain_text(QUESTION_PAYLOAD, timeout=UI_TIMEOUT_MS)
    expect(chat.locator("img[src=x], script")).to_have_count(0, timeout=UI_TIMEOUT_MS)

    # a plain-text document that quotes <script> and <img onerror>: shown as text, never run
    page.get_by_role("tab", name="文档浏览").click()
    viewer = page.locator("#sq-viewer")
    click_until(page.locator("#sq-docs a.sq-open", has_text=XSS_DOC_TITLE), viewer.locator(".sq-doc-title"),
                XSS_DOC_TITLE)
    for text in XSS_TEXTS:
        expect(viewer.locator(".sq-doc-body")).to_contain_text(text, timeout=UI_TIMEOUT_MS)
    expect(viewer.locator("script, img")).to_have_count(0, timeout=UI_TIMEOUT_MS)

    # an HTML page with its own <script>: the script's text never shows
    click_until(page.locator("#sq-docs a.sq-open", has_text=PAGE_SCRIPT_DOC_TITLE), viewer.locator(".sq-doc-title"),
                PAGE_SCRIPT_DOC_TITLE)
    body = viewer.locator(".sq-doc-body").inner_text()
    for text in PAGE_SCRIPT_TEXTS:
        assert text not in body

    assert page.evaluate("[window.__sqXss, window.__sqPageScript]") == [None, None]
    assert dialogs == []
