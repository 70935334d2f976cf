"""The records every layer shares: statuses and item types as enums, settings, measures, owners, the ledger.

Pure data and the one status rule (`Ledger.counted_status`); no file is read or written here
(config.py loads the settings, io/ reads and writes the ledger).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from . import vocab

Row = list[object]          # one sheet row as cell values (text, number, date or None)


class Status(StrEnum):
    """The four 完成情况 words, in the order of the seed's statistics."""
    DONE = vocab.DONE
    MOSTLY_DONE = vocab.MOSTLY_DONE
    IN_PROGRESS = vocab.IN_PROGRESS
    NOT_STARTED = vocab.NOT_STARTED

    @property
    def rank(self) -> int:
        """How far along: 未启动 0 … 已完成 3."""
        return vocab.STATUS_RANK[self.value]


class ItemType(StrEnum):
    """What a measure answers: a 具体问题, a 举一反三 item or an 整改意见."""
    SPECIFIC = vocab.SPECIFIC
    DRAW_LESSONS = vocab.DRAW_LESSONS
    RECOMMENDATION = vocab.RECOMMENDATION


class Lateness(StrEnum):
    """A measure's place against its due date at the reference date."""
    OVERDUE = vocab.OVERDUE
    DUE_SOON = vocab.DUE_SOON
    DONE = vocab.DONE


class ReviewState(StrEnum):
    """Where a 销号 request stands."""
    PENDING = vocab.REVIEW_PENDING
    CLOSED = vocab.CLOSED
    RETURNED = vocab.REVIEW_RETURNED


@dataclass(frozen=True)
class Column:
    """One column of the ledger, declared once: its header and the words offices type for it, the Measure
    attribute it holds and how a cell is read (kind), its width, whether units may edit it (locked columns
    are planned by the office), whether a ledger may leave it out, whether it prints, and whether it is
    written only in ledgers that carry it (sparse: a list's own column, such as 整改金额)."""
    header: str
    attr: str
    width: float
    locked: bool
    optional: bool          # an office ledger may leave it out
    kind: str = "text"      # how a cell is read and checked: one of KINDS
    printed: bool = True    # part of the printed page (the toolkit's helper columns are for the screen)
    sparse: bool = False    # written only when the ledger read has it (ledgers without it stay as they were)

    @property
    def aliases(self) -> list[str]:
        """The header and every variant an office types for it (vocab.HEADER_ALIASES)."""
        return vocab.HEADER_ALIASES.get(self.header, [self.header])


# How a column's cells are read: the reader has a rule per kind (text and number columns need nothing else).
KINDS = ("id", "text", "hierarchy", "item_type", "mark", "units", "deadline", "status", "evidence", "number")

_L, _O = True, True    # readability of the table below: locked, optional
# The one column schema: the reader, the master writer, the unit workbook and `check` are all driven by it.
# In sheet order; a new column is one line here (and its words in vocab).
LEDGER_COLUMNS: tuple[Column, ...] = (
    Column(vocab.ID, "id", 10, _L, False, "id"),
    Column(vocab.THEME, "theme", 24, _L, False, "hierarchy"),
    Column(vocab.KEY_PROBLEM, "key_problem", 28, _L, False, "hierarchy"),
    Column(vocab.ITEM, "item", 30, _L, False, "hierarchy"),
    Column(vocab.ITEM_TYPE, "item_type", 10, _L, False, "item_type"),
    Column(vocab.REFORM, "reform", 10, _L, _O, "mark"),
    Column(vocab.MEASURE, "measure", 44, _L, False, "text"),
    Column(vocab.LEADER, "leader", 12, _L, _O, "text"),
    Column(vocab.LEAD_UNIT, "lead_unit", 16, _L, False, "units"),
    Column(vocab.CO_UNITS, "co_units", 18, _L, _O, "units"),
    Column(vocab.DEADLINE, "deadline", 12, _L, False, "deadline"),
    Column(vocab.AMOUNT, "amount", 12, _L, _O, "number", sparse=True),
    Column(vocab.STATUS, "status", 10, False, False, "status"),
    Column(vocab.PROGRESS, "progress", 44, False, False, "text"),
    Column(vocab.EVIDENCE, "evidence", 24, False, _O, "evidence"),
    Column(vocab.REMARK, "remark", 16, False, _O, "text"),
)
COLUMN = {c.header: c for c in LEDGER_COLUMNS}
# The columns every ledger carries (vocab.COLUMNS, in the same order): a sparse column only when it is read.
BASE_COLUMNS = tuple(c for c in LEDGER_COLUMNS if not c.sparse)
SPARSE_COLUMNS = tuple(c for c in LEDGER_COLUMNS if c.sparse)
# The attribute of every column a unit reports (also on OwnerEntry): 完成情况 and its three texts.
UNIT_ATTRS = {c.header: c.attr for c in LEDGER_COLUMNS if c.header in vocab.UNIT_COLUMNS}
TEXT_ATTRS = tuple(UNIT_ATTRS[h] for h in vocab.TEXT_COLUMNS)
# Display widths of every column the toolkit writes in the ledger sheet, the computed helper columns included.
WIDTHS: dict[str, float] = {**{c.header: c.width for c in LEDGER_COLUMNS},
                            vocab.DUE_DATE: 12, vocab.REMIND_FROM: 12, vocab.DAYS_OVERDUE: 10}


