"""The master workbook file: generated whole from the ledger, backed up first, saved atomically.

Every write regenerates the workbook with xlsxwriter (fast, flat memory, same bytes for the same
content): the ledger sheet with the office's own extra columns carried over, the sheets the
toolkit owns, then the office's own other sheets as values. Nothing is written when the content
digest shows nothing changed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from enum import Enum
from pathlib import Path

from xlsxwriter.url import Url

from .. import vocab, words
from ..assessment import Assessment, Dated, assess
from ..config import CONFIG_NAME
from ..errors import LedgerError
from ..model import WIDTHS, Ledger, Settings, SheetLayout
from ..problems import Location
from ..rules import normalize, stats
from ..rules.deadlines import days_overdue
from . import ledger_sheets, sheets, stats_sheet
from .evidence import folders, stored_files
from .fileio import copy_hashed, file_sha256
from .ledger_file import sequence_of
from .ledger_sheets import days_overdue_formula, highlight, number_validation, status_dropdown

FORMATS = {".ods": "ODS 格式（WPS/LibreOffice 表格）", ".xls": "旧版 .xls 格式", ".xlsm": "含宏的 .xlsm 格式",
           ".xlsb": "二进制 .xlsb 格式", ".et": "WPS 表格 .et 格式"}


def format_problem(path: Path) -> str:
    """Why the master at path cannot be written in place ('' when it can): the toolkit writes .xlsx
    bytes, and those under an .ods/.xls/.xlsm name make a file no program opens (and lose macros)."""
    params = _format_params(Path(path))
    return words.render("ledger-not-xlsx", params) if params else ""


def _format_params(path: Path) -> dict[str, str]:
    """The parameters of a ledger-not-xlsx problem of the master at path ({} when it may be written in place)."""
    suffix = path.suffix.lower()
    kind = FORMATS.get(suffix, f"{suffix or '无扩展名'}格式") if suffix != ".xlsx" else ""
    if not kind and path.is_file():
        import zipfile
        try:
            with zipfile.ZipFile(path) as zf:
                package = "xl/workbook.xml" in zf.namelist()
        except (zipfile.BadZipFile, OSError):
            package = False
        kind = "" if package else "其他格式的文件（内容不是 .xlsx 工作簿，只是扩展名为 .xlsx）"
    if not kind:
        return {}
    target = path.with_suffix(".xlsx") if suffix != ".xlsx" else path.with_name(path.stem + "_转换.xlsx")
    return {"name": path.name, "format": kind, "lost": "，宏也会丢失" if suffix == ".xlsm" else "",
            "target": target.name, "config": CONFIG_NAME}


def check_format(path: Path) -> None:
    """LedgerError before anything changes when the master is not an .xlsx the toolkit may rewrite."""
    params = _format_params(Path(path))
    if params:
        raise LedgerError(kind="ledger-not-xlsx", where=Location(file=str(path)), **params)


def content_digest(ledger: Ledger, settings: Settings, when: Dated) -> str:
    """A digest of everything a write depends on: equal digests mean nothing to rewrite."""
    h = hashlib.sha256()
    plain = lambda values: repr([str(v) if isinstance(v, Enum) else v for v in values])   # Status and its word alike
    schema = ledger.schema
    for m in ledger.measures.values():
        h.update(plain(m.values(schema)).encode())
    for o in ledger.owners.values():
        h.update(plain(o.values()).encode())
    rows = lambda table: [[normalize.clean_text(v) for v in r] for r in table]  # 1 and 1.0 read back alike
    state = [sorted(ledger.judgments.items()), rows(e.values() for e in ledger.log), rows(r.values() for r in ledger.history), ledger.title,
             [r.values() for r in ledger.reviews.values()], settings.review_required,
             when.period, str(when.reference_date), str(when.reference_date if when.fixed else None),
             str(settings.programme_start), settings.remind_working_days, sorted(settings.weights.items()),
             [str(d) for d in settings.extra_holidays + settings.extra_workdays], settings.print_paper]
    h.update(json.dumps(state, default=str, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def backup(path: Path, backup_dir: Path) -> Path | None:
    """Copy the master into the backup folder (once per content) before it is changed, named
    <stem>_<time>-n<记录序号>_<hash>: the sequence the master carries orders the backups, whatever the
    clock said. The copy is written under a temp name, checked (same hash, opens as a zip) and only then
    named; a backup of that name that is not whole (e.g. truncated by a crash or a full disk) is replaced."""
    if not path.exists():
        return None
    full = file_sha256(path)
    digest = full[:12]
    tail = f"_{digest}{path.suffix}"
    if backup_dir.exists():
        for existing in sorted(backup_dir.iterdir()):
            if existing.name.startswith(path.stem + "_") and existing.name.endswith(tail):
                if _whole(existing, full):
                    return existing
                existing.unlink()
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"{path.stem}_{stamp}-n{master_sequence(path)}{tail}"
    tmp = backup_dir / f".~tmp-{target.name}"
    tmp.unlink(missing_ok=True)
    try:
        _, st = copy_hashed(path, tmp)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))   # the backup keeps the master's save time
        if not _whole(tmp, full):
            raise LedgerError(kind="backup-verify-failed", where=Location(file=str(target)), path=target)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


BACKUP_NAME = re.compile(r"_(\d{8}-\d{6})(?:-n(\d+))?_[0-9a-f]{12}$")


def backup_order(path: Path) -> tuple[int, str]:
    """(记录序号, time in the name) of a backup: the order backups were made in (a backup from before the
    sequence was kept counts as -1, ordered among its kind by the time in its name)."""
    found = BACKUP_NAME.search(path.stem)
    if not found:
        return -1, ""
    return (int(found[2]) if found[2] else -1), found[1]


def master_sequence(path: Path) -> int:
    """The 记录序号 a master file carries in its 参数 sheet (0 if none or unreadable)."""
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
        if vocab.SHEET_PARAMS not in wb.sheet_names:
            return 0
        rows = wb.get_sheet_by_name(vocab.SHEET_PARAMS).to_python(skip_empty_area=False)
    except Exception:   # a foreign or half-written file: it carries no sequence of ours
        return 0
    return next((sequence_of(r[1]) for r in rows if len(r) > 1 and normalize.clean_key(r[0]) == vocab.PARAM_SEQUENCE), 0)


def _whole(path: Path, sha256: str) -> bool:
    """The file holds exactly the bytes hashed as sha256 and opens as a complete zip."""
    import zipfile
    try:
        if file_sha256(path) != sha256:
            return False
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def owner_table(ledger: Ledger, due_dates: list | None = None) -> sheets.Table:
    headers = vocab.OWNER_VIEW_COLUMNS + ([vocab.DUE_DATE] if due_dates is not None else [])
    shared = [vocab.OWNER_COLUMNS.index(n) for n in (vocab.PROGRESS, vocab.EVIDENCE, vocab.REMARK)]
    own, office = (sheets.col_letter(vocab.OWNER_VIEW_COLUMNS.index(n) + 1) for n in (vocab.STATUS, vocab.OFFICE_STATUS))
    rows = []
    for r, o in enumerate(ledger.owners.values(), 3):
        row = o.values()
        if not ledger.measures[o.measure_id].co_units:
            for i in shared:          # a sole owner's texts are the ledger sheet's: not written twice
                row[i] = ""
        decision = ledger.decisions.get(o.measure_id)
        rows.append(row + [decision.status if decision else "",   # the one rule: ledger.counted_status
                           sheets.Formula(f'=IF({office}{r}<>"",{office}{r},{own}{r})',
                                          ledger.counted_status(o.measure_id, o.unit))])
    if due_dates is not None:
        rows = [r + [d] for r, d in zip(rows, due_dates)]
    return sheets.Table("各责任单位填报明细（每条措施每个责任单位一行；只有一个责任单位的措施，进展等文字见“整改台账”表）",
                        headers, rows,
                        {vocab.PROGRESS: 50, vocab.EVIDENCE: 24, vocab.REMARK: 16, vocab.DUE_DATE: 12})


def decision_table(ledger: Ledger) -> sheets.Table:
    """办公室认定: the 完成情况 the office typed into 整改台账, kept over the units' roll-up."""
    rows = [d.values(ledger.measures[mid], ledger.owners_status(mid)) for mid, d in ledger.decisions.items()]
    return sheets.Table("办公室认定（在“整改台账”中手工改动的完成情况，优先于责任单位填报；把完成情况改回单位汇总状态即撤销）",
                        vocab.DECISION_COLUMNS, rows, {vocab.MEASURE: 44, "认定时间": 18})


