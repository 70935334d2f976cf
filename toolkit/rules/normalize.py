"""Turn what people really type into the ledger's canonical values.

Pure functions: ids and unit names, status synonyms, dates in the forms units type,
deadline words, and the guard that keeps unit text from ever becoming a formula.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Literal

from .. import vocab
from ..model import Lexicon, Status
from .lexicon import NONE

_SPACES = re.compile(r"\s+")
# Characters nobody sees (zero-width space/joiners, word joiner, BOM, soft hyphen) that copying from web pages,
# WeChat and PDFs leaves in cells: one in a 重点问题 made a 15th problem, one in a unit name a 34th unit.
_INVISIBLE = {ord(c): None for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"}
_HAS_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]").search
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 60 is Excel's phantom 1900-02-29
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def clean_key(value: object) -> str:
    """Canonical form of an id, unit name or status word: NFKC, no spaces at all."""
    if type(value) is str:
        return _clean_key_text(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _clean_key_text(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _clean_key_text(text: str) -> str:
    """clean_key of a text, remembered: a ledger names its units, problems and statuses thousands of times."""
    if _HAS_INVISIBLE(text):
        text = text.translate(_INVISIBLE)
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def clean_text(value: object) -> str:
    """Free text as the unit wrote it, minus surrounding blanks; None → ''."""
    if type(value) is str:          # most cells: a search in C, translated only when one is there
        return (value.translate(_INVISIBLE) if _HAS_INVISIBLE(value) else value).strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return format_date(value)
    return str(value).translate(_INVISIBLE).strip()


def filled(value: object) -> bool:
    """bool(clean_text(value)) without building the text: whether a cell holds anything (every cell of a
    30,000-row master is asked once when its cells are accounted for)."""
    if type(value) is str:
        if _HAS_INVISIBLE(value):
            return bool(value.translate(_INVISIBLE).strip())
        return bool(value) and not value.isspace()
    return value is not None and bool(clean_text(value))


_EVIDENCE_LINK = re.compile(re.escape(vocab.EVIDENCE_LINK_TEXT).replace(re.escape("{count}"), r"\d+"))


def evidence_text(value: object) -> str:
    """A 佐证材料 cell as the unit or office wrote it: the toolkit's own link text
    (vocab.EVIDENCE_LINK_TEXT, in a cell left blank) reads as blank."""
    text = clean_text(value)
    return "" if _EVIDENCE_LINK.fullmatch(text) else text


_AMOUNT = re.compile(r"(-?\d+(?:\.\d+)?)(?:万元|万)?")


def amount(value: object) -> float | None:
    """An amount cell in 万元 (12.5, '12.5', '1,200万元'), zero or more; None when blank, ValueError (Chinese) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        found = _AMOUNT.fullmatch(clean_key(value).replace(",", ""))
        if not found:
            raise ValueError(f"“{clean_text(value)}”不是金额：请填写以万元为单位的数字（如 12.5），或留空")
        number = float(found[1])
    if number < 0:     # 应整改/已整改 totals would silently shrink: an amount is zero or more, as units' sheets require
        raise ValueError(f"“{clean_text(value)}”是负数：整改金额须为零或正数（以万元为单位），请改正或留空")
    return number


def split_units(value: object) -> list[str]:
    """Split a 配合单位 cell ('A、B，C') into clean unit names, order kept, no repeats; a role written
    beside a name (医政处（牵头）) is not part of it."""
    return [name for name, _ in unit_roles(value)]


_OPEN, _CLOSE = vocab.UNIT_ROLE_BRACKETS[0::2], vocab.UNIT_ROLE_BRACKETS[1::2]
_ROLE_MARK = re.compile("^(?P<name>.*?)[" + re.escape(_OPEN) + "](?P<role>[^" + re.escape(_OPEN + _CLOSE) + "]+)["
                        + re.escape(_CLOSE) + "]$")


