"""The master workbook file: write the ledger back in place, keep backups, save atomically.

The ledger sheet is updated cell by cell in place (the office's own columns and sheets are
left alone); the sheets the toolkit owns are rebuilt whole on every write.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from . import normalize, sheets, vocab
from .config import Settings
from .errors import LedgerError
from .ledger import Ledger

WIDTHS = {vocab.ID: 10, vocab.THEME: 24, vocab.KEY_PROBLEM: 28, vocab.ITEM: 30, vocab.ITEM_TYPE: 10,
          vocab.REFORM: 10, vocab.MEASURE: 44, vocab.LEADER: 10, vocab.LEAD_UNIT: 16, vocab.CO_UNITS: 18,
          vocab.DEADLINE: 12, vocab.STATUS: 10, vocab.PROGRESS: 44, vocab.EVIDENCE: 24, vocab.REMARK: 16,
          vocab.DUE_DATE: 12, vocab.REMIND_FROM: 12, vocab.DAYS_OVERDUE: 10}


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_digest(ledger: Ledger, settings: Settings) -> str:
    """A digest of everything a write depends on: equal digests mean nothing to rewrite."""
    h = hashlib.sha256()
    for m in ledger.measures.values():
        h.update(repr(m.values()).encode())
    for o in ledger.owners.values():
        h.update(repr(o.values()).encode())
    rows = lambda table: [[normalize.clean_text(v) for v in r] for r in table]  # 1 and 1.0 read back alike
    state = [sorted(ledger.judgments.items()), rows(ledger.log), rows(ledger.history), ledger.title,
             settings.current_period(), str(settings.today()), str(settings.reference_date), str(settings.programme_start),
             settings.remind_working_days, sorted(settings.weights.items()),
             [str(d) for d in settings.extra_holidays + settings.extra_workdays]]
    h.update(json.dumps(state, default=str, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def backup(path: Path, backup_dir: Path) -> Path | None:
    """Copy the master into the backup folder (once per content) before it is changed."""
    if not path.exists():
        return None
    digest = file_hash(path)[:12]
    existing = list(backup_dir.glob(f"{path.stem}_*_{digest}{path.suffix}"))
    if existing:
        return existing[0]
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"{path.stem}_{stamp}_{digest}{path.suffix}"
    shutil.copy2(path, target)
    return target


def _write_ledger_sheet(ws, ledger: Ledger, fresh: bool) -> None:
    """Write measure values into their rows; new measures go below the last row."""
    cols = ledger.columns
    if fresh:
        title = ledger.title or "整改台账"
        sheets.put(ws.cell(1, 1), title)
        ws.cell(1, 1).font = sheets.TITLE_FONT
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(vocab.COLUMNS))
        ws.cell(1, 1).alignment = sheets.CENTER
        ws.row_dimensions[1].height = 30
        for name, col in cols.items():
            sheets.put(ws.cell(ledger.header_row, col), name)
        sheets.style_header(ws, ledger.header_row, 1, max(cols.values()))
    next_row = max([m.row for m in ledger.measures.values() if m.row] + [ledger.header_row]) + 1
    new_rows = []
    for m in ledger.measures.values():
        if m.row is None:
            m.row, next_row = next_row, next_row + 1
            new_rows.append(m.row)
        for name, value in zip(vocab.COLUMNS, m.values()):
            cell = ws.cell(m.row, cols[name])
            if cell.value != value and not (value == "" and cell.value is None):
                sheets.put(cell, value if value != "" else None)
    if new_rows:
        sheets.style_body(ws, min(new_rows), max(new_rows), 1, max(cols.values()))


def _ensure_columns(ws, ledger: Ledger, names: list[str]) -> None:
    """Give each toolkit column a place in the header row (appended at the right if missing)."""
    last = max(ledger.columns.values())
    for name in names:
        if name not in ledger.columns:
            found = next((c for c in range(1, ws.max_column + 1)
                          if ws.cell(ledger.header_row, c).value == name), None)
            if found is None:
                last = max(last, ws.max_column) + 1
                found = last
                sheets.put(ws.cell(ledger.header_row, found), name)
                sheets.style_header(ws, ledger.header_row, found, found)
            ledger.columns[name] = found


def owner_table(ledger: Ledger) -> sheets.Table:
    return sheets.Table("各责任单位填报明细(每条措施每个责任单位一行)", vocab.OWNER_COLUMNS,
                        [o.values() for o in ledger.owners.values()],
                        {vocab.PROGRESS: 50, vocab.EVIDENCE: 24, vocab.REMARK: 16})


def log_table(ledger: Ledger) -> sheets.Table:
    return sheets.Table("报送记录(每个收到的文件一行,原件见归档文件夹)", vocab.LOG_COLUMNS, ledger.log,
                        {"原文件名": 30, "归档文件": 40, "内容哈希": 20})


def params_rows(settings: Settings, digest: str) -> list[list]:
    """The 参数 sheet: the reference date cell (defined name 基准日期) that formulas and highlighting use."""
    if settings.reference_date:
        ref, note = settings.reference_date, "固定基准日期(来自配置);改为 =TODAY() 即按当天计算逾期"
    else:
        ref, note = sheets.Formula("=TODAY()"), "按当天日期计算逾期与临期,无需重新运行程序"
    return [["参数", "值", "说明"], [vocab.PARAM_REF_DATE, ref, note],
            ["报送期次", settings.current_period(), "本期报送期次"],
            ["整改启动日期", settings.programme_start, "“立行立改”按此日期计算逾期"],
            ["临期提醒工作日", settings.remind_working_days, "到期前N个工作日标黄"],
            [vocab.PARAM_DIGEST, digest, "程序用于判断内容是否变化,请勿修改"]]


def _write_params_sheet(wb, settings: Settings, digest: str) -> None:
    ws = sheets.replace_sheet(wb, vocab.SHEET_PARAMS)
    for r, values in enumerate(params_rows(settings, digest), 1):
        for c, v in enumerate(values, 1):
            sheets.put(ws.cell(r, c), v)
    ws.cell(2, 2).number_format = sheets.DATE_FORMAT
    sheets.style_header(ws, 1, 1, 3)
    sheets.set_widths(ws, {1: 16, 2: 20, 3: 50})
    if vocab.NAME_REF_DATE in wb.defined_names:
        del wb.defined_names[vocab.NAME_REF_DATE]
    wb.defined_names[vocab.NAME_REF_DATE] = DefinedName(
        vocab.NAME_REF_DATE, attr_text=f"'{vocab.SHEET_PARAMS}'!$B$2")


def write_master(ledger: Ledger, settings: Settings, path: Path | None = None) -> bool:
    """Write the ledger into the master (backup first, atomic); False when nothing changed."""
    from . import overdue, progress  # the sheets they own are part of every write

    path = Path(path or settings.master)
    summary = progress.summarise(ledger, settings)
    progress.update_history(ledger, summary, settings.current_period())
    digest = content_digest(ledger, settings)
    if path.exists() and digest == ledger.digest:
        return False
    fresh = not path.exists()
    if fresh:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = vocab.SHEET_LEDGER
        if not ledger.columns:
            ledger.columns = {name: i for i, name in enumerate(vocab.COLUMNS, 1)}
    else:
        try:
            wb = openpyxl.load_workbook(path)
        except Exception as exc:
            raise LedgerError(f"无法打开台账文件“{path.name}”以写入:{exc}") from None
        ws = wb[vocab.SHEET_LEDGER]
    _write_ledger_sheet(ws, ledger, fresh)
    _ensure_columns(ws, ledger, vocab.HELPER_COLUMNS)
    last_row = max([m.row for m in ledger.measures.values()] + [ledger.header_row])
    last_col = max(ledger.columns.values())
    overdue.decorate_ledger_sheet(ws, ledger, settings)
    widths = {col: WIDTHS.get(name, 14) for name, col in ledger.columns.items()}
    sheets.set_widths(ws, widths)
    sheets.print_ready(ws, ledger.header_row, last_col, last_row)
    sheets.write(sheets.replace_sheet(wb, vocab.SHEET_OWNERS), owner_table(ledger))
    progress.write_sheets(wb, ledger, settings, summary)
    overdue.write_overdue_sheet(wb, ledger, settings)
    sheets.write(sheets.replace_sheet(wb, vocab.SHEET_LOG), log_table(ledger))
    _write_params_sheet(wb, settings, digest)
    wb.active = 0
    backup(path, settings.path("backup"))
    sheets.atomic_save(wb, path)
    ledger.digest = digest
    return True
