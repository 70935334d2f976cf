"""Ledgers as offices keep them (issue 12): merged hierarchy cells, header variants, marks, collective
unit names, status variants — the published figures are exact, or the read stops and says where."""
import datetime as dt

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import settings_for, small_ledger
from tests.office_books import office_workbook
from tests.test_progress import strip_cached_values
from toolkit import config, demo, vocab
from toolkit.assessment import assess
from toolkit.documents import notices
from toolkit.errors import HeaderError, LedgerError
from toolkit.io import master_file, office
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import normalize
from toolkit.rules.stats import summarise

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装")
SEED_FIGURES = ["重点问题14个，目前已完成整改7个，基本完成7个", "具体问题45个，目前已完成整改34个，基本完成11个",
                "“推动改革促进发展”整改事项8个，目前已完成整改5个，基本完成3个", "共制定整改措施263条，已完成234条，正在推进29条"]


def paragraph(path, settings):
    ledger = read_ledger(path, settings)
    return notices.public_summary(ledger, settings, assess(ledger, settings)), ledger


@pytest.fixture(scope="module")
def demo_books(tmp_path_factory):
    """The 263-measure seed ledger written by an office twice: plain, and hierarchy merged."""
    folder = tmp_path_factory.mktemp("office")
    ledger = demo.seed_ledger()
    plain = office_workbook(folder / "plain.xlsx", ledger)
    merged = office_workbook(folder / "merged.xlsx", ledger, merge=vocab.MERGE_FILL_COLUMNS)
    return folder, plain, merged


def test_merged_hierarchy_gives_the_same_published_figures_as_the_plain_ledger(demo_books):
    folder, plain, merged = demo_books
    settings = demo.demo_settings(folder)
    text_plain, _ = paragraph(plain, settings)
    text_merged, ledger = paragraph(merged, settings)
    for figure in SEED_FIGURES:
        assert figure in text_merged
    assert text_merged == text_plain
    assert ledger.layout.merged and any("合并单元格" in n for n in ledger.read_notes)
    assert any("合并单元格" in n for n in ledger.report_notes())


def test_the_issue_case_only_theme_problem_and_item_merged(tmp_path):
    """Exactly what the issue saw: 主题/重点问题/事项 merged gave 15/46/10 with exit code 0."""
    book = office_workbook(tmp_path / "m.xlsx", demo.seed_ledger(),
                           merge=[vocab.THEME, vocab.KEY_PROBLEM, vocab.ITEM, vocab.REFORM])
    text, _ = paragraph(book, demo.demo_settings(tmp_path))
    for figure in SEED_FIGURES:
        assert figure in text


def test_master_rewritten_from_a_merged_ledger_keeps_the_figures(demo_books, tmp_path):
    folder, _, merged = demo_books
    settings = demo.demo_settings(tmp_path)
    before, ledger = paragraph(merged, settings)
    master_file.write_master(ledger, settings)
    after, _ = paragraph(settings.master, settings)
    assert after == before


@needs_lo
def test_merged_ledger_after_a_libreoffice_round_trip_reads_the_same(demo_books, tmp_path):
    folder, plain, merged = demo_books
    settings = demo.demo_settings(tmp_path)
    out = office.convert(merged, "xlsx", tmp_path / "lo")
    assert paragraph(out, settings)[0] == paragraph(plain, settings)[0]


@needs_lo
def test_statistics_recomputed_by_libreoffice_equal_python_for_the_merged_ledger(demo_books, tmp_path):
    _, _, merged = demo_books
    settings = demo.demo_settings(tmp_path)
    ledger = read_ledger(merged, settings)
    master_file.write_master(ledger, settings)
    s = summarise(read_ledger(settings.master, settings), settings, settings.today())
    blank = strip_cached_values(settings.master, tmp_path / "nocache.xlsx")
    out = office.convert(blank, "xlsx", tmp_path / "lo", recalc=True)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    table = {}
    for r in rows:
        if r and isinstance(r[0], str):
            table.setdefault(r[0], r)
    for level in (vocab.KEY_PROBLEM, vocab.SPECIFIC, vocab.RECOMMENDATION, vocab.DRAW_LESSONS, vocab.REFORM):
        assert [int(v) for v in table[level][1:6]] == s.level(level).row()[:5], level
    assert [int(v) for v in table["整改措施合计"][1:7]] == s.measures.row()
    assert s.level(vocab.KEY_PROBLEM).total == 14 and s.level(vocab.REFORM).total == 8
    units = {r[1]: r for r in rows if r and isinstance(r[1], str) and r[1] in s.by_unit}
    for unit, c in s.by_unit.items():
        assert [int(v) for v in units[unit][3:9]] == c.row(), unit


