"""Completion statistics: per measure, per problem roll-up, per unit, per category, over time.

Completion % counts only 已完成; progress % weighs each status (configurable, 基本完成 = 1 by
default: done in substance). In the workbook the figures are COUNTIFS formulas, so a status
edited by hand updates them; Python computes the same numbers for notices and tests.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import vocab
from ..model import HistoryRow, Ledger, Measure, Settings
from .amounts import Amounts, amount_totals
from .deadlines import overdue_ids
from .review import ReviewCounts
from .review import counts as review_counts
from .rollup import rollup, rollup_items

LONG_TERM = set(vocab.LONG_TERM_WORDS)


@dataclass
class Counts:
    """How many things are in each status, and the percentages derived from them."""
    total: int = 0
    done: int = 0
    mostly: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0

    def add(self, status: str, overdue: bool = False) -> None:
        self.total += 1
        attr = {vocab.DONE: "done", vocab.MOSTLY_DONE: "mostly", vocab.IN_PROGRESS: "in_progress"}.get(status, "not_started")
        setattr(self, attr, getattr(self, attr) + 1)
        self.overdue += overdue

    @property
    def completion(self) -> float:
        """已完成 / total, as a percentage."""
        return 100.0 * self.done / self.total if self.total else 0.0

    def progress(self, weights: dict[str, float]) -> float:
        """Weighted share of work done, as a percentage (基本完成 counts as done by default)."""
        if not self.total:
            return 0.0
        score = (self.done * weights[vocab.DONE] + self.mostly * weights[vocab.MOSTLY_DONE]
                 + self.in_progress * weights[vocab.IN_PROGRESS] + self.not_started * weights[vocab.NOT_STARTED])
        return 100.0 * score / self.total

    def row(self) -> list[int]:
        return [self.total, self.done, self.mostly, self.in_progress, self.not_started, self.overdue]


@dataclass
class Item:
    """A 具体问题, 举一反三 item or 整改意见 with the status rolled up from its measures."""
    key_problem: str
    item: str
    item_type: str
    reform: bool
    computed: str
    judgment: str = ""
    measures: Counts = field(default_factory=Counts)

    @property
    def status(self) -> str:
        return self.judgment or self.computed






@dataclass
class Summary:
    """Every figure the statistics sheet and the notices show, computed in Python."""
    reference_date: dt.date
    measures: Counts
    items: list[Item]
    key_problems: dict[str, str]                     # key problem → rolled-up status
    key_judged: dict[str, bool]
    by_unit: dict[str, Counts]
    by_unit_lead: dict[str, int]
    by_category: dict[str, Counts]
    by_key_problem: dict[str, Counts]
    weights: dict[str, float]
    review: ReviewCounts | None = None               # 销号审核 figures, when review is on
    amounts: Amounts | None = None                   # 整改金额 totals, when the ledger carries the column

    def level(self, kind: str) -> Counts:
        """Counts of problems at one level: 重点问题, 具体问题, 举一反三, 整改意见, 推动改革促进发展."""
        c = Counts()
        if kind == vocab.KEY_PROBLEM:
            for s in self.key_problems.values():
                c.add(s)
            return c
        for it in self.items:
            if (kind == vocab.REFORM and it.reform) or it.item_type == kind:
                c.add(it.status)
        return c

    def ranking(self, order: Sequence[str] = ()) -> list[tuple[str, Counts]]:
        """Units by completion, best first (进度靠后 units at the bottom); ties in the office's order of units
        (order; names it lacks after, by name)."""
        pos = {u: i for i, u in enumerate(order)}
        return sorted(self.by_unit.items(), key=lambda kv: (-kv[1].completion, -kv[1].progress(self.weights),
                                                            kv[1].overdue, pos.get(kv[0], len(pos)), kv[0]))


def category_of(m: Measure) -> list[str]:
    cats = {vocab.SPECIFIC: vocab.CATEGORY_KEY, vocab.DRAW_LESSONS: vocab.DRAW_LESSONS,
            vocab.RECOMMENDATION: vocab.RECOMMENDATION}
    out = [cats[m.item_type]]
    if m.reform:
        out.append(vocab.REFORM)
    return out


def summarise(ledger: Ledger, settings: Settings, today: dt.date,
              overdue: set[str] | frozenset[str] | None = None) -> Summary:
    """All statistics of a ledger at the reference date today (overdue: the overdue measure ids,
    when the run's assessment already knows them)."""
    late = overdue_ids(ledger, settings, today) if overdue is None else overdue
    measures = Counts()
    by_category = {c: Counts() for c in vocab.CATEGORIES}
    by_key: dict[str, Counts] = {}
    groups: dict[tuple[str, str, str], list[Measure]] = {}
    for m in ledger.measures.values():
        measures.add(m.status, m.id in late)
        for cat in category_of(m):
            by_category[cat].add(m.status, m.id in late)
        by_key.setdefault(m.key_problem, Counts()).add(m.status, m.id in late)
        groups.setdefault((m.key_problem, m.item_type, m.item), []).append(m)
    items = []
    for (key, kind, name), ms in groups.items():
        item = Item(key, name, kind, any(m.reform for m in ms),
                    rollup([m.status for m in ms], [m.deadline in LONG_TERM for m in ms]),
                    ledger.judgments.get((key, name), ""))
        for m in ms:
            item.measures.add(m.status, m.id in late)
        items.append(item)
    key_problems, key_judged = {}, {}
    for key in by_key:
        children = [it.status for it in items if it.key_problem == key and it.item_type != vocab.DRAW_LESSONS]
        judged = ledger.judgments.get((key, ""), "")
        key_problems[key] = judged or rollup_items(children)
        key_judged[key] = bool(judged)
    by_unit: dict[str, Counts] = {}
    by_unit_lead: dict[str, int] = {}
    for (mid, unit), entry in ledger.owners.items():
        status = ledger.counted_status(mid, unit)
        by_unit.setdefault(unit, Counts()).add(status, mid in late and status != vocab.DONE)
        by_unit_lead[unit] = by_unit_lead.get(unit, 0) + (entry.role == vocab.ROLE_LEAD)
    return Summary(today, measures, items, key_problems, key_judged, by_unit, by_unit_lead,
                   by_category, by_key, dict(settings.weights),
                   review_counts(ledger) if settings.review_required else None,
                   amount_totals(ledger))


# ---------------------------------------------------------------- history (月调度)

def history_rows(summary: Summary, period: str) -> list[HistoryRow]:
    """This period's 历史进度 rows: overall, per category, per unit."""
    day = summary.reference_date.isoformat()
    scopes = [(vocab.SCOPE_OVERALL, "整改措施", summary.measures)]
    scopes += [(vocab.SCOPE_CATEGORY, cat, c) for cat, c in summary.by_category.items()]
    scopes += [(vocab.SCOPE_UNIT, unit, c) for unit, c in summary.by_unit.items()]
    return [HistoryRow(period, day, scope, name, c.total, c.done, c.mostly, c.in_progress, c.not_started, c.overdue,
                       round(c.completion, 1)) for scope, name, c in scopes]


def update_history(ledger: Ledger, summary: Summary, period: str) -> None:
    """Replace this period's rows in the history with the current figures (idempotent)."""
    kept = [r for r in ledger.history if r.period != period]
    ledger.history = kept + history_rows(summary, period)


def previous_figures(ledger: Ledger, period: str) -> dict[tuple[str, str], float]:
    """Completion % per (scope, name) in the latest period before this one."""
    earlier = sorted({r.period for r in ledger.history if r.period < period})
    if not earlier:
        return {}
    last = earlier[-1]
    return {(r.scope, r.name): r.completion for r in ledger.history if r.period == last}
