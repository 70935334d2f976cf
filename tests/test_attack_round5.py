"""Round five of the independent attack: office ledgers kept in ways earlier rounds did not build (a deadline
month that does not exist, a two-row header whose labels are fields, formulas saved without results); one test
per defect found, each on a real file and with the figures counted here from the file itself."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from tests.office_books import office_workbook
from tests.test_office_ledgers import SEED_FIGURES, paragraph
from tests.test_office_ledgers_round3 import edit, header_cols
from toolkit import check, demo, vocab
from toolkit.errors import LedgerError
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import normalize

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装")


@pytest.fixture(scope="module")
def seed_book(tmp_path_factory):
    """The seed ledger as an office writes it: two title rows, 序号, header variants, header on row 3."""
    return office_workbook(tmp_path_factory.mktemp("seed") / "plain.xlsx", demo.seed_ledger())


# ---------------------------------------------------------------- a deadline month that does not exist

@pytest.mark.parametrize("typed", ["2024.13", "2024年13月", "2024年0月", "2024-00", "2024年13月底"])
def test_a_deadline_month_that_does_not_exist_is_refused_not_rolled_into_the_next_year(typed):
    """`2024.13` (a dot lost from 2024.1.3) was read as 2025-01-31: a deadline nobody wrote, silently."""
    with pytest.raises(ValueError):
        normalize.deadline(typed)


def test_a_ledger_deadline_typed_2024_13_stops_the_read_naming_its_cell(seed_book, tmp_path):
    where = {}

    def change(wb, ws, h):
        c = h["完成\n时间"]
        r = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, h["完成情况"]).value != vocab.DONE)
        ws.cell(r, c).value = "2024.13"
        where["cell"] = f"{openpyxl.utils.get_column_letter(c)}{r}"
    book = edit(seed_book, tmp_path / "month13.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert f"（{where['cell']}）" in str(exc.value) and "2024.13" in str(exc.value)
    assert not check.check(book, demo.demo_settings(tmp_path)).ok


# ---------------------------------------------------------------- a group header over two unit columns

def grouped_units(wb, ws, h):
    """责任单位 merged over 牵头单位 | 配合单位 on a second header row, every other header merged down two rows."""
    lead, co = h["责任单位"], h["配合单位"]
    assert co == lead + 1
    ws.insert_rows(4)
    for c in range(1, ws.max_column + 1):
        if c not in (lead, co):
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    ws.cell(3, lead, "责任单位")
    ws.cell(3, co).value = None
    ws.merge_cells(start_row=3, start_column=lead, end_row=3, end_column=co)
    ws.cell(4, lead, "牵头单位")
    ws.cell(4, co, "配合单位")


def test_a_responsibility_header_over_lead_and_co_units_reads_each_column_as_its_label(seed_book, tmp_path):
    """The commonest two-row header of all: 责任单位 over 牵头单位 | 配合单位. The run stopped saying both columns
    were 牵头单位 and told the office to delete or rename one of them — a fine column. Each label names its field."""
    book = edit(seed_book, tmp_path / "grouped.xlsx", grouped_units)
    text, ledger = paragraph(book, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text
    ws = openpyxl.load_workbook(book)[vocab.SHEET_LEDGER]
    ids = header_cols(ws)["编号"]
    lead, co = header_cols(ws, 4)["牵头单位"], header_cols(ws, 4)["配合单位"]
    for r in range(5, ws.max_row + 1):
        m = ledger.measures[ws.cell(r, ids).value]
        assert m.lead_unit == ws.cell(r, lead).value
        assert m.co_units == normalize.split_units(ws.cell(r, co).value)
    assert sum(1 for m in ledger.measures.values() if m.co_units) == sum(
        1 for r in range(5, ws.max_row + 1) if ws.cell(r, co).value)
    assert check.check(book, demo.demo_settings(tmp_path)).ok


# ---------------------------------------------------------------- formulas saved without their results

def status_formulas(wb, ws, h):
    """The 完成情况 of rows 4..19 as formulas (an export script, or openpyxl): saved without a result."""
    c = h["完成情况"]
    for r in range(4, 20):
        ws.cell(r, c).value = f'=IF(1=1,"{ws.cell(r, c).value}","")'


def test_status_formulas_saved_without_results_stop_the_read_naming_the_cells(seed_book, tmp_path):
    """calamine reads a formula without a saved result as a blank cell: 16 measures (14 of them 已完成) were
    counted 未启动 — 已完成220条 published instead of 234 — with only a note about blank cells."""
    book = edit(seed_book, tmp_path / "formulas.xlsx", status_formulas)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert exc.value.kind == "ledger-formulas-not-computed"
    assert exc.value.location.sheet == vocab.SHEET_LEDGER and exc.value.location.cell == "M4"
    assert "16个" in str(exc.value)
    report = check.check(book, demo.demo_settings(tmp_path))
    assert not report.ok and any("M4" in p for p in report.problems)


@needs_lo
def test_the_same_formulas_saved_with_their_results_publish_the_seed_figures(seed_book, tmp_path):
    book = edit(seed_book, tmp_path / "formulas.xlsx", status_formulas)
    calculated = office.convert(book, "xlsx", tmp_path / "lo", recalc=True)
    text, ledger = paragraph(calculated, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text
    assert len(ledger.measures) == 263


def test_our_own_helper_formulas_without_results_do_not_stop_the_read(tmp_path):
    """A master the toolkit wrote, then saved by a program that drops results (openpyxl): 逾期天数 is ours and
    recomputed on each run, so it never stops the read."""
    from tests.conftest import settings_for, small_ledger
    from toolkit.io import master_file
    settings = settings_for(tmp_path)
    master_file.write_master(small_ledger(), settings)
    wb = openpyxl.load_workbook(settings.master)
    wb.save(settings.master)
    ledger = read_ledger(settings.master, settings)
    assert len(ledger.measures) == 6 and ledger.measures["ZG-005"].status == vocab.DONE


def test_a_date_deadline_formula_without_a_result_is_not_read_as_an_empty_deadline(seed_book, tmp_path):
    def change(wb, ws, h):
        ws.cell(5, h["完成\n时间"]).value = "=DATE(2024,6,30)"
    book = edit(seed_book, tmp_path / "date.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    letter = openpyxl.utils.get_column_letter(header_cols(openpyxl.load_workbook(book)[vocab.SHEET_LEDGER])["完成\n时间"])
    assert exc.value.kind == "ledger-formulas-not-computed" and exc.value.location.cell == f"{letter}5"
    assert "为空" not in str(exc.value)


# ---------------------------------------------------------------- a hidden 方面 sheet

def test_a_hidden_sheet_of_its_own_measures_stops_instead_of_publishing_without_them(seed_book, tmp_path):
    """One sheet per 方面, the finished fourth one hidden: it was taken for an old copy and left out, and the run
    published 重点问题12个 … 整改措施232条 (the seed has 14 and 263) with check saying all was well."""
    from tests.test_read_account import split_by_theme
    split_by_theme(seed_book, tmp_path / "split.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "split.xlsx")
    hidden = wb[wb.sheetnames[3]]
    hidden.sheet_state = "hidden"
    own = [hidden.cell(r, 2).value for r in range(4, hidden.max_row + 1) if hidden.cell(r, 2).value]
    wb.save(tmp_path / "hidden.xlsx")
    with pytest.raises(LedgerError) as exc:
        read_ledger(tmp_path / "hidden.xlsx", demo.demo_settings(tmp_path))
    assert exc.value.kind == "ledger-hidden-sheet-with-other-measures"
    assert (exc.value.location.sheet, exc.value.location.cell) == (hidden.title, "B4")
    assert f"{len(own)}条措施" in str(exc.value) and f"“{own[0]}”" in str(exc.value)
    report = check.check(tmp_path / "hidden.xlsx", demo.demo_settings(tmp_path))
    assert not report.ok and any(hidden.title in p for p in report.problems)


# ---------------------------------------------------------------- co-owner cells with 等 and joining marks

@pytest.mark.parametrize("typed, unit", [("医政处、市人民医院等", "市人民医院等"), ("医政处 等", "等")])
def test_a_co_owner_cell_ending_in_etc_stops_naming_the_cell_instead_of_making_a_unit(seed_book, tmp_path, typed, unit):
    """`医政处 等` made a 34th unit named 等 (and `市人民医院等` one named so), each with its own template, listed
    among the units that had not reported, with check saying all was well."""
    def change(wb, ws, h):
        ws.cell(10, h["配合单位"]).value = typed
    book = edit(seed_book, tmp_path / "etc.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    letter = openpyxl.utils.get_column_letter(header_cols(openpyxl.load_workbook(book)[vocab.SHEET_LEDGER])["配合单位"])
    assert f"（{letter}10）“{unit}”是对多个单位的统称" in str(exc.value)
    assert not check.check(book, demo.demo_settings(tmp_path)).ok


def test_a_joining_mark_between_two_co_owners_is_no_unit(seed_book, tmp_path):
    """`医政处 & 市人民医院` made a unit named `&`."""
    def change(wb, ws, h):
        ws.cell(10, h["配合单位"]).value = "医政处 & 市人民医院"
    book = edit(seed_book, tmp_path / "amp.xlsx", change)
    text, ledger = paragraph(book, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text
    mid = openpyxl.load_workbook(book)[vocab.SHEET_LEDGER].cell(10, 2).value
    assert ledger.measures[mid].co_units == ["医政处", "市人民医院"]
    assert sorted(ledger.units) == sorted(read_ledger(seed_book).units) and len(ledger.units) == 33


# ---------------------------------------------------------------- an .ods master with merged cells

def merged_status(wb, ws, h):
    """完成情况 merged over each run of rows of one 事项 with one status, as offices merge it."""
    c, item = h["完成情况"], h["事项"]
    r = 4
    while r < ws.max_row:
        e = r
        while e < ws.max_row and ws.cell(e + 1, c).value == ws.cell(r, c).value \
                and ws.cell(e + 1, item).value == ws.cell(r, item).value:
            e += 1
        if e > r:
            for x in range(r + 1, e + 1):
                ws.cell(x, c).value = None
            ws.merge_cells(start_row=r, start_column=c, end_row=e, end_column=c)
        r = e + 1


@needs_lo
def test_an_ods_master_with_merged_status_cells_publishes_the_seed_figures(seed_book, tmp_path):
    """calamine reports no merged cells of an .ods: each merged 完成情况 was read on its first row only, the
    others blank — 已完成104条 … 尚未启动137条 published for the seed's 已完成234条, with only a note about blanks."""
    book = edit(seed_book, tmp_path / "merged.xlsx", merged_status)
    assert len(openpyxl.load_workbook(book)[vocab.SHEET_LEDGER].merged_cells.ranges) > 50
    saved = office.convert(book, "ods", tmp_path / "ods")
    text, ledger = paragraph(saved, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text
    assert sum(m.status == vocab.DONE for m in ledger.measures.values()) == 234
    assert not any("空白单元格" in n for n in ledger.read_notes)
    assert ledger.layout.merged


@needs_lo
def test_a_unit_workbook_saved_as_ods_with_a_merged_status_is_read_as_the_xlsx_is(workspace):
    """The same merged 完成情况 was read for both rows from an .xlsx, but from an .ods the second row was blank
    and refused (完成情况为空, 部分采纳)."""
    import os
    import shutil

    from toolkit.app import Workspace
    from toolkit.distribute import distribute
    (d,) = distribute(workspace, ["办公室"])
    wb = openpyxl.load_workbook(d.path)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, cols[vocab.ID]).value: r for r in range(3, ws.max_row + 1)}
    assert rows["ZG-005"] == rows["ZG-001"] + 1
    ws.protection.sheet = False               # the unit lifted the protection to merge
    ws.cell(rows["ZG-001"], cols[vocab.STATUS]).value = vocab.MOSTLY_DONE
    ws.merge_cells(start_row=rows["ZG-001"], start_column=cols[vocab.STATUS], end_row=rows["ZG-005"],
                   end_column=cols[vocab.STATUS])
    wb.save(workspace.root / "merged.xlsx")
    saved = office.convert(workspace.root / "merged.xlsx", "ods", workspace.root / "ods")
    target = workspace.path("inbox") / "办公室.ods"
    shutil.copy(saved, target)
    when = dt.datetime(2024, 8, 20, 10, 0).timestamp()
    os.utime(target, (when, when))
    result = Workspace(workspace).consolidate()
    (outcome,) = result.files
    assert outcome.outcome == vocab.OUTCOME_ACCEPTED and outcome.submission.problems == []
    ms = read_ledger(workspace.master).measures
    assert (ms["ZG-001"].status, ms["ZG-005"].status) == (vocab.MOSTLY_DONE, vocab.MOSTLY_DONE)


