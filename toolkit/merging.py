"""Merging a read submission into the ledger in memory: which file wins (duplicate, superseded, newest)
and what its rows change; used by consolidate and by the history's rebuild from the archive."""
from __future__ import annotations

from . import vocab
from .intake import Submission
from .model import TEXT_ATTRS, Ledger
from .rules import normalize, review
from .rules.rollup import recompute_measure


def latest_applied(ledger: Ledger, period: str) -> dict[str, str]:
    """{unit: receipt time of its newest file merged for the period} (from the 报送记录)."""
    latest: dict[str, str] = {}
    for e in ledger.log:
        if e.period == period and e.applied:
            latest[e.unit] = max(latest.get(e.unit, ""), e.received)
    return latest



def merge(ledger: Ledger, sub: Submission, review_required: bool = False) -> int:
    """Apply a submission's rows to the unit's own entries and recompute those measures (under
    close-out review, an 已完成 becomes a 申请销号 until the office agrees)."""
    stamp = sub.received.isoformat(timespec="seconds")
    for u in sub.updates:
        entry = ledger.owners[(u.measure_id, sub.unit)]
        closed = ledger.reviews.get((u.measure_id, sub.unit))
        if u.status and review_required and closed and closed.state == vocab.CLOSED and u.status != vocab.DONE:
            # a 销号 is the office's decision: a unit's older template cannot reopen it
            sub.notes.append(f"措施{u.measure_id}已经办公室审核销号，本次填报的“{u.status}”未采纳，仍为已销号；"
                             f"如确需重新整改，请与办公室联系。")
        elif u.status and review_required:
            if u.status == vocab.DONE:
                entry.status = review.request(ledger, entry, u.evidence, stamp)
            else:
                review.withdraw(ledger, entry)
                entry.status = u.status
        elif u.status:
            entry.status = u.status
        for attr in TEXT_ATTRS:
            text = getattr(u, attr)
            if text:
                setattr(entry, attr, normalize.truncate_cell(text))
        entry.submitted_at = stamp
        recompute_measure(ledger, u.measure_id)
    return len(sub.updates)



def judge(ledger: Ledger, sub: Submission, known_hashes: set[str], latest: dict[str, str],
          review_required: bool = False) -> tuple[str, int]:
    """Decide a file's outcome and merge it when it is the newest valid one for its unit
    (latest: {unit: newest merged receipt time}, updated here)."""
    if sub.sha256 in known_hashes:
        return vocab.OUTCOME_DUPLICATE, 0
    if sub.rejected:
        return vocab.OUTCOME_REJECTED, 0
    received = sub.received.isoformat(timespec="seconds")
    if latest.get(sub.unit, "") > received:
        return vocab.OUTCOME_SUPERSEDED, 0
    if not sub.updates:
        return (vocab.OUTCOME_REJECTED if sub.problems else vocab.OUTCOME_ACCEPTED), 0
    accepted = merge(ledger, sub, review_required)
    latest[sub.unit] = max(latest.get(sub.unit, ""), received)
    return (vocab.OUTCOME_PARTIAL if sub.problems else vocab.OUTCOME_ACCEPTED), accepted
