"""The measures of one ledger sheet, read cell by cell as an office keeps them, with every cell booked."""
from __future__ import annotations

from .. import vocab
from ..errors import LedgerError
from ..model import LEDGER_COLUMNS, CellUse, Lexicon, Measure, ReadAccount, ReadLayout
from ..rules import normalize
from ..rules.lexicon import NONE
from . import read_account
from .ledger_header import (
    _fill_defaults,
    _Header,
    classify_header,
    duplicate_message,
    fill_merged,
    find_header,
    merged_note,
    required_columns_for,
    two_row_header,
)
from .ledger_owners import _owners, _role_notes, _units
from .sheets import cell_name


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
    fields = sorted(set(head.fields.values()))
    watched = sorted({c for c, *_ in head.office} | set(head.computed) | {other for _, _, other in head.duplicates})
    rows_of: dict[int, list[int]] = {c: [] for c in watched}      # the filled rows of each column listed below
    read, filled = 0, normalize.filled
    for r in range(h, len(rows)):           # one pass: from the header row on, rows with a problem left out
        if r in left_out:
            continue
        row = rows[r]
        n = len(row)
        read += sum(1 for c in fields if c < n and filled(row[c]))
        for c in watched:
            if c < n and filled(row[c]):
                rows_of[c].append(r + 1)
    account.read += read
    for c, _, kind, params in head.office:
        if rows_of[c]:
            account.kept.append(CellUse(kind, sheet, c + 1, tuple(rows_of[c]), params))
    for c in head.computed:
        if rows_of[c]:
            account.unused.append(CellUse(read_account.UNUSED_COMPUTED, sheet, c + 1, tuple(rows_of[c]),
                                          (vocab.HELPER_COLUMNS[c - head.computed[0]],)))
    for name, read_col, other in head.duplicates:
        if rows_of[other]:
            account.unused.append(CellUse(read_account.UNUSED_DUPLICATE, sheet, other + 1, tuple(rows_of[other]),
                                          (name, cell_name(h + 1, read_col + 1))))
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


# How a cell of each plain kind of column is read (ValueError: the cell's problem); the other kinds (id, units,
# deadline, status, item type, mark) have their own rule below.
PLAIN_READERS = {"text": normalize.clean_text, "hierarchy": normalize.clean_text, "evidence": normalize.evidence_text,
                 "number": normalize.amount}


