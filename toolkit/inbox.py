"""The inbox (收件箱): what lies there now (files and folders sent whole, and what is not a submission),
when each was received, which were taken in before, and removing a taken-in file only if its bytes are unchanged."""
from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .io import evidence
from .io.fileio import file_sha256
from .model import Ledger, LogEntry, Settings
from .rules import normalize

IGNORED_PREFIXES = ("~$", ".~", ".")

CLAIM_SUFFIX = ".owner"     # .inbox.owner beside the inbox: a workspace's mark on a folder (toolkit.guards.claim_folders)

SETTLE_SECONDS = 2.0       # a file changed more recently than this may still be arriving



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



def _same_bytes(path: Path, sha256: str) -> bool:
    """The file (not followed if a link) still holds exactly the bytes hashed as sha256."""
    try:
        return file_sha256(path, regular_only=True) == sha256
    except OSError:
        return False
