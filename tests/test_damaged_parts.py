"""One bad part never stops the run: a damaged evidence entry, a damaged, locked or deleted history
database; evidence limits that hold in total; and SIGKILL over evidence intake (issue 22, points 1 and 3)."""
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import hand_in, settings_for, small_ledger
from tests.test_evidence import PHOTO, package
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.errors import BusyError
from toolkit.io import evidence, history_db, master_file
from toolkit.io.ledger_file import read_ledger

ROOT = Path(__file__).resolve().parents[1]
SCAN = b"%PDF-1.4 scan of the notice\n" + bytes(random.Random(22).randrange(256) for _ in range(20000))


def damage(path: Path, member: str) -> None:
    """Flip bytes in the middle of one entry's data, as an interrupted download leaves it (its CRC no longer fits)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    raw = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for at in range(start + info.compress_size // 2, start + info.compress_size // 2 + 16):
        raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


def clear_utf8_flag(path: Path) -> None:
    """Store every name's UTF-8 bytes without flag bit 11, as archivers on macOS and Linux do."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        infos, at = zf.infolist(), zf.start_dir
    for info in infos:
        for flags in (info.header_offset + 6, at + 8):         # the local header's and the directory's
            raw[flags:flags + 2] = struct.pack("<H", struct.unpack("<H", raw[flags:flags + 2])[0] & ~0x800)
        at += 46 + sum(struct.unpack("<HHH", raw[at + 28:at + 34]))
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())


def stored(settings, unit) -> list[str]:
    folder = settings.path("archive") / "2024-08" / evidence.FOLDER / unit
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- evidence

def test_a_damaged_evidence_entry_is_refused_by_name_and_the_workbook_the_rest_and_other_units_go_on(workspace):
    s = workspace
    sent = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "已印发通知"}},
                   {"ZG-004/整改通知扫描件.pdf": SCAN, "ZG-004/会议照片.png": PHOTO})
    damage(sent, "ZG-004/整改通知扫描件.pdf")
    with pytest.raises(zipfile.BadZipFile):             # what the evidence store used to meet
        with zipfile.ZipFile(sent) as zf:
            zf.read("ZG-004/整改通知扫描件.pdf")
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    result = Workspace(s).consolidate()
    outcomes = {f.submission.unit: f.outcome for f in result.files}
    assert outcomes == {"市人民医院": vocab.OUTCOME_ACCEPTED, "办公室": vocab.OUTCOME_ACCEPTED}
    after = read_ledger(s.master)
    assert after.measures["ZG-004"].progress == "已印发通知" and after.measures["ZG-001"].status == vocab.DONE
    assert stored(s, "市人民医院") == ["ZG-004/SHA256SUMS.sha256", "ZG-004/会议照片.png"]
    receipt = next(p for p in result.receipts if "市人民医院" in p.name).read_text(encoding="utf-8")
    line = next(x for x in receipt.splitlines() if "“ZG-004/整改通知扫描件.pdf”" in x)
    assert "已损坏" in line and "请重新发送此文件" in line
    assert "ZG-004：会议照片.png" in receipt


class NewTrouble(Exception):
    """An error type nobody has seen yet."""


def test_any_error_reading_one_evidence_entry_or_matching_them_stays_with_that_evidence(workspace, monkeypatch):
    s = workspace
    real_read = zipfile.ZipFile.read

    def read(self, name, pwd=None):
        if name == "ZG-004/整改通知扫描件.pdf":
            raise NewTrouble("a new kind of failure")
        return real_read(self, name, pwd)
    monkeypatch.setattr(zipfile.ZipFile, "read", read)       # met by the store, after every check passed
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "已印发通知"}},
            {"ZG-004/整改通知扫描件.pdf": SCAN, "ZG-004/会议照片.png": PHOTO})
    result = Workspace(s).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert stored(s, "市人民医院") == ["ZG-004/SHA256SUMS.sha256", "ZG-004/会议照片.png"]
    assert "“ZG-004/整改通知扫描件.pdf”已损坏" in result.receipts[0].read_text(encoding="utf-8").replace("：", "")

    def broken_match(*args):
        raise NewTrouble("matching failed")
    monkeypatch.setattr(evidence, "match", broken_match)
    package(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}}, {"ZG-001/照片.png": PHOTO}, name="办公室佐证.zip")
    result = Workspace(s).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert read_ledger(s.master).measures["ZG-001"].status == vocab.DONE
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "“ZG-001/照片.png”" in receipt and "请重新发送此文件" in receipt


def test_a_damaged_workbook_entry_rejects_its_package_with_the_reason_and_others_go_on(workspace):
    s = workspace
    sent = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}}, {"ZG-004/会议照片.png": PHOTO})
    damage(sent, "市人民医院.xlsx")
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    result = Workspace(s).consolidate()
    outcomes = {f.submission.name: f.outcome for f in result.files}
    assert outcomes == {"市人民医院佐证.zip": vocab.OUTCOME_REJECTED, "办公室.xlsx": vocab.OUTCOME_ACCEPTED}
    receipt = next(p for p in result.receipts if "市人民医院" in p.name).read_text(encoding="utf-8")
    assert "工作簿已损坏" in receipt


