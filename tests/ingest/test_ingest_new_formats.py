"""The formats of issue 15 without OCR: discovery and uploads, .xlsx rows, and every bad file refused with a
Chinese message (corrupt, zip bombs, a .doc antiword and catdoc cannot read or that no program is there for)."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from admin.uploads import ALLOWED_EXTENSIONS
from ingest import IngestError, discover, load_document
from ingest.discover import EXTENSIONS
from ingest.doc_extract import MISSING_MESSAGE, OLE_MAGIC, read_doc
from tests.support.ingest_builders import make_ofd, make_xlsx

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NEW = (".xlsx", ".doc", ".wps", ".ofd", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


def _error(path: Path) -> str:
    with pytest.raises(IngestError) as info:
        load_document(path, path.name)
    message = str(info.value)
    assert CHINESE.search(message), message
    return message


def test_new_extensions_are_discovered_and_uploadable(tmp_path: Path) -> None:
    for ext in NEW:
        (tmp_path / f"a{ext.upper()}").write_bytes(b"x")
    found = [doc_id for _, doc_id in discover([tmp_path])]
    assert len(found) == len(NEW)
    assert set(NEW) <= set(EXTENSIONS) and set(NEW) <= set(ALLOWED_EXTENSIONS)


def test_xlsx_rows_with_header_and_sheets(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "t.xlsx", {
        "收入": [["项目", "金额", "单位"], ["税收收入", 1250.5, "亿元"], [None, None, None], ["非税收入", 310, "亿元"]],
        "空表": [],
        "备注": [["说明"], ["数据为快报数"]],
    })
    doc = load_document(path, "t.xlsx")
    assert "项目：税收收入；金额：1250.5亿元。" in doc.text and "项目：非税收入；金额：310亿元。" in doc.text
    assert "备注" in doc.text and "说明：数据为快报数。" in doc.text and doc.page_starts == []


def test_ofd_text_pages(tmp_path: Path) -> None:
    path = make_ofd(tmp_path / "n.ofd", [["关于做好防汛工作的通知", "各区：请做好准备。"], ["第二页的内容在这里。"]],
                    title="防汛通知", date="2024-06-01")
    doc = load_document(path, "n.ofd")
    assert doc.title == "防汛通知" and doc.date == "2024-06-01" and len(doc.page_starts) == 2
    assert doc.text[doc.page_starts[1] :].strip() == "第二页的内容在这里。"


@pytest.mark.parametrize(("name", "data", "words"), [
    ("bad.ofd", os.urandom(3000), "OFD"),
    ("bad.xlsx", os.urandom(3000), "Excel"),
    ("bad.png", b"\x89PNG\r\n\x1a\n" + os.urandom(3000), "图片"),
    ("bad.jpg", os.urandom(3000), "图片"),
    ("bad.tiff", b"II*\x00" + os.urandom(3000), "图片"),
    ("bad.doc", os.urandom(3000), ".doc"),
    ("bad.wps", OLE_MAGIC + os.urandom(3000), ".doc"),
])
def test_corrupt_files(tmp_path: Path, name: str, data: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert words in _error(path)


def test_ofd_without_ofd_xml(tmp_path: Path) -> None:
    path = tmp_path / "empty.ofd"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Doc_0/Document.xml", "<Document/>")
    assert "OFD" in _error(path)


@pytest.mark.parametrize("name", ["bomb.ofd", "bomb.xlsx"])
def test_zip_bombs(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", b"\0" * (8 * 2**20))
    assert "压缩炸弹" in _error(path)


def test_doc_without_antiword_or_catdoc() -> None:
    with pytest.raises(IngestError) as info:
        read_doc(OLE_MAGIC + b"\0" * 600, commands=(("speechqa-no-such-antiword", []),))
    assert str(info.value) == MISSING_MESSAGE


def test_doc_falls_back_to_the_second_program(tmp_path: Path) -> None:
    """antiword refusing a file is not the end: the next program is tried (here `cat`, standing in for catdoc)."""
    # `cat` prints the 8 magic bytes too: enough text that they do not make the output look garbled
    raw = read_doc(OLE_MAGIC + ("备用程序读出的文字。" * 10).encode(), commands=(("false", []), ("cat", [])))
    assert "备用程序读出的文字" in raw.pages[0]


def test_garbled_text_is_refused_or_read_by_the_next_program() -> None:
    """catdoc reads a long run of Chinese without ASCII punctuation as 8-bit text ("ÄãºÃ…"): such output is
    no document. Here `python3 -c` prints what each program would."""
    garble = ("python3", ["-c", "print('ÄãºÃÎÒÃÇ' * 40)"])
    good = ("python3", ["-c", "print('会议决定：改造供水管网186公里。')"])
    data = OLE_MAGIC + b"\0" * 600
    with pytest.raises(IngestError) as info:
        read_doc(data, commands=(garble,))
    assert "乱码" in str(info.value)
    assert "供水管网186公里" in read_doc(data, commands=(garble, good)).pages[0]
    assert "供水管网186公里" in read_doc(data, commands=(good, garble)).pages[0]
