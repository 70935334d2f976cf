"""Writing workbooks the office can print and units can trust.

Shared by every sheet we write: inert text (never a formula), header styling, frozen
header, filters, widths that show dates and Chinese text, wrap, A4 landscape print set-up,
and the atomic save (temp file, then replace) that never leaves a half-written file.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .normalize import looks_like_formula

DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(name="宋体", size=14, bold=True)
HEADER_FONT = Font(name="宋体", size=11, bold=True)
BODY_FONT = Font(name="宋体", size=10)
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


class Formula(str):
    """A formula the toolkit wrote itself; every other string is data and stays text."""


def put(cell, value) -> None:
    """Set a cell so text stays text: '=…', '+…', '-…', '@…' are stored as inert strings."""
    if isinstance(value, Formula):
        cell.value = str(value)
        return
    if isinstance(value, dt.datetime):
        value = value.date()
    cell.value = value
    if isinstance(value, str):
        if looks_like_formula(value):
            cell.data_type = "s"
            cell.quotePrefix = True
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT


def put_formula(cell, formula: str) -> None:
    """Set a formula we wrote ourselves (the only way a formula enters our workbooks)."""
    cell.value = str(formula)


@dataclass
class Table:
    """A titled table of values (and Formula objects) that any writer can lay out."""
    title: str
    headers: list[str]
    rows: list[list]
    widths: dict[str, float] = field(default_factory=dict)


def display_width(value) -> int:
    """Width of a value in Excel character units (CJK characters count two)."""
    if value is None:
        return 0
    if isinstance(value, (dt.date, dt.datetime)):
        return 10
    text = str(value).split("\n")[0]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def set_widths(ws: Worksheet, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


def fit_widths(ws: Worksheet, header_row: int, first_col: int, last_col: int,
               max_width: float = 60, sample: int = 500) -> dict[int, float]:
    """Width per column from header and a sample of values: dates never show ####."""
    widths = {}
    last = min(ws.max_row, header_row + sample)
    for col in range(first_col, last_col + 1):
        best = display_width(ws.cell(header_row, col).value) + 2
        for row in range(header_row + 1, last + 1):
            best = max(best, display_width(ws.cell(row, col).value) + 2)
        widths[col] = float(min(max(best, 8), max_width))
    set_widths(ws, widths)
    return widths


def style_header(ws: Worksheet, row: int, first_col: int, last_col: int) -> None:
    for col in range(first_col, last_col + 1):
        cell = ws.cell(row, col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = CENTER
        cell.border = BORDER


def style_body(ws: Worksheet, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, min_col=first_col, max_col=last_col):
        for cell in row:
            cell.font = BODY_FONT
            cell.alignment = WRAP
            cell.border = BORDER


def print_ready(ws: Worksheet, header_row: int, last_col: int, last_row: int | None = None) -> None:
    """Frozen header, filter, A4 landscape fit to width, header repeated on each page."""
    last_row = max(last_row or ws.max_row, header_row)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(last_col)}{last_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def write(ws: Worksheet, table: Table) -> int:
    """Write a Table with write_table's layout; returns the header row number."""
    return write_table(ws, table.headers, table.rows, title=table.title, widths=table.widths)


def write_table(ws: Worksheet, headers: list[str], rows, *, title: str | None = None,
                widths: dict[str, float] | None = None) -> int:
    """Write a titled, styled, printable table; returns the header row number."""
    header_row = 1
    if title:
        put(ws.cell(1, 1), title)
        ws.cell(1, 1).font = TITLE_FONT
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
        ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[1].height = 28
        header_row = 2
    for col, name in enumerate(headers, 1):
        put(ws.cell(header_row, col), name)
    n = 0
    for n, values in enumerate(rows, 1):
        for col, value in enumerate(values, 1):
            put(ws.cell(header_row + n, col), value)
    style_header(ws, header_row, 1, len(headers))
    style_body(ws, header_row + 1, header_row + n, 1, len(headers))
    fitted = fit_widths(ws, header_row, 1, len(headers))
    for col, name in enumerate(headers, 1):
        if widths and name in widths:
            fitted[col] = widths[name]
    set_widths(ws, fitted)
    print_ready(ws, header_row, len(headers), header_row + n)
    return header_row


def replace_sheet(wb, name: str, index: int | None = None) -> Worksheet:
    """A fresh empty sheet called name, at the old sheet's position if it existed."""
    if name in wb.sheetnames:
        old = wb[name]
        index = wb.sheetnames.index(name) if index is None else index
        wb.remove(old)
    ws = wb.create_sheet(name, index)
    return ws


def atomic_save(wb, path: Path) -> None:
    """Save to a temp file in the same folder, fsync, then replace: never a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes atomically (receipts, notices, reports)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
