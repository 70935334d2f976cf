"""tests/manual/smoke_excel.py: it imports anywhere, refuses politely off Windows, and its
button × situation table judges the messages the stand-in Excel really shows."""
import importlib.util
import sys
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw

from tests import xlwings_standin as fake
from toolkit import __version__, addin, excel_checks

SMOKE = Path(__file__).parent / "manual" / "smoke_excel.py"


@pytest.fixture(scope="module")
def smoke():
    spec = importlib.util.spec_from_file_location("smoke_excel", SMOKE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_off_windows_it_says_it_needs_excel_and_exits(smoke, capsys):
    assert smoke.main() == 0
    assert "需要 Windows 和 Excel" in capsys.readouterr().out


def test_it_clicks_every_ribbon_button(smoke):
    labels = [label for label, _ in smoke.buttons()]
    assert labels == ["汇总报送", "刷新统计", "标记逾期", "生成通报", "分发模板", "催报", "同意销号", "退回补充"]
    assert {sub for _, sub in smoke.buttons()} == set(addin.check_sources())


def test_the_vba_messages_contain_what_the_table_expects(smoke):
    checks = (addin.MACROS / "ZhenggaiChecks.bas").read_text(encoding="utf-8")
    for situation in ("没有工作簿", "台账未保存"):                   # shown by VBA before Python starts
        assert smoke.SITUATIONS[situation] in checks


def test_the_table_passes_the_refusals_the_standin_shows_for_wrong_book_and_old_addin(smoke, workspace, monkeypatch,
                                                                                       tmp_path):
    (workspace.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n', encoding="utf-8")
    ledger = fake.Book(workspace.master)
    other_path = tmp_path / "报表.xlsx"
    openpyxl.Workbook().save(other_path)
    other = fake.Book(other_path, app=ledger.app)                      # the active workbook
    python_of = addin.check_sources()
    clicks = []
    for situation, book, version in (("别的工作簿", other, __version__), ("版本不符", ledger, "0.0.9")):
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls, book=book: book))
        for label, sub in smoke.buttons():
            before = smoke.snapshot(workspace)
            excel_checks.press(version, python_of[sub])
            title, prompt = ledger.app.alerts[-1]
            clicks.append(smoke.Click(label, situation, [f"{title}\n{prompt}"], smoke.snapshot(workspace) != before))
    assert [c.problem for c in clicks] == [""] * 16
    text = smoke.table(clicks)
    assert text.splitlines()[0] == "| 按钮 | 别的工作簿 | 版本不符 |"
    assert "| 催报 | 通过 | 通过 |" in text and text.endswith("共16次点击，通过16次，失败0次。")


def test_the_table_names_each_failure_and_what_did_not_run(smoke):
    clicks = [smoke.Click("汇总报送", "没有工作簿", ["汇总报送未完成\n没有打开的工作簿。请先打开台账"]),
              smoke.Click("汇总报送", "台账未保存", ["Traceback (most recent call last)"]),
              smoke.Click("刷新统计", "没有工作簿", ["刷新统计未完成\n没有打开的工作簿。"], changed=True),
              smoke.Click("刷新统计", "台账未保存", [])]
    lines = smoke.table(clicks).splitlines()
    assert lines[2] == "| 汇总报送 | 通过 | 失败（出现 Python 错误信息） |"
    assert lines[3] == "| 刷新统计 | 失败（改动了台账或输出文件） | 失败（没有提示框） |"
    assert lines[-1] == "共4次点击，通过1次，失败3次。"
    assert "未运行" in smoke.table(clicks[:3])
