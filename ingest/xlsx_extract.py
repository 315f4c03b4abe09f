"""Excel .xlsx: every sheet, every row as "header: value" lines, like the table rows of a .csv."""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings

from ingest.guards import check_zip
from ingest.metadata import Metadata
from ingest.model import IngestError
from ingest.raw import RawDoc

CORRUPT_MESSAGE = "Excel 文件（.xlsx）已损坏或不是有效的 xlsx 格式，无法读取。"
EMPTY_MESSAGE = "Excel 文件中没有任何数据（所有工作表都是空的）。"
MAX_CELLS = 2_000_000


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


_UNIT_COLUMNS = ("单位", "计量单位", "unit")
_NUMBER = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?$")


def _sheet_text(name: str, rows: list[list[str]]) -> str:
    """A header row (the first non-empty row) names the values of every row below it.

    A unit column ("单位") is written after the row's numbers instead ("数值：52000人"), as people say them.
    """
    header, body = rows[0], rows[1:]
    if not body:
        return f"{name}\n" + "\t".join(c for c in header if c)
    units = [i for i, h in enumerate(header) if h.strip().lower() in _UNIT_COLUMNS]
    lines = [name]
    for row in body:
        unit = row[units[0]] if units and units[0] < len(row) else ""
        pairs = []
        for i, value in enumerate(row):
            if not value or (unit and i in units):
                continue
            if unit and _NUMBER.match(value):
                value += unit
            label = header[i] if i < len(header) and header[i] else ""
            pairs.append(f"{label}：{value}" if label else value)
        if pairs:
            lines.append("；".join(pairs) + "。")
    return "\n".join(lines)


def read_xlsx(data: bytes) -> RawDoc:
    check_zip(data, CORRUPT_MESSAGE)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "workbook contains no default style" and the like
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            title = (book.properties.title or "").strip() if book.properties is not None else ""
            sheets: list[str] = []
            cells = 0
            for sheet in book.worksheets:
                rows: list[list[str]] = []
                for row in sheet.iter_rows(values_only=True):
                    cells += len(row)
                    if cells > MAX_CELLS:
                        raise IngestError(f"Excel 文件的单元格超过 {MAX_CELLS} 个，内容过多，未读取。")
                    values = [_cell(v) for v in row]
                    while values and not values[-1]:
                        values.pop()
                    if values:
                        rows.append(values)
                if rows:
                    sheets.append(_sheet_text(sheet.title, rows))
        finally:
            book.close()
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(CORRUPT_MESSAGE) from exc
    if not sheets:
        raise IngestError(EMPTY_MESSAGE)
    return RawDoc(pages=["\n\n".join(sheets)], hints=Metadata(title=title))
