"""Round four of the independent attack on the merged tree: an audit office's own ledger, a hostile workspace
template, the resident service's long-lived Workspace, and the declared outputs; one test per defect found."""
from __future__ import annotations

import openpyxl
import pytest

from tests.test_schema import audit_workspace
from toolkit import vocab
from toolkit.errors import LedgerError
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.amounts import amount_totals


def amount_cell(settings, mid: str) -> tuple[openpyxl.Workbook, object]:
    """The master workbook and the 整改金额 cell of measure `mid` (audit_workspace: header on row 3)."""
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_LEDGER]
    col = next(c for c in range(1, ws.max_column + 1) if str(ws.cell(3, c).value).startswith(vocab.AMOUNT))
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value == mid)
    return wb, ws.cell(row, col)


@pytest.mark.parametrize("typed", [-5, "-5", "-12.5万元", "-1,200.00"])
def test_a_negative_amount_stops_the_read_naming_its_cell(tmp_path, typed):
    settings = audit_workspace(tmp_path, {"ZG-001": typed, "ZG-002": 10})
    _, cell = amount_cell(settings, "ZG-001")
    with pytest.raises(LedgerError) as caught:
        read_ledger(settings.master, settings)
    assert f"（{cell.coordinate}）" in str(caught.value)


def test_amounts_as_offices_type_them_are_totalled_exactly(tmp_path):
    settings = audit_workspace(tmp_path, {"ZG-001": "12.5万元", "ZG-002": "1,200.00", "ZG-003": 0, "ZG-004": None})
    totals = amount_totals(read_ledger(settings.master, settings))
    assert totals is not None and str(totals.overall.due) == "1212.5"


def test_an_amount_merged_over_several_measures_stops_the_read_instead_of_counting_it_twice(tmp_path):
    settings = audit_workspace(tmp_path, {"ZG-001": 100, "ZG-002": None, "ZG-003": 5})
    wb, first = amount_cell(settings, "ZG-001")
    _, second = amount_cell(settings, "ZG-002")
    assert second.row == first.row + 1
    wb[vocab.SHEET_LEDGER].merge_cells(f"{first.coordinate}:{second.coordinate}")
    wb.save(settings.master)
    with pytest.raises(LedgerError) as caught:
        read_ledger(settings.master, settings)
    assert f"{first.coordinate}:{second.coordinate}" in str(caught.value)
    problems: list[str] = []
    ledger = read_ledger(settings.master, settings, problems)      # check: reported, never read as 200
    assert len(problems) == 1 and ledger.measures["ZG-002"].amount is None
