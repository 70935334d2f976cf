"""销号 integrity and clocks: a decision applies only to a request the toolkit recorded (its 申请编号 in the
row), never to a copied or hand-typed row; a hand-typed 办理情况 is put back; returns and backups are
ordered by the master's 记录序号, not by the clock, and a disagreeing clock is said in one line."""
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import openpyxl

from tests.conftest import hand_in
from tests.test_review import DONE_ZG4, review_rows, status_of
from toolkit import history, vocab
from toolkit.app import Workspace
from toolkit.io import history_db, master_file
from toolkit.io.history_db import HistoryDB
from toolkit.io.ledger_file import read_ledger

ROOT = Path(__file__).resolve().parent.parent
COL = {name: i + 1 for i, name in enumerate(vocab.REVIEW_COLUMNS)}


def edit_review_sheet(settings, edit) -> None:
    """The office's hand edit of 销号审核 with openpyxl: edit(ws), then save."""
    wb = openpyxl.load_workbook(settings.master)
    edit(wb[vocab.SHEET_REVIEW])
    wb.save(settings.master)


def copy_row(ws, src: int, dst: int, **values) -> None:
    for c in range(1, len(vocab.REVIEW_COLUMNS) + 1):
        ws.cell(dst, c).value = ws.cell(src, c).value
    for name, value in values.items():
        ws.cell(dst, COL[name]).value = value


def test_a_row_copied_onto_another_measure_closes_nothing_and_the_note_names_its_cell(applied):
    s = applied
    edit_review_sheet(s, lambda ws: copy_row(ws, 3, 4, **{vocab.ID: "ZG-001", vocab.OWNER_UNIT: "办公室",
                                                          vocab.REVIEW_CONCLUSION: vocab.REVIEW_APPROVE}))
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-001") == vocab.IN_PROGRESS and status_of(s, "ZG-004") == vocab.IN_PROGRESS
    assert [r[:2] + r[6:7] for r in review_rows(s)] == [["ZG-004", "市人民医院", vocab.REVIEW_PENDING]]
    (note,) = [n for n in result.ledger.read_notes if "ZG-001" in n]
    assert note.startswith("“销号审核”表I4单元格（第4行“申请编号”列）：措施“ZG-001”（办公室）")
    assert "不是单位提出的销号申请，本次未处理、未销号任何措施" in note


def test_a_row_copied_whole_with_a_conclusion_is_a_duplicate_and_decides_nothing(applied):
    s = applied
    edit_review_sheet(s, lambda ws: copy_row(ws, 3, 5, **{vocab.REVIEW_CONCLUSION: vocab.REVIEW_APPROVE}))
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS
    assert [r[6] for r in review_rows(s)] == [vocab.REVIEW_PENDING]
    assert any(n.startswith("“销号审核”表I5单元格") and "与第3行的申请编号相同（复制的行）" in n
               for n in result.ledger.read_notes)


def test_a_typed_closed_state_is_put_back_and_the_units_next_done_still_waits_for_review(applied):
    s = applied
    edit_review_sheet(s, lambda ws: setattr(ws.cell(3, COL[vocab.REVIEW_STATE]), "value", vocab.CLOSED))
    result = Workspace(s).consolidate()
    assert any(n.startswith("“销号审核”表G3单元格（第3行“办理情况”列）改为“已销号”未采纳") and "仍为“待审核”" in n
               for n in result.ledger.read_notes)
    assert review_rows(s)[0][6] == vocab.REVIEW_PENDING and status_of(s, "ZG-004") == vocab.IN_PROGRESS
    hand_in(s, "市人民医院", DONE_ZG4, name="市人民医院-再报.xlsx", when=dt.datetime(2024, 8, 26, 9, 0))
    Workspace(s).consolidate()                                    # the unit's next 已完成: still a request
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS and review_rows(s)[0][6] == vocab.REVIEW_PENDING
    assert read_ledger(s.master, s).measures["ZG-004"].status != vocab.DONE


def test_a_row_typed_by_hand_for_a_measure_nobody_asked_to_close_is_refused(applied):
    s = applied

    def typed(ws):
        for name, value in {vocab.ID: "ZG-003", vocab.OWNER_UNIT: "医政处", vocab.REVIEW_CONCLUSION: vocab.REVIEW_APPROVE,
                            vocab.REVIEW_STATE: vocab.CLOSED}.items():
            ws.cell(4, COL[name]).value = value
    edit_review_sheet(s, typed)
    result = Workspace(s).consolidate()
    assert status_of(s, "ZG-003") == vocab.IN_PROGRESS
    assert any(n.startswith("“销号审核”表I4单元格") and "申请编号为空" in n for n in result.ledger.read_notes)
    hand_in(s, "医政处", {"ZG-003": {vocab.STATUS: "已完成"}}, when=dt.datetime(2024, 8, 26, 9, 0))
    Workspace(s).consolidate()                                    # its 已完成 goes through review
    assert status_of(s, "ZG-003") == vocab.IN_PROGRESS
    assert ["ZG-003", "医政处", vocab.REVIEW_PENDING] in [r[:2] + r[6:7] for r in review_rows(s)]


