"""Upload names and limits: safe file and collection folder names, allowed types and sizes.

Uploads are copied into `settings.upload_dir / <collection>/` under a sanitised name (never a path) and
staged in the hidden `STAGING` folder while they are indexed (see `admin.service.Admin.upload`).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from admin.messages import (
    MSG_BAD_NAME,
    MSG_BAD_TYPE,
    MSG_COLLECTION_BAD_NAME,
    MSG_COLLECTION_EMPTY_NAME,
    MSG_EMPTY_FILE,
    MSG_LOCK_FILE,
    MSG_TOO_BIG,
)

ALLOWED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".csv", ".docx", ".pdf", ".xlsx", ".doc", ".wps", ".ofd",
                      ".png", ".jpg", ".jpeg", ".tif", ".tiff")
STAGING = ".incoming"  # hidden: a re-index of the upload folder never walks into it
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; Chinese takes 3 bytes a character
MAX_COLLECTION_CHARS = 40
COPY_CHUNK = 2**20

# Windows-reserved and shell-troublesome characters; path separators are handled before this.
_UNSAFE = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def drop_controls(text: str) -> str:
    """Remove control, format (bidi overrides, zero-width), surrogate, private and unassigned characters."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("C", "Zl", "Zp")))


def _truncate_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def sanitize_filename(name: str) -> str:
    """A safe single file name from whatever a browser or client sent; "" when nothing usable is left.

    Directories (either slash), drive letters, `..`, control and invisible format characters are removed;
    Chinese and other letters are kept. The result never contains a separator, never starts with a dot
    (hidden files are skipped by the indexer) and fits in a file system name.
    """
    text = drop_controls(unicodedata.normalize("NFC", str(name or "")))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # strip any directories, Windows ones too
    text = _UNSAFE.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    if not text or set(text) <= {".", "_"}:
        return ""
    stem, ext = os.path.splitext(text)
    if len(ext.encode("utf-8")) > 16:  # not a real extension: keep it in the stem
        stem, ext = text, ""
    stem = _truncate_utf8(stem, MAX_NAME_BYTES - len(ext.encode("utf-8"))).rstrip(" .")
    if not stem:
        return ""
    return stem + ext


def collection_folder_name(collection: str) -> str:
    """The upload sub-folder of a collection: its sanitised name, or a hash when that would be empty or differ."""
    safe = sanitize_filename(collection)
    if safe and safe == collection:
        return safe
    digest = hashlib.sha1(collection.encode("utf-8")).hexdigest()[:12]
    return f"{safe[:40]}-{digest}" if safe else f"collection-{digest}"


def check_collection_name(name: str) -> str:
    """"" when `name` may be a new collection's name, else the reason in Chinese."""
    if not name:
        return MSG_COLLECTION_EMPTY_NAME
    if len(name) > MAX_COLLECTION_CHARS or sanitize_filename(name) != name or name.startswith("."):
        return MSG_COLLECTION_BAD_NAME.format(n=MAX_COLLECTION_CHARS)
    return ""


def mb(n: int) -> str:
    """A size in bytes as the messages show it, e.g. "1.5 MB"."""
    return f"{n / 2**20:.1f} MB"


def check_upload(name: str, size: int, max_bytes: int) -> str:
    """"" when a file with this (already sanitised) name and size may be uploaded, else the reason."""
    if not name:
        return MSG_BAD_NAME
    if name.startswith("~$"):
        return MSG_LOCK_FILE
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        return MSG_BAD_TYPE.format(ext=ext or "（无扩展名）", allowed=" ".join(ALLOWED_EXTENSIONS))
    if size > max_bytes:
        return MSG_TOO_BIG.format(size=mb(size), limit=f"{max_bytes / 2**20:g} MB")
    if size <= 0:
        return MSG_EMPTY_FILE
    return ""


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` lies in `folder` (or is it) once both are resolved: symlinks followed, `..` removed."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