def log_table(ledger: Ledger) -> sheets.Table:
    return sheets.Table("报送记录（每个收到的文件一行，原件见归档文件夹）", vocab.LOG_COLUMNS, [e.values() for e in ledger.log],
                        {"原文件名": 30, "归档文件": 40, "内容哈希": 20})


def changes_table(ledger: Ledger) -> sheets.Table:
    """变更记录: the latest changes from the history database, read-only (history_db.recent_rows fills them)."""
    return sheets.Table(f"变更记录（最近{CHANGES_SHOWN}条，最新在前；只读，完整记录见{vocab.HISTORY_DB}，"
                        f"可用 python -m toolkit history 编号 查询）", vocab.CHANGE_COLUMNS, ledger.recent_changes,
                        {"原值": 30, "新值": 30, "来源": 14})


CHANGES_SHOWN = 200


def derived_tables(ledger: Ledger, settings: Settings, assessment: Assessment) -> dict[str, sheets.Table]:
    """The plain tables every master carries, in sheet order: the file writer and the Excel
    buttons both lay out exactly these (the statistics sheet and 参数 have layouts of their own)."""
    return {vocab.SHEET_OWNERS: owner_table(ledger, stats_sheet.owner_due_dates(ledger, assessment)),
            vocab.SHEET_JUDGMENT: stats_sheet.judgment_table(assessment.summary),
            vocab.SHEET_HISTORY: stats_sheet.history_table(ledger),
            vocab.SHEET_OVERDUE: ledger_sheets.overdue_table(assessment),
            vocab.SHEET_DECISIONS: decision_table(ledger),
            **review_tables(ledger, settings),
            vocab.SHEET_LOG: log_table(ledger),
            vocab.SHEET_CHANGES: changes_table(ledger)}


