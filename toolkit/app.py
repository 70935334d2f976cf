"""The application layer: one Workspace through which every front end (CLI, Excel buttons, scheduler)
runs the operations that write. Each runs under the workspace's run lock, an OS lock that dies with
its process, and only once none of the files it replaces is open in Excel, WPS, Word or LibreOffice.
File-system errors leave here as one Chinese message naming the file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

from . import config, history, outputs, runstate, vocab
from .assessment import Assessment, Dated, assess, dated
from .check import write_empty_master
from .consolidate import ConsolidationResult, archive_ahead, consolidate
from .distribute import Distributed, distribute, ensure_secret, secret_path
from .documents import ladder as ladder_docs
from .documents import leaders, notices, reminders
from .errors import ConfigError, ReviewError, UsageError
from .guards import (  # noqa: F401  (os_error_text, owner_files: the front ends' and tests' names)
    LOCK_NAME,
    RunLock,
    claim_folders,
    file_errors,
    files_under,
    master_bytes,
    os_error_text,
    owner_files,
    unchanged_since,
    wait_until_free,
)
from .inbox import left_behind, own_folders, scan_inbox
from .io import fileio, history_db, master_file, shortcuts, staging
from .io.ledger_file import read_ledger, read_master, remember_later
from .model import Ledger, Settings
from .problems import Location
from .results import Decided, Figures, Refreshed, RunReport, Written, noted_warnings  # noqa: F401
from .rules import review
from .rules.deadlines import plan_warnings

log = logging.getLogger("toolkit")


# ---------------------------------------------------------------- the workspace

class Workspace:
    """A workspace (config, master, inbox, outputs) and the operations on it, each run under the run lock."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lock = RunLock(settings.root / LOCK_NAME, settings.lock_wait_seconds)
        self.created: list[Path] = []       # what init wrote
        self._outputs_state: dict = {}      # what the last full run's declared outputs wrote

    @classmethod
    def open(cls, path: Path | str | None = None) -> "Workspace":
        """The workspace of a config.toml, or of the folder holding one (default: the current folder)."""
        return cls(config.load(Path(path) if path else None))

    @classmethod
    def for_master(cls, path: Path | str) -> "Workspace":
        """The workspace of a ledger open in Excel: the config.toml in its folder or up to two above;
        that ledger is the master."""
        path = Path(path)
        for folder in [path.parent, *path.parents][:3]:
            if (folder / config.CONFIG_NAME).exists():
                loaded = config.load(folder)
                settings = replace(loaded, paths={**loaded.paths, "master": str(path)})
                try:
                    config.check_folders(settings)
                except ConfigError as exc:
                    raise ConfigError(kind="config-of-ledger-workspace", where=Location(file=str(folder / config.CONFIG_NAME)),
                                      config=folder / config.CONFIG_NAME, detail=str(exc)) from None
                return cls(settings)
        raise ConfigError(kind="config-not-near-ledger", where=Location(file=str(path)), config=config.CONFIG_NAME)

    @classmethod
    def init(cls, folder: Path | str, profile: str = "") -> "Workspace":
        """Write a commented config.toml, the folders it names, the signing key, the double-click
        shortcuts and an empty master (an existing config or master is kept); .created lists them."""
        path = Path(folder) / config.CONFIG_NAME
        if path.exists():
            raise ConfigError(kind="target-exists", where=Location(file=str(path)), path=path)
        with file_errors():
            settings = config.load(config.write_default(folder, profile=profile))
            ensure_secret(settings)             # the key that signs this workspace's templates
            created = [settings.root / config.CONFIG_NAME, secret_path(settings)]
            for name in settings.paths:
                target = settings.path(name)
                (target.parent if name == "master" else target).mkdir(parents=True, exist_ok=True)
            created += shortcuts.write_shortcuts(settings.root)
            if not settings.master.exists():
                created.append(write_empty_master(settings.master))
        workspace = cls(settings)
        workspace.created = created
        with file_errors(settings.root):
            claim_folders(settings)
        return workspace

    # -- guards

    @contextlib.contextmanager
    def guarded(self, *targets: Path) -> Iterator[None]:
        """Hold the run lock, wait until none of targets is open, and report file errors in Chinese."""
        with file_errors(self.settings.root), self.lock:
            claim_folders(self.settings)
            wait_until_free(list(targets), self.settings.lock_wait_seconds)
            yield

    def at(self, on: dt.date | None) -> Settings:
        """The settings for one operation at reference date on (a variant: the workspace's own never change)."""
        return replace(self.settings, reference_date=on) if on else self.settings

    def notice_folder(self, when: Dated | None = None) -> Path:
        return notices.notice_folder(self.settings, dated(self.settings, when))

    def outbox_folder(self, when: Dated | None = None) -> Path:
        return self.settings.path("outbox") / dated(self.settings, when).period

    # -- operations

    def distribute(self, units: list[str] | None = None, ledger: Ledger | None = None) -> list[Distributed]:
        """Write the unit workbooks into outbox/<period>/ (from the master, or from the given ledger)."""
        with self.guarded(*files_under(self.outbox_folder())):
            return distribute(self.settings, units, ledger)

    def consolidate(self, on_file=None, *, ledger: Ledger | None = None, write=None,
                    again: list[Path] | None = None) -> ConsolidationResult:
        """Take in the inbox (and again: files rejected earlier for an office-side mistake, now fixed).
        An Excel button passes the open book's ledger and a write() saving that book: the book is
        open by definition, so only the lock is taken, not the master's open-check."""
        with self.guarded(*([] if write else [self.settings.master])), few_collections():
            result = self._consolidate(on_file, ledger, write, again)
        if result.master_changed:     # the next run finds the master as saved (by the file writer or by Excel) read
            remember_later(self.settings, len(result.ledger.measures))
        return result

    def _consolidate(self, on_file, ledger: Ledger | None, write, again=None, early=None,
                     when: Dated | None = None) -> ConsolidationResult:
        """Consolidate with every change recorded in the history, committed only once the master is in place
        (early: an outputs.Ahead, started from the consolidated ledger and the digest of the master about to be
        written, finished once it is in place)."""
        self._check_writable("archive", "backup", "output")
        if write is None:
            master_file.check_format(self.settings.master)     # before any file is archived
        notes: list[str] = []          # a damaged or deleted database, rebuilt: one line, and the run goes on
        with history.open_recovering(self.settings, notes) as db, contextlib.ExitStack() as stack:
            seen = master_bytes(self.settings.master)
            when = dated(self.settings, when)      # once: the copies ahead and the run file into one period
            ahead = None
            if ledger is None and not again:       # the inbox copied into the archive while the master is read
                ahead = stack.enter_context(archive_ahead(self.settings, when))
            before = ledger if ledger is not None else read_master(self.settings)
            before.read_notes += notes
            self._restore_requests(before, db)

            def base(after: Ledger, settings: Settings, result: ConsolidationResult, digest: str):
                if write:
                    return write(after, settings, result)
                unchanged_since(settings.master, seen)
                return master_file.write_master(after, settings, result.assessment, digest=digest)

            # what differs beyond the files' own changes is then the office's 销号审核 decisions
            source = vocab.SOURCE_REVIEW if review.decisions_due(before) else vocab.SOURCE_OFFICE

            def recorded_write(after: Ledger, settings: Settings, result: ConsolidationResult):
                digest = history.expected_digest(after, settings, result.assessment)     # once, for all three
                if early:
                    early.start(result, digest)
                # the files just read are replayed from memory, and the digest uses the run's assessment
                with history.recording(db, settings, before, after, source, [f.submission for f in result.files],
                                       result.assessment, digest, result.merged) as run:
                    after.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                    changed = base(after, settings, result, digest)
                if early:               # what was written meanwhile, in place before the inbox is cleared
                    early.finish()
                    result.receipts = early.receipts
                return changed
            return consolidate(self.settings, on_file=on_file, ledger=before.copy(), write=recorded_write,
                               again=again, on=when, ahead=ahead, record_merges=True)

    def _restore_requests(self, ledger: Ledger, db) -> None:
        """A pending request whose 销号审核 row was deleted by hand comes back (the history knows it), with a note."""
        if self.settings.review_required and ledger.owners:
            # the newest committed 销号审核 value per (编号, 单位): one field, not db.state() (1 s at 300,000 rows)
            cur = db.conn.execute(
                "SELECT c.measure, c.unit, c.new FROM changes c JOIN (SELECT MAX(c.id) AS id FROM "
                f"({history_db.COMMITTED_ROWS} AND c.field = ?) c GROUP BY c.measure, c.unit) last ON last.id = c.id",
                (vocab.REVIEW_FIELD,))
            ledger.read_notes += review.restore_deleted(ledger, {(m, u): new for m, u, new in cur})

    def _check_writable(self, *names: str) -> None:
        """Find a folder we cannot write (read-only share, a file in its place) before anything changes,
        not halfway through a run after the master has been replaced."""
        for name in names:
            folder = self.settings.path(name)
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".~tmp-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()

    def decide(self, targets: list[tuple[str, str]], conclusion: str, opinion: str = "", *,
               ledger: Ledger | None = None, write=None) -> Decided:
        """销号审核 from a button or the command line: decide the pending requests of targets ((编号, 单位),
        单位 '' for all), refresh the figures and record the decision (source 销号审核) with the master write.
        An Excel button passes the open book's ledger and a write() saving that book."""
        s = self.settings
        with self.guarded(*([] if write else [s.master])):
            if not s.review_required:
                waiting = review.pending_while_off(read_ledger(s.master, s), True) if s.master.exists() else []
                raise ConfigError(kind="review-not-enabled", where=Location(file=str(s.root / config.CONFIG_NAME)),
                                  config=config.CONFIG_NAME, waiting="".join(waiting))
            self._check_writable("backup")
            if write is None:
                master_file.check_format(s.master)
            with history.open_recovering(s, []) as db:
                self._check_acceptance(db, targets, conclusion)
                seen = master_bytes(s.master)
                before = ledger if ledger is not None else read_master(s)
                self._restore_requests(before, db)
                after = before.copy()
                taken = review.decide(after, targets, conclusion, opinion, dt.datetime.now())
                with history.recording(db, s, before, after, vocab.SOURCE_REVIEW) as run:
                    after.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                    if write is None:
                        unchanged_since(s.master, seen)
                    (write or master_file.write_master)(after, s)
            still_open = {r.measure_id: after.measures[r.measure_id].status for r in taken
                          if r.state == vocab.CLOSED and after.measures[r.measure_id].status != vocab.DONE}
            decided = Decided(taken, Figures.of(assess(after, s)), still_open)
        remember_later(s, len(after.measures))       # the master as saved (by the file writer or by Excel) read once
        return decided

    def history(self, measure_id: str | None = None, rebuild: bool = False) -> tuple[int | None, list[str]]:
        """A measure's whole story from the history (rebuilt from the archive first when asked):
        (rows rebuilt or None, lines)."""
        notes: list[str] = []            # what became of a damaged database, what the archive could not tell
        with self.guarded(), history.open_recovering(self.settings, notes, rebuild_now=not rebuild) as db:
            rebuilt = history.rebuild(db, self.settings, notes) if rebuild else None
            current = read_ledger(self.settings.master, self.settings) if measure_id else None
            if current is not None:      # zg-012 is ZG-012
                measure_id = next((m for m in current.measures if m.casefold() == measure_id.strip().casefold()),
                                  measure_id)
            lines = history_db.story_lines(db, measure_id, current) if measure_id else []
            return rebuilt, [f"提示：{n}" for n in notes] + lines

    def notices(self, kinds=notices.KINDS, on: dt.date | None = None, ledger: Ledger | None = None) -> "Written":
        """Write the notices (at date on, default the configured reference date) from the master or ledger;
        what could not be done (no LibreOffice for PDFs, no Chinese font) comes back in .warnings."""
        s = self.at(on)
        when = dated(s)
        with self.guarded(*files_under(notices.notice_folder(s, when))), noted_warnings() as noted:
            ledger = ledger or read_master(s)
            assessment = assess(ledger, s, on=when)
            paths = notices.write_notices(ledger, s, assessment, kinds)
        return Written(paths, noted, assessment)

    def remind(self, on: dt.date | None = None, ledger: Ledger | None = None) -> reminders.Reminders:
        """催报 now (at date on, default the configured reference date), from the master or the open book's
        ledger. Refused while the inbox holds files not yet consolidated: their units may have reported."""
        s = self.at(on)
        when = dated(s)
        with self.guarded(*files_under(reminders.folder(s, when.period))), noted_warnings() as noted:
            ledger = read_master(s) if ledger is None else ledger
            entries = scan_inbox(s.path("inbox"), own_folders(s))[0]
            stuck = left_behind(ledger, entries)      # taken in already, but could not be removed
            if pending := sorted(e.name for e in entries if e not in [x for x, _ in stuck]):
                raise UsageError(kind="inbox-not-consolidated", count=len(pending), first=pending[0])
            submitted, _ = notices.submission_status(ledger, s, when.period)
            missing = [u for u in ledger.units if u not in submitted]
            done = reminders.write_reminders(ledger, s, missing, assess(ledger, s, on=when))
            done.notes += [f"收件箱中的 {e.path} 已于{r.received.replace('T', ' ')}汇总（{r.outcome}），但未能从收件箱删除，"
                           f"请手动删除该文件。" for e, r in stuck]
        done.notes += noted                    # a year the holiday table does not know
        return done

    def issue(self, units: list[str] | None = None, rungs: list[str] | None = None, every: bool = False,
              on: dt.date | None = None) -> ladder_docs.Issuance:
        """The office issues 督办梯次 notices from this period's proposals (by unit, by rung, or all): each
        numbered, written (.docx, PDF with LibreOffice) and recorded in history.sqlite under the lock;
        the 拟发清单 is rewritten and the next run is a full one (the dashboard shows what was issued)."""
        s = self.at(on)
        when = dated(s)
        period = s.path("output") / when.period
        notes: list[str] = []
        with self.guarded(*files_under(period / vocab.ISSUED_FOLDER), *files_under(period / vocab.PROPOSED)), \
                noted_warnings() as noted:
            with history.open_recovering(s, notes) as db:
                ledger = read_master(s)
                assessment = assess(ledger, s, on=when)
                props = ladder_docs.proposals(ledger, s, assessment, db.issued())
                chosen = ladder_docs.choose(props, list(units or []), list(rungs or []), every)
                done = ladder_docs.issue(chosen, ledger, s, assessment, db)
                left = ladder_docs.proposals(ledger, s, assessment, db.issued())
            ladder_docs.write_proposals(left, s, when.period)
            self.state_path().unlink(missing_ok=True)
        done.left = len(left)
        done.warnings += noted + notes
        return done

    def accept(self, measure_id: str, party: str, name: str = "", on: dt.date | None = None) -> dict[str, tuple[str, str]]:
        """三方验收: record one party's acceptance of a measure (责任单位, 牵头单位 or 整改办); returns every
        party's so far. With [ladder] acceptance = true, 销号 waits for all three."""
        s = self.settings
        if party not in vocab.ACCEPTANCE_PARTIES:
            raise UsageError(kind="unknown-acceptance-party", party=party, choices=list(vocab.ACCEPTANCE_PARTIES))
        with self.guarded(), history.open_recovering(s, []) as db:
            ledger = read_ledger(s.master, s)
            mid = next((m for m in ledger.measures if m.casefold() == measure_id.strip().casefold()), None)
            if mid is None:
                raise UsageError(kind="unknown-measure", where=Location(file=str(s.master)), master=s.master, measure_id=measure_id)
            db.add_acceptance(mid, party, name.strip() or party, dated(s, on).reference_date)
            return db.accepted(mid)

    def _check_acceptance(self, db, targets: list[tuple[str, str]], conclusion: str) -> None:
        """With [ladder] acceptance on, 同意销号 needs all three parties' acceptance recorded first."""
        if not self.settings.ladder.get("acceptance") or conclusion != vocab.REVIEW_APPROVE:
            return
        for mid, _ in targets:
            missing = [p for p in vocab.ACCEPTANCE_PARTIES if p not in db.accepted(mid.strip())]
            if missing:
                raise ReviewError(kind="acceptance-incomplete", where=Location(file=str(self.settings.master)),
                                  measure_id=mid, missing=missing, party=missing[0])

    def refresh(self, ledger: Ledger, write: Callable[[Assessment], None]) -> Assessment:
        """Excel 刷新统计: the figures of the open book, written into it by write(assessment) under the lock.
        The office's hand edits it finds are recorded pending: committed once the book is saved with
        them (the next opening of the history settles it), discarded if it never is."""
        notes: list[str] = []
        with self.guarded(), history.open_recovering(self.settings, notes) as db:
            ledger.read_notes += notes
            assessment = master_file.prepare(ledger, self.settings)
            history.record(db, self.settings, ledger, ledger, assessment=assessment)
            write(assessment)
            return assessment

    def refresh_master(self, on: dt.date | None = None) -> "Refreshed":
        """刷新统计 on the file: rewrite the master's statistics, overdue marks and this period's history
        row from the master itself (at date on, default the configured reference date); no inbox."""
        s = self.at(on)
        when = dated(s)
        master_file.check_format(s.master)
        notes: list[str] = []
        with self.guarded(s.master), history.open_recovering(s, notes) as db, noted_warnings() as noted:
            seen = master_bytes(s.master)
            ledger = read_master(s)
            ledger.read_notes += notes
            assessment = assess(ledger, s, on=when)
            with history.recording(db, s, ledger, ledger, assessment=assessment) as run:   # the office's hand edits
                ledger.recent_changes = history_db.recent_rows(db, master_file.CHANGES_SHOWN, run)
                unchanged_since(s.master, seen)
                written = master_file.write_master(ledger, s, assessment)
            waiting = [] if s.review_required else review.pending_while_off(ledger)
        if written:
            remember_later(s, len(ledger.measures))
        return Refreshed(s.master, written, Figures.of(assessment), ledger.read_notes + waiting + noted)

    def highlight(self, ledger: Ledger, write: Callable[[Assessment], None]) -> Assessment:
        """Excel 标记逾期: write(assessment) refreshes the open book's date helpers under the lock."""
        with self.guarded():
            assessment = assess(ledger, self.settings)
            write(assessment)
            return assessment

    def run_once(self, distribute_first: bool = False, on_file=None) -> RunReport:
        """The whole job once: (distribute,) consolidate, refresh statistics, write notices and a report.

        A rerun that finds an empty inbox and the master, settings and templates as the last run left
        them reads and writes nothing (figures come from the state file beside the master)."""
        s = self.settings
        started, t0 = dt.datetime.now(), time.perf_counter()
        when = dated(s)                                     # the run's date and period, fixed once
        outbox = files_under(self.outbox_folder(when)) if distribute_first else []
        slips = files_under(s.path("output") / when.period / leaders.FOLDER)
        slips += files_under(reminders.folder(s, when.period))          # and the 催报
        slips += files_under(s.path("output") / when.period / vocab.PROPOSED)   # and the 拟发清单
        with self.guarded(s.master, *files_under(self.notice_folder(when)), *slips, *outbox):
            report = None if distribute_first else self._quick_report(started, t0, when)
            full = report is None
            if full:
                report = self._full_run(distribute_first, on_file, started, t0, when)
                self._save_state(report)
            report.warnings[:0] = config.unfilled_start(s)   # said afresh by every run, quick or not; never stored
            folder = s.path("output") / when.period / "运行报告"
            report.report_path = folder / f"{started:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
            fileio.atomic_write_text(report.report_path, "\n".join(report.lines()) + "\n")
        if full:            # the next run finds the master as this one left it already read (io.ledger_cache)
            remember_later(s, len(report.consolidation.ledger.measures))
        for line in report.lines():
            log.info(line)
        return report

    def _full_run(self, distribute_first: bool, on_file, started: dt.datetime, t0: float, when: Dated) -> RunReport:
        """Consolidate, then every declared output (toolkit.outputs.OUTPUTS) from the one assessment."""
        s = self.settings
        before = runstate.load(s).get("outputs", {})
        seen = self.fingerprint(inbox=[])

        def outputs_run(result: ConsolidationResult, digest: str) -> tuple[outputs.Run, dict[str, str]]:
            ledger, assessment = result.ledger, result.assessment
            issued = ladder_docs.issued_history(s)                      # the 督办梯次: proposals, not notices
            run = outputs.Run(s, ledger, assessment, result, issued, ladder_docs.proposals(ledger, s, assessment, issued),
                              digest)
            return run, outputs.input_digests(run, seen["settings"], seen["templates"])
        ahead = outputs.Ahead(outputs_run, before)
        staging.sweep(s.path("output"))     # a killed run's twin (outputs.Ahead), whichever way this run writes
        for folder, recursive in ((s.master.parent, False), (s.path("output"), True), (s.path("backup"), False)):
            fileio.sweep_temps(folder, recursive)   # and the half-written files of a run killed while writing in place
        with noted_warnings() as noted, contextlib.ExitStack() as stack:   # calendar gaps, no PDF converter or font
            stack.enter_context(few_collections())
            stack.callback(ahead.discard)
            distributed = len(distribute(s)) if distribute_first else 0
            result = self._consolidate(on_file, None, None, early=ahead, when=when)
            ledger, assessment = result.ledger, result.assessment
            run, digests = ahead.prepared or outputs_run(result, ledger.digest)
            made = ahead.made or outputs.write_all(run, digests, before)    # written ahead, or now
        self._outputs_state = {name: {"fingerprint": fp, "paths": [str(x) for x in m.paths], "data": m.data,
                                      "warnings": m.warnings, "files": {str(x): fileio.stat_of(x) for x in m.paths}}
                               for name, (fp, m) in made.items()}
        got = {name: m for name, (_, m) in made.items()}
        reminded = got["催报"]
        warnings = sorted(set(noted).union(*(m.warnings for m in got.values())))
        return RunReport(started, time.perf_counter() - t0, result, Figures.of(assessment), distributed,
                         got["通报与督办单"].paths + got["看板与领导调度单"].paths + got["台账打印版"].paths,
                         warnings=warnings + plan_warnings(ledger, s) + ledger.report_notes(),
                         reminders=reminded.paths, remind_by=s.submit_by if reminded.data.get("active") else None,
                         ladder_line=ladder_docs.summary_line(run.proposed, got["拟发清单"].paths[0]))

    # -- the quick no-op rerun (toolkit.runstate)

    def state_path(self) -> Path:
        return runstate.state_path(self.settings)

    def fingerprint(self, inbox: list | None = None) -> dict:
        """What a quick rerun must find unchanged (runstate.fingerprint)."""
        return runstate.fingerprint(self.settings, inbox)

    def _quick_report(self, started: dt.datetime, t0: float, when: Dated) -> RunReport | None:
        """When nothing changed since the last complete run, its figures, without reading anything else."""
        return runstate.quick_report(self.settings, started, t0, when)

    def _save_state(self, report: RunReport) -> None:
        runstate.save(self.settings, report, self._outputs_state)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The cycle collector's first threshold raised for one run: a 30,000-measure ledger is a million objects that
    live through the run, and at the default (700 allocations) they are scanned again and again."""
    old = gc.get_threshold()
    gc.set_threshold(100_000, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def run_once(settings: Settings, distribute_first: bool = False, on_file=None) -> RunReport:
    """The scheduler's job: one complete run of the workspace these settings describe."""
    return Workspace(settings).run_once(distribute_first, on_file)

