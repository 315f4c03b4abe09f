"""The document contract: pages of a paged document."""

from __future__ import annotations

from ingest.model import Document


def test_document_pages() -> None:
    doc = Document("a.pdf", "第一页文字第二页文字", "t", page_starts=[0, 5])
    assert doc.pages() == [(1, "第一页文字"), (2, "第二页文字")]
    assert Document("a.txt", "全文", "t").pages() == [(0, "全文")]
