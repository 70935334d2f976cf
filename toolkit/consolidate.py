"""Consolidation (汇总): inbox → archive → validate → merge → master, receipts per file.

Order matters for never losing a submission: every inbox file is first copied into the archive
and verified (a snapshot; only the archived copy is read), then the master is backed up and
replaced atomically, then receipts are written, and only then are inbox files removed — each
only if its bytes still equal the archived ones. A crash at any point leaves the inbox intact
and the master either as before or as after.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import vocab
from .archive import Ahead, archive_copy, archive_folder, archived_files, file_under_unit, sweep_leftovers
from .archive import Snapshot as Snapshot  # noqa: F401  (re-exported: an older import path)
from .assessment import Assessment, Dated, assess, dated
from .documents import receipts
from .errors import SubmissionError
from .inbox import (  # noqa: F401  (inbox_files, inbox_fingerprint, left_behind: the front ends' and tests' names)
    CLAIM_SUFFIX,
    InboxEntry,
    Skipped,
    _entry,
    _received,
    _same_bytes,
    inbox_files,
    inbox_fingerprint,
    left_behind,
    own_folders,
    scan_inbox,
)
from .intake import Submission
from .io import evidence, master_file
from .io.history_db import snapshot
from .io.ledger_file import read_master
from .io.template_contract import ensure_secret
from .merging import judge, latest_applied, merge  # noqa: F401  (merge: tests patch it here)
from .model import Ledger, LogEntry, Settings
from .problems import Location
from .readers import parse_early, read_all
from .rules import review

log = logging.getLogger("toolkit")


@dataclass
class FileOutcome:
    """What became of one received file."""
    submission: Submission
    archived: Path | None           # None: the file could not even be read
    outcome: str
    accepted: int = 0
    late: bool = False
    source: Path | None = None      # the inbox file (None: a file given explicitly, e.g. --again)

    @property
    def unit(self) -> str:
        return self.submission.unit or vocab.UNIDENTIFIED



@dataclass
class ConsolidationResult:
    """Everything a run did, for the CLI, the Excel buttons, the nightly report and the notices."""
    period: str
    master: Path
    files: list[FileOutcome] = field(default_factory=list)
    master_changed: bool = False
    receipts: list[Path] = field(default_factory=list)
    submitted_units: list[str] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)
    ledger: Ledger | None = field(default=None, repr=False)   # the ledger as merged and written
    assessment: Assessment | None = field(default=None, repr=False)   # its figures, computed once
    ignored: list[Skipped] = field(default_factory=list)     # directories, hidden files, links, pipes
    deferred: list[Skipped] = field(default_factory=list)    # still being written: next run
    kept: list[Skipped] = field(default_factory=list)        # changed during the run: left in the inbox
    # (name, size, mtime_ns) of the inbox files this run started from, deferred ones left out: the
    # quick no-op check compares inbox_fingerprint() with it, so a file that arrived during the run,
    # or was deferred, is looked at again next time
    inbox_seen: list[tuple[str, int, int]] = field(default_factory=list)
    # with record_merges, when the run took in nothing but the files (no 销号审核 decision, no lifted request):
    # {sha256: (snapshot of the file's measures before its merge, after it)} in the order merged, which is what
    # history.replay would find by merging each file again into the ledger as read
    merged: dict[str, tuple] | None = field(default=None, repr=False)

    def count(self, *outcomes: str) -> int:
        return sum(1 for f in self.files if f.outcome in outcomes)

    @property
    def accepted_rows(self) -> int:
        return sum(f.accepted for f in self.files)

    def lines(self) -> list[str]:
        """What a person wants to read after a consolidation, one line each."""
        out = [f"汇总（{self.period}）：收到{len(self.files)}个文件，采纳{self.count(*vocab.APPLIED_OUTCOMES)}个"
               f"（其中部分采纳{self.count(vocab.OUTCOME_PARTIAL)}个），退回{self.count(vocab.OUTCOME_REJECTED)}个，"
               f"重复{self.count(vocab.OUTCOME_DUPLICATE)}个，被取代{self.count(vocab.OUTCOME_SUPERSEDED)}个；"
               f"更新措施{self.accepted_rows}条。"]
        for f in self.files:
            flag = "（逾期报送）" if f.late else ""
            out.append(f"  {f.outcome}{flag}：{f.submission.name} → {f.unit}，采纳{f.accepted}条，问题{len(f.submission.problems)}处")
        for title, items in (("留待下次汇总", self.deferred + self.kept), ("忽略的项目", self.ignored)):
            if items:
                out.append(f"{title}（{len(items)}个）：" + "；".join(f"{i.name}（{i.reason}）" for i in items))
        out.append(f"台账{'已更新' if self.master_changed else '无变化'}：{self.master}")
        if self.missing_units:
            out.append(f"本期尚未报送（{len(self.missing_units)}个）：{'、'.join(self.missing_units)}")
        if self.receipts:
            out.append(f"回执（{len(self.receipts)}份）：{self.receipts[0].parent}")
        return out



def take_in(ledger: Ledger, settings: Settings, entries: list, on_file=None, again: list | None = None,
            ignored: list[Skipped] | None = None, when: Dated | None = None, ahead: Ahead | None = None,
            record_merges: bool = False) -> ConsolidationResult:
    """Archive, check and merge the given inbox entries (or paths) into the ledger in memory (the
    master is not written). again: files rejected earlier for an office-side mistake, taken in
    once more as if first received (never called duplicates). when: the run's date and period.
    ahead: the same entries being copied into the archive while the master was read (archive.Ahead).
    record_merges: keep each merged file's measures before and after its merge (ConsolidationResult.merged)."""
    period = dated(settings, when).period
    result = ConsolidationResult(period, settings.master, ignored=list(ignored or []),
                                 merged={} if record_merges else None)
    archive_dir = settings.path("archive") / period
    settle = float(settings.settle_seconds)
    logged: dict[str, LogEntry] = {}
    for e in ledger.log:
        logged.setdefault(e.sha256, e)
    known = {h for h in logged if h}          # '' is a file that could not be read
    done_before = {(e.sha256, e.name, e.received): e for e in ledger.log}
    copied, index = ahead.collect() if ahead is not None else ({}, None)
    if index is None:
        sweep_leftovers(archive_dir)
        index = archived_files(archive_dir)
    latest = latest_applied(ledger, period)
    now = ahead.now if ahead is not None else dt.datetime.now().replace(microsecond=0)
    snaps: list[Snapshot] = []
    for i, e in enumerate(x if isinstance(x, InboxEntry) else _entry(Path(x)) for x in entries):
        if isinstance(e, Skipped):
            result.ignored.append(e)
            continue
        received, notes = _received(e, now)
        snap = copied.get(i) or (archive_folder if e.folder else archive_copy)(e, archive_dir, index, received, settle)
        if isinstance(snap, Skipped):
            result.deferred.append(snap)
            continue
        snap.notes[:0] = notes
        snaps.append(snap)
        result.inbox_seen.append((e.name, e.size, e.mtime_ns))
    for path in again or []:
        if not Path(path).is_file():
            raise SubmissionError(kind="again-file-missing", where=Location(file=str(path)), path=path)
        snap = archive_copy(_entry(Path(path)), archive_dir, index, now, 0)
        if isinstance(snap, Skipped):
            result.deferred.append(snap)
            continue
        first = logged.get(snap.sha256)
        if first is not None:         # the file as first received: its name and time of receipt
            snap.name = first.name or snap.name
            snap.received = dt.datetime.fromisoformat(first.received)
        snap.again = True
        snaps.append(snap)
    readable = [s for s in snaps if s.archived is not None]
    jobs = [(s.archived, s.name, s.sha256, s.received) for s in readable]
    early = ahead.take_early() if ahead is not None else None
    subs = iter(read_all(jobs, ledger, replace(settings, period=period), on_file, ensure_secret(settings), early))
    for snap in snaps:
        if snap.archived is None:
            sub = Submission(snap.entry.path, snap.name, "", snap.received).reject(
                snap.error, fix_kind=snap.error_fix or ("folder" if snap.entry.folder else ""), **snap.error_params)
        else:
            sub = next(subs)
            snap.archived = sub.path = file_under_unit(snap, sub, index)
        sub.notes[:0] = snap.notes
        sub.evidence[:0] = snap.refused
        if snap.again:
            sub.notes.insert(0, "办公室更正后重新汇总此前收到的文件")
        stamp = sub.received.isoformat(timespec="seconds")
        recovered = None if snap.again else done_before.get((sub.sha256, sub.name, stamp))
        if recovered is not None:     # recorded by a run that stopped before clearing the inbox
            outcome, accepted = recovered.outcome, recovered.accepted
        else:
            ids = pre = None
            if result.merged is not None and sub.updates and not sub.rejected:
                ids = list(dict.fromkeys(u.measure_id for u in sub.updates if u.measure_id in ledger.measures))
                pre = snapshot(ledger, ids)
            outcome, accepted = judge(ledger, sub, set() if snap.again else known, latest,
                                      settings.review_required)
            if result.merged is not None and outcome in vocab.APPLIED_OUTCOMES:
                result.merged[sub.sha256] = (pre or {}, snapshot(ledger, ids) if ids is not None else {})
        if sub.evidence and outcome in vocab.APPLIED_OUTCOMES:     # stored untouched, with hashes
            sub.evidence = _store_evidence(snap.archived, sub, archive_dir / evidence.FOLDER / evidence.safe_part(sub.unit))
        late = bool(settings.submit_by and sub.received.date() > settings.submit_by)
        if sub.sha256:
            known.add(sub.sha256)
        if recovered is None:
            archived = str(snap.archived.relative_to(settings.path("archive"))) if snap.archived else ""
            ledger.log.append(LogEntry(period, sub.unit or vocab.UNIDENTIFIED, stamp, sub.name, archived, sub.sha256,
                                       outcome, accepted, len(sub.problems)))
        result.files.append(FileOutcome(sub, snap.archived, outcome, accepted, late,
                                        None if snap.again else snap.entry.path))
        log.info("%s：%s（%s），采纳%s条，问题%s处", outcome, sub.name, sub.unit or vocab.UNIDENTIFIED, accepted,
                 len(sub.problems))
    result.submitted_units = sorted({e.unit for e in ledger.log if e.period == period and e.applied})
    submitted = set(result.submitted_units)
    result.missing_units = [u for u in ledger.units if u not in submitted]
    result.inbox_seen.sort()
    return result



