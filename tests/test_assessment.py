"""One assessment per run: every figure is computed once and every writer reads the same snapshot."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

import openpyxl

import toolkit
from tests.conftest import REF, settings_for, small_ledger
from toolkit import demo, vocab
from toolkit.app import Workspace
from toolkit.assessment import assess
from toolkit.model import HistoryRow
from toolkit.rules import deadlines, stats
from toolkit.rules.deadlines import OVERDUE


def counted(monkeypatch, module, name: str) -> list:
    """Replace module.name by a wrapper that records each call; the list of calls comes back."""
    calls: list = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_one_run_of_the_demo_computes_late_rows_and_the_summary_exactly_once(tmp_path, monkeypatch):
    settings = demo.stage_demo(tmp_path / "demo")
    settings = replace(settings, notice_pdf=False)   # LibreOffice is not what this counts
    late, summaries = counted(monkeypatch, deadlines, "late_rows"), counted(monkeypatch, stats, "summarise")
    report = Workspace(settings).run_once()
    assert (len(late), len(summaries)) == (1, 1)
    assert report.consolidation.count(vocab.OUTCOME_ACCEPTED) > 0 and report.notices
    overdue = openpyxl.load_workbook(settings.master, read_only=True)[vocab.SHEET_OVERDUE]
    listed = [r for r in overdue.iter_rows(min_row=3, values_only=True) if r[0]]
    assert len(listed) == report.figures.overdue > 0            # the sheet and the report: one snapshot


def test_no_module_holds_its_own_reference_to_the_counted_rules():
    """Callers go through assessment.assess: a from-import of late_rows or summarise elsewhere would
    compute the figures again, out of sight of the counters above."""
    for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        if module in (deadlines, stats):
            continue
        assert getattr(module, "late_rows", None) is not deadlines.late_rows, info.name
        assert getattr(module, "summarise", None) is not stats.summarise, info.name


def test_the_assessment_holds_what_the_rules_compute_at_the_reference_date(tmp_path):
    settings = settings_for(tmp_path)
    ledger = small_ledger()
    ledger.history = [HistoryRow("2024-07", "2024-07-31", "总体", "整改措施", 6, 1, 0, 5, 0, 0, 16.7)]
    a = assess(ledger, settings)
    assert a.reference_date == REF and a.period == "2024-08"
    assert [(r.measure.id, r.state) for r in a.late] == \
           [(r.measure.id, r.state) for r in deadlines.late_rows(ledger, settings, settings.today())]
    assert a.overdue_ids == {"ZG-001", "ZG-004"} == {r.measure.id for r in a.overdue}
    assert [r.measure.id for r in a.due_soon] == ["ZG-002"]
    assert a.summary.measures.overdue == 2 and a.summary.measures.done == 2
    assert list(a.ranking) == stats.summarise(ledger, settings, settings.today()).ranking()
    assert a.previous == {("总体", "整改措施"): 16.7}
    assert a.helpers["ZG-004"][0] == settings.programme_start and a.helpers["ZG-003"] == (None, None)
    assert a.calendar.shift(REF, 1).isoformat() == "2024-09-02"          # Friday → Monday
    assert all(r.state == OVERDUE for r in a.overdue)
