"""What an operation reports, as data: the headline figures, the run report, a refresh, a 销号 decision and the
files written serialise to JSON (to_dict, as_json), and their text (lines, the buttons' summary) is rendered from it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from . import model, vocab
from .assessment import Assessment
from .consolidate import ConsolidationResult
from .documents import notices, reminders
from .intake import Problem as SubmissionProblem
from .io.history_db import HistoryWarning
from .rules.deadlines import CalendarWarning

# ---------------------------------------------------------------- results as JSON values

def data(value: Any) -> Any:
    """A result as plain JSON values: a record's to_dict() when it has one, else its fields (repr=False ones left
    out: the ledger and the assessment a result carries), paths as text, dates in ISO form, enums as their words."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: data(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, tuple) and hasattr(value, "_fields"):     # a named tuple (history_db.Change): by field
        return {name: data(v) for name, v in zip(value._fields, value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [data(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def as_json(result: Any) -> str:
    """A result or a problem as one JSON document (Chinese kept readable), for the CLI's --json and the service."""
    return json.dumps(data(result), ensure_ascii=False, indent=1)


def submission_problem(p: SubmissionProblem) -> dict[str, Any]:
    """One thing wrong in a received file: its kind, location and parameters, what is wrong and the fix, and the
    sentence a receipt shows."""
    return p.to_dict()


def consolidation_data(c: ConsolidationResult) -> dict[str, Any]:
    """A consolidation as data: counts by outcome, every file with its problems, what was left, missing units."""
    d = {
        "period": c.period, "master": str(c.master), "master_changed": c.master_changed,
        "received": len(c.files), "applied": c.count(*vocab.APPLIED_OUTCOMES), "partial": c.count(vocab.OUTCOME_PARTIAL),
        "rejected": c.count(vocab.OUTCOME_REJECTED), "duplicate": c.count(vocab.OUTCOME_DUPLICATE),
        "superseded": c.count(vocab.OUTCOME_SUPERSEDED), "accepted_rows": c.accepted_rows,
        "files": [{"name": f.submission.name, "unit": f.unit, "outcome": f.outcome, "late": f.late,
                   "accepted": f.accepted, "archived": str(f.archived) if f.archived else None,
                   "problems": [submission_problem(p) for p in f.submission.problems]} for f in c.files],
        "deferred": [data(s) for s in c.deferred + c.kept], "ignored": [data(s) for s in c.ignored],
        "submitted_units": list(c.submitted_units), "missing_units": list(c.missing_units),
        "receipts": [str(p) for p in c.receipts],
    }
    return {**d, "summary": consolidation_summary(d)}


def consolidation_headline(d: dict[str, Any]) -> str:
    return (f"汇总（{d['period']}）：收到{d['received']}个文件，采纳{d['applied']}个（其中部分采纳{d['partial']}个），"
            f"退回{d['rejected']}个，重复{d['duplicate']}个，被取代{d['superseded']}个；更新措施{d['accepted_rows']}条。")


def consolidation_summary(d: dict[str, Any]) -> list[str]:
    """The short account a button's message box shows: the headline, the master, the units still missing, the receipts."""
    out = [consolidation_headline(d), f"台账{'已更新' if d['master_changed'] else '无变化'}：{d['master']}"]
    if d["missing_units"]:
        out.append(f"本期尚未报送（{len(d['missing_units'])}个）：{'、'.join(d['missing_units'])}")
    if d["receipts"]:
        out.append(f"回执（{len(d['receipts'])}份）：{Path(d['receipts'][0]).parent}")
    return out


def consolidation_lines(d: dict[str, Any]) -> list[str]:
    """What a person wants to read after a consolidation, one line each, from its data."""
    out = [consolidation_headline(d)]
    for f in d["files"]:
        flag = "（逾期报送）" if f["late"] else ""
        out.append(f"  {f['outcome']}{flag}：{f['name']} → {f['unit']}，采纳{f['accepted']}条，问题{len(f['problems'])}处")
    for title, items in (("留待下次汇总", d["deferred"]), ("忽略的项目", d["ignored"])):
        if items:
            out.append(f"{title}（{len(items)}个）：" + "；".join(f"{i['name']}（{i['reason']}）" for i in items))
    return out + consolidation_summary(d)[1:]

# ---------------------------------------------------------------- what a run reports

@dataclass
class Figures:
    """The headline figures a run reports (kept in the state file for quick reruns)."""
    reference_date: str
    total: int
    done: int
    mostly: int
    in_progress: int
    not_started: int
    completion: float
    overdue: int
    due_soon: int
    soon_days: int       # the reminder window (config remind_working_days) the due-soon count used

    @classmethod
    def of(cls, assessment: Assessment) -> "Figures":
        m = assessment.summary.measures
        return cls(assessment.reference_date.isoformat(), m.total, m.done, m.mostly, m.in_progress, m.not_started,
                   m.completion, len(assessment.overdue), len(assessment.due_soon), assessment.soon_days)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RunReport:
    """What one run did; lines() is the text of the run report file and the log."""
    started: dt.datetime
    seconds: float
    consolidation: ConsolidationResult
    figures: Figures
    distributed: int = 0
    notices: list[Path] = field(default_factory=list)
    report_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    quick: bool = False
    reminders: list[Path] = field(default_factory=list)
    remind_by: dt.date | None = None       # submit_by, when the run fell in the 催报 window
    ladder_line: str = ""                  # the 督办梯次 proposals (拟发) of this run, in one line

    def to_dict(self) -> dict[str, Any]:
        d = {"started": self.started.isoformat(timespec="seconds"), "seconds": round(self.seconds, 2),
             "consolidation": consolidation_data(self.consolidation), "figures": self.figures.to_dict(),
             "distributed": self.distributed, "notices": [str(p) for p in self.notices],
             "report_path": str(self.report_path) if self.report_path else None, "warnings": list(self.warnings),
             "quick": self.quick, "reminders": [str(p) for p in self.reminders],
             "reminded_units": sum(p.suffix == ".md" for p in self.reminders),
             "remind_by": self.remind_by.isoformat() if self.remind_by else None, "ladder_line": self.ladder_line}
        return {**d, "summary": report_summary(d)}

    def lines(self) -> list[str]:
        return report_lines(self.to_dict())


def figures_lines(f: dict[str, Any]) -> list[str]:
    """The run report's two lines of headline figures."""
    return [f"总体完成率：{f['completion']:.1f}%（整改措施{f['total']}条，已完成{f['done']}条，"
            f"基本完成{f['mostly']}条，正在推进{f['in_progress']}条，未启动{f['not_started']}条）",
            f"逾期未完成：{f['overdue']}条；临期（{f['soon_days']}个工作日内到期）：{f['due_soon']}条"
            f"（基准日期 {f['reference_date']}）"]


def report_summary(d: dict[str, Any]) -> list[str]:
    """A run in a few lines (a message box, a notification): what was taken in, the master, the figures."""
    if d["quick"]:
        head = [f"收件箱没有新文件，台账与通报自上次运行以来无变化，未做任何改动（{d['consolidation']['master']}）。"]
    else:
        head = consolidation_summary(d["consolidation"])
    return head + figures_lines(d["figures"])


def report_lines(d: dict[str, Any]) -> list[str]:
    """The text of the run report file and the log, rendered from the run's data."""
    out = []
    if d["distributed"]:
        out.append(f"分发：已为{d['distributed']}个单位生成填报模板。")
    if d["quick"]:
        out += d["summary"][:1]
    else:
        out += consolidation_lines(d["consolidation"])
    out += figures_lines(d["figures"])
    out += [f"提示：{w}" for w in d["warnings"]]
    if d["notices"]:
        out.append(f"通报、督办单与公开段落（{len(d['notices'])}个文件）：{Path(d['notices'][0]).parent}")
    if d["remind_by"]:
        out.append(reminders.summary_line(d["reminded_units"], dt.date.fromisoformat(d["remind_by"])))
    if d["ladder_line"]:
        out.append(d["ladder_line"])
    if d["report_path"]:
        out.append(f"运行报告：{d['report_path']}")
    out.append(f"用时 {d['seconds']:.2f} 秒。")
    return out


@dataclass
class Refreshed:
    """What 刷新统计 on the master did: whether it rewrote the file, and the figures."""
    master: Path
    written: bool
    figures: Figures
    notes: list[str] = field(default_factory=list)     # what reading noticed; requests left by review turned off

    def to_dict(self) -> dict[str, Any]:
        f = self.figures
        done = "统计、逾期标记和历史进度已刷新" if self.written else "统计已是最新，未改动文件"
        summary = [f"{done}（{self.master}，基准日期 {f.reference_date}）。",
                   f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）；"
                   f"逾期未完成{f.overdue}条，临期{f.due_soon}条。"]
        return {"master": str(self.master), "written": self.written, "figures": f.to_dict(), "notes": list(self.notes),
                "summary": summary}

    def lines(self) -> list[str]:
        d = self.to_dict()
        return d["summary"] + [f"提示：{n}" for n in d["notes"]]


@dataclass
class Decided:
    """What a 销号审核 decision from a button or the command line did: the requests decided, the figures."""
    taken: list[model.Review]
    figures: Figures
    still_open: dict[str, str] = field(default_factory=dict)   # 编号 → 完成情况 of a measure a unit's 销号 left open

    def to_dict(self) -> dict[str, Any]:
        f = self.figures
        taken = [{"measure_id": r.measure_id, "unit": r.unit, "conclusion": r.conclusion, "state": r.state,
                  "opinion": r.opinion, "still_open": self.still_open.get(r.measure_id, "")
                  if r.state == vocab.CLOSED else ""} for r in self.taken]
        return {"taken": taken, "figures": f.to_dict(), "still_open": dict(self.still_open),
                "summary": [f"已办理销号审核{len(self.taken)}项：",
                            f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）。"]}

    def lines(self) -> list[str]:
        d = self.to_dict()
        out = d["summary"][:1]
        for r in d["taken"]:
            line = f"  {r['measure_id']}（{r['unit']}）：{r['conclusion']} → {r['state']}" + (
                f"；意见：{r['opinion']}" if r["opinion"] else "")
            if r["still_open"]:
                line += f"（该单位的部分已销号；措施仍为“{r['still_open']}”，其他单位完成后才计为{vocab.DONE}）"
            out.append(line)
        return out + d["summary"][1:]



class Written(list):
    """Files an operation wrote, with the warnings (Chinese sentences) of what it could not do
    and the assessment they were written from."""

    def __init__(self, paths, warnings_: list[str] = (), assessment: Assessment | None = None):
        super().__init__(paths)
        self.warnings = list(warnings_)
        self.assessment = assessment

    def to_dict(self) -> dict[str, Any]:
        figures = Figures.of(self.assessment).to_dict() if self.assessment else None
        return {"paths": [str(p) for p in self], "warnings": list(self.warnings), "figures": figures}


@contextlib.contextmanager
def noted_warnings() -> Iterator[list[str]]:
    """Collect the toolkit's own warnings (calendar gaps, notices without PDF or chart) as sentences,
    each once, instead of letting Python print them."""
    noted: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalendarWarning)
        warnings.simplefilter("always", notices.NoticeWarning)
        warnings.simplefilter("always", HistoryWarning)
        yield noted
    kinds = (CalendarWarning, notices.NoticeWarning, HistoryWarning)
    noted += sorted({str(w.message) for w in caught if issubclass(w.category, kinds)})
    for w in caught:
        if not issubclass(w.category, kinds):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