def schema_with(in_use: Iterable[str] = ()) -> tuple[Column, ...]:
    """The columns of a ledger that carries the sparse columns named in in_use (and every other column)."""
    wanted = set(in_use)
    return tuple(c for c in LEDGER_COLUMNS if not c.sparse or c.header in wanted)


def cell_value(m: "Measure", column: Column) -> object:
    """What a measure shows in one column: units joined with 、, the reform mark as 是 or blank."""
    value = getattr(m, column.attr)
    if column.attr == "co_units":
        return "、".join(value)
    if column.attr == "reform":
        return vocab.YES if value else ""
    return value


@dataclass
class Measure:
    """One 整改措施 row of the master."""
    id: str
    theme: str
    key_problem: str
    item: str
    item_type: str
    reform: bool
    measure: str
    leader: str
    lead_unit: str
    co_units: list[str]
    deadline: dt.date | str
    status: str
    progress: str = ""
    evidence: str = ""
    remark: str = ""
    amount: float | None = None   # 整改金额（万元）, in ledgers that carry it
    row: int | None = None  # sheet row in the master, None for rows not yet written
    extra: dict[str, object] = field(default_factory=dict)   # the office's own columns, kept as they are

    @property
    def owners(self) -> list[str]:
        return [self.lead_unit] + [u for u in self.co_units if u != self.lead_unit]

    def values(self, columns: Iterable[Column] = BASE_COLUMNS) -> Row:
        """Cell values of the given columns (by default vocab.COLUMNS, in that order)."""
        return [cell_value(self, c) for c in columns]

    def locked_values(self) -> Row:
        """The values of the planned columns every template carries (vocab.LOCKED_COLUMNS): the row's
        fingerprint, so a unit changing one is tampering. A sparse column is protected by the sheet's lock
        and never read back from a unit's file."""
        return [cell_value(self, c) for c in BASE_COLUMNS if c.locked]


@dataclass
class OwnerEntry:
    """One owner's own status and texts for a measure (lead or co-owner)."""
    measure_id: str
    unit: str
    role: str
    status: str
    progress: str = ""
    evidence: str = ""
    remark: str = ""
    submitted_at: str = ""

    def values(self) -> Row:
        return [self.measure_id, self.unit, self.role, self.status, self.progress,
                self.evidence, self.remark, self.submitted_at]


@dataclass(frozen=True)
class HistoryRow:
    """One row of 历史进度 (vocab.HISTORY_COLUMNS): one scope's figures at the end of one period."""
    period: str
    day: str             # the reference date the figures were computed at (ISO)
    scope: str           # 总体 / 类别 / 单位
    name: str
    total: int
    done: int
    mostly: int
    in_progress: int
    not_started: int
    overdue: int
    completion: float    # %, one decimal

    def values(self) -> Row:
        return [self.period, self.day, self.scope, self.name, self.total, self.done, self.mostly, self.in_progress,
                self.not_started, self.overdue, self.completion]


