"""discover: files and folders -> sorted (file path, doc_id) pairs of supported documents.

Symlink policy: symlinked directories are never descended into (no loops, no escaping the folder).
A symlinked file is returned like any other file, even when its target lies outside the folder or
does not exist; load_document then refuses it with an IngestError, so the user sees why it was
skipped instead of it silently disappearing.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.model import IngestError

EXTENSIONS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".docx": "docx",
    ".pdf": "pdf",
    ".xlsx": "xlsx",
    ".doc": "doc",
    ".wps": "doc",  # WPS Office's Word-97-compatible format: read by content, like .doc
    ".ofd": "ofd",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


def is_supported(name: str) -> bool:
    """A supported extension, not hidden, not an Office lock file ("~$report.docx")."""
    if name.startswith((".", "~$")):
        return False
    return os.path.splitext(name)[1].lower() in EXTENSIONS


def _walk(root: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and not (Path(dirpath) / d).is_symlink()]
        for name in filenames:
            if is_supported(name):
                path = Path(dirpath) / name
                found.append((path, path.relative_to(root).as_posix()))
    return found


def discover(paths: list[Path]) -> list[tuple[Path, str]]:
    """Expand files and folders (recursively) to (file path, doc_id), sorted by doc_id.

    doc_id is the path relative to the folder given (posix separators); for a file given on its own,
    its file name. Only supported extensions (.txt .md .markdown .html .htm .csv .docx .pdf .xlsx
    .doc .wps .ofd .png .jpg .jpeg .tif .tiff, any case); hidden files and folders are skipped. A path that does not exist raises IngestError.
    """
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():  # a folder given explicitly is walked even if it is a symlink: the user chose it
            found.extend(_walk(path))
        elif path.exists() or path.is_symlink():
            if is_supported(path.name):
                found.append((path, path.name))
        else:
            raise IngestError(f"找不到这个文件或文件夹：{path}")
    unique = dict.fromkeys(found)
    return sorted(unique, key=lambda item: (item[1], str(item[0])))
