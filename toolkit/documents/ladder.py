"""督办梯次 documents: the proposals (拟发) a run lists, and the notices the office issues from them.

The rule is rules/ladder.py; this module gathers its inputs from the ledger and the assessment, writes
the proposal list (output/<期次>/拟发/拟发清单.csv), and for the proposals the office chooses writes one
numbered notice per unit and rung (templates/<梯次>.md.j2 → .docx, PDF with LibreOffice) into
output/<期次>/发文/<梯次>/ and records each (unit, measure) in history.sqlite.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from .. import vocab
from ..assessment import Assessment
from ..errors import UsageError
from ..io import fileio, history_db
from ..io.fileio import safe_filename, unit_file_names
from ..model import Ledger, Settings
from ..rules import ladder, normalize
from ..rules.ladder import Issued, LadderRules, Proposal, Standing
from . import gongwen, notices, templating

LIST_NAME = "拟发清单.csv"
NUMBER_FORMS = {vocab.RUNG_REMIND: "提醒〔{年}〕{序号}号", vocab.RUNG_SUPERVISE: "督办〔{年}〕{序号}号",
                vocab.RUNG_WARN: "告诫〔{年}〕{序号}号", vocab.RUNG_ACCOUNT: "问责建议〔{年}〕{序号}号"}
ISSUERS = {vocab.RUNG_ACCOUNT: "notice_issuer"}       # the others: [documents] office


def rules_of(settings: Settings) -> LadderRules:
    """The workspace's ladder from [ladder] (defaults: 告诫 after 10 working days overdue, 约谈 after 30)."""
    d = settings.ladder
    warn = d.get("warn_after", LadderRules.warn_after)
    account = d.get("account_after", LadderRules.account_after)
    return LadderRules(int(warn) if isinstance(warn, int) else 10, int(account) if isinstance(account, int) else 30)


def rung_setting(settings: Settings, rung: str, key: str) -> str:
    """A rung's template, number form or issuer: [ladder."<梯次>"], else the default."""
    table = settings.ladder.get(rung)
    value = table.get(key) if isinstance(table, dict) else None
    if value:
        return str(value)
    return {"template": f"{vocab.RUNG_FILES[rung]}.md.j2", "number": NUMBER_FORMS[rung],
            "issuer": ISSUERS.get(rung, "office")}[key]


def issuer(settings: Settings, rung: str) -> str:
    """Who signs a rung: [documents] office (整改办) or notice_issuer (the 发文机关), as the rung says."""
    if rung_setting(settings, rung, "issuer") == "notice_issuer":
        return notices.notice_issuer(settings)
    return notices.office_issuer(settings)


def rung_of(word: str) -> str:
    """The rung a typed word means (告诫书, 告诫, 约谈 …); a ToolkitError listing the rungs otherwise."""
    rung = vocab.RUNG_WORDS.get(word.strip())
    if rung is None:
        raise UsageError(kind="unknown-rung", word=word, choices=list(vocab.RUNGS))
    return rung


# ---------------------------------------------------------------- proposals

def standings(ledger: Ledger, assessment: Assessment) -> list[Standing]:
    """Each (unit, measure) overdue or due soon that the unit has not itself finished."""
    out = []
    for r in assessment.late:
        m = r.measure
        for unit in m.owners:
            status = ledger.counted_status(m.id, unit)
            if status == vocab.DONE:
                continue
            own = ledger.owners.get((m.id, unit))
            progress = own.progress if own and m.co_units else m.progress
            out.append(Standing(m.id, unit, r.state, r.due, r.workdays, status, normalize.clean_text(progress)))
    return out


def issued_history(settings: Settings) -> list[Issued]:
    """Every notice issued so far (none when there is no history yet or it cannot be read: the run's
    own opening of the history reports that)."""
    path = history_db.db_path(settings)
    if not path.exists():
        return []
    try:
        with history_db.HistoryDB(path, read_only=True) as db:
            return db.issued()
    except Exception:        # damaged or held: the recorded operations say so; proposals then start afresh
        return []


def proposals(ledger: Ledger, settings: Settings, assessment: Assessment, issued: list[Issued]) -> list[Proposal]:
    return ladder.propose(standings(ledger, assessment), issued, rules_of(settings), assessment.period)