# ---------------------------------------------------------------- the proposal list opened in Excel or WPS

def late_hostile_workspace(root):
    """The small workspace with ZG-001 (overdue) led by `=市急救中心` under the id `=1+1`."""
    from dataclasses import replace

    from tests.conftest import settings_for, small_ledger
    from toolkit.io import master_file
    from toolkit.io.ledger_file import owners_from_measures
    settings = replace(settings_for(root), settle_seconds=0)
    ledger = small_ledger()
    ledger.measures = {("=1+1" if k == "ZG-001" else k): (replace(m, id="=1+1", lead_unit="=市急救中心")
                                                         if k == "ZG-001" else m) for k, m in ledger.measures.items()}
    ledger.owners = owners_from_measures(ledger.measures)
    master_file.write_master(ledger, settings)
    settings.path("inbox").mkdir(parents=True)
    return settings


def test_the_proposal_list_csv_keeps_a_unit_name_and_an_id_that_look_like_formulas_as_text(tmp_path):
    """拟发清单.csv (written for Excel and WPS to open) held `=市急救中心` and `=1+1` bare: Excel runs them as
    formulas (#NAME?, 2). Each such text cell carries the apostrophe that marks it as text."""
    import csv

    from toolkit.app import Workspace
    settings = late_hostile_workspace(tmp_path)
    Workspace(settings).run_once()
    path = next(tmp_path.rglob("拟发清单.csv"))
    rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    mine = [r for r in rows[1:] if r[0].endswith("=市急救中心")]
    assert mine and all(r[0] == "'=市急救中心" and r[1] == "'=1+1" for r in mine)
    assert not any(c.startswith(("=", "+", "@")) for r in rows for c in r)
    assert all(r[6].lstrip("-").isdigit() for r in rows[1:])          # 逾期工作日 (−2: due in two days) stays a number


