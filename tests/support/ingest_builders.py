"""Builders for the ingest tests: tiny handmade pdf and docx files, a zip bomb."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def make_pdf(pages: list[str | None]) -> bytes:
    """A minimal PDF, one page per entry: ASCII text in Helvetica, or None for a page without text.

    Pages without text still draw a rectangle, like a scanned page has an image but no text layer.
    """
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, text in enumerate(pages):
        if text is None:
            stream = b"0.5 g 50 50 500 700 re f"
        else:
            lines = []
            for j, line in enumerate(text.split("\n")):
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                lines.append(f"BT /F1 12 Tf 72 {720 - 16 * j} Td ({escaped}) Tj ET")
            stream = "\n".join(lines).encode("latin-1")
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {4 + 2 * i} 0 R >>"
        )
        objects.append(page.encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("在全市工作会议上的讲话", level=1)
    document.add_paragraph("同志们：")
    document.add_paragraph("一、统一思想。今年全市生产总值增长5.1%，我们要再接再厉。")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["指标", "2024年", "2025年"], ["增长", "4.8%", "5.1%"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("二、狠抓落实。表格之后的段落。")
    document.save(str(path))
    return path


def make_zip_bomb(path: Path, megabytes: int = 8) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (megabytes * 2**20))
    return path