def proposal_rows(props: list[Proposal], said: dict[str, str] | None = None) -> list[list[str]]:
    """The proposal list as a table (header first), as the CSV and the console show it; said: each status
    as the profile says it (templating.wording's 状态称谓)."""
    said = said or {}
    rows = [["单位", vocab.ID, "拟发", "理由", "状态", "完成时限", "逾期工作日", vocab.STATUS, "上次发文"]]
    for p in props:
        last = f"{p.last.rung} {p.last.number}（{normalize.format_date(p.last.day)}）" if p.last else ""
        rows.append([p.unit, p.measure, p.rung, vocab.LADDER_REASONS[p.reason], p.state,
                     normalize.format_date(p.due), str(p.workdays), said.get(p.status, p.status), last])
    return rows


def _csv_text(value: str) -> str:
    """A CSV cell Excel and WPS open as the text it is: text they would run as a formula (=市急救中心, =1+1) gets
    the apostrophe that marks a cell as text; numbers (the -2 of 逾期工作日) stay numbers."""
    if not normalize.looks_like_formula(value):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def write_proposals(props: list[Proposal], settings: Settings, period: str) -> Path:
    """output/<期次>/拟发/拟发清单.csv (UTF-8 with BOM, so Excel and WPS open it), rewritten only when changed."""
    path = settings.path("output") / period / vocab.PROPOSED / LIST_NAME
    buf = io.StringIO()
    rows = [[_csv_text(v) for v in row] for row in proposal_rows(props, templating.wording(settings)["状态称谓"])]
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    text = "\ufeff" + buf.getvalue()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        fileio.atomic_write_text(path, text)
    return path


def summary_line(props: list[Proposal], path: Path | None = None) -> str:
    """The run report's line: how many of each rung are proposed, and where the list is."""
    if not props:
        return "督办梯次：本期无拟发文书。"
    counts = {r: sum(p.rung == r for p in props) for r in vocab.RUNGS}
    what = "、".join(f"{r}{n}份" for r, n in counts.items() if n)
    units = len({p.unit for p in props})
    where = f"（清单：{path}）" if path else ""
    return (f"督办梯次：拟发{what}（涉及{units}个单位）{where}。由办公室决定发出："
            f"python -m toolkit issue -c 文件夹 --all，或按单位 --unit、按梯次 --rung。")


# ---------------------------------------------------------------- issuing

@dataclass
class Issuance:
    """What one issue command did: the notices recorded and the files written."""
    issued: list[Issued] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    left: int = 0                       # proposals not chosen this time
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.issued:
            return ["没有符合条件的拟发文书，未发出任何文书。"] + [f"提示：{w}" for w in self.warnings]
        docs = sorted({(i.rung, i.number, i.unit) for i in self.issued}, key=lambda x: (vocab.RUNGS.index(x[0]), x[1]))
        out = [f"已发出{len(docs)}份文书（涉及措施{len(self.issued)}条），已编号并记入变更记录数据库："]
        out += [f"  {rung} {number} → {unit}" for rung, number, unit in docs]
        if self.paths:
            out.append(f"文件位置：{self.paths[0].parent.parent}")
        if self.left:
            out.append(f"另有{self.left}条拟发未选中，仍在拟发清单中。")
        return out + [f"提示：{w}" for w in self.warnings]


def choose(props: list[Proposal], units: list[str], rungs: list[str], every: bool) -> list[Proposal]:
    """The proposals the office named (by unit and/or rung), or all with every; naming nothing is refused."""
    if not (units or rungs or every):
        raise UsageError(kind="ladder-issue-unspecified")
    wanted = {rung_of(r) for r in rungs}
    known = {p.unit for p in props}
    missing = [u for u in units if u not in known]
    if missing:
        raise UsageError(kind="ladder-unit-without-proposal", unit=missing[0], known=sorted(known))
    return [p for p in props if (not units or p.unit in units) and (not wanted or p.rung in wanted)]


def item(p: Proposal, ledger: Ledger, today: dt.date) -> dict:
    """One measure as a notice lists it (the 督办单 template's fields, plus the ladder's)."""
    m = ledger.measures[p.measure]
    own = ledger.owners.get((m.id, p.unit))
    last = f"{p.last.rung}（{p.last.number}，{normalize.format_date(p.last.day)}）" if p.last else ""
    return {"编号": m.id, "措施": m.measure, "事项": m.item, "完成时限": p.due,
            "完成时限文字": m.deadline if isinstance(m.deadline, str) else normalize.format_date(p.due),
            "逾期天数": (today - p.due).days, "逾期工作日": p.workdays,
            "剩余工作日": -p.workdays, "完成情况": p.status, "整改进展": p.progress, "责任领导": m.leader,
            "本单位角色": own.role if own else vocab.ROLE_LEAD, "上次发文": last,
            "理由": vocab.LADDER_REASONS[p.reason]}