@needs_lo
def test_libreoffice_opens_the_proposal_list_without_a_formula(tmp_path):
    from toolkit.app import Workspace
    settings = late_hostile_workspace(tmp_path)
    Workspace(settings).run_once()
    path = next(tmp_path.rglob("拟发清单.csv"))
    opened = office.convert(path, "xlsx", tmp_path / "lo", infilter="CSV:44,34,76")
    ws = openpyxl.load_workbook(opened).active
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert any("=市急救中心" in str(c.value) for row in ws.iter_rows() for c in row)


# ---------------------------------------------------------------- the office's judgments (问题研判)

def judged_master(tmp_path, edits):
    """The seed ledger written as our master, with the office's judgments typed into 问题研判 (row: values)."""
    from toolkit.io import master_file
    settings = demo.demo_settings(tmp_path)
    master_file.write_master(demo.seed_ledger(), settings)
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_JUDGMENT]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    for row, values in edits.items():
        for header, value in values.items():
            ws.cell(row, cols[header]).value = value if value is not None else ws.cell(row, cols[header]).value
    wb.save(settings.master)
    return settings, cols


def test_a_judgment_the_toolkit_cannot_read_stops_naming_its_cell_instead_of_being_dropped(tmp_path):
    """`已完成（经党委会研究）` pasted into 办公室研判 (past the dropdown) was dropped without a word: the computed
    status was published for that 重点问题 (已完成整改8个 where the office had judged 9), check said all was well."""
    settings, cols = judged_master(tmp_path, {3: {vocab.JUDGMENT: "已完成（经党委会研究）"}, 4: {vocab.JUDGMENT: "已完成"}})
    letter = openpyxl.utils.get_column_letter(cols[vocab.JUDGMENT])
    with pytest.raises(LedgerError) as exc:
        read_ledger(settings.master, settings)
    assert f"工作表“{vocab.SHEET_JUDGMENT}”第3行" in str(exc.value) and f"（{letter}3）“已完成（经党委会研究）”" in str(exc.value)
    assert "第4行" not in str(exc.value)
    report = check.check(settings.master, settings)
    assert not report.ok and any(f"{letter}3" in p for p in report.problems)


