"""How well one profile's header words fit a sheet's first rows: the best header row, what it maps, what it lacks.

Pure: the same reading as the ledger reader's header search (a profile's aliases on top of vocab's, 序号 as
编号 when there is no 编号, spaces and quotes ignored), but for any lexicon, not only the one in force, so
`check` can try every profile on a ledger without putting any of them in force.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import vocab
from ..model import COLUMN, LEDGER_COLUMNS
from . import normalize
from .lexicon import NONE, Lexicon

SCAN_ROWS = 30          # as many rows as the ledger reader looks through for its header


@dataclass(frozen=True)
class HeaderFit:
    """One lexicon on one sheet: the best header row (1-based; 0 = no row holds a required column)."""
    row: int
    mapped: tuple[tuple[str, str], ...]     # (header as typed, column it is read as), left to right
    missing: tuple[str, ...]                # required columns that row lacks
    defaulted: tuple[str, ...]              # hierarchy columns absent but filled by the profile's defaults

    @property
    def readable(self) -> bool:
        """The row holds every column the profile requires."""
        return self.row > 0 and not self.missing

    @property
    def score(self) -> tuple[int, int, int]:
        """Readable first, then fewer missing columns, then more columns read."""
        return int(self.readable), -len(self.missing), len(self.mapped)


REQUIRED = [c.header for c in LEDGER_COLUMNS if not c.optional]
OPTIONAL = vocab.OPTIONAL_COLUMNS + [c.header for c in LEDGER_COLUMNS if c.optional and c.header not in vocab.OPTIONAL_COLUMNS]


def required_columns(words: Lexicon = NONE) -> tuple[list[str], list[str]]:
    """(required, optional) office columns under the profile's words (督查督办 has no 主题/重点问题 hierarchy)."""
    extra = words.optional
    return [c for c in REQUIRED if c not in extra], OPTIONAL + [c for c in extra if c in REQUIRED]


def header_aliases(required: Sequence[str], words: Lexicon = NONE) -> dict[str, str]:
    """{variant: canonical header} for the columns asked for (the schema's aliases, a table's own headers as they are)."""
    out: dict[str, str] = {}
    for name in required:
        own = COLUMN[name].aliases if name in COLUMN else [name]
        for variant in own + words.header_aliases.get(name, []):
            out.setdefault(normalize.clean_header(variant), name)
    return out


def fit(rows: Sequence[Sequence[object]], lexicon: Lexicon) -> HeaderFit:
    """The row among the first SCAN_ROWS that holds most of the lexicon's required columns, and how it maps."""
    required, optional = required_columns(lexicon)
    table = header_aliases(required + optional, lexicon)
    best = HeaderFit(0, (), tuple(required), ())
    for r, row in enumerate(rows[:SCAN_ROWS]):
        found: dict[str, str] = {}          # column → header as typed (first occurrence wins)
        for value in row:
            key = normalize.clean_header(value)
            if key:
                found.setdefault(table.get(key, key), normalize.clean_text(value))
        if vocab.ID not in found and vocab.ROW_NUMBER in found:
            found = {(vocab.ID if c == vocab.ROW_NUMBER else c): typed for c, typed in found.items()}
        if not any(c in found for c in required):
            continue
        mapped = tuple((typed, c) for c, typed in found.items() if c in required or c in optional)
        missing = tuple(c for c in required if c not in found)
        defaulted = tuple(c for c in lexicon.optional if c not in found and c in lexicon.defaults)
        candidate = HeaderFit(r + 1, mapped, missing, defaulted)
        if candidate.score > best.score:
            best = candidate
    return best
