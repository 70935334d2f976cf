"""The master ledger (整改台账) read as offices keep it: which sheets hold it, and the whole Ledger from them.

Reading tolerates a title row, blank rows and the office's own extra columns. The jobs live one
module each (ledger_header: the header; ledger_measures: the rows; ledger_owners: the owners;
ledger_tables: the side sheets); their public names are re-exported here so callers keep one import.
"""
from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from .. import vocab
from ..errors import HeaderError, LedgerError
from ..model import SPARSE_COLUMNS, Ledger, Measure, ReadAccount, SheetLayout, SheetUse
from ..problems import Location
from ..rules import normalize
from ..rules.lexicon import NONE
from ..words import render as render_words
from . import extent, history_db, ledger_cache, ods, read_account
from .ledger_header import (  # noqa: F401  (re-exported)
    HEADER_SCAN_ROWS,
    REQUIRED,
    classify_header,
    duplicate_message,
    find_header,
    header_aliases,
    merged_note,
    required_columns,
    required_columns_for,
    two_row_header,
)
from .ledger_measures import parse_measures, variant_text  # noqa: F401  (re-exported)
from .ledger_owners import (  # noqa: F401  (re-exported)
    judgment_problems,
    owner_problems,
    owners_from_measures,
    parse_judgments,
    parse_owners,
)
from .ledger_tables import (  # noqa: F401  (re-exported)
    history_row,
    log_entry,
    notice_decisions,
    parse_decisions,
    parse_reviews,
    parse_table,
    sequence_of,
)
from .sheets import cell_name  # noqa: F401  (re-exported: intake imports it from here)


def read_master(settings, problems: list[str] | None = None) -> Ledger:
    """The workspace's master as a run works on it, in two explicit steps: the file as it is (read_ledger,
    which opens nothing else; or its result for these very bytes, kept by remember), then the earlier periods'
    历史进度 figures replayed from the change history."""
    ledger = ledger_cache.recall(settings) if problems is None else None
    if ledger is None:
        ledger = read_ledger(settings.master, settings, problems)
    history_db.load_figures(ledger, settings)
    return ledger


def remember(settings) -> bool:
    """Read the master as it is now (read_ledger, in full) and keep the result for the next read_master
    (ledger_cache); False when it could not be read (the next run reads it and says why) or kept. The bytes
    keyed are the bytes read: a copy of them, under the master's own name and time, is what is read."""
    master = Path(settings.master)
    try:
        data, st = ledger_cache.bytes_and_status(master)
        with tempfile.TemporaryDirectory(prefix="zhenggai-read-") as folder:
            copy = Path(folder) / master.name
            copy.write_bytes(data)
            os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
            ledger = read_ledger(copy, settings)
        ledger_cache.keep(settings, data, st, ledger)
    except Exception:         # the master cannot be read (the next run says why) or the cache not kept
        return False
    return True


def remember_later(settings, measures: int) -> None:
    """remember() in a process of its own that outlives the caller (a master of ledger_cache.CACHE_FROM measures
    or more): the run that wrote the master ends now, and the next one finds it read. A fresh interpreter, in a
    session of its own, holding none of the caller's files, locks, pipes or sockets; what it cannot do, it skips."""
    if measures < ledger_cache.CACHE_FROM:
        return
    package = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")]))}
    quiet = getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0) | getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        settings = replace(settings, root=Path(settings.root).resolve())    # it works from the toolkit's folder
        blob = pickle.dumps(settings, pickle.HIGHEST_PROTOCOL)
        proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, env=env, cwd=package,
                                creationflags=quiet)
        try:
            proc.stdin.write(blob)
        finally:
            proc.stdin.close()   # whatever happened: the run keeps no end of the pipe
    except Exception:        # no interpreter to start, a pipe gone, settings it cannot take: the next run reads
        pass


