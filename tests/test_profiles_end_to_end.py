"""Issue 24's "done when", for every built-in profile: its demo distributed, unit files handed in (hostile
ones too: a word the list doesn't know, merged cells, a blank cell, the list's own status words, a row that
is not the unit's), consolidated; the statistics sheet recalculated by LibreOffice from no cached values
equals Python's figures; notices and dashboard written; nothing says 巡视 unless the profile does."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.test_formulas_exact import formula_cells, needs_lo, same
from tests.test_profiles import output_texts
from tests.test_progress import strip_cached_values
from toolkit import profiles, vocab
from toolkit.app import Workspace
from toolkit.assessment import assess
from toolkit.demo import stage_demo
from toolkit.io import office, stats_sheet
from toolkit.io.ledger_file import read_ledger
from toolkit.profile_demo import stage_profile_demo

# per profile: a status word of the list's own (the default's synonyms for it) that a unit types, and the status
# it counts as: never 正在推进 or 未启动, so a row read wrongly keeps a status that tells
OWN_WORDS = {profiles.DEFAULT: ("完成整改", vocab.DONE), "审计整改": ("整改到位", vocab.DONE),
             "督查督办": ("基本办结", vocab.MOSTLY_DONE), "责任清单": ("已完成任务", vocab.DONE),
             "民主生活会整改": ("整改到位", vocab.DONE)}
UNKNOWN_WORD = "差不多了"


def staged(tmp_path: Path, profile: str) -> Workspace:
    """The profile's demo workspace, unit workbooks distributed, the demo's own returns in the inbox."""
    if profile == profiles.DEFAULT:
        workspace = Workspace(stage_demo(tmp_path / "demo"))
        workspace.distribute()
        return workspace
    return Workspace(stage_profile_demo(tmp_path / "demo", profile))


def silent_units(workspace: Workspace) -> list[Path]:
    """Distributed unit workbooks of units that sent nothing in the demo's inbox, leading units first."""
    inbox = [p.name for p in workspace.settings.path("inbox").iterdir()]
    outbox = sorted(workspace.outbox_folder().glob("*.xlsx"))
    return [p for p in outbox if not any(p.stem in name for name in inbox)]


def status_column(ws) -> tuple[int, dict[str, int]]:
    """(the 完成情况 column, {measure id: row}) of a unit workbook's ledger sheet."""
    head = {c.value: c.column for c in ws[2]}
    rows = {str(ws.cell(r, head[vocab.ID]).value): r for r in range(3, ws.max_row + 1) if ws.cell(r, head[vocab.ID]).value}
    return head[vocab.STATUS], rows


def open_rows(ws, col: int, rows: dict[str, int]) -> list[str]:
    """Measures the template shows 正在推进 or 未启动: a unit's report of them changes their status."""
    return [mid for mid, r in rows.items() if ws.cell(r, col).value in (vocab.IN_PROGRESS, vocab.NOT_STARTED)]


def hand_in_hostile_files(workspace: Workspace, profile: str) -> dict[str, object]:
    """Three hostile returns from units the demo left silent; what each row should become."""
    own, counted = OWN_WORDS[profile]
    inbox = workspace.settings.path("inbox")
    three, pairs = [], []          # units with an open measure and two more; with an open one below another
    for path in silent_units(workspace):
        ws = openpyxl.load_workbook(path)[vocab.SHEET_LEDGER]
        col, rows = status_column(ws)
        opened = [rows[mid] for mid in open_rows(ws, col, rows)]
        (three if opened and len(rows) >= 3 else []).append(path)
        (pairs if any(r - 1 in rows.values() for r in opened) else []).append(path)
    second_file = pairs[0]
    first_file = next(p for p in three if p != second_file)
    expect: dict[str, object] = {}

    # 1. the list's own word, a word it doesn't know, a blank status, and a row that is another unit's
    wb = openpyxl.load_workbook(first_file)
    ws = wb[vocab.SHEET_LEDGER]
    col, rows = status_column(ws)
    first = open_rows(ws, col, rows)[0]
    second, third = [mid for mid in rows if mid != first][:2]
    ws.cell(rows[first], col).value = own
    ws.cell(rows[second], col).value = UNKNOWN_WORD
    ws.cell(rows[third], col).value = None
    other = openpyxl.load_workbook(second_file)[vocab.SHEET_LEDGER]
    ocol, orows = status_column(other)
    foreign = next(mid for mid in orows if mid not in rows)
    extra = ws.max_row + 1
    for c in range(1, other.max_column + 1):
        ws.cell(extra, c).value = other.cell(orows[foreign], c).value
    ws.cell(extra, ocol).value = own
    wb.save(inbox / f"{first_file.stem}报送（有问题）.xlsx")
    expect.update(own=(first, first_file.stem, counted), unknown=(second, rows[second], first_file.stem),
                  blank=(third, rows[third]), foreign=(foreign, extra), hostile_file=f"{first_file.stem}报送（有问题）.xlsx")

    # 2. merged cells: two open rows' 完成情况 merged (the value sits in the first), title merged as sent
    wb = openpyxl.load_workbook(second_file)
    ws = wb[vocab.SHEET_LEDGER]
    col, rows = status_column(ws)
    a, b = next((x, y) for x in rows for y in open_rows(ws, col, rows) if rows[y] == rows[x] + 1)
    ws.cell(rows[a], col).value, ws.cell(rows[b], col).value = own, own
    if rows[b] == rows[a] + 1:
        ws.merge_cells(start_row=rows[a], start_column=col, end_row=rows[b], end_column=col)
    wb.save(inbox / f"{second_file.stem}报送（合并单元格）.xlsx")
    expect.update(merged=(a, b, second_file.stem, counted, rows[b] == rows[a] + 1))
    stamp = dt.datetime(2024, 8, 21, 9, 0).timestamp()       # handed in on time, long finished writing
    for path in inbox.glob("*（*）.xlsx"):
        os.utime(path, (stamp, stamp))
    return expect


