"""The application layer: one Workspace through which every front end (CLI, Excel buttons, scheduler)
runs the operations that write. Each runs under the workspace's run lock, an OS lock that dies with
its process, and only once none of the files it replaces is open in Excel, WPS, Word or LibreOffice.
File-system errors leave here as one Chinese message naming the file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import sqlite3
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import filelock

from . import config, history, model, vocab
from .assessment import Assessment, assess
from .check import write_empty_master
from .consolidate import (
    CLAIM_SUFFIX,
    ConsolidationResult,
    consolidate,
    inbox_fingerprint,
    left_behind,
    own_folders,
    scan_inbox,
)
from .distribute import Distributed, distribute, ensure_secret, secret_path
from .documents import dashboard, leaders, notices, reminders
from .documents import ladder as ladder_docs
from .errors import BusyError, ConfigError, FileAccessError, HistoryError, ReviewError, ToolkitError
from .io import fileio, history_db, master_file, shortcuts
from .io.fileio import file_sha256
from .io.ledger_file import read_ledger
from .model import Ledger, Settings
from .rules import review
from .rules.deadlines import CalendarWarning, plan_warnings

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
            raise BusyError(f"另一个操作（汇总、分发或生成通报）正在运行，已等待{self.wait_seconds:g}秒仍未结束"
                            f"（锁文件 {self.path}）。请稍后再试。") from None
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
            raise BusyError(f"{found[0]}，已等待{waited:.0f}秒，本次未写入任何文件。请关闭该文件后重新运行。")
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
            raise BusyError(f"变更记录数据库“{vocab.HISTORY_DB}”被其他程序占用（如打开着它的数据库查看工具），"
                            f"请关闭该程序后重新运行（数据库本身无需处理）。") from None
        raise FileAccessError(f"无法写入变更记录数据库：{history_db.sqlite_reason(exc)}。"
                              f"请清理磁盘或检查文件夹权限后重试。") from None
    except sqlite3.DatabaseError as exc:                # damage the opening check did not see: found next run
        log.warning("变更记录数据库出错：%r", exc)
        raise HistoryError(f"变更记录数据库“{vocab.HISTORY_DB}”在运行中读写出错（{exc}），可能已损坏。"
                           f"下次运行时会把它原样移到一旁并按归档文件重建；也可运行 "
                           f"`python -m toolkit history --rebuild`。") from None
    except (OSError, xlsxwriter.exceptions.FileCreateError) as caught:
        exc = caught.args[0] if not isinstance(caught, OSError) and caught.args else caught
        if not isinstance(exc, OSError):
            exc = OSError(errno.EIO, str(exc))
        log.warning("文件操作失败：%r", exc)
        raise FileAccessError(os_error_text(exc, root)) from None


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
        raise ConfigError(f"{why}。收件箱里的文件汇总后会被归档并删除，本次未做任何改动。"
                          f"请在 {mine} 的 [paths] inbox 中改用本工作区自己的收件箱。")
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
        raise ConfigError(
            f"{word} {where} 已被另一个工作区使用（其配置文件：{other}）。两个工作区共用{word}会互相删除或覆盖文件，"
            f"本次未做任何改动。请在 {mine} 的 [paths] {key} 中改用本工作区自己的{word}；"
            f"若另一个工作区已不再使用，请删除标记文件 {marker} 后重试。")


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
        raise BusyError(f"台账 {path} 在本次读取之后被改动（可能有另一个工作区或程序同时写入），为免覆盖该改动，"
                        f"本次未写入台账，收件箱中的文件原样保留。请确认只有一个工作区使用该台账后重新运行。")


# ---------------------------------------------------------------- what a run reports

@dataclass
class Figures:
    """The headline figures a run reports (kept in the state file for quick reruns)."""
    reference_date: str
    total: int
    done: int
    mostly: int
    in_progress: int
    not_started: int
    completion: float
    overdue: int
    due_soon: int
    soon_days: int       # the reminder window (config remind_working_days) the due-soon count used

    @classmethod
    def of(cls, assessment: Assessment) -> "Figures":
        m = assessment.summary.measures
        return cls(assessment.reference_date.isoformat(), m.total, m.done, m.mostly, m.in_progress, m.not_started,
                   m.completion, len(assessment.overdue), len(assessment.due_soon), assessment.soon_days)


@dataclass
class RunReport:
    """What one run did; lines() is the text of the run report file and the log."""
    started: dt.datetime
    seconds: float
    consolidation: ConsolidationResult
    figures: Figures
    distributed: int = 0
    notices: list[Path] = field(default_factory=list)
    report_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    quick: bool = False
    reminders: list[Path] = field(default_factory=list)
    remind_by: dt.date | None = None       # submit_by, when the run fell in the 催报 window
    ladder_line: str = ""                  # the 督办梯次 proposals (拟发) of this run, in one line

    def lines(self) -> list[str]:
        f = self.figures
        out = []
        if self.distributed:
            out.append(f"分发：已为{self.distributed}个单位生成填报模板。")
        if self.quick:
            out.append(f"收件箱没有新文件，台账与通报自上次运行以来无变化，未做任何改动（{self.consolidation.master}）。")
        else:
            out += self.consolidation.lines()
        out.append(f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条，"
                   f"基本完成{f.mostly}条，正在推进{f.in_progress}条，未启动{f.not_started}条）")
        out.append(f"逾期未完成：{f.overdue}条；临期（{f.soon_days}个工作日内到期）：{f.due_soon}条（基准日期 {f.reference_date}）")
        out += [f"提示：{w}" for w in self.warnings]
        if self.notices:
            out.append(f"通报、督办单与公开段落（{len(self.notices)}个文件）：{self.notices[0].parent}")
        if self.remind_by:
            out.append(reminders.summary_line(sum(p.suffix == ".md" for p in self.reminders), self.remind_by))
        if self.ladder_line:
            out.append(self.ladder_line)
        if self.report_path:
            out.append(f"运行报告：{self.report_path}")
        out.append(f"用时 {self.seconds:.2f} 秒。")
        return out


@dataclass
class Refreshed:
    """What 刷新统计 on the master did: whether it rewrote the file, and the figures."""
    master: Path
    written: bool
    figures: Figures
    notes: list[str] = field(default_factory=list)     # what reading noticed; requests left by review turned off

    def lines(self) -> list[str]:
        f = self.figures
        done = "统计、逾期标记和历史进度已刷新" if self.written else "统计已是最新，未改动文件"
        return [f"{done}（{self.master}，基准日期 {f.reference_date}）。",
                f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）；"
                f"逾期未完成{f.overdue}条，临期{f.due_soon}条。"] + [f"提示：{n}" for n in self.notes]


@dataclass
class Decided:
    """What a 销号审核 decision from a button or the command line did: the requests decided, the figures."""
    taken: list[model.Review]
    figures: Figures
    still_open: dict[str, str] = field(default_factory=dict)   # 编号 → 完成情况 of a measure a unit's 销号 left open

    def lines(self) -> list[str]:
        f = self.figures
        out = [f"已办理销号审核{len(self.taken)}项："]
        for r in self.taken:
            line = f"  {r.measure_id}（{r.unit}）：{r.conclusion} → {r.state}" + (f"；意见：{r.opinion}" if r.opinion else "")
            if r.state == vocab.CLOSED and r.measure_id in self.still_open:
                line += (f"（该单位的部分已销号；措施仍为“{self.still_open[r.measure_id]}”，"
                         f"其他单位完成后才计为{vocab.DONE}）")
            out.append(line)
        out.append(f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）。")
        return out


def tree_digest(folder: Path) -> str:
    """SHA-256 over a folder's file names and contents (the notice templates)."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


