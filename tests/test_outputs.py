"""The run's declared outputs (toolkit/outputs.py): unchanged inputs skip an output, a removed file brings
it back, a new document kind is one entry, and writing them in forked processes gives the same files."""
import datetime as dt
import hashlib
import os
from dataclasses import replace

from tests.conftest import hand_in
from toolkit import outputs, vocab
from toolkit.app import run_once
from toolkit.documents import dashboard, ledger_print, notices, reminders
from toolkit.io import fileio


def digests(paths):
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}


def still_arriving(settings):
    """A file in the inbox changed just now (settle_seconds is an hour from the start): the next run is a
    complete one, but leaves it (deferred)."""
    path = settings.path("inbox") / "市人民医院.xlsx"
    path.write_bytes(b"PK half a file")
    return path


def count_calls(monkeypatch, module, name, calls=None):
    calls = [] if calls is None else calls
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(name) or real(*a, **k))
    return calls


def test_a_full_run_whose_outputs_inputs_are_unchanged_rewrites_none_of_them(workspace, monkeypatch):
    workspace = replace(workspace, settle_seconds=3600)   # settings are frozen: a variant
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    first = run_once(workspace)
    written = digests(first.notices)
    still_arriving(workspace)
    calls = count_calls(monkeypatch, notices, "write_notices")
    count_calls(monkeypatch, dashboard, "write_dashboard", calls)
    count_calls(monkeypatch, ledger_print, "build", calls)
    count_calls(monkeypatch, reminders, "write_reminders", calls)
    second = run_once(workspace)
    assert not second.quick and [s.name for s in second.consolidation.deferred] == ["市人民医院.xlsx"]
    assert not second.consolidation.master_changed
    assert calls == []
    assert second.notices == first.notices and digests(first.notices) == written
    assert second.figures == first.figures and second.ladder_line == first.ladder_line
    assert second.warnings == first.warnings


def test_an_output_whose_file_was_removed_is_written_again_and_only_that_one(workspace, monkeypatch):
    workspace = replace(workspace, settle_seconds=3600)   # settings are frozen: a variant
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    first = run_once(workspace)
    board = next(p for p in first.notices if p.name == "看板.html")
    board.unlink()
    still_arriving(workspace)
    wrote_notices = count_calls(monkeypatch, notices, "write_notices")
    second = run_once(workspace)
    assert board.exists() and wrote_notices == []
    assert sorted(second.notices) == sorted(first.notices)


def test_a_new_document_kind_is_one_entry_in_the_declared_list(workspace, monkeypatch):
    written = []

    def one_line(run):
        written.append(run.assessment.reference_date)
        path = run.settings.path("output") / run.assessment.period / "一行.txt"
        fileio.atomic_write_text(path, f"基准日 {run.assessment.reference_date}")
        return outputs.Made([path])
    monkeypatch.setattr(outputs, "OUTPUTS", [*outputs.OUTPUTS, outputs.Output("一行", ("master",), one_line)])
    workspace = replace(workspace, settle_seconds=3600)   # settings are frozen: a variant
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    run_once(workspace)
    path = workspace.path("output") / "2024-08" / "一行.txt"
    assert path.read_text(encoding="utf-8") == f"基准日 {workspace.reference_date}"
    still_arriving(workspace)
    run_once(workspace)
    assert len(written) == 1                                 # inputs unchanged: the next full run leaves it


def test_outputs_written_in_forked_processes_are_the_files_written_in_turn(workspace, monkeypatch):
    def writer_pid(run):
        path = run.settings.path("output") / "pid.txt"
        fileio.atomic_write_text(path, str(os.getpid()))
        return outputs.Made([path])
    monkeypatch.setattr(outputs, "OUTPUTS", [*outputs.OUTPUTS, outputs.Output("pid", ("settings",), writer_pid)])
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    monkeypatch.setattr(outputs, "CONCURRENCY", "serial")
    first = run_once(workspace)
    serial = digests(first.notices + first.reminders)
    os.unlink(workspace.master.with_name(f".{workspace.master.stem}.state.json"))     # the next run is complete
    monkeypatch.setattr(outputs, "CONCURRENCY", "fork")
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 0)
    forked = run_once(workspace)
    assert (workspace.path("output") / "pid.txt").read_text(encoding="utf-8") != str(os.getpid())
    assert not list(workspace.path("output").rglob(".~*"))          # the print book's temp file was used up
    assert not list(workspace.path("output").parent.glob(".~stage-*"))     # written ahead, and the twin moved in
    again = digests(forked.notices + forked.reminders)
    assert forked.notices == first.notices and forked.ladder_line == first.ladder_line
    assert {p: d for p, (d, _) in again.items()} == {p: d for p, (d, _) in serial.items()}


