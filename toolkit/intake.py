"""Read and check one returned unit workbook (untrusted input) without ever raising on bad data.

Every problem becomes a Problem naming file, sheet, row and column with what to fix, in
Chinese. File-level problems reject the whole file; row-level problems reject only that row.
Nothing in the file is executed: values are read with calamine, formulas are never evaluated.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from . import vocab, words
from .assessment import dated
from .errors import HeaderError, LedgerError
from .io import evidence, extent, ods
from .io.fileio import file_sha256
from .io.ledger_file import cell_name, find_header
from .io.ledger_header import fill_merged
from .io.sheets import col_letter
from .io.template_contract import META_TABLE_ROW, canon, ensure_secret, row_fingerprint, template_signature
from .model import Ledger, Lexicon, Settings
from .problems import Location, plain
from .rules import normalize
from .rules.lexicon import NONE

log = logging.getLogger("toolkit")

MAX_UNZIPPED_MB = 200        # a real unit workbook is a few MB unzipped; more is a zip bomb
MAX_RATIO = 200
MAX_ROWS = 20000
MAX_COLUMNS = 256            # the template has about twenty columns


@dataclass
class Problem:
    """One thing wrong in a submission: a stable kind code and its parameters (the words are in toolkit.words),
    located by file, sheet, row and column; fix_kind names the fix when it is not the kind's own."""
    file: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    sheet: str = ""
    row: int | None = None
    column: str = ""
    col_index: int | None = None
    fix_kind: str = ""

    @property
    def message(self) -> str:
        """What is wrong, in Chinese."""
        return words.render(self.kind, self.params)

    @property
    def fix(self) -> str:
        """What to do about it, in Chinese."""
        return words.render_fix(self.fix_kind or self.kind, self.params)

    @property
    def location(self) -> Location:
        """File, sheet, row, column (header) and cell, as a problem record carries them."""
        cell = cell_name(self.row, self.col_index) if self.row and self.col_index else ""
        return Location(file=self.file, sheet=self.sheet, row=self.row, column=self.column, cell=cell)

    @property
    def where(self) -> str:
        parts = [f"文件“{self.file}”"]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            ref = f"({cell_name(self.row, self.col_index)})" if self.row and self.col_index else ""
            parts.append(f"“{self.column}”列{ref}")
        return "".join(parts)

    def text(self) -> str:
        return f"{self.where}:{self.message}。{self.fix}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON values: kind, family, location, parameters, and the words a receipt shows."""
        return {"kind": self.kind, "family": words.INPUT, "location": self.location.to_dict(),
                "params": {k: plain(v) for k, v in self.params.items()}, "message": self.message, "fix": self.fix,
                "text": self.text()}


@dataclass
class RowUpdate:
    """What a unit reported for one of its measures."""
    measure_id: str
    row: int
    status: str          # '' = unchanged
    progress: str
    evidence: str
    remark: str