def review_tables(ledger: Ledger, settings: Settings) -> dict[str, sheets.Table]:
    """The 销号审核 sheet, when review is required or requests are still on record."""
    if not (settings.review_required or ledger.reviews):
        return {}
    return {vocab.SHEET_REVIEW: ledger_sheets.review_table(ledger, folders(settings.path("archive")))}


REF_DATE_CELL = f"='{vocab.SHEET_PARAMS}'!$B$2"   # params_rows puts the reference date in row 2, column B


def params_rows(settings: Settings, when: Dated, digest: str, sequence: int) -> list[list]:
    """The 参数 sheet: the reference date cell (defined name 基准日期) that formulas and highlighting use."""
    if when.fixed:
        ref, note = when.reference_date, "固定基准日期（来自配置）；改为 =TODAY() 即按当天计算逾期"
    else:
        ref, note = sheets.Formula("=TODAY()", when.reference_date), "按当天日期计算逾期与临期，无需重新运行程序"
    return [["参数", "值", "说明"], [vocab.PARAM_REF_DATE, ref, note],
            ["报送期次", when.period, "本期报送期次"],
            ["整改启动日期", settings.programme_start, "“立行立改”按此日期计算逾期"],
            ["临期提醒工作日", settings.remind_working_days, "到期前N个工作日标黄"],
            [vocab.PARAM_DIGEST, digest, "程序用于判断内容是否变化，请勿修改"],
            [vocab.PARAM_SEQUENCE, sequence, "程序每次写入台账加1，用于确定审核、申请与备份的先后（不看电脑时钟），请勿修改"]]


