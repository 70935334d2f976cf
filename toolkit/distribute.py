"""Hand out one workbook per unit (分发): only its rows, plan columns locked, a status dropdown.

Each workbook works on its own in Excel, WPS and LibreOffice: sheet protection, data
validation and live highlighting, no macro. A very-hidden sheet records unit, period,
template version and fingerprints of the locked cells, so a returned file can be trusted.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import vocab
from .assessment import Dated, dated
from .errors import LedgerError
from .io import ledger_sheets, sheets
from .io.fileio import unit_file_names
from .io.ledger_file import read_ledger
from .io.template_contract import (  # noqa: F401  (names intake, the app and tests import from here)
    META_TABLE_ROW,
    SECRET_FILE,
    canon,
    ensure_secret,
    row_fingerprint,
    secret_path,
    template_signature,
)
from .model import WIDTHS, Ledger, Measure, Settings
from .problems import Location
from .rules import deadlines, normalize

ROLE_COLUMN = "本单位角色"
UNIT_SHEET_COLUMNS = vocab.COLUMNS + [ROLE_COLUMN] + vocab.HELPER_COLUMNS   # of a ledger without sparse columns


@dataclass
class Distributed:
    """One unit workbook handed out."""
    unit: str
    path: Path
    rows: int
    written: bool  # False when an identical workbook was already there


def unit_rows(ledger: Ledger, unit: str) -> list[tuple[Measure, list]]:
    """The unit's rows (the ledger's schema, then its role) with the unit's own status and texts in the fill-in columns."""
    out = []
    headers = [c.header for c in ledger.schema]
    at = {name: headers.index(name) for name in vocab.UNIT_COLUMNS}
    for m in ledger.rows_of(unit):
        own = ledger.owners.get((m.id, unit))
        values = m.values(ledger.schema)
        if own:
            pending = ledger.reviews.get((m.id, unit))        # a request awaiting 销号审核 shows as asked
            values[at[vocab.STATUS]] = (
                vocab.DONE if pending and pending.state == vocab.REVIEW_PENDING else ledger.counted_status(m.id, unit))
            values[at[vocab.PROGRESS]] = own.progress
            values[at[vocab.EVIDENCE]] = own.evidence
            values[at[vocab.REMARK]] = own.remark
        role = vocab.ROLE_LEAD if m.lead_unit == unit else vocab.ROLE_CO
        out.append((m, values + [role]))
    return out


def _content_digest(unit: str, period: str, rows: list[list], settings: Settings) -> str:
    key_id = hashlib.sha256(ensure_secret(settings)).hexdigest()[:8]     # a new key re-signs every template
    payload = [unit, period, vocab.TEMPLATE_VERSION, settings.remind_working_days, str(settings.programme_start),
               str(settings.submit_by), settings.print_paper, key_id, [[canon(v) for v in r] for r in rows]]
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


GUIDE = ["{unit}：请在“{sheet}”表中填写本单位负责的整改措施进展（报送期次 {period}）。",
         "1. 只填写橙色表头的列：{fill}；其余列为下发的整改任务，已锁定，请勿改动。",
         "2. “{status}”请从下拉列表选择：{statuses}。",
         "3. “{progress}”写明已采取的措施和取得的成效；“{evidence}”列出文件名称或文号。",
         "4. 红色行已逾期未完成，黄色行即将到期，绿色行已完成（按当天日期自动计算）。",
         "5. 请勿增删行、改动表头或删除工作表；填好后保存为 .xlsx 原样报送，文件名可自定。",
         "6. 牵头与配合单位各自填写本单位承担部分，同一措施以进度最慢的单位为准。"]


def submit_line(settings: Settings) -> str:
    """The line under a unit workbook's title saying by when to hand it in."""
    d = settings.submit_by
    return f"报送截止日：{d.year}年{d.month}月{d.day}日" if d else "报送截止日：请按通知要求时间报送"


