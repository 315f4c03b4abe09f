"""Bytes to text: BOMs, UTF-8, UTF-16 without BOM, GB18030/GBK, Big5, then charset_normalizer.

Binary data and bytes that decode to nothing plausible raise IngestError.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

from ingest.model import IngestError

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

_SAMPLE = 64 * 1024  # bytes looked at when scoring a candidate encoding
_MIN_SCORE = 0.9  # to accept the first plausible encoding
_MIN_BEST = 0.8  # to accept the best of several candidate encodings

EMPTY_MESSAGE = "文件是空的（0 字节），没有任何内容。"
BLANK_MESSAGE = "文件只有空白字符，没有任何文字内容。"
BINARY_MESSAGE = "文件内容看起来是二进制数据（不是文本），无法读取。请确认文件格式是否正确。"
UNDECODABLE_MESSAGE = (
    "无法识别文件的文字编码（已尝试 UTF-8、UTF-16、GB18030/GBK、Big5），文件可能已损坏或不是文本文件。"
)


@lru_cache(maxsize=32768)
def _is_common_hanzi(ch: str) -> bool:
    """GB2312 (simplified) or the frequent block of Big5 (traditional)."""
    try:
        if len(ch.encode("gb2312")) == 2:
            return True
    except UnicodeEncodeError:
        pass
    try:
        b = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xA4 <= b[0] <= 0xC6


def _is_common_char(ch: str) -> bool:
    """Characters that real text is made of: ASCII, Latin letters, punctuation, common CJK."""
    o = ord(ch)
    if 0x20 <= o < 0x7F or ch in "\n\r\t\f":
        return True
    if 0xA0 <= o <= 0x24F or 0x2000 <= o <= 0x206F:  # Latin-1/Extended, general punctuation
        return True
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:  # CJK punctuation, full-width forms
        return True
    if 0x20A0 <= o <= 0x21FF or 0x2460 <= o <= 0x25FF or 0x3200 <= o <= 0x32FF or 0xFE30 <= o <= 0xFE4F:
        return True  # currency, letterlike, arrows, ①⑴, ■●, ㈠, vertical forms
    if 0x4E00 <= o <= 0x9FFF:
        return _is_common_hanzi(ch)
    return False


def plausibility(text: str) -> float:
    """Share of characters that real text is made of (1.0 = all common).

    Text with many Latin-1 letters is scored 0: that is what Chinese bytes look like when decoded as
    a Western code page (mojibake), while real European text has a few accents at most.
    """
    if not text:
        return 0.0
    sample = text[: _SAMPLE // 2]
    if sum(1 for ch in sample if 0x80 <= ord(ch) <= 0x2FF) > 0.15 * len(sample):
        return 0.0
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


def _utf16_order(data: bytes) -> list[str]:
    """UTF-16 byte orders to try, the likelier first: ASCII and newlines put their NUL byte second in LE."""
    if len(data) % 2:
        return []
    sample = data[:_SAMPLE]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    return ["utf-16-le", "utf-16-be"] if odd >= even else ["utf-16-be", "utf-16-le"]


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
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if bad * 10_000 <= len(data):
        return text
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode file bytes to str. `declared` is an encoding named by the file itself (html meta charset)."""
    if not data:
        raise IngestError(EMPTY_MESSAGE)
    if not data.strip():
        raise IngestError(BLANK_MESSAGE)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try(data[len(bom) :], encoding)
            # a BOM can be chance (binary data starting FF FE): the text must still look like text
            if text is None or (text.strip() and plausibility(text) < 0.5):
                raise IngestError(UNDECODABLE_MESSAGE)
            return _checked(text)

    if b"\x00" in data:  # UTF-16 without BOM, or binary
        scored = []
        for encoding in _utf16_order(data):
            text = _try(data, encoding)
            if text is not None:
                scored.append((plausibility(text), text))
        if not scored or max(scored)[0] < _MIN_BEST:
            raise IngestError(BINARY_MESSAGE)
        return _checked(max(scored)[1])

    if declared:
        text = _try(data, _canonical(declared))
        if text is not None and plausibility(text) >= _MIN_SCORE:
            return _checked(text)

    text = _utf8_lenient(data)
    if text is not None:  # valid UTF-8 is evidence enough, whatever the script
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
    if best is not None and best[0] >= _MIN_BEST:
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
    except Exception:  # the guesser is best effort; any failure means "no guess"
        return None


def _checked(text: str) -> str:
    if "\x00" in text or _control_share(text) > 0.01:
        raise IngestError(BINARY_MESSAGE)
    if not text.strip():
        raise IngestError(BLANK_MESSAGE)
    return text
