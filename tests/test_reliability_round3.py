"""Reliability, third round (issue 22 re-run with new cases): each test is a case that broke — an inbox
pointed into another workspace, a history.sqlite emptied or replaced by a folder, a zip with two entries
of one name, a 7z or RAR package named .zip — run on real files, mostly through the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.conftest import fill, hand_in, small_ledger
from tests.test_workspace_folders import set_paths
from toolkit import config, vocab, words
from toolkit.app import Workspace
from toolkit.distribute import distribute
from toolkit.errors import ConfigError, FileAccessError
from toolkit.io import evidence, master_file
from toolkit.io.history_db import HistoryDB
from toolkit.io.ledger_file import read_ledger

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


# ---------------------------------------------------------------- history.sqlite emptied or replaced

def ran_once(tmp_path: Path):
    """A workspace whose history holds 医政处's 已完成 on ZG-002, and 办公室's file waiting in the inbox."""
    s = settings_on_disk(tmp_path)
    hand_in(s, "医政处", {"ZG-002": {vocab.STATUS: vocab.DONE}})
    assert cli("consolidate", "-c", str(s.root)).returncode == 0
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    for tail in ("-wal", "-shm"):
        Path(f"{s.root / vocab.HISTORY_DB}{tail}").unlink(missing_ok=True)
    return s


def settings_on_disk(tmp_path: Path):
    """The small ledger in a workspace the CLI can open (config.toml on disk), nothing run yet."""
    Workspace.init(tmp_path)
    (tmp_path / config.CONFIG_NAME).write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nsubmit_by = "2024-08-25"\n'
        'notice_pdf = false\n[limits]\nsettle_seconds = 0\n', encoding="utf-8")
    s = config.load(tmp_path)
    master_file.write_master(small_ledger(), s)
    for made in s.path("backup").iterdir():      # the office put its ledger in place of init's blank one
        made.unlink()
    return s


def credited_to_the_unit(s) -> bool:
    with HistoryDB(s.root / vocab.HISTORY_DB, read_only=True) as db:
        return any(c.field == vocab.STATUS and c.unit == "医政处" and c.new == vocab.DONE and c.from_file
                   for c in db.changes("ZG-002"))


@pytest.mark.parametrize("replace_with", ["empty file", "folder"])
def test_a_history_database_emptied_or_replaced_by_a_folder_is_set_aside_and_rebuilt_and_the_run_goes_on(
        tmp_path, replace_with):
    s = ran_once(tmp_path)
    db = s.root / vocab.HISTORY_DB
    assert credited_to_the_unit(s)
    db.unlink()
    if replace_with == "folder":
        db.mkdir()
        (db / "某人的文件.txt").write_text("kept", encoding="utf-8")
    else:
        db.write_bytes(b"")
    done = cli("consolidate", "-c", str(s.root))
    assert done.returncode == 0
    line = next(x for x in done.stdout.splitlines() if "history.sqlite" in x)
    assert "已原样移到" in line and "按归档文件重建" in line
    assert credited_to_the_unit(s)                   # the unit's file, not 初始导入, made ZG-002 已完成
    assert read_ledger(s.master).measures["ZG-001"].status == vocab.DONE
    aside = [p for p in s.root.iterdir() if p.name.startswith("history.损坏-")]
    if replace_with == "folder":
        assert (aside[0] / "某人的文件.txt").read_text(encoding="utf-8") == "kept"


def test_a_folder_in_the_databases_place_is_named_when_it_cannot_be_opened(tmp_path):
    (tmp_path / "h.sqlite").mkdir()
    with pytest.raises(FileAccessError) as caught:
        HistoryDB(tmp_path / "h.sqlite")
    assert str(tmp_path / "h.sqlite") in str(caught.value) and "文件夹" in str(caught.value)


# ---------------------------------------------------------------- a package that is not what it says

def test_two_evidence_entries_of_one_name_are_both_refused_never_stored_as_the_same_bytes_twice(workspace):
    s = workspace
    (d,) = distribute(s, ["医政处"])
    book = fill(d.path, {"ZG-003": {vocab.STATUS: vocab.IN_PROGRESS, vocab.PROGRESS: "已召开专题会"}},
                s.root / "filled.xlsx")
    with warnings.catch_warnings(), zipfile.ZipFile(s.path("inbox") / "医政处佐证.zip", "w") as zf:
        warnings.simplefilter("ignore")                  # zipfile warns of the duplicate name, as it should
        zf.write(book, "医政处.xlsx")
        zf.writestr("ZG-003/会议纪要.pdf", b"%PDF-1.4 the minutes")
        zf.writestr("ZG-003/会议纪要.pdf", b"%PDF-1.4 a different file under the same name")
        zf.writestr("ZG-003/签到表.pdf", b"%PDF-1.4 sign-in sheet")
    result = Workspace(s).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert read_ledger(s.master).measures["ZG-003"].progress == "已召开专题会"
    folder = s.path("archive") / "2024-08" / evidence.FOLDER / "医政处" / "ZG-003"
    assert evidence.stored_files(folder) == ["签到表.pdf"]
    receipt = result.receipts[0].read_text(encoding="utf-8")
    refused = [x for x in receipt.splitlines() if "“ZG-003/会议纪要.pdf”" in x]
    assert len(refused) == 2 and all("同名" in x and "重新打包" in x for x in refused)


@pytest.mark.parametrize("name, head, says", [
    ("市人民医院佐证.zip", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(200), "file-other-archive"),
    ("市人民医院佐证.zip", b"Rar!\x1a\x07\x01\x00" + bytes(200), "file-other-archive"),
    ("市人民医院佐证.rar", b"Rar!\x1a\x07\x00" + bytes(200), "file-other-archive"),
    ("市人民医院佐证.zip", b"PK\x03\x04" + bytes(200), "file-damaged"),        # cut short: no directory
    ("市人民医院佐证.zip", b"", "file-empty"),
], ids=["7z-named-zip", "rar-named-zip", "rar", "cut-short-zip", "empty-zip"])
def test_a_package_that_cannot_be_unpacked_asks_for_a_zip_again_not_for_an_xlsx_alone(workspace, name, head, says):
    s = workspace
    (s.path("inbox") / name).write_bytes(head)
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    result = Workspace(s).consolidate()
    (problem,) = next(f for f in result.files if f.submission.name == name).submission.problems
    assert problem.kind == says and problem.fix == words.FIXES["resend-package"]
    assert read_ledger(s.master).measures["ZG-001"].status == vocab.DONE
