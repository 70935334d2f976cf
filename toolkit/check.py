"""体检 (check): read a ledger and say how it was read, what it counts and what looks wrong — writing nothing.

An office runs it before the first distribution or whenever the figures look odd: the layout
found, the hierarchy counts, the public paragraph as it would be published, and every
suspicious cell. Also the empty master `init` gives a new office, so it starts from our layout.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import config, profile_guess, vocab
from .assessment import assess
from .documents import notices
from .errors import LedgerError, UsageError
from .io import master_file, read_account, sheets
from .io.ledger_file import merged_note, read_ledger
from .io.ledger_sheets import status_dropdown
from .model import BASE_COLUMNS, Ledger, ReadAccount, ReadLayout
from .problems import Location
from .rules import normalize, review


@dataclass
class CheckReport:
    """What `check` found in one ledger file."""
    path: Path
    layout: ReadLayout | None = None
    account: ReadAccount | None = None
    counts: dict[str, int] = field(default_factory=dict)
    paragraph: str = ""
    problems: list[str] = field(default_factory=list)      # each stops a run until fixed
    suspicious: list[str] = field(default_factory=list)    # worth a look, does not stop a run
    notes: list[str] = field(default_factory=list)         # what reading did (merged cells, [units] mapping…)
    profile_advice: list[str] = field(default_factory=list)  # unreadable under this profile: which one reads it
    words: dict[str, str] = field(default_factory=lambda: dict(vocab.NOTICE_WORDING))   # the profile's names of levels

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"台账体检：{self.path}（只读，未写任何文件）"]
        if self.layout:
            lay = self.layout
            out.append("一、读取方式")
            if lay.title:
                out.append(f"  标题行：{lay.title}（通报标题取配置 title，不取此行）")
            out.append(f"  表头在第{lay.header_row}行；列对应："
                       + "、".join(f"{typed}→{name}" if typed != name else name for typed, name in lay.mapped.items()))
            if lay.absent:
                out.append(f"  未设的可选列（按空白处理）：{'、'.join(lay.absent)}")
            if lay.merged:
                shown = "、".join(lay.merged[:8]) + ("等" if len(lay.merged) > 8 else "")
                out.append(f"  合并单元格：{len(lay.merged)}处已按合并值填入所覆盖的每一行（{shown}）")
            else:
                out.append("  合并单元格：无")
        if self.account:
            out.append("  单元格清点（每个非空单元格：读入字段、作为办公室自己的列保留，或未使用及原因）：")
            out += ["  " + line for line in read_account.lines(self.account)]
        if self.counts:
            c = self.counts
            out.append("二、层级统计")
            out.append("  " + level_line(c, self.words))
        if self.paragraph:
            out.append("三、公开进展段落（按台账现有数据计算" + ("，有问题的行未计入，仅供参考" if self.problems else "") + "）")
            out.append(f"  {self.paragraph}")
        if self.notes:
            out.append("读取说明：")
            out += [f"  - {n}" for n in self.notes]
        if self.profile_advice:
            out.append("配置方案：")
            out += [f"  {line}" for line in self.profile_advice]
        found = [("须改正", p) for p in self.problems] + [("请核实", s) for s in self.suspicious]
        out.append(f"四、需要注意的地方（{len(found)}处）" if found else "四、需要注意的地方：无")
        out += [f"  {i}. 【{kind}】{text}" for i, (kind, text) in enumerate(found, 1)]
        out.append(f"结论：有{len(self.problems)}处须先改正，否则汇总、统计和通报会在读台账时停止。" if self.problems
                   else "结论：台账可以正常使用。")
        return out


LEVEL_WORDS = ("主题称谓", "重点问题称谓", "事项称谓", "措施称谓", "计量")


def level_line(c: dict[str, int], words: dict[str, str]) -> str:
    """The 层级统计 line: the 巡视 ledger's every level, or another list's levels by its own names (each name once,
    levels it does not have left out)."""
    if all(words.get(k) == vocab.NOTICE_WORDING[k] for k in LEVEL_WORDS):
        return (f"主题{c['主题']}个；重点问题{c[vocab.KEY_PROBLEM]}个；具体问题{c[vocab.SPECIFIC]}个；"
                f"“举一反三”事项{c[vocab.DRAW_LESSONS]}个；整改意见{c[vocab.RECOMMENDATION]}条；"
                f"推动改革促进发展事项{c[vocab.REFORM]}个；整改措施{c[vocab.MEASURE]}条；责任单位{c['单位']}个")
    levels = [(words["主题称谓"], c["主题"], "个"), (words["重点问题称谓"], c[vocab.KEY_PROBLEM], "个"),
              (words["事项称谓"], c[vocab.SPECIFIC], "个"), ("“举一反三”事项", c[vocab.DRAW_LESSONS], "个"),
              ("整改意见", c[vocab.RECOMMENDATION], "条"), ("推动改革促进发展事项", c[vocab.REFORM], "个")]
    named = {words["措施称谓"]}
    parts = []
    for name, count, unit in levels:
        if count and name not in named:
            named.add(name)
            parts.append(f"{name}{count}{unit}")
    return "；".join(parts + [f"{words['措施称谓']}{c[vocab.MEASURE]}{words['计量']}", f"责任单位{c['单位']}个"])


def settings_for(target: Path | None, config_path: Path | None) -> tuple[Path, config.Settings]:
    """The ledger to check and the settings to read it with: -c's config (its master unless a file is
    given), else a config.toml beside the file or one folder up, else the defaults."""
    if config_path:
        settings = config.load(config_path)
        return Path(target or settings.master), settings
    if target is None:
        settings = config.load(None)
        return settings.master, settings
    target = Path(target)
    for folder in (target.parent, target.parent.parent):
        if (folder / config.CONFIG_NAME).exists():
            return target, config.load(folder)
    return target, config.from_dict({}, target.parent)


def check(path: Path, settings: config.Settings) -> CheckReport:
    """Read the ledger at path without writing anything and report on it."""
    report = CheckReport(Path(path), words={**vocab.NOTICE_WORDING, **settings.words})
    report.problems += config.placeholders(settings.root)     # init's neutral values the office has not filled
    try:
        ledger = read_ledger(path, settings, report.problems)
    except LedgerError as exc:           # no header, no ledger sheet, not a workbook: nothing more to say
        report.problems.append(str(exc))
        config_file = Path(settings.root) / config.CONFIG_NAME
        report.profile_advice = profile_guess.advice(path, settings.profile, settings.lexicon,
                                                     config_file if config_file.exists() else None)
        return report
    report.layout, report.account = ledger.layout, ledger.account
    report.problems += [p for p in [master_file.format_problem(path)] if p]   # a run would not write it
    shown = {merged_note(ledger.layout.merged)} | ({read_account.summary(ledger.account)} if ledger.account else set())
    report.notes = [n for n in ledger.report_notes() if n not in shown]     # merged cells and the account: in 一
    assessment = assess(ledger, settings)
    summary = assessment.summary
    report.counts = {"主题": len({m.theme for m in ledger.measures.values() if m.theme}),
                     vocab.MEASURE: len(ledger.measures), "单位": len(ledger.units),
                     **{k: summary.level(k).total for k in (vocab.KEY_PROBLEM, vocab.SPECIFIC, vocab.DRAW_LESSONS,
                                                            vocab.RECOMMENDATION, vocab.REFORM)}}
    if ledger.measures:
        report.paragraph = notices.public_summary(ledger, settings, assessment)
    partial = [read_account.sheet_text(u) + "。" for u in (ledger.account.sheets if ledger.account else [])
               if u.kind == read_account.SHEET_PARTIAL]
    report.suspicious = (partial + suspicious(ledger) + alias_mistakes(ledger, settings.unit_map)
                         + order_strangers(ledger, settings)
                         + ([] if settings.review_required else review.pending_while_off(ledger)))
    return report


def suspicious(ledger: Ledger) -> list[str]:
    """What is legal but probably a mistake: blank cells that should say something, one unit spelt
    several ways, an item under two types or problems, a title row that says something else."""
    out = []
    cols = ledger.columns
    blank: dict[str, list[str]] = {}
    for m in ledger.measures.values():
        for name, value in ((vocab.THEME, m.theme), (vocab.MEASURE, m.measure), (vocab.LEADER, m.leader)):
            if name in cols and not value:
                blank.setdefault(name, []).append(sheets.cell_name(m.row, cols[name]))
    for name, cells in blank.items():
        out.append(f"“{name}”列有{len(cells)}个空白单元格（{'、'.join(cells[:6])}{'等' if len(cells) > 6 else ''}）。")
    out += [n for n in ledger.read_notes if n.startswith(f"“{vocab.STATUS}”列有")]   # blank 完成情况 counts as 未启动
    uses = Counter(u for m in ledger.measures.values() for u in m.owners)
    for pair in spelling_pairs(ledger.units, uses):
        common, rare = canonical_first(pair, uses)
        out.append(f"责任单位“{common}”（{uses[common]}条措施）与“{rare}”（{uses[rare]}条）可能是同一单位的不同写法："
                   f"如是，请统一写法，或在配置[units]中把少用的写法指向常用的：\"{rare}\" = \"{common}\"。")
    kinds: dict[tuple[str, str], set[str]] = {}
    parents: dict[str, set[str]] = {}
    for m in ledger.measures.values():
        kinds.setdefault((m.key_problem, m.item), set()).add(m.item_type)
        parents.setdefault(m.item, set()).add(m.key_problem)
    for (key, item), types in kinds.items():
        if len(types) > 1:
            out.append(f"事项“{item[:30]}”的事项类型不一致（{'、'.join(sorted(types))}）：同一事项会被分开计数。")
    for item, keys in parents.items():
        if len(keys) > 1:
            out.append(f"事项“{item[:30]}”出现在{len(keys)}个重点问题下：会按{len(keys)}个事项计数。")
    return out


def alias_mistakes(ledger: Ledger, unit_map: dict[str, list[str]]) -> list[str]:
    """[units] targets that are probably misspelt: one character away from a unit the ledger names
    (the misspelt name would become a unit of its own and get a template nobody fills in)."""
    out = []
    for alias, targets in unit_map.items():
        for target in (normalize.clean_key(t) for t in targets):
            near = [u for u in ledger.units if u != target and len(u) == len(target) >= 3
                    and sum(x != y for x, y in zip(u, target)) == 1]
            if near:
                out.append(f"配置[units]中“{alias}”指向的“{target}”与台账中的责任单位“{near[0]}”只差一个字：如是写错，"
                           f"请在配置文件中改正，否则“{target}”会被当作另一个单位，单独收到填报模板。")
    return out


def order_strangers(ledger: Ledger, settings: config.Settings) -> list[str]:
    """[order] names the ledger does not hold (a misspelt name orders nothing, so its unit falls to the end)."""
    out = []
    for key, listed, known, what in (("units", settings.unit_order, ledger.units, "责任单位"),
                                     ("leaders", settings.leader_order, ledger.leaders, "责任领导")):
        stray = [n for n in listed if n not in set(known)]
        if stray and ledger.measures:
            out.append(f"配置[order] {key} 中的“{'、'.join(stray)}”不是台账中的{what}，排序时不起作用；请按台账中的写法改正"
                       f"（未列出的{what}按台账中首次出现的顺序排在后面）。")
    return out


def canonical_first(pair: tuple[str, str], uses: dict[str, int]) -> tuple[str, str]:
    """(canonical, variant) of two spellings of one unit: the one named by more measures is canonical;
    on a tie the full form (卫生健康委 rather than 卫健委, 天津市人民医院 rather than 市人民医院)."""
    a, b = sorted(pair, key=lambda u: (-uses.get(u, 0), -len(u), u))
    return a, b


_PLACE = re.compile(r"^(天津市|天津|市|委)")


def spelling_pairs(units: list[str], uses: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """Pairs of unit names that probably mean one unit: one contains the other, they differ only by 市 or
    by a long form and its abbreviation (卫生健康委/卫健委, vocab.UNIT_ABBREVIATIONS), or (with uses, how often
    each is named) one character differs and one of them is named only once."""
    pairs = []
    by_core = {}
    for u in units:
        core = _PLACE.sub("", normalize.unit_core(u))
        if core in by_core and by_core[core] != u:
            pairs.append((by_core[core], u))
            continue
        by_core[core] = u
    names = sorted(set(units), key=lambda u: (len(u), u))
    seen = {frozenset(p) for p in pairs}
    for i, short in enumerate(names):
        if len(short) < 3:
            continue
        for long in names[i + 1:]:
            if short in long and frozenset((short, long)) not in seen and len(long) - len(short) <= 4:
                pairs.append((long, short))
                seen.add(frozenset((short, long)))
    for i, a in enumerate(names if uses else []):   # one character mistyped once: 办公室 / 办工室
        for b in names[i + 1:]:
            if len(b) != len(a):
                break
            if (len(a) >= 3 and min(uses.get(a, 0), uses.get(b, 0)) == 1
                    and sum(x != y for x, y in zip(a, b)) == 1 and frozenset((a, b)) not in seen):
                pairs.append((a, b))
                seen.add(frozenset((a, b)))
    return pairs


EXAMPLE_ROW = {vocab.ID: "ZG-001", vocab.THEME: "（一）关于××××方面的问题", vocab.KEY_PROBLEM: "1.关于××××的问题",
               vocab.ITEM: "(1)××××问题", vocab.ITEM_TYPE: vocab.SPECIFIC, vocab.REFORM: "",
               vocab.MEASURE: "制定专项整改工作方案，明确责任分工和时间节点（示例行，可直接改写或删除）",
               vocab.LEADER: "王××", vocab.LEAD_UNIT: "办公室", vocab.CO_UNITS: "组织处、人事处",
               vocab.DEADLINE: dt.date(2024, 12, 31), vocab.STATUS: vocab.NOT_STARTED, vocab.PROGRESS: "",
               vocab.EVIDENCE: "", vocab.REMARK: "每条措施一行；上下相同的主题、重点问题、事项可以合并单元格"}


def write_empty_master(path: Path) -> Path:
    """An empty master for a new office: title, our headers and one example row (never overwrites)."""
    path = Path(path)
    if path.exists():
        raise UsageError(kind="target-exists", where=Location(file=str(path)), path=path)
    book = sheets.Book(path)
    try:
        ws = book.sheet(vocab.SHEET_LEDGER)
        headers = [c.header for c in BASE_COLUMNS]          # the schema's columns every ledger carries
        sheets.set_widths(ws, {i: c.width for i, c in enumerate(BASE_COLUMNS, 1)})
        book.title_row(ws, "整改台账（请在第3行起逐条填写整改措施）", len(headers))
        book.header_row(ws, 2, headers)
        for i, name in enumerate(headers, 1):
            book.put(ws, 3, i, EXAMPLE_ROW[name], book.fmt("body"), book.fmt("body", num_format=sheets.DATE_FORMAT))
        status_dropdown(ws, headers.index(vocab.STATUS) + 1, 3, 1000)
        ws.freeze_panes(2, 0)
        book.close()
    except BaseException:
        book.discard()
        raise
    return path
