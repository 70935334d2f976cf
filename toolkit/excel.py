"""Excel buttons (xlwings RunPython): each acts on the ledger workbook open in Excel.

Thin by design: read the open book's sheets as 2-D values, call the core, write the results
back in bulk (one block per range, never cell by cell) and end with a Chinese message box.
Colours come from the workbook's own conditional formatting, so nothing is painted here.
The VBA side (macros/ZhenggaiButtons.bas) only calls these functions through RunPython.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from . import config as config_mod
from . import vocab
from .app import Workspace
from .assessment import Assessment, Dated
from .buttons import BUTTONS
from .consolidate import inbox_files
from .errors import EnvironmentProblem, MissingProgram, ToolkitError, UsageError
from .io import history_db, master_file, stats_sheet
from .io.ledger_file import ledger_from_sheets
from .io.ledger_sheets import days_overdue_formula, overdue_table
from .io.sheets import Formula, Table
from .model import UNIT_ATTRS, Ledger
from .problems import Location
from .results import consolidation_data
from .rules.normalize import looks_like_formula

__all__ = list(BUTTONS)
log = logging.getLogger("toolkit")


# ---------------------------------------------------------------- the open book

def caller_book():
    """The workbook the button acts on: the active book (RunPython's caller)."""
    try:
        import xlwings as xw
        caller = xw.Book.caller()
    except Exception:
        raise MissingProgram(kind="outside-excel") from None
    return caller.app.books.active or caller     # refusal says whether it is a ledger


def workspace_for(book) -> Workspace:
    """The workspace whose config.toml is in the ledger's folder or above; the open book is its master_file."""
    return Workspace.for_master(book.fullname)


def sheet_rows(sheet) -> list[list]:
    """All values of a sheet from A1 to its last used cell, in one read."""
    last = sheet.used_range.last_cell
    return sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value


def ledger_from_book(book, settings=None) -> Ledger:
    names = [s.name for s in book.sheets]
    ledger = ledger_from_sheets(lambda n: sheet_rows(book.sheets[n]) if n in names else [], names, book.name, settings,
                                in_place=True)
    if settings is not None:        # the earlier periods' figures: from the change history, an explicit step
        history_db.load_figures(ledger, settings)
    return ledger


def inert(value):
    """A value as xlwings must receive it: our formulas as formulas, every other text as text."""
    if isinstance(value, Formula):
        return str(value)
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value     # Excel's own marker for 'this is text'
    return value


def _sheet(book, name: str):
    if name not in [s.name for s in book.sheets]:
        return book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])
    return book.sheets[name]


def put_block(book, name: str, rows: list[list]) -> None:
    """Replace a sheet's contents with one rectangular block written in a single call."""
    sheet = _sheet(book, name)
    sheet.clear_contents()
    width = max((len(r) for r in rows), default=1)
    sheet.range("A1").value = [[inert(v) for v in r] + [None] * (width - len(r)) for r in rows]


def put_table(book, name: str, table: Table) -> None:
    put_block(book, name, [[table.title], table.headers] + table.rows)


def _ensure_helper_columns(book, ledger: Ledger) -> None:
    sheet = book.sheets[vocab.SHEET_LEDGER]
    header = sheet_rows(sheet)[ledger.header_row - 1]
    for name in vocab.HELPER_COLUMNS:
        if name in ledger.columns:
            continue
        header.append(name)     # a column of that name the reader did not take as ours is the office's: kept
        col = len(header)
        sheet.range((ledger.header_row, col)).value = name
        ledger.columns[name] = col


def put_ledger_columns(book, ledger: Ledger, assessment: Assessment, names: list[str]) -> None:
    """Write the given ledger columns (fill-in and helper columns) one column block at a time."""
    _ensure_helper_columns(book, ledger)
    sheet = book.sheets[vocab.SHEET_LEDGER]
    first = ledger.header_row + 1
    last = max([m.row for m in ledger.measures.values()] + [first])
    helpers = assessment.helpers
    for name in names:
        col = ledger.columns[name]
        block = sheet.range((first, col), (last, col)).options(ndim=2).value
        for m in ledger.measures.values():
            if name in UNIT_ATTRS:
                value = getattr(m, UNIT_ATTRS[name]) or None
            elif name == vocab.DUE_DATE:
                value = helpers[m.id][0]
            elif name == vocab.REMIND_FROM:
                value = helpers[m.id][1]
            else:
                value = days_overdue_formula(m.row, ledger.columns[vocab.DUE_DATE], ledger.columns[vocab.STATUS])
            block[m.row - first][0] = inert(value)
        sheet.range((first, col)).value = block


def put_params(book, settings: config_mod.Settings, when: Dated, digest: str, sequence: int) -> None:
    put_block(book, vocab.SHEET_PARAMS, master_file.params_rows(settings, when, digest, sequence))
    if vocab.NAME_REF_DATE not in [n.name for n in book.names]:
        book.names.add(vocab.NAME_REF_DATE, master_file.REF_DATE_CELL)


