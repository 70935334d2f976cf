import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import hand_in, small_ledger
from toolkit import config, history, vocab
from toolkit.cli import cli
from toolkit.consolidate import consolidate
from toolkit.io import history_db, master_file
from toolkit.io.history_db import Change, HistoryDB
from toolkit.io.ledger_file import read_ledger
from toolkit.model import LogEntry

ROOT = Path(__file__).resolve().parents[1]

# ZG-004 (市人民医院, sole owner) goes 未启动 → 正在推进 → 已完成; in July the hospital also
# reports its part of the co-owned ZG-002 done, which leaves the measure 正在推进 (医政处 is not done).
PERIODS = [
    ("2024-06", dt.datetime(2024, 6, 20, 10, 0), {"ZG-004": {vocab.STATUS: "未启动", vocab.PROGRESS: "已成立工作专班"}}),
    ("2024-07", dt.datetime(2024, 7, 19, 9, 30), {"ZG-004": {vocab.STATUS: "推进中", vocab.PROGRESS: "方案已印发"},
                                                  "ZG-002": {vocab.STATUS: "已完成", vocab.PROGRESS: "已开展培训"}}),
    ("2024-08", dt.datetime(2024, 8, 20, 16, 5), {"ZG-004": {vocab.STATUS: "已完成", vocab.PROGRESS: "已整改到位",
                                                             vocab.EVIDENCE: "某文〔2024〕9号"}}),
]


def consolidate_recorded(settings, db):
    """What the application layer does: keep the ledger as read, record around the master write."""
    before = read_ledger(settings.master)

    def write(ledger, s, result):
        with history.recording(db, s, before, ledger):
            return master_file.write_master(ledger, s, result.assessment)
    return consolidate(settings, ledger=before.copy(), write=write)


def run_three_periods(settings, db):
    for period, when, rows in PERIODS:
        settings = replace(settings, period=period)
        hand_in(settings, "市人民医院", rows, when=when)
        consolidate_recorded(settings, db)


def key(changes):
    return [(c.measure, c.unit, c.field, c.old, c.new, c.source, c.time, c.period) for c in changes]


@pytest.fixture
def recorded(workspace):
    with history_db.open_history(workspace) as db:
        run_three_periods(workspace, db)
        yield workspace, db


def test_three_periods_of_real_workbooks_are_recorded_with_their_files(recorded):
    settings, db = recorded
    story = [c for c in db.changes("ZG-004") if c.field == vocab.STATUS]
    assert [(c.old, c.new, c.period) for c in story] == [
        ("", vocab.NOT_STARTED, ""), (vocab.NOT_STARTED, vocab.IN_PROGRESS, "2024-07"),
        (vocab.IN_PROGRESS, vocab.DONE, "2024-08")]
    log = read_ledger(settings.master).log
    july, august = [e for e in log if e.period in ("2024-07", "2024-08")]
    assert story[1].source == july.sha256 and story[1].time == "2024-07-19T09:30:00"
    assert story[2].source == august.sha256 and story[2].time == "2024-08-20T16:05:00"
    assert story[0].source == vocab.SOURCE_INITIAL
    # the co-owner's own entry changed; the measure, held back by 医政处, did not change status
    zg2 = [(c.unit, c.field, c.new) for c in db.changes("ZG-002") if c.period == "2024-07"]
    assert ("市人民医院", vocab.STATUS, vocab.DONE) in zg2
    assert ("", vocab.STATUS, vocab.DONE) not in zg2
    # nothing was mistaken for an office hand edit, and the database agrees with the master on disk
    assert not [c for c in db.changes() if c.source == vocab.SOURCE_OFFICE]
    assert db.state() == history_db.snapshot(read_ledger(settings.master))
    assert db.pending() == 0