REVIEW_GUIDE = ("7. 报“{done}”即向办公室申请销号，请在“{evidence}”中列明材料；经办公室审核同意后才计为完成，"
                "“{column}”列显示审核情况，退回补充的请按意见补充后再报“{done}”。")


def review_notes(ledger: Ledger, unit: str, settings: Settings) -> dict[str, str]:
    """{measure id: the 销号审核 note the unit's template shows} (empty when review is off)."""
    if not settings.review_required:
        return {}
    return {mid: r.unit_note() for (mid, u), r in ledger.reviews.items() if u == unit}


def write_unit_workbook(ledger: Ledger, unit: str, settings: Settings, path: Path, digest: str = "", *,
                        period: str) -> Path:
    """The workbook for one unit for 报送期次 period, written atomically to path."""
    rows = unit_rows(ledger, unit)
    notes = review_notes(ledger, unit, settings)
    schema = ledger.schema
    headers = ([c.header for c in schema] + [ROLE_COLUMN] + ([vocab.UNIT_REVIEW_COLUMN] if settings.review_required else [])
               + vocab.HELPER_COLUMNS)       # the helper columns last: they are not printed
    editable = {c.header for c in schema if not c.locked}
    col = {name: i for i, name in enumerate(headers, 1)}
    book = sheets.Book(path)
    try:
        ws = book.sheet(vocab.SHEET_LEDGER)
        printed = len(headers) - len(vocab.HELPER_COLUMNS)      # the helper columns are for the screen
        base = {c: WIDTHS.get(name, 10) for name, c in col.items()}
        if settings.review_required:
            base[col[vocab.UNIT_REVIEW_COLUMN]] = 36
        fit = sheets.fit_print(base, printed,
                               sheets.print_floors(headers[:printed], [v for _, v in rows]), settings.print_paper)
        widths = fit.widths
        sheets.set_widths(ws, widths)
        title = f"{unit}{ledger.title or '整改台账'}（{normalize.period_text(period)}报送）"
        book.title_row(ws, f"{title}\n{submit_line(settings)}", printed)
        book.header_row(ws, 2, headers, fill_in=tuple(h for h in headers if h in editable))
        locked, unlocked = book.fmt("body"), book.fmt("body", locked=False)
        unlocked_date = book.fmt("body", locked=False, num_format=sheets.DATE_FORMAT)
        cal = deadlines.calendar_for(settings)
        first = 3
        for r, (m, values) in enumerate(rows, first):
            height = sheets.row_height(values, [widths[c] for c in range(1, len(values) + 1)])
            if height:
                ws.set_row(r - 1, height)
            for c, (name, v) in enumerate(zip(headers, values), 1):
                fill_in = name in editable
                book.put(ws, r, c, v, unlocked if fill_in else locked, unlocked_date if fill_in else None)
            due, remind = deadlines.helper_values(m, settings, cal)
            book.put(ws, r, col[vocab.DUE_DATE], due, locked)
            book.put(ws, r, col[vocab.REMIND_FROM], remind, locked)
            book.put(ws, r, col[vocab.DAYS_OVERDUE],
                     ledger_sheets.days_overdue_formula(r, col[vocab.DUE_DATE], col[vocab.STATUS]), locked)
            if settings.review_required:
                book.put(ws, r, col[vocab.UNIT_REVIEW_COLUMN], notes.get(m.id, ""), locked)
        last = max(first, first + len(rows) - 1)
        sheets.print_ready(ws, 2, len(headers), last, fit.paper, printed)
        ledger_sheets.highlight(book, ws, first, last, len(headers), col[vocab.STATUS], col[vocab.DUE_DATE],
                          col[vocab.REMIND_FROM])
        ledger_sheets.status_dropdown(ws, col[vocab.STATUS], first, last)
        for column in schema:
            if column.kind == "number":
                ledger_sheets.number_validation(ws, col[column.header], column.header, first, last)
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True,
                        "select_locked_cells": True, "select_unlocked_cells": True})

        guide = book.sheet("填报说明")
        guide.set_column(0, 0, 110)
        words = dict(unit=unit, sheet=vocab.SHEET_LEDGER, period=normalize.period_text(period), fill="、".join(vocab.UNIT_COLUMNS),
                     status=vocab.STATUS, statuses="、".join(vocab.STATUSES), progress=vocab.PROGRESS,
                     evidence=vocab.EVIDENCE)
        lines = GUIDE + ([REVIEW_GUIDE] if settings.review_required else [])
        words.update(done=vocab.DONE, column=vocab.UNIT_REVIEW_COLUMN)
        for r, line in enumerate(lines, 1):
            book.put(guide, r, 1, line.format(**words), book.fmt("plain", text_wrap=True))
        guide.protect()

        meta = book.sheet(vocab.SHEET_META)
        key = ensure_secret(settings)
        fingerprints = [(m.id, row_fingerprint(m.locked_values(), key, unit, period)) for m, _ in rows]
        overall = hashlib.sha256("".join(f for _, f in fingerprints).encode()).hexdigest()[:16]
        info = [(vocab.META_UNIT, unit), (vocab.META_PERIOD, period), (vocab.META_VERSION, vocab.TEMPLATE_VERSION),
                (vocab.META_FINGERPRINT, overall), (vocab.META_CREATED, dt.date.today().isoformat()),
                ("内容摘要", digest), (vocab.NAME_REF_DATE, sheets.Formula("=TODAY()")),
                (vocab.META_SIGNATURE, template_signature(key, unit, period, fingerprints))]
        plain = book.fmt("plain")
        for r, (k, v) in enumerate(info, 1):
            book.put(meta, r, 1, k, plain)
            book.put(meta, r, 2, v, plain, book.fmt("plain", num_format=sheets.DATE_FORMAT))
        book.put(meta, META_TABLE_ROW - 1, 1, vocab.ID, plain)
        book.put(meta, META_TABLE_ROW - 1, 2, "行指纹", plain)
        for r, (mid, fp) in enumerate(fingerprints, META_TABLE_ROW):
            book.put(meta, r, 1, mid, plain)
            book.put(meta, r, 2, fp, plain)
        meta.very_hidden()
        meta.protect()
        book.wb.define_name(vocab.NAME_REF_DATE, f"='{vocab.SHEET_META}'!$B$7")
        ws.activate()
        return book.close()
    except BaseException:
        book.discard()
        raise


