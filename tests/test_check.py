"""体检 (check): how a ledger was read, its counts, the paragraph, every suspicious cell — and nothing written."""
import os
import subprocess
import sys

import openpyxl

from tests.conftest import settings_for, small_ledger
from tests.office_books import office_workbook
from tests.test_office_ledgers import edited
from toolkit import demo, vocab
from toolkit.check import check, spelling_pairs, write_empty_master
from toolkit.cli import cli
from toolkit.io.ledger_file import read_ledger


def files_in(folder):
    return sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file())


def test_check_reports_layout_counts_paragraph_and_writes_nothing(tmp_path):
    book = office_workbook(tmp_path / "台账.xlsx", demo.seed_ledger(), merge=vocab.MERGE_FILL_COLUMNS)
    before = files_in(tmp_path)
    report = check(book, demo.demo_settings(tmp_path))
    assert files_in(tmp_path) == before
    assert report.ok and report.layout.header_row == 3 and report.layout.merged
    assert report.counts == {"主题": 4, vocab.KEY_PROBLEM: 14, vocab.SPECIFIC: 45, vocab.DRAW_LESSONS: 58,
                             vocab.RECOMMENDATION: 4, vocab.REFORM: 8, vocab.MEASURE: 263, "单位": 33}
    text = "\n".join(report.lines())
    assert "表头在第3行" in text and "责任单位→牵头单位" in text and "完成时间→完成时限" in text
    assert "合并单元格：" in text and "重点问题14个，目前已完成整改7个" in text and "结论：台账可以正常使用" in text


def test_check_lists_every_suspicious_thing_instead_of_stopping_at_the_first(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-002", "编号"): "ZG-001", ("ZG-003", "配合单位"): "相关单位", ("ZG-004", "“推动改革促进发展”"): "待定",
                   ("ZG-005", "完成情况"): "差不多", ("ZG-006", "责任单位"): "天津市人民医院", ("ZG-001", "主题"): None, ("ZG-001", "配合单位"): "市人民医院",
                   ("ZG-004", "事项"): None})
    report = check(book, settings_for(tmp_path))
    text = "\n".join(report.lines())
    assert not report.ok and len(report.problems) == 5
    for expected in ("“ZG-001”与第4行重复", "“相关单位”是对多个单位的统称", "“待定”无法判断", "“差不多”无法识别",
                     "“事项”列（E7）为空", "“主题”列有1个空白单元格（C4）",
                     "“天津市人民医院”（1条措施）与“市人民医院”（1条）可能是同一单位的不同写法"):
        assert expected in text, expected
    assert "有5处须先改正" in text


def test_spelling_pairs():
    assert spelling_pairs(["医政处", "市医政处", "市人民医院", "人民医院", "办公室"]) == [
        ("医政处", "市医政处"), ("市人民医院", "人民医院")]
    assert spelling_pairs(["市第一中心医院", "市第二人民医院"]) == []


def test_check_command_prints_the_report_and_exits_1_when_something_must_be_fixed(tmp_path):
    good = office_workbook(tmp_path / "good.xlsx", small_ledger())
    bad = edited(office_workbook(tmp_path / "bad.xlsx", small_ledger()), {("ZG-003", "配合单位"): "委属各单位"})
    env = dict(os.environ)
    run = lambda *args: subprocess.run([sys.executable, "-m", "toolkit", "check", *args], capture_output=True,
                                       text=True, env=env, cwd=tmp_path)
    ok = run(str(good))
    assert ok.returncode == 0 and "台账体检" in ok.stdout and "整改措施6条" in ok.stdout
    failed = run(str(bad))
    assert failed.returncode == 1 and "委属各单位" in failed.stdout and "Traceback" not in failed.stderr
    missing = run(str(tmp_path / "none.xlsx"))
    assert missing.returncode == 1 and "找不到台账文件" in missing.stdout


FILLED = {"title": "巡视整改", "organisation": "中共某市卫生健康委员会委员会", "subject": "市卫生健康委",
          "addressees": "委机关各处室，委属各单位", "programme_start": "2024-03-01"}   # what an office fills in


def check_with_units(workspace, targets: str):
    """`check -c` on the workspace after a [units] line maps 委属各单位 (typed as one row's 配合单位) to targets."""
    from click.testing import CliRunner

    from toolkit import config
    path = config.write_default(workspace.root, period="2024年8月", **FILLED)
    text = path.read_text(encoding="utf-8").replace("[units]", f'[units]\n"委属各单位" = {targets}', 1)
    path.write_text(text, encoding="utf-8")
    wb = openpyxl.load_workbook(workspace.master)
    wb[vocab.SHEET_LEDGER].cell(5, vocab.COLUMNS.index(vocab.CO_UNITS) + 1).value = "委属各单位"
    wb.save(workspace.master)
    return CliRunner().invoke(cli, ["check", "-c", str(workspace.root)])


def test_check_with_a_config_folder_uses_its_master_and_units(workspace):
    result = check_with_units(workspace, '["市人民医院", "医政处"]')
    assert result.exit_code == 0, result.output
    assert str(workspace.master) in result.output and "整改措施6条" in result.output
    assert "“委属各单位”按配置[units]读作市人民医院、医政处" in result.output


def test_empty_master_has_our_headers_and_one_example_row_that_reads(tmp_path):
    path = write_empty_master(tmp_path / "master" / "整改台账.xlsx")
    ws = openpyxl.load_workbook(path)[vocab.SHEET_LEDGER]
    assert [c.value for c in ws[2]] == vocab.COLUMNS
    ledger = read_ledger(path)
    assert list(ledger.measures) == ["ZG-001"] and ledger.measures["ZG-001"].co_units == ["组织处", "人事处"]
    try:
        write_empty_master(path)
    except Exception as exc:
        assert "已存在" in str(exc)
    else:
        raise AssertionError("an existing master was overwritten")


def test_a_merged_status_counts_for_every_row_and_a_blank_one_is_named(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
    status = cols[vocab.STATUS]
    ws.cell(rows["ZG-005"], status).value = vocab.DONE          # ZG-005 and ZG-006 are both 已完成: one merged cell
    ws.cell(rows["ZG-006"], status).value = None
    ws.merge_cells(start_row=rows["ZG-005"], start_column=status, end_row=rows["ZG-006"], end_column=status)
    ws.cell(rows["ZG-003"], status).value = None                # left blank by the office
    wb.save(workspace.master)
    ledger = read_ledger(workspace.master, workspace)
    assert ledger.measures["ZG-006"].status == vocab.DONE
    report = check(workspace.master, workspace)
    text = "\n".join(report.lines())
    letter = openpyxl.utils.get_column_letter(status)
    assert f"“完成情况”列有1个空白单元格（{letter}{rows['ZG-003']}）" in text and "按“未启动”统计" in text
    assert "【请核实】" in text


def test_a_unit_mistyped_once_by_one_character_is_questioned():
    uses = {"办公室": 5, "办工室": 1, "医政处": 4, "药政处": 6}
    assert [set(p) for p in spelling_pairs(list(uses), uses)] == [{"办工室", "办公室"}]   # 医政处, 药政处: two units


def test_check_questions_a_units_alias_that_points_one_character_away_from_a_ledger_unit(workspace):
    result = check_with_units(workspace, '["市人民医院", "医正处"]')
    assert "配置[units]中“委属各单位”指向的“医正处”与台账中的责任单位“医政处”只差一个字" in result.output
    assert "“市人民医院”与台账" not in result.output                 # a right target is not questioned
