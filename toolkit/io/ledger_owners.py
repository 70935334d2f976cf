"""Who owns each measure as the ledger names them: unit cells with roles and [units] mapping, 单位填报明细, 问题研判."""
from __future__ import annotations

from .. import vocab
from ..model import Lexicon, Measure, OwnerEntry
from ..rules import normalize
from ..rules.lexicon import NONE
from .ledger_header import find_header
from .sheets import cell_name


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
                 notes: list[str] | None = None, words: Lexicon = NONE
                 ) -> tuple[dict[tuple[str, str], OwnerEntry], dict[str, str]]:
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
        entry.status = normalize.status(val(vocab.STATUS), words) or entry.status
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


def parse_judgments(rows: list[list], words: Lexicon = NONE) -> dict[tuple[str, str], str]:
    """The office's own status judgments per problem (sheet 问题研判); they win over the roll-up."""
    if not rows:
        return {}
    h, cols = find_header(rows, [vocab.KEY_PROBLEM, vocab.ITEM, vocab.JUDGMENT], f"工作表“{vocab.SHEET_JUDGMENT}”")
    out = {}
    for row in rows[h + 1:]:
        val = lambda name: row[cols[name]] if cols[name] < len(row) else None
        status = normalize.status(val(vocab.JUDGMENT), words)
        if status:
            out[(normalize.clean_text(val(vocab.KEY_PROBLEM)), normalize.clean_text(val(vocab.ITEM)))] = status
    return out


def judgment_problems(rows: list[list], measures: dict[str, Measure], name: str, words: Lexicon = NONE) -> list[str]:
    """The office's judgments in 问题研判 that would be left out unsaid: a word that is no status, or a 重点问题/事项
    the ledger no longer has (its text changed since); each named by its cell."""
    if not rows:
        return []
    h, cols = find_header(rows, [vocab.KEY_PROBLEM, vocab.ITEM, vocab.JUDGMENT], f"工作表“{vocab.SHEET_JUDGMENT}”")
    known = {(m.key_problem, "") for m in measures.values()} | {(m.key_problem, m.item) for m in measures.values()}
    out = []
    for r, row in enumerate(rows[h + 1:], h + 2):
        val = lambda field: row[cols[field]] if cols[field] < len(row) else None
        typed = normalize.clean_text(val(vocab.JUDGMENT))
        at = f"“{name}”工作表“{vocab.SHEET_JUDGMENT}”第{r}行“{vocab.JUDGMENT}”列（{cell_name(r, cols[vocab.JUDGMENT] + 1)}）"
        status = normalize.status(val(vocab.JUDGMENT), words)
        key, item = normalize.clean_text(val(vocab.KEY_PROBLEM)), normalize.clean_text(val(vocab.ITEM))
        if status is None:
            out.append(f"{at}“{typed}”无法识别，应为{'/'.join(vocab.STATUSES)}之一（或留空，按计算状态统计）。")
        elif status and (key, item) not in known:
            out.append(f"{at}的研判“{typed}”所对的{vocab.KEY_PROBLEM}“{key}”{f'、{vocab.ITEM}“{item}”' if item else ''}"
                       f"在台账中没有（台账中的文字改过了？）：请按台账中的写法改正这一行，或清空这一研判。")
    return out


def owner_problems(rows: list[list], measures: dict[str, Measure], name: str, words: Lexicon = NONE) -> list[str]:
    """The 完成情况 cells of 单位填报明细 (a unit's own status, which the office may correct there) that are no status
    word: read, each would be left out unsaid and the unit's earlier status counted."""
    if not rows:
        return []
    h, cols = find_header(rows, [vocab.ID, vocab.OWNER_UNIT, vocab.STATUS], f"工作表“{vocab.SHEET_OWNERS}”")
    out = []
    for r, row in enumerate(rows[h + 1:], h + 2):
        val = lambda field: row[cols[field]] if cols[field] < len(row) else None
        if normalize.clean_key(val(vocab.ID)) in measures and normalize.status(val(vocab.STATUS), words) is None:
            out.append(f"“{name}”工作表“{vocab.SHEET_OWNERS}”第{r}行“{vocab.STATUS}”列（{cell_name(r, cols[vocab.STATUS] + 1)}）"
                       f"“{normalize.clean_text(val(vocab.STATUS))}”无法识别，应为{'/'.join(vocab.STATUSES)}之一。")
    return out
