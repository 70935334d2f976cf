"""Ledgers built the way offices build them: openpyxl, a merged title row, their own header words,
hierarchy cells merged vertically."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from toolkit import vocab
from toolkit.model import Ledger

# The header words one office really uses (line breaks and quotes included).
OFFICE_HEADERS = {vocab.ID: "编号", vocab.THEME: "主题", vocab.KEY_PROBLEM: "重点问题", vocab.ITEM: "事项",
                  vocab.ITEM_TYPE: "事项\n类型", vocab.REFORM: "“推动改革促进发展”", vocab.MEASURE: "整改措施",
                  vocab.LEADER: "责任领导", vocab.LEAD_UNIT: "责任单位", vocab.CO_UNITS: "配合单位",
                  vocab.DEADLINE: "完成\n时间", vocab.STATUS: "完成情况", vocab.PROGRESS: "进展情况",
                  vocab.EVIDENCE: "佐证材料", vocab.REMARK: "备 注"}


def office_workbook(path: Path, ledger: Ledger, merge: list[str] = (), headers: dict[str, str] | None = None,
                    title_rows: int = 2, row_numbers: bool = True, drop: list[str] = (),
                    reform_mark: str = vocab.YES) -> Path:
    """Write ledger as an office keeps it: title rows merged across, a 序号 column, header variants,
    the given columns merged vertically over runs of equal values."""
    headers = dict(OFFICE_HEADERS, **(headers or {}))
    names = [c for c in vocab.COLUMNS if c not in drop]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    width = len(names) + row_numbers
    for i in range(title_rows):
        ws.cell(i + 1, 1, ["市卫生健康委巡视整改工作台账", "(截至2024年8月)"][i % 2])
        ws.merge_cells(start_row=i + 1, start_column=1, end_row=i + 1, end_column=width)
    h = title_rows + 1
    first = 2 if row_numbers else 1
    if row_numbers:
        ws.cell(h, 1, "序号")
    for c, name in enumerate(names, first):
        ws.cell(h, c, headers[name])
    for r, m in enumerate(ledger.measures.values(), h + 1):
        values = dict(zip(vocab.COLUMNS, m.values()))
        values[vocab.REFORM] = reform_mark if m.reform else ""
        if row_numbers:
            ws.cell(r, 1, r - h)
        for c, name in enumerate(names, first):
            v = values[name]
            ws.cell(r, c, v if not isinstance(v, dt.date) else dt.datetime.combine(v, dt.time()))
    last = h + len(ledger.measures)
    for name in merge:
        c = first + names.index(name)
        r = h + 1
        while r <= last:
            e = r
            while e < last and ws.cell(e + 1, c).value == ws.cell(r, c).value:
                e += 1
            if e > r:
                ws.merge_cells(start_row=r, start_column=c, end_row=e, end_column=c)
            r = e + 1
    wb.save(path)
    return path