def test_many_entries_each_under_one_mb_are_limited_by_the_ratio_of_the_whole_package(workspace):
    s = workspace
    blank = b"%PDF-1.4\n" + b"\0" * (1048576 - 20)             # each just under 1 MB, a few KB packed
    sent = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}},
                   {f"ZG-004/空白{i:03d}.pdf": blank for i in range(30)})
    with zipfile.ZipFile(sent) as zf:
        infos = zf.infolist()
    assert all(i.file_size < 1048576 for i in infos) and sent.stat().st_size < 200_000
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_REJECTED
    assert "压缩比异常" in result.receipts[0].read_text(encoding="utf-8")
    assert not (s.path("archive") / "2024-08" / evidence.FOLDER).exists()


def test_a_units_own_sha256sums_txt_is_evidence_and_never_our_checksum_list(workspace):
    s = workspace
    theirs = b"0123abcd  \xe6\x89\xab\xe6\x8f\x8f\xe4\xbb\xb6.pdf\n"      # the unit's own list: kept byte for byte
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}},
            {"ZG-004/SHA256SUMS.txt": theirs, "ZG-004/扫描件.pdf": SCAN})
    result = Workspace(s).consolidate()
    folder = s.path("archive") / "2024-08" / evidence.FOLDER / "市人民医院" / "ZG-004"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS.sha256", "SHA256SUMS.txt", "扫描件.pdf"]
    assert (folder / "SHA256SUMS.txt").read_bytes() == theirs
    ours = (folder / evidence.SUMS).read_text(encoding="utf-8")
    assert f"{hashlib.sha256(theirs).hexdigest()}  SHA256SUMS.txt\n" in ours
    assert f"{hashlib.sha256(SCAN).hexdigest()}  扫描件.pdf\n" in ours
    assert "ZG-004：SHA256SUMS.txt" in result.receipts[0].read_text(encoding="utf-8")
    assert evidence.stored_files(folder) == ["SHA256SUMS.txt", "扫描件.pdf"]
    assert Path(evidence.SUMS).suffix not in evidence.ALLOWED_SUFFIXES      # no evidence can ever take its name


def test_names_stored_as_utf8_without_the_flag_by_macos_and_linux_archivers_are_found(workspace):
    s = workspace
    sent = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.EVIDENCE: "会议纪要.pdf"}},
                   {"会议纪要.pdf": SCAN, "ZG-004/现场照片.png": PHOTO})
    clear_utf8_flag(sent)
    result = Workspace(s).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert stored(s, "市人民医院") == ["ZG-004/SHA256SUMS.sha256", "ZG-004/会议纪要.pdf", "ZG-004/现场照片.png"]
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "已从压缩包中读取工作簿“市人民医院.xlsx”" in receipt and "未接收" not in receipt


# ---------------------------------------------------------------- the history database

def _with_history(s, rows=3000):
    """A workspace with a recorded consolidation and a database of many pages (rows of other periods)."""
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第一次"}})
    Workspace(s).consolidate()
    with history_db.open_history(s) as db:
        db.add([history_db.Change(f"ZG-{i:04d}", "", vocab.PROGRESS, "", "旧进展" * 10, "测试", "2023-01-01T00:00:00",
                                  "") for i in range(rows)], "", history_db.COMMITTED)
    path = history_db.db_path(s)
    assert not Path(f"{path}-wal").exists()         # checkpointed on close: every page is in the file
    return path