def run(tmp_path: Path, profile: str):
    workspace = staged(tmp_path, profile)
    expect = hand_in_hostile_files(workspace, profile)
    report = workspace.run_once()
    return workspace, expect, report


@needs_lo
@pytest.mark.parametrize("profile", [profiles.DEFAULT, "审计整改", "督查督办", "责任清单", "民主生活会整改"],
                         ids=["default", "audit", "supervision", "duty", "life"])
def test_each_profile_runs_end_to_end_on_its_demo_with_hostile_unit_files(tmp_path, profile):
    workspace, expect, report = run(tmp_path, profile)
    settings = workspace.settings
    ledger = read_ledger(settings.master, settings.lexicon)
    result = report.consolidation
    hostile = next(f for f in result.files if f.submission.name == expect["hostile_file"])
    problems = hostile.submission.problems
    texts = [p.text() for p in problems]
    # the list's own word is read as the status it means
    mid, unit, counted = expect["own"]
    assert ledger.owners[(mid, unit)].status == counted, texts
    # a word the list doesn't know is refused naming file, sheet, row and column, and the row keeps its status
    mid, row, unit = expect["unknown"]
    assert any(p.row == row and p.column == vocab.STATUS and p.kind == "status-unknown"
               and p.params["value"] == UNKNOWN_WORD for p in problems), texts
    assert all(p.file == expect["hostile_file"] and p.sheet for p in problems), texts
    # a row that is not the unit's is named by its row, never silently merged
    foreign, extra = expect["foreign"]
    assert any(p.row == extra for p in problems), texts
    assert ledger.owners.get((foreign, unit)) is None
    # a blank status is named by its cell (the row keeps its status), never passed over in silence
    blank, row = expect["blank"]
    assert any(p.row == row and p.column == vocab.STATUS and p.kind == "status-empty" for p in problems), texts
    # merged cells: the merged 完成情况 counts for both rows it covers, and the receipt says so
    a, b, unit, counted, was_merged = expect["merged"]
    merged_file = next(f for f in result.files if "合并单元格" in f.submission.name)
    assert was_merged and merged_file.submission.problems == []
    assert (ledger.owners[(a, unit)].status, ledger.owners[(b, unit)].status) == (counted, counted)
    assert any("合并单元格" in n for n in merged_file.submission.notes)

    # the statistics, recalculated by LibreOffice from no cached values, equal Python's figures
    cached = formula_cells(settings.master)
    stats_cells = {k: v for k, v in cached.items() if k[0] == vocab.SHEET_STATS}
    assert len(stats_cells) > 50
    blank_book = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")
    again = openpyxl.load_workbook(office.convert(blank_book, "xlsx", tmp_path / "lo", recalc=True), data_only=True)
    wrong = {where: (value, again[where[0]][where[1]].value) for where, value in cached.items()
             if not same(value, again[where[0]][where[1]].value)}
    assert wrong == {}
    summary = assess(ledger, settings).summary
    rows = list(again[vocab.SHEET_STATS].iter_rows(values_only=True))
    total = next(r for r in rows if r and r[0] == stats_sheet.total_label(stats_sheet.labels(settings)))
    assert [int(v) for v in total[1:7]] == summary.measures.row()

    # notices and dashboard written; nothing says 巡视 in a list that isn't one
    written = {p.name for p in report.notices}
    assert {"进展通报.md", "进展通报.docx", "公开进展段落.txt", "看板.html"} <= written, sorted(written)
    if profile != profiles.DEFAULT:
        root = settings.master.parent.parent
        assert [str(p.relative_to(root)) for p, t in output_texts(root) if "巡视" in t] == []


@needs_lo
def test_audit_amounts_are_totalled_exactly_in_the_statistics_and_the_notice(tmp_path):
    workspace, _expect, report = run(tmp_path, "审计整改")
    settings = workspace.settings
    ws = openpyxl.load_workbook(settings.master)[vocab.SHEET_LEDGER]
    head = [c.value for c in ws[2]]
    due = done = Decimal(0)
    for r in ws.iter_rows(min_row=3, values_only=True):
        amount, status = r[head.index(vocab.AMOUNT)], r[head.index(vocab.STATUS)]
        if r[0] is not None and amount is not None:
            due += Decimal(repr(amount))
            done += Decimal(repr(amount)) if status == vocab.DONE else 0
    assert due > done > 0
    paragraph = next(p for p in report.notices if p.name == "公开进展段落.txt").read_text(encoding="utf-8")
    assert f"应整改金额{due:.2f}万元，已整改{done:.2f}万元" in paragraph
    notice = next(p for p in report.notices if p.name == "进展通报.md").read_text(encoding="utf-8")
    assert f"应整改金额{due:.2f}万元" in notice
    blank_book = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")
    again = openpyxl.load_workbook(office.convert(blank_book, "xlsx", tmp_path / "lo", recalc=True), data_only=True)
    rows = list(again[vocab.SHEET_STATS].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r[0] and "整改金额" in str(r[0]))
    assert rows[at + 1][:3] == ("名称", "应整改金额", "已整改金额")
    assert (rows[at + 2][0], Decimal(repr(rows[at + 2][1])), Decimal(repr(rows[at + 2][2]))) == ("合计", due, done)
    units = {r[0]: Decimal(repr(r[1])) for r in rows[at + 3:] if r and r[0]}
    assert sum(units.values()) == due and len(units) > 3
