"""Consolidation (汇总): inbox → archive → validate → merge → master, receipts per file.

Order matters for never losing a submission: every inbox file is first copied into the archive
and verified (a snapshot; only the archived copy is read), then the master is backed up and
replaced atomically, then receipts are written, and only then are inbox files removed — each
only if its bytes still equal the archived ones. A crash at any point leaves the inbox intact
and the master either as before or as after.
"""
from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import stat
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import vocab
from .assessment import Assessment, Dated, assess, dated
from .distribute import ensure_secret
from .documents import receipts
from .errors import SubmissionError
from .intake import Submission, read_submission
from .io import evidence, master_file
from .io.fileio import copy_hashed, file_sha256, fit_name, safe_filename
from .io.ledger_file import read_ledger
from .model import TEXT_ATTRS, Ledger, LogEntry, Settings
from .rules import normalize, review
from .rules.rollup import recompute_measure

IGNORED_PREFIXES = ("~$", ".~", ".")
CLAIM_SUFFIX = ".owner"     # .inbox.owner beside the inbox: a workspace's mark on a folder (toolkit.guards.claim_folders)
SETTLE_SECONDS = 2.0       # a file changed more recently than this may still be arriving
log = logging.getLogger("toolkit")


@dataclass
class InboxEntry:
    """One regular file found in the inbox, or a folder sent whole (size: its files' total, mtime_ns:
    the newest of its items), as the scan saw it."""
    path: Path
    size: int
    mtime_ns: int
    folder: bool = False
    changed_ns: int = 0       # a folder's newest item change time (ctime), for the settle check only

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Skipped:
    """An inbox item this run did not take in (or left in the inbox), and why."""
    name: str
    reason: str


@dataclass
class FileOutcome:
    """What became of one received file."""
    submission: Submission
    archived: Path | None           # None: the file could not even be read
    outcome: str
    accepted: int = 0
    late: bool = False
    source: Path | None = None      # the inbox file (None: a file given explicitly, e.g. --again)

    @property
    def unit(self) -> str:
        return self.submission.unit or vocab.UNIDENTIFIED


@dataclass
class ConsolidationResult:
    """Everything a run did, for the CLI, the Excel buttons, the nightly report and the notices."""
    period: str
    master: Path
    files: list[FileOutcome] = field(default_factory=list)
    master_changed: bool = False
    receipts: list[Path] = field(default_factory=list)
    submitted_units: list[str] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)
    ledger: Ledger | None = field(default=None, repr=False)   # the ledger as merged and written
    assessment: Assessment | None = field(default=None, repr=False)   # its figures, computed once
    ignored: list[Skipped] = field(default_factory=list)     # directories, hidden files, links, pipes
    deferred: list[Skipped] = field(default_factory=list)    # still being written: next run
    kept: list[Skipped] = field(default_factory=list)        # changed during the run: left in the inbox
    # (name, size, mtime_ns) of the inbox files this run started from, deferred ones left out: the
    # quick no-op check compares inbox_fingerprint() with it, so a file that arrived during the run,
    # or was deferred, is looked at again next time
    inbox_seen: list[tuple[str, int, int]] = field(default_factory=list)

    def count(self, *outcomes: str) -> int:
        return sum(1 for f in self.files if f.outcome in outcomes)

    @property
    def accepted_rows(self) -> int:
        return sum(f.accepted for f in self.files)

    def lines(self) -> list[str]:
        """What a person wants to read after a consolidation, one line each."""
        out = [f"汇总（{self.period}）：收到{len(self.files)}个文件，采纳{self.count(*vocab.APPLIED_OUTCOMES)}个"
               f"（其中部分采纳{self.count(vocab.OUTCOME_PARTIAL)}个），退回{self.count(vocab.OUTCOME_REJECTED)}个，"
               f"重复{self.count(vocab.OUTCOME_DUPLICATE)}个，被取代{self.count(vocab.OUTCOME_SUPERSEDED)}个；"
               f"更新措施{self.accepted_rows}条。"]
        for f in self.files:
            flag = "（逾期报送）" if f.late else ""
            out.append(f"  {f.outcome}{flag}：{f.submission.name} → {f.unit}，采纳{f.accepted}条，问题{len(f.submission.problems)}处")
        for title, items in (("留待下次汇总", self.deferred + self.kept), ("忽略的项目", self.ignored)):
            if items:
                out.append(f"{title}（{len(items)}个）：" + "；".join(f"{i.name}（{i.reason}）" for i in items))
        out.append(f"台账{'已更新' if self.master_changed else '无变化'}：{self.master}")
        if self.missing_units:
            out.append(f"本期尚未报送（{len(self.missing_units)}个）：{'、'.join(self.missing_units)}")
        if self.receipts:
            out.append(f"回执（{len(self.receipts)}份）：{self.receipts[0].parent}")
        return out


