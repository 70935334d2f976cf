"""Full-width punctuation in Chinese text: a converter for what we write, a checker for tests.

Chinese sentences take ，；：（）！？ and “”; numbers, dates, ids and file names keep ASCII.
A mark counts as Chinese when a CJK character (or full-width mark) stands next to it; a pair
of brackets or straight quotes counts when its content or a neighbour is Chinese. File names
(办公室(重发).xlsx) and formulas units typed (“=HYPERLINK(…)”) are quoted verbatim and never
changed or reported.
"""
from __future__ import annotations

import re

CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d"
_CJK = re.compile(f"[{CJK}]")
FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
FILE_NAME = re.compile(r"[^\s“”‘’：:，,；;（）<>|]+\.(?:xlsx|xlsm|xls|xlam|docx|doc|pdf|png|txt|md|csv|json|zip)\b"
                       r"|(?<=“)=[^”\n]*", re.IGNORECASE)   # and a formula a unit typed, quoted as it was
_SINGLE = re.compile(r"(?<=[%s])\s*([,;:!?])|([,;:!?])(?=\s*[%s])" % (CJK, CJK))
_PARENS = re.compile(r"\(([^()\n]*)\)")
_QUOTES = re.compile(r'"([^"\n]*)"')


def _masked(text: str) -> tuple[str, list[str]]:
    """Text with file names replaced by placeholders (private-use characters), and the names."""
    names: list[str] = []

    def keep(m: re.Match[str]) -> str:
        names.append(m.group(0))
        return chr(0xE000 + len(names) - 1)
    return FILE_NAME.sub(keep, text), names


def _unmasked(text: str, names: list[str]) -> str:
    def name(m: re.Match[str]) -> str:
        k = ord(m.group(0)) - 0xE000
        return names[k] if k < len(names) else m.group(0)
    return re.sub("[\ue000-\uf8ff]", name, text)


def _chinese_pair(text: str, m: re.Match[str]) -> bool:
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end()] if m.end() < len(text) else ""
    return bool(_CJK.search(m.group(1)) or _CJK.match(before) or _CJK.match(after))


def fullwidth(text: str) -> str:
    """The text with half-width , ; : ! ? ( ) and straight quotes made full-width where Chinese."""
    text, names = _masked(text)
    for _ in range(2):   # a converted bracket makes its neighbours Chinese: settle in two passes
        text = _PARENS.sub(lambda m: f"（{m.group(1)}）" if _chinese_pair(text, m) else m.group(0), text)
        text = _QUOTES.sub(lambda m: f"“{m.group(1)}”" if _chinese_pair(text, m) else m.group(0), text)
        text = _SINGLE.sub(lambda m: FULL[m.group(1) or m.group(2)], text)
    return _unmasked(text, names)


def halfwidth_marks(text: str) -> list[str]:
    """Each half-width mark standing in Chinese text, shown with ten characters around it (empty: clean)."""
    masked, names = _masked(text)
    found = []
    for i, ch in enumerate(masked):
        if ch not in ',;:!?()"':
            continue
        near = masked[max(i - 1, 0):i] + masked[i + 1:i + 2]
        if _CJK.search(near):
            found.append(_unmasked(masked[max(i - 10, 0):i + 11], names).replace("\n", "⏎"))
    return found
