"""Review of reading ahead (archive.Ahead → readers.parse_early → intake.judge_parsed): the files read while the
master is read must come out exactly as the reader pool would have made them, whatever the timing."""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import replace

import pytest

from tests.test_archive_ahead import _inbox, _judged
from tests.test_archive_ahead import _outcome as _outcome_at_once
from toolkit import archive, intake, vocab
from toolkit.app import Workspace

pytestmark = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="the copies are made ahead only where processes fork (not on Windows)")


def _outcome(workspace, result) -> tuple:
    """test_archive_ahead._outcome, the archive's names without the time of receipt of a file not read as a
    workbook (说明.txt: received now, and the two runs compared run a second apart)."""
    files, ignored, archived, owners, inbox = _outcome_at_once(workspace, result)
    return files, ignored, [(re.sub(r"_\d{8}-\d{6}_", "_", n), h) for n, h in archived], owners, inbox


def _read_everything_ahead(monkeypatch, seen: list | None = None) -> None:
    """collect() only once the copying process has read the whole inbox (a slow master, say)."""
    collect = archive.Ahead.collect

    def after_reading_everything(self):
        if self.proc is not None:
            self.proc.join(60)
        got = collect(self)
        if seen is not None:
            seen.append(dict(self.early))
        return got
    monkeypatch.setattr(archive.Ahead, "collect", after_reading_everything)


def _twin(workspace, tmp_path_factory, **changes):
    _inbox(workspace)
    workspace = replace(workspace, **changes)
    other = replace(workspace, root=tmp_path_factory.mktemp("serial"))
    shutil.copytree(workspace.root, other.root, dirs_exist_ok=True)
    return workspace, other


def test_a_file_slower_than_the_time_limit_is_refused_whether_or_not_it_was_read_ahead(workspace, tmp_path_factory,
                                                                                        monkeypatch):
    """A file whose reading takes longer than read_timeout_seconds is refused by the readers (file-reader-timeout);
    read ahead, with no time limit, it was taken in when the master took long enough to read: the outcome
    depended on the timing."""
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory, read_timeout_seconds=1)
    real = intake._parse_workbook

    def slow(sub, *a, **k):
        if sub.name == "市人民医院.xlsx":
            time.sleep(2.5)
        return real(sub, *a, **k)
    monkeypatch.setattr(intake, "_parse_workbook", slow)
    _read_everything_ahead(monkeypatch)
    ahead_result, serial_result = _both_ways(monkeypatch, ahead_ws, serial_ws)
    timed_out = [f.submission.name for f in serial_result.files
                 if any(p.kind == "file-reader-timeout" for p in f.submission.problems)]
    assert timed_out == ["市人民医院.xlsx"]
    assert _judged(ahead_result) == _judged(serial_result)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, serial_result)
    assert ahead_result.count(vocab.OUTCOME_ACCEPTED) == 1


def test_a_fork_that_fails_for_the_copying_process_leaves_every_file_to_the_run(workspace, tmp_path_factory,
                                                                                 monkeypatch):
    """fork() refused (EAGAIN: too many processes, ENOMEM) when the copying process starts: the run copies and
    reads every file itself, as when fork is unavailable; it ended in a traceback before any file was read."""
    import errno
    import multiprocessing.context as mpc
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory)
    real, calls = mpc.ForkProcess._Popen, []

    def refused_once(process_obj):
        calls.append(process_obj)
        if len(calls) == 1:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        return real(process_obj)
    monkeypatch.setattr(mpc.ForkProcess, "_Popen", staticmethod(refused_once))
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    assert calls and calls[0]._target is archive._copy_ahead
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, Workspace(serial_ws).consolidate())


_KILLED_MID_RUN = r'''
import os, signal, sys, time
from dataclasses import replace
from pathlib import Path
from tests.conftest import settings_for
from toolkit import app, archive, consolidate
root, pidfile = Path(sys.argv[1]), Path(sys.argv[2])
settings = replace(settings_for(root), settle_seconds=0)
real = consolidate.parse_early
def hanging(settings, key):
    def parse(path, *a):
        pidfile.write_text(str(os.getpid()))
        time.sleep(600)                      # a file that hangs its reader
    return parse
def killed(settings):
    while not pidfile.exists():
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)     # the nightly task killed, the machine out of memory…
consolidate.parse_early = hanging
archive.AHEAD_FROM = 1
app.read_master = killed
app.Workspace(settings).consolidate()
'''


