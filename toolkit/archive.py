"""The archive (归档): each received file copied and verified before anything reads it (a snapshot), once
per content, named after its unit once read; why a file waits when the archive cannot take it."""
from __future__ import annotations

import datetime as dt
import errno
import logging
import multiprocessing as mp
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import vocab
from .inbox import SETTLE_SECONDS, InboxEntry, Skipped, _received
from .intake import Submission
from .io import evidence
from .io.fileio import copy_hashed, file_sha256, fit_name, safe_filename


@dataclass
class Snapshot:
    """One received file copied into the archive and verified; the run reads only the copy."""
    entry: InboxEntry
    name: str
    archived: Path | None        # None: the file could not be read (see error)
    sha256: str
    received: dt.datetime
    notes: list[str] = field(default_factory=list)
    error: str = ""              # the problem kind (toolkit.words) that kept the file from being read
    error_fix: str = ""          # its fix's kind, when the general advice does not fit
    error_params: dict = field(default_factory=dict)
    again: bool = False
    fresh: bool = False          # archived by this run (named after the file until it has been read)
    refused: list = field(default_factory=list)    # a folder's links and FIFOs, never opened (EvidenceFile)



def archived_files(archive_dir: Path) -> dict[str, Path]:
    """{short hash + suffix: archived file} of one period's archive (read once per run)."""
    out: dict[str, Path] = {}
    if archive_dir.is_dir():          # a file in its place: each file then says why it waits
        for p in sorted(archive_dir.iterdir()):
            if not p.name.startswith("."):
                out.setdefault(p.stem.rsplit("_", 1)[-1] + p.suffix, p)
    return out



def _archive_name(stem: str, received: dt.datetime, sha256: str, suffix: str) -> str:
    """unit-or-name_time_hash.suffix, cut to the file system's name limit."""
    return fit_name(safe_filename(stem), f"_{received:%Y%m%d-%H%M%S}_{sha256[:12]}{suffix}")



def sweep_leftovers(archive_dir: Path) -> None:
    """Remove the half-made copies (.~tmp-*) a killed or failed run left in the archive: under the
    workspace lock no other run writes there, and a received file is only ever the one renamed into place."""
    try:
        stale = [p for p in archive_dir.glob(".~tmp-*") if p.is_file() and not p.is_symlink()]
    except OSError:
        return
    for p in stale:
        _discard(p)



def archive_copy(entry: InboxEntry, archive_dir: Path, index: dict[str, Path], received: dt.datetime,
                 settle: float = SETTLE_SECONDS) -> Snapshot | Skipped:
    """Copy one inbox file into the archive and verify the copy (once per content: an archived
    copy of the same bytes is reused after its hash is checked). A file whose size or time
    changes while it is copied, or that changed less than settle seconds ago, is still being
    written: Skipped, for the next run."""
    name = entry.name
    age = time.time() - entry.mtime_ns / 1e9
    if 0 <= age < settle:
        return Skipped(name, f"文件{age:.0f}秒前仍有改动，可能尚未传完")
    suffix = Path(name).suffix.lower()
    suffix = suffix if len(suffix) <= 8 else ""
    tmp = archive_dir / f".~tmp-{os.getpid()}{suffix}"
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        sha, st = copy_hashed(entry.path, tmp)
    except FileNotFoundError as exc:
        _discard(tmp)
        if _archive_side(exc, archive_dir):
            return Skipped(name, archive_trouble(archive_dir, exc))
        return Skipped(name, "文件在汇总开始后被移走")
    except PermissionError as exc:
        _discard(tmp)
        if _archive_side(exc, archive_dir):       # the office's folder, not the unit's file
            return Skipped(name, archive_trouble(archive_dir, exc))
        return Snapshot(entry, name, None, "", received, error="file-no-read-permission")
    except (FileExistsError, NotADirectoryError) as exc:     # a file where the archive's folder should be
        _discard(tmp)
        return Skipped(name, archive_trouble(archive_dir, exc))
    except OSError as exc:
        _discard(tmp)
        return Skipped(name, f"复制到归档文件夹 {archive_dir} 时出错（{_os_reason(exc)}），原件留在收件箱")
    if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns) or file_sha256(tmp) != sha:
        tmp.unlink(missing_ok=True)
        return Skipped(name, "文件在复制时仍在变化，可能尚未传完")
    return _file_away(tmp, Snapshot(entry, name, tmp, sha, received), index, suffix)



def _file_away(tmp: Path, snap: Snapshot, index: dict[str, Path], suffix: str) -> Snapshot:
    """Move a verified copy into the archive under its name (once per content: an archived copy of
    the same bytes is reused after its hash is checked)."""
    sha, archive_dir = snap.sha256, tmp.parent
    key = sha[:12] + suffix
    existing = index.get(key)
    if existing is not None and existing.exists() and file_sha256(existing) == sha:
        tmp.unlink()
        snap.archived = existing
        return snap
    target = existing or archive_dir / _archive_name(Path(snap.name).stem, snap.received, sha, suffix)
    os.replace(tmp, target)          # a damaged copy of the same name is replaced, never trusted
    index[key] = target
    snap.archived, snap.fresh = target, True
    return snap



