"""Images (.png, .jpg/.jpeg, .tif/.tiff): each frame is a page, its text recognised by OCR."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from ingest.model import IngestError
from ingest.ocr import OcrOptions, recognise_pages
from ingest.raw import RawDoc

if TYPE_CHECKING:
    from PIL.Image import Image

CORRUPT_MESSAGE = "图片文件已损坏或不是有效的图片格式，无法读取。"
OCR_OFF_MESSAGE = "图片中的文字需要文字识别（OCR）才能读取，但 OCR 已关闭（SPEECHQA_OCR=off）。"
NOTHING_RECOGNISED_MESSAGE = "文字识别（OCR）没有在图片中识别出任何文字（可能没有文字，或图像过于模糊）。"
MAX_PIXELS = 80_000_000  # per page: an A4 page at 600 dpi is 35 megapixels
MAX_FRAMES = 500


def _frame_count(data: bytes) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise IngestError(
                        f"图片尺寸过大（{image.width}×{image.height} 像素），超过 {MAX_PIXELS // 1_000_000} 百万像素的上限，未读取。"
                    )
                return int(getattr(image, "n_frames", 1))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError("图片尺寸异常巨大，疑似“解压炸弹”，已拒绝读取。") from exc


def _frame(data: bytes, index: int) -> Callable[[], Image]:
    def render() -> Image:
        from PIL import Image, ImageOps

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.seek(index)
                if image.width * image.height > MAX_PIXELS:
                    raise IngestError(f"图片第 {index + 1} 页尺寸过大，超过上限，未读取。")
                image.load()
                page = ImageOps.exif_transpose(image)  # phone photos are stored sideways with a rotation tag
                return page.convert("RGB")
        except IngestError:
            raise
        except Exception as exc:  # a truncated frame, a broken codec stream
            raise IngestError(f"图片第 {index + 1} 页已损坏，无法读取。") from exc

    return render


def read_image(data: bytes, ocr: OcrOptions | None = None) -> RawDoc:
    """One page per frame (a multi-page TIFF is a multi-page document)."""
    ocr = ocr or OcrOptions()
    frames = _frame_count(data)
    if frames > MAX_FRAMES:
        raise IngestError(f"图片共有 {frames} 页，超过 {MAX_FRAMES} 页的上限，未读取。")
    if not ocr.enabled:
        raise IngestError(OCR_OFF_MESSAGE)
    scans = recognise_pages([_frame(data, i) for i in range(frames)], ocr)
    pages = [scan.text for scan in scans]
    if not any(p.strip() for p in pages):
        raise IngestError(NOTHING_RECOGNISED_MESSAGE)
    return RawDoc(pages=pages, reflow=True, scans=dict(enumerate(scans)))
