"""The change history's database (history.sqlite): its schema, the pending → committed protocol, and
reading it back (a measure's story, the latest changes, each period's figures replayed from the changes).

The rows are derived by comparing ledgers (before and after a run, one received file at a time); the
database is the audit trail, never a second place to edit. It stays consistent with the master through a
pending → committed protocol keyed on the master's content digest: a crash between the two writes leaves
both before or both after.
"""
from __future__ import annotations

import datetime as dt
import operator
import os
import re
import sqlite3
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from .. import vocab, words
from ..assessment import Dated, dated
from ..errors import BusyError, FileAccessError, HistoryError, ToolkitError
from ..model import UNIT_ATTRS, Ledger, LogEntry, Settings
from ..problems import Location
from ..rules import ladder, normalize, stats

MEASURE_FIELDS = {vocab.STATUS: "status", vocab.DEADLINE: "deadline", **{h: a for h, a in UNIT_ATTRS.items()
                                                                        if h != vocab.STATUS}}
OWNER_FIELDS = dict(UNIT_ATTRS)
FILE_HASH = re.compile(r"[0-9a-f]{64}")

Snapshot = dict[tuple[str, str, str], str]   # {(measure id, unit or '', field): value}, blanks left out


class Change(NamedTuple):
    """One field of one measure (unit '') or of one owner's entry going from old to new. A named tuple, not a
    frozen dataclass: a first run over 30,000 measures makes 200,000 of them, at a quarter of the cost."""
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


def new_receipts(before_log: list[LogEntry], after_log: list[LogEntry]) -> list[LogEntry]:
    """The files a run took in: 报送记录 rows of after whose hash before does not list, in order."""
    seen = {e.sha256 for e in before_log}
    return [e for e in after_log if e.sha256 not in seen]


# ---------------------------------------------------------------- comparing ledgers (pure)

def snapshot(ledger: Ledger, ids=None) -> Snapshot:
    """The recorded fields of a ledger (or of the given measures), as text. Owner entries are kept
    only for measures with several owners: a sole owner's state is the measure's own."""
    out: Snapshot = {}
    text, measures, owners = normalize.clean_text, ledger.measures, ledger.owners     # 200,000 fields a run
    fields, owner_fields = list(MEASURE_FIELDS.items()), list(OWNER_FIELDS.items())
    for mid in (measures if ids is None else ids):
        m = measures[mid]
        for name, attr in fields:
            value = text(getattr(m, attr))
            if value:
                out[(mid, "", name)] = value
        if m.co_units:
            for unit in m.owners:
                entry = owners.get((mid, unit))
                if entry is None:
                    continue
                for name, attr in owner_fields:
                    value = text(getattr(entry, attr))
                    if value:
                        out[(mid, unit, name)] = value
    wanted = None if ids is None else set(ids)      # replay asks for one file's measures, once per file
    for (mid, unit), r in ledger.reviews.items():      # 申请销号 → 已销号 / 退回补充, per unit
        if wanted is None or mid in wanted:
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
    files = {(rec.unit, rec.received): (rec.sha256, rec.period) for rec in after.log if rec.applied}
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
    touched = _touched(before, after)
    old_ids = [mid for mid in before.measures if mid in touched]       # each side in its own order, as a
    new_ids = [mid for mid in after.measures if mid in touched]         # whole snapshot would list them
    if touched.difference(old_ids, new_ids):     # a 销号 request whose measure neither holds: the whole snapshots
        old_ids, new_ids = None, None
    for c in diff_snapshots(snapshot(before, old_ids), snapshot(after, new_ids), source, time or _now(), period):
        o = origin.get((c.measure, c.unit)) if c.unit else newest.get(c.measure)
        out.append(c._replace(time=o[0], source=o[1], period=o[2]) if o else c)
    return out


_MEASURE_READ = operator.attrgetter(*MEASURE_FIELDS.values(), "lead_unit", "co_units")
_OWNER_READ = operator.attrgetter(*OWNER_FIELDS.values())