def read_ledger(path: Path, settings=None, problems: list[str] | None = None) -> Ledger:
    """Read a master ledger file as the office keeps it; LedgerError (Chinese, row+column) if it is wrong.

    settings supplies the [units] mapping (unit_map); with a `problems` list, bad rows are
    collected there and left out instead of stopping the read (used by `check`). Only the file is
    read: a run that shows earlier periods' figures takes them from the history (read_master)."""
    from python_calamine import CalamineWorkbook
    path = Path(path)
    if not path.exists():
        raise LedgerError(kind="ledger-missing", where=Location(file=str(path)), path=path)
    extent.refuse_far_content(path)       # before calamine allocates a range a stray cell stretches
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception:         # calamine's reasons are English: say what it means
        raise LedgerError(kind="ledger-is-folder" if path.is_dir() else "ledger-unopenable",
                          where=Location(file=str(path)), name=path.name) from None
    names = wb.sheet_names
    hidden = [m.name for m in wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"]
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    loaded: dict = {}

    def sheet(name: str):                 # calamine parses a sheet on each get: once each, for rows and merges
        if name not in loaded:
            try:
                loaded[name] = wb.get_sheet_by_name(name)
            except Exception:     # one damaged sheet: rewriting the master would lose it, so say which and stop
                raise LedgerError(kind="ledger-sheet-unreadable", where=Location(file=str(path), sheet=name),
                                  name=path.name, sheet=name) from None
        return loaded[name]
    opendoc: list = []

    def merged(name: str) -> list:        # calamine reports no merged cells of an .ods: read from its content.xml
        found = sheet(name).merged_cell_ranges
        if found is None:
            if not opendoc:
                opendoc.append(ods.merged_ranges(path))
            found = opendoc[0].get(name)
        return found or []
    return ledger_from_sheets(lambda name: sheet(name).to_python(skip_empty_area=False), names, path.name, settings,
                              merged, saved, problems, hidden,
                              uncomputed=extent.uncomputed_formulas(path, [n for n in names if n not in OWN_SHEETS]))


OWN_SHEETS = [vocab.SHEET_OWNERS, vocab.SHEET_JUDGMENT, vocab.SHEET_STATS, vocab.SHEET_OVERDUE, vocab.SHEET_HISTORY,
              vocab.SHEET_LOG, vocab.SHEET_PARAMS, vocab.SHEET_DECISIONS, vocab.SHEET_CHANGES, vocab.SHEET_REVIEW]


def ledger_sheets(rows_of, sheet_names: list[str], name: str, hidden, account: ReadAccount,
                  problems: list[str] | None, words=NONE) -> tuple[list[str], list[str]]:
    """(the sheets to read as the ledger, in workbook order; the hidden ledger copies not read). Every sheet
    whose header row has the ledger's columns is one: a ledger kept one sheet per 方面 or continued on
    整改台账(续) is read whole. A continuation sheet without a header stops the read, naming it."""
    found, partial, hidden_copies = [], {}, []
    for sheet in sheet_names:
        if sheet in OWN_SHEETS:
            continue
        try:
            h, _ = find_header(rows_of(sheet), *required_columns_for(f"“{name}”工作表“{sheet}”", words), words=words)
            (hidden_copies if sheet in hidden else found).append((sheet, h))
        except HeaderError as exc:
            if sheet == vocab.SHEET_LEDGER:
                raise
            partial[sheet] = exc
        except LedgerError:
            if sheet == vocab.SHEET_LEDGER and vocab.SHEET_LEDGER not in hidden:
                raise
    if not found and hidden_copies:            # nothing visible: the hidden sheets are the ledger, said so
        found, hidden_copies = hidden_copies, []
        account.sheets += [SheetUse(read_account.SHEET_HIDDEN_READ, s) for s, _ in found]
    if not found:
        raise LedgerError(kind="ledger-sheet-not-found", where=Location(file=name), name=name,
                          sheets=list(sheet_names))
    read = [s for s, _ in found]
    for sheet in sheet_names:
        if sheet in read or sheet in OWN_SHEETS or sheet in hidden or sheet in [s for s, _ in hidden_copies]:
            continue
        base = next((s for s in read if sheet.startswith(s)), None)
        if base and any(normalize.clean_text(v) for row in rows_of(sheet) for v in row):
            exc = partial.get(sheet)
            lack = f"第{exc.row}行表头缺少列：{'、'.join(exc.missing)}" if exc else f"前{HEADER_SCAN_ROWS}行中没有台账表头"
            params = dict(name=name, sheet=sheet, base=base, lack=lack)
            message = render_words("ledger-continuation-without-header", params)
            if problems is None:
                raise LedgerError(kind="ledger-continuation-without-header",
                                  where=Location(file=name, sheet=sheet, row=exc.row if exc else None), **params)
            problems.append(message)
    for sheet, exc in partial.items():
        account.sheets.append(SheetUse(read_account.SHEET_PARTIAL, sheet, (str(exc.row), "、".join(exc.missing))))
    account.sheets += [SheetUse(read_account.SHEET_HIDDEN_LEDGER, s, (str(h + 1),)) for s, h in hidden_copies]
    return read, [s for s, _ in hidden_copies]


def _unknown_cells(rows: list[list], cells: list[str], where: str, words=NONE) -> list[str]:
    """The cells of a ledger sheet's rows below its header whose formula has no saved result, but for the
    helper columns the toolkit computes itself (their formulas are written again on each run)."""
    if not cells:
        return []
    h, _ = find_header(rows, *required_columns_for(where, words), words=words)
    ours = {c + 1 for c in classify_header(rows, h, where, words).computed}
    at = [(ref, re.match(r"([A-Z]+)(\d+)$", ref)) for ref in cells]
    return [ref for ref, m in at if m and int(m[2]) > h + 1 and extent.column_number(m[1]) not in ours]


def _other_measures(rows: list[list], where: str, words, known: dict) -> list[str]:
    """The id cells of a hidden ledger sheet whose measures the ledger read does not have (“B5“ZG-264””)."""
    h, cols = find_header(rows, *required_columns_for(where, words), words=words)
    c = cols[vocab.ID]
    ids = [(r, normalize.measure_id(row[c])) for r, row in enumerate(rows[h + 1:], h + 1) if c < len(row)]
    return [f"{cell_name(r + 1, c + 1)}“{mid}”" for r, mid in ids if mid and mid not in known]


def ledger_from_sheets(rows_of, sheet_names: list[str], name: str, settings=None, merged_of=None,
                       saved: str = "", problems: list[str] | None = None, hidden=(), in_place: bool = False,
                       uncomputed: dict[str, list[str]] | None = None) -> Ledger:
    """A Ledger from sheet contents (rows from A1) — a file read by calamine or a book open in Excel.
    merged_of(sheet) gives its merged ranges ((r0, c0), (r1, c1)), 0-based; hidden names the hidden sheets.
    Every sheet with the ledger's header is read, in order; with in_place (an open book written cell by
    cell) the ledger must be the one sheet 整改台账; uncomputed names each sheet's formulas saved without a result,
    which stop the read of a ledger sheet (their value is unknown, never a blank)."""
    cache: dict[str, list] = {}

    def sheet(n: str) -> list:
        if n not in cache:
            cache[n] = rows_of(n) if n in sheet_names else []
        return cache[n]

    hidden = list(hidden)
    account = ReadAccount()
    words = getattr(settings, "lexicon", None) or NONE      # the profile's words, from the settings read with
    read, hidden_copies = ledger_sheets(sheet, sheet_names, name, hidden, account, problems, words)
    for s in read:
        cells = _unknown_cells(sheet(s), (uncomputed or {}).get(s, []), f"“{name}”工作表“{s}”", words)
        if cells:
            params = dict(name=name, sheet=s, cells="、".join(cells[:5]) + ("等" if len(cells) > 5 else ""),
                          count=len(cells))
            if problems is None:
                raise LedgerError(kind="ledger-formulas-not-computed",
                                  where=Location(file=name, sheet=s, cell=cells[0]), **params)
            problems.append(render_words("ledger-formulas-not-computed", params))
    if in_place and read != [vocab.SHEET_LEDGER]:
        raise LedgerError(kind="ledger-several-sheets-for-buttons", where=Location(file=name), name=name,
                          sheets=[f"“{s}”" for s in read])
    unit_map = getattr(settings, "unit_map", {}) or {}
    measures: dict[str, Measure] = {}
    earlier: dict[str, tuple[str, int]] = {}
    texts: dict[tuple[str, ...], tuple[str, str]] = {}
    extras: dict[str, object] = {}
    notes: list[str] = []
    layout = columns = None
    merged_refs: list[str] = []
    in_use: list[str] = []     # the sparse columns any sheet has
    for s in read:
        where = f"“{name}”工作表“{s}”"
        merged = merged_of(s) if merged_of else []
        found, lay, cols, office, sheet_notes = parse_measures(sheet(s), where, merged, unit_map, problems,
                                                               sheet=s, account=account, earlier=earlier,
                                                               texts=texts, words=words)
        account.sheets.append(SheetUse(read_account.SHEET_READ, s, (str(len(found)), str(lay.header_row))))
        in_use += [c.header for c in SPARSE_COLUMNS if c.header in cols and c.header not in in_use]
        earlier.update({mid: (s, m.row) for mid, m in found.items()})
        measures.update(found)
        for key, header in office.items():
            extras.setdefault(key, header)
        notes += [n for n in sheet_notes if n not in notes]
        merged_refs += [f"{s}!{ref}" if len(read) > 1 else ref for ref in lay.merged]
        if layout is None:
            layout, columns = lay, cols
        layout.absent = list(dict.fromkeys(layout.absent + lay.absent))
    layout.merged = merged_refs
    if len(read) > 1 or read != [vocab.SHEET_LEDGER]:
        notes.insert(0, f"台账的整改措施在{len(read)}张工作表中（{'、'.join(f'“{s}”' for s in read)}），已按顺序全部读入"
                        f"（共{len(measures)}条措施）；写回台账时合并为一张“{vocab.SHEET_LEDGER}”工作表，"
                        f"办公室自己的列一并保留。")
    for s in hidden_copies:         # an old copy repeats the ledger's ids: measures of its own are a hidden part
        cells = _other_measures(sheet(s), f"“{name}”工作表“{s}”", words, measures)
        if cells:
            params = dict(name=name, sheet=s, count=len(cells), cells="、".join(cells[:3]) + ("等" if len(cells) > 3 else ""))
            if problems is None:
                raise LedgerError(kind="ledger-hidden-sheet-with-other-measures",
                                  where=Location(file=name, sheet=s, cell=cells[0].split("“")[0]), **params)
            problems.append(render_words("ledger-hidden-sheet-with-other-measures", params))
    notes += [read_account.sheet_text(u) + "。" for u in account.sheets
              if u.kind in (read_account.SHEET_HIDDEN_LEDGER, read_account.SHEET_HIDDEN_READ)]
    owners, renamed = parse_owners(sheet(vocab.SHEET_OWNERS), measures, unit_map, notes, words)
    judgments = parse_judgments(sheet(vocab.SHEET_JUDGMENT), words)
    unread = (owner_problems(sheet(vocab.SHEET_OWNERS), measures, name, words)
              + judgment_problems(sheet(vocab.SHEET_JUDGMENT), measures, name, words))
    if unread and problems is None:
        raise LedgerError(kind="ledger-problems", count=len(unread), lines=unread, more=0)
    if unread:
        problems += unread
    log = [log_entry(r) for r in parse_table(sheet(vocab.SHEET_LOG), vocab.LOG_COLUMNS, vocab.SHEET_LOG)]
    moved = [e for e in log if e.unit in renamed]
    log = [replace(e, unit=renamed[e.unit]) if e.unit in renamed else e for e in log]   # reported: under its new name
    if moved:
        notes.append(f"“{vocab.SHEET_LOG}”中{len(moved)}行改记为单位的新名称（原文件名和归档文件不变）。")
    history = [history_row(r) for r in parse_table(sheet(vocab.SHEET_HISTORY), vocab.HISTORY_COLUMNS, vocab.SHEET_HISTORY)]
    params = {normalize.clean_key(r[0]): r[1] for r in sheet(vocab.SHEET_PARAMS) if len(r) > 1}
    others = {n: sheet(n) for n in sheet_names if n not in OWN_SHEETS and n not in read}
    for n in sheet_names:
        if n in OWN_SHEETS:
            account.sheets.append(SheetUse(read_account.SHEET_OURS, n))
        elif n in others and n not in hidden_copies:
            account.sheets.append(SheetUse(read_account.SHEET_KEPT_HIDDEN if n in hidden else read_account.SHEET_KEPT, n))
    notes += read_account.collision_notes(account)
    if read_account.notable(account):
        notes.append(read_account.summary(account))
    changes = parse_table(sheet(vocab.SHEET_CHANGES), vocab.CHANGE_COLUMNS, vocab.SHEET_CHANGES)
    ledger = Ledger(measures, owners, judgments, layout.title, log, history,
                    normalize.clean_text(params.get(vocab.PARAM_DIGEST, "")), list(extras), others,
                    parse_decisions(sheet(vocab.SHEET_DECISIONS), measures, words), layout, notes, changes)
    ledger.extra_headers = extras
    ledger.sheet = SheetLayout(layout.header_row, columns)
    ledger.hidden_sheets = [n for n in others if n in hidden]
    ledger.account = account
    ledger.sequence = sequence_of(params.get(vocab.PARAM_SEQUENCE))
    ledger.in_use = [c.header for c in SPARSE_COLUMNS if c.header in in_use]
    ledger.reviews, review_notes, stale = parse_reviews(sheet(vocab.SHEET_REVIEW), measures)
    ledger.reviews = {(mid, renamed.get(u, u)): replace(r, unit=renamed.get(u, u))      # a renamed unit's requests
                      for (mid, u), r in ledger.reviews.items()}
    ledger.read_notes += review_notes
    if stale or len(read) > 1 or read != [vocab.SHEET_LEDGER]:   # rewrite: what holds, in one 整改台账 sheet
        ledger.digest = ""
    notice_decisions(ledger, saved or dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    return ledger


if __name__ == "__main__":       # remember_later's process: the settings come through standard input
    if hasattr(os, "nice"):      # Windows has none: there its priority class was set when it was started
        os.nice(10)
    remember(pickle.load(sys.stdin.buffer))