def test_a_judgment_of_a_problem_the_ledger_no_longer_has_stops_naming_its_cell(tmp_path):
    """A judgment whose 重点问题 was typed with a full-width comma (or renamed in the ledger since) judged nothing,
    silently."""
    settings, cols = judged_master(tmp_path, {3: {vocab.JUDGMENT: "已完成"}})
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_JUDGMENT]
    key = ws.cell(3, cols[vocab.KEY_PROBLEM])
    assert "," in key.value
    key.value = key.value.replace(",", "，")
    wb.save(settings.master)
    with pytest.raises(LedgerError) as exc:
        read_ledger(settings.master, settings)
    assert f"工作表“{vocab.SHEET_JUDGMENT}”第3行" in str(exc.value) and "在台账中没有" in str(exc.value)


def test_readable_judgments_still_win_over_the_computed_status(tmp_path):
    settings, _ = judged_master(tmp_path, {3: {vocab.JUDGMENT: "已完成"}, 4: {vocab.JUDGMENT: "已完成。"}})
    text, ledger = paragraph(settings.master, settings)
    assert len(ledger.judgments) == 2 and "重点问题14个，目前已完成整改9个，基本完成5个" in text


def test_a_units_status_corrected_in_the_owner_sheet_to_no_status_word_stops_naming_its_cell(tmp_path):
    """单位填报明细 is read: 已完成 typed there for 市人民医院 on ZG-002 counts for it. `已完成（待核）` was dropped
    without a word and the unit's earlier 正在推进 counted in its published figures."""
    from tests.conftest import settings_for, small_ledger
    from toolkit.io import master_file
    from toolkit.rules.stats import summarise

    def owner_status(word):
        settings = settings_for(tmp_path / word)
        master_file.write_master(small_ledger(), settings)
        wb = openpyxl.load_workbook(settings.master)
        ws = wb[vocab.SHEET_OWNERS]
        cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
        (row,) = [r for r in range(3, ws.max_row + 1) if (ws.cell(r, cols[vocab.ID]).value,
                                                            ws.cell(r, cols[vocab.OWNER_UNIT]).value) == ("ZG-002", "市人民医院")]
        ws.cell(row, cols[vocab.STATUS]).value = word
        wb.save(settings.master)
        return settings, f"{openpyxl.utils.get_column_letter(cols[vocab.STATUS])}{row}"

    settings, _ = owner_status(vocab.DONE)
    ledger = read_ledger(settings.master, settings)
    assert summarise(ledger, settings, settings.today()).by_unit["市人民医院"].done == 1
    settings, cell = owner_status("已完成（待核）")
    with pytest.raises(LedgerError) as exc:
        read_ledger(settings.master, settings)
    assert f"工作表“{vocab.SHEET_OWNERS}”" in str(exc.value) and f"（{cell}）“已完成（待核）”" in str(exc.value)


