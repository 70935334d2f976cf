"""A run whose config.toml still holds init's programme_start placeholder says so in one 提示 line of its report
(the key, the date used in its place, the fix), instead of silently counting 立行立改 from 2024-03-01."""
from click.testing import CliRunner

from toolkit.app import Workspace
from toolkit.cli import cli

PLACEHOLDER = '"（请填写：整改启动日期，如 2024-03-01）"'


def start_lines(report) -> list[str]:
    return [line for line in report.report_path.read_text(encoding="utf-8").splitlines() if "programme_start" in line]


def test_a_run_with_the_start_date_placeholder_says_so_in_one_line_naming_the_key_the_date_used_and_the_fix(tmp_path):
    folder = tmp_path / "新台账"
    assert CliRunner().invoke(cli, ["init", str(folder)]).exit_code == 0
    report = Workspace.open(folder).run_once()
    lines = start_lines(report)
    assert len(lines) == 1
    assert lines[0].startswith(f"提示：配置文件 {folder / 'config.toml'} 中 programme_start = “（请填写：")
    assert "按2024年3月1日计算" in lines[0] and 'programme_start = "2024-05-06"' in lines[0]


def test_once_the_start_date_is_filled_even_a_quick_rerun_no_longer_mentions_it(tmp_path):
    folder = tmp_path / "新台账"
    assert CliRunner().invoke(cli, ["init", str(folder)]).exit_code == 0
    assert start_lines(Workspace.open(folder).run_once())
    config = folder / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(PLACEHOLDER, '"2024-03-01"'), encoding="utf-8")
    report = Workspace.open(folder).run_once()       # the same settings as before: the quick rerun
    assert report.quick and start_lines(report) == []
