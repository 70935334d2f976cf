"""Which measures are late or due soon, on the Chinese working-day calendar.

A measure is overdue when its due date is before the reference date and it is not 已完成;
due soon when the reference date is within N working days before the due date. In the
workbooks the same rule is live conditional formatting against the 基准日期 cell.
"""
from __future__ import annotations

import datetime as dt
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .. import vocab
from ..model import Ledger, Measure, Settings
from . import normalize

OVERDUE, DUE_SOON, DONE = "逾期", "临期", "已完成"


class CalendarWarning(UserWarning):
    """The Chinese holiday table does not know a year: plain weekdays are used for it."""


class WorkCalendar:
    """Chinese working days: statutory holidays and make-up workdays, plus the office's additions."""

    def __init__(self, extra_holidays: Iterable[dt.date] = (), extra_workdays: Iterable[dt.date] = ()) -> None:
        self.extra_holidays = set(extra_holidays)
        self.extra_workdays = set(extra_workdays)
        self.unknown_years: set[int] = set()
        self._years: tuple[int, int] | None = None
        self._workdays: list[int] = []          # ordinals of every working day in the covered years

    def _cover(self, *days: dt.date) -> None:
        """Index every working day of the years around the given days (once), for O(log n) arithmetic."""
        lo, hi = min(d.year for d in days) - 1, max(d.year for d in days) + 1
        if self._years and self._years[0] <= lo and hi <= self._years[1]:
            return
        if self._years:
            lo, hi = min(lo, self._years[0]), max(hi, self._years[1])
        day, end = dt.date(lo, 1, 1), dt.date(hi, 12, 31)
        ordinals = []
        while day <= end:
            if self._workday(day):
                ordinals.append(day.toordinal())
            day += dt.timedelta(days=1)
        self._years, self._workdays = (lo, hi), ordinals

    def is_workday(self, day: dt.date) -> bool:
        self._warn_if_unknown(day)
        return self._workday(day)

    def _workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        known = _official_workday(day)
        return day.weekday() < 5 if known is None else known

    def _warn_if_unknown(self, *days: dt.date) -> None:
        """Say so (once per year) when a date falls in a year the holiday table does not know."""
        for day in days:
            if day.year in self.unknown_years or _official_workday(dt.date(day.year, 6, 1)) is not None:
                continue
            if any(d.year == day.year for d in self.extra_holidays | self.extra_workdays):
                continue   # the office supplied this year's holidays
            self.unknown_years.add(day.year)
            warnings.warn(f"{day.year}年的法定节假日尚未收录，暂按周一至周五计算工作日；"
                          f"可在配置 [calendar] 中补充该年的节假日与调休上班日。", CalendarWarning)

    def shift(self, day: dt.date, workdays: int) -> dt.date:
        """The date `workdays` working days before (negative) or after (positive) day."""
        if workdays == 0:
            return day
        self._cover(day, day + dt.timedelta(days=3 * workdays))
        if workdays < 0:
            result = dt.date.fromordinal(self._workdays[bisect_left(self._workdays, day.toordinal()) + workdays])
        else:
            result = dt.date.fromordinal(self._workdays[bisect_right(self._workdays, day.toordinal()) + workdays - 1])
        self._warn_if_unknown(day, result)
        return result

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after start up to and including end (0 when end <= start)."""
        if end <= start:
            return 0
        self._cover(start, end)
        self._warn_if_unknown(start, end)
        return bisect_right(self._workdays, end.toordinal()) - bisect_right(self._workdays, start.toordinal())


@lru_cache(maxsize=4096)
def _official_workday(day: dt.date) -> bool | None:
    import chinese_calendar
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def calendar_for(settings: Settings) -> WorkCalendar:
    return WorkCalendar(settings.extra_holidays, settings.extra_workdays)


def due_date(m: Measure, settings: Settings) -> dt.date | None:
    """The date a deadline means: itself, the programme start for 立行立改, None for long-term."""
    if isinstance(m.deadline, dt.date):
        return m.deadline
    if m.deadline == vocab.IMMEDIATE:
        return settings.programme_start
    return None


@dataclass
class LateRow:
    """A measure on the 逾期清单 (or due soon), with how late it is."""
    measure: Measure
    state: str
    due: dt.date
    days: int            # calendar days overdue (negative: days left)
    workdays: int        # working days overdue (or left)


def classify(m: Measure, due: dt.date | None, today: dt.date, remind_from: dt.date | None) -> str | None:
    if m.status == vocab.DONE:
        return DONE
    if due is None:
        return None
    if due < today:
        return OVERDUE
    if remind_from is not None and remind_from <= today <= due:
        return DUE_SOON
    return None


def late_rows(ledger: Ledger, settings: Settings, today: dt.date, cal: WorkCalendar | None = None,
              helpers: dict[str, tuple[dt.date | None, dt.date | None]] | None = None) -> list[LateRow]:
    """Overdue and due-soon measures at the reference date today, most overdue first (helpers: each
    measure's (due, remind-from) when already computed)."""
    cal = cal or calendar_for(settings)
    out = []
    for m in ledger.measures.values():
        due, remind = helpers[m.id] if helpers is not None else helper_values(m, settings, cal)
        state = classify(m, due, today, remind)
        if due is None:
            continue
        if state == OVERDUE:
            out.append(LateRow(m, state, due, (today - due).days, cal.workdays_between(due, today)))
        elif state == DUE_SOON:
            out.append(LateRow(m, state, due, -(due - today).days, -cal.workdays_between(today, due)))
    out.sort(key=lambda r: (r.state != OVERDUE, -r.days, r.measure.id))
    return out


def plan_warnings(ledger: Ledger, settings: Settings) -> list[str]:
    """Things in the plan worth a second look: deadlines before the programme even started."""
    early = [m for m in ledger.measures.values()
             if isinstance(m.deadline, dt.date) and m.deadline < settings.programme_start]
    return [f"台账第{m.row}行（{m.id}）完成时限{normalize.format_date(m.deadline)}早于整改启动日期"
            f"{normalize.format_date(settings.programme_start)}，请核对" for m in early
            if isinstance(m.deadline, dt.date)]


def overdue_ids(ledger: Ledger, settings: Settings, today: dt.date) -> set[str]:
    return {r.measure.id for r in late_rows(ledger, settings, today) if r.state == OVERDUE}








def helper_values(m: Measure, settings: Settings, cal: WorkCalendar) -> tuple[dt.date | None, dt.date | None]:
    due = due_date(m, settings)
    return due, (cal.shift(due, -settings.remind_working_days) if due else None)




def days_overdue(m: Measure, due: dt.date | None, today: dt.date) -> int | str:
    """What the 逾期天数 formula shows for a measure: calendar days late, or blank."""
    return (today - due).days if due and due < today and m.status != vocab.DONE else ""





def due_note(state: str, days: int | None) -> str:
    """How a late or due-soon measure reads in a slip: “已逾期12天” / “还有3天到期” / “今天到期” / ""."""
    if state == OVERDUE:
        return f"已逾期{days}天"
    if not state:
        return ""
    return f"还有{-days}天到期" if days else "今天到期"
