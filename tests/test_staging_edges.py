"""The output folder's staging twin at its edges (toolkit/io/staging.py, outputs.Ahead): other folders' twins,
a twin that cannot be made or disappears, files changed in place meanwhile, modes, leftovers and warnings."""
import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

from tests.conftest import hand_in
from toolkit import outputs, vocab
from toolkit.app import run_once
from toolkit.io import fileio, staging


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def output_with_files(out: Path) -> Path:
    for rel, text in {"督办编号.json": "{}", "2024-08/通报/a.md": "旧", "2024-08/回执/r.txt": "回执"}.items():
        fileio.atomic_write_text(out / rel, text)
    return out


def test_sweep_never_removes_the_live_twin_of_a_sibling_folder_named_with_a_dash(tmp_path):
    """The twin of a sibling output folder 'out-2' (another workspace beside this one, under its own lock) is not
    one of 'out''s leftovers."""
    out = output_with_files(tmp_path / "out")
    other = output_with_files(tmp_path / "out-2")
    live = staging.open_stage(other, ["2024-08"], ("回执",))      # another workspace's run, mid-way
    fileio.atomic_write_text(live.folder / "2024-08/看板.html", "<p>written ahead</p>")
    staging.sweep(out)                                           # this workspace's run starts
    assert live.folder.exists(), "sweep of 'out' removed the live twin of 'out-2'"


def test_a_twin_gone_before_commit_never_empties_the_output_folder(tmp_path):
    """A twin removed under a run (a temp cleaner) is not read as "the writers removed every file": commit moves
    and removes nothing (督办编号.json and the period's documents stay) and says so."""
    out = output_with_files(tmp_path / "out-2")
    before = tree(out)
    live = staging.open_stage(out, ["2024-08"], ("回执",))
    staging.discard(live)                    # removed under the run
    assert staging.commit(live) is False
    assert tree(out) == before


def test_open_stage_falls_back_when_the_twin_cannot_be_made(tmp_path):
    """No twin where none can be made (a twin name over NAME_MAX for an output folder of a long Chinese name;
    a parent folder the user may not create in): the caller writes after the master."""
    out = output_with_files(tmp_path / ("整改" * 41 + "输出"))       # 252 bytes: a valid folder name
    assert len(out.name.encode()) <= 255 and out.is_dir()
    assert staging.open_stage(out, ["2024-08"], ("回执",)) is None


def test_a_run_with_a_long_output_folder_name_still_succeeds(workspace, monkeypatch):
    """A run that cannot make a twin writes its documents after the master and succeeds."""
    settings = replace(workspace, paths={**workspace.paths, "output": "整改" * 41 + "输出"})
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 0)
    report = run_once(settings)
    assert report.notices and all(p.exists() for p in report.notices)


def test_commit_never_replaces_a_file_replaced_in_the_real_folder_meanwhile(tmp_path):
    """A file the office saved over while the master was written (WPS/Word save by rename, 督办编号.json edited
    by hand) is not replaced by what the writer derived from the old one: nothing is committed."""
    out = output_with_files(tmp_path / "out")
    stage = staging.open_stage(out, ["2024-08"], ("回执",))
    fileio.atomic_write_text(stage.folder / "督办编号.json", '{"2024-08": {"甲": 1}}')   # writer: from the old {}
    fileio.atomic_write_text(out / "督办编号.json", '{"2024-08": {"乙": 7}}')           # office's edit, meanwhile
    assert staging.commit(stage) is False
    assert "乙" in (out / "督办编号.json").read_text(encoding="utf-8")
    assert not stage.folder.exists()


def test_a_receipt_rewritten_ahead_keeps_the_mode_of_the_receipt_it_replaces(tmp_path):
    """A receipt rewritten under its own name (a rerun of a file whose inbox copy was not cleared) keeps the
    existing receipt's mode, as written in place (fileio.adopt_mode)."""
    out = output_with_files(tmp_path / "out")
    receipt = out / "2024-08/回执/r.txt"
    os.chmod(receipt, 0o660)
    stage = staging.open_stage(out, ["2024-08"], outputs.Ahead.EXCLUDE)
    fileio.atomic_write_text(stage.folder / "2024-08/回执/r.txt", "回执")       # what write_receipts does
    staging.commit(stage)
    assert receipt.stat().st_mode & 0o777 == 0o660


def test_a_leftover_twin_is_swept_by_the_next_run_whichever_way_it_writes(workspace, monkeypatch):
    """A killed run's twin is swept by the next full run, also one that writes after the master (a ledger under
    PARALLEL_FROM, TOOLKIT_OUTPUTS=serial, no fork)."""
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    run_once(workspace)
    leftover = staging.open_stage(workspace.path("output"), ["2024-08"], ("回执",))
    leftover.folder.rename(leftover.folder.with_name(f"{staging.twin_name(workspace.path('output'))}999999"))
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.IN_PROGRESS}}, when=dt.datetime(2024, 8, 21, 9))
    run_once(workspace)                                         # serial: the demo ledger is under PARALLEL_FROM
    assert not list(workspace.path("output").parent.glob(".~stage-*"))


