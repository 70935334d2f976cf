"""Hand out one workbook per unit (分发): only its rows, plan columns locked, a status dropdown.

Each workbook works on its own in Excel, WPS and LibreOffice: sheet protection, data
validation and live highlighting, no macro. A very-hidden sheet records unit, period,
template version and fingerprints of the locked cells, so a returned file can be trusted.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.styles import Protection
from openpyxl.workbook.defined_name import DefinedName

from . import normalize, overdue, sheets, vocab
from .config import Settings
from .ledger import Ledger, Measure, read_ledger
from .master import WIDTHS

ROLE_COLUMN = "本单位角色"
UNIT_SHEET_COLUMNS = vocab.COLUMNS + [ROLE_COLUMN] + vocab.HELPER_COLUMNS
META_TABLE_ROW = 10          # the per-row fingerprint table starts here in 模板信息
UNLOCKED = Protection(locked=False)


def canon(value) -> str:
    """One locked cell as a comparable string (dates ISO, spaces and widths normalised)."""
    if value is None or value == "":
        return ""
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                                     and 20000 <= value <= 80000):
        try:
            d = normalize.deadline(value)
            return d.isoformat() if isinstance(d, dt.date) else d
        except ValueError:
            pass
    key = normalize.clean_key(value)
    try:  # a date typed as text in a locked cell compares equal to the real date
        d = normalize.deadline(key)
        return d.isoformat() if isinstance(d, dt.date) else d
    except ValueError:
        return key


def row_fingerprint(values: list) -> str:
    """Fingerprint of one row's locked cells."""
    return hashlib.sha256(json.dumps([canon(v) for v in values], ensure_ascii=False).encode()).hexdigest()[:16]


