"""催报: in the last working days before the period's `submit_by`, a reminder to every unit that has
not yet reported, listing its own overdue and due-soon measures (.md and .docx per unit).

The window is `remind_submit_days` working days before `submit_by` up to `submit_by` itself, on the
same working-day calendar as the overdue rules. Units that reported this period never get one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .. import vocab
from ..assessment import Assessment, Dated
from ..io import fileio
from ..io.fileio import safe_filename
from ..model import Ledger, Settings
from ..rules import normalize
from ..rules.deadlines import OVERDUE, LateRow, WorkCalendar, calendar_for, due_note
from . import gongwen
from .issuers import office_issuer
from .templating import render

FOLDER = "催报"          # output/<期次>/催报/
TEMPLATE = "催报.md.j2"


@dataclass(frozen=True)
class Due:
    """One of a unit's measures that is overdue or due soon, as the reminder lists it."""
    id: str
    measure: str
    deadline: str          # as the ledger words it: a date or 立行立改
    state: str             # 逾期 / 临期
    days: int              # calendar days late (positive) or left (negative)
    status: str            # the unit's own 完成情况
    role: str              # 牵头 / 配合
    leader: str

    @property
    def note(self) -> str:
        return due_note(self.state, self.days)


@dataclass
class Reminders:
    """What one reminder pass found and wrote."""
    reference_date: dt.date
    deadline: dt.date | None                  # the period's submit_by (None: not configured)
    opens: dt.date | None                     # first day of the reminder window
    units: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)       # what the office should do besides (e.g. a file to remove)

    @property
    def active(self) -> bool:
        """The reference date falls inside the window, so reminders were written."""
        return bool(self.deadline and self.opens and self.opens <= self.reference_date <= self.deadline)

    def lines(self) -> list[str]:
        """One line for a person: what was written, or why nothing was; then what to do besides."""
        return self._lines() + [f"提示：{n}" for n in self.notes]

    def _lines(self) -> list[str]:
        if not self.deadline:
            return ["催报：配置中未设置本期报送截止日期（submit_by），未生成催报。"]
        if not self.opens:
            return ["催报：配置 remind_submit_days 为0，不生成催报。"]
        if not self.active:
            day, opens, deadline = (normalize.format_date(d) for d in (self.reference_date, self.opens, self.deadline))
            return [f"催报：基准日期{day}不在催报时段（{opens}至{deadline}）内，未生成催报。"]
        out = [summary_line(len(self.units), self.deadline)]
        if self.paths:
            out.append(f"催报文件：{self.paths[0].parent}")
        return out


def summary_line(units: int, deadline: dt.date) -> str:
    """The run report's line about reminders (only written inside the window)."""
    if not units:
        return f"催报：各单位本期均已报送，无需催报（截止日期{normalize.format_date(deadline)}）。"
    return f"催报：已为{units}个尚未报送的单位生成催报（截止日期{normalize.format_date(deadline)}）。"


def window_start(settings: Settings, cal: WorkCalendar | None = None) -> dt.date | None:
    """First day reminders are written: remind_submit_days working days before submit_by (None: never)."""
    if not settings.submit_by or not settings.remind_submit_days:
        return None
    return (cal or calendar_for(settings)).shift(settings.submit_by, -settings.remind_submit_days)


def folder(settings: Settings, period: str) -> Path:
    return settings.path("output") / period / FOLDER


def due_by_unit(ledger: Ledger, late: list[LateRow]) -> dict[str, list[Due]]:
    """{unit: its overdue then due-soon measures}, as lead or co-owner, skipping those it has itself finished."""
    out: dict[str, list[Due]] = {}
    for r in late:
        m = r.measure
        deadline = m.deadline if isinstance(m.deadline, str) else normalize.format_date(r.due)
        for unit in m.owners:
            own = ledger.owners.get((m.id, unit))
            if own is not None and own.status == vocab.DONE:
                continue
            role = own.role if own else (vocab.ROLE_LEAD if unit == m.lead_unit else vocab.ROLE_CO)
            out.setdefault(unit, []).append(Due(m.id, m.measure, deadline, r.state, r.days,
                                                own.status if own else m.status, role, m.leader))
    return out


def context(unit: str, items: list[Due], ledger: Ledger, settings: Settings, cal: WorkCalendar, when: Dated) -> dict:
    """Variables of templates/催报.md.j2 (listed in its header comment)."""
    today, deadline = when.reference_date, settings.submit_by
    title = (ledger.title or settings.title).removesuffix("台账").removesuffix("整改")
    return {"单位": unit, "标题": title, "报送期次": when.period, "基准日期": today,
            "截止日期": deadline, "剩余工作日": cal.workdays_between(today, deadline),
            "剩余天数": (deadline - today).days, "发文单位": office_issuer(settings),
            "逾期": [d for d in items if d.state == OVERDUE], "临期": [d for d in items if d.state != OVERDUE]}


def write_reminders(ledger: Ledger, settings: Settings, missing_units: list[str], assessment: Assessment) -> Reminders:
    """Inside the window: output/<期次>/催报/<单位>.md and .docx for each unit in missing_units (rewritten only
    when the text changed), and the reminders of units that have reported since removed. Outside: nothing."""
    cal = assessment.calendar
    result = Reminders(assessment.reference_date, settings.submit_by, window_start(settings, cal))
    if not result.active:
        return result
    target = folder(settings, assessment.period)
    by_unit = due_by_unit(ledger, list(assessment.late))
    stems = fileio.unit_file_names(ledger.units)          # 市*医院 and 市**医院: two files
    for unit in missing_units:
        text = render(TEMPLATE, context(unit, by_unit.get(unit, []), ledger, settings, cal, assessment.dated), settings)
        md = target / f"{stems.get(unit) or safe_filename(unit)}.md"
        result.units.append(unit)
        result.paths += gongwen.write_pair(text, md, None, gongwen.Fonts.from_config(dict(settings.fonts)),
                                           office_issuer(settings))[0]
    keep = set(result.paths)
    for stale in (target.iterdir() if target.is_dir() else []):
        if stale.suffix in (".md", ".docx") and not stale.name.startswith(("~$", ".~")) and stale not in keep:
            stale.unlink()          # that unit has reported since: its reminder no longer applies
    return result
