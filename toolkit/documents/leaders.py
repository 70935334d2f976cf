"""Per 责任领导 views: the measures each leader is responsible for, grouped by 牵头单位, with what is
overdue or due soon — the page a 分管领导 takes into a 调度会 (dashboard section and .md/.docx slip).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import vocab
from ..assessment import Assessment, Dated
from ..io.fileio import safe_filename
from ..model import Ledger, Settings
from ..rules import normalize, order
from ..rules.deadlines import OVERDUE, LateRow, due_note
from ..rules.stats import Counts
from . import gongwen
from .issuers import office_issuer
from .templating import record, render

FOLDER = "领导调度单"     # output/<期次>/领导调度单/


@record
@dataclass(frozen=True)
class Line:
    """One measure on a leader's page."""
    id: str
    measure: str
    unit: str
    co_units: str
    status: str
    deadline: str          # as the ledger words it: a date or 长期坚持 etc.
    state: str             # 逾期 / 临期 / ""
    days: int | None       # days late (positive) or left (negative) when state is set

    @property
    def note(self) -> str:
        return due_note(self.state, self.days)


@record
@dataclass
class UnitGroup:
    unit: str
    lines: list[Line] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(line.state == OVERDUE for line in self.lines)

    @property
    def done(self) -> int:
        return sum(line.status == vocab.DONE for line in self.lines)

    @property
    def units(self) -> list[str]:
        """The lead unit and every co-owner of its measures (what the unit filter matches)."""
        return list(dict.fromkeys([self.unit] + [u for line in self.lines for u in line.co_units.split("、") if u]))


@record
@dataclass
class LeaderView:
    """Everything under one 责任领导."""
    leader: str
    counts: Counts
    groups: list[UnitGroup]

    @property
    def overdue(self) -> int:
        return sum(g.overdue for g in self.groups)

    @property
    def due_soon(self) -> int:
        return sum(line.state not in ("", OVERDUE) for g in self.groups for line in g.lines)

    @property
    def units(self) -> list[str]:
        """Every unit with a share in the leader's measures (lead or co-owner), for the filters."""
        return list(dict.fromkeys(u for g in self.groups for u in g.units))


def _rank(line: Line) -> tuple:
    """Overdue (most late first), due soon, open, done."""
    order = 0 if line.state == OVERDUE else 1 if line.state else 2 if line.status != vocab.DONE else 3
    return order, -(line.days or 0), line.id


def views(ledger: Ledger, late: list[LateRow], leader_order: Sequence[str] = ()) -> list[LeaderView]:
    """One view per 责任领导 (the office's order: leader_order, then the ledger's), units with the most overdue
    first."""
    state = {r.measure.id: r for r in late}
    by_leader: dict[str, dict[str, UnitGroup]] = {}
    counts: dict[str, Counts] = {}
    for m in ledger.measures.values():
        leader = m.leader or "（未填写责任领导）"
        r = state.get(m.id)
        line = Line(m.id, m.measure, m.lead_unit, "、".join(m.co_units), m.status,
                    normalize.format_date(m.deadline) if not isinstance(m.deadline, str) else m.deadline,
                    r.state if r and r.state != vocab.DONE else "", r.days if r else None)
        groups = by_leader.get(leader)
        if groups is None:                         # a new group or count only when first met, not one per measure
            groups, counts[leader] = by_leader.setdefault(leader, {}), Counts()
        group = groups.get(m.lead_unit)
        if group is None:
            group = groups[m.lead_unit] = UnitGroup(m.lead_unit)
        group.lines.append(line)
        counts[leader].add(m.status, line.state == OVERDUE)
    out = []
    for leader, groups in by_leader.items():
        for g in groups.values():
            g.lines.sort(key=_rank)
        ordered = sorted(groups.values(), key=lambda g: (-g.overdue, -sum(bool(x.state) for x in g.lines),
                                                         -(len(g.lines) - g.done)))
        out.append(LeaderView(leader, counts[leader], ordered))
    pos = order.place(leader_order)
    return sorted(out, key=lambda v: pos.get(v.leader, len(pos)))


LEADER = re.compile(r"^\s*(?P<name>[^（(]+?)\s*[（(](?P<post>[^）)]+)[）)]\s*$")


def address(leader: str) -> str:
    """How an office addresses a leader: “王××（党委书记、主任）” → “党委书记、主任王××同志”; a bare name → “王××同志”."""
    m = LEADER.match(leader)
    if m:
        return f"{m['post']}{m['name']}同志"
    return leader if leader.endswith("同志") or leader.startswith("（") else f"{leader}同志"


def slip_context(view: LeaderView, settings: Settings, when: Dated) -> dict:
    """Variables of templates/领导调度单.md.j2 (from the office — [documents] office — to the leader)."""
    c = view.counts
    return {"责任领导": view.leader, "称谓": address(view.leader), "报送期次": when.period,
            "基准日期": when.reference_date, "发文单位": office_issuer(settings), "提醒工作日": settings.remind_working_days,
            "合计": {"总数": c.total, "已完成": c.done, "基本完成": c.mostly, "正在推进": c.in_progress,
                   "未启动": c.not_started, "完成率": c.completion},
            "逾期数": view.overdue, "临期数": view.due_soon,
            "单位": [{"单位": g.unit, "总数": len(g.lines), "已完成": g.done, "逾期": g.overdue,
                    "未完成措施": [line for line in g.lines if line.status != vocab.DONE]} for g in view.groups]}


def write_slips(ledger: Ledger, settings: Settings, assessment: Assessment) -> list[Path]:
    """output/<期次>/领导调度单/<责任领导>.md and .docx, each rewritten only when its bytes changed."""
    folder = settings.path("output") / assessment.period / FOLDER
    written = []
    for view in views(ledger, list(assessment.late), assessment.leader_order):
        text = render("领导调度单.md.j2", slip_context(view, settings, assessment.dated), settings)
        md = folder / f"{safe_filename(view.leader)}.md"
        written += gongwen.write_pair(text, md, None, gongwen.Fonts.from_config(dict(settings.fonts)),
                                      office_issuer(settings))[0]
    return written