@dataclass
class Submission:
    """One received file, read and judged."""
    path: Path
    name: str
    sha256: str
    received: dt.datetime
    unit: str = ""
    period: str = ""
    updates: list[RowUpdate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected: bool = False
    evidence: list = field(default_factory=list)     # EvidenceFile per entry of a .zip package

    def reject(self, kind: str, *, sheet: str = "", row: int | None = None, column: str = "", fix_kind: str = "",
               **params: Any) -> "Submission":
        """Refuse the whole file for one problem (kind and parameters as in toolkit.words)."""
        self.problems.append(Problem(self.name, kind, params, sheet, row, column, fix_kind=fix_kind))
        self.rejected = True
        return self


OTHER_ARCHIVES = {b"7z\xbc\xaf\x27\x1c": "7z", b"Rar!\x1a\x07": "RAR", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
                  b"\xfd7zXZ\x00": "xz", b"MSCF": "CAB"}


def _open_zip(path: Path) -> zipfile.ZipFile | None:
    """The file opened as a zip archive, once for all the checks that look inside it; None when it is no
    zip or zipfile cannot read its directory (each check then judges as it would a failed opening)."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _check_container(sub: Submission, settings: Settings, zf: zipfile.ZipFile | None) -> bool:
    """Reject what is not a readable, unencrypted, reasonably sized workbook before parsing it
    (zf: the file opened as a zip, None when it could not be)."""
    path = sub.path
    size = path.stat().st_size
    resend = "resend"
    with open(path, "rb") as fh:
        head = fh.read(8)
    other = next((kind for magic, kind in OTHER_ARCHIVES.items() if head.startswith(magic)), "")
    if other or Path(sub.name).suffix.lower() in evidence.ARCHIVE_SUFFIXES:     # sent as a package: its evidence with it
        resend = "resend-package"
    if other:
        sub.reject("file-other-archive", format=other)
        return False
    if size == 0:
        sub.reject("file-empty", fix_kind=resend)
        return False
    if size > settings.max_file_mb * 1024 * 1024:
        sub.reject("file-too-large", size_mb=size / 1048576, limit_mb=settings.max_file_mb)
        return False
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        import olefile
        try:
            ole = olefile.OleFileIO(str(path))
            streams = {"/".join(s) for s in ole.listdir()}
            ole.close()
        except Exception:
            streams = set()
        if "EncryptedPackage" in streams:
            sub.reject("file-encrypted")
            return False
        if "Workbook" in streams or "Book" in streams:
            sub.notes.append("文件为旧版 .xls 格式，已按值读取；今后请保存为 .xlsx")
            return True
        sub.reject("file-ole-not-workbook", fix_kind=resend)
        return False
    if not head.startswith(b"PK"):
        sub.reject("file-pdf" if head.startswith(b"%PDF") else "file-not-workbook", fix_kind=resend)
        return False
    if zf is None:
        sub.reject("file-damaged", fix_kind=resend)
        return False
    infos = zf.infolist()
    names = {i.filename for i in infos}
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_MB * 1048576 or (size and total / size > MAX_RATIO and total > 20 * 1048576):
        sub.reject("file-unzipped-too-large", fix_kind=resend, unzipped_mb=total / 1048576)
        return False
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            sub.reject("file-word-document", fix_kind=resend)
        elif "content.xml" in names:
            sub.notes.append("文件为 ODS/ET 格式，已按值读取；今后请保存为 .xlsx")
            return True
        else:
            sub.reject("file-no-workbook-part", fix_kind=resend)
        return False
    if "xl/vbaProject.bin" in names:
        sub.notes.append("文件含宏，程序只读取单元格的值，未运行任何宏")
    if any(n.startswith("xl/externalLinks/") for n in names):
        sub.notes.append("文件含外部链接，已忽略，只读取单元格中保存的值")
    return True


_FORMULA = re.compile(r"<f[^>]*>(.*?)</f>", re.S)


def formula_cells(path: Path, sheet: str, columns: set[int] | None = None) -> dict[tuple[int, int], str]:
    """{(row, col): '=formula'} of one sheet of an .xlsx/.xlsm (only the given columns), read from
    its XML: nothing is evaluated."""
    try:
        with zipfile.ZipFile(path) as zf:
            return book_formula_cells(extent.Book(zf), sheet, columns)
    except (zipfile.BadZipFile, OSError):
        return {}


def book_formula_cells(book: extent.Book, sheet: str, columns: set[int] | None = None) -> dict[tuple[int, int], str]:
    """formula_cells of an archive already open, its sheet's XML read once with the used-range scan."""
    try:
        name = book.members().get(sheet)
        if name is None:
            return {}
        data = book.xml(name)
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    if b"<f" not in data:           # no formula element anywhere (most returned sheets): nothing to look for
        return {}
    xml = data.decode("utf-8", "replace")
    from html import unescape
    letters = "|".join(col_letter(c) for c in sorted(columns)) if columns else "[A-Z]+"
    out = {}
    for cm in re.finditer(r'<c r="(' + letters + r')(\d+)"[^>]*>(.*?)</c>', xml, re.S):
        fm = "<f" in cm[3] and _FORMULA.search(cm[3])      # most cells hold a value, not a formula
        if fm:
            out[(int(cm[2]), _column_number(cm[1]))] = "=" + unescape(fm[1])
    return out


def _named_unit(filename: str, ledger: Ledger) -> str:
    """The longest unit name that the file name mentions ('' if none)."""
    key = normalize.clean_key(Path(filename).stem)[:60]
    for size in range(len(key), 1, -1):          # longest first; a few hundred look-ups at most
        for start in range(len(key) - size + 1):
            if ledger.has_unit(key[start:start + size]):
                return key[start:start + size]
    return ""


_column_number = extent.column_number


def _check_sizes(sub: Submission, book: extent.Book) -> bool:
    """Reject a sheet whose cells with content reach far beyond a template's, before any reader
    allocates them. Declared sizes do not count: LibreOffice leaves an empty row 1048576 and a
    dimension reaching it after a row is deleted, which is normal editing."""
    try:
        extents = extent.book_extents(book, [vocab.SHEET_META, vocab.SHEET_LEDGER])
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, expat.ExpatError):
        return True         # not an .xlsx layout we can inspect: the reader decides
    for sheet in (vocab.SHEET_META, vocab.SHEET_LEDGER):
        used = extents.get(sheet)
        if used and (used.rows > MAX_ROWS or used.columns > MAX_COLUMNS):
            sub.reject("sheet-far-cells", sheet=sheet, sheet_name=sheet, far=used.far_cells(), span=used.span, rows=used.rows,
                       columns=used.columns)
            return False
    return True


