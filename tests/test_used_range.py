"""Size checks count the cells with content: LibreOffice's row deletion (an empty row 1048576 and a
dimension reaching it) is normal editing, while one character far away is refused by name, in unit
files and in the master alike, before any reader allocates the range."""
from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import fill, settings_for, small_ledger
from tests.vba_compile import _soffice
from toolkit import vocab
from toolkit.consolidate import consolidate
from toolkit.distribute import distribute
from toolkit.errors import LedgerError
from toolkit.io import extent, master_file, office
from toolkit.io.ledger_file import read_ledger

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")

DELETE_ROW = '''Sub DeleteRow(sDoc As String, sOut As String, sSheet As String, sRow As String)
    Dim args(0) As New com.sun.star.beans.PropertyValue
    Dim st(0) As New com.sun.star.beans.PropertyValue
    args(0).Name = "Hidden" : args(0).Value = True
    oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sDoc), "_blank", 0, args())
    oSheet = oDoc.Sheets.getByName(sSheet)
    oSheet.unprotect("")
    oSheet.Rows.removeByIndex(CLng(sRow) - 1, 1)
    oSheet.protect("")
    st(0).Name = "FilterName" : st(0).Value = "Calc MS Excel 2007 XML"
    oDoc.storeToURL(ConvertToURL(sOut), st())
    oDoc.close(True)
    StarDesktop.terminate()
End Sub
'''


def delete_row_in_libreoffice(source: Path, target: Path, sheet: str, row: int, profile: Path) -> Path:
    """Open source in LibreOffice, delete one row of sheet as a person would, save as .xlsx at target."""
    _soffice(profile, "--terminate_after_init")
    (profile / "user" / "basic" / "Standard" / "Module1.xba").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<script:module xmlns:script="http://openoffice.org/2000/script" '
        'script:name="Module1" script:language="StarBasic">' + html.escape(DELETE_ROW) + "</script:module>",
        encoding="utf-8")
    _soffice(profile, f'macro:///Standard.Module1.DeleteRow("{source}","{target}","{sheet}","{row}")', timeout=120)
    assert target.exists(), "LibreOffice did not save the edited workbook"
    return target


def sheet_xml(path: Path, sheet: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(extent.sheet_members(zf)[sheet])


def with_sheet_xml(path: Path, sheet: str, edit) -> Path:
    """Rewrite one worksheet's XML in place (edit: bytes -> bytes), as another program would save it."""
    with zipfile.ZipFile(path) as zf:
        member = extent.sheet_members(zf)[sheet]
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in items:
            zf.writestr(info, edit(data) if info.filename == member else data)
    return path


def libreoffice_row_deletion_shape(data: bytes) -> bytes:
    """What LibreOffice writes after a row is deleted: the dimension and an empty last row at 1048576."""
    data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:S1048576"/>', data)
    return data.replace(b"</sheetData>", b'<row r="1048576" customFormat="false" ht="12.8" hidden="false" '
                        b'customHeight="false" outlineLevel="0" collapsed="false"></row></sheetData>')


@pytest.fixture
def settings(tmp_path):
    s = settings_for(tmp_path)
    s = replace(s, settle_seconds=0)
    master_file.write_master(small_ledger(), s)
    s.path("inbox").mkdir(parents=True)
    return s


def unit_file_filled(settings, unit="办公室") -> Path:
    path = {d.unit: d.path for d in distribute(settings, [unit])}[unit]
    return fill(path, {"ZG-001": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "已完成学习"}},
                settings.root / "filled" / f"{unit}.xlsx", dt.datetime(2024, 8, 20, 10, 0))


@needs_lo
def test_a_unit_file_with_a_row_deleted_in_libreoffice_is_consolidated(settings, tmp_path):
    filled = unit_file_filled(settings)
    edited = delete_row_in_libreoffice(filled, settings.path("inbox") / "办公室.xlsx", vocab.SHEET_LEDGER, 12,
                                       tmp_path / "lo-profile")
    xml = sheet_xml(edited, vocab.SHEET_LEDGER)
    assert b'<row r="1048576"' in xml and b'ref="A1:S1048576"' in xml      # the shape LibreOffice really writes
    result = consolidate(settings)
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED], result.files[0].problems
    assert read_ledger(settings.master).measures["ZG-001"].status == vocab.DONE


def test_an_empty_row_1048576_and_its_dimension_do_not_count_as_content(settings):
    target = settings.path("inbox") / "办公室.xlsx"
    with_sheet_xml(unit_file_filled(settings), vocab.SHEET_LEDGER, libreoffice_row_deletion_shape).replace(target)
    result = consolidate(settings)
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert read_ledger(settings.master).measures["ZG-001"].status == vocab.DONE


def test_one_character_far_away_in_a_unit_file_is_refused_naming_the_cell(settings):
    wb = openpyxl.load_workbook(unit_file_filled(settings))
    wb[vocab.SHEET_LEDGER]["XFD20000"] = "x"
    wb.save(settings.path("inbox") / "办公室.xlsx")
    (f,) = consolidate(settings).files
    assert f.outcome == vocab.OUTCOME_REJECTED
    (problem,) = f.submission.problems
    assert problem.kind == "sheet-far-cells" and problem.sheet == vocab.SHEET_LEDGER and "XFD20000" in problem.params["far"]