def tree(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and "回执" not in p.parts}


def test_outputs_written_ahead_never_reach_the_folder_when_the_master_cannot_be_written(workspace, monkeypatch):
    import time

    import pytest

    from toolkit.errors import EnvironmentProblem
    from toolkit.io import master_file
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    run_once(workspace)
    before = tree(workspace.path("output"))
    os.unlink(workspace.master.with_name(f".{workspace.master.stem}.state.json"))     # the next run is complete
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.IN_PROGRESS}}, when=dt.datetime(2024, 8, 21, 9, 0))
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 0)
    twins = workspace.path("output").parent

    def full_disk(*a, **k):
        deadline = time.monotonic() + 60          # the documents written ahead are there, in the twin, first
        while time.monotonic() < deadline and not any(twins.glob(".~stage-*/2024-08/看板.html")):
            time.sleep(0.05)
        assert any(twins.glob(".~stage-*/2024-08/看板.html"))
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(master_file, "write_master", full_disk)
    with pytest.raises((OSError, EnvironmentProblem)):      # the full disk, told as such
        run_once(workspace)
    assert tree(workspace.path("output")) == before
    assert not list(twins.glob(".~stage-*"))


def test_output_writers_replace_files_and_never_write_into_one():
    """Outputs are written ahead into a twin of hard links (toolkit/io/staging.py): a writer that wrote into an
    existing file instead of replacing it would change the file in place before the master is written."""
    import re
    from pathlib import Path
    root = Path(outputs.__file__).parent
    into = re.compile(r"\.write_(text|bytes)\(|\bopen\([^)]*['\"][wax+]|\.save\((?!out\b)|Workbook\(")
    allowed = {"conf.write_text(": "a fonts.conf in LibreOffice's own temp folder",
               "copy.write_bytes(": "a copy in the PDF conversion's temp folder"}
    found = []
    for path in [root / "outputs.py", *sorted((root / "documents").glob("*.py"))]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if into.search(line) and not any(a in line for a in allowed):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert found == []


def test_a_run_writing_ahead_leaves_the_same_files_as_one_writing_after_the_master(tmp_path, monkeypatch):
    """Outputs and receipts written into the twin while the master is written, then moved in, against the same
    run with everything written after the master: the same files, byte for byte, and the inbox cleared."""
    import shutil

    from tests.conftest import settings_for, small_ledger
    from toolkit.io import master_file
    first = replace(settings_for(tmp_path / "after"), settle_seconds=0)
    master_file.write_master(small_ledger(), first)
    first.path("inbox").mkdir(parents=True)
    hand_in(first, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    hand_in(first, "市人民医院", {"ZG-002": {vocab.PROGRESS: "已完成调研"}})
    shutil.copytree(tmp_path / "after", tmp_path / "ahead", symlinks=True)
    second = replace(first, root=tmp_path / "ahead")
    monkeypatch.setattr(outputs, "CONCURRENCY", "serial")
    after = run_once(first)
    monkeypatch.setattr(outputs, "CONCURRENCY", "fork")
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 0)
    started = count_calls(monkeypatch, outputs.staging, "commit")
    ahead = run_once(second)
    assert started == ["commit"]

    def files(settings):        # a PDF carries its own creation time and ID: by name only
        out = settings.path("output")
        return {p.relative_to(out): b"PDF" if p.suffix == ".pdf" else p.read_bytes()
                for p in sorted(out.rglob("*")) if p.is_file() and "运行报告" not in p.parts}
    assert files(second) == files(first) != {}
    assert any(p.suffix == ".pdf" for p in files(second))      # LibreOffice converted inside the twin too
    assert len(ahead.consolidation.receipts) == len(after.consolidation.receipts) == 2
    assert [p.relative_to(second.path("output")) for p in ahead.consolidation.receipts] == \
        [p.relative_to(first.path("output")) for p in after.consolidation.receipts]
    assert not list(second.path("inbox").iterdir()) and not list(tmp_path.glob("ahead/.~stage-*"))