def own_folders(settings: Settings) -> set[Path]:
    """The toolkit's own folders: never a submission, even when configured inside the inbox."""
    return {settings.path(k) for k in settings.paths if k != "master"} | {settings.master.parent}


def _folder_entry(path: Path, st: os.stat_result) -> InboxEntry | Skipped:
    """A folder sent whole (a workbook with its evidence), summed up by lstat alone; one that cannot
    be listed is still an entry, so that archive_folder says why it is refused or deferred."""
    try:
        items = evidence.list_folder(path)
    except (OSError, evidence.PackageError):
        return InboxEntry(path, 0, st.st_mtime_ns, folder=True)
    files = [i for i in items if i.kind == "file"]
    if not files:
        return Skipped(path.name, "文件夹中没有文件")
    return InboxEntry(path, sum(i.size for i in files), max([st.st_mtime_ns] + [i.mtime_ns for i in items]),
                      folder=True, changed_ns=max([st.st_ctime_ns] + [i.ctime_ns for i in items]))


def scan_inbox(inbox: Path, own: set[Path] = frozenset()) -> tuple[list[InboxEntry], list[Skipped]]:
    """The inbox's regular files and folders (each folder one submission with its evidence), oldest
    first, and every other item with the reason it is not a submission. Nothing is followed or
    opened: a symlink is never read, a FIFO never waited on."""
    entries: list[InboxEntry] = []
    ignored: list[Skipped] = []
    if not inbox.is_dir():
        return entries, ignored
    with os.scandir(inbox) as it:
        for e in it:
            if e.name.endswith(CLAIM_SUFFIX) and e.name.startswith(".") or e.name.startswith(".~tmp-claim-"):
                continue                     # a workspace's mark on a folder beside this one
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue                     # gone since the listing
            if stat.S_ISLNK(st.st_mode):
                ignored.append(Skipped(e.name, "快捷方式（符号链接），不读取其指向的文件"))
            elif stat.S_ISDIR(st.st_mode) and e.name.startswith("."):
                ignored.append(Skipped(e.name, "隐藏文件夹"))
            elif stat.S_ISDIR(st.st_mode) and Path(e.path).resolve() in own:
                ignored.append(Skipped(e.name, "本工具自己的文件夹（归档、输出等），不是报送材料"))
            elif stat.S_ISDIR(st.st_mode):
                folder = _folder_entry(Path(e.path), st)
                (ignored if isinstance(folder, Skipped) else entries).append(folder)
            elif not stat.S_ISREG(st.st_mode):
                ignored.append(Skipped(e.name, "不是普通文件（如管道），未打开"))
            elif e.name.startswith(("~$", ".~lock.")):
                ignored.append(Skipped(e.name, "Excel/WPS 或 LibreOffice 的占用标记文件"))
            elif e.name.startswith(IGNORED_PREFIXES):
                ignored.append(Skipped(e.name, "隐藏文件"))
            else:
                entries.append(InboxEntry(Path(e.path), st.st_size, st.st_mtime_ns))
    entries.sort(key=lambda x: (x.mtime_ns, x.name))
    ignored.sort(key=lambda x: x.name)
    return entries, ignored


