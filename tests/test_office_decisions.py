"""The office's hand edits of 完成情况 in 整改台账 win visibly (issue 12 point 6), and the other
office-facing rules: notice title from config, 持平 for an unchanged rate, one refused status cell."""
import openpyxl
import pytest

from tests.conftest import hand_in, ledger_sheet
from toolkit import vocab
from toolkit.assessment import assess
from toolkit.consolidate import consolidate
from toolkit.distribute import distribute
from toolkit.documents import notices
from toolkit.io import master_file
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.stats import summarise


def office_sets(settings, mid, status):
    """The office types a status into the master's 整改台账 sheet and saves it (as in Excel)."""
    wb, ws, cols, rows = ledger_sheet(settings.master)
    ws.cell(rows[mid], cols[vocab.STATUS]).value = status
    wb.save(settings.master)


def sheet_rows(path, name):
    ws = openpyxl.load_workbook(path)[name]
    return [[c.value for c in r] for r in ws.iter_rows(min_row=2)]


def test_a_hand_edit_becomes_an_office_decision_kept_recorded_and_shown(workspace):
    office_sets(workspace, "ZG-001", vocab.DONE)          # units say 正在推进
    ledger = read_ledger(workspace.master, workspace)
    d = ledger.decisions["ZG-001"]
    assert (d.status, d.previous) == (vocab.DONE, vocab.IN_PROGRESS) and d.at
    assert any("“正在推进”→“已完成”" in n for n in ledger.read_notes)
    master_file.write_master(ledger, workspace)
    decisions = sheet_rows(workspace.master, vocab.SHEET_DECISIONS)
    assert decisions[0] == vocab.DECISION_COLUMNS
    assert decisions[1][:5] == ["ZG-001", "措施1:制定工作方案", vocab.DONE, vocab.IN_PROGRESS, vocab.IN_PROGRESS]
    owners = sheet_rows(workspace.master, vocab.SHEET_OWNERS)
    header = owners[0]
    row = next(r for r in owners if r[0] == "ZG-001")
    assert row[header.index(vocab.STATUS)] == vocab.IN_PROGRESS          # the unit's own word, untouched
    assert row[header.index(vocab.OFFICE_STATUS)] == vocab.DONE
    assert row[header.index(vocab.COUNTED_STATUS)].startswith("=IF(")
    again = read_ledger(workspace.master, workspace)                     # a rewrite keeps the decision
    assert again.decisions["ZG-001"].at == d.at and not again.read_notes


def test_a_unit_reporting_again_does_not_revert_the_office_decision(workspace):
    office_sets(workspace, "ZG-001", vocab.DONE)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "仍在起草方案"}})
    result = consolidate(workspace)
    ledger = read_ledger(workspace.master, workspace)
    m = ledger.measures["ZG-001"]
    assert m.status == vocab.DONE and m.progress == "仍在起草方案"
    assert ledger.owners[("ZG-001", "办公室")].status == vocab.IN_PROGRESS
    assert any("办公室认定" in n and "ZG-001" in n for n in result.ledger.report_notes())
    # one rule everywhere: statistics (overall and per unit), the unit's workbook, the notices
    s = summarise(ledger, workspace, workspace.today())
    assert s.by_unit["办公室"].row()[:2] == [3, 3] and s.measures.done == 3
    wb = openpyxl.load_workbook(next(d.path for d in distribute(workspace, ["办公室"])))
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    status = {ws.cell(r, cols[vocab.ID]).value: ws.cell(r, cols[vocab.STATUS]).value for r in range(3, ws.max_row + 1)}
    assert status["ZG-001"] == vocab.DONE
    late = notices.programme_context(ledger, workspace, assess(ledger, workspace))["逾期按单位"]
    assert "ZG-001" not in [i["编号"] for i in late.get("办公室", [])]


def test_setting_the_status_back_to_the_units_roll_up_withdraws_the_decision(workspace):
    office_sets(workspace, "ZG-001", vocab.DONE)
    master_file.write_master(read_ledger(workspace.master, workspace), workspace)
    office_sets(workspace, "ZG-001", vocab.IN_PROGRESS)
    ledger = read_ledger(workspace.master, workspace)
    assert "ZG-001" not in ledger.decisions and any("已撤销" in n for n in ledger.read_notes)


def test_the_nightly_report_shows_office_decisions(workspace):
    from toolkit.nightly import run_once
    office_sets(workspace, "ZG-004", vocab.DONE)
    report = run_once(workspace)
    text = report.report_path.read_text(encoding="utf-8")
    assert "办公室认定：措施“ZG-004”完成情况为“已完成”" in text


