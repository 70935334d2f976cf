"""Round five of the independent attack: office ledgers kept in ways earlier rounds did not build (a deadline
month that does not exist, a two-row header whose labels are fields, formulas saved without results); one test
per defect found, each on a real file and with the figures counted here from the file itself."""
from __future__ import annotations

import openpyxl
import pytest

from tests.office_books import office_workbook
from tests.test_office_ledgers_round3 import edit
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
