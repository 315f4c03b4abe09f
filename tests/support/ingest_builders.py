"""Builders for the ingest tests: tiny handmade pdf, docx, OFD, xlsx and Word 97 files, degraded scans, a zip bomb."""

from __future__ import annotations

import io
import string
import struct
import zipfile
from pathlib import Path
from typing import Any


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


# --- scans, photos, OFD and spreadsheets (issue 15) ---

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
SCAN_DPI = 150
A4_PIXELS = (1240, 1754)  # A4 at 150 dpi


PAGE_TOP, PAGE_LEFT = 150, 120  # where render_page writes its first line, in pixels


def line_band(j: int, font_px: int = 30) -> tuple[int, int]:
    """The pixel rows render_page writes its line j on (before rotation, which moves them a few pixels)."""
    top = PAGE_TOP + j * int(font_px * 1.9)
    return top, top + font_px


def render_page(lines: list[str], *, degrade: bool = True, angle: float = 0.8, seed: int = 0,
                font_px: int = 30) -> Any:
    """A page of Chinese text as a scanner or a phone would see it: slightly rotated, blurred, noisy.

    Returns a PIL RGB image of an A4 page at 150 dpi (about a 14-point font).
    """
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(CJK_FONT), font_px)
    page = Image.new("L", A4_PIXELS, 255)
    draw = ImageDraw.Draw(page)
    for j, line in enumerate(lines):
        draw.text((PAGE_LEFT, line_band(j, font_px)[0]), line, font=font, fill=20)
    if not degrade:
        return page.convert("RGB")
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(page, dtype=np.float32) + rng.normal(0, 14, (A4_PIXELS[1], A4_PIXELS[0]))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")


def jpeg_roundtrip(image: Any, quality: int = 70) -> Any:
    """The image as a scanner's JPEG would store it (compression artefacts included)."""
    from PIL import Image

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def make_scanned_pdf(path: Path, pages: list[Any], text_pages: dict[int, str] | None = None) -> Path:
    """A PDF of JPEG page images (Pillow writes each RGB page as DCTDecode), no text layer.

    `text_pages` maps a 0-based page index to ASCII text: those pages get a text layer instead of an
    image (a mixed PDF, such as a typed cover page in front of scanned pages).
    """
    from pypdf import PdfReader, PdfWriter

    buffer = io.BytesIO()
    first, *rest = pages
    first.save(buffer, "PDF", resolution=SCAN_DPI, save_all=True, append_images=rest, quality=70)
    if not text_pages:
        path.write_bytes(buffer.getvalue())
        return path
    scans = PdfReader(io.BytesIO(buffer.getvalue()))
    n = len(pages) + len(text_pages)
    texts = PdfReader(io.BytesIO(make_pdf([text_pages.get(i) for i in range(n)])))
    writer = PdfWriter()
    scan_iter = iter(scans.pages)
    for i in range(n):
        writer.add_page(texts.pages[i] if i in text_pages else next(scan_iter))
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_scanned_pdf_of(path: Path, pages: list[list[str]], seed: int = 0) -> Path:
    """A scanned PDF of these typed pages (lines of text), each degraded as render_page does and JPEG'd."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_scanned_pdf(path, [jpeg_roundtrip(render_page(lines, seed=seed + i)) for i, lines in enumerate(pages)])


def make_tiff(path: Path, pages: list[Any]) -> Path:
    """A multi-page TIFF (one frame per page), as office scanners write them."""
    first, *rest = pages
    first.save(path, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate", dpi=(SCAN_DPI, SCAN_DPI))
    return path


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_ofd(path: Path, pages: list[list[str] | bytes], *, title: str = "", author: str = "",
             date: str = "") -> Path:
    """A minimal OFD package (GB/T 33190): OFD.xml, Doc_0/Document.xml, one Content.xml per page.

    A page given as lines of text holds one TextObject per line (A4, 5 mm characters); a page given as
    image bytes (PNG/JPEG) holds only an ImageObject drawing that image over the whole page, like a
    scanned 公文, with the image registered as a MultiMedia resource in DocumentRes.xml.
    """
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    info = "".join(
        f"<ofd:{tag}>{_xml_text(value)}</ofd:{tag}>"
        for tag, value in (("DocID", "speechqa-test"), ("Title", title), ("Author", author), ("CreationDate", date))
        if value
    )
    ofd_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
        f"<ofd:DocInfo>{info}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    page_refs = "".join(
        f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    media = "".join(
        f'<ofd:MultiMedia ID="{100 + i}" Type="Image" Format="PNG"><ofd:MediaFile>image_{i}.png</ofd:MediaFile>'
        f"</ofd:MultiMedia>"
        for i, page in enumerate(pages)
        if isinstance(page, bytes)
    )
    document_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData><ofd:MaxUnitID>999</ofd:MaxUnitID>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
        f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )
    public_res = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:Fonts>'
        f'<ofd:Font ID="1" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
    )
    document_res = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:MultiMedias>{media}'
        f"</ofd:MultiMedias></ofd:Res>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", ofd_xml)
        archive.writestr("Doc_0/Document.xml", document_xml)
        archive.writestr("Doc_0/PublicRes.xml", public_res)
        archive.writestr("Doc_0/DocumentRes.xml", document_res)
        for i, page in enumerate(pages):
            if isinstance(page, bytes):
                archive.writestr(f"Doc_0/Res/image_{i}.png", page)
                body = (
                    f'<ofd:ImageObject ID="{200 + i}" ResourceID="{100 + i}" Boundary="0 0 210 297" '
                    f'CTM="210 0 0 297 0 0"/>'
                )
            else:
                body = "".join(
                    f'<ofd:TextObject ID="{300 + 50 * i + j}" Font="1" Size="5" Boundary="20 {30 + 9 * j} 170 8">'
                    f'<ofd:TextCode X="0" Y="5" DeltaX="g {max(len(line) - 1, 0)} 5">{_xml_text(line)}</ofd:TextCode>'
                    f"</ofd:TextObject>"
                    for j, line in enumerate(page)
                )
            content = (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Area><ofd:PhysicalBox>0 0 210 297'
                f'</ofd:PhysicalBox></ofd:Area><ofd:Content><ofd:Layer ID="{400 + i}">{body}</ofd:Layer>'
                f"</ofd:Content></ofd:Page>"
            )
            archive.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", content)
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]], title: str = "") -> Path:
    """An .xlsx workbook, one sheet per entry (the first row of each is its header)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if title:
        book.properties.title = title
    book.save(path)
    return path


