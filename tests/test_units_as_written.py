"""Units as offices write them: roles beside names, a person beside a unit, two spellings of one unit,
names that make one file name, and a unit renamed after it reported."""
from dataclasses import replace

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import settings_for, small_ledger
from tests.office_books import office_workbook
from tests.test_office_ledgers import edited
from toolkit import vocab
from toolkit.check import check
from toolkit.cli import cli
from toolkit.errors import LedgerError
from toolkit.io.ledger_file import read_ledger


def test_a_role_written_beside_a_unit_is_its_role_not_a_new_unit(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-002", "责任单位"): "医政处（牵头）", ("ZG-002", "配合单位"): "市人民医院(配合)",
                   ("ZG-003", "责任单位"): "医政处（配合）、办公室", ("ZG-004", "责任单位"): "市人民医院 （牵头）",
                   ("ZG-005", "责任单位"): "办公室", ("ZG-005", "配合单位"): "医政处【牵头单位】"})
    ledger = read_ledger(book)
    assert sorted(ledger.units) == ["办公室", "医政处", "市人民医院"]
    m = ledger.measures
    assert (m["ZG-002"].lead_unit, m["ZG-002"].co_units) == ("医政处", ["市人民医院"])
    assert (m["ZG-003"].lead_unit, m["ZG-003"].co_units) == ("办公室", ["医政处"])      # 配合 in the 牵头 column
    assert (m["ZG-004"].lead_unit, m["ZG-004"].co_units) == ("市人民医院", [])
    assert (m["ZG-005"].lead_unit, m["ZG-005"].co_units) == ("医政处", ["办公室"])      # 牵头 in the 配合 column
    report = check(book, settings_for(tmp_path))
    text = "\n".join(report.lines())
    assert report.ok and "责任单位3个" in text, text
    assert "按角色读取，不是另外的单位" in text and "J6：医政处计为配合，办公室牵头" in text
    assert "J8：办公室计为配合，医政处牵头" in text


def test_a_lead_column_whose_units_are_all_marked_co_is_named(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()), {("ZG-003", "责任单位"): "医政处(配合)"})
    with pytest.raises(LedgerError) as err:
        read_ledger(book)
    assert "第6行“牵头单位”列（J6）的单位都标为（配合）" in str(err.value)


def test_a_person_typed_beside_a_unit_stops_the_read_and_check_names_the_cell(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-004", "责任单位"): "医政处 李某", ("ZG-002", "配合单位"): "市人民医院、王××"})
    with pytest.raises(LedgerError) as err:
        read_ledger(book)
    assert "（J7）“医政处 李某”中的“李某”像是人名而不是单位" in str(err.value)
    report = check(book, settings_for(tmp_path))
    text = "\n".join(report.lines())
    assert not report.ok and len(report.problems) == 2 and "“王××”像是人名" in text
    assert "李某" not in "".join(report.notes) and "责任单位" in text
    result = CliRunner().invoke(cli, ["check", str(book)])
    assert result.exit_code == 1 and "（K5）" in result.output and "“李某”像是人名而不是单位" in result.output


def test_a_unit_that_looks_like_a_name_is_read_once_the_config_says_it_is_a_unit(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()), {("ZG-004", "责任单位"): "医政处 李某"})
    ledger = read_ledger(book, settings_for(tmp_path, units={"李某": "李某"}))
    assert ledger.measures["ZG-004"].co_units == ["李某"]


def test_check_suggests_mapping_the_rare_abbreviation_to_the_common_full_name_and_the_suggestion_works(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-001", "责任单位"): "市卫健委综合服务中心", ("ZG-005", "责任单位"): "市卫生健康委综合服务中心",
                   ("ZG-006", "责任单位"): "市卫生健康委综合服务中心"})
    runner = CliRunner()
    first = runner.invoke(cli, ["check", str(book)])
    suggestion = '"市卫健委综合服务中心" = "市卫生健康委综合服务中心"'
    assert first.exit_code == 0 and "责任单位4个" in first.output
    assert "“市卫生健康委综合服务中心”（2条措施）与“市卫健委综合服务中心”（1条）可能是同一单位" in first.output
    assert suggestion in first.output, first.output
    from tests.test_check import FILLED
    from toolkit import config
    path = config.write_default(tmp_path, period="2024年8月", **FILLED)   # the office follows the suggestion
    path.write_text(path.read_text(encoding="utf-8").replace("[units]", f"[units]\n{suggestion}", 1), encoding="utf-8")
    second = runner.invoke(cli, ["check", str(book)])
    assert second.exit_code == 0 and "责任单位3个" in second.output and "可能是同一单位" not in second.output
    ledger = read_ledger(book, config.load(tmp_path))
    assert ledger.measures["ZG-001"].lead_unit == "市卫生健康委综合服务中心"


