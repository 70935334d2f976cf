"""The list's own words: a profile's status, deadline and type words, header aliases and the hierarchy
columns it may leave out (model.Lexicon), carried explicitly by the settings into every reader.

The default (巡视巡察整改) adds nothing (NONE), so its reading is exactly vocab's. There is no process-wide
value: the resident service and the nightly scheduler read in worker threads, each with its settings' words.
"""
from __future__ import annotations

from ..model import Lexicon

__all__ = ["NONE", "Lexicon"]

NONE = Lexicon()
