"""The master ledger (整改台账): its records, how to read it as offices keep it, how to write it back.

Reading tolerates a title row, blank rows and the office's own extra columns; writing
updates the ledger sheet in place (extra columns untouched) and keeps it printable.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import normalize, vocab
from .errors import HeaderError, LedgerError

HEADER_SCAN_ROWS = 30
REQUIRED = [c for c in vocab.COLUMNS]


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
    row: int | None = None  # sheet row in the master, None for rows not yet written
    extra: dict = field(default_factory=dict)   # the office's own columns, kept as they are

    @property
    def owners(self) -> list[str]:
        return [self.lead_unit] + [u for u in self.co_units if u != self.lead_unit]

    def values(self) -> list:
        """Cell values in vocab.COLUMNS order."""
        return [self.id, self.theme, self.key_problem, self.item, self.item_type,
                vocab.YES if self.reform else "", self.measure, self.leader, self.lead_unit,
                "、".join(self.co_units), self.deadline, self.status, self.progress,
                self.evidence, self.remark]

    def locked_values(self) -> list:
        return self.values()[: len(vocab.LOCKED_COLUMNS)]


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

    def values(self) -> list:
        return [self.measure_id, self.unit, self.role, self.status, self.progress,
                self.evidence, self.remark, self.submitted_at]


@dataclass
class Ledger:
    """Everything the toolkit knows about a master: measures, per-owner state, layout."""
    measures: dict[str, Measure]
    owners: dict[tuple[str, str], OwnerEntry]
    judgments: dict[tuple[str, str], str] = field(default_factory=dict)
    header_row: int = 2
    columns: dict[str, int] = field(default_factory=dict)
    title: str = ""
    log: list[list] = field(default_factory=list)       # rows of 报送记录 (vocab.LOG_COLUMNS)
    history: list[list] = field(default_factory=list)   # rows of 历史进度
    digest: str = ""                                    # content digest stored at the last write
    extra_columns: list[str] = field(default_factory=list)          # office columns in the ledger sheet
    other_sheets: dict[str, list[list]] = field(default_factory=dict)  # office sheets, kept as values

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

    def has_unit(self, unit: str) -> bool:
        return unit in self._by_unit()

    def rows_of(self, unit: str) -> list[Measure]:
        return list(self._by_unit().get(unit, []))

    def copy(self) -> "Ledger":
        return Ledger({k: replace(m, co_units=list(m.co_units), extra=dict(m.extra)) for k, m in self.measures.items()},
                      {k: replace(o) for k, o in self.owners.items()},
                      dict(self.judgments), self.header_row, dict(self.columns), self.title,
                      [list(r) for r in self.log], [list(r) for r in self.history], self.digest,
                      list(self.extra_columns), {k: [list(r) for r in v] for k, v in self.other_sheets.items()})


def cell_name(row: int, col: int) -> str:
    from .sheets import cell_name as name
    return name(row, col)


def find_header(rows: list[list], required: list[str], where: str) -> tuple[int, dict[str, int]]:
    """Locate the header row among the first rows; returns (0-based index, {header: 0-based col})."""
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        names = {normalize.clean_key(v): c for c, v in enumerate(row) if normalize.clean_key(v)}
        if required[0] in names and sum(1 for h in required if h in names) >= max(2, len(required) // 2):
            missing = [h for h in required if h not in names]
            if missing:
                raise HeaderError(f"{where}第{r + 1}行表头缺少列:{'、'.join(missing)}。"
                                  f"请补上这些列(列名须与模板一致)后再试。", r + 1, missing)
            cols = {}
            for c, v in enumerate(row):
                key = normalize.clean_key(v)
                if key and key not in cols:
                    cols[key] = c
            return r, cols
    raise LedgerError(f"{where}前{HEADER_SCAN_ROWS}行中找不到表头(应含“{vocab.ID}”“{vocab.MEASURE}”等列)。"
                      f"请确认工作表未被改名或表头未被删除。")


def read_rows(path: Path, sheet: str) -> list[list]:
    """All cell values of one sheet from A1, via calamine (fast, never evaluates anything)."""
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for broken files
        raise LedgerError(f"无法打开台账文件“{Path(path).name}”:{exc}") from None
    if sheet not in wb.sheet_names:
        raise LedgerError(f"台账文件“{Path(path).name}”中没有工作表“{sheet}”。")
    return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def parse_measures(rows: list[list], where: str) -> tuple[dict[str, Measure], int, dict[str, int], str, list[str]]:
    """Measures from raw sheet rows; LedgerError naming row and column for each bad cell."""
    h, cols = find_header(rows, REQUIRED, where)
    ours = set(vocab.COLUMNS) | set(vocab.HELPER_COLUMNS)
    extras = [name for name, c in sorted(cols.items(), key=lambda kv: kv[1]) if name not in ours]
    title = next((normalize.clean_text(v) for r in rows[:h] for v in r if normalize.clean_text(v)), "")
    measures: dict[str, Measure] = {}
    problems: list[str] = []

    def get(row, name):
        c = cols[name]
        return row[c] if c < len(row) else None

    for r in range(h + 1, len(rows)):
        row = rows[r]
        if not any(normalize.clean_text(v) for v in row):
            continue
        excel_row = r + 1
        mid = normalize.clean_key(get(row, vocab.ID))
        at = lambda name: f"{where}第{excel_row}行“{name}”列({cell_name(excel_row, cols[name] + 1)})"
        if not mid:
            problems.append(f"{at(vocab.ID)}为空:每条措施须有唯一编号。")
            continue
        if mid in measures:
            problems.append(f"{at(vocab.ID)}“{mid}”与第{measures[mid].row}行重复:编号须唯一。")
            continue
        try:
            deadline = normalize.deadline(get(row, vocab.DEADLINE))
        except ValueError as exc:
            problems.append(f"{at(vocab.DEADLINE)}{exc}。")
            continue
        status = normalize.status(get(row, vocab.STATUS))
        if status is None:
            problems.append(f"{at(vocab.STATUS)}“{get(row, vocab.STATUS)}”无法识别,应为"
                            f"{'/'.join(vocab.STATUSES)}之一。")
            continue
        lead = normalize.clean_key(get(row, vocab.LEAD_UNIT))
        if not lead:
            problems.append(f"{at(vocab.LEAD_UNIT)}为空:每条措施须有牵头单位。")
            continue
        item_type = normalize.clean_key(get(row, vocab.ITEM_TYPE)) or vocab.SPECIFIC
        if item_type not in vocab.ITEM_TYPES:
            problems.append(f"{at(vocab.ITEM_TYPE)}“{item_type}”应为{'/'.join(vocab.ITEM_TYPES)}之一。")
            continue
        measures[mid] = Measure(
            id=mid,
            theme=normalize.clean_text(get(row, vocab.THEME)),
            key_problem=normalize.clean_text(get(row, vocab.KEY_PROBLEM)),
            item=normalize.clean_text(get(row, vocab.ITEM)),
            item_type=item_type,
            reform=normalize.clean_key(get(row, vocab.REFORM)) in (vocab.YES, "Y", "y", "1", "√"),
            measure=normalize.clean_text(get(row, vocab.MEASURE)),
            leader=normalize.clean_text(get(row, vocab.LEADER)),
            lead_unit=lead,
            co_units=[u for u in normalize.split_units(get(row, vocab.CO_UNITS)) if u != lead],
            deadline=deadline,
            status=status or vocab.NOT_STARTED,
            progress=normalize.clean_text(get(row, vocab.PROGRESS)),
            evidence=normalize.clean_text(get(row, vocab.EVIDENCE)),
            remark=normalize.clean_text(get(row, vocab.REMARK)),
            row=excel_row,
            extra={name: get(row, name) for name in extras if get(row, name) not in (None, "")},
        )
    if problems:
        shown = "\n".join(problems[:20]) + (f"\n……另有{len(problems) - 20}处" if len(problems) > 20 else "")
        raise LedgerError(f"台账有{len(problems)}处需要先改正:\n{shown}")
    return measures, h + 1, {k: v + 1 for k, v in cols.items()}, title, extras


def owners_from_measures(measures: dict[str, Measure]) -> dict[tuple[str, str], OwnerEntry]:
    """Initial per-owner state: every owner starts from the measure's own status; a sole owner's
    texts are the measure's texts."""
    owners = {}
    for m in measures.values():
        sole = not m.co_units
        for unit in m.owners:
            lead = unit == m.lead_unit
            owners[(m.id, unit)] = OwnerEntry(m.id, unit, vocab.ROLE_LEAD if lead else vocab.ROLE_CO,
                                              m.status, m.progress if lead else "",
                                              m.evidence if lead else "", m.remark if sole else "")
    return owners


