"""The 33-unit demo's 看板.html: file size, time to build it in Python, time to open it in headless Chromium.

    python benchmarks/bench_dashboard.py [--repeat 5]

Opening is timed inside the browser: a wrapper page loads the dashboard in a frame and records
performance.now() at the frame's load event (HTML parsed, styles applied, inline script run),
compared with the same wrapper around an empty page. Chromium's own start-up is reported apart.
Chromium runs with the network cut off (tests/browser.py).
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, visit  # noqa: E402
from toolkit import demo
from toolkit.assessment import assess
from toolkit.documents import dashboard
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import run_once  # noqa: E402

WRAPPER = ('<!DOCTYPE html><meta charset="utf-8"><title>-</title>'
           '<iframe src="{src}" onload="document.title = \'loaded:\' + performance.now().toFixed(1)"></iframe>')


def frame_load_ms(folder: Path, target: str) -> tuple[float, float]:
    """(ms from the wrapper's start to the framed page's load event, wall seconds of the whole browser run)."""
    wrapper = folder / f"wrap-{target}.html"
    wrapper.write_text(WRAPPER.format(src=target), encoding="utf-8")
    t0 = time.perf_counter()
    seen = visit(wrapper.as_uri(), budget_ms=None)     # real clock: performance.now() is wall time
    wall = time.perf_counter() - t0
    found = re.search(r"<title>loaded:([\d.]+)</title>", seen.dom)
    if not found or seen.console or seen.requests:
        raise SystemExit(f"页面未正常加载:{seen.console or seen.requests or seen.dom[:200]}")
    return float(found.group(1)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = demo.stage_demo(Path(tmp) / "demo")
        run_once(settings)
        page = settings.path("output") / settings.current_period() / dashboard.FILE_NAME
        ledger = read_ledger(settings.master)
        assessment = assess(ledger, settings)
        builds = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            dashboard.render(dashboard.build(ledger, settings, assessment))
            builds.append(time.perf_counter() - t0)
        print(f"看板.html:{page.stat().st_size:,} 字节({len(ledger.units)}个单位,{len(ledger.measures)}条措施)")
        print(f"Python 生成(build + render):中位数 {statistics.median(builds) * 1000:.1f} ms")
        if CHROMIUM is None:
            print("未安装 Chromium,跳过浏览器计时")
            return
        (page.parent / "空白.html").write_text('<!DOCTYPE html><meta charset="utf-8"><p>空白</p>', encoding="utf-8")
        board = [frame_load_ms(page.parent, page.name) for _ in range(args.repeat)]
        blank = [frame_load_ms(page.parent, "空白.html") for _ in range(args.repeat)]
        med = lambda xs, i: statistics.median(x[i] for x in xs)
        print(f"Chromium 打开看板(框架 load 事件,{args.repeat}次中位数):{med(board, 0):.0f} ms;"
              f"同样包装的空白页:{med(blank, 0):.0f} ms")
        print(f"整个无头 Chromium 进程(启动+打开+退出):看板 {med(board, 1):.2f} s,空白页 {med(blank, 1):.2f} s")


if __name__ == "__main__":
    main()
