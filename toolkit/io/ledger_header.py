"""Finding and sorting a ledger sheet's header: the row, each column's field or office key, two-row headers.

Also the sheet-wide fills that make every later row complete: merged cells filled down and a
profile's default for a hierarchy column the sheet leaves out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import vocab
from ..errors import HeaderError, LedgerError
from ..model import LEDGER_COLUMNS, Lexicon
from ..rules import normalize
from ..rules.header_fit import OPTIONAL, REQUIRED, header_aliases, required_columns  # noqa: F401  (their old home)
from ..rules.lexicon import NONE
from ..words import render as render_words
from . import read_account
from .sheets import cell_name

HEADER_SCAN_ROWS = 30


def _header_names(row: list, aliases: dict[str, str]) -> dict[str, int]:
    """{canonical header: 0-based col} of one row (first occurrence wins)."""
    cols: dict[str, int] = {}
    for c, v in enumerate(row):
        key = normalize.clean_header(v)
        if key:
            cols.setdefault(aliases.get(key, key), c)
    return cols


def find_header(rows: list[list], required: list[str], where: str,
                optional: list[str] | None = None, words: Lexicon = NONE) -> tuple[int, dict[str, int]]:
    """Locate the header row among the first rows; returns (0-based index, {header: 0-based col}).

    With `optional` given (an office's ledger), header variants (vocab.HEADER_ALIASES) are accepted
    and 序号 is the id when there is no 编号 column; spaces, line breaks and quotes never matter.
    The row that matches most required columns is the header; if it lacks some, HeaderError names
    them and the row."""
    aliases = header_aliases(list(required) + list(optional), words) if optional is not None else {}
    best, best_hits = None, 0
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        names = _header_names(row, aliases)
        if aliases and vocab.ID in required and vocab.ID not in names and vocab.ROW_NUMBER in names:
            names[vocab.ID] = names.pop(vocab.ROW_NUMBER)
        hits = sum(1 for h in required if h in names)
        if hits == len(required):
            return r, names
        if hits > best_hits:
            best, best_hits = (r, names), hits
    if best and best_hits >= max(2, len(required) // 2):
        r, names = best
        missing = [h for h in required if h not in names]
        raise HeaderError(render_words(HeaderError.kind, {"place": where, "row": r + 1, "missing": missing}), r + 1,
                          missing)
    raise LedgerError(kind="ledger-header-not-found", place=where, rows=HEADER_SCAN_ROWS,
                      columns=[f"“{h}”" for h in required])


def fill_merged(rows: list[list], merged: list, h: int, cols: dict[str, int]) -> list[str]:
    """Give every row of a vertically merged cell the merged value (any column but 编号: an office merges
    cells whose rows share the value, be it 主题 or 完成情况); returns the ranges filled."""
    fill_cols = {c for n, c in cols.items() if n != vocab.ID}
    filled = []
    for (r0, c0), (r1, c1) in merged:
        if r1 <= r0 or r0 <= h or not any(c in fill_cols for c in range(c0, c1 + 1)):
            continue
        while len(rows) <= r1:
            rows.append([])
        for r in range(r0, r1 + 1):
            if len(rows[r]) <= c1:
                rows[r] = list(rows[r]) + [None] * (c1 + 1 - len(rows[r]))
        for c in range(c0, c1 + 1):
            if c in fill_cols:
                for r in range(r0 + 1, r1 + 1):
                    rows[r][c] = rows[r0][c]
        filled.append(f"{cell_name(r0 + 1, c0 + 1)}:{cell_name(r1 + 1, c1 + 1)}")
    return sorted(filled, key=lambda ref: (re.sub(r"\d", "", ref), int(re.search(r"\d+", ref)[0])))


def merged_note(filled: list[str]) -> str:
    return (f"台账中有{len(filled)}处合并单元格（{'、'.join(filled[:5])}{'等' if len(filled) > 5 else ''}），"
            f"已按合并值读入所覆盖的每一行。")


HEADERS = [c.header for c in LEDGER_COLUMNS]         # every field a ledger sheet's column may be read as
def required_columns_for(where: str, words: Lexicon = NONE) -> tuple[list[str], str, list[str]]:
    """find_header's (required, where, optional) for an office ledger under the profile's words."""
    required, optional = required_columns(words)
    return required, where, optional


def _fill_defaults(rows: list[list], h: int, cols: dict[str, int], office_cols: dict[str, int],
                   words: Lexicon = NONE) -> None:
    """Give each profile-optional column the sheet lacks its default (a literal, or "@列名|替代": that row's
    value of another column, else the fallback), as an extra column after the last, so every later step sees a full row."""
    defaults = words.defaults
    for name in [c for c in words.optional if c not in cols and c in defaults]:
        at = max([len(r) for r in rows] + [0])
        source, _, fallback = defaults[name][1:].partition("|") if defaults[name].startswith("@") else ("", "", "")
        literal = "" if source else defaults[name]
        src = cols.get(source, office_cols.get(source))
        for r, row in enumerate(rows):
            row += [None] * (at - len(row))
            if r > h and any(normalize.clean_text(v) for v in row):
                value = normalize.clean_text(row[src]) if src is not None and src < len(row) else ""
                row.append(value or fallback or literal)
            else:
                row.append(name if r == h else None)
        cols[name] = at


@dataclass
class _Header:
    """What each column of a ledger sheet's header row is: a field, an office column, ours, or a second copy."""
    fields: dict[str, int] = field(default_factory=dict)             # field → 0-based column read
    office: list[tuple[int, str, str, tuple[str, ...]]] = field(default_factory=list)  # (col, key, kind, params)
    computed: list[int] = field(default_factory=list)                # our helper columns (recomputed)
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)   # (field, column read, other column)