def inbox_files(inbox: Path) -> list[Path]:
    """Received files and folders, oldest first (see scan_inbox for what is not a submission)."""
    return [e.path for e in scan_inbox(inbox)[0]]


def inbox_fingerprint(inbox: Path, own: set[Path] = frozenset()) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of the inbox's files and folders now, to compare with a result's inbox_seen."""
    return sorted((e.name, e.size, e.mtime_ns) for e in scan_inbox(inbox, own)[0])


def left_behind(ledger: Ledger, entries: list[InboxEntry]) -> list[tuple[InboxEntry, LogEntry]]:
    """Inbox items an earlier run already took in (their bytes, or for a folder or unreadable file its
    name and time of receipt, are in the 报送记录) but could not remove, each with its record."""
    by_hash = {e.sha256: e for e in ledger.log if e.sha256}
    by_name = {(e.name, e.received): e for e in ledger.log}
    now = dt.datetime.now().replace(microsecond=0)
    out = []
    for entry in entries:
        found = None
        if not entry.folder:
            try:
                found = by_hash.get(file_sha256(entry.path, regular_only=True))
            except OSError:
                pass
        stamp = _received(entry, now)[0].isoformat(timespec="seconds")
        found = found or by_name.get((entry.name, stamp))
        if found is not None:
            out.append((entry, found))
    return out


def archived_files(archive_dir: Path) -> dict[str, Path]:
    """{short hash + suffix: archived file} of one period's archive (read once per run)."""
    out: dict[str, Path] = {}
    if archive_dir.is_dir():          # a file in its place: each file then says why it waits
        for p in sorted(archive_dir.iterdir()):
            if not p.name.startswith("."):
                out.setdefault(p.stem.rsplit("_", 1)[-1] + p.suffix, p)
    return out


@dataclass
class Snapshot:
    """One received file copied into the archive and verified; the run reads only the copy."""
    entry: InboxEntry
    name: str
    archived: Path | None        # None: the file could not be read (see error)
    sha256: str
    received: dt.datetime
    notes: list[str] = field(default_factory=list)
    error: str = ""
    fix: str = ""                # what to do about error, when the general advice does not fit
    again: bool = False
    fresh: bool = False          # archived by this run (named after the file until it has been read)
    refused: list = field(default_factory=list)    # a folder's links and FIFOs, never opened (EvidenceFile)


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
        return Snapshot(entry, name, None, "", received, error="没有读取该文件的权限")
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
        return Snapshot(entry, name, None, "", received, error=str(exc), fix=exc.fix)
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


def latest_applied(ledger: Ledger, period: str) -> dict[str, str]:
    """{unit: receipt time of its newest file merged for the period} (from the 报送记录)."""
    latest: dict[str, str] = {}
    for e in ledger.log:
        if e.period == period and e.applied:
            latest[e.unit] = max(latest.get(e.unit, ""), e.received)
    return latest


def merge(ledger: Ledger, sub: Submission, review_required: bool = False) -> int:
    """Apply a submission's rows to the unit's own entries and recompute those measures (under
    close-out review, an 已完成 becomes a 申请销号 until the office agrees)."""
    stamp = sub.received.isoformat(timespec="seconds")
    for u in sub.updates:
        entry = ledger.owners[(u.measure_id, sub.unit)]
        closed = ledger.reviews.get((u.measure_id, sub.unit))
        if u.status and review_required and closed and closed.state == vocab.CLOSED and u.status != vocab.DONE:
            # a 销号 is the office's decision: a unit's older template cannot reopen it
            sub.notes.append(f"措施{u.measure_id}已经办公室审核销号，本次填报的“{u.status}”未采纳，仍为已销号；"
                             f"如确需重新整改，请与办公室联系。")
        elif u.status and review_required:
            if u.status == vocab.DONE:
                entry.status = review.request(ledger, entry, u.evidence, stamp)
            else:
                review.withdraw(ledger, entry)
                entry.status = u.status
        elif u.status:
            entry.status = u.status
        for attr in TEXT_ATTRS:
            text = getattr(u, attr)
            if text:
                setattr(entry, attr, normalize.truncate_cell(text))
        entry.submitted_at = stamp
        recompute_measure(ledger, u.measure_id)
    return len(sub.updates)