def parse_measures(rows: list[list], where: str, merged: list = (), unit_map: dict | None = None,
                   problems: list[str] | None = None, *, sheet: str = vocab.SHEET_LEDGER,
                   account: ReadAccount | None = None, earlier: dict[str, tuple[str, int]] | None = None,
                   texts: dict[tuple[str, ...], tuple[str, str]] | None = None, words: Lexicon = NONE,
                   ) -> tuple[dict[str, Measure], ReadLayout, dict[str, int], dict[str, object], list[str]]:
    """Measures from raw sheet rows as an office keeps them (title rows, header variants, merged
    hierarchy cells, collective unit names mapped by config). Every bad cell is named by row and column:
    LedgerError, or appended to `problems` when given (rows with problems are left out). Every non-empty
    cell is booked in `account`; `earlier` ({编号: (sheet, row)}) holds the ids of sheets read before this one,
    `texts` the hierarchy texts they hold (variant_text)."""
    h, _ = find_header(rows, *required_columns_for(where, words), words=words)
    original = rows
    rows, sub = two_row_header(rows, h, merged, words)
    head = classify_header(rows, h, sheet, words)
    if head.duplicates:
        found_columns = [duplicate_message(where, rows, h, *d, sub=sub) for d in head.duplicates]
        if problems is None:
            raise LedgerError(kind="ledger-columns-repeated", lines=found_columns)
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
    numbers = {c.header for c in LEDGER_COLUMNS if c.kind == "number"}
    filled = fill_merged(rows, merged, h, {n: c for n, c in (cols | office_cols).items() if n not in numbers})
    _fill_defaults(rows, h, cols, office_cols, words)
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
    for (r0, c0), (r1, c1) in merged:     # one amount merged over n measures would be counted n times
        for name in sorted(n for n in numbers if n in cols and c0 <= cols[n] <= c1 and h < r0 < r1):
            span = f"{cell_name(r0 + 1, cols[name] + 1)}:{cell_name(r1 + 1, cols[name] + 1)}"
            found.append(f"{where}第{r0 + 1}行“{name}”列（{span}）是跨{r1 - r0 + 1}行的合并单元格：一个金额分不到"
                         f"{r1 - r0 + 1}条措施上，按每行计入会重复统计。请取消合并，在每条措施所在行分别填写各自的金额"
                         f"（不涉及金额的留空），再运行。")

    def get(row, name):
        c = cols.get(name)
        return row[c] if c is not None and c < len(row) else None

    levels = [n for n in (vocab.THEME, vocab.KEY_PROBLEM, vocab.ITEM) if n in cols]
    edges: set[tuple[str, int]] = set()   # (column, the upper row of two) already said: each edge once
    for (r0, c0), (r1, c1) in merged:     # one merged 事项 is one item: its rows cannot sit under two 重点问题
        for i, name in enumerate(levels):
            if not (h < r0 < r1 and c0 <= cols[name] <= c1):
                continue
            for upper in levels[:i]:
                first = normalize.clean_key(get(rows[r0], upper))
                other = next((r for r in range(r0 + 1, r1 + 1) if normalize.clean_key(get(rows[r], upper)) != first), None)
                if other is not None:
                    span = f"{cell_name(r0 + 1, cols[name] + 1)}:{cell_name(r1 + 1, cols[name] + 1)}"
                    found.append(f"{where}“{name}”列的合并单元格{span}跨了两个{upper}（第{r0 + 1}行是“"
                                 f"{normalize.clean_text(get(rows[r0], upper))}”，第{other + 1}行是“"
                                 f"{normalize.clean_text(get(rows[other], upper))}”）：一个{name}只属于一个{upper}，"
                                 f"程序无法判断这几行各属哪一个，按行统计会多算或少算。请调整合并范围，使它只覆盖同一"
                                 f"{upper}下的行，再运行。")
                    break
            below = levels[i + 1] if i + 1 < len(levels) else None
            for inside, outside in ((r1, r1 + 1), (r0, r0 - 1)):   # its edge cuts a 事项 typed on each row in two
                if below is None or not h < outside < len(rows) or (name, min(inside, outside)) in edges:
                    continue
                same = lambda field: normalize.clean_key(get(rows[inside], field)) == normalize.clean_key(
                    get(rows[outside], field))
                if (normalize.clean_key(get(rows[inside], below)) and same(below) and not same(name)
                        and (vocab.ITEM_TYPE not in cols or same(vocab.ITEM_TYPE))):
                    edges.add((name, min(inside, outside)))
                    span = f"{cell_name(r0 + 1, cols[name] + 1)}:{cell_name(r1 + 1, cols[name] + 1)}"
                    found.append(f"{where}“{name}”列的合并单元格{span}把{below}“"
                                 f"{normalize.clean_text(get(rows[inside], below))}”分到了两个{name}下（第{inside + 1}行属“"
                                 f"{normalize.clean_text(get(rows[inside], name))}”，第{outside + 1}行属“"
                                 f"{normalize.clean_text(get(rows[outside], name))}”），这个{below}会按两个统计。"
                                 f"请调整合并范围，使同一{below}的各行属于同一{name}；如确是两个不同的{below}，"
                                 f"请把文字写得不同，再运行。")

    def item_key(row) -> tuple[str, str]:
        return normalize.clean_key(get(row, vocab.KEY_PROBLEM)), normalize.clean_key(get(row, vocab.ITEM))

    typed_types: dict[tuple[str, str], set[str]] = {}     # the 事项类型 written on some row of each 事项
    for row in rows[h + 1:]:
        if normalize.item_type(get(row, vocab.ITEM_TYPE), words):
            typed_types.setdefault(item_key(row), set()).add(normalize.item_type(get(row, vocab.ITEM_TYPE), words) or "")
    blank_type: list[str] = []

    seen_paths: dict[tuple, str] = {}      # variant_text of a (column, path as written) already judged on this sheet
    has_text = normalize.filled
    for r in range(h + 1, len(rows)):
        row = rows[r]
        if not any(map(has_text, row)):
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
            deadline = normalize.deadline(get(row, vocab.DEADLINE), words)
        except ValueError as exc:
            found.append(f"{at(vocab.DEADLINE)}{exc}。")
            deadline = None
        status = normalize.status(get(row, vocab.STATUS), words)
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
        item_type = normalize.item_type(get(row, vocab.ITEM_TYPE), words)
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
        plain: dict[str, object] = {}
        for column in LEDGER_COLUMNS:
            if column.kind in PLAIN_READERS:
                try:
                    plain[column.attr] = PLAIN_READERS[column.kind](get(row, column.header))
                except ValueError as exc:
                    found.append(f"{at(column.header)}{exc}。")
        for path in ([vocab.THEME], [vocab.KEY_PROBLEM], [vocab.KEY_PROBLEM, vocab.ITEM]):
            name = path[-1]
            if name in cols and len(found) == before:
                written = (name, *(get(row, n) for n in path))     # the same words give the same answer:
                variant = seen_paths.get(written)                  # the first of their key is registered
                if variant is None:
                    variant = seen_paths[written] = variant_text(texts, name, list(written[1:]), sheet,
                                                                 cell_name(excel_row, cols[name] + 1))
                if variant:
                    found.append(f"{at(name)}{variant}")
        if len(found) > before:
            continue
        left_out.discard(r)
        measures[mid] = Measure(
            id=mid,
            item_type=item_type or vocab.SPECIFIC,
            reform=reform,
            lead_unit=lead,
            co_units=co,
            deadline=deadline,
            status=status or vocab.NOT_STARTED,
            row=excel_row,
            extra={key: row[c] for key, c in office_cols.items() if c < len(row) and row[c] not in (None, "")},
            **plain,
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
        raise LedgerError(kind="ledger-problems-many" if len(found) > 20 else "ledger-problems", count=len(found),
                          lines=found[:20], more=len(found) - 20)
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
