"""The ledger's columns are declared once (model.LEDGER_COLUMNS): a sparse column such as 整改金额 goes
end to end — read from an office's ledger, written back into the master, carried locked and checked in
the unit workbooks — while ledgers without it are written exactly as before."""
from dataclasses import replace

import openpyxl

from tests.conftest import hand_in, ledger_sheet, settings_for, small_ledger
from tests.office_books import office_workbook
from toolkit import vocab
from toolkit.check import check
from toolkit.consolidate import consolidate
from toolkit.distribute import distribute
from toolkit.io.ledger_file import read_ledger
from toolkit.model import BASE_COLUMNS, COLUMN, LEDGER_COLUMNS, Ledger, SheetLayout

AMOUNTS = {"ZG-001": 12.5, "ZG-002": "3万元", "ZG-003": None, "ZG-004": 40, "ZG-005": "1,200", "ZG-006": ""}


def audit_workspace(tmp_path, amounts=AMOUNTS):
    """A workspace whose master is an office's ledger with a 整改金额（万元） column after its last one."""
    settings = replace(settings_for(tmp_path), settle_seconds=0)
    settings.master.parent.mkdir(parents=True)
    office_workbook(settings.master, small_ledger())
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_LEDGER]
    h, col = 3, ws.max_column + 1            # office_workbook: two title rows, the header on row 3
    ws.cell(h, col, "整改金额（万元）")
    ids = {ws.cell(r, 2).value: r for r in range(h + 1, ws.max_row + 1)}
    for mid, value in amounts.items():
        ws.cell(ids[mid], col, value)
    wb.save(settings.master)
    settings.path("inbox").mkdir(parents=True)
    return settings


def test_the_vocabulary_lists_are_the_schema_seen_by_header():
    assert [c.header for c in BASE_COLUMNS] == vocab.COLUMNS
    assert [c.header for c in BASE_COLUMNS if c.locked] == vocab.LOCKED_COLUMNS
    assert {c.header for c in BASE_COLUMNS if c.optional} == set(vocab.OPTIONAL_COLUMNS)
    assert [c.header for c in LEDGER_COLUMNS if not c.locked] == vocab.UNIT_COLUMNS
    assert all(c.header in c.aliases for c in LEDGER_COLUMNS)


def test_an_amount_column_is_read_consolidated_and_written_back_into_the_master(tmp_path):
    settings = audit_workspace(tmp_path)
    ledger = read_ledger(settings.master, settings)
    assert ledger.in_use == [vocab.AMOUNT] and "整改金额（万元）" not in ledger.extra_columns
    assert [ledger.measures[f"ZG-00{i}"].amount for i in range(1, 7)] == [12.5, 3.0, None, 40.0, 1200.0, None]
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "已印发方案"}})
    result = consolidate(settings)
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    wb, ws, cols, rows = ledger_sheet(settings.master)
    headers = [ws.cell(2, c).value for c in range(1, len(vocab.COLUMNS) + 2)]
    assert headers == [c.header for c in LEDGER_COLUMNS]          # in the schema's place, after 完成时限
    amounts = {mid: ws.cell(r, cols[vocab.AMOUNT]).value for mid, r in rows.items()}
    assert amounts == {"ZG-001": 12.5, "ZG-002": 3, "ZG-003": None, "ZG-004": 40, "ZG-005": 1200, "ZG-006": None}
    assert ws.cell(rows["ZG-001"], cols[vocab.STATUS]).value == vocab.DONE
    assert ws.cell(rows["ZG-001"], cols[vocab.PROGRESS]).value == "已印发方案"
    again = read_ledger(settings.master, settings)
    assert again.in_use == [vocab.AMOUNT] and again.measures["ZG-001"].amount == 12.5


def test_the_unit_workbook_carries_the_amount_locked_with_a_number_validation(tmp_path):
    settings = audit_workspace(tmp_path)
    out = {d.unit: d.path for d in distribute(settings, ["办公室"])}
    wb = openpyxl.load_workbook(out["办公室"])
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, cols[vocab.ID]).value: r for r in range(3, ws.max_row + 1)}
    cell = ws.cell(rows["ZG-001"], cols[vocab.AMOUNT])
    assert cell.value == 12.5
    assert ws.protection.sheet and cell.protection.locked
    assert not ws.cell(rows["ZG-001"], cols[vocab.STATUS]).protection.locked
    checks = [dv for dv in ws.data_validations.dataValidation if cell.coordinate in dv.sqref]
    assert [dv.type for dv in checks] == ["decimal"] and checks[0].operator == "greaterThanOrEqual"


def test_an_amount_that_is_not_a_number_is_named_by_its_cell(tmp_path):
    settings = audit_workspace(tmp_path, {**AMOUNTS, "ZG-004": "约四十"})
    report = check(settings.master, settings)
    col = openpyxl.utils.get_column_letter(len(vocab.COLUMNS) + 2)      # 序号 first, the amount last
    found = [p for p in report.problems if f"（{col}7）" in p]
    assert len(found) == 1 and "整改金额" in found[0] and "约四十" in found[0] and "万元" in found[0]


def test_a_ledger_without_the_amount_column_is_written_without_it(workspace):
    ledger = read_ledger(workspace.master, workspace)
    assert ledger.in_use == [] and vocab.AMOUNT not in [c.header for c in ledger.schema]
    wb, ws, cols, rows = ledger_sheet(workspace.master)
    assert vocab.AMOUNT not in cols and COLUMN[vocab.AMOUNT].sparse


def test_the_sheet_layout_is_one_record_read_from_the_office_sheet_and_laid_out_fresh_by_the_writer(tmp_path):
    settings = audit_workspace(tmp_path)
    ledger = read_ledger(settings.master, settings)
    assert isinstance(ledger.sheet, SheetLayout) and ledger.sheet.header_row == 3        # as the office's sheet has it
    assert ledger.sheet.columns[vocab.ID] == 2 and ledger.sheet.columns[vocab.AMOUNT] == len(vocab.COLUMNS) + 2
    assert "header_row" not in Ledger.__dataclass_fields__ and "columns" not in Ledger.__dataclass_fields__
    copy = ledger.copy()
    copy.sheet.columns[vocab.ID] = 99
    assert ledger.sheet.columns[vocab.ID] == 2                    # a copy's layout is its own
    consolidate(settings)                                        # nothing handed in: the master is rewritten as ours
    again = read_ledger(settings.master, settings)
    assert again.sheet.header_row == 2 and again.sheet.columns[vocab.AMOUNT] == 12
