"""The escalation ladder over a real workspace, month by month: one measure of 市人民医院 goes on time →
due soon (提醒函) → overdue (督办单) → supervised without progress (告诫书) → progress (steps down) →
closed. Units return the distributed workbooks; the office issues from the CLI; the history table is
compared with an account the test keeps itself."""
import csv
import datetime as dt

import pytest
from click.testing import CliRunner
from docx import Document

from tests.conftest import fill, small_ledger
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.distribute import distribute
from toolkit.io import history_db, master_file

OFFICE = "市卫健委巡视整改办"
CONFIG = """title = "测试整改台账"
organisation = "中共某市卫生健康委员会委员会"
period = "{period}"
reference_date = "{day}"
programme_start = "2024-03-01"
notice_pdf = false
[limits]
settle_seconds = 0
[documents]
office = "{office}"
[ladder]
warn_after = 40
account_after = 60
"""
DUE = dt.date(2024, 7, 15)          # ZG-004's deadline (a Monday)


def month(root, period, day):
    """Move the workspace to a period and reference date (as an office edits config.toml each month)."""
    (root / "config.toml").write_text(CONFIG.format(period=period, day=day, office=OFFICE), encoding="utf-8")
    return Workspace.open(root)


def hand_back(ws, status, progress, when):
    """市人民医院 fills the workbook distributed to it this period and drops it into the inbox."""
    s = ws.settings
    out = {d.unit: d.path for d in distribute(s, ["市人民医院"])}
    fill(out["市人民医院"], {"ZG-004": {vocab.STATUS: status, vocab.PROGRESS: progress}},
         s.path("inbox") / "市人民医院.xlsx", when)


def proposed(ws):
    """The run's proposal list (拟发清单.csv) as (单位, 编号, 拟发, 理由)."""
    path = ws.settings.path("output") / ws.settings.current_period() / vocab.PROPOSED / "拟发清单.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:4] == ["单位", "编号", "拟发", "理由"]
    return [tuple(r[:4]) for r in rows[1:]]