# ---------------------------------------------------------------- header variants

def test_row_number_is_not_the_id_when_there_is_an_id_column(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger())
    ledger = read_ledger(book)
    assert list(ledger.measures) == [f"ZG-{i:03d}" for i in range(1, 7)]
    assert ledger.header_row == 3
    assert ledger.layout.mapped["责任单位"] == vocab.LEAD_UNIT and ledger.layout.mapped["完成时间"] == vocab.DEADLINE
    assert ledger.layout.mapped["进展情况"] == vocab.PROGRESS
    assert ledger.measures["ZG-003"].reform and ledger.measures["ZG-001"].deadline == dt.date(2024, 6, 30)
    assert "序号" in ledger.extra_columns


def test_row_number_is_the_id_when_there_is_no_id_column(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger(), drop=[vocab.ID], title_rows=1)
    assert list(read_ledger(book).measures) == ["1", "2", "3", "4", "5", "6"]


def test_other_header_words_and_absent_optional_columns(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger(), headers={vocab.DEADLINE: "整改\n时限"},
                           drop=vocab.OPTIONAL_COLUMNS, row_numbers=False, title_rows=0)
    ledger = read_ledger(book)
    assert len(ledger.measures) == 6 and ledger.header_row == 1
    assert set(ledger.layout.absent) == set(vocab.OPTIONAL_COLUMNS)
    assert not any(m.reform or m.co_units for m in ledger.measures.values())


def test_an_unknown_layout_names_the_missing_columns_and_the_header_row(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger(), headers={vocab.DEADLINE: "办结日期",
                                                                         vocab.STATUS: "当前状况"})
    with pytest.raises(HeaderError) as err:
        read_ledger(book)
    assert err.value.row == 3 and set(err.value.missing) == {vocab.DEADLINE, vocab.STATUS}
    assert "第3行" in str(err.value)


# ---------------------------------------------------------------- marks, units, statuses, ids

@pytest.mark.parametrize("mark", ["是", "Y", "y", "1", "√", "✓", "★", "“推动改革”", " 是 "])
def test_reform_marks_offices_use(tmp_path, mark):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger(), reform_mark=mark)
    ledger = read_ledger(book)
    assert [m.id for m in ledger.measures.values() if m.reform] == ["ZG-003", "ZG-005"]


def test_an_unreadable_mark_stops_the_read_at_its_cell(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger(), reform_mark="待定")
    with pytest.raises(LedgerError) as err:
        read_ledger(book)
    col = openpyxl.utils.get_column_letter(2 + vocab.COLUMNS.index(vocab.REFORM))
    assert f"（{col}6）" in str(err.value) and "待定" in str(err.value)