def write_book(book, ledger: Ledger, settings: config_mod.Settings, assessment: Assessment) -> None:
    """Everything a file-level write would change, written into the open book instead."""
    put_ledger_columns(book, ledger, assessment, vocab.UNIT_COLUMNS + vocab.HELPER_COLUMNS)
    put_block(book, vocab.SHEET_STATS, stats_sheet.stats_layout(ledger, settings, assessment).grid())
    for name, table in master_file.derived_tables(ledger, settings, assessment).items():
        put_table(book, name, table)
    ledger.sequence += 1            # a write, as write_master counts it (orders decisions and backups)
    put_params(book, settings, assessment.dated, master_file.content_digest(ledger, settings, assessment.dated),
               ledger.sequence)


# ---------------------------------------------------------------- buttons

def _button(title: str, action) -> str | None:
    """Run one button: status bar while working, a message box at the end, never a traceback dialog."""
    book = caller_book()          # outside Excel this raises ToolkitError: a clear refusal
    app = book.app
    problem = refusal(book)   # wrong, unsaved or unconfigured book: say so, change nothing
    if problem:
        app.alert(problem, title=f"{title}未完成")
        return None
    try:
        app.status_bar = f"{title}：正在运行……"
        message = action(book)
        app.alert(message, title=f"{title}完成")
        return message
    except EnvironmentProblem as exc:   # the file is fine, the machine is in the way: say so under the sentence
        app.alert(f"{exc}\n{exc.guidance}", title=f"{title}未完成")
    except ToolkitError as exc:         # an input problem's sentence already names the fix
        app.alert(str(exc), title=f"{title}未完成")
    except Exception as exc:   # anything unexpected: logged in full, shown as one readable line
        log.exception("%s失败", title)
        app.alert(f"{title}时发生意外错误：{exc}。台账未被改动；详细信息已写入日志。", title=f"{title}未完成")
    finally:
        app.status_bar = False
    return None


def _figures(assessment: Assessment) -> str:
    c = assessment.summary.measures
    return (f"整改措施{c.total}条，已完成{c.done}条，完成率{c.completion:.1f}%;"
            f"逾期未完成{len(assessment.overdue)}条。")


def _consolidate(book) -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    if not inbox_files(settings.path("inbox")):
        return f"收件箱（{settings.path('inbox')}）中没有待汇总的文件。"

    def status(i, n, name):
        book.app.status_bar = f"汇总报送：{i}/{n} {name}"

    def into_book(ledger, settings, result):   # the core clears the inbox only after this has saved the book
        master_file.backup(Path(book.fullname), settings.path("backup"))
        write_book(book, ledger, settings, master_file.prepare(ledger, settings, result.assessment))
        book.save()
        return True
    result = workspace.consolidate(status, ledger=ledger_from_book(book, settings), write=into_book)
    summary = consolidation_data(result)["summary"]    # headline, master, units still missing, receipts
    notes = [f"提示：{n}" for n in result.ledger.read_notes]     # e.g. 销号审核 edits not applied, by cell
    return "\n".join(summary[:1] + [_figures(result.assessment)] + summary[1:] + notes)


def _refresh(book) -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    ledger = ledger_from_book(book, settings)
    assessment = workspace.refresh(ledger, lambda assessment: write_book(book, ledger, settings, assessment))
    return "统计已刷新（尚未保存）。" + _figures(assessment)


def _highlight(book) -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    ledger = ledger_from_book(book, settings)

    def into_book(assessment):
        put_ledger_columns(book, ledger, assessment, vocab.HELPER_COLUMNS)
        put_table(book, vocab.SHEET_OVERDUE, overdue_table(assessment))
        put_params(book, settings, assessment.dated, ledger.digest, ledger.sequence)
    assessment = workspace.highlight(ledger, into_book)
    return (f"逾期标记已刷新：逾期未完成{len(assessment.overdue)}条（红色），"
            f"{assessment.soon_days}个工作日内到期{len(assessment.due_soon)}条（黄色）。")


def open_folder(folder: Path) -> None:
    if sys.platform.startswith("win"):
        os.startfile(folder)  # noqa: S606 - opening the output folder for the user
    elif sys.platform == "darwin":
        subprocess.Popen(["open", str(folder)])


def _notices(book) -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    ledger = ledger_from_book(book, settings)
    written = workspace.notices(ledger=ledger)
    folder = written[0].parent if written else settings.path("output")
    open_folder(folder)
    hints = "".join(f"\n提示：{w}" for w in written.warnings)
    return f"已生成{len(written)}个文件，位于 {folder}。" + _figures(written.assessment) + hints


def _distribute(book) -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    done = workspace.distribute(ledger=ledger_from_book(book, settings))
    folder = workspace.outbox_folder()
    open_folder(folder)
    return f"已为{len(done)}个单位生成填报模板（新写入{sum(d.written for d in done)}个），位于 {folder}。"