def read_submission(path: Path, ledger: Ledger, settings: Settings, received: dt.datetime | None = None,
                    name: str | None = None, sha256: str | None = None, key: bytes | None = None) -> Submission:
    """Read one returned workbook and judge every row against the ledger; never raises on bad input.
    The consolidation reads the archived copy (name: the file's name as received) and passes the
    workspace key it loaded (key), so reader processes never touch the workspace."""
    path = Path(path)
    received = received or dt.datetime.fromtimestamp(path.stat().st_mtime)
    sub = Submission(path, name or path.name, sha256 or file_sha256(path), received)
    zf = _open_zip(path)
    try:
        return _read_workbook(sub, zf, ledger, settings, key)
    finally:
        if zf is not None:
            zf.close()


def _read_workbook(sub: Submission, zf: zipfile.ZipFile | None, ledger: Ledger, settings: Settings,
                   key: bytes | None) -> Submission:
    """read_submission of a file opened as a zip once (zf; None when it is not one or could not be opened)."""
    if zf is not None and evidence.is_package_zip(zf):
        return _read_package(sub, ledger, settings, key)
    got = _parse_workbook(sub, zf, settings, key)
    return got if isinstance(got, Submission) else judge_parsed(got, ledger, settings)


class Refusal:
    """A whole-file refusal found ahead of the checks that come before it (Parsed.rest): a problem kind and
    Submission.reject's arguments, applied once those checks have passed."""

    def __init__(self, kind: str, **args: Any):
        self.kind, self.args = kind, args

    def apply(self, sub: "Submission") -> "Submission":
        return sub.reject(self.kind, **self.args)


@dataclass
class Parsed:
    """A unit workbook read as far as it can be without the ledger (a signed template of this workspace):
    judge_parsed makes of it exactly the Submission read_submission would, so the reading may happen
    before the master is read (readers.parse_early)."""
    sub: Submission                   # the unit and period of its 模板信息, no problem yet
    planned: dict[str, str]           # 编号 → fingerprint, as the template was issued
    rest: Refusal | None = None       # the first check after the unit's that failed
    error: Exception | None = None    # or what reading the sheet raised (read_submission raises it after the unit checks)
    rows: list[list] = field(default_factory=list)
    h: int = 0
    cols: dict[str, int] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    fingerprints: dict[int, str] = field(default_factory=dict)    # row index → its locked cells' fingerprint


