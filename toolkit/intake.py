"""Read and check one returned unit workbook (untrusted input) without ever raising on bad data.

Every problem becomes a Problem naming file, sheet, row and column with what to fix, in
Chinese. File-level problems reject the whole file; row-level problems reject only that row.
Nothing in the file is executed: values are read with calamine, formulas are never evaluated.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from . import vocab
from .assessment import dated
from .errors import HeaderError, LedgerError
from .io import evidence, extent
from .io.fileio import file_sha256
from .io.ledger_file import cell_name, find_header
from .io.ledger_header import fill_merged
from .io.sheets import col_letter
from .io.template_contract import META_TABLE_ROW, canon, ensure_secret, row_fingerprint, template_signature
from .model import Ledger, Lexicon, Settings
from .rules import normalize
from .rules.lexicon import NONE

log = logging.getLogger("toolkit")

MAX_UNZIPPED_MB = 200        # a real unit workbook is a few MB unzipped; more is a zip bomb
MAX_RATIO = 200
MAX_ROWS = 20000
MAX_COLUMNS = 256            # the template has about twenty columns


@dataclass
class Problem:
    """One thing wrong in a submission, located and explained."""
    file: str
    message: str
    fix: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    col_index: int | None = None

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

    def reject(self, message: str, fix: str, **where) -> "Submission":
        self.problems.append(Problem(self.name, message, fix, **where))
        self.rejected = True
        return self


OTHER_ARCHIVES = {b"7z\xbc\xaf\x27\x1c": "7z", b"Rar!\x1a\x07": "RAR", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
                  b"\xfd7zXZ\x00": "xz", b"MSCF": "CAB"}
PACKAGE_FIX = ("请把填好的工作簿和佐证材料重新打包为 .zip（在压缩软件中选择“ZIP”格式）后报送；"
               "也可以先只报送填好的 .xlsx 工作簿")


def _check_container(sub: Submission, settings: Settings) -> bool:
    """Reject what is not a readable, unencrypted, reasonably sized workbook before parsing it."""
    path = sub.path
    size = path.stat().st_size
    fix_resend = "请用下发的模板重新填写并保存为 .xlsx 后报送"
    with open(path, "rb") as fh:
        head = fh.read(8)
    other = next((kind for magic, kind in OTHER_ARCHIVES.items() if head.startswith(magic)), "")
    if other or Path(sub.name).suffix.lower() in evidence.ARCHIVE_SUFFIXES:     # sent as a package: its evidence with it
        fix_resend = PACKAGE_FIX
    if other:
        sub.reject(f"文件是{other}压缩包，本工具只能拆开 .zip 压缩包", PACKAGE_FIX)
        return False
    if size == 0:
        sub.reject("文件是空的（0字节），可能在传输中损坏", fix_resend)
        return False
    if size > settings.max_file_mb * 1024 * 1024:
        sub.reject(f"文件过大（{size / 1048576:.1f}MB，上限{settings.max_file_mb:g}MB）", "请删除嵌入的图片等附件后重新报送，佐证材料另行提交")
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
            sub.reject("文件设置了打开密码（已加密），无法读取", "请取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新报送未加密的副本")
            return False
        if "Workbook" in streams or "Book" in streams:
            sub.notes.append("文件为旧版 .xls 格式，已按值读取；今后请保存为 .xlsx")
            return True
        sub.reject("文件不是Excel工作簿（可能是Word文档或其他文件改了扩展名）", fix_resend)
        return False
    if not head.startswith(b"PK"):
        kind = "PDF文件" if head.startswith(b"%PDF") else "文本或其他文件"
        sub.reject(f"文件不是Excel工作簿（看起来是{kind}）", fix_resend)
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
    except (zipfile.BadZipFile, OSError, ValueError):
        sub.reject("文件已损坏（压缩包不完整，可能下载或复制时中断），无法打开", fix_resend)
        return False
    if total > MAX_UNZIPPED_MB * 1048576 or (size and total / size > MAX_RATIO and total > 20 * 1048576):
        sub.reject(f"文件解压后过大（{total / 1048576:.0f}MB），疑似异常文件，未予读取", fix_resend)
        return False
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            sub.reject("文件是Word文档，不是Excel工作簿", fix_resend)
        elif "content.xml" in names:
            sub.notes.append("文件为 ODS/ET 格式，已按值读取；今后请保存为 .xlsx")
            return True
        else:
            sub.reject("文件已损坏或不是Excel工作簿（找不到工作簿内容）", fix_resend)
        return False
    if "xl/vbaProject.bin" in names:
        sub.notes.append("文件含宏，程序只读取单元格的值，未运行任何宏")
    if any(n.startswith("xl/externalLinks/") for n in names):
        sub.notes.append("文件含外部链接，已忽略，只读取单元格中保存的值")
    return True


def formula_cells(path: Path, sheet: str, columns: set[int] | None = None) -> dict[tuple[int, int], str]:
    """{(row, col): '=formula'} of one sheet of an .xlsx/.xlsm (only the given columns), read from
    its XML: nothing is evaluated."""
    import re
    try:
        with zipfile.ZipFile(path) as zf:
            name = _sheet_member(zf, sheet)
            if name is None:
                return {}
            xml = zf.read(name).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    from html import unescape
    letters = "|".join(col_letter(c) for c in sorted(columns)) if columns else "[A-Z]+"
    out = {}
    for cm in re.finditer(r'<c r="(' + letters + r')(\d+)"[^>]*>(.*?)</c>', xml, re.S):
        fm = re.search(r"<f[^>]*>(.*?)</f>", cm[3], re.S)
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


def _sheet_member(zf: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the named worksheet's XML (None if there is none)."""
    return extent.sheet_members(zf).get(sheet)


