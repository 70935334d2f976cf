"""销号审核 from the command line and the Excel buttons: the office decides the selected requests,
the figures and 已销号 update at once, and the history records the decision (source 销号审核)."""
from dataclasses import replace

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import REVIEW_CONFIG as CONFIG
from tests.conftest import hand_in
from tests.test_review import DONE_ZG4, review_rows, status_of, taken_in_just_now
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.distribute import distribute
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.stats import summarise


def review_cli(s, *args):
    return CliRunner().invoke(cli, ["review", *args, "-c", str(s.root)])


def test_the_review_command_agrees_and_the_figures_and_history_follow(applied):
    s = applied
    assert summarise(read_ledger(s.master, s), s, s.today()).measures.done == 2
    result = review_cli(s, "ZG-004", "--agree")
    assert result.exit_code == 0, result.output
    assert "ZG-004（市人民医院）：同意销号 → 已销号" in result.output and "已完成3条" in result.output
    assert status_of(s, "ZG-004") == vocab.DONE
    (row,) = review_rows(s)
    assert row[4:7] == [vocab.REVIEW_APPROVE, None, vocab.CLOSED] and taken_in_just_now(row[7])
    stats = summarise(read_ledger(s.master, s), s, s.today())
    assert stats.measures.done == 3 and (stats.review.closed, stats.review.pending) == (1, 0)
    _, lines = Workspace(s).history("ZG-004")
    assert any("【市人民医院】销号审核：申请销号 → 已销号；来源：销号审核" in line for line in lines)
    assert any("完成情况：正在推进 → 已完成；来源：销号审核" in line for line in lines)


def test_a_return_needs_an_opinion_which_reaches_the_units_next_template(applied):
    s = applied
    before = s.master.read_bytes()
    refused = review_cli(s, "ZG-004", "--return")
    assert refused.exit_code == 1 and "退回补充须写明审核意见" in refused.output
    assert s.master.read_bytes() == before                         # nothing changed
    result = review_cli(s, "ZG-004", "--return", "--opinion", "请补充盖章扫描件")
    assert result.exit_code == 0, result.output
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS
    (row,) = review_rows(s)
    assert row[4:7] == [vocab.REVIEW_RETURN, "请补充盖章扫描件", vocab.REVIEW_RETURNED]
    (d,) = distribute(s, ["市人民医院"])
    ws = openpyxl.load_workbook(d.path)[vocab.SHEET_LEDGER]
    assert any("请补充盖章扫描件" in str(c.value) for row in ws.iter_rows() for c in row if c.value)
    _, lines = Workspace(s).history("ZG-004")
    assert any("销号审核：申请销号 → 退回补充：请补充盖章扫描件；来源：销号审核" in line for line in lines)


def test_a_row_that_is_not_pending_is_named_and_nothing_changes(applied):
    s = applied
    before = s.master.read_bytes()
    result = review_cli(s, "ZG-004", "ZG-001", "ZG-999", "--agree")
    assert result.exit_code == 1
    assert "“ZG-001”（未申请销号）" in result.output and "“ZG-999”（台账中没有该编号）" in result.output
    assert "本次未作任何修改" in result.output and "Traceback" not in result.output
    assert s.master.read_bytes() == before and review_rows(s)[0][6] == vocab.REVIEW_PENDING
    assert review_cli(s, "ZG-004", "--agree").exit_code == 0
    again = review_cli(s, "ZG-004", "--return", "--opinion", "补充")
    assert again.exit_code == 1 and "“ZG-004”（市人民医院，已销号）" in again.output


def test_without_review_required_the_command_says_how_to_turn_it_on(workspace):
    (workspace.root / "config.toml").write_text(CONFIG.replace("true", "false"), encoding="utf-8")
    result = review_cli(workspace, "ZG-004", "--agree")
    assert result.exit_code == 1 and "[review] required = true" in result.output
    assert review_cli(workspace, "ZG-004").exit_code == 2     # no conclusion: a usage error


# ---------------------------------------------------------------- the 同意销号 / 退回补充 buttons

@pytest.fixture
def book(applied, monkeypatch):
    """The master open in a stand-in Excel (tests/xlwings_standin.py), with 销号审核 pending for ZG-004."""
    import xlwings as xw

    from tests import xlwings_standin as fake
    opened = fake.Book(applied.master)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: opened))
    return applied, opened


