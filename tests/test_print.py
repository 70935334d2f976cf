"""Printing (issue 13 point 8): the master and unit workbooks print on A4 landscape with body text of
at least 9 pt, header row on every page, "第 N 页 共 M 页" footers and gridlines; the unit workbook
states its 报送截止日 at the top. Checked in the xlsx and, where LibreOffice is installed, in the PDF."""
import re
import shutil
import subprocess
from dataclasses import replace

import openpyxl
import pytest

from tests.conftest import fill, settings_for, small_ledger
from toolkit import config, demo, distribute, vocab
from toolkit.consolidate import consolidate
from toolkit.errors import ConfigError
from toolkit.io import master_file, office, sheets


def calibri_metrics() -> bool:
    """Calibri, or Carlito with its widths, is what LibreOffice will measure column widths with."""
    if shutil.which("fc-match") is None:
        return False
    name = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout
    return "Carlito" in name or "Calibri" in name


needs_lo = pytest.mark.skipif(office.soffice() is None or shutil.which("pdftotext") is None
                              or shutil.which("pdfinfo") is None, reason="LibreOffice 或 poppler-utils 未安装")
needs_calibri = pytest.mark.skipif(not calibri_metrics(), reason="未安装 Carlito 字体（列宽按 Calibri 字符计），"
                                   "请运行 scripts/install_system_deps.sh")
CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>')


