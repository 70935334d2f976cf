"""Where a workbook's content really ends: the cells that hold something, streamed from each sheet's
XML before any reader allocates the rectangle from A1 to the furthest cell.

Declared sizes are not content: LibreOffice writes `<dimension ref="A1:S1048576"/>` and an empty
`<row r="1048576">` after a row is deleted, and an empty formatted cell is no content either
(calamine skips both). One character in XFD20000 is content, and would make a reader allocate
20000 × 16384 cells.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import re
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from ..errors import LedgerError
from ..problems import Location
from .sheets import col_letter

CONTENT = {"v", "f", "is"}      # children that give a <c> a value (a formula, a number, a string)


@dataclass(frozen=True)
class Extent:
    """The used range of one sheet: rows × columns from A1, and the cells that reach furthest."""
    rows: int = 0
    columns: int = 0
    lowest: str = ""             # a content cell in the last used row
    rightmost: str = ""          # a content cell in the last used column

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def span(self) -> str:
        return f"A1:{col_letter(max(self.columns, 1))}{max(self.rows, 1)}"

    def far_cells(self) -> str:
        """The cell(s) that stretch the range, for a message: 'XFD20000' or 'A30000、XFD3'."""
        return "、".join(dict.fromkeys(c for c in (self.rightmost, self.lowest) if c))


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member holding its XML} of an .xlsx/.xlsm, in workbook order."""
    from html import unescape
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {}
    for rel in re.finditer(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = re.search(r'\bId="([^"]+)"', rel[0]), re.search(r'\bTarget="([^"]+)"', rel[0])
        if rid and target:
            name = target[1].lstrip("/")
            targets[rid[1]] = name if name.startswith("xl/") else "xl/" + name
    out = {}
    for sheet in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name, rid = re.search(r'\bname="([^"]*)"', sheet[0]), re.search(r'\br:id="([^"]+)"', sheet[0])
        if name and rid and rid[1] in targets:
            out[unescape(name[1])] = targets[rid[1]]
    return out


_REF = re.compile(r"([A-Za-z]+)([0-9]+)")    # as calamine reads a cell's r: any case, any length (xfd020000 is XFD20000)


def used_extent(zf: zipfile.ZipFile, member: str, data: bytes | None = None) -> Extent:
    """The extent of the cells with content in one worksheet: the quick scan of the layout every office
    program writes, else (an unusual layout) the streamed XML parse, which gives the same answer for any.
    data: the member's XML when it is already read (a sheet of at most one chunk), else it is streamed."""
    with (io.BytesIO(data) if data is not None else zf.open(member)) as fh:
        found = _scanned_extent(fh)
    if found is not None:
        return found
    try:
        return _streamed_extent(zf, member)
    except expat.ExpatError:          # not well-formed, yet calamine reads on (a repeated r, a stray end tag)
        return _lenient_extent(zf, member)


# A cell as office programs write it: r first, then any attributes, then nothing (self-closed or </c>) or
# its first child; group 3 is set when that child gives it content (f, v or is).
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?:\s+(?!r\s*=)[\w.:-]+\s*=\s*(?:"[^"]*"|\'[^\']*\'))*\s*'
                   rb'(?:/>|>\s*(?:</c>|<(f|v|is)[\s/>]))')
_ANY_CELL = re.compile(rb"<c[\s/>]")
# what the quick scan leaves to the parser: comments, CDATA, DOCTYPE and entities, processing
# instructions, prefixed elements (a prefixed cell would not be seen)
_UNUSUAL = re.compile(rb"<!|<\?(?!xml[\s?])|<[\w.-]+:c[\s/>]")
_CHUNK = 1 << 22
_MAX_CARRY = 1 << 26


def _scanned_extent(fh) -> Extent | None:
    """The extent by regular expressions over the XML in 4 MB chunks (cut before a "<c", so no cell is
    split), or None when the sheet is laid out otherwise: any cell not of the common form, anything in
    _UNUSUAL, a cell longer than 64 MB. Six times faster than the parse on a 30,000-row master."""
    far_row = far_col = 0
    lowest = rightmost = (0, 0)
    columns: dict[bytes, int] = {}
    for part in _parts(fh, b"<c", _MAX_CARRY):
        if part is None or _UNUSUAL.search(part):
            return None
        found = _CELL.findall(part)         # (letters, digits, content child): C-speed, then C-level maxima
        if len(found) != len(_ANY_CELL.findall(part)):
            return None
        content = [f for f in found if f[2]]
        if content:
            letters = [f[0] for f in content]
            rows = [int(f[1]) for f in content]
            for name in set(letters).difference(columns):
                columns[name] = column_number(name.decode())
            cols = list(map(columns.__getitem__, letters))
            top, wide = max(rows), max(cols)
            if top > far_row:
                i = rows.index(top)
                far_row, lowest = top, (top, cols[i])
            if wide > far_col:
                i = cols.index(wide)
                far_col, rightmost = wide, (rows[i], wide)
    return _extent(far_row, far_col, lowest, rightmost)