def archive_folder(entry: InboxEntry, archive_dir: Path, index: dict[str, Path], received: dt.datetime,
                   settle: float = SETTLE_SECONDS) -> Snapshot | Skipped:
    """Snapshot a folder sent whole into a stored .zip in the archive (evidence.snapshot_folder), to be
    taken in like a .zip package. A folder changed less than settle seconds ago, or changing during
    the snapshot, is still being copied: Skipped, untouched, for the next run. One too large or too
    deep is refused without a copy (error) and stays in the inbox."""
    name = entry.name
    age = time.time() - max(entry.mtime_ns, entry.changed_ns) / 1e9    # a copy keeping old times: its ctime
    if 0 <= age < settle:
        return Skipped(name, f"文件夹中的文件{age:.0f}秒前仍有改动，可能尚未复制完")
    archive_dir.mkdir(parents=True, exist_ok=True)
    tmp = archive_dir / f".~tmp-{os.getpid()}.zip"
    tmp.unlink(missing_ok=True)
    try:
        refused = evidence.snapshot_folder(entry.path, tmp)
        sha = file_sha256(tmp)
    except evidence.FolderChanging as exc:
        tmp.unlink(missing_ok=True)
        return Skipped(name, str(exc))
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        return Skipped(name, "文件夹在汇总开始后被移走")
    except evidence.PackageError as exc:
        tmp.unlink(missing_ok=True)
        return Snapshot(entry, name, None, "", received, error=exc.kind, error_fix=exc.fix_kind,
                        error_params=exc.params)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return Skipped(name, f"存档到归档文件夹 {archive_dir} 时出错（{_os_reason(exc)}），原文件夹留在收件箱")
    snap = _file_away(tmp, Snapshot(entry, name, tmp, sha, received, refused=refused), index, ".zip")
    snap.notes.append(f"以文件夹“{name}”报送，其中的文件已原样存档为一个压缩包")
    return snap



def _archive_side(exc: OSError, archive_dir: Path) -> bool:
    """Whether an error copying into the archive was about the archive (the office's side), not the file read."""
    where = exc.filename or exc.filename2
    if not where:
        return False
    where = Path(str(where))
    return where == archive_dir or archive_dir.is_relative_to(where) or where.parent == archive_dir



def archive_trouble(archive_dir: Path, exc: OSError) -> str:
    """Why a file waits in the inbox when the archive cannot take it: the office's problem, not the unit's."""
    return (f"无法写入归档文件夹 {archive_dir}（{_os_reason(exc)}）。这是办公室一方的问题，报送单位无需重新发送；"
            f"原件留在收件箱，请办公室检查该文件夹（权限、磁盘空间、是否被同名文件占用）后重新汇总")



