"""Round five of the independent attack: office ledgers kept in ways earlier rounds did not build (a deadline
month that does not exist, a two-row header whose labels are fields, formulas saved without results); one test
per defect found, each on a real file and with the figures counted here from the file itself."""
from __future__ import annotations

import openpyxl
import pytest

from tests.office_books import office_workbook
from tests.test_office_ledgers import SEED_FIGURES, paragraph
from tests.test_office_ledgers_round3 import edit, header_cols
from toolkit import check, demo, vocab
from toolkit.errors import LedgerError
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import normalize

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装")


@pytest.fixture(scope="module")
def seed_book(tmp_path_factory):
    """The seed ledger as an office writes it: two title rows, 序号, header variants, header on row 3."""
    return office_workbook(tmp_path_factory.mktemp("seed") / "plain.xlsx", demo.seed_ledger())


# ---------------------------------------------------------------- a deadline month that does not exist

@pytest.mark.parametrize("typed", ["2024.13", "2024年13月", "2024年0月", "2024-00", "2024年13月底"])
def test_a_deadline_month_that_does_not_exist_is_refused_not_rolled_into_the_next_year(typed):
    """`2024.13` (a dot lost from 2024.1.3) was read as 2025-01-31: a deadline nobody wrote, silently."""
    with pytest.raises(ValueError):
        normalize.deadline(typed)


def test_a_ledger_deadline_typed_2024_13_stops_the_read_naming_its_cell(seed_book, tmp_path):
    where = {}

    def change(wb, ws, h):
        c = h["完成\n时间"]
        r = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, h["完成情况"]).value != vocab.DONE)
        ws.cell(r, c).value = "2024.13"
        where["cell"] = f"{openpyxl.utils.get_column_letter(c)}{r}"
    book = edit(seed_book, tmp_path / "month13.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert f"（{where['cell']}）" in str(exc.value) and "2024.13" in str(exc.value)
    assert not check.check(book, demo.demo_settings(tmp_path)).ok


# ---------------------------------------------------------------- a group header over two unit columns

def grouped_units(wb, ws, h):
    """责任单位 merged over 牵头单位 | 配合单位 on a second header row, every other header merged down two rows."""
    lead, co = h["责任单位"], h["配合单位"]
    assert co == lead + 1
    ws.insert_rows(4)
    for c in range(1, ws.max_column + 1):
        if c not in (lead, co):
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    ws.cell(3, lead, "责任单位")
    ws.cell(3, co).value = None
    ws.merge_cells(start_row=3, start_column=lead, end_row=3, end_column=co)
    ws.cell(4, lead, "牵头单位")
    ws.cell(4, co, "配合单位")


def test_a_responsibility_header_over_lead_and_co_units_reads_each_column_as_its_label(seed_book, tmp_path):
    """The commonest two-row header of all: 责任单位 over 牵头单位 | 配合单位. The run stopped saying both columns
    were 牵头单位 and told the office to delete or rename one of them — a fine column. Each label names its field."""
    book = edit(seed_book, tmp_path / "grouped.xlsx", grouped_units)
    text, ledger = paragraph(book, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text
    ws = openpyxl.load_workbook(book)[vocab.SHEET_LEDGER]
    ids = header_cols(ws)["编号"]
    lead, co = header_cols(ws, 4)["牵头单位"], header_cols(ws, 4)["配合单位"]
    for r in range(5, ws.max_row + 1):
        m = ledger.measures[ws.cell(r, ids).value]
        assert m.lead_unit == ws.cell(r, lead).value
        assert m.co_units == normalize.split_units(ws.cell(r, co).value)
    assert sum(1 for m in ledger.measures.values() if m.co_units) == sum(
        1 for r in range(5, ws.max_row + 1) if ws.cell(r, co).value)
    assert check.check(book, demo.demo_settings(tmp_path)).ok