@dataclass(frozen=True)
class LogEntry:
    """One row of the master's 报送记录 (vocab.LOG_COLUMNS): a file received, where it was archived, what came of it."""
    period: str
    unit: str
    received: str        # time of receipt, ISO to the second
    name: str            # the file name as sent
    archived: str        # its path under the archive folder ('' when it could not be archived)
    sha256: str
    outcome: str         # vocab.OUTCOME_*
    accepted: int = 0        # rows taken in
    problems: int = 0        # problems found

    @property
    def applied(self) -> bool:
        """Its rows were merged into the master (accepted in whole or in part)."""
        return self.outcome in vocab.APPLIED_OUTCOMES

    def values(self) -> Row:
        return [self.period, self.unit, self.received, self.name, self.archived, self.sha256, self.outcome,
                self.accepted, self.problems]


@dataclass
class SheetLayout:
    """Where a ledger sits in its sheet — the view, not the plan: the header row and each column's 1-based
    place by name (fields, the office's own columns, our helper columns). The reader records the sheet's;
    the master writer lays out a fresh one (master_file.layout_ledger). Each measure's row: Measure.row."""
    header_row: int = 2
    columns: dict[str, int] = field(default_factory=dict)


@dataclass
class Ledger:
    """Everything the toolkit knows about a master: measures, per-owner state, and (one record) its sheet layout."""
    measures: dict[str, Measure]
    owners: dict[tuple[str, str], OwnerEntry]
    judgments: dict[tuple[str, str], str] = field(default_factory=dict)
    title: str = ""
    log: list[LogEntry] = field(default_factory=list)  # 报送记录, oldest first
    history: list[HistoryRow] = field(default_factory=list)   # 历史进度, by period
    digest: str = ""                                    # content digest stored at the last write
    extra_columns: list[str] = field(default_factory=list)          # office columns in the ledger sheet
    other_sheets: dict[str, list[Row]] = field(default_factory=dict)  # office sheets, kept as values
    decisions: dict[str, "Decision"] = field(default_factory=dict)   # 办公室认定 per measure id
    layout: "ReadLayout | None" = None                               # how the ledger sheet was read
    read_notes: list[str] = field(default_factory=list)              # what reading did that a person should know
    recent_changes: list[Row] = field(default_factory=list)         # rows of 变更记录 (from the history)
    reviews: dict[tuple[str, str], "Review"] = field(default_factory=dict)   # 销号审核 per (measure id, unit)
    extra_headers: dict[str, object] = field(default_factory=dict)   # office column key → its header as typed
    hidden_sheets: list[str] = field(default_factory=list)          # office sheets kept hidden on rewrite
    account: "ReadAccount | None" = None                            # where every cell of the ledger sheets went
    sequence: int = 0             # 记录序号 of the master as read: the runs that wrote it (this run's events: + 1)
    in_use: list[str] = field(default_factory=list)   # the sparse columns this ledger carries (整改金额…)
    sheet: SheetLayout = field(default_factory=SheetLayout)   # where it sits in its sheet (not the plan)

    @property
    def header_row(self) -> int:
        """The sheet's header row (sheet.header_row)."""
        return self.sheet.header_row

    @property
    def columns(self) -> dict[str, int]:
        """{column name: 1-based column} of the sheet (sheet.columns)."""
        return self.sheet.columns

    @property
    def schema(self) -> tuple[Column, ...]:
        """This ledger's columns in sheet order: every base column and the sparse ones it carries."""
        return schema_with(self.in_use)

    def counted_status(self, measure_id: str, unit: str) -> str:
        """The one status rule: the office's decision for the measure if any, else the owner's own status."""
        decision = self.decisions.get(measure_id)
        if decision:
            return decision.status
        entry = self.owners.get((measure_id, unit))
        return entry.status if entry else self.measures[measure_id].status

    def owners_status(self, measure_id: str) -> str:
        """The measure's status rolled up from its owners (least advanced), ignoring any decision."""
        m = self.measures[measure_id]
        return least_advanced(self.owners[(m.id, u)].status for u in m.owners
                                        if (m.id, u) in self.owners) or m.status

    def report_notes(self) -> list[str]:
        """Lines for a run report: what reading noticed, and every standing office decision."""
        out = list(self.read_notes)
        for d in self.decisions.values():
            units = self.owners_status(d.measure_id)
            out.append(f"办公室认定：措施“{d.measure_id}”完成情况为“{d.status}”（自{d.at}起，原为“{d.previous}”；"
                       f"责任单位填报汇总为“{units}”），统计、通报与单位模板均按办公室认定。")
        return out

    def _by_unit(self) -> dict[str, list[Measure]]:
        """{unit: its measures}, rebuilt only when the set of measures changed."""
        key = (id(self.measures), len(self.measures))
        cache = self.__dict__.get("_unit_index")
        if cache is None or cache[0] != key:
            index: dict[str, list[Measure]] = {}
            for m in self.measures.values():
                for u in m.owners:
                    index.setdefault(u, []).append(m)
            cache = (key, index)
            self.__dict__["_unit_index"] = cache
        return cache[1]

    @property
    def units(self) -> list[str]:
        """Every owner unit, in order of first appearance."""
        return list(self._by_unit())

    @property
    def leaders(self) -> list[str]:
        """Every 责任领导, in order of first appearance."""
        return list(dict.fromkeys(m.leader for m in self.measures.values() if m.leader))

    def has_unit(self, unit: str) -> bool:
        return unit in self._by_unit()

    def rows_of(self, unit: str) -> list[Measure]:
        return list(self._by_unit().get(unit, []))

    def copy(self) -> "Ledger":
        """An independent copy: the run works on it while the original stays the \"before\" of the history."""
        def measure(m: Measure) -> Measure:
            new = _clone(m)
            new.co_units, new.extra = list(m.co_units), dict(m.extra)
            return new
        return Ledger({k: measure(m) for k, m in self.measures.items()},
                      {k: _clone(o) for k, o in self.owners.items()},
                      dict(self.judgments), self.title,
                      list(self.log), list(self.history), self.digest,
                      list(self.extra_columns), {k: [list(r) for r in v] for k, v in self.other_sheets.items()},
                      {k: replace(d) for k, d in self.decisions.items()}, self.layout, list(self.read_notes),
                      [list(r) for r in self.recent_changes], {k: replace(r) for k, r in self.reviews.items()},
                      dict(self.extra_headers), list(self.hidden_sheets), self.account, self.sequence,
                      list(self.in_use), SheetLayout(self.sheet.header_row, dict(self.sheet.columns)))



