"""Change history (变更记录): every change to a measure, kept in an SQLite database beside the master_file.

The database is the audit trail, never a second place to edit: its rows are derived by comparing
ledgers (before and after a run, one received file at a time) and can be rebuilt from the archive.
It stays consistent with the master through a pending → committed protocol keyed on the master's
content digest: a crash between the two writes leaves both before or both after.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .rules import normalize
from . import vocab
from .config import Settings
from .errors import FileAccessError, HistoryError
from .model import Ledger
from .io.ledger_file import read_ledger

MEASURE_FIELDS = {vocab.STATUS: "status", vocab.DEADLINE: "deadline", vocab.PROGRESS: "progress",
                  vocab.EVIDENCE: "evidence", vocab.REMARK: "remark"}
OWNER_FIELDS = {vocab.STATUS: "status", vocab.PROGRESS: "progress", vocab.EVIDENCE: "evidence",
                vocab.REMARK: "remark"}
FILE_HASH = re.compile(r"[0-9a-f]{64}")

Snapshot = dict[tuple[str, str, str], str]   # {(measure id, unit or '', field): value}, blanks left out


@dataclass(frozen=True)
class Change:
    """One field of one measure (unit '') or of one owner's entry going from old to new."""
    measure: str
    unit: str
    field: str
    old: str
    new: str
    source: str      # sha256 of the received file, or 办公室修改 / 销号审核 / 初始导入 …
    time: str        # ISO, to the second
    period: str      # 报送期次 ('' for the initial import)

    @property
    def from_file(self) -> bool:
        return bool(FILE_HASH.fullmatch(self.source))


@dataclass(frozen=True)
class Receipt:
    """One row of the master's 报送记录 (vocab.LOG_COLUMNS order), as text."""
    period: str
    unit: str
    received: str
    name: str
    archived: str
    sha256: str
    outcome: str

    @classmethod
    def of(cls, row: list) -> "Receipt":
        period, unit, received, name, archived, sha, outcome = (normalize.clean_text(v) for v in row[:7])
        return cls(period, normalize.clean_key(unit), received, name, archived, sha, outcome)

    @property
    def applied(self) -> bool:
        return self.outcome in vocab.APPLIED_OUTCOMES


def new_receipts(before_log: list[list], after_log: list[list]) -> list[Receipt]:
    """The files a run took in: 报送记录 rows of after whose hash before does not list, in order."""
    seen = {Receipt.of(r).sha256 for r in before_log}
    return [rec for rec in map(Receipt.of, after_log) if rec.sha256 not in seen]


# ---------------------------------------------------------------- comparing ledgers (pure)

def snapshot(ledger: Ledger, ids=None) -> Snapshot:
    """The recorded fields of a ledger (or of the given measures), as text. Owner entries are kept
    only for measures with several owners: a sole owner's state is the measure's own."""
    out: Snapshot = {}
    for mid in (ledger.measures if ids is None else ids):
        m = ledger.measures[mid]
        for name, attr in MEASURE_FIELDS.items():
            value = normalize.clean_text(getattr(m, attr))
            if value:
                out[(mid, "", name)] = value
        if m.co_units:
            for unit in m.owners:
                entry = ledger.owners.get((mid, unit))
                for name, attr in OWNER_FIELDS.items():
                    value = normalize.clean_text(getattr(entry, attr)) if entry else ""
                    if value:
                        out[(mid, unit, name)] = value
    for (mid, unit), r in ledger.reviews.items():      # 申请销号 → 已销号 / 退回补充, per unit
        if ids is None or mid in ids:
            out[(mid, unit, vocab.REVIEW_FIELD)] = r.history_value()
    return out


def diff_snapshots(before: Snapshot, after: Snapshot, source: str, time: str, period: str) -> list[Change]:
    """Changes from one snapshot to the next, in the after ledger's order (vanished keys last)."""
    keys = list(after) + [k for k in before if k not in after]
    return [Change(*k, before.get(k, ""), after.get(k, ""), source, time, period)
            for k in keys if before.get(k, "") != after.get(k, "")]


