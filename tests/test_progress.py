
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import hand_in, settings_for
from toolkit import demo, vocab
from toolkit.consolidate import consolidate
from toolkit.io import master_file, office
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.rollup import rollup
from toolkit.rules.stats import Counts, summarise

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")
LT, DONE, MOSTLY, ING, NOT = vocab.LONG_TERM, vocab.DONE, vocab.MOSTLY_DONE, vocab.IN_PROGRESS, vocab.NOT_STARTED


@pytest.mark.parametrize("statuses, long_term, expected", [
    ([DONE, DONE], [False, False], DONE),
    ([DONE, ING], [False, True], MOSTLY),          # the unfinished one is long-term by design
    ([DONE, MOSTLY], [False, False], MOSTLY),
    ([DONE, ING], [False, False], ING),
    ([NOT, NOT], [False, False], NOT),
    ([NOT, ING], [False, False], ING),
])
def test_problem_status_rolls_up_from_its_measures(statuses, long_term, expected):
    assert rollup(statuses, long_term) == expected


def test_a_ledger_shaped_like_seed_004_gives_exactly_its_published_figures(tmp_path):
    settings = settings_for(tmp_path)
    s = summarise(demo.seed_ledger(), settings, settings.today())
    figures = {k: s.level(k).row()[:4] for k in (vocab.KEY_PROBLEM, vocab.SPECIFIC, vocab.RECOMMENDATION,
                                                vocab.DRAW_LESSONS, vocab.REFORM)}
    assert figures == {vocab.KEY_PROBLEM: [14, 7, 7, 0], vocab.SPECIFIC: [45, 34, 11, 0],
                       vocab.RECOMMENDATION: [4, 4, 0, 0], vocab.DRAW_LESSONS: [58, 50, 8, 0],
                       vocab.REFORM: [8, 5, 3, 0]}
    assert s.measures.row()[:5] == [263, 234, 0, 29, 0]


def test_completion_counts_only_done_and_progress_weighs_mostly_done():
    c = Counts()
    for status in (DONE, MOSTLY, ING, NOT):
        c.add(status)
    assert c.completion == 25.0
    assert c.progress({DONE: 1, MOSTLY: 1, ING: 0, NOT: 0}) == 50.0
    assert c.progress({DONE: 1, MOSTLY: 0.5, ING: 0.25, NOT: 0}) == pytest.approx(43.75)


def test_units_count_each_measure_they_lead_or_co_own_with_their_own_status(workspace):
    hand_in(workspace, "市人民医院", {"ZG-002": {vocab.STATUS: "已完成"}})
    consolidate(workspace)
    s = summarise(read_ledger(workspace.master), workspace, workspace.today())
    assert s.by_unit["市人民医院"].row()[:2] == [2, 1]       # ZG-002 (co-owner, done) + ZG-004 (lead)
    assert s.by_unit["医政处"].row()[:2] == [2, 0]
    assert s.by_unit_lead["市人民医院"] == 1


def test_office_judgment_wins_over_the_computed_status_and_is_shown(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_JUDGMENT]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "(1)学习宣传不及时问题")
    ws.cell(row, 7).value = "基本完成"
    wb.save(workspace.master)
    ledger = read_ledger(workspace.master)
    s = summarise(ledger, workspace, workspace.today())
    item = next(i for i in s.items if i.item == "(1)学习宣传不及时问题")
    assert item.computed == ING and item.status == MOSTLY
    master_file.write_master(ledger, workspace)
    stats = CalamineWorkbook.from_path(str(workspace.master)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    assert any("基本完成（办公室研判）" in str(v) for r in stats for v in r)


def test_statistics_sheet_has_formulas_a_ranking_and_a_chart(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_STATS]
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert any("COUNTIFS(" in f and vocab.SHEET_LEDGER in f for f in formulas)
    assert any(vocab.SHEET_OWNERS in f for f in formulas)
    import zipfile
    assert any(n.startswith("xl/charts/chart") for n in zipfile.ZipFile(workspace.master).namelist())


def test_history_keeps_one_set_of_figures_per_period_and_shows_the_change(tmp_path):
    july = settings_for(tmp_path, period="2024-07")
    ledger = demo.seed_ledger()
    ledger.measures["ZG-001"].status = vocab.IN_PROGRESS
    master_file.write_master(ledger, july)
    august = settings_for(tmp_path, period="2024-08")
    ledger = read_ledger(august.master)
    ledger.measures["ZG-001"].status = vocab.DONE
    master_file.write_master(ledger, august)
    master_file.write_master(read_ledger(august.master), august)          # again: no duplicate rows
    ledger = read_ledger(august.master)
    overall = [r for r in ledger.history if r.scope == "总体"]
    assert [r.period for r in overall] == ["2024-07", "2024-08"]
    ws = openpyxl.load_workbook(august.master)[vocab.SHEET_STATS]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "整改措施合计")
    assert ws.cell(total_row, 10).value.startswith(f"=ROUND(H{total_row}-")   # 0.1-point steps: no ±0.0%
    cached = CalamineWorkbook.from_path(str(august.master)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    assert cached[total_row - 1][9] == pytest.approx(1 / 263, abs=1e-3)   # one more done than in July (history keeps 0.1%)


def strip_cached_values(path, target):
    """A copy of the workbook whose formula cells carry no cached result."""
    import re
    import zipfile
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", data)
            dst.writestr(item, data)
    return target


def test_cached_formula_values_are_pythons_figures(workspace):
    rows = CalamineWorkbook.from_path(str(workspace.master)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    total = next(r for r in rows if r and r[0] == "整改措施合计")
    s = summarise(read_ledger(workspace.master), workspace, workspace.today())
    assert [int(v) for v in total[1:7]] == s.measures.row() and total[7] == pytest.approx(s.measures.completion / 100)


@needs_lo
def test_formulas_agree_with_python_after_libreoffice_recalculates(tmp_path):
    settings = demo.stage_demo(tmp_path / "run")
    consolidate(settings)
    ledger = read_ledger(settings.master)
    s = summarise(ledger, settings, settings.today())
    blank = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")   # nothing to trust: LO must compute
    out = office.convert(blank, "xlsx", tmp_path / "lo", recalc=True)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    table = {}
    for r in rows:  # first occurrence: the problem levels come before the categories of the same name
        if r and isinstance(r[0], str):
            table.setdefault(r[0], r)
    for level in (vocab.KEY_PROBLEM, vocab.SPECIFIC, vocab.RECOMMENDATION, vocab.DRAW_LESSONS, vocab.REFORM):
        assert [int(v) for v in table[level][1:6]] == s.level(level).row()[:5], level
    total = table["整改措施合计"]
    assert [int(v) for v in total[1:7]] == s.measures.row()
    assert total[7] == pytest.approx(s.measures.completion / 100)
    units = {r[1]: r for r in rows if r and isinstance(r[1], str) and r[1] in s.by_unit}
    assert len(units) == len(s.by_unit)
    for unit, c in s.by_unit.items():
        assert [int(v) for v in units[unit][3:9]] == c.row(), unit
        assert units[unit][9] == pytest.approx(c.completion / 100)