def _touched(before: Ledger, after: Ledger) -> set[str]:
    """The measures whose snapshot may differ between two ledgers: all but those whose every field snapshot()
    reads (its own, its owners', its 销号 requests') is equal in value and in type (1, 1.0 and True are equal
    values with different texts), so diff_ledgers need not snapshot the rest of a 30,000-measure ledger."""
    def same(a, b) -> bool:
        return a == b and list(map(type, a)) == list(map(type, b))
    out = {mid for mid in before.measures if mid not in after.measures}
    for mid, m in after.measures.items():
        old = before.measures.get(mid)
        if old is None or not same(_MEASURE_READ(old), _MEASURE_READ(m)):
            out.add(mid)
    for key in before.owners.keys() ^ after.owners.keys():
        out.add(key[0])
    for key, o in after.owners.items():
        old_o = before.owners.get(key)
        if old_o is not None and old_o is not o and not same(_OWNER_READ(old_o), _OWNER_READ(o)):
            out.add(key[0])
    for key in before.reviews.keys() | after.reviews.keys():
        a, b = before.reviews.get(key), after.reviews.get(key)
        if a is None or b is None or a.history_value() != b.history_value():
            out.add(key[0])
    return out


class HistoryWarning(UserWarning):
    """One record of the history that cannot be read and is left out (the rest is used): said in the run report."""


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
CREATE TABLE IF NOT EXISTS notices (     -- 督办梯次 notices the office issued (added later: created on open)
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure TEXT NOT NULL, unit TEXT NOT NULL, rung TEXT NOT NULL, number TEXT NOT NULL,
    day TEXT NOT NULL, issuer TEXT NOT NULL, sequence INTEGER NOT NULL,
    due TEXT NOT NULL, status TEXT NOT NULL, progress TEXT NOT NULL, period TEXT NOT NULL,
    year TEXT NOT NULL, serial INTEGER NOT NULL, time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS acceptances (  -- 三方验收 signatures before 销号 ([ladder] acceptance)
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure TEXT NOT NULL, party TEXT NOT NULL, name TEXT NOT NULL, day TEXT NOT NULL, time TEXT NOT NULL);
"""
PENDING, COMMITTED = "pending", "committed"
COMMITTED_ROWS = f"SELECT c.* FROM changes c JOIN runs r ON r.id = c.run WHERE r.state = '{COMMITTED}'"
ROWS_WITH_RUN = f"SELECT c.* FROM changes c JOIN runs r ON r.id = c.run WHERE (r.state = '{COMMITTED}' OR r.id = ?)"


def sqlite_reason(exc: sqlite3.Error) -> str:
    """SQLite's reason in Chinese: held by another program, a full disk, a read-only folder, or a read/write fault."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "被其他程序占用"
    if "full" in text:
        return "磁盘空间不足"
    if "readonly" in text or "read-only" in text:
        return "所在位置是只读的"
    if "unable to open" in text:
        return "无法创建或打开该文件"
    return "磁盘空间不足或读写出错"


def is_busy(exc: sqlite3.Error) -> bool:
    """Another program (a database viewer, a second toolkit outside our lock) holds the database."""
    return sqlite_reason(exc) == "被其他程序占用"


def busy_error(path: Path, waited: float) -> BusyError:
    return BusyError(f"变更记录数据库“{Path(path).name}”被其他程序占用（如打开着它的数据库查看工具），已等待{waited:.0f}秒，"
                     f"本次未完成。请关闭该程序后重新运行（数据库本身无需处理）。")


class HistoryDamaged(HistoryError):
    """The database file is damaged (not a database, a page overwritten): reason says what SQLite found."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"变更记录数据库“{Path(path).name}”已损坏，无法使用（{reason}）。"
                         f"可将它移走后运行 `python -m toolkit history --rebuild` 按归档文件重建。")
        self.reason = reason


class HistoryDB:
    """The history database (WAL mode, every transaction synced): changes grouped in runs, each
    run pending until the master it belongs to has replaced the old one."""

    def __init__(self, path: Path, read_only: bool = False, timeout: float = 5.0):
        """Open (creating if need be) the database and check every page of it (PRAGMA quick_check: 0.1 s at
        300,000 rows), so damage is found here, not halfway through a run; read_only: only read what is
        there (no schema, no pragmas, no check). timeout: how long to wait while another program holds it."""
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=timeout)
        except sqlite3.Error as exc:         # a folder in its place, a missing or read-only folder
            what = "这个位置是一个文件夹，而不是数据库文件" if self.path.is_dir() else sqlite_reason(exc)
            raise FileAccessError(kind="history-unopenable", where=Location(file=str(self.path)),
                                  path=self.path, reason=what) from None
        try:
            if read_only:
                return
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(SCHEMA)
            found = [r[0] for r in self.conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.OperationalError as exc:     # the disk, the folder or another program, unless damage
            self.conn.close()
            if "malformed" in str(exc) or "not a database" in str(exc):
                raise HistoryDamaged(self.path, str(exc)) from None
            if is_busy(exc):
                raise busy_error(self.path, timeout) from None
            raise FileAccessError(kind="history-db-unwritable", where=Location(file=str(self.path)),
                                  path=self.path, reason=sqlite_reason(exc)) from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise HistoryDamaged(self.path, str(exc)) from None
        if found != ["ok"]:
            self.conn.close()
            raise HistoryDamaged(self.path, "；".join(found))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "HistoryDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def replace_all(self, rows: list["Change"], digest: str) -> None:
        """Replace every committed row by `rows` (the whole history, in order), in one committed run."""
        with self.transaction() as conn:
            conn.execute(f"DELETE FROM changes WHERE run IN (SELECT id FROM runs WHERE state = '{COMMITTED}')")
            conn.execute("DELETE FROM runs WHERE state = ?", (COMMITTED,))
            run = conn.execute("INSERT INTO runs (digest, state, time) VALUES (?, ?, ?)",
                               (digest, COMMITTED, _now())).lastrowid
            _insert(conn, run, rows)

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
            _insert(conn, run, changes)
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


    # -- the ladder's notices and 三方验收 (tables beside the changes; a rebuild from the archive keeps them)

    def issued(self, measure: str | None = None) -> list[ladder.Issued]:
        """Every notice issued (of one measure), oldest first; none when the table is not there yet."""
        try:
            cur = self.conn.execute(
                "SELECT measure, unit, rung, number, day, issuer, sequence, due, status, progress, period "
                "FROM notices" + (" WHERE measure = ?" if measure else "") + " ORDER BY id", (measure,) if measure else ())
        except sqlite3.OperationalError:         # a database opened read-only from before the table existed
            return []
        out = []
        for m, u, r, n, d, i, s, due, st, pr, pe in cur:
            try:
                out.append(ladder.Issued(m, u, r, n, dt.date.fromisoformat(d), i, s, dt.date.fromisoformat(due),
                                         st, pr, pe))
            except (TypeError, ValueError):      # a row edited by hand in a database viewer: this row only
                warnings.warn(words.render("history-notice-unreadable", {
                    "db": vocab.HISTORY_DB, "rung": r, "number": n, "measure": m, "day": d, "due": due}), HistoryWarning)
        return out

    def next_serial(self, rung: str, year: str) -> int:
        """The next 序号 of a rung's numbers in a year (each rung numbered on its own, from 1)."""
        row = self.conn.execute("SELECT MAX(serial) FROM notices WHERE rung = ? AND year = ?", (rung, year)).fetchone()
        return (row[0] or 0) + 1

    def add_issued(self, rows: list[tuple[ladder.Issued, int]]) -> None:
        """Record issued notices ((notice, 序号)) in one transaction."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO notices (measure, unit, rung, number, day, issuer, sequence, due, status, progress, "
                "period, year, serial, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.measure, i.unit, i.rung, i.number, i.day.isoformat(), i.issuer, i.sequence, i.due.isoformat(),
                  i.status, i.progress, i.period, str(i.day.year), serial, _now()) for i, serial in rows])

    def accepted(self, measure: str) -> dict[str, tuple[str, str]]:
        """三方验收 of a measure so far: {party: (name, day)} (the latest signature per party)."""
        try:
            cur = self.conn.execute("SELECT party, name, day FROM acceptances WHERE measure = ? ORDER BY id", (measure,))
        except sqlite3.OperationalError:
            return {}
        return {party: (name, day) for party, name, day in cur}

    def add_acceptance(self, measure: str, party: str, name: str, day: dt.date) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO acceptances (measure, party, name, day, time) VALUES (?, ?, ?, ?, ?)",
                         (measure, party, name, day.isoformat(), _now()))


def _insert(conn: sqlite3.Connection, run: int, changes: list[Change]) -> None:
    """A run's changes as rows of the changes table: each Change is the row itself (the run id is in the
    statement), so 300,000 rows of a first import are not copied into new tuples first."""
    conn.executemany("INSERT INTO changes (run, measure, unit, field, old, new, source, time, period) "
                     f"VALUES ({int(run)}, ?, ?, ?, ?, ?, ?, ?, ?)", changes)


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
    """Open the workspace's history and settle any run a crash left pending against the master (while
    another program holds the database, wait as long as for the run lock)."""
    db = HistoryDB(db_path(settings), timeout=max(float(settings.lock_wait_seconds), 0.0))
    if db.pending():
        db.recover(master_digest(settings.master))
    return db


def set_aside(path: Path) -> Path:
    """Move a damaged database (with its -wal and -shm) beside itself as <name>.损坏-<time>.sqlite, kept
    as it is for whoever wants to look; returns where it went."""
    path = Path(path)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.损坏-{stamp}{path.suffix}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.stem}.损坏-{stamp}-{n}{path.suffix}")
        n += 1
    for tail in ("", "-wal", "-shm"):
        if os.path.lexists(f"{path}{tail}"):
            os.replace(f"{path}{tail}", f"{target}{tail}")
    return target


# ---------------------------------------------------------------- reading it back

def source_text(c: Change, files: dict[str, LogEntry] | None = None) -> str:
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
        raise HistoryError(kind="history-unknown-measure", measure_id=mid)
    files = {rec.sha256: rec for rec in (ledger.log if ledger else [])}
    out = [f"措施{mid}：{m.measure}（牵头单位：{m.lead_unit}）" if m else f"措施{mid}"]
    out.append(f"共{len(changes)}条变更记录：")
    for c in changes:
        who = f"【{c.unit}】" if c.unit else ""
        when = c.time.replace("T", " ") + (f"（{c.period}期）" if c.period else "")
        what = c.new if c.source == vocab.SOURCE_INITIAL else f"{c.old or '（空）'} → {c.new or '（空）'}"
        out.append(f"{when} {who}{c.field}：{what}；来源：{source_text(c, files)}")
    return out + issued_lines(db, mid)


def issued_this_period(settings: Settings, period: str) -> dict[str, int]:
    """{梯次: notices issued} in the period (a notice listing several measures counts once);
    empty without a history."""
    path = db_path(settings)
    if not path.exists():
        return {}
    try:
        with HistoryDB(path, read_only=True) as db:
            rows = db.issued()
    except sqlite3.Error:
        return {}
    docs = {(i.rung, i.number) for i in rows if i.period == period}
    return {r: n for r in vocab.RUNGS if (n := sum(rung == r for rung, _ in docs))}


def issued_lines(db: HistoryDB, measure_id: str) -> list[str]:
    """The 督办梯次 notices issued for a measure, oldest first (none: no lines)."""
    rows = db.issued(measure_id)
    if not rows:
        return []
    out = [f"已发督办梯次文书{len(rows)}份："]
    for i in rows:
        period = f"（{i.period}期）" if i.period else ""
        out.append(f"{normalize.format_date(i.day)}{period} 【{i.unit}】{i.rung} {i.number}；署名：{i.issuer}；"
                   f"发文时完成情况：{i.status or '（空）'}")
    return out


def recent_rows(db: HistoryDB, n: int = 200, run: int | None = None) -> list[list]:
    """Rows of the master's read-only 变更记录 sheet: the latest n changes, newest first (with the changes
    of the run being written, pending until the master is in place)."""
    return [[c.time.replace("T", " "), c.period, c.measure, c.unit, c.field, c.old, c.new,
             c.source[:12] if c.from_file else c.source] for c in db.changes(newest_first=True, limit=n, run=run)]


def period_snapshots(db: HistoryDB, also: set[str] = frozenset()) -> list[tuple[str, Snapshot]]:
    """Month over month: for each 报送期次 the history knows (and each of `also` after its first), the
    recorded fields at its end, replayed from the committed changes (a period's snapshot = each field's
    latest change of that period or before; the 初始导入, of no period, comes before all)."""
    rows = db.conn.execute(f"{COMMITTED_ROWS} ORDER BY c.period, c.id").fetchall()
    changes = [Change(*r[2:]) for r in rows]        # by period, then in the order recorded (a rebuild keeps it)
    periods = {c.period for c in changes if c.period}
    periods |= {p for p in also if periods and p > min(periods)}
    out = []
    state: Snapshot = {}
    i = 0
    for period in sorted(periods):          # one pass: each period's changes are the next stretch of the list
        while i < len(changes) and changes[i].period <= period:
            c = changes[i]
            state[(c.measure, c.unit, c.field)] = c.new
            i += 1
        out.append((period, {k: v for k, v in state.items() if v}))
    return out


def period_counts(db: HistoryDB) -> list[tuple[str, dict[str, int]]]:
    """For each 报送期次, how many measures stood at each status at its end."""
    out = []
    for period, state in period_snapshots(db):
        status = {m: v for (m, u, f), v in state.items() if not u and f == vocab.STATUS}
        words = vocab.STATUSES + sorted({v for v in status.values() if v not in vocab.STATUSES})
        out.append((period, {w: sum(1 for v in status.values() if v == w) for w in words}))
    return out


def period_end(period: str, today: dt.date) -> dt.date:
    """The day a past period's figures are taken at: its month's last day ('YYYY-MM'), never after today
    (the run's reference date)."""
    try:
        year, month = (int(x) for x in period.split("-")[:2])
        end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    except ValueError:
        return today
    return min(end, today)


def as_of(ledger: Ledger, state: Snapshot, day: dt.date) -> Ledger:
    """The ledger's measures as a period's snapshot left them: statuses (and each co-owner's) replayed;
    a measure the history did not know then is left out; deadlines and the plan are today's."""
    past = ledger.copy()
    known = {m for m, _, _ in state}
    past.measures = {mid: m for mid, m in past.measures.items() if mid in known}
    for mid, m in past.measures.items():
        m.status = state.get((mid, "", vocab.STATUS), "")
        for unit in m.owners:
            entry = past.owners.get((mid, unit))
            if entry:
                entry.status = state.get((mid, unit, vocab.STATUS), m.status) if m.co_units else m.status
    past.owners = {k: o for k, o in past.owners.items() if k[0] in past.measures}
    past.decisions = {k: d for k, d in past.decisions.items() if k in past.measures and d.at[:10] <= day.isoformat()}
    return past


def period_history(db: HistoryDB, ledger: Ledger, settings: Settings, when: Dated) -> list[list]:
    """历史进度 rows of every period the history knows before the current one, each computed from the
    ledger as its snapshot left it at the period's end (stats.history_rows, same figures as live)."""
    out = []
    seen = {r.period for r in ledger.history if r.period}
    seen |= {e.period for e in ledger.log if e.period}
    for period, state in period_snapshots(db, seen):
        if period >= when.period:
            continue
        day = period_end(period, when.reference_date)
        out += stats.history_rows(stats.summarise(as_of(ledger, state, day), settings, day), period)
    return out


def load_figures(ledger: Ledger, settings: Settings, when: Dated | None = None) -> None:
    """Replace the master's 历史进度 rows of the periods the history knows (before the current one) by the
    figures replayed from it; rows of periods before the history began are kept. Without a database,
    or one that cannot be read, the sheet's rows stay (the next recorded run reports the trouble). The reader
    calls it before any assessment: when not given, the settings' date (a Workspace operation at another
    date reads with settings replaced to that date)."""
    when = dated(settings, when)
    path = db_path(settings)
    if not path.exists():
        return
    try:
        with HistoryDB(path, read_only=True) as db:
            rows = period_history(db, ledger, settings, when)
            first = db.conn.execute(f"SELECT MIN(c.period) FROM ({COMMITTED_ROWS} AND c.period != '') c").fetchone()[0]
    except (sqlite3.Error, ToolkitError):
        return
    if first is None:
        return
    kept = [r for r in ledger.history if not first <= r.period < when.period]
    ledger.history = sorted(kept + rows, key=lambda r: r.period)
