"""The office's order of units and leaders ([order] in config, else as the ledger first names them), never character codes."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def office_order(listed: Sequence[str], seen: Iterable[str]) -> tuple[str, ...]:
    """Names as the office lists them: those in listed first, in its order, then the others in the order seen."""
    return tuple(dict.fromkeys([*listed, *seen]))


def place(order: Sequence[str]) -> dict[str, int]:
    """Each name's position in order (for sort keys)."""
    return {name: i for i, name in enumerate(order)}


def in_order(names: Iterable[str], order: Sequence[str]) -> list[str]:
    """names sorted by their place in order; names order lacks come last, in the order given."""
    pos = place(order)
    return sorted(names, key=lambda n: pos.get(n, len(pos)))


def items_in_order(mapping: dict[str, T], order: Sequence[str]) -> list[tuple[str, T]]:
    """A mapping's items with keys in the office's order."""
    return [(k, mapping[k]) for k in in_order(mapping, order)]
