"""PDF: the text layer, page by page (pypdf). Scans without a text layer are refused."""

from __future__ import annotations

import io
import logging

from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.raw import RawDoc

CORRUPT_MESSAGE = "PDF 文件已损坏或不是有效的 PDF 格式，无法读取。"
NO_TEXT_MESSAGE = "PDF 没有文字层（可能是扫描件或图片），无法提取文字。请先用 OCR 软件识别文字后再导入。"
ENCRYPTED_MESSAGE = "PDF 文件已加密（需要密码），无法读取。请先解除密码保护。"


def read_pdf(data: bytes) -> RawDoc:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files log warnings by the dozen
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise IngestError(ENCRYPTED_MESSAGE)
            except (PyPdfError, NotImplementedError, DependencyError) as exc:
                raise IngestError(ENCRYPTED_MESSAGE) from exc
        pages: list[str] = []
        for page in reader.pages:
            try:
                pages.append(page.extract_text() or "")
            except Exception:  # one broken page content stream should not lose the others
                pages.append("")
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else ""
        if title.lower().startswith("microsoft") or title.lower().endswith((".doc", ".docx", ".pdf", ".wps")):
            title = ""
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    if not pages:
        raise IngestError(CORRUPT_MESSAGE)
    if not any(p.strip() for p in pages):
        raise IngestError(NO_TEXT_MESSAGE)
    return RawDoc(pages=pages, hints=Metadata(), fallback_title=title, reflow=True)
