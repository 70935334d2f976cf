"""Writing workbooks the office can print and units can trust (xlsxwriter, whole sheets at once).

Shared by every workbook we write: inert text (only our own Formula objects become formulas),
header styling, frozen header, filters, widths that show dates and Chinese text, wrap, A4
landscape print set-up, and the atomic save (temp file, then replace) that never leaves a
half-written file. Sheets are generated whole, row by row, so memory stays flat.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name

from .fileio import ZIP_LEVEL, adopt_mode

DATE_FORMAT = "yyyy-mm-dd"


class _LeveledZipFile(zipfile.ZipFile):
    """The zip file xlsxwriter packs a workbook into, compressing at ZIP_LEVEL (it takes zlib's default)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("compresslevel", ZIP_LEVEL)
        super().__init__(*args, **kwargs)


xlsxwriter.workbook.ZipFile = _LeveledZipFile     # type: ignore[misc]  # every workbook this process writes
HEADER_BG = "#DDEBF7"
FILL_IN_BG = "#FCE4D6"   # header of the columns units fill in
FONT = "宋体"
TITLE_SCALE = 1.5    # a 14-point bold title character is about 1.5 times as wide as a 10-point body one
FORMULA_START = ("=", "+", "-", "@")   # text Excel would turn into a formula when the cell is edited


class Formula(str):
    """A formula the toolkit wrote itself; every other string is data and stays text.

    value is the result Python computed for it, stored as the cell's cached value so that
    viewers which never recalculate (previews, phones, calamine) still show the right number."""

    def __new__(cls, text: str, value=None):
        obj = super().__new__(cls, text)
        obj.value = value
        return obj


@dataclass
class Table:
    """A titled table of values (and Formula objects) that any writer can lay out."""
    title: str
    headers: list[str]
    rows: list[list]
    widths: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Band:
    """A row that is one text merged across the first span columns in one format: a heading across a table."""
    text: str
    span: int
    fmt: Any


@functools.cache
def col_letter(col: int) -> str:
    """Column letter of a 1-based column number (remembered: every merge and band cell asks)."""
    return xl_col_to_name(col - 1)


def cell_name(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def display_width(value) -> int:
    """Width of a value's first line in Excel character units (CJK characters count two)."""
    if value is None:
        return 0
    if isinstance(value, (dt.date, dt.datetime)):
        return 10
    text = str(value).split("\n")[0]
    return len(text) if text.isascii() else len(text.translate(_WIDE_AS_TWO))


class _WideAsTwo(dict):
    """A str.translate table that turns each wide or full-width character (Unicode east_asian_width W
    or F) into two spaces and keeps every other one, learning each character the first time it is seen:
    a cell is then measured in one C-level pass."""

    def __missing__(self, cp: int):
        self[cp] = "  " if unicodedata.east_asian_width(chr(cp)) in "WF" else cp
        return self[cp]


_WIDE_AS_TWO = _WideAsTwo()


class Book:
    """An xlsxwriter workbook being generated, with the formats every sheet shares."""

    def __init__(self, path: Path, constant_memory: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.wb = xlsxwriter.Workbook(str(self.tmp), {"constant_memory": constant_memory, "strings_to_formulas": False,
                                                      "strings_to_numbers": False, "strings_to_urls": False})
        self.wb.set_properties({"created": dt.datetime(2024, 1, 1)})   # same content, same bytes
        self._formats: dict[tuple, object] = {}
        self._keys: dict[int, tuple] = {}       # id(format) -> its key in _formats
        self.paper = "A4"                       # [print] paper for the tables laid out here

    def fmt(self, kind: str = "body", **extra):
        """Shared cell formats: title, header, fill_in_header, body, plus date/percent/unlocked variants."""
        key = (kind, tuple(sorted(extra.items())))
        if key not in self._formats:
            base = {"font_name": FONT, "font_size": 10, "valign": "top", "text_wrap": True, "border": 1,
                    "border_color": "#A6A6A6"}
            if kind == "title":
                base = {"font_name": FONT, "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"}
            elif kind in ("header", "fill_in_header"):
                base.update(bold=True, font_size=11, align="center", valign="vcenter",
                            bg_color=HEADER_BG if kind == "header" else FILL_IN_BG)
            elif kind == "section":
                base = {"font_name": FONT, "font_size": 11, "bold": True}
            elif kind == "plain":
                base = {"font_name": FONT, "font_size": 10}
            elif kind == "bare":
                base = {}
            base.update(extra)
            self._formats[key] = self.wb.add_format(base)
            self._keys[id(self._formats[key])] = key
        return self._formats[key]

    def quoted(self, fmt):
        """fmt with Excel's quote prefix: the cell shows text and stays text when it is edited."""
        kind, extra = self._keys.get(id(fmt), ("bare", ()))
        return self.fmt(kind, **dict(extra, quote_prefix=True))

    def sheet(self, name: str):
        ws = self.wb.add_worksheet(name)
        # Our formulas use no dynamic-array or future functions, so skip xlsxwriter's thirty regex
        # rewrites per formula (a third of the write time on a 30,000-row master).
        ws._prepare_formula = _strip_equals
        ws._write_merge_cells = lambda: ws.fh.write(_merge_cells_xml(ws.merge))
        return ws

    def put(self, ws, row: int, col: int, value, fmt=None, date_fmt=None) -> None:
        """Write one value at 1-based (row, col): our Formula as a formula, any str as inert text."""
        r, c = row - 1, col - 1
        if isinstance(value, Formula):
            cached = value.value
            if isinstance(cached, (dt.date, dt.datetime)):
                cached = (dt.date(cached.year, cached.month, cached.day) - dt.date(1899, 12, 30)).days
            ws.write_formula(r, c, str(value), fmt, "" if cached is None else cached)
        elif isinstance(value, str):
            if value == "":
                ws.write_blank(r, c, None, fmt)
            else:
                ws.write_string(r, c, value, self.quoted(fmt) if value.startswith(FORMULA_START) else fmt)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, fmt)
        elif isinstance(value, (dt.date, dt.datetime)):
            if isinstance(value, dt.datetime):
                value = value.date()
            ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt or self.fmt(
                "body", num_format=DATE_FORMAT))
        elif value is None:
            ws.write_blank(r, c, None, fmt)
        else:
            ws.write_string(r, c, str(value), fmt)

    def rows(self, ws, first_row: int, rows, fmts: list, date_fmts: list | None = None,
             widths: list[float] | None = None) -> int:
        """Write many rows from first_row on, fast: the row XML is generated here and streamed into
        xlsxwriter's constant-memory row file (the same XML its own cell writers produce, at a
        tenth of the cost). fmts/date_fmts give each column's format; with the column widths, each
        row gets the height its wrapped text needs (Excel does not grow rows by itself when it
        opens a file, and offices print these sheets). A Band among the rows is written merged across
        its columns, every cell in its format so fill and borders cover the band. Returns the last row written."""
        if not getattr(ws, "constant_memory", False) or not hasattr(ws, "_write_single_row"):
            last = first_row - 1
            for last, values in enumerate(rows, first_row):
                if isinstance(values, Band):
                    if values.span > 1:
                        ws.merge_range(last - 1, 0, last - 1, values.span - 1, "", values.fmt)
                    self.put(ws, last, 1, values.text, values.fmt)
                    continue
                for c, v in enumerate(values, 1):
                    self.put(ws, last, c, v, fmts[c - 1], date_fmts[c - 1] if date_fmts else None)
            return last
        ws._write_single_row(first_row - 1)            # flush the rows xlsxwriter still holds
        style = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in fmts]
        dstyle = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in
                  (date_fmts or [self.fmt("body", num_format=DATE_FORMAT)] * len(fmts))]
        letters = [col_letter(c) for c in range(1, len(fmts) + 1)]
        quoted: dict[int, str] = {}
        out = ws.fh
        room = _room(widths) if widths else []
        bands: dict[tuple[int, int], tuple[str, str, list[int]]] = {}
        last, width = first_row - 1, 0
        for last, values in enumerate(rows, first_row):
            if isinstance(values, Band):
                out.write(self._band_row(ws, last, values, widths, bands))
                width = max(width, values.span)
                continue
            height = _height(values, room) if room else 0
            parts = [f'<row r="{last}" ht="{height}" customHeight="1">' if height else f'<row r="{last}">']
            for i, v in enumerate(values):
                st = style[i]
                if type(v) is str:               # most cells: plain text, written here (as _cell_xml writes it)
                    if not v:
                        if st:
                            parts.append(f'<c r="{letters[i]}{last}"{st}/>')
                        continue
                    if v.startswith(FORMULA_START):
                        if i not in quoted:
                            quoted[i] = f' s="{self.quoted(fmts[i])._get_xf_index()}"'
                        st = quoted[i]
                    keep = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
                    parts.append(f'<c r="{letters[i]}{last}"{st} t="inlineStr"><is><t{keep}>'
                                 f'{_text(v) if _NEEDS_ESCAPE.search(v) else v}</t></is></c>')
                    continue
                parts.append(_cell_xml(f'{letters[i]}{last}', v, st, dstyle[i]))
            width = max(width, len(values))
            parts.append("</row>")
            out.write("".join(parts))
        if last >= first_row:
            ws._check_dimensions(last - 1, max(width, 1) - 1)
            ws.previous_row = last - 1
        return last

    def _band_row(self, ws, row: int, band: Band, widths: list[float] | None, bands: dict) -> str:
        """A Band's row XML (its text, then formatted blanks) with its merge registered as merge_range does."""
        key = (band.span, id(band.fmt))
        if key not in bands:            # style, blanks and line room, worked out once per kind of band
            style = f' s="{band.fmt._get_xf_index()}"'
            bands[key] = (style, "".join(f'<c r="{col_letter(c)}{{0}}"{style}/>' for c in range(2, band.span + 1)),
                          _room([sum(widths[:band.span])]) if widths else [])
        style, blanks, room = bands[key]
        text = band.text
        first = f' s="{self.quoted(band.fmt)._get_xf_index()}"' if text.startswith(FORMULA_START) else style
        height = _height([text], room) if room else 0
        if band.span > 1:
            ws.merge.append((row - 1, 0, row - 1, band.span - 1))   # a tuple: the collector stops scanning it
        head = f'<row r="{row}" ht="{height}" customHeight="1">' if height else f'<row r="{row}">'
        return f"{head}{_cell_xml(f'A{row}', text, first, style)}{blanks.format(row)}</row>"

    def title_row(self, ws, text: str, ncols: int, row: int = 1, width: float | None = None) -> None:
        """The sheet's title merged across ncols columns; a text with line breaks gets a line each, and one
        longer than the columns' total width (column-width units) wraps, so a printed page never cuts it."""
        lines = sum(max(1, math.ceil(display_width(part) * TITLE_SCALE / width)) if width else 1
                    for part in str(text).split("\n"))
        ws.set_row(row - 1, 28 if lines == 1 else 22 * lines)
        wrap = {"text_wrap": True} if lines > 1 else {}
        fmt = self.fmt("title", quote_prefix=True, **wrap) if str(text).startswith(FORMULA_START) else self.fmt("title", **wrap)
        if ncols > 1:
            ws.merge_range(row - 1, 0, row - 1, ncols - 1, text, fmt)
        else:
            ws.write_string(row - 1, 0, text, fmt)

    def header_row(self, ws, row: int, headers: list[str], fill_in: tuple[str, ...] = ()) -> None:
        ws.set_row(row - 1, 30)
        for c, name in enumerate(headers, 1):
            self.put(ws, row, c, name, self.fmt("fill_in_header" if name in fill_in else "header"))

    def table(self, ws, table: Table, widths: dict[str, float] | None = None) -> int:
        """A titled, styled, printable table from A1; returns the header row number."""
        ncols = max(len(table.headers), 1)
        fit = fit_print(fit_widths(table, widths), len(table.headers), print_floors(table.headers, table.rows),
                        self.paper)
        fitted = fit.widths
        set_widths(ws, fitted)
        self.title_row(ws, table.title, ncols, width=sum(fitted.get(c, 0) for c in range(1, ncols + 1)) or None)
        self.header_row(ws, 2, table.headers)
        self.rows(ws, 3, table.rows, [self.fmt("body")] * ncols, widths=[fitted[c] for c in range(1, ncols + 1)])
        print_ready(ws, 2, ncols, 2 + len(table.rows), fit.paper)
        return 2

    def close(self) -> Path:
        """Finish the file and move it into place atomically."""
        try:
            self.wb.close()
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            adopt_mode(self.tmp, self.path)
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        return self.path

    def discard(self) -> None:
        if self.tmp.exists():
            self.tmp.unlink()