# ---------------------------------------------------------------- a merge that spans two blocks

def test_a_merged_item_spanning_two_key_problems_stops_instead_of_counting_a_46th_item(tmp_path):
    """The 重点问题 merge of the first problem dragged one row too far (D4:D21, the next problem's first row): its
    merged 事项 (E21:E22) then sat under two 重点问题 and was counted twice — 具体问题46个 published for 45."""
    book = office_workbook(tmp_path / "merged.xlsx", demo.seed_ledger(), merge=vocab.MERGE_FILL_COLUMNS)

    def change(wb, ws, h):
        first, second = drag_key_problem_merge(ws, h)
        assert first.max_row + 1 == second.min_row
    book = edit(book, tmp_path / "overmerged.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert "“事项”列的合并单元格E21:E22跨了两个重点问题" in str(exc.value)
    assert not check.check(book, demo.demo_settings(tmp_path)).ok


# ---------------------------------------------------------------- a damaged sheet in the master

def test_a_damaged_office_sheet_in_the_master_stops_with_its_name_not_a_traceback(seed_book, tmp_path):
    """A 填表说明 sheet whose XML was cut short (an interrupted copy): `nightly` ended in a python_calamine
    XmlError traceback. The run now names the sheet, and the file is left as it was."""
    import os
    import subprocess
    import sys
    import zipfile
    from pathlib import Path
    wb = openpyxl.load_workbook(seed_book)
    note = wb.create_sheet("填表说明")
    for i in range(50):
        note.append([f"说明{i}", i])
    wb.save(tmp_path / "whole.xlsx")
    book = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(tmp_path / "whole.xlsx") as zin, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, data[:len(data) // 2] if info.filename == "xl/worksheets/sheet2.xml" else data)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert exc.value.kind == "ledger-sheet-unreadable" and exc.value.location.sheet == "填表说明"
    root = tmp_path / "ws"
    (root / "master").mkdir(parents=True)
    (root / "config.toml").write_text('title = "巡视整改"\nperiod = "2024-08"\nreference_date = "2024-08-31"\n'
                                      'notice_pdf = false\n', encoding="utf-8")
    master = root / "master" / "整改台账.xlsx"
    master.write_bytes(book.read_bytes())
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "toolkit", "nightly", "-c", str(root)], capture_output=True, text=True,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)})
    assert done.returncode != 0 and "Traceback" not in done.stdout + done.stderr
    assert "“填表说明”已损坏" in done.stdout + done.stderr
    assert master.read_bytes() == book.read_bytes()


