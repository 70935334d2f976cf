"""The run's document outputs declared once: each kind's name, the inputs it depends on and its write
function from the one assessment; run_once walks the list, skips an output whose inputs are unchanged
and writes independent ones concurrently. A new document kind is one more entry in OUTPUTS."""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .assessment import Assessment
from .consolidate import ConsolidationResult
from .documents import dashboard, leaders, ledger_print, notices, reminders
from .documents import ladder as ladder_docs
from .io import fileio
from .model import Ledger, Settings
from .results import noted_warnings

log = logging.getLogger("toolkit")

# How independent outputs are written: "fork" (one forked process per output, 2 at a time), "threads" or
# "serial". Measured at N=1000×R=30 on 2 loaded cores (benchmarks/bench_consolidate.py): see README 性能.
CONCURRENCY = os.environ.get("TOOLKIT_OUTPUTS", "fork")
WORKERS = 2
PARALLEL_FROM = 5000    # measures; below this a fork costs more than it saves (the 33-unit demo runs serially)


@dataclass
class Run:
    """What every output is written from: the consolidated ledger, its one assessment and the 督办梯次 state."""
    settings: Settings
    ledger: Ledger
    assessment: Assessment
    result: ConsolidationResult
    issued: list = field(default_factory=list)        # 督办梯次 notices issued so far (history.sqlite)
    proposed: list = field(default_factory=list)      # this run's proposals from them
    master_sha256: str = ""                           # the master as written, the ledger's fingerprint
    built: dict[str, Path] = field(default_factory=dict)   # {output: its first stage, built while the master was written}


@dataclass
class Made:
    """What one output wrote: its files, the figures the run report needs from it (JSON), its warnings."""
    paths: list[Path] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False           # inputs unchanged since the last run: the files it wrote then stand


@dataclass(frozen=True)
class Output:
    """One document kind of a run: its name, what it is written from, and how (cost: its share of the time,
    larger first when written concurrently; build: a first stage needing only the assessment, into a
    temporary file, started while the master is still being written)."""
    name: str
    inputs: tuple[str, ...]
    write: Callable[[Run], Made]
    cost: float = 1.0
    build: Callable[[Ledger, Settings, Assessment, Path], Path] | None = None


def _notices(run: Run) -> Made:
    return Made(notices.write_notices(run.ledger, run.settings, run.assessment))


def _proposals(run: Run) -> Made:
    return Made([ladder_docs.write_proposals(run.proposed, run.settings, run.assessment.period)])


def _dashboard(run: Run) -> Made:
    rungs = ladder_docs.unit_rungs(run.ledger, run.assessment, run.proposed, run.issued)
    return Made([dashboard.write_dashboard(run.ledger, run.settings, run.assessment, tuple(rungs)),
                 *leaders.write_slips(run.ledger, run.settings, run.assessment)])


def _print_book(run: Run) -> Made:
    return Made([ledger_print.write_print_book(run.ledger, run.settings, run.assessment, run.built.get("台账打印版"))])


def _reminders(run: Run) -> Made:
    done = reminders.write_reminders(run.ledger, run.settings, run.result.missing_units, run.assessment)
    return Made(done.paths, {"active": done.active})


# Inputs: "master" (the ledger and its figures, as the master's bytes), "settings" (every setting and the
# reference date), "templates" (the notice templates), "issued" (the 督办梯次 notices issued so far).
# The master, its statistics and the receipts are written by the consolidation itself (master before
# receipts before the inbox is cleared); the run report, last, from all of these.
OUTPUTS = [
    Output("通报与督办单", ("master", "settings", "templates", "issued"), _notices),
    Output("拟发清单", ("master", "settings", "issued"), _proposals),
    Output("看板与领导调度单", ("master", "settings", "templates", "issued"), _dashboard),
    Output("台账打印版", ("master", "settings"), _print_book, cost=5.0, build=ledger_print.build),
    Output("催报", ("master", "settings", "templates"), _reminders),      # 催报.md.j2
]


def input_digests(run: Run, settings_digest: str, templates_digest: str) -> dict[str, str]:
    """The digest of every input an output may declare, computed once per run."""
    issued = json.dumps([asdict(i) for i in run.issued], default=str, ensure_ascii=False, sort_keys=True)
    return {"master": run.master_sha256, "settings": settings_digest, "templates": templates_digest,
            "issued": hashlib.sha256(issued.encode()).hexdigest()}


def fingerprint(output: Output, digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps([output.name, [digests[i] for i in output.inputs]]).encode()).hexdigest()


