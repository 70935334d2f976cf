"""Click's own words are Chinese too (the seam: click's gettext names, see toolkit/click_zh.py)."""
import click
import pytest
from click.testing import CliRunner

from toolkit import click_zh
from toolkit.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_help_is_chinese():
    out = run("--help").output
    assert out.startswith("用法：cli [OPTIONS]") and "选项：" in out and "命令：" in out and "显示本帮助并退出。" in out
    assert "Usage" not in out and "Options" not in out and "Show this" not in out


@pytest.mark.parametrize("args, says", [
    (["nightlly"], "错误：没有命令 'nightlly'。"),
    (["nightlly"], "是否想输入 'nightly'?"),
    (["consolidate", "--confg", "x"], "错误：没有选项 '--confg'。"),
    (["notice", "--kind", "周报"], "'--kind' 的值无效：'周报' 不在可选值 '通报', '督办单', '公开' 中。"),
    (["notice", "--date", "8月"], "'--date' 的值无效：'8月' 不符合格式 '%Y-%m-%d'。"),
    (["schedule", "--every", "z"], "'--every' 的值无效：'z' 不是有效的数字。"),
    (["init", "a", "b"], "多余的参数（b）"),
    (["consolidate", "-c"], "选项 '-c' 需要一个值。"),
])
def test_usage_errors_are_chinese(args, says):
    result = run(*args)
    assert result.exit_code == 2 and says in result.output
    assert "Usage" not in result.output and "Error" not in result.output and "Try" not in result.output
    assert result.output.count("错误：") == 1


def test_a_missing_argument_is_chinese():
    click_zh.install()

    @click.command()
    @click.argument("folder")
    def needs(folder):
        """A command with a required argument."""
    result = CliRunner().invoke(needs, [])
    assert "错误：缺少参数“FOLDER”。" in result.output


def test_every_message_in_the_table_is_one_click_still_uses():
    """The seam holds: click still looks these texts up through the names install() rebinds."""
    import importlib
    import inspect
    source = "".join(inspect.getsource(importlib.import_module(f"click.{m}")) for m in click_zh.MODULES)
    for text in list(click_zh.MESSAGES) + list(click_zh.PLURALS):
        assert repr(text)[1:-1] in source or text in source, text
    for name in click_zh.MODULES:
        module = importlib.import_module(f"click.{name}")
        assert getattr(module, "_", click_zh.gettext) is click_zh.gettext


def test_a_file_that_fails_to_close_at_exit_does_not_print_a_second_english_traceback():
    import subprocess
    import sys
    code = ("import sys, toolkit.cli as c\n"
            "sys.unraisablehook = c._quiet_unraisable\n"
            "class Handle:\n"
            "    def __del__(self):\n"
            "        raise OSError(28, 'No space left on device')\n"
            "h = Handle(); del h\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    plain = subprocess.run([sys.executable, "-c", code.replace("sys.unraisablehook = c._quiet_unraisable\n", "")],
                           capture_output=True, text=True)
    assert "Exception ignored" in plain.stderr                  # what the hook keeps off the console
