"""The viewer's scanned pages (ui.documents.scanned_pages): the page images of the pages a citation covers,
read only by the content keys a committed document's OCR layout names."""

from __future__ import annotations

from pathlib import Path

from ingest.model import Document, ScanLine, ScanPage
from ingest.ocr import page_image_path
from ui.documents import scanned_pages

TEXT = "第一页的文字。\n第二页的文字。\n第三页没有扫描。"
STARTS = [0, 8, 16]


def _scan(page: int, key: str) -> ScanPage:
    start = STARTS[page - 1]
    return ScanPage(page, key, 100, 140, (ScanLine(TEXT[start : start + 7], (5.0, 5.0, 90.0, 20.0), start, start + 7),))


def _stored(cache: Path, key: str, data: bytes) -> str:
    path = page_image_path(cache, key)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


def test_the_pages_a_span_covers_with_their_stored_images(tmp_path: Path) -> None:
    cache = tmp_path / "ocr-cache"
    one, two = _stored(cache, "1" * 64, b"page one"), _stored(cache, "2" * 64, b"page two")
    doc = Document(doc_id="s.pdf", text=TEXT, title="t", page_starts=STARTS, scans=[_scan(1, one), _scan(2, two)])
    assert [(s.page, image) for s, image in scanned_pages(doc, 8, 15, cache)] == [(2, b"page two")]
    assert [(s.page, image) for s, image in scanned_pages(doc, 3, 12, cache)] == [(1, b"page one"), (2, b"page two")]
    assert scanned_pages(doc, 16, len(TEXT), cache) == []  # page 3 has a text layer: the text view only
    assert scanned_pages(doc, -5, 10**6, cache)[0][0].page == 1  # offsets out of range are clamped
    assert scanned_pages(Document(doc_id="a.txt", text=TEXT, title="t"), 0, 5, cache) == []


def test_only_stored_images_named_by_a_key_are_read(tmp_path: Path) -> None:
    cache = tmp_path / "db" / "ocr-cache"
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"not a page")
    for key in ("../../secret", str(secret), "A" * 64, "1" * 63, "1" * 64 + "/../x", ""):
        assert page_image_path(cache, key) is None, key
        doc = Document(doc_id="s.pdf", text=TEXT, title="t", page_starts=STARTS, scans=[_scan(1, key)])
        assert scanned_pages(doc, 0, 7, cache) == [], key
    gone = Document(doc_id="s.pdf", text=TEXT, title="t", page_starts=STARTS, scans=[_scan(1, "3" * 64)])
    assert scanned_pages(gone, 0, 7, cache) == []  # the image is gone: the text view still shows the passage