def parse_submission(path: Path, settings: Settings, received: dt.datetime, name: str, sha256: str,
                     key: bytes) -> Submission | Parsed | None:
    """What of read_submission needs no ledger: a rejected Submission (final whatever the ledger), a Parsed for
    judge_parsed, or None for a package (.zip with evidence), which only read_submission reads."""
    sub = Submission(Path(path), name, sha256, received)
    zf = _open_zip(sub.path)
    try:
        if zf is not None and evidence.is_package_zip(zf):
            return None
        return _parse_workbook(sub, zf, settings, key)
    finally:
        if zf is not None:
            zf.close()


def _parse_workbook(sub: Submission, zf: zipfile.ZipFile | None, settings: Settings,
                    key: bytes | None) -> Submission | Parsed:
    """Every check of a workbook that needs no ledger, in read_submission's order: the container, the sizes, the
    template info and its signature; then the ledger sheet read ahead of the unit checks that come first."""
    path = sub.path
    if not _check_container(sub, settings, zf):
        return sub
    book = extent.Book(zf) if zf is not None else None
    if book is not None and not _check_sizes(sub, book):
        return sub
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
    except Exception:
        return sub.reject("file-unreadable")
    if vocab.SHEET_META not in names:
        return sub.reject("template-info-missing")
    try:
        meta_rows = wb.get_sheet_by_name(vocab.SHEET_META).to_python(skip_empty_area=False)
    except Exception:
        return sub.reject("template-info-unreadable")
    meta = {normalize.clean_key(r[0]): r[1] for r in meta_rows[:META_TABLE_ROW - 2] if len(r) > 1}
    version = normalize.clean_key(meta.get(vocab.META_VERSION))
    sub.unit = normalize.clean_key(meta.get(vocab.META_UNIT))
    sub.period = normalize.clean_key(meta.get(vocab.META_PERIOD))
    if version != vocab.TEMPLATE_VERSION:
        return sub.reject("template-version", sheet=vocab.SHEET_META, version=version or "空",
                          required=vocab.TEMPLATE_VERSION)
    key = ensure_secret(settings) if key is None else key
    listed = [(normalize.clean_key(r[0]), normalize.clean_key(r[1]))
              for r in meta_rows[META_TABLE_ROW - 1:] if len(r) > 1 and normalize.clean_key(r[0])]
    signature = normalize.clean_key(meta.get(vocab.META_SIGNATURE))
    if not signature:
        return sub.reject("template-unsigned", sheet=vocab.SHEET_META)
    if not hmac.compare_digest(signature, template_signature(key, sub.unit, sub.period, listed)):
        return sub.reject("template-signature", sheet=vocab.SHEET_META)
    parsed = Parsed(sub, dict(listed))
    try:
        parsed.rest = _parse_sheet(parsed, wb, names, book, settings, key)
    except Exception as exc:      # raised where read_submission would: after the unit checks
        parsed.error = exc
    return parsed


