"""Close-out review (销号审核): with `[review] required = true` a unit's 已完成 is a request (申请销号) that
counts as done only once the office writes 同意销号 against it in the master's 销号审核 sheet; 退回补充
sends the measure back to 正在推进, with the office's opinion in the unit's next template and receipt.

The owners' statuses stay the four canonical words (a pending request keeps its last status below
已完成), so every figure and formula counts a measure as 已完成 only once it is closed (已销号).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from .. import vocab
from ..errors import ReviewError
from ..model import Ledger, OwnerEntry, Review
from ..problems import Location
from . import normalize
from .rollup import recompute_measure


def conclusion(value: object) -> str:
    """The office's 审核结论 as one of vocab.REVIEW_CONCLUSIONS ('' when blank or not recognised)."""
    return vocab.REVIEW_CONCLUSION_WORDS.get(normalize.clean_key(value), "")




KEY = re.compile(r"R(\d+)(?:-D(\d+))?-[0-9a-f]{8}")


def verified(r: Review, key: str) -> Review | None:
    """The request a 销号审核 row stands for, checked against the 申请编号 the toolkit wrote in it: r with
    its runs and the 办理情况 the key was written with (which undoes a hand-typed one); None when the key
    does not belong to this 编号 and 单位 (a copied row, a row typed by hand, a key edited)."""
    found = KEY.fullmatch(key.strip())
    if not found:
        return None
    runs = replace(r, request_seq=int(found[1]), decided_seq=int(found[2] or 0))
    for state in [r.state] + [s for s in vocab.REVIEW_STATES if s != r.state]:
        if runs.key(state) == found[0]:
            return replace(runs, state=state, decided=runs.decided if state != vocab.REVIEW_PENDING else "")
    return None


def request(ledger: Ledger, entry: OwnerEntry, evidence: str, received: str) -> str:
    """The status a unit's 已完成 stands for under review: 已完成 once closed (or when it was done
    before review was required); else a request is filed (a returned one renewed by a file taken in by a
    run after the one that took the return in; its opinion kept) and the unit keeps its last status
    below 已完成, at least 正在推进."""
    key = (entry.measure_id, entry.unit)
    r = ledger.reviews.get(key)
    if (r and r.state == vocab.CLOSED) or (r is None and entry.status == vocab.DONE):
        return vocab.DONE
    if r and r.state == vocab.REVIEW_RETURNED and not asks_again(ledger, r, received):
        return entry.status          # a file sent before the return was decided does not ask again
    if r is None or r.state == vocab.REVIEW_RETURNED:
        ledger.reviews[key] = Review(entry.measure_id, entry.unit, received[:10], evidence or entry.evidence,
                                     opinion=r.opinion if r else "", request_seq=run_sequence(ledger))
    else:
        r.evidence = evidence or r.evidence
    return entry.status if entry.status in (vocab.IN_PROGRESS, vocab.MOSTLY_DONE) else vocab.IN_PROGRESS


def run_sequence(ledger: Ledger) -> int:
    """The 记录序号 of what this run records (decisions, requests): one past the master's."""
    return ledger.sequence + 1


def asks_again(ledger: Ledger, r: Review, received: str) -> bool:
    """Whether a file received at `received` renews a returned request: by the recorded sequence when the
    return has one (a file of a later run than the return's asks again; files of the run that took the
    return in were waiting before it), saying so in the run's notes when the clocks tell otherwise; by
    time only for a return recorded before sequences were kept."""
    if not r.decided_seq:
        return received_after(received, r.decided)
    later = run_sequence(ledger) > r.decided_seq
    if later and r.decided and not received_after(received, r.decided):
        ledger.read_notes.append(
            f"措施“{r.measure_id}”（{r.unit}）：退回补充的{vocab.REVIEW_DECIDED_AT}（{r.decided}）晚于此后汇总的文件的"
            f"收件时间（{received.replace('T', ' ')}），两台电脑或本机的时钟可能不准；已按汇总顺序把该文件视为退回之后的"
            f"重新申请（{vocab.REVIEW_PENDING}）。如它其实是退回前的旧文件，请在“{vocab.SHEET_REVIEW}”表再次选择"
            f"“{vocab.REVIEW_RETURN}”。")
    return later


def received_after(received: str, decided: str) -> bool:
    """Whether a file received at `received` (ISO, to the second) came after a decision taken at `decided`
    (“YYYY-MM-DD HH:MM:SS”; a master from before times were kept holds the day only, compared by day)."""
    if len(decided) <= 10:
        return received[:10] >= decided
    return received.replace("T", " ") > decided.replace("T", " ")


