"""Consolidation (汇总): inbox → archive → validate → merge → master, receipts per unit.

Order matters for never losing a submission: every file is first copied untouched into the
archive, then the master is backed up and replaced atomically, then receipts are written,
and only then are the inbox files removed. A crash at any point leaves the inbox intact and
the master either as before or as after.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import master, normalize, notices, vocab
from .config import Settings
from .distribute import safe_filename
from .intake import Submission, read_submission
from .utils import file_sha256
from .ledger import Ledger, read_ledger, recompute_measure

IGNORED_PREFIXES = ("~$", ".~", ".")
log = logging.getLogger("toolkit")


@dataclass
class FileOutcome:
    """What became of one received file."""
    submission: Submission
    archived: Path
    outcome: str
    accepted: int = 0
    late: bool = False

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

    def count(self, *outcomes: str) -> int:
        return sum(1 for f in self.files if f.outcome in outcomes)

    @property
    def accepted_rows(self) -> int:
        return sum(f.accepted for f in self.files)

    def lines(self) -> list[str]:
        """What a person wants to read after a consolidation, one line each."""
        out = [f"汇总({self.period}):收到{len(self.files)}个文件,采纳{self.count(*vocab.APPLIED_OUTCOMES)}个"
               f"(其中部分采纳{self.count(vocab.OUTCOME_PARTIAL)}个),退回{self.count(vocab.OUTCOME_REJECTED)}个,"
               f"重复{self.count(vocab.OUTCOME_DUPLICATE)}个,被取代{self.count(vocab.OUTCOME_SUPERSEDED)}个;"
               f"更新措施{self.accepted_rows}条。"]
        for f in self.files:
            flag = "(逾期报送)" if f.late else ""
            out.append(f"  {f.outcome}{flag}:{f.submission.name} → {f.unit},采纳{f.accepted}条,问题{len(f.submission.problems)}处")
        out.append(f"台账{'已更新' if self.master_changed else '无变化'}:{self.master}")
        if self.missing_units:
            out.append(f"本期尚未报送({len(self.missing_units)}个):{'、'.join(self.missing_units)}")
        if self.receipts:
            out.append(f"回执({len(self.receipts)}份):{self.receipts[0].parent}")
        return out


def inbox_files(inbox: Path) -> list[Path]:
    """Received files, oldest first (Excel's ~$ owner files and our temp files are not submissions)."""
    if not inbox.exists():
        return []
    files = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(IGNORED_PREFIXES)]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def archived_files(archive_dir: Path) -> dict[str, Path]:
    """{short hash + suffix: archived file} of one period's archive (read once per run)."""
    out: dict[str, Path] = {}
    if archive_dir.exists():
        for p in sorted(archive_dir.iterdir()):
            if not p.name.startswith("."):
                out.setdefault(p.stem.rsplit("_", 1)[-1] + p.suffix, p)
    return out