def _parse_sheet(parsed: Parsed, wb, names: list[str], book: extent.Book | None, settings: Settings,
                 key: bytes) -> Refusal | None:
    """The period and the ledger sheet of a signed template: the first check that fails, else None with the rows,
    header, merged cells, formulas and fingerprints in parsed."""
    sub = parsed.sub
    period = dated(settings).period          # the consolidation hands its readers settings pinned to its period
    if sub.period != period:
        return Refusal("template-period", sheet=vocab.SHEET_META, found=sub.period, period=period)
    if vocab.SHEET_LEDGER not in names:
        return Refusal("ledger-sheet-missing", sheet_name=vocab.SHEET_LEDGER)
    sheet = wb.get_sheet_by_name(vocab.SHEET_LEDGER)
    if sheet.total_height > MAX_ROWS:
        return Refusal("ledger-sheet-too-long", sheet=vocab.SHEET_LEDGER, rows=sheet.total_height,
                       planned=len(parsed.planned))
    rows = sheet.to_python(skip_empty_area=False)
    try:
        h, cols = find_header(rows, [vocab.ID] + vocab.LOCKED_COLUMNS[1:] + vocab.UNIT_COLUMNS,
                              f"文件“{sub.name}”工作表“{vocab.SHEET_LEDGER}”")
    except HeaderError as exc:
        return Refusal("header-columns-missing", sheet=vocab.SHEET_LEDGER, row=exc.row, column=exc.missing[0],
                       missing=list(exc.missing))
    except LedgerError:
        return Refusal("header-not-found", sheet=vocab.SHEET_LEDGER)
    merged = sheet.merged_cell_ranges
    if merged is None:                      # calamine reports no merged cells of an .ods: read from its content.xml
        merged = ods.merged_ranges(sub.path).get(vocab.SHEET_LEDGER)
    parsed.filled = fill_merged(rows, merged or [], h, cols)   # a merged 完成情况 speaks for each row
    text_columns = {cols[name] + 1 for name in vocab.TEXT_COLUMNS}
    parsed.formulas = (book_formula_cells(book, vocab.SHEET_LEDGER, text_columns) if book is not None
                       else formula_cells(sub.path, vocab.SHEET_LEDGER, text_columns) if zipfile.is_zipfile(sub.path)
                       else {})
    parsed.rows, parsed.h, parsed.cols = rows, h, cols
    present = [cols[n] for n in vocab.COLUMNS if n in cols]
    locked_at = [cols[n] for n in vocab.LOCKED_COLUMNS]
    width = max(cols.values()) + 1
    for r in range(h + 1, len(rows)):        # each row _read_rows may check, as it pads it
        row = rows[r]
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        if normalize.clean_key(row[cols[vocab.ID]]) and any(normalize.clean_text(row[i]) for i in present):
            parsed.fingerprints[r] = row_fingerprint([row[i] for i in locked_at], key, sub.unit, sub.period)
    return None


def judge_parsed(parsed: Parsed, ledger: Ledger, settings: Settings) -> Submission:
    """The checks of a parsed workbook that need the ledger (its unit, then every row), in read_submission's order."""
    sub = parsed.sub
    issued = sub.unit
    aliases = {normalize.clean_key(k): v for k, v in (getattr(settings, "unit_map", None) or {}).items()}
    renamed = [u for u in (normalize.clean_key(t) for t in aliases.get(issued, [])) if ledger.has_unit(u)]
    if not ledger.has_unit(issued) and len(renamed) == 1:    # issued before the unit was renamed in the master
        sub.unit = renamed[0]
        sub.notes.append(f"模板是下发给“{issued}”的，该单位在台账中已改为“{sub.unit}”（配置[units]），按“{sub.unit}”汇总")
    if not ledger.has_unit(sub.unit):
        return sub.reject("template-unit-unknown", sheet=vocab.SHEET_META, unit=sub.unit)
    named = _named_unit(sub.name, ledger)
    if named and named != sub.unit and sub.unit not in normalize.clean_key(sub.name):
        return sub.reject("template-other-unit", sheet=vocab.SHEET_META, named=named, unit=sub.unit)
    if parsed.error is not None:
        raise parsed.error
    if parsed.rest is not None:
        return parsed.rest.apply(sub)
    if parsed.filled:
        filled = parsed.filled
        sub.notes.append(f"合并单元格{'、'.join(filled[:5])}{'等' if len(filled) > 5 else ''}已按合并值读入所覆盖的每一行")
    _read_rows(sub, parsed.rows, parsed.h, parsed.cols, ledger, parsed.planned, parsed.formulas,
               parsed.fingerprints, settings.lexicon)
    return sub


