"""Bytes to text: BOMs, UTF-8, UTF-16 without BOM, GB18030/GBK, Big5, then charset_normalizer.

Binary data and bytes that decode to nothing plausible raise IngestError.
"""

from __future__ import annotations

import codecs
import unicodedata

from ingest.model import IngestError

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

_SAMPLE = 64 * 1024  # bytes looked at when scoring a candidate encoding
_MIN_SCORE = 0.9

BINARY_MESSAGE = "文件内容看起来是二进制数据（不是文本），无法读取。请确认文件格式是否正确。"
UNDECODABLE_MESSAGE = "无法识别文件的文字编码（已尝试 UTF-8、UTF-16、GB18030/GBK、Big5），文件可能已损坏或不是文本文件。"


def _is_common_char(ch: str) -> bool:
    """Characters that real text is made of: ASCII, Latin letters, punctuation, common CJK."""
    o = ord(ch)
    if 0x20 <= o < 0x7F or ch in "\n\r\t\f":
        return True
    if 0xA0 <= o <= 0x24F or 0x2000 <= o <= 0x206F:  # Latin-1/Extended, general punctuation
        return True
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:  # CJK punctuation, full-width forms
        return True
    if 0x4E00 <= o <= 0x9FFF:
        # Common hanzi: GB2312 (simplified) or the frequent block of Big5 (traditional).
        try:
            if len(ch.encode("gb2312")) == 2:
                return True
        except UnicodeEncodeError:
            pass
        try:
            b = ch.encode("big5")
            return len(b) == 2 and 0xA4 <= b[0] <= 0xC6
        except UnicodeEncodeError:
            return False
    return unicodedata.category(ch) in ("Lu", "Ll", "Nd", "Po", "Ps", "Pe", "Pd", "Zs") and o < 0x3000


def plausibility(text: str) -> float:
    """Share of characters that real text is made of (1.0 = all common)."""
    if not text:
        return 0.0
    sample = text[: _SAMPLE // 2]
    return sum(1 for ch in sample if _is_common_char(ch)) / len(sample)


def _control_share(text: str) -> float:
    sample = text[: _SAMPLE // 2]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if (ord(ch) < 0x20 and ch not in "\n\r\t\f\v\x1b") or ord(ch) == 0x7F)
    return bad / len(sample)


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_by_nuls(data: bytes) -> str | None:
    """UTF-16 without BOM, told by where the NUL bytes sit (ASCII and newlines have one NUL byte)."""
    sample = data[:_SAMPLE]
    even = sum(1 for i in range(0, len(sample), 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, len(sample), 2) if sample[i] == 0)
    total = even + odd
    if total == 0 or len(data) % 2:
        return None
    if odd >= 0.9 * total:
        return "utf-16-le"
    if even >= 0.9 * total:
        return "utf-16-be"
    return None


def _utf8_lenient(data: bytes) -> str | None:
    """UTF-8 that has at most one bad byte per 10,000 (a truncated last character is always fine)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\xef\xbf\xbd".encode("latin-1"))
    if bad * 10_000 <= len(data):
        return text
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode file bytes to str. `declared` is an encoding named by the file itself (html meta charset)."""
    if not data.strip():
        raise IngestError("文件是空的（没有任何文字内容）。")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try(data[len(bom) :], encoding)
            if text is None:
                raise IngestError(UNDECODABLE_MESSAGE)
            return _checked(text)

    if b"\x00" in data:
        encoding = _utf16_by_nuls(data)
        text = _try(data, encoding) if encoding else None
        if text is None or plausibility(text) < _MIN_SCORE:
            raise IngestError(BINARY_MESSAGE)
        return _checked(text)

    if declared:
        text = _try(data, _canonical(declared))
        if text is not None and plausibility(text) >= _MIN_SCORE:
            return _checked(text)

    text = _utf8_lenient(data)
    if text is not None and plausibility(text) >= _MIN_SCORE:
        return _checked(text)

    best: tuple[float, str] | None = None
    candidates = ["gb18030", "big5"]
    if len(data) % 2 == 0:
        candidates += ["utf-16-le", "utf-16-be"]
    for encoding in candidates:
        decoded = _try(data, encoding)
        if decoded is None:
            continue
        score = plausibility(decoded)
        if best is None or score > best[0] + 0.02:  # ties go to the earlier (more likely) encoding
            best = (score, decoded)
    if best is not None and best[0] >= _MIN_SCORE:
        return _checked(best[1])

    guess = _charset_normalizer_guess(data)
    if guess is not None and plausibility(guess) >= _MIN_SCORE:
        return _checked(guess)
    if _control_share(data.decode("latin-1")) > 0.01:
        raise IngestError(BINARY_MESSAGE)
    raise IngestError(UNDECODABLE_MESSAGE)


def _canonical(name: str) -> str:
    name = name.strip().lower()
    if name in ("gb2312", "gbk", "x-gbk", "gb_2312-80"):
        return "gb18030"  # a superset; pages labelled gb2312 often use GBK characters
    return name


def _charset_normalizer_guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(data[: 4 * _SAMPLE]).best()
        if match is None or match.encoding is None:
            return None
        return data.decode(match.encoding)
    except Exception:  # noqa: BLE001 - the guesser is best effort; any failure means "no guess"
        return None


def _checked(text: str) -> str:
    if "\x00" in text or _control_share(text) > 0.01:
        raise IngestError(BINARY_MESSAGE)
    if not text.strip():
        raise IngestError("文件只有空白字符，没有任何文字内容。")
    return text
