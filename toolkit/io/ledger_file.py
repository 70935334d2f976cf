"""The master ledger (整改台账): its records, how to read it as offices keep it, how to write it back.

Reading tolerates a title row, blank rows and the office's own extra columns; writing
updates the ledger sheet in place (extra columns untouched) and keeps it printable.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import vocab
from ..errors import HeaderError, LedgerError
from ..model import (
    CellUse,
    Decision,
    HistoryRow,
    Ledger,
    LogEntry,
    Measure,
    OwnerEntry,
    ReadAccount,
    ReadLayout,
    Review,
    SheetUse,
)
from ..rules import lexicon, normalize
from ..rules.review import conclusion, verified
from . import extent, history_db, read_account
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


def header_aliases(required: list[str]) -> dict[str, str]:
    """{variant: canonical header} for the columns asked for (vocab.HEADER_ALIASES)."""
    out = {}
    for name in required:
        for variant in vocab.HEADER_ALIASES.get(name, [name]) + lexicon.active().header_aliases.get(name, []):
            out.setdefault(normalize.clean_header(variant), name)
    return out


def find_header(rows: list[list], required: list[str], where: str,
                optional: list[str] | None = None) -> tuple[int, dict[str, int]]:
    """Locate the header row among the first rows; returns (0-based index, {header: 0-based col}).

    With `optional` given (an office's ledger), header variants (vocab.HEADER_ALIASES) are accepted
    and 序号 is the id when there is no 编号 column; spaces, line breaks and quotes never matter.
    The row that matches most required columns is the header; if it lacks some, HeaderError names
    them and the row."""
    aliases = header_aliases(list(required) + list(optional)) if optional is not None else {}
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
        raise HeaderError(f"{where}第{r + 1}行表头缺少列：{'、'.join(missing)}。"
                          f"请补上这些列（列名须与模板一致，常见别名见使用说明）后再试。", r + 1, missing)
    raise LedgerError(f"{where}前{HEADER_SCAN_ROWS}行中找不到表头（应含{'、'.join(f'“{h}”' for h in required)}等列）。"
                      f"请确认工作表未被改名或表头未被删除。")




def _fill_merged(rows: list[list], merged: list, h: int, cols: dict[str, int]) -> list[str]:
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


def _units(value, where, unit_map: dict[str, list[str]], problems: list[str],
           notes: list[str]) -> list[tuple[str, str]]:
    """(unit, role written beside it) in a 牵头单位/配合单位 cell, aliases and collective names replaced by the
    [units] mapping; a collective name without a mapping, or a person's name typed beside a unit (医管处 李某),
    is a problem at where() (no template is ever made for it)."""
    out: list[tuple[str, str]] = []
    for name, role in normalize.unit_roles(value):
        if name in unit_map:
            mapped = [normalize.clean_key(u) for u in unit_map[name]]
            notes.append(f"“{name}”按配置[units]读作{'、'.join(mapped)}")
        elif normalize.is_collective(name):
            problems.append(f"{where()}“{name}”是对多个单位的统称，不是一个责任单位。请改为具体单位名称，"
                            f"或在配置文件[units]中写明它指哪些单位，如：\"{name}\" = [\"单位甲\", \"单位乙\"]。")
            continue
        elif normalize.looks_like_person(name):
            problems.append(f"{where()}“{normalize.clean_text(value)}”中的“{name}”像是人名而不是单位，未当作责任单位"
                            f"（否则会多出一个单位并单独收到填报模板）。请删去人名（责任人可写在“{vocab.LEADER}”或"
                            f"“{vocab.REMARK}”列）；如“{name}”确是单位，请在配置文件[units]中写 \"{name}\" = \"{name}\"。")
            continue
        else:
            mapped = [name]
        for u in mapped:
            if u and u not in [x for x, _ in out]:
                out.append((u, role))
    return out


def _owners(lead_cell: list[tuple[str, str]], co_cell: list[tuple[str, str]], cell: str,
            roles: dict[str, list[str]]) -> tuple[str, list[str]]:
    """(lead, co-units) from both unit cells: a role written beside a name decides (医政处（配合） in the
    牵头单位 column is a co-unit), else the first unit of the 牵头单位 column leads. roles collects the cells
    whose role marks changed who leads, for the read notes."""
    marked = [u for u, r in lead_cell + co_cell if r == vocab.ROLE_LEAD]
    plain = [u for u, r in lead_cell if r != vocab.ROLE_CO]
    lead = (marked or plain or [""])[0]
    if any(r for _, r in lead_cell + co_cell):
        roles.setdefault("marked", []).append(cell)
    if lead and lead_cell and lead != lead_cell[0][0]:
        roles.setdefault("moved", []).append(f"{cell}：{lead_cell[0][0]}计为配合，{lead}牵头")
    if len(set(marked)) > 1:
        roles.setdefault("several", []).append(f"{cell}：{'、'.join(marked)}")
    co: list[str] = []
    for u, _ in lead_cell + co_cell:
        if u != lead and u not in co:
            co.append(u)
    return lead, co


def _role_notes(roles: dict[str, list[str]]) -> list[str]:
    """The read notes saying how written roles were read."""
    shown = lambda cells: "、".join(cells[:5]) + (f"等{len(cells)}处" if len(cells) > 5 else "")
    out = []
    if roles.get("marked"):
        out.append(f"责任单位旁写的（{vocab.ROLE_LEAD}）（{vocab.ROLE_CO}）按角色读取，不是另外的单位"
                   f"（{shown(roles['marked'])}）。")
    if roles.get("moved"):
        out.append(f"“{vocab.LEAD_UNIT}”列中标为（{vocab.ROLE_CO}）的单位计为配合单位（{shown(roles['moved'])}）。")
    if roles.get("several"):
        out.append(f"一条措施标了几个（{vocab.ROLE_LEAD}），第一个计为牵头单位，其余计为配合（{shown(roles['several'])}）。")
    return out


def merged_note(filled: list[str]) -> str:
    return (f"台账中有{len(filled)}处合并单元格（{'、'.join(filled[:5])}{'等' if len(filled) > 5 else ''}），"
            f"已按合并值读入所覆盖的每一行。")


REQUIRED = [c for c in vocab.COLUMNS if c not in vocab.OPTIONAL_COLUMNS]


def required_columns() -> tuple[list[str], list[str]]:
    """(required, optional) office columns under the profile in force (督查督办 has no 主题/重点问题 hierarchy)."""
    extra = lexicon.active().optional
    return [c for c in REQUIRED if c not in extra], vocab.OPTIONAL_COLUMNS + [c for c in extra if c in REQUIRED]


def required_columns_for(where: str) -> tuple[list[str], str, list[str]]:
    """find_header's (required, where, optional) for an office ledger under the profile in force."""
    required, optional = required_columns()
    return required, where, optional


def _fill_defaults(rows: list[list], h: int, cols: dict[str, int], office_cols: dict[str, int]) -> None:
    """Give each profile-optional column the sheet lacks its default (a literal, or "@列名|替代": that row's
    value of another column, else the fallback), as an extra column after the last, so every later step sees a full row."""
    defaults = lexicon.active().defaults
    for name in [c for c in lexicon.active().optional if c not in cols and c in defaults]:
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


def classify_header(rows: list[list], h: int, sheet: str) -> _Header:
    """Sort every column of header row h: each field is read from one column (its own name wins over a
    variant; two columns of equal claim are duplicates), the helper columns the toolkit computes are
    ours only as the run it writes, and every other column is the office's, with a key unique in the sheet."""
    aliases = header_aliases(vocab.COLUMNS)
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
    reserved = set(vocab.COLUMNS) | set(vocab.HELPER_COLUMNS)
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


def two_row_header(rows: list[list], h: int, merged: list) -> tuple[list[list], dict[int, str]]:
    """(rows, {0-based col: its label in the second header row}) for a header written on two rows: a header
    cell merged across columns (完成情况 over 8月 | 9月) with the columns' own labels on the row below, which
    holds nothing else. Each such column is headed by the merged word (a field's word claims the field, so
    two months of 完成情况 are two 完成情况 columns), else by the word and its label (联系人姓名); the row of
    labels is header, not a measure. Anything else: the rows unchanged."""
    spans = [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 == h and r1 == h and c1 > c0]
    if not spans or h + 1 >= len(rows):
        return rows, {}
    below = {c: normalize.clean_text(v) for c, v in enumerate(rows[h + 1]) if normalize.clean_text(v)}
    under = {c for c0, c1 in spans for c in range(c0, c1 + 1)}
    if not below or not set(below) <= under:
        return rows, {}
    aliases = header_aliases(vocab.COLUMNS)
    header = list(rows[h]) + [None] * (max(under) + 1 - len(rows[h]))
    for c0, c1 in spans:
        word = normalize.clean_text(header[c0])
        for c in range(c0, c1 + 1):
            label = below.get(c, "")
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


def _account_cells(account: ReadAccount, sheet: str, rows: list[list], h: int, head: _Header,
                   left_out: set[int]) -> None:
    """Book every non-empty cell of one ledger sheet: title and field cells read, office columns kept,
    the rest not used with its reason."""
    title_seen = False
    for r in range(h):
        for c, v in enumerate(rows[r]):
            if normalize.clean_text(v):
                if title_seen:
                    account.unused.append(CellUse(read_account.UNUSED_ABOVE, sheet, c + 1, (r + 1,),
                                                  (normalize.clean_text(v),)))
                else:
                    account.read += 1
                    title_seen = True
    full = lambda c, first: tuple(r + 1 for r in range(first, len(rows))
                                  if c < len(rows[r]) and normalize.clean_text(rows[r][c]) and r not in left_out)
    fields = set(head.fields.values())
    account.read += sum(1 for c in fields for r in range(h, len(rows))
                        if c < len(rows[r]) and normalize.clean_text(rows[r][c]) and r not in left_out)
    for c, _, kind, params in head.office:
        cells = full(c, h)
        if cells:
            account.kept.append(CellUse(kind, sheet, c + 1, cells, params))
    for c in head.computed:
        cells = full(c, h)
        if cells:
            account.unused.append(CellUse(read_account.UNUSED_COMPUTED, sheet, c + 1, cells,
                                          (vocab.HELPER_COLUMNS[c - head.computed[0]],)))
    for name, read, other in head.duplicates:
        cells = full(other, h)
        if cells:
            account.unused.append(CellUse(read_account.UNUSED_DUPLICATE, sheet, other + 1, cells,
                                          (name, cell_name(h + 1, read + 1))))
    by_col: dict[int, list[int]] = {}
    for r in sorted(left_out):
        for c, v in enumerate(rows[r]):
            if normalize.clean_text(v):
                by_col.setdefault(c, []).append(r + 1)
    for c, rs in sorted(by_col.items()):
        account.unused.append(CellUse(read_account.UNUSED_PROBLEM_ROW, sheet, c + 1, tuple(rs)))


def variant_text(texts: dict[tuple[str, ...], tuple[str, str]], name: str, path: list, sheet: str,
                 cell: str) -> str:
    """The problem when a 主题/重点问题/事项 text differs from one already read only by what nobody sees or
    reads as a difference (spaces, full/half width): grouped by its exact text, it would be counted twice."""
    text = normalize.clean_text(path[-1])
    key = (name, *(normalize.clean_key(v) for v in path))
    first = texts.setdefault(key, (text, f"{sheet}!{cell}"))
    if first[0] == text:
        return ""
    where = first[1].split("!", 1)[1] if first[1].startswith(f"{sheet}!") else f"工作表“{first[1].replace('!', '”', 1)}"
    return (f"“{text}”与{where}“{first[0]}”只差空格或全角/半角字符，程序会把它们算作两个不同的{name}分别统计。"
            f"请把两处改成完全相同的文字（可从{where}复制），再运行。")


def parse_measures(rows: list[list], where: str, merged: list = (), unit_map: dict | None = None,
                   problems: list[str] | None = None, *, sheet: str = vocab.SHEET_LEDGER,
                   account: ReadAccount | None = None, earlier: dict[str, tuple[str, int]] | None = None,
                   texts: dict[tuple[str, ...], tuple[str, str]] | None = None,
                   ) -> tuple[dict[str, Measure], ReadLayout, dict[str, int], dict[str, object], list[str]]:
    """Measures from raw sheet rows as an office keeps them (title rows, header variants, merged
    hierarchy cells, collective unit names mapped by config). Every bad cell is named by row and column:
    LedgerError, or appended to `problems` when given (rows with problems are left out). Every non-empty
    cell is booked in `account`; `earlier` ({编号: (sheet, row)}) holds the ids of sheets read before this one,
    `texts` the hierarchy texts they hold (variant_text)."""
    h, _ = find_header(rows, *required_columns_for(where))
    original = rows
    rows, sub = two_row_header(rows, h, merged)
    head = classify_header(rows, h, sheet)
    if head.duplicates:
        found_columns = [duplicate_message(where, rows, h, *d, sub=sub) for d in head.duplicates]
        if problems is None:
            raise LedgerError("\n".join(found_columns))
        problems += found_columns
    cols = dict(head.fields)
    extras = {key: (rows[h][c] if c < len(rows[h]) else None) for c, key, _, _ in head.office}   # header as typed
    office_cols = {key: c for c, key, _, _ in head.office}
    mapped = {}
    for name, c in sorted(cols.items(), key=lambda kv: kv[1]):
        typed = normalize.clean_text(rows[h][c]) if c < len(rows[h]) else ""
        if typed:
            mapped[typed.replace("\n", "")] = name
    rows = [list(r) for r in rows]
    filled = _fill_merged(rows, merged, h, cols | office_cols)   # an office column merged down means each row
    _fill_defaults(rows, h, cols, office_cols)
    title = next((normalize.clean_text(v) for r in rows[:h] for v in r if normalize.clean_text(v)), "")
    layout = ReadLayout(h + 1, mapped, [c for c in vocab.OPTIONAL_COLUMNS if c not in cols], filled, title)
    unit_map = {normalize.clean_key(k): v for k, v in (unit_map or {}).items()}
    measures: dict[str, Measure] = {}
    earlier = earlier if earlier is not None else {}
    texts = texts if texts is not None else {}
    found: list[str] = []
    notes: list[str] = []
    blank_status: list[str] = []
    left_out: set[int] = set()
    again: dict[str, list[str]] = {}
    roles: dict[str, list[str]] = {}

    def get(row, name):
        c = cols.get(name)
        return row[c] if c is not None and c < len(row) else None

    def item_key(row) -> tuple[str, str]:
        return normalize.clean_key(get(row, vocab.KEY_PROBLEM)), normalize.clean_key(get(row, vocab.ITEM))

    typed_types: dict[tuple[str, str], set[str]] = {}     # the 事项类型 written on some row of each 事项
    for row in rows[h + 1:]:
        if normalize.item_type(get(row, vocab.ITEM_TYPE)):
            typed_types.setdefault(item_key(row), set()).add(normalize.item_type(get(row, vocab.ITEM_TYPE)) or "")
    blank_type: list[str] = []

    for r in range(h + 1, len(rows)):
        row = rows[r]
        if not any(normalize.clean_text(v) for v in row):
            continue
        excel_row = r + 1
        at = lambda name: f"{where}第{excel_row}行“{name}”列（{cell_name(excel_row, cols[name] + 1)}）"
        before = len(found)
        left_out.add(r)
        mid = normalize.measure_id(get(row, vocab.ID))
        if not mid:
            found.append(f"{at(vocab.ID)}为空：每条措施须有唯一编号。")
            continue
        if mid in measures:
            found.append(f"{at(vocab.ID)}“{mid}”与第{measures[mid].row}行重复：编号须唯一。")
            continue
        if mid in earlier:
            again.setdefault(earlier[mid][0], []).append(f"{cell_name(excel_row, cols[vocab.ID] + 1)}“{mid}”"
                                                         f"（另见第{earlier[mid][1]}行）")
            continue
        try:
            deadline = normalize.deadline(get(row, vocab.DEADLINE))
        except ValueError as exc:
            found.append(f"{at(vocab.DEADLINE)}{exc}。")
            deadline = None
        status = normalize.status(get(row, vocab.STATUS))
        if status == "":
            blank_status.append(cell_name(excel_row, cols[vocab.STATUS] + 1))
        if status is None:
            found.append(f"{at(vocab.STATUS)}“{normalize.clean_text(get(row, vocab.STATUS))}”无法识别，应为"
                         f"{'/'.join(vocab.STATUSES)}之一。")
        for name in (vocab.KEY_PROBLEM, vocab.ITEM):
            if not normalize.clean_text(get(row, name)):
                found.append(f"{at(name)}为空：每条措施须写明所属{name}（与上一行相同时可合并单元格）。")
        units = _units(get(row, vocab.LEAD_UNIT), lambda: at(vocab.LEAD_UNIT), unit_map, found, notes)
        co_cell = (_units(get(row, vocab.CO_UNITS), lambda: at(vocab.CO_UNITS), unit_map, found, notes)
                   if vocab.CO_UNITS in cols else [])
        lead, co = _owners(units, co_cell, cell_name(excel_row, cols[vocab.LEAD_UNIT] + 1), roles)
        if not lead and len(found) == before:
            found.append(f"{at(vocab.LEAD_UNIT)}为空：每条措施须有牵头单位。" if not units else
                         f"{at(vocab.LEAD_UNIT)}的单位都标为（{vocab.ROLE_CO}）：每条措施须有一个牵头单位，"
                         f"请去掉牵头单位的（{vocab.ROLE_CO}）或写明哪个单位（{vocab.ROLE_LEAD}）。")
        item_type = normalize.item_type(get(row, vocab.ITEM_TYPE))
        if item_type is None:
            found.append(f"{at(vocab.ITEM_TYPE)}“{normalize.clean_text(get(row, vocab.ITEM_TYPE))}”应为"
                         f"{'/'.join(vocab.ITEM_TYPES)}之一。")
        elif item_type == "" and vocab.ITEM_TYPE in cols:
            others = typed_types.get(item_key(row))
            if others:     # read as 具体问题 it would be one more 事项 of another type: a wrong count
                found.append(f"{at(vocab.ITEM_TYPE)}为空，而同一事项的其他行填的是“{'、'.join(sorted(others))}”："
                             f"空白按“{vocab.SPECIFIC}”统计会多算一个事项。请填写本行的事项类型（或与上一行合并单元格），再运行。")
            else:
                blank_type.append(cell_name(excel_row, cols[vocab.ITEM_TYPE] + 1))
        reform = normalize.reform_mark(get(row, vocab.REFORM))
        if reform is None:
            found.append(f"{at(vocab.REFORM)}“{normalize.clean_text(get(row, vocab.REFORM))}”无法判断是否属于"
                         f"推动改革促进发展事项：请填“{vocab.YES}”或留空。")
        for path in ([vocab.THEME], [vocab.KEY_PROBLEM], [vocab.KEY_PROBLEM, vocab.ITEM]):
            name = path[-1]
            if name in cols and len(found) == before:
                variant = variant_text(texts, name, [get(row, n) for n in path], sheet,
                                       cell_name(excel_row, cols[name] + 1))
                if variant:
                    found.append(f"{at(name)}{variant}")
        if len(found) > before:
            continue
        left_out.discard(r)
        measures[mid] = Measure(
            id=mid,
            theme=normalize.clean_text(get(row, vocab.THEME)),
            key_problem=normalize.clean_text(get(row, vocab.KEY_PROBLEM)),
            item=normalize.clean_text(get(row, vocab.ITEM)),
            item_type=item_type or vocab.SPECIFIC,
            reform=reform,
            measure=normalize.clean_text(get(row, vocab.MEASURE)),
            leader=normalize.clean_text(get(row, vocab.LEADER)),
            lead_unit=lead,
            co_units=co,
            deadline=deadline,
            status=status or vocab.NOT_STARTED,
            progress=normalize.clean_text(get(row, vocab.PROGRESS)),
            evidence=normalize.evidence_text(get(row, vocab.EVIDENCE)),
            remark=normalize.clean_text(get(row, vocab.REMARK)),
            row=excel_row,
            extra={key: row[c] for key, c in office_cols.items() if c < len(row) and row[c] not in (None, "")},
        )
    for other, cells in again.items():     # one line per pair of sheets: a copy repeats every id
        found.append(f"{where}有{len(cells)}条措施的编号与工作表“{other}”重复（{'、'.join(cells[:3])}"
                     f"{'等' if len(cells) > 3 else ''}）：台账分在几张工作表时，编号在各表之间也须唯一。"
                     f"如果其中一张是旧副本，请删除它或把它移出台账工作簿，再运行。")
    if account is not None:
        _account_cells(account, sheet, original, h, head, left_out)
    if problems is not None:
        problems += found
    elif found:
        shown = "\n".join(found[:20]) + (f"\n……另有{len(found) - 20}处" if len(found) > 20 else "")
        raise LedgerError(f"台账有{len(found)}处需要先改正：\n{shown}")
    notes = list(dict.fromkeys(notes)) + _role_notes(roles)
    if blank_status:
        notes.append(f"“{vocab.STATUS}”列有{len(blank_status)}个空白单元格（{'、'.join(blank_status[:5])}"
                     f"{'等' if len(blank_status) > 5 else ''}），按“{vocab.NOT_STARTED}”统计；已经开展的请填写完成情况。")
    if blank_type:
        notes.append(f"“{vocab.ITEM_TYPE}”列有{len(blank_type)}个空白单元格（{'、'.join(blank_type[:5])}"
                     f"{'等' if len(blank_type) > 5 else ''}），按“{vocab.SPECIFIC}”统计；不是具体问题的请填写事项类型。")
    if filled:
        notes.insert(0, merged_note(filled))
    columns = ({k: v + 1 for k, v in cols.items()} | {key: c + 1 for key, c in office_cols.items()}
               | {vocab.HELPER_COLUMNS[i]: c + 1 for i, c in enumerate(head.computed)})
    return measures, layout, columns, extras, notes


def owners_from_measures(measures: dict[str, Measure]) -> dict[tuple[str, str], OwnerEntry]:
    """Initial per-owner state: every owner starts from the measure's own status; a sole owner's
    texts are the measure's texts."""
    owners = {}
    for m in measures.values():
        sole = not m.co_units
        for unit in m.owners:
            lead = unit == m.lead_unit
            owners[(m.id, unit)] = OwnerEntry(m.id, unit, vocab.ROLE_LEAD if lead else vocab.ROLE_CO,
                                              m.status, m.progress if lead else "",
                                              m.evidence if lead else "", m.remark if sole else "")
    return owners


def parse_owners(rows: list[list], measures: dict[str, Measure], unit_map: dict | None = None,
                 notes: list[str] | None = None) -> tuple[dict[tuple[str, str], OwnerEntry], dict[str, str]]:
    """Per-owner state from the 单位填报明细 sheet, completed for owners it does not list, and the units
    renamed in the master since they reported ({old: new}). A row whose unit no longer owns its measure
    goes to the unit it was renamed to (a [units] alias, or the one new owner of that measure when the old
    name is gone from the ledger); otherwise a note says that report is no longer counted."""
    owners = owners_from_measures(measures)
    if not rows:
        return owners, {}
    h, cols = find_header(rows, [vocab.ID, vocab.OWNER_UNIT, vocab.STATUS], f"工作表“{vocab.SHEET_OWNERS}”")
    aliases = {normalize.clean_key(k): [normalize.clean_key(u) for u in v] for k, v in (unit_map or {}).items()}
    listed: list[tuple[int, list, tuple[str, str]]] = []
    for r, row in enumerate(rows[h + 1:], h + 2):
        val = lambda name: row[cols[name]] if name in cols and cols[name] < len(row) else None
        key = (normalize.clean_key(val(vocab.ID)), normalize.clean_key(val(vocab.OWNER_UNIT)))
        if key[0] in measures and key[1]:
            listed.append((r, row, key))
    present = {key for _, _, key in listed}
    units_now = {u for m in measures.values() for u in m.owners}
    renamed: dict[str, str] = {}
    dropped: list[str] = []
    taken: set[tuple[str, str]] = set()
    for r, row, (mid, unit) in listed:
        target = unit
        if (mid, unit) not in owners:
            by_alias = [u for u in aliases.get(unit, []) if (mid, u) in owners]
            fresh = [u for u in measures[mid].owners if (mid, u) not in present]
            target = (by_alias[0] if len(by_alias) == 1 else
                      fresh[0] if unit not in units_now and len(fresh) == 1 else "")
            if not target or (mid, target) in taken:
                dropped.append(f"第{r}行措施“{mid}”的“{unit}”")
                continue
            renamed[unit] = target
        taken.add((mid, target))
        val = lambda name: row[cols[name]] if name in cols and cols[name] < len(row) else None
        entry = owners[(mid, target)]
        entry.status = normalize.status(val(vocab.STATUS)) or entry.status
        entry.submitted_at = normalize.clean_text(val(vocab.SUBMITTED_AT))
        if measures[mid].co_units:   # a sole owner's texts live in the ledger sheet only
            entry.progress = normalize.clean_text(val(vocab.PROGRESS))
            entry.evidence = normalize.evidence_text(val(vocab.EVIDENCE))
            entry.remark = normalize.clean_text(val(vocab.REMARK))
    if notes is not None:
        for old, new in renamed.items():
            how = "按配置[units]" if new in aliases.get(old, []) else "按措施编号（原单位名已不在台账中，该措施只有这一个新责任单位）"
            notes.append(f"责任单位“{old}”在台账中已改为“{new}”：其已报送的完成情况和进展{how}转给“{new}”。"
                         f"如不是改名，请在“{vocab.SHEET_OWNERS}”表中核对。")
        if dropped:
            notes.append(f"“{vocab.SHEET_OWNERS}”表中{len(dropped)}条单位填报不再计入：{'、'.join(dropped[:5])}"
                         f"{'等' if len(dropped) > 5 else ''}已不是该措施的责任单位（台账改了责任单位）。如是单位改名，"
                         f"请在配置[units]中写 \"原名称\" = \"新名称\"，其填报即转给新名称。")
    return owners, renamed


def parse_judgments(rows: list[list]) -> dict[tuple[str, str], str]:
    """The office's own status judgments per problem (sheet 问题研判); they win over the roll-up."""
    if not rows:
        return {}
    h, cols = find_header(rows, [vocab.KEY_PROBLEM, vocab.ITEM, vocab.JUDGMENT], f"工作表“{vocab.SHEET_JUDGMENT}”")
    out = {}
    for row in rows[h + 1:]:
        val = lambda name: row[cols[name]] if cols[name] < len(row) else None
        status = normalize.status(val(vocab.JUDGMENT))
        if status:
            out[(normalize.clean_text(val(vocab.KEY_PROBLEM)), normalize.clean_text(val(vocab.ITEM)))] = status
    return out


def read_ledger(path: Path, settings=None, problems: list[str] | None = None) -> Ledger:
    """Read a master ledger file as the office keeps it; LedgerError (Chinese, row+column) if it is wrong.

    settings supplies the [units] mapping (unit_map); with a `problems` list, bad rows are
    collected there and left out instead of stopping the read (used by `check`)."""
    from python_calamine import CalamineWorkbook
    path = Path(path)
    if not path.exists():
        raise LedgerError(f"找不到台账文件：{path}")
    extent.refuse_far_content(path)       # before calamine allocates a range a stray cell stretches
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception:         # calamine's reasons are English: say what it means
        what = "这是一个文件夹" if path.is_dir() else "它不是 Excel 工作簿，或已损坏、加密"
        raise LedgerError(f"无法打开台账文件“{path.name}”：{what}。请指定未加密的 .xlsx 台账文件。") from None
    names = wb.sheet_names
    hidden = [m.name for m in wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"]
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return ledger_from_sheets(lambda name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False), names,
                              path.name, settings, lambda name: wb.get_sheet_by_name(name).merged_cell_ranges or [],
                              saved, problems, hidden)


OWN_SHEETS = [vocab.SHEET_OWNERS, vocab.SHEET_JUDGMENT, vocab.SHEET_STATS, vocab.SHEET_OVERDUE, vocab.SHEET_HISTORY,
              vocab.SHEET_LOG, vocab.SHEET_PARAMS, vocab.SHEET_DECISIONS, vocab.SHEET_CHANGES, vocab.SHEET_REVIEW]


def ledger_sheets(rows_of, sheet_names: list[str], name: str, hidden, account: ReadAccount,
                  problems: list[str] | None) -> tuple[list[str], list[str]]:
    """(the sheets to read as the ledger, in workbook order; the hidden ledger copies not read). Every sheet
    whose header row has the ledger's columns is one: a ledger kept one sheet per 方面 or continued on
    整改台账(续) is read whole. A continuation sheet without a header stops the read, naming it."""
    found, partial, hidden_copies = [], {}, []
    for sheet in sheet_names:
        if sheet in OWN_SHEETS:
            continue
        try:
            h, _ = find_header(rows_of(sheet), *required_columns_for(f"“{name}”工作表“{sheet}”"))
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
        raise LedgerError(f"台账“{name}”中没有工作表“{vocab.SHEET_LEDGER}”，也没有带台账表头的工作表"
                          f"（现有：{'、'.join(sheet_names)}）。")
    read = [s for s, _ in found]
    for sheet in sheet_names:
        if sheet in read or sheet in OWN_SHEETS or sheet in hidden or sheet in [s for s, _ in hidden_copies]:
            continue
        base = next((s for s in read if sheet.startswith(s)), None)
        if base and any(normalize.clean_text(v) for row in rows_of(sheet) for v in row):
            exc = partial.get(sheet)
            lack = f"第{exc.row}行表头缺少列：{'、'.join(exc.missing)}" if exc else f"前{HEADER_SCAN_ROWS}行中没有台账表头"
            message = (f"“{name}”工作表“{sheet}”看来是“{base}”的续表，但{lack}，无法确定各列的含义。"
                       f"请把“{base}”的表头行复制到“{sheet}”的数据上方（各表按自己的表头读取），"
                       f"或把这些行移到“{base}”中，再运行。")
            if problems is None:
                raise LedgerError(message)
            problems.append(message)
    for sheet, exc in partial.items():
        account.sheets.append(SheetUse(read_account.SHEET_PARTIAL, sheet, (str(exc.row), "、".join(exc.missing))))
    account.sheets += [SheetUse(read_account.SHEET_HIDDEN_LEDGER, s, (str(h + 1),)) for s, h in hidden_copies]
    return read, [s for s, _ in hidden_copies]


def ledger_from_sheets(rows_of, sheet_names: list[str], name: str, settings=None, merged_of=None,
                       saved: str = "", problems: list[str] | None = None, hidden=(), in_place: bool = False) -> Ledger:
    """A Ledger from sheet contents (rows from A1) — a file read by calamine or a book open in Excel.
    merged_of(sheet) gives its merged ranges ((r0, c0), (r1, c1)), 0-based; hidden names the hidden sheets.
    Every sheet with the ledger's header is read, in order; with in_place (an open book written cell by
    cell) the ledger must be the one sheet 整改台账."""
    cache: dict[str, list] = {}

    def sheet(n: str) -> list:
        if n not in cache:
            cache[n] = rows_of(n) if n in sheet_names else []
        return cache[n]

    hidden = list(hidden)
    account = ReadAccount()
    read, hidden_copies = ledger_sheets(sheet, sheet_names, name, hidden, account, problems)
    if in_place and read != [vocab.SHEET_LEDGER]:
        raise LedgerError(f"台账“{name}”的整改措施在工作表{'、'.join(f'“{s}”' for s in read)}中，按钮只能在一张"
                          f"“{vocab.SHEET_LEDGER}”表上就地改写。请保存并关闭工作簿，运行一次“刷新统计”"
                          f"（python -m toolkit refresh），程序会把它们合并为一张“{vocab.SHEET_LEDGER}”表，之后即可使用按钮。")
    unit_map = getattr(settings, "unit_map", {}) or {}
    measures: dict[str, Measure] = {}
    earlier: dict[str, tuple[str, int]] = {}
    texts: dict[tuple[str, ...], tuple[str, str]] = {}
    extras: dict[str, object] = {}
    notes: list[str] = []
    layout = columns = None
    merged_refs: list[str] = []
    for s in read:
        where = f"“{name}”工作表“{s}”"
        merged = merged_of(s) if merged_of else []
        found, lay, cols, office, sheet_notes = parse_measures(sheet(s), where, merged, unit_map, problems,
                                                               sheet=s, account=account, earlier=earlier,
                                                               texts=texts)
        account.sheets.append(SheetUse(read_account.SHEET_READ, s, (str(len(found)), str(lay.header_row))))
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
    notes += [read_account.sheet_text(u) + "。" for u in account.sheets
              if u.kind in (read_account.SHEET_HIDDEN_LEDGER, read_account.SHEET_HIDDEN_READ)]
    owners, renamed = parse_owners(sheet(vocab.SHEET_OWNERS), measures, unit_map, notes)
    judgments = parse_judgments(sheet(vocab.SHEET_JUDGMENT))
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
    ledger = Ledger(measures, owners, judgments, layout.header_row, columns, layout.title, log, history,
                    normalize.clean_text(params.get(vocab.PARAM_DIGEST, "")), list(extras), others,
                    parse_decisions(sheet(vocab.SHEET_DECISIONS), measures), layout, notes, changes)
    ledger.extra_headers = extras
    ledger.hidden_sheets = [n for n in others if n in hidden]
    ledger.account = account
    ledger.sequence = sequence_of(params.get(vocab.PARAM_SEQUENCE))
    ledger.reviews, review_notes, stale = parse_reviews(sheet(vocab.SHEET_REVIEW), measures)
    ledger.reviews = {(mid, renamed.get(u, u)): replace(r, unit=renamed.get(u, u))      # a renamed unit's requests
                      for (mid, u), r in ledger.reviews.items()}
    ledger.read_notes += review_notes
    if stale or len(read) > 1 or read != [vocab.SHEET_LEDGER]:   # rewrite: what holds, in one 整改台账 sheet
        ledger.digest = ""
    notice_decisions(ledger, saved or dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    if getattr(settings, "root", None) is not None:     # earlier periods' figures: from the change history
        history_db.load_figures(ledger, settings)
    return ledger


def history_row(row: list) -> HistoryRow:
    """One 历史进度 row as read back from the sheet."""
    period, day, scope, name = (normalize.clean_text(v) for v in row[:4])
    try:
        completion = round(float(str(row[10] or 0)), 1)
    except ValueError:
        completion = 0.0
    return HistoryRow(period, day, scope, name, *(_count(v) for v in row[4:10]), completion)


def log_entry(row: list) -> LogEntry:
    """One 报送记录 row as read back from the sheet (text trimmed, the unit as a key)."""
    period, unit, received, name, archived, sha, outcome = (normalize.clean_text(v) for v in row[:7])
    counts = [_count(v) for v in (list(row[7:9]) + [0, 0])[:2]]
    return LogEntry(period, normalize.clean_key(unit), received, name, archived, sha, outcome, *counts)


def _count(value: object) -> int:
    """A count cell of our own sheets read back (1, 1.0 or '1'); anything else counts 0."""
    try:
        return int(float(str(value or 0)))
    except ValueError:
        return 0


def parse_decisions(rows: list[list], measures: dict[str, Measure]) -> dict[str, Decision]:
    """The office decisions kept in sheet 办公室认定 (for measures still in the plan)."""
    out = {}
    for row in parse_table(rows, vocab.DECISION_COLUMNS, vocab.SHEET_DECISIONS):
        mid, status = normalize.clean_key(row[0]), normalize.status(row[2])
        if mid in measures and status:
            out[mid] = Decision(mid, status, normalize.status(row[3]) or normalize.clean_text(row[3]),
                                normalize.clean_text(row[5]))
    return out


def notice_decisions(ledger: Ledger, when: str) -> None:
    """A 完成情况 in 整改台账 that differs from what the rule gives (the office's decision, else the
    owners' roll-up) was typed by the office: it becomes (or replaces) the measure's decision.
    Setting it back to the owners' roll-up withdraws the decision."""
    for m in ledger.measures.values():
        units = ledger.owners_status(m.id)
        decision = ledger.decisions.get(m.id)
        expected = decision.status if decision else units
        if m.status == expected:
            continue
        if m.status == units:
            del ledger.decisions[m.id]
            ledger.read_notes.append(f"措施“{m.id}”的完成情况改回“{units}”（与责任单位填报一致），办公室认定“{expected}”已撤销。")
            continue
        ledger.decisions[m.id] = Decision(m.id, m.status, expected, when)
        ledger.read_notes.append(f"发现办公室在台账中改动措施“{m.id}”的完成情况：“{expected}”→“{m.status}”"
                                 f"（文件保存于{when}），已记为办公室认定，单位再次报送也不会覆盖。")


def parse_table(rows: list[list], headers: list[str], sheet: str) -> list[list]:
    """Rows of one of our own log sheets, as lists in headers order (missing sheet → [])."""
    if not rows:
        return []
    h, cols = find_header(rows, headers, f"工作表“{sheet}”")
    out = []
    for row in rows[h + 1:]:
        values = [row[cols[name]] if cols[name] < len(row) else "" for name in headers]
        if any(normalize.clean_text(v) for v in values):
            out.append(["" if v is None else v for v in values])
    return out






def sequence_of(value: object) -> int:
    """记录序号 as stored in 参数 (0 for a master written before it was kept, or a cell made unreadable)."""
    text = normalize.clean_text(value)
    return int(text) if text.isdigit() else 0


def parse_reviews(rows: list[list], measures: dict) -> tuple[dict[tuple[str, str], Review], list[str], bool]:
    """The requests kept in sheet 销号审核 (for measures still in the plan), and a note naming the cell of
    every hand edit there that is not applied: a row whose 申请编号 is not the one the toolkit wrote for
    its 编号 and 单位 (copied, typed by hand; ignored, never closes anything), a hand-typed 办理情况 (put
    back), a word the toolkit does not know, 退回补充 without an opinion (left pending), a conclusion
    changed on a row already decided (put back); and whether the sheet shows what is not kept, so that
    the master is rewritten. A sheet written before 申请编号 was kept has its rows taken as they are."""
    out: dict[tuple[str, str], Review] = {}
    notes: list[str] = []
    stale = False
    if not rows:
        return out, notes, stale
    names = vocab.REVIEW_COLUMNS[:-1]
    h, cols = find_header(rows, names, f"工作表“{vocab.SHEET_REVIEW}”")
    keyed = vocab.REVIEW_KEY in cols
    names += [vocab.REVIEW_KEY] if keyed else []
    at = lambda r, name: f"“{vocab.SHEET_REVIEW}”表{cell_name(r + 1, cols[name] + 1)}单元格（第{r + 1}行“{name}”列）"
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows[h + 1:], h + 1):
        row = [raw[cols[name]] if cols[name] < len(raw) else "" for name in names]
        if not any(normalize.clean_text(v) for v in row):
            continue
        mid, unit = normalize.clean_key(row[0]), normalize.clean_key(row[1])
        typed, word = normalize.clean_text(row[4]), conclusion(row[4])
        shown = normalize.clean_text(row[6])
        state = shown if shown in vocab.REVIEW_STATES else vocab.REVIEW_PENDING
        opinion = normalize.clean_text(row[5])
        evidence = normalize.clean_text(row[3]).split(vocab.REVIEW_FILES_MARK)[0].rstrip("；;")   # the unit's own text
        if mid not in measures or not unit:
            continue
        r = Review(mid, unit, normalize.clean_text(row[2]), evidence, word, opinion, state, normalize.clean_text(row[7]))
        if keyed:
            key = normalize.clean_text(row[8])
            found = verified(r, key)
            if found is None or key in seen:
                why = (f"与第{seen[key] + 1}行的申请编号相同（复制的行）" if found is not None else
                       "申请编号为空或与该行的编号、单位不符（复制或手工添加的行）")
                notes.append(f"{at(i, vocab.REVIEW_KEY)}：措施“{mid}”（{unit or '单位为空'}）的这一行{why}，不是单位提出的"
                             f"销号申请，本次未处理、未销号任何措施，已从表中移除。销号须由责任单位报“{vocab.DONE}”申请；"
                             f"{vocab.REVIEW_KEY}、{vocab.REVIEW_STATE}由程序填写，请勿复制或改动。")
                stale = True
                continue
            seen[key] = i
            if found.state != state or (shown and shown != state):
                notes.append(f"{at(i, vocab.REVIEW_STATE)}改为“{shown or '（空）'}”未采纳：{vocab.REVIEW_STATE}由程序填写，"
                             f"措施“{mid}”（{unit}）仍为“{found.state}”。如同意销号，请在“{vocab.REVIEW_CONCLUSION}”列选择"
                             f"“{vocab.REVIEW_APPROVE}”。")
                stale = True
            r = found
        cell = at(i, vocab.REVIEW_CONCLUSION)
        decided_word = {vocab.CLOSED: vocab.REVIEW_APPROVE, vocab.REVIEW_RETURNED: vocab.REVIEW_RETURN}.get(r.state)
        if decided_word and word != decided_word:
            notes.append(f"{cell}改为“{typed or '（空）'}”未采纳：措施“{mid}”（{unit}）已办理（{r.state}），"
                         f"结论已恢复为“{decided_word}”；如需改变，请与单位沟通后由单位重新填报。")
            r.conclusion, stale = decided_word, True
        elif typed and not word:
            notes.append(f"{cell}的审核结论“{typed}”无法识别，应为{'/'.join(vocab.REVIEW_CONCLUSIONS)}之一，"
                         f"本次未处理（措施“{mid}”，{unit}）。")
            stale = True
        elif r.state == vocab.REVIEW_PENDING and word == vocab.REVIEW_RETURN and not opinion:
            notes.append(f"{cell}选择了“{vocab.REVIEW_RETURN}”，但“{vocab.REVIEW_OPINION}”为空，本次未办理（仍为"
                         f"{vocab.REVIEW_PENDING}）：请在{at(i, vocab.REVIEW_OPINION)}写明单位需补充的材料。")
        out.setdefault((mid, unit), r)
    return out, notes, stale