def judge(ledger: Ledger, sub: Submission, known_hashes: set[str], latest: dict[str, str],
          review_required: bool = False) -> tuple[str, int]:
    """Decide a file's outcome and merge it when it is the newest valid one for its unit
    (latest: {unit: newest merged receipt time}, updated here)."""
    if sub.sha256 in known_hashes:
        return vocab.OUTCOME_DUPLICATE, 0
    if sub.rejected:
        return vocab.OUTCOME_REJECTED, 0
    received = sub.received.isoformat(timespec="seconds")
    if latest.get(sub.unit, "") > received:
        return vocab.OUTCOME_SUPERSEDED, 0
    if not sub.updates:
        return (vocab.OUTCOME_REJECTED if sub.problems else vocab.OUTCOME_ACCEPTED), 0
    accepted = merge(ledger, sub, review_required)
    latest[sub.unit] = max(latest.get(sub.unit, ""), received)
    return (vocab.OUTCOME_PARTIAL if sub.problems else vocab.OUTCOME_ACCEPTED), accepted


PARALLEL_FROM = 64      # files; below this one reader process is enough
_FIX_RESEND = "请用下发的模板重新填写并保存为 .xlsx 后报送"


def _read_safely(job: tuple, ledger: Ledger, settings: Settings, key: bytes) -> Submission:
    path, name, sha, received = job
    try:
        return read_submission(path, ledger, settings, received, name, sha, key=key)
    except Exception as exc:       # a reader bug must not stop the run: this file is rejected
        log.exception("读取 %s 时出错", name)
        return Submission(path, name, sha, received).reject(
            f"读取文件时出错（{type(exc).__name__}），文件可能构造异常", _FIX_RESEND)


def _reader(conn, others: list, ledger: Ledger, settings: Settings, key: bytes) -> None:
    """A reader process: read each (path, name, sha, received) it is sent, send back the Submission.
    The parent's ends of the pipes are closed here, so that the parent's death ends the reader."""
    for other in others:
        other.close()
    try:
        while (job := conn.recv()) is not None:
            conn.send(_read_safely(job, ledger, settings, key))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        os._exit(0)


