"""催报 before the deadline, on real workspaces: only inside the window, only to units that have not reported."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import docx
import pytest
from click.testing import CliRunner

from tests.conftest import hand_in, settings_for, small_ledger
from toolkit import config, demo, vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.documents import reminders
from toolkit.errors import BusyError, ToolkitError
from toolkit.io import master_file
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.deadlines import late_rows

# submit_by 2024-08-25 is a Sunday: three working days before it is Wednesday 2024-08-21.


def workspace_on(tmp_path, day: str, **extra) -> config.Settings:
    """The conftest workspace at reference date day; ZG-002 (due 9月3日) counts as due soon from 8月20日."""
    settings = settings_for(tmp_path, **{"reference_date": day, "remind_working_days": 10, **extra})
    master_file.write_master(small_ledger(), settings)
    settings.path("inbox").mkdir(parents=True)
    return settings


def folder(settings) -> object:
    return settings.path("output") / "2024-08" / "催报"


def test_units_that_have_not_reported_get_a_reminder_of_their_late_and_due_measures(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-22")
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}}, when=dt.datetime(2024, 8, 21, 9, 0))
    report = Workspace(settings).run_once()
    assert report.consolidation.submitted_units == ["办公室"]
    assert sorted(p.name for p in folder(settings).iterdir()) == ["医政处.docx", "医政处.md", "市人民医院.docx",
                                                                   "市人民医院.md"]   # 办公室 reported: none
    assert sorted(p.name for p in report.reminders) == sorted(p.name for p in folder(settings).iterdir())
    line = "催报：已为2个尚未报送的单位生成催报（截止日期2024年8月25日）。"
    assert line in report.lines() and line in report.report_path.read_text(encoding="utf-8")

    hospital = (folder(settings) / "市人民医院.md").read_text(encoding="utf-8")
    assert hospital.startswith("# 整改进展报送提醒\n\n市人民医院：\n")
    assert "报送截止日期为2024年8月25日，距截止还有1个工作日。截至2024年8月22日，尚未收到你单位本期报送" in hospital
    overdue, soon = hospital.index("## 一、已逾期的措施"), hospital.index("## 二、即将到期的措施")
    assert overdue < hospital.index("ZG-004 措施4：制定工作方案（完成时限：立行立改；已逾期174天；"
                                    "本单位为牵头单位，当前未启动；责任领导：李××）") < soon
    assert soon < hospital.index("ZG-002 措施2：制定工作方案（完成时限：2024年9月3日；还有12天到期；本单位为配合单位")
    office = (folder(settings) / "医政处.md").read_text(encoding="utf-8")
    assert "已逾期的措施" not in office and "## 一、即将到期的措施" in office and "本单位为牵头单位" in office
    assert "ZG-003" not in office                                # 长期坚持: never due soon
    text = "\n".join(p.text for p in docx.Document(folder(settings) / "市人民医院.docx").paragraphs)
    assert "整改进展报送提醒" in text and "已逾期174天" in text and "2024年8月22日" in text and "二〇" not in text


def test_a_unit_without_late_measures_is_reminded_all_the_same(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-22", remind_working_days=5)   # ZG-002 not yet due soon
    Workspace(settings).run_once()
    text = (folder(settings) / "医政处.md").read_text(encoding="utf-8")
    assert "目前没有逾期或即将到期的" in text and "ZG-002" not in text
    assert "ZG-001" in (folder(settings) / "办公室.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("day, inside", [("2024-08-20", False), ("2024-08-21", True), ("2024-08-25", True),
                                         ("2024-08-26", False), ("2024-08-30", False)])
def test_reminders_are_written_only_inside_the_window(tmp_path, day, inside):
    settings = workspace_on(tmp_path, day)
    report = Workspace(settings).run_once()
    said = [line for line in report.lines() if "催报" in line]
    if inside:
        assert len(report.reminders) == 6 and said == ["催报：已为3个尚未报送的单位生成催报（截止日期2024年8月25日）。"]
    else:
        assert not folder(settings).exists() and not report.reminders and not said
        assert "催报" not in report.report_path.read_text(encoding="utf-8")


def test_on_the_deadline_the_reminder_says_it_is_today(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-25")
    Workspace(settings).run_once()
    assert "报送截止日期为2024年8月25日，今天即为截止日。" in (folder(settings) / "办公室.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("extra, expected", [({}, dt.date(2024, 9, 27)),
                                             ({"remind_submit_days": 1}, dt.date(2024, 9, 30)),
                                             ({"remind_submit_days": 0}, None), ({"submit_by": ""}, None)])
def test_the_window_counts_chinese_working_days(tmp_path, extra, expected):
    # 2024: 10月1日–7日 holiday, 9月29日 (a Sunday) a make-up workday; plain weekdays would give 10月3日.
    settings = settings_for(tmp_path, **{"submit_by": "2024-10-08", **extra})
    assert reminders.window_start(settings) == expected


def test_a_unit_that_reports_later_loses_its_reminder_and_a_rerun_rewrites_nothing(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-22")
    Workspace(settings).run_once()
    assert len(list(folder(settings).iterdir())) == 6
    hand_in(settings, "医政处", {"ZG-002": {vocab.STATUS: vocab.DONE}}, when=dt.datetime(2024, 8, 22, 9, 0))
    report = Workspace(settings).run_once()
    assert "催报：已为2个尚未报送的单位生成催报（截止日期2024年8月25日）。" in report.lines()
    assert sorted(p.name for p in folder(settings).iterdir()) == ["办公室.docx", "办公室.md", "市人民医院.docx",
                                                                   "市人民医院.md"]
    hospital = (folder(settings) / "市人民医院.md").read_text(encoding="utf-8")
    assert "ZG-002" in hospital and "本单位为配合单位，当前正在推进" in hospital   # its own share is still open
    before = {p: p.stat().st_mtime_ns for p in folder(settings).iterdir()}
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.IN_PROGRESS}}, when=dt.datetime(2024, 8, 22, 10, 0))
    report = Workspace(settings).run_once()
    assert not (folder(settings) / "办公室.md").exists()
    assert (folder(settings) / "市人民医院.docx").stat().st_mtime_ns == before[folder(settings) / "市人民医院.docx"]
    quick = Workspace(settings).run_once()                       # nothing changed: the quick rerun says the same
    assert quick.quick and "催报：已为1个尚未报送的单位生成催报（截止日期2024年8月25日）。" in quick.lines()


def test_when_every_unit_has_reported_no_reminder_remains_and_the_report_says_so(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-22")
    Workspace(settings).run_once()
    for unit, mid in (("办公室", "ZG-001"), ("医政处", "ZG-002"), ("市人民医院", "ZG-004")):
        hand_in(settings, unit, {mid: {vocab.STATUS: vocab.IN_PROGRESS}}, when=dt.datetime(2024, 8, 22, 9, 0))
    report = Workspace(settings).run_once()
    assert not report.reminders and not list(folder(settings).iterdir())
    assert "催报：各单位本期均已报送，无需催报（截止日期2024年8月25日）。" in report.lines()


def test_a_reminder_open_in_word_is_never_overwritten(tmp_path, monkeypatch):
    settings = workspace_on(tmp_path, "2024-08-22")
    Workspace(settings).run_once()
    target = folder(settings) / "医政处.docx"             # would be removed once 医政处 has reported
    (folder(settings) / "~$医政处.docx").write_bytes(b"owner")
    before = target.read_bytes()
    hand_in(settings, "医政处", {"ZG-002": {vocab.STATUS: vocab.DONE}})
    monkeypatch.setattr("toolkit.guards.time.sleep", lambda s: None)
    for operation in (lambda w: w.run_once(), lambda w: w.remind()):
        with pytest.raises(BusyError, match="医政处.docx 正被打开"):
            operation(Workspace(settings))
    assert target.read_bytes() == before and (settings.path("inbox") / "医政处.xlsx").exists()


def test_the_remind_command_writes_reminders_and_refuses_an_unconsolidated_inbox(tmp_path):
    settings = workspace_on(tmp_path, "2024-08-30")
    config.write_default(tmp_path, period="2024-08", reference_date="2024-08-30", submit_by="2024-08-25")
    assert config.load(tmp_path).remind_submit_days == 3
    run = CliRunner().invoke(cli, ["remind", "-c", str(tmp_path)])
    assert run.exit_code == 0 and "不在催报时段（2024年8月21日至2024年8月25日）内，未生成催报" in run.output
    run = CliRunner().invoke(cli, ["remind", "-c", str(tmp_path), "--date", "2024-08-23"])
    assert run.exit_code == 0, run.output
    assert "催报：已为3个尚未报送的单位生成催报（截止日期2024年8月25日）。" in run.output
    assert "距截止还有0个工作日" not in (folder(settings) / "办公室.md").read_text(encoding="utf-8")
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    run = CliRunner().invoke(cli, ["remind", "-c", str(tmp_path), "--date", "2024-08-23"])
    assert run.exit_code == 1 and "收件箱中还有1个文件尚未汇总" in run.output and "Traceback" not in run.output
    Workspace(config.load(tmp_path)).consolidate()
    assert Workspace(config.load(tmp_path)).remind(dt.date(2024, 8, 23)).units == ["医政处", "市人民医院"]
    assert not (folder(settings) / "办公室.md").exists()


def test_a_negative_remind_submit_days_is_a_config_error(tmp_path):
    with pytest.raises(ToolkitError, match="remind_submit_days"):
        config.from_dict({"remind_submit_days": -1}, tmp_path)


def test_the_demo_three_days_before_the_deadline_reminds_exactly_the_units_that_have_not_reported(tmp_path):
    settings = demo.stage_demo(tmp_path / "demo")
    settings = replace(settings, reference_date=dt.date(2024, 8, 22))
    report = Workspace(settings).run_once()
    missing = report.consolidation.missing_units
    assert missing and report.consolidation.submitted_units                     # the demo has both kinds
    assert sorted(p.stem for p in folder(settings).glob("*.md")) == sorted(missing)
    assert f"催报：已为{len(missing)}个尚未报送的单位生成催报（截止日期2024年8月25日）。" in report.lines()
    ledger = read_ledger(settings.master)
    for unit in missing:
        text = (folder(settings) / f"{unit}.md").read_text(encoding="utf-8")
        own = [r.measure.id for r in late_rows(ledger, settings, settings.today()) if unit in r.measure.owners
               and ledger.owners[(r.measure.id, unit)].status != vocab.DONE]
        assert sorted(re.findall(r"^\d+\. (ZG-\d+) ", text, re.MULTILINE)) == sorted(own)
