"""A workspace owns its folders (issue 22.2) and its messages send people the right way (22.6), on real
workspaces made by Workspace.init, real files and, for the dashboard, headless Chromium."""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser import CHROMIUM, visit
from tests.conftest import hand_in, settings_for, small_ledger
from toolkit import config, guards, vocab
from toolkit.app import Workspace
from toolkit.assessment import assess
from toolkit.consolidate import consolidate
from toolkit.documents import dashboard
from toolkit.errors import BusyError, ConfigError, UsageError
from toolkit.io import master_file
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import setup_logging

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="未安装 Chromium，跳过浏览器测试")


def set_paths(root: Path, **paths: str) -> Path:
    """Rewrite [paths] entries of a workspace's config.toml (literal TOML strings, any path)."""
    cfg = root / config.CONFIG_NAME
    text = cfg.read_text(encoding="utf-8")
    for key, value in paths.items():
        start = text.index(f"\n{key} = ", text.index("[paths]"))
        end = text.index("\n", start + 1)
        text = text[:start] + f"\n{key} = '{value}'" + text[end:]
    cfg.write_text(text, encoding="utf-8")
    return cfg


def config_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / config.CONFIG_NAME).write_text(text, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- refused at load

@pytest.mark.parametrize("inbox, names", [
    (".", "工作文件夹"),                     # would archive config.toml and history.sqlite as 未识别, then delete them
    ("..", "工作文件夹"),
    ("master", "paths.master"),
    ("output/..", "工作文件夹"),
])
def test_an_inbox_holding_the_workspace_itself_is_refused_at_load_naming_the_key_and_the_fix(tmp_path, inbox, names):
    config_with(tmp_path, f'[paths]\ninbox = "{inbox}"\n')
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    message = str(caught.value)
    assert f'[paths] inbox = "{inbox}"' in message and names in message and 'inbox = "inbox"' in message


def test_an_inbox_that_is_a_link_to_the_workspace_folder_is_refused(tmp_path):
    (tmp_path / "收件").symlink_to(tmp_path, target_is_directory=True)
    config_with(tmp_path, '[paths]\ninbox = "收件"\n')
    with pytest.raises(ConfigError, match="工作文件夹"):
        config.load(tmp_path)


def test_an_inbox_containing_the_archive_or_the_backup_is_refused(tmp_path):
    config_with(tmp_path, '[paths]\ninbox = "收件"\narchive = "收件/归档"\n')
    with pytest.raises(ConfigError, match="paths.archive"):
        config.load(tmp_path)
    config_with(tmp_path, '[paths]\ninbox = "收件"\nbackup = "收件/备份"\n')
    with pytest.raises(ConfigError, match="paths.backup"):
        config.load(tmp_path)


@pytest.mark.parametrize("period", ["../../外面", "2024-08/../../x", "..", ".hidden", "a\\\\b", "C:x"])
def test_a_period_that_would_name_a_folder_outside_the_workspace_is_refused(tmp_path, period):
    config_with(tmp_path, f'period = "{period}"\n')
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    assert "period" in str(caught.value) and "2024-08" in str(caught.value)


def test_ordinary_periods_and_separate_folders_still_load(tmp_path):
    config_with(tmp_path, 'period = "2024年8月"\n[paths]\ninbox = "收件箱"\narchive = "归档/巡视"\n')
    assert config.load(tmp_path).current_period() == "2024-08"


def test_a_ledger_opened_from_inside_the_inbox_is_refused(tmp_path):
    ws = Workspace.init(tmp_path)
    moved = ws.settings.path("inbox") / "整改台账.xlsx"
    shutil.copy(ws.settings.master, moved)
    with pytest.raises(ConfigError, match="paths.master"):
        Workspace.for_master(moved)


# ---------------------------------------------------------------- two workspaces, one folder

def test_a_second_workspace_pointed_at_the_first_ones_inbox_is_refused_and_deletes_nothing(tmp_path):
    first = Workspace.init(tmp_path / "甲办")
    Workspace.init(tmp_path / "乙办")
    inbox = first.settings.path("inbox")
    sent = inbox / "市人民医院.xlsx"
    sent.write_bytes(b"a unit's file for the first office")
    os.utime(sent, (1e9, 1e9))
    set_paths(tmp_path / "乙办", inbox=str(inbox))
    with pytest.raises(ConfigError) as caught:
        Workspace.open(tmp_path / "乙办").consolidate()
    message = str(caught.value)
    assert str((tmp_path / "甲办" / config.CONFIG_NAME).resolve()) in message and "[paths] inbox" in message
    assert sent.read_bytes() == b"a unit's file for the first office"
    assert not list((tmp_path / "乙办" / "archive").rglob("*.xlsx"))
    Workspace.open(tmp_path / "甲办").consolidate()          # its owner still runs


def test_a_second_workspace_pointed_at_the_first_ones_master_is_refused(tmp_path):
    first = Workspace.init(tmp_path / "甲办")
    Workspace.init(tmp_path / "乙办")
    set_paths(tmp_path / "乙办", master=str(first.settings.master))
    before = first.settings.master.read_bytes()
    with pytest.raises(ConfigError) as caught:
        Workspace.open(tmp_path / "乙办").refresh_master()
    assert str((tmp_path / "甲办" / config.CONFIG_NAME).resolve()) in str(caught.value) and "台账" in str(caught.value)
    assert first.settings.master.read_bytes() == before


def test_a_copied_or_moved_workspace_takes_over_its_own_folders(tmp_path):
    Workspace.init(tmp_path / "甲办")
    shutil.copytree(tmp_path / "甲办", tmp_path / "甲办副本")      # the copy's markers name the original
    copy = Workspace.open(tmp_path / "甲办副本")
    copy.consolidate()
    mine = str((tmp_path / "甲办副本" / config.CONFIG_NAME).resolve())
    assert all(mine in guards.claim_marker(copy.settings, k).read_text(encoding="utf-8") for k in ("inbox", "archive", "master"))
    Workspace.open(tmp_path / "甲办").consolidate()           # the original is not disturbed either


def test_a_master_changed_by_someone_else_during_the_run_is_not_overwritten(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    theirs = small_ledger()
    theirs.measures["ZG-003"].measure = "另一个办公室刚写入的措施"

    def other_office_writes(i, n, name):
        master_file.write_master(theirs, workspace)
    with pytest.raises(BusyError, match="在本次读取之后被改动"):
        Workspace(workspace).consolidate(on_file=other_office_writes)
    assert read_ledger(workspace.master).measures["ZG-003"].measure == "另一个办公室刚写入的措施"
    assert (workspace.path("inbox") / "办公室.xlsx").exists()
    assert not list(workspace.path("output").rglob("*回执*"))
    result = Workspace(workspace).consolidate()                 # the next run takes the file in, over their change
    assert result.files[0].outcome == vocab.OUTCOME_ACCEPTED
    after = read_ledger(workspace.master)
    assert after.measures["ZG-001"].status == vocab.DONE and after.measures["ZG-003"].measure == "另一个办公室刚写入的措施"


# ---------------------------------------------------------------- messages that send people the right way

def test_an_archive_that_cannot_be_written_is_the_offices_problem_and_the_file_waits(workspace, monkeypatch):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    from toolkit import archive as module
    copy = module.copy_hashed

    def archive_denied(source, target):                   # root writes anywhere: deny as the OS would
        if Path(target).parent == workspace.path("archive") / "2024-08":
            raise PermissionError(13, "Permission denied", str(target))
        return copy(source, target)
    monkeypatch.setattr(module, "copy_hashed", archive_denied)
    result = consolidate(workspace)
    assert result.files == [] and sent.exists()
    (waiting,) = result.deferred
    assert "办公室一方的问题" in waiting.reason and "无需重新发送" in waiting.reason and "留在收件箱" in waiting.reason
    assert "无法读取" not in "\n".join(result.lines()) and not result.receipts


def test_a_file_in_place_of_the_periods_archive_folder_defers_the_files_with_the_offices_fix(workspace):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    workspace.path("archive").mkdir()
    (workspace.path("archive") / "2024-08").write_bytes(b"")
    result = Workspace(workspace).consolidate()
    assert result.files == [] and sent.exists() and not result.receipts
    assert "被一个同名文件占用" in result.deferred[0].reason and "办公室一方的问题" in result.deferred[0].reason


@pytest.fixture
def toolkit_logger():
    logger = logging.getLogger("toolkit")
    saved = logger.handlers[:], logger.propagate, logger.level
    yield logger
    for h in logger.handlers:
        h.close()
    logger.handlers[:], logger.propagate = saved[0], saved[1]
    logger.setLevel(saved[2])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to fill the disk")
def test_a_full_disk_under_the_log_costs_one_chinese_line_not_a_traceback(workspace, toolkit_logger, capsys):
    logs = workspace.path("logs")
    logs.mkdir()
    (logs / "toolkit.log").symlink_to("/dev/full")                 # every write: ENOSPC
    setup_logging(workspace, console=False)
    for i in range(3):
        toolkit_logger.info("第%s行", i)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.count("\n") == 1 and "磁盘空间不足" in err and "运行日志" in err


def test_a_rejected_file_that_cannot_be_removed_does_not_stop_reminders_and_is_named(workspace, monkeypatch):
    bad = workspace.path("inbox") / "乱码.xlsx"
    bad.write_bytes(b"not a workbook")
    os.utime(bad, (dt.datetime(2024, 8, 20).timestamp(),) * 2)
    unlink = Path.unlink

    def stuck(self, missing_ok=False):                             # a share that will not let go of it
        if self == bad:
            raise PermissionError(13, "Permission denied", str(self))
        return unlink(self, missing_ok=missing_ok)
    monkeypatch.setattr(Path, "unlink", stuck)
    result = Workspace(workspace).consolidate()
    monkeypatch.undo()
    assert result.files[0].outcome == vocab.OUTCOME_REJECTED and bad.exists()
    done = Workspace(workspace).remind(dt.date(2024, 8, 23))
    assert done.units == ["办公室", "医政处", "市人民医院"]
    assert any(str(bad) in line and "请手动删除" in line for line in done.lines())


def test_a_file_not_yet_consolidated_still_holds_reminders_back(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    with pytest.raises(UsageError) as held:
        Workspace(workspace).remind(dt.date(2024, 8, 23))
    assert held.value.kind == "inbox-not-consolidated" and held.value.params["count"] == 1


@needs_browser
@pytest.mark.parametrize("tail", ["%E0%A4%A", "unit=%", "%"])
def test_a_malformed_address_keeps_the_dashboards_filters_working(tmp_path, tail):
    settings = settings_for(tmp_path)
    ledger = small_ledger()
    page = tmp_path / "看板.html"
    page.write_text(dashboard.render(dashboard.build(ledger, settings, assess(ledger, settings))), encoding="utf-8")
    seen = visit(page.as_uri() + "#" + quote("单位=办公室") + "&" + tail, budget_ms=1000)
    assert seen.console == []
    assert "当前筛选 责任单位：办公室" in seen.dom
    alone = visit(page.as_uri() + "#" + tail, budget_ms=1000)
    assert alone.console == [] and 'id="f-note"></span>' in alone.dom
