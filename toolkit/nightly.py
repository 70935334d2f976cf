"""One complete run (consolidate → statistics → highlighting → notices → report), the lock that
keeps runs from overlapping, and the scheduler loop that repeats the run every night.
"""
from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import utils
from .config import Settings
from .consolidate import ConsolidationResult, consolidate
from .errors import BusyError
from .progress import Summary, summarise
from .overdue import OVERDUE, CalendarWarning, late_rows, plan_warnings


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

    @classmethod
    def of(cls, summary: Summary, late) -> "Figures":
        m = summary.measures
        return cls(summary.reference_date.isoformat(), m.total, m.done, m.mostly, m.in_progress, m.not_started,
                   m.completion, sum(r.state == OVERDUE for r in late), sum(r.state != OVERDUE for r in late))


@dataclass
class RunReport:
    """What one run did, for the console, the log and the report file."""
    started: dt.datetime
    seconds: float
    consolidation: ConsolidationResult
    figures: Figures
    distributed: int = 0
    notices: list[Path] = field(default_factory=list)
    report_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    quick: bool = False

    def lines(self) -> list[str]:
        f = self.figures
        out = []
        if self.distributed:
            out.append(f"分发:已为{self.distributed}个单位生成填报模板。")
        if self.quick:
            out.append(f"收件箱没有新文件,台账与通报自上次运行以来无变化,未做任何改动({self.consolidation.master})。")
        else:
            out += self.consolidation.lines()
        out.append(f"总体完成率:{f.completion:.1f}%(整改措施{f.total}条,已完成{f.done}条,"
                   f"基本完成{f.mostly}条,正在推进{f.in_progress}条,未启动{f.not_started}条)")
        out.append(f"逾期未完成:{f.overdue}条;临期(5个工作日内到期):{f.due_soon}条(基准日期 {f.reference_date})")
        out += [f"提示:{w}" for w in self.warnings]
        if self.notices:
            out.append(f"通报、督办单与公开段落({len(self.notices)}个文件):{self.notices[0].parent}")
        if self.report_path:
            out.append(f"运行报告:{self.report_path}")
        out.append(f"用时 {self.seconds:.2f} 秒。")
        return out


class RunLock:
    """One run at a time: a lock file holding pid and start time; a dead owner's lock is taken over."""

    def __init__(self, path: Path, wait_seconds: float = 0.0):
        self.path = Path(path)
        self.wait_seconds = wait_seconds

    def _stale(self) -> bool:
        try:
            pid = int(self.path.read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(f"{os.getpid()} {dt.datetime.now().isoformat(timespec='seconds')}\n")
                return self
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                if time.monotonic() >= deadline:
                    holder = self.path.read_text(encoding="utf-8", errors="replace").strip()
                    raise BusyError(f"另一个汇总正在运行(锁文件 {self.path},进程与开始时间:{holder}),请稍后再试。")
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def lock_for(settings: Settings) -> RunLock:
    return RunLock(settings.master.with_name(".整改台账.lock"), settings.lock_wait_seconds)


log = logging.getLogger("toolkit")


def master_in_use(path: Path) -> str:
    """Why the master cannot be written now ('' if it can): Excel/WPS owner file, or a Windows file lock."""
    path = Path(path)
    owner = path.with_name("~$" + path.name)
    if owner.exists():
        return f"发现 Excel/WPS 的占用标记文件 {owner.name},台账正被打开"
    if path.exists() and os.name == "nt":
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            return "台账文件被其他程序锁定"
    return ""


def wait_until_free(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait (retrying) while the master is open in Excel/WPS; BusyError when it stays open."""
    waited = 0.0
    while reason := master_in_use(settings.master):
        if waited >= settings.lock_wait_seconds:
            raise BusyError(f"{reason},已等待{waited:.0f}秒,本次跳过汇总(台账未改动)。请关闭台账后重新运行。")
        log.info("%s,%s秒后重试", reason, 5)
        sleep(5)
        waited += 5


def _state_path(settings: Settings) -> Path:
    return settings.master.with_name(f".{settings.master.stem}.state.json")


def _fingerprint(settings: Settings) -> dict:
    """What a quick rerun must find unchanged: the master file, the inbox, the settings that shape outputs."""
    stat = settings.master.stat() if settings.master.exists() else None
    from .consolidate import inbox_files
    inbox = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inbox_files(settings.path("inbox"))]
    return {"master": [stat.st_size, stat.st_mtime_ns] if stat else None, "inbox": inbox,
            "settings": [settings.current_period(), str(settings.today()), str(settings.reference_date),
                         str(settings.programme_start), settings.remind_working_days, settings.reply_days,
                         settings.lagging_units, sorted(settings.weights.items()), settings.title,
                         settings.organisation, settings.subject, settings.addressees,
                         [str(d) for d in settings.extra_holidays + settings.extra_workdays]]}


def _quick_report(settings: Settings, started: dt.datetime, t0: float) -> RunReport | None:
    """When nothing changed since the last complete run, report its figures without reading anything."""
    import json
    path = _state_path(settings)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("fingerprint") != json.loads(json.dumps(_fingerprint(settings), default=str)):
        return None
    result = ConsolidationResult(settings.current_period(), settings.master,
                                 missing_units=state.get("missing", []))
    notices = [Path(p) for p in state.get("notices", [])]
    if not all(p.exists() for p in notices):
        return None      # someone removed an output: regenerate
    return RunReport(started, time.perf_counter() - t0, result, Figures(**state["figures"]), notices=notices,
                     warnings=state.get("warnings", []), quick=True)


def _save_state(settings: Settings, report: RunReport) -> None:
    import json
    from dataclasses import asdict
    state = {"fingerprint": _fingerprint(settings), "figures": asdict(report.figures),
             "missing": report.consolidation.missing_units, "warnings": report.warnings,
             "notices": [str(p) for p in report.notices]}
    utils.atomic_write_text(_state_path(settings), json.dumps(state, ensure_ascii=False, default=str))


def run_once(settings: Settings, distribute_first: bool = False,
             on_file: Callable[[int, int, str], None] | None = None) -> RunReport:
    """The whole job once: (distribute,) consolidate, refresh statistics, write notices and a report.

    A rerun that finds the master, the inbox and the settings exactly as the last run left them
    reads and writes nothing (figures come from the state file beside the master)."""
    from . import distribute, notices
    started = dt.datetime.now()
    t0 = time.perf_counter()
    with lock_for(settings):
        wait_until_free(settings)
        report = None if distribute_first else _quick_report(settings, started, t0)
        if report is None:
            with warnings.catch_warnings(record=True) as noted:   # calendar gaps go into the report
                warnings.simplefilter("always", CalendarWarning)
                distributed = len(distribute.distribute(settings)) if distribute_first else 0
                result = consolidate(settings, on_file=on_file)
                ledger = result.ledger
                summary = summarise(ledger, settings)
                late = late_rows(ledger, settings)
                written = notices.write_notices(ledger, settings, summary)
            calendar = sorted({str(w.message) for w in noted if issubclass(w.category, CalendarWarning)})
            report = RunReport(started, time.perf_counter() - t0, result, Figures.of(summary, late),
                               distributed, written,
                               warnings=calendar + plan_warnings(ledger, settings) + ledger.report_notes())
            _save_state(settings, report)
    folder = settings.path("output") / settings.current_period() / "运行报告"
    report.report_path = folder / f"{started:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    utils.atomic_write_text(report.report_path, "\n".join(report.lines()) + "\n")
    for line in report.lines():
        log.info(line)
    return report


def setup_logging(settings: Settings, console: bool = True) -> logging.Logger:
    """Log to logs/toolkit.log (rotating, 5 × 2 MB) and, optionally, to the console."""
    folder = settings.path("logs")
    folder.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("toolkit")
    logger.setLevel(logging.INFO)
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    handler = logging.handlers.RotatingFileHandler(folder / "toolkit.log", maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        logger.addHandler(stream)
    logger.propagate = False
    return logger


class Scheduler:
    """Runs the job at the configured time each day (or every N minutes) until told to stop.

    A failed run is logged and the loop goes on; SIGINT/SIGTERM stop it between runs.
    """

    def __init__(self, settings: Settings, job: Callable[[Settings], object] = run_once):
        import schedule
        self.settings = settings
        self.job = job
        self.stopping = False
        self.runs = 0
        self.failures = 0
        self.scheduler = schedule.Scheduler()
        if settings.schedule_every_minutes > 0:
            self.scheduler.every(settings.schedule_every_minutes).minutes.do(self.run_safely)
            self.when = f"每{settings.schedule_every_minutes}分钟"
        else:
            self.scheduler.every().day.at(settings.schedule_at).do(self.run_safely)
            self.when = f"每天{settings.schedule_at}"

    def run_safely(self) -> None:
        self.runs += 1
        try:
            self.job(self.settings)
        except BusyError as exc:
            log.warning("本次跳过:%s", exc)
        except Exception as exc:  # the loop must survive any failed run
            self.failures += 1
            log.exception("汇总运行失败(将在下次计划时间重试):%s", exc)

    def stop(self, *_args) -> None:
        self.stopping = True
        log.info("收到停止信号,当前运行结束后退出")

    def tick(self) -> None:
        """Run whatever is due now (the loop's one step; tests call it with a faked clock)."""
        self.scheduler.run_pending()

    def serve(self, sleep: Callable[[float], None] = time.sleep, max_ticks: int | None = None) -> None:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        log.info("定时汇总已启动:%s运行,下次运行 %s", self.when, self.scheduler.next_run)
        ticks = 0
        try:
            while not self.stopping and (max_ticks is None or ticks < max_ticks):
                self.tick()
                ticks += 1
                if not self.stopping:
                    sleep(1.0)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("定时汇总已停止(共运行%s次,失败%s次)", self.runs, self.failures)
