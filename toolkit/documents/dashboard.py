"""看板.html: the leaders' one-page dashboard, one self-contained file per run (opens offline).

Charts are HTML bars and one inline SVG line drawn here, not a JavaScript chart library: the
file stays around 100 KB instead of carrying plotly's 4.8 MB bundle, it contains no external
address at all, prints as vectors on A4, and identical inputs give identical bytes. A few lines
of inline JavaScript filter by unit and 责任领导 (also from the address: 看板.html#领导=张××).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

import jinja2

from .. import vocab
from ..assessment import Assessment
from ..io import fileio
from ..model import HistoryRow, Ledger, Settings
from ..rules import normalize, order
from ..rules.deadlines import OVERDUE
from ..rules.stats import Counts
from . import leaders, ledger_print, notices, templating, trend

FILE_NAME = "看板.html"
TEMPLATE = "看板.html.j2"


@templating.record
@dataclass(frozen=True)
class Bar:
    """One bar: a unit, category or key problem with its completion and change since last period."""
    key: str               # stable name the page's data-k attributes use
    label: str
    completion: float
    total: int
    done: int
    overdue: int
    delta: float | None    # percentage points since the previous period (None: no figure then)
    lagging: bool = False
    title: str = ""        # full text for the tooltip
    units: tuple[str, ...] = ()
    leaders: tuple[str, ...] = ()


@templating.record
@dataclass(frozen=True)
class LateItem:
    """A row of the overdue / due-soon list."""
    state: str
    id: str
    measure: str
    unit: str
    co_units: str
    leader: str
    deadline: str
    days: int
    workdays: int
    status: str
    units: tuple[str, ...]


@templating.record
@dataclass
class Dashboard:
    """Everything the page shows, computed once from the run's summary."""
    title: str
    organisation: str
    period: str
    reference_date: dt.date
    public_paragraph: str
    trend_sentence: str
    previous_period: str
    measures: dict
    levels: dict
    overall_delta: float | None
    units: list[Bar]
    categories: list[Bar]
    key_problems: list[Bar]
    trend: list[HistoryRow]
    late: list[LateItem]
    missing: list[str]
    late_units: list[str]
    unit_leaders: dict[str, tuple[str, ...]]
    leader_views: list[leaders.LeaderView]
    remind_days: int
    rungs: tuple = ()          # 督办梯次 per unit (documents/ladder.py UnitRung): issued and proposed
    unit_names: tuple[str, ...] = ()          # the filter's units, in the office's order
    words: tuple[tuple[str, str], ...] = ()   # the profile's wording (templating.wording) for the trend's labels

    @property
    def overdue(self) -> list[LateItem]:
        return [r for r in self.late if r.state == OVERDUE]

    @property
    def due_soon(self) -> list[LateItem]:
        return [r for r in self.late if r.state != OVERDUE]

    @property
    def trend_svg(self) -> str:
        return line_svg(self.trend, dict(self.words))


def _delta(now: float, before: float | None) -> float | None:
    return None if before is None else round(round(now, 1) - round(before, 1), 1)


def build(ledger: Ledger, settings: Settings, assessment: Assessment, rungs: tuple = ()) -> Dashboard:
    """The dashboard's figures from the same assessment the notices use."""
    period, summary = assessment.period, assessment.summary
    context = notices.programme_context(ledger, settings, assessment)
    paragraph = "".join(line.strip() for line in templating.render("公开进展.txt.j2", context, settings).splitlines())
    previous = assessment.previous
    points = trend.series(ledger.history, trend.OVERALL, summary, period)
    before = trend.previous_point(points, period)
    unit_leaders = {u: tuple(dict.fromkeys(m.leader for m in ledger.rows_of(u))) for u in ledger.units}
    lagging = set(context["进度靠后单位"])

    def bar(key: str, label: str, c: Counts, scope: tuple[str, str] | None, **extra) -> Bar:
        return Bar(key, label, c.completion, c.total, c.done, c.overdue,
                   _delta(c.completion, previous.get(scope)) if scope else None, **extra)

    units = [bar(u, u, c, (vocab.SCOPE_UNIT, u), lagging=u in lagging, units=(u,), leaders=unit_leaders.get(u, ()))
             for u, c in assessment.ranking]
    categories = [bar(k, k, c, (vocab.SCOPE_CATEGORY, k)) for k, c in summary.by_category.items() if c.total]
    keys = [bar(str(i), f"{i}.{_short(k)}", c, None, title=k) for i, (k, c) in enumerate(summary.by_key_problem.items(), 1)]
    rows = list(assessment.late)
    late = []
    for r in rows:
        m = r.measure
        late.append(LateItem(r.state, m.id, m.measure, m.lead_unit, "、".join(m.co_units), m.leader,
                             m.deadline if isinstance(m.deadline, str) else normalize.format_date(m.deadline),
                             r.days, r.workdays, m.status, tuple(m.owners)))
    return Dashboard(
        title=context["标题"], organisation=settings.organisation, period=period,
        reference_date=summary.reference_date, public_paragraph=paragraph,
        trend_sentence=trend.trend_sentence(ledger.history, summary, period, label=f"总体{context['完成率称谓']}"),
        previous_period=before.period if before else "", measures=context["措施"], levels=context["问题"],
        overall_delta=_delta(summary.measures.completion, before.completion if before else None),
        units=units, categories=categories, key_problems=keys, trend=points, late=late,
        missing=context["未报送单位"], late_units=context["逾期报送单位"], unit_leaders=unit_leaders,
        leader_views=leaders.views(ledger, rows, assessment.leader_order), remind_days=settings.remind_working_days,
        rungs=tuple(rungs), unit_names=tuple(order.in_order(ledger.units, assessment.unit_order)),
        words=tuple((k, v) for k, v in context.items() if k in vocab.NOTICE_WORDING))


