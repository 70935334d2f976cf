"""Results are data: a run, a consolidation, a refresh and a rejected file serialise to JSON, and the text the
run report, the log, the CLI and the Excel button show is rendered from that data (so a service renders the same)."""
import datetime as dt
import json

from click.testing import CliRunner

from tests.conftest import hand_in
from toolkit import vocab, words
from toolkit.app import Workspace
from toolkit.assessment import assess
from toolkit.cli import cli
from toolkit.consolidate import consolidate
from toolkit.io.ledger_file import read_ledger
from toolkit.results import Written, as_json, consolidation_data, consolidation_lines, report_lines


def test_a_run_report_renders_the_same_text_from_its_json(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "已印发方案"}})
    report = Workspace(workspace).run_once()
    data = json.loads(as_json(report))
    assert report_lines(data) == report.lines()
    assert data["consolidation"]["applied"] == 1 and data["consolidation"]["files"][0]["unit"] == "办公室"
    assert data["figures"]["done"] == report.figures.done and data["report_path"] == str(report.report_path)
    assert data["summary"][0] == report.lines()[0]
    assert data["summary"][-2:] == [line for line in report.lines() if line.startswith(("总体完成率", "逾期未完成"))]


def test_a_rejected_rows_problem_carries_its_location_in_the_json(workspace):
    hand_in(workspace, "医政处", {"ZG-002": {vocab.STATUS: "差不多了"}})
    result = consolidate(workspace)
    data = json.loads(json.dumps(consolidation_data(result), ensure_ascii=False))
    problems = data["files"][0]["problems"]
    assert problems, data["files"]
    where = problems[0]["location"]
    assert problems[0]["kind"] == "status-unknown" and where["file"] == "医政处.xlsx"
    assert problems[0]["params"]["value"] == "差不多了" and problems[0]["family"] == "input"
    assert where["sheet"] == vocab.SHEET_LEDGER and where["column"] == vocab.STATUS and where["row"] >= 3
    assert where["cell"].endswith(str(where["row"])) and problems[0]["fix"]
    assert consolidation_lines(data) == result.lines()


def test_the_consolidation_summary_always_names_the_master_the_missing_units_and_the_receipts(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    result = consolidate(workspace)
    summary = consolidation_data(result)["summary"]
    assert summary[0].startswith(f"汇总（{workspace.current_period()}）：收到1个文件，采纳1个")
    assert summary[1] == f"台账已更新：{workspace.master}"
    assert summary[2].startswith("本期尚未报送（2个）") and summary[3].startswith("回执（1份）")


def test_refresh_and_nightly_print_json_for_scripts(workspace):
    (workspace.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n', encoding="utf-8")
    runner = CliRunner()
    refreshed = runner.invoke(cli, ["refresh", "-c", str(workspace.root), "--json"])
    assert refreshed.exit_code == 0, refreshed.output
    data = json.loads(refreshed.output)
    assert data["master"] == str(workspace.master) and data["figures"]["total"] == 6
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}}, when=dt.datetime(2024, 8, 20, 10))
    nightly = runner.invoke(cli, ["nightly", "-c", str(workspace.root), "--json"])
    assert nightly.exit_code == 0, nightly.output
    assert json.loads(nightly.stdout)["consolidation"]["received"] == 1


def test_a_failed_command_gives_its_problem_as_json_or_one_line_with_the_guidance(workspace):
    runner = CliRunner()
    missing = str(workspace.root / "没有这个文件夹")
    failed = runner.invoke(cli, ["refresh", "-c", missing, "--json"])
    assert failed.exit_code == 1
    problem = json.loads(failed.stdout)
    assert problem["family"] == "input" and problem["type"] == "ConfigError" and problem["kind"] == "config-missing"
    assert problem["location"] == {"file": str(workspace.root / "没有这个文件夹" / "config.toml")}
    text = runner.invoke(cli, ["refresh", "-c", missing])
    assert text.exit_code == 1 and text.output.startswith("错误：找不到配置文件") and len(text.output.splitlines()) == 1
    assert text.output.strip().endswith(words.GUIDANCE[words.INPUT])


def test_written_files_serialise_with_their_warnings_and_figures(workspace):
    assessment = assess(read_ledger(workspace.master, workspace), workspace)
    written = Written([workspace.master], ["未安装 LibreOffice，未生成 PDF"], assessment)
    data = json.loads(as_json(written))
    assert data == {"paths": [str(workspace.master)], "warnings": ["未安装 LibreOffice，未生成 PDF"],
                    "figures": {**data["figures"], "total": 6, "done": 2}}
