"""toolkit/sheets.py streams rows into xlsxwriter 3.x's constant-memory row file and swaps its
formula preparation: these checks fail with a plain message if an xlsxwriter upgrade moves them."""
import inspect

import pytest
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from toolkit.io import sheets

PINNED_MAJOR = 3   # setup.cfg: xlsxwriter>=3.1,<4
UPGRADE = ("toolkit/sheets.py relies on xlsxwriter {major}.x internals; {what}. Re-check Book.rows, "
           "Book.sheet and _cell_xml against the new xlsxwriter before moving the pin in setup.cfg.")


def params(func) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_xlsxwriter_is_the_pinned_major_version():
    major = int(xlsxwriter.__version__.split(".")[0])
    assert major == PINNED_MAJOR, UPGRADE.format(major=PINNED_MAJOR, what=f"xlsxwriter {xlsxwriter.__version__} "
                                                                         "is installed")


@pytest.mark.parametrize("owner, name, expected", [
    (Worksheet, "_prepare_formula", ["self", "formula", "expand_future_functions"]),
    (Worksheet, "_write_single_row", ["self", "current_row_num"]),
    (Worksheet, "_check_dimensions", ["self", "row", "col"]),
    (Format, "_get_xf_index", ["self"]),
    (Worksheet, "_write_merge_cells", ["self"]),
])
def test_private_methods_sheets_uses_keep_their_signatures(owner, name, expected):
    func = getattr(owner, name, None)
    assert func is not None, UPGRADE.format(major=PINNED_MAJOR, what=f"{owner.__name__}.{name} is gone")
    assert params(func)[:len(expected)] == expected, UPGRADE.format(
        major=PINNED_MAJOR, what=f"{owner.__name__}.{name}{inspect.signature(func)} changed its parameters")


def test_formulas_still_pass_through_prepare_formula():
    source = inspect.getsource(Worksheet._write_formula)
    assert "self._prepare_formula(formula)" in source, UPGRADE.format(
        major=PINNED_MAJOR, what="write_formula no longer calls self._prepare_formula, which Book.sheet replaces")


def test_merges_are_still_written_by_write_merge_cells_from_the_merge_list():
    source = inspect.getsource(Worksheet._assemble_xml_file)
    assert "self._write_merge_cells()" in source and "self.merge = []" in inspect.getsource(Worksheet.__init__), \
        UPGRADE.format(major=PINNED_MAJOR, what="merges no longer go through Worksheet.merge and _write_merge_cells, "
                                                "which Book.sheet replaces and Book.rows appends to")


def test_our_merge_cells_element_is_the_one_xlsxwriter_writes(tmp_path):
    import re
    import zipfile

    def merges(path):
        with zipfile.ZipFile(path) as z:
            return re.search(r"<mergeCells.*?</mergeCells>", z.read("xl/worksheets/sheet1.xml").decode()).group(0)
    plain = xlsxwriter.Workbook(str(tmp_path / "plain.xlsx"))
    book = sheets.Book(tmp_path / "ours.xlsx", constant_memory=False)
    for ws in (plain.add_worksheet("表"), book.sheet("表")):
        for r0, c0, r1, c1 in ((0, 0, 0, 7), (2, 1, 4, 3), (9, 26, 9, 27), (20, 700, 21, 701)):
            ws.merge_range(r0, c0, r1, c1, "合并", None)
    plain.close()
    book.close()
    assert merges(tmp_path / "ours.xlsx") == merges(tmp_path / "plain.xlsx")
    assert 'ref="AA10:AB10"' in merges(tmp_path / "plain.xlsx") and 'count="4"' in merges(tmp_path / "plain.xlsx")


def test_constant_memory_sheet_exposes_the_row_file_and_fast_rows_use_it(tmp_path, monkeypatch):
    book = sheets.Book(tmp_path / "表.xlsx")
    ws = book.sheet("表")
    for attr in ("constant_memory", "fh", "previous_row"):
        assert hasattr(ws, attr), UPGRADE.format(major=PINNED_MAJOR, what=f"Worksheet.{attr} is gone")
    assert ws.constant_memory and hasattr(ws.fh, "write"), UPGRADE.format(
        major=PINNED_MAJOR, what="a constant-memory worksheet no longer streams rows into Worksheet.fh")

    def slow_path(*args, **kwargs):
        raise AssertionError(UPGRADE.format(major=PINNED_MAJOR, what="Book.rows fell back to cell-by-cell writes"))
    monkeypatch.setattr(sheets.Book, "put", slow_path)
    assert book.rows(ws, 1, [["甲", 1], ["乙", 2]], [book.fmt("body")] * 2) == 2
    assert ws.previous_row == 1 and (ws.dim_rowmax, ws.dim_colmax) == (1, 1)
    book.close()


def test_workbooks_are_packed_at_the_toolkits_deflate_level():
    """sheets replaces the ZipFile xlsxwriter's _store_workbook packs with (ZIP_LEVEL instead of zlib's 6)."""
    import xlsxwriter.workbook
    from xlsxwriter.workbook import Workbook
    assert "ZipFile(" in inspect.getsource(Workbook._store_workbook), UPGRADE.format(
        major=PINNED_MAJOR, what="Workbook._store_workbook no longer creates its ZipFile by that name")
    assert xlsxwriter.workbook.ZipFile is sheets._LeveledZipFile


def test_a_workbook_packed_faster_reads_back_the_same(tmp_path):
    import zipfile
    book = sheets.Book(tmp_path / "a.xlsx")
    ws = book.sheet("表")
    for r in range(200):
        ws.write_string(r, 0, f"第{r}行：已印发实施方案并组织落实，召开推进会议3次")
    book.close()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert zf.testzip() is None
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "第199行：已印发实施方案并组织落实" in sheet