def decision_time(now: dt.datetime) -> str:
    """办理日期 as stored: the moment the toolkit took the decision in, to the second (a unit's re-claim is
    compared against it, not against the 基准日期)."""
    return now.isoformat(sep=" ", timespec="seconds")


def restore_deleted(ledger: Ledger, recorded: dict[tuple[str, str], str]) -> list[str]:
    """Put back each pending request whose row was deleted from 销号审核 by hand (recorded: the history's
    last 销号审核 value per (编号, 单位)): deleting a row is not a decision, and the unit is still waiting."""
    notes = []
    for (mid, unit), value in recorded.items():
        entry = ledger.owners.get((mid, unit))
        if value != vocab.APPLIED_CLOSE or (mid, unit) in ledger.reviews or entry is None or entry.status == vocab.DONE:
            continue             # (a unit whose request waits keeps its status below 已完成)
        ledger.reviews[(mid, unit)] = Review(mid, unit, entry.submitted_at[:10], entry.evidence,
                                             request_seq=run_sequence(ledger))
        notes.append(f"“{vocab.SHEET_REVIEW}”表中措施“{mid}”（{unit}）待审核的一行被删除；删除不是审核结论，"
                     f"已恢复该行（{vocab.REVIEW_PENDING}）。如需退回，请在“{vocab.REVIEW_CONCLUSION}”列选择"
                     f"“{vocab.REVIEW_RETURN}”并写明“{vocab.REVIEW_OPINION}”。")
    if notes:
        ledger.digest = ""       # the master no longer shows what holds: it is rewritten
    return notes


def withdraw(ledger: Ledger, entry: OwnerEntry) -> None:
    """A unit that reports less than 已完成 withdraws its pending request (a closed measure is never
    reopened by a unit: consolidate.merge keeps it); a returned request stays, so its opinion keeps
    showing until the unit asks again."""
    r = ledger.reviews.get((entry.measure_id, entry.unit))
    if r and r.state != vocab.REVIEW_RETURNED:
        del ledger.reviews[(entry.measure_id, entry.unit)]


def apply_decisions(ledger: Ledger, now: dt.datetime) -> list[Review]:
    """Act on every decision the office wrote in 销号审核 since the last run: 同意销号 → 已销号 (the
    unit's status 已完成), 退回补充 → 已退回 (the unit's status 正在推进). Returns the decisions taken."""
    taken = []
    for r in ledger.reviews.values():
        entry = ledger.owners.get((r.measure_id, r.unit))
        if not r.due or entry is None or (r.conclusion == vocab.REVIEW_RETURN and not r.opinion):
            continue             # 退回补充 needs an opinion: left pending, the reader names the cell
        approved = r.conclusion == vocab.REVIEW_APPROVE
        r.state = vocab.CLOSED if approved else vocab.REVIEW_RETURNED
        r.decided, r.decided_seq = decision_time(now), run_sequence(ledger)
        entry.status = vocab.DONE if approved else vocab.IN_PROGRESS
        recompute_measure(ledger, r.measure_id)
        taken.append(r)
    return taken


LIFTED = (f"销号审核已关闭（配置 [review] required = false），{{which}}待审核的销号申请按单位填报的“{vocab.DONE}”"
          f"计入、不再审核；如仍需审核，请改回 required = true 后由单位重新填报。")


def lift(ledger: Ledger) -> list[str]:
    """Review turned off: every pending request counts as the unit's 已完成 it stood for (the condition it
    waited on is gone) and leaves 销号审核; decided rows stay as they are. Returns one note per request."""
    notes = []
    for key, r in list(ledger.reviews.items()):
        entry = ledger.owners.get(key)
        if r.state != vocab.REVIEW_PENDING or entry is None:
            continue
        del ledger.reviews[key]
        entry.status = vocab.DONE
        recompute_measure(ledger, r.measure_id)
        notes.append(LIFTED.format(which=f"措施“{r.measure_id}”（{r.unit}，{r.applied}申请）"))
    return notes


def pending_while_off(ledger: Ledger, said_off: bool = False) -> list[str]:
    """With review off, what the next consolidation will do with the requests still waiting (for refresh,
    check and the review command; said_off: the message has already said review is off)."""
    waiting = [r for r in ledger.reviews.values() if r.state == vocab.REVIEW_PENDING]
    if not waiting:
        return []
    names = "、".join(f"“{r.measure_id}”（{r.unit}）" for r in waiting[:10]) + ("等" if len(waiting) > 10 else "")
    return [("" if said_off else "销号审核已关闭（配置 [review] required = false），") +
            f"台账中还有{len(waiting)}条待审核的销号申请（{names}），目前不计入已完成；下次汇总时将按单位填报的"
            f"“{vocab.DONE}”计入、不再审核。" + ("" if said_off else "如仍需审核，请改回 required = true。")]


