"""The 统计 sheet: every figure as a live COUNTIFS formula (with Python's value cached), so a status
edited by hand in Excel or WPS updates the statistics without the toolkit."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import vocab
from ..assessment import Assessment
from ..model import Ledger, Settings
from ..rules import amounts, normalize, order
from ..rules.rollup import rollup_items
from ..rules.stats import Counts, Summary
from . import sheets


def _text(text: str) -> str:
    """A string constant of a formula, quotes doubled and cut into 200-character pieces joined by &
    (Excel refuses a constant longer than 255 characters)."""
    pieces = [text[i:i + 200] for i in range(0, len(text), 200)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)


def _exact(rng: str, text: str) -> str:
    """An array condition true where a cell of rng holds exactly text. EXACT compares characters
    (case too) like Python's grouping does, where a COUNTIFS criterion would read a leading = < >
    as an operator and * ? ~ as wildcards; SUMPRODUCT over EXACT means the same in Excel, WPS and
    LibreOffice (whose wildcard and regex settings only apply to criteria, not to comparisons)."""
    return f"EXACT({rng},{_text(text)})"


def _sumproduct(conditions: list[str]) -> str:
    """=SUMPRODUCT of array conditions: the number of rows where all of them hold."""
    return "=SUMPRODUCT(" + "*".join(f"--({c})" if i == 0 else f"({c})" for i, c in enumerate(conditions)) + ")"


def _exact_counts(match: list[str], status: str, overdue: list[str]) -> list[str]:
    """Total, the four statuses and overdue for rows picked by exact text (match), as SUMPRODUCT
    formulas. Blank and text cells never count as overdue: ISNUMBER guards the comparison, as
    COUNTIFS ">0" would."""
    return ([_sumproduct(match + [f'{status}<>""'])]
            + [_sumproduct(match + [f'{status}="{word}"']) for word in vocab.STATUSES]
            + [_sumproduct(match + overdue)])


class _Ranges:
    """Absolute ranges of the ledger and owner sheets for COUNTIFS formulas."""

    def __init__(self, ledger: Ledger, judgment_rows: int):
        first = ledger.header_row + 1
        last = max([m.row for m in ledger.measures.values()] + [first])

        def col(name):
            letter = sheets.col_letter(ledger.columns[name])
            return f"'{vocab.SHEET_LEDGER}'!${letter}${first}:${letter}${last}"
        self.status, self.type, self.reform = col(vocab.STATUS), col(vocab.ITEM_TYPE), col(vocab.REFORM)
        self.key, self.item, self.days = col(vocab.KEY_PROBLEM), col(vocab.ITEM), col(vocab.DAYS_OVERDUE)
        self.id = col(vocab.ID)
        self.lead = col(vocab.LEAD_UNIT)
        self.amount = col(vocab.AMOUNT) if vocab.AMOUNT in ledger.columns else ""
        n = len(ledger.owners) + 2
        ocol = lambda i: f"'{vocab.SHEET_OWNERS}'!${sheets.col_letter(i)}$3:${sheets.col_letter(i)}${max(n, 3)}"
        self.o_unit = ocol(vocab.OWNER_COLUMNS.index(vocab.OWNER_UNIT) + 1)
        self.o_status = ocol(vocab.OWNER_VIEW_COLUMNS.index(vocab.COUNTED_STATUS) + 1)
        self.o_due = ocol(len(vocab.OWNER_VIEW_COLUMNS) + 1)
        self.o_role = ocol(vocab.OWNER_COLUMNS.index(vocab.OWNER_ROLE) + 1)
        jn = 2 + max(judgment_rows, 1)
        self.j_kind = f"'{vocab.SHEET_JUDGMENT}'!$C$3:$C${jn}"
        self.j_final = f"'{vocab.SHEET_JUDGMENT}'!$H$3:$H${jn}"
        self.j_reform = f"'{vocab.SHEET_JUDGMENT}'!$D$3:$D${jn}"


def _delta(cell: str, prev: float | None) -> str:
    """Change of completion since the last period, rounded to 0.1 point so an unchanged rate reads 持平."""
    return f"=ROUND({cell}-{round(prev / 100, 6)},3)" if prev is not None else "无上期数据"


def _delta_value(counts: Counts, prev: float | None) -> float:
    return round((counts.completion - (prev or 0)) / 100, 3) + 0.0   # never -0.0


def labels(settings: Settings) -> dict[str, str]:
    """The profile's [wording] (vocab.NOTICE_WORDING under the settings' words): what the sheet's headings and
    labels say. The formulas keep counting the ledger's own words (vocab.STATUSES, the item types)."""
    return {**vocab.NOTICE_WORDING, **settings.words}