@pytest.mark.parametrize("long, short", [("区卫生健康局", "区卫健局"), ("市疾病预防控制中心", "市疾控中心"),
                                         ("市卫生健康委员会机关党委", "市卫健委机关党委")])
def test_a_long_form_and_its_abbreviation_are_questioned_as_one_unit(tmp_path, long, short):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-004", "责任单位"): short, ("ZG-005", "责任单位"): long, ("ZG-006", "责任单位"): long})
    report = check(book, settings_for(tmp_path))
    assert any(f'"{short}" = "{long}"' in s for s in report.suspicious), report.suspicious


def masked_workspace(tmp_path):
    """A workspace whose master names two hospitals masked as offices mask them: 市*医院 and 市**医院."""
    from toolkit.io import master_file
    from toolkit.io.ledger_file import owners_from_measures
    ledger = small_ledger()
    for mid, lead, co in (("ZG-002", "市**医院", ["市*医院"]), ("ZG-003", "市**医院", []), ("ZG-004", "市*医院", [])):
        ledger.measures[mid].lead_unit, ledger.measures[mid].co_units = lead, co
    ledger.owners = owners_from_measures(ledger.measures)
    settings = settings_for(tmp_path)
    settings = replace(settings, settle_seconds=0)
    master_file.write_master(ledger, settings)
    settings.path("inbox").mkdir(parents=True)
    return settings


def test_two_units_that_make_one_file_name_get_two_templates_and_their_returns_go_to_the_right_unit(tmp_path):
    from tests.conftest import fill
    from toolkit.consolidate import consolidate
    from toolkit.distribute import distribute
    settings = masked_workspace(tmp_path)
    done = distribute(settings)
    folder = settings.path("outbox") / "2024-08"
    on_disk = sorted(p.name for p in folder.iterdir())
    assert sorted(d.path.name for d in done) == on_disk == sorted(["办公室.xlsx", "市＊医院.xlsx", "市＊＊医院.xlsx"])
    assert all(d.written for d in done)
    for d in done:                                   # each file is that unit's, with that unit's rows
        meta = openpyxl.load_workbook(d.path)[vocab.SHEET_META]
        assert meta["B1"].value == d.unit
    assert {d.unit: d.rows for d in done} == {"办公室": 3, "市**医院": 2, "市*医院": 2}
    assert not any(d.written for d in distribute(settings))          # nothing overwrote anything: all unchanged
    fill(folder / "市＊＊医院.xlsx", {"ZG-003": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "两星已办结"}},
         settings.path("inbox") / "市＊＊医院.xlsx")
    fill(folder / "市＊医院.xlsx", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "一星推进中"}},
         settings.path("inbox") / "市＊医院(1).xlsx")
    outcome = consolidate(settings)
    assert sorted((f.unit, f.accepted) for f in outcome.files) == [("市**医院", 2), ("市*医院", 2)], outcome.lines()
    ledger = read_ledger(settings.master, settings)
    assert ledger.measures["ZG-003"].status == vocab.DONE and ledger.measures["ZG-003"].progress == "两星已办结"
    assert ledger.measures["ZG-004"].status == vocab.IN_PROGRESS and ledger.measures["ZG-004"].progress == "一星推进中"


def rename_in_master(settings, edits):
    """The office edits unit cells of the master's 整改台账 sheet by (measure id, column)."""
    from tests.conftest import ledger_sheet
    wb, ws, cols, rows = ledger_sheet(settings.master)
    for (mid, column), value in edits.items():
        ws.cell(rows[mid], cols[column]).value = value
    wb.save(settings.master)


