"""A reference date in a year the holiday table (chinesecalendar) does not know: every command says so
in one Chinese line, never a raw Python warning; the run report carries that line once."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from toolkit import demo
from toolkit.app import Workspace
from toolkit.cli import cli

LINE = "提示：2099年的法定节假日尚未收录，暂按周一至周五计算工作日；可在配置 [calendar] 中补充该年的节假日与调休上班日。"


@pytest.fixture(scope="module")
def workspace_in_2099(tmp_path_factory):
    root = tmp_path_factory.mktemp("y2099") / "demo"
    demo.stage_demo(root)
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^reference_date\s*=.*$", 'reference_date = "2099-08-31"', text), encoding="utf-8")
    return root


def test_the_run_report_says_once_that_the_year_is_unknown(workspace_in_2099, recwarn):
    report = Workspace.open(workspace_in_2099).run_once()
    written = report.report_path.read_text(encoding="utf-8").splitlines()
    assert written.count(LINE) == 1
    assert not [w for w in recwarn if "2099" in str(w.message)]


@pytest.mark.parametrize("command", ["refresh", "remind", "check", "notice"])
def test_each_command_says_once_that_the_year_is_unknown_without_a_python_warning(workspace_in_2099, command):
    result = CliRunner().invoke(cli, [command, "-c", str(workspace_in_2099)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.output.splitlines().count(LINE) == 1, result.output
    assert "CalendarWarning" not in result.output and "warnings.warn" not in result.output