def parse_owners(rows: list[list], measures: dict[str, Measure]) -> dict[tuple[str, str], OwnerEntry]:
    """Per-owner state from the 单位填报明细 sheet, completed for owners it does not list."""
    owners = owners_from_measures(measures)
    if not rows:
        return owners
    h, cols = find_header(rows, [vocab.ID, vocab.OWNER_UNIT, vocab.STATUS], f"工作表“{vocab.SHEET_OWNERS}”")
    for row in rows[h + 1:]:
        val = lambda name: row[cols[name]] if name in cols and cols[name] < len(row) else None
        key = (normalize.clean_key(val(vocab.ID)), normalize.clean_key(val(vocab.OWNER_UNIT)))
        if key not in owners:
            continue  # the plan changed: this unit no longer owns that measure
        entry = owners[key]
        entry.status = normalize.status(val(vocab.STATUS)) or entry.status
        entry.submitted_at = normalize.clean_text(val(vocab.SUBMITTED_AT))
        if measures[key[0]].co_units:   # a sole owner's texts live in the ledger sheet only
            entry.progress = normalize.clean_text(val(vocab.PROGRESS))
            entry.evidence = normalize.clean_text(val(vocab.EVIDENCE))
            entry.remark = normalize.clean_text(val(vocab.REMARK))
    return owners


