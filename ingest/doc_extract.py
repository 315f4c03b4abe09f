"""Word 97 .doc and WPS .wps: text through Debian's antiword, catdoc as the fallback (run as programs).

Both recognise the file by its content, so a Word-97-compatible .wps reads like a .doc. They are GPL
programs, installed by scripts/setup.sh and called here, never vendored.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ingest.model import IngestError
from ingest.raw import RawDoc

TIMEOUT_S = 60
MISSING_MESSAGE = "读取 .doc / .wps 文件需要 antiword 或 catdoc 程序，服务器上尚未安装（请运行 bash scripts/setup.sh）。"
CORRUPT_MESSAGE = "Word 97 / WPS 文件（.doc/.wps）已损坏，或不是 antiword / catdoc 能读取的格式，无法读取。"
GARBLED_MESSAGE = "Word 97 / WPS 文件（.doc/.wps）读出的文字是乱码（编码无法识别），无法读取。请另存为 .docx 后再上传。"
TIMEOUT_MESSAGE = f"读取 .doc / .wps 文件超过 {TIMEOUT_S} 秒仍未完成，文件可能已损坏，已放弃。"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # every Word 97 file is an OLE2 compound file

# (program, arguments before the file name); -w 0: antiword does not hard-wrap paragraphs
COMMANDS = (("antiword", ["-m", "UTF-8.txt", "-w", "0"]), ("catdoc", ["-d", "utf-8", "-w"]))


_GARBLE = re.compile("[\u0080-\u02ff\ufffd]")


def garbled(text: str) -> bool:
    """Did the program read the text with the wrong encoding ("ÄãºÃ…")? catdoc takes a 128-character block
    of Chinese without an ASCII space or punctuation for 8-bit text. One character in ten outside what
    Chinese and Western text use is too many."""
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and len(_GARBLE.findall(text)) * 10 >= len(chars)


def _run(program: str, args: list[str], path: str) -> str | None:
    """The program's text, or None when it failed or found nothing."""
    try:
        done = subprocess.run(
            [program, *args, path], capture_output=True, timeout=TIMEOUT_S, check=False,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(TIMEOUT_MESSAGE) from exc
    except OSError:
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    return text if done.returncode == 0 and text.strip() else None


def read_doc(data: bytes, commands: tuple[tuple[str, list[str]], ...] = COMMANDS) -> RawDoc:
    if not data.startswith(OLE_MAGIC):
        raise IngestError(CORRUPT_MESSAGE)
    available = [(shutil.which(program), args) for program, args in commands]
    available = [(program, args) for program, args in available if program]
    if not available:
        raise IngestError(MISSING_MESSAGE)
    with tempfile.TemporaryDirectory(prefix="speechqa-doc-") as folder:
        path = os.path.join(folder, "document.doc")
        with open(path, "wb") as handle:
            handle.write(data)
        unreadable = False
        for program, args in available:
            text = _run(program, args, path)
            if text is not None and garbled(text):
                unreadable = True  # the next program may read it right
            elif text is not None:
                return RawDoc(pages=[text.replace("\f", "\n")])
    raise IngestError(GARBLED_MESSAGE if unreadable else CORRUPT_MESSAGE)
