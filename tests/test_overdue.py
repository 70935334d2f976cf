import datetime as dt
import subprocess
import warnings

import openpyxl
import pytest

from tests.conftest import settings_for, small_ledger
from toolkit import vocab
from toolkit.io import master_file, office
from toolkit.rules.deadlines import DUE_SOON, OVERDUE, CalendarWarning, WorkCalendar, late_rows

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")


def test_chinese_calendar_knows_holidays_and_make_up_workdays():
    cal = WorkCalendar()
    assert not cal.is_workday(dt.date(2024, 10, 1))      # National Day
    assert cal.is_workday(dt.date(2024, 9, 29))          # a Sunday worked in exchange
    # 5 working days before 2024-10-08 skips the whole holiday week and counts Sunday 29 Sept
    assert cal.shift(dt.date(2024, 10, 8), -5) == dt.date(2024, 9, 25)


def test_unknown_years_fall_back_to_weekdays_with_a_warning():
    cal = WorkCalendar()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cal.is_workday(dt.date(2098, 1, 2))         # a Thursday
        assert not cal.is_workday(dt.date(2098, 1, 4))     # a Saturday
        assert cal.shift(dt.date(2098, 1, 6), -1) == dt.date(2098, 1, 3)   # Monday → the Friday before
    messages = [str(w.message) for w in caught if issubclass(w.category, CalendarWarning)]
    assert len(messages) == 1 and "2098" in messages[0] and "[calendar]" in messages[0]


def test_office_supplied_holidays_for_a_new_year_are_used_without_warning():
    cal = WorkCalendar(extra_holidays=[dt.date(2099, 1, 1)], extra_workdays=[dt.date(2099, 1, 3)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not cal.is_workday(dt.date(2099, 1, 1)) and cal.is_workday(dt.date(2099, 1, 3))
        assert cal.workdays_between(dt.date(2098, 12, 31), dt.date(2099, 1, 4)) == 2   # 2 Jan and 3 Jan
    assert not [w for w in caught if "2099" in str(w.message)]


@pytest.mark.filterwarnings("ignore::toolkit.rules.deadlines.CalendarWarning")   # the set-up write warns too
def test_a_run_reports_calendar_gaps_in_its_report(tmp_path):
    from toolkit.app import run_once
    settings = settings_for(tmp_path, reference_date="2098-03-02")
    master_file.write_master(small_ledger(), settings)
    report = run_once(settings)
    assert any("2098年的法定节假日尚未收录" in w for w in report.warnings)
    assert "2098年的法定节假日尚未收录" in report.report_path.read_text(encoding="utf-8")


def test_overdue_due_soon_long_term_and_immediate_rules(tmp_path):
    settings = settings_for(tmp_path)          # reference date Friday 2024-08-30
    rows = {r.measure.id: r for r in late_rows(small_ledger(), settings, settings.today())}
    assert rows["ZG-001"].state == OVERDUE and rows["ZG-001"].days == 61
    assert rows["ZG-002"].state == DUE_SOON                # due Tuesday 3 Sept
    assert "ZG-003" not in rows                            # 长期坚持 is never overdue
    assert rows["ZG-004"].state == OVERDUE                 # 立行立改: due at programme start
    assert rows["ZG-004"].due == dt.date(2024, 3, 1)
    assert "ZG-006" not in rows                            # done, though past its date
    assert rows["ZG-001"].workdays < rows["ZG-001"].days


def test_immediate_measures_follow_the_configured_programme_start(tmp_path):
    settings = settings_for(tmp_path, programme_start="2024-08-29")
    rows = {r.measure.id: r for r in late_rows(small_ledger(), settings, settings.today())}
    assert rows["ZG-004"].due == dt.date(2024, 8, 29) and rows["ZG-004"].days == 1


def test_overdue_list_sheet_names_unit_leader_and_days(workspace):
    ws = openpyxl.load_workbook(workspace.master)[vocab.SHEET_OVERDUE]
    header = [c.value for c in ws[2]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert header[:4] == [vocab.ID, vocab.LEAD_UNIT, vocab.CO_UNITS, vocab.LEADER]
    assert [r[0] for r in rows] == ["ZG-004", "ZG-001"]
    by_id = {r[0]: dict(zip(header, r)) for r in rows}
    assert by_id["ZG-001"]["逾期天数（自然日）"] == 61 and by_id["ZG-001"]["逾期天数（工作日）"] == 45


def test_highlighting_is_live_conditional_formatting_against_the_reference_date_cell(workspace):
    wb = openpyxl.load_workbook(workspace.master)
    ws = wb[vocab.SHEET_LEDGER]
    rules = [(r.formula[0], f"{r.dxf.fill.fgColor.rgb}{r.dxf.fill.bgColor.rgb}")
             for rng in ws.conditional_formatting for r in rng.rules]
    assert any(vocab.NAME_REF_DATE in f and "FFC7CE" in c for f, c in rules)
    assert any(vocab.NAME_REF_DATE in f and "FFEB9C" in c for f, c in rules)
    assert vocab.NAME_REF_DATE in wb.defined_names
    assert wb[vocab.SHEET_PARAMS]["B2"].value == dt.date(2024, 8, 30) or wb[vocab.SHEET_PARAMS]["B2"].value.date() == dt.date(2024, 8, 30)


def test_without_a_fixed_reference_date_the_workbook_uses_today(tmp_path):
    settings = settings_for(tmp_path, reference_date="today")
    master_file.write_master(small_ledger(), settings)
    assert openpyxl.load_workbook(settings.master)[vocab.SHEET_PARAMS]["B2"].value == "=TODAY()"


def red_pixels(pdf, tmp_path) -> int:
    from PIL import Image
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    import numpy as np
    px = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")).astype(int)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    return int(((r > 245) & (g >= 185) & (g <= 212) & (b >= 195) & (b <= 218)).sum())


@needs_lo
@pytest.mark.skipif(subprocess.run(["which", "pdftoppm"], capture_output=True).returncode, reason="poppler-utils 未安装")
def test_overdue_rows_are_actually_painted_red_when_libreoffice_renders_the_master(tmp_path):
    late = settings_for(tmp_path / "late")
    master_file.write_master(small_ledger(), late)
    early = settings_for(tmp_path / "early", reference_date="2024-03-01", programme_start="2024-03-01")
    master_file.write_master(small_ledger(), early)
    painted = red_pixels(office.convert(late.master, "pdf", tmp_path / "pdf-late"), tmp_path / "pdf-late")
    clean = red_pixels(office.convert(early.master, "pdf", tmp_path / "pdf-early"), tmp_path / "pdf-early")
    assert painted > 200 and clean == 0
