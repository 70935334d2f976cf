import datetime as dt
import hashlib

import openpyxl
import pytest

from tests.conftest import hand_in, ledger_sheet
from toolkit import vocab
from toolkit.consolidate import consolidate
from toolkit.io.ledger_file import read_ledger


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_filled_workbook_is_merged_into_the_master(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "已印发方案", vocab.EVIDENCE: "某文〔2024〕1号"}})
    result = consolidate(workspace)
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    wb, ws, cols, rows = ledger_sheet(workspace.master)
    r = rows["ZG-001"]
    assert ws.cell(r, cols[vocab.STATUS]).value == vocab.DONE
    assert ws.cell(r, cols[vocab.PROGRESS]).value == "已印发方案"
    assert ws.cell(r, cols[vocab.EVIDENCE]).value == "某文〔2024〕1号"
    assert ws.cell(rows["ZG-005"], cols[vocab.STATUS]).value == vocab.DONE  # untouched rows stay


def test_processed_files_are_archived_untouched_and_leave_the_inbox(workspace):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    digest = sha(sent)
    result = consolidate(workspace)
    archived = result.files[0].archived
    assert archived.parent == workspace.path("archive") / "2024-08"
    assert archived.name.startswith("办公室_20240820-100000_") and digest[:12] in archived.name
    assert sha(archived) == digest
    assert not sent.exists()


def test_receipt_lists_what_was_accepted_and_where_each_problem_is(workspace):
    hand_in(workspace, "医政处", {"ZG-002": {vocab.STATUS: "差不多了"}, "ZG-003": {vocab.STATUS: "推进中"}})
    result = consolidate(workspace)
    (path,) = result.receipts
    assert path.parent == workspace.path("output") / "2024-08" / "回执" and path.name.startswith("医政处_20240820-100000_")
    receipt = path.read_text(encoding="utf-8")
    assert result.receipts and "部分采纳" in receipt and "采纳2条" in receipt
    # only the unreadable cell is refused: ZG-002's row is taken with its status unchanged
    assert "已汇总的措施：ZG-002（完成情况未改）、ZG-003（正在推进）" in receipt
    assert "本行进展等文字已采纳" in receipt
    assert "工作表“整改台账”第3行“完成情况”列（L3）" in receipt and "差不多了" in receipt
    assert "请从下拉列表选择" in receipt


def test_status_synonyms_spaces_and_retyped_dates_are_normalised(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: " 已整改 ", vocab.DEADLINE: "2024年6月30日"},
                               "ZG-005": {vocab.STATUS: "整改中"}})
    result = consolidate(workspace)
    assert result.files[0].outcome == vocab.OUTCOME_ACCEPTED
    ledger = read_ledger(workspace.master)
    assert ledger.measures["ZG-001"].status == vocab.DONE
    assert ledger.measures["ZG-005"].status == vocab.IN_PROGRESS


def test_blank_status_leaves_the_status_unchanged(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: None, vocab.PROGRESS: "已起草"}})
    consolidate(workspace)
    m = read_ledger(workspace.master).measures["ZG-001"]
    assert m.status == vocab.IN_PROGRESS and m.progress == "已起草"


def test_changed_locked_cells_are_tampering_and_never_merged(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.DEADLINE: dt.date(2025, 12, 31)},
                               "ZG-005": {vocab.STATUS: "已完成", vocab.PROGRESS: "好"}})
    result = consolidate(workspace)
    problems = result.files[0].submission.problems
    assert len(problems) == 1 and problems[0].row == 3 and problems[0].column == vocab.DEADLINE
    ledger = read_ledger(workspace.master)
    assert ledger.measures["ZG-001"].status == vocab.IN_PROGRESS
    assert ledger.measures["ZG-001"].deadline == dt.date(2024, 6, 30)
    assert ledger.measures["ZG-005"].progress == "好"


def test_a_unit_cannot_update_another_units_rows(workspace):
    from toolkit.distribute import distribute
    out = {d.unit: d.path for d in distribute(workspace)}
    wb = openpyxl.load_workbook(out["市人民医院"])
    ws = wb[vocab.SHEET_LEDGER]
    ws.cell(3, 1).value = "ZG-001"          # 办公室's measure, slipped into this unit's file
    wb.save(workspace.path("inbox") / "x.xlsx")
    result = consolidate(workspace)
    problem = result.files[0].submission.problems[0]
    assert problem.kind in ("row-not-own-measure", "row-locked-changed") and (problem.row, problem.column) == (3, vocab.ID)
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.IN_PROGRESS


