"""`history --rebuild` gives the rows and the published figures of the live recording (issue 16, defect 2):
each archived file is replayed under the [review] setting it was taken in under, and the office's rows
(销号审核, 办公室修改) are applied between the files where they happened."""
import datetime as dt
import time
from dataclasses import replace

import openpyxl

from tests.conftest import hand_in
from tests.test_month_over_month import at, notice_text
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.io import history_db


def rows(s):
    with history_db.open_history(s) as db:
        return [(c.measure, c.unit, c.field, c.old, c.new, c.source, c.time, c.period) for c in db.changes()]


def hand_edit(s, mid, header, value):
    """The office types into the master's ledger sheet."""
    wb = openpyxl.load_workbook(s.master)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, cols[vocab.ID]).value == mid)
    ws.cell(row, cols[header]).value = value
    wb.save(s.master)


def test_a_rebuild_replays_each_period_under_its_own_review_setting_and_keeps_the_office_rows_in_place(workspace):
    s = workspace
    s = replace(s, notice_pdf=False)
    ws = Workspace(s)
    # June, review off: the hospital's 已完成 closes ZG-004 at once
    s = at(s, "2024-06", ws)
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, when=dt.datetime(2024, 6, 20, 10))
    ws.consolidate()
    # July, review on: 医政处 asks to close ZG-003; the office types a note, then returns the request
    s = ws.settings = replace(s, review_required=True)
    s = at(s, "2024-07", ws)
    hand_in(s, "医政处", {"ZG-003": {vocab.STATUS: "已完成", vocab.PROGRESS: "制度已印发"}},
            when=dt.datetime(2024, 7, 20, 9))
    ws.consolidate()
    hand_edit(s, "ZG-002", vocab.REMARK, "办公室已督办")
    ws.consolidate()
    ws.decide([("ZG-003", "")], vocab.REVIEW_RETURN, "请补充印发文件")
    # August: 医政处 asks again, in a file received after the return was taken in (a re-claim is told from
    # an older file by its time of receipt against that moment); September: the office agrees
    s = at(s, "2024-08", ws)
    time.sleep(1.1)
    hand_in(s, "医政处", {"ZG-003": {vocab.STATUS: "已完成", vocab.EVIDENCE: "印发文件"}},
            when=dt.datetime.now().replace(microsecond=0))
    ws.consolidate()
    s = at(s, "2024-09", ws)
    ws.decide([("ZG-003", "")], vocab.REVIEW_APPROVE)
    live, notice = rows(s), notice_text(s)

    rebuilt, notes = ws.history(rebuild=True)
    assert rows(s) == live and rebuilt == len(live) and notes == []
    assert notice_text(s) == notice
    assert not [r for r in live if r[2] == vocab.REVIEW_FIELD and r[7] == "2024-06"]     # review was off in June
    story = [(r[4], r[5] == vocab.SOURCE_REVIEW) for r in live if r[0] == "ZG-003" and r[2] == vocab.REVIEW_FIELD]
    assert story == [(vocab.APPLIED_CLOSE, False), (f"{vocab.REVIEW_RETURN}：请补充印发文件", True),
                     (vocab.APPLIED_CLOSE, False), (vocab.CLOSED, True)]
    assert ws.history(rebuild=True)[0] == len(live) and rows(s) == live        # a second rebuild: the same


def test_a_rebuild_without_the_database_says_which_files_it_replayed_under_todays_setting(workspace):
    s = workspace
    ws = Workspace(s)
    s = at(s, "2024-06", ws)
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, when=dt.datetime(2024, 6, 20, 10))
    ws.consolidate()                                   # review off
    s = ws.settings = replace(s, review_required=True)
    history_db.db_path(s).rename(s.root / "history.old")
    rebuilt, notes = ws.history(rebuild=True)
    assert rebuilt and len(notes) == 1
    assert notes[0].startswith("提示：市人民医院报送的“市人民医院.xlsx”（2024-06期）：变更记录中没有它的记录，按当前配置（销号审核已启用）重放")