def edited(book, edits):
    """Change cells of an office ledger by (measure id, column header as written)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(3, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, cols["编号"]).value: r for r in range(4, ws.max_row + 1)}
    for (mid, header), value in edits.items():
        ws.cell(rows[mid], cols[header]).value = value
    wb.save(book)
    return book


def test_units_split_on_every_separator_and_collective_names_need_a_mapping(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-001", "配合单位"): "医政处;市人民医院\n财务处/人事处", ("ZG-003", "配合单位"): "委属各单位",
                   ("ZG-005", "责任单位"): "各区卫生健康局"})
    with pytest.raises(LedgerError) as err:
        read_ledger(book)
    text = str(err.value)
    assert "“委属各单位”是对多个单位的统称" in text and "各区卫生健康局" in text and "[units]" in text
    assert "（K6）" in text and "（J8）" in text
    (tmp_path / "config.toml").write_text(
        '[units]\n"委属各单位" = ["市人民医院", "市第一中心医院"]\n"各区卫生健康局" = ["和平区卫生健康委"]\n',
        encoding="utf-8")
    settings = config.load(tmp_path)
    ledger = read_ledger(book, settings)
    assert ledger.measures["ZG-001"].co_units == ["医政处", "市人民医院", "财务处", "人事处"]
    assert ledger.measures["ZG-003"].co_units == ["市人民医院", "市第一中心医院"]
    assert ledger.measures["ZG-005"].lead_unit == "和平区卫生健康委"
    assert not any(normalize.is_collective(u) for u in ledger.units)
    assert any("[units]" in n for n in ledger.read_notes)


def test_no_template_is_made_for_a_collective_name(tmp_path):
    from toolkit.distribute import distribute
    settings = settings_for(tmp_path, units={"相关处室": ["办公室", "医政处"], "医政科": "医政处"})
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-004", "配合单位"): "相关处室", ("ZG-006", "责任单位"): "医政科"})
    settings.paths["master"] = str(book)
    done = distribute(settings)
    assert sorted(d.unit for d in done) == sorted(["办公室", "医政处", "市人民医院"])
    assert sorted(p.stem for p in (settings.path("outbox") / "2024-08").glob("*.xlsx")) == sorted(d.path.stem for d in done)
    assert read_ledger(book, settings).measures["ZG-006"].lead_unit == "医政处"


@pytest.mark.parametrize("typed, expected", [
    ("正在推进中", vocab.IN_PROGRESS), ("推进中。", vocab.IN_PROGRESS), ("已基本完成", vocab.MOSTLY_DONE),
    ("已完成。", vocab.DONE), ("完成80%", vocab.IN_PROGRESS), ("80%", vocab.IN_PROGRESS), ("完成100%", vocab.DONE),
    ("0%", vocab.NOT_STARTED), ("差不多了", None), ("完成120%", None), ("。", None), ("", ""),
])
def test_status_variants(typed, expected):
    assert normalize.status(typed) == expected


def test_status_variants_in_the_master(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-001", "完成情况"): "正在推进中", ("ZG-002", "完成情况"): "完成80%",
                   ("ZG-004", "完成情况"): "已基本完成", ("ZG-005", "完成情况"): "已完成。"})
    ms = read_ledger(book).measures
    assert [ms[k].status for k in ("ZG-001", "ZG-002", "ZG-004", "ZG-005")] == [
        vocab.IN_PROGRESS, vocab.IN_PROGRESS, vocab.MOSTLY_DONE, vocab.DONE]


def test_ids_that_look_like_date_serials_stay_ids(tmp_path):
    book = office_workbook(tmp_path / "m.xlsx", small_ledger())
    wb = openpyxl.load_workbook(book)
    ws = wb[vocab.SHEET_LEDGER]
    for r, number in ((4, 45123), (5, 20001)):
        ws.cell(r, 2).value = number
        ws.cell(r, 2).number_format = "yyyy-mm-dd"     # a column once formatted as dates
    wb.save(book)
    assert list(read_ledger(book).measures)[:2] == ["45123", "20001"]


@pytest.mark.parametrize("typed, expected", [("2024年8月", "2024-08"), ("2024-8", "2024-08"), ("2024.08", "2024-08"),
                                             ("2024年08月份", "2024-08"), ("2024-08", "2024-08"), ("2024年第三季度", "2024年第三季度")])
def test_period_written_the_chinese_way_is_normalised(tmp_path, typed, expected):
    assert config.from_dict({"period": typed}, tmp_path).current_period() == expected


def test_item_types_typed_with_quotes_and_spaces(tmp_path):
    book = edited(office_workbook(tmp_path / "m.xlsx", small_ledger()),
                  {("ZG-004", "事项\n类型"): "“举一反三”", ("ZG-006", "事项\n类型"): " 巡视整改意见 "})
    ms = read_ledger(book).measures
    assert (ms["ZG-004"].item_type, ms["ZG-006"].item_type) == (vocab.DRAW_LESSONS, vocab.RECOMMENDATION)