def test_unknown_ids_are_errors(workspace):
    from toolkit.distribute import distribute
    out = {d.unit: d.path for d in distribute(workspace)}
    wb = openpyxl.load_workbook(out["办公室"])
    wb[vocab.SHEET_LEDGER].cell(3, 1).value = "ZG-999"
    wb.save(workspace.path("inbox") / "x.xlsx")
    problem = consolidate(workspace).files[0].submission.problems[0]
    assert problem.kind == "row-id-unknown" and problem.params == {"measure_id": "ZG-999"}
    assert (problem.sheet, problem.row, problem.column, problem.location.cell) == (vocab.SHEET_LEDGER, 3, vocab.ID, "A3")


def test_co_owned_measure_takes_the_least_advanced_owner_status(workspace):
    hand_in(workspace, "医政处", {"ZG-002": {vocab.STATUS: "已完成", vocab.PROGRESS: "医政处已完成"}})
    hand_in(workspace, "市人民医院", {"ZG-002": {vocab.STATUS: "正在推进", vocab.PROGRESS: "医院推进中"}})
    consolidate(workspace)
    ledger = read_ledger(workspace.master)
    m = ledger.measures["ZG-002"]
    assert m.status == vocab.IN_PROGRESS
    assert "【医政处】医政处已完成" in m.progress and "【市人民医院】医院推进中" in m.progress
    assert ledger.owners[("ZG-002", "医政处")].status == vocab.DONE
    assert ledger.owners[("ZG-002", "市人民医院")].status == vocab.IN_PROGRESS


def test_latest_submission_of_a_unit_wins_and_both_are_archived(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}, name="新.xlsx", when=dt.datetime(2024, 8, 21, 9))
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "未启动", vocab.PROGRESS: "旧"}}, name="旧.xlsx",
            when=dt.datetime(2024, 8, 20, 9))
    result = consolidate(workspace)
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE
    assert len({f.archived for f in result.files}) == 2
    # the older file arriving in a later run is archived but does not overwrite the newer one
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "未启动", vocab.PROGRESS: "更旧"}}, name="更旧.xlsx",
            when=dt.datetime(2024, 8, 19, 9))
    late = consolidate(workspace)
    assert late.files[0].outcome == vocab.OUTCOME_SUPERSEDED
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE


