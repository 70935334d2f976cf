"""Runs that take the history's rows from the consolidation's own merges (ConsolidationResult.merged) in the
situations most likely to make them differ from a replay: the conftest fixture replays each such run and fails the
test on any difference; each test here also checks the run did take the merges' record."""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace

from tests.conftest import MERGES_COMPARED, REVIEW_CONFIG, hand_in
from tests.test_review import DONE_ZG4
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.io import history_db

T = dt.datetime(2024, 8, 20, 10, 0)


def run_from_merges(settings, **kw):
    """Consolidate through the Workspace; assert the history took the merges' record (and the fixture agreed)."""
    compared = len(MERGES_COMPARED)
    result = Workspace(settings).consolidate(**kw)
    assert result.merged is not None and len(MERGES_COMPARED) == compared + 1
    return result


def history_rows(settings):
    with history_db.HistoryDB(history_db.db_path(settings)) as db:
        return [(c.measure, c.unit, c.field, c.old, c.new, c.source) for c in db.changes()]


def test_several_files_of_one_unit_and_a_co_owner_in_one_run_record_what_a_replay_records(workspace):
    Workspace(workspace).consolidate()                     # the first run: 初始导入
    hand_in(workspace, "医政处", {"ZG-002": {vocab.PROGRESS: "较新的进展"}}, "医政处-新.xlsx", T + dt.timedelta(hours=2))
    hand_in(workspace, "医政处", {"ZG-002": {vocab.PROGRESS: "较旧的进展"}, "ZG-003": {vocab.PROGRESS: "旧"}},
            "医政处-旧.xlsx", T)                              # older: superseded once the newer is in
    hand_in(workspace, "市人民医院", {"ZG-002": {vocab.STATUS: "已完成", vocab.PROGRESS: "医院完成"},
                                   "ZG-004": {vocab.STATUS: "推进了一半", vocab.PROGRESS: "部分"}},
            when=T + dt.timedelta(hours=1))                  # an unknown status: 部分采纳
    shutil.copy(workspace.path("inbox") / "市人民医院.xlsx", workspace.path("inbox") / "市人民医院-副本.xlsx")
    hand_in(workspace, "办公室", {}, when=T)                  # accepted with nothing to update
    result = run_from_merges(workspace)
    outcomes = sorted(f.outcome for f in result.files)
    assert vocab.OUTCOME_PARTIAL in outcomes and vocab.OUTCOME_DUPLICATE in outcomes
    assert any(r[2] == vocab.PROGRESS and r[4] == "医院完成" for r in history_rows(workspace))


def test_two_files_of_one_unit_both_merged_touch_the_same_measure_in_turn(workspace):
    Workspace(workspace).consolidate()
    hand_in(workspace, "医政处", {"ZG-002": {vocab.PROGRESS: "第一次"}}, "医政处-1.xlsx", T)
    hand_in(workspace, "医政处", {"ZG-002": {vocab.PROGRESS: "第二次"}, "ZG-003": {vocab.STATUS: "已完成"}},
            "医政处-2.xlsx", T + dt.timedelta(hours=1))
    result = run_from_merges(workspace)
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED] * 2


def test_requests_renewed_withdrawn_and_asked_in_one_run_under_review(applied):
    s = applied
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "正在推进", vocab.PROGRESS: "撤回"}}, "撤回.xlsx",
            T + dt.timedelta(hours=1))
    hand_in(s, "市人民医院", {**DONE_ZG4, "ZG-002": {vocab.STATUS: "已完成", vocab.EVIDENCE: "见附件"}}, "再申请.xlsx",
            T + dt.timedelta(hours=2))
    hand_in(s, "医政处", {"ZG-002": {vocab.STATUS: "已完成"}, "ZG-003": {vocab.STATUS: "已完成"}},
            when=T + dt.timedelta(hours=3))
    result = run_from_merges(s)
    assert result.count(*vocab.APPLIED_OUTCOMES) == 3
    assert any(r[2] == vocab.REVIEW_FIELD for r in history_rows(s))


def test_a_request_left_pending_without_an_opinion_and_a_unit_asking_again(applied):
    from tests.test_review import decide
    decide(applied, vocab.REVIEW_RETURN)                    # no opinion: not taken, left pending
    hand_in(applied, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "补充材料"}}, "补充.xlsx",
            T + dt.timedelta(hours=1))
    run_from_merges(applied)