def test_history_command_tells_a_measures_whole_story(recorded):
    settings, db = recorded
    config.write_default(settings.root, title="测试整改台账", period="2024-08", reference_date="2024-08-30",
                         submit_by="2024-08-25")
    result = CliRunner().invoke(cli, ["history", "ZG-004", "-c", str(settings.root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "措施ZG-004：措施4:制定工作方案（牵头单位：市人民医院）"
    assert "完成情况：未启动；来源：初始导入" in result.output
    assert any(line.startswith("2024-07-19 09:30:00（2024-07期） 完成情况：未启动 → 正在推进；来源：市人民医院报送“市人民医院.xlsx”")
               for line in lines)
    assert any(line.startswith("2024-08-20 16:05:00（2024-08期） 完成情况：正在推进 → 已完成") for line in lines)
    assert any("佐证材料：（空） → 某文〔2024〕9号" in line for line in lines)
    missing = CliRunner().invoke(cli, ["history", "ZG-999", "-c", str(settings.root)])
    assert missing.exit_code == 1 and "变更记录中没有措施“ZG-999”" in missing.output


def test_rebuild_from_the_archive_gives_the_rows_recorded_live(recorded, tmp_path):
    settings, db = recorded
    live = key(db.changes())
    assert key(history.rebuild_changes(settings)) == live
    with HistoryDB(tmp_path / "rebuilt.sqlite") as fresh:
        assert history.rebuild(fresh, settings) == len(live)
        assert key(fresh.changes()) == live
    assert history.rebuild(db, settings) == len(live)       # in place: the same rows again
    assert key(db.changes()) == live


def test_rebuild_keeps_office_rows_and_refuses_a_changed_archive_file(recorded):
    settings, db = recorded
    db.add([Change("ZG-001", "", vocab.STATUS, vocab.IN_PROGRESS, vocab.DONE, vocab.SOURCE_OFFICE,
                   "2024-08-29T08:00:00", "2024-08")], "x", history_db.COMMITTED)
    history.rebuild(db, settings)
    assert [c.new for c in db.changes("ZG-001") if c.source == vocab.SOURCE_OFFICE] == [vocab.DONE]
    archived = next((settings.path("archive") / "2024-07").glob("*.xlsx"))
    archived.write_bytes(archived.read_bytes() + b"x")
    with pytest.raises(history.HistoryError, match="哈希不一致"):
        history.rebuild(db, settings)


def test_month_over_month_counts_come_from_the_history(recorded):
    settings, db = recorded
    counts = dict(history_db.period_counts(db))
    assert list(counts) == ["2024-06", "2024-07", "2024-08"]
    assert counts["2024-06"] == {vocab.DONE: 2, vocab.MOSTLY_DONE: 0, vocab.IN_PROGRESS: 3, vocab.NOT_STARTED: 1}
    assert counts["2024-07"] == {vocab.DONE: 2, vocab.MOSTLY_DONE: 0, vocab.IN_PROGRESS: 4, vocab.NOT_STARTED: 0}
    assert counts["2024-08"] == {vocab.DONE: 3, vocab.MOSTLY_DONE: 0, vocab.IN_PROGRESS: 3, vocab.NOT_STARTED: 0}


def test_each_periods_snapshot_is_every_fields_latest_change_up_to_that_period(tmp_path):
    """The one-pass replay against the definition, on runs recorded out of period order, a field cleared and set
    again, the 初始导入 (no period) and a period asked for that the history has no changes in."""
    import random
    rng = random.Random(3)
    with HistoryDB(tmp_path / "h.sqlite") as db:
        periods = ["", "2024-06", "2024-07", "2024-09", "2024-08"]
        for run in range(12):
            period = periods[run % len(periods)]
            db.add([Change(f"ZG-{rng.randrange(8):03d}", rng.choice(["", "办公室"]), rng.choice([vocab.STATUS, vocab.PROGRESS]),
                           "", rng.choice(["", vocab.DONE, vocab.IN_PROGRESS, "进展" + str(run)]), vocab.SOURCE_OFFICE,
                           f"2024-08-{run + 1:02d}T08:00:00", period) for _ in range(6)], f"d{run}", history_db.COMMITTED)
        rows = [Change(*r[2:]) for r in db.conn.execute(f"{history_db.COMMITTED_ROWS} ORDER BY c.id")]
        got = history_db.period_snapshots(db, {"2024-10", "2024-05"})
    expected = []
    for period in ["2024-06", "2024-07", "2024-08", "2024-09", "2024-10"]:
        state: dict = {}
        for c in sorted(rows, key=lambda c: c.period):      # stable: the order recorded within a period
            if c.period <= period:
                state[(c.measure, c.unit, c.field)] = c.new
        expected.append((period, {k: v for k, v in state.items() if v}))
    assert [(p, list(s.items())) for p, s in got] == [(p, list(s.items())) for p, s in expected]
    assert any(not v for v in (c.new for c in rows)) and len({p for p, _ in got}) == 5


def test_recent_rows_list_the_newest_first(recorded):
    settings, db = recorded
    rows = history_db.recent_rows(db, 3)
    assert len(rows) == 3 and rows[0][:3] == ["2024-08-20 16:05:00", "2024-08", "ZG-004"]
    assert len(rows[0][7]) == 12            # a file's hash, shortened as in archive names


def test_a_consolidation_writes_its_changes_into_the_masters_read_only_sheet(workspace):
    from toolkit.app import Workspace
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}})
    Workspace(workspace).consolidate()
    ws = openpyxl.load_workbook(workspace.master)[vocab.SHEET_CHANGES]
    assert [c.value for c in ws[2]] == vocab.CHANGE_COLUMNS
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert any(r[2] == "ZG-004" and r[4] == vocab.STATUS and r[5] == vocab.NOT_STARTED
               and r[6] == vocab.IN_PROGRESS for r in rows)
    again = read_ledger(workspace.master)            # read back as ours, not as an office sheet
    assert vocab.SHEET_CHANGES not in again.other_sheets and again.recent_changes
    master_file.write_master(again, workspace)            # and a plain rewrite keeps it
    assert openpyxl.load_workbook(workspace.master)[vocab.SHEET_CHANGES].max_row == ws.max_row


