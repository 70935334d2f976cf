"""One dated, frozen assessment: Settings never change after loading, the reference date and the period
are decided once (assessment.dated) and every writer takes them from the assessment it is given."""
from __future__ import annotations

import ast
import datetime as dt
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import REF, settings_for, small_ledger
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.assessment import assess, dated
from toolkit.documents import dashboard, notices, reminders
from toolkit.documents import ladder as ladder_docs
from toolkit.io import master_file

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"
# Where the period and the reference date may be worked out: the rule (model.Settings.period_on), the one
# place a run fixes them (assessment.dated) and the config (init writes this month into a new config.toml).
DECIDES = {"model.py", "assessment.py", "config.py"}
# Front ends that name this period's folder before any assessment exists: serve's status (period and 看板 link).
BEFORE_ANY_ASSESSMENT = {("serve.py", "current_period")}
RECOMPUTE = {"current_period", "period_on", "today"}


def recomputations(path: Path) -> list[tuple[int, str]]:
    """(line, what) for each call that works out the period or the reference date from settings."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, ast.unparse(node.func.value)
        if name in RECOMPUTE and not (name == "today" and receiver in ("dt.date", "dt.datetime", "date")):
            out.append((node.lineno, f"{receiver}.{name}()"))
        elif name == "strftime" and node.args and ast.unparse(node.args[0]) in ("'%Y-%m'", '"%Y-%m"'):
            out.append((node.lineno, f"{receiver}.strftime('%Y-%m')"))
    return out


def test_the_scan_finds_a_recomputed_period(tmp_path):
    source = tmp_path / "recompute.py"
    source.write_text("def f(settings):\n    return settings.current_period(), settings.today(), dt.date.today()\n",
                      encoding="utf-8")
    assert [what for _, what in recomputations(source)] == ["settings.current_period()", "settings.today()"]


def test_nothing_outside_assessment_and_config_recomputes_the_period_or_the_reference_date():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in DECIDES:
            continue
        for line, what in recomputations(path):
            if (rel, what.rsplit(".", 1)[-1].removesuffix("()")) not in BEFORE_ANY_ASSESSMENT:
                found.append(f"toolkit/{rel} 第{line}行：{what}（应取自 assessment.dated）")
    assert not found, "\n".join(found)


def test_settings_cannot_be_changed_after_loading(tmp_path):
    settings = settings_for(tmp_path)
    with pytest.raises(FrozenInstanceError):
        settings.reference_date = dt.date(2024, 9, 16)     # type: ignore[misc]
    assert replace(settings, reference_date=dt.date(2024, 9, 16)).reference_date == dt.date(2024, 9, 16)
    assert settings.reference_date == REF


def test_the_dated_assessment_carries_the_given_date_and_its_month_as_the_period(tmp_path):
    settings = settings_for(tmp_path, period="")
    a = assess(small_ledger(), settings, on=dt.date(2024, 9, 16))
    assert (a.reference_date, a.period, a.dated.fixed) == (dt.date(2024, 9, 16), "2024-09", True)
    assert (assess(small_ledger(), settings).reference_date, assess(small_ledger(), settings).period) == (REF, "2024-08")
    today = dated(replace(settings, reference_date=None))
    assert (today.reference_date, today.fixed) == (dt.date.today(), False)


def test_every_document_of_a_run_at_another_date_is_written_for_that_date_and_its_period(tmp_path):
    settings = replace(settings_for(tmp_path, period=""), notice_pdf=False, submit_by=dt.date(2024, 9, 20))
    ledger = small_ledger()
    on = dt.date(2024, 9, 16)
    a = assess(ledger, settings, on=on)
    written = notices.write_notices(ledger, settings, a)
    written += dashboard.write_outputs(ledger, settings, a)
    written.append(ladder_docs.write_proposals(ladder_docs.proposals(ledger, settings, a, []), settings, a.period))
    written += reminders.write_reminders(ledger, settings, list(ledger.units), a).paths
    assert written and all(p.is_relative_to(settings.path("output") / "2024-09") for p in written), written
    assert {p.parent for p in written if p.name == "进展通报.md"} == {notices.notice_folder(settings, a.dated)}
    assert notices.notice_folder(settings, a.dated).name == "2024-09-16"
    texts = [p.read_text(encoding="utf-8") for p in written if p.suffix in (".md", ".txt", ".html")]
    assert all("2024年8月30日" not in t for t in texts)
    assert any("2024年9月16日" in t for t in texts)
    master_file.write_master(ledger, settings, a)
    params = {r[0]: r[1] for r in openpyxl.load_workbook(settings.master)[vocab.SHEET_PARAMS].iter_rows(values_only=True)}
    assert (params[vocab.PARAM_REF_DATE].date(), params["报送期次"]) == (on, "2024-09")


def test_notices_at_another_date_leave_the_workspace_settings_as_configured(workspace):
    ws = Workspace(replace(workspace, notice_pdf=False))
    before = ws.settings
    at_other = ws.notices(on=dt.date(2024, 9, 16))
    assert at_other.assessment.reference_date == dt.date(2024, 9, 16)
    assert ws.settings is before and ws.settings.reference_date == REF
    assert ws.notices().assessment.reference_date == REF       # the next operation is at the configured date
