"""The fast row writer must produce exactly what xlsxwriter's own cell writers produce."""
import datetime as dt

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from toolkit.io import sheets

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


def test_text_that_starts_like_a_formula_is_quote_prefixed_in_every_sheet(tmp_path):
    """Unit names, 重点问题 and 事项 from anywhere stay text with Excel's quote prefix, in the ledger,
    the statistics sheet and the derived tables; only the toolkit's own formulas are formulas."""
    from tests.conftest import settings_for, small_ledger
    from toolkit import vocab
    from toolkit.io import master_file
    from toolkit.io.ledger_file import owners_from_measures
    ledger = small_ledger()
    m = ledger.measures["ZG-001"]
    m.lead_unit, m.key_problem, m.item, m.measure = "=HYPERLINK(\"x\")", "+重点问题", "-事项", "@措施"
    ledger.owners = owners_from_measures(ledger.measures)
    settings = settings_for(tmp_path)
    master_file.write_master(ledger, settings)
    wb = openpyxl.load_workbook(settings.master)
    seen = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=HYPERLINK", "+重点", "-事项", "@措施")):
                    seen.setdefault(ws.title, []).append(cell)
    assert {vocab.SHEET_LEDGER, vocab.SHEET_STATS} <= set(seen)
    for cells in seen.values():
        for cell in cells:
            assert cell.data_type == "s" and cell.quotePrefix, (cell.parent.title, cell.coordinate, cell.value)
    stats = wb[vocab.SHEET_STATS]
    assert any(c.data_type == "f" for row in stats.iter_rows() for c in row)   # our own formulas still formulas
    assert {"+重点问题", "-事项", "=HYPERLINK(\"x\")"} <= {c.value for c in seen[vocab.SHEET_STATS]}


def test_display_width_counts_wide_and_full_width_characters_two():
    import unicodedata

    from toolkit.io.sheets import display_width
    by_char = lambda t: sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in t)
    for text in ["abc", "整改措施", "（一）关于ＡＢＣ的问题；", "Café №5 ½", "㐀𠀀𪜀 emoji 🙂", "한국어 カタカナ ｶﾀｶﾅ", "\u0378x"]:
        assert display_width(text) == by_char(text), text
    assert display_width("第一行很长\n短") == 10 and display_width(None) == 0


def test_a_title_longer_than_its_columns_wraps_so_a_printed_page_never_cuts_it(tmp_path):
    long = "销号审核（单位报“已完成”后在此审核：在“审核结论”列选择同意销号或退回补充，退回时写明需补充的材料）"
    book = sheets.Book(tmp_path / "t.xlsx")
    for name, title in (("长", long), ("短", "逾期清单")):
        book.table(book.sheet(name), sheets.Table(title, ["编号", "单位"], [["ZG-001", "办公室"]]))
    book.close()
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    wrapped, short = wb["长"], wb["短"]
    assert wrapped["A1"].alignment.wrap_text and wrapped.row_dimensions[1].height >= 22 * 3
    assert not short["A1"].alignment.wrap_text and short.row_dimensions[1].height < 30


def own_fills(path, sheet: int = 1) -> dict[str, str | None]:
    """Each written cell's own fill colour (None: no fill), read from the file: openpyxl gives the cells of a
    merged range after the first no style of their own, so a band's fill is checked here."""
    import zipfile
    from xml.etree import ElementTree

    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
        cells = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{sheet}.xml")).iterfind(".//x:c", ns)
        colours = [(f.find("x:patternFill/x:fgColor", ns)) for f in styles.iterfind("x:fills/x:fill", ns)]
        xf_fill = [int(xf.get("fillId", 0)) for xf in styles.iterfind("x:cellXfs/x:xf", ns)]
        return {c.get("r"): (lambda col: col.get("rgb") if col is not None else None)(colours[xf_fill[int(c.get("s", 0))]])
                for c in cells}


@pytest.mark.parametrize("constant_memory", [True, False])
def test_a_band_is_one_text_merged_across_its_columns_every_cell_in_its_format(tmp_path, constant_memory):
    long = "二、" + "关于基层医疗卫生机构能力建设不足的问题" * 4
    book = sheets.Book(tmp_path / "带.xlsx", constant_memory=constant_memory)
    ws = book.sheet("表")
    book.header_row(ws, 1, ["编号", "措施", "单位"])
    band = book.fmt("body", bold=True, bg_color="#D9E1F2")
    book.rows(ws, 2, [["ZG-001", "措施一", "甲"], sheets.Band("一、主题", 3, band), sheets.Band("=不是公式", 3, band),
                      sheets.Band(long, 3, band), ["ZG-002", "=措施二", "乙"]], [book.fmt("body")] * 3, widths=[10, 20, 10])
    book.close()
    ws = openpyxl.load_workbook(tmp_path / "带.xlsx")["表"]
    assert sorted(str(r) for r in ws.merged_cells.ranges) == ["A3:C3", "A4:C4", "A5:C5"]
    assert [ws.cell(r, 1).value for r in range(2, 7)] == ["ZG-001", "一、主题", "=不是公式", long, "ZG-002"]
    assert ws["A4"].data_type == "s" and ws["A4"].quotePrefix and not ws["A3"].quotePrefix   # text, never a formula
    assert ws["B6"].value == "=措施二" and ws["B6"].quotePrefix and ws["A3"].font.b
    fills = own_fills(tmp_path / "带.xlsx")
    assert all(fills[f"{c}{r}"] == "FFD9E1F2" for r in (3, 4, 5) for c in "ABC")       # the fill covers each band
    assert fills["A2"] is None and fills["C6"] is None
    if constant_memory:            # heights from the band's whole width (40): the long heading takes two lines
        assert ws.row_dimensions[5].height == sheets.row_height([long], [40]) > 0 and not ws.row_dimensions[3].height


def test_row_heights_are_the_lines_the_widest_cell_needs_whatever_the_shortcuts():
    """_height skips a cell that cannot need more lines than the row has already: the same heights as measuring
    every cell (display_width), on rows of wide, narrow, multi-line and mixed texts."""
    import math
    import random
    rng = random.Random(7)
    alphabet = ["整", "改", "Ａ", "a", "1", " ", "“", "—", "\n", "·", "😀"]

    def measured(values, widths, max_lines=12):
        lines = 1
        for v, w in zip(values, widths):
            if not isinstance(v, str) or isinstance(v, sheets.Formula) or not v:
                continue
            room = int(max(w - 1, 4))
            count = sum(max(1, math.ceil(sheets.display_width(part) / room)) for part in v.split("\n"))
            lines = max(lines, min(count, max_lines))
        return 0 if lines == 1 else round(lines * sheets.LINE_HEIGHT + 3, 1)

    for _ in range(3000):
        n = rng.randint(1, 8)
        widths = [rng.choice([5, 8, 12, 20, 40]) for _ in range(n)]
        values = ["".join(rng.choice(alphabet) for _ in range(rng.choice([0, 3, 10, 30, 90, 400]))) for _ in range(n)]
        values = [rng.choice([v, 7, None, sheets.Formula("=1+1", 2)]) if rng.random() < 0.2 else v for v in values]
        assert sheets.row_height(values, widths) == measured(values, widths), (values, widths)
