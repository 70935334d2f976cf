"""A stand-in for the small part of xlwings the Excel buttons use, backed by a real .xlsx.

Only members that exist in xlwings with the same parameter names are allowed here;
tests/test_excel.py checks that against the installed xlwings, so the stand-in cannot drift.
"""
from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter


def _cell(ref):
    if isinstance(ref, tuple):
        return ref
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    return int(m[2]), column_index_from_string(m[1])


class Range:
    def __init__(self, sheet, cell1, cell2=None):
        self.sheet = sheet
        self.first = _cell(cell1)
        self.second = _cell(cell2) if cell2 else None
        self._ndim = None

    def options(self, convert=None, **options):
        self._ndim = options.get("ndim")
        return self

    @property
    def row(self):
        return self.first[0]

    @property
    def column(self):
        return self.first[1]

    @property
    def last_cell(self):
        return Range(self.sheet, self.second or self.first)

    @property
    def address(self):
        (r1, c1), (r2, c2) = self.first, self.second or self.first
        return f"${get_column_letter(c1)}${r1}" + (f":${get_column_letter(c2)}${r2}" if self.second else "")

    @property
    def value(self):
        (r1, c1), (r2, c2) = self.first, self.second or self.first
        rows = [[self.sheet.cells.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        self.sheet.book.app.reads += 1
        if self._ndim == 2 or len(rows) > 1 or len(rows[0]) > 1:
            return rows
        return rows[0][0]

    @value.setter
    def value(self, data):
        self.sheet.book.app.writes += 1
        r0, c0 = self.first
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else [[data]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    self.sheet.cells.pop((r0 + i, c0 + j), None)
                else:
                    self.sheet.cells[(r0 + i, c0 + j)] = v


class Sheet:
    def __init__(self, book, name, cells):
        self.book = book
        self.name = name
        self.cells = cells

    def range(self, cell1, cell2=None):
        return Range(self, cell1, cell2)

    @property
    def used_range(self):
        if not self.cells:
            return Range(self, (1, 1))
        return Range(self, (1, 1), (max(r for r, _ in self.cells), max(c for _, c in self.cells)))

    def clear_contents(self):
        self.cells.clear()


class Sheets:
    def __init__(self, book):
        self.book = book
        self.items: list[Sheet] = []

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def add(self, name=None, before=None, after=None):
        sheet = Sheet(self.book, name, {})
        self.items.append(sheet)
        return sheet


class Name:
    def __init__(self, name, refers_to):
        self.name = name
        self.refers_to = refers_to


class Names(list):
    def add(self, name, refers_to):
        self.append(Name(name, refers_to))


class Books:
    def __init__(self):
        self.items = []
        self.active = None

    def __iter__(self):
        return iter(self.items)


class App:
    def __init__(self):
        self.books = Books()
        self.status_bar = False
        self.status_history: list = []
        self.alerts: list[tuple[str, str]] = []
        self.reads = self.writes = 0

    def __setattr__(self, key, value):
        if key == "status_bar" and hasattr(self, "status_history"):
            self.status_history.append(value)
        object.__setattr__(self, key, value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append((title, prompt))


class Book:
    """An open workbook: the sheets of a real .xlsx held as values, saved back with openpyxl."""

    def __init__(self, path: Path, app: App | None = None):
        self.path = Path(path)
        self.app = app or App()
        self.app.books.items.append(self)
        self.app.books.active = self
        self.sheets = Sheets(self)
        self.names = Names()
        self.saved = 0
        self.saved_to_disk = True
        self.selection = None           # a Range, set by a test as the user's selection
        wb = openpyxl.load_workbook(self.path)
        for ws in wb.worksheets:
            cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
            self.sheets.items.append(Sheet(self, ws.title, cells))
        self.names.extend(Name(n, v.attr_text) for n, v in wb.defined_names.items())

    @property
    def name(self):
        return self.path.name

    @property
    def fullname(self):
        return str(self.path) if self.saved_to_disk else self.path.stem   # Excel: "工作簿1" until saved

    def save(self, path=None):
        """Write every sheet's values into the file, as Excel's save would (formulas as formulas)."""
        wb = openpyxl.load_workbook(self.path)
        for sheet in self.sheets:
            ws = wb[sheet.name] if sheet.name in wb.sheetnames else wb.create_sheet(sheet.name)
            for row in ws.iter_rows():
                for c in row:
                    if (c.row, c.column) not in sheet.cells and c.value is not None and type(c).__name__ == "Cell":
                        c.value = None
            for (r, c), v in sheet.cells.items():
                cell = ws.cell(r, c)
                if type(cell).__name__ != "Cell":
                    continue   # merged area
                if isinstance(v, str) and v.startswith("'"):
                    cell.value = v[1:]
                    cell.data_type = "s"
                else:
                    cell.value = v
        wb.save(path or self.path)
        self.saved += 1

    @classmethod
    def caller(cls):
        raise RuntimeError("replaced in tests")