def archive_copy(sub: Submission, archive_dir: Path, index: dict[str, Path] | None = None) -> Path:
    """Copy the file untouched into the archive (once per content), named unit_time_hash."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    short = sub.sha256[:12]
    index = archived_files(archive_dir) if index is None else index
    key = short + sub.path.suffix.lower()
    if key in index:
        return index[key]
    unit = safe_filename(sub.unit) if sub.unit else f"{vocab.UNIDENTIFIED}_{safe_filename(sub.path.stem)[:40]}"
    target = archive_dir / f"{unit}_{sub.received:%Y%m%d-%H%M%S}_{short}{sub.path.suffix.lower()}"
    tmp = target.with_name(".~" + target.name)
    shutil.copy2(sub.path, tmp)
    if file_sha256(tmp) != sub.sha256:
        tmp.unlink()
        raise OSError(f"归档文件{target.name}校验失败")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    index[key] = target
    return target


def latest_applied(ledger: Ledger, period: str) -> dict[str, str]:
    """{unit: receipt time of its newest file merged for the period} (from the 报送记录)."""
    latest: dict[str, str] = {}
    for r in ledger.log:
        if normalize.clean_text(r[0]) == period and normalize.clean_text(r[6]) in vocab.APPLIED_OUTCOMES:
            unit, when = normalize.clean_key(r[1]), normalize.clean_text(r[2])
            latest[unit] = max(latest.get(unit, ""), when)
    return latest


def merge(ledger: Ledger, sub: Submission) -> int:
    """Apply a submission's rows to the unit's own entries and recompute those measures."""
    stamp = sub.received.isoformat(timespec="seconds")
    for u in sub.updates:
        entry = ledger.owners[(u.measure_id, sub.unit)]
        if u.status:
            entry.status = u.status
        for attr in ("progress", "evidence", "remark"):
            text = getattr(u, attr)
            if text:
                setattr(entry, attr, normalize.truncate_cell(text))
        entry.submitted_at = stamp
        recompute_measure(ledger, u.measure_id)
    return len(sub.updates)


def judge(ledger: Ledger, sub: Submission, known_hashes: set[str], latest: dict[str, str]) -> tuple[str, int]:
    """Decide a file's outcome and merge it when it is the newest valid one for its unit
    (latest: {unit: newest merged receipt time}, updated here)."""
    if sub.sha256 in known_hashes:
        return vocab.OUTCOME_DUPLICATE, 0
    if sub.rejected:
        return vocab.OUTCOME_REJECTED, 0
    received = sub.received.isoformat(timespec="seconds")
    if latest.get(sub.unit, "") > received:
        return vocab.OUTCOME_SUPERSEDED, 0
    if not sub.updates:
        return (vocab.OUTCOME_REJECTED if sub.problems else vocab.OUTCOME_ACCEPTED), 0
    accepted = merge(ledger, sub)
    latest[sub.unit] = max(latest.get(sub.unit, ""), received)
    return (vocab.OUTCOME_PARTIAL if sub.problems else vocab.OUTCOME_ACCEPTED), accepted


PARALLEL_FROM = 64      # files; below this a second process costs more than it saves
_shared: tuple | None = None


def _read_one(path: Path) -> Submission:
    ledger, settings = _shared
    return read_submission(path, ledger, settings)


def read_all(paths: list[Path], ledger: Ledger, settings: Settings) -> list[Submission]:
    """Read and check every file; on both cores when there are many (a forked worker shares the
    ledger without copying it; where fork is unavailable, e.g. Windows, one process reads them all)."""
    import multiprocessing as mp
    global _shared
    if len(paths) < PARALLEL_FROM or "fork" not in mp.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return [read_submission(p, ledger, settings) for p in paths]
    _shared = (ledger, settings)
    try:
        with mp.get_context("fork").Pool(2) as pool:
            return pool.map(_read_one, paths, chunksize=max(1, len(paths) // 16))
    finally:
        _shared = None


def take_in(ledger: Ledger, settings: Settings, paths: list[Path], on_file=None) -> ConsolidationResult:
    """Archive, check and merge the given files into the ledger in memory (the master is not written)."""
    period = settings.current_period()
    result = ConsolidationResult(period, settings.master)
    archive_dir = settings.path("archive") / period
    known = {normalize.clean_text(r[5]) for r in ledger.log}
    index = archived_files(archive_dir)
    latest = latest_applied(ledger, period)
    for i, sub in enumerate(read_all(paths, ledger, settings), 1):
        if on_file:
            on_file(i, len(paths), sub.path.name)
        archived = archive_copy(sub, archive_dir, index)
        outcome, accepted = judge(ledger, sub, known, latest)
        late = bool(settings.submit_by and sub.received.date() > settings.submit_by)
        known.add(sub.sha256)
        if outcome != vocab.OUTCOME_DUPLICATE:
            ledger.log.append([period, sub.unit or vocab.UNIDENTIFIED, sub.received.isoformat(timespec="seconds"),
                               sub.name, str(archived.relative_to(settings.path("archive"))), sub.sha256,
                               outcome, accepted, len(sub.problems)])
        result.files.append(FileOutcome(sub, archived, outcome, accepted, late))
        log.info("%s:%s(%s),采纳%s条,问题%s处", outcome, sub.name, sub.unit or vocab.UNIDENTIFIED, accepted,
                 len(sub.problems))
    result.submitted_units = sorted({normalize.clean_key(r[1]) for r in ledger.log
                                     if normalize.clean_text(r[0]) == period
                                     and normalize.clean_text(r[6]) in vocab.APPLIED_OUTCOMES})
    submitted = set(result.submitted_units)
    result.missing_units = [u for u in ledger.units if u not in submitted]
    return result


def clear_inbox(result: ConsolidationResult) -> None:
    """Remove processed files from the inbox — only after the master holding them is safely saved."""
    for f in result.files:
        if f.submission.path.exists():
            f.submission.path.unlink()


def consolidate(settings: Settings, files: list[Path] | None = None, *, remove_inbox: bool = True,
                on_file=None, ledger: Ledger | None = None, write=None) -> ConsolidationResult:
    """Take in every inbox file (or the given ones), update the master, write receipts.

    on_file(i, n, name) is called before each file (progress bars, Excel's status bar). By default
    the master file is read and written; the Excel button passes the open book's ledger and a
    write(ledger, settings) that puts the result into the open book and saves it."""
    ledger = read_ledger(settings.master, settings) if ledger is None else ledger
    paths = inbox_files(settings.path("inbox")) if files is None else [Path(f) for f in files]
    result = take_in(ledger, settings, paths, on_file)
    result.ledger = ledger
    result.master_changed = (write or master.write_master)(ledger, settings)
    result.receipts = notices.write_receipts(result, settings)
    if remove_inbox and files is None:
        clear_inbox(result)
    return result
