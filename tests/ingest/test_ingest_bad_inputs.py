"""Bad files raise IngestError with a Chinese message, and nothing else."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from ingest import IngestError, discover, load_document
from tests.support.ingest_builders import make_docx, make_pdf, make_zip_bomb

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _error(path: Path, doc_id: str | None = None, **kw: int) -> str:
    with pytest.raises(IngestError) as info:
        load_document(path, doc_id or path.name, **kw)
    message = str(info.value)
    assert CHINESE.search(message), message
    return message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert "空" in _error(path)


@pytest.mark.parametrize("content", [b"   \n\n\t  \r\n", "\u3000\u3000\n  \n".encode(), b"\xef\xbb\xbf  \n"])
def test_whitespace_only(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    assert "空白" in _error(path)


def test_whitespace_only_utf16(tmp_path: Path) -> None:
    path = tmp_path / "blank16.txt"
    path.write_bytes("\ufeff   \n \u3000 \n".encode("utf-16-le"))
    assert "空白" in _error(path)


def test_binary_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    assert "二进制" in _error(path)


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes("正常的文字开头。".encode() + b"\x00\x00\x01\x00\x00" + "结尾。".encode())
    _error(path)


def test_random_invalid_bytes(tmp_path: Path) -> None:
    path = tmp_path / "invalid.txt"
    path.write_bytes(bytes([0xFF, 0xFE, 0xFD, 0xFC, 0x80, 0x81, 0xC0, 0xC1]) * 64 + b"\xff")
    _error(path)


def test_mostly_invalid_utf8_in_a_small_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes("政府工作报告".encode() + b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc" * 20)
    _error(path)


def test_oversize_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_text("政府工作报告。" * 1000, encoding="utf-8")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    message = _error(path, max_bytes=1000)
    assert "太大" in message


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    assert "docx" in _error(path) or "Word" in _error(path)


def test_truncated_docx(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(good[: len(good) // 2])
    _error(path)


def test_zip_without_word_document(tmp_path: Path) -> None:
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    _error(path)


def test_zip_bomb_named_docx(tmp_path: Path) -> None:
    path = make_zip_bomb(tmp_path / "bomb.docx", megabytes=8)
    assert path.stat().st_size < 100_000
    assert "压缩炸弹" in _error(path)


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage\n%%EOF")
    _error(path)


def test_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(os.urandom(4000))
    _error(path)


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([None, None]))
    assert "PDF 没有文字层" in _error(path)


def test_html_that_is_only_chrome(tmp_path: Path) -> None:
    path = tmp_path / "nav.html"
    path.write_text(
        "<html><body><nav>首页 新闻</nav><script>alert(1)</script></body></html>", encoding="utf-8"
    )
    _error(path)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK\x03\x04")
    _error(path)


def test_missing_file(tmp_path: Path) -> None:
    _error(tmp_path / "gone.txt")


def test_symlink_out_of_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("机密文件内容。", encoding="utf-8")
    folder = tmp_path / "archive"
    (folder / "sub").mkdir(parents=True)
    (folder / "speech.txt").write_text("讲话正文。", encoding="utf-8")
    (folder / "sub" / "link.txt").symlink_to(secret)
    (folder / "inside_link.txt").symlink_to(folder / "speech.txt")
    (folder / "dir_link").symlink_to(outside, target_is_directory=True)

    found = dict((doc_id, path) for path, doc_id in discover([folder]))
    assert set(found) == {"inside_link.txt", "speech.txt", "sub/link.txt"}  # dir_link is not followed
    message = _error(found["sub/link.txt"], "sub/link.txt")
    assert "符号链接" in message
    assert load_document(found["inside_link.txt"], "inside_link.txt").text == "讲话正文。"
    # called directly on a file under a symlinked folder, the check still holds
    (outside / "other.txt").write_text("外部文件。", encoding="utf-8")
    assert "符号链接" in _error(folder / "dir_link" / "other.txt", "dir_link/other.txt")


def test_dangling_symlink(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    [(path, doc_id)] = discover([folder])
    _error(path, doc_id)


def test_only_ingest_error_escapes(tmp_path: Path) -> None:
    """A grab bag of hostile bytes under every supported extension."""
    payloads = [
        b"\x00" * 100,
        os.urandom(2000),
        b"PK\x05\x06" + b"\x00" * 18,
        b"%PDF-",
        b"<html><<<>>>",
        b'"a,b\n"c',
    ]
    for ext in [".txt", ".md", ".html", ".csv", ".docx", ".pdf"]:
        for i, payload in enumerate(payloads):
            path = tmp_path / f"f{i}{ext}"
            path.write_bytes(payload)
            try:
                load_document(path, path.name)
            except IngestError as exc:
                assert CHINESE.search(str(exc))
