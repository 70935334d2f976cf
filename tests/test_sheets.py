"""The fast row writer must produce exactly what xlsxwriter's own cell writers produce."""
import datetime as dt

import openpyxl
from python_calamine import CalamineWorkbook

from toolkit import sheets

TRICKY = [["a&b<c>d", " 前后有空格 ", "控制\x01字符", "_x0041_ 字面量", "=看起来像公式", "+1", "@x", ""],
          [1, 2.5, -3, True, dt.date(2024, 2, 29), dt.datetime(1900, 3, 1), None, "多行\n文字"],
          [sheets.Formula('=IF(A1="x","是","否")', "否"), sheets.Formula("=1+1", 2), sheets.Formula("=TODAY()", dt.date(2024, 8, 30)),
           sheets.Formula('=""', ""), "终", None, None, None]]


def write(path, fast):
    book = sheets.Book(path)
    ws = book.sheet("表")
    book.header_row(ws, 1, [f"列{i}" for i in range(1, 9)])
    fmts = [book.fmt("body")] * 8
    if fast:
        book.rows(ws, 2, TRICKY, fmts)
    else:
        for r, row in enumerate(TRICKY, 2):
            for c, v in enumerate(row, 1):
                book.put(ws, r, c, v, fmts[c - 1])
    book.put(ws, 5, 1, "之后的行", fmts[0])      # ordinary writes still work after the fast rows
    book.close()


def test_fast_rows_read_back_identically_to_xlsxwriters_own_cells(tmp_path):
    write(tmp_path / "fast.xlsx", True)
    write(tmp_path / "slow.xlsx", False)
    fast = openpyxl.load_workbook(tmp_path / "fast.xlsx")["表"]
    slow = openpyxl.load_workbook(tmp_path / "slow.xlsx")["表"]
    for row_f, row_s in zip(fast.iter_rows(), slow.iter_rows()):
        for a, b in zip(row_f, row_s):
            assert (a.value, a.data_type, a.number_format) == (b.value, b.data_type, b.number_format), a.coordinate
    assert fast["A2"].value == "a&b<c>d" and fast["E2"].data_type == "s" and fast["E2"].value == "=看起来像公式"
    assert fast["A4"].value == '=IF(A1="x","是","否")' and fast["A5"].value == "之后的行"
    cached = CalamineWorkbook.from_path(str(tmp_path / "fast.xlsx")).get_sheet_by_name("表").to_python()
    assert cached[3][1] == 2 and cached[3][0] == "否" and cached[2][4] == dt.date(2024, 2, 29)
