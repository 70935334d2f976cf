"""README's command table names functions that exist, and every command that writes names a guarded
Workspace operation (run lock, open-file check), not the unlocked function inside it."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITES = ("distribute", "consolidate", "notice", "refresh", "nightly", "remind", "review", "history", "init")


def command_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## 命令")[1].split("\n## ")[0]
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| `")]
    return {re.match(r"\s*`(\w+)", cells[0]).group(1): cells[2].strip() for cells in rows}


def resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    if module == "Workspace":
        from toolkit.app import Workspace
        return getattr(Workspace, attr)
    return getattr(importlib.import_module(f"toolkit.{module}"), attr)


def test_every_core_function_in_the_command_table_exists():
    for command, cell in command_table().items():
        for name in re.findall(r"`([\w.]+)`", cell):
            assert resolve(name), (command, name)


def test_commands_that_write_name_a_workspace_operation():
    table = command_table()
    for command in WRITES:
        assert table[command].startswith("`Workspace."), (command, table[command])