def _discard(tmp: Path) -> None:
    """Remove a temporary copy if it can be (a broken archive folder may refuse even that)."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass



def _os_reason(exc: OSError) -> str:
    """An OS error's cause in Chinese (the system's own text is English)."""
    if isinstance(exc, PermissionError):
        return "没有写入权限"
    return {errno.ENOSPC: "磁盘空间不足，请清理该磁盘后重新汇总", errno.EROFS: "该位置是只读的",
            errno.EEXIST: "该位置被一个同名文件占用，不是文件夹", errno.ENOTDIR: "路径中有一段是文件而不是文件夹",
            errno.ENAMETOOLONG: "文件名太长", errno.EIO: "读写出错（磁盘或网络共享故障）"}.get(exc.errno, "读写出错")



def file_under_unit(snap: Snapshot, sub: Submission, index: dict[str, Path]) -> Path:
    """Name a copy archived by this run after the unit the workbook says it is from (it was named
    after the file until it had been read); a copy archived earlier keeps its name."""
    if not snap.fresh:
        return index.get(snap.sha256[:12] + snap.archived.suffix, snap.archived)
    stem = sub.unit or f"{vocab.UNIDENTIFIED}_{Path(snap.name).stem[:40]}"
    target = snap.archived.with_name(_archive_name(stem, snap.received, snap.sha256, snap.archived.suffix))
    if target != snap.archived:
        os.replace(snap.archived, target)
        index[snap.sha256[:12] + snap.archived.suffix] = target
    return target


AHEAD_FROM = 64      # files; below this, copying them while the master is read saves less than a fork costs
log = logging.getLogger("toolkit")


class Ahead:
    """The inbox's files copied into the archive in a forked process while the run reads the master: copying is
    file creation and fsync, reading is Python, so the two overlap (a second saved on 1,000 files). Then, with
    then(path, name, sha256, received), the same process reads each copy as far as it can without the ledger
    (readers.parse_early) until take_in collects. take_in collects the snapshots; whatever this did not copy (no
    fork, a failed process) it copies itself, and a copy already made is reused after its hash is checked, as on
    any rerun. Use it as a context manager: leaving it early (the master could not be read) stops the process; a
    half-made copy is swept by the next run."""

    def __init__(self, entries: list, ignored: list[Skipped], archive_dir: Path, settle: float, now: dt.datetime,
                 then=None):
        self.entries, self.ignored, self.archive_dir, self.now = entries, ignored, archive_dir, now
        self.proc: mp.process.BaseProcess | None = None
        self.early: dict[tuple, object] = {}    # (archived path, name, sha256, received) → what then() made of it
        if sum(isinstance(e, InboxEntry) for e in entries) < AHEAD_FROM or "fork" not in mp.get_all_start_methods():
            return
        try:
            self.spool = tempfile.TemporaryFile(prefix="zhenggai-ahead-")   # gone with its last descriptor
        except OSError:
            return
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_copy_ahead, args=(child, self.spool, entries, archive_dir, settle, now, then),
                                daemon=True)
        try:
            self.proc.start()
        except OSError:                       # fork refused (too many processes, no memory): take_in does it all
            self.proc = None
            self.conn.close()
            self.spool.close()
        child.close()

    def collect(self) -> tuple[dict[int, Snapshot | Skipped], dict[str, Path] | None]:
        """({position in entries: its snapshot}, the archive index as the copies left it), waiting for the copies
        and stopping the reading ahead where it is (self.early: what it read); ({}, None) when none were made ahead."""
        if self.proc is None:
            return {}, None
        try:
            copied = self.conn.recv()         # the copies are made and in the spool
        except (EOFError, OSError):           # the process failed: take_in copies every file itself
            copied = False
        self.close()
        if isinstance(copied, tuple):         # the spool had no room for them: they came through the pipe
            return copied
        if not copied:
            return {}, None
        records = _spooled(self.spool)
        self.spool.close()
        if not records:
            return {}, None
        snaps, index = records[0]
        self.early = dict(records[1:])
        return snaps, index

    def take_early(self) -> dict[tuple, object]:
        """What was read ahead (see collect), handed over: the reader judges and lets go of each file in turn."""
        early, self.early = self.early, {}
        return early

    def close(self) -> None:
        if self.proc is not None:
            self.conn.close()
            self.proc.kill()                  # copying is over (collect) or abandoned; reading ahead only reads
            self.proc.join()
            self.proc = None

    def __enter__(self) -> "Ahead":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if hasattr(self, "spool"):
            self.spool.close()


def _spool(fh, record) -> None:
    """Append one record to the spool: its length, then its pickle (a record cut short by a kill is dropped)."""
    data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
    fh.write(len(data).to_bytes(8, "little") + data)
    fh.flush()


def _spooled(fh) -> list:
    """Every whole record of the spool, in order, up to the first that cannot be read back (memory, a damaged
    temp disk): what is not read back is copied or read by the run itself."""
    out = []
    try:
        fh.seek(0)
        while len(head := fh.read(8)) == 8:      # one record at a time: the spool is never in memory twice
            data = fh.read(int.from_bytes(head, "little"))
            if len(data) < int.from_bytes(head, "little"):
                break                                # cut short by the kill
            out.append(pickle.loads(data))
    except Exception:          # a damaged temp disk, memory: what is not read back is copied or read by the run
        log.warning("提前读取的结果无法取回，其余文件照常读取", exc_info=True)
    return out


def _end_with_parent() -> None:
    """In the forked process: killed when the run's process ends, however it ends (Linux), so that a file whose
    reading hangs keeps no process alive; gone at once if the run is already gone."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)         # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):                         # not Linux: collect() or __exit__ ends it
        pass
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(0)


def _copy_ahead(conn, spool, entries: list, archive_dir: Path, settle: float, now: dt.datetime, then) -> None:
    """In the forked process: copy each inbox entry as take_in would, spool the snapshots and the index and say so
    (or send them, when the spool has no room: the copies made here are named as the run names its own);
    then spool (the reader's job, then(...)) for each copy, until killed or done."""
    _end_with_parent()
    try:
        sweep_leftovers(archive_dir)
        index = archived_files(archive_dir)
        done: dict[int, Snapshot | Skipped] = {}
        for i, e in enumerate(entries):
            if isinstance(e, InboxEntry):
                received, _ = _received(e, now)
                done[i] = (archive_folder if e.folder else archive_copy)(e, archive_dir, index, received, settle)
        try:
            _spool(spool, (done, index))
        except OSError:        # no room for the spool (its temp folder full): the snapshots through the pipe
            conn.send((done, index))
            os._exit(0)
        conn.send(True)
    except Exception:
        log.exception("提前归档收件箱文件时出错，改为逐个归档")
        os._exit(0)
    try:
        if then is not None:
            os.nice(19)        # only idle time: the run's own processes (the master's far-cell scan) come first
        for snap in done.values():
            if then is not None and isinstance(snap, Snapshot) and snap.archived is not None:
                got = then(snap.archived, snap.name, snap.sha256, snap.received)
                if got is not None:
                    _spool(spool, ((str(snap.archived), snap.name, snap.sha256, snap.received), got))
    except Exception:          # a full disk, say: the readers read what is not spooled
        pass
    finally:
        conn.close()
        os._exit(0)