def _store_evidence(package: Path, sub: Submission, folder: Path) -> list:
    """evidence.store at its boundary: an OSError writing (a full disk) stops the run as it names the
    folder; anything else is this unit's evidence trouble, refused by name, and the run goes on."""
    try:
        return evidence.store(package, sub.evidence, folder)
    except OSError:
        raise
    except Exception:
        log.exception("保存 %s 的佐证材料时出错", sub.name)
        return [f if f.reason else replace(f, reason=evidence.DAMAGED) for f in sub.evidence]



def clear_inbox(result: ConsolidationResult) -> None:
    """Remove processed files from the inbox — only after the master holding them is safely saved,
    and only a file whose bytes are still those archived; any other is left for the next run."""
    for f in result.files:
        path = f.source
        if path is None or f.archived is None or not os.path.lexists(path):
            continue
        if stat.S_ISDIR(os.lstat(path).st_mode):
            if reason := evidence.remove_folder(path, f.archived):
                result.kept.append(Skipped(f.submission.name, reason))
        elif _same_bytes(path, f.submission.sha256):
            try:
                path.unlink()
            except OSError as exc:
                result.kept.append(Skipped(f.submission.name, f"已汇总，但无法从收件箱删除（{exc.strerror or exc}）"))
        else:
            result.kept.append(Skipped(f.submission.name, "文件在汇总期间被改动，留待下次汇总"))


