"""台账打印版.xlsx: the ledger as an office hands it to a meeting — hierarchy as heading rows, not repeated per measure.

The master's 整改台账 repeats 主题, 重点问题 and 事项 in every row, so each measure prints as a tall row of
narrow columns (263 measures on 78 A4 pages). Here each level is a heading row across the table, and a
measure row holds only what a meeting discusses: 编号, 整改措施, owners, 完成时限, 完成情况 (with the days
overdue) and 整改进展. A4 landscape (A3 when [print] paper says so), one page wide, body text 10 pt
printed at no less than 9 pt, the header row on every page, "第 N 页 共 M 页".
"""
from __future__ import annotations

from pathlib import Path

from .. import vocab
from ..assessment import Assessment
from ..io import fileio, sheets
from ..model import Ledger, Settings
from ..rules import normalize
from ..rules.deadlines import OVERDUE

FILE_NAME = "台账打印版.xlsx"
SHEET = "打印版"
HEADERS = [vocab.ID, vocab.MEASURE, vocab.LEADER, vocab.LEAD_UNIT, vocab.CO_UNITS, vocab.DEADLINE, vocab.STATUS,
           vocab.PROGRESS]
WIDTHS = {1: 8, 2: 36, 3: 14, 4: 12, 5: 13, 6: 15, 7: 9, 8: 36}      # column-width units before fitting
WHOLE = (1, 6, 7)                  # 编号, 完成时限, 完成情况: never narrowed below their longest line
NUMBERS = "一二三四五六七八九十"


def _theme_number(n: int) -> str:
    return NUMBERS[n - 1] if n <= 10 else f"十{NUMBERS[n - 11]}" if n <= 19 else str(n)


def rows(ledger: Ledger, assessment: Assessment) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, values) per printed row: kind theme / problem / item (a heading across the table) or measure."""
    late = {r.measure.id: r for r in assessment.late if r.state == OVERDUE}
    out: list[tuple[str, tuple[str, ...]]] = []   # tuples of text, which the collector stops scanning (0.3 s at 30,000)
    theme = problem = item = None
    themes = problems = items = 0
    for m in ledger.measures.values():
        if m.theme != theme:
            theme, problem, item = m.theme, None, None
            themes += 1
            if m.theme:
                out.append(("theme", (f"{_theme_number(themes)}、{m.theme}",)))
        if m.key_problem != problem:
            problem, item = m.key_problem, None
            problems += 1
            if m.key_problem:
                out.append(("problem", (f"{problems}.{m.key_problem}",)))
        if m.item != item:
            item = m.item
            items += 1
            if m.item:
                kind = f"（{m.item_type}）" if m.item_type else ""
                out.append(("item", (f"{m.item}{kind}",)))
        deadline = m.deadline if isinstance(m.deadline, str) else normalize.format_date(m.deadline) if m.deadline else ""
        status = m.status + (f"\n逾期{late[m.id].days}天" if m.id in late else "")
        out.append(("measure", (m.id, m.measure, m.leader, m.lead_unit, "、".join(m.co_units), deadline, status,
                                m.progress)))
    return out


def write_print_book(ledger: Ledger, settings: Settings, assessment: Assessment) -> Path:
    """output/<期次>/台账打印版.xlsx, replaced only when its bytes changed (same content, same bytes), so a copy
    open in Excel is left alone on a run that changed nothing."""
    path = settings.path("output") / assessment.period / FILE_NAME
    fresh = build(ledger, settings, assessment, path.with_name(".~" + FILE_NAME))
    try:
        data = fresh.read_bytes()
    finally:
        fresh.unlink()
    if not path.exists() or path.read_bytes() != data:
        fileio.atomic_write_bytes(path, data)
    return path


def build(ledger: Ledger, settings: Settings, assessment: Assessment, path: Path) -> Path:
    """The print book written whole to path."""
    printed = rows(ledger, assessment)
    measures = [values for kind, values in printed if kind == "measure"]
    floors = sheets.print_floors(HEADERS, measures)
    for c in WHOLE:                # a date or a status split over two lines reads wrong
        lines = {line for v in measures for line in str(v[c - 1]).split("\n")}
        floors[c] = max([floors[c]] + [sheets.display_width(line) + 1.5 for line in lines])
    widths0 = {c: max(w, floors[c]) if c in WHOLE else w for c, w in WIDTHS.items()}
    fit = sheets.fit_print(widths0, len(HEADERS), floors, settings.print_paper)
    widths = [fit.widths[c] for c in range(1, len(HEADERS) + 1)]
    book = sheets.Book(path)
    try:
        ws = book.sheet(SHEET)
        sheets.set_widths(ws, fit.widths)
        title = f"{settings.title}（截至{normalize.format_date(assessment.reference_date)}）"
        book.title_row(ws, title, len(HEADERS), width=sum(widths))
        book.header_row(ws, 2, HEADERS)
        body = book.fmt("body")
        centred = book.fmt("body", align="center")
        heading = {"theme": book.fmt("body", bold=True, font_size=11, bg_color="#D9E1F2"),
                   "problem": book.fmt("body", bold=True, bg_color="#EDF1F9"),
                   "item": book.fmt("body", bg_color="#F7F9FC")}
        fmts = [centred if c in WHOLE else body for c in range(1, len(HEADERS) + 1)]
        book.rows(ws, 3, (values if kind == "measure" else sheets.Band(values[0], len(HEADERS), heading[kind])
                          for kind, values in printed), fmts, widths=widths)
        sheets.page_setup(ws, 2, len(HEADERS), 2 + len(printed), fit.paper)
        ws.freeze_panes(2, 0)
        return book.close()
    except BaseException:
        book.discard()
        raise
