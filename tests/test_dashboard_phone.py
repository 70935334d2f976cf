"""The dashboard on a phone (390 × 844 in headless Chromium): nothing wider than the screen, bars long enough
to read, figures whole, the overdue list as cards; and a filter that never contradicts what it shows."""
import urllib.parse

import pytest

from tests.browser import CHROMIUM
from toolkit import demo
from toolkit.io import master_file
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import run_once
from toolkit.rules import stats

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="未安装 Chromium，跳过浏览器测试")

LAYOUT = """(() => {
  const shown = e => e.offsetParent !== null && !e.closest('[hidden]');
  const all = sel => Array.from(document.querySelectorAll(sel)).filter(shown);
  return {
    page: document.documentElement.scrollWidth,
    beyond: all('main *, header *, .bar-filter *').filter(e => e.getBoundingClientRect().right > 390.5)
              .map(e => e.tagName + '.' + e.className),
    tracks: all('.bars .track').map(e => e.getBoundingClientRect().width),
    clipped: all('.bars .num, .bars .name, #late td').filter(e => e.scrollWidth > e.clientWidth + 1)
              .map(e => e.textContent),
    cards: all('#late tr').map(e => e.getBoundingClientRect().width),
  };
})()"""

CONSISTENT = """(() => {
  const shown = e => e.offsetParent !== null && !e.closest('[hidden]');
  const counts = Array.from(document.querySelectorAll('[data-count]')).filter(shown).map(e =>
      [e.textContent.trim(), String(Array.from(document.querySelectorAll(e.getAttribute('data-count'))).filter(shown).length)]);
  const dangling = Array.from(document.querySelectorAll('main p')).filter(shown)
      .filter(p => p.textContent.trim().endsWith('：'))
      .filter(p => !p.nextElementSibling || !shown(p.nextElementSibling)
                   || !Array.from(p.nextElementSibling.children).some(shown))
      .map(p => p.textContent.trim());
  const empty = Array.from(document.querySelectorAll('p.empty')).filter(shown).map(p => p.textContent);
  return {counts, dangling, empty,
          missing: Array.from(document.querySelectorAll('#missing span')).filter(shown).map(e => e.textContent),
          late: Array.from(document.querySelectorAll('#late-units span')).filter(shown).map(e => e.textContent)};
})()"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The demo's dashboard after the August reports, with July's figures in 历史进度 (as in docs/看板.png)."""
    settings = demo.stage_demo(tmp_path_factory.mktemp("phone") / "demo")
    ledger = read_ledger(settings.master)
    ledger.history = stats.history_rows(stats.summarise(ledger, settings, settings.today()), "2024-07")
    master_file.write_master(ledger, settings)
    run_once(settings)
    return settings.path("output") / settings.current_period() / "看板.html"


def phone(page, fragment: str = ""):
    from tests.cdp import Chromium
    b = Chromium(390, 844)
    b.resize(390, 844, mobile=True)
    b.open(page.as_uri() + fragment)
    b.wait_for("document.readyState === 'complete' && document.getElementById('f-note') !== null")
    return b


@needs_browser
def test_on_a_phone_the_page_fits_the_screen_with_readable_bars_and_cards(page):
    with phone(page) as b:
        seen = b.js(LAYOUT)
        assert b.errors() == []
    assert seen["page"] <= 390 and seen["beyond"] == []            # was 795 px wide
    assert len(seen["tracks"]) > 40 and min(seen["tracks"]) >= 300  # was 7 px stubs
    assert seen["clipped"] == []
    assert len(seen["cards"]) > 20 and max(seen["cards"]) <= 390 - 8


@needs_browser
@pytest.mark.parametrize("unit, missing, late", [("市口腔医院", ["市口腔医院"], []), ("市肿瘤医院", [], ["市肿瘤医院"])])
def test_filtering_by_one_unit_never_contradicts_itself(page, unit, missing, late):
    with phone(page, "#" + urllib.parse.quote(f"单位={unit}")) as b:
        seen = b.js(CONSISTENT)
        note = b.js("document.getElementById('f-note').textContent")
    assert unit in note
    assert seen["missing"] == missing and seen["late"] == late
    assert all(shown == counted for shown, counted in seen["counts"]), seen["counts"]   # 未报送（1个）, not 6
    assert seen["dangling"] == []                                    # no “晚于截止日（1个）：” over nothing
    assert bool(missing) != any("均已报送" in e for e in seen["empty"])
    assert bool(late) != any("没有晚于截止日" in e for e in seen["empty"])