def layout_ledger(ledger: Ledger) -> list[str]:
    """Lay out the sheet we are about to write: a fresh SheetLayout for the ledger (header on row 2, the
    schema's columns, the office's, then our helpers) and every measure's row; returns the headers."""
    headers = [c.header for c in ledger.schema] + ledger.extra_columns + vocab.HELPER_COLUMNS
    ledger.sheet = SheetLayout(2, {name: i for i, name in enumerate(headers, 1)})
    for i, m in enumerate(ledger.measures.values()):
        m.row = 3 + i
    return headers


def _write_ledger_sheet(book: sheets.Book, ledger: Ledger, settings: Settings, assessment: Assessment) -> None:
    headers = layout_ledger(ledger)
    schema = ledger.schema
    ws = book.sheet(vocab.SHEET_LEDGER)
    cols = ledger.columns
    printed = len(headers) - len(vocab.HELPER_COLUMNS)      # the helper columns are for the screen
    sample = [m.values(schema) + [m.extra.get(n) for n in ledger.extra_columns]
              for m in list(ledger.measures.values())[:300]]
    fit = sheets.fit_print({c: WIDTHS.get(name, 14) for name, c in cols.items()}, printed,
                           sheets.print_floors(headers[:printed], sample), settings.print_paper)
    widths = fit.widths
    sheets.set_widths(ws, widths)
    book.title_row(ws, ledger.title or "整改台账", len(schema))
    typed = [ledger.extra_headers.get(h, h) for h in ledger.extra_columns]   # office columns: headers as typed
    book.header_row(ws, 2, [c.header for c in schema] + ["" if t is None else t for t in typed] + vocab.HELPER_COLUMNS)
    today = assessment.reference_date
    due_col, status_col = cols[vocab.DUE_DATE], cols[vocab.STATUS]

    def rows():
        for m in ledger.measures.values():
            due, remind = assessment.helpers[m.id]
            values = m.values(schema)
            if m.id in shown:       # a blank 佐证材料 cell that links to stored evidence says so
                values[cols[vocab.EVIDENCE] - 1] = shown[m.id]
            yield (values + [m.extra.get(name) for name in ledger.extra_columns]
                   + [due, remind, days_overdue_formula(m.row, due_col, status_col, days_overdue(m, due, today))])
    shown = _link_evidence(ws, ledger, settings, book.path)
    book.rows(ws, 3, rows(), [book.fmt("body")] * len(headers), widths=[widths[c] for c in range(1, len(headers) + 1)])
    last = max(3, 2 + len(ledger.measures))
    highlight(book, ws, 3, last, len(headers), status_col, due_col, cols[vocab.REMIND_FROM])
    status_dropdown(ws, status_col, 3, last + 200)
    for column in schema:
        if column.kind == "number":
            number_validation(ws, cols[column.header], column.header, 3, last + 200)
    sheets.print_ready(ws, 2, len(headers), last, fit.paper, printed)


def _link_evidence(ws, ledger: Ledger, settings: Settings, path: Path) -> dict[str, str]:
    """Make each 佐证材料 cell a hyperlink to its measure's newest evidence folder; returns {编号: text}
    for the cells left blank, which then say 见归档佐证（N个文件）. Called before the rows are streamed,
    and only the link is stored (the rows write the text): xlsxwriter's ignore_write_string (3.x,
    pinned; tests/test_evidence.py holds the seam)."""
    found = folders(settings.path("archive"))
    col = ledger.columns[vocab.EVIDENCE] - 1
    shown = {}
    ws.ignore_write_string = True
    try:
        for m in ledger.measures.values():
            by_unit = found.get(m.id, {})           # the lead unit's folder, else a co-owner's
            folder = by_unit.get(m.lead_unit) or next(iter(by_unit.values()), None)
            if folder:
                ws.write_url(m.row - 1, col, _folder_url(folder, path.parent), tip="打开本措施的佐证材料文件夹")
                if not m.evidence:
                    count = len(stored_files(folder))
                    shown[m.id] = vocab.EVIDENCE_LINK_TEXT.format(count=count)
    finally:
        ws.ignore_write_string = False
    return shown