# ---------------------------------------------------------------- a damaged row of the history database

def test_a_notices_row_with_an_unreadable_date_does_not_end_the_night_in_a_traceback(workspace):
    """One row of the 督办梯次 record typed by hand (8月20日): that row is left out and said in the run report; the
    night goes on with every other record (it ended in a ValueError traceback after the master was written)."""
    import sqlite3

    from tests.conftest import hand_in
    from toolkit.app import Workspace
    from toolkit.io import history_db
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第一次"}})
    Workspace(workspace).consolidate()
    with sqlite3.connect(history_db.db_path(workspace)) as conn:     # one row edited by hand in a database viewer
        conn.execute("INSERT INTO notices (measure, unit, rung, number, day, issuer, sequence, due, status, progress, "
                     "period, year, serial, time) VALUES ('ZG-001', '办公室', '督办单', '督〔2024〕1号', '8月20日', "
                     "'某委', 1, '2024-06-30', '正在推进', '', '2024-08', '2024', 1, '2024-08-20T10:00:00')")
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "第二次"}})
    report = Workspace(workspace).run_once()
    assert report.consolidation.count(vocab.OUTCOME_ACCEPTED) == 1 and report.notices
    assert any("8月20日" in w for w in report.warnings)


def test_a_key_problem_merge_that_cuts_an_item_typed_on_each_row_stops_instead_of_counting_it_twice(tmp_path):
    """The same dragged 重点问题 merge with 事项 typed on every row (not merged): its first row went to the first
    problem, the rest to the second — 具体问题46个 published for 45, nothing said."""
    book = office_workbook(tmp_path / "merged.xlsx", demo.seed_ledger(), merge=[vocab.THEME, vocab.KEY_PROBLEM])
    cut = {}

    def change(wb, ws, h):
        first, second = drag_key_problem_merge(ws, h)
        item = h["事项"]
        assert ws.cell(second.min_row, item).value == ws.cell(second.min_row + 1, item).value
        c = openpyxl.utils.get_column_letter(h["重点问题"])
        cut["range"] = f"{c}{first.min_row}:{c}{first.max_row + 1}"
    book = edit(book, tmp_path / "cut.xlsx", change)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book, demo.demo_settings(tmp_path))
    assert f"“重点问题”列的合并单元格{cut['range']}把事项" in str(exc.value) and "分到了两个重点问题下" in str(exc.value)
    assert str(exc.value).count("分到了两个重点问题下") == 1


def drag_key_problem_merge(ws, h):
    """Drag the first 重点问题 merge one row too far (into the second problem's first row), as a careless office does;
    the two ranges as they were."""
    c = h["重点问题"]
    first, second = sorted((r for r in ws.merged_cells.ranges if r.min_col == r.max_col == c), key=lambda r: r.min_row)[:2]
    ws.unmerge_cells(str(first))
    ws.unmerge_cells(str(second))
    ws.cell(second.min_row + 1, c).value = ws.cell(second.min_row, c).value
    ws.cell(second.min_row, c).value = None
    ws.merge_cells(start_row=first.min_row, start_column=c, end_row=first.max_row + 1, end_column=c)
    ws.merge_cells(start_row=second.min_row + 1, start_column=c, end_row=second.max_row, end_column=c)
    return first, second