_column_number = extent.column_number


def _check_sizes(sub: Submission) -> bool:
    """Reject a sheet whose cells with content reach far beyond a template's, before any reader
    allocates them. Declared sizes do not count: LibreOffice leaves an empty row 1048576 and a
    dimension reaching it after a row is deleted, which is normal editing."""
    try:
        extents = extent.sheet_extents(sub.path, [vocab.SHEET_META, vocab.SHEET_LEDGER])
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, expat.ExpatError):
        return True         # not an .xlsx layout we can inspect: the reader decides
    for sheet in (vocab.SHEET_META, vocab.SHEET_LEDGER):
        used = extents.get(sheet)
        if used and (used.rows > MAX_ROWS or used.columns > MAX_COLUMNS):
            sub.reject(f"工作表“{sheet}”中单元格{used.far_cells()}有内容，使表格范围达到{used.span}"
                       f"（{used.rows}行×{used.columns}列），远超模板的大小，未予读取",
                       f"请删除{used.far_cells()}等表格右侧和下方多余的内容（或将有内容的区域复制到下发的模板中）后重新报送",
                       sheet=sheet)
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
    if zipfile.is_zipfile(path) and evidence.is_package(path):
        return _read_package(sub, ledger, settings, key)
    if not _check_container(sub, settings):
        return sub
    if zipfile.is_zipfile(path) and not _check_sizes(sub):
        return sub
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
    except Exception:
        return sub.reject("文件无法读取（格式损坏或已加密）", "请用下发的模板重新填写并保存为 .xlsx 后报送")
    if vocab.SHEET_META not in names:
        return sub.reject(f"缺少模板信息（隐藏工作表“{vocab.SHEET_META}”），不是本期下发的模板",
                          "请使用办公室下发的本单位模板填写，不要复制内容到新建的工作簿")
    try:
        meta_rows = wb.get_sheet_by_name(vocab.SHEET_META).to_python(skip_empty_area=False)
    except Exception:
        return sub.reject("模板信息无法读取", "请使用办公室下发的本单位模板重新填写")
    meta = {normalize.clean_key(r[0]): r[1] for r in meta_rows[:META_TABLE_ROW - 2] if len(r) > 1}
    version = normalize.clean_key(meta.get(vocab.META_VERSION))
    sub.unit = normalize.clean_key(meta.get(vocab.META_UNIT))
    sub.period = normalize.clean_key(meta.get(vocab.META_PERIOD))
    if version != vocab.TEMPLATE_VERSION:
        return sub.reject(f"模板版本为“{version or '空'}”，本期要求“{vocab.TEMPLATE_VERSION}”",
                          "请下载本期模板重新填写", sheet=vocab.SHEET_META)
    key = ensure_secret(settings) if key is None else key
    listed = [(normalize.clean_key(r[0]), normalize.clean_key(r[1]))
              for r in meta_rows[META_TABLE_ROW - 1:] if len(r) > 1 and normalize.clean_key(r[0])]
    signature = normalize.clean_key(meta.get(vocab.META_SIGNATURE))
    if not signature:
        return sub.reject("模板没有办公室的签名（是旧版模板，或不是办公室下发的模板）", "请使用本期下发的模板填写后重新报送",
                          sheet=vocab.SHEET_META)
    if not hmac.compare_digest(signature, template_signature(key, sub.unit, sub.period, listed)):
        return sub.reject("模板签名不符，不是本办公室下发的模板（可能是按台账内容自行制作的表格，或模板信息被改动）",
                          "请使用办公室下发给本单位的本期模板填写后重新报送", sheet=vocab.SHEET_META)
    issued = sub.unit
    aliases = {normalize.clean_key(k): v for k, v in (getattr(settings, "unit_map", None) or {}).items()}
    renamed = [u for u in (normalize.clean_key(t) for t in aliases.get(issued, [])) if ledger.has_unit(u)]
    if not ledger.has_unit(issued) and len(renamed) == 1:    # issued before the unit was renamed in the master
        sub.unit = renamed[0]
        sub.notes.append(f"模板是下发给“{issued}”的，该单位在台账中已改为“{sub.unit}”（配置[units]），按“{sub.unit}”汇总")
    if not ledger.has_unit(sub.unit):
        return sub.reject(f"模板中的填报单位“{sub.unit}”不是台账中的责任单位",
                          f"请使用办公室下发的本单位模板；如是该单位在台账中改了名，办公室可在配置[units]中写 "
                          f"\"{sub.unit}\" = \"新名称\" 后重新汇总此文件", sheet=vocab.SHEET_META)
    named = _named_unit(sub.name, ledger)
    if named and named != sub.unit and sub.unit not in normalize.clean_key(sub.name):
        return sub.reject(f"文件名表明报送单位是“{named}”，但文件是下发给“{sub.unit}”的模板",
                          f"请{named}使用本单位的模板填写后重新报送", sheet=vocab.SHEET_META)
    period = dated(settings).period          # the consolidation hands its readers settings pinned to its period
    if sub.period != period:
        return sub.reject(f"模板的报送期次为“{sub.period}”，本期为“{period}”", "请使用本期下发的模板填写",
                          sheet=vocab.SHEET_META)
    planned = dict(listed)
    if vocab.SHEET_LEDGER not in names:
        return sub.reject(f"找不到工作表“{vocab.SHEET_LEDGER}”", "请勿改动工作表名称，使用下发的模板重新填写")
    sheet = wb.get_sheet_by_name(vocab.SHEET_LEDGER)
    if sheet.total_height > MAX_ROWS:
        return sub.reject(f"工作表有{sheet.total_height}行，远超本单位的{len(planned)}条措施", "请删除多余的行后重新报送",
                          sheet=vocab.SHEET_LEDGER)
    rows = sheet.to_python(skip_empty_area=False)
    try:
        h, cols = find_header(rows, [vocab.ID] + vocab.LOCKED_COLUMNS[1:] + vocab.UNIT_COLUMNS,
                              f"文件“{sub.name}”工作表“{vocab.SHEET_LEDGER}”")
    except HeaderError as exc:
        return sub.reject(f"表头缺少列：{'、'.join(exc.missing)}（可能被改名、删除或合并了单元格）",
                          "请勿改动表头，使用下发的模板重新填写", sheet=vocab.SHEET_LEDGER, row=exc.row,
                          column=exc.missing[0])
    except LedgerError:
        return sub.reject(f"找不到表头（应含“{vocab.ID}”“{vocab.MEASURE}”等列）", "请勿删除表头，使用下发的模板重新填写",
                          sheet=vocab.SHEET_LEDGER)
    filled = fill_merged(rows, sheet.merged_cell_ranges or [], h, cols)   # a merged 完成情况 speaks for each row
    if filled:
        sub.notes.append(f"合并单元格{'、'.join(filled[:5])}{'等' if len(filled) > 5 else ''}已按合并值读入所覆盖的每一行")
    text_columns = {cols[name] + 1 for name in vocab.TEXT_COLUMNS}
    formulas = formula_cells(path, vocab.SHEET_LEDGER, text_columns) if zipfile.is_zipfile(path) else {}
    _read_rows(sub, rows, h, cols, ledger, planned, formulas, key, issued, settings.lexicon)
    return sub


