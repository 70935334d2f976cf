"""The master as the last write left it, read once: read_ledger's own result for those exact bytes, kept for the next run.

Reading a 30,000-measure master is the run's longest step. A master the toolkit wrote and nobody edited since
reads the same every time, so after a run writes it a detached process reads it (read_ledger, in full, with every
check) and keeps the result under a key of everything that result depends on: the file's bytes (SHA-256), its
name and modification time, the profile's words and the [units] mapping, and this code. recall() gives it back
only when every part of the key matches and the workspace key's HMAC proves the file is the one remember() wrote;
anything else (an office edit, another version of the toolkit, a damaged or foreign cache) is a miss, and the
master is read as always. A cache never changes a figure: it is the reader's output, for the same input.
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import hmac
import os
import pickle
import stat
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from ..model import Ledger, Settings
from .fileio import sweep_temps
from .template_contract import ensure_secret, secret_path

CACHE_FILE = ".zhenggai/ledger-cache.pickle"     # beside the workspace key, never in any workbook
CACHE_FROM = 5000          # measures; a smaller master reads in well under a second: not worth a process
_TAG = b"zhenggai-ledger-cache-1\n"


def cache_path(settings: Settings) -> Path:
    return Path(settings.root) / CACHE_FILE


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """This toolkit's source and the reader it uses (python-calamine), Python's version: a change to any reads anew."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        h.update(metadata.version("python-calamine").encode())
    except metadata.PackageNotFoundError:
        h.update(b"?")
    h.update(repr(tuple(sys.version_info)).encode())
    return h.hexdigest()


def _key(data: bytes, name: str, st: os.stat_result, settings: Settings) -> bytes:
    """Everything read_ledger's result depends on, as one digest (the time is also as read_ledger words it)."""
    saved = dt.datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M")
    h = hashlib.sha256(hashlib.sha256(data).digest())
    h.update(f"\0{name}\0{st.st_mtime_ns}\0{saved}\0{code_fingerprint()}\0".encode())
    h.update(pickle.dumps((getattr(settings, "lexicon", None), dict(getattr(settings, "unit_map", {}) or {})),
                          pickle.HIGHEST_PROTOCOL))
    return h.digest()


def bytes_and_status(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its status, from one open: both of the same version, whatever replaces it meanwhile."""
    with open(path, "rb") as fh:
        return fh.read(), os.fstat(fh.fileno())


def _own_bytes(path: Path) -> bytes | None:
    """The file's bytes when it is a regular file only this account could have written (POSIX: its owner, no group
    or other write bit), checked on the very file read; else None. A colleague who may write .zhenggai could put a
    key of their own there beside a cache signed with it: the HMAC would check out, the owner does not."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    with open(os.open(path, flags), "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return None
        return fh.read()


def recall(settings: Settings) -> Ledger | None:
    """read_ledger(settings.master, settings) as remember() kept it for the master's present bytes, or None."""
    cache = cache_path(settings)
    if not cache.is_file() or not secret_path(settings).is_file():
        return None
    try:
        blob = _own_bytes(cache)
        if blob is None:
            return None
        data, st = bytes_and_status(Path(settings.master))
        key = _key(data, Path(settings.master).name, st, settings)
        head = len(_TAG) + 32 + 32
        if blob[:len(_TAG)] != _TAG or blob[len(_TAG):len(_TAG) + 32] != key:
            return None
        mac = hmac.new(ensure_secret(settings), blob[:len(_TAG) + 32] + blob[head:], hashlib.sha256).digest()
        if not hmac.compare_digest(mac, blob[len(_TAG) + 32:head]):
            return None
        collecting = gc.isenabled()
        gc.disable()            # a million objects made at once: no collection can free any of them
        try:
            ledger = pickle.loads(blob[head:])
        finally:
            if collecting:
                gc.enable()
    except Exception:          # unreadable, damaged or from elsewhere: the master is read as always
        return None
    return ledger if isinstance(ledger, Ledger) else None


def keep(settings: Settings, data: bytes, st: os.stat_result, ledger: Ledger) -> None:
    """Keep read_ledger's result for the master bytes data (with their status st) for recall()."""
    body = pickle.dumps(ledger, pickle.HIGHEST_PROTOCOL)
    signed = _TAG + _key(data, Path(settings.master).name, st, settings)
    mac = hmac.new(ensure_secret(settings), signed + body, hashlib.sha256).digest()
    path = cache_path(settings)
    sweep_temps(path.parent, older_than=3600)   # readers killed long ago; one still writing is left alone
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)   # 0600: this account's alone
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(signed + mac + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


code_fingerprint()    # taken as the code is loaded: a service still running older code after an upgrade keeps its own