def status_labels(words: dict[str, str]) -> list[str]:
    """The four statuses as the profile says them, in vocab.STATUSES order."""
    return [words[vocab.STATUS_WORDING[s]] for s in vocab.STATUSES]


def stat_headers(words: dict[str, str]) -> list[str]:
    """名称, 总数, the four statuses, 逾期, the completion rate, 推进率 and its change, in the profile's words."""
    rate = words["完成率称谓"]
    return ["名称", "总数", *status_labels(words), "逾期", rate, "推进率", f"较上期{rate}变化"]


STAT_HEADERS = stat_headers(vocab.NOTICE_WORDING)


def _countifs_counts(base: str, status_range: str, overdue: str) -> list[str]:
    """Total, the four statuses and overdue as COUNTIFS over our own words (base: criteria pairs
    whose criteria are vocabulary, never text from the ledger; '' for all rows)."""
    sep = "," if base else ""
    return ([f'=COUNTIFS({base}{sep}{status_range},"<>")' if base else f"=COUNTA({status_range})"]
            + [f'=COUNTIFS({base}{sep}{status_range},"{word}")' for word in vocab.STATUSES] + [overdue])


def _count_formulas(counting: list[str], row: int, weights: dict[str, float], first_col: int,
                    counts: Counts) -> list[sheets.Formula]:
    """Formulas for total, each status, overdue (counting: those seven), completion % and weighted
    progress % of one row whose total sits in column first_col, each carrying Python's value."""
    F = sheets.Formula
    values = [counts.total, *counts.row()[1:5], counts.overdue]
    out = [F(text, n) for text, n in zip(counting, values)]
    b, c, d, e, f = (f"{sheets.col_letter(first_col + i)}{row}" for i in range(5))
    out.append(F(f"=IF({b}=0,0,{c}/{b})", counts.completion / 100))
    w = [weights[s] for s in vocab.STATUSES]
    out.append(F(f"=IF({b}=0,0,({c}*{w[0]}+{d}*{w[1]}+{e}*{w[2]}+{f}*{w[3]})/{b})", counts.progress(weights) / 100))
    return out


def judgment_table(summary: Summary) -> sheets.Table:
    """问题研判: every key problem and item, computed status, the office's judgment, the status that counts."""
    headers = [vocab.KEY_PROBLEM, vocab.ITEM, vocab.ITEM_TYPE, vocab.REFORM, "措施数", "计算状态", vocab.JUDGMENT, "认定状态"]
    rows = []
    for key, status in summary.key_problems.items():
        judged = status if summary.key_judged[key] else ""
        computed = rollup_items([it.status for it in summary.items
                                 if it.key_problem == key and it.item_type != vocab.DRAW_LESSONS])
        rows.append([key, "", vocab.KEY_PROBLEM, "", summary.by_key_problem[key].total, computed, judged])
    for it in summary.items:
        rows.append([it.key_problem, it.item, it.item_type, vocab.YES if it.reform else "", it.measures.total,
                     it.computed, it.judgment])
    for r, row in enumerate(rows, 3):
        row.append(sheets.Formula(f'=IF(G{r}<>"",G{r},F{r})', row[6] or row[5]))
    return sheets.Table(f"问题研判（“{vocab.JUDGMENT}”列可填写，填写后优先于计算状态）", headers, rows,
                        {vocab.KEY_PROBLEM: 36, vocab.ITEM: 40})


def history_table(ledger: Ledger) -> sheets.Table:
    return sheets.Table("历史进度（每个报送期次一组，月调度对比用）", vocab.HISTORY_COLUMNS,
                        [r.values() for r in ledger.history])


def owner_due_dates(ledger: Ledger, assessment: Assessment) -> list:
    """考核日期 of each owner row, in owner-sheet order (per-unit overdue formulas count on it)."""
    return [assessment.helpers[mid][0] for mid, _unit in ledger.owners]


