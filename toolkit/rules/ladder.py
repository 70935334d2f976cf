"""The escalation ladder (提醒函 → 督办单 → 告诫书 → 约谈/问责建议): which rung to propose per (unit, measure).

Pure: given each late or due-soon (unit, measure) at the reference date, what the unit reports now and
the notices issued before, the rung the office may issue next. The office decides; this only proposes.

- By lateness: due soon → 提醒函; overdue → 督办单; overdue `warn_after` working days → 告诫书; overdue
  `account_after` working days → 约谈/问责建议.
- By what was issued (for the same due date; a new deadline starts afresh): no progress since the last
  notice (status and progress text unchanged), once a period has passed for the unit to answer, climbs
  one rung above it while overdue (a second 督办 becomes a 告诫);
  real progress (the status advanced) steps one rung below it, never under 督办单 while overdue.
- Without real progress never below the last notice, and never the same rung twice in a row for the same
  lateness: a proposal equal to the last notice is none.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .. import vocab

OVERDUE = vocab.OVERDUE


@dataclass(frozen=True)
class LadderRules:
    """The workspace's ladder ([ladder] in config.toml)."""
    warn_after: int = 10          # working days overdue from which 告诫书 is proposed
    account_after: int = 30       # working days overdue from which 约谈/问责建议 is proposed


@dataclass(frozen=True)
class Standing:
    """One unit's late or due-soon measure at the reference date, as the unit reports it now."""
    measure: str
    unit: str
    state: str                    # 逾期 / 临期
    due: dt.date
    workdays: int                 # working days overdue (negative: left)
    status: str                   # the unit's counted 完成情况
    progress: str                 # its 整改进展 text


@dataclass(frozen=True)
class Issued:
    """A notice the office issued for one (unit, measure), with what the unit reported at the time."""
    measure: str
    unit: str
    rung: str
    number: str
    day: dt.date
    issuer: str
    sequence: int                 # 记录序号 of the master when issued
    due: dt.date                  # the due date the notice was about
    status: str
    progress: str
    period: str = ""


@dataclass(frozen=True)
class Proposal:
    """A rung proposed (拟发) for one (unit, measure), why, and the notice before it."""
    measure: str
    unit: str
    rung: str
    reason: str                   # a key of vocab.LADDER_REASONS
    state: str
    due: dt.date
    workdays: int
    status: str
    progress: str
    last: Issued | None = None


def level(rung: str) -> int:
    """A rung's height: 提醒函 0 … 约谈/问责建议 3."""
    return vocab.RUNGS.index(rung)


def by_lateness(s: Standing, rules: LadderRules) -> tuple[int, str]:
    """The rung lateness alone calls for, and why."""
    if s.state != OVERDUE:
        return 0, "due_soon"
    if s.workdays >= rules.account_after:
        return 3, "account_after"
    if s.workdays >= rules.warn_after:
        return 2, "warn_after"
    return 1, "overdue"


def advanced(before: str, now: str) -> bool:
    """Real progress: the status moved up (未启动 → 正在推进 → 基本完成 → 已完成)."""
    return vocab.STATUS_RANK.get(now, -1) > vocab.STATUS_RANK.get(before, -1)


def propose_one(s: Standing, history: Iterable[Issued], rules: LadderRules, period: str) -> Proposal | None:
    """The rung to propose for one (unit, measure) in a period, or None when the last notice still stands.
    No progress counts only once the unit has had a period to answer (a notice of this period stands)."""
    same = [i for i in history if (i.measure, i.unit, i.due) == (s.measure, s.unit, s.due)]
    last = max(same, key=lambda i: (i.day, i.sequence, level(i.rung)), default=None)
    height, reason = by_lateness(s, rules)
    if last is not None:
        before = level(last.rung)
        floor = 1 if s.state == OVERDUE else 0
        if advanced(last.status, s.status):
            down = max(before - 1, floor)
            height, reason = min(height, down), "stepped_down"
        else:                                # no real progress: never below the last notice
            unchanged = last.status == s.status and last.progress.strip() == s.progress.strip()
            if unchanged and s.state == OVERDUE and last.period < period and before + 1 > height:
                height, reason = min(before + 1, len(vocab.RUNGS) - 1), "no_progress"
            height = max(height, before)
        if height == before:
            return None
    return Proposal(s.measure, s.unit, vocab.RUNGS[height], reason, s.state, s.due, s.workdays, s.status,
                    s.progress, last)


def propose(standings: Iterable[Standing], history: Iterable[Issued], rules: LadderRules,
            period: str) -> list[Proposal]:
    """Proposals for every standing (unit, measure) in a period, highest rung first, then by unit and measure."""
    issued = list(history)
    out = [p for s in standings if (p := propose_one(s, issued, rules, period)) is not None]
    out.sort(key=lambda p: (-level(p.rung), p.unit, p.measure))
    return out


def current_rung(unit: str, history: Iterable[Issued], open_measures: set[tuple[str, str]]) -> str:
    """The highest rung issued to a unit among its still-open (measure, unit) episodes ('' if none)."""
    rungs = [i.rung for i in history if i.unit == unit and (i.measure, i.unit) in open_measures]
    return max(rungs, key=level, default="")