def parse_judgments(rows: list[list]) -> dict[tuple[str, str], str]:
    """The office's own status judgments per problem (sheet 问题研判); they win over the roll-up."""
    if not rows:
        return {}
    h, cols = find_header(rows, [vocab.KEY_PROBLEM, vocab.ITEM, "办公室研判"], f"工作表“{vocab.SHEET_JUDGMENT}”")
    out = {}
    for row in rows[h + 1:]:
        val = lambda name: row[cols[name]] if cols[name] < len(row) else None
        status = normalize.status(val("办公室研判"))
        if status:
            out[(normalize.clean_text(val(vocab.KEY_PROBLEM)), normalize.clean_text(val(vocab.ITEM)))] = status
    return out


def read_ledger(path: Path) -> Ledger:
    """Read a master ledger file as the office keeps it; LedgerError (Chinese, row+column) if it is wrong."""
    from python_calamine import CalamineWorkbook
    path = Path(path)
    if not path.exists():
        raise LedgerError(f"找不到台账文件:{path}")
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise LedgerError(f"无法打开台账文件“{path.name}”:{exc}。请确认它是未加密的 .xlsx 文件。") from None
    names = wb.sheet_names
    return ledger_from_sheets(lambda name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                              if name in names else [], names, path.name)


def ledger_from_sheets(rows_of, sheet_names: list[str], name: str) -> Ledger:
    """A Ledger from sheet contents (rows from A1) — a file read by calamine or a book open in Excel."""
    if vocab.SHEET_LEDGER not in sheet_names:
        raise LedgerError(f"台账“{name}”中没有工作表“{vocab.SHEET_LEDGER}”(现有:{'、'.join(sheet_names)})。")
    sheet = rows_of
    where = f"“{name}”工作表“{vocab.SHEET_LEDGER}”"
    measures, header_row, columns, title, extras = parse_measures(sheet(vocab.SHEET_LEDGER), where)
    owners = parse_owners(sheet(vocab.SHEET_OWNERS), measures)
    judgments = parse_judgments(sheet(vocab.SHEET_JUDGMENT))
    log = parse_table(sheet(vocab.SHEET_LOG), vocab.LOG_COLUMNS, vocab.SHEET_LOG)
    history = parse_table(sheet(vocab.SHEET_HISTORY), vocab.HISTORY_COLUMNS, vocab.SHEET_HISTORY)
    params = {normalize.clean_key(r[0]): r[1] for r in sheet(vocab.SHEET_PARAMS) if len(r) > 1}
    ours = {vocab.SHEET_LEDGER, vocab.SHEET_OWNERS, vocab.SHEET_JUDGMENT, vocab.SHEET_STATS, vocab.SHEET_OVERDUE,
            vocab.SHEET_HISTORY, vocab.SHEET_LOG, vocab.SHEET_PARAMS}
    others = {name: sheet(name) for name in sheet_names if name not in ours}
    return Ledger(measures, owners, judgments, header_row, columns, title, log, history,
                  normalize.clean_text(params.get(vocab.PARAM_DIGEST, "")), extras, others)


def parse_table(rows: list[list], headers: list[str], sheet: str) -> list[list]:
    """Rows of one of our own log sheets, as lists in headers order (missing sheet → [])."""
    if not rows:
        return []
    h, cols = find_header(rows, headers, f"工作表“{sheet}”")
    out = []
    for row in rows[h + 1:]:
        values = [row[cols[name]] if cols[name] < len(row) else "" for name in headers]
        if any(normalize.clean_text(v) for v in values):
            out.append(["" if v is None else v for v in values])
    return out


def combine_texts(entries: list[OwnerEntry], attr: str, several: bool) -> str:
    """One cell from several owners' texts: '【单位】text' per owner when more than one wrote."""
    parts = [(e.unit, getattr(e, attr)) for e in entries if getattr(e, attr)]
    if not parts:
        return ""
    if len(parts) == 1 and not several:
        return parts[0][1]
    return normalize.truncate_cell("\n".join(f"【{u}】{t}" for u, t in parts))


def recompute_measure(ledger: Ledger, measure_id: str) -> None:
    """A measure's status is its least advanced owner's; its texts gather every owner's."""
    m = ledger.measures[measure_id]
    entries = [ledger.owners[(m.id, u)] for u in m.owners if (m.id, u) in ledger.owners]
    m.status = normalize.least_advanced(e.status for e in entries) or m.status
    several = len(entries) > 1
    for attr in ("progress", "evidence"):
        text = combine_texts(entries, attr, several)
        if text:
            setattr(m, attr, text)
    remark = combine_texts(entries, "remark", several)
    if remark:
        m.remark = remark