_R = TypeVar("_R")


def _clone(record: _R) -> _R:
    """A shallow copy of a record whose fields are all init fields (what dataclasses.replace(record) makes,
    at a tenth of the cost: a run copies 30,000 measures and their owners twice)."""
    new: _R = object.__new__(record.__class__)
    new.__dict__.update(record.__dict__)
    return new


@dataclass
class Decision:
    """The office's own 完成情况 for a measure (typed into 整改台账 by hand): wins over the units' roll-up."""
    measure_id: str
    status: str
    previous: str      # the status the sheet showed before the office changed it
    at: str            # when the change was first seen (the master file's save time)

    def values(self, measure: "Measure", units_status: str) -> Row:
        return [self.measure_id, measure.measure, self.status, self.previous, units_status, self.at]


@dataclass
class ReadLayout:
    """How an office's ledger sheet was read: for `check` and the run report."""
    header_row: int                                   # 1-based
    mapped: dict[str, str]                            # header as typed → column it was read as
    absent: list[str]                                 # optional columns the sheet does not have
    merged: list[str]                                 # merged ranges whose value was filled down (A3:A7)
    title: str = ""


@dataclass(frozen=True)
class CellUse:
    """Cells of one column of one sheet that were kept or not used, and why: a kind code, the place,
    the parameters (io/read_account.py renders the Chinese)."""
    kind: str                  # a read_account KEPT_* / UNUSED_* code
    sheet: str
    column: int                # 1-based
    rows: tuple[int, ...]      # 1-based rows of the non-empty cells
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetUse:
    """A sheet of the ledger workbook and what reading did with it (kind code + parameters)."""
    kind: str
    sheet: str
    params: tuple[str, ...] = ()