def _role_of(text: str) -> str:
    """The role a marker such as （牵头）, 【配合单位】 or a bare 牵头 names ('' when it is no role)."""
    m = _ROLE_MARK.match(text)
    if m and not m["name"]:
        text = m["role"]
    return vocab.UNIT_ROLE_WORDS.get(text, "")


def unit_roles(value: object) -> list[tuple[str, str]]:
    """A 牵头单位/配合单位 cell as (unit name, role written beside it: 牵头/配合/''), order kept, no repeats.
    `医政处（牵头）`, `医政处 (配合)` and `医政处【牵头单位】` are the unit 医政处 with a role, not new units."""
    return list(_unit_roles("" if value is None else str(value)))


@functools.lru_cache(maxsize=1 << 14)
def _unit_roles(cell: str) -> tuple[tuple[str, str], ...]:
    """unit_roles of a cell's text, remembered: a ledger repeats the same unit cells on most of its rows."""
    text = unicodedata.normalize("NFKC", cell)
    parts = [clean_key(p) for p in re.split("[" + re.escape(vocab.CO_UNIT_SEPARATORS) + "]+", text)]
    out: list[tuple[str, str]] = []
    for part in filter(None, parts):
        if not any(ch.isalnum() for ch in part):    # “医政处 & 市人民医院”: a joining mark, never a unit
            continue
        role = _role_of(part)
        if role:                                  # a marker standing alone belongs to the name before it
            if out and not out[-1][1]:
                out[-1] = (out[-1][0], role)
            continue
        m = _ROLE_MARK.match(part)
        if m and m["name"] and m["role"] in vocab.UNIT_ROLE_WORDS:
            part, role = m["name"], vocab.UNIT_ROLE_WORDS[m["role"]]
        known = [i for i, (name, _) in enumerate(out) if name == part]
        if not known:
            out.append((part, role))
        elif role and not out[known[0]][1]:
            out[known[0]] = (part, role)
    return tuple(out)


_CJK = re.compile(r"^[\u4e00-\u9fff" + re.escape(vocab.PERSON_NAME_MARKS) + "]{2,4}$")


def looks_like_person(name: str) -> bool:
    """True for a short name that ends like no unit does (李某, 张三, 王××): probably a person typed beside
    the unit, which must not silently become a unit of its own."""
    if not _CJK.match(name) or name.endswith(vocab.UNIT_NAME_ENDINGS) or is_collective(name):
        return False
    return name[0] in vocab.COMMON_SURNAMES or any(c in vocab.PERSON_NAME_MARKS for c in name[1:])


def unit_core(name: str) -> str:
    """A unit name with its common long forms abbreviated (卫生健康委 → 卫健委): two names with one core are
    probably one unit written two ways."""
    for long, short in sorted(vocab.UNIT_ABBREVIATIONS.items(), key=lambda kv: -len(kv[0])):
        name = name.replace(long, short)
    return name


_TRAILING = re.compile(r"[。.,，;；!！、:：~～]+$")
_PERCENT = re.compile(r"^(?P<prefix>\D*?)(?P<n>\d{1,3}(?:\.\d+)?)%$")


def status(value: object, words: Lexicon = NONE) -> Status | Literal[""] | None:
    """The canonical status (a model.Status), '' for blank (meaning unchanged), None if not recognised; words:
    the profile's own (未整改, 未办结…).

    Trailing punctuation is ignored (“已完成。”); a typed percentage counts as 已完成 at 100,
    未启动 at 0 and 正在推进 in between (“完成80%”)."""
    key = _TRAILING.sub("", clean_key(value))
    if not key:
        return "" if not clean_key(value) else None
    if key in vocab.STATUS_SYNONYMS:
        return Status(vocab.STATUS_SYNONYMS[key])
    if key in words.status_words:           # the profile's own words (未整改, 未办结…)
        return Status(words.status_words[key])
    base = key[:-1] if key.endswith("中") else ""        # “正在办理中”: an under-way word said with 中
    if (vocab.STATUS_SYNONYMS.get(base) or words.status_words.get(base)) == vocab.IN_PROGRESS:
        return Status.IN_PROGRESS
    base = "未" + key[2:] if key[:2] in ("尚未", "暂未") else ""   # “尚未办理”, “暂未整改”: the list's 未… word
    if found := vocab.STATUS_SYNONYMS.get(base) or words.status_words.get(base):
        return Status(found)
    m = _PERCENT.match(key)
    if m and m["prefix"] in vocab.STATUS_PERCENT_PREFIXES:
        n = float(m["n"])
        if n > 100:
            return None
        return Status.DONE if n == 100 else Status.NOT_STARTED if n == 0 else Status.IN_PROGRESS
    return None