_NEEDS_ESCAPE = re.compile(r'[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_')
_CONTROL = re.compile(r"([\x00-\x08\x0b\x0c\x0e-\x1f])")
EPOCH = dt.date(1899, 12, 30)


def _text(value: str) -> str:
    """Text as SpreadsheetML cell content: XML-escaped, control characters as Excel's _xHHHH_."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    value = re.sub(r"(_x[0-9a-fA-F]{4}_)", r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
    value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _number(value) -> str:
    return f"{value:.16G}"


def _cell_xml(ref: str, v, style: str, date_style: str) -> str:
    """One <c> element, as xlsxwriter writes it in constant-memory mode (inline strings)."""
    if isinstance(v, Formula):
        cached = v.value
        formula = _text(v[1:] if v.startswith("=") else str(v))
        if isinstance(cached, (dt.date, dt.datetime)):
            cached = (dt.date(cached.year, cached.month, cached.day) - EPOCH).days
        if cached is None or isinstance(cached, str):
            return f'<c r="{ref}"{style} t="str"><f>{formula}</f><v>{_text(cached or "")}</v></c>'
        return f'<c r="{ref}"{style}><f>{formula}</f><v>{_number(cached)}</v></c>'
    if isinstance(v, str):
        if not v:
            return f'<c r="{ref}"{style}/>' if style else ""
        preserve = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{preserve}>{_text(v)}</t></is></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"{style}><v>{_number(v)}</v></c>'
    if isinstance(v, (dt.date, dt.datetime)):
        return f'<c r="{ref}"{date_style}><v>{(dt.date(v.year, v.month, v.day) - EPOCH).days}</v></c>'
    if v is None:
        return f'<c r="{ref}"{style}/>' if style else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t>{_text(str(v))}</t></is></c>'


def _merge_cells_xml(merges: Sequence[Sequence[int]]) -> str:
    """The <mergeCells> element xlsxwriter writes, in one pass (its writer takes 0.3 s for 90,000 headings)."""
    if not merges:
        return ""
    refs = "".join(f'<mergeCell ref="{col_letter(c0 + 1)}{r0 + 1}:{col_letter(c1 + 1)}{r1 + 1}"/>'
                   for r0, c0, r1, c1 in merges)
    return f'<mergeCells count="{len(merges)}">{refs}</mergeCells>'


def _strip_equals(formula: str, expand_future_functions: bool = False) -> str:
    return formula[1:] if formula.startswith("=") else formula


def fit_widths(table: Table, widths: dict[str, float] | None = None, sample: int = 300,
               max_width: float = 50) -> dict[int, float]:
    """Column widths from header and a sample of values (dates never show ####)."""
    out = {}
    for c, name in enumerate(table.headers, 1):
        best = display_width(name) + 2
        for row in table.rows[:sample]:
            if c - 1 < len(row):
                best = max(best, display_width(row[c - 1]) + 2)
        out[c] = float(min(max(best, 8), max_width))
    for name, width in (widths or table.widths or {}).items():
        if name in table.headers:
            out[table.headers.index(name) + 1] = width
    return out


LINE_HEIGHT = 13.5   # points per line of 10-point 宋体


def row_height(values: list, widths: list[float], max_lines: int = 12) -> float:
    """Height in points that shows every wrapped line of the row (0: the default height will do)."""
    return _height(values, _room(widths), max_lines)


def _room(widths: list[float]) -> list[int]:
    """Characters of body text a line holds in columns of these widths (where row_height wraps)."""
    return [int(max(width - 1, 4)) for width in widths]


def _height(values: list, room: list[int], max_lines: int = 12) -> float:
    """row_height with the columns' room worked out once, as Book.rows does for a whole sheet."""
    lines = 1
    for value, usable in zip(values, room):
        if value.__class__ is not str and (not isinstance(value, str) or isinstance(value, Formula)):
            continue                                     # numbers, dates, blanks and our formulas never wrap
        if not value:
            continue
        if "\n" not in value and -(-2 * len(value) // usable) <= lines:
            continue            # even all wide it needs no more lines than the row has already (one, at least)
        count = 0
        for part in value.split("\n"):   # display_width inlined: this runs for every cell of a 30,000-row sheet
            count += max(1, -(-(len(part) if part.isascii() else len(part.translate(_WIDE_AS_TWO))) // usable))
        lines = max(lines, min(count, max_lines))
        if lines == max_lines:
            break
    return 0 if lines == 1 else round(lines * LINE_HEIGHT + 3, 1)


def set_widths(ws, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.set_column(col - 1, col - 1, width)


def print_ready(ws, header_row: int, last_col: int, last_row: int | None = None, paper: str = "A4",
                printed_cols: int | None = None) -> None:
    """Frozen header, filter, and the page set-up (see page_setup) for the first printed_cols columns."""
    last_row = max(last_row or header_row, header_row)
    ws.freeze_panes(header_row, 0)
    ws.autofilter(header_row - 1, 0, last_row - 1, max(last_col, 1) - 1)
    page_setup(ws, header_row, printed_cols or last_col, last_row, paper)


# ---- printing: landscape, one page wide, body text never below MIN_BODY_PT ----
PAPERS = {"A4": (9, 841.89), "A3": (8, 1190.55)}   # xlsxwriter paper code, landscape page width in points
SIDE_MARGIN = 0.4          # inches, left and right
MIN_BODY_PT = 9.0          # smallest printed body text accepted (body cells are 10 pt)
CHAR_PT = 5.6              # printed width of one column-width unit (Calibri 11 digit, as Excel and LibreOffice measure)
PAD_PT = 4.0               # cell padding Excel adds to every column
MIN_PRINT_WIDTH = 6.0      # three Chinese characters a line: narrower columns are never made
FOOTER = "&C第 &P 页 共 &N 页"


@dataclass
class PrintFit:
    """Column widths and paper for printing a sheet one page wide, with the scale that results."""
    widths: dict[int, float]
    paper: str
    scale: float


def print_scale(widths: list[float], paper: str) -> float:
    """Scale (at most 1) at which columns of these widths print one landscape page wide."""
    usable = PAPERS[paper][1] - 2 * SIDE_MARGIN * 72
    return min(1.0, usable / max(sum(w * CHAR_PT + PAD_PT for w in widths), 1))


def print_floors(headers: list[str], rows: Sequence[Sequence], sample: int = 300) -> dict[int, float]:
    """The narrowest each column may print: its header in two lines, dates, numbers and
    unbreakable Latin words (ids, file hashes) whole; Chinese text wraps anywhere."""
    floors = {}
    for c, name in enumerate(headers, 1):
        best = max(MIN_PRINT_WIDTH, -(-display_width(name) // 2) + 1)
        for row in rows[:sample]:
            v = row[c - 1] if c - 1 < len(row) else None
            if isinstance(v, (dt.date, dt.datetime)):
                best = max(best, 12)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                best = max(best, len(f"{v:g}") + 2)
            elif isinstance(v, str) and v and not isinstance(v, Formula):
                words = [w for w in re.split(r"\s+", v) if w.isascii()]
                best = max([best] + [min(len(w), 24) + 2 for w in words])
        floors[c] = float(best)
    return floors


def fit_print(widths: dict[int, float], printed: int, floors: dict[int, float], paper: str = "A4",
              body_pt: float = 10) -> PrintFit:
    """Widths and paper on which the first `printed` columns print one page wide with body text of
    at least MIN_BODY_PT: wide columns are narrowed (their text wraps) towards their floors. paper
    "A4" or "A3" narrows to fit that paper, falling back to A3 when even the floors are too wide
    for A4; "auto" keeps the widths on A4 when they fit, else uses A3."""
    need = MIN_BODY_PT / body_pt + 0.04     # renderers measure columns a little differently
    cols = list(range(1, printed + 1))
    if paper == "auto":
        paper = "A4" if print_scale([widths[c] for c in cols], "A4") >= need else "A3"
    lowest = {c: min(widths[c], floors.get(c, MIN_PRINT_WIDTH)) for c in cols}
    if paper == "A4" and print_scale(list(lowest.values()), "A4") < need:
        paper = "A3"
    narrowed = lambda f: {c: max(lowest[c], round(widths[c] * f * 2) / 2) for c in cols}
    lo, hi = 0.0, 1.0
    if print_scale(list(narrowed(1.0).values()), paper) < need:
        for _ in range(30):          # the largest factor that still fits
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if print_scale(list(narrowed(mid).values()), paper) >= need else (lo, mid)
        fitted = narrowed(lo)
    else:
        fitted = narrowed(1.0)
    out = {**widths, **fitted}
    return PrintFit(out, paper, print_scale([out[c] for c in cols], paper))


def page_setup(ws, header_row: int, printed_cols: int, last_row: int, paper: str = "A4") -> None:
    """Landscape on paper, the first printed_cols columns one page wide, header row (if any, else 0)
    repeated on every page, gridlines, and "第 N 页 共 M 页" in the footer."""
    ws.set_landscape()
    ws.set_paper(PAPERS.get(paper, PAPERS["A4"])[0])
    ws.print_area(0, 0, max(last_row, header_row, 1) - 1, max(printed_cols, 1) - 1)
    ws.fit_to_pages(1, 0)
    if header_row:
        ws.repeat_rows(header_row - 1)
    ws.hide_gridlines(0)
    ws.set_footer(FOOTER)
    ws.center_horizontally()
    ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.6, bottom=0.7)