def font_sizes(pdf) -> dict[int, float]:
    """Smallest text size on each page, in points: a Chinese character is one em wide, so a word of
    Chinese characters measures its font size (pdftotext -bbox gives each word's box)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = {}
    for page, body in enumerate(html.split("<page ")[1:], 1):
        sizes = [(float(x1) - float(x0)) / len(w) for x0, x1, w in WORD.findall(body) if CJK_WORD.match(w)]
        if sizes:
            out[page] = min(sizes)
    return out


def page_text(pdf, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def page_size(pdf) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return float(w), float(h)


def test_wide_columns_are_narrowed_until_body_text_prints_at_9_pt_on_a4():
    widths = {1: 10, 2: 24, 3: 28, 4: 30, 5: 10, 6: 44, 7: 12, 8: 16, 9: 12, 10: 44, 11: 24, 12: 12}
    assert sheets.print_scale(list(widths.values()), "A4") < 0.6           # as the master used to print
    fit = sheets.fit_print(widths, 11, {1: 8, 9: 12}, "A4")
    assert fit.paper == "A4" and fit.scale >= 0.9
    assert fit.widths[9] == 12 and fit.widths[1] >= 8 and fit.widths[6] < 44     # dates whole, long text wraps
    assert fit.widths[12] == 12                                                   # unprinted columns untouched


def test_a3_when_asked_or_when_a4_cannot_hold_the_columns_at_9_pt():
    widths = {c: 24 for c in range(1, 9)}
    assert sheets.fit_print(widths, 8, {}, "A3").paper == "A3"
    auto = sheets.fit_print(widths, 8, {}, "auto")
    assert auto.paper == "A3" and auto.widths == widths and auto.scale >= 0.9   # A3 holds them as they are
    assert sheets.fit_print({1: 10, 2: 10}, 2, {}, "auto").paper == "A4"
    crowded = sheets.fit_print({c: 20 for c in range(1, 30)}, 29, {c: 8 for c in range(1, 30)}, "A4")
    assert crowded.paper == "A3"


def test_print_paper_is_configured_in_the_print_table(tmp_path):
    assert settings_for(tmp_path).print_paper == "A4"
    assert config.from_dict({"print": {"paper": "a3"}}, tmp_path).print_paper == "A3"
    assert config.from_dict({"print": {"paper": "Auto"}}, tmp_path).print_paper == "auto"
    with pytest.raises(ConfigError, match="print.paper"):
        config.from_dict({"print": {"paper": "B5"}}, tmp_path)
    config.write_default(tmp_path / "ws")
    assert config.load(tmp_path / "ws").print_paper == "A4"


def test_master_and_unit_workbooks_carry_the_page_setup(workspace):
    ws = openpyxl.load_workbook(workspace.master)[vocab.SHEET_LEDGER]
    printed = sheets.col_letter(len(vocab.COLUMNS))
    assert ws.print_area == f"'{vocab.SHEET_LEDGER}'!$A$1:${printed}$8"     # helper columns stay on screen
    assert ws.print_title_rows == "$2:$2" and ws.print_options.gridLines
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    widths = [ws.column_dimensions[sheets.col_letter(c)].width - 0.71 for c in range(1, len(vocab.COLUMNS) + 1)]
    assert sheets.print_scale(widths, "A4") >= 0.9
    unit = {d.unit: d.path for d in distribute.distribute(workspace)}["办公室"]
    uws = openpyxl.load_workbook(unit)[vocab.SHEET_LEDGER]
    assert uws.print_title_rows == "$2:$2" and uws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert uws["A1"].value.endswith("\n报送截止日：2024年8月25日")


def test_a3_from_config_reaches_every_printed_sheet(tmp_path):
    settings = settings_for(tmp_path, print={"paper": "A3"})
    master_file.write_master(small_ledger(), settings)
    wb = openpyxl.load_workbook(settings.master)
    assert {int(wb[n].page_setup.paperSize) for n in (vocab.SHEET_LEDGER, vocab.SHEET_STATS, vocab.SHEET_OWNERS)} == {8}
    unit = distribute.distribute(settings)[0].path
    assert int(openpyxl.load_workbook(unit)[vocab.SHEET_LEDGER].page_setup.paperSize) == 8


def test_unit_without_a_submit_date_is_told_to_follow_the_notice(tmp_path):
    settings = settings_for(tmp_path, submit_by="")
    master_file.write_master(small_ledger(), settings)
    unit = distribute.distribute(settings, ["办公室"])[0].path
    assert openpyxl.load_workbook(unit)[vocab.SHEET_LEDGER]["A1"].value.endswith("报送截止日：请按通知要求时间报送")


def test_a_new_submit_date_rewrites_the_unit_workbooks(workspace):
    distribute.distribute(workspace)
    workspace = replace(workspace, submit_by=workspace.submit_by.replace(day=28))
    again = distribute.distribute(workspace)
    assert all(d.written for d in again)
    assert openpyxl.load_workbook(again[0].path)[vocab.SHEET_LEDGER]["A1"].value.endswith("2024年8月28日")


def test_the_two_line_title_keeps_intake_working(workspace):
    unit = {d.unit: d.path for d in distribute.distribute(workspace)}["办公室"]
    fill(unit, {"ZG-001": {vocab.STATUS: vocab.DONE, vocab.PROGRESS: "已完成学习宣传"}},
         workspace.path("inbox") / "办公室.xlsx")
    result = consolidate(workspace)
    assert [f.accepted for f in result.files] == [3]          # the three rows of 办公室
    ws = openpyxl.load_workbook(workspace.master)[vocab.SHEET_OWNERS]
    assert any(r[1] == "办公室" and r[3] == vocab.DONE for r in ws.iter_rows(min_row=3, values_only=True)
               if r[0] == "ZG-001")


@needs_lo
@needs_calibri
def test_demo_master_and_unit_workbook_print_legibly_through_libreoffice(tmp_path):
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    master_file.write_master(ledger, settings)
    units = distribute.distribute(settings, ledger=ledger)
    unit = max(units, key=lambda d: d.rows)
    pdf_master, pdf_unit = office.convert_many([settings.master, unit.path], "pdf", tmp_path / "pdf")
    for pdf in (pdf_master, pdf_unit):
        w, h = page_size(pdf)
        assert abs(w - 841.9) < 1 and abs(h - 595.3) < 1                       # A4 landscape
        sizes = font_sizes(pdf)
        assert sizes and min(sizes.values()) >= 9.0, {p: round(s, 2) for p, s in sizes.items() if s < 9}
        second = page_text(pdf, 2)
        assert vocab.MEASURE in second and vocab.PROGRESS in second         # the header row again
        assert re.search(r"第\s*2\s*页\s*共\s*\d+\s*页", second)
    assert len(font_sizes(pdf_master)) > 30                                    # every page was measured
    assert "报送截止日：2024年8月25日" in page_text(pdf_unit, 1)