def test_a_file_taken_in_again_and_a_new_file_replay_or_agree(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    wrong = replace(workspace, period="2024-09")
    rejected = Workspace(wrong).consolidate().files[0]
    assert rejected.outcome == vocab.OUTCOME_REJECTED
    hand_in(workspace, "医政处", {"ZG-003": {vocab.PROGRESS: "新"}})
    result = Workspace(workspace).consolidate(again=[rejected.archived])
    assert result.count(*vocab.APPLIED_OUTCOMES) == 2
    rows = history_rows(workspace)
    assert ("ZG-001", "", vocab.STATUS, vocab.IN_PROGRESS, vocab.DONE, rejected.submission.sha256) in rows


def test_review_turned_off_with_nothing_pending_takes_the_merges_record(applied):
    from tests.test_review import decide
    decide(applied, vocab.REVIEW_APPROVE, "同意")
    Workspace(applied).consolidate()                        # the decision taken: replayed
    (applied.root / "config.toml").write_text(REVIEW_CONFIG.replace("true", "false"), encoding="utf-8")
    off = replace(applied, review_required=False)
    hand_in(off, "市人民医院", {"ZG-004": {vocab.STATUS: "正在推进"}, "ZG-002": {vocab.STATUS: "已完成"}},
            "关闭后.xlsx", T + dt.timedelta(hours=3))
    run_from_merges(off)


def legacy_return(settings, decided: str) -> None:
    """The (one) returned request as a master from before decision runs were kept holds it: 申请编号 without
    the decision's run, 办理日期 as given (a unit's file then asks again when received after it)."""
    import openpyxl

    from toolkit.model import Review
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_REVIEW]
    col = {h: vocab.REVIEW_COLUMNS.index(h) + 1 for h in vocab.REVIEW_COLUMNS}
    assert ws.cell(3, col[vocab.REVIEW_STATE]).value == vocab.REVIEW_RETURNED
    key = ws.cell(3, col[vocab.REVIEW_KEY]).value
    legacy = Review(ws.cell(3, 1).value, ws.cell(3, 2).value, "", state=vocab.REVIEW_RETURNED,
                    request_seq=int(key.split("-")[0][1:]))
    ws.cell(3, col[vocab.REVIEW_KEY]).value = legacy.key()
    ws.cell(3, col[vocab.REVIEW_DECIDED_AT]).value = decided
    wb.save(settings.master)


def test_a_copy_received_later_than_the_file_merged_does_not_stand_in_for_it(applied):
    """Two copies of one file in one run: the first received is merged, the other is 重复报送. A legacy return decided
    between their receipt times: the file merged was sent before it (does not ask again); the later copy would."""
    from tests.test_review import decide
    decide(applied, vocab.REVIEW_RETURN, "请补充材料")
    Workspace(applied).consolidate()                       # the return taken in
    legacy_return(applied, "2024-08-20 12:00:00")
    first = hand_in(applied, "市人民医院", DONE_ZG4, "a-市人民医院.xlsx", T + dt.timedelta(hours=1))
    copy = applied.path("inbox") / "b-市人民医院.xlsx"
    shutil.copy(first, copy)
    stamp = (T + dt.timedelta(hours=3)).timestamp()
    import os
    os.utime(copy, (stamp, stamp))
    result = run_from_merges(applied)
    assert [(f.submission.name, f.outcome) for f in result.files] == [
        ("a-市人民医院.xlsx", vocab.OUTCOME_ACCEPTED), ("b-市人民医院.xlsx", vocab.OUTCOME_DUPLICATE)]
    assert result.ledger.reviews[("ZG-004", "市人民医院")].state == vocab.REVIEW_RETURNED    # not asked again
    assert not [r for r in history_rows(applied) if r[2] == vocab.REVIEW_FIELD and r[4] == vocab.APPLIED_CLOSE
                and r[5] == first_hash(result)]          # no request that never was, and nothing taken back


def first_hash(result) -> str:
    return result.files[0].submission.sha256


def test_evidence_linked_by_the_toolkit_then_a_plain_file_for_the_same_measures(workspace):
    from tests.test_evidence import SCAN, package
    Workspace(workspace).consolidate()
    package(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: "正在推进", vocab.PROGRESS: "扫描件见附件"},
                                   "ZG-002": {vocab.PROGRESS: "医院推进"}}, {"ZG-004/扫描件.pdf": SCAN})
    result = run_from_merges(workspace)                     # blank 佐证材料: the toolkit links the folder
    assert "扫描件" in str(result.files[0].submission.evidence) and result.files[0].outcome == vocab.OUTCOME_ACCEPTED
    from tests.conftest import ledger_sheet
    wb, ws, cols, at = ledger_sheet(workspace.master)
    assert ws.cell(at["ZG-004"], cols[vocab.EVIDENCE]).hyperlink.target.endswith("市人民医院/ZG-004")   # the toolkit's own
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.PROGRESS: "再推进"}, "ZG-002": {vocab.EVIDENCE: "某文"}},
            when=T + dt.timedelta(hours=2))                  # the distributed book carries the link's text
    run_from_merges(workspace)


def test_a_file_recorded_by_a_killed_run_is_recovered_beside_a_new_file(workspace, monkeypatch):
    from toolkit import consolidate as consolidate_module
    Workspace(workspace).consolidate()
    hand_in(workspace, "医政处", {"ZG-002": {vocab.PROGRESS: "被中断的一次"}})
    with monkeypatch.context() as m:                        # the master written, the inbox not cleared: killed
        m.setattr(consolidate_module, "clear_inbox", lambda result: None)
        run_from_merges(workspace)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.PROGRESS: "新的一份"}}, when=T + dt.timedelta(hours=1))
    result = run_from_merges(workspace)
    assert sorted(f.outcome for f in result.files) == [vocab.OUTCOME_ACCEPTED] * 2
    assert len(result.merged) == 1
