"""PDF: the text layer, page by page (pypdf); pages without one are rendered (pypdfium2) and OCR'd."""

from __future__ import annotations

import io
import logging

from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.ocr import OcrOptions, OcrPage, recognise_pages
from ingest.raw import RawDoc

CORRUPT_MESSAGE = "PDF 文件已损坏或不是有效的 PDF 格式，无法读取。"
NO_TEXT_MESSAGE = "PDF 没有文字层（可能是扫描件或图片），且文字识别（OCR）已关闭（SPEECHQA_OCR=off），无法提取文字。"
NOTHING_RECOGNISED_MESSAGE = "PDF 没有文字层（扫描件或图片），文字识别（OCR）也没有识别出任何文字（可能是空白页，或图像过于模糊）。"
RENDER_DPI = 150
ENCRYPTED_MESSAGE = "PDF 文件已加密（需要密码），无法读取。请先解除密码保护。"


def _ocr_empty_pages(data: bytes, pages: list[str], ocr: OcrOptions) -> dict[int, OcrPage]:
    """What OCR reads on the rendered image of each page whose text layer is empty, by page index."""
    import pypdfium2 as pdfium

    empty = [i for i, text in enumerate(pages) if not text.strip()]
    if not empty or not ocr.enabled:
        return {}
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    try:
        if len(pdf) != len(pages):
            raise IngestError(CORRUPT_MESSAGE)

        def renderer(i: int):  # noqa: ANN202 - a PIL image; PIL is imported lazily
            return lambda: pdf[i].render(scale=RENDER_DPI / 72).to_pil()

        scans = recognise_pages([renderer(i) for i in empty], ocr)
    finally:
        pdf.close()
    return dict(zip(empty, scans, strict=True))


def read_pdf(data: bytes, ocr: OcrOptions | None = None) -> RawDoc:
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
    ocr = ocr or OcrOptions()
    if not any(p.strip() for p in pages) and not ocr.enabled:
        raise IngestError(NO_TEXT_MESSAGE)
    scans = _ocr_empty_pages(data, pages, ocr)
    pages = [scans[i].text if i in scans else text for i, text in enumerate(pages)]
    if not any(p.strip() for p in pages):
        raise IngestError(NOTHING_RECOGNISED_MESSAGE)
    return RawDoc(pages=pages, hints=Metadata(), fallback_title=title, reflow=True, scans=scans)