def diff_ledgers(before: Ledger, after: Ledger, source: str = vocab.SOURCE_OFFICE, time: str | None = None,
                 period: str = "") -> list[Change]:
    """Changes between two ledgers. An owner's change carries the hash and receipt time of the file
    it came from (its new 报送时间 matched in the 报送记录); a measure's change carries its newest such
    owner's; everything else carries source/time (default now)/period."""
    files = {(rec.unit, rec.received): (rec.sha256, rec.period) for rec in map(Receipt.of, after.log) if rec.applied}
    origin: dict[tuple[str, str], tuple[str, str, str]] = {}   # (measure, unit) → (time, hash, period)
    for key, entry in after.owners.items():
        old = before.owners.get(key)
        if entry.submitted_at and (old is None or old.submitted_at != entry.submitted_at):
            found = files.get((entry.unit, entry.submitted_at))
            if found:
                origin[key] = (entry.submitted_at, *found)
    newest = {}
    for (mid, unit), o in origin.items():
        newest[mid] = max(newest.get(mid, o), o)
    out = []
    for c in diff_snapshots(snapshot(before), snapshot(after), source, time or _now(), period):
        o = origin.get((c.measure, c.unit)) if c.unit else newest.get(c.measure)
        out.append(replace(c, time=o[0], source=o[1], period=o[2]) if o else c)
    return out


# ---------------------------------------------------------------- the database

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL,          -- content digest of the master this run writes (参数 sheet)
    state TEXT NOT NULL,           -- pending until that master is in place, then committed
    time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER NOT NULL REFERENCES runs(id),
    measure TEXT NOT NULL, unit TEXT NOT NULL, field TEXT NOT NULL,
    old TEXT NOT NULL, new TEXT NOT NULL, source TEXT NOT NULL, time TEXT NOT NULL, period TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_key ON changes(measure, unit, field);
"""
PENDING, COMMITTED = "pending", "committed"
COMMITTED_ROWS = f"SELECT c.* FROM changes c JOIN runs r ON r.id = c.run WHERE r.state = '{COMMITTED}'"
ROWS_WITH_RUN = f"SELECT c.* FROM changes c JOIN runs r ON r.id = c.run WHERE (r.state = '{COMMITTED}' OR r.id = ?)"


def sqlite_reason(exc: sqlite3.Error) -> str:
    """SQLite's reason in Chinese: a full disk, a read-only folder, or a read/write fault."""
    text = str(exc).lower()
    if "full" in text:
        return "磁盘空间不足"
    if "readonly" in text or "read-only" in text:
        return "所在位置是只读的"
    if "unable to open" in text:
        return "无法创建或打开该文件"
    return "磁盘空间不足或读写出错"


