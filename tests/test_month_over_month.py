"""Month-over-month figures come from history.sqlite: each period's statuses replayed from the change
rows, whatever the master's 历史进度 sheet says; no earlier period reads 无上期数据, never 0."""
import datetime as dt
from dataclasses import replace

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import hand_in
from tests.test_review_decide import CONFIG
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.io import history_db
from toolkit.io.ledger_file import read_ledger, read_master

# Four periods. 市人民医院's ZG-004 goes 未启动 → 正在推进 → 申请销号 → 已销号; others move too.
# Done at each period's end (6 measures; ZG-005 and ZG-006 were done from the start):
#   06: ZG-003 基本完成                     → 2 done
#   07: ZG-004 推进中; ZG-001 agreed        → 3 done
#   08: ZG-004 已完成 (a request); ZG-003 已完成 (a request) → 3 done
#   09: the office agrees ZG-004, returns ZG-003 → 4 done
DONE_AT = {"2024-06": 2, "2024-07": 3, "2024-08": 3, "2024-09": 4}


def percent(done):
    return round(100 * done / 6, 1)


def notice_text(s):
    written = Workspace(s).notices(["通报"])
    return next(p for p in written if p.name == "进展通报.md").read_text(encoding="utf-8")


def at(s, period, ws=None):
    """The settings moved on to period (its 28th the reference date), as the office edits config.toml;
    ws, when given, works with them from now on (Settings never change: a new value replaces them)."""
    s = replace(s, period=period, reference_date=dt.date.fromisoformat(f"{period}-28"))
    if ws is not None:
        ws.settings = s
    return s


@pytest.fixture
def four_periods(workspace):
    s = workspace
    (s.root / "config.toml").write_text(CONFIG, encoding="utf-8")
    s = replace(s, review_required=True)
    s = replace(s, notice_pdf=False)
    ws = Workspace(s)
    s = at(s, "2024-06", ws)
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "未启动", vocab.PROGRESS: "已成立专班"}},
            when=dt.datetime(2024, 6, 20, 10))
    hand_in(s, "医政处", {"ZG-003": {vocab.STATUS: "基本完成", vocab.PROGRESS: "制度已起草"}},
            when=dt.datetime(2024, 6, 21, 10))
    ws.consolidate()
    notices = {"2024-06": notice_text(s)}
    s = at(s, "2024-07", ws)
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "推进中", vocab.PROGRESS: "方案已印发"}},
            when=dt.datetime(2024, 7, 19, 9, 30))
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.EVIDENCE: "学习记录"}},
            when=dt.datetime(2024, 7, 20, 9))
    ws.consolidate()
    ws.decide([("ZG-001", "")], vocab.REVIEW_APPROVE)
    notices["2024-07"] = notice_text(s)
    s = at(s, "2024-08", ws)
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "某文〔2024〕9号"}},
            when=dt.datetime(2024, 8, 20, 16, 5))
    hand_in(s, "医政处", {"ZG-003": {vocab.STATUS: "已完成", vocab.EVIDENCE: "制度文件"}},
            when=dt.datetime(2024, 8, 21, 9))
    ws.consolidate()
    notices["2024-08"] = notice_text(s)
    s = at(s, "2024-09", ws)
    ws.decide([("ZG-004", "")], vocab.REVIEW_APPROVE)
    ws.decide([("ZG-003", "")], vocab.REVIEW_RETURN, "请补充印发文件")
    notices["2024-09"] = notice_text(s)
    return s, notices


