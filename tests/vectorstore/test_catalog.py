"""The catalog keeps a scanned document's OCR layout, and opens a catalog written before it had the column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.model import Document, Passage, ScanLine, ScanPage
from vectorstore.catalog import Catalog

OLD_DOCUMENTS = """CREATE TABLE documents (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, state TEXT NOT NULL,
    title TEXT, date TEXT, speaker TEXT, url TEXT, meeting TEXT, format TEXT, text TEXT,
    page_starts TEXT, n_passages INTEGER, indexed_at REAL,
    PRIMARY KEY (collection, doc_id));"""


def _scanned() -> tuple[Document, list[Passage]]:
    text = "封面\n第二页的文字，引号\"<b>\"也在。"
    scan = ScanPage(2, "cd" * 32, 1240, 1754, (ScanLine("第二页的文字，", (10.5, 20.0, 300.0, 60.25), 3, 10),
                                               ScanLine("- 2 -", (5.0, 900.0, 40.0, 930.0))))
    doc = Document(doc_id="scan.pdf", text=text, title="t", format="pdf", sha256="s", page_starts=[0, 3], scans=[scan])
    return doc, [Passage("scan.pdf", 0, text[:2], 0, 2, page=1), Passage("scan.pdf", 1, text[3:], 3, len(text), page=2)]


def test_the_ocr_layout_is_stored_with_the_document(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    doc, passages = _scanned()
    catalog.commit_document("default", doc, passages, [["a"], ["b"]])
    assert catalog.full_document("default", "scan.pdf") == doc
    text_doc = Document(doc_id="a.txt", text="正文", title="t", sha256="s")
    catalog.commit_document("default", text_doc, [Passage("a.txt", 0, "正文", 0, 2)], [["正文"]])
    assert catalog.full_document("default", "a.txt") == text_doc


def test_a_catalog_from_before_the_layout_column_opens_and_keeps_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as con:
        con.execute(OLD_DOCUMENTS)
        con.execute("INSERT INTO documents VALUES ('default', 'old.pdf', 's', 'ok', 't', '', '', '', '', 'pdf', "
                    "'旧文档', '[0]', 1, 0)")
    catalog = Catalog(path)
    old = catalog.full_document("default", "old.pdf")
    assert old is not None and old.text == "旧文档" and old.page_starts == [0] and old.scans == []
    doc, passages = _scanned()
    catalog.commit_document("default", doc, passages, [["a"], ["b"]])
    catalog.close()
    assert Catalog(path).full_document("default", "scan.pdf") == doc  # and a second open adds nothing twice