def distribute(settings: Settings, units: list[str] | None = None, ledger: Ledger | None = None,
               on: Dated | None = None) -> list[Distributed]:
    """Write outbox/<period>/<unit>.xlsx for every unit (or the given ones), one file per unit even when two
    names make one file name (unit_file_names); unchanged files are left alone and reported as such.
    on: the run's date and period (default the settings' date)."""
    ledger = ledger or read_ledger(settings.master, settings)
    period = dated(settings, on).period
    folder = settings.path("outbox") / period
    wanted = ledger.units if units is None else units
    unknown = [u for u in wanted if not ledger.has_unit(u)]
    if unknown:
        raise LedgerError(kind="units-not-in-ledger", where=Location(file=str(settings.master)), units=unknown)
    stems = unit_file_names(ledger.units)        # from every unit: a file's name does not depend on what is asked
    out = []
    for unit in dict.fromkeys(wanted):
        notes = review_notes(ledger, unit, settings)
        rows = [values + ([notes.get(m.id, "")] if settings.review_required else []) for m, values in unit_rows(ledger, unit)]
        digest = _content_digest(unit, period, rows, settings)
        path = folder / f"{stems[unit]}.xlsx"
        if existing_digest(path) == digest:
            out.append(Distributed(unit, path, len(rows), False))
            continue
        write_unit_workbook(ledger, unit, settings, path, digest, period=period)
        out.append(Distributed(unit, path, len(rows), True))
    return out
