"""Guards every writing operation passes: the workspace's run lock, files open in an office program,
the folders a workspace owns, and the master unchanged since it was read. File-system errors leave
here as one Chinese message naming the file.
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import filelock

from . import config, vocab
from .errors import BusyError, ConfigError, FileAccessError, HistoryError
from .inbox import CLAIM_SUFFIX
from .io import history_db
from .io.fileio import file_sha256
from .model import Settings
from .problems import Location

log = logging.getLogger("toolkit")
LOCK_NAME = ".整改台账.lock"
POLL_SECONDS = 1.0


# ---------------------------------------------------------------- the run lock

class RunLock:
    """One writing operation at a time per workspace: an OS file lock (flock, LockFileEx) that the
    operating system releases when its process ends, however it ends. Re-entrant within one Workspace."""

    def __init__(self, path: Path, wait_seconds: float = 0.0):
        self.path = Path(path)
        self.wait_seconds = wait_seconds
        self._lock = filelock.FileLock(str(self.path), timeout=wait_seconds, thread_local=False)

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise BusyError(kind="run-locked", where=Location(file=str(self.path)), seconds=self.wait_seconds,
                            lock=self.path) from None
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()


# ---------------------------------------------------------------- files open in an office program

def owner_files(path: Path, listed: dict[Path, list[Path]] | None = None) -> list[Path]:
    """The markers an office program keeps beside a document it has open: Excel/WPS/Word's ~$ owner
    file (Word shortens long names: ~$ replaces their first one or two characters) and LibreOffice's .~lock.NAME#.
    listed: each folder's ~$ files, filled here, so checking many files of one folder lists it once."""
    path = Path(path)
    found = [m for m in [path.with_name(f".~lock.{path.name}#")] if m.exists()]
    listed = {} if listed is None else listed
    if path.parent not in listed:
        listed[path.parent] = list(path.parent.glob("~$*"))
    for owner in listed[path.parent]:
        tail = owner.name[2:]
        if tail and len(tail) >= len(path.name) - 2 and path.name.endswith(tail):
            found.append(owner)
    return found


def in_use(path: Path, listed: dict[Path, list[Path]] | None = None) -> str:
    """Why a file cannot be replaced now ('' if it can): an owner marker, or a Windows sharing violation."""
    if markers := owner_files(path, listed):
        return f"{path.name} 正被打开（发现占用标记文件 {markers[0].name}）"
    if os.name == "nt" and path.is_file():
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            return f"{path.name} 正被其他程序占用"
    return ""