def _short(text: str, limit: int = 26) -> str:
    """A key problem's name without the boilerplate, cut to fit one bar label."""
    text = text.removeprefix("关于").removesuffix("的问题和整改意见").removesuffix("的问题").removesuffix("问题")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_svg(points: list[HistoryRow], words: dict[str, str] | None = None) -> str:
    """Inline SVG of the overall completion % per period (a note instead when there is one period), labelled
    in the profile's words."""
    wd = {**vocab.NOTICE_WORDING, **(words or {})}
    w, h, left, right, top, bottom, inset = 560, 230, 44, 16, 26, 36, 36
    pw, ph = w - left - right, h - top - bottom
    parts = [f'<svg class="trend" viewBox="0 0 {w} {h}" role="img" aria-label="总体{wd["完成率称谓"]}变化趋势">']
    for tick in range(0, 101, 25):
        y = top + ph * (1 - tick / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{tick}%</text>')
    step = (pw - 2 * inset) / max(len(points) - 1, 1)
    xy = [(left + inset + (step * i if len(points) > 1 else pw / 2 - inset), top + ph * (1 - p.completion / 100))
          for i, p in enumerate(points)]
    if len(xy) > 1:
        parts.append('<polyline class="line" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    for (x, y), p in zip(xy, points):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="dot"><title>{escape(normalize.period_text(p.period))}：'
                     f'{wd["完成率称谓"]}{p.completion:.1f}%，{wd["已完成称谓"]}{p.done}{wd["计量"]}/共{p.total}{wd["计量"]}</title></circle>'
                     f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="val" data-k="趋势.{escape(p.period)}">'
                     f'{p.completion:.1f}%</text>'
                     f'<text x="{x:.1f}" y="{h - 12}" text-anchor="middle" class="tick">{escape(normalize.period_text(p.period))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _signed(delta: float | None) -> str:
    """'+3.2' / '−1.0' / '持平' / '' for a change in percentage points."""
    if delta is None:
        return ""
    if abs(delta) < 0.05:
        return "持平"
    return f"+{delta:.1f}" if delta > 0 else f"−{-delta:.1f}"


@lru_cache(maxsize=4)
def environment(where: tuple[Path, ...]) -> jinja2.Environment:
    env = templating.Sandbox(loader=templating.loader(where), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["日期"] = normalize.format_date
    env.filters["期次"] = normalize.period_text
    env.filters["百分比"] = templating.pct
    env.filters["变化"] = _signed
    env.filters["竖线"] = lambda names: "|".join(names)
    return env


def render(board: Dashboard, settings: Settings | Path | None = None) -> str:
    """The page's HTML (看板.html.j2: the workspace's copy first, templating.folders)."""
    where = templating.folders(settings)
    try:
        template = environment(where).get_template(TEMPLATE)
        return _joined(template.generate(**templating.wording(settings), d=board, vocab=vocab, OVERDUE=OVERDUE))
    except jinja2.TemplateError as exc:
        raise templating.located(TEMPLATE, where, exc) from None


def _joined(chunks: Iterator[str]) -> str:
    """The rendered chunks as one text, each escaped chunk (a Markup) kept as a plain str: plain strings are not
    watched by the garbage collector, while the page's 400,000 Markups held until the join cost it three full
    passes over the whole ledger (half the page's time)."""
    return "".join([str(chunk) for chunk in chunks])


def write_dashboard(ledger: Ledger, settings: Settings, assessment: Assessment, rungs: tuple = ()) -> Path:
    """output/<期次>/看板.html, rewritten only when its content changed."""
    path = settings.path("output") / assessment.period / FILE_NAME
    text = render(build(ledger, settings, assessment, rungs), settings)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        fileio.atomic_write_text(path, text)
    return path


def write_outputs(ledger: Ledger, settings: Settings, assessment: Assessment, rungs=()) -> list[Path]:
    """What a run writes for the leaders: the dashboard (rungs: its 督办梯次 section), one 调度单 per 责任领导
    and the ledger's 打印版."""
    return [write_dashboard(ledger, settings, assessment, tuple(rungs)), *leaders.write_slips(ledger, settings, assessment),
            ledger_print.write_print_book(ledger, settings, assessment)]
