"""The list's own words in force while a workspace is read: a profile's status, deadline and type words,
header aliases and the hierarchy columns it may leave out.

Pure data and one process-wide value (not a context variable: the resident service and the nightly
scheduler read in worker threads, which must see the workspace's words too): config sets it when it
loads a workspace, normalize and the ledger reader consult it; the default (巡视巡察整改) adds nothing,
so its reading is exactly vocab's.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lexicon:
    """What a profile adds to vocab: {word: canonical} maps, {header: aliases}, optional columns and defaults."""
    status_words: dict[str, str] = field(default_factory=dict)
    deadline_words: dict[str, str] = field(default_factory=dict)
    item_type_words: dict[str, str] = field(default_factory=dict)
    header_aliases: dict[str, list[str]] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    # a missing optional column's value: a literal, or "@列名" for that row's value of another column
    defaults: dict[str, str] = field(default_factory=dict)


NONE = Lexicon()
_ACTIVE = [NONE]


def active() -> Lexicon:
    """The lexicon of the workspace last loaded (NONE before any)."""
    return _ACTIVE[0]


def use(lexicon: Lexicon) -> None:
    """Put a workspace's lexicon in force for this process (config.from_dict calls it)."""
    _ACTIVE[0] = lexicon
