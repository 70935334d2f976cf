"""The inbox copied into the archive in a forked process while the master is read (archive.Ahead): the run takes
in the same files with the same outcomes, archive and history as when it copies them in turn, and a copying
process that fails leaves the copying to the run."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil

import pytest

from tests.conftest import hand_in
from toolkit import archive, vocab
from toolkit.app import Workspace
from toolkit.io.ledger_file import read_ledger

pytestmark = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="the copies are made ahead only where processes fork (not on Windows)")


def _inbox(workspace) -> None:
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "已办结"}})
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: "正在推进", vocab.PROGRESS: "已启动"}},
            when=dt.datetime(2024, 8, 21, 9, 0))
    shutil.copy(workspace.path("inbox") / "办公室.xlsx", workspace.path("inbox") / "办公室（重发）.xlsx")
    (workspace.path("inbox") / "说明.txt").write_text("不是报送文件", encoding="utf-8")


def _outcome(workspace, result) -> tuple:
    archived = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest())
                      for p in workspace.path("archive").rglob("*") if p.is_file())
    ledger = read_ledger(workspace.master)
    return ([(f.submission.name, f.outcome, f.accepted, f.unit) for f in result.files],
            sorted(i.name for i in result.ignored), archived,
            {k: o.values() for k, o in ledger.owners.items()}, sorted(os.listdir(workspace.path("inbox"))))


@pytest.fixture
def twin(workspace, tmp_path_factory):
    """The workspace with its inbox filled, and a copy of it to run the other way."""
    _inbox(workspace)
    other_root = tmp_path_factory.mktemp("twin")
    shutil.copytree(workspace.root, other_root, dirs_exist_ok=True)
    from dataclasses import replace
    return workspace, replace(workspace, root=other_root)


def test_files_copied_ahead_are_taken_in_exactly_as_files_copied_in_turn(twin, monkeypatch):
    ahead_ws, serial_ws = twin
    forked = []
    start = archive.Ahead.__init__

    def counting(self, *a, **k):
        start(self, *a, **k)
        forked.append(self.proc is not None)
    monkeypatch.setattr(archive.Ahead, "__init__", counting)
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    serial_result = Workspace(serial_ws).consolidate()
    assert forked == [True, False]
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, serial_result)
    assert ahead_result.count(vocab.OUTCOME_ACCEPTED) == 2 and len(ahead_result.files) == 4   # the .txt is refused by name


def test_a_copying_process_that_dies_leaves_every_file_to_the_run(twin, monkeypatch):
    ahead_ws, serial_ws = twin
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    monkeypatch.setattr(archive, "_copy_ahead", lambda conn, *a: os._exit(3))
    died = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    assert _outcome(ahead_ws, died) == _outcome(serial_ws, Workspace(serial_ws).consolidate())


def test_a_master_that_cannot_be_read_stops_the_run_with_the_inbox_untouched(workspace, monkeypatch):
    """Copies already made are reused by the next run, and any half-made one is swept."""
    _inbox(workspace)
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    before = sorted(os.listdir(workspace.path("inbox")))
    good = workspace.master.read_bytes()
    workspace.master.write_bytes(b"not a workbook")
    with pytest.raises(Exception) as err:
        Workspace(workspace).consolidate()
    assert getattr(err.value, "kind", "").startswith("ledger")
    assert sorted(os.listdir(workspace.path("inbox"))) == before
    workspace.master.write_bytes(good)
    result = Workspace(workspace).consolidate()
    assert result.count(vocab.OUTCOME_ACCEPTED) == 2
    assert not list(workspace.path("archive").rglob(".~tmp-*"))


def _varied_inbox(workspace) -> None:
    """Files accepted, partly accepted and refused, for reasons found before and after the ledger is known."""
    _inbox(workspace)
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.MEASURE: "改过的措施"}, "ZG-002": {vocab.STATUS: "搞定了"}},
            name="市人民医院（改动）.xlsx", when=dt.datetime(2024, 8, 21, 10, 0))
    hand_in(workspace, "办公室", {"ZG-001": {vocab.PROGRESS: "另一单位的文件名"}}, name="市人民医院8月.xlsx")
    inbox = workspace.path("inbox")
    (inbox / "损坏.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (inbox / "扫描件.xlsx").write_bytes(b"%PDF-1.4 not a workbook")


def _judged(result) -> list:
    return sorted((f.submission.name, f.outcome, f.accepted, f.submission.unit, f.submission.notes,
                   [(p.kind, p.params, p.sheet, p.row, p.column) for p in f.submission.problems],
                   [(u.measure_id, u.row, u.status, u.progress) for u in f.submission.updates])
                  for f in result.files)


def test_files_read_before_the_master_are_judged_exactly_as_files_read_after_it(workspace, tmp_path_factory,
                                                                                  monkeypatch):
    """The copying process reads each copy as far as it can without the ledger (readers.parse_early); the run
    judges those against the ledger: the same outcomes, problems, notes, updates, archive and master."""
    from dataclasses import replace
    _varied_inbox(workspace)
    other = replace(workspace, root=tmp_path_factory.mktemp("serial"))
    shutil.copytree(workspace.root, other.root, dirs_exist_ok=True)
    early_seen = []
    collect = archive.Ahead.collect

    def after_reading_everything(self):
        if self.proc is not None:
            self.proc.join(60)          # the whole inbox read ahead, whatever the speed of this machine
        got = collect(self)
        early_seen.append(dict(self.early))
        return got
    monkeypatch.setattr(archive.Ahead, "collect", after_reading_everything)
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(workspace).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    serial_result = Workspace(other).consolidate()
    kinds = {type(v).__name__ for v in early_seen[0].values()}
    assert kinds == {"Parsed", "Submission"} and len(early_seen[0]) == 8       # every .xlsx (the .txt is refused)
    assert _judged(ahead_result) == _judged(serial_result)
    assert _outcome(workspace, ahead_result) == _outcome(other, serial_result)
    problems = {p.kind for f in ahead_result.files for p in f.submission.problems}
    assert {"row-locked-changed", "status-unknown", "template-other-unit", "file-damaged", "file-pdf"} <= problems


def test_a_file_that_hangs_the_reading_ahead_is_read_by_the_readers_with_their_time_limit(twin, monkeypatch):
    """The copying process is stopped where it is when the run has read the master: the files it did not read
    (here: all, stuck on the first) go to the reader processes as if nothing had been read ahead."""
    import time

    from toolkit import consolidate
    ahead_ws, serial_ws = twin
    real = consolidate.parse_early

    def stuck(settings, key):
        parse = real(settings, key)

        def hanging(path, *a):
            if "办公室" in str(path):
                time.sleep(3600)
            return parse(path, *a)
        return hanging
    monkeypatch.setattr(consolidate, "parse_early", stuck)
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, Workspace(serial_ws).consolidate())
