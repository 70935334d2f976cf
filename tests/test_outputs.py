"""The run's declared outputs (toolkit/outputs.py): unchanged inputs skip an output, a removed file brings
it back, a new document kind is one entry, and writing them in forked processes gives the same files."""
import hashlib
import os
from dataclasses import replace

from tests.conftest import hand_in
from toolkit import outputs, vocab
from toolkit.app import run_once
from toolkit.documents import dashboard, ledger_print, notices, reminders


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
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"基准日 {run.assessment.reference_date}", encoding="utf-8")
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
        path.write_text(str(os.getpid()), encoding="utf-8")
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
    assert not list(workspace.path("output").rglob(".~*"))          # the print book built early was used up
    again = digests(forked.notices + forked.reminders)
    assert forked.notices == first.notices and forked.ladder_line == first.ladder_line
    assert {p: d for p, (d, _) in again.items()} == {p: d for p, (d, _) in serial.items()}
