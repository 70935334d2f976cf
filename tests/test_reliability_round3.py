"""Reliability, third round (issue 22 re-run with new cases): each test is a case that broke — an inbox
pointed into another workspace, a history.sqlite emptied or replaced by a folder, a zip with two entries
of one name, a 7z or RAR package named .zip — run on real files, mostly through the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_workspace_folders import set_paths
from toolkit import config
from toolkit.app import Workspace
from toolkit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    """python -m toolkit as the office runs it; never a traceback."""
    done = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert "Traceback" not in done.stderr + done.stdout
    return done


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- an inbox inside another workspace

@pytest.mark.parametrize("inside", [".", "archive", "archive/2024-08", "output", "backup", "master"])
def test_an_inbox_pointed_at_or_into_another_workspace_is_refused_and_takes_nothing_from_it(tmp_path, inside):
    first = Workspace.init(tmp_path / "甲办")
    Workspace.init(tmp_path / "乙办")
    (first.settings.path("archive") / "2024-08").mkdir()
    (first.settings.path("archive") / "2024-08" / "医政处_20240820-100000_ab.xlsx").write_bytes(b"an archived original")
    (first.settings.path("output") / "回执.txt").write_text("a receipt", encoding="utf-8")
    (first.settings.path("backup") / "整改台账_1.xlsx").write_bytes(b"a backup")
    before = tree(tmp_path / "甲办")
    set_paths(tmp_path / "乙办", inbox=str((tmp_path / "甲办" / inside).resolve()))
    done = cli("consolidate", "-c", str(tmp_path / "乙办"))
    assert done.returncode == 1
    assert "另一个工作区" in done.stderr and str(tmp_path / "甲办" / config.CONFIG_NAME) in done.stderr
    assert "[paths] inbox" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert tree(tmp_path / "甲办") == before


@pytest.mark.parametrize("inbox, key", [("archive/2024-08", "paths.archive"), ("output/收件", "paths.output"),
                                        ("outbox/2024-08", "paths.outbox")])
def test_an_inbox_inside_a_folder_the_workspace_writes_itself_is_refused_at_load(tmp_path, inbox, key):
    (tmp_path / config.CONFIG_NAME).write_text(f'[paths]\ninbox = "{inbox}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        config.load(tmp_path)


def test_a_shared_inbox_outside_every_workspace_still_runs(tmp_path):
    Workspace.init(tmp_path / "甲办")
    (tmp_path / "共享收件箱").mkdir()
    set_paths(tmp_path / "甲办", inbox=str(tmp_path / "共享收件箱"))
    assert cli("consolidate", "-c", str(tmp_path / "甲办")).returncode == 0
