"""OCR of page images (rapidocr, its packaged ONNX models): text lines with their boxes, cached by content.

A page image's result is stored as JSON under `cache_dir`, keyed by the sha256 of its pixels and the
engine's name, so re-reading an unchanged scan (another path, another archive, new passage settings)
recognises nothing again. Beside it the page image itself is kept (`<key>.jpg`, the pixels the boxes are
measured on), for the viewer to show the scanned page with its cited lines boxed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.model import IngestError

if TYPE_CHECKING:
    from PIL.Image import Image

ENGINES = ("rapidocr", "off")
ENGINE_KEY = "rapidocr-3.10.0-ppocrv6-small"  # part of the cache key: another engine or model reads afresh
MIN_SCORE = 0.5  # lines recognised with less confidence are noise (specks, stamps, ruling)
IMAGE_QUALITY = 80  # JPEG quality of a stored page image (scans are photographs: PNG would be 5x larger)
_KEY = re.compile(r"[0-9a-f]{64}")
NOT_INSTALLED_MESSAGE = "文字识别（OCR）组件未安装，无法识别扫描件或图片。请运行 bash scripts/setup.sh 安装后再导入。"


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the page image
    score: float


@dataclass(frozen=True)
class OcrPage:
    width: int
    height: int
    lines: list[OcrLine] = field(default_factory=list)
    image: str = ""  # the page image's key (`image_key`): its stored file is `page_image_path(cache_dir, image)`

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# (pages recognised so far, pages to recognise in this file): called with 0 before the first page, then after
# each page, so "done + 1" is the page being recognised while done < total
PageFn = Callable[[int, int], None]


@dataclass(frozen=True)
class OcrOptions:
    """How a reader recognises page images: the engine ("off": not at all), the cache, a per-page callback."""

    engine: str = "rapidocr"
    cache_dir: Path | None = None
    on_page: PageFn | None = None

    @property
    def enabled(self) -> bool:
        return self.engine != "off"


_engine: Any = None
_engine_lock = threading.Lock()


def _rapidocr() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise IngestError(NOT_INSTALLED_MESSAGE) from exc
            _engine = RapidOCR(params={"Global.log_level": "error"})
        return _engine


def _recognise(image: Image) -> OcrPage:
    import numpy as np

    rgb = image.convert("RGB")
    engine = _rapidocr()
    with _engine_lock:  # one page at a time: onnxruntime already uses every core
        result = engine(np.asarray(rgb))
    lines: list[OcrLine] = []
    for text, score, box in zip(result.txts or (), result.scores or (), result.boxes if result.boxes is not None else (),
                                strict=False):
        if float(score) < MIN_SCORE or not str(text).strip():
            continue
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        lines.append(OcrLine(str(text).strip(), (min(xs), min(ys), max(xs), max(ys)), round(float(score), 4)))
    return OcrPage(rgb.width, rgb.height, lines)


def image_key(image: Image) -> str:
    """The cache key of a page image: its pixels, size and mode, and the engine."""
    digest = hashlib.sha256()
    digest.update(f"{ENGINE_KEY}|{image.mode}|{image.width}x{image.height}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _read_cache(path: Path) -> OcrPage | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lines = [OcrLine(x["text"], tuple(x["box"]), float(x["score"])) for x in data["lines"]]
        return OcrPage(int(data["width"]), int(data["height"]), lines)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomically(path: Path, write: Callable[[Any], None], mode: str = "w") -> None:
    """A half-written file is never read; one that cannot be written only costs time (or the page image)."""
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
            write(handle)
        os.replace(tmp, path)
    except OSError:
        if tmp:
            Path(tmp).unlink(missing_ok=True)


def _write_cache(path: Path, page: OcrPage) -> None:
    data = asdict(page)
    data.pop("image")  # the key is the entry's name
    _write_atomically(path, lambda handle: json.dump(data, handle, ensure_ascii=False))


def page_image_path(cache_dir: Path, key: str) -> Path | None:
    """Where the page image with this key is stored; None for anything but a key (no path can be made of it)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return None
    return cache_dir / key[:2] / f"{key}.jpg"


def _store_image(cache_dir: Path, key: str, image: Image) -> None:
    path = page_image_path(cache_dir, key)
    if path is None or path.is_file():
        return
    _write_atomically(path, lambda handle: image.convert("RGB").save(handle, "JPEG", quality=IMAGE_QUALITY), "wb")


def read_page_image(cache_dir: Path, key: str) -> bytes | None:
    """The stored JPEG of a page image, or None (no such key, not stored, unreadable)."""
    path = page_image_path(cache_dir, key)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def recognise(image: Image, options: OcrOptions) -> OcrPage:
    """The text lines of one page image, from the cache when this image was read before. With a cache, the
    image is stored beside its result (once)."""
    if not options.enabled:
        return OcrPage(image.width, image.height)
    key = image_key(image)
    cache = options.cache_dir
    page = _read_cache(_cache_path(cache, key)) if cache is not None else None
    if page is None:
        page = _recognise(image)
        if cache is not None:
            _write_cache(_cache_path(cache, key), page)
    if cache is not None:
        _store_image(cache, key, image)
    return replace(page, image=key)


def recognise_pages(images: list[Callable[[], Image]], options: OcrOptions) -> list[OcrPage]:
    """The lines of each page image (rendered on demand, one at a time), reporting the pages done: 0 before
    the first, then after each."""
    pages: list[OcrPage] = []
    for done, render in enumerate(images):
        if options.on_page is not None:
            options.on_page(done, len(images))
        pages.append(recognise(render(), options))
    if options.on_page is not None and images:
        options.on_page(len(images), len(images))
    return pages


def cached_pages(cache_dir: Path) -> int:
    """How many page results the cache holds (for tests and the benchmark)."""
    return sum(1 for _ in cache_dir.glob("*/*.json")) if cache_dir.is_dir() else 0
