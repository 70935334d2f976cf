import datetime as dt

import pytest

from toolkit import model, vocab
from toolkit.rules import normalize


@pytest.mark.parametrize("typed, expected", [
    ("完成", vocab.DONE), ("已完成整改", vocab.DONE), (" 已整改 ", vocab.DONE), ("已完成", vocab.DONE),
    ("推进中", vocab.IN_PROGRESS), ("正在整改", vocab.IN_PROGRESS), ("整改中", vocab.IN_PROGRESS),
    ("基本完成", vocab.MOSTLY_DONE), ("未启动", vocab.NOT_STARTED), ("", ""), (None, ""),
    ("完\u3000成", vocab.DONE), ("差不多了", None),
])
def test_status_synonyms_become_canonical_words(typed, expected):
    assert normalize.status(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("2024年6月30日", dt.date(2024, 6, 30)), ("2024.6.30", dt.date(2024, 6, 30)),
    ("2024/6/30", dt.date(2024, 6, 30)), ("2024-06-30", dt.date(2024, 6, 30)),
    ("２０２４年６月３０日", dt.date(2024, 6, 30)), ("2024年6月底", dt.date(2024, 6, 30)),
    ("2024年底", dt.date(2024, 12, 31)), (dt.datetime(2024, 6, 30, 0, 0), dt.date(2024, 6, 30)),
    (45473, dt.date(2024, 6, 30)), ("长期坚持", vocab.LONG_TERM), (" 持续推进 ", vocab.ONGOING),
    ("立行立改", vocab.IMMEDIATE), ("长期", vocab.LONG_TERM),
])
def test_deadlines_in_the_forms_units_type(typed, expected):
    assert normalize.deadline(typed) == expected


@pytest.mark.parametrize("typed", ["2024-02-30", "2024年13月1日", "下个月", "", 12])
def test_impossible_or_unknown_deadlines_are_refused_in_chinese(typed):
    with pytest.raises(ValueError) as err:
        normalize.deadline(typed)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))


def test_excel_1900_leap_year_bug_is_honoured():
    assert normalize.excel_serial_to_date(59) == dt.date(1900, 2, 28)
    assert normalize.excel_serial_to_date(61) == dt.date(1900, 3, 1)
    assert normalize.excel_serial_to_date(1) == dt.date(1900, 1, 1)


def test_least_advanced_owner_status_wins():
    assert model.least_advanced([vocab.DONE, vocab.IN_PROGRESS, ""]) == vocab.IN_PROGRESS
    assert model.least_advanced([vocab.DONE, vocab.MOSTLY_DONE]) == vocab.MOSTLY_DONE


def test_co_units_split_on_every_separator_people_use():
    assert normalize.split_units("医政处、 市人民医院,办公室;医政处") == ["医政处", "市人民医院", "办公室"]


def test_dates_print_the_way_chinese_documents_do():
    assert normalize.format_date(dt.date(2024, 9, 4)) == "2024年9月4日"
    assert normalize.format_date_cn(dt.date(2024, 9, 4)) == "二〇二四年九月四日"
    assert normalize.format_date_cn(dt.date(2024, 12, 31)) == "二〇二四年十二月三十一日"


def test_overlong_text_is_cut_with_a_marker():
    text = normalize.truncate_cell("进" * 40000)
    assert len(text) == vocab.EXCEL_CELL_LIMIT and text.endswith(vocab.TRUNCATION_MARK)


def test_excel_phantom_leap_day_is_refused():
    with pytest.raises(ValueError):
        normalize.excel_serial_to_date(60)


def test_a_cell_is_filled_exactly_when_its_clean_text_is_not_empty():
    import datetime as dt
    values = [None, "", " ", "\u3000", "\n\t", "\u200b", "\u200b \ufeff", "\u00ad", "x", " x ", "\u200bx", "0", 0, 0.0,
              1.5, 3.0, True, False, dt.date(2024, 8, 31), dt.datetime(2024, 8, 31, 9, 0), "　整改　", "=1+1"]
    assert [normalize.filled(v) for v in values] == [bool(normalize.clean_text(v)) for v in values]
    assert normalize.filled("x") and not normalize.filled("\u200b\u3000")