def _read_package(sub: Submission, ledger: Ledger, settings: Settings, key: bytes | None) -> Submission:
    """A .zip of the workbook and its evidence: the workbook read as if sent alone, each other
    entry matched to one of the unit's measures or refused by name (evidence.match), and checked
    against its extension (evidence.check_content); system files (Thumbs.db…) skipped in one note."""
    import tempfile
    fix = "请把填报的工作簿放在压缩包最外层、佐证材料按编号分文件夹放好，重新打包为 .zip 后报送"
    try:
        with zipfile.ZipFile(sub.path) as zf:
            word = evidence.kind_word(zf)
        if word == "文件夹":
            fix = evidence.FOLDER_FIX
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
            return sub.reject(str(exc), exc.fix)
    except evidence.PackageError as exc:
        return sub.reject(str(exc), exc.fix or fix)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        return sub.reject("压缩包中的工作簿已损坏或无法解压（解压时校验不符或数据不完整，可能下载或复制时中断）", fix)
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
               planned: dict[str, str], formulas: dict[tuple[int, int], str], key: bytes, issued: str = "",
               words: Lexicon = NONE) -> None:
    """Judge every row of a unit's sheet; issued: the unit the template was signed for (its old name when
    the unit was renamed since)."""
    seen: dict[str, int] = {}
    synonyms: dict[str, str] = {}
    sheet = vocab.SHEET_LEDGER
    for r in range(h + 1, len(rows)):
        row = rows[r]
        excel_row = r + 1
        val = lambda name: row[cols[name]] if cols[name] < len(row) else None
        if not any(normalize.clean_text(val(n)) for n in vocab.COLUMNS if n in cols):
            continue
        problem = lambda name, msg, fix: sub.problems.append(
            Problem(sub.name, msg, fix, sheet, excel_row, name, cols[name] + 1))
        mid = normalize.clean_key(val(vocab.ID))
        if not mid:
            problem(vocab.ID, "编号为空", "本行未汇总；请勿新增行，如需补充措施请与办公室联系")
            continue
        if mid in seen:
            problem(vocab.ID, f"编号“{mid}”与第{seen[mid]}行重复", "重复行未汇总；请删除重复的行")
            continue
        seen[mid] = excel_row
        if mid not in ledger.measures:
            problem(vocab.ID, f"编号“{mid}”在台账中不存在", "本行未汇总；请勿新增或改动编号")
            continue
        m = ledger.measures[mid]
        if sub.unit not in m.owners:
            problem(vocab.ID, f"措施“{mid}”不属于{sub.unit}（牵头单位为{m.lead_unit}）", "本行未汇总；只能填报本单位负责的措施")
            continue
        if mid not in planned:
            problem(vocab.ID, f"措施“{mid}”不在下发给本单位的模板中（模板外新增的行）", "本行未汇总；请勿新增行")
            continue
        locked = [val(n) for n in vocab.LOCKED_COLUMNS]
        if not hmac.compare_digest(row_fingerprint(locked, key, issued or sub.unit, sub.period), planned[mid]):
            changed = [n for n, v, w in zip(vocab.LOCKED_COLUMNS, locked, m.locked_values()) if canon(v) != canon(w)]
            name = changed[0] if changed else vocab.MEASURE
            problem(name, f"锁定的任务内容被改动（{'、'.join(changed) or '与下发模板不一致'}）",
                    "本行未汇总；请勿改动锁定列，如任务需调整请书面报办公室")
            continue
        raw_status = val(vocab.STATUS)
        status = normalize.status(raw_status, words)   # the profile's words too
        if status and normalize.clean_text(raw_status) != status:
            synonyms.setdefault(normalize.clean_text(raw_status), status)
        if status is None:
            problem(vocab.STATUS, *normalize.unknown_status_message(raw_status))
            status = ""     # only this cell is refused: the row's texts are still taken
        elif not status:    # the template showed the unit's status: a blank cell was cleared, it says nothing
            problem(vocab.STATUS, "完成情况为空", f"该格未采纳（本行进展等文字已采纳，完成情况保持原值“"
                    f"{ledger.counted_status(mid, sub.unit)}”）；请从下拉列表选择：{'、'.join(vocab.STATUSES)}")
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
