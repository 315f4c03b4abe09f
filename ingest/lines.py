"""Line-level text hygiene: newlines, invisible characters, whitespace runs, lines broken around links.

A "line list" here is a list of stripped lines in which "" marks a blank line (a paragraph gap).
"""

from __future__ import annotations

import re

from core.zh import CLOSERS, SENTENCE_ENDS

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\ufffc]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_HSPACE_WITH_TAB = re.compile(
    r"[ \t\u3000\xa0\u2000-\u200a\u202f\u205f]*\t[ \t\u3000\xa0\u2000-\u200a\u202f\u205f]*"
)
_HSPACE = re.compile(r"[ \u3000\xa0\u2000-\u200a\u202f\u205f]+")

LINE_END_OK = SENTENCE_ENDS + "：:"  # a line ending in one of these is a complete line
OPENERS = "《（(“‘「『【〔［["
# A line that starts with one of these continues the previous line.
CONTINUERS = "，。、；：！？）》”’」』】〕］],.;:!?"

_LABEL_LINE = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,8}[:：]")  # "主持人：…", "出席：…"
_NUMBERED_HEADING = re.compile(
    r"^(?:#{1,6}\s|[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]|第[一二三四五六七八九十百千零〇\d]+[章节篇部编条]|第[一二三四五六七八九十]+部分)"
)


def prepare_lines(raw: str) -> list[str]:
    """Split raw text into stripped lines; whitespace runs become one space (one tab if they held a tab)."""
    text = _NEWLINES.sub("\n", raw)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    lines: list[str] = []
    for line in text.split("\n"):
        line = _HSPACE_WITH_TAB.sub("\t", line)
        line = _HSPACE.sub(" ", line).strip()
        lines.append(line)
    return lines


def _ends_complete(line: str) -> bool:
    """True when the line ends a sentence (possibly followed by closing quotes/brackets)."""
    stripped = line.rstrip(CLOSERS)
    if not stripped:
        return True
    return stripped[-1] in LINE_END_OK or line[-1] in "）)"


def _glue(left: str, right: str) -> str:
    if (
        left
        and right
        and left[-1].isascii()
        and left[-1].isalnum()
        and right[0].isascii()
        and right[0].isalnum()
    ):
        return f"{left} {right}"
    return left + right


def uses_blank_line_paragraphs(lines: list[str]) -> bool:
    """Does the text mark paragraphs with blank lines (so single newlines are soft breaks)?

    Looks at lines that end a sentence: in such texts nearly all of them are followed by a blank line.
    """
    ends = 0
    followed_by_blank = 0
    for i, line in enumerate(lines[:-1]):
        if line and len(line) > 20 and line[-1] in "。！？!?":
            ends += 1
            if not lines[i + 1]:
                followed_by_blank += 1
    return ends >= 3 and followed_by_blank >= 0.85 * ends


def is_numbered_heading(line: str) -> bool:
    return bool(_NUMBERED_HEADING.match(line))


def join_broken_lines(lines: list[str], soft_breaks: bool, reflow_width: int = 0) -> list[str]:
    """Join lines that were broken inside a sentence; returns non-blank paragraphs.

    Always joined (conservative): a line ending with an opening bracket/quote or a dash/comma, or a
    line starting with closing/continuing punctuation. With `soft_breaks` (blank lines mark
    paragraphs), a single newline after a line that does not end a sentence is joined as well.
    `reflow_width` (pdf): lines at least this long that do not end a sentence continue on the next.
    """
    out: list[str] = []
    prev_blank = True
    for line in lines:
        if not line:
            prev_blank = True
            continue
        joins = out and (
            _continues_after_gap(out[-1], line)
            if prev_blank
            else _should_join(out[-1], line, soft_breaks, reflow_width)
        )
        if joins:
            out[-1] = _glue(out[-1], line)
        else:
            out.append(line)
        prev_blank = False
    return out


def _continues_after_gap(prev: str, line: str) -> bool:
    """Even across a blank line, a line starting with a comma-like mark continues the previous one."""
    return line[0] in "，、；。）》”’」』】]" and not _ends_complete(prev)


def _should_join(prev: str, line: str, soft_breaks: bool, reflow_width: int) -> bool:
    if is_numbered_heading(line):
        return False
    if line[0] in CONTINUERS:
        return True
    if prev[-1] in OPENERS or prev.endswith(("——", "，", "、")):
        return True
    if prev.startswith(("——", "（", "(")) and len(line) <= 30 and line.endswith(("上", "上）", "上)")):
        return True  # "——2026年1月26日在广东省第十四届" + "人民代表大会第五次会议上"
    if prev.endswith("的") and len(prev) > 5 and line[0] not in OPENERS:
        return True  # "…李克强所作的" + "政府工作报告。": a structural particle never ends a paragraph
    if _ends_complete(prev) or is_numbered_heading(prev):
        return False
    if line[0] in OPENERS and line[0] in "（(" and len(line) > 1 and line[-1] in "）)":
        return False  # a whole parenthesised line such as "（2020年5月28日…通过）" stands alone
    if soft_breaks:
        return not (_LABEL_LINE.match(line) or _LABEL_LINE.match(prev))
    return bool(reflow_width) and len(prev) >= reflow_width
