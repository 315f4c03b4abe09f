"""OFD (GB/T 33190, fixed-layout 公文): text per page (ofdkit); image-only pages are OCR'd."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from ingest.dates import parse_date
from ingest.guards import check_zip
from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.ocr import OcrOptions, OcrPage, recognise_pages
from ingest.raw import RawDoc

if TYPE_CHECKING:
    from PIL.Image import Image

CORRUPT_MESSAGE = "OFD 文件已损坏或不是有效的 OFD 格式，无法读取。"
NO_TEXT_MESSAGE = "OFD 文件中没有文字（可能只有图片），且文字识别（OCR）已关闭（SPEECHQA_OCR=off）。"
MAX_IMAGE_BYTES = 64 * 2**20


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _media_files(archive: zipfile.ZipFile) -> dict[str, str]:
    """MultiMedia resource ID -> zip entry of its image, from every resource file in the package."""
    names = {n.casefold(): n for n in archive.namelist()}
    media: dict[str, str] = {}
    for name in archive.namelist():
        if not name.lower().endswith(".xml") or archive.getinfo(name).file_size > MAX_IMAGE_BYTES:
            continue
        try:
            root = ET.fromstring(archive.read(name))
        except ET.ParseError:
            continue
        if _local(root.tag) != "Res":
            continue
        base = posixpath.join(posixpath.dirname(name), (root.get("BaseLoc") or "").strip("/"))
        for element in root.iter():
            if _local(element.tag) != "MultiMedia":
                continue
            file_el = next((c for c in element if _local(c.tag) == "MediaFile"), None)
            location = (file_el.text or "").strip().replace("\\", "/") if file_el is not None else ""
            if not location:
                continue
            for candidate in (posixpath.join(base, location), location.lstrip("/")):
                found = names.get(posixpath.normpath(candidate).casefold())
                if found:
                    media[(element.get("ID") or "").strip()] = found
                    break
    return media


def _page_images(archive: zipfile.ZipFile, location: str | None, media: dict[str, str]) -> list[str]:
    """The image entries an (image-only) page draws, in drawing order."""
    if not location:
        return []
    try:
        root = ET.fromstring(archive.read(location))
    except (KeyError, ET.ParseError):
        return []
    ids = [(e.get("ResourceID") or "").strip() for e in root.iter() if _local(e.tag) == "ImageObject"]
    return [media[i] for i in ids if i in media]


def _image_renderer(archive: zipfile.ZipFile, entries: list[str]) -> Callable[[], Image]:
    def render() -> Image:
        from PIL import Image

        images = []
        for entry in entries:
            if archive.getinfo(entry).file_size > MAX_IMAGE_BYTES:
                raise IngestError("OFD 文件中的图片过大，未读取。")
            try:
                with Image.open(io.BytesIO(archive.read(entry))) as image:
                    images.append(image.convert("RGB"))
            except Exception as exc:
                raise IngestError("OFD 文件中的页面图片已损坏，无法识别文字。") from exc
        if len(images) == 1:
            return images[0]
        width = max(i.width for i in images)  # several strips of one page: stacked top to bottom
        page = Image.new("RGB", (width, sum(i.height for i in images)), "white")
        y = 0
        for image in images:
            page.paste(image, (0, y))
            y += image.height
        return page

    return render


def _page_text(page: object) -> str:
    import ofdkit

    try:
        return page.text()  # type: ignore[attr-defined]
    except ofdkit.OFDError:  # one unreadable page should not lose the others
        return ""


def read_ofd(data: bytes, ocr: OcrOptions | None = None) -> RawDoc:
    """Page texts in page order; title, author (as speaker) and creation date (a fallback) from DocInfo."""
    import ofdkit

    ocr = ocr or OcrOptions()
    check_zip(data, CORRUPT_MESSAGE)
    try:
        with ofdkit.open(data) as document:
            info = document.info
            pages = [_page_text(page) for page in document.pages]
            locations = [page.location for page in document.pages]
    except (ofdkit.OFDError, zipfile.BadZipFile, ET.ParseError, KeyError, ValueError) as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    if not pages:
        raise IngestError(CORRUPT_MESSAGE)
    empty = [i for i, text in enumerate(pages) if not text.strip()]
    scans: dict[int, OcrPage] = {}
    if empty and ocr.enabled:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            media = _media_files(archive)
            drawn = {i: _page_images(archive, locations[i], media) for i in empty}
            scanned = [i for i in empty if drawn[i]]
            scans = dict(zip(scanned, recognise_pages([_image_renderer(archive, drawn[i]) for i in scanned], ocr),
                             strict=True))
        for i, scan in scans.items():
            pages[i] = scan.text
    if not any(p.strip() for p in pages):
        if not ocr.enabled:
            raise IngestError(NO_TEXT_MESSAGE)
        raise IngestError("OFD 文件中没有可读取的文字（文字识别也没有识别出任何文字）。")
    hints = Metadata(
        title=(info.title or "").strip(),
        speaker=(info.author or "").strip(),
        date=parse_date(info.creation_date or ""),
    )
    return RawDoc(pages=pages, hints=hints, reflow=True, scans=scans)
