"""Click's own words (usage line, help headings, usage errors) in Chinese.

Click looks every message up through gettext names bound in its modules (`_`, `ngettext`);
install() rebinds those names to a lookup in the table below. This is click's internals, so
setup.cfg pins click below 9 and tests/test_cli_zh.py checks that the seam still holds.
"""
from __future__ import annotations

import importlib

import click.exceptions
import click.formatting

MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types")

MESSAGES = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Aborted!": "已中止！",
    "default: {default}": "默认：{default}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
}

PLURALS = {   # singular English form → (Chinese for one, Chinese for several)
    "Got unexpected extra argument ({args})": ("多余的参数（{args}）",) * 2,
    "Did you mean {possibility}?": ("是否想输入 {possibility}?", "是否想输入以下之一：{possibilities}?"),
    "Option {name!r} requires an argument.": ("选项 {name!r} 需要一个值。", "选项 {name!r} 需要 {nargs} 个值。"),
    "{value!r} is not {choice}.": ("{value!r} 不是可选值 {choice}。", "{value!r} 不在可选值 {choices} 中。"),
    "{value!r} does not match the format {format}.": ("{value!r} 不符合格式 {format}。", "{value!r} 不符合格式 {formats}。"),
}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    one, several = PLURALS.get(singular, (singular, plural))
    return one if n == 1 else several


_click_write_usage = click.formatting.HelpFormatter.write_usage


def _write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
    """“用法：python -m toolkit …”: the full-width colon needs no space after it."""
    _click_write_usage(self, prog, args, "用法：" if prefix is None else prefix)


def _write_heading(self, heading: str) -> None:
    """Section headings of --help end in a full-width colon (选项：, 命令：)."""
    self.write(f"{'':>{self.current_indent}}{heading}：\n")


def _missing_message(self) -> str:
    """“缺少参数“编号…”。”: click's missing-parameter line, with Chinese quotes and full stop."""
    hint = self.param_hint if self.param_hint is not None else (
        self.param.get_error_hint(self.ctx) if self.param is not None else "")
    hint = hint if isinstance(hint, str) else " / ".join(hint)
    kind = self.param_type or (self.param.param_type_name if self.param is not None else "parameter")
    missing = gettext("Missing option" if kind == "option" else "Missing argument")
    extra = self.param.type.get_missing_message(param=self.param, ctx=self.ctx) if self.param is not None else ""
    return f"{missing}“{hint.replace(chr(39), '')}”。" + "".join(m for m in (self.message, extra) if m)


def install() -> None:
    """Rebind click's message lookups to the Chinese table (idempotent)."""
    click.formatting.HelpFormatter.write_heading = _write_heading
    click.formatting.HelpFormatter.write_usage = _write_usage
    click.exceptions.MissingParameter.format_message = _missing_message
    for name in MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