def _remind(book) -> str:
    workspace = workspace_for(book)
    done = workspace.remind(ledger=ledger_from_book(book, workspace.settings))
    if done.paths:
        open_folder(done.paths[0].parent)
    return "\n".join(done.lines())


def selected_rows(address: str) -> list[int]:
    """Row numbers of an Excel address, several areas included ("$A$3:$H$4,$A$7" → 3, 4, 7)."""
    rows = set()
    for part in address.split(","):
        numbers = [int(n) for n in re.findall(r"\$?[A-Z]*\$?(\d+)", part.upper())]
        if numbers:
            rows.update(range(min(numbers), max(numbers) + 1))
    return sorted(rows)


def selected_targets(book, ledger: Ledger) -> list[tuple[str, str]]:
    """(编号, 单位) of the selected rows: a row of 销号审核 names one unit's request, a measure row of
    台账 every request of that measure (单位 ''). Other sheets are refused with what to select."""
    selection = book.selection
    if selection is None:               # a chart or a shape is selected, not cells
        return []
    sheet = selection.sheet
    rows = selected_rows(selection.address)
    if sheet.name == vocab.SHEET_REVIEW:
        values = sheet_rows(sheet)
        picked = [values[r - 1][:2] for r in rows if 2 < r <= len(values)]
        return [(mid, unit or "") for mid, unit in picked if mid]
    if sheet.name == vocab.SHEET_LEDGER:
        by_row = {m.row: m.id for m in ledger.measures.values()}
        return [(by_row[r], "") for r in rows if r in by_row]
    raise UsageError(kind="review-selection", where=Location(sheet=sheet.name), sheet=sheet.name)


def _decide(book, conclusion: str, opinion: str = "") -> str:
    workspace = workspace_for(book)
    settings = workspace.settings
    ledger = ledger_from_book(book, settings)
    targets = selected_targets(book, ledger)

    def into_book(after, settings):     # saved: the history is committed against the master on disk
        master_file.backup(Path(book.fullname), settings.path("backup"))
        write_book(book, after, settings, master_file.prepare(after, settings))
        book.save()
        return True
    return "\n".join(workspace.decide(targets, conclusion, opinion, ledger=ledger, write=into_book).lines())


def from_hex(text: str) -> str:
    """The VBA side's Hexed(): UTF-16 code units as 4 hex digits each, so any opinion arrives intact."""
    try:
        return bytes.fromhex(text).decode("utf-16-be")
    except ValueError:
        raise EnvironmentProblem(kind="opinion-garbled") from None


def consolidate_button():
    """汇总报送: take in the inbox into the open ledger, save it, write receipts."""
    return _button("汇总报送", _consolidate)


def refresh_button():
    """刷新统计: recompute statistics from the open ledger (including unsaved edits)."""
    return _button("刷新统计", _refresh)


def highlight_button():
    """标记逾期: refresh the date helpers the highlighting uses and the 逾期清单 sheet."""
    return _button("标记逾期", _highlight)


def notices_button():
    """生成通报: write notices from the open ledger and open their folder."""
    return _button("生成通报", _notices)


def distribute_button():
    """分发模板: write the unit workbooks from the open ledger and open their folder."""
    return _button("分发模板", _distribute)


def remind_button():
    """催报: in the days before submit_by, write reminders for the units that have not reported and open their folder."""
    return _button("催报", _remind)


def _sheet_names(book) -> list[str]:
    return [s.name for s in book.sheets]


def refusal(book) -> str | None:
    """Why a button must not run on this book (not a ledger, unsaved, no config.toml), or None."""
    if vocab.SHEET_LEDGER not in _sheet_names(book):
        ledgers = [b.name for b in book.app.books if b is not book and vocab.SHEET_LEDGER in _sheet_names(b)]
        if ledgers:
            return (f"当前活动的工作簿“{book.name}”不是整改台账。请先切换到已打开的台账“{ledgers[0]}”"
                    f"（视图 → 切换窗口），再点按钮。")
        return (f"当前活动的工作簿“{book.name}”不是整改台账（没有“{vocab.SHEET_LEDGER}”工作表）。"
                f"请先打开工作文件夹 master 中的台账，并切换到它，再点按钮。")
    path = Path(book.fullname)
    if not path.is_absolute() or not path.exists():
        return (f"台账“{book.name}”尚未保存到本机文件夹（或在 OneDrive/SharePoint 网址上）。"
                f"请先把它保存到工作文件夹的 master 文件夹中，再点按钮。")
    try:
        workspace_for(book)
    except ToolkitError as exc:
        return str(exc)
    return None


def agree_button():
    """同意销号: close the requests of the selected rows (销号审核 or 台账), refresh and save the open book."""
    return _button(vocab.REVIEW_APPROVE, lambda book: _decide(book, vocab.REVIEW_APPROVE))


def return_button(opinion_hex: str = ""):
    """退回补充: return the selected requests with the opinion the add-in asked for (hex-encoded by VBA)."""
    return _button(vocab.REVIEW_RETURN, lambda book: _decide(book, vocab.REVIEW_RETURN, from_hex(opinion_hex)))