# ---------------------------------------------------------------- the workspace

class Written(list):
    """Files an operation wrote, with the warnings (Chinese sentences) of what it could not do
    and the assessment they were written from."""

    def __init__(self, paths, warnings_: list[str] = (), assessment: Assessment | None = None):
        super().__init__(paths)
        self.warnings = list(warnings_)
        self.assessment = assessment


@contextlib.contextmanager
def noted_warnings() -> Iterator[list[str]]:
    """Collect the toolkit's own warnings (calendar gaps, notices without PDF or chart) as sentences,
    each once, instead of letting Python print them."""
    noted: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalendarWarning)
        warnings.simplefilter("always", notices.NoticeWarning)
        yield noted
    kinds = (CalendarWarning, notices.NoticeWarning)
    noted += sorted({str(w.message) for w in caught if issubclass(w.category, kinds)})
    for w in caught:
        if not issubclass(w.category, kinds):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


class Workspace:
    """A workspace (config, master, inbox, outputs) and the operations on it, each run under the run lock."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lock = RunLock(settings.root / LOCK_NAME, settings.lock_wait_seconds)
        self.created: list[Path] = []       # what init wrote

    @classmethod
    def open(cls, path: Path | str | None = None) -> "Workspace":
        """The workspace of a config.toml, or of the folder holding one (default: the current folder)."""
        return cls(config.load(Path(path) if path else None))

    @classmethod
    def for_master(cls, path: Path | str) -> "Workspace":
        """The workspace of a ledger open in Excel: the config.toml in its folder or up to two above;
        that ledger is the master."""
        path = Path(path)
        for folder in [path.parent, *path.parents][:3]:
            if (folder / config.CONFIG_NAME).exists():
                settings = config.load(folder)
                settings.paths["master"] = str(path)
                try:
                    config.check_folders(settings)
                except ConfigError as exc:
                    raise ConfigError(f"{folder / config.CONFIG_NAME}：{exc}") from None
                return cls(settings)
        raise ConfigError(f"在台账所在文件夹及其上两级中找不到配置文件 {config.CONFIG_NAME}。"
                          f"请运行 python -m toolkit init 生成，并把台账放在 master 文件夹中。")

    @classmethod
    def init(cls, folder: Path | str, profile: str = "") -> "Workspace":
        """Write a commented config.toml, the folders it names, the signing key, the double-click
        shortcuts and an empty master (an existing config or master is kept); .created lists them."""
        path = Path(folder) / config.CONFIG_NAME
        if path.exists():
            raise ConfigError(f"{path} 已存在，未覆盖。")
        with file_errors():
            settings = config.load(config.write_default(folder, profile=profile))
            ensure_secret(settings)             # the key that signs this workspace's templates
            created = [settings.root / config.CONFIG_NAME, secret_path(settings)]
            for name in settings.paths:
                target = settings.path(name)
                (target.parent if name == "master" else target).mkdir(parents=True, exist_ok=True)
            created += shortcuts.write_shortcuts(settings.root)
            if not settings.master.exists():
                created.append(write_empty_master(settings.master))
        workspace = cls(settings)
        workspace.created = created
        with file_errors(settings.root):
            claim_folders(settings)
        return workspace

    # -- guards

    @contextlib.contextmanager
    def guarded(self, *targets: Path) -> Iterator[None]:
        """Hold the run lock, wait until none of targets is open, and report file errors in Chinese."""
        with file_errors(self.settings.root), self.lock:
            claim_folders(self.settings)
            wait_until_free(list(targets), self.settings.lock_wait_seconds)
            yield

    def notice_folder(self) -> Path:
        s = self.settings
        return s.path("output") / s.current_period() / "通报" / s.today().isoformat()

    def outbox_folder(self) -> Path:
        return self.settings.path("outbox") / self.settings.current_period()

    # -- operations

    def distribute(self, units: list[str] | None = None, ledger: Ledger | None = None) -> list[Distributed]:
        """Write the unit workbooks into outbox/<period>/ (from the master, or from the given ledger)."""
        with self.guarded(*files_under(self.outbox_folder())):
            return distribute(self.settings, units, ledger)

    def consolidate(self, on_file=None, *, ledger: Ledger | None = None, write=None,
                    again: list[Path] | None = None) -> ConsolidationResult:
        """Take in the inbox (and again: files rejected earlier for an office-side mistake, now fixed).
        An Excel button passes the open book's ledger and a write() saving that book: the book is
        open by definition, so only the lock is taken, not the master's open-check."""
        with self.guarded(*([] if write else [self.settings.master])):
            return self._consolidate(on_file, ledger, write, again)

    def _consolidate(self, on_file, ledger: Ledger | None, write, again=None) -> ConsolidationResult:
        """Consolidate with every change recorded in the history, committed only once the master is in place."""
        self._check_writable("archive", "backup", "output")
        if write is None:
            master_file.check_format(self.settings.master)     # before any file is archived
        notes: list[str] = []          # a damaged or deleted database, rebuilt: one line, and the run goes on
        with history.open_recovering(self.settings, notes) as db:
            seen = master_bytes(self.settings.master)
            before = ledger if ledger is not None else read_ledger(self.settings.master, self.settings)
            before.read_notes += notes
            self._restore_requests(before, db)

            def base(after: Ledger, settings: Settings, result: ConsolidationResult):
                if write:
                    return write(after, settings, result)
                unchanged_since(settings.master, seen)
                return master_file.write_master(after, settings, result.assessment)

            # what differs beyond the files' own changes is then the office's 销号审核 decisions
            source = vocab.SOURCE_REVIEW if review.decisions_due(before) else vocab.SOURCE_OFFICE

            def recorded_write(after: Ledger, settings: Settings, result: ConsolidationResult):
                # the files just read are replayed from memory, and the digest uses the run's assessment
                with history.recording(db, settings, before, after, source, [f.submission for f in result.files],
                                       result.assessment) as run:
                    after.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                    return base(after, settings, result)
            return consolidate(self.settings, on_file=on_file, ledger=before.copy(), write=recorded_write,
                               again=again)

    def _restore_requests(self, ledger: Ledger, db) -> None:
        """A pending request whose 销号审核 row was deleted by hand comes back (the history knows it), with a note."""
        if self.settings.review_required and ledger.owners:
            # the newest committed 销号审核 value per (编号, 单位): one field, not db.state() (1 s at 300,000 rows)
            cur = db.conn.execute(
                "SELECT c.measure, c.unit, c.new FROM changes c JOIN (SELECT MAX(c.id) AS id FROM "
                f"({history_db.COMMITTED_ROWS} AND c.field = ?) c GROUP BY c.measure, c.unit) last ON last.id = c.id",
                (vocab.REVIEW_FIELD,))
            ledger.read_notes += review.restore_deleted(ledger, {(m, u): new for m, u, new in cur})

    def _check_writable(self, *names: str) -> None:
        """Find a folder we cannot write (read-only share, a file in its place) before anything changes,
        not halfway through a run after the master has been replaced."""
        for name in names:
            folder = self.settings.path(name)
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".~tmp-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()

    def decide(self, targets: list[tuple[str, str]], conclusion: str, opinion: str = "", *,
               ledger: Ledger | None = None, write=None) -> Decided:
        """销号审核 from a button or the command line: decide the pending requests of targets ((编号, 单位),
        单位 '' for all), refresh the figures and record the decision (source 销号审核) with the master write.
        An Excel button passes the open book's ledger and a write() saving that book."""
        s = self.settings
        with self.guarded(*([] if write else [s.master])):
            if not s.review_required:
                waiting = review.pending_while_off(read_ledger(s.master, s), True) if s.master.exists() else []
                raise ConfigError(f"销号审核未启用。如需启用，请在 {config.CONFIG_NAME} 中写入 [review] required = true。"
                                  + "".join(waiting))
            self._check_writable("backup")
            if write is None:
                master_file.check_format(s.master)
            with history.open_recovering(s, []) as db:
                self._check_acceptance(db, targets, conclusion)
                seen = master_bytes(s.master)
                before = ledger if ledger is not None else read_ledger(s.master, s)
                self._restore_requests(before, db)
                after = before.copy()
                taken = review.decide(after, targets, conclusion, opinion, dt.datetime.now())
                with history.recording(db, s, before, after, vocab.SOURCE_REVIEW) as run:
                    after.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                    if write is None:
                        unchanged_since(s.master, seen)
                    (write or master_file.write_master)(after, s)
            still_open = {r.measure_id: after.measures[r.measure_id].status for r in taken
                          if r.state == vocab.CLOSED and after.measures[r.measure_id].status != vocab.DONE}
            return Decided(taken, Figures.of(assess(after, s)), still_open)

    def history(self, measure_id: str | None = None, rebuild: bool = False) -> tuple[int | None, list[str]]:
        """A measure's whole story from the history (rebuilt from the archive first when asked):
        (rows rebuilt or None, lines)."""
        notes: list[str] = []            # what became of a damaged database, what the archive could not tell
        with self.guarded(), history.open_recovering(self.settings, notes, rebuild_now=not rebuild) as db:
            rebuilt = history.rebuild(db, self.settings, notes) if rebuild else None
            current = read_ledger(self.settings.master, self.settings) if measure_id else None
            if current is not None:      # zg-012 is ZG-012
                measure_id = next((m for m in current.measures if m.casefold() == measure_id.strip().casefold()),
                                  measure_id)
            lines = history_db.story_lines(db, measure_id, current) if measure_id else []
            return rebuilt, [f"提示：{n}" for n in notes] + lines

    def notices(self, kinds=notices.KINDS, on: dt.date | None = None, ledger: Ledger | None = None) -> "Written":
        """Write the notices (at date on, default the configured reference date) from the master or ledger;
        what could not be done (no LibreOffice for PDFs, no Chinese font) comes back in .warnings."""
        if on:
            self.settings.reference_date = on
        with self.guarded(*files_under(self.notice_folder())), noted_warnings() as noted:
            ledger = ledger or read_ledger(self.settings.master, self.settings)
            assessment = assess(ledger, self.settings)
            paths = notices.write_notices(ledger, self.settings, assessment, kinds)
        return Written(paths, noted, assessment)

    def remind(self, on: dt.date | None = None, ledger: Ledger | None = None) -> reminders.Reminders:
        """催报 now (at date on, default the configured reference date), from the master or the open book's
        ledger. Refused while the inbox holds files not yet consolidated: their units may have reported."""
        s = self.settings
        if on:
            s.reference_date = on
        with self.guarded(*files_under(reminders.folder(s))), noted_warnings() as noted:
            ledger = read_ledger(s.master, s) if ledger is None else ledger
            entries = scan_inbox(s.path("inbox"), own_folders(s))[0]
            stuck = left_behind(ledger, entries)      # taken in already, but could not be removed
            if pending := sorted(e.name for e in entries if e not in [x for x, _ in stuck]):
                raise ToolkitError(f"收件箱中还有{len(pending)}个文件尚未汇总（如 {pending[0]}），"
                                   f"其单位可能已经报送。请先汇总，再生成催报。")
            submitted, _ = notices.submission_status(ledger, s)
            missing = [u for u in ledger.units if u not in submitted]
            done = reminders.write_reminders(ledger, s, missing, assess(ledger, s))
            done.notes += [f"收件箱中的 {e.path} 已于{r.received.replace('T', ' ')}汇总（{r.outcome}），但未能从收件箱删除，"
                           f"请手动删除该文件。" for e, r in stuck]
        done.notes += noted                    # a year the holiday table does not know
        return done

    def issue(self, units: list[str] | None = None, rungs: list[str] | None = None, every: bool = False,
              on: dt.date | None = None) -> ladder_docs.Issuance:
        """The office issues 督办梯次 notices from this period's proposals (by unit, by rung, or all): each
        numbered, written (.docx, PDF with LibreOffice) and recorded in history.sqlite under the lock;
        the 拟发清单 is rewritten and the next run is a full one (the dashboard shows what was issued)."""
        s = self.settings
        if on:
            s.reference_date = on
        period = s.path("output") / s.current_period()
        notes: list[str] = []
        with self.guarded(*files_under(period / vocab.ISSUED_FOLDER), *files_under(period / vocab.PROPOSED)), \
                noted_warnings() as noted:
            with history.open_recovering(s, notes) as db:
                ledger = read_ledger(s.master, s)
                assessment = assess(ledger, s)
                props = ladder_docs.proposals(ledger, s, assessment, db.issued())
                chosen = ladder_docs.choose(props, list(units or []), list(rungs or []), every)
                done = ladder_docs.issue(chosen, ledger, s, assessment, db)
                left = ladder_docs.proposals(ledger, s, assessment, db.issued())
            ladder_docs.write_proposals(left, s)
            self.state_path().unlink(missing_ok=True)
        done.left = len(left)
        done.warnings += noted + notes
        return done

    def accept(self, measure_id: str, party: str, name: str = "", on: dt.date | None = None) -> dict[str, tuple[str, str]]:
        """三方验收: record one party's acceptance of a measure (责任单位, 牵头单位 or 整改办); returns every
        party's so far. With [ladder] acceptance = true, 销号 waits for all three."""
        s = self.settings
        if party not in vocab.ACCEPTANCE_PARTIES:
            raise ToolkitError(f"验收方“{party}”不对，应为{'、'.join(vocab.ACCEPTANCE_PARTIES)}之一。")
        with self.guarded(), history.open_recovering(s, []) as db:
            ledger = read_ledger(s.master, s)
            mid = next((m for m in ledger.measures if m.casefold() == measure_id.strip().casefold()), None)
            if mid is None:
                raise ToolkitError(f"台账 {s.master} 中没有措施“{measure_id}”。请核对编号（见台账“{vocab.ID}”列）。")
            db.add_acceptance(mid, party, name.strip() or party, on or s.today())
            return db.accepted(mid)

    def _check_acceptance(self, db, targets: list[tuple[str, str]], conclusion: str) -> None:
        """With [ladder] acceptance on, 同意销号 needs all three parties' acceptance recorded first."""
        if not self.settings.ladder.get("acceptance") or conclusion != vocab.REVIEW_APPROVE:
            return
        for mid, _ in targets:
            missing = [p for p in vocab.ACCEPTANCE_PARTIES if p not in db.accepted(mid.strip())]
            if missing:
                raise ReviewError(f"措施“{mid}”尚未完成三方验收（缺{'、'.join(missing)}），本次未销号。请先记录验收："
                                  f"python -m toolkit accept {mid} --party {missing[0]} -c 文件夹。")

    def refresh(self, ledger: Ledger, write: Callable[[Assessment], None]) -> Assessment:
        """Excel 刷新统计: the figures of the open book, written into it by write(assessment) under the lock.
        The office's hand edits it finds are recorded pending: committed once the book is saved with
        them (the next opening of the history settles it), discarded if it never is."""
        notes: list[str] = []
        with self.guarded(), history.open_recovering(self.settings, notes) as db:
            ledger.read_notes += notes
            assessment = master_file.prepare(ledger, self.settings)
            history.record(db, self.settings, ledger, ledger, assessment=assessment)
            write(assessment)
            return assessment

    def refresh_master(self, on: dt.date | None = None) -> "Refreshed":
        """刷新统计 on the file: rewrite the master's statistics, overdue marks and this period's history
        row from the master itself (at date on, default the configured reference date); no inbox."""
        s = self.settings
        if on:
            s.reference_date = on
        master_file.check_format(s.master)
        notes: list[str] = []
        with self.guarded(s.master), history.open_recovering(s, notes) as db, noted_warnings() as noted:
            seen = master_bytes(s.master)
            ledger = read_ledger(s.master, s)
            ledger.read_notes += notes
            assessment = assess(ledger, s)
            with history.recording(db, s, ledger, ledger, assessment=assessment) as run:   # the office's hand edits
                ledger.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                unchanged_since(s.master, seen)
                written = master_file.write_master(ledger, s, assessment)
            waiting = [] if s.review_required else review.pending_while_off(ledger)
        return Refreshed(s.master, written, Figures.of(assessment), ledger.read_notes + waiting + noted)

    def highlight(self, ledger: Ledger, write: Callable[[Assessment], None]) -> Assessment:
        """Excel 标记逾期: write(assessment) refreshes the open book's date helpers under the lock."""
        with self.guarded():
            assessment = assess(ledger, self.settings)
            write(assessment)
            return assessment

    def run_once(self, distribute_first: bool = False, on_file=None) -> RunReport:
        """The whole job once: (distribute,) consolidate, refresh statistics, write notices and a report.

        A rerun that finds an empty inbox and the master, settings and templates as the last run left
        them reads and writes nothing (figures come from the state file beside the master)."""
        s = self.settings
        started, t0 = dt.datetime.now(), time.perf_counter()
        outbox = files_under(self.outbox_folder()) if distribute_first else []
        slips = files_under(s.path("output") / s.current_period() / leaders.FOLDER)
        slips += files_under(reminders.folder(s))          # and the 催报
        slips += files_under(s.path("output") / s.current_period() / vocab.PROPOSED)   # and the 拟发清单
        with self.guarded(s.master, *files_under(self.notice_folder()), *slips, *outbox):
            report = None if distribute_first else self._quick_report(started, t0)
            if report is None:
                report = self._full_run(distribute_first, on_file, started, t0)
                self._save_state(report)
            folder = s.path("output") / s.current_period() / "运行报告"
            report.report_path = folder / f"{started:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
            fileio.atomic_write_text(report.report_path, "\n".join(report.lines()) + "\n")
        for line in report.lines():
            log.info(line)
        return report

    def _full_run(self, distribute_first: bool, on_file, started: dt.datetime, t0: float) -> RunReport:
        s = self.settings
        with noted_warnings() as noted:   # calendar gaps, missing PDF converter or font: into the report
            distributed = len(distribute(s)) if distribute_first else 0
            result = self._consolidate(on_file, None, None)
            ledger, assessment = result.ledger, result.assessment
            written = notices.write_notices(ledger, s, assessment)
            issued = ladder_docs.issued_history(s)                      # the 督办梯次: proposals, not notices
            proposed = ladder_docs.proposals(ledger, s, assessment, issued)
            written += dashboard.write_outputs(ledger, s, assessment,   # 看板.html and the 领导调度单
                                               ladder_docs.unit_rungs(ledger, assessment, proposed, issued))
            listed = ladder_docs.write_proposals(proposed, s)
            reminded = reminders.write_reminders(ledger, s, result.missing_units, assessment)
        return RunReport(started, time.perf_counter() - t0, result, Figures.of(assessment),
                         distributed, written, warnings=noted + plan_warnings(ledger, s) + ledger.report_notes(),
                         reminders=reminded.paths, remind_by=s.submit_by if reminded.active else None,
                         ladder_line=ladder_docs.summary_line(proposed, listed))

    # -- the quick no-op rerun

    def state_path(self) -> Path:
        return self.settings.master.with_name(f".{self.settings.master.stem}.state.json")

    def fingerprint(self, inbox: list | None = None) -> dict:
        """What a quick rerun must find unchanged: the master file, the inbox (listed now unless given),
        every setting (normalised, with today's date when the reference date is 'today') and the templates."""
        s = self.settings
        if inbox is None:
            inbox = [list(e) for e in inbox_fingerprint(s.path("inbox"), own_folders(s))]
        settings = json.dumps([asdict(s), s.today()], default=str, sort_keys=True, ensure_ascii=False)
        return {"master": _stat(s.master), "inbox": inbox,
                "settings": hashlib.sha256(settings.encode()).hexdigest(),
                "templates": tree_digest(notices.TEMPLATE_DIR)}

    def _quick_report(self, started: dt.datetime, t0: float) -> RunReport | None:
        """When nothing changed since the last complete run, its figures, without reading anything else."""
        try:
            state = json.loads(self.state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if state.get("fingerprint") != json.loads(json.dumps(self.fingerprint(), default=str)):
            return None
        written = [Path(p) for p in state.get("notices", [])]
        reminded = [Path(p) for p in state.get("reminders", [])]
        if not all(p.exists() for p in written + reminded):
            return None      # someone removed an output: regenerate
        result = ConsolidationResult(self.settings.current_period(), self.settings.master,
                                     missing_units=state.get("missing", []))
        remind_by = dt.date.fromisoformat(state["remind_by"]) if state.get("remind_by") else None
        figures = Figures(**{"soon_days": self.settings.remind_working_days, **state["figures"]})
        return RunReport(started, time.perf_counter() - t0, result, figures, notices=written,
                         warnings=state.get("warnings", []), quick=True, reminders=reminded, remind_by=remind_by,
                         ladder_line=state.get("ladder_line", ""))

    def _save_state(self, report: RunReport) -> None:
        # The inbox a clean run leaves is empty: anything in it next time (arrived during this run,
        # deferred, left because it changed) makes that run a complete one.
        state = {"fingerprint": self.fingerprint(inbox=[]), "figures": asdict(report.figures),
                 "missing": report.consolidation.missing_units, "warnings": report.warnings,
                 "notices": [str(p) for p in report.notices], "reminders": [str(p) for p in report.reminders],
                 "remind_by": report.remind_by, "ladder_line": report.ladder_line}
        fileio.atomic_write_text(self.state_path(), json.dumps(state, ensure_ascii=False, default=str))


def run_once(settings: Settings, distribute_first: bool = False, on_file=None) -> RunReport:
    """The scheduler's job: one complete run of the workspace these settings describe."""
    return Workspace(settings).run_once(distribute_first, on_file)

