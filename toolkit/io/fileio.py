"""Small file helpers shared by the core: content hashes, atomic writes, safe names, verified copies."""
from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

ZIP_LEVEL = 3     # deflate level of the workbooks and .docx written: zlib's 6 took 0.38 s of a 30,000-measure master,
                  # 3 takes 0.16 s for a file 18% larger (5.1 → 6.0 MB); Excel, WPS, Word and LibreOffice read any level
NAME_MAX = 255          # bytes of one file name on the usual file systems (ext4, NTFS counts UTF-16 units)


def file_sha256(path: Path, regular_only: bool = False) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks (regular_only: never through a link or a FIFO,
    see open_regular)."""
    h = hashlib.sha256()
    with (open_regular(path) if regular_only else open(path, "rb")) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stat_of(path: Path) -> list[int] | None:
    """[size, mtime_ns] of a file as last written (None when it is gone): a later edit or replacement changes it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def umask_mode(base: int = 0o666) -> int:
    """The mode a newly created file gets under the process umask (0644 under the usual 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def adopt_mode(tmp: Path, target: Path) -> None:
    """Give a temp file about to replace target the target's mode and group (a new file: the umask's).
    mkstemp creates 0600 files, which colleagues on a shared folder could not open."""
    try:
        st = os.stat(target)
    except OSError:
        os.chmod(tmp, umask_mode())
        return
    os.chmod(tmp, st.st_mode & 0o7777)
    if hasattr(os, "chown") and os.stat(tmp).st_gid != st.st_gid:
        try:
            os.chown(tmp, -1, st.st_gid)
        except OSError:
            pass          # not a member of that group: the mode is still kept


def atomic_write_bytes(path: Path, data: bytes, durable: bool = False) -> None:
    """Write bytes atomically: readers see the old file or the new one, never half of one.
    durable also fsyncs (for files that cannot be regenerated; notices and receipts can)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        adopt_mode(Path(tmp), path)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sweep_temps(folder: Path, recursive: bool = False, older_than: float = 0) -> int:
    """Remove the half-written .~tmp-* files a killed run left in one of the workspace's own folders
    (only ever called under the workspace lock, when no other run writes there; older_than: only those untouched
    for that many seconds, where a writer that holds no lock may still be writing); the number removed."""
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if (entry.name.startswith(".~tmp-") and entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime >= older_than):
                os.unlink(entry.path)
                removed += 1
            elif recursive and entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".~"):
                removed += sweep_temps(Path(entry.path), True)
        except OSError:
            continue          # the next run tries again
    return removed


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def fit_name(stem: str, tail: str = "", limit: int = NAME_MAX) -> str:
    """stem + tail as a file name of at most limit bytes in UTF-8, cutting the stem at a character
    boundary (tail, e.g. '_20240820-100000_ab12cd34ef56.xlsx', is kept whole)."""
    room = limit - len(tail.encode("utf-8", "ignore"))
    data = stem.encode("utf-8", "ignore")
    if len(data) > room:
        stem = data[:max(room, 0)].decode("utf-8", "ignore")
    return stem + tail


def open_regular(path: Path):
    """Open a regular file for reading without following a symlink or waiting on a FIFO
    (O_NOFOLLOW, O_NONBLOCK where the system has them); OSError for anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} 不是普通文件")
    return open(fd, "rb")


def copy_hashed(source: Path, target: Path) -> tuple[str, os.stat_result]:
    """Copy a regular file's bytes (see open_regular) to a new file target (created with the
    umask's mode, fsynced); return their SHA-256 and the source's status after the copy."""
    h = hashlib.sha256()
    with open_regular(source) as src, open(target, "xb") as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            h.update(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
        return h.hexdigest(), os.fstat(src.fileno())


def safe_filename(name: str) -> str:
    """A unit or leader name made safe as a file name on Windows and Linux."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("._") or "未命名单位"


_FULLWIDTH = str.maketrans('\\/:*?"<>|', "＼／：＊？＂＜＞｜")


def unit_file_names(units: list[str]) -> dict[str, str]:
    """{unit: file stem}, one distinct stem per unit (compared as Windows does, ignoring case). A character
    Windows forbids becomes its full-width twin, so 市*医院 and 市**医院 stay apart and the name still reads
    as the unit (NFKC turns it back); names that still collide all get a short digest of the unit."""
    stems = {u: safe_filename(re.sub(r"\s+", "_", u).translate(_FULLWIDTH)) for u in dict.fromkeys(units)}
    taken: dict[str, int] = {}
    for stem in stems.values():
        taken[stem.casefold()] = taken.get(stem.casefold(), 0) + 1
    return {u: stem if taken[stem.casefold()] == 1 else f"{stem}_{hashlib.sha256(u.encode()).hexdigest()[:6]}"
            for u, stem in stems.items()}
