"""Close-out review (销号审核): a unit's 已完成 waits for the office's decision in the master when
[review] required = true; with review off nothing changes."""
import datetime as dt
import os
import zipfile
from dataclasses import replace

import openpyxl
import pytest

from tests.conftest import hand_in, ledger_sheet
from toolkit import config, vocab
from toolkit.app import Workspace
from toolkit.assessment import assess
from toolkit.distribute import distribute
from toolkit.documents import notices
from toolkit.errors import ConfigError
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.stats import summarise

DONE_ZG4 = {"ZG-004": {vocab.STATUS: "已完成", vocab.PROGRESS: "已整改到位", vocab.EVIDENCE: "某文〔2024〕9号"}}


def status_of(settings, mid):
    wb, ws, cols, rows = ledger_sheet(settings.master)
    return ws.cell(rows[mid], cols[vocab.STATUS]).value


def review_rows(settings):
    ws = openpyxl.load_workbook(settings.master)[vocab.SHEET_REVIEW]
    assert [c.value for c in ws[2]] == vocab.REVIEW_COLUMNS
    return [[c.value for c in row][:-1] for row in ws.iter_rows(min_row=3) if row[0].value]   # 申请编号 aside


def decide(settings, conclusion, opinion=None):
    """The office's hand edit: choose the 审核结论 (and write an opinion) in 销号审核, save."""
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_REVIEW]
    ws.cell(3, vocab.REVIEW_COLUMNS.index(vocab.REVIEW_CONCLUSION) + 1).value = conclusion
    if opinion:
        ws.cell(3, vocab.REVIEW_COLUMNS.index(vocab.REVIEW_OPINION) + 1).value = opinion
    wb.save(settings.master)


