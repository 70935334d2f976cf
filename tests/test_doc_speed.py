"""The document writers' shortcuts give what the long way gives: tables parsed in one pass, table cells and
core.xml built once, a plain dict's keys read straight from the dict and its methods' and loop's attribute check
memoised by the sandbox, the dashboard's chunks joined as plain text."""
from __future__ import annotations

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from tests.conftest import settings_for
from tests.test_dashboard import two_leader_ledger
from toolkit import vocab
from toolkit.assessment import assess
from toolkit.documents import dashboard, gongwen, templating
from toolkit.rules.deadlines import OVERDUE

TABLES = """# 关于整改进展情况的通报

| 序号 | 编号 | 整改措施 |
|---|:--|--:|
| 1 | ZG-001 | 制定方案，明确分工。 |

| 2 | ZG-002 | **建立**台账。 |
| ** --- ** | - | : |
正文一段。
| 名次 | 单位 |
| 1 | 甲单位 |
"""


def test_a_table_is_parsed_into_its_rows_in_order_skipping_rules_and_blank_lines():
    tables = [p for p in gongwen.parse(TABLES) if p.kind == "table"]
    assert [p.rows for p in tables] == [
        (("序号", "编号", "整改措施"), ("1", "ZG-001", "制定方案，明确分工。"), ("2", "ZG-002", "建立台账。")),
        (("名次", "单位"), ("1", "甲单位"))]


def test_a_table_cell_from_the_memo_is_the_cell_built_anew():
    fonts = gongwen.Fonts()
    rows = (("序号", "整改措施", "完成时限"), ("1", "制定方案，明确分工。" * 3, "2024年9月1日"), ("2", "建立台账。", "长期坚持"))
    first = gongwen._table(rows, fonts)
    gongwen._cell.cache_clear()
    assert gongwen._table(rows, fonts) == first
    other = gongwen.Fonts(body=("仿宋", "FangSong"))
    assert "仿宋_GB2312" not in gongwen._table(rows[1:], other)       # a change of [fonts] reaches the cells


@pytest.mark.parametrize("rows, widths", [
    ((("序号", "编号", "整改措施", "完成时限"), ("1", "ZG-001", "制定方案，明确分工。" * 4, "2024年9月1日"), ("2", "ZG-002")),
     [594, 990, 5378, 1882]),
    ((("名次", "责任单位"), ("1", "甲单位", "多出的一格")), [594, 1014, 7236]),
    ((("序号", "整改措施", "配合单位", "完成时限"), ("1", "制定方案。" * 9, "乙单位、丙单位、丁单位" * 2, "长期坚持")),
     [594, 3537, 3699, 1014])])
def test_column_widths_of_a_ragged_table_are_those_measured_cell_by_cell(rows, widths):
    """The widths the cell-by-cell measure gave before columns were measured whole (a short row's missing
    cells empty; a wrapping column down to five characters or its header)."""
    assert gongwen._column_widths(rows) == widths


def test_the_core_properties_follow_the_title_and_the_author():
    parts = gongwen.parse("# 督办单\n\n正文。\n")
    a, b = gongwen.to_bytes(parts, author="甲办公室"), gongwen.to_bytes(parts, author="乙办公室")
    assert a != b and gongwen.to_bytes(parts, author="甲办公室") == a


@pytest.mark.parametrize("source", [
    "{{ i.编号 }}|{{ i.措施 }}", "{{ i.items() | list | length }}", "{{ i.get('编号') }}", "{{ i.缺少 is defined }}",
    "{{ i.keys | string | length > 0 }}", "{{ i['编号'] }}", "{{ n.values }}", "{{ i.get('缺少', i.措施) }}{{ i.get('编号') }}",
    "{% for x in 'ab' %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{% endfor %}"])
def test_a_dicts_key_read_by_the_sandbox_is_what_jinja2s_own_sandbox_reads(source):
    context = {"i": {"编号": "ZG-001", "措施": "制定方案。", "items": "键名与方法同名"}, "n": {"values": 1}}
    ours = templating.Sandbox(undefined=jinja2.StrictUndefined).from_string(source).render(**context)
    theirs = SandboxedEnvironment(undefined=jinja2.StrictUndefined).from_string(source).render(**context)
    assert ours == theirs


@pytest.mark.parametrize("source", ["{{ i.__class__ }}", "{{ i.get.__self__ }}", "{{ i.__init__.__globals__ }}",
                                    "{% for x in 'a' %}{{ loop.__class__ }}{% endfor %}"])
def test_a_dicts_or_loops_internals_are_still_refused(source):
    for _ in range(2):                               # the second time from the memo
        for env in (templating.Sandbox(undefined=jinja2.StrictUndefined),
                    SandboxedEnvironment(undefined=jinja2.StrictUndefined)):
            with pytest.raises(jinja2.exceptions.SecurityError):
                env.from_string(source).render(i={"编号": 1})


def test_a_missing_key_is_still_an_error_naming_it():
    with pytest.raises(jinja2.UndefinedError, match="缺少"):
        templating.Sandbox(undefined=jinja2.StrictUndefined).from_string("{{ i.缺少 }}").render(i={"编号": 1})


def test_the_dashboard_joined_from_plain_chunks_is_jinja2s_own_rendering(tmp_path):
    settings = settings_for(tmp_path)
    ledger = two_leader_ledger()
    board = dashboard.build(ledger, settings, assess(ledger, settings))
    board.title = "整改<台账>&进展"                   # still escaped
    where = templating.folders(settings)
    theirs = dashboard.environment(where).get_template(dashboard.TEMPLATE).render(
        **templating.wording(settings), d=board, vocab=vocab, OVERDUE=OVERDUE)
    page = dashboard.render(board, settings)
    assert page == theirs and type(page) is str and "整改&lt;台账&gt;&amp;进展" in page