def test_the_extent_counts_values_formulas_and_inline_text_but_not_formatted_blank_cells(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表"
    ws["B3"] = 1
    ws["C2"] = "=1+1"
    ws["Z900"].number_format = "0.0"        # formatted, empty
    wb.save(path)
    used = extent.sheet_extents(path)["表"]
    assert (used.rows, used.columns, used.lowest, used.rightmost) == (3, 3, "B3", "C2")


def test_a_master_with_one_character_in_xfd20000_is_refused_naming_the_cell(settings):
    wb = openpyxl.load_workbook(settings.master)
    wb[vocab.SHEET_LEDGER]["XFD20000"] = "x"
    wb.save(settings.master)
    with pytest.raises(LedgerError) as err:
        read_ledger(settings.master, settings)
    message = str(err.value)
    assert "XFD20000" in message and vocab.SHEET_LEDGER in message and settings.master.name in message


def test_a_master_saved_by_libreoffice_after_a_row_deletion_reads_normally(settings):
    with_sheet_xml(settings.master, vocab.SHEET_LEDGER, libreoffice_row_deletion_shape)
    assert len(read_ledger(settings.master, settings).measures) == 6


@pytest.mark.parametrize("xml, expected", [
    # rows and cells without r take the next position; a <v> after its cell closed is no content
    ('<worksheet><sheetData><row><c><v>1</v></c><c/><c><is><t>x</t></is></c></row>'
     '<row r="9"><c r="XFD9"/><v>1</v></row></sheetData></worksheet>', (1, 3, "A1", "C1")),
    # any namespace prefix; a row number that is not a number counts on from the last row
    ('<x:worksheet xmlns:x="u"><x:sheetData><x:row r="3"><x:c r="B0"><x:v>1</x:v></x:c><x:c><x:f>1</x:f></x:c>'
     '</x:row><x:row r="zz"><x:c r="AA7"><x:v/></x:c></x:row></x:sheetData></x:worksheet>', (7, 27, "AA7", "AA7")),
    # a reference is read as calamine reads it (any number of letters, either case); a row without cells moves on
    ('<w><c r="C5"><v>1</v><v>2</v></c><c r="ZZZZ9"><v>1</v></c><c r="a1"><f/></c><row r="100"/><c><is/></c></w>',
     (100, 475254, "A100", "ZZZZ9")),
    ('<w><v>1</v><c r="D2"></c><f/></w>', (0, 0, "", "")),
])
def test_the_extent_of_unusual_layouts_follows_the_readers_positions(xml, expected):
    """The streamed scan (one handler call per element) on layouts no office program writes."""
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("s.xml", xml)
    used = extent.used_extent(zipfile.ZipFile(buf), "s.xml")
    assert (used.rows, used.columns, used.lowest, used.rightmost) == expected


def _zipped(xml: str) -> zipfile.ZipFile:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("s.xml", xml)
    return zipfile.ZipFile(buf)


def test_the_quick_scan_gives_the_parsers_extent_on_the_books_we_and_openpyxl_write(settings, tmp_path):
    """Every sheet of the master we write, and a book openpyxl wrote with a far formatted blank cell, takes
    the quick scan (no fallback) and it agrees with the streamed parse cell for cell."""
    other = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C2"], ws["D1"] = 1, "=1+1", "  文字 "
    ws["Z900"].number_format = "0.0"
    wb.save(other)
    for path in (settings.master, other):
        with zipfile.ZipFile(path) as zf:
            for member in extent.sheet_members(zf).values():
                with zf.open(member) as fh:
                    quick = extent._scanned_extent(fh)
                assert quick is not None and quick == extent._streamed_extent(zf, member)


@pytest.mark.parametrize("xml", [
    '<worksheet><sheetData><row r="1"><c><v>1</v></c></row></sheetData></worksheet>',       # a cell without r
    '<x:worksheet xmlns:x="u"><x:row r="3"><x:c r="B3"><x:v>1</x:v></x:c></x:row></x:worksheet>',   # prefixed
    '<worksheet><!-- <c r="XFD9"><v>1</v></c> --><c r="A1"><v>1</v></c></worksheet>',           # a comment
    '<worksheet><c r="A1"><extLst/><v>1</v></c></worksheet>',        # content after another child
    '<worksheet><c r="A1" s="1" x="a>b"><v>1</v></c><c r="XFD20000" x=\'>\'><v>1</v></c></worksheet>',
])
def test_layouts_the_quick_scan_does_not_know_go_to_the_parser_which_finds_every_cell(xml):
    zf = _zipped(xml)
    quick = extent._scanned_extent(zf.open("s.xml"))
    assert quick is None or quick == extent._streamed_extent(zf, "s.xml")
    assert extent.used_extent(zf, "s.xml") == extent._streamed_extent(zf, "s.xml")


def test_the_quick_scan_finds_a_far_cell_across_its_chunks(monkeypatch):
    """Chunks are cut before a cell, so a cell on a chunk boundary is seen whole, in any chunk size."""
    cells = "".join(f'<c r="A{r}" t="inlineStr"><is><t>第{r}行</t></is></c>' for r in range(1, 400))
    xml = f'<worksheet><sheetData><row r="1">{cells}<c r="XFD20000"><v>1</v></c></row></sheetData></worksheet>'
    expected = extent._streamed_extent(_zipped(xml), "s.xml")
    assert (expected.rows, expected.columns) == (20000, 16384)
    for size in (7, 64, 1000):
        monkeypatch.setattr(extent, "_CHUNK", size)
        assert extent._scanned_extent(_zipped(xml).open("s.xml")) == expected


def _far_cell_written_as(ref: str, where: str = "</sheetData>"):
    """An edit putting one number at ref, spelled as given (a cell reference calamine reads at its place)."""
    def edit(data: bytes) -> bytes:
        return data.replace(where.encode(), f'<row r="400"><c r="{ref}"><v>1</v></c></row>'.encode() + where.encode(), 1)
    return edit


@pytest.mark.parametrize("ref", ["xfd400", "XFD0000000400", "Xfd00400"])
def test_a_far_cell_spelled_in_lower_case_or_with_leading_zeros_is_refused_in_a_unit_file(settings, ref):
    """calamine reads xfd400 and XFD0000000400 as XFD400 (it would allocate the range): so does the guard."""
    target = settings.path("inbox") / "办公室.xlsx"
    with_sheet_xml(unit_file_filled(settings), vocab.SHEET_LEDGER, _far_cell_written_as(ref)).replace(target)
    (f,) = consolidate(settings).files
    assert f.outcome == vocab.OUTCOME_REJECTED
    (problem,) = f.submission.problems
    assert problem.kind == "sheet-far-cells" and problem.params["far"] == "XFD400"


def test_a_master_with_a_far_cell_in_lower_case_is_refused_naming_the_cell(settings):
    with_sheet_xml(settings.master, vocab.SHEET_LEDGER, _far_cell_written_as("xfd400"))
    with pytest.raises(LedgerError) as err:
        read_ledger(settings.master, settings)
    assert err.value.kind == "ledger-far-cells" and "XFD400" in str(err.value)


@pytest.mark.parametrize("cell", ['<c r="A400" r="XFD400"><v>1</v></c>', '<c r="A400" t="n" r="XFD400"><v>1</v></c>'])
def test_a_cell_with_a_repeated_r_is_placed_where_calamine_places_it(settings, cell):
    """XML expat refuses (a repeated attribute) that calamine reads anyway, at the last r: the guard does not
    wave it through as 'not a layout we can inspect'."""
    def edit(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", f'<row r="400">{cell}</row></sheetData>'.encode(), 1)
    target = settings.path("inbox") / "办公室.xlsx"
    with_sheet_xml(unit_file_filled(settings), vocab.SHEET_LEDGER, edit).replace(target)
    (f,) = consolidate(settings).files
    assert f.outcome == vocab.OUTCOME_REJECTED
    (problem,) = f.submission.problems
    assert problem.kind == "sheet-far-cells" and "XFD400" in problem.params["far"]
    with_sheet_xml(settings.master, vocab.SHEET_LEDGER, edit)
    with pytest.raises(LedgerError) as err:
        read_ledger(settings.master, settings)
    assert err.value.kind == "ledger-far-cells"


def test_a_large_masters_sheets_scanned_in_two_processes_give_the_extents_of_one(settings, monkeypatch, tmp_path):
    """From SPLIT_FROM bytes the master's sheets are scanned half here, half in a forked process: the same
    extents in the same order, a far cell found whichever half its sheet fell in, and a failed second process
    made good here."""
    one = extent.sheet_extents(settings.master)
    assert len(one) >= 4
    monkeypatch.setattr(extent, "SPLIT_FROM", 0)
    real, seen = extent._scan_apart, tmp_path / "apart.txt"

    def apart(conn, path, wanted):
        seen.write_text("、".join(name for name, _ in wanted), encoding="utf-8")
        real(conn, path, wanted)
    monkeypatch.setattr(extent, "_scan_apart", apart)
    assert list(extent.sheet_extents(settings.master).items()) == list(one.items())
    apart_sheets = seen.read_text(encoding="utf-8").split("、")
    here = [sheet for sheet in one if sheet not in apart_sheets]
    assert here and apart_sheets and set(here + apart_sheets) == set(one)        # the largest here, the rest apart
    for sheet in [here[0], apart_sheets[0], apart_sheets[-1]]:
        wb = openpyxl.load_workbook(settings.master)
        wb[sheet]["XFD20000"] = "x"
        wb.save(settings.master)
        with pytest.raises(LedgerError) as err:
            read_ledger(settings.master, settings)
        assert (err.value.location.sheet, err.value.location.cell) == (sheet, "XFD20000")
        del wb[sheet]["XFD20000"]
        wb.save(settings.master)

    def dies(conn, path, wanted):
        import os
        os._exit(1)
    monkeypatch.setattr(extent, "_scan_apart", dies)
    assert list(extent.sheet_extents(settings.master).items()) == list(one.items())