def status_hint(value: object) -> str:
    """Which status word a unit most likely meant by an unknown one (for the receipt's fix); "" when the
    word could mean two things (未完成: not started, or under way?) or says something else (不再推进)."""
    key = clean_key(value)
    if any(w in key for w in ("不再", "停止", "暂停", "不清楚")):
        return ""
    if vocab.MOSTLY_DONE in key:
        return vocab.MOSTLY_DONE
    if "未" in key or "没" in key:
        return vocab.NOT_STARTED if any(w in key for w in ("启动", "开始", "动", "开展")) else ""
    if any(w in key for w in ("部分", "推进", "中", "%", "一半")):
        return vocab.IN_PROGRESS
    if "完成" in key or "结" in key:
        return vocab.DONE
    return ""


_NO_QUOTES = {ord(q): None for q in vocab.HEADER_QUOTES}
_REFORM_YES = {w.upper() for w in vocab.REFORM_YES}
_REFORM_NO = {w.upper() for w in vocab.REFORM_NO}


def clean_header(value: object) -> str:
    """A header cell as compared with the vocabulary: NFKC, no spaces, line breaks or quotes."""
    return clean_key(value).translate(_NO_QUOTES)


def reform_mark(value: object) -> bool | None:
    """True/False for a 推动改革促进发展 mark (是, Y, 1, √, ★, “推动改革”…), None when unreadable."""
    if value is None or value == "":
        return False
    key = clean_header(value).upper()
    return True if key in _REFORM_YES else False if key in _REFORM_NO else None


def item_type(value: object, words: Lexicon = NONE) -> str | None:
    """Canonical 事项类型 ('' for blank), None if not recognised (words: the profile's too); quotes and spaces ignored."""
    key = clean_header(value)
    if not key:
        return ""
    if key in vocab.ITEM_TYPES:
        return key
    return vocab.ITEM_TYPE_SYNONYMS.get(key) or words.item_type_words.get(key)


def is_collective(unit: str) -> bool:
    """True for a name that stands for a group of units (委属各单位, 相关处室, 各区卫生健康局…)."""
    return (unit in vocab.COLLECTIVE_UNIT_WORDS or unit.startswith(vocab.COLLECTIVE_UNIT_PREFIXES)
            or unit.endswith(vocab.COLLECTIVE_UNIT_SUFFIXES))


def measure_id(value: object) -> str:
    """An id as text; a number the sheet formats as a date (45123 shown as 2023-07-17) stays the number."""
    if isinstance(value, (dt.datetime, dt.date)):
        day = value.date() if isinstance(value, dt.datetime) else value
        return str((day - _EXCEL_EPOCH).days)
    return clean_key(value)


_PERIOD = re.compile(r"^(\d{4})(?:年|[-./])(\d{1,2})(?:月(?:份)?)?$")


def period(value: object) -> str:
    """A reporting period as YYYY-MM ('2024年8月' → '2024-08'); other labels are kept as typed."""
    key = clean_key(value)
    m = _PERIOD.match(key)
    if m and 1 <= int(m[2]) <= 12:
        return f"{m[1]}-{int(m[2]):02d}"
    return key