@dataclass
class StatsLayout:
    """The statistics sheet as cells plus where its headers, bodies, percentages and chart go."""
    cells: dict[tuple[int, int], object] = field(default_factory=dict)
    headers: list[tuple[int, int]] = field(default_factory=list)      # (row, columns)
    sections: list[int] = field(default_factory=list)                 # section title rows
    bodies: list[tuple[int, int, int]] = field(default_factory=list)  # (first row, last row, columns)
    percent: list[tuple[int, int]] = field(default_factory=list)
    delta: list[tuple[int, int]] = field(default_factory=list)
    money: list[tuple[int, int]] = field(default_factory=list)       # 万元, two decimals
    chart: tuple[int, int, int] | None = None                         # (header row, first, last) of the unit table
    width: int = len(STAT_HEADERS)

    def grid(self) -> list[list]:
        """The cells as one rectangular block from A1 (for a single bulk write)."""
        rows = max((r for r, _ in self.cells), default=1)
        cols = max((c for _, c in self.cells), default=1)
        out = [[None] * cols for _ in range(rows)]
        for (r, c), v in self.cells.items():
            out[r - 1][c - 1] = v
        return out


def stats_layout(ledger: Ledger, settings: Settings, assessment: Assessment) -> StatsLayout:
    """Lay out 整改进度统计: problem levels, categories, ranked units, key problems, items."""
    lay = StatsLayout()
    summary = assessment.summary
    rg = _Ranges(ledger, len(summary.key_problems) + len(summary.items))
    previous = assessment.previous
    w = settings.weights
    ref = vocab.NAME_REF_DATE
    F = sheets.Formula
    words = labels(settings)
    said = dict(zip(vocab.STATUSES, status_labels(words)))
    headers = stat_headers(words)
    measure, short, rate = words["措施称谓"], words["措施简称"], words["完成率称谓"]

    def put(r, c, v, value=None):
        lay.cells[(r, c)] = F(v, value) if isinstance(v, str) and v.startswith("=") else v

    lay.cells[(1, 1)] = (f"{ledger.title or '整改'}进度统计（报送期次 {normalize.period_text(assessment.period)}，"
                         f"基准日期 {normalize.format_date(assessment.reference_date)}）")
    row = 3

    def section(name: str, headers: list[str]) -> int:
        nonlocal row
        put(row, 1, name)
        lay.sections.append(row)
        row += 1
        for c, h in enumerate(headers, 1):
            put(row, c, h)
        lay.headers.append((row, len(headers)))
        row += 1
        return row

    def count_row(first_col: int, counting: list[str], counts: Counts) -> None:
        for c, f in enumerate(_count_formulas(counting, row, w, first_col, counts), first_col):
            lay.cells[(row, c)] = f
        lay.percent += [(row, first_col + 6), (row, first_col + 7)]

    first = section("一、问题整改总体情况（按问题计）", ["层级", "总数", *status_labels(words)])
    levels = [(vocab.KEY_PROBLEM, f'{rg.j_kind},"{vocab.KEY_PROBLEM}"'), (vocab.SPECIFIC, f'{rg.j_kind},"{vocab.SPECIFIC}"'),
              (vocab.RECOMMENDATION, f'{rg.j_kind},"{vocab.RECOMMENDATION}"'),
              (vocab.DRAW_LESSONS, f'{rg.j_kind},"{vocab.DRAW_LESSONS}"'), (vocab.REFORM, f'{rg.j_reform},"{vocab.YES}"')]
    for name, crit in levels:
        counts = summary.level(name)
        put(row, 1, words["重点问题称谓"] if name == vocab.KEY_PROBLEM else name)
        put(row, 2, f"=COUNTIFS({crit})", counts.total)
        for c, (word, n) in enumerate(zip(vocab.STATUSES, counts.row()[1:5]), 3):
            put(row, c, f'=COUNTIFS({crit},{rg.j_final},"{word}")', n)
        row += 1
    lay.bodies.append((first, row - 1, 6))
    row += 1

    first = section(f"二、{measure}完成情况（按类别）", headers)
    cat_crit = {vocab.CATEGORY_KEY: f'{rg.type},"{vocab.SPECIFIC}"', vocab.DRAW_LESSONS: f'{rg.type},"{vocab.DRAW_LESSONS}"',
                vocab.RECOMMENDATION: f'{rg.type},"{vocab.RECOMMENDATION}"', vocab.REFORM: f'{rg.reform},"{vocab.YES}"'}
    cats = [("整改措施合计", "", previous.get((vocab.SCOPE_OVERALL, "整改措施")), summary.measures)]
    cats += [(c, cat_crit[c], previous.get((vocab.SCOPE_CATEGORY, c)), summary.by_category[c]) for c in vocab.CATEGORIES]
    named = {"整改措施合计": total_label(words), vocab.CATEGORY_KEY: f"{words['重点问题称谓']}整改"}
    for name, crit, prev, counts in cats:
        put(row, 1, named.get(name, name))
        count_row(2, _countifs_counts(crit, rg.status, f'=COUNTIFS({crit}{"," if crit else ""}{rg.days},">0")'), counts)
        put(row, 10, _delta(f"H{row}", prev), _delta_value(counts, prev))
        lay.delta.append((row, 10))
        row += 1
    lay.bodies.append((first, row - 1, len(headers)))
    row += 1

    unit_headers = ["排名", "责任单位", f"牵头{short}数"] + headers[1:]
    first = section(f"三、各责任单位完成情况（按{rate}排名，靠后单位在下；每{words['计量']}{short}计入牵头及配合单位"
                    f"各一次）", unit_headers)
    for rank, (unit, counts) in enumerate(assessment.ranking, 1):
        match = [_exact(rg.o_unit, unit)]
        put(row, 1, rank)
        lay.cells[(row, 2)] = unit          # data: stays text, whatever it starts with
        put(row, 3, _sumproduct(match + [f'{rg.o_role}="{vocab.ROLE_LEAD}"']), summary.by_unit_lead.get(unit, 0))
        late = [f"ISNUMBER({rg.o_due})", f"{rg.o_due}<{ref}", f'{rg.o_status}<>"{vocab.DONE}"']
        count_row(4, _exact_counts(match, rg.o_status, late), counts)
        prev = previous.get((vocab.SCOPE_UNIT, unit))
        put(row, 12, _delta(f"J{row}", prev), _delta_value(counts, prev))
        lay.delta.append((row, 12))
        row += 1
    lay.bodies.append((first, row - 1, len(unit_headers)))
    if row - 1 >= first:
        lay.chart = (first - 1, first, row - 1)
    row += 1

    first = section(f"四、各{words['重点问题称谓']}{measure}完成情况", headers)
    late_days = [f"ISNUMBER({rg.days})", f"{rg.days}>0"]
    for key, counts in summary.by_key_problem.items():
        lay.cells[(row, 1)] = key
        count_row(2, _exact_counts([_exact(rg.key, key)], rg.status, late_days), counts)
        row += 1
    lay.bodies.append((first, row - 1, len(headers)))
    row += 1

    item = words["事项称谓"]
    item_name = "具体问题（事项）" if item == vocab.NOTICE_WORDING["事项称谓"] else item
    first = section(f"五、各{item_name}{'' if item == measure else measure}完成情况", headers + ["事项类型", "认定状态"])
    for it in summary.items:
        match = [_exact(rg.key, it.key_problem), _exact(rg.type, it.item_type), _exact(rg.item, it.item)]
        lay.cells[(row, 1)] = it.item
        count_row(2, _exact_counts(match, rg.status, late_days), it.measures)
        lay.cells[(row, 11)] = it.item_type
        put(row, 12, said.get(it.status, it.status) + (f"（{vocab.JUDGMENT}）" if it.judgment else ""))
        row += 1
    lay.bodies.append((first, row - 1, len(headers) + 2))
    if summary.review is not None:
        row += 1
        first = section(f"六、销号审核情况（按单位的销号申请计；待审核、退回的不计入{said[vocab.DONE]}）", REVIEW_HEADERS)
        states = f"'{vocab.SHEET_REVIEW}'!{sheets.col_letter(vocab.REVIEW_COLUMNS.index(vocab.REVIEW_STATE) + 1)}:" \
                 f"{sheets.col_letter(vocab.REVIEW_COLUMNS.index(vocab.REVIEW_STATE) + 1)}"
        r = summary.review
        for c, (state, n) in enumerate(zip(vocab.REVIEW_STATES, (r.pending, r.closed, r.returned)), 1):
            put(row, c, f'=COUNTIF({states},"{state}")', n)
        row += 1
        lay.bodies.append((first, row - 1, len(REVIEW_HEADERS)))
    if summary.amounts is not None and rg.amount:
        row += 1
        first = section(f"{'七' if summary.review is not None else '六'}、整改金额（万元；{short}完成情况为“{said[vocab.DONE]}”的"
                        f"计入已整改，按牵头单位计）", AMOUNT_HEADERS)
        done = f'{rg.status}="{vocab.DONE}"'
        groups = [("合计", [], summary.amounts.overall)]
        groups += [(u, [_exact(rg.lead, u)], summary.amounts.by_unit[u])
                   for u in order.in_order(summary.amounts.by_unit, assessment.unit_order)]
        for name, match, total in groups:
            lay.cells[(row, 1)] = name                # data: stays text, whatever it starts with
            for c, (conditions, value) in enumerate([(match, total.due), (match + [done], total.done)], 2):
                put(row, c, _amount_sum(conditions, rg.amount), float(amounts.cents(value)))
                lay.money.append((row, c))
            row += 1
        lay.bodies.append((first, row - 1, len(AMOUNT_HEADERS)))
    return lay


