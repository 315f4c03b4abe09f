"""Normalisation for matching (never for display): NFKC, traditional to simplified, entities, digit spacing."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_DIGIT_SPACE = re.compile(r"(?<=[0-9０-９.．])[ \u3000\t]+(?=[0-9０-９.．%％])")
_WS = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")  # the C++ OpenCC: about 20M characters/s


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str) -> str:
    """Text as the keyword index and the matchers see it.

    Entities decoded, NFKC (full-width digits and letters to half-width), traditional to simplified,
    spaces inside numbers removed ("4 0" -> "40"), lower case. Length may change: never use the result
    for offsets into the original text.
    """
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _DIGIT_SPACE.sub("", text)
    text = to_simplified(text)
    return text.lower()


def squash(text: str) -> str:
    """`normalize` with all whitespace removed: for substring checks across line breaks."""
    return _WS.sub("", normalize(text))
