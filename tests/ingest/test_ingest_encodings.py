"""Text files in the encodings Chinese documents come in."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ingest import load_document
from ingest.decode import decode_bytes

TEXT = (
    "2018年国务院政府工作报告\n\n各位代表：\n\n现在，我代表国务院，向大会报告政府工作。"
    "过去五年，经济实力跃上新台阶，国内生产总值增加到８２.７万亿元，年均增长7.1%。\n"
    "我們要堅持以人民為中心的發展思想。“三去一降一补”取得积极进展！\n"
)

ENCODINGS = [
    ("gbk", b""),
    ("gb18030", b""),
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""),
    ("utf-16-be", b""),
    ("big5", b""),
]


def _text_for(encoding: str) -> str:
    if encoding == "big5":  # Big5 holds traditional characters only
        return "國務院政府工作報告\n各位代表：\n現在，我代表國務院，向大會報告政府工作，請予審議。我們要堅持以人民為中心的發展思想。\n"
    return TEXT


@pytest.mark.parametrize(("encoding", "bom"), ENCODINGS)
def test_encodings_decode(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = _text_for(encoding)
    path = tmp_path / f"report_{encoding}{'_bom' if bom else ''}.txt"
    path.write_bytes(bom + text.encode(encoding))
    doc = load_document(path, path.name)
    assert "向大会报告政府工作" in doc.text or "向大會報告政府工作" in doc.text
    assert "\ufeff" not in doc.text
    if encoding != "big5":
        assert "８２.７万亿元" in doc.text  # the document's own full-width digits are kept
        assert "我們要堅持" in doc.text  # and its traditional characters
        assert doc.title == "2018年国务院政府工作报告"
        assert doc.date == "2018"


def test_gb18030_only_characters() -> None:
    text = "𠀀字与€符号，以及“引号”。" * 3  # outside GBK: needs GB18030's four-byte codes
    assert decode_bytes(text.encode("gb18030")) == text


def test_utf16_without_bom_pure_chinese() -> None:
    text = "中华人民共和国国务院政府工作报告各位代表现在我代表国务院向大会报告政府工作请予审议" * 4
    for encoding in ("utf-16-le", "utf-16-be"):
        assert decode_bytes(text.encode(encoding)) == text


def test_utf8_with_one_stray_byte_in_a_big_file() -> None:
    good = ("现在，我代表国务院，向大会报告政府工作。" * 2000).encode()
    data = good[:30000] + b"\xff" + good[30000:]
    text = decode_bytes(data)
    assert text.count("\ufffd") == 1


def test_html_meta_charset_gbk(tmp_path: Path) -> None:
    html = '<html><head><meta charset="gb2312"><title>在全市工作会议上的讲话_某某网</title></head><body><p>同志们：今天的会议很重要。</p></body></html>'
    path = tmp_path / "page.htm"
    path.write_bytes(html.encode("gbk"))
    doc = load_document(path, path.name)
    assert "同志们：今天的会议很重要。" in doc.text
    assert doc.title == "在全市工作会议上的讲话"