def issue(root, *args):
    result = CliRunner().invoke(cli, ["issue", "-c", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def recorded(ws):
    with history_db.open_history(ws.settings) as db:
        return [(i.measure, i.unit, i.rung, i.number, i.day, i.issuer, i.period) for i in db.issued()]


def docx_text(path):
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.fixture
def root(tmp_path):
    ledger = small_ledger()
    for mid in ("ZG-001", "ZG-002"):                 # only ZG-004 falls due in the story
        ledger.measures[mid].deadline = dt.date(2025, 6, 30)
    ledger.measures["ZG-004"].deadline = DUE
    ws = month(tmp_path, "2024-06", "2024-06-28")
    master_file.write_master(ledger, ws.settings)
    ws.settings.path("inbox").mkdir(parents=True)
    return tmp_path


def test_four_months_of_the_ladder_propose_issue_and_record_the_right_notices(root):
    account = []                                     # what the office issued, kept by hand

    # June: on time — nothing proposed, nothing to issue
    ws = month(root, "2024-06", "2024-06-28")
    hand_back(ws, "正在推进", "已成立工作专班", dt.datetime(2024, 6, 20, 9))
    report = ws.run_once()
    assert proposed(ws) == [] and "督办梯次：本期无拟发文书。" in report.lines()
    assert "没有符合条件的拟发文书" in issue(root, "--all")

    # July, 5 working days before the deadline: due soon → 提醒函
    ws = month(root, "2024-07", "2024-07-10")
    report = ws.run_once()
    assert proposed(ws) == [("市人民医院", "ZG-004", "提醒函", "临期")]
    assert any(line.startswith("督办梯次：拟发提醒函1份") for line in report.lines())
    out = issue(root, "--all")
    assert "提醒函 提醒〔2024〕1号 → 市人民医院" in out
    account.append(("ZG-004", "市人民医院", "提醒函", "提醒〔2024〕1号", dt.date(2024, 7, 10), OFFICE, "2024-07"))
    assert recorded(ws) == account
    assert proposed(ws) == []                        # issued: off the list; never the same rung twice
    assert "没有符合条件的拟发文书" in issue(root, "--all") and recorded(ws) == account
    letter = root / "output/2024-07/发文/提醒函/001-市人民医院.docx"
    assert "提醒〔2024〕1号" in docx_text(letter) and "ZG-004" in docx_text(letter)

    # August: overdue 15 working days (under warn_after 40) → 督办单; the unit reports, unchanged
    ws = month(root, "2024-08", "2024-08-05")
    hand_back(ws, "正在推进", "已成立工作专班", dt.datetime(2024, 8, 2, 9))
    ws.run_once()
    assert proposed(ws) == [("市人民医院", "ZG-004", "督办单", "逾期")]
    assert "督办单 督办〔2024〕1号 → 市人民医院" in issue(root, "--rung", "督办单")
    account.append(("ZG-004", "市人民医院", "督办单", "督办〔2024〕1号", dt.date(2024, 8, 5), OFFICE, "2024-08"))
    assert recorded(ws) == account
    slip = docx_text(root / "output/2024-08/发文/督办单/001-市人民医院.docx")
    assert "督办编号：督办〔2024〕1号" in slip and "15天" in slip          # 15 working days late
    assert "本期已发出督办单1份。" in _notice(ws)

    # September: still under warn_after, but no progress since the 督办 → 告诫书 (a second 督办 would be one)
    ws = month(root, "2024-09", "2024-09-02")
    hand_back(ws, "正在推进", "已成立工作专班", dt.datetime(2024, 8, 30, 9))
    ws.run_once()
    assert proposed(ws) == [("市人民医院", "ZG-004", "告诫书", "上次发文后无进展")]
    assert "告诫书 告诫〔2024〕1号 → 市人民医院" in issue(root, "--unit", "市人民医院")
    account.append(("ZG-004", "市人民医院", "告诫书", "告诫〔2024〕1号", dt.date(2024, 9, 2), OFFICE, "2024-09"))
    assert recorded(ws) == account
    assert proposed(ws) == []                        # nothing lower is proposed after a 告诫 without progress
    warning = docx_text(root / "output/2024-09/发文/告诫书/001-市人民医院.docx")
    assert "告诫〔2024〕1号" in warning and "督办单（督办〔2024〕1号，2024年8月5日）" in warning
    assert "本期已发出告诫书1份" in _notice(ws)

    # October: real progress (基本完成) after the 告诫 → one rung down, the office issues nothing
    ws = month(root, "2024-10", "2024-10-08")
    hand_back(ws, "基本完成", "制度已印发，待验收", dt.datetime(2024, 9, 27, 9))
    ws.run_once()
    assert proposed(ws) == [("市人民医院", "ZG-004", "督办单", "上次发文后有实质进展，降一级")]
    board = (root / "output/2024-10/看板.html").read_text(encoding="utf-8")
    assert 'data-k="梯次.市人民医院">告诫书<' in board and "告诫〔2024〕1号" in board

    # November: closed — nothing proposed; the history holds exactly what the office issued
    ws = month(root, "2024-11", "2024-11-05")
    hand_back(ws, "已完成", "已通过验收", dt.datetime(2024, 11, 1, 9))
    ws.run_once()
    assert proposed(ws) == [] and recorded(ws) == account
    story = CliRunner().invoke(cli, ["history", "ZG-004", "-c", str(root)])
    assert story.exit_code == 0, story.output
    lines = story.output.splitlines()
    at = lines.index("已发督办梯次文书3份：")
    assert [line.split("；")[0] for line in lines[at + 1:]] == [
        "2024年7月10日（2024-07期） 【市人民医院】提醒函 提醒〔2024〕1号",
        "2024年8月5日（2024-08期） 【市人民医院】督办单 督办〔2024〕1号",
        "2024年9月2日（2024-09期） 【市人民医院】告诫书 告诫〔2024〕1号"]


def _notice(ws):
    written = ws.notices(["通报"])
    return next(p for p in written if p.name == "进展通报.md").read_text(encoding="utf-8")
