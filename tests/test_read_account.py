"""Issue 21 (1, 2): reading an office's ledger is bookkeeping — every non-empty cell is read, kept as an
office column (written back verbatim) or named with its reason; every sheet with the ledger header is read."""
import openpyxl
import pytest

from tests.conftest import settings_for, small_ledger
from tests.office_books import office_workbook
from tests.test_office_ledgers import SEED_FIGURES, paragraph
from toolkit import check, demo, vocab
from toolkit.errors import LedgerError
from toolkit.io import master_file, office, read_account
from toolkit.io.ledger_file import read_ledger

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装")


def header_cols(ws, row):
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value is not None}


def add_column(path, header, values, hidden=False, at=None):
    """An office adds a column (at a position, or at the end) with its header in the header row (3)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[vocab.SHEET_LEDGER]
    col = at or ws.max_column + 1
    if at:
        ws.insert_cols(at)
    ws.cell(3, col, header)
    for r, v in enumerate(values, 4):
        ws.cell(r, col, v)
    if hidden:
        ws.column_dimensions[openpyxl.utils.get_column_letter(col)].hidden = True
    wb.save(path)
    return col


def non_empty_cells(path, sheets):
    """Cells with a value as Excel shows it (a formula by its cached value)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    return sum(1 for s in sheets for row in wb[s].iter_rows(values_only=True)
               for v in row if v is not None and str(v).strip())


def test_every_non_empty_cell_is_read_kept_or_named(tmp_path):
    book = office_workbook(tmp_path / "o.xlsx", small_ledger())
    add_column(book, "联系人", ["张三", None, "李四", None, None, "王五"])
    add_column(book, None, ["无表头的批注"])
    ledger = read_ledger(book)
    acct = ledger.account
    assert acct.read + acct.kept_cells + acct.unused_cells == non_empty_cells(book, [vocab.SHEET_LEDGER])
    kinds = {u.kind for u in acct.kept}
    assert {read_account.KEPT_OFFICE, read_account.KEPT_BLANK, read_account.KEPT_ROW_NUMBER} <= kinds
    assert [(u.kind, u.rows) for u in acct.unused] == [(read_account.UNUSED_ABOVE, (2,))]


def test_check_prints_the_account_with_not_used_cells_by_cell(tmp_path):
    book = office_workbook(tmp_path / "o.xlsx", small_ledger())
    text = "\n".join(check.check(book, settings_for(tmp_path)).lines())
    assert "单元格清点" in text and "读入字段" in text and "办公室自己的列" in text
    assert "“整改台账”A2“(截至2024年8月)”" in text


def test_two_status_columns_stop_the_read_naming_both_cells(tmp_path):
    """Last month's 完成情况, hidden, left of this month's: today the older one was read silently."""
    ledger = small_ledger()
    book = office_workbook(tmp_path / "o.xlsx", ledger)
    status_col = header_cols(openpyxl.load_workbook(book)[vocab.SHEET_LEDGER], 3)[vocab.STATUS]
    add_column(book, vocab.STATUS, [vocab.NOT_STARTED] * len(ledger.measures), hidden=True, at=status_col)
    with pytest.raises(LedgerError) as exc:
        read_ledger(book)
    letter = openpyxl.utils.get_column_letter
    assert f"{letter(status_col)}3" in str(exc.value) and f"{letter(status_col + 1)}3" in str(exc.value)
    assert "请删除不用的那一列" in str(exc.value)
    report = check.check(book, settings_for(tmp_path))
    assert not report.ok and any(f"{letter(status_col)}3" in p for p in report.problems)


def test_the_issue_case_two_status_columns_in_the_seed_ledger_never_publish_the_older(tmp_path):
    ledger = demo.seed_ledger()
    book = office_workbook(tmp_path / "o.xlsx", ledger)
    status_col = header_cols(openpyxl.load_workbook(book)[vocab.SHEET_LEDGER], 3)[vocab.STATUS]
    add_column(book, "完成情况", [vocab.IN_PROGRESS] * len(ledger.measures), at=status_col)
    with pytest.raises(LedgerError, match="有两列都是“完成情况”"):
        read_ledger(book, demo.demo_settings(tmp_path))


def office_columns_book(tmp_path):
    """The office's own columns whose names collide with ours: 完成时间 beside 完成时限, 逾期天数, a blank header,
    two 联系人."""
    ledger = small_ledger()
    n = len(ledger.measures)
    book = office_workbook(tmp_path / "o.xlsx", ledger, headers={vocab.DEADLINE: "完成时限"})
    add_column(book, "完成时间", ["2024-06-20"] + [None] * (n - 1))
    add_column(book, "逾期天数", [5, 0, None, 3, None, None])
    add_column(book, None, ["批注甲"] + [None] * (n - 2) + ["批注乙"])
    add_column(book, "联系人", ["张三"] * n)
    add_column(book, "联系人", ["13800000000"] * n)
    return book