def _folder_url(folder: Path, base: Path) -> Url:
    """A link to folder, relative to base with forward slashes (they resolve in Excel, WPS and
    LibreOffice alike); an absolute file link when there is no relative path (another Windows drive)."""
    try:
        target = Path(os.path.relpath(folder, base)).as_posix()
    except ValueError:
        target = "file:///" + Path(os.path.abspath(folder)).as_posix().lstrip("/")
    url = Url(f"external:{target}")
    url._relationship_link = target         # as is: xlsxwriter would turn "/" into "\\"
    return url


def _write_other_sheet(book: sheets.Book, name: str, rows: list[list]) -> None:
    ws = book.sheet(name)
    plain = book.fmt("plain")
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value not in (None, ""):
                book.put(ws, r, c, value, plain, book.fmt("plain", num_format=sheets.DATE_FORMAT))


def _write_params_sheet(book: sheets.Book, settings: Settings, when: Dated, digest: str, sequence: int) -> None:
    ws = book.sheet(vocab.SHEET_PARAMS)
    sheets.set_widths(ws, {1: 16, 2: 20, 3: 50})
    for r, values in enumerate(params_rows(settings, when, digest, sequence), 1):
        for c, v in enumerate(values, 1):
            book.put(ws, r, c, v, book.fmt("header") if r == 1 else book.fmt("body"))
    book.wb.define_name(vocab.NAME_REF_DATE, REF_DATE_CELL)


def prepare(ledger: Ledger, settings: Settings, assessment: Assessment | None = None) -> Assessment:
    """Figures for a write: the run's assessment (made here when not given), with this period's row
    of 历史进度 brought up to date."""
    assessment = assessment or assess(ledger, settings)
    stats.update_history(ledger, assessment.summary, assessment.period)
    return assessment


def write_master(ledger: Ledger, settings: Settings, assessment: Assessment | None = None,
                 path: Path | None = None, digest: str = "") -> bool:
    """Write the ledger into the master (backup first, atomic); False when nothing changed. digest: this
    ledger's content_digest with this assessment, when the caller has it (history.expected_digest)."""
    path = Path(path or settings.master)
    check_format(path)
    assessment = prepare(ledger, settings, assessment)
    digest = digest or content_digest(ledger, settings, assessment.dated)
    if path.exists() and digest == ledger.digest:
        return False
    book = sheets.Book(path)
    book.paper = settings.print_paper
    try:
        _write_ledger_sheet(book, ledger, settings, assessment)
        stats_sheet.write_stats(book, ledger, settings, assessment)
        for name, table in derived_tables(ledger, settings, assessment).items():
            ws = book.sheet(name)
            book.table(ws, table)
            if name == vocab.SHEET_JUDGMENT:   # the office records its judgment from a dropdown
                status_dropdown(ws, table.headers.index(vocab.JUDGMENT) + 1, 3, 3 + len(table.rows))
            if name == vocab.SHEET_REVIEW:     # and its close-out decisions likewise
                ledger_sheets.conclusion_dropdown(ws, len(table.rows))
        _write_params_sheet(book, settings, assessment.dated, digest, ledger.sequence + 1)
        for name, rows in ledger.other_sheets.items():
            _write_other_sheet(book, name, rows)
            if name in ledger.hidden_sheets:    # an old hidden copy stays hidden (and is not read as the ledger)
                book.wb.get_worksheet_by_name(name).hide()
        backup(path, settings.path("backup"))
        book.close()
    except BaseException:
        book.discard()
        raise
    ledger.digest, ledger.sequence = digest, ledger.sequence + 1
    return True