def _column_has_data(rows: list[list], first: int, c: int) -> bool:
    return any(c < len(r) and normalize.clean_text(r[c]) for r in rows[first:])


def classify_header(rows: list[list], h: int, sheet: str, words: Lexicon = NONE) -> _Header:
    """Sort every column of header row h: each field is read from one column (its own name wins over a
    variant; two columns of equal claim are duplicates), the helper columns the toolkit computes are
    ours only as the run it writes, and every other column is the office's, with a key unique in the sheet."""
    aliases = header_aliases(HEADERS, words)
    header = rows[h]
    width = max([len(header)] + [len(r) for r in rows[h + 1:]])
    claims: dict[str, list[tuple[int, bool]]] = {}
    rest: list[tuple[int, str, object]] = []
    for c in range(width):
        typed = header[c] if c < len(header) else None
        key = normalize.clean_header(typed)
        name = aliases.get(key) if key else None
        if name:
            claims.setdefault(name, []).append((c, key == name))
        else:
            rest.append((c, key, typed))
    if vocab.ID not in claims:          # 序号 is the id only when there is no 编号 column
        first = next((c for c, key, _ in rest if key == vocab.ROW_NUMBER), None)
        if first is not None:
            claims[vocab.ID] = [(first, True)]
            rest = [x for x in rest if x[0] != first]
    out = _Header()
    letter = lambda c: cell_name(h + 1, c + 1)
    for name, cols in claims.items():
        exact = [c for c, own in cols if own]
        strongest = exact or [c for c, _ in cols]
        out.fields[name] = strongest[-1] if len(strongest) > 1 else strongest[0]
        for c in strongest:
            if c != out.fields[name]:
                out.duplicates.append((name, out.fields[name], c))
        for c, own in cols:
            if exact and not own:   # 完成时间 beside 完成时限: a word for the field, but the office's own column
                rest.append((c, normalize.clean_header(header[c]), header[c]))
    rest.sort()
    keys_at, n = {c: key for c, key, _ in rest}, len(vocab.HELPER_COLUMNS)
    start = next((c for c in keys_at if all(keys_at.get(c + i) == vocab.HELPER_COLUMNS[i] for i in range(n))), None)
    out.computed = list(range(start, start + n)) if start is not None else []
    reserved = set(HEADERS) | set(vocab.HELPER_COLUMNS)
    first_of: dict[str, int] = {}
    taken: set[str] = set()
    for c, key, typed in rest:
        if c in out.computed or (not key and not _column_has_data(rows, h + 1, c)):
            continue
        text = normalize.clean_text(typed)
        field_of = aliases.get(key)
        if not key:
            kind, params = read_account.KEPT_BLANK, ()
        elif field_of:
            kind, params = read_account.KEPT_ALIAS, (text, field_of, letter(out.fields[field_of]))
        elif key in vocab.HELPER_COLUMNS:
            kind, params = read_account.KEPT_OURS, (text,)
        elif key in first_of:
            kind, params = read_account.KEPT_SAME, (text, letter(first_of[key]))
        elif key == vocab.ROW_NUMBER:
            kind, params = read_account.KEPT_ROW_NUMBER, (text,)
        else:
            kind, params = read_account.KEPT_OFFICE, (text,)
        first_of.setdefault(key, c)
        base, n = key or "无表头", 1
        unique = base if key and key not in reserved else f"{base}#{n}"
        while unique in taken:
            n += 1
            unique = f"{base}#{n}"
        taken.add(unique)
        out.office.append((c, unique, kind, params))
    return out