def char_accuracy(expected: str, recognised: str) -> float:
    """1 - (character edit distance / expected length), after NFKC and without whitespace."""
    import unicodedata

    a = "".join(unicodedata.normalize("NFKC", expected).split())
    b = "".join(unicodedata.normalize("NFKC", recognised).split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1 - previous[-1] / max(len(a), 1)


# --- Word 97 (.doc, and .wps as WPS Office saves it), byte by byte (issue 15) ---
#
# An OLE2 compound file (MS-CFB version 3, 512-byte sectors) holding two streams: WordDocument, which opens
# with a Word 97 file information block (FIB, nFib 0x00C1) followed by the text in UTF-16LE, and 1Table,
# holding the piece table (CLX) whose one piece points at that text (fCompressed off). Both streams are
# padded past the 4096-byte mini-stream cutoff, so they live in ordinary sectors and no mini stream is needed.
# 1Table also holds a one-style stylesheet (antiword reads one in any case). Fonts, formatting runs, sections
# and document properties are not written: readers that go by the piece table (antiword) and those that read
# the text run fcMin..fcMac (catdoc) both find the text without them; Word itself may want them.

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CFB_SECTOR = 512
CFB_MINI_CUTOFF = 0x1000
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
WORD_CLSID = bytes.fromhex("0609020000000000c000000000000046")  # {00020906-0000-0000-C000-000000000046}
FIB_SIZE = 0x384  # FibBase 32 + csw/fibRgW 30 + cslw/fibRgLw 90 + cbRgFcLcb/fibRgFcLcb97 746 + cswNew 2
TEXT_FC = 0x400  # where the text starts in the WordDocument stream
LID_ZH_CN = 0x0804
F_WHICH_TBL_STM, F_EXT_CHAR = 0x0200, 0x1000  # FibBase flags: the table stream is 1Table; Unicode text


def word97_text(paragraphs: list[str]) -> str:
    """The document text as Word stores it: every paragraph ends with a carriage return."""
    return "".join(f"{p}\r" for p in paragraphs)


def _check_catdoc_can_read(text: str) -> None:
    """catdoc takes a 256-byte block of the text for UTF-16 only if it holds an ASCII space, CR or punctuation
    mark (its get_word8_char); a block of 128 Chinese characters without one comes out as 8-bit garbage."""
    ascii_marks = set(" \r" + string.punctuation)
    for start in range(0, len(text), 128):
        if not ascii_marks & set(text[start : start + 128]):
            raise ValueError(f"characters {start}-{start + 127} hold no ASCII space, CR or punctuation: "
                             "catdoc would not recognise them as UTF-16; break the paragraph or add one")


def _fib(ccp_text: int, stream_size: int, lcb_stsh: int, lcb_clx: int) -> bytes:
    fib = bytearray(FIB_SIZE)
    fc_mac = TEXT_FC + 2 * ccp_text
    # FibBase: wIdent, nFib, nProduct, lid, pnNext, flags, nFibBack, lKey, envr, flags2, chs, chsTables,
    # fcMin, fcMac (the last four "reserved" in MS-DOC, written by Word 97 and read by catdoc)
    struct.pack_into("<HHHHHHHIBBHHII", fib, 0, 0xA5EC, 0x00C1, 0x6A62, LID_ZH_CN, 0,
                     F_WHICH_TBL_STM | F_EXT_CHAR, 0x00BF, 0, 0, 0, 0, 0, TEXT_FC, fc_mac)
    struct.pack_into("<H", fib, 0x20, 14)  # csw: fibRgW is 14 shorts
    struct.pack_into("<H", fib, 0x3C, LID_ZH_CN)  # fibRgW.lidFE
    struct.pack_into("<H", fib, 0x3E, 22)  # cslw: fibRgLw is 22 longs
    struct.pack_into("<I", fib, 0x40, stream_size)  # cbMac
    struct.pack_into("<i", fib, 0x4C, ccp_text)  # ccpText; no footnotes, headers, comments or text boxes
    struct.pack_into("<H", fib, 0x98, 0x5D)  # cbRgFcLcb: the 93 pairs of fibRgFcLcb97
    # fcStshfOrig, lcbStshfOrig, fcStshf, lcbStshf: the stylesheet opens 1Table; fcClx, lcbClx: the CLX follows
    struct.pack_into("<IIII", fib, 0x9A, 0, lcb_stsh, 0, lcb_stsh)
    struct.pack_into("<II", fib, 0x1A2, lcb_stsh, lcb_clx)
    return bytes(fib)  # cswNew (0x382) stays 0, as in a file Word 97 itself saved


def _stsh() -> bytes:
    """A stylesheet (STSH) of one style, Normal: sti 0, a paragraph style based on none, no properties.

    antiword reads the stylesheet whatever its length (reading past an empty one makes its output random).
    """
    stshi = struct.pack("<HHHHHH3H", 1, 10, 1, 0x5B, 0x0F, 0, 0, 0, 0)  # cstd, cbSTDBaseInFile, flags, ...
    name = struct.pack("<H", 6) + "Normal\0".encode("utf-16-le")  # Xstz: cch, characters, terminator
    papx, chpx = struct.pack("<HH", 2, 0), struct.pack("<H", 0)  # UPXs: istd 0 and no sprms; no sprms
    size = 10 + len(name) + len(papx) + len(chpx)
    # StdfBase: sti 0; stk 1 (paragraph) and istdBase 0xFFF (none); cupx 2 and istdNext 0; bchUpe; grfstd
    std = struct.pack("<HHHHH", 0, 0xFFF1, 0x0002, size, 0) + name + papx + chpx
    return struct.pack("<H", len(stshi)) + stshi + struct.pack("<H", len(std)) + std


def _clx(ccp_text: int) -> bytes:
    """A CLX with no property modifiers and a piece table of one piece: CPs 0..ccpText from TEXT_FC."""
    pcd = struct.pack("<HIH", 0, TEXT_FC, 0)  # bit 30 of fc clear: fCompressed off, UTF-16LE text
    plc = struct.pack("<II", 0, ccp_text) + pcd
    return struct.pack("<BI", 0x02, len(plc)) + plc


def _pad(data: bytes, minimum: int = CFB_MINI_CUTOFF) -> bytes:
    size = max(len(data), minimum)
    size += -size % CFB_SECTOR
    return data.ljust(size, b"\0")


def _dir_entry(name: str, kind: int, *, left: int = NOSTREAM, right: int = NOSTREAM, child: int = NOSTREAM,
               clsid: bytes = b"\0" * 16, start: int = ENDOFCHAIN, size: int = 0, black: bool = True) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, int(black), left, right, child,
                       clsid, 0, 0, 0, start, size)