def safe_filename(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("._") or "未命名单位"


@dataclass
class Distributed:
    """One unit workbook handed out."""
    unit: str
    path: Path
    rows: int
    written: bool  # False when an identical workbook was already there


def unit_rows(ledger: Ledger, unit: str) -> list[tuple[Measure, list]]:
    """The unit's rows with the unit's own status and texts in the fill-in columns."""
    out = []
    for m in ledger.rows_of(unit):
        own = ledger.owners.get((m.id, unit))
        values = m.values()
        if own:
            values[vocab.COLUMNS.index(vocab.STATUS)] = own.status
            values[vocab.COLUMNS.index(vocab.PROGRESS)] = own.progress
            values[vocab.COLUMNS.index(vocab.EVIDENCE)] = own.evidence
            values[vocab.COLUMNS.index(vocab.REMARK)] = own.remark
        role = vocab.ROLE_LEAD if m.lead_unit == unit else vocab.ROLE_CO
        out.append((m, values + [role]))
    return out


def _content_digest(unit: str, period: str, rows: list[list], settings: Settings) -> str:
    payload = [unit, period, vocab.TEMPLATE_VERSION, settings.remind_working_days, str(settings.programme_start),
               [[canon(v) for v in r] for r in rows]]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def existing_digest(path: Path) -> str:
    """The content digest recorded in an already written unit workbook ('' if none)."""
    if not path.exists():
        return ""
    try:
        from python_calamine import CalamineWorkbook
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(vocab.SHEET_META).to_python()
        return next((str(r[1]) for r in rows if r and r[0] == "内容摘要"), "")
    except Exception:
        return ""


def build_unit_workbook(ledger: Ledger, unit: str, settings: Settings, digest: str = "") -> openpyxl.Workbook:
    """The workbook for one unit (not saved)."""
    period = settings.current_period()
    rows = unit_rows(ledger, unit)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    title = f"{unit}{ledger.title or '整改台账'}({period}报送)"
    headers = UNIT_SHEET_COLUMNS
    sheets.put(ws.cell(1, 1), title)
    ws.cell(1, 1).font = sheets.TITLE_FONT
    ws.cell(1, 1).alignment = sheets.CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.row_dimensions[1].height = 30
    header_row, first = 2, 3
    for c, name in enumerate(headers, 1):
        sheets.put(ws.cell(header_row, c), name)
    sheets.style_header(ws, header_row, 1, len(headers))
    cal = overdue.calendar_for(settings)
    col = {name: i for i, name in enumerate(headers, 1)}
    for r, (m, values) in enumerate(rows, first):
        for c, v in enumerate(values, 1):
            sheets.put(ws.cell(r, c), v if v != "" else None)
        due, remind = overdue.helper_values(m, settings, cal)
        sheets.put(ws.cell(r, col[vocab.DUE_DATE]), due)
        sheets.put(ws.cell(r, col[vocab.REMIND_FROM]), remind)
        ws.cell(r, col[vocab.DAYS_OVERDUE]).value = overdue.days_overdue_formula(r, col[vocab.DUE_DATE], col[vocab.STATUS])
    last = first + len(rows) - 1
    sheets.style_body(ws, first, max(last, first), 1, len(headers))
    for r in range(first, max(last, first) + 1):
        for name in vocab.UNIT_COLUMNS:
            ws.cell(r, col[name]).protection = UNLOCKED
    for name in vocab.UNIT_COLUMNS:  # the columns units fill in get an orange header
        ws.cell(header_row, col[name]).fill = sheets.PatternFill("solid", fgColor="FCE4D6")
    sheets.set_widths(ws, {c: WIDTHS.get(name, 10) for name, c in col.items()})
    sheets.print_ready(ws, header_row, len(headers), max(last, first))
    overdue.highlight_rules(ws, first, max(last, first), len(headers), col[vocab.STATUS],
                            col[vocab.DUE_DATE], col[vocab.REMIND_FROM])
    overdue.status_validation(ws, col[vocab.STATUS], first, max(last, first))
    ws.protection.sheet = True
    ws.protection.autoFilter = False      # units may still filter,
    ws.protection.sort = False            # sort,
    ws.protection.formatColumns = False   # widen columns
    ws.protection.formatRows = False      # and rows
    ws.protection.selectLockedCells = False

    guide = wb.create_sheet("填报说明")
    lines = [f"{unit}:请在“{vocab.SHEET_LEDGER}”表中填写本单位负责的整改措施进展(报送期次 {period})。",
             f"1. 只填写橙色表头的列:{'、'.join(vocab.UNIT_COLUMNS)};其余列为下发的整改任务,已锁定,请勿改动。",
             f"2. “{vocab.STATUS}”请从下拉列表选择:{'、'.join(vocab.STATUSES)}。",
             f"3. “{vocab.PROGRESS}”写明已采取的措施和取得的成效;“{vocab.EVIDENCE}”列出文件名称或文号。",
             "4. 红色行已逾期未完成,黄色行即将到期,绿色行已完成(按当天日期自动计算)。",
             "5. 请勿增删行、改动表头或删除工作表;填好后保存为 .xlsx 原样报送,文件名可自定。",
             "6. 牵头与配合单位各自填写本单位承担部分,同一措施以进度最慢的单位为准。"]
    for r, text in enumerate(lines, 1):
        sheets.put(guide.cell(r, 1), text)
        guide.cell(r, 1).alignment = sheets.WRAP
    guide.column_dimensions["A"].width = 110
    guide.protection.sheet = True

    meta = wb.create_sheet(vocab.SHEET_META)
    fingerprints = [(m.id, row_fingerprint(m.locked_values())) for m, _ in rows]
    overall = hashlib.sha256("".join(f for _, f in fingerprints).encode()).hexdigest()[:16]
    info = [(vocab.META_UNIT, unit), (vocab.META_PERIOD, period), (vocab.META_VERSION, vocab.TEMPLATE_VERSION),
            (vocab.META_FINGERPRINT, overall), (vocab.META_CREATED, dt.date.today().isoformat()),
            ("内容摘要", digest), (vocab.NAME_REF_DATE, None)]
    for r, (k, v) in enumerate(info, 1):
        sheets.put(meta.cell(r, 1), k)
        sheets.put(meta.cell(r, 2), v)
    meta.cell(7, 2).value = "=TODAY()"
    meta.cell(7, 2).number_format = sheets.DATE_FORMAT
    sheets.put(meta.cell(META_TABLE_ROW - 1, 1), vocab.ID)
    sheets.put(meta.cell(META_TABLE_ROW - 1, 2), "行指纹")
    for r, (mid, fp) in enumerate(fingerprints, META_TABLE_ROW):
        sheets.put(meta.cell(r, 1), mid)
        sheets.put(meta.cell(r, 2), fp)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    wb.defined_names[vocab.NAME_REF_DATE] = DefinedName(vocab.NAME_REF_DATE, attr_text=f"'{vocab.SHEET_META}'!$B$7")
    wb.active = 0
    return wb


def distribute(settings: Settings, units: list[str] | None = None, ledger: Ledger | None = None) -> list[Distributed]:
    """Write outbox/<period>/<unit>.xlsx for every unit (or the given ones); unchanged files are left alone."""
    ledger = ledger or read_ledger(settings.master)
    period = settings.current_period()
    folder = settings.path("outbox") / period
    wanted = ledger.units if units is None else units
    unknown = [u for u in wanted if u not in ledger.units]
    if unknown:
        from .errors import LedgerError
        raise LedgerError(f"台账中没有这些责任单位:{'、'.join(unknown)}。")
    out = []
    for unit in wanted:
        rows = [values for _, values in unit_rows(ledger, unit)]
        digest = _content_digest(unit, period, rows, settings)
        path = folder / f"{safe_filename(unit)}.xlsx"
        if existing_digest(path) == digest:
            out.append(Distributed(unit, path, len(rows), False))
            continue
        sheets.atomic_save(build_unit_workbook(ledger, unit, settings, digest), path)
        out.append(Distributed(unit, path, len(rows), True))
    return out
