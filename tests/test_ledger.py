import datetime as dt

import openpyxl
import pytest

from tests.conftest import small_ledger
from toolkit import vocab
from toolkit.errors import LedgerError
from toolkit.io.ledger_file import read_ledger


def hand_made_master(path, rows, title_rows=2, extra=("科室自用备注",)):
    """A master as an office keeps it: title lines on top, its own columns, blank rows between."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    for i in range(title_rows):
        ws.append([f"巡视整改台账(第{i + 1}行标题)"])
    ws.append(vocab.COLUMNS + list(extra))
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def plan_row(mid, status="正在推进", deadline="2024.6.30", extra=("自用",)):
    return [mid, "主题", "1.重点问题", "(1)具体问题", "具体问题", "", "措施", "李××", "办公室", "医政处、 市人民医院",
            deadline, status, "", "", ""] + list(extra)


def test_reading_tolerates_title_rows_blank_rows_and_extra_columns(tmp_path):
    path = hand_made_master(tmp_path / "m.xlsx", [plan_row("A1"), [], [None] * 16, plan_row(" A2 ", "推进中", "长期坚持")])
    ledger = read_ledger(path)
    assert list(ledger.measures) == ["A1", "A2"]
    assert ledger.header_row == 3
    assert ledger.measures["A1"].deadline == dt.date(2024, 6, 30)
    assert ledger.measures["A2"].status == vocab.IN_PROGRESS
    assert ledger.measures["A2"].deadline == vocab.LONG_TERM
    assert ledger.measures["A1"].co_units == ["医政处", "市人民医院"]
    assert ledger.measures["A2"].row == 7


def test_duplicate_ids_and_bad_deadlines_are_named_by_row_and_column(tmp_path):
    path = hand_made_master(tmp_path / "m.xlsx", [plan_row("A1"), plan_row("A1"), plan_row("A3", deadline="2024-02-30")])
    with pytest.raises(LedgerError) as err:
        read_ledger(path)
    text = str(err.value)
    assert "第5行" in text and "重复" in text
    assert "第6行" in text and "完成时限" in text and "K6" in text


def test_missing_header_column_is_reported(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    ws.append([c for c in vocab.COLUMNS if c != vocab.DEADLINE])
    wb.save(tmp_path / "m.xlsx")
    with pytest.raises(LedgerError, match="完成时限"):
        read_ledger(tmp_path / "m.xlsx")


def test_written_master_reads_back_the_same_measures(workspace):
    ledger = read_ledger(workspace.master)
    original = small_ledger()
    assert [m.values() for m in ledger.measures.values()] == [m.values() for m in original.measures.values()]
    assert set(ledger.owners) == set(original.owners)


def test_written_master_is_printable_and_filterable(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_LEDGER]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref.startswith("A2:")
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0   # 1 is the default
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$2:$2"
    deadline_col = openpyxl.utils.get_column_letter(vocab.COLUMNS.index(vocab.DEADLINE) + 1)
    assert ws.column_dimensions[deadline_col].width >= 11   # yyyy-mm-dd never shows ####
    assert ws.cell(3, vocab.COLUMNS.index(vocab.MEASURE) + 1).alignment.wrap_text