def test_office_hand_edits_are_recorded_as_such(workspace):
    with history_db.open_history(workspace) as db:
        ledger = read_ledger(workspace.master)
        with history.recording(db, workspace, ledger, ledger.copy()):
            master_file.write_master(ledger, workspace)      # the first write records the initial state
        wb = openpyxl.load_workbook(workspace.master)    # the office edits the master in Excel
        ws = wb[vocab.SHEET_LEDGER]
        cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "ZG-006")
        ws.cell(row, cols[vocab.REMARK]).value = "经审核已办结"
        wb.save(workspace.master)
        before = read_ledger(workspace.master)
        after = before.copy()
        after.measures["ZG-001"].deadline = dt.date(2024, 10, 31)
        with history.recording(db, workspace, before, after, source=vocab.SOURCE_REVIEW) as run:
            # the 变更记录 sheet written with this master shows this run's changes, still pending
            assert history_db.recent_rows(db, 1, run)[0][2] == "ZG-001"
            assert history_db.recent_rows(db, 1)[0][2] != "ZG-001"
            master_file.write_master(after, workspace)
        new = [(c.measure, c.field, c.new, c.source) for c in db.changes() if c.source != vocab.SOURCE_INITIAL]
    assert new == [("ZG-006", vocab.REMARK, "经审核已办结", vocab.SOURCE_OFFICE),
                   ("ZG-001", vocab.DEADLINE, "2024年10月31日", vocab.SOURCE_REVIEW)]


def test_diff_ledgers_attributes_owner_changes_to_the_submission(workspace):
    before = small_ledger()
    after = before.copy()
    sha = "ab" * 32
    entry = after.owners[("ZG-002", "市人民医院")]
    entry.status, entry.submitted_at = vocab.DONE, "2024-08-20T10:00:00"
    after.measures["ZG-002"].progress = "【市人民医院】已开展培训"
    after.log.append(LogEntry("2024-08", "市人民医院", "2024-08-20T10:00:00", "a.xlsx", "2024-08/a.xlsx", sha,
                               vocab.OUTCOME_ACCEPTED, 1, 0))
    after.measures["ZG-003"].deadline = dt.date(2024, 12, 31)
    changes = history_db.diff_ledgers(before, after, time="2024-08-21T09:00:00", period="2024-08")
    assert [(c.measure, c.unit, c.field, c.source, c.time) for c in changes] == [
        ("ZG-002", "", vocab.PROGRESS, sha, "2024-08-20T10:00:00"),
        ("ZG-002", "市人民医院", vocab.STATUS, sha, "2024-08-20T10:00:00"),
        ("ZG-003", "", vocab.DEADLINE, vocab.SOURCE_OFFICE, "2024-08-21T09:00:00")]
    assert changes[2].old == vocab.LONG_TERM


