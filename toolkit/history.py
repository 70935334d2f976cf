"""Change history (变更记录): recording every run's changes with the master write, and rebuilding the
history from the archive (the database itself: io/history_db.py).

Recording replays each received file on its own, so every change is credited to the file (hash) that
made it; `history --rebuild` replays the whole archive the same way and gives the same rows.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import vocab
from .assessment import dated
from .errors import HistoryError, ToolkitError
from .intake import read_submission
from .io import history_db, master_file
from .io.history_db import (
    MEASURE_FIELDS,
    OWNER_FIELDS,
    Change,
    HistoryDB,
    Snapshot,
    _mtime,
    _now,
    diff_ledgers,
    diff_snapshots,
    master_digest,
    new_receipts,
    period_end,
    snapshot,
)
from .io.ledger_file import read_ledger
from .merging import merge
from .model import Ledger, LogEntry, Review, Settings
from .problems import Location

log = logging.getLogger("toolkit")

# ---------------------------------------------------------------- recording a run

def expected_digest(after: Ledger, settings: Settings, assessment=None) -> str:
    """The digest write_master will store for this ledger (it brings 历史进度 up to date first, as
    write_master does, from the run's assessment when given; that step is idempotent)."""
    assessment = master_file.prepare(after, settings, assessment)
    return master_file.content_digest(after, settings, assessment.dated)


def replay(ledger: Ledger, receipts: list[LogEntry], settings: Settings, submissions: dict | None = None) -> list[Change]:
    """Merge the applied files among the receipts into the ledger, one at a time, and return each
    file's changes (source its hash, time its receipt). Files come from `submissions`
    ({sha256: Submission}) or else are read again from the archive."""
    out = []
    roots = link_roots(settings)
    for rec in filter(lambda r: r.applied, receipts):
        sub = (submissions or {}).get(rec.sha256)
        sub = _archived(ledger, rec, settings) if sub is None else sub
        ids = list(dict.fromkeys(u.measure_id for u in sub.updates))
        pre = without_own_links(snapshot(ledger, ids), settings, roots)
        merge(ledger, sub, settings.review_required)
        out += diff_snapshots(pre, without_own_links(snapshot(ledger, ids), settings, roots), rec.sha256, rec.received,
                              rec.period)
    return out


def without_own_links(snap: Snapshot, settings: Settings, roots: tuple[Path, Path] | None = None) -> Snapshot:
    """A snapshot without the text the toolkit itself puts in a blank 佐证材料 cell (the path of the
    measure's evidence folder under the archive, read back from its hyperlink): not an office edit.
    roots: link_roots(settings), when the caller strips many snapshots."""
    if not any(k[2] == vocab.EVIDENCE for k in snap):
        return snap
    archive, master = roots or link_roots(settings)

    def own(value: str) -> bool:
        path = Path(value.replace("\\", "/"))
        try:
            return (master / path).resolve().is_relative_to(archive)
        except (OSError, ValueError):
            return False
    return {k: v for k, v in snap.items() if not (k[2] == vocab.EVIDENCE and own(v))}


def link_roots(settings: Settings) -> tuple[Path, Path]:
    """(the archive folder resolved, the master's folder): what the toolkit's own evidence links are relative to."""
    return settings.path("archive").resolve(), Path(settings.master).parent


def run_changes(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
                submissions=None, *, period: str, merged: dict | None = None) -> list[Change]:
    """Everything a run is about to make true: the first time, the whole ledger as 初始导入; then the
    office's hand edits since the last recorded write (办公室修改, timed by the master file); then each
    received file's changes; whatever else differs in `after` is recorded under `source`. merged: the
    consolidation's record of each file's merge (ConsolidationResult.merged), used instead of a replay."""
    stamp = _mtime(settings.master)
    if db.is_empty():
        out = diff_snapshots({}, snapshot(before), vocab.SOURCE_INITIAL, stamp, "")
    else:
        out = diff_snapshots(db.state(), without_own_links(snapshot(before), settings), vocab.SOURCE_OFFICE,
                             stamp, period)
    receipts = new_receipts(before.log, after.log)
    if merged is not None and list(merged) == [r.sha256 for r in receipts if r.applied]:
        return out + merged_changes(merged, receipts, settings)
    current = before.copy()
    files: dict = {}
    for s in submissions or []:      # a file's first copy of the run is the one judged (a later copy: 重复报送,
        files.setdefault(s.sha256, s)    # received at another time, which a legacy 退回补充 compares with)
    out += replay(current, receipts, settings, files)
    return out + diff_ledgers(current, after, source, _now(), period)


def merged_changes(merged: dict, receipts: list[LogEntry], settings: Settings) -> list[Change]:
    """What replay would record, from the consolidation's own merges: it merged exactly the applied new files, in
    their order, into the ledger as read with nothing else taken in (ConsolidationResult.merged), so merging each
    again into a copy gives the same snapshots, and the copy then differs from `after` in nothing replay records."""
    roots = link_roots(settings)
    out = []
    for rec in filter(lambda r: r.applied, receipts):
        pre, post = merged[rec.sha256]
        out += diff_snapshots(without_own_links(pre, settings, roots), without_own_links(post, settings, roots),
                              rec.sha256, rec.received, rec.period)
    return out


def record(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
           submissions=None, assessment=None, digest: str = "", merged: dict | None = None) -> int | None:
    """Step 1 of a recorded write: store the run's changes as pending under the digest of the master
    about to be written (digest: expected_digest's, when the caller has it). Returns the run id for commit()
    (None when nothing changed)."""
    period = dated(settings, assessment.dated if assessment else None).period    # the run's, when assessed
    return db.add(run_changes(db, settings, before, after, source, submissions, period=period, merged=merged),
                  digest or expected_digest(after, settings, assessment))


@contextmanager
def recording(db: HistoryDB, settings: Settings, before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE,
              submissions=None, assessment=None, digest: str = "", merged: dict | None = None):
    """Wrap the master write: `with recording(db, settings, before, after): write_master(after, settings)`.
    Changes are pending before the write and committed after it; a failed write settles them
    against whatever master is on disk (a crash is settled by open_history the next time)."""
    run = record(db, settings, before, after, source, submissions, assessment, digest, merged)
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


# ---------------------------------------------------------------- opening it, whatever became of it

def open_recovering(settings: Settings, notes: list[str], rebuild_now: bool = True) -> HistoryDB:
    """open_history, and when the database is damaged (moved aside, kept) or gone (deleted after runs
    made backups), a new one rebuilt from the archive (unless the caller rebuilds it: rebuild_now False),
    with one line in notes saying what happened: the run goes on either way."""
    path = history_db.db_path(settings)
    ran = oldest_backup(settings) is not None
    gone = not os.path.lexists(path) and ran
    try:
        if odd := _not_a_database(path, ran):
            raise history_db.HistoryDamaged(path, odd)
        db = history_db.open_history(settings)
    except history_db.HistoryDamaged as exc:
        moved = history_db.set_aside(path)
        db = history_db.open_history(settings)
        what = f"变更记录数据库“{path.name}”已损坏（{exc.reason}），已原样移到“{moved.name}”并新建"
    else:
        if not gone or not rebuild_now:       # first use, or about to be rebuilt as asked: nothing to say
            return db
        what = f"变更记录数据库“{path.name}”不存在（可能被删除或移走），已新建"
    if not rebuild_now:
        how = ""
    else:
        try:
            how = f"，并按归档文件重建（{rebuild(db, settings, notes)}条记录，与 `history --rebuild` 相同）"
        except Exception as exc:     # the archive cannot tell it all: record from now on, the master as it is
            why = str(exc) if isinstance(exc, ToolkitError) else type(exc).__name__
            log.warning("按归档重建变更记录失败：%r", exc)
            how = (f"；未能按归档文件重建（{why}），从本次起以当前台账为初始状态重新记录，"
                   f"处理后可运行 `python -m toolkit history --rebuild`")
    notes.append(what + how + "。")
    log.warning(notes[-1])
    return db


def _not_a_database(path: Path, ran: bool) -> str:
    """Why what stands at the database's path is no history to go on with ('' when it may be): not a file
    (a folder in its place), or a file emptied to 0 bytes after runs that recorded changes (SQLite would take
    it as a new, empty history and the rows it held would be lost without a word)."""
    if not os.path.lexists(path):
        return ""
    if not path.is_file():
        return "不是文件，而是一个文件夹" if path.is_dir() else "不是普通文件"
    wal = Path(f"{path}-wal")
    if ran and path.stat().st_size == 0 and not (wal.is_file() and wal.stat().st_size):
        return "是0字节的空文件，原有的记录已不在其中"
    return ""


# ---------------------------------------------------------------- rebuilding from the archive

def oldest_backup(settings: Settings, notes: list[str] | None = None) -> Path | None:
    """The first master backup: the ledger as it was before the first consolidation changed it. Backups
    are ordered by the 记录序号 their masters carried, not by the clock in their names; where a name's time
    lies before its predecessor's (the clock was set back), a line in notes says so."""
    master = settings.master
    found = sorted(settings.path("backup").glob(f"{master.stem}_*{master.suffix}"),
                   key=lambda p: (*master_file.backup_order(p), p.stat().st_mtime_ns))
    for before, after in zip(found, found[1:]):
        (n0, t0), (n1, t1) = master_file.backup_order(before), master_file.backup_order(after)
        if notes is not None and n1 > n0 >= 0 and t1 < t0:
            notes.append(f"备份“{after.name}”（记录序号{n1}）文件名中的时间早于其前一份备份“{before.name}”（记录序号{n0}），"
                         f"备份时本机时钟可能被调回；已按记录序号确定先后，以“{found[0].name}”为初始状态。")
    return found[0] if found else None


def rebuild_changes(settings: Settings, db: HistoryDB | None = None, notes: list[str] | None = None) -> list[Change]:
    """The history as the archive tells it: the first master backup as 初始导入, then every file the
    报送记录 says was taken in, replayed under the period and [review] setting it was taken in under,
    with the office's rows (办公室修改, 销号审核) of `db` applied between them where they were recorded."""
    current = read_ledger(settings.master, settings)
    first = oldest_backup(settings, notes)
    if first is None and current.log:
        raise HistoryError(kind="history-no-first-backup", where=Location(file=str(settings.path("backup"))),
                           folder=settings.path("backup"))
    base = read_ledger(first, settings) if first else current
    live = db.changes() if db is not None else []
    initial = [c for c in live if c.source == vocab.SOURCE_INITIAL]
    out = diff_snapshots({}, snapshot(base), vocab.SOURCE_INITIAL,
                         initial[0].time if initial else _mtime(first or settings.master), "")
    by_file: dict[str, list[Change]] = {}
    for c in live:
        if c.from_file:
            by_file.setdefault(c.source, []).append(c)
    known = bool(live)          # a database that recorded runs: a file without rows changed nothing
    for event in _events(live, [r for r in new_receipts(base.log, current.log) if r.applied]):
        base.sequence += 1       # each event its own run: a file after a return is taken in after it
        if isinstance(event, LogEntry):
            out += _replay_file(base, event, settings, by_file.get(event.sha256, []) if known else None, notes)
        else:
            apply_rows(base, event, settings)
            out += event
    return out


def _events(live: list[Change], receipts: list[LogEntry]) -> list:
    """The order things happened in: the files (LogEntry) and runs of office rows (list of Change) as the
    database recorded them; a file it holds no rows of comes right after the file before it in the 报送记录."""
    slots: list = []            # a file's hash, or a list of consecutive office rows
    for c in live:
        if c.source == vocab.SOURCE_INITIAL:
            continue
        if c.from_file:
            if c.source not in slots:
                slots.append(c.source)
        elif slots and isinstance(slots[-1], list):
            slots[-1].append(c)
        else:
            slots.append([c])
    at = {s: i for i, s in enumerate(slots) if isinstance(s, str)}
    keyed, last = [], (-1, 0)
    for n, rec in enumerate(receipts):
        last = (at[rec.sha256], 0) if rec.sha256 in at else (last[0], n + 1)
        keyed.append((last, rec))
    keyed += [((i, 0), s) for i, s in enumerate(slots) if isinstance(s, list)]
    return [event for _, event in sorted(keyed, key=lambda k: k[0])]


def _replay_file(ledger: Ledger, rec: LogEntry, settings: Settings, live: list[Change] | None,
                 notes: list[str] | None) -> list[Change]:
    """Merge one archived file into the ledger under the [review] setting it was taken in under: the one
    whose replay gives the rows recorded live, else the one its rows show (销号审核 rows: on; a unit's
    已完成 taken as such: off). When neither tells and it matters, the live rows are kept."""
    sub = _archived(ledger, rec, settings)
    ids = list(dict.fromkeys(u.measure_id for u in sub.updates))
    pre = snapshot(ledger, ids)
    rows = {}
    for review_on in (settings.review_required, not settings.review_required):
        trial = ledger.copy()
        merge(trial, sub, review_on)
        rows[review_on] = diff_snapshots(pre, snapshot(trial, ids), rec.sha256, rec.received, rec.period)
    same = lambda a, b: sorted(map(_what, a)) == sorted(map(_what, b))
    chosen = None
    if same(rows[True], rows[False]):
        chosen = settings.review_required
    elif live is not None and any(same(live, r) for r in rows.values()):
        chosen = same(live, rows[True])
    elif live and _review_shown(live) is not None:
        chosen = _review_shown(live)
    elif live:
        apply_rows(ledger, live, settings)
        if notes is not None:
            notes.append(f"{rec.unit}报送的“{rec.name}”（{rec.period}期）：归档文件无法说明当时是否启用销号审核，"
                         f"保留原有的{len(live)}条变更记录。")
        return live
    else:
        chosen = settings.review_required
        if notes is not None:
            notes.append(f"{rec.unit}报送的“{rec.name}”（{rec.period}期）：变更记录中没有它的记录，"
                         f"按当前配置（销号审核{'已' if chosen else '未'}启用）重放。")
    merge(ledger, sub, chosen)
    return rows[chosen]


def _what(c: Change) -> tuple:
    return c.measure, c.unit, c.field, c.old, c.new


def _review_shown(rows: list[Change]) -> bool | None:
    """Whether a file's recorded rows show close-out review on (a 销号审核 row), off (a unit's 已完成
    taken as a status), or cannot tell (None)."""
    if any(c.field == vocab.REVIEW_FIELD for c in rows):
        return True
    if any(c.field == vocab.STATUS and c.new == vocab.DONE for c in rows):
        return False
    return None


def _archived(ledger: Ledger, rec: LogEntry, settings: Settings):
    """The submission of an archived file, read again under its own period; its hash checked."""
    path = settings.path("archive") / rec.archived
    if not path.exists():
        raise HistoryError(kind="history-archived-missing", where=Location(file=str(path)),
                           path=path, unit=rec.unit, received=rec.received)
    sub = read_submission(path, ledger, replace(settings, period=rec.period), dt.datetime.fromisoformat(rec.received))
    if sub.sha256 != rec.sha256:
        raise HistoryError(kind="history-archived-altered", where=Location(file=str(path)), name=path.name)
    return sub


def apply_rows(ledger: Ledger, rows: list[Change], settings: Settings) -> None:
    """Make recorded rows true in a ledger being replayed (the office's edits and decisions between files)."""
    for c in rows:
        m = ledger.measures.get(c.measure)
        if m is None:
            continue
        if c.field == vocab.REVIEW_FIELD:
            _apply_review(ledger, c, settings)
            continue
        attr = (OWNER_FIELDS if c.unit else MEASURE_FIELDS).get(c.field)
        if attr is None or attr == "deadline":          # a deadline is the plan's, never a file's
            continue
        if not c.unit:
            setattr(m, attr, c.new)
        entry = ledger.owners.get((c.measure, c.unit or (m.lead_unit if not m.co_units else "")))
        if entry is not None and attr in OWNER_FIELDS.values():
            setattr(entry, attr, c.new)


def _apply_review(ledger: Ledger, c: Change, settings: Settings) -> None:
    """A recorded 销号审核 value (申请销号 / 已销号 / 退回补充：意见 / blank) as the ledger's request; a
    decision is dated no later than its period's last day (the reference date it was taken at)."""
    key = (c.measure, c.unit)
    r = ledger.reviews.get(key)
    if not c.new:
        ledger.reviews.pop(key, None)
        return
    if c.new == vocab.APPLIED_CLOSE:
        if r is None or r.state != vocab.REVIEW_PENDING:
            ledger.reviews[key] = Review(c.measure, c.unit, c.time[:10], r.evidence if r else "",
                                         opinion=r.opinion if r else "")
        return
    if r is None:
        r = ledger.reviews[key] = Review(c.measure, c.unit, c.time[:10])
    r.decided = min(c.time[:10], period_end(c.period, dated(settings).reference_date).isoformat()) if c.period else c.time[:10]
    r.decided_seq = ledger.sequence + 1
    if c.new == vocab.CLOSED:
        r.state, r.conclusion = vocab.CLOSED, vocab.REVIEW_APPROVE
    else:
        r.state, r.conclusion = vocab.REVIEW_RETURNED, vocab.REVIEW_RETURN
        r.opinion = c.new.partition("：")[2] or r.opinion


def rebuild(db: HistoryDB, settings: Settings, notes: list[str] | None = None) -> int:
    """Rewrite the history as rebuild_changes() tells it, in the order it happened (the office's rows
    kept between the files' rows); what the archive could not tell is added to notes. Returns the rows written."""
    rows = rebuild_changes(settings, db, notes)
    db.replace_all(rows, master_digest(settings.master))
    return len(rows)