def _parts(fh, mark: bytes, limit: int | None = None):
    """The XML in pieces of about _CHUNK bytes, each cut before the last `mark` in it (else before its last
    "<"), so no tag is split across two; None, and no more, once the rest held back would pass limit bytes."""
    carry = b""
    while chunk := fh.read(_CHUNK):
        buf = carry + chunk
        cut = buf.rfind(mark)
        if cut < 0:
            cut = max(buf.rfind(b"<"), 0)
        carry = buf[cut:]
        if limit is not None and len(carry) > limit:
            yield None
            return
        yield buf[:cut]
    yield carry


def _extent(far_row: int, far_col: int, lowest: tuple[int, int], rightmost: tuple[int, int]) -> Extent:
    def cell(at: tuple[int, int]) -> str:
        return f"{col_letter(at[1])}{at[0]}" if at[0] or at[1] else ""
    return Extent(far_row, far_col, cell(lowest), cell(rightmost))


def _streamed_extent(zf: zipfile.ZipFile, member: str) -> Extent:
    """The extent by a streamed XML parse (flat memory): any layout, rows and cells without an r attribute
    taking the next position, as readers do."""
    # one Python call per element (2.5 million in a 30,000-measure master): local names, no regex cache
    # lookup, the furthest cells named only at the end
    row = col = far_row = far_col = 0
    lowest = rightmost = (0, 0)
    in_cell = counted = False
    columns: dict[str, int] = {}
    ref = _REF.fullmatch

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row, col, far_row, far_col, lowest, rightmost, in_cell, counted
        if ":" in name:
            name = name.rsplit(":", 1)[-1]
        if name == "c":
            m = ref(attrs.get("r", ""))
            if m:
                letters = m[1]
                col = columns.get(letters) or columns.setdefault(letters, column_number(letters.upper()))
                row = int(m[2])
            else:
                col += 1
            in_cell, counted = True, False
        elif name == "row":
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() else row + 1
            col = 0
        elif in_cell and not counted and name in CONTENT:
            counted = True
            if row > far_row:
                far_row, lowest = row, (row, col)
            if col > far_col:
                far_col, rightmost = col, (row, col)

    def end(name: str) -> None:
        nonlocal in_cell
        if name == "c" or name[-2:] == ":c":
            in_cell = False

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with zf.open(member) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)

    return _extent(far_row, far_col, lowest, rightmost)


_TAG = re.compile(rb"<(?:[\w.-]+:)?(c|row)(\s[^>]*)?/?>")
_ANY_REF = re.compile(rb"""(?<![\w.:-])r\s*=\s*["']\s*([A-Za-z]*)([0-9]+)""")


def _lenient_extent(zf: zipfile.ZipFile, member: str) -> Extent:
    """For XML expat refuses: the furthest r of any cell or row tag (every one, as calamine takes the last of a
    repeated r), and a cell without r counted one column further; may over-count (blank cells), never under."""
    far_row = far_col = bare = 0
    lowest = rightmost = (0, 0)
    with zf.open(member) as fh:
        for part in _parts(fh, b"<"):
            for tag in _TAG.finditer(part or b""):
                refs = _ANY_REF.findall(tag[2] or b"")
                if tag[1] == b"c" and not any(letters for letters, _ in refs):
                    bare += 1
                for letters, digits in refs:
                    row, col = int(digits), column_number(letters.decode().upper()) if letters else 0
                    if row > far_row:
                        far_row, lowest = row, (row, max(col, 1))
                    if col > far_col:
                        far_col, rightmost = col, (row, col)
    if bare > far_col:
        far_col, rightmost = bare, (max(far_row, 1), bare)
    return _extent(far_row, far_col, lowest, rightmost)


SPLIT_FROM = 16 << 20      # bytes of sheet XML; from here a second process scans about half of them (the master)


def sheet_extents(path, names: list[str] | None = None) -> dict[str, Extent]:
    """{sheet: used extent} of an .xlsx/.xlsm (the named sheets, or all); {} for any other file. A large
    workbook's sheets are scanned in two processes (the sheets in two halves by size), same answers."""
    if not zipfile.is_zipfile(path):
        return {}
    with zipfile.ZipFile(path) as zf:
        book = Book(zf)
        wanted = _wanted(book, names)
        sizes = {m: zf.getinfo(m).file_size for _, m in wanted}
        if len(wanted) < 2 or sum(sizes.values()) < SPLIT_FROM or "fork" not in mp.get_all_start_methods():
            return _scan(book, wanted)
        mine: list[tuple[str, str]] = []
        theirs: list[tuple[str, str]] = []
        for name, member in sorted(wanted, key=lambda w: -sizes[w[1]]):     # the larger half-sum takes the next
            (mine if sum(sizes[m] for _, m in mine) <= sum(sizes[m] for _, m in theirs) else theirs).append((name, member))
        ctx = mp.get_context("fork")
        conn, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_scan_apart, args=(child, path, theirs), daemon=True)
        proc.start()
        child.close()
        found = _scan(book, mine)
        try:
            apart = conn.recv()
        except EOFError:
            apart = None
        proc.join()
        if apart is None:          # the other process failed: scanned here (raising what it met, if anything)
            apart = _scan(book, theirs)
        return {name: found[name] if name in found else apart[name] for name, _ in wanted}


