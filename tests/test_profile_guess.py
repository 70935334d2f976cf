"""`check` on a ledger the current profile can't read: it names the built-in profile that reads it, how the
columns map and the line of config.toml to write; or says that no profile reads it and which comes closest."""

from click.testing import CliRunner

from tests.test_profiles import office_book
from toolkit import config, profile_demo
from toolkit.check import check
from toolkit.cli import cli
from toolkit.profile_guess import advice
from toolkit.rules import lexicon


def test_audit_ledger_checked_without_a_workspace_is_told_to_use_the_audit_profile_with_its_column_mapping(tmp_path):
    path = tmp_path / "审计台账.xlsx"
    profile_demo.write_office_ledger(path, "审计整改")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "按当前方案“巡视巡察整改”读不出：工作表“整改台账”第2行表头缺少列 主题、重点问题、事项、牵头单位、完成情况。" in out
    assert "按方案“审计整改”可读（工作表“整改台账”第2行表头）：" in out
    for pair in ("审计项目→主题", "问题类别→重点问题", "审计发现问题→事项", "整改责任单位→牵头单位", "整改结果→完成情况"):
        assert pair in out
    assert "init --profile 审计整改" in out


def test_audit_ledger_in_a_default_workspace_is_told_which_line_to_write_in_its_config(tmp_path):
    config.write_default(tmp_path)
    settings = config.load(tmp_path)
    profile_demo.write_office_ledger(settings.master, "审计整改")
    report = check(settings.master, settings)
    text = "\n".join(report.lines())
    assert f"在 {tmp_path / config.CONFIG_NAME} 中写 profile = \"审计整改\"" in text
    assert not report.ok


def test_supervision_ledger_mapping_says_how_the_absent_hierarchy_is_filled(tmp_path):
    path = tmp_path / "督办台账.xlsx"
    profile_demo.write_office_ledger(path, "督查督办")
    lines = advice(path, "巡视巡察整改", lexicon.NONE, None)
    assert "按方案“督查督办”可读" in lines[1] and "承办单位→牵头单位" in lines[1]
    assert "主题取“来源”列，为空时为“督办事项”" in lines[1]


def test_a_ledger_the_current_profile_reads_gets_no_profile_advice(workspace):
    assert advice(workspace.master, workspace.profile, workspace.lexicon, None) == []
    assert not any(line.startswith("配置方案") for line in check(workspace.master, workspace).lines())


def test_a_ledger_under_its_own_profile_gets_no_advice_though_the_default_would_not_read_it(tmp_path):
    path = tmp_path / "审计台账.xlsx"
    profile_demo.write_office_ledger(path, "审计整改")
    settings = config.from_dict({"profile": "审计整改"}, tmp_path)
    assert advice(path, settings.profile, settings.lexicon, None) == []


def test_a_file_no_profile_reads_says_so_and_names_the_nearest_with_what_it_lacks(tmp_path):
    headers = ["序号", "审计项目", "问题类别", "审计发现问题", "整改措施", "整改责任单位", "完成时限", "整改进展"]
    path = office_book(tmp_path / "缺列.xlsx", headers, [[1, "预算审计", "预算管理", "问题1", "措施甲", "财务处", "2024-06-30", ""]])
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    # 事项类型 may be left out of an audit ledger (each 审计发现问题 is a 具体问题): only 完成情况 is missing
    assert "按内置的4种其他配置方案也都读不出；最接近的是方案“审计整改”（工作表“台账”第2行表头缺少列 完成情况）" \
        in result.output
    assert "可读（" not in result.output


def test_a_sheet_with_no_ledger_header_at_all_is_said_to_have_none_under_any_profile(tmp_path):
    path = office_book(tmp_path / "名单.xlsx", ["姓名", "电话"], [["张三", "123"]])
    lines = advice(path, "巡视巡察整改", lexicon.NONE, None)
    assert lines[0] == "按当前方案“巡视巡察整改”读不出：前30行中找不到表头。"
    assert "也都在前30行中找不到表头" in lines[1]
