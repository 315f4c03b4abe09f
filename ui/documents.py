"""Reading the archive in the app: the document list, the year filter's choices, and a document opened in
the viewer (whole, with a cited passage highlighted)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ingest.model import Document, ScanPage
from ingest.ocr import read_page_image
from ui.assets import VIEWER_JS
from ui.render import render_doc_list, render_document, render_empty
from ui.text import (
    ALL_YEARS,
    LABEL_REFRESH,
    MSG_DOC_NOT_FOUND,
    MSG_DOCS_ERROR,
    MSG_UNKNOWN_COLLECTION,
    VIEWER_EMPTY,
)

if TYPE_CHECKING:
    from bot.qa import QA

log = logging.getLogger("speechqa.app")

MAX_SCANS = 3  # scanned pages shown for one citation (a passage lies on one page; a merged hit on two)


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def scanned_pages(doc: Document, start: int, end: int, cache: Path) -> list[tuple[ScanPage, bytes]]:
    """The scanned pages holding the document text start..end, each with its stored page image (a page
    whose image is gone is left out: the text view still shows the passage). Only images a committed
    document's OCR layout names are read, by their content key: no path comes from the request."""
    if not doc.scans:
        return []
    size = len(doc.text)
    start = min(max(start, 0), size)
    first, last = doc.page_of(start), doc.page_of(max(start, min(end, size) - 1))
    out: list[tuple[ScanPage, bytes]] = []
    for page in range(first, min(last, first + MAX_SCANS - 1) + 1):
        scan = doc.scan(page)
        image = read_page_image(cache, scan.image) if scan is not None else None
        if scan is not None and image is not None:
            out.append((scan, image))
    return out


class DocumentViews:
    """Handlers over the archive's documents. `qa_for(collection)` gives the archive's QA, or None."""

    def __init__(self, qa_for: Callable[[str | None], QA | None]) -> None:
        self.qa_for = qa_for

    def year_choices(self, collection: str | None) -> list[str]:
        chosen = self.qa_for(collection)
        try:
            years = chosen.facets().get("year", []) if chosen else []
        except Exception:
            log.exception("facets failed")
            years = []
        return [ALL_YEARS, *sorted(years, reverse=True)]

    def year_filter(self, collection: str | None) -> Any:
        """The 年份 dropdown for this archive, reset to all years."""
        return gr.Dropdown(choices=self.year_choices(collection), value=ALL_YEARS)

    def doc_list(self, collection: str | None) -> str:
        chosen = self.qa_for(collection)
        if chosen is None:
            return render_empty(MSG_UNKNOWN_COLLECTION)
        try:
            return render_doc_list(chosen.list_documents())
        except Exception:
            log.exception("list_documents failed")
            return render_empty(MSG_DOCS_ERROR)

    def open_document(self, collection: str, evt: gr.EventData) -> tuple[str, str]:
        """The viewer's "open" event (a citation or document link): (viewer HTML, the open document's id)."""
        data = evt._data if isinstance(evt._data, dict) else {}
        return self.document_view(collection, data)

    def document_view(self, collection: str, data: dict[str, Any]) -> tuple[str, str]:
        """The viewer for a link's payload {doc, n, s, e, hs, he}: the whole document, and when the link came
        from a citation its passage marked (hs..he) inside its shaded context (s..e)."""
        doc_id = str(data.get("doc") or "")
        chosen = self.qa_for(collection)
        try:
            doc = chosen.get_document(doc_id) if doc_id and chosen else None
        except Exception:
            log.exception("get_document failed")
            doc = None
        if doc is None:
            return render_empty(MSG_DOC_NOT_FOUND), ""
        if data.get("s", "") == "":
            return render_document(doc), doc.doc_id
        start, end = _int(data.get("s")), _int(data.get("e"))
        hs, he = _int(data.get("hs")), _int(data.get("he"))
        if he <= hs:
            hs, he = start, end
        n = _int(data.get("n"), 0) or None
        scans: list[tuple[ScanPage, bytes]] = []
        if doc.scans and chosen is not None:
            try:
                scans = scanned_pages(doc, hs, he, chosen.archive.ocr_cache)
            except Exception:  # the page image is an extra: the text view still shows the passage
                log.exception("reading the scanned page failed")
        return render_document(doc, (hs, he), (start, end), n, scans), doc.doc_id


@dataclass
class DocsTab:
    """The 文档浏览 tab's components."""

    refresh: gr.Button
    docs: gr.HTML


def build_docs_tab(listing: str) -> DocsTab:
    """Lay out the 文档浏览 tab (inside a gr.Tab context) showing `listing` (from `doc_list`)."""
    refresh = gr.Button(LABEL_REFRESH, size="sm")
    docs = gr.HTML(listing, elem_id="sq-docs", elem_classes=["sq-doc-list"], js_on_load=None)
    return DocsTab(refresh, docs)


def build_viewer() -> gr.HTML:
    """The document viewer; its script turns clicks on citation and document links into its "open" event."""
    return gr.HTML(empty_viewer(), elem_id="sq-viewer", js_on_load=VIEWER_JS)


def empty_viewer() -> str:
    return render_empty(VIEWER_EMPTY)