class _Readers:
    """Reader processes (forked: they share the ledger without copying it), each file with a time
    limit; a reader that dies or overruns is replaced and its file rejected."""

    def __init__(self, count: int, ledger: Ledger, settings: Settings, key: bytes):
        import multiprocessing as mp
        self.ctx = mp.get_context("fork")
        self.ledger, self.settings, self.key = ledger, settings, key
        self.slots: list[list] = []
        for _ in range(count):
            self.slots.append(self._start())

    def _start(self) -> list:
        parent, child = self.ctx.Pipe()
        others = [parent] + [s[1] for s in self.slots if not s[1].closed]
        proc = self.ctx.Process(target=_reader, args=(child, others, self.ledger, self.settings, self.key),
                                daemon=True)
        proc.start()
        child.close()
        return [proc, parent, None, 0.0]          # process, pipe, (index, job) in hand, deadline

    def _replace(self, slot: list) -> None:
        slot[0].kill()
        slot[0].join()
        slot[1].close()
        slot[:] = self._start()

    def run(self, jobs: list[tuple], timeout: float, done) -> None:
        from multiprocessing.connection import wait
        todo = deque(enumerate(jobs))
        try:
            while True:
                for slot in self.slots:
                    if slot[2] is None and todo:
                        slot[2], slot[3] = todo.popleft(), time.monotonic() + timeout
                        slot[1].send(slot[2][1])
                busy = [s for s in self.slots if s[2] is not None]
                if not busy:
                    return
                left = min(s[3] for s in busy) - time.monotonic()
                ready = wait([s[1] for s in busy], max(left, 0))
                for slot in busy:
                    (i, job), failure = slot[2], ""
                    if slot[1] in ready:
                        try:
                            done(i, slot[1].recv())
                        except (EOFError, OSError):
                            failure = "读取文件时读取程序意外退出，文件可能已损坏或构造异常"
                    elif time.monotonic() >= slot[3]:
                        failure = f"读取文件超过{timeout:g}秒仍未完成，文件可能构造异常，已停止读取"
                    else:
                        continue
                    slot[2] = None
                    if failure:
                        log.warning("%s:%s", job[1], failure)
                        self._replace(slot)
                        done(i, Submission(job[0], job[1], job[2], job[3]).reject(failure, _FIX_RESEND))
        finally:
            for proc, conn, _, _ in self.slots:
                try:
                    conn.send(None)
                except OSError:
                    pass
            for proc, conn, _, _ in self.slots:
                proc.join(1)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                conn.close()


def read_all(jobs: list[tuple], ledger: Ledger, settings: Settings, on_file=None,
             key: bytes | None = None) -> list[Submission]:
    """Read and check every (archived path, name as received, sha256, received) job, in reader
    processes with a time limit per file (two of them when there are many files); where fork is
    unavailable, e.g. Windows, in this process and without a time limit."""
    import multiprocessing as mp
    key = ensure_secret(settings) if key is None else key
    out: list[Submission | None] = [None] * len(jobs)
    count = [0]

    def done(i: int, sub: Submission) -> None:
        out[i] = sub
        count[0] += 1
        if on_file:
            on_file(count[0], len(jobs), sub.name)
    if not jobs:
        return []
    if "fork" not in mp.get_all_start_methods():
        for i, job in enumerate(jobs):
            done(i, _read_safely(job, ledger, settings, key))
        return out
    workers = 2 if len(jobs) >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2 else 1
    _Readers(workers, ledger, settings, key).run(jobs, float(settings.read_timeout_seconds),
                                            done)
    return out


def _received(entry: InboxEntry, now: dt.datetime) -> tuple[dt.datetime, list[str]]:
    """The time of receipt: the file's modification time, unless that lies in the future (another
    PC's clock), when the time it was found here counts instead."""
    when = dt.datetime.fromtimestamp(entry.mtime_ns / 1e9).replace(microsecond=0)
    if when <= now:
        return when, []
    return now, [f"文件的修改时间（{normalize.format_time(when)}）晚于本机当前时间（报送电脑的时钟可能不准），"
                 f"按实际收件时间{normalize.format_time(now)}登记"]


def _entry(path: Path) -> InboxEntry | Skipped:
    st = os.stat(path, follow_symlinks=False)
    if stat.S_ISDIR(st.st_mode):
        return _folder_entry(Path(path), st)
    return InboxEntry(Path(path), st.st_size, st.st_mtime_ns)


