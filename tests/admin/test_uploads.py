"""Upload names and limits: safe file and collection folder names, allowed types and sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin.uploads import (
    ALLOWED_EXTENSIONS,
    check_collection_name,
    check_upload,
    collection_folder_name,
    sanitize_filename,
)

MB = 2**20


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/x.md", "x.md"),
        ("a\\b.txt", "b.txt"),
        ("C:\\Users\\张三\\桌面\\讲话稿.docx", "讲话稿.docx"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("ev\x00il\x1f\x7f.txt", "evil.txt"),
        ("line\nbreak\r.md", "linebreak.md"),
        ("abc\u202etxt.exe", "abctxt.exe"),  # a bidi override must not disguise the extension
        ("zero\u200bwidth.csv", "zerowidth.csv"),
        ("2025年政府工作报告（全文）.docx", "2025年政府工作报告（全文）.docx"),
        ("市政府 常务会议  纪要.pdf", "市政府 常务会议 纪要.pdf"),
        ("report?:*.html", "report___.html"),
        (".hidden.txt", "hidden.txt"),
        ("trailing dots...", "trailing dots"),
        ("...", ""),
        ("..", ""),
        (".", ""),
        ("../", ""),
        ("/", ""),
        ("", ""),
        ("   ", ""),
        ("\x00\x01", ""),
    ],
)
def test_sanitize_filename(given: str, expected: str) -> None:
    assert sanitize_filename(given) == expected


NASTY = [
    "../../etc/passwd.txt", "/abs/x.md", "a\\b.txt", "..\\..\\x.pdf", "x/../../y.txt", "....//....//z.md",
    "\x00../a.txt", "..\x00/b.txt", "%2e%2e%2fc.txt", "~/.ssh/id_rsa.txt", "C:..\\d.txt", "\u202e../e.txt",
    "名称/../../../f.html", "./.././g.htm", "." * 300 + ".txt", "长" * 300 + ".docx",
]


@pytest.mark.parametrize("given", NASTY)
def test_sanitized_names_stay_inside_the_upload_folder(tmp_path: Path, given: str) -> None:
    name = sanitize_filename(given)
    for bad in ("/", "\\", "\x00"):
        assert bad not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert len(name.encode("utf-8")) <= 200
    if name:
        folder = tmp_path / "uploads" / "default"
        assert (folder / name).resolve().parent == folder.resolve()


def test_long_chinese_name_keeps_its_extension() -> None:
    name = sanitize_filename("关于" * 200 + ".pdf")
    assert name.endswith(".pdf") and name.startswith("关于")
    assert len(name.encode("utf-8")) <= 200


def test_collection_names_and_folders() -> None:
    assert check_collection_name("区政府") == ""
    for bad in ("", "../x", "a/b", "a\\b", ".hidden", "x\x00", "长" * 41):
        assert check_collection_name(bad), bad
    assert collection_folder_name("市政府") == "市政府"
    for odd in ("../..", "a/b", "", ".."):
        folder = collection_folder_name(odd)
        assert folder and "/" not in folder and not folder.startswith(".")


# --- type and size ---
@pytest.mark.parametrize("ext", [*ALLOWED_EXTENSIONS, ".PDF", ".Docx"])
def test_allowed_types(ext: str) -> None:
    assert check_upload(f"报告{ext}", 10, MB) == ""


@pytest.mark.parametrize("name", ["setup.exe", "archive.zip", "page.php", "doc.rtf", "noext", "x.txt.exe", "a.markdown"])
def test_other_types_are_refused_with_a_clear_message(name: str) -> None:
    message = check_upload(name, 10, MB)
    assert "不支持的文件类型" in message
    assert ".docx" in message and ".pdf" in message  # says what is allowed


def test_size_limits() -> None:
    assert check_upload("a.txt", MB, MB) == ""
    assert "文件太大" in check_upload("a.txt", MB + 1, MB)
    assert "空" in check_upload("a.txt", 0, MB)
    assert "临时文件" in check_upload("~$报告.docx", 10, MB)
    assert "文件名无效" in check_upload("", 10, MB)


