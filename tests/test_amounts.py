"""整改金额 totals (rules/amounts.py): exact in Decimal and rounded half up to 0.01 万元, the same in the
statistics sheet's formulas (recalculated by LibreOffice from no cached values) and in the public paragraph."""
from __future__ import annotations

import openpyxl

from tests.conftest import hand_in
from tests.test_formulas_exact import formula_cells, needs_lo, same
from tests.test_progress import strip_cached_values
from tests.test_schema import audit_workspace
from toolkit import vocab
from toolkit.assessment import assess
from toolkit.consolidate import consolidate
from toolkit.documents.notices import public_summary
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger

# 1.005 and 1200.125 sit on a half cent (float round() gives 1.0 and 1200.12); 0.1 + 0.2 is not 0.3 in floats
HALF_CENTS = {"ZG-001": 1.005, "ZG-002": "0.1", "ZG-003": 0.2, "ZG-004": "1,200.125万元", "ZG-005": None, "ZG-006": ""}


def amount_rows(path) -> dict[str, tuple]:
    """{name: (应整改, 已整改)} of the statistics sheet's 整改金额 section, as the workbook holds them."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[vocab.SHEET_STATS].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith(("六、整改金额", "七、整改金额")))
    return {r[0]: tuple(r[1:3]) for r in rows[at + 2:] if r and r[0]}


@needs_lo
def test_amounts_are_summed_exactly_and_rounded_half_up_in_sheet_and_paragraph(tmp_path):
    settings = audit_workspace(tmp_path, HALF_CENTS)
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "资金已追回"}})
    consolidate(settings)
    expected = {"合计": (1201.43, 1.01), "办公室": (1.01, 1.01), "医政处": (0.3, 0.0), "市人民医院": (1200.13, 0.0)}
    assert amount_rows(settings.master) == expected
    cached = formula_cells(settings.master)
    blank = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")
    again = office.convert(blank, "xlsx", tmp_path / "lo", recalc=True)
    recalculated = openpyxl.load_workbook(again, data_only=True)
    assert {k: v for k, v in cached.items() if not same(v, recalculated[k[0]][k[1]].value)} == {}
    assert amount_rows(again) == expected
    ledger = read_ledger(settings.master, settings)
    assert "应整改金额1201.43万元，已整改1.01万元。" in public_summary(ledger, settings, assess(ledger, settings))



def test_a_ledger_whose_amount_column_is_still_empty_states_no_amount(tmp_path):
    settings = audit_workspace(tmp_path, {"ZG-001": None, "ZG-002": ""})
    consolidate(settings)
    ledger = read_ledger(settings.master, settings)
    assert ledger.in_use == [vocab.AMOUNT]
    assert "金额" not in public_summary(ledger, settings, assess(ledger, settings))
    assert amount_rows(settings.master) == {"合计": (0, 0)}
