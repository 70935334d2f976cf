"""Month-over-month figures from 历史进度: the data series, the trend sentence, the line chart.

The master keeps one group of rows per 报送期次 (progress.history_rows); this module reads them
back as points and words the change the way a 通报 does ("较上月提高3.2个百分点").
"""
from __future__ import annotations

import io
from pathlib import Path

from .. import vocab
from ..io import fileio
from ..model import HistoryRow
from ..rules import normalize
from ..rules.stats import Summary, history_rows
from . import chart

OVERALL = (vocab.SCOPE_OVERALL, "整改措施")


def series(history: list[HistoryRow], scope: tuple[str, str] = OVERALL, current: Summary | None = None,
           period: str = "") -> list[HistoryRow]:
    """Points of one (范围, 名称) over the periods, oldest first; with current, this period's point
    is the live summary's (so the series is right whether or not the history was written yet)."""
    rows = [r for r in history if r.period != period or current is None]
    if current is not None:
        rows += history_rows(current, period)
    points = {}
    for r in rows:
        if (r.scope, r.name) == scope and r.period:
            points[r.period] = r
    return [points[p] for p in sorted(points)]


def previous_point(points: list[HistoryRow], period: str) -> HistoryRow | None:
    """The latest point before period (None when the history has none)."""
    earlier = [p for p in points if p.period < period]
    return earlier[-1] if earlier else None


def _months_apart(earlier: str, later: str) -> int | None:
    """Whole months between two 'YYYY-MM' periods (None when a period is not of that form)."""
    try:
        y1, m1 = (int(x) for x in earlier.split("-")[:2])
        y2, m2 = (int(x) for x in later.split("-")[:2])
    except ValueError:
        return None
    return (y2 - y1) * 12 + (m2 - m1)


NO_PREVIOUS = "（无上期数据）"


def sentence(current: float, previous: float | None, period: str = "", previous_period: str = "",
             label: str = "总体完成率", missing: str = NO_PREVIOUS) -> str:
    """"总体完成率较上月提高3.2个百分点" (or 下降 / 持平); without last period's figure, the figure and missing."""
    if previous is None:
        return f"{label}为{current:.1f}%{missing}"
    since = "上月" if _months_apart(previous_period, period) == 1 or not previous_period else \
        f"上期（{normalize.period_text(previous_period)}）"
    change = round(current, 1) - round(previous, 1)
    if abs(change) < 0.05:
        return f"{label}为{current:.1f}%，与{since}持平"
    word = "提高" if change > 0 else "下降"
    return f"{label}为{current:.1f}%，较{since}{word}{abs(change):.1f}个百分点"


def trend_sentence(history: list[HistoryRow], summary: Summary, period: str, scope: tuple[str, str] = OVERALL,
                   label: str = "总体完成率", missing: str = NO_PREVIOUS) -> str:
    """The trend sentence of one scope for this period, from the history and the live summary; missing is
    what follows the figure when there is no earlier period (a signed 通报 says nothing)."""
    points = series(history, scope, summary, period)
    now = next(p for p in points if p.period == period)
    before = previous_point(points, period)
    return sentence(now.completion, before.completion if before else None, period,
                    before.period if before else "", label, missing)


def line_chart_png(points: list[HistoryRow], title: str) -> bytes | None:
    """PNG of completion % over the periods (Pillow, like chart.py); None without a CJK font."""
    from PIL import Image, ImageDraw, ImageFont
    font_file = chart.cjk_font_file()
    if font_file is None or not points:
        return None
    s = 2
    label, small, heading = (ImageFont.truetype(font_file, n * s) for n in (13, 11, 16))
    width, height = 640 * s, 176 * s                      # wide and low: it sits in the 通报 body
    left, right, top, bottom = 56 * s, 24 * s, 52 * s, 48 * s
    plot_w, plot_h = width - left - right, height - top - bottom
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, 16 * s), title, font=heading, fill="#222222", anchor="mt")
    for tick in range(0, 101, 20):
        y = top + plot_h * (1 - tick / 100)
        draw.line([(left, y), (left + plot_w, y)], fill="#DDDDDD", width=s)
        draw.text((left - 6 * s, y), f"{tick}%", font=small, fill="#555555", anchor="rm")
    inset = 40 * s                                         # room for the first and last labels
    step = (plot_w - 2 * inset) / max(len(points) - 1, 1)
    xy = [(left + inset + (step * i if len(points) > 1 else plot_w / 2 - inset), top + plot_h * (1 - p.completion / 100))
          for i, p in enumerate(points)]
    if len(xy) > 1:
        draw.line(xy, fill="#1F4E79", width=3 * s, joint="curve")
    for (x, y), p in zip(xy, points):
        draw.ellipse([x - 4 * s, y - 4 * s, x + 4 * s, y + 4 * s], fill="#1F4E79")
        draw.text((x, y - 8 * s), f"{p.completion:.1f}%", font=label, fill="#222222", anchor="mb")
        draw.text((x, top + plot_h + 10 * s), normalize.period_text(p.period), font=small, fill="#555555", anchor="mt")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def write_trend_chart(history: list[HistoryRow], summary: Summary, period: str, path: Path,
                      words: dict[str, str] | None = None) -> Path | None:
    """The 通报's month-over-month chart of overall completion as a PNG file, titled in the profile's words;
    None without a CJK font."""
    w = {**vocab.NOTICE_WORDING, **(words or {})}
    points = series(history, OVERALL, summary, period)
    day = normalize.format_date(summary.reference_date)
    data = line_chart_png(points, f"{w['措施称谓']}{w['完成率称谓']}逐月变化（截至{day}）")
    if data is None:
        return None
    fileio.atomic_write_bytes(path, data)
    return path