def test_the_notice_title_comes_from_config_never_from_the_ledger_title_row(workspace):
    wb, ws, _, _ = ledger_sheet(workspace.master)
    ws.cell(1, 1).value = "科室内部工作台账（勿外传）"
    wb.save(workspace.master)
    ledger = read_ledger(workspace.master, workspace)
    assert ledger.title == "科室内部工作台账（勿外传）"
    written = notices.write_notices(ledger, workspace, assess(ledger, workspace), ["通报"])
    text = next(p for p in written if p.suffix == ".md").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# 关于测试整改进展情况的通报" and "勿外传" not in text


def test_an_unchanged_completion_rate_reads_flat_not_plus_minus_zero(workspace):
    from toolkit.io.stats_sheet import _delta_value
    from toolkit.rules.stats import Counts
    c = Counts(total=3, done=1)
    assert _delta_value(c, round(c.completion, 1)) == 0.0 and str(_delta_value(c, 33.35)) == "0.0"   # never -0.0
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_STATS]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "整改措施合计")
    assert ws.cell(total_row, 10).number_format.endswith('"持平"')


def test_an_unknown_status_refuses_only_that_cell_and_names_the_word_to_use(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "推进了一半", vocab.PROGRESS: "方案已起草"}})
    result = consolidate(workspace)
    assert result.files[0].outcome == vocab.OUTCOME_PARTIAL
    ledger = read_ledger(workspace.master, workspace)
    assert ledger.measures["ZG-001"].progress == "方案已起草" and ledger.measures["ZG-001"].status == vocab.IN_PROGRESS
    (path,) = result.receipts
    receipt = path.read_text(encoding="utf-8")
    assert path.name.startswith("办公室_") and "“推进了一半”不是有效的完成情况" in receipt and "请填写“正在推进”" in receipt


@pytest.mark.parametrize("typed, hint", [("推进了一半", vocab.IN_PROGRESS), ("尚未动工", vocab.NOT_STARTED),
                                         ("基本完成了吧", vocab.MOSTLY_DONE), ("已结束", vocab.DONE), ("不清楚", ""),
                                         ("部分完成", vocab.IN_PROGRESS), ("尚未完成", ""), ("未完成", ""),
                                         ("不再推进", "")])
def test_status_hints(typed, hint):
    from toolkit.rules.normalize import status_hint
    assert status_hint(typed) == hint


def test_the_nightly_report_notes_that_merged_cells_were_read(workspace):
    from toolkit.nightly import run_once
    wb, ws, cols, rows = ledger_sheet(workspace.master)
    ws.merge_cells(start_row=3, start_column=cols[vocab.THEME], end_row=8, end_column=cols[vocab.THEME])
    wb.save(workspace.master)
    text = run_once(workspace).report_path.read_text(encoding="utf-8")
    assert "合并单元格（B3:B8）" in text


def test_the_public_paragraph_keeps_muqian_when_nothing_is_finished_yet(workspace):
    ledger = read_ledger(workspace.master, workspace)
    for m in ledger.measures.values():
        m.status = vocab.IN_PROGRESS
    text = notices.public_summary(ledger, workspace, assess(ledger, workspace))
    assert "重点问题1个，目前正在推进1个；具体问题2个，目前正在推进2个" in text
    assert "共制定整改措施6条，正在推进6条" in text


@pytest.mark.skipif(__import__("toolkit.io.office").io.office.soffice() is None, reason="LibreOffice 未安装")
def test_libreoffice_recalculation_follows_the_office_decision_too(workspace, tmp_path):
    from python_calamine import CalamineWorkbook

    from tests.test_progress import strip_cached_values
    from toolkit.io import office
    office_sets(workspace, "ZG-001", vocab.DONE)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.IN_PROGRESS}})
    consolidate(workspace)
    s = summarise(read_ledger(workspace.master, workspace), workspace, workspace.today())
    out = office.convert(strip_cached_values(workspace.master, tmp_path / "nocache.xlsx"), "xlsx", tmp_path / "lo",
                         recalc=True)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    units = {r[1]: r for r in rows if r and isinstance(r[1], str) and r[1] in s.by_unit}
    assert [int(v) for v in units["办公室"][3:9]] == s.by_unit["办公室"].row() == [3, 3, 0, 0, 0, 0]
    total = next(r for r in rows if r and r[0] == "整改措施合计")
    assert [int(v) for v in total[1:7]] == s.measures.row()


def test_check_shows_standing_office_decisions(workspace):
    from toolkit.check import check
    office_sets(workspace, "ZG-001", vocab.DONE)
    master_file.write_master(read_ledger(workspace.master, workspace), workspace)
    text = "\n".join(check(workspace.master, workspace).lines())
    assert "办公室认定：措施“ZG-001”完成情况为“已完成”" in text and "责任单位填报汇总为“正在推进”" in text