def take_in(ledger: Ledger, settings: Settings, entries: list, on_file=None, again: list | None = None,
            ignored: list[Skipped] | None = None, when: Dated | None = None) -> ConsolidationResult:
    """Archive, check and merge the given inbox entries (or paths) into the ledger in memory (the
    master is not written). again: files rejected earlier for an office-side mistake, taken in
    once more as if first received (never called duplicates). when: the run's date and period."""
    period = dated(settings, when).period
    result = ConsolidationResult(period, settings.master, ignored=list(ignored or []))
    archive_dir = settings.path("archive") / period
    settle = float(settings.settle_seconds)
    logged: dict[str, LogEntry] = {}
    for e in ledger.log:
        logged.setdefault(e.sha256, e)
    known = {h for h in logged if h}          # '' is a file that could not be read
    done_before = {(e.sha256, e.name, e.received): e for e in ledger.log}
    sweep_leftovers(archive_dir)
    index = archived_files(archive_dir)
    latest = latest_applied(ledger, period)
    now = dt.datetime.now().replace(microsecond=0)
    snaps: list[Snapshot] = []
    for e in (x if isinstance(x, InboxEntry) else _entry(Path(x)) for x in entries):
        if isinstance(e, Skipped):
            result.ignored.append(e)
            continue
        received, notes = _received(e, now)
        snap = (archive_folder if e.folder else archive_copy)(e, archive_dir, index, received, settle)
        if isinstance(snap, Skipped):
            result.deferred.append(snap)
            continue
        snap.notes[:0] = notes
        snaps.append(snap)
        result.inbox_seen.append((e.name, e.size, e.mtime_ns))
    for path in again or []:
        if not Path(path).is_file():
            raise SubmissionError(f"找不到要重新汇总的文件 {path}。请给出归档文件夹中该文件的位置。")
        snap = archive_copy(_entry(Path(path)), archive_dir, index, now, 0)
        if isinstance(snap, Skipped):
            result.deferred.append(snap)
            continue
        first = logged.get(snap.sha256)
        if first is not None:         # the file as first received: its name and time of receipt
            snap.name = first.name or snap.name
            snap.received = dt.datetime.fromisoformat(first.received)
        snap.again = True
        snaps.append(snap)
    readable = [s for s in snaps if s.archived is not None]
    jobs = [(s.archived, s.name, s.sha256, s.received) for s in readable]
    subs = iter(read_all(jobs, ledger, replace(settings, period=period), on_file, ensure_secret(settings)))
    for snap in snaps:
        if snap.archived is None and snap.entry.folder:
            sub = Submission(snap.entry.path, snap.name, "", snap.received).reject(
                snap.error, snap.fix or evidence.FOLDER_FIX)
        elif snap.archived is None:
            sub = Submission(snap.entry.path, snap.name, "", snap.received).reject(
                f"文件无法读取（{snap.error}）", "请报送单位重新发送，或由办公室调整文件权限后重新汇总")
        else:
            sub = next(subs)
            snap.archived = sub.path = file_under_unit(snap, sub, index)
        sub.notes[:0] = snap.notes
        sub.evidence[:0] = snap.refused
        if snap.again:
            sub.notes.insert(0, "办公室更正后重新汇总此前收到的文件")
        stamp = sub.received.isoformat(timespec="seconds")
        recovered = None if snap.again else done_before.get((sub.sha256, sub.name, stamp))
        if recovered is not None:     # recorded by a run that stopped before clearing the inbox
            outcome, accepted = recovered.outcome, recovered.accepted
        else:
            outcome, accepted = judge(ledger, sub, set() if snap.again else known, latest,
                                      settings.review_required)
        if sub.evidence and outcome in vocab.APPLIED_OUTCOMES:     # stored untouched, with hashes
            sub.evidence = _store_evidence(snap.archived, sub, archive_dir / evidence.FOLDER / evidence.safe_part(sub.unit))
        late = bool(settings.submit_by and sub.received.date() > settings.submit_by)
        if sub.sha256:
            known.add(sub.sha256)
        if recovered is None:
            archived = str(snap.archived.relative_to(settings.path("archive"))) if snap.archived else ""
            ledger.log.append(LogEntry(period, sub.unit or vocab.UNIDENTIFIED, stamp, sub.name, archived, sub.sha256,
                                       outcome, accepted, len(sub.problems)))
        result.files.append(FileOutcome(sub, snap.archived, outcome, accepted, late,
                                        None if snap.again else snap.entry.path))
        log.info("%s：%s（%s），采纳%s条，问题%s处", outcome, sub.name, sub.unit or vocab.UNIDENTIFIED, accepted,
                 len(sub.problems))
    result.submitted_units = sorted({e.unit for e in ledger.log if e.period == period and e.applied})
    submitted = set(result.submitted_units)
    result.missing_units = [u for u in ledger.units if u not in submitted]
    result.inbox_seen.sort()
    return result