def test_a_history_database_damaged_in_the_middle_is_moved_aside_rebuilt_and_the_night_goes_on(workspace):
    s = workspace
    path = _with_history(s)
    pages = path.stat().st_size // 4096
    assert pages > 20
    with open(path, "r+b") as fh:               # a page in the middle overwritten with garbage
        fh.seek(pages // 2 * 4096)
        fh.write(bytes(random.Random(3).randrange(256) for _ in range(4096)))
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第二次"}})
    report = Workspace(s).run_once()
    assert report.consolidation.count(vocab.OUTCOME_ACCEPTED) == 1
    assert read_ledger(s.master).measures["ZG-004"].progress == "第二次"       # the master was written
    assert report.notices                                                       # and the documents
    (line,) = [w for w in report.warnings if "变更记录数据库" in w]
    moved = [p for p in s.root.iterdir() if p.name.startswith("history.损坏-") and p.suffix == ".sqlite"]
    assert len(moved) == 1 and f"已原样移到“{moved[0].name}”" in line and "已损坏" in line and "按归档文件重建" in line
    with history_db.open_history(s) as db:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        progress = [c.new for c in db.changes("ZG-004") if c.field == vocab.PROGRESS]
        assert progress == ["第一次", "第二次"]                               # rebuilt, then this night recorded
    Workspace(s).refresh_master()                                              # and refresh works again


def test_a_history_database_held_by_another_program_is_said_so_not_a_full_disk(workspace):
    s = workspace
    path = _with_history(s, rows=0)
    s = replace(s, lock_wait_seconds=0)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")                          # a database viewer with unsaved edits
    try:
        hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第二次"}})
        with pytest.raises(BusyError) as caught:
            Workspace(s).consolidate()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "被其他程序占用" in str(caught.value) and "磁盘空间不足" not in str(caught.value)
    assert read_ledger(s.master).measures["ZG-004"].progress == "第一次"
    assert Workspace(s).consolidate().count(vocab.OUTCOME_ACCEPTED) == 1        # released: taken in


def test_a_deleted_history_database_is_recreated_rebuilt_and_said_so(workspace):
    s = workspace
    path = _with_history(s, rows=0)
    path.unlink()
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第二次"}})
    result = Workspace(s).consolidate()
    (line,) = [n for n in result.ledger.read_notes if "变更记录数据库" in n]
    assert "不存在" in line and "已新建" in line and "按归档文件重建" in line
    with history_db.open_history(s) as db:
        assert [c.new for c in db.changes("ZG-004") if c.field == vocab.PROGRESS] == ["第一次", "第二次"]


# ---------------------------------------------------------------- SIGKILL over evidence intake

def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _state(root: Path) -> tuple:
    """What must come out the same however often the run was killed: the master's fields, the stored evidence,
    the history's state, and no run left pending."""
    settings = settings_for(root)
    ledger = read_ledger(settings.master)
    fields = ([m.values() for m in ledger.measures.values()], [o.values() for o in ledger.owners.values()],
              [(e.unit, e.name, e.sha256, e.outcome, e.accepted) for e in ledger.log])
    with history_db.open_history(settings) as db:
        assert db.pending() == 0
        state = db.state()
    return fields, _tree(root / "archive" / "2024-08" / evidence.FOLDER), state


def test_sigkill_at_random_points_of_evidence_intake_then_a_rerun_leaves_master_archive_and_database_consistent(
        tmp_path):
    template = tmp_path / "template"
    s = settings_for(template)
    s = replace(s, settle_seconds=0)
    master_file.write_master(small_ledger(), s)
    s.path("inbox").mkdir(parents=True)
    (template / "config.toml").write_text('title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\n'
                                          'programme_start = "2024-03-01"\n', encoding="utf-8")
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.EVIDENCE: "培训通知.pdf"}},
            {"ZG-004/整改通知扫描件.pdf": SCAN, "ZG-004/会议照片.png": PHOTO, "培训通知.pdf": SCAN[:5000]})
    damaged = package(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}},
                      {"ZG-001/扫描件.pdf": SCAN, "ZG-001/照片.png": PHOTO}, name="办公室佐证.zip")
    damage(damaged, "ZG-001/扫描件.pdf")
    hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "已建立机制"}})
    for p in s.path("inbox").iterdir():
        os.utime(p, (time.time() - 60, time.time() - 60))
    cmd = [sys.executable, "-m", "toolkit", "consolidate", "-c"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    t0 = time.perf_counter()
    subprocess.run(cmd + [str(reference)], check=True, capture_output=True, env=env, cwd=ROOT)
    full = time.perf_counter() - t0
    expected = _state(reference)
    assert "办公室/ZG-001/照片.png" in expected[1] and "办公室/ZG-001/扫描件.pdf" not in expected[1]
    rng = random.Random(22)
    killed = 0
    for i in range(6):
        run = tmp_path / f"run{i}"
        shutil.copytree(template, run)
        for _ in range(2):                       # killed twice at random points, then run to the end
            proc = subprocess.Popen(cmd + [str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=env, cwd=ROOT)
            time.sleep(rng.uniform(0.05, full * 0.8))   # mostly mid-run, even on a loaded machine
            killed += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        subprocess.run(cmd + [str(run)], check=True, capture_output=True, env=env, cwd=ROOT)
        assert _state(run) == expected, f"run {i}"
        assert not list(run.joinpath("inbox").iterdir())
        assert not [p for p in run.joinpath("archive").rglob(".~tmp-*")]
        shutil.rmtree(run)
    assert killed >= 4


def test_a_half_made_archive_copy_left_by_a_killed_run_is_removed_by_the_next_run(workspace):
    s = workspace
    archive = s.path("archive") / "2024-08"
    archive.mkdir(parents=True)
    leftover = archive / ".~tmp-99999.xlsx"          # a copy cut off by SIGKILL: another pid's name
    leftover.write_bytes(b"PK\x03\x04 cut off")
    hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "已建立机制"}})
    result = Workspace(s).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert not leftover.exists()
    assert not list(archive.glob(".~tmp-*"))
