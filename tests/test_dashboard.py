"""The leaders' dashboard, the per-leader slips and the trend sentence/chart, on real files.

The dashboard is opened in headless Chromium with the network cut off: the numbers it shows must
equal the toolkit's statistics, and the page must neither log an error nor ask for anything."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

import docx
import pytest

from tests.browser import CHROMIUM, visit
from tests.conftest import hand_in, settings_for, small_ledger
from toolkit import demo, vocab
from toolkit.assessment import assess
from toolkit.documents import chart, dashboard, leaders, trend
from toolkit.documents.notices import level_figures, pct, submission_status
from toolkit.io.ledger_file import history_row as read_history_row
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import run_once
from toolkit.rules.deadlines import OVERDUE, late_rows
from toolkit.rules.stats import summarise

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="未安装 Chromium（scripts/install_system_deps.sh 安装失败），跳过浏览器测试")
needs_font = pytest.mark.skipif(chart.cjk_font_file() is None, reason="未安装中文字体，无法绘制趋势图")


# ---------------------------------------------------------------- trend sentence and series

@pytest.mark.parametrize("now, before, period, before_period, expected", [
    (74.5, 71.3, "2024-08", "2024-07", "总体完成率为74.5%，较上月提高3.2个百分点"),
    (70.0, 72.45, "2024-08", "2024-07", "总体完成率为70.0%，较上月下降2.5个百分点"),
    (62.4, 62.4, "2024-08", "2024-07", "总体完成率为62.4%，与上月持平"),
    (62.44, 62.36, "2024-08", "2024-07", "总体完成率为62.4%，与上月持平"),       # same when printed
    (80.0, 75.0, "2024-08", "2024-05", "总体完成率为80.0%，较上期（2024年5月）提高5.0个百分点"),
    (80.0, 75.0, "2025-01", "2024-12", "总体完成率为80.0%，较上月提高5.0个百分点"),
    (62.4, None, "2024-08", "", "总体完成率为62.4%（无上期数据）"),
])
def test_the_trend_sentence_words_the_change_naturally(now, before, period, before_period, expected):
    assert trend.sentence(now, before, period, before_period) == expected


def history_row(period, total, done, scope="总体", name="整改措施"):
    """A 历史进度 row as read back from a sheet (numbers come back as floats)."""
    return read_history_row([period, f"{period}-28", scope, name, float(total), float(done), 0.0, float(total - done),
                             0.0, 0.0, round(100 * done / total, 1)])


def test_the_series_reads_the_history_and_takes_this_period_from_the_live_figures(tmp_path):
    settings = settings_for(tmp_path)
    ledger = small_ledger()
    ledger.history = [history_row("2024-07", 6, 1), history_row("2024-06", 6, 0),
                      history_row("2024-08", 6, 6),                       # stale: this period, before the run
                      history_row("2024-07", 3, 1, "单位", "办公室")]
    summary = summarise(ledger, settings, settings.today())
    points = trend.series(ledger.history, trend.OVERALL, summary, "2024-08")
    assert [(p.period, p.done, p.completion) for p in points] == \
           [("2024-06", 0, 0.0), ("2024-07", 1, 16.7), ("2024-08", 2, 33.3)]
    assert trend.trend_sentence(ledger.history, summary, "2024-08") == "总体完成率为33.3%，较上月提高16.6个百分点"
    unit = trend.series(ledger.history, ("单位", "办公室"), summary, "2024-08")
    assert [p.period for p in unit] == ["2024-07", "2024-08"] and unit[-1].total == 3
    assert trend.trend_sentence([], summary, "2024-08").endswith("（无上期数据）")


@needs_font
def test_the_trend_chart_is_a_png_with_one_point_per_period(tmp_path):
    from PIL import Image
    settings = settings_for(tmp_path)
    ledger = small_ledger()
    ledger.history = [history_row("2024-06", 6, 0), history_row("2024-07", 6, 1)]
    path = trend.write_trend_chart(ledger.history, summarise(ledger, settings, settings.today()), "2024-08", tmp_path / "趋势.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.size == (1280, 352)
    line = [(x, y) for x in range(0, image.width, 2) for y in range(0, image.height, 2)
            if image.getpixel((x, y)) == (0x1F, 0x4E, 0x79)]
    assert len(line) > 1000                                 # a line across the plot, rising to the right
    assert max(y for x, y in line if x < 300) > min(y for x, y in line if x > 1000)
    assert trend.line_chart_png([], "空") is None


# ---------------------------------------------------------------- per-leader slips

def two_leader_ledger():
    ledger = small_ledger()
    for mid in ("ZG-002", "ZG-003"):
        ledger.measures[mid].leader = "王××(副主任)"
    return ledger


def test_each_leader_gets_a_slip_of_their_unfinished_measures_grouped_by_unit(tmp_path):
    settings = settings_for(tmp_path)
    ledger = two_leader_ledger()
    assessment = assess(ledger, settings)
    paths = leaders.write_slips(ledger, settings, assessment)
    folder = tmp_path / "output" / "2024-08" / "领导调度单"
    assert sorted(p.name for p in paths) == sorted(["李××.md", "李××.docx", "王××(副主任).md", "王××(副主任).docx"])
    li = (folder / "李××.md").read_text(encoding="utf-8")
    assert "整改措施共4条，已完成2条，正在推进1条，未启动1条，完成率50.0%" in li
    assert "其中2条已超过完成时限仍未完成" in li
    office = li.index("1.办公室（牵头3条，已完成2条，逾期1条）")
    hospital = li.index("2.市人民医院（牵头1条，已完成0条，逾期1条）")
    assert office < li.index("ZG-001") < hospital < li.index("ZG-004")     # measures under their unit
    assert "ZG-001 措施1：制定工作方案（完成时限：2024年6月30日；当前正在推进；已逾期61天）" in li
    assert "ZG-005" not in li and "ZG-006" not in li                          # done: counted, not listed
    wang = (folder / "王××(副主任).md").read_text(encoding="utf-8")
    assert "ZG-002" in wang and "还有4天到期" in wang and "配合单位：市人民医院" in wang and "ZG-001" not in wang
    text = "\n".join(p.text for p in docx.Document(folder / "李××.docx").paragraphs)
    assert "整改措施调度单" in text and "已逾期61天" in text and "中共某市卫生健康委员会委员会" in text
    before = {p: p.stat().st_mtime_ns for p in paths}
    leaders.write_slips(ledger, settings, assessment)
    assert {p: p.stat().st_mtime_ns for p in paths} == before                 # a rerun rewrites nothing


# ---------------------------------------------------------------- the dashboard file

class Elements(HTMLParser):
    """Every start tag's attributes, and the text right inside each data-k element."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[dict] = []
        self.figures: dict[str, str] = {}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(a)
        self._open = a.get("data-k")

    def handle_data(self, data):
        if self._open is not None:
            self.figures[self._open] = self.figures.get(self._open, "") + data

    def handle_endtag(self, tag):
        self._open = None