def consolidate(settings: Settings, files: list[Path] | None = None, *, again: list[Path] | None = None,
                remove_inbox: bool = True, on_file=None, ledger: Ledger | None = None,
                write=None, on: Dated | None = None, ahead: Ahead | None = None,
                record_merges: bool = False) -> ConsolidationResult:
    """Take in every inbox file (or the given ones), update the master, write receipts.

    again: files rejected earlier because of an office-side mistake (e.g. a unit missing from the
    ledger), to take in once more now that it is fixed. on_file(i, n, name) is called as each
    file has been read (progress bars, Excel's status bar). By default the master file is read
    and written; the Excel button passes the open book's ledger and a write(ledger, settings, result)
    that puts the result (its .assessment: the figures, computed once) into the open book and saves it.
    record_merges: keep what each file's merge changed, for the history (ConsolidationResult.merged)."""
    ensure_secret(settings)
    when = dated(settings, on)                            # the run's date and period, fixed once (on: given)
    ledger = read_master(settings) if ledger is None else ledger
    if ahead is not None:
        entries, ignored = ahead.entries, ahead.ignored
    elif files is None:
        entries, ignored = scan_inbox(settings.path("inbox"), own_folders(settings))
    else:
        entries, ignored = [_entry(Path(f)) for f in files], []
    taken = review.apply_decisions(ledger, dt.datetime.now())     # the office's 销号审核 since the last run
    lifted = [] if settings.review_required else review.lift(ledger)   # review turned off: requests count as asked
    ledger.read_notes += lifted
    result = take_in(ledger, settings, entries, on_file, again, ignored, when, ahead,
                     record_merges=record_merges and not taken and not lifted)
    result.ledger, result.assessment = ledger, assess(ledger, settings, on=when)
    if write is None:
        result.master_changed = master_file.write_master(ledger, settings, result.assessment)
    else:
        result.master_changed = write(ledger, settings, result)
    if not result.receipts:        # unless the write put them in place already (outputs.Ahead)
        result.receipts = receipts.write_receipts(result.files, result.ledger, result.period, settings)
    if remove_inbox and files is None:
        clear_inbox(result)
    return result


def archive_ahead(settings: Settings, when: Dated) -> Ahead:
    """The inbox scanned now and its files copied into the archive while the caller reads the master (archive.Ahead)."""
    entries, ignored = scan_inbox(settings.path("inbox"), own_folders(settings))
    return Ahead(entries, ignored, settings.path("archive") / when.period, float(settings.settle_seconds),
                 dt.datetime.now().replace(microsecond=0),
                 parse_early(replace(settings, period=when.period), ensure_secret(settings)))