def _reused(output: Output, fp: str, before: dict) -> Made | None:
    """The last run's record of this output, when its inputs are unchanged and its files are all still as written."""
    last = before.get(output.name)
    if not last or not last.get("fingerprint") or last["fingerprint"] != fp:
        return None
    paths = [Path(p) for p in last.get("paths", [])]
    files = last.get("files") or {}
    if not all(p.exists() and fileio.stat_of(p) == files.get(str(p)) for p in paths):
        return None          # deleted or edited by hand since: written again, never a stale figure kept
    return Made(paths, last.get("data", {}), last.get("warnings", []), skipped=True)


def _write(output: Output, run: Run) -> Made:
    with noted_warnings() as noted:
        made = output.write(run)
    made.warnings = noted
    return made


_RUN: Run | None = None       # the run a forked writer inherits (never pickled)


def _forked(index: int) -> Made | None:
    """In a forked process: write one output; None when it failed (the parent then writes it itself, to raise)."""
    assert _RUN is not None
    try:
        return _write(OUTPUTS[index], _RUN)
    except Exception:
        log.exception("并行生成 %s 时出错，改为顺序生成", OUTPUTS[index].name)
        return None


def write_all(run: Run, digests: dict[str, str], before: dict) -> dict[str, tuple[str, Made]]:
    """Every declared output: {name: (fingerprint, what it wrote or reused)}, in OUTPUTS order."""
    global _RUN
    fps = {o.name: fingerprint(o, digests) for o in OUTPUTS}
    done: dict[str, Made] = {}
    todo = []
    for i, o in enumerate(OUTPUTS):
        reused = _reused(o, fps[o.name], before)
        if reused is not None:
            done[o.name] = reused
        else:
            todo.append(i)
    todo.sort(key=lambda i: -OUTPUTS[i].cost)     # the longest first, so that it does not start last
    parallel = len(todo) > 1 and len(run.ledger.measures) >= PARALLEL_FROM
    if parallel and CONCURRENCY == "fork" and "fork" in mp.get_all_start_methods():
        import concurrent.futures as cf
        _RUN = run
        try:
            with cf.ProcessPoolExecutor(min(WORKERS, len(todo)), mp_context=mp.get_context("fork")) as pool:
                for i, made in zip(todo, pool.map(_forked, todo)):
                    if made is not None:
                        done[OUTPUTS[i].name] = made
        finally:
            _RUN = None
    elif parallel and CONCURRENCY == "threads":
        import concurrent.futures as cf
        with cf.ThreadPoolExecutor(WORKERS) as threads:
            futures = {OUTPUTS[i].name: threads.submit(_write, OUTPUTS[i], run) for i in todo}
        done.update({name: f.result() for name, f in futures.items()})
    for i in todo:
        if OUTPUTS[i].name not in done:
            done[OUTPUTS[i].name] = _write(OUTPUTS[i], run)
    return {o.name: (fps[o.name], done[o.name]) for o in OUTPUTS}



class Early:
    """The outputs' first stages (Output.build), each in a forked process started as soon as the assessment
    exists, so that they run while the history and the master are written. Each builds only a temporary
    file; the output's write uses it once the master is in place, and discard() removes what was not used."""

    def __init__(self) -> None:
        self.started: dict[str, tuple[mp.process.BaseProcess, Path]] = {}

    def start(self, ledger: Ledger, settings: Settings, assessment: Assessment) -> None:
        if (CONCURRENCY != "fork" or len(ledger.measures) < PARALLEL_FROM
                or "fork" not in mp.get_all_start_methods()):
            return
        folder = settings.path("output") / assessment.period
        folder.mkdir(parents=True, exist_ok=True)
        ctx = mp.get_context("fork")
        for i, o in enumerate(OUTPUTS):
            if o.build is not None:
                tmp = folder / f".~build-{i}-{os.getpid()}.xlsx"
                proc = ctx.Process(target=_build_quietly, args=(o.build, ledger, settings, assessment, tmp), daemon=True)
                proc.start()
                self.started[o.name] = (proc, tmp)

    def collect(self) -> dict[str, Path]:
        """{output: its built file}, waiting for each build; a failed build is left to the output's write."""
        out = {}
        for name, (proc, tmp) in self.started.items():
            proc.join()
            if proc.exitcode == 0 and tmp.exists():
                out[name] = tmp
        return out

    def discard(self) -> None:
        for proc, tmp in self.started.values():
            if proc.is_alive():
                proc.kill()
            proc.join()
            tmp.unlink(missing_ok=True)
        self.started.clear()


def _build_quietly(build: Callable, ledger: Ledger, settings: Settings, assessment: Assessment, tmp: Path) -> None:
    """In a forked process: one first stage into tmp; exit code 1 when it failed (the write then builds again)."""
    try:
        with noted_warnings():
            build(ledger, settings, assessment, tmp)
    except Exception:
        log.exception("预先生成 %s 时出错，稍后重新生成", tmp.name)
        tmp.unlink(missing_ok=True)
        os._exit(1)