def issue(chosen: list[Proposal], ledger: Ledger, settings: Settings, assessment: Assessment,
          db: history_db.HistoryDB) -> Issuance:
    """Number, write and record the chosen proposals: one notice per (unit, rung) listing its measures."""
    done = Issuance()
    today, period = assessment.reference_date, assessment.period
    reply = assessment.calendar.shift(today, settings.reply_days)
    stems = unit_file_names(ledger.units)
    fonts = gongwen.Fonts.from_config(dict(settings.fonts))
    groups: dict[tuple[str, str], list[Proposal]] = {}
    for p in sorted(chosen, key=lambda p: (vocab.RUNGS.index(p.rung), p.unit, p.measure)):
        groups.setdefault((p.rung, p.unit), []).append(p)
    rows: list[tuple[Issued, int]] = []
    docx_files: list[Path] = []
    serials: dict[str, int] = {}
    for (rung, unit), props in groups.items():
        serial = serials.get(rung) or db.next_serial(rung, str(today.year))
        serials[rung] = serial + 1
        number = rung_setting(settings, rung, "number").format(年=today.year, 月=today.month, 序号=serial)
        signer = issuer(settings, rung)
        items = [item(p, ledger, today) for p in props]
        context = {**settings.words, **notices.contact(settings), "标题": (ledger.title or settings.title).removesuffix("台账")
                   .removesuffix("整改"), "梯次": rung, "文号": number, "督办编号": number, "单位": unit,
                   "事项": items, "基准日期": today, "报送期次": period, "回复期限": reply, "发文单位": signer,
                   "告诫期限": rules_of(settings).warn_after, "问责期限": rules_of(settings).account_after}
        text = templating.render(rung_setting(settings, rung, "template"), context, settings)
        folder = settings.path("output") / period / vocab.ISSUED_FOLDER / vocab.RUNG_FILES[rung]
        md = folder / f"{serial:03d}-{stems.get(unit) or safe_filename(unit)}.md"
        fileio.atomic_write_bytes(md.with_suffix(".docx"), gongwen.render(text, fonts=fonts, author=signer))
        fileio.atomic_write_text(md, text)
        done.paths += [md, md.with_suffix(".docx")]
        docx_files.append(md.with_suffix(".docx"))
        for p in props:
            rows.append((Issued(p.measure, unit, rung, number, today, signer, ledger.sequence, p.due, p.status,
                                p.progress, period), serial))
    if settings.notice_pdf and docx_files:
        files = [settings.root / str(f) for f in dict(settings.fonts).get("files", [])]    # type: ignore[union-attr]
        done.paths += notices.write_pdfs(docx_files, set(docx_files), fonts, files)
    db.add_issued(rows)
    done.issued = [i for i, _ in rows]
    return done


# ---------------------------------------------------------------- what the dashboard shows

@templating.record
@dataclass(frozen=True)
class UnitRung:
    """A unit on the dashboard's ladder section: its current rung, what is proposed, what was issued."""
    unit: str
    rung: str                            # the highest rung issued among its still-open measures ('' none)
    proposed: tuple[str, ...]            # "告诫书：ZG-001" …
    issued: tuple[str, ...]              # "督办单 督办〔2024〕1号（2024年7月31日）：ZG-001" …, this period first


def unit_rungs(ledger: Ledger, assessment: Assessment, props: list[Proposal], issued: list[Issued]) -> list[UnitRung]:
    """Units with a rung issued or proposed, highest rung first."""
    open_pairs = {(s.measure, s.unit) for s in standings(ledger, assessment)}
    props_of: dict[str, list[Proposal]] = {}       # grouped once: not every proposal and notice per unit
    for p in props:
        props_of.setdefault(p.unit, []).append(p)
    issued_of: dict[str, list[Issued]] = {}
    for i in issued:
        issued_of.setdefault(i.unit, []).append(i)
    out = []
    for u in sorted(props_of.keys() | issued_of.keys()):
        docs: dict[tuple[str, str, dt.date], list[str]] = {}
        for i in issued_of.get(u, ()):
            docs.setdefault((i.rung, i.number, i.day), []).append(i.measure)
        shown = [f"{r} {n}（{normalize.format_date(d)}）：{'、'.join(ms)}"
                 for (r, n, d), ms in sorted(docs.items(), key=lambda x: x[0][2], reverse=True)]
        out.append(UnitRung(u, ladder.current_rung(u, issued_of.get(u, ()), open_pairs),
                            tuple(f"{p.rung}：{p.measure}" for p in props_of.get(u, ())), tuple(shown)))
    out.sort(key=lambda x: (-(ladder.level(x.rung) if x.rung else -1), x.unit))
    return out