@dataclass
class ReadAccount:
    """Bookkeeping of a read: every non-empty cell of the ledger sheets is read into a field, kept as an
    office column, or not used with its reason; every sheet is read, kept or named."""
    read: int = 0                                          # cells read into a field (headers and the title too)
    kept: list[CellUse] = field(default_factory=list)      # office columns, written back verbatim
    unused: list[CellUse] = field(default_factory=list)    # cells not used, with the reason
    sheets: list[SheetUse] = field(default_factory=list)

    @property
    def kept_cells(self) -> int:
        return sum(len(u.rows) for u in self.kept)

    @property
    def unused_cells(self) -> int:
        return sum(len(u.rows) for u in self.unused)


@dataclass
class Review:
    """One unit's request to close a measure, and the office's decision on it."""
    measure_id: str
    unit: str
    applied: str                      # 申请日期: the receipt date of the file that asked
    evidence: str = ""                # 佐证 as the unit wrote it
    conclusion: str = ""              # 同意销号 / 退回补充 as the office chose ('' undecided)
    opinion: str = ""                 # 审核意见: what to add, when returned
    state: str = vocab.REVIEW_PENDING
    decided: str = ""                 # 办理日期: when the toolkit took the decision in (wall clock, shown)
    request_seq: int = 0              # the master's 记录序号 of the run that filed the request (0: before it was kept)
    decided_seq: int = 0              # that of the run that took the decision in (0: undecided, or before)

    def values(self) -> Row:
        return [self.measure_id, self.unit, self.applied, self.evidence, self.conclusion, self.opinion,
                self.state, self.decided, self.key()]

    def key(self, state: str | None = None) -> str:
        """申请编号: R<request run>[-D<decision run>]-<check>; the check covers 编号, 单位, 办理情况 and both
        runs, so a copied row, a row typed by hand or a hand-typed 办理情况 is told from a recorded request."""
        runs = f"R{self.request_seq}" + (f"-D{self.decided_seq}" if self.decided_seq else "")
        text = "\x1f".join([self.measure_id, self.unit, state or self.state, runs])
        return f"{runs}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    @property
    def due(self) -> bool:
        """The office has decided and the toolkit has not yet acted on it."""
        return self.state == vocab.REVIEW_PENDING and bool(self.conclusion)

    def history_value(self) -> str:
        """The 销号审核 field of the change history."""
        if self.state == vocab.REVIEW_PENDING:
            return vocab.APPLIED_CLOSE
        if self.state == vocab.REVIEW_RETURNED:
            return f"{vocab.REVIEW_RETURN}：{self.opinion}" if self.opinion else vocab.REVIEW_RETURN
        return vocab.CLOSED

    def unit_note(self) -> str:
        """What the unit's template shows beside the measure."""
        if self.state == vocab.REVIEW_PENDING:
            return f"已于{self.applied}申请销号，待办公室审核（请保持“{vocab.DONE}”）"
        if self.state == vocab.REVIEW_RETURNED:
            return f"销号申请已退回补充（{self.decided}）：{self.opinion or '请补充佐证材料'}"
        return f"已销号（{self.decided}）"


def least_advanced(statuses: Iterable[str]) -> str:
    """The least advanced of several owners' statuses (blank ones ignored)."""
    known = [s for s in statuses if s in vocab.STATUS_RANK]
    if not known:
        return ""
    return min(known, key=lambda s: vocab.STATUS_RANK[s])


