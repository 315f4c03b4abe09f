"""Word .docx: paragraphs and tables (cells joined by tabs, rows by newlines) in document order."""

from __future__ import annotations

import io

import docx
from docx.table import Table

from ingest.guards import check_zip
from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.raw import RawDoc

CORRUPT_MESSAGE = "Word 文件（.docx）已损坏或不是有效的 docx 格式，无法读取。"


def _table_text(table: Table) -> str:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats for every column it spans
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def read_docx(data: bytes) -> RawDoc:
    """Body text in order; title from the core properties or the first Title/Heading paragraph.

    The file's creation time is not used as a date: it says when the file was made, not the speech.
    """
    check_zip(data, CORRUPT_MESSAGE)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        heading = ""
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.append(_table_text(item))
                continue
            text = item.text
            style = (item.style.name if item.style is not None else "") or ""
            if not heading and text.strip() and (style == "Title" or style.startswith(("Heading", "标题"))):
                heading = text.strip()
            blocks.append(text)
        title = (document.core_properties.title or "").strip() or heading
    except Exception as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    return RawDoc(pages=["\n".join(blocks)], hints=Metadata(title=title))
