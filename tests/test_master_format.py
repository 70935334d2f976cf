"""A master kept as .ods, .xls or .xlsm is never overwritten with .xlsx bytes under its old name:
the writing operations stop before anything changes and say how to save it as .xlsx; after that
the run takes in what was waiting."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import hand_in
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.check import check
from toolkit.errors import LedgerError
from toolkit.io import master_file, office
from toolkit.io.fileio import file_sha256
from toolkit.io.ledger_file import read_ledger

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")


def kept_as(workspace, fmt: str):
    """The workspace's master saved in another format by LibreOffice (or renamed, for .xlsm), and
    the config pointing at it, as an office that keeps its ledger that way has it."""
    if fmt == "xlsm":
        target = workspace.master.with_suffix(".xlsm")
        shutil.copy(workspace.master, target)
    else:
        target = office.convert(workspace.master, fmt, workspace.master.parent / "kept")
    workspace.master.unlink()
    workspace.paths["master"] = str(target)
    return target


@needs_lo
def test_a_master_kept_as_ods_is_not_overwritten_and_the_run_says_how_to_save_it_as_xlsx(workspace):
    ods = kept_as(workspace, "ods")
    before = file_sha256(ods)
    waiting = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    with pytest.raises(LedgerError) as err:
        Workspace(workspace).consolidate()
    message = str(err.value)
    assert ods.name in message and "另存为" in message and "整改台账.xlsx" in message and "master" in message
    assert file_sha256(ods) == before and waiting.exists()
    assert not list(ods.parent.glob("*.xlsx"))

    report = check(ods, workspace)                  # check reads it and says the same
    assert any("另存为" in p for p in report.problems)

    saved = office.convert(ods, "xlsx", ods.parent)   # the office follows the message
    workspace.paths["master"] = str(saved)
    result = Workspace(workspace).consolidate()
    assert [f.outcome for f in result.files] == [vocab.OUTCOME_ACCEPTED]
    assert read_ledger(saved).measures["ZG-001"].status == vocab.DONE
    assert file_sha256(ods) == before


@pytest.mark.parametrize("fmt", [pytest.param("xls", marks=needs_lo), pytest.param("ods", marks=needs_lo), "xlsm"])
def test_refresh_leaves_a_master_in_another_format_untouched(workspace, fmt):
    kept = kept_as(workspace, fmt)
    before = file_sha256(kept)
    with pytest.raises(LedgerError) as err:
        Workspace(workspace).refresh_master()
    assert kept.name in str(err.value) and "另存为" in str(err.value)
    assert file_sha256(kept) == before
    assert sorted(p.name for p in kept.parent.iterdir() if not p.name.startswith(".")) == [kept.name]


def test_an_xlsm_master_is_refused_because_its_macros_would_be_lost(workspace):
    xlsm = kept_as(workspace, "xlsm")
    with pytest.raises(LedgerError, match="宏也会丢失"):
        master_file.write_master(read_ledger(xlsm, workspace), workspace)


def test_a_file_named_xlsx_that_is_not_an_xlsx_package_is_not_written_over(workspace):
    workspace.master.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600)      # an .xls renamed to .xlsx
    assert "不是 .xlsx 工作簿" in master_file.format_problem(workspace.master)


def test_an_xlsx_master_has_no_format_problem(workspace):
    assert master_file.format_problem(workspace.master) == ""
