"""The scheduler loop that repeats the workspace's run every night, and the run log.
The run itself (and its lock) is the application layer's: toolkit.app.
"""
from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
import time
from typing import Callable

from .app import os_error_text, run_once
from .errors import BusyError, ToolkitError
from .model import Settings

log = logging.getLogger("toolkit")


def _say(line: str) -> None:
    """One line on stderr, if stderr itself can still be written."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class RunLog(logging.handlers.RotatingFileHandler):
    """The run log file. A write that fails (a full disk, a drive gone) says so in one Chinese line on
    stderr, once, instead of logging's traceback for every line; the run itself goes on."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        exc = sys.exc_info()[1]
        why = os_error_text(exc) if isinstance(exc, OSError) else f"无法写入运行日志 {self.baseFilename}。"
        _say(f"运行日志 {self.baseFilename} 写入失败，之后的日志行未能记录：{why}")

    def close(self) -> None:
        """Close the file; what it could not flush is already lost and was said once."""
        try:
            super().close()
        except OSError:
            self.stream = None


class Console(logging.StreamHandler):
    """The console log: a console that cannot be written (closed, redirected to a full disk) is left quiet."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def setup_logging(settings: Settings, console: bool = True) -> logging.Logger:
    """Log to logs/toolkit.log (rotating, 5 × 2 MB) and, optionally, to the console; a log that cannot
    be opened or written costs one Chinese line on stderr, never the run."""
    folder = settings.path("logs")
    logger = logging.getLogger("toolkit")
    logger.setLevel(logging.INFO)
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RunLog(folder / "toolkit.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        _say(f"无法打开运行日志，本次运行不写日志文件：{os_error_text(exc)}")
        handler = logging.NullHandler()
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    if console:
        stream = Console(sys.stderr)
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
            log.warning("本次跳过：%s", exc)
        except ToolkitError as exc:      # a problem the message explains: one line, no traceback
            self.failures += 1
            log.error("汇总运行未完成（将在下次计划时间重试）：%s", exc)
        except Exception as exc:  # the loop must survive any failed run
            self.failures += 1
            log.exception("汇总运行失败（将在下次计划时间重试）：%s", exc)

    def stop(self, *_args) -> None:
        self.stopping = True
        log.info("收到停止信号，当前运行结束后退出")

    def tick(self) -> None:
        """Run whatever is due now (the loop's one step; tests call it with a faked clock)."""
        self.scheduler.run_pending()

    def serve(self, sleep: Callable[[float], None] = time.sleep, max_ticks: int | None = None) -> None:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        log.info("定时汇总已启动：%s运行，下次运行 %s", self.when, self.scheduler.next_run)
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
            log.info("定时汇总已停止（共运行%s次，失败%s次）", self.runs, self.failures)
