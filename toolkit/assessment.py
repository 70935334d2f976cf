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
class Dated:
    """One run's reference date and 报送期次, fixed once at its start and handed to every step."""
    reference_date: dt.date
    period: str
    fixed: bool = True        # configured or given (on=): the master's 基准日期 cell holds it, not =TODAY()


def dated(settings: Settings, on: dt.date | Dated | None = None) -> Dated:
    """The reference date (on, else the configured one, else today) and the period it falls in: the
    only place a run's date and period are decided."""
    if isinstance(on, Dated):
        return on
    day = on or settings.reference_date
    today = day or dt.date.today()
    return Dated(today, settings.period_on(today), day is not None)


@dataclass(frozen=True)
class Assessment:
    """The ledger's state at one reference date, as every writer reads it."""
    dated: Dated                                      # the reference date and the period, as the run fixed them
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
    def reference_date(self) -> dt.date:
        return self.dated.reference_date

    @property
    def period(self) -> str:
        return self.dated.period

    @property
    def overdue(self) -> list[LateRow]:
        return [r for r in self.late if r.state == OVERDUE]

    @property
    def due_soon(self) -> list[LateRow]:
        return [r for r in self.late if r.state != OVERDUE]

    @property
    def review(self) -> ReviewCounts | None:
        return self.summary.review


def assess(ledger: Ledger, settings: Settings, on: dt.date | Dated | None = None) -> Assessment:
    """Everything about the ledger at reference date on (a date, or the run's Dated; default the
    configured date, else today), each figure computed once."""
    when = dated(settings, on)
    cal = deadlines.calendar_for(settings)
    helpers = {m.id: deadlines.helper_values(m, settings, cal) for m in ledger.measures.values()}
    late = tuple(deadlines.late_rows(ledger, settings, when.reference_date, cal, helpers))
    overdue = frozenset(r.measure.id for r in late if r.state == OVERDUE)
    summary = stats.summarise(ledger, settings, when.reference_date, overdue)
    units = order.office_order(settings.unit_order, ledger.units)
    leaders = order.office_order(settings.leader_order, ledger.leaders)
    return Assessment(when, cal, late, overdue, summary, tuple(summary.ranking(units)),
                      stats.previous_figures(ledger, when.period), helpers, settings.remind_working_days, units, leaders)