_DATE_PATTERNS = [
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})[./\-](\d{1,2})[./\-](\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_MONTH_END = [re.compile(r"^(\d{4})年(\d{1,2})月(底|末)?$"), re.compile(r"^(\d{4})[./\-](\d{1,2})$")]
_YEAR_END = re.compile(r"^(\d{4})年(底|末)$")
_WORD_SYNONYMS = {"长期坚持": vocab.LONG_TERM, "长期": vocab.LONG_TERM, "长期推进": vocab.LONG_TERM,
                  "持续推进": vocab.ONGOING, "持续": vocab.ONGOING, "持续整改": vocab.ONGOING,
                  "立行立改": vocab.IMMEDIATE, "立即整改": vocab.IMMEDIATE}


def _month_end(year: int, month: int) -> dt.date:
    """The last day of a month; ValueError for a month that does not exist (2024.13, 2024年0月)."""
    if not 1 <= month <= 12:
        raise ValueError(month)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's 1900 date system, including its phantom 1900-02-29 (serial 60, refused)."""
    days = int(serial)
    if days < 1:
        raise ValueError(f"日期序号{serial}不是有效日期")
    if days == 60:
        raise ValueError("1900年2月29日并不存在（Excel 的历史遗留日期）")
    if days < 60:  # before Excel's fictitious leap day the epoch is one day later
        return dt.date(1899, 12, 31) + dt.timedelta(days=days)
    return _EXCEL_EPOCH + dt.timedelta(days=days)


def deadline(value: object, words: Lexicon = NONE) -> dt.date | str:
    """A deadline as a date or one of the deadline words (the profile's too); ValueError with a Chinese reason otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:
            return excel_serial_to_date(value)
        raise ValueError(f"“{value}”不是日期")
    key = clean_key(value)
    if not key:
        raise ValueError("完成时限为空")
    if key in _WORD_SYNONYMS:
        return _WORD_SYNONYMS[key]
    if key in words.deadline_words:
        return words.deadline_words[key]
    key = key.replace("号", "日")
    try:
        for pattern in _DATE_PATTERNS:
            m = pattern.match(key)
            if m:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
        for pattern in _MONTH_END:
            m = pattern.match(key)
            if m:
                return _month_end(int(m[1]), int(m[2]))
        m = _YEAR_END.match(key)
        if m:
            return dt.date(int(m[1]), 12, 31)
    except ValueError:
        raise ValueError(f"“{value}”不是存在的日期") from None
    raise ValueError(f"“{value}”既不是日期也不是“长期坚持/持续推进/立行立改”")


def format_date(value: dt.date) -> str:
    """2024年9月4日 — the form Chinese documents use."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def format_time(value: dt.datetime) -> str:
    """2024年8月19日9:05 — a date and a clock time as a Chinese document writes them (no space, no leading zero)."""
    return f"{format_date(value)}{value.hour}:{value.minute:02d}"


_CN_DIGITS = "〇一二三四五六七八九"


def format_date_cn(value: dt.date) -> str:
    """二〇二四年九月四日 — the signature-date form of official documents."""
    def small(n: int) -> str:
        if n < 10:
            return _CN_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("十" if tens == 1 else _CN_DIGITS[tens] + "十") + (_CN_DIGITS[ones] if ones else "")
    year = "".join(_CN_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{small(value.month)}月{small(value.day)}日"


def looks_like_formula(text: str) -> bool:
    """True when spreadsheet software could read the text as a formula or DDE call."""
    return isinstance(text, str) and text.startswith(FORMULA_PREFIXES)


def truncate_cell(text: str) -> str:
    """Fit text into one Excel cell, marking the cut so nobody mistakes it for the whole."""
    if len(text) <= vocab.EXCEL_CELL_LIMIT:
        return text
    keep = vocab.EXCEL_CELL_LIMIT - len(vocab.TRUNCATION_MARK)
    return text[:keep] + vocab.TRUNCATION_MARK


def period_text(period: str) -> str:
    """2024-08 → 2024年8月, as a period reads in a sentence or on a chart (other forms pass unchanged)."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", period.strip())
    return f"{m.group(1)}年{int(m.group(2))}月" if m else period
