"""A real Chromium (Debian's, never `playwright install`) for the browser tests, with generous waits.

Playwright waits 5 s by default, for page actions and for `expect` alike; on a loaded machine (2 cores
shared by several jobs) that is not enough. The `page` fixture raises both defaults to `UI_TIMEOUT_MS`, and
the tests still pass an explicit timeout to every wait. Use from a conftest.py:
`from tests.support.browser import browser, page`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
UI_TIMEOUT_MS = 60_000  # any wait for the page: a click's result, a panel showing, a viewer update
ANSWER_TIMEOUT_MS = 120_000  # a wait for an answer (retrieval, maybe a model) or an indexing run


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk, or deselect with -m 'not browser'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=UI_TIMEOUT_MS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    pg.set_default_timeout(UI_TIMEOUT_MS)
    pg.set_default_navigation_timeout(UI_TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


def squash(text: str) -> str:
    """Text without any whitespace: what the page shows, compared regardless of line wrapping."""
    return "".join(text.split())


def ask(page: Any, question: str) -> None:
    """Type a question into the chat and send it (the answer is not waited for)."""
    page.get_by_role("textbox", name="问题").fill(question, timeout=UI_TIMEOUT_MS)
    page.get_by_role("button", name="发送").click(timeout=UI_TIMEOUT_MS)


def click_until(link: Any, target: Any, text: str, tries: int = 3) -> None:
    """Click `link` until `target` contains `text` (a viewer's note or title after a citation or document
    link). Under load a click can land while the page re-renders and be lost; the click is then repeated,
    up to `tries` times within `UI_TIMEOUT_MS` of waiting in all. Opening the same document again is
    harmless, so a repeat changes nothing else."""
    from playwright.sync_api import expect

    for attempt in range(tries):
        link.click(timeout=UI_TIMEOUT_MS)
        try:
            expect(target).to_contain_text(text, timeout=UI_TIMEOUT_MS // tries)
            return
        except AssertionError:
            if attempt == tries - 1:
                raise