def test_warnings_of_outputs_written_ahead_name_the_real_folder(workspace, monkeypatch):
    """A warning of an output written ahead (notices: 'PDF 未能生成（<folder>）') names the folder in place, not
    the twin, in the run report and in the state the quick rerun repeats."""
    import subprocess

    from toolkit.documents import notices

    def broken(*a, **k):
        raise subprocess.SubprocessError("LibreOffice 崩溃")
    monkeypatch.setattr(notices.office, "convert_many", broken)
    monkeypatch.setattr(notices.office, "available", lambda *a, **k: True, raising=False)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 0)
    report = run_once(workspace)
    said = [w for w in report.warnings if "PDF 未能生成" in w]
    assert said, report.warnings
    assert not [w for w in said if staging.PREFIX in w], said


def test_touched_finds_every_change_a_whole_snapshot_records():
    """A 销号审核 request whose measure neither ledger holds is recorded as a whole snapshot records it."""
    from tests.conftest import small_ledger
    from toolkit.io import history_db
    from toolkit.model import Review
    before = small_ledger()
    after = before.copy()
    after.reviews[("ZG-099", "办公室")] = Review("ZG-099", "办公室", "2024-08-20")
    whole = history_db.diff_snapshots(history_db.snapshot(before), history_db.snapshot(after), "办公室", "t", "2024-08")
    assert [tuple(c)[:5] for c in history_db.diff_ledgers(before, after, time="t", period="2024-08")] == \
        [tuple(c)[:5] for c in whole]


def test_a_leftover_twin_of_a_folder_named_with_brackets_is_swept(tmp_path):
    """An output folder named with glob characters ('输出[2024]') still has its leftover twins swept."""
    out = output_with_files(tmp_path / "输出[2024]")
    leftover = out.parent / f"{staging.twin_name(out)}99999"
    fileio.atomic_write_text(leftover / "2024-08/x.md", "被杀的运行留下的")
    staging.sweep(out)
    assert not leftover.exists()


def _running(marker: str) -> list[int]:
    """The processes whose command line names marker (a run's forked writers keep their parent's)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


AHEAD_RUN = """
import sys
from dataclasses import replace
from pathlib import Path
from tests.conftest import settings_for
from toolkit import outputs
from toolkit.app import run_once
outputs.PARALLEL_FROM = 0                   # the small workspace writes its documents ahead, into the twin
settings = replace(settings_for(Path(sys.argv[1])), settle_seconds=0)
print("ready", flush=True)
run_once(settings)
print("done", flush=True)
"""


def test_a_run_killed_while_writing_ahead_is_made_whole_by_the_next_run(workspace, tmp_path):
    """SIGKILL at random points of a run writing its documents ahead (before, during and after the twin's commit):
    the next run leaves no twin and the same documents, receipts and inbox as a run never interrupted."""
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time
    root = Path(__file__).resolve().parents[1]
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    hand_in(workspace, "市人民医院", {"ZG-002": {vocab.PROGRESS: "已完成调研"}})
    pristine = tmp_path / "pristine"
    shutil.copytree(workspace.root, pristine, symlinks=True)
    script = tmp_path / "ahead_run.py"
    script.write_text(AHEAD_RUN, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))

    def documents(settings) -> dict[str, bytes]:    # the run report and PDFs carry their own times
        out = settings.path("output")
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file() and "运行报告" not in p.parts and p.suffix != ".pdf"}
    run_once(workspace)                               # the reference: never interrupted
    expected = documents(workspace)
    rng = random.Random(23)
    killed = 0
    for attempt in range(5):
        case = tmp_path / f"case{attempt}"
        shutil.copytree(pristine, case, symlinks=True)
        settings = replace(workspace, root=case)
        proc = subprocess.Popen([sys.executable, str(script), str(case)], stdout=subprocess.PIPE, env=env, cwd=root)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        killed += proc.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 5.0          # a forked writer left behind ends itself with its run (0.1 s polls)
        while _running(str(case)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(str(case))
        run_once(settings)
        assert not list(case.glob(".~stage-*")) and not list(case.rglob(".~tmp-*"))
        assert documents(settings) == expected
        assert not list(settings.path("inbox").iterdir())
    assert killed >= 3


def test_half_written_files_of_a_killed_run_are_removed_by_the_next_run(workspace):
    """A run killed while saving the master, a backup or a document in place leaves its .~tmp-* file;
    the next run (under the workspace lock) removes them all and nothing else."""
    run_once(workspace)
    period = next(p for p in workspace.path("output").iterdir() if p.is_dir() and p.name[:1].isdigit())
    left = [workspace.master.parent / ".~tmp-ms5lz3i1.xlsx", workspace.path("backup") / ".~tmp-整改台账_x.xlsx",
            workspace.path("output") / ".~tmp-k2j4h5g6.json", period / ".~tmp-a1b2c3d4.docx"]
    for p in left:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half")
    kept = [workspace.master.parent / "~tmp-notes.txt", period / "tmp-说明.docx"]     # not ours: kept
    for p in kept:
        p.write_bytes(b"user")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    run_once(workspace)
    assert [p for p in left if p.exists()] == []
    assert all(p.read_bytes() == b"user" for p in kept)
    assert not list(workspace.root.rglob(".~tmp-*"))
