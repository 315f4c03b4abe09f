"""Issue 12 in real Chromium: the extractive answer on the demo archive, built from units, as the user sees it.

A list answer shows as a list with one [n] per item, and that [n] opens the document with exactly its item
marked; answers quote the fact asked for, never a heading; a follow-up "那第二项是什么？" picks the item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.app_server import Served, serve_demo
from tests.support.browser import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, ask, click_until, squash

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BIKES = "共享单车乱停放，会议决定怎么办？"
BIKE_DECISIONS = ("停放区３５０处", "１２万辆以内", "季度考核机制")
PROJECTS = "临江区2026年民生实事有哪些？"
PROJECT_COUNT = 10
FIRST_PROJECT = "背街小巷环境整治"
SECOND_PROJECT = "老旧小区改造"
FOLLOW_UP = "那第二项是什么？"
LANES = "背街小巷整治由哪个部门牵头？"
LANES_LEAD = "区城管局牵头负责"
FLOOD = "全市防汛工作会议提出了哪些要求？由谁负责？"
FLOOD_LEAD = "由市水利局牵头负责"
FLOOD_SPEECH_TITLE = "在2025年全市防汛工作会议上的讲话"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_demo(tmp_path_factory.mktemp("answers") / "db") as app:
        yield app


def _answer_after(page: Page, turns: int) -> Any:
    """The answer to the chat's `turns`-th question, once it is final (no longer being written)."""
    final = page.locator("#sq-chat .sq-answer:not(.sq-pending)")
    expect(final).to_have_count(turns, timeout=ANSWER_TIMEOUT_MS)
    return final.last


def _ask_first(served: Served, page: Page, question: str) -> Any:
    page.goto(served.url, timeout=UI_TIMEOUT_MS)
    ask(page, question)
    return _answer_after(page, 1)


def _item_text(item: Any) -> str:
    """An answer item's text without its [n]."""
    whole = squash(item.inner_text(timeout=UI_TIMEOUT_MS))
    ref = squash(item.locator("a.sq-cite").inner_text(timeout=UI_TIMEOUT_MS))
    assert whole.endswith(ref), (whole, ref)
    return whole[: len(whole) - len(ref)]


def _answer_lines(answer: Any) -> list[str]:
    return [line.strip() for line in answer.inner_text(timeout=UI_TIMEOUT_MS).split("\n") if line.strip()]


def test_decisions_show_as_a_list_and_each_item_opens_exactly_itself(served: Served, page: Page) -> None:
    answer = _ask_first(served, page, BIKES)
    items = answer.locator("ol.sq-list li.sq-item")
    expect(answer.locator("ol.sq-list")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(items).to_have_count(len(BIKE_DECISIONS), timeout=UI_TIMEOUT_MS)
    for i, decision in enumerate(BIKE_DECISIONS):
        item = items.nth(i)
        assert decision in squash(item.inner_text(timeout=UI_TIMEOUT_MS)), (i, item.inner_text())
        expect(item.locator("a.sq-cite")).to_have_count(1, timeout=UI_TIMEOUT_MS)

    second = items.nth(1)
    wanted = _item_text(second)
    viewer = page.locator("#sq-viewer")
    ref = squash(second.locator("a.sq-cite").inner_text(timeout=UI_TIMEOUT_MS))
    click_until(second.locator("a.sq-cite"), viewer.locator(".sq-doc-note"), ref)
    mark = viewer.locator("mark#sq-hit")
    expect(mark).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(mark).to_be_in_viewport(timeout=UI_TIMEOUT_MS)
    assert squash(mark.inner_text(timeout=UI_TIMEOUT_MS)) == wanted


def test_the_years_projects_show_as_a_list_of_ten(served: Served, page: Page) -> None:
    answer = _ask_first(served, page, PROJECTS)
    items = answer.locator("ol.sq-list li.sq-item")
    expect(items).to_have_count(PROJECT_COUNT, timeout=UI_TIMEOUT_MS)
    texts = [squash(t) for t in items.all_inner_texts()]
    assert any(SECOND_PROJECT in t for t in texts), texts


def test_who_leads_is_answered_with_the_lead_department(served: Served, page: Page) -> None:
    answer = _ask_first(served, page, LANES)
    assert LANES_LEAD in squash(answer.inner_text(timeout=UI_TIMEOUT_MS))


def test_requirements_are_quoted_without_headings_or_the_speech_title(served: Served, page: Page) -> None:
    answer = _ask_first(served, page, FLOOD)
    text = answer.inner_text(timeout=UI_TIMEOUT_MS)
    lines = _answer_lines(answer)
    assert lines, text
    assert not text.strip().startswith("#"), text
    assert "# " not in text, text
    assert all(squash(line) != FLOOD_SPEECH_TITLE for line in lines), lines
    assert FLOOD_LEAD in squash(text), text


def test_follow_up_asks_for_the_second_item_of_the_list_before(served: Served, page: Page) -> None:
    first = _ask_first(served, page, PROJECTS)
    expect(first.locator("ol.sq-list li.sq-item")).to_have_count(PROJECT_COUNT, timeout=UI_TIMEOUT_MS)
    ask(page, FOLLOW_UP)
    answer = _answer_after(page, 2)
    text = squash(answer.inner_text(timeout=UI_TIMEOUT_MS))
    assert SECOND_PROJECT in text, text
    assert FIRST_PROJECT not in text, text
