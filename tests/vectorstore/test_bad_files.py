"""A batch of bad files never costs what is already indexed (issue 7): each gets a clear Chinese
message, good files in the same batch are indexed, and earlier documents stay answerable."""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest

from tests.support.archives import CANTEEN, write
from tests.support.ingest_builders import make_pdf, make_zip_bomb

pytestmark = pytest.mark.slow

LATE = "关于口袋公园建设的通知\n青川市年内新建口袋公园四十五个，由市园林局负责。\n"


def bad_files(folder: Path, outside: Path) -> dict[str, str]:
    """At least 50 bad files of the kinds administrators really meet; returns name -> kind."""
    rng = random.Random(7)
    kinds: dict[str, str] = {}

    def put(name: str, data: bytes, kind: str) -> None:
        (folder / name).write_bytes(data)
        kinds[name] = kind

    put("empty.txt", b"", "empty")
    for i, ws in enumerate([b" ", b"\n\n\n", b"\t \r\n", "\u3000\u3000".encode(), b"\xef\xbb\xbf  "]):
        put(f"blank_{i}.txt", ws, "whitespace")
    for i in range(8):
        put(f"binary_{i}.txt", bytes(rng.randrange(256) for _ in range(4096)), "binary")
    for i in range(4):
        put(f"nul_{i}.md", ("正文" * 50).encode() + b"\x00" * 200 + bytes(rng.randrange(256) for _ in range(300)), "nul")
    for i in range(6):
        put(f"invalid_{i}.txt", bytes([0xFF, 0xFE, 0xFD, 0x80, 0xC3]) * (50 + i * 40), "invalid utf-8")
    for i in range(5):
        put(f"corrupt_{i}.docx", b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2000)), "corrupt docx")
    for i in range(3):
        buf = folder / f"trunc_{i}.docx"
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("word/document.xml", "<w:document>" + "<w:p>" * 100)
        buf.write_bytes(buf.read_bytes()[: 60 + i * 20])
        kinds[buf.name] = "truncated docx"
    make_zip_bomb(folder / "bomb.docx")
    kinds["bomb.docx"] = "zip bomb"
    for i in range(5):
        put(f"corrupt_{i}.pdf", b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(1500)), "corrupt pdf")
    put("scan.pdf", make_pdf([None, None]), "pdf without text")
    for i in range(4):
        put(f"notpdf_{i}.pdf", "这不是PDF文件".encode() * 20, "not a pdf")
    for i in range(3):
        put(f"chrome_{i}.html", b"<html><body><script>alert(1)</script><nav>\xe9\xa6\x96\xe9\xa1\xb5</nav></body></html>",
            "html without body text")
    put("oversize.txt", ("很长的文字。" * 10).encode() * 40000, "over the size limit")  # ~7 MB > 5 MB limit below
    target = outside / "secret.txt"
    target.write_text("外部文件，不应被读取。", "utf-8")
    for i in range(3):
        os.symlink(target, folder / f"link_{i}.txt")
        kinds[f"link_{i}.txt"] = "symlink out of the folder"
    os.symlink(outside / "missing.txt", folder / "dangling.txt")
    kinds["dangling.txt"] = "dangling symlink"
    return kinds


def test_bad_batch_reports_each_file_and_keeps_the_index(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from bot.qa import QA
    from vectorstore.archive import Archive

    settings = make_settings(max_file_mb=5)
    archive = Archive(settings)
    first = tmp_path / "first"
    write(first, "good.txt", CANTEEN)
    assert archive.index_paths([first]).count("indexed") == 1

    batch = tmp_path / "batch"
    batch.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    kinds = bad_files(batch, outside)
    write(batch, "late.txt", LATE)
    assert len(kinds) >= 50

    report = archive.index_paths([batch])
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["late.txt"].status == "indexed"
    for name, kind in kinds.items():
        result = by_name.get(name)
        assert result is not None, f"{name} ({kind}) missing from the report"
        assert result.status == "failed", f"{name} ({kind}) was {result.status}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.error), f"{name}: {result.error!r}"
        assert "Traceback" not in result.error

    qa = QA(settings, archive=archive)
    earlier = qa.ask("社区食堂由哪个部门负责？")
    assert not earlier.refused and earlier.citations[0].doc_id == "good.txt"
    later = qa.ask("口袋公园由哪个部门负责？")
    assert not later.refused and later.citations[0].doc_id == "late.txt"
    assert sorted(d.doc_id for d in archive.documents()) == ["good.txt", "late.txt"]
    assert "外部文件" not in " ".join(c.text for c in later.citations + earlier.citations)