def unit_template_notes(settings, unit):
    (d,) = distribute(settings, [unit])
    ws = openpyxl.load_workbook(d.path)[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    return {ws.cell(r, cols[vocab.ID]).value: (ws.cell(r, cols[vocab.STATUS]).value,
                                               ws.cell(r, cols[vocab.UNIT_REVIEW_COLUMN]).value)
            for r in range(3, ws.max_row + 1)}


def taken_in_just_now(decided: str) -> bool:
    """办理日期 is the moment the decision was taken in (to the second), not the 基准日期."""
    when = dt.datetime.strptime(decided, "%Y-%m-%d %H:%M:%S")
    return dt.timedelta(0) <= dt.datetime.now() - when < dt.timedelta(minutes=5)


def returned_at(settings, when: dt.datetime) -> None:
    """Set the 办理日期 of the (one) returned request: the return was taken in at `when`."""
    wb = openpyxl.load_workbook(settings.master)
    wb[vocab.SHEET_REVIEW].cell(3, vocab.REVIEW_COLUMNS.index(vocab.REVIEW_DECIDED_AT) + 1).value = \
        when.isoformat(sep=" ", timespec="seconds")
    wb.save(settings.master)


@pytest.fixture
def reviewed(workspace):
    workspace = replace(workspace, review_required=True)
    return workspace


def test_review_is_off_by_default_and_a_bad_value_is_named(tmp_path):
    assert config.load(config.write_default(tmp_path)).review_required is False
    assert config.from_dict({"review": {"required": True}}, tmp_path).review_required is True
    with pytest.raises(ConfigError, match="review.required"):
        config.from_dict({"review": {"required": "是"}}, tmp_path)


def test_with_review_off_a_done_report_closes_the_measure_at_once(workspace):
    hand_in(workspace, "市人民医院", DONE_ZG4)
    Workspace(workspace).consolidate()
    assert status_of(workspace, "ZG-004") == vocab.DONE
    assert vocab.SHEET_REVIEW not in openpyxl.load_workbook(workspace.master).sheetnames
    ledger = read_ledger(workspace.master, workspace)
    summary = summarise(ledger, workspace, workspace.today())
    assert (summary.measures.done, summary.review) == (3, None)
    assert "销号" not in notices.public_summary(ledger, workspace, assess(ledger, workspace))
    assert vocab.UNIT_REVIEW_COLUMN not in [c.value for c in openpyxl.load_workbook(
        distribute(workspace, ["市人民医院"])[0].path)[vocab.SHEET_LEDGER][2]]


def test_a_done_report_is_a_request_until_the_office_agrees(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS            # not counted as 已完成 yet
    assert review_rows(s) == [["ZG-004", "市人民医院", "2024-08-20", "某文〔2024〕9号", None, None,
                               vocab.REVIEW_PENDING, None]]
    ledger = read_ledger(s.master, s)
    summary = summarise(ledger, s, s.today())
    assert summary.measures.done == 2 and (summary.review.pending, summary.review.closed) == (1, 0)
    public = notices.public_summary(ledger, s, assess(ledger, s))
    assert "已完成2条" in public and "未完成的措施中有1条已申请销号、正在审核" in public
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "ZG-004（申请销号，待办公室审核）" in receipt
    status, note = unit_template_notes(s, "市人民医院")["ZG-004"]
    assert status == vocab.DONE and "申请销号，待办公室审核" in note    # the unit sees what it asked

    decide(s, vocab.REVIEW_APPROVE)
    Workspace(s).consolidate()                                      # the next run reads the decision back
    assert status_of(s, "ZG-004") == vocab.DONE
    (row,) = review_rows(s)
    assert row[4:7] == [vocab.REVIEW_APPROVE, None, vocab.CLOSED] and taken_in_just_now(row[7])
    ledger = read_ledger(s.master, s)
    summary = summarise(ledger, s, s.today())
    assert summary.measures.done == 3 and (summary.review.pending, summary.review.closed) == (0, 1)
    context = notices.programme_context(ledger, s, assess(ledger, s))
    assert context["销号"] == {"已销号": 1, "待审核": 0, "退回": 0}
    stats = openpyxl.load_workbook(s.master)[vocab.SHEET_STATS]
    heads = [r for r in range(1, stats.max_row + 1) if str(stats.cell(r, 1).value or "").startswith("六、销号审核")]
    assert heads and [stats.cell(heads[0] + 1, c).value for c in (1, 2, 3)] == ["待审核", "已销号", "退回"]
    assert stats.cell(heads[0] + 2, 2).value.startswith("=COUNTIF(")

    _, lines = Workspace(s).history("ZG-004")
    story = "\n".join(lines)
    assert vocab.SOURCE_REVIEW in story and vocab.CLOSED in story and vocab.APPLIED_CLOSE in story


def test_a_returned_request_shows_its_opinion_in_the_next_template_and_receipt(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    Workspace(s).consolidate()
    decide(s, vocab.REVIEW_RETURN, "请补充整改通知的盖章扫描件")
    # a file the unit sent before the return was taken in (its ZG-004 still 已完成) does not ask again
    hand_in(s, "市人民医院", {"ZG-002": {vocab.PROGRESS: "已开展第二轮培训"}},
            name="市人民医院-补报.xlsx", when=dt.datetime(2024, 8, 22, 9, 0))
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS
    (row,) = review_rows(s)
    assert row[4:7] == [vocab.REVIEW_RETURN, "请补充整改通知的盖章扫描件", vocab.REVIEW_RETURNED]
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "销号申请经办公室审核退回" in receipt and "措施“ZG-004”" in receipt and "盖章扫描件" in receipt
    status, note = unit_template_notes(s, "市人民医院")["ZG-004"]
    assert status == vocab.IN_PROGRESS and "退回补充" in note and "请补充整改通知的盖章扫描件" in note
    summary = summarise(read_ledger(s.master, s), s, s.today())
    assert summary.measures.done == 2 and summary.review.returned == 1

    returned_at(s, dt.datetime(2024, 8, 29, 17, 0))
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "某文〔2024〕9号及盖章扫描件"}},
            name="市人民医院-再报.xlsx", when=dt.datetime(2024, 8, 30, 9, 0))
    Workspace(s).consolidate()                       # asked again: pending, the last opinion kept for the office
    (row,) = review_rows(s)
    assert row[2:7] == ["2024-08-30", "某文〔2024〕9号及盖章扫描件", None, "请补充整改通知的盖章扫描件",
                        vocab.REVIEW_PENDING]
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS


@pytest.mark.parametrize("received, clocks_disagree", [(dt.datetime(2024, 8, 29, 17, 0, 30), False),
                                                        (dt.datetime(2024, 8, 29, 16, 59, 30), True)])
