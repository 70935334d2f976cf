"""The run's document outputs declared once: each kind's name, the inputs it depends on and its write
function from the one assessment; run_once walks the list, skips an output whose inputs are unchanged
and writes independent ones concurrently. A new document kind is one more entry in OUTPUTS."""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from .assessment import Assessment
from .consolidate import ConsolidationResult
from .documents import dashboard, leaders, ledger_print, notices, receipts, reminders
from .documents import ladder as ladder_docs
from .io import fileio, staging
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
    master_digest: str = ""                           # the master's content digest (参数 sheet): the ledger's fingerprint


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
    larger first when written concurrently). A writer replaces files (fileio.atomic_write_*), never writes into
    one: that is what lets Ahead write into a twin of hard links (tests/test_outputs.py holds it)."""
    name: str
    inputs: tuple[str, ...]
    write: Callable[[Run], Made]
    cost: float = 1.0


def _notices(run: Run) -> Made:
    return Made(notices.write_notices(run.ledger, run.settings, run.assessment))


def _proposals(run: Run) -> Made:
    return Made([ladder_docs.write_proposals(run.proposed, run.settings, run.assessment.period)])


def _dashboard(run: Run) -> Made:
    rungs = ladder_docs.unit_rungs(run.ledger, run.assessment, run.proposed, run.issued)
    return Made([dashboard.write_dashboard(run.ledger, run.settings, run.assessment, tuple(rungs)),
                 *leaders.write_slips(run.ledger, run.settings, run.assessment)])


def _print_book(run: Run) -> Made:
    return Made([ledger_print.write_print_book(run.ledger, run.settings, run.assessment)])


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
    Output("台账打印版", ("master", "settings"), _print_book, cost=5.0),
    Output("催报", ("master", "settings", "templates"), _reminders),      # 催报.md.j2
]


def input_digests(run: Run, settings_digest: str, templates_digest: str) -> dict[str, str]:
    """The digest of every input an output may declare, computed once per run."""
    issued = json.dumps([asdict(i) for i in run.issued], default=str, ensure_ascii=False, sort_keys=True)
    return {"master": run.master_digest, "settings": settings_digest, "templates": templates_digest,
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



class Ahead:
    """Every output, and the run's receipts, written in a forked process while the history and the master are
    being written: into a staging twin of the output folder (toolkit.io.staging), moved into place by finish()
    once the master is (and before the inbox is cleared), removed by discard() otherwise. Where it cannot start
    (no fork, a small ledger, no hard links) or it fails, nothing was written ahead: the run writes the receipts
    and the outputs itself after the master, as it always did.

    prepare(result, digest) gives the Run and its input digests from the consolidation about to be written."""

    SCOPES = ("{period}",)                 # what the writers read or remove besides the output folder's own files
    EXCLUDE = ("运行报告",)                 # written by the run itself, at its end: not linked

    def __init__(self, prepare: Callable[[ConsolidationResult, str], tuple[Run, dict[str, str]]], before: dict) -> None:
        self.prepare, self.before = prepare, before
        self.proc: mp.process.BaseProcess | None = None
        self.conn = None
        self.stage: staging.Stage | None = None
        self.prepared: tuple[Run, dict[str, str]] | None = None   # the Run written from, once started
        self.made: dict[str, tuple[str, Made]] | None = None      # once finished: what was written ahead
        self.receipts: list[Path] = []

    def start(self, result: ConsolidationResult, digest: str) -> None:
        if (CONCURRENCY != "fork" or len(result.ledger.measures) < PARALLEL_FROM
                or "fork" not in mp.get_all_start_methods()):
            return
        run, digests = self.prepared = self.prepare(result, digest)
        output = run.settings.path("output")
        self.stage = staging.open_stage(output, [s.format(period=run.assessment.period) for s in self.SCOPES],
                                        self.EXCLUDE)
        if self.stage is None:
            return
        twin = replace(run, settings=replace(run.settings, paths={**run.settings.paths, "output": str(self.stage.folder)}))
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_ahead, args=(child, twin, digests, self.before))   # not daemonic: it forks writers
        self.proc.start()
        child.close()

    def finish(self) -> None:
        """Wait for what is written ahead and move it into place (the master and its history are): made and
        receipts; nothing when it was not started or failed (its twin is then removed)."""
        if self.proc is None or self.stage is None:
            return
        try:
            got = self.conn.recv()
        except EOFError:
            got = None
        self.proc.join()
        if got is None or self.proc.exitcode != 0:
            self.discard()
            return
        stage = self.stage
        self.stage, self.proc = None, None
        if not staging.commit(stage):
            log.warning("输出文件夹在运行期间有改动（%s），文档改为在台账写好后重新生成", stage.real)
            return
        made, receipts = got
        twin, real = str(stage.folder), str(stage.real)
        for _, m in made.values():
            m.paths = [stage.real_path(p) for p in m.paths]
            m.warnings = [w.replace(twin, real) for w in m.warnings]      # a warning names the folder in place
        self.made, self.receipts = made, [stage.real_path(p) for p in receipts]

    def discard(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)      # the writer and the writers it forked
                except (AttributeError, OSError):
                    self.proc.kill()
            self.proc.join()
            self.proc = None
        if self.stage is not None:
            staging.discard(self.stage)
            self.stage = None


def _end_with_parent(parent: int, own_group: bool) -> None:
    """In the writer: end it, and the writers it forked, once the run that started it is gone (killed): an orphan
    would go on writing into a twin that nobody commits, beside the next run."""
    while os.getppid() == parent:
        time.sleep(0.1)
    if own_group:
        os.killpg(0, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def _ahead(conn, run: Run, digests: dict[str, str], before: dict) -> None:
    """In a forked process: the receipts, then every output, into the twin; sends ({name: (fingerprint, Made)},
    receipts), or None when something failed."""
    parent = os.getppid()
    try:
        os.setpgid(0, 0)          # its own process group, so that discard() ends the writers it forks with it
        own_group = True
    except (AttributeError, OSError):
        own_group = False
    threading.Thread(target=_end_with_parent, args=(parent, own_group), daemon=True).start()
    try:
        written = receipts.write_receipts(run.result.files, run.ledger, run.result.period, run.settings)
        got = (write_all(run, digests, before), written)
    except Exception:
        log.exception("预先生成文书时出错，在写入台账后重新生成")
        got = None
    conn.send(got)
    conn.close()
