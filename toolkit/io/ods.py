"""The merged cells of an OpenDocument spreadsheet (.ods, WPS/LibreOffice), which calamine does not report:
streamed from content.xml, in calamine's form ((first row, first col), (last row, last col)), 0-based."""
from __future__ import annotations

import zipfile
from xml.parsers import expat

_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TABLE, _ROW = f"{_NS} table", f"{_NS} table-row"
_CELLS = {f"{_NS} table-cell", f"{_NS} covered-table-cell"}
_NAME, _ROWS_REPEATED, _COLS_REPEATED = f"{_NS} name", f"{_NS} number-rows-repeated", f"{_NS} number-columns-repeated"
_ROWS_SPANNED, _COLS_SPANNED = f"{_NS} number-rows-spanned", f"{_NS} number-columns-spanned"


def merged_ranges(path) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """{sheet: merged ranges} of an .ods file ({} for any other file or one that cannot be parsed)."""
    try:
        if not zipfile.is_zipfile(path):
            return {}
        with zipfile.ZipFile(path) as zf:
            if "content.xml" not in zf.namelist():
                return {}
            with zf.open("content.xml") as fh:
                return _parse(fh)
    except (OSError, zipfile.BadZipFile, expat.ExpatError, ValueError):
        return {}


def _parse(fh) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    out: dict[str, list] = {}
    state = {"sheet": None, "depth": 0, "row": -1, "col": 0, "repeat": 1}

    def start(tag, attrs):
        if tag == _TABLE:
            state["depth"] += 1
            if state["depth"] == 1:
                state.update(sheet=attrs.get(_NAME, ""), row=-1)
                out.setdefault(state["sheet"], [])
        elif state["depth"] != 1:
            return
        elif tag == _ROW:
            state.update(row=state["row"] + 1, col=0, repeat=int(attrs.get(_ROWS_REPEATED, 1)))
        elif tag in _CELLS:
            rows, cols = int(attrs.get(_ROWS_SPANNED, 1)), int(attrs.get(_COLS_SPANNED, 1))
            if rows > 1 or cols > 1:
                r, c = state["row"], state["col"]
                out[state["sheet"]].append(((r, c), (r + rows - 1, c + cols - 1)))
            state["col"] += int(attrs.get(_COLS_REPEATED, 1))

    def end(tag):
        if tag == _TABLE:
            state["depth"] -= 1
        elif tag == _ROW and state["depth"] == 1:
            state["row"] += state["repeat"] - 1

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.ParseFile(fh)
    return {sheet: ranges for sheet, ranges in out.items() if ranges}