def test_office_columns_that_collide_with_ours_are_kept_and_said(tmp_path):
    book = office_columns_book(tmp_path)
    ledger = read_ledger(book)
    first = ledger.measures["ZG-001"]
    assert str(first.deadline) == "2024-06-30"          # the deadline is 完成时限, not the office's 完成时间
    kinds = [u.kind for u in ledger.account.kept]
    for kind in (read_account.KEPT_ALIAS, read_account.KEPT_OURS, read_account.KEPT_BLANK, read_account.KEPT_SAME):
        assert kind in kinds
    notes = "\n".join(ledger.report_notes())
    assert "“完成时间”：这个列名也是“完成时限”的常见写法" in notes
    assert "与程序计算的“逾期天数”列同名" in notes and "没有表头" in notes and "同名，两列都" in notes


def test_office_columns_survive_the_write_verbatim_and_read_back_the_same(tmp_path):
    book = office_columns_book(tmp_path)
    settings = settings_for(tmp_path)
    ledger = read_ledger(book, settings)
    before = {m.id: dict(m.extra) for m in ledger.measures.values()}
    master_file.write_master(ledger, settings, path=tmp_path / "master.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "master.xlsx")[vocab.SHEET_LEDGER]
    headers = [ws.cell(2, c).value for c in range(1, ws.max_column + 1)]
    office = headers[len(vocab.COLUMNS):-len(vocab.HELPER_COLUMNS)]
    assert office == ["序号", "完成时间", "逾期天数", None, "联系人", "联系人"]
    assert headers[-len(vocab.HELPER_COLUMNS):] == vocab.HELPER_COLUMNS
    row3 = {h: ws.cell(3, c).value for c, h in enumerate(headers, 1) if h in ("完成时间", None)}
    assert row3 == {"完成时间": "2024-06-20", None: "批注甲"}
    again = read_ledger(tmp_path / "master.xlsx", settings)
    assert {m.id: dict(m.extra) for m in again.measures.values()} == before
    assert again.extra_columns == ledger.extra_columns
    assert [c for c in again.columns if c in vocab.HELPER_COLUMNS] == vocab.HELPER_COLUMNS
    master_file.write_master(again, settings, path=tmp_path / "master2.xlsx")   # a second write keeps them too
    ws2 = openpyxl.load_workbook(tmp_path / "master2.xlsx")[vocab.SHEET_LEDGER]
    assert [ws2.cell(2, c).value for c in range(1, ws2.max_column + 1)] == headers


def test_our_own_master_reads_with_nothing_kept_and_only_the_computed_columns_unused(workspace):
    ledger = read_ledger(workspace.master, workspace)
    acct = ledger.account
    assert not acct.kept and {u.kind for u in acct.unused} == {read_account.UNUSED_COMPUTED}
    assert acct.read + acct.unused_cells == non_empty_cells(workspace.master, [vocab.SHEET_LEDGER])
    assert not any(n.startswith("读取清点") for n in ledger.read_notes)


def split_by_theme(source, target, names=None, hide_copy=False):
    """The seed ledger kept as one sheet per 主题 (方面), each with the title rows and the header."""
    wb = openpyxl.load_workbook(source)
    ws = wb[vocab.SHEET_LEDGER]
    theme_col = header_cols(ws, 3)["主题"]
    by_theme: dict[str, list[int]] = {}
    for r in range(4, ws.max_row + 1):
        by_theme.setdefault(ws.cell(r, theme_col).value, []).append(r)
    out = openpyxl.Workbook()
    out.remove(out.active)
    for i, (theme, rows) in enumerate(by_theme.items()):
        new = out.create_sheet(names[i] if names else f"{i + 1}.{theme[:8]}")
        for r in [1, 2, 3] + rows:
            new.append([ws.cell(r, c).value for c in range(1, ws.max_column + 1)])
    if hide_copy:
        old = out.create_sheet("整改台账（旧）")
        for r in range(1, ws.max_row + 1):
            old.append([ws.cell(r, c).value for c in range(1, ws.max_column + 1)])
        old.sheet_state = "hidden"
    out.save(target)
    return list(by_theme)



@pytest.fixture(scope="module")
def seed_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    return folder, office_workbook(folder / "plain.xlsx", demo.seed_ledger())


def test_a_ledger_kept_one_sheet_per_theme_is_read_whole(seed_book, tmp_path):
    folder, plain = seed_book
    themes = split_by_theme(plain, tmp_path / "split.xlsx")
    assert len(themes) == 4
    settings = demo.demo_settings(tmp_path)
    text, ledger = paragraph(tmp_path / "split.xlsx", settings)
    for figure in SEED_FIGURES:
        assert figure in text
    assert text == paragraph(plain, settings)[0]
    read = [u for u in ledger.account.sheets if u.kind == read_account.SHEET_READ]
    assert len(read) == 4 and sum(int(u.params[0]) for u in read) == 263
    assert any("4张工作表" in n for n in ledger.read_notes)


def test_a_split_ledger_is_written_back_as_one_sheet_with_the_same_figures(seed_book, tmp_path):
    folder, plain = seed_book
    split_by_theme(plain, tmp_path / "split.xlsx")
    settings = demo.demo_settings(tmp_path)
    ledger = read_ledger(tmp_path / "split.xlsx", settings)
    master_file.write_master(ledger, settings, path=tmp_path / "master.xlsx")
    text, again = paragraph(tmp_path / "master.xlsx", settings)
    for figure in SEED_FIGURES:
        assert figure in text
    assert [u.sheet for u in again.account.sheets if u.kind == read_account.SHEET_READ] == [vocab.SHEET_LEDGER]


def test_a_continuation_sheet_is_read_and_one_without_a_header_stops(seed_book, tmp_path):
    folder, plain = seed_book
    wb = openpyxl.load_workbook(plain)
    ws = wb[vocab.SHEET_LEDGER]
    cont = wb.create_sheet("整改台账(续)")
    for r in [3] + list(range(104, ws.max_row + 1)):
        cont.append([ws.cell(r, c).value for c in range(1, ws.max_column + 1)])
    ws.delete_rows(104, ws.max_row)
    wb.save(tmp_path / "cont.xlsx")
    settings = demo.demo_settings(tmp_path)
    text, _ = paragraph(tmp_path / "cont.xlsx", settings)
    for figure in SEED_FIGURES:
        assert figure in text
    wb["整改台账(续)"].delete_rows(1)           # the continuation without its header
    wb.save(tmp_path / "noheader.xlsx")
    with pytest.raises(LedgerError, match="“整改台账\\(续\\)”看来是“整改台账”的续表"):
        read_ledger(tmp_path / "noheader.xlsx", settings)


def test_a_hidden_old_copy_is_not_read_and_is_named(seed_book, tmp_path):
    folder, plain = seed_book
    split_by_theme(plain, tmp_path / "split.xlsx", hide_copy=True)
    settings = demo.demo_settings(tmp_path)
    text, ledger = paragraph(tmp_path / "split.xlsx", settings)
    for figure in SEED_FIGURES:
        assert figure in text
    assert [u.sheet for u in ledger.account.sheets if u.kind == read_account.SHEET_HIDDEN_LEDGER] == ["整改台账（旧）"]
    assert any("“整改台账（旧）”：隐藏的工作表" in n for n in ledger.report_notes())
    master_file.write_master(ledger, settings, path=tmp_path / "master.xlsx")   # kept, still hidden, still not read
    assert openpyxl.load_workbook(tmp_path / "master.xlsx")["整改台账（旧）"].sheet_state == "hidden"
    text2, _ = paragraph(tmp_path / "master.xlsx", settings)
    assert text2 == text


def test_a_visible_second_copy_stops_naming_both_sheets(seed_book, tmp_path):
    folder, plain = seed_book
    wb = openpyxl.load_workbook(plain)
    copy = wb.copy_worksheet(wb[vocab.SHEET_LEDGER])
    copy.title = "整改台账 7月"
    wb.save(tmp_path / "two.xlsx")
    with pytest.raises(LedgerError) as exc:
        read_ledger(tmp_path / "two.xlsx", demo.demo_settings(tmp_path))
    assert "工作表“整改台账 7月”有263条措施的编号与工作表“整改台账”重复（B4“ZG-001”（另见第4行）" in str(exc.value)


def test_sheets_not_read_are_named_in_the_check_account(seed_book, tmp_path):
    folder, plain = seed_book
    wb = openpyxl.load_workbook(plain)
    wb.create_sheet("说明").append(["本台账由办公室维护"])
    wb.save(tmp_path / "notes.xlsx")
    text = "\n".join(check.check(tmp_path / "notes.xlsx", demo.demo_settings(tmp_path)).lines())
    assert "“说明”：办公室自己的工作表" in text


@needs_lo
def test_office_columns_survive_a_libreoffice_round_trip_of_the_master(tmp_path):
    book = office_columns_book(tmp_path)
    settings = settings_for(tmp_path)
    ledger = read_ledger(book, settings)
    before = {m.id: {k: str(v) for k, v in m.extra.items()} for m in ledger.measures.values()}
    master_file.write_master(ledger, settings, path=tmp_path / "master.xlsx")
    converted = office.convert(tmp_path / "master.xlsx", "xlsx", tmp_path / "lo")
    again = read_ledger(converted, settings)
    assert {m.id: {k: str(v) for k, v in m.extra.items()} for m in again.measures.values()} == before
