"""整改金额 totals (万元): what is to be rectified (应整改) and what already is (已整改), exact in Decimal.

A measure's amount counts as 已整改 when the measure's 完成情况 is 已完成 — the audit list's own rule that
部分整改 is not yet 已整改 — so no second money column is asked of the units. Per unit the amount goes to
the 牵头单位 only (money is not counted twice), so the units add up to the total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .. import vocab
from ..model import Ledger

CENT = Decimal("0.01")


def exact(value: float) -> Decimal:
    """The amount as the office typed it: the shortest decimal that reads back as the same number."""
    return Decimal(repr(float(value)))


def cents(value: Decimal) -> Decimal:
    """Two decimals, rounded half up as ROUND(x,2) does in Excel, WPS and LibreOffice."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AmountTotal:
    """应整改 and 已整改 金额 of a group of measures, unrounded."""
    due: Decimal = Decimal(0)
    done: Decimal = Decimal(0)

    def plus(self, amount: Decimal, is_done: bool) -> AmountTotal:
        """This total with one more measure's amount."""
        return AmountTotal(self.due + amount, self.done + (amount if is_done else Decimal(0)))


@dataclass(frozen=True)
class Amounts:
    """The ledger's amount totals: overall and per 牵头单位 (units leading a measure with an amount)."""
    overall: AmountTotal = AmountTotal()
    by_unit: dict[str, AmountTotal] = field(default_factory=dict)


def amount_totals(ledger: Ledger) -> Amounts | None:
    """The totals of a ledger that carries 整改金额; None for one that doesn't (its outputs stay as they were)."""
    if vocab.AMOUNT not in ledger.in_use:
        return None
    overall = AmountTotal()
    by_unit: dict[str, AmountTotal] = {}
    for m in ledger.measures.values():
        if m.amount is None:
            continue
        value, is_done = exact(m.amount), m.status == vocab.DONE
        overall = overall.plus(value, is_done)
        by_unit[m.lead_unit] = by_unit.get(m.lead_unit, AmountTotal()).plus(value, is_done)
    return Amounts(overall, by_unit)
