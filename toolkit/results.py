"""What an operation reports: the headline figures, the run report, a refresh, a 销号 decision and the
files written, with the warnings collected as sentences instead of Python's warnings.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import model, vocab
from .assessment import Assessment
from .consolidate import ConsolidationResult
from .documents import notices, reminders
from .rules.deadlines import CalendarWarning

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

    def lines(self) -> list[str]:
        f = self.figures
        out = []
        if self.distributed:
            out.append(f"分发：已为{self.distributed}个单位生成填报模板。")
        if self.quick:
            out.append(f"收件箱没有新文件，台账与通报自上次运行以来无变化，未做任何改动（{self.consolidation.master}）。")
        else:
            out += self.consolidation.lines()
        out.append(f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条，"
                   f"基本完成{f.mostly}条，正在推进{f.in_progress}条，未启动{f.not_started}条）")
        out.append(f"逾期未完成：{f.overdue}条；临期（{f.soon_days}个工作日内到期）：{f.due_soon}条（基准日期 {f.reference_date}）")
        out += [f"提示：{w}" for w in self.warnings]
        if self.notices:
            out.append(f"通报、督办单与公开段落（{len(self.notices)}个文件）：{self.notices[0].parent}")
        if self.remind_by:
            out.append(reminders.summary_line(sum(p.suffix == ".md" for p in self.reminders), self.remind_by))
        if self.ladder_line:
            out.append(self.ladder_line)
        if self.report_path:
            out.append(f"运行报告：{self.report_path}")
        out.append(f"用时 {self.seconds:.2f} 秒。")
        return out


@dataclass
class Refreshed:
    """What 刷新统计 on the master did: whether it rewrote the file, and the figures."""
    master: Path
    written: bool
    figures: Figures
    notes: list[str] = field(default_factory=list)     # what reading noticed; requests left by review turned off

    def lines(self) -> list[str]:
        f = self.figures
        done = "统计、逾期标记和历史进度已刷新" if self.written else "统计已是最新，未改动文件"
        return [f"{done}（{self.master}，基准日期 {f.reference_date}）。",
                f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）；"
                f"逾期未完成{f.overdue}条，临期{f.due_soon}条。"] + [f"提示：{n}" for n in self.notes]


@dataclass
class Decided:
    """What a 销号审核 decision from a button or the command line did: the requests decided, the figures."""
    taken: list[model.Review]
    figures: Figures
    still_open: dict[str, str] = field(default_factory=dict)   # 编号 → 完成情况 of a measure a unit's 销号 left open

    def lines(self) -> list[str]:
        f = self.figures
        out = [f"已办理销号审核{len(self.taken)}项："]
        for r in self.taken:
            line = f"  {r.measure_id}（{r.unit}）：{r.conclusion} → {r.state}" + (f"；意见：{r.opinion}" if r.opinion else "")
            if r.state == vocab.CLOSED and r.measure_id in self.still_open:
                line += (f"（该单位的部分已销号；措施仍为“{self.still_open[r.measure_id]}”，"
                         f"其他单位完成后才计为{vocab.DONE}）")
            out.append(line)
        out.append(f"总体完成率：{f.completion:.1f}%（整改措施{f.total}条，已完成{f.done}条）。")
        return out



class Written(list):
    """Files an operation wrote, with the warnings (Chinese sentences) of what it could not do
    and the assessment they were written from."""

    def __init__(self, paths, warnings_: list[str] = (), assessment: Assessment | None = None):
        super().__init__(paths)
        self.warnings = list(warnings_)
        self.assessment = assessment


@contextlib.contextmanager
def noted_warnings() -> Iterator[list[str]]:
    """Collect the toolkit's own warnings (calendar gaps, notices without PDF or chart) as sentences,
    each once, instead of letting Python print them."""
    noted: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalendarWarning)
        warnings.simplefilter("always", notices.NoticeWarning)
        yield noted
    kinds = (CalendarWarning, notices.NoticeWarning)
    noted += sorted({str(w.message) for w in caught if issubclass(w.category, kinds)})
    for w in caught:
        if not issubclass(w.category, kinds):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