def _store_evidence(package: Path, sub: Submission, folder: Path) -> list:
    """evidence.store at its boundary: an OSError writing (a full disk) stops the run as it names the
    folder; anything else is this unit's evidence trouble, refused by name, and the run goes on."""
    try:
        return evidence.store(package, sub.evidence, folder)
    except OSError:
        raise
    except Exception:
        log.exception("保存 %s 的佐证材料时出错", sub.name)
        return [f if f.reason else replace(f, reason=evidence.DAMAGED) for f in sub.evidence]


def _same_bytes(path: Path, sha256: str) -> bool:
    """The file (not followed if a link) still holds exactly the bytes hashed as sha256."""
    try:
        return file_sha256(path, regular_only=True) == sha256
    except OSError:
        return False


def clear_inbox(result: ConsolidationResult) -> None:
    """Remove processed files from the inbox — only after the master holding them is safely saved,
    and only a file whose bytes are still those archived; any other is left for the next run."""
    for f in result.files:
        path = f.source
        if path is None or f.archived is None or not os.path.lexists(path):
            continue
        if stat.S_ISDIR(os.lstat(path).st_mode):
            if reason := evidence.remove_folder(path, f.archived):
                result.kept.append(Skipped(f.submission.name, reason))
        elif _same_bytes(path, f.submission.sha256):
            try:
                path.unlink()
            except OSError as exc:
                result.kept.append(Skipped(f.submission.name, f"已汇总，但无法从收件箱删除（{exc.strerror or exc}）"))
        else:
            result.kept.append(Skipped(f.submission.name, "文件在汇总期间被改动，留待下次汇总"))


def consolidate(settings: Settings, files: list[Path] | None = None, *, again: list[Path] | None = None,
                remove_inbox: bool = True, on_file=None, ledger: Ledger | None = None,
                write=None, on: Dated | None = None) -> ConsolidationResult:
    """Take in every inbox file (or the given ones), update the master, write receipts.

    again: files rejected earlier because of an office-side mistake (e.g. a unit missing from the
    ledger), to take in once more now that it is fixed. on_file(i, n, name) is called as each
    file has been read (progress bars, Excel's status bar). By default the master file is read
    and written; the Excel button passes the open book's ledger and a write(ledger, settings, result)
    that puts the result (its .assessment: the figures, computed once) into the open book and saves it."""
    ensure_secret(settings)
    when = dated(settings, on)                            # the run's date and period, fixed once (on: given)
    ledger = read_ledger(settings.master, settings) if ledger is None else ledger
    if files is None:
        entries, ignored = scan_inbox(settings.path("inbox"), own_folders(settings))
    else:
        entries, ignored = [_entry(Path(f)) for f in files], []
    review.apply_decisions(ledger, dt.datetime.now())     # the office's 销号审核 since the last run
    if not settings.review_required:
        ledger.read_notes += review.lift(ledger)           # review turned off: the requests left count as asked
    result = take_in(ledger, settings, entries, on_file, again, ignored, when)
    result.ledger, result.assessment = ledger, assess(ledger, settings, on=when)
    if write is None:
        result.master_changed = master_file.write_master(ledger, settings, result.assessment)
    else:
        result.master_changed = write(ledger, settings, result)
    result.receipts = receipts.write_receipts(result.files, result.ledger, result.period, settings)
    if remove_inbox and files is None:
        clear_inbox(result)
    return result