def test_a_reclaim_is_told_by_the_run_that_took_it_in_and_a_clock_disagreement_is_said(reviewed, received,
                                                                                      clocks_disagree):
    """The return was taken in by one run (its 办理日期 08-29 17:00); a file taken in by a later run asks again
    (待审核) whatever its time says; when its time lies before the return's, the run report says so."""
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    Workspace(s).consolidate()
    decide(s, vocab.REVIEW_RETURN, "请补充现场照片")
    Workspace(s).consolidate()
    returned_at(s, dt.datetime(2024, 8, 29, 17, 0))
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "现场照片"}},
            name="市人民医院-补充.xlsx", when=received)
    result = Workspace(s).consolidate()
    (row,) = review_rows(s)
    receipt = result.receipts[-1].read_text(encoding="utf-8")
    assert row[2] == "2024-08-29" and row[6] == vocab.REVIEW_PENDING
    assert "ZG-004（申请销号，待办公室审核）" in receipt and "再次填报" not in receipt
    said = [n for n in result.ledger.read_notes if "时钟可能不准" in n]
    assert len(said) == int(clocks_disagree)
    if clocks_disagree:
        assert "办理日期（2024-08-29 17:00:00）晚于此后汇总的文件的收件时间（2024-08-29 16:59:30）" in said[0]


def test_history_tells_a_measure_from_not_started_to_closed_across_three_periods(reviewed):
    s = reviewed
    for period, when, status in [("2024-06", dt.datetime(2024, 6, 20, 10), "未启动"),
                                 ("2024-07", dt.datetime(2024, 7, 19, 9), "推进中"),
                                 ("2024-08", dt.datetime(2024, 8, 20, 16), "已完成")]:
        s = replace(s, period=period)
        hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: status, vocab.PROGRESS: f"{period}进展"}}, when=when)
        Workspace(s).consolidate()
    decide(s, vocab.REVIEW_APPROVE)
    Workspace(s).consolidate()
    _, lines = Workspace(s).history("ZG-004")
    story = [line for line in lines if "完成情况" in line or "销号审核" in line]
    assert len(story) == 5
    assert story[1].startswith("2024-07-19 09:00:00（2024-07期）") and story[2].startswith("2024-08-20 16:00:00（2024-08期）")
    assert "完成情况：未启动；来源：初始导入" in story[0]
    assert "完成情况：未启动 → 正在推进" in story[1]
    assert "【市人民医院】销号审核：（空） → 申请销号" in story[2]
    assert "完成情况：正在推进 → 已完成；来源：销号审核" in story[3]
    assert "【市人民医院】销号审核：申请销号 → 已销号；来源：销号审核" in story[4]


def test_a_closed_measure_is_not_reopened_by_a_units_older_template(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    Workspace(s).consolidate()
    decide(s, vocab.REVIEW_APPROVE)
    Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.DONE
    # the unit fills a template it kept from before the decision: 正在推进, with new progress text
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "继续巩固"}},
            name="市人民医院-旧模板.xlsx", when=dt.datetime(2024, 8, 22, 9, 0))
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.DONE
    (row,) = review_rows(s)
    assert row[6] == vocab.CLOSED                                   # the audit row stays
    receipt = result.receipts[-1].read_text(encoding="utf-8")
    assert "措施ZG-004已经办公室审核销号" in receipt and "未采纳" in receipt
    assert summarise(read_ledger(s.master, s), s, s.today()).measures.done == 3