@dataclass(frozen=True)
class Lexicon:
    """What a profile adds to vocab: {word: canonical} maps, {header: aliases}, optional columns and defaults."""
    status_words: dict[str, str] = field(default_factory=dict)
    deadline_words: dict[str, str] = field(default_factory=dict)
    item_type_words: dict[str, str] = field(default_factory=dict)
    header_aliases: dict[str, list[str]] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    # a missing optional column's value: a literal, or "@列名" for that row's value of another column
    defaults: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the files themselves; frozen once loaded (a variant is
    dataclasses.replace), so a run's reference date travels in its assessment, never written in here."""
    root: Path
    title: str = "巡视整改"
    profile: str = "巡视巡察整改"                  # the kind of list (toolkit/profiles): its words and wording
    lexicon: Lexicon = field(default_factory=Lexicon)   # the profile's words, carried into every reader
    words: dict[str, str] = field(default_factory=lambda: {  # the profile's wording for the templates
        "工作": "巡视", "整改工作": "巡视整改", "反馈来源": "本轮巡视反馈意见"})
    organisation: str = "中共某市卫生健康委员会委员会"
    subject: str = "市卫生健康委"
    addressees: str = "委机关各处室，委属各单位"
    period: str = ""
    reference_date: dt.date | None = None        # None: today (the workbook cell holds =TODAY())
    programme_start: dt.date = dt.date(2024, 3, 1)
    submit_by: dt.date | None = None
    remind_submit_days: int = 3                   # 催报 from this many working days before submit_by (0: never)
    remind_working_days: int = 5
    reply_days: int = 5
    lagging_units: int = 5
    weights: dict[str, float] = field(default_factory=lambda: {
        vocab.DONE: 1.0, vocab.MOSTLY_DONE: 1.0, vocab.IN_PROGRESS: 0.0, vocab.NOT_STARTED: 0.0})
    extra_holidays: list[dt.date] = field(default_factory=list)
    extra_workdays: list[dt.date] = field(default_factory=list)
    schedule_at: str = "02:00"
    schedule_every_minutes: int = 0
    max_file_mb: float = 20.0
    lock_wait_seconds: float = 30.0
    settle_seconds: float = 2.0                  # a file changed this recently may still be arriving
    read_timeout_seconds: float = 120.0          # one submission's reader is stopped after this long
    print_paper: str = "A4"                      # [print] paper: A4, A3, or auto (A4 when the columns fit as they are)
    unit_map: dict[str, list[str]] = field(default_factory=dict)   # [units]: collective name or alias → units
    unit_order: list[str] = field(default_factory=list)     # [order] units: the office's order of units in documents
    leader_order: list[str] = field(default_factory=list)   # [order] leaders: the office's order of 责任领导
    notice_pdf: bool = True                      # also write each notice as PDF (needs LibreOffice)
    wechat_chars: int = 500                      # longest 微信通报 text
    fonts: dict[str, object] = field(default_factory=dict)   # [fonts]: role → name or [name, fallback]; chart → file
    review_required: bool = False                # [review] required: a unit's 已完成 waits for the office's 销号审核
    documents: dict[str, str] = field(default_factory=dict)  # [documents]: issuers, 督办编号 form, contact (documents/issuers.py)
    ladder: dict[str, object] = field(default_factory=dict)  # [ladder]: warn_after, account_after, acceptance, per-rung tables
    paths: dict[str, str] = field(default_factory=lambda: {
        "master": "master/整改台账.xlsx", "outbox": "outbox", "inbox": "inbox",
        "archive": "archive", "output": "output", "backup": "backup", "logs": "logs"})

    def path(self, name: str) -> Path:
        return (self.root / self.paths[name]).resolve()

    @property
    def master(self) -> Path:
        return self.path("master")

    def today(self) -> dt.date:
        """The configured reference date, else the calendar date: for a front end that names this period's
        folders before any assessment exists (serve's status, excel's outbox); a run reads assessment.dated."""
        return self.reference_date or dt.date.today()

    def period_on(self, day: dt.date) -> str:
        """报送期次 at the reference date day: the configured one, else day's month (the one rule)."""
        return self.period or day.strftime("%Y-%m")

    def current_period(self) -> str:
        """报送期次 at today(): for the same front ends, before any assessment exists."""
        return self.period_on(self.today())