def test_each_periods_notice_compares_with_the_period_before_as_the_history_replays_it(four_periods):
    s, notices = four_periods
    assert "整改措施完成率为33.3%" in notices["2024-06"] and "无上期数据" not in notices["2024-06"]
    for period, before in [("2024-07", "2024-06"), ("2024-08", "2024-07"), ("2024-09", "2024-08")]:
        now, prev = percent(DONE_AT[period]), percent(DONE_AT[before])
        change = round(now - prev, 1)
        expected = (f"完成率为{now:.1f}%，与上月持平" if change == 0 else
                    f"完成率为{now:.1f}%，较上月{'提高' if change > 0 else '下降'}{abs(change):.1f}个百分点")
        assert expected in notices[period], (period, expected)
    with history_db.open_history(s) as db:
        counts = dict(history_db.period_counts(db))
    assert {p: c[vocab.DONE] for p, c in counts.items()} == DONE_AT
    assert counts["2024-08"][vocab.IN_PROGRESS] == 2 and counts["2024-06"][vocab.MOSTLY_DONE] == 1


def test_the_figures_come_from_the_database_not_from_the_sheet(four_periods):
    s, _ = four_periods
    wb = openpyxl.load_workbook(s.master)
    ws = wb[vocab.SHEET_HISTORY]
    view = {r[0].value: r[10].value for r in ws.iter_rows(min_row=3) if r[2].value == "总体"}
    assert view == {"2024-06": 33.3, "2024-07": 50, "2024-08": 50, "2024-09": 66.7}   # written from the same figures
    for row in ws.iter_rows(min_row=3):
        if row[0].value == "2024-08":
            row[10].value = 99.0                    # a hand edit of the read-only view
    wb.save(s.master)
    assert "较上月提高16.7个百分点" in notice_text(s)
    sheet_only = read_ledger(s.master, s)             # reading is only reading: the file as it stands
    assert {r.period: r.completion for r in sheet_only.history if (r.scope, r.name) == ("总体", "整改措施")}["2024-08"] == 99
    ledger = read_master(s)                            # a run's explicit step: the figures from the history
    overall = {r.period: r.completion for r in ledger.history if (r.scope, r.name) == ("总体", "整改措施")}
    assert overall == {"2024-06": 33.3, "2024-07": 50.0, "2024-08": 50.0, "2024-09": 66.7}   # 09: this period, live
    hospital = [r for r in ledger.history if r.period == "2024-08" and r.name == "市人民医院"][0]
    assert hospital.done == 0                          # its ZG-004 was still only a request at the end of August
    Workspace(s).refresh_master()
    stats = openpyxl.load_workbook(s.master)[vocab.SHEET_STATS]
    row = next(r for r in range(1, stats.max_row + 1) if stats.cell(r, 1).value == "整改措施合计")
    assert stats.cell(row, 10).value == f"=ROUND(H{row}-0.5,3)"       # 50.0% in August, from the database


def test_the_history_command_tells_the_story_in_order_and_a_rebuild_gives_the_same_figures(four_periods):
    s, notices = four_periods
    result = CliRunner().invoke(cli, ["history", "ZG-004", "-c", str(s.root)])
    assert result.exit_code == 0, result.output
    story = [line for line in result.output.splitlines() if "完成情况" in line or "销号审核" in line]
    assert [line.split("；")[0].split(" ", 2)[-1] for line in story] == [
        "完成情况：未启动", "完成情况：未启动 → 正在推进", "【市人民医院】销号审核：（空） → 申请销号",
        "完成情况：正在推进 → 已完成", "【市人民医院】销号审核：申请销号 → 已销号"]
    assert "（2024-07期）" in story[1] and "（2024-08期）" in story[2] and "（2024-09期）" in story[4]
    before = read_ledger(s.master, s).history
    rebuilt = CliRunner().invoke(cli, ["history", "--rebuild", "-c", str(s.root)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert read_ledger(s.master, s).history == before
    assert notice_text(s) == notices["2024-09"]


def test_a_first_period_says_no_earlier_data_in_the_statistics(workspace):
    s = workspace
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "推进中"}})
    Workspace(s).consolidate()
    stats = openpyxl.load_workbook(s.master)[vocab.SHEET_STATS]
    row = next(r for r in range(1, stats.max_row + 1) if stats.cell(r, 1).value == "整改措施合计")
    assert stats.cell(row, 10).value == "无上期数据"
