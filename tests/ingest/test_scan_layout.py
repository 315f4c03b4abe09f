"""Where OCR lines stand in the cleaned text (ingest.scan_layout): lines joined into paragraphs, a running
page number dropped, whitespace rewritten; and the lines a passage spans."""

from __future__ import annotations

from ingest.clean import clean_pages
from ingest.model import Document
from ingest.ocr import OcrLine, OcrPage
from ingest.scan_layout import scan_pages

KEY = "ab" * 32
PAGE_1 = ["关于城市公园建设的工作报告", "近年来，我市坚持生态优先，把公园建设作为改善", "人居环境的重要抓手。"]
PAGE_2 = ["市政府决定新建口袋公园 四十五个，", "由市园林局负责\u200b组织实施。", "- 2 -"]


def _ocr(lines: list[str], top: int = 100) -> OcrPage:
    boxed = [OcrLine(text, (100.0, top + 60.0 * i, 700.0, top + 60.0 * i + 40), 0.99) for i, text in enumerate(lines)]
    return OcrPage(1240, 1754, boxed, image=KEY)


def _doc() -> Document:
    ocr = {0: _ocr(PAGE_1), 1: _ocr(PAGE_2)}
    cleaned = clean_pages([page.text for page in ocr.values()], reflow=True)
    return Document(doc_id="scan.pdf", text=cleaned.text, title="t", page_starts=cleaned.page_starts,
                    scans=scan_pages(cleaned.text, cleaned.page_starts, ocr))


def test_each_line_is_placed_on_its_characters_in_the_cleaned_text() -> None:
    doc = _doc()
    assert [s.page for s in doc.scans] == [1, 2] and all(s.image == KEY for s in doc.scans)
    for scan, typed in zip(doc.scans, (PAGE_1, PAGE_2), strict=True):
        for line, text in zip(scan.lines, typed, strict=True):
            if text == "- 2 -":  # the cleaner drops running page numbers: nothing to place
                assert (line.start, line.end) == (-1, -1)
                continue
            assert doc.page_of(line.start) == scan.page
            squashed = "".join(text.replace("\u200b", "").split())
            assert "".join(doc.text[line.start : line.end].split()) == squashed


def test_a_span_boxes_exactly_the_lines_it_touches() -> None:
    doc = _doc()
    page = doc.scan(2)
    assert page is not None and doc.scan(3) is None
    start = doc.text.index("四十五个")
    assert [ln.text for ln in page.lines_in(start, start + 4)] == [PAGE_2[0]]
    end = doc.text.index("负责") + 2
    assert [ln.text for ln in page.lines_in(start, end)] == PAGE_2[:2]
    assert page.lines_in(0, doc.page_starts[1]) == []  # page 1's text is not on page 2


def test_the_layout_survives_its_json_form() -> None:
    from ingest.model import ScanPage

    for scan in _doc().scans:
        assert ScanPage.from_dict(scan.to_dict()) == scan