def test_running_twice_changes_nothing(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    consolidate(workspace)
    before = sha(workspace.master)
    backups = sorted(workspace.path("backup").iterdir())
    again = consolidate(workspace)
    assert not again.master_changed and again.files == []
    assert sha(workspace.master) == before
    assert sorted(workspace.path("backup").iterdir()) == backups


def test_resubmitting_the_same_file_changes_nothing(workspace):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    copy = sent.read_bytes()
    consolidate(workspace)
    measures = [m.values() for m in read_ledger(workspace.master).measures.values()]
    (workspace.path("inbox") / "again.xlsx").write_bytes(copy)
    result = consolidate(workspace)
    assert result.files[0].outcome == vocab.OUTCOME_DUPLICATE
    after = read_ledger(workspace.master)
    assert [m.values() for m in after.measures.values()] == measures
    assert [e.name for e in after.log] == ["办公室.xlsx", "again.xlsx"]       # every received file is recorded
    assert after.log[-1].outcome == vocab.OUTCOME_DUPLICATE
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "内容完全相同" in receipt and "已正常汇总" not in receipt


def test_master_is_backed_up_before_it_changes(workspace):
    before = sha(workspace.master)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    consolidate(workspace)
    assert before in {sha(p) for p in workspace.path("backup").iterdir()}


def test_text_that_looks_like_a_formula_stays_text_in_the_master(workspace):
    payloads = {vocab.PROGRESS: '=HYPERLINK("http://x.invalid","点")', vocab.EVIDENCE: "+1 电话", vocab.REMARK: "@all -注意"}
    hand_in(workspace, "办公室", {"ZG-001": payloads})
    result = consolidate(workspace)
    assert any("按文字保存" in n for n in result.files[0].submission.notes)
    wb, ws, cols, rows = ledger_sheet(workspace.master)
    for name, text in payloads.items():
        cell = ws.cell(rows["ZG-001"], cols[name])
        assert cell.value == text and cell.data_type == "s", name
    xml = __import__("zipfile").ZipFile(workspace.master).read("xl/worksheets/sheet1.xml").decode()
    assert "HYPERLINK" not in "".join(part.split("</f>")[0] for part in xml.split("<f>")[1:])


@pytest.mark.parametrize("content, expected", [
    (b"", "file-empty"), (b"%PDF-1.4 not a workbook", "file-pdf"), (b"PK\x03\x04broken", "file-damaged"),
    (b"just some text", "file-not-workbook"),
])
def test_broken_files_are_rejected_clearly_and_the_run_continues(workspace, content, expected):
    (workspace.path("inbox")).mkdir(parents=True, exist_ok=True)
    (workspace.path("inbox") / "坏文件.xlsx").write_bytes(content)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    result = consolidate(workspace)
    bad = next(f for f in result.files if f.submission.name == "坏文件.xlsx")
    assert bad.outcome == vocab.OUTCOME_REJECTED and bad.submission.problems[0].kind == expected
    assert bad.submission.problems[0].location.to_dict() == {"file": "坏文件.xlsx"}
    assert bad.archived.read_bytes() == content
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE


def test_a_failure_while_writing_leaves_the_master_and_inbox_as_they_were(workspace, monkeypatch):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(workspace.master)

    def boom(*a, **k):
        raise RuntimeError("simulated crash mid-merge")
    monkeypatch.setattr("toolkit.io.stats_sheet.judgment_table", boom)
    with pytest.raises(RuntimeError):
        consolidate(workspace)
    assert sha(workspace.master) == before and sent.exists()
    assert not list(workspace.master.parent.glob(".~tmp-*"))


def test_extra_office_columns_survive_consolidation(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_LEDGER]
    col = ws.max_column + 1
    ws.cell(2, col).value = "科室自用"
    ws.cell(3, col).value = "别动我"
    wb.save(workspace.master)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    consolidate(workspace)
    wb, ws, cols, rows = ledger_sheet(workspace.master)
    assert ws.cell(rows["ZG-001"], cols["科室自用"]).value == "别动我"
    assert ws.cell(rows["ZG-001"], cols[vocab.STATUS]).value == vocab.DONE


def test_receipt_says_how_typed_status_words_were_registered(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "完成"}, "ZG-005": {vocab.STATUS: "推进中"}})
    receipt = consolidate(workspace).receipts[0].read_text(encoding="utf-8")
    assert "“完成”→“已完成”" in receipt and "“推进中”→“正在推进”" in receipt


def test_a_truncated_backup_of_the_same_name_is_replaced_not_trusted(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = workspace.master.read_bytes()
    consolidate(workspace)
    (backup,) = [p for p in workspace.path("backup").iterdir() if p.read_bytes() == before]
    backup.write_bytes(before[: len(before) // 2])          # a crash or a full disk cut it short
    workspace.master.write_bytes(before)                   # the office restores the old master
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "再报"}}, name="再报.xlsx",
            when=dt.datetime(2024, 8, 21, 9))
    consolidate(workspace)
    wholes = [p for p in workspace.path("backup").iterdir() if p.read_bytes() == before]
    assert len(wholes) == 1
    assert not list(workspace.path("backup").glob(".~tmp-*"))
    import zipfile
    for p in workspace.path("backup").iterdir():
        assert zipfile.ZipFile(p).testzip() is None, p.name


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX file modes")
def test_rewritten_master_keeps_its_mode_and_new_outputs_follow_the_umask(workspace):
    import os
    import stat
    os.chmod(workspace.master, 0o664)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    old = os.umask(0o022)
    try:
        result = consolidate(workspace)
    finally:
        os.umask(old)
    assert result.master_changed
    assert stat.S_IMODE(workspace.master.stat().st_mode) == 0o664
    for p in result.receipts + [f.archived for f in result.files] + list(workspace.path("backup").iterdir()):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