def _read_package(sub: Submission, ledger: Ledger, settings: Settings, key: bytes | None) -> Submission:
    """A .zip of the workbook and its evidence: the workbook read as if sent alone, each other
    entry matched to one of the unit's measures or refused by name (evidence.match), and checked
    against its extension (evidence.check_content); system files (Thumbs.db…) skipped in one note."""
    import tempfile
    fix = "package"
    try:
        with zipfile.ZipFile(sub.path) as zf:
            word = evidence.kind_word(zf)
        if word == "文件夹":
            fix = "folder"
        member, entries = evidence.open_package(sub.path)
        with zipfile.ZipFile(sub.path) as zf:
            shown = evidence.entry_name(zf.getinfo(member))
        with tempfile.TemporaryDirectory() as tmp:
            book = Path(tmp) / f"workbook{Path(member).suffix.lower()}"
            evidence.extract_workbook(sub.path, member, book)
            inner = read_submission(book, ledger, settings, sub.received, sub.name, sub.sha256, key)
    except evidence.MissingWorkbook as exc:
        inner, entries = _rest_of_earlier(sub, ledger, settings), exc.entries
        if inner is None:
            return sub.reject(exc.kind, fix_kind=exc.fix_kind, **exc.params)
    except evidence.PackageError as exc:
        return sub.reject(exc.kind, fix_kind=exc.fix_kind or fix, **exc.params)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        return sub.reject("package-workbook-damaged", fix_kind=fix)
    else:
        inner.path = sub.path
        inner.notes.insert(0, f"已从{word}中读取工作簿“{shown}”")
    if not inner.rejected:
        kept = [i for i in entries if not evidence.is_litter(evidence.entry_name(i))]
        if len(kept) < len(entries):
            inner.notes.append(f"已忽略系统自动生成的文件{len(entries) - len(kept)}个（如Thumbs.db、desktop.ini、"
                               f".DS_Store），它们不是佐证材料")
        texts = {u.measure_id: u.evidence for u in inner.updates} if inner is not sub else {
            mid: o.evidence for (mid, unit), o in ledger.owners.items() if unit == inner.unit}
        try:
            matched = evidence.match(kept, [m.id for m in ledger.rows_of(inner.unit)], texts)
            inner.evidence = evidence.check_content(sub.path, matched)
        except Exception:           # the evidence is one part: its trouble never costs the workbook
            log.exception("读取 %s 中的佐证材料时出错", sub.name)
            inner.evidence = [evidence.EvidenceFile(evidence.entry_name(i), i.filename, reason=evidence.DAMAGED)
                              for i in kept]
    return inner


def _rest_of_earlier(sub: Submission, ledger: Ledger, settings: Settings) -> Submission | None:
    """A package without a workbook, named like one a unit sent and had taken in this period: the rest
    of that folder, copied after the first part was taken in. Its evidence is taken for that unit (the
    measures' 佐证材料 as merged name the loose files); None when no such earlier package exists."""
    period = dated(settings).period
    earlier = [e for e in ledger.log if e.period == period and e.name == sub.name and e.applied
               and e.archived.endswith(".zip")]
    if not earlier:
        return None
    sub.unit, sub.period = max(earlier, key=lambda e: e.received).unit, period
    sub.notes.append(f"没有工作簿：是{sub.unit}本期已报送的同名“{sub.name}”的其余部分（复制时后到），"
                     f"其中的佐证材料已按该单位接收")
    return sub