def _scan_apart(conn, path, wanted: list[tuple[str, str]]) -> None:
    """In a forked process: the extents of some sheets, through an archive opened here (a shared file offset
    would mix the two processes' reads); sends {sheet: Extent}, or None when a scan failed."""
    try:
        with zipfile.ZipFile(path) as zf:
            got = _scan(Book(zf), wanted)
    except Exception:
        got = None
    conn.send(got)
    conn.close()


def _wanted(book: "Book", names: list[str] | None) -> list[tuple[str, str]]:
    """(sheet, member) of the named sheets (or all) that the archive holds; none without a workbook part."""
    listed = book.zf.namelist()
    if "xl/workbook.xml" not in listed:
        return []
    return [(name, member) for name, member in book.members().items()
            if (names is None or name in names) and member in listed]


class Book:
    """An .xlsx archive already open, for the checks that each look into it (the used-range scan, then the
    formula scan): where its sheets are, and a sheet's XML, each read once. Only what was read is kept: a
    read that failed is tried again on the next use, failing as it did."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self._members: dict[str, str] | None = None
        self._xml: dict[str, bytes] = {}

    def members(self) -> dict[str, str]:
        """sheet_members of the archive."""
        if self._members is None:
            self._members = sheet_members(self.zf)
        return self._members

    def xml(self, member: str) -> bytes:
        """One member's XML, whatever its size (the caller has checked the archive's unzipped size)."""
        if member not in self._xml:
            self._xml[member] = self.zf.read(member)
        return self._xml[member]

    def small_xml(self, member: str) -> bytes | None:
        """The member's XML when it fits in one chunk of the scan (so no more memory than streaming it), else None."""
        return self.xml(member) if self.zf.getinfo(member).file_size <= _CHUNK else None


def book_extents(book: Book, names: list[str] | None = None) -> dict[str, Extent]:
    """sheet_extents of an archive already open ({} when it holds no workbook): a reader opens each file once."""
    return _scan(book, _wanted(book, names))


def _scan(book: Book, sheets: list[tuple[str, str]]) -> dict[str, Extent]:
    """{sheet: used extent} of the given (sheet, member) pairs of an open archive."""
    return {name: used_extent(book.zf, member, book.small_xml(member)) for name, member in sheets}


_FORMULA_REST = re.compile(rb'<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v>([^<]*)</v>|<v\s*/>)?\s*</c>')
_CELL_OPEN = re.compile(rb'<c\b([^>]*)>\s*')
_CELL_REF = re.compile(rb'\br="([A-Za-z]+[0-9]+)"')
_TEXT_RESULT = re.compile(rb'\bt="str"')


def uncomputed_formulas(path, names: list[str] | None = None) -> dict[str, list[str]]:
    """{sheet: cells} of the formulas saved without a result (a workbook written by a program that does not
    calculate, as openpyxl does) in the named sheets (or all): their value is unknown, and a reader would take
    it for a blank cell."""
    try:
        if not zipfile.is_zipfile(path):
            return {}
        with zipfile.ZipFile(path) as zf:
            book = Book(zf)
            out = {}
            for name, member in _wanted(book, names):
                data = book.xml(member)
                if b"<f" not in data:
                    continue
                cells = [_CELL_REF.search(attrs) for attrs in _without_result(data)
                         if not _TEXT_RESULT.search(attrs)]
                if cells:
                    out[name] = [c[1].decode().upper() for c in cells if c]
            return out
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return {}            # not an .xlsx layout we can inspect: the reader decides


def _without_result(data: bytes):
    """The attributes of each <c> whose formula has no result (<v> absent or empty), found from each <f (a master
    holds a million cells and thirty thousand formulas: matching from every <c took 0.14 s, from <f 0.02)."""
    for m in _FORMULA_REST.finditer(data):
        if (m[1] or b"").strip():
            continue
        start = data.rfind(b"<c", 0, m.start())
        opening = _CELL_OPEN.fullmatch(data, start, m.start()) if start >= 0 else None
        if opening is not None:           # the <f opens its cell, as the cell's pattern required
            yield opening[1]


MASTER_MAX_CELLS = 5_000_000     # a 3,000-measure master uses about 100,000 cells on its largest sheet


def refuse_far_content(path, what: str = "台账") -> None:
    """LedgerError naming the cell when a sheet's content stretches its range past MASTER_MAX_CELLS
    (one character in XFD20000 would make the reader allocate 327 million cells)."""
    try:
        extents = sheet_extents(path)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, expat.ExpatError):
        return              # not an .xlsx layout we can inspect: the reader decides
    for sheet, used in extents.items():
        if used.cells > MASTER_MAX_CELLS:
            far = used.far_cells()
            raise LedgerError(kind="ledger-far-cells", where=Location(file=str(path), sheet=sheet, cell=far.split("、")[0]),
                              what=what, name=path.name, sheet=sheet, far=far, span=used.span, rows=used.rows,
                              columns=used.columns)