def test_the_live_hook_uses_the_submissions_in_memory_and_gives_the_archive_rows(workspace, tmp_path):
    from toolkit.consolidate import clear_inbox, inbox_files, take_in
    with history_db.open_history(workspace) as db:
        for period, when, rows in PERIODS:
            workspace = replace(workspace, period=period)
            hand_in(workspace, "市人民医院", rows, when=when)
            before = read_ledger(workspace.master)
            ledger = before.copy()
            result = take_in(ledger, workspace, inbox_files(workspace.path("inbox")))
            archive = workspace.path("archive")
            archive.rename(tmp_path / "away")              # nothing is read again from the archive
            with history.recording(db, workspace, before, ledger,
                                   submissions=[f.submission for f in result.files]):
                master_file.write_master(ledger, workspace)
            (tmp_path / "away").rename(archive)
            clear_inbox(result)
        assert key(db.changes()) == key(history.rebuild_changes(workspace))
        assert [c.new for c in db.changes("ZG-004") if c.field == vocab.STATUS] == [
            vocab.NOT_STARTED, vocab.IN_PROGRESS, vocab.DONE]


def test_a_failed_master_write_leaves_nothing_pending(workspace):
    from toolkit.errors import BusyError
    with history_db.open_history(workspace) as db:
        before = read_ledger(workspace.master)
        after = before.copy()
        after.measures["ZG-004"].status = vocab.DONE
        with pytest.raises(BusyError):
            with history.recording(db, workspace, before, after):
                raise BusyError("台账正在 Excel 中打开")
        assert db.pending() == 0 and db.is_empty()


def test_a_damaged_database_is_reported_with_the_way_out(workspace):
    history_db.db_path(workspace).write_bytes(b"not a database" * 100)
    with pytest.raises(history.HistoryError, match="history --rebuild"):
        history_db.open_history(workspace)


def _pending_run(workspace, db, status):
    before = read_ledger(workspace.master)
    after = before.copy()
    after.measures["ZG-004"].status = status
    return history.record(db, workspace, before, after), after


def test_a_crash_before_the_master_is_replaced_discards_the_pending_changes(workspace):
    with history_db.open_history(workspace) as db:
        _pending_run(workspace, db, vocab.DONE)              # crash: the master was never written
    with history_db.open_history(workspace) as db:
        assert db.pending() == 0 and db.is_empty()
        assert db.state() == {}


def test_a_crash_after_the_master_is_replaced_commits_the_pending_changes(workspace):
    with history_db.open_history(workspace) as db:
        run, after = _pending_run(workspace, db, vocab.DONE)
        master_file.write_master(after, workspace)                 # crash before commit()
    with history_db.open_history(workspace) as db:
        assert db.pending() == 0
        assert db.state() == history_db.snapshot(read_ledger(workspace.master))
        assert db.state()[("ZG-004", "", vocab.STATUS)] == vocab.DONE


WRITER = """
import sys, uuid
from pathlib import Path
from tests.conftest import settings_for
from toolkit import history
from toolkit.io import history_db, master_file
from toolkit.io.ledger_file import read_ledger
settings = settings_for(Path(sys.argv[1]))
db = history_db.open_history(settings)
print("ready", flush=True)
while True:
    before = read_ledger(settings.master)
    after = before.copy()
    token = uuid.uuid4().hex[:8]
    after.measures["ZG-004"].progress = "进展" + token
    after.owners[("ZG-002", "市人民医院")].progress = "配合" + token
    with history.recording(db, settings, before, after, source="测试"):
        master_file.write_master(after, settings)
"""


