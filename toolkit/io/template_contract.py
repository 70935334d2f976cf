"""The template contract between distribute and intake: canonical cell values, the workspace's signing key,
row fingerprints and the template signature, one floor below both so neither imports the other."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from pathlib import Path

from .. import vocab
from ..errors import ConfigError
from ..model import Settings
from ..problems import Location
from ..rules import normalize

META_TABLE_ROW = 10          # the per-row fingerprint table starts here in 模板信息


def canon(value) -> str:
    """One locked cell as a comparable string (dates ISO, spaces and widths normalised)."""
    if value is None or value == "":
        return ""
    if type(value) is str:
        return _canon_text(value)
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                                     and 20000 <= value <= 80000):
        try:
            d = normalize.deadline(value)
            return d.isoformat() if isinstance(d, dt.date) else d
        except ValueError:
            pass
    return _canon_key(value)


def _canon_key(value: object) -> str:
    """canon of a value that is not a date: its key, or the date it spells."""
    key = normalize.clean_key(value)
    try:  # a date typed as text in a locked cell compares equal to the real date
        d = normalize.deadline(key)
        return d.isoformat() if isinstance(d, dt.date) else d
    except ValueError:
        return key


# texts only (1, 1.0 and True would share a cache entry): a unit's rows repeat the same themes and words
_canon_text = functools.lru_cache(maxsize=8192)(_canon_key)


SECRET_FILE = ".zhenggai/secret.key"   # in the workspace folder, never in any workbook


def secret_path(settings: Settings) -> Path:
    return Path(settings.root) / SECRET_FILE


def ensure_secret(settings: Settings) -> bytes:
    """The workspace's signing key (32 random bytes), created with mode 0600 on first use. Template
    fingerprints are keyed with it, so a workbook built by anyone else from the master's content
    cannot pass as one the office issued."""
    path = secret_path(settings)
    if not path.exists():
        import os
        import secrets
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".~{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)          # fails if another process created it first: theirs is kept
        except FileExistsError:
            pass
        except OSError:                 # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        key = b""
    if len(key) != 32:
        raise ConfigError(kind="signing-key-damaged", where=Location(file=str(path)), path=path)
    return key


_JSON = json.JSONEncoder(ensure_ascii=False).encode     # json.dumps(..., ensure_ascii=False), its encoder made once


def row_fingerprint(values: list, key: bytes, unit: str, period: str) -> str:
    """Fingerprint of one row's locked cells, keyed with the workspace secret and bound to the
    unit and period the template was issued for."""
    cells = [_canon_text(v) if v and type(v) is str else canon(v) for v in values]    # texts straight to the cache
    payload = _JSON([normalize.clean_key(unit), normalize.clean_key(period), cells]).encode()
    return hmac.digest(key, payload, "sha256").hex()[:32]


def template_signature(key: bytes, unit: str, period: str, fingerprints: list[tuple[str, str]]) -> str:
    """Signature over a template's 模板信息: unit, period, version and every row's fingerprint."""
    rows = [[normalize.clean_key(mid), normalize.clean_key(fp)] for mid, fp in fingerprints]
    payload = json.dumps([normalize.clean_key(unit), normalize.clean_key(period), vocab.TEMPLATE_VERSION, rows],
                         ensure_ascii=False).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()
