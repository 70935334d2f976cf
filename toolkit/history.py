"""Change history (变更记录): recording every run's changes with the master write, and rebuilding the
history from the archive (the database itself: io/history_db.py).

Recording replays each received file on its own, so every change is credited to the file (hash) that
made it; `history --rebuild` replays the whole archive the same way and gives the same rows.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import vocab
from .consolidate import merge
from .errors import HistoryError
from .intake import read_submission
from .io import master_file
from .io.history_db import (Change, HistoryDB, _mtime, _now, diff_ledgers, diff_snapshots,
                            master_digest, new_receipts, snapshot)
from .io.ledger_file import read_ledger
from .model import Ledger, LogEntry, Settings

# ---------------------------------------------------------------- recording a run

def expected_digest(after: Ledger, settings: Settings, assessment=None) -> str:
    """The digest write_master will store for this ledger (it brings 历史进度 up to date first, as
    write_master does, from the run's assessment when given; that step is idempotent)."""
    master_file.prepare(after, settings, assessment)
    return master_file.content_digest(after, settings)


def replay(ledger: Ledger, receipts: list[LogEntry], settings: Settings, submissions: dict | None = None) -> list[Change]:
    """Merge the applied files among the receipts into the ledger, one at a time, and return each
    file's changes (source its hash, time its receipt). Files come from `submissions`
    ({sha256: Submission}) or else are read again from the archive."""
    out = []
    for rec in filter(lambda r: r.applied, receipts):
        sub = (submissions or {}).get(rec.sha256)
        if sub is None:
            path = settings.path("archive") / rec.archived
            if not path.exists():
                raise HistoryError(f"归档文件“{path}”不存在（报送记录：{rec.unit}，{rec.received}），"
                                   f"无法重建变更记录。请从备份恢复该文件后重试。")
            sub = read_submission(path, ledger, replace(settings, period=rec.period),
                                  dt.datetime.fromisoformat(rec.received))
            if sub.sha256 != rec.sha256:
                raise HistoryError(f"归档文件“{path.name}”的内容与报送记录中的哈希不一致，可能被改动过。"
                                   f"请从备份恢复原件后重试。")
        ids = list(dict.fromkeys(u.measure_id for u in sub.updates))
        pre = snapshot(ledger, ids)
        merge(ledger, sub, settings.review_required)
        out += diff_snapshots(pre, snapshot(ledger, ids), rec.sha256, rec.received, rec.period)
    return out


def run_changes(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
                submissions=None) -> list[Change]:
    """Everything a run is about to make true: the first time, the whole ledger as 初始导入; then the
    office's hand edits since the last recorded write (办公室修改, timed by the master file); then each
    received file's changes; whatever else differs in `after` is recorded under `source`."""
    period = settings.current_period()
    stamp = _mtime(settings.master)
    current = before.copy()
    if db.is_empty():
        out = diff_snapshots({}, snapshot(before), vocab.SOURCE_INITIAL, stamp, "")
    else:
        out = diff_snapshots(db.state(), snapshot(before), vocab.SOURCE_OFFICE, stamp, period)
    out += replay(current, new_receipts(before.log, after.log), settings, {s.sha256: s for s in submissions or []})
    return out + diff_ledgers(current, after, source, _now(), period)


def record(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
           submissions=None, assessment=None) -> int | None:
    """Step 1 of a recorded write: store the run's changes as pending under the digest of the master
    about to be written. Returns the run id for commit() (None when nothing changed)."""
    return db.add(run_changes(db, settings, before, after, source, submissions),
                  expected_digest(after, settings, assessment))


@contextmanager
def recording(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
              submissions=None, assessment=None):
    """Wrap the master write: `with recording(db, settings, before, after): write_master(after, settings)`.
    Changes are pending before the write and committed after it; a failed write settles them
    against whatever master is on disk (a crash is settled by open_history the next time)."""
    run = record(db, settings, before, after, source, submissions, assessment)
    try:
        yield run
    except BaseException:
        db.recover(master_digest(settings.master))
        raise
    _sync_folder(settings.master.parent)    # the master's rename is on disk before the run is committed
    db.commit(run)


def _sync_folder(folder: Path) -> None:
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------- rebuilding from the archive

def oldest_backup(settings: Settings) -> Path | None:
    """The first master backup: the ledger as it was before the first consolidation changed it."""
    master = settings.master
    found = list(settings.path("backup").glob(f"{master.stem}_*{master.suffix}"))
    return min(found, key=lambda p: (p.stem.split("_")[-2], p.stat().st_mtime_ns)) if found else None


def rebuild_changes(settings: Settings) -> list[Change]:
    """The history as the archive tells it: the first master backup as 初始导入, then every file the
    报送记录 says was taken in, replayed in the order it was received."""
    current = read_ledger(settings.master, settings)
    first = oldest_backup(settings)
    if first is None and current.log:
        raise HistoryError(f"备份文件夹“{settings.path('backup')}”中找不到台账的最早备份，无法确定初始状态，"
                           f"不能重建变更记录。")
    base = read_ledger(first, settings) if first else current
    out = diff_snapshots({}, snapshot(base), vocab.SOURCE_INITIAL, _mtime(first or settings.master), "")
    return out + replay(base, new_receipts(base.log, current.log), settings)


def rebuild(db: HistoryDB, settings: Settings) -> int:
    """Replace the rows that come from files (and the 初始导入) by rebuild_changes(); rows the archive
    cannot tell (办公室修改, 销号审核) are kept. Returns the number of rows rebuilt."""
    rows = rebuild_changes(settings)
    db.replace_rebuilt(rows, master_digest(settings.master))
    return len(rows)


