"""Every formula the master carries recalculates to the value Python cached, whatever the text of
unit names, 重点问题 and 事项 (COUNTIFS would read a leading = < > as an operator and * ? ~ as
wildcards), and per-item figures keep items of different 事项类型 apart."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from tests.conftest import settings_for
from tests.test_progress import strip_cached_values
from toolkit import vocab
from toolkit.io import master_file, office
from toolkit.io.ledger_file import owners_from_measures
from toolkit.model import Ledger, Measure
from toolkit.rules.stats import summarise

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")

HOSTILE_UNITS = ["=市急救中心", "<医政处", ">办公室", "<>科教处", "市*医院", "市?医院", "~质控中心", "市人民医院",
                 "A医院", "a医院", "12"]
KEY = "=1.关于*政治站位不高?的问题"


def hostile_ledger() -> Ledger:
    """Measures whose units, key problems and items hold every character COUNTIFS would misread,
    and one 事项 title used twice under one 重点问题 with two 事项类型."""
    def m(i, key, item, lead, co, deadline, status, kind=vocab.SPECIFIC):
        return Measure(id=f"ZG-{i:03d}", theme="关于政治执行力不强的问题", key_problem=key, item=item, item_type=kind,
                       reform=False, measure=f"措施{i}", leader="李××", lead_unit=lead, co_units=co,
                       deadline=deadline, status=status)
    late, later = dt.date(2024, 6, 30), dt.date(2024, 12, 31)
    ms = [m(1, KEY, "(1)学习宣传不及时问题", "=市急救中心", ["市人民医院"], late, vocab.IN_PROGRESS),
          m(2, KEY, "(1)学习宣传不及时问题", "<医政处", ["市*医院"], later, vocab.DONE),
          m(3, KEY, "(1)学习宣传不及时问题", "市*医院", [], late, vocab.NOT_STARTED, vocab.DRAW_LESSONS),
          m(4, KEY, "(1)学习宣传不及时问题", "市?医院", [], later, vocab.DONE, vocab.DRAW_LESSONS),
          m(5, KEY, "(1)学习宣传不及时问题", ">办公室", ["~质控中心"], late, vocab.MOSTLY_DONE, vocab.DRAW_LESSONS),
          m(6, KEY, "=*事项", "<>科教处", [], late, vocab.IN_PROGRESS),
          m(7, KEY, "*事项", "市人民医院", ["A医院"], later, vocab.IN_PROGRESS),
          m(8, "<2.关于~作风的问题", "<>事项?", "a医院", ["12"], late, vocab.NOT_STARTED),
          m(9, "<2.关于~作风的问题", "~*?", "12", [], later, vocab.DONE),
          m(10, "1.关于政治站位不高的问题", "(1)学习宣传不及时问题", "A医院", [], late, vocab.IN_PROGRESS)]
    ledger = Ledger({x.id: x for x in ms}, {}, title="测试整改台账")
    ledger.owners = owners_from_measures(ledger.measures)
    return ledger


def formula_cells(path) -> dict[tuple[str, str], object]:
    """{(sheet, cell): cached value} of every formula cell in the workbook."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    out[(ws.title, cell.coordinate)] = values[ws.title][cell.coordinate].value
    return out


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-6
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        return a == b
    return (a if a is not None else "") == (b if b is not None else "")


def test_the_per_item_formulas_name_the_item_type(tmp_path):
    settings = settings_for(tmp_path)
    master_file.write_master(hostile_ledger(), settings)
    ledger_ws = openpyxl.load_workbook(settings.master)[vocab.SHEET_LEDGER]
    type_col = next(c.column_letter for c in ledger_ws[2] if c.value == vocab.ITEM_TYPE)
    rows = list(openpyxl.load_workbook(settings.master)[vocab.SHEET_STATS].iter_rows())
    items = [r for r in rows if r[0].value == "(1)学习宣传不及时问题"]
    assert sorted((r[10].value, r[1].value.count(f"${type_col}$3:")) for r in items) == \
        [(vocab.DRAW_LESSONS, 1), (vocab.SPECIFIC, 1), (vocab.SPECIFIC, 1)]


@needs_lo
def test_every_formula_recalculates_to_its_cached_value_with_hostile_names(tmp_path):
    settings = settings_for(tmp_path)
    ledger = hostile_ledger()
    master_file.write_master(ledger, settings)
    cached = formula_cells(settings.master)
    assert len(cached) > 200
    blank = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")
    out = office.convert(blank, "xlsx", tmp_path / "lo", recalc=True)
    again = openpyxl.load_workbook(out, data_only=True)
    wrong = {where: (value, again[where[0]][where[1]].value) for where, value in cached.items()
             if not same(value, again[where[0]][where[1]].value)}
    assert wrong == {}
    s = summarise(ledger, settings, settings.today())
    assert s.by_unit["=市急救中心"].total == 1 and s.by_unit["市*医院"].total == 2
    assert len([it for it in s.items if it.item == "(1)学习宣传不及时问题" and it.key_problem == KEY]) == 2
