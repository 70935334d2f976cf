"""The rerun state beside the master: what a run found (master, inbox, settings, templates) and what it
wrote, so that a rerun with nothing changed reads and writes nothing, and a full run skips unchanged outputs."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

from .assessment import Dated, dated
from .consolidate import ConsolidationResult
from .documents import templating
from .inbox import inbox_fingerprint, own_folders
from .io import fileio
from .model import Settings
from .results import Figures, RunReport


def tree_digest(folder: Path) -> str:
    """SHA-256 over a folder's file names and contents (the notice templates)."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _as_written(outputs: dict) -> bool:
    """Every file of every declared output still as the last run wrote it (size and time, as runstate.save
    recorded them): a deleted 拟发清单 or a hand-edited 通报 makes the next run a complete one."""
    return all(fileio.stat_of(Path(p)) == list(v) if v is not None else False
               for o in outputs.values() for p, v in (o.get("files") or {}).items())


def state_path(settings: Settings) -> Path:
    return settings.master.with_name(f".{settings.master.stem}.state.json")


def fingerprint(settings: Settings, inbox: list | None = None) -> dict:
    """What a quick rerun must find unchanged: the master file, the inbox (listed now unless given),
    every setting (normalised, with today's date when the reference date is 'today') and the templates."""
    s = settings
    if inbox is None:
        inbox = [list(e) for e in inbox_fingerprint(s.path("inbox"), own_folders(s))]
    text = json.dumps([asdict(s), dated(s).reference_date], default=str, sort_keys=True, ensure_ascii=False)
    return {"master": fileio.stat_of(s.master), "inbox": inbox,
            "settings": hashlib.sha256(text.encode()).hexdigest(),
            "templates": "+".join(tree_digest(f) for f in templating.digest_folders(s))}


def load(settings: Settings) -> dict:
    """The last complete run's state ({} when there is none or it cannot be read)."""
    try:
        state = json.loads(state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def quick_report(settings: Settings, started: dt.datetime, t0: float, when: Dated) -> RunReport | None:
    """When nothing changed since the last complete run, its figures, without reading anything else."""
    state = load(settings)
    if not state or state.get("fingerprint") != json.loads(json.dumps(fingerprint(settings), default=str)):
        return None
    written = [Path(p) for p in state.get("notices", [])]
    reminded = [Path(p) for p in state.get("reminders", [])]
    if not all(p.exists() for p in written + reminded) or not _as_written(state.get("outputs") or {}):
        return None      # someone removed or edited an output: regenerate
    result = ConsolidationResult(when.period, settings.master, missing_units=state.get("missing", []))
    remind_by = dt.date.fromisoformat(state["remind_by"]) if state.get("remind_by") else None
    figures = Figures(**{"soon_days": settings.remind_working_days, **state["figures"]})
    return RunReport(started, time.perf_counter() - t0, result, figures, notices=written,
                     warnings=state.get("warnings", []), quick=True, reminders=reminded, remind_by=remind_by,
                     ladder_line=state.get("ladder_line", ""))


def save(settings: Settings, report: RunReport, outputs: dict | None = None) -> None:
    """Record a complete run. The inbox a clean run leaves is empty: anything in it next time (arrived
    during this run, deferred, left because it changed) makes that run a complete one. outputs:
    {name: {fingerprint, paths, data, warnings}} of the declared outputs, for the next full run."""
    state = {"fingerprint": fingerprint(settings, inbox=[]), "figures": asdict(report.figures),
             "missing": report.consolidation.missing_units, "warnings": report.warnings,
             "notices": [str(p) for p in report.notices], "reminders": [str(p) for p in report.reminders],
             "remind_by": report.remind_by, "ladder_line": report.ladder_line, "outputs": outputs or {}}
    fileio.atomic_write_text(state_path(settings), json.dumps(state, ensure_ascii=False, default=str))
