"""Profiles: what kind of list a workspace keeps (巡视巡察整改, 审计整改, 督查督办 or the office's own TOML).

A profile names the programme (the word documents use where the default says 巡视), the list's own
status, deadline and type words, extra header aliases and the hierarchy columns it may leave out.
config.toml's `profile = "审计整改"` (or a path to a TOML file) picks one; the default changes nothing.
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import vocab
from ..errors import ConfigError
from ..model import COLUMN
from ..problems import Location
from ..rules import normalize
from ..rules.lexicon import Lexicon

FOLDER = Path(__file__).resolve().parent
DEFAULT = "巡视巡察整改"
HIERARCHY = [vocab.THEME, vocab.KEY_PROBLEM, vocab.ITEM, vocab.ITEM_TYPE]


@dataclass(frozen=True)
class Profile:
    """One kind of list: its wording in documents and the words its ledger and units use."""
    name: str
    programme: str                  # 巡视 / 审计 / 督办: the word in 督办单 titles and 公开进展
    work: str                       # 巡视整改 / 审计整改 / 督查督办: the work the 通报 schedules
    source: str                     # how 公开进展 opens: 本轮巡视反馈意见 / 本次审计 / 上级交办事项
    title: str                      # init's default title
    office: str                     # init's suggested signing office
    description: str = ""
    lexicon: Lexicon = field(default_factory=Lexicon)
    path: str = ""                  # the TOML it was read from
    wording: dict[str, str] = field(default_factory=dict)   # [wording]: how the 通报 names entries (vocab.NOTICE_WORDING)

    def words(self) -> dict[str, str]:
        """Template variables: 工作 (the programme word), 整改工作, 反馈来源, and the 通报's words for entries."""
        return {**vocab.NOTICE_WORDING, **self.wording,
                "工作": self.programme, "整改工作": self.work, "反馈来源": self.source}


def builtin_names() -> list[str]:
    """The shipped profiles, default first."""
    names = sorted(p.stem for p in FOLDER.glob("*.toml"))
    return [DEFAULT] + [n for n in names if n != DEFAULT]


def _at(where: str) -> Location:
    """The profile file a problem is in (its path, or a built-in profile's file name)."""
    return Location(file=where)


def _words(data: dict, key: str, where: str, canonical: list[str]) -> dict[str, str]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(kind="profile-words-not-table", where=_at(where), profile=where, key=key)
    out = {}
    for word, target in table.items():
        if target not in canonical:
            raise ConfigError(kind="profile-word-target", where=_at(where), profile=where, key=key, word=word,
                              target=target, canonical=list(canonical))
        if word in canonical and target != word:      # read as itself all the same: the line would be ignored
            raise ConfigError(kind="profile-word-is-canonical", where=_at(where), profile=where, key=key, word=word,
                              target=target)
        out[word.replace(" ", "")] = target
    return out


def _aliases(headers: dict, where: str) -> dict[str, list[str]]:
    """[headers]: each alias names one column only, never another column's header or alias (the column
    would silently be read as the wrong field, whichever came first)."""
    owner = {normalize.clean_header(a): c.header for c in COLUMN.values() for a in c.aliases}
    for name, aliases in headers.items():
        for alias in aliases:
            other = owner.setdefault(normalize.clean_header(alias), name)
            if other != name:
                raise ConfigError(kind="profile-alias-taken", where=_at(where), profile=where, name=name, alias=alias,
                                  other=other)
    return {h: [str(a) for a in v] for h, v in headers.items()}


def from_toml(text: str, where: str) -> Profile:
    """A profile from its TOML text; every wrong key or value is a ConfigError naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(kind="profile-toml", where=_at(where), profile=where, detail=str(exc)) from exc
    known = {"name", "programme", "work", "source", "title", "office", "description",
             "status", "deadlines", "item_types", "headers", "hierarchy", "wording"}
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.4)
            raise ConfigError(kind="profile-unknown-key-near" if near else "profile-unknown-key", where=_at(where),
                              profile=where, key=key, **({"near": near[0]} if near else {}))
    texts = {}
    for key in ("name", "programme", "work", "source", "title", "office"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(kind="profile-missing-text", where=_at(where), profile=where, key=key)
        texts[key] = data[key].strip()
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or any(h not in COLUMN or not isinstance(v, list) for h, v in headers.items()):
        raise ConfigError(kind="profile-headers", where=_at(where), profile=where, columns=list(COLUMN))
    hierarchy = data.get("hierarchy", {})
    optional = hierarchy.get("optional", [])
    defaults = hierarchy.get("defaults", {})
    if any(c not in HIERARCHY for c in optional) or any(c not in optional for c in defaults):
        raise ConfigError(kind="profile-hierarchy", where=_at(where), profile=where, columns=HIERARCHY)
    if (vocab.KEY_PROBLEM in optional or vocab.ITEM in optional) and not all(
            c in defaults for c in optional if c in (vocab.KEY_PROBLEM, vocab.ITEM)):
        raise ConfigError(kind="profile-hierarchy-defaults", where=_at(where), profile=where)
    lexicon = Lexicon(
        status_words=_words(data, "status", where, vocab.STATUSES),
        deadline_words=_words(data, "deadlines", where, [vocab.LONG_TERM, vocab.ONGOING, vocab.IMMEDIATE]),
        item_type_words=_words(data, "item_types", where, vocab.ITEM_TYPES),
        header_aliases=_aliases(headers, where),
        optional=tuple(optional), defaults={k: str(v) for k, v in defaults.items()})
    return Profile(**texts, description=str(data.get("description", "")), lexicon=lexicon, path=where,
                   wording=_wording(data, where))


def _wording(data: dict, where: str) -> dict[str, str]:
    """[wording]: the 通报's words for the list's entries; each key one of vocab.NOTICE_WORDING's, each value text."""
    table = data.get("wording", {})
    if not isinstance(table, dict):
        raise ConfigError(kind="profile-wording-not-table", where=_at(where), profile=where)
    for key, value in table.items():
        if key not in vocab.NOTICE_WORDING:
            near = difflib.get_close_matches(key, list(vocab.NOTICE_WORDING), n=1, cutoff=0.4)
            raise ConfigError(kind="profile-wording-unknown-near" if near else "profile-wording-unknown", where=_at(where),
                              profile=where, key=key, names=list(vocab.NOTICE_WORDING), **({"near": near[0]} if near else {}))
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(kind="profile-wording-not-text", where=_at(where), profile=where, key=key)
    if table.get("分类依据", vocab.NOTICE_GROUPINGS[0]) not in vocab.NOTICE_GROUPINGS:
        raise ConfigError(kind="profile-wording-grouping", where=_at(where), profile=where)
    return {k: v.strip() for k, v in table.items()}


def load(name: str = "", root: Path | None = None) -> Profile:
    """A built-in profile by name, or the office's own TOML (a path, relative to the workspace root)."""
    name = (name or DEFAULT).strip()
    if name.endswith(".toml"):
        path = Path(name) if Path(name).is_absolute() or root is None else Path(root) / name
        if not path.is_file():
            raise ConfigError(kind="profile-file-missing", where=Location(file=str(path)), name=name, path=path)
        return from_toml(path.read_text(encoding="utf-8-sig"), str(path))
    if name not in builtin_names():
        near = difflib.get_close_matches(name, builtin_names(), n=1, cutoff=0.3)
        raise ConfigError(kind="profile-unknown-near" if near else "profile-unknown", name=name, names=builtin_names(),
                          **({"near": near[0]} if near else {}))
    path = FOLDER / f"{name}.toml"
    return from_toml(path.read_text(encoding="utf-8"), path.name)
