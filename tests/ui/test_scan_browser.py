"""Issue 15 in real Chromium: a citation from a scanned PDF opens the page as it was scanned, the cited lines
boxed on the page image, beside the recognised text with the passage highlighted.

A generated two-page scan (degraded: rotated, blurred, noisy, JPEG), read by the real OCR, indexed with the
real model into a real Chroma store, answered by the real QA, served by the real app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.app_server import Served, serve_app
from tests.support.browser import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, ask, squash
from tests.support.ingest_builders import line_band, make_scanned_pdf_of

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGES = [
    ["关于城市公园建设情况的报告", "近年来，我市坚持生态优先、绿色发展，", "把公园建设作为改善人居环境的重要抓手，",
     "各区积极推进绿道和滨水公园建设，", "让群众共享城市发展成果。"],
    ["二、下一步工作安排", "各区要完善公园长效管护机制，", "落实日常保洁和设施维护经费。",
     "市政府决定今年新建口袋公园四十五个，", "由市园林局负责组织实施，", "年底前全部建成开放。"],
]
DOC_ID = "公园建设报告.pdf"
QUESTION = "市政府决定新建多少个口袋公园？"
FACT = "四十五个"
FACT_PAGE, FACT_LINE = 2, 3  # the fact is written on line 3 (0-based) of page 2
SLACK_PX = 14  # rotation (0.8 degrees) and the detector's margins move a line's box by a few pixels

# Each box's place on the page image, in the image's own pixels, measured on the rendered page.
BOXES_JS = """() => {
  const img = document.querySelector('#sq-viewer img.sq-scan-img');
  const r = img.getBoundingClientRect();
  const scale = img.naturalHeight / r.height;
  return [...document.querySelectorAll('#sq-viewer .sq-scan-box')].map((b) => {
    const q = b.getBoundingClientRect();
    return [(q.left - r.left) * scale, (q.top - r.top) * scale, (q.right - r.left) * scale, (q.bottom - r.top) * scale];
  });
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    root = tmp_path_factory.mktemp("scan-app")
    make_scanned_pdf_of(root / "archive" / DOC_ID, PAGES)
    settings = Settings(db=root / "db")
    report = Archive(settings).index_paths([root / "archive"])
    assert report.count("indexed") == 1 and not report.failed, report.summary()
    qa = QA(settings)
    with serve_app(qa, settings) as url:
        yield Served(url=url, qa=qa, settings=settings)


def _overlaps(box: list[float], band: tuple[int, int]) -> bool:
    return box[1] < band[1] + SLACK_PX and band[0] - SLACK_PX < box[3]


def _open_and_check(page: Page, served: Served, link: Any, start: int, end: int) -> list[list[float]]:
    """Click a citation link opening document text start..end; check the scanned page view; the boxes."""
    doc = served.qa.get_document(DOC_ID)
    scan = doc.scan(FACT_PAGE)
    cited = scan.lines_in(start, end)
    link.click(timeout=UI_TIMEOUT_MS)
    viewer = page.locator("#sq-viewer")
    figure = viewer.locator(f'figure.sq-scan[data-page="{FACT_PAGE}"]')
    expect(figure).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(viewer.locator("figure.sq-scan")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(viewer.locator(".sq-doc-note")).to_contain_text(f"第{FACT_PAGE}页", timeout=UI_TIMEOUT_MS)
    image = figure.locator("img.sq-scan-img")
    expect(image).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.wait_for_function(
        "() => { const i = document.querySelector('#sq-viewer img.sq-scan-img');"
        " return i && i.complete && i.naturalWidth > 0; }", timeout=UI_TIMEOUT_MS)
    natural = image.evaluate("i => [i.naturalWidth, i.naturalHeight]", timeout=UI_TIMEOUT_MS)
    assert natural == [scan.width, scan.height]  # the page the OCR read, at its resolution
    boxes = viewer.locator(".sq-scan-box")
    expect(boxes).to_have_count(len(cited), timeout=UI_TIMEOUT_MS)
    expect(boxes.first).to_be_in_viewport(timeout=UI_TIMEOUT_MS)
    # the recognised text beside it, the passage highlighted
    mark = viewer.locator(".sq-doc-body mark#sq-hit")
    expect(mark).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert squash(mark.inner_text(timeout=UI_TIMEOUT_MS)) == squash(doc.text[start:end])
    assert squash(viewer.locator(".sq-doc-body").inner_text(timeout=UI_TIMEOUT_MS)) == squash(doc.text)
    return page.evaluate(BOXES_JS)


def test_a_scanned_citation_opens_the_page_image_with_the_cited_lines_boxed(served: Served, page: Page) -> None:
    expected = served.qa.ask(QUESTION, k=served.settings.top_k)
    assert not expected.refused and expected.units, expected.answer
    unit = next(u for u in expected.units if FACT in u.text)
    top = next(c for c in expected.citations if c.n == unit.n)
    assert (top.doc_id, top.page) == (DOC_ID, FACT_PAGE)

    page.goto(served.url, timeout=UI_TIMEOUT_MS)
    ask(page, QUESTION)
    answer = page.locator("#sq-chat .sq-answer:not(.sq-pending)")
    expect(answer).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(answer.last).to_contain_text(FACT, timeout=UI_TIMEOUT_MS)

    # the answer's [n]: exactly the lines of the answering sentence are boxed, the fact's line among them
    boxes = _open_and_check(page, served, answer.last.locator("a.sq-ref").first, unit.start, unit.end)
    fact_band = line_band(FACT_LINE)
    assert any(_overlaps(box, fact_band) for box in boxes), (boxes, fact_band)
    cited_bands = [line_band(j) for j in range(FACT_LINE, len(PAGES[1]))]
    for box in boxes:  # every box sits on a line the sentence is written on, none on the lines above it
        assert any(_overlaps(box, band) for band in cited_bands), (box, cited_bands)
        assert not _overlaps(box, (line_band(0)[0], line_band(FACT_LINE - 1)[1] - SLACK_PX)), box
        assert 100 < box[0] < box[2] < 1240 - 100

    # the citation under the answer: its whole passage, every line of page 2 boxed
    cite = page.locator("#sq-chat .sq-cites").last.locator("a.sq-cite").nth(top.n - 1)
    boxes = _open_and_check(page, served, cite, top.hit_start, top.hit_end)
    assert len(boxes) == len(PAGES[1])
    for j, box in enumerate(sorted(boxes, key=lambda b: b[1])):
        assert _overlaps(box, line_band(j)), (j, box)