def _compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """An OLE2 compound file of these streams under its root: one FAT sector, one directory sector, then each
    stream's sectors in turn. The root storage carries Word's class id, as Word writes it.

    The directory is a red-black tree ordered as MS-CFB orders names (shorter first, then by upper case): the
    first stream is its black root, the others red leaves on its left or right.
    """
    if len(streams) > CFB_SECTOR // 128 - 1:
        raise ValueError("one directory sector holds the root and three streams")
    streams = [(name, _pad(data)) for name, data in streams]  # every stream past the mini-stream cutoff
    fat = [FATSECT, ENDOFCHAIN]  # sector 0 is the FAT, sector 1 the directory
    starts: list[int] = []
    for _, data in streams:
        starts.append(len(fat))
        n = len(data) // CFB_SECTOR
        fat += [len(fat) + i + 1 for i in range(n - 1)] + [ENDOFCHAIN]
    if len(fat) > CFB_SECTOR // 4:
        raise ValueError("more than one FAT sector maps (64 KB)")

    def key(name: str) -> tuple[int, str]:
        return len(name), name.upper()

    left = right = NOSTREAM
    for i, (name, _) in enumerate(streams[1:], start=2):
        if key(name) < key(streams[0][0]):
            left = i
        else:
            right = i
    entries = [_dir_entry("Root Entry", 5, child=1, clsid=WORD_CLSID)]
    for i, ((name, data), start) in enumerate(zip(streams, starts, strict=True), start=1):
        if i == 1:
            entries.append(_dir_entry(name, 2, left=left, right=right, start=start, size=len(data)))
        else:
            entries.append(_dir_entry(name, 2, start=start, size=len(data), black=False))
    unused = _dir_entry("", 0, start=0, black=False)  # no name, type 0, every link NOSTREAM
    directory = b"".join(entries) + unused * (CFB_SECTOR // 128 - len(entries))
    # signature, clsid, minor and major version, byte order, sector shifts (512 and 64 bytes), reserved,
    # directory sectors (0 in version 3), FAT sectors, first directory sector, transaction signature,
    # mini-stream cutoff, first mini FAT sector and count, first DIFAT sector and count; then the DIFAT
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", OLE_SIGNATURE, b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6,
                         b"\0" * 6, 0, 1, 1, 0, CFB_MINI_CUTOFF, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<109I", 0, *[FREESECT] * 108)
    fat_sector = struct.pack(f"<{CFB_SECTOR // 4}I", *fat, *[FREESECT] * (CFB_SECTOR // 4 - len(fat)))
    return header + fat_sector + directory + b"".join(data for _, data in streams)


def word97_bytes(paragraphs: list[str]) -> bytes:
    """A Word 97 document (.doc) holding these paragraphs, as bytes."""
    text = word97_text(paragraphs)
    _check_catdoc_can_read(text)
    encoded = text.encode("utf-16-le")
    ccp = len(encoded) // 2  # characters (CPs); the text has no characters outside the BMP
    if ccp != len(text):
        raise ValueError("only characters of the Basic Multilingual Plane")
    stsh, clx = _stsh(), _clx(ccp)
    size = len(_pad(b"\0" * (TEXT_FC + len(encoded))))  # the stream as the compound file will store it
    word_document = _fib(ccp, size, len(stsh), len(clx)).ljust(TEXT_FC, b"\0") + encoded
    return _compound_file([("WordDocument", word_document), ("1Table", stsh + clx)])


def make_doc(path: Path, paragraphs: list[str]) -> Path:
    """A Word 97 file of these paragraphs at `path` (.doc, or .wps: WPS Office saves Word-97-compatible bytes)."""
    path.write_bytes(word97_bytes(paragraphs))
    return path
