"""An office hand edit in the master is recorded once as 办公室修改 by whichever write path reads it first
(刷新统计 on the file or in Excel, 汇总), and the toolkit's own writes are not taken for one (issue 16,
defect 3): next period's month-over-month figure depends on it."""
import datetime as dt
import os
import zipfile
from dataclasses import replace

from tests.conftest import fill, hand_in
from tests.test_history_rebuild import hand_edit
from tests.test_month_over_month import at, notice_text
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.distribute import distribute
from toolkit.io import history_db, master_file
from toolkit.io.ledger_file import read_ledger


def office_rows(s):
    with history_db.open_history(s) as db:
        return [(c.measure, c.unit, c.field, c.old, c.new, c.period) for c in db.changes()
                if c.source == vocab.SOURCE_OFFICE]


def started(s):
    """August: 市人民医院 reports ZG-004 under way; the history holds the initial import and that file."""
    s = at(replace(s, notice_pdf=False), "2024-08")
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "推进中"}})
    Workspace(s).consolidate()
    return Workspace(s)


def test_a_hand_edit_read_by_refresh_master_is_recorded_once_and_next_month_compares_with_it(workspace):
    ws = started(workspace)
    s = ws.settings
    hand_edit(s, "ZG-004", vocab.STATUS, vocab.DONE)
    ws.refresh_master()
    edit = [("ZG-004", "", vocab.STATUS, vocab.IN_PROGRESS, vocab.DONE, "2024-08")]
    assert office_rows(s) == edit
    s = at(s, "2024-09", ws)                      # nothing changes in September
    ws.refresh_master()
    ws.consolidate()
    assert office_rows(s) == edit
    assert "与上月持平" in notice_text(s)


def test_a_hand_edit_read_by_the_excel_refresh_button_counts_once_the_book_is_saved(workspace):
    ws = started(workspace)
    s = ws.settings
    hand_edit(s, "ZG-004", vocab.STATUS, vocab.DONE)
    ledger = read_ledger(s.master, s)
    ws.refresh(ledger, lambda assessment: None)                      # refreshed, never saved
    assert office_rows(s) == []
    ws.refresh(ledger, lambda assessment: master_file.write_master(ledger, s, assessment))   # saved
    edit = [("ZG-004", "", vocab.STATUS, vocab.IN_PROGRESS, vocab.DONE, "2024-08")]
    assert office_rows(s) == edit
    ws.consolidate()
    ws.refresh_master()
    assert office_rows(s) == edit


def test_the_evidence_link_the_toolkit_writes_into_a_blank_cell_is_not_an_office_edit(workspace):
    s = at(workspace, "2024-08")
    (d,) = distribute(s, ["市人民医院"])
    book = fill(d.path, {"ZG-004": {vocab.STATUS: "推进中", vocab.EVIDENCE: None}}, s.root / "filled.xlsx")
    target = s.path("inbox") / "市人民医院佐证.zip"
    with zipfile.ZipFile(target, "w") as zf:
        zf.write(book, "市人民医院.xlsx")
        zf.writestr("ZG-004/整改通知.pdf", b"%PDF-1.4 notice")
    when = dt.datetime(2024, 8, 20, 10).timestamp()
    os.utime(target, (when, when))
    ws = Workspace(s)
    ws.consolidate()
    ws.refresh_master()
    hand_edit(s, "ZG-001", vocab.REMARK, "已督办")
    ws.consolidate()
    assert office_rows(s) == [("ZG-001", "", vocab.REMARK, "", "已督办", "2024-08")]
