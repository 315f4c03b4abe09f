"""Checks made before a file is read: size, symlinks leaving the ingested folder, zip bombs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from ingest.model import IngestError

MAX_ZIP_TOTAL = 200 * 2**20  # uncompressed bytes in a zip-based file (.docx, .xlsx, .ofd)
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for members bigger than MAX_ZIP_SMALL
MAX_ZIP_SMALL = 2**20
MAX_ZIP_MEMBERS = 10_000


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def check_size(path: Path, max_bytes: int) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise IngestError(f"文件不存在：{path.name}") from exc
    except OSError as exc:
        raise IngestError(f"无法读取文件（{exc.strerror or '系统错误'}）：{path.name}") from exc
    if not path.is_file():
        raise IngestError(f"这不是一个普通文件，无法读取：{path.name}")
    if size > max_bytes:
        raise IngestError(f"文件太大（{_mb(size)}），超过了 {_mb(max_bytes)} 的上限，未读取。")
    return size


def ingest_root(path: Path, doc_id: str) -> Path:
    """The folder the file was found in: doc_id is the path relative to it (a lone file: its name)."""
    depth = len(PurePosixPath(doc_id).parts)
    root = path
    for _ in range(max(depth, 1)):
        root = root.parent
    return root


def check_symlinks(path: Path, doc_id: str) -> None:
    """Refuse a file that is, or sits under, a symlink pointing outside the folder it was found in."""
    root = ingest_root(path, doc_id)
    try:
        relative = path.relative_to(root)
    except ValueError:
        return
    current = root
    has_link = False
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            has_link = True
            break
    if not has_link:
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise IngestError(f"符号链接指向的文件不存在或无法访问：{doc_id}") from exc
    if not target.is_relative_to(root.resolve()):
        raise IngestError(f"出于安全考虑，不读取指向文件夹之外的符号链接：{doc_id}")


def check_zip(data: bytes, corrupt_message: str) -> None:
    """Look at the zip directory before anything is decompressed: sizes, ratios, member count."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IngestError(corrupt_message) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise IngestError(f"文件内含 {len(members)} 个压缩成员，数量异常，疑似恶意压缩包，已拒绝读取。")
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_ZIP_SMALL and ratio > MAX_ZIP_RATIO:
            raise IngestError(
                f"文件疑似“压缩炸弹”：其中 {info.filename} 解压后 {_mb(info.file_size)}，压缩比 {ratio:.0f} 倍，已拒绝读取。"
            )
    if total > MAX_ZIP_TOTAL:
        raise IngestError(
            f"文件解压后共 {_mb(total)}，超过 {_mb(MAX_ZIP_TOTAL)} 的上限，疑似压缩炸弹，已拒绝读取。"
        )
