"""Problems as data: a stable kind code, the family (input or environment), where it happened and its
parameters, serialisable to JSON; the words for each kind are in toolkit.words, rendered only at the edge."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import words


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, sheet, row, column (header) and cell, each optional."""
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    cell: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Only the parts that are known, so the JSON says exactly what is located."""
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass(frozen=True)
class Problem:
    """One problem: kind code, family, location, parameters and the Chinese sentence rendered from them."""
    kind: str
    family: str
    message: str
    location: Location = field(default_factory=Location)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def guidance(self) -> str:
        return words.guidance(self.family)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "family": self.family, "message": self.message, "guidance": self.guidance,
                "location": self.location.to_dict(), "params": {k: plain(v) for k, v in self.params.items()}}


def plain(value: Any) -> Any:
    """A parameter as a JSON value: lists stay lists, numbers and text stay, anything else becomes its text."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
