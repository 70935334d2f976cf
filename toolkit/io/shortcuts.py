"""Double-clickable shortcuts in the workspace: the buttons' operations without macros.

For offices where Excel may not run macros or start Python (policy, WPS without VBA, Excel for
Mac): each shortcut runs one CLI command on the folder it sits in, with the interpreter that
wrote it, and keeps its window open so the user reads the Chinese result.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

# shortcut name → CLI command
COMMANDS = {"汇总报送": "consolidate", "生成通报": "notice", "分发模板": "distribute", "刷新统计": "refresh",
            "催报": "remind"}


def cmd_text(title: str, command: str, python: str) -> str:
    """A Windows .cmd: UTF-8 after chcp 65001; "%~dp0." because a path ending in \\" would escape the quote."""
    return "\r\n".join([
        "@chcp 65001 >nul",
        "@echo off",
        f"title {title}",
        "set PYTHONUTF8=1",
        f'"{python}" -m toolkit {command} -c "%~dp0."',
        "if errorlevel 1 (",
        "  echo.",
        f"  echo {title}未完成：请按上面的提示处理后再双击运行。",
        "  pause",
        "  exit /b 1",
        ")",
        "echo.",
        f"echo {title}完成。",
        "pause",
        "",
    ])


def sh_text(title: str, command: str, python: str) -> str:
    """The Linux twin: runs on the folder it sits in; waits for Enter only when a terminal is attached."""
    return "\n".join([
        "#!/bin/sh",
        f"# {title}：双击运行（在终端中运行），作用于本文件所在的工作文件夹。",
        'here=$(cd "$(dirname "$0")" && pwd)',
        f'{shlex.quote(python)} -m toolkit {command} -c "$here"',
        "status=$?",
        "echo",
        f'if [ $status -ne 0 ]; then echo "{title}未完成：请按上面的提示处理后再运行。"; '
        f'else echo "{title}完成。"; fi',
        'if [ -t 0 ]; then printf "按回车键关闭……"; read _; fi',
        "exit $status",
        "",
    ])


def write_shortcuts(root: Path, python: str | None = None) -> list[Path]:
    """Write 汇总报送.cmd/.sh and the others into root; python defaults to the running interpreter."""
    root = Path(root)
    python = python or sys.executable
    written = []
    for title, command in COMMANDS.items():
        cmd = root / f"{title}.cmd"
        cmd.write_bytes(cmd_text(title, command, python).encode("utf-8"))
        sh = root / f"{title}.sh"
        sh.write_bytes(sh_text(title, command, python).encode("utf-8"))
        sh.chmod(0o755)
        written += [cmd, sh]
    return written