AMOUNT_HEADERS = ["名称", "应整改金额", "已整改金额"]


def total_label(words: dict[str, str]) -> str:
    """The label of the statistics' overall row: 整改措施合计, or the profile's word for its entries (交办事项合计)."""
    return f"{words['措施称谓']}合计"


def _amount_sum(conditions: list[str], amount: str) -> str:
    """=ROUND(SUMPRODUCT(…),2): the amounts of the rows where every condition holds, in 万元 to two decimals
    (the amount range is its own argument, so a blank cell adds nothing)."""
    return "=ROUND(SUMPRODUCT(" + "".join(f"--({c})," for c in conditions) + amount + "),2)"


REVIEW_HEADERS = [vocab.REVIEW_PENDING, vocab.CLOSED, "退回"]


def write_stats(book, ledger: Ledger, settings: Settings, assessment: Assessment) -> None:
    """整改进度统计 sheet: the layout's cells in row order, styles, and the completion bar chart."""
    lay = stats_layout(ledger, settings, assessment)
    ws = book.sheet(vocab.SHEET_STATS)
    grid = lay.grid()
    printed = max([len(r) for r in grid] + [lay.width])      # the chart right of these stays on screen
    fit = sheets.fit_print({1: 40, 2: 26, **{c: 10 for c in range(3, 13)}}, min(printed, 12),
                           sheets.print_floors([""] * 12, grid[2:]), settings.print_paper)
    sheets.set_widths(ws, fit.widths)
    header_rows = {r: n for r, n in lay.headers}
    body_cols = {}
    for first, last, n in lay.bodies:
        for r in range(first, last + 1):
            body_cols[r] = n
    percent, delta, money = set(lay.percent), set(lay.delta), set(lay.money)
    body = book.fmt("body")
    pct = book.fmt("body", num_format="0.0%")
    dlt = book.fmt("body", num_format='+0.0%;-0.0%;"持平"')
    book.title_row(ws, lay.cells.get((1, 1), ""), lay.width)
    rows: dict[int, dict[int, object]] = {}
    for (r, c), v in lay.cells.items():
        if r > 1:
            rows.setdefault(r, {})[c] = v
    last_row = max(list(rows) + [1])
    for r in range(2, last_row + 1):
        cells = rows.get(r, {})
        if r in header_rows:
            book.header_row(ws, r, [cells.get(c, "") for c in range(1, header_rows[r] + 1)])
            continue
        width = body_cols.get(r, 0)
        for c in range(1, max([width] + list(cells)) + 1):
            v = cells.get(c)
            if r in lay.sections:
                if v is not None:
                    book.put(ws, r, c, v, book.fmt("section"))
                continue
            fmt = pct if (r, c) in percent else dlt if (r, c) in delta else body
            if (r, c) in money:
                fmt = book.fmt("body", num_format="0.00")
            if c <= width or v is not None:
                book.put(ws, r, c, v, fmt)
    if lay.chart:
        header, first, last = lay.chart
        chart = book.wb.add_chart({"type": "bar"})
        words = labels(settings)
        chart.add_series({"name": words["完成率称谓"], "categories": [vocab.SHEET_STATS, first - 1, 1, last - 1, 1],
                          "values": [vocab.SHEET_STATS, first - 1, 9, last - 1, 9],
                          "fill": {"color": "#5B9BD5"}, "data_labels": {"value": True, "num_format": "0%"}})
        chart.set_title({"name": f"各责任单位{words['完成率全称']}"})
        chart.set_x_axis({"min": 0, "max": 1, "num_format": "0%"})
        chart.set_y_axis({"reverse": True})     # best unit on top, lagging units at the bottom
        chart.set_legend({"none": True})
        chart.set_size({"width": 640, "height": max(320, 18 * (last - first + 1) + 80)})
        ws.insert_chart(header - 1, 13, chart)
    ws.freeze_panes(2, 1)
    sheets.page_setup(ws, 0, min(printed, 12), last_row, fit.paper)
