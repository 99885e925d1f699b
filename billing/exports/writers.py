"""Streaming writers: CSV and JSON are generated row by row; XLSX is written by
openpyxl in write-only mode to a temporary file that is then streamed from disk."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Line:
    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> int:
        self.value = text
        return len(text)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return value


_FORMULA_START = frozenset("=+-@\t\r")


def _safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formulas in free text (CSV/XLSX injection); numbers as is."""
    if type(value) is str:
        return "'" + value if value and value[0] in _FORMULA_START else value
    return _cell(value)


def csv_stream(columns: Iterable[str], rows: Iterable[dict]) -> Iterator[str]:
    columns = list(columns)
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(columns)
    yield line.value
    for row in rows:
        writer.writerow([_safe_text(row.get(c, "")) for c in columns])
        yield line.value


def json_stream(
    header: dict[str, Any], columns: Iterable[str], rows: Iterable[dict]
) -> Iterator[str]:
    """`{...header, "rows": [...]}` written one row at a time."""
    columns = list(columns)
    head = json.dumps(header, default=str)
    yield head[:-1] + (', "rows": [' if len(header) else '"rows": [')
    first = True
    for row in rows:
        item = {c: _cell(row.get(c, "")) for c in columns}
        yield ("" if first else ",\n") + json.dumps(item, default=str)
        first = False
    yield "]}\n"


def xlsx_file(title: str, columns: Iterable[str], rows: Iterable[dict]) -> IO[bytes]:
    """An .xlsx in a temporary file (deleted on close), built with constant memory."""
    columns = list(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet")
    sheet.append(columns)
    for row in rows:
        values: list[Any] = []
        for c in columns:
            value = row.get(c)
            if value == "" or value is None:
                values.append(None)  # empty cells are not written at all
            elif isinstance(value, Decimal | int):
                values.append(value)
            else:
                values.append(_safe_text(value))
        sheet.append(values)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle
