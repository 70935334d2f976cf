"""One complete run (consolidate → statistics → highlighting → notices → report), the lock that
keeps runs from overlapping, and the scheduler loop that repeats the run every night.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import sheets, vocab
from .config import Settings
from .consolidate import ConsolidationResult, consolidate
from .errors import BusyError
from .ledger import read_ledger
from .progress import Summary, summarise
from .overdue import late_rows, OVERDUE


@dataclass
class RunReport:
    """What one run did, for the console, the log and the report file."""
    started: dt.datetime
    seconds: float
    consolidation: ConsolidationResult
    summary: Summary
    overdue: int
    due_soon: int
    distributed: int = 0
    notices: list[Path] = field(default_factory=list)
    report_path: Path | None = None

    def lines(self) -> list[str]:
        s = self.summary
        out = []
        if self.distributed:
            out.append(f"分发:已为{self.distributed}个单位生成填报模板。")
        out += self.consolidation.lines()
        out.append(f"总体完成率:{s.measures.completion:.1f}%(整改措施{s.measures.total}条,已完成{s.measures.done}条,"
                   f"基本完成{s.measures.mostly}条,正在推进{s.measures.in_progress}条,未启动{s.measures.not_started}条)")
        out.append(f"逾期未完成:{self.overdue}条;临期(5个工作日内到期):{self.due_soon}条(基准日期 {s.reference_date})")
        if self.notices:
            out.append(f"通报与督办单({len(self.notices)}份):{self.notices[0].parent}")
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


def run_once(settings: Settings, distribute_first: bool = False) -> RunReport:
    """The whole job once: (distribute,) consolidate, refresh statistics, write notices and a report."""
    from . import distribute, notices
    started = dt.datetime.now()
    t0 = time.perf_counter()
    with lock_for(settings):
        distributed = len(distribute.distribute(settings)) if distribute_first else 0
        result = consolidate(settings)
        ledger = read_ledger(settings.master)
        summary = summarise(ledger, settings)
        late = late_rows(ledger, settings)
        written = notices.write_notices(ledger, settings, summary)
    report = RunReport(started, time.perf_counter() - t0, result, summary,
                       sum(r.state == OVERDUE for r in late), sum(r.state != OVERDUE for r in late),
                       distributed, written)
    folder = settings.path("output") / settings.current_period() / "运行报告"
    report.report_path = folder / f"{started:%Y%m%d-%H%M%S}.txt"
    sheets.atomic_write_text(report.report_path, "\n".join(report.lines()) + "\n")
    return report
