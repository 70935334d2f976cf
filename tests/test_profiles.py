"""Profiles: the list's own words read under its profile and not under the default, 督办 lists without a
hierarchy, init/demo --profile, and non-巡视 demos that never say 巡视 and whose figures add up."""
import collections
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from toolkit import config, profiles, vocab
from toolkit.cli import cli
from toolkit.errors import ConfigError, LedgerError
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import normalize


def office_book(path: Path, headers: list[str], rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["本单位的整改台账"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


AUDIT = (["序号", "审计项目", "问题类别", "审计发现问题", "事项类型", "整改措施", "整改责任单位", "完成时限", "整改结果", "整改情况"],
         [[1, "预算执行审计", "预算管理不规范", "问题1", "审计发现问题", "措施甲", "财务处", "2024-06-30", "已整改", ""],
          [2, "预算执行审计", "预算管理不规范", "问题1", "审计发现问题", "措施乙", "医政处", "长期整改", "部分整改", ""],
          [3, "预算执行审计", "政府采购不规范", "问题2", "审计建议", "措施丙", "办公室", "2024-09-30", "未整改", ""],
          [4, "预算执行审计", "政府采购不规范", "问题2", "审计建议", "措施丁", "办公室", "持续整改", "持续整改", ""]])


def workspace_with(tmp_path: Path, profile: str | None) -> config.Settings:
    data = {"profile": profile} if profile else {}
    return config.from_dict(data, tmp_path)


def test_audit_profile_reads_the_audit_list_words_onto_the_four_statuses(tmp_path):
    settings = workspace_with(tmp_path, "审计整改")
    ledger = read_ledger(office_book(tmp_path / "审计.xlsx", *AUDIT), settings)
    got = {mid: (m.status, m.deadline, m.item_type, m.key_problem, m.lead_unit) for mid, m in ledger.measures.items()}
    assert got["1"][0] == vocab.DONE and got["1"][4] == "财务处" and got["1"][3] == "预算管理不规范"
    assert got["2"][:2] == (vocab.IN_PROGRESS, vocab.LONG_TERM)
    assert got["3"][0] == vocab.NOT_STARTED and got["3"][2] == vocab.RECOMMENDATION
    assert got["4"][:2] == (vocab.IN_PROGRESS, vocab.ONGOING)
    assert settings.title == "审计整改" and settings.words["工作"] == "审计"


def test_default_profile_still_refuses_the_audit_words_naming_the_cell(tmp_path):
    headers = ["编号", "主题", "重点问题", "事项", "事项类型", "整改措施", "牵头单位", "完成时限", "完成情况", "整改进展"]
    rows = [[1, "预算执行审计", "预算管理不规范", "问题1", "具体问题", "措施甲", "财务处", "2024-06-30", "未整改", ""]]
    book = office_book(tmp_path / "审计.xlsx", headers, rows)
    problems: list[str] = []
    assert read_ledger(book, workspace_with(tmp_path, None), problems).measures == {}
    assert any("“未整改”无法识别" in p and "I3" in p for p in problems), problems
    audit = read_ledger(book, workspace_with(tmp_path, "审计整改"))
    assert audit.measures["1"].status == vocab.NOT_STARTED


SUPERVISION = (["序号", "来源", "交办事项", "承办单位", "交办日期", "办结时限", "办结情况", "办理进展"],
               [[1, "领导批示", "研究解决停车难问题", "办公室", "2024-03-05", "2024-05-31", "办结", ""],
                [2, "会议议定", "修订差旅管理办法", "财务处", "2024-03-08", "2024-09-30", "未办结", ""],
                [3, "", "回复群众来信", "医政处", "2024-04-01", "即办", "未办理", ""]])


def test_supervision_list_without_hierarchy_reads_with_source_as_theme_and_each_task_its_own_item(tmp_path):
    settings = workspace_with(tmp_path, "督查督办")
    ledger = read_ledger(office_book(tmp_path / "督办.xlsx", *SUPERVISION), settings)
    m = ledger.measures
    assert [(x.theme, x.key_problem, x.item, x.item_type) for x in m.values()] == [
        ("领导批示", "领导批示", "研究解决停车难问题", vocab.SPECIFIC),
        ("会议议定", "会议议定", "修订差旅管理办法", vocab.SPECIFIC),
        ("督办事项", "督办事项", "回复群众来信", vocab.SPECIFIC)]
    assert [x.status for x in m.values()] == [vocab.DONE, vocab.IN_PROGRESS, vocab.NOT_STARTED]
    assert m["3"].deadline == vocab.IMMEDIATE and m["2"].lead_unit == "财务处"


def test_unknown_profile_name_is_refused_in_chinese_with_the_nearest_name(tmp_path):
    with pytest.raises(ConfigError) as info:
        workspace_with(tmp_path, "审记整改")
    assert "是否想写“审计整改”" in str(info.value) and "督查督办" in str(info.value)


def test_office_profile_file_in_the_workspace_is_read(tmp_path):
    own = (profiles.FOLDER / "审计整改.toml").read_text(encoding="utf-8").replace(
        'name = "审计整改"', 'name = "内部审计"').replace('"未整改" = "未启动"', '"尚未整改" = "未启动"')
    (tmp_path / "内部审计.toml").write_text(own, encoding="utf-8")
    settings = workspace_with(tmp_path, "内部审计.toml")
    rows = [r[:8] + ["尚未整改", ""] for r in AUDIT[1]]
    ledger = read_ledger(office_book(tmp_path / "审计.xlsx", AUDIT[0], rows), settings)
    assert settings.profile == "内部审计" and {x.status for x in ledger.measures.values()} == {vocab.NOT_STARTED}


def test_init_with_profile_writes_a_config_naming_it_and_without_gives_the_default(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--profile", "审计整改", str(tmp_path / "a")]).exit_code == 0
    assert runner.invoke(cli, ["init", str(tmp_path / "b")], input="").exit_code == 0
    audit, default = config.load(tmp_path / "a"), config.load(tmp_path / "b")
    assert 'profile = "审计整改"' in (tmp_path / "a" / "config.toml").read_text(encoding="utf-8")
    assert (audit.profile, audit.title) == ("审计整改", "（请填写：整改工作名称，如 审计整改）")
    assert (default.profile, default.words["工作"]) == (profiles.DEFAULT, "巡视")
    bad = runner.invoke(cli, ["init", "--profile", "督察督办", str(tmp_path / "c")])
    assert bad.exit_code != 0 and "是否想写“督查督办”" in bad.output and not (tmp_path / "c").exists()


def output_texts(root: Path):
    """Every output text of a workspace: .md .txt .html .csv, and the XML text of .docx and .xlsx."""
    for path in sorted(root.rglob("*")):
        if path.name == config.CONFIG_NAME or not path.is_file():
            continue
        if path.suffix in (".md", ".txt", ".html", ".csv"):
            yield path, path.read_text(encoding="utf-8")
        elif path.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(path) as z:
                yield path, "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


MEASURE_WORDS = {vocab.DONE: "已完成", vocab.MOSTLY_DONE: "基本完成", vocab.IN_PROGRESS: "正在推进", vocab.NOT_STARTED: "尚未启动"}
TOTALS = {   # how each profile's paragraph states the total: (opening, unit, status words)
    "审计整改": ("共制定整改措施{total}条，", "条", MEASURE_WORDS),
    "民主生活会整改": ("共制定整改措施{total}条，", "条", MEASURE_WORDS),
    "督查督办": ("共{total}件，", "件", {vocab.DONE: "已办结", vocab.MOSTLY_DONE: "基本办结", vocab.IN_PROGRESS: "正在办理",
                                     vocab.NOT_STARTED: "尚未办理"}),
    "责任清单": ("共明确年度任务{total}项，目前", "项", {vocab.DONE: "已完成", vocab.MOSTLY_DONE: "基本完成",
                                                vocab.IN_PROGRESS: "序时推进", vocab.NOT_STARTED: "尚未开展"}),
}


@pytest.mark.parametrize("profile", ["审计整改", "督查督办", "责任清单", "民主生活会整改"])
def test_profile_demo_runs_end_to_end_never_says_xunshi_and_its_notice_adds_up(tmp_path, profile):
    target = tmp_path / profile
    result = CliRunner().invoke(cli, ["demo", "--profile", profile, str(target)])
    assert result.exit_code == 0, result.output
    notice = next(target.glob("output/*/通报/*/进展通报.md")).read_text(encoding="utf-8")
    texts = dict(output_texts(target))
    assert any(p.suffix == ".docx" for p in texts) and any("outbox" in p.parts for p in texts)
    assert [str(p.relative_to(target)) for p, t in texts.items() if "巡视" in t] == []
    assert f"根据{profiles.load(profile).work}" in notice
    ws = openpyxl.load_workbook(target / "master" / "整改台账.xlsx")[vocab.SHEET_LEDGER]
    head = [c.value for c in ws[2]]
    statuses = collections.Counter(r[head.index(vocab.STATUS)] for r in ws.iter_rows(min_row=3, values_only=True)
                                   if r[0] is not None)
    total = sum(statuses.values())
    assert total == 40
    lead, unit, words = TOTALS[profile]
    expected = lead.format(total=total) + "，".join(f"{words[s]}{statuses[s]}{unit}" for s in vocab.STATUSES if statuses[s])
    assert expected in notice
    words = profiles.load(profile).words()
    rate = re.search(words["措施称谓"] + words["完成率称谓"] + r"为([\d.]+)%", notice)
    assert rate and float(rate[1]) == round(100 * statuses[vocab.DONE] / total, 1)


def test_the_workspace_words_travel_with_its_settings_into_worker_threads(tmp_path):
    import threading
    settings = workspace_with(tmp_path / "督办", "督查督办")
    book = office_book(tmp_path / "督办.xlsx", *SUPERVISION)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(read_ledger(book, settings).measures["2"].status))
    worker.start()
    worker.join()
    assert seen == [vocab.IN_PROGRESS]
    assert normalize.status("未办结", settings.lexicon) == vocab.IN_PROGRESS


def test_supervision_paragraph_counts_by_source_and_names_the_units_with_open_tasks(tmp_path):
    target = tmp_path / "督办"
    assert CliRunner().invoke(cli, ["demo", "--profile", "督查督办", str(target)]).exit_code == 0
    text = next(target.glob("output/*/通报/*/公开进展段落.txt")).read_text(encoding="utf-8")
    ws = openpyxl.load_workbook(target / "master" / "整改台账.xlsx")[vocab.SHEET_LEDGER]
    head = [c.value for c in ws[2]]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] is not None]
    for source in ("领导批示", "会议议定", "信访转办"):
        mine = [r for r in rows if r[head.index("来源")] == source]
        done = sum(r[head.index(vocab.STATUS)] == vocab.DONE for r in mine)
        assert f"{source}{len(mine)}件，已办结{done}件" in text
    from toolkit.assessment import assess
    settings = config.load(target)
    by_unit = assess(read_ledger(settings.master, settings), settings).summary.by_unit   # each unit's own part
    for unit, c in by_unit.items():
        assert (f"{unit}{c.total - c.done}件" in text) == (c.total > c.done), unit
    assert "重点问题" not in text


@pytest.mark.parametrize("profile", ["责任清单", "民主生活会整改"])
def test_lists_without_key_problems_never_say_key_problem_in_their_paragraph(tmp_path, profile):
    target = tmp_path / profile
    assert CliRunner().invoke(cli, ["demo", "--profile", profile, str(target)]).exit_code == 0
    text = next(target.glob("output/*/通报/*/公开进展段落.txt")).read_text(encoding="utf-8")
    assert "重点问题" not in text and "共制定整改措施40条" in text or "共明确年度任务40项" in text


def test_one_workspace_words_never_leak_into_another_read_after_it(tmp_path):
    """Two workspaces in one process (the resident service): loading 督查督办 changes nothing for the default."""
    default = workspace_with(tmp_path / "巡视", None)
    workspace_with(tmp_path / "督办", "督查督办")
    assert normalize.status("未办结") is None and normalize.status("未办结", default.lexicon) is None
    with pytest.raises(LedgerError):             # 交办事项, 承办单位… are 督查督办's headers, not the default's
        read_ledger(office_book(tmp_path / "督办.xlsx", *SUPERVISION), default)
