"""Shared fixtures: a small real ledger on disk, and helpers that act like a unit filling its workbook."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from toolkit import config, vocab
from toolkit.io import master_file
from toolkit.io.ledger_file import owners_from_measures
from toolkit.model import Ledger, Measure

REF = dt.date(2024, 8, 30)  # a Friday

MERGES_COMPARED: list[int] = []     # how many runs took the merges' record and matched a replay (test_history counts)


@pytest.fixture(autouse=True)
def merges_record_what_a_replay_records(monkeypatch):
    """Every run of every test that records its files' changes from the consolidation's own merges
    (history.merged_changes) is checked against replaying the files (history.replay, the way it was done before):
    the same rows, in the same order, and nothing left for diff_ledgers."""
    import copy

    from toolkit import history
    real = history.run_changes

    def both(db, settings, before, after, source=vocab.SOURCE_OFFICE, submissions=None, *, period, merged=None):
        got = real(db, settings, before, after, source, submissions, period=period, merged=merged)
        receipts = history.new_receipts(before.log, after.log)
        if merged is not None and list(merged) == [r.sha256 for r in receipts if r.applied]:
            replayed = real(db, settings, before, after, source, copy.deepcopy(submissions), period=period)
            assert got == replayed, (got, replayed)
            MERGES_COMPARED.append(len(got))
        return got
    monkeypatch.setattr(history, "run_changes", both)


def small_ledger() -> Ledger:
    """Six measures, three units; ZG-002 is co-owned by 医政处 and 市人民医院."""
    def m(i, item, lead, co, deadline, status, kind=vocab.SPECIFIC, reform=False):
        return Measure(id=f"ZG-{i:03d}", theme="关于政治执行力不强的问题", key_problem="1.关于政治站位不高的问题",
                       item=item, item_type=kind, reform=reform, measure=f"措施{i}:制定工作方案", leader="李××",
                       lead_unit=lead, co_units=co, deadline=deadline, status=status)
    ms = [m(1, "(1)学习宣传不及时问题", "办公室", [], dt.date(2024, 6, 30), vocab.IN_PROGRESS),
          m(2, "(1)学习宣传不及时问题", "医政处", ["市人民医院"], dt.date(2024, 9, 3), vocab.IN_PROGRESS),
          m(3, "(2)健康行动不够有力问题", "医政处", [], vocab.LONG_TERM, vocab.IN_PROGRESS, reform=True),
          m(4, "举一反三整改事项1:责任压实不到位", "市人民医院", [], vocab.IMMEDIATE, vocab.NOT_STARTED, vocab.DRAW_LESSONS),
          m(5, "(2)健康行动不够有力问题", "办公室", [], dt.date(2024, 12, 31), vocab.DONE, reform=True),
          m(6, "巡视整改意见", "办公室", [], dt.date(2024, 5, 31), vocab.DONE, vocab.RECOMMENDATION)]
    ledger = Ledger({x.id: x for x in ms}, {}, title="测试整改台账")
    ledger.owners = owners_from_measures(ledger.measures)
    return ledger


def settings_for(root: Path, **extra) -> config.Settings:
    data = {"title": "测试整改台账", "organisation": "中共某市卫生健康委员会委员会", "period": "2024-08",
            "reference_date": REF.isoformat(), "programme_start": "2024-03-01", "submit_by": "2024-08-25"}
    data.update(extra)
    return config.from_dict(data, root)


@pytest.fixture
def workspace(tmp_path) -> config.Settings:
    """A folder with config paths and a freshly written master holding small_ledger()."""
    settings = settings_for(tmp_path)
    settings = replace(settings, settle_seconds=0)      # files dropped by a test have finished arriving (tests/test_inbox.py tests the wait)
    master_file.write_master(small_ledger(), settings)
    settings.path("inbox").mkdir(parents=True)
    return settings


def fill(path: Path, rows: dict[str, dict], to: Path | None = None, when: dt.datetime | None = None) -> Path:
    """Edit a unit workbook the way a unit does (cells by 编号 and header), save it into `to`."""
    wb = openpyxl.load_workbook(path)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    by_id = {ws.cell(r, cols[vocab.ID]).value: r for r in range(3, ws.max_row + 1)}
    for mid, values in rows.items():
        for name, value in values.items():
            cell = ws.cell(by_id[mid], cols[name])
            cell.value = value
            if isinstance(value, str) and value[:1] in "=+-@":
                cell.data_type = "s"   # typed as text (Excel's leading apostrophe)
    target = Path(to or path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    if when:
        os.utime(target, (when.timestamp(), when.timestamp()))
    return target


def hand_in(settings: config.Settings, unit: str, rows: dict[str, dict], name: str | None = None,
            when: dt.datetime | None = None) -> Path:
    """Distribute (if needed), fill the unit's workbook and drop it into the inbox."""
    from toolkit.distribute import distribute
    out = {d.unit: d.path for d in distribute(settings, [unit])}
    target = settings.path("inbox") / (name or f"{unit}.xlsx")
    return fill(out[unit], rows, target, when or dt.datetime(2024, 8, 20, 10, 0))


def ledger_sheet(path: Path):
    wb = openpyxl.load_workbook(path)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, cols[vocab.ID]).value: r for r in range(3, ws.max_row + 1) if ws.cell(r, cols[vocab.ID]).value}
    return wb, ws, cols, rows


REVIEW_CONFIG = ('title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nsubmit_by = "2024-08-25"\n'
                 '[review]\nrequired = true\n')


@pytest.fixture
def applied(workspace):
    """市人民医院 has asked to close ZG-004 (已完成 with evidence); the office has not decided yet."""
    from tests.test_review import DONE_ZG4, review_rows
    from toolkit.app import Workspace
    (workspace.root / "config.toml").write_text(REVIEW_CONFIG, encoding="utf-8")
    workspace = replace(workspace, review_required=True)
    hand_in(workspace, "市人民医院", DONE_ZG4)
    Workspace(workspace).consolidate()
    assert review_rows(workspace)[0][6] == vocab.REVIEW_PENDING
    return workspace


def demo_with_review(root: Path):
    """The demo workspace staged at root, with 销号审核 turned on (the console and the WPS add-in show it)."""
    from toolkit.demo import stage_demo
    settings = stage_demo(root)
    path = root / "config.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("required = false", "required = true"), encoding="utf-8")
    return settings
