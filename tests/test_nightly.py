import datetime as dt
import hashlib
import os
import signal
from dataclasses import replace

import pytest
from click.testing import CliRunner

from tests.conftest import hand_in
from toolkit import vocab
from toolkit.app import Workspace, run_once
from toolkit.cli import cli
from toolkit.errors import BusyError
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import Scheduler, setup_logging


def digest_tree(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "运行报告" not in p.parts and "logs" not in p.parts}


def test_two_runs_in_a_row_give_identical_outputs(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    first = run_once(workspace)
    assert first.consolidation.count(vocab.OUTCOME_ACCEPTED) == 1
    before = digest_tree(workspace.root)
    second = run_once(workspace)
    assert second.quick and not second.consolidation.files and not second.consolidation.master_changed
    assert second.figures == first.figures
    assert digest_tree(workspace.root) == before
    assert second.report_path.exists()
    for path in [workspace.master] + first.notices:     # a quick rerun touched none of them
        assert path.exists()
    first.notices[0].unlink()                          # a missing output makes the next run complete again
    third = run_once(workspace)
    assert not third.quick and first.notices[0].exists()


def test_a_run_with_one_more_file_changes_only_that_unit(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    run_once(workspace)
    before = read_ledger(workspace.master)
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: "正在推进", vocab.PROGRESS: "已启动"}})
    run_once(workspace)
    after = read_ledger(workspace.master)
    changed = {key for key in before.owners if before.owners[key].values() != after.owners[key].values()}
    assert {unit for _, unit in changed} == {"市人民医院"}
    assert after.owners[("ZG-004", "市人民医院")].status == vocab.IN_PROGRESS
    assert [m.values() for k, m in before.measures.items() if k != "ZG-004"] == \
           [m.values() for k, m in after.measures.items() if k != "ZG-004"]


def test_a_second_run_while_one_holds_the_lock_stops_with_the_lock_message(workspace):
    workspace = replace(workspace, lock_wait_seconds=0.3)
    with Workspace(workspace).lock:
        with pytest.raises(BusyError, match="另一个操作"):
            run_once(workspace)
        (workspace.root / "config.toml").write_text('period = "2024-08"\n[limits]\nlock_wait_seconds = 0.2\n', encoding="utf-8")
        result = CliRunner().invoke(cli, ["nightly", "-c", str(workspace.root)])
        assert result.exit_code == 1 and "另一个操作" in result.output


def test_master_open_in_excel_is_waited_for_then_skipped_without_writing(workspace, monkeypatch):
    owner = workspace.master.with_name("~$" + workspace.master.name)
    owner.write_bytes(b"owner")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = workspace.master.read_bytes()
    monkeypatch.setattr("toolkit.guards.time.sleep", lambda s: None)
    workspace = replace(workspace, lock_wait_seconds=10)
    with pytest.raises(BusyError, match="正被打开"):
        run_once(workspace)
    assert workspace.master.read_bytes() == before
    assert list(workspace.path("inbox").iterdir())          # nothing taken from the inbox


def test_a_crash_mid_merge_leaves_the_master_byte_identical(workspace, monkeypatch):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = workspace.master.read_bytes()
    calls = []

    def crash(ledger, sub, *_):
        calls.append(sub.name)
        ledger.measures["ZG-001"].status = "已完成"   # half-applied in memory…
        raise RuntimeError("simulated crash")          # …then the process dies
    monkeypatch.setattr("toolkit.merging.merge", crash)
    with pytest.raises(RuntimeError):
        run_once(workspace)
    assert calls and workspace.master.read_bytes() == before
    with Workspace(workspace).lock:     # released: another run can take it at once
        pass


class FakeClock:
    """Stands in for schedule's view of the time."""
    def __init__(self, now):
        self.now_value = now

    def install(self, monkeypatch):
        import schedule
        clock = self

        class FakeDateTime(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now_value
        monkeypatch.setattr(schedule.datetime, "datetime", FakeDateTime)


def test_the_scheduler_runs_the_job_at_the_configured_time_and_survives_failures(workspace, monkeypatch):
    clock = FakeClock(dt.datetime(2024, 8, 30, 1, 0))
    clock.install(monkeypatch)
    ran = []

    def job(settings):
        ran.append(clock.now_value)
        raise RuntimeError("first run fails")
    loop = Scheduler(workspace, job)
    loop.tick()
    assert ran == []
    clock.now_value = dt.datetime(2024, 8, 30, 2, 0, 1)
    loop.tick()
    assert ran == [dt.datetime(2024, 8, 30, 2, 0, 1)] and loop.failures == 1
    clock.now_value = dt.datetime(2024, 8, 31, 2, 0, 1)
    loop.tick()
    assert len(ran) == 2


def test_every_n_minutes_mode_and_sigterm_stops_between_runs(workspace, monkeypatch):
    clock = FakeClock(dt.datetime(2024, 8, 30, 9, 0))
    clock.install(monkeypatch)
    workspace = replace(workspace, schedule_every_minutes=10)
    ran = []
    loop = Scheduler(workspace, lambda s: ran.append(clock.now_value))

    def sleep(_):
        clock.now_value += dt.timedelta(minutes=5)
        if len(ran) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
    before = signal.getsignal(signal.SIGTERM)
    loop.serve(sleep=sleep, max_ticks=100)
    assert len(ran) == 2 and loop.stopping
    # the handlers in place before serve() are back (a bound method is a new object each time: compare with ==)
    assert signal.getsignal(signal.SIGTERM) == before and signal.getsignal(signal.SIGTERM) != loop.stop


def test_runs_are_logged_to_a_rotating_file(workspace):
    setup_logging(workspace, console=False)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    run_once(workspace)
    text = (workspace.path("logs") / "toolkit.log").read_text(encoding="utf-8")
    assert "已采纳：办公室.xlsx" in text and "总体完成率" in text


def test_bad_config_is_a_clear_error_at_start_up(tmp_path):
    (tmp_path / "config.toml").write_text('reference_date = "下周"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["nightly", "-c", str(tmp_path)])
    assert result.exit_code == 1 and "reference_date" in result.output and "Traceback" not in result.output


def test_init_writes_a_commented_config_and_the_folders_without_overwriting(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "台账")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "台账" / "config.toml").read_text(encoding="utf-8").startswith("# 整改台账工具配置")
    assert all((tmp_path / "台账" / name).is_dir() for name in ("master", "inbox", "outbox", "archive", "output"))
    again = CliRunner().invoke(cli, ["init", str(tmp_path / "台账")])
    assert again.exit_code == 1 and "已存在" in again.output
