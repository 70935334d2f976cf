"""The master's working sheets other than the ledger and statistics: 逾期清单, 销号审核, and the live
highlighting and dropdowns they carry (conditional formats against the 基准日期 name)."""
from __future__ import annotations

from pathlib import Path

from .. import vocab
from ..assessment import Assessment
from ..model import Ledger
from ..rules import normalize
from . import sheets
from .evidence import stored_files

RED, AMBER, GREEN = "#FFC7CE", "#FFEB9C", "#C6EFCE"


def highlight(book, ws, first_row: int, last_row: int, last_col: int, status_col: int,
              due_col: int, remind_col: int) -> None:
    """Red overdue, amber due soon, green done: live formulas against the 基准日期 name."""
    s = f"${sheets.col_letter(status_col)}{first_row}"
    d = f"${sheets.col_letter(due_col)}{first_row}"
    r = f"${sheets.col_letter(remind_col)}{first_row}"
    ref = vocab.NAME_REF_DATE
    rules = [(f'={s}="{vocab.DONE}"', GREEN, None),
             (f'=AND(ISNUMBER({d}),{d}<{ref},{s}<>"{vocab.DONE}")', RED, "#9C0006"),
             (f'=AND(ISNUMBER({r}),{ref}>={r},{ref}<={d},{s}<>"{vocab.DONE}")', AMBER, None)]
    for formula, fill, font in rules:
        fmt = book.wb.add_format({"bg_color": fill, **({"font_color": font} if font else {})})
        ws.conditional_format(first_row - 1, 0, max(last_row, first_row) - 1, last_col - 1,
                              {"type": "formula", "criteria": formula, "format": fmt, "stop_if_true": True})


def status_dropdown(ws, col: int, first_row: int, last_row: int) -> None:
    """The 完成情况 dropdown, with a Chinese message for anything else typed."""
    ws.data_validation(first_row - 1, col - 1, max(last_row, first_row) - 1, col - 1, {
        "validate": "list", "source": list(vocab.STATUSES), "ignore_blank": True,
        "input_title": "完成情况", "input_message": "请选择：" + "、".join(vocab.STATUSES),
        "error_title": "完成情况", "error_message": "请从下拉列表中选择：" + "、".join(vocab.STATUSES)})


def number_validation(ws, col: int, header: str, first_row: int, last_row: int) -> None:
    """A number column (整改金额, 万元): only a number of zero or more, with a Chinese message for anything else."""
    ws.data_validation(first_row - 1, col - 1, max(last_row, first_row) - 1, col - 1, {
        "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
        "input_title": header, "input_message": "请填写以万元为单位的数字",
        "error_title": header, "error_message": "请填写以万元为单位的数字（如 12.5），或留空"})


def days_overdue_formula(row: int, due_col: int, status_col: int, value=None) -> str:
    d = f"{sheets.col_letter(due_col)}{row}"
    s = f"{sheets.col_letter(status_col)}{row}"
    ref = vocab.NAME_REF_DATE
    return sheets.Formula(f'=IF(AND(ISNUMBER({d}),{d}<{ref},{s}<>"{vocab.DONE}"),{ref}-{d},"")', value)


def overdue_table(assessment: Assessment) -> sheets.Table:
    """逾期清单: overdue rows with unit, leader, calendar and working days overdue."""
    rows = []
    for r in assessment.overdue:
        m = r.measure
        rows.append([m.id, m.lead_unit, "、".join(m.co_units), m.leader, m.key_problem, m.item, m.measure,
                     m.deadline, r.due, m.status, r.days, r.workdays])
    headers = [vocab.ID, vocab.LEAD_UNIT, vocab.CO_UNITS, vocab.LEADER, vocab.KEY_PROBLEM, vocab.ITEM,
               vocab.MEASURE, vocab.DEADLINE, vocab.DUE_DATE, vocab.STATUS, "逾期天数（自然日）", "逾期天数（工作日）"]
    title = f"逾期清单（基准日期 {normalize.format_date(assessment.reference_date)}，共{len(rows)}条）"
    return sheets.Table(title, headers, rows, {vocab.KEY_PROBLEM: 24, vocab.ITEM: 24, vocab.MEASURE: 40})


def review_table(ledger: Ledger, stored: dict[str, dict[str, Path]] | None = None) -> sheets.Table:
    """销号审核: pending requests first, then the decided ones, each in the order they were made; the 佐证
    cell adds the evidence files stored for the unit's measure (stored: {编号: {单位: folder}}), which the
    office looks at when deciding (read back without them: ledger_file.parse_reviews)."""
    order = {vocab.REVIEW_PENDING: 0, vocab.REVIEW_RETURNED: 1, vocab.CLOSED: 2}
    rows = []
    for r in sorted(ledger.reviews.values(), key=lambda r: order[r.state]):
        row = r.values()
        folder = (stored or {}).get(r.measure_id, {}).get(r.unit)
        files = stored_files(folder) if folder else []
        if files:
            shown = "、".join(files[:5]) + (f"等{len(files)}个" if len(files) > 5 else "")
            row[3] = "；".join(filter(None, [r.evidence, f"{vocab.REVIEW_FILES_MARK}{shown}"]))
        rows.append(row)
    return sheets.Table(f"销号审核（单位报“{vocab.DONE}”后在此审核：在“{vocab.REVIEW_CONCLUSION}”列选择"
                        f"{'或'.join(vocab.REVIEW_CONCLUSIONS)}，退回时在“{vocab.REVIEW_OPINION}”写明需补充的材料；"
                        f"下次汇总时生效，“{vocab.REVIEW_STATE}”“{vocab.REVIEW_KEY}”由程序填写，请勿复制行）",
                        vocab.REVIEW_COLUMNS, rows,
                        {vocab.REVIEW_EVIDENCE: 30, vocab.REVIEW_OPINION: 40, vocab.REVIEW_APPLIED_AT: 12,
                         vocab.REVIEW_DECIDED_AT: 19, vocab.REVIEW_KEY: 18})


def conclusion_dropdown(ws, rows: int) -> None:
    """The 审核结论 dropdown of the 销号审核 sheet (data from row 3), room left for no new rows."""
    col = vocab.REVIEW_COLUMNS.index(vocab.REVIEW_CONCLUSION)
    words = vocab.REVIEW_CONCLUSIONS
    ws.data_validation(2, col, max(rows, 1) + 1, col, {
        "validate": "list", "source": list(words), "ignore_blank": True,
        "input_title": vocab.REVIEW_CONCLUSION, "input_message": "请选择：" + "、".join(words),
        "error_title": vocab.REVIEW_CONCLUSION, "error_message": "请从下拉列表中选择：" + "、".join(words)})