def clock(offset: dt.timedelta):
    """A stand-in for a module's `dt` whose clock runs `offset` away from the real one."""
    class Shifted(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + offset
    return types.SimpleNamespace(datetime=Shifted, date=dt.date, timedelta=dt.timedelta)


def test_a_return_decided_while_the_clock_ran_a_year_ahead_does_not_swallow_the_reclaim(applied, monkeypatch):
    s = applied
    with monkeypatch.context() as m:
        m.setattr("toolkit.app.dt", clock(dt.timedelta(days=365)))
        Workspace(s).decide([("ZG-004", "")], vocab.REVIEW_RETURN, "请补充现场照片")
    decided = review_rows(s)[0][7]
    assert review_rows(s)[0][6] == vocab.REVIEW_RETURNED and decided > dt.datetime.now().isoformat(sep=" ")
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "现场照片"}},
            name="市人民医院-补充.xlsx", when=dt.datetime(2024, 8, 29, 9, 0))
    result = Workspace(s).consolidate()                              # the clock is right again
    assert review_rows(s)[0][6] == vocab.REVIEW_PENDING             # asked again, not silently ignored
    (said,) = [n for n in result.ledger.read_notes if "时钟可能不准" in n]
    assert f"办理日期（{decided}）晚于此后汇总的文件的收件时间（2024-08-29 09:00:00）" in said


def test_rebuild_starts_from_the_first_backup_by_sequence_when_a_later_one_was_named_with_the_clock_set_back(
        workspace, monkeypatch):
    s = workspace
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "第一次"}})
    Workspace(s).consolidate()
    with monkeypatch.context() as m:
        m.setattr("toolkit.io.master_file.dt", clock(-dt.timedelta(days=400)))
        hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "第二次"}}, when=dt.datetime(2024, 8, 21, 10, 0))
        Workspace(s).consolidate()
    names = sorted(p.name for p in s.path("backup").iterdir())
    assert len(names) == 2 and "-n2_" in names[0] and "-n1_" in names[1]     # the later one named earlier
    with history_db.open_history(s) as db:
        live = db.changes()
    rebuilt, lines = Workspace(s).history(rebuild=True)
    assert rebuilt == len(live)
    with history_db.open_history(s) as db:
        assert [(c.measure, c.unit, c.field, c.new) for c in db.changes()] == \
            [(c.measure, c.unit, c.field, c.new) for c in live]
    (said,) = [line for line in lines if "时钟可能被调回" in line]
    assert "记录序号2" in said and f"以“{names[1]}”为初始状态" in said


def test_the_master_counts_its_writes_and_a_write_without_changes_does_not(applied):
    s = applied
    first = read_ledger(s.master, s).sequence
    Workspace(s).consolidate()                                        # nothing new: nothing written
    assert read_ledger(s.master, s).sequence == first
    Workspace(s).decide([("ZG-004", "")], vocab.REVIEW_APPROVE)
    assert read_ledger(s.master, s).sequence == first + 1
    assert master_file.master_sequence(s.master) == first + 1


def consistent(s) -> None:
    """The master opens, every 销号审核 row is a recorded request, and the history holds what the master holds."""
    ledger = read_ledger(s.master, s)
    assert not [n for n in ledger.read_notes if "销号审核" in n]
    with HistoryDB(history_db.db_path(s)) as db:
        db.recover(history_db.master_digest(s.master))
        assert db.pending() == 0
        assert db.state() == history.without_own_links(history_db.snapshot(ledger), s)


def test_sigkill_during_review_decisions_leaves_master_and_history_consistent(applied):
    s = applied
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    rng = random.Random(22)
    for n in range(4):
        if n:                        # the unit asks again after the last return
            hand_in(s, "市人民医院", DONE_ZG4, name=f"市人民医院-{n}.xlsx", when=dt.datetime(2024, 8, 21 + n, 9, 0))
            Workspace(s).consolidate()
        assert review_rows(s)[0][6] == vocab.REVIEW_PENDING
        cmd = [sys.executable, "-m", "toolkit", "review", "ZG-004", "--return", "--opinion", f"第{n}次补充",
               "-c", str(s.root)]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        consistent(s)
        if review_rows(s)[0][6] == vocab.REVIEW_PENDING:          # killed before the master was replaced: rerun
            done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
        consistent(s)
        assert review_rows(s)[0][5:7] == [f"第{n}次补充", vocab.REVIEW_RETURNED]
    subprocess.run(cmd[:4] + ["--agree", "-c", str(s.root)], env=env, cwd=ROOT, check=False, timeout=120)
    assert review_rows(s)[0][6] == vocab.REVIEW_RETURNED       # a returned request is not agreed without asking