def test_turning_review_off_counts_the_pending_requests_as_the_units_reported_and_says_so(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    Workspace(s).consolidate()
    s = replace(s, review_required=False)
    refreshed = Workspace(s).refresh_master()
    assert any("台账中还有1条待审核的销号申请（“ZG-004”（市人民医院））" in line and "下次汇总时将按单位填报的“已完成”计入" in line
               for line in refreshed.lines())
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS            # refresh only says what comes
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.DONE
    assert summarise(read_ledger(s.master, s), s, s.today()).measures.done == 3
    assert any("措施“ZG-004”（市人民医院，2024-08-20申请）待审核的销号申请按单位填报的“已完成”计入" in n
               for n in result.ledger.read_notes)
    assert vocab.SHEET_REVIEW not in openpyxl.load_workbook(s.master).sheetnames    # nothing left on record
    with pytest.raises(ConfigError) as refused:
        Workspace(s).decide([("ZG-004", "")], vocab.REVIEW_APPROVE)
    assert "销号审核未启用" in str(refused.value) and "待审核" not in str(refused.value)


def test_hand_edits_in_the_review_sheet_that_are_not_applied_are_named_by_cell(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", {**DONE_ZG4, "ZG-002": {vocab.STATUS: "已完成", vocab.EVIDENCE: "方案"}})
    Workspace(s).consolidate()
    rows = {r[0]: i for i, r in enumerate(review_rows(s), 3)}
    wb = openpyxl.load_workbook(s.master)
    ws = wb[vocab.SHEET_REVIEW]
    ws.cell(rows["ZG-004"], 5).value = "退回"                 # no opinion
    ws.cell(rows["ZG-002"], 5).value = "通过"                 # not a word the toolkit knows
    wb.save(s.master)
    result = Workspace(s).consolidate()
    notes = "\n".join(result.ledger.read_notes)
    assert f"“销号审核”表E{rows['ZG-004']}单元格（第{rows['ZG-004']}行“审核结论”列）选择了“退回补充”，但“审核意见”为空" in notes
    assert f"“销号审核”表E{rows['ZG-002']}单元格（第{rows['ZG-002']}行“审核结论”列）的审核结论“通过”无法识别" in notes
    states = {r[0]: r[6] for r in review_rows(s)}
    assert states == {"ZG-004": vocab.REVIEW_PENDING, "ZG-002": vocab.REVIEW_PENDING}   # neither applied

    decide(s, vocab.REVIEW_APPROVE)                            # row 3 (ZG-004 or ZG-002) agreed …
    Workspace(s).consolidate()
    closed = next(r for r in review_rows(s) if r[6] == vocab.CLOSED)
    wb = openpyxl.load_workbook(s.master)
    ws = wb[vocab.SHEET_REVIEW]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == closed[0])
    ws.cell(row, 5).value = vocab.REVIEW_RETURN                # … then a change of mind typed on the closed row
    ws.cell(row, 6).value = "材料不全"
    wb.save(s.master)
    result = Workspace(s).consolidate()
    assert any(f"E{row}单元格（第{row}行“审核结论”列）改为“退回补充”未采纳" in n for n in result.ledger.read_notes)
    after = next(r for r in review_rows(s) if r[0] == closed[0])
    assert after[4] == vocab.REVIEW_APPROVE and after[6] == vocab.CLOSED


def test_the_review_sheet_names_the_evidence_files_stored_for_a_request(reviewed):
    """The unit sends its photos in a zip and leaves 佐证材料 blank: the office still sees them when deciding."""
    s = reviewed
    book = hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.PROGRESS: "已整改"}})
    pack = s.path("inbox") / "市人民医院报送.zip"
    with zipfile.ZipFile(pack, "w") as z:
        z.write(book, "市人民医院.xlsx")
        z.writestr("ZG-004/现场照片.jpg", b"\xff\xd8\xff photo")
    book.unlink()
    when = dt.datetime(2024, 8, 20, 10).timestamp()
    os.utime(pack, (when, when))
    Workspace(s).consolidate()
    assert review_rows(s)[0][3] == f"{vocab.REVIEW_FILES_MARK}现场照片.jpg"
    assert read_ledger(s.master, s).reviews[("ZG-004", "市人民医院")].evidence == ""    # read back: the unit's text
    Workspace(s).consolidate()
    assert review_rows(s)[0][3] == f"{vocab.REVIEW_FILES_MARK}现场照片.jpg"               # not repeated


def test_a_pending_row_deleted_by_hand_comes_back_with_a_note(reviewed):
    s = reviewed
    hand_in(s, "市人民医院", DONE_ZG4)
    Workspace(s).consolidate()
    wb = openpyxl.load_workbook(s.master)
    wb[vocab.SHEET_REVIEW].delete_rows(3)
    wb.save(s.master)
    result = Workspace(s).consolidate()
    assert any("“销号审核”表中措施“ZG-004”（市人民医院）待审核的一行被删除；删除不是审核结论，已恢复该行" in n
               for n in result.ledger.read_notes)
    assert review_rows(s) == [["ZG-004", "市人民医院", "2024-08-20", "某文〔2024〕9号", None, None,
                               vocab.REVIEW_PENDING, None]]
    status, note = unit_template_notes(s, "市人民医院")["ZG-004"]
    assert status == vocab.DONE and "待办公室审核" in note           # the unit still sees its request
    _, lines = Workspace(s).history("ZG-004")
    assert not any("申请销号 → （空）" in line for line in lines)      # no withdrawal recorded