def book_status(book, mid):
    """完成情况 of a measure as the open book shows it (what the statistics formulas count)."""
    from tests.test_excel import cell_of
    return book.sheets[vocab.SHEET_LEDGER].cells[cell_of(book, mid, vocab.STATUS)]


def test_the_agree_button_closes_the_selected_review_rows_and_the_figures_change(book):
    from toolkit import excel
    s, opened = book
    assert book_status(opened, "ZG-004") == vocab.IN_PROGRESS
    opened.selection = opened.sheets[vocab.SHEET_REVIEW].range("B3", "C3")
    excel.agree_button()
    title, text = opened.app.alerts[-1]
    assert title == "同意销号完成" and "ZG-004（市人民医院）：同意销号 → 已销号" in text, text
    assert opened.saved == 1 and status_of(s, "ZG-004") == vocab.DONE
    assert review_rows(s)[0][6] == vocab.CLOSED
    assert book_status(opened, "ZG-004") == vocab.DONE                 # the book's figures count it now
    assert summarise(read_ledger(s.master, s), s, s.today()).measures.done == 3
    _, lines = Workspace(s).history("ZG-004")
    assert any("申请销号 → 已销号；来源：销号审核" in line for line in lines)


def test_the_return_button_takes_the_opinion_from_the_addin_on_a_selected_ledger_row(book):
    from toolkit import __version__, excel_checks
    s, opened = book
    ledger = read_ledger(s.master, s)
    row = ledger.measures["ZG-004"].row
    opened.selection = opened.sheets[vocab.SHEET_LEDGER].range(f"C{row - 1}", f"C{row}")   # ZG-003 has no request
    opinion = "请补充“盖章”扫描件'); import os; ('"
    excel_checks.press(__version__, "return_button", opinion.encode("utf-16-be").hex().upper())
    title, text = opened.app.alerts[-1]
    assert title == "退回补充未完成" and "“ZG-003”（未申请销号）" in text and opened.saved == 0
    opened.selection = opened.sheets[vocab.SHEET_LEDGER].range(f"A{row}")
    excel_checks.press(__version__, "return_button", opinion.encode("utf-16-be").hex().upper())
    assert opened.app.alerts[-1][0] == "退回补充完成"
    assert review_rows(s)[0][4:7] == [vocab.REVIEW_RETURN, opinion, vocab.REVIEW_RETURNED]
    assert status_of(s, "ZG-004") == vocab.IN_PROGRESS


def test_the_return_button_refuses_an_empty_opinion_and_a_selection_elsewhere(book):
    from toolkit import excel
    s, opened = book
    before = s.master.read_bytes()
    opened.selection = opened.sheets[vocab.SHEET_REVIEW].range("A3")
    excel.return_button("")                                    # InputBox left empty or cancelled
    assert opened.app.alerts[-1] == ("退回补充未完成", "退回补充须写明审核意见（单位需补充的材料），本次未作任何修改。")
    opened.selection = opened.sheets[vocab.SHEET_STATS].range("A3")
    excel.agree_button()
    assert "请先在“销号审核”表" in opened.app.alerts[-1][1]
    assert s.master.read_bytes() == before and opened.saved == 0


def test_agreeing_a_reclaim_does_not_print_the_earlier_return_opinion_as_its_own(applied):
    import datetime as dt

    from tests.test_review import returned_at
    s = applied
    assert review_cli(s, "ZG-004", "--return", "--opinion", "请补充现场照片").exit_code == 0
    returned_at(s, dt.datetime(2024, 8, 28, 9, 0))
    hand_in(s, "市人民医院", DONE_ZG4, name="市人民医院-再报.xlsx", when=dt.datetime(2024, 8, 29, 9, 0))
    Workspace(s).consolidate()
    assert review_rows(s)[0][5:7] == ["请补充现场照片", vocab.REVIEW_PENDING]   # the office sees what it asked
    result = review_cli(s, "ZG-004", "--agree")
    assert result.exit_code == 0, result.output
    assert "ZG-004（市人民医院）：同意销号 → 已销号\n" in result.output and "请补充现场照片" not in result.output


