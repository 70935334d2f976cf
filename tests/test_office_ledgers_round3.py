"""Issue 21, checked again with office layouts nobody had built: the seed-004 ledger (263 measures, figures
known) kept the ways offices keep it. Each layout publishes the seed's figures — checked against a count made
here from the file itself — or the run stops naming the cell."""
from __future__ import annotations

import openpyxl
import pytest

from tests.office_books import office_workbook
from tests.test_office_ledgers import SEED_FIGURES, paragraph
from toolkit import check, demo, vocab
from toolkit.errors import LedgerError
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装")


@pytest.fixture(scope="module")
def seed_book(tmp_path_factory):
    """The seed ledger as an office writes it: two title rows, 序号, header variants, header on row 3."""
    return office_workbook(tmp_path_factory.mktemp("seed") / "plain.xlsx", demo.seed_ledger())


def header_cols(ws, row=3):
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value is not None}


def edit(source, target, change):
    """Open the office's ledger, change it as the office does, save it under a new name."""
    wb = openpyxl.load_workbook(source)
    ws = wb[vocab.SHEET_LEDGER]
    change(wb, ws, header_cols(ws))
    wb.save(target)
    return target


def counted(path, header, sheet=vocab.SHEET_LEDGER, header_row=3):
    """Independent count: distinct values of one column as a person sees them (invisible characters and
    surrounding blanks are not seen)."""
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    c = header_cols(ws, header_row)[header]
    seen = set()
    for r in range(header_row + 1, ws.max_row + 1):
        v = ws.cell(r, c).value
        if v is not None:
            seen.add("".join(ch for ch in str(v) if ch not in "\u200b\u200c\u200d\u2060\ufeff\u00ad").strip())
    return len(seen)


def published(path, tmp_path):
    """The notice paragraph, the check verdict and the ledger, as the office would run them."""
    settings = demo.demo_settings(tmp_path)
    text, ledger = paragraph(path, settings)
    return text, check.check(path, settings), ledger


# ---------------------------------------------------------------- invisible characters

def test_zero_width_characters_pasted_into_a_key_problem_and_a_unit_change_no_figure(seed_book, tmp_path):
    """A 重点问题 with a zero-width space (pasted from a web page) was a 15th problem; a unit written
    `\u3000医政处\u200b` a 34th unit with its own template; a status `已完成\u200b` unreadable."""
    def change(wb, ws, h):
        ws.cell(10, h["重点问题"]).value += "\u200b"
        ws.cell(11, h["责任单位"]).value = "\u3000" + ws.cell(11, h["责任单位"]).value + "\u200b"
        ws.cell(12, h["事项"]).value = "\ufeff" + ws.cell(12, h["事项"]).value
        ws.cell(13, h["完成情况"]).value = str(ws.cell(13, h["完成情况"]).value) + "\u2060"
        ws.cell(14, h["编号"]).value = ws.cell(14, h["编号"]).value + "\u200d"
    book = edit(seed_book, tmp_path / "zw.xlsx", change)
    text, report, ledger = published(book, tmp_path)
    for figure in SEED_FIGURES:
        assert figure in text
    assert counted(book, "重点问题") == 14
    assert sorted(ledger.units) == sorted(read_ledger(seed_book).units) and len(ledger.units) == 33
    assert report.ok and "ZG-011" in ledger.measures