class HistoryDB:
    """The history database (WAL mode, every transaction synced): changes grouped in runs, each
    run pending until the master it belongs to has replaced the old one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(SCHEMA)
        except sqlite3.OperationalError as exc:     # the disk or the folder, not the database itself
            raise FileAccessError(f"无法写入变更记录数据库 {self.path}：{sqlite_reason(exc)}。"
                                  f"请清理磁盘或检查文件夹权限后重试（数据库本身无需处理）。") from None
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"变更记录数据库“{self.path.name}”已损坏，无法打开（{exc}）。"
                               f"可将它移走后运行 `python -m toolkit history --rebuild` 按归档文件重建。") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "HistoryDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def add(self, changes: list[Change], digest: str, state: str = PENDING) -> int | None:
        """Store a run's changes in one transaction; returns the run id (None: nothing to store)."""
        if not changes:
            return None
        with self.transaction() as conn:
            run = conn.execute("INSERT INTO runs (digest, state, time) VALUES (?, ?, ?)",
                               (digest, state, _now())).lastrowid
            conn.executemany("INSERT INTO changes (run, measure, unit, field, old, new, source, time, period) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(run, *_row(c)) for c in changes])
        return run

    def commit(self, run: int | None) -> None:
        if run is None:
            return
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET state = ? WHERE id = ?", (COMMITTED, run))

    def recover(self, current_digest: str) -> tuple[int, int]:
        """Settle pending runs against the master on disk: a run whose digest is the master's is
        committed (the master was replaced), any other is discarded. Returns (committed, discarded)."""
        with self.transaction() as conn:
            runs = conn.execute("SELECT id, digest FROM runs WHERE state = ?", (PENDING,)).fetchall()
            done = [r for r, d in runs if d and d == current_digest]
            gone = [r for r, d in runs if not (d and d == current_digest)]
            conn.executemany("UPDATE runs SET state = ? WHERE id = ?", [(COMMITTED, r) for r in done])
            conn.executemany("DELETE FROM changes WHERE run = ?", [(r,) for r in gone])
            conn.executemany("DELETE FROM runs WHERE id = ?", [(r,) for r in gone])
        return len(done), len(gone)

    def pending(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM runs WHERE state = ?", (PENDING,)).fetchone()[0]

    def is_empty(self) -> bool:
        return self.conn.execute("SELECT 1 FROM changes LIMIT 1").fetchone() is None

    def changes(self, measure: str | None = None, newest_first: bool = False, limit: int | None = None,
                run: int | None = None) -> list[Change]:
        """Committed changes (and the given run's, pending or not) in the order they were applied,
        of one measure or all."""
        sql = ROWS_WITH_RUN + (" AND c.measure = ?" if measure else "") + \
            f" ORDER BY c.id {'DESC' if newest_first else 'ASC'}" + (f" LIMIT {int(limit)}" if limit else "")
        cur = self.conn.execute(sql, (run if run is not None else -1,) + ((measure,) if measure else ()))
        return [Change(*r[2:]) for r in cur]

    def state(self) -> Snapshot:
        """What the committed changes say the ledger holds now (each field's newest value)."""
        cur = self.conn.execute(
            "SELECT c.measure, c.unit, c.field, c.new FROM changes c JOIN "
            f"(SELECT MAX(c.id) AS id FROM ({COMMITTED_ROWS}) c GROUP BY c.measure, c.unit, c.field) last "
            "ON last.id = c.id ORDER BY c.id")
        return {(m, u, f): new for m, u, f, new in cur if new}


def _row(c: Change) -> tuple:
    return (c.measure, c.unit, c.field, c.old, c.new, c.source, c.time, c.period)


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _mtime(path: Path) -> str:
    path = Path(path)
    return dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds") if path.exists() else _now()


def db_path(settings: Settings) -> Path:
    """history.sqlite in the workspace folder (beside config.toml)."""
    return Path(settings.root) / vocab.HISTORY_DB


def master_digest(path: Path) -> str:
    """The content digest the master on disk carries in its 参数 sheet ('' if none or unreadable)."""
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
        if vocab.SHEET_PARAMS not in wb.sheet_names:
            return ""
        rows = wb.get_sheet_by_name(vocab.SHEET_PARAMS).to_python(skip_empty_area=False)
    except Exception:   # missing, half-copied or foreign file: it carries no digest of ours
        return ""
    return next((normalize.clean_text(r[1]) for r in rows
                 if len(r) > 1 and normalize.clean_key(r[0]) == vocab.PARAM_DIGEST), "")


def open_history(settings: Settings) -> HistoryDB:
    """Open the workspace's history and settle any run a crash left pending against the master_file."""
    db = HistoryDB(db_path(settings))
    if db.pending():
        db.recover(master_digest(settings.master))
    return db


# ---------------------------------------------------------------- recording a run

def expected_digest(after: Ledger, settings: Settings, assessment=None) -> str:
    """The digest write_master will store for this ledger (it brings 历史进度 up to date first, as
    write_master does, from the run's assessment when given; that step is idempotent)."""
    from .io import master_file
    master_file.prepare(after, settings, assessment)
    return master_file.content_digest(after, settings)


def replay(ledger: Ledger, receipts: list[Receipt], settings: Settings, submissions: dict | None = None) -> list[Change]:
    """Merge the applied files among the receipts into the ledger, one at a time, and return each
    file's changes (source its hash, time its receipt). Files come from `submissions`
    ({sha256: Submission}) or else are read again from the archive."""
    from .consolidate import merge
    from .intake import read_submission
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
    with db.transaction() as conn:
        conn.execute("DELETE FROM changes WHERE source = ? OR (length(source) = 64 AND source NOT GLOB '*[^0-9a-f]*')",
                     (vocab.SOURCE_INITIAL,))
        run = conn.execute("INSERT INTO runs (digest, state, time) VALUES (?, ?, ?)",
                           (master_digest(settings.master), COMMITTED, _now())).lastrowid
        conn.executemany("INSERT INTO changes (run, measure, unit, field, old, new, source, time, period) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(run, *_row(c)) for c in rows])
        conn.execute("DELETE FROM runs WHERE NOT EXISTS (SELECT 1 FROM changes WHERE changes.run = runs.id)")
    return len(rows)


# ---------------------------------------------------------------- reading it back

def source_text(c: Change, files: dict[str, Receipt] | None = None) -> str:
    """Where a change came from, in words: the unit's file (from the 报送记录) or the label."""
    if not c.from_file:
        return c.source
    rec = (files or {}).get(c.source)
    name = f"{rec.unit}报送“{rec.name}”" if rec else "单位报送文件"
    return f"{name}（哈希{c.source[:12]}）"


def story_lines(db: HistoryDB, measure_id: str, ledger: Ledger | None = None) -> list[str]:
    """A measure's whole story, oldest first, one line per change."""
    mid = normalize.clean_key(measure_id)
    changes = db.changes(mid)
    m = ledger.measures.get(mid) if ledger else None
    if not changes and m is None:
        raise HistoryError(f"变更记录中没有措施“{mid}”。请核对编号（见台账“{vocab.ID}”列）。")
    files = {rec.sha256: rec for rec in map(Receipt.of, ledger.log if ledger else [])}
    out = [f"措施{mid}：{m.measure}（牵头单位：{m.lead_unit}）" if m else f"措施{mid}"]
    out.append(f"共{len(changes)}条变更记录：")
    for c in changes:
        who = f"【{c.unit}】" if c.unit else ""
        when = c.time.replace("T", " ") + (f"（{c.period}期）" if c.period else "")
        what = c.new if c.source == vocab.SOURCE_INITIAL else f"{c.old or '（空）'} → {c.new or '（空）'}"
        out.append(f"{when} {who}{c.field}：{what}；来源：{source_text(c, files)}")
    return out


def recent_rows(db: HistoryDB, n: int = 200, run: int | None = None) -> list[list]:
    """Rows of the master's read-only 变更记录 sheet: the latest n changes, newest first (with the changes
    of the run being written, pending until the master is in place)."""
    return [[c.time.replace("T", " "), c.period, c.measure, c.unit, c.field, c.old, c.new,
             c.source[:12] if c.from_file else c.source] for c in db.changes(newest_first=True, limit=n, run=run)]


def period_counts(db: HistoryDB) -> list[tuple[str, dict[str, int]]]:
    """Month over month: for each 报送期次, how many measures stood at each status at its end."""
    status: dict[str, str] = {}
    out = []
    periods = [p for (p,) in db.conn.execute(f"SELECT DISTINCT period FROM ({COMMITTED_ROWS}) WHERE period != '' "
                                              "ORDER BY period")]
    changes = [Change(*r[2:]) for r in db.conn.execute(f"{COMMITTED_ROWS} AND c.unit = '' AND c.field = ? "
                                                        "ORDER BY c.period, c.id", (vocab.STATUS,))]
    i = 0
    for period in periods:
        while i < len(changes) and changes[i].period <= period:
            status[changes[i].measure] = changes[i].new
            i += 1
        words = vocab.STATUSES + sorted({v for v in status.values() if v and v not in vocab.STATUSES})
        out.append((period, {w: sum(1 for v in status.values() if v == w) for w in words}))
    return out