def _read_rows(sub: Submission, rows: list[list], h: int, cols: dict[str, int], ledger: Ledger,
               planned: dict[str, str], formulas: dict[tuple[int, int], str], fingerprints: dict[int, str],
               words: Lexicon = NONE) -> None:
    """Judge every row of a unit's sheet; fingerprints: each row's locked cells' fingerprint, bound to the unit
    the template was signed for (its old name when the unit was renamed since), see _parse_sheet."""
    seen: dict[str, int] = {}
    synonyms: dict[str, str] = {}
    sheet = vocab.SHEET_LEDGER
    present = [cols[n] for n in vocab.COLUMNS if n in cols]          # where a row shows whether it is blank
    locked_at = [cols[n] for n in vocab.LOCKED_COLUMNS]
    width = max(cols.values()) + 1
    for r in range(h + 1, len(rows)):
        row = rows[r]
        if len(row) < width:            # a short row (fill_merged adds empty ones) reads as blank cells at its end
            row = list(row) + [None] * (width - len(row))
        excel_row = r + 1
        val = lambda name: row[cols[name]]
        if not any(normalize.clean_text(row[i]) for i in present):
            continue
        problem = lambda name, kind, fix_kind="", **params: sub.problems.append(
            Problem(sub.name, kind, params, sheet, excel_row, name, cols[name] + 1, fix_kind))
        mid = normalize.clean_key(val(vocab.ID))
        if not mid:
            problem(vocab.ID, "row-id-empty")
            continue
        if mid in seen:
            problem(vocab.ID, "row-id-repeated", measure_id=mid, first_row=seen[mid])
            continue
        seen[mid] = excel_row
        if mid not in ledger.measures:
            problem(vocab.ID, "row-id-unknown", measure_id=mid)
            continue
        m = ledger.measures[mid]
        if sub.unit not in m.owners:
            problem(vocab.ID, "row-not-own-measure", measure_id=mid, unit=sub.unit, lead=m.lead_unit)
            continue
        if mid not in planned:
            problem(vocab.ID, "row-not-in-template", measure_id=mid)
            continue
        locked = [row[i] for i in locked_at]
        if not hmac.compare_digest(fingerprints[r], planned[mid]):
            changed = [n for n, v, w in zip(vocab.LOCKED_COLUMNS, locked, m.locked_values()) if canon(v) != canon(w)]
            name = changed[0] if changed else vocab.MEASURE
            problem(name, "row-locked-changed", changed=changed) if changed else problem(name, "row-locked-mismatch")
            continue
        raw_status = val(vocab.STATUS)
        status = normalize.status(raw_status, words)   # the profile's words too
        if status and normalize.clean_text(raw_status) != status:
            synonyms.setdefault(normalize.clean_text(raw_status), status)
        if status is None:
            hint = normalize.status_hint(raw_status)
            problem(vocab.STATUS, "status-unknown", "status-unknown-hinted" if hint else "",
                    value=normalize.clean_text(raw_status), hint=hint, statuses=list(vocab.STATUSES))
            status = ""     # only this cell is refused: the row's texts are still taken
        elif not status:    # the template showed the unit's status: a blank cell was cleared, it says nothing
            problem(vocab.STATUS, "status-empty", kept=ledger.counted_status(mid, sub.unit),
                    statuses=list(vocab.STATUSES))
        texts = {}
        for name in vocab.TEXT_COLUMNS:
            text = normalize.clean_text(val(name))
            formula = formulas.get((excel_row, cols[name] + 1))
            if formula:   # keep what the unit typed, as text; the cached result may be anything
                sub.notes.append(f"第{excel_row}行“{name}”是公式，已按文字“{formula[:40]}”保存，不会被执行")
                text = formula
            elif normalize.looks_like_formula(text):
                sub.notes.append(f"第{excel_row}行“{name}”以“{text[:1]}”开头，已按文字保存，不会作为公式执行")
            texts[name] = text
        sub.updates.append(RowUpdate(mid, excel_row, status, texts[vocab.PROGRESS], texts[vocab.EVIDENCE],
                                     texts[vocab.REMARK]))
    if synonyms:
        sub.notes.append("完成情况按规范用语登记：" + "、".join(f"“{a}”→“{b}”" for a, b in synonyms.items()))
    missing = [mid for mid in planned if mid not in seen]
    if missing:
        sub.notes.append(f"{len(missing)}条下发的措施未在文件中出现（{'、'.join(missing[:5])}{'等' if len(missing) > 5 else ''}），视为本期未更新")
