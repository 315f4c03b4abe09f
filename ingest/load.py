"""load_document: guards, read, decode, extract, clean, metadata -> Document."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.clean import clean_pages
from ingest.csv_extract import read_csv
from ingest.decode import decode_bytes
from ingest.discover import EXTENSIONS
from ingest.guards import check_size, check_symlinks
from ingest.markdown import read_markdown
from ingest.metadata import HEADER_LINES, extract_metadata
from ingest.model import Document, IngestError
from ingest.ocr import OcrOptions
from ingest.raw import RawDoc
from ingest.scan_layout import scan_pages

DEFAULT_MAX_BYTES = 250 * 2**20
PAGED_FORMATS = ("pdf", "ofd", "image")  # passages of these keep the page they start on


def _read(fmt: str, data: bytes, ocr: OcrOptions) -> RawDoc:
    # The heavier readers are imported on first use: `import ingest` stays cheap.
    if fmt == "docx":
        from ingest.docx_extract import read_docx

        return read_docx(data)
    if fmt == "pdf":
        from ingest.pdf_extract import read_pdf

        return read_pdf(data, ocr)
    if fmt == "image":
        from ingest.image_extract import read_image

        return read_image(data, ocr)
    if fmt == "ofd":
        from ingest.ofd_extract import read_ofd

        return read_ofd(data, ocr)
    if fmt == "xlsx":
        from ingest.xlsx_extract import read_xlsx

        return read_xlsx(data)
    if fmt == "doc":
        from ingest.doc_extract import read_doc

        return read_doc(data)
    if fmt == "html":
        from ingest.html_extract import read_html

        return read_html(data)
    text = decode_bytes(data)
    if fmt == "csv":
        return read_csv(text)
    if fmt == "md":
        return read_markdown(text)
    return RawDoc(pages=[text])


def _load(path: Path, doc_id: str, max_bytes: int, ocr: OcrOptions) -> Document:
    check_symlinks(path, doc_id)
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(f"不支持的文件类型“{path.suffix or '（无扩展名）'}”：{doc_id}")
    size = check_size(path, max_bytes)
    if size == 0:
        raise IngestError("文件是空的（0 字节），没有任何内容。")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise IngestError(f"无法读取文件（{exc.strerror or '系统错误'}）：{doc_id}") from exc
    if len(data) > max_bytes:  # the file grew after the size check
        raise IngestError("文件太大，超过了允许的上限，未读取。")
    raw = _read(fmt, data, ocr)
    cleaned = clean_pages(raw.pages, reflow=raw.reflow)
    if not cleaned.text.strip():
        raise IngestError("文件中没有可用的正文文字（去掉网页导航、版权声明等内容后为空）。")
    meta = extract_metadata(
        cleaned.prepared,
        cleaned.text.split("\n", HEADER_LINES)[:HEADER_LINES],
        raw.hints,
        raw.fallback_title or Path(doc_id).stem,
    )
    paged = fmt in PAGED_FORMATS
    return Document(
        doc_id=doc_id,
        text=cleaned.text,
        title=meta.title,
        date=meta.date,
        speaker=meta.speaker,
        url=meta.url,
        meeting=meta.meeting,
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        page_starts=cleaned.page_starts if paged else [],
        scans=scan_pages(cleaned.text, cleaned.page_starts, raw.scans) if paged else [],
    )


def load_document(path: Path, doc_id: str, max_bytes: int = DEFAULT_MAX_BYTES, ocr: OcrOptions | None = None) -> Document:
    """Read one file into a cleaned Document.

    Every problem with the file raises IngestError with a message in Chinese for the user: empty or
    whitespace-only, binary or undecodable, larger than `max_bytes` (checked before reading), corrupt
    docx/pdf, zip bombs, pdf without a text layer, symlinks leading out of the ingested folder (the
    folder is derived from `doc_id`, the path relative to it). Scanned pages and images are read by
    OCR as `ocr` says (default: rapidocr without a cache; engine "off" refuses them).
    """
    path = Path(path)
    try:
        return _load(path, doc_id, max_bytes, ocr or OcrOptions())
    except (IngestError, ImportError):  # ImportError: a broken installation, not a bad file
        raise
    except RecursionError as exc:
        raise IngestError(f"文件结构嵌套过深，无法解析：{doc_id}") from exc
    except MemoryError as exc:
        raise IngestError(f"文件内容过大，内存不足，无法处理：{doc_id}") from exc
    except Exception as exc:
        raise IngestError(f"无法解析文件（{type(exc).__name__}），文件可能已损坏：{doc_id}") from exc
