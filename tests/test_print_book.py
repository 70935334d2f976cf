"""台账打印版 (issue 26.8): the ledger as a meeting reads it — hierarchy as heading rows, long texts with room,
A4 landscape one page wide, text printed at 9 pt or more, header on every page; measured through LibreOffice."""
import re
import subprocess

import openpyxl

from tests.test_print import font_sizes, needs_calibri, needs_lo, page_size, page_text
from toolkit import demo, vocab
from toolkit.assessment import assess
from toolkit.documents import dashboard, ledger_print
from toolkit.io import master_file, office


def test_the_print_book_groups_measures_under_their_headings_and_is_set_up_to_print(tmp_path):
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    a = assess(ledger, settings)
    paths = dashboard.write_outputs(ledger, settings, a)
    book = next(p for p in paths if p.name == ledger_print.FILE_NAME)
    ws = openpyxl.load_workbook(book)[ledger_print.SHEET]
    assert [c.value for c in ws[2]] == ledger_print.HEADERS
    assert ws.print_title_rows == "$2:$2" and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0   # one page wide
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    ids = [r[0] for r in values if r[0] and re.fullmatch(r"ZG-\d{3}", str(r[0]))]
    assert ids == list(ledger.measures)                                       # every measure, in ledger order
    headings = [r[0] for r in values if r[0] and not re.fullmatch(r"ZG-\d{3}", str(r[0]))]
    assert headings[0].startswith("一、关于") and headings[1].startswith("1.关于")
    assert len([h for h in headings if re.match(r"^[一二三四五六七八九十]+、", h)]) == 4
    assert sum(1 for h in headings if re.match(r"^\d+\.", h)) == 14
    overdue = next(r for r in values if r[0] == a.overdue[0].measure.id)
    assert overdue[6].endswith(f"逾期{a.overdue[0].days}天")
    mtime = book.stat().st_mtime_ns
    dashboard.write_outputs(ledger, settings, a)
    assert book.stat().st_mtime_ns == mtime                                   # unchanged: not rewritten


@needs_lo
@needs_calibri
def test_the_print_book_prints_263_measures_on_a_quarter_of_the_pages_at_9_pt_or_more(tmp_path):
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    master_file.write_master(ledger, settings)
    book = ledger_print.write_print_book(ledger, settings, assess(ledger, settings))
    pdf = office.convert_many([book], "pdf", tmp_path / "pdf")[0]
    w, h = page_size(pdf)
    assert abs(w - 841.9) < 1 and abs(h - 595.3) < 1                          # A4 landscape
    sizes = font_sizes(pdf)
    pages = len(sizes)
    assert min(sizes.values()) >= 9.0 and pages <= 26                         # the master's 整改台账: 78 pages
    second = page_text(pdf, 2)
    assert vocab.MEASURE in second and re.search(rf"第\s*2\s*页\s*共\s*{pages}\s*页", second)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    dates = [m.deadline for m in ledger.measures.values() if not isinstance(m.deadline, str)]
    whole = [d for line in lines for d in re.findall(r"\d{4}年\d{1,2}月\d{1,2}日", line)]
    assert len(whole) == len(dates) + 1                                       # every date on one line (+ title)
    assert all(m.id in text for m in ledger.measures.values())


def test_each_heading_is_one_filled_band_across_the_table_and_one_like_a_formula_stays_text(tmp_path, monkeypatch):
    from collections import Counter

    from xlsxwriter.worksheet import Worksheet

    from tests.test_sheets import own_fills
    from toolkit.io import sheets
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    first = next(iter(ledger.measures.values()))
    for m in ledger.measures.values():
        if m.item == first.item:
            m.item = "=HYPERLINK(\"x\")" + m.item             # an item heading prints as the ledger writes it
    a = assess(ledger, settings)
    calls: Counter = Counter()

    def counted(name, write):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return write(*args, **kwargs)
        return wrapper
    monkeypatch.setattr(sheets.Book, "put", counted("put", sheets.Book.put))
    monkeypatch.setattr(Worksheet, "merge_range", counted("merge_range", Worksheet.merge_range))
    path = ledger_print.build(ledger, settings, a, tmp_path / ledger_print.FILE_NAME)
    assert calls == {"put": len(ledger_print.HEADERS), "merge_range": 1}     # only header and title: rows stream
    ws = openpyxl.load_workbook(path)[ledger_print.SHEET]
    printed = ledger_print.rows(ledger, a)
    headings = [(r, kind, values[0]) for r, (kind, values) in enumerate(printed, 3) if kind != "measure"]
    assert len(headings) > 100
    assert sorted(str(m) for m in ws.merged_cells.ranges) == sorted(["A1:H1"] + [f"A{r}:H{r}" for r, _, _ in headings])
    fills = own_fills(path)
    colour = {"theme": "FFD9E1F2", "problem": "FFEDF1F9", "item": "FFF7F9FC"}
    for r, kind, text in headings:
        assert ws.cell(r, 1).value == text and [fills[f"{c}{r}"] for c in "ABCDEFGH"] == [colour[kind]] * 8, r
    assert all(fills[f"B{r}"] is None for r, (kind, _) in enumerate(printed, 3) if kind == "measure")
    like_formula = [ws.cell(r, 1) for r, _, text in headings if text.startswith("=")]
    assert like_formula and all(c.data_type == "s" and c.quotePrefix for c in like_formula)