def decide(ledger: Ledger, targets: list[tuple[str, str]], word: str, opinion: str, now: dt.datetime) -> list[Review]:
    """The office's decision taken from a button or the command line: write the conclusion (and opinion)
    against each pending request of the targets ((编号, 单位); 单位 '' for every unit of the measure),
    then act on it as on a hand-typed one. All or nothing: a target without a pending request, or
    退回补充 without an opinion, is refused (ReviewError) and nothing is changed."""
    chosen = conclusion(word)
    if not chosen:
        raise ReviewError(kind="review-conclusion-invalid", word=word)
    opinion = normalize.clean_text(opinion)
    if chosen == vocab.REVIEW_RETURN and not opinion:
        raise ReviewError(kind="review-return-without-opinion")
    if not targets:
        raise ReviewError(kind="review-nothing-selected")
    pending, refused = [], []
    known = {m.casefold(): m for m in {*ledger.measures, *(u for _, u in ledger.reviews)}}
    for mid, unit in targets:          # 编号 and 单位 as typed: zg-041 is ZG-041
        mid, unit = (known.get(normalize.clean_key(v).casefold(), normalize.clean_key(v)) for v in (mid, unit))
        found = [r for r in ledger.reviews.values() if r.measure_id == mid and unit in ("", r.unit)]
        waiting = [r for r in found if r.state == vocab.REVIEW_PENDING]
        pending += [r for r in waiting if r not in pending]
        if not waiting:
            who = f"{unit}，" if unit else ""
            why = ("台账中没有该编号" if mid not in ledger.measures else
                   "；".join(f"{r.unit}，{r.state}" for r in found) if found else f"{who}未申请销号")
            refused.append(f"“{mid}”（{why}）")
    if refused:
        raise ReviewError(kind="review-not-pending", where=Location(sheet=vocab.SHEET_REVIEW, column=vocab.REVIEW_STATE),
                          refused=refused)
    typed = [r for r in pending if r.conclusion and r.conclusion != chosen]
    if typed:                        # a hand-typed decision not yet taken in is never overridden unseen
        named = [f"措施“{r.measure_id}”（{r.unit}）为“{r.conclusion}”" for r in typed]
        raise ReviewError(kind="review-typed-conclusion-differs",
                          where=Location(sheet=vocab.SHEET_REVIEW, column=vocab.REVIEW_CONCLUSION), named=named, chosen=chosen)
    for r in pending:
        r.conclusion = chosen
        r.opinion = opinion          # the decision's own words, never the opinion of an earlier return
    return apply_decisions(ledger, now)     # with any decision typed into 销号审核 since the last run


def decisions_due(ledger: Ledger) -> bool:
    return any(r.due for r in ledger.reviews.values())


@dataclass(frozen=True)
class ReviewCounts:
    """Requests by state (one per unit and measure, for the statistics sheet), or measures (measure_counts,
    for the 通报)."""
    closed: int
    pending: int
    returned: int


def measure_counts(ledger: Ledger) -> ReviewCounts:
    """The same by measure, for the 通报 and the public paragraph that count measures: closed = 已完成 with
    a request agreed; pending = not 已完成 with a request waiting; returned = not 已完成, one returned and
    none waiting (a measure of several units counts once, never on top of the total)."""
    by_measure: dict[str, set[str]] = {}
    for r in ledger.reviews.values():
        by_measure.setdefault(r.measure_id, set()).add(r.state)
    closed = pending = returned = 0
    for mid, states in by_measure.items():
        m = ledger.measures.get(mid)
        if m is None:
            continue
        if m.status == vocab.DONE:
            closed += vocab.CLOSED in states
        elif vocab.REVIEW_PENDING in states:
            pending += 1
        elif vocab.REVIEW_RETURNED in states:
            returned += 1
    return ReviewCounts(closed, pending, returned)


def counts(ledger: Ledger) -> ReviewCounts:
    states = [r.state for r in ledger.reviews.values()]
    return ReviewCounts(states.count(vocab.CLOSED), states.count(vocab.REVIEW_PENDING),
                        states.count(vocab.REVIEW_RETURNED))