def reported_by_yizheng(workspace):
    """医政处 reports ZG-002 (co-owned with 市人民医院) and ZG-003 (its own), and it is taken in."""
    from tests.conftest import hand_in
    from toolkit.consolidate import consolidate
    hand_in(workspace, "医政处", {"ZG-002": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "医政处牵头的部分已完成"},
                                 "ZG-003": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "健康行动方案已印发"}})
    assert consolidate(workspace).files[0].accepted == 2


def test_a_unit_renamed_in_the_master_after_it_reported_keeps_its_reports(workspace):
    from toolkit.consolidate import consolidate
    reported_by_yizheng(workspace)
    rename_in_master(workspace, {("ZG-002", vocab.LEAD_UNIT): "医政管理处", ("ZG-003", vocab.LEAD_UNIT): "医政管理处"})
    ledger = read_ledger(workspace.master, workspace)
    own = ledger.owners[("ZG-002", "医政管理处")]
    assert (own.status, own.progress) == (vocab.DONE, "医政处牵头的部分已完成")
    assert ledger.owners[("ZG-003", "医政管理处")].status == vocab.DONE
    assert ledger.measures["ZG-003"].progress == "健康行动方案已印发"
    assert any("“医政处”在台账中已改为“医政管理处”" in n for n in ledger.read_notes), ledger.read_notes
    result = consolidate(workspace)                 # nothing new: the renamed unit has still reported this period
    assert "医政管理处" in result.submitted_units and "医政管理处" not in result.missing_units
    after = read_ledger(workspace.master, workspace)
    assert after.owners[("ZG-002", "医政管理处")].progress == "医政处牵头的部分已完成"
    assert not any("医政处" in n for n in after.read_notes)       # said once; the master now holds the new name


def test_a_report_whose_unit_no_longer_owns_the_measure_is_named_and_follows_a_units_alias(workspace):
    reported_by_yizheng(workspace)
    rename_in_master(workspace, {("ZG-002", vocab.LEAD_UNIT): "医政管理处", ("ZG-002", vocab.CO_UNITS): "市第一医院",
                                 ("ZG-003", vocab.LEAD_UNIT): "医政管理处"})
    ledger = read_ledger(workspace.master, workspace)   # ZG-002 has two new units: which one was 医政处?
    assert ledger.owners[("ZG-002", "医政管理处")].status == vocab.IN_PROGRESS      # the measure's, not 医政处's
    text = "\n".join(ledger.read_notes)
    assert "措施“ZG-002”的“医政处”" in text and "不再计入" in text and '"原名称" = "新名称"' in text
    workspace = replace(workspace, unit_map={"医政处": ["医政管理处"]})
    aliased = read_ledger(workspace.master, workspace)
    own = aliased.owners[("ZG-002", "医政管理处")]
    assert (own.status, own.progress) == (vocab.DONE, "医政处牵头的部分已完成")
    assert "按配置[units]" in "\n".join(aliased.read_notes)


def test_a_template_issued_before_the_rename_is_taken_in_for_the_new_name_by_the_units_alias(workspace):
    from tests.conftest import fill
    from toolkit.consolidate import consolidate
    from toolkit.distribute import distribute
    old = {d.unit: d.path for d in distribute(workspace)}["医政处"]
    rename_in_master(workspace, {("ZG-002", vocab.LEAD_UNIT): "医政管理处", ("ZG-003", vocab.LEAD_UNIT): "医政管理处"})
    fill(old, {"ZG-003": {vocab.STATUS: vocab.DONE}}, workspace.path("inbox") / "医政处.xlsx")
    refused = consolidate(workspace)
    assert refused.files[0].accepted == 0 and "“医政处” = " not in "\n".join(refused.lines())
    assert [(p.kind, p.params, p.sheet) for p in refused.files[0].submission.problems] == [
        ("template-unit-unknown", {"unit": "医政处"}, vocab.SHEET_META)]
    workspace = replace(workspace, unit_map={"医政处": ["医政管理处"]})          # the office says so, and takes the file in again
    taken = consolidate(workspace, again=[refused.files[0].archived])
    assert (taken.files[0].unit, taken.files[0].accepted) == ("医政管理处", 2), taken.lines()
    assert "按“医政管理处”汇总" in "".join(taken.files[0].submission.notes)
    assert read_ledger(workspace.master, workspace).owners[("ZG-003", "医政管理处")].status == vocab.DONE