def two_row_header(rows: list[list], h: int, merged: list, words: Lexicon = NONE) -> tuple[list[list], dict[int, str]]:
    """(rows, {0-based col: its label in the second header row}) for a header written on two rows: a header
    cell merged across columns (完成情况 over 8月 | 9月) with the columns' own labels on the row below, which
    holds nothing else. Each such column is headed by its label when the label is a field's word (责任单位 over
    牵头单位 | 配合单位), else by the merged word (a field's word claims the field, so
    two months of 完成情况 are two 完成情况 columns), else by the word and its label (联系人姓名); the row of
    labels is header, not a measure. Anything else: the rows unchanged."""
    spans = [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 == h and r1 == h and c1 > c0]
    if not spans or h + 1 >= len(rows):
        return rows, {}
    below = {c: normalize.clean_text(v) for c, v in enumerate(rows[h + 1]) if normalize.clean_text(v)}
    under = {c for c0, c1 in spans for c in range(c0, c1 + 1)}
    if not below or not set(below) <= under:
        return rows, {}
    aliases = header_aliases(HEADERS, words)
    header = list(rows[h]) + [None] * (max(under) + 1 - len(rows[h]))
    for c0, c1 in spans:
        word = normalize.clean_text(header[c0])
        for c in range(c0, c1 + 1):
            label = below.get(c, "")
            if normalize.clean_header(label) in aliases:     # 责任单位 over 牵头单位 | 配合单位: the label names its field
                header[c] = label
            else:
                header[c] = word if normalize.clean_header(word) in aliases or not label else word + label
    return [list(r) for r in rows[:h]] + [header, []] + [list(r) for r in rows[h + 2:]], {
        c: f"{cell_name(h + 2, c + 1)}“{label}”" for c, label in below.items()}


def duplicate_message(where: str, rows: list[list], h: int, name: str, a: int, b: int,
                      sub: dict[int, str] | None = None) -> str:
    """Two columns that both mean one field: name both cells (a two-row header's labels too) and the fix."""
    sub = sub or {}
    typed = lambda c: normalize.clean_text(rows[h][c]) + (f"（下一行{sub[c]}）" if c in sub else "")
    first, second = sorted((a, b))
    return (f"{where}有两列都是“{name}”：{cell_name(h + 1, first + 1)}“{typed(first)}”和"
            f"{cell_name(h + 1, second + 1)}“{typed(second)}”（其中一列可能是隐藏列或上期留下的列）。"
            f"程序无法判断哪一列是本期的，不会自行选用：请删除不用的那一列，或把它改名（如“上期{name}”，"
            f"改名后按办公室自己的列原样保留），再运行。")
