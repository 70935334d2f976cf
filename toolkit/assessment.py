"""One assessment per run and reference date: every figure, overdue list and ranking any output needs,
computed once from the merged ledger and handed to every writer (master, notices, dashboard, buttons)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .model import Ledger, Settings
from .rules import deadlines, order, stats
from .rules.deadlines import OVERDUE, LateRow, WorkCalendar
from .rules.review import ReviewCounts
from .rules.stats import Counts, Summary


@dataclass(frozen=True)
class Assessment:
    """The ledger's state at one reference date, as every writer reads it."""
    reference_date: dt.date
    period: str
    calendar: WorkCalendar                            # the working-day calendar, built once
    late: tuple[LateRow, ...]                         # overdue, then due soon, most overdue first
    overdue_ids: frozenset[str]
    summary: Summary
    ranking: tuple[tuple[str, Counts], ...]           # units by completion, best first
    previous: dict[tuple[str, str], float]            # completion % per (scope, name) in the period before
    helpers: dict[str, tuple[dt.date | None, dt.date | None]]   # measure id → (考核日期, 提醒起始日)
    soon_days: int                                    # the due-soon window in working days (config)
    unit_order: tuple[str, ...] = ()                  # units as the office lists them ([order] units, then the ledger's)
    leader_order: tuple[str, ...] = ()                # 责任领导 likewise ([order] leaders, then the ledger's)

    @property
    def overdue(self) -> list[LateRow]:
        return [r for r in self.late if r.state == OVERDUE]

    @property
    def due_soon(self) -> list[LateRow]:
        return [r for r in self.late if r.state != OVERDUE]

    @property
    def review(self) -> ReviewCounts | None:
        return self.summary.review


def assess(ledger: Ledger, settings: Settings) -> Assessment:
    """Everything about the ledger at the settings' reference date, each figure computed once."""
    cal = deadlines.calendar_for(settings)
    helpers = {m.id: deadlines.helper_values(m, settings, cal) for m in ledger.measures.values()}
    late = tuple(deadlines.late_rows(ledger, settings, cal, helpers))
    overdue = frozenset(r.measure.id for r in late if r.state == OVERDUE)
    summary = stats.summarise(ledger, settings, overdue)
    period = settings.current_period()
    units = order.office_order(settings.unit_order, ledger.units)
    leaders = order.office_order(settings.leader_order, ledger.leaders)
    return Assessment(settings.today(), period, cal, late, overdue, summary, tuple(summary.ranking(units)),
                      stats.previous_figures(ledger, period), helpers, settings.remind_working_days, units, leaders)
