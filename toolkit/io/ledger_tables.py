"""The master's own side sheets read back: 报送记录, 历史进度, 办公室认定, 参数's 记录序号, 销号审核."""
from __future__ import annotations

from .. import vocab
from ..model import Decision, HistoryRow, Ledger, Lexicon, LogEntry, Measure, Review
from ..rules import normalize
from ..rules.lexicon import NONE
from ..rules.review import conclusion, verified
from .ledger_header import find_header
from .sheets import cell_name


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


def parse_decisions(rows: list[list], measures: dict[str, Measure], words: Lexicon = NONE) -> dict[str, Decision]:
    """The office decisions kept in sheet 办公室认定 (for measures still in the plan)."""
    out = {}
    for row in parse_table(rows, vocab.DECISION_COLUMNS, vocab.SHEET_DECISIONS):
        mid, status = normalize.clean_key(row[0]), normalize.status(row[2], words)
        if mid in measures and status:
            out[mid] = Decision(mid, status, normalize.status(row[3], words) or normalize.clean_text(row[3]),
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