def test_a_run_killed_while_reading_ahead_leaves_no_process_holding_the_workspace(workspace, tmp_path):
    """The run killed (-9) while the copying process is stuck on a file that hangs: that process lived on, orphaned,
    with nobody left to stop it (a hang that spins takes a core for good, one more process each such night)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from toolkit.guards import LOCK_NAME, RunLock
    _inbox(workspace)
    pidfile = tmp_path / "ahead.pid"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with open(tmp_path / "stderr.txt", "wb") as err:        # no pipe: the process left behind would hold it
        proc = subprocess.run([sys.executable, "-c", _KILLED_MID_RUN, str(workspace.root), str(pidfile)], env=env,
                              timeout=120, stdout=subprocess.DEVNULL, stderr=err)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()
    child = int(pidfile.read_text())
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.1)
        alive = _alive(child)
        with RunLock(workspace.root / LOCK_NAME, 0):
            pass
        assert not alive
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie, dead but not yet reaped by init, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_run_that_reads_ahead_leaves_no_descriptor_or_process_behind(twin_runs, monkeypatch):
    """The service runs night after night in one process: the spool, the pipe and the copying process are gone
    once the run is over, whether the process read everything, died, or the master could not be read."""
    import multiprocessing as mp
    import os

    def open_fds() -> set[str]:
        return set(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ws = twin_runs
    Workspace(ws).consolidate()                  # imports and caches warmed
    before = open_fds()
    for _ in range(2):
        _inbox(ws)
        Workspace(ws).consolidate()
    good = ws.master.read_bytes()
    _inbox(ws)
    ws.master.write_bytes(b"not a workbook")
    with pytest.raises(Exception) as err:
        Workspace(ws).consolidate()
    assert getattr(err.value, "kind", "").startswith("ledger")
    ws.master.write_bytes(good)
    assert open_fds() - before == set()
    assert mp.active_children() == []


@pytest.fixture
def twin_runs(workspace):
    _inbox(workspace)
    return workspace


def test_a_spool_record_cut_short_by_the_kill_is_dropped_and_those_before_it_kept(tmp_path):
    """The copying process is killed where it is: a record half written (its length, or part of its pickle) is
    left out; the readers read that file."""
    with open(tmp_path / "spool", "w+b") as fh:
        archive._spool(fh, ("snapshots", {}))
        archive._spool(fh, (("a", "a.xlsx"), "first"))
        whole = fh.tell()
        archive._spool(fh, (("b", "b.xlsx"), "x" * 10_000))
        for cut in (fh.tell() - 1, whole + 500, whole + 8, whole + 3):
            fh.truncate(cut)
            assert archive._spooled(fh) == [("snapshots", {}), (("a", "a.xlsx"), "first")]


def _cannot_load():
    raise MemoryError("the spool read back on a machine short of memory")


class _Unloadable:
    """A result the copying process spools, which cannot be read back (here by design; in life: memory, EIO)."""

    def __reduce__(self):
        return _cannot_load, ()


def test_a_spool_record_that_cannot_be_read_back_leaves_its_file_to_the_readers(workspace, tmp_path_factory,
                                                                                 monkeypatch):
    """The spool is read in the run's process: a record that does not load ended the night in a traceback, after
    the copies were made; the files read ahead before it are kept, it and those after go to the readers."""
    from toolkit import consolidate
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory)
    real = consolidate.parse_early

    def odd(settings, key):
        parse = real(settings, key)
        return lambda path, name, *a: _Unloadable() if name == "市人民医院.xlsx" else parse(path, name, *a)
    monkeypatch.setattr(consolidate, "parse_early", odd)
    seen: list = []
    _read_everything_ahead(monkeypatch, seen)
    ahead_result, serial_result = _both_ways(monkeypatch, ahead_ws, serial_ws)
    assert _judged(ahead_result) == _judged(serial_result)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, serial_result)
    assert seen and 0 < len(seen[0]) < 3


@pytest.mark.parametrize("fails_at", [1, 2, 3])
def test_a_full_disk_under_the_spool_leaves_what_was_not_spooled_to_the_run(workspace, tmp_path_factory, monkeypatch,
                                                                           fails_at):
    """ENOSPC for the snapshots (1) or for a file read ahead (the readers read it and every one after): the same
    night. At 1 the copies were all made, then the run took them for copies of an earlier run, which keep their
    names: 说明.txt was archived as 说明_… where it is 未识别_说明_… (a workbook under its file's name, not its unit's)."""
    import errno
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory)
    real, calls = archive._spool, []

    def full(fh, record):
        calls.append(1)
        if len(calls) == fails_at:
            fh.write(b"\x10\x00\x00")                # a few bytes made it to the disk
            fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, record)
    monkeypatch.setattr(archive, "_spool", full)
    _read_everything_ahead(monkeypatch)
    ahead_result, serial_result = _both_ways(monkeypatch, ahead_ws, serial_ws)
    assert _judged(ahead_result) == _judged(serial_result)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, serial_result)


def test_no_usable_temp_folder_for_the_spool_leaves_every_file_to_the_run(workspace, tmp_path_factory, monkeypatch):
    import errno

    def no_temp(**_):
        raise FileNotFoundError(errno.ENOENT, "No usable temporary directory found")
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory)
    monkeypatch.setattr(archive.tempfile, "TemporaryFile", no_temp)
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, Workspace(serial_ws).consolidate())


@pytest.mark.xfail(strict=True, reason="the copies made by a copying process that dies before saying so are taken "
                   "by take_in for an earlier run's (Snapshot.fresh False), so file_under_unit keeps the inbox "
                   "file's name: 说明_….txt instead of 未识别_说明_….txt, a workbook under its file's name instead of "
                   "its unit's. Telling them apart needs the run to know which copies are its own (a design decision)")
def test_a_copying_process_killed_after_its_copies_files_them_as_the_run_would(workspace, tmp_path_factory,
                                                                             monkeypatch):
    """Killed (OOM, a signal) between the last copy and the word that the copies are made."""
    import os
    ahead_ws, serial_ws = _twin(workspace, tmp_path_factory)
    monkeypatch.setattr(archive, "_spool", lambda fh, record: os._exit(9))
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    assert _outcome(ahead_ws, ahead_result) == _outcome(serial_ws, Workspace(serial_ws).consolidate())


def _both_ways(monkeypatch, ahead_ws, serial_ws):
    """One consolidation copying (and reading) ahead, its twin copying in turn: (ahead result, serial result)."""
    monkeypatch.setattr(archive, "AHEAD_FROM", 1)
    ahead_result = Workspace(ahead_ws).consolidate()
    monkeypatch.setattr(archive, "AHEAD_FROM", 10_000)
    return ahead_result, Workspace(serial_ws).consolidate()
