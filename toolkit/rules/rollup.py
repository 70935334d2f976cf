"""Roll-ups: a measure's status and texts from its owners, a problem's status from its measures."""
from __future__ import annotations

from .. import vocab
from ..model import Ledger, OwnerEntry, least_advanced
from . import normalize


def rollup(statuses: list[str], long_term: list[bool]) -> str:
    """Problem status from its measures: done; mostly done when the rest is long-term or mostly done."""
    if not statuses:
        return vocab.NOT_STARTED
    if all(s == vocab.DONE for s in statuses):
        return vocab.DONE
    if all(s == vocab.NOT_STARTED for s in statuses):      # none started: not 基本完成, long-term or not
        return vocab.NOT_STARTED
    if all(s in (vocab.DONE, vocab.MOSTLY_DONE) or lt for s, lt in zip(statuses, long_term)):
        return vocab.MOSTLY_DONE
    return vocab.IN_PROGRESS


def rollup_items(statuses: list[str]) -> str:
    """A key problem's status from its problems' statuses."""
    if not statuses:
        return vocab.NOT_STARTED
    if all(s == vocab.DONE for s in statuses):
        return vocab.DONE
    if all(s in (vocab.DONE, vocab.MOSTLY_DONE) for s in statuses):
        return vocab.MOSTLY_DONE
    if all(s == vocab.NOT_STARTED for s in statuses):
        return vocab.NOT_STARTED
    return vocab.IN_PROGRESS


def combine_texts(entries: list[OwnerEntry], attr: str, several: bool) -> str:
    """One cell from several owners' texts: '【单位】text' per owner when more than one wrote."""
    parts = [(e.unit, getattr(e, attr)) for e in entries if getattr(e, attr)]
    if not parts:
        return ""
    if len(parts) == 1 and not several:
        return str(parts[0][1])
    return normalize.truncate_cell("\n".join(f"【{u}】{t}" for u, t in parts))


def recompute_measure(ledger: Ledger, measure_id: str) -> None:
    """A measure's status is the office's decision if any, else its least advanced owner's;
    its texts gather every owner's."""
    m = ledger.measures[measure_id]
    entries = [ledger.owners[(m.id, u)] for u in m.owners if (m.id, u) in ledger.owners]
    decision = ledger.decisions.get(measure_id)
    m.status = decision.status if decision else least_advanced(e.status for e in entries) or m.status
    several = len(entries) > 1
    for attr in ("progress", "evidence"):
        text = combine_texts(entries, attr, several)
        if text:
            setattr(m, attr, text)
    remark = combine_texts(entries, "remark", several)
    if remark:
        m.remark = remark
