"""CSV: the text column of each row is a document body; title/date/url columns become metadata."""

from __future__ import annotations

import csv
import io

from ingest.dates import parse_date
from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.raw import RawDoc

_TEXT_COLUMNS = (
    "full_text", "fulltext", "content", "text", "body", "article", "正文", "内容", "全文", "文本", "讲话内容",
    "正文内容", "文章内容",
)  # fmt: skip
_TITLE_COLUMNS = ("title", "标题", "题目", "name", "名称")
_DATE_COLUMNS = ("publish_date", "date", "pub_date", "published", "time", "日期", "发布时间", "时间")
_URL_COLUMNS = ("source_url", "url", "link", "href", "链接", "网址")
_SPEAKER_COLUMNS = ("speaker", "author", "讲话人", "作者")
_MEETING_COLUMNS = ("meeting", "会议")
_FIELD_LIMIT = 2**31 - 1


def _find(header: list[str], names: tuple[str, ...]) -> int:
    lowered = [h.strip().lower().lstrip("\ufeff") for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return -1


def _delimiter(text: str) -> str:
    """The delimiter used most in the first line (the header), comma by default."""
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in ",\t;|"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str) -> RawDoc:
    csv.field_size_limit(_FIELD_LIMIT)
    text = text.lstrip("\ufeff")
    try:
        rows = [
            row
            for row in csv.reader(io.StringIO(text), delimiter=_delimiter(text))
            if any(c.strip() for c in row)
        ]
    except csv.Error as exc:
        raise IngestError(f"CSV 文件格式有误，无法解析：{exc}") from exc
    if not rows:
        raise IngestError("CSV 文件没有任何数据行。")
    header = rows[0]
    text_col = _find(header, _TEXT_COLUMNS)
    has_header = text_col >= 0 or _find(header, _TITLE_COLUMNS) >= 0 or _find(header, _URL_COLUMNS) >= 0
    if not has_header and len(rows) > 1:  # short labels above much longer values: a header row
        longest_label = max(len(c) for c in header)
        longest_value = max(len(c) for r in rows[1:] for c in r)
        has_header = longest_label <= 20 and longest_value > 2 * longest_label
    body_rows = rows[1:] if has_header else rows
    if not body_rows:
        raise IngestError("CSV 文件只有表头，没有数据行。")
    if text_col < 0:  # the column with the longest content
        width = max(len(r) for r in body_rows)
        totals = [sum(len(r[i]) for r in body_rows if i < len(r)) for i in range(width)]
        text_col = max(range(width), key=lambda i: totals[i])
    cols = {
        "title": _find(header, _TITLE_COLUMNS) if has_header else -1,
        "date": _find(header, _DATE_COLUMNS) if has_header else -1,
        "url": _find(header, _URL_COLUMNS) if has_header else -1,
        "speaker": _find(header, _SPEAKER_COLUMNS) if has_header else -1,
        "meeting": _find(header, _MEETING_COLUMNS) if has_header else -1,
    }

    def cell(row: list[str], key: str) -> str:
        i = cols[key]
        return row[i].strip() if 0 <= i < len(row) else ""

    rows_with_text = [r for r in body_rows if text_col < len(r) and r[text_col].strip()]
    if not rows_with_text:
        raise IngestError("CSV 文件的正文列是空的，没有任何文字内容。")
    bodies: list[str] = []
    for row in rows_with_text:
        body = row[text_col].strip()
        title = cell(row, "title")
        if len(rows_with_text) > 1 and title and title.replace(" ", "") not in body[:300].replace(" ", ""):
            body = f"{title}\n\n{body}"
        bodies.append(body)
    first = rows_with_text[0]
    hints = Metadata(
        title=cell(first, "title") if len(rows_with_text) == 1 else "",
        date=parse_date(cell(first, "date")) if len(rows_with_text) == 1 else "",
        url=cell(first, "url") if len(rows_with_text) == 1 else "",
        speaker=cell(first, "speaker") if len(rows_with_text) == 1 else "",
        meeting=cell(first, "meeting") if len(rows_with_text) == 1 else "",
    )
    if hints.url and not hints.url.startswith(("http://", "https://")):
        hints.url = ""
    return RawDoc(pages=["\n\n".join(bodies)], hints=hints)