def test_agree_and_return_together_are_refused_and_lower_case_ids_are_found(applied):
    s = applied
    before = s.master.read_bytes()
    both = review_cli(s, "ZG-004", "--agree", "--return", "--opinion", "补材料")
    assert both.exit_code == 2 and "只能选一个" in both.output and s.master.read_bytes() == before
    missing = CliRunner().invoke(cli, ["review", "--agree", "-c", str(s.root)])
    assert missing.exit_code == 2 and "缺少参数“编号…”。" in missing.output
    result = review_cli(s, "zg-004", "--agree")
    assert result.exit_code == 0 and "ZG-004（市人民医院）：同意销号 → 已销号" in result.output
    history = CliRunner().invoke(cli, ["history", "zg-004", "-c", str(s.root)])
    assert history.exit_code == 0 and "销号审核：申请销号 → 已销号" in history.output


@pytest.fixture
def two_units(workspace):
    """ZG-002 (医政处 leads, 市人民医院 co-owns): both units ask to close it."""
    (workspace.root / "config.toml").write_text(CONFIG, encoding="utf-8")
    workspace = replace(workspace, review_required=True)
    for unit in ("医政处", "市人民医院"):
        hand_in(workspace, unit, {"ZG-002": {vocab.STATUS: "已完成", vocab.EVIDENCE: f"{unit}材料"}})
    Workspace(workspace).consolidate()
    return workspace


def test_one_unit_of_a_shared_measure_is_decided_and_the_notice_counts_measures(two_units):
    from toolkit.assessment import assess
    from toolkit.documents import notices
    s = two_units
    ledger = read_ledger(s.master, s)
    public = notices.public_summary(ledger, s, assess(ledger, s))
    assert "未完成的措施中有1条已申请销号、正在审核" in public and "另有" not in public   # one measure, two requests
    assert notices.programme_context(ledger, s, assess(ledger, s))["销号"]["待审核"] == 1

    result = review_cli(s, "zg-002:医政处", "--agree")
    assert result.exit_code == 0, result.output
    assert "ZG-002（医政处）：同意销号 → 已销号（该单位的部分已销号；措施仍为“正在推进”" in result.output
    assert "市人民医院" not in result.output
    states = {row[1]: row[6] for row in review_rows(s)}
    assert states == {"医政处": vocab.CLOSED, "市人民医院": vocab.REVIEW_PENDING}
    ledger = read_ledger(s.master, s)
    assert notices.programme_context(ledger, s, assess(ledger, s))["销号"] == {"已销号": 0, "待审核": 1, "退回": 0}

    result = review_cli(s, "ZG-002", "--unit", "市人民医院", "--agree")
    assert result.exit_code == 0 and "仍为" not in result.output and status_of(s, "ZG-002") == vocab.DONE
    ledger = read_ledger(s.master, s)
    assert notices.programme_context(ledger, s, assess(ledger, s))["销号"] == {"已销号": 1, "待审核": 0, "退回": 0}


def test_the_command_never_overrides_a_hand_typed_decision_not_yet_taken_in(applied):
    from tests.test_review import decide as hand_decide
    s = applied
    hand_decide(s, vocab.REVIEW_APPROVE)                     # typed in 销号审核, not yet consolidated
    before = s.master.read_bytes()
    result = review_cli(s, "ZG-004", "--return", "--opinion", "请补充照片")
    assert result.exit_code == 1 and "措施“ZG-004”（市人民医院）为“同意销号”" in result.output
    assert "本次未作任何修改" in result.output and s.master.read_bytes() == before
    assert review_cli(s, "ZG-004", "--agree").exit_code == 0 and status_of(s, "ZG-004") == vocab.DONE


def test_the_consolidate_button_names_a_review_cell_it_did_not_apply(applied, monkeypatch):
    import xlwings as xw

    from tests import xlwings_standin as fake
    from tests.test_review import decide as hand_decide
    from toolkit import excel
    s = applied
    hand_decide(s, vocab.REVIEW_RETURN)                        # 退回补充 typed without an opinion
    opened = fake.Book(s.master)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: opened))
    hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "推进中"}})
    excel.consolidate_button()
    title, text = opened.app.alerts[-1]
    assert title == "汇总报送完成" and "“销号审核”表E3单元格（第3行“审核结论”列）选择了“退回补充”，但“审核意见”为空" in text
    assert review_rows(s)[0][6] == vocab.REVIEW_PENDING