def test_sigkill_at_random_points_leaves_history_and_master_consistent(workspace, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    with history_db.open_history(workspace) as db:           # the initial state, recorded once
        ledger = read_ledger(workspace.master)
        with history.recording(db, workspace, ledger, ledger.copy()):
            master_file.write_master(ledger, workspace)
        assert not db.is_empty()
    rng = random.Random(16)
    outcomes = {"committed": 0, "discarded": 0, "settled": 0}
    stop = time.monotonic() + 4
    kills = 0
    while kills < 3 or (time.monotonic() < stop and kills < 12):
        proc = subprocess.Popen([sys.executable, str(script), str(workspace.root)], stdout=subprocess.PIPE,
                                env=env, cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        kills += 1
        with HistoryDB(history_db.db_path(workspace)) as db:
            pending = db.pending()
            done, gone = db.recover(history_db.master_digest(workspace.master))
            outcomes["committed"] += done
            outcomes["discarded"] += gone
            outcomes["settled"] += pending == 0
            assert db.pending() == 0
            assert db.state() == history_db.snapshot(read_ledger(workspace.master))
    print(f"{kills} kills: {outcomes}")


def test_a_write_without_changes_adds_no_run(workspace):
    with history_db.open_history(workspace) as db:
        for expected in (True, False):
            ledger = read_ledger(workspace.master)
            with history.recording(db, workspace, ledger, ledger.copy()) as run:
                master_file.write_master(ledger, workspace)
            assert (run is not None) == expected
        assert db.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_comparing_ledgers_finds_every_change_a_whole_snapshot_finds_in_the_same_order(monkeypatch):
    """diff_ledgers snapshots only the measures that may differ; what it returns is what comparing whole
    snapshots returns, including a value that is equal but not the same text (1 and True) and owners, requests,
    measures added and removed."""
    from toolkit.model import OwnerEntry, Review
    rng = random.Random(7)
    for trial in range(30):
        before = small_ledger()
        before.owners[("ZG-002", "市人民医院")] = OwnerEntry("ZG-002", "市人民医院", vocab.ROLE_CO, vocab.IN_PROGRESS, "调研中")
        before.reviews[("ZG-004", "办公室")] = Review("ZG-004", "办公室", "2024-08-01")
        after = before.copy()
        ids = list(after.measures)
        for _ in range(rng.randint(0, 4)):
            m = after.measures[rng.choice(ids)]
            field = rng.choice(["progress", "evidence", "status", "deadline", "remark", "co_units"])
            value = {"progress": rng.choice(["1", 1, True, 1.0, "新进展"]), "evidence": rng.choice(["", "文件"]),
                     "status": rng.choice([vocab.DONE, vocab.IN_PROGRESS]), "remark": rng.choice(["", True, 1]),
                     "deadline": rng.choice([dt.date(2024, 9, 30), "2024-09-30", "长期坚持"]),
                     "co_units": rng.choice([[], ["市人民医院"], ["市人民医院", "办公室"]])}[field]
            setattr(m, field, value)
        if rng.random() < 0.3:
            after.owners[("ZG-002", "市人民医院")].progress = rng.choice(["已完成", 1, True])
        if rng.random() < 0.3:
            after.owners.pop(("ZG-002", "市人民医院"))
        if rng.random() < 0.3:
            after.reviews[("ZG-004", "办公室")].state = vocab.REVIEW_RETURNED
        if rng.random() < 0.3:
            after.measures.pop(rng.choice(ids))
        quick = history_db.diff_ledgers(before, after, time="t")
        monkeypatch.setattr(history_db, "_touched", lambda b, a: set(b.measures) | set(a.measures))
        whole = history_db.diff_ledgers(before, after, time="t")
        monkeypatch.undo()
        assert quick == whole, trial
    before = small_ledger()
    before.measures["ZG-001"].progress = 1
    after = before.copy()
    after.measures["ZG-001"].progress = True          # equal to 1, but another text in the history
    assert [(c.measure, c.field, c.old, c.new) for c in history_db.diff_ledgers(before, after, time="t")] == \
        [("ZG-001", vocab.PROGRESS, "1", "True")]


def test_a_run_takes_each_files_changes_from_its_own_merges(tmp_path, monkeypatch):
    """The consolidation keeps each file's measures before and after its merge; the history records those rows
    instead of merging every file again (the conftest fixture checks them against a replay in every test; a run
    that also acts on a 销号审核 decision took in more than the files, keeps no record and replays)."""
    from tests.conftest import MERGES_COMPARED
    from toolkit import demo, history
    from toolkit.app import Workspace
    settings = demo.stage_demo(tmp_path / "ws")
    replays = []
    real = history.replay
    monkeypatch.setattr(history, "replay", lambda *a, **k: replays.append(1) or real(*a, **k))
    compared = len(MERGES_COMPARED)
    result = Workspace(settings).consolidate()
    assert result.merged is not None and len(result.merged) == result.count(*vocab.APPLIED_OUTCOMES) > 20
    assert len(MERGES_COMPARED) == compared + 1 and MERGES_COMPARED[-1] > 100     # rows, and the replay agreed
    assert replays == [1]                           # the fixture's own replay, nothing of the run's
    with history_db.HistoryDB(history_db.db_path(settings)) as db:
        from_files = [c for c in db.changes() if c.from_file]
    assert {c.source for c in from_files} <= set(result.merged) and len({c.source for c in from_files}) > 20