def files_under(folder: Path) -> list[Path]:
    """The files a writer may replace inside a folder (markers and our temp files excluded)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(("~$", ".~"))]


def wait_until_free(paths: list[Path], wait_seconds: float) -> None:
    """Wait (retrying) while any of paths is open; BusyError naming it when it stays open."""
    def reasons() -> list[str]:
        listed: dict[Path, list[Path]] = {}          # each folder's ~$ files, listed once per check
        return [r for p in paths if (r := in_use(p, listed))]
    waited = 0.0
    while found := reasons():
        if waited >= wait_seconds:
            raise BusyError(kind="file-open-elsewhere", reason=found[0], seconds=waited)
        log.info("%s,%s秒后重试", found[0], POLL_SECONDS)
        time.sleep(POLL_SECONDS)
        waited += POLL_SECONDS


@contextlib.contextmanager
def file_errors(root: Path | None = None) -> Iterator[None]:
    """Turn an operating-system error into one Chinese message naming the file (never a traceback)."""
    import xlsxwriter.exceptions
    try:
        yield
    except sqlite3.OperationalError as exc:             # the history database's disk, folder or another program
        log.warning("变更记录写入失败：%r", exc)
        if history_db.is_busy(exc):
            raise BusyError(kind="history-busy", where=Location(file=vocab.HISTORY_DB)) from None
        raise FileAccessError(kind="history-unwritable", where=Location(file=vocab.HISTORY_DB),
                              reason=history_db.sqlite_reason(exc)) from None
    except sqlite3.DatabaseError as exc:                # damage the opening check did not see: found next run
        log.warning("变更记录数据库出错：%r", exc)
        raise HistoryError(kind="history-damaged-in-run", where=Location(file=vocab.HISTORY_DB), detail=exc) from None
    except (OSError, xlsxwriter.exceptions.FileCreateError) as caught:
        exc = caught.args[0] if not isinstance(caught, OSError) and caught.args else caught
        if not isinstance(exc, OSError):
            exc = OSError(errno.EIO, str(exc))
        log.warning("文件操作失败：%r", exc)
        raise FileAccessError(kind="file-operation-failed", where=Location(file=str(exc.filename or "")),
                              detail=os_error_text(exc, root)) from None


OS_ERRORS = {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "所在位置是只读的", errno.EEXIST: "已有同名的文件",
             errno.ENOTDIR: "路径中有一段是文件而不是文件夹", errno.ENOENT: "找不到该文件或文件夹",
             errno.EISDIR: "这是一个文件夹", errno.EIO: "读写出错（磁盘或网络共享故障）",
             errno.ENAMETOOLONG: "文件名太长"}


def os_error_text(exc: OSError, root: Path | None = None) -> str:
    """One Chinese sentence for an OS error: what went wrong, on which file (our temporary files are named
    by their folder), and what to do."""
    name = exc.filename or exc.filename2
    if name and Path(str(name)).name.startswith((".~tmp-", ".~")):
        name = Path(str(name)).parent
    where = f" {name}" if name else (f"工作文件夹 {root} 中的文件" if root else "文件")
    if isinstance(exc, PermissionError):
        return (f"没有权限读写{where}（文件可能正被其他程序打开，或所在文件夹是只读的）。"
                f"请关闭占用它的程序或检查文件夹权限后重试。")
    if exc.errno == errno.ENOSPC:
        return f"磁盘空间不足，无法写入{where}。请清理磁盘后重试。"
    reason = OS_ERRORS.get(exc.errno, "无法读写")
    return f"无法读写{where}：{reason}。请检查该路径后重试。"


# ---------------------------------------------------------------- folders a workspace owns

CLAIMED = {"inbox": "收件箱", "archive": "归档文件夹", "master": "台账"}
CLAIM_NOTE = ("# 整改台账工具：与本文件同名（去掉开头的点和 .owner）的文件夹或台账，属于下面这个工作区的配置文件。另一个工作区发现它会拒绝运行，"
              "以免删除或覆盖对方的文件。\n# 若该工作区已不再使用，可删除本文件。\n")


def claim_marker(settings: Settings, key: str) -> Path:
    """Where a workspace marks its inbox, archive or master as its own: a hidden file beside it, so the
    folders hold only what units and the office put there (a folder at a drive's root: inside it)."""
    target = settings.master if key == "master" else settings.path(key)
    if target.name:
        return target.with_name(f".{target.name}{CLAIM_SUFFIX}")
    return target / f".{key}{CLAIM_SUFFIX}"


def claimant(marker: Path) -> Path | None:
    """The config.toml a marker names (None: no marker, or one that cannot be read)."""
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((Path(line.strip()) for line in lines if line.strip() and not line.startswith("#")), None)


def still_claims(other: Path, settings: Settings, key: str) -> bool:
    """Whether the workspace of config file other still uses this workspace's inbox, archive or master
    (a workspace moved, copied or reconfigured since it wrote its marker no longer does)."""
    if not other.is_file():
        return False
    try:
        theirs = config.load(other)
    except ConfigError:
        return True                # cannot tell: taken as still in use, the message says how to free it
    mine = settings.master if key == "master" else settings.path(key)
    return mine in places(theirs)       # in any role: a marker is named by the folder, so .archive.owner
                                        # beside another's archive is met by an inbox pointed at that archive


def places(s: Settings) -> dict[Path, str]:
    """What a workspace owns, resolved: its folder, config.toml, history.sqlite, master and each folder it
    reads or writes ({path: how messages name it})."""
    root = Path(s.root).resolve()
    return {root: "工作文件夹", root / config.CONFIG_NAME: config.CONFIG_NAME, root / vocab.HISTORY_DB: vocab.HISTORY_DB,
            s.master: "台账", **{s.path(k): FOLDER_WORDS.get(k, f"{k} 文件夹") for k in s.paths if k != "master"}}


FOLDER_WORDS = {"inbox": "收件箱", "archive": "归档文件夹", "output": "输出文件夹", "backup": "备份文件夹",
                "outbox": "分发文件夹", "logs": "日志文件夹"}
SCAN_LIMIT = 20000          # entries of an inbox looked at for another workspace's files (an inbox holds far fewer)


def _workspace_config(folder: Path) -> Path | None:
    """folder's config.toml when folder is a workspace (config.toml with its key folder .zhenggai, its
    history.sqlite or one of its owner markers beside it)."""
    cfg = folder / config.CONFIG_NAME
    try:
        if cfg.is_file() and ((folder / ".zhenggai").is_dir() or (folder / vocab.HISTORY_DB).exists()
                              or any(folder.glob(f".*{CLAIM_SUFFIX}"))):
            return cfg.resolve()
    except OSError:
        pass
    return None


def _candidates(inbox: Path) -> list[tuple[Path, bool]]:
    """Config files of workspaces around an inbox ((config, found inside the inbox)): those of the folders
    above it, those named by the owner markers beside each of them, and any workspace or marker inside it."""
    found: list[tuple[Path, bool]] = []
    for folder in (inbox, *inbox.parents):
        if (cfg := _workspace_config(folder)) is not None and folder != inbox:
            found.append((cfg, False))
        if folder.name and (other := claimant(folder.with_name(f".{folder.name}{CLAIM_SUFFIX}"))) is not None:
            found.append((other, False))
    seen = 0
    for top, dirs, files in os.walk(inbox):          # links are not followed, as intake follows none
        seen += len(dirs) + len(files)
        if (cfg := _workspace_config(Path(top))) is not None:
            found.append((cfg, True))
        for name in files:
            if name.startswith(".") and name.endswith(CLAIM_SUFFIX) and (other := claimant(Path(top) / name)):
                found.append((other, True))
        if seen > SCAN_LIMIT:
            break
    return found


def inbox_conflict(settings: Settings) -> str:
    """Why this workspace's inbox may not be consumed ('' when it may): it is, holds or lies inside something
    another workspace owns (its folder, config, database, master, or a folder it reads or writes), so archiving
    and deleting the inbox's files would take them from that workspace."""
    inbox = settings.path("inbox")
    mine = Path(settings.root).resolve() / config.CONFIG_NAME
    if not inbox.is_dir():
        return ""
    for other, inside in dict.fromkeys(_candidates(inbox)):
        other = Path(other)
        if other == mine or not other.is_file():
            continue
        try:
            theirs = config.load(other)
        except ConfigError:
            if inside:
                return f"收件箱 {inbox} 中有另一个工作区的配置文件 {other}"
            continue
        for place, word in places(theirs).items():
            if place == inbox or _inside(place, inbox):
                return f"收件箱 {inbox} {'就是' if place == inbox else '中有'}另一个工作区的{word}（{place}；其配置文件：{other}）"
            if _inside(inbox, place) and word != "工作文件夹" and place.is_dir():
                return f"收件箱 {inbox} 位于另一个工作区的{word}（{place}）之中（其配置文件：{other}）"
    return ""


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def write_claim(marker: Path, mine: Path, take_over: bool = False) -> bool:
    """Mark a folder as mine; a new marker is linked into place, so of two workspaces claiming at once
    exactly one wins (False: another's marker appeared first)."""
    tmp = marker.with_name(f".~tmp-claim-{os.getpid()}")
    tmp.write_text(CLAIM_NOTE + f"{mine}\n", encoding="utf-8")
    try:
        if take_over:
            os.replace(tmp, marker)
            return True
        try:
            os.link(tmp, marker)
        except FileExistsError:
            return False
        except OSError:            # a file system without hard links
            os.replace(tmp, marker)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def claim_folders(settings: Settings) -> None:
    """A workspace owns its inbox, archive and master: mark each (at init and on every run) and refuse,
    naming the other workspace's config, when another workspace still using it has marked it first."""
    mine = Path(settings.root).resolve() / config.CONFIG_NAME
    if why := inbox_conflict(settings):
        raise ConfigError(kind="inbox-shared", where=Location(file=str(mine)), why=why, config=mine)
    for key, word in CLAIMED.items():
        marker = claim_marker(settings, key)
        if not marker.parent.is_dir():
            continue               # nothing there yet to protect; marked once it exists
        other = claimant(marker)
        if other is not None and Path(other) == mine:
            continue
        taken = other is not None and still_claims(other, settings, key)
        if not taken:
            try:
                if write_claim(marker, mine, take_over=other is not None):
                    continue
            except OSError as exc:       # a read-only share: nothing of ours is deleted from it either
                log.warning("无法在%s写入工作区标记 %s：%r", word, marker, exc)
                continue
            other = claimant(marker)
            if other is None or other == mine:
                continue
        where = settings.master if key == "master" else settings.path(key)
        raise ConfigError(kind="folder-claimed", where=Location(file=str(mine)), word=word, folder=where, other=other,
                          config=mine, key=key, marker=marker)


def master_bytes(path: Path) -> str | None:
    """The SHA-256 of the master as about to be read (None: there is none yet)."""
    try:
        return file_sha256(path)
    except (FileNotFoundError, IsADirectoryError):    # reading it says what is wrong
        return None


def unchanged_since(path: Path, seen: str | None) -> None:
    """Refuse to replace a master that changed since it was read: the run lock is one workspace's, so
    another workspace or program writing the same file is not held off by it, and its update would be
    overwritten while its receipts say 已采纳. Nothing is written then; the inbox stays as it was."""
    if master_bytes(path) != seen:
        raise BusyError(kind="master-changed-meanwhile", where=Location(file=str(path)), path=path)