def assert_self_contained(html: str):
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|\bsrc\s*=|\bhref\s*=|<link|@import|url\(", html, re.I)


def test_a_run_writes_a_self_contained_dashboard_next_to_the_notices(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    report = run_once(workspace)
    page = workspace.path("output") / "2024-08" / "看板.html"
    assert page in report.notices and (page.parent / "领导调度单" / "李××.docx") in report.notices
    html = page.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "<title>测试整改工作看板（2024年8月）</title>" in html and "<script>" in html
    shown = Elements(html).figures
    assert shown["措施.完成率"] == "50.0%" and shown["措施.逾期"] == "1" and shown["临期"] == "1"
    assert shown["未报送单位数"] == "2" and "未报送.医政处" in shown and "未报送.办公室" not in shown
    before = page.read_bytes()
    page.unlink()                           # a missing dashboard makes the next run write it again, identical
    run_once(workspace)
    assert page.read_bytes() == before


def test_the_change_since_last_period_comes_from_the_history(tmp_path):
    settings = settings_for(tmp_path)
    ledger = small_ledger()
    ledger.history = [history_row("2024-07", 6, 1), history_row("2024-07", 3, 2, "单位", "办公室"),
                      history_row("2024-07", 2, 0, "类别", vocab.DRAW_LESSONS)]
    board = dashboard.build(ledger, settings, assess(ledger, settings))
    assert board.overall_delta == 16.6 and board.previous_period == "2024-07"
    assert board.trend_sentence == "总体完成率为33.3%，较上月提高16.6个百分点"
    assert {b.key: b.delta for b in board.units} == {"办公室": 0.0, "医政处": None, "市人民医院": None}
    shown = Elements(dashboard.render(board)).figures
    assert shown["措施.完成率变化"] == "+16.6" and shown["趋势.2024-07"] == "16.7%" and shown["趋势.2024-08"] == "33.3%"


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The 33-unit demo after one nightly run: settings, the dashboard's path, the run's figures."""
    settings = demo.stage_demo(tmp_path_factory.mktemp("demo") / "demo")
    run_once(settings)
    ledger = read_ledger(settings.master)
    return settings, settings.path("output") / "2024-08" / "看板.html", ledger, summarise(ledger, settings, settings.today())


@needs_browser
def test_the_browser_shows_the_statistics_offline_without_errors_or_requests(demo_run):
    settings, page, ledger, summary = demo_run
    html = page.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert page.stat().st_size < 5_000_000
    seen = visit(page.as_uri())
    assert seen.console == [] and seen.requests == []
    assert '<span class="note" id="f-note"></span>' in seen.dom and 'hidden=""' not in seen.dom   # no filter
    shown = Elements(seen.dom).figures
    m = summary.measures
    assert {k: shown[f"措施.{k}"] for k in ("总数", "已完成", "基本完成", "正在推进", "未启动", "逾期", "完成率")} == \
           {"总数": str(m.total), "已完成": str(m.done), "基本完成": str(m.mostly), "正在推进": str(m.in_progress),
            "未启动": str(m.not_started), "逾期": str(m.overdue), "完成率": pct(m.completion)}
    for level, counts in level_figures(summary).items():
        for field, n in counts.items():
            assert shown[f"问题.{level}.{field}"] == str(n), (level, field)
    assert {k.split(".")[1]: v for k, v in shown.items() if k.startswith("单位.")} == \
           {u: pct(c.completion) for u, c in summary.by_unit.items()}
    assert {k.split(".")[1]: v for k, v in shown.items() if k.startswith("类别.")} == \
           {k: pct(c.completion) for k, c in summary.by_category.items() if c.total}
    assert [v for k, v in shown.items() if k.startswith("重点问题.")] == \
           [pct(c.completion) for c in summary.by_key_problem.values()]
    late = late_rows(ledger, settings, settings.today())
    assert shown["逾期清单"] == str(sum(r.state == OVERDUE for r in late))
    assert shown["临期"] == str(sum(r.state != OVERDUE for r in late))
    submitted, _ = submission_status(ledger, settings, settings.current_period())
    assert sorted(k.split(".")[1] for k in shown if k.startswith("未报送.")) == \
           sorted(u for u in ledger.units if u not in submitted)
    for v in leaders.views(ledger, late):
        assert shown[f"领导.{v.leader}.总数"] == str(v.counts.total)
        assert shown[f"领导.{v.leader}.逾期"] == str(v.overdue)
    assert sum(int(shown[f"领导.{v}.总数"]) for v in {m.leader for m in ledger.measures.values()}) == m.total


@needs_browser
def test_the_filters_in_the_address_show_only_that_leaders_or_units_part(demo_run):
    settings, page, ledger, summary = demo_run
    leader = "杨××（副主任）"
    seen = visit(page.as_uri() + "#" + quote(f"领导={leader}"))
    assert seen.console == [] and seen.requests == []
    tags = Elements(seen.dom).tags
    rows = [t for t in tags if t.get("class") in ("overdue", "soon") and "data-leaders" in t]
    visible = [t for t in rows if "hidden" not in t]
    mine = [r for r in late_rows(ledger, settings, settings.today()) if r.measure.leader == leader]
    assert len(visible) == len(mine) and len(rows) > len(visible)
    assert all(t["data-leaders"] == leader for t in visible)
    sections = [t for t in tags if "leader" in (t.get("class") or "").split() and "hidden" not in t]
    assert [t["data-leaders"] for t in sections] == [leader]
    units = {u for m in ledger.measures.values() if m.leader == leader for u in m.owners}
    bars = {t["data-units"] for t in tags if (t.get("class") or "").startswith("row") and "data-units" in t
            and "hidden" not in t}
    assert bars == units
    assert f"当前筛选 责任领导：{leader}" in seen.dom
    unit = "市急救中心"
    tags = Elements(visit(page.as_uri() + "#" + quote(f"单位={unit}")).dom).tags
    visible = [t for t in tags if t.get("class") in ("overdue", "soon") and "data-units" in t and "hidden" not in t]
    assert len(visible) == sum(unit in r.measure.owners for r in late_rows(ledger, settings, settings.today())) > 0
    assert all(unit in t["data-units"].split("|") for t in visible)


@needs_browser
def test_the_browser_check_catches_a_page_that_calls_out_or_fails(tmp_path):
    """The two browser assertions above are not vacuous: a bad page trips both."""
    bad = tmp_path / "坏页面.html"
    bad.write_text('<!DOCTYPE html><meta charset="utf-8"><img src="http://example.invalid/a.png">'
                   '<script>console.error("出错了"); missing();</script>', encoding="utf-8")
    seen = visit(bad.as_uri(), budget_ms=500)
    assert seen.requests == ["http://example.invalid/a.png"]
    assert any("出错了" in line for line in seen.console) and any("missing" in line for line in seen.console)
