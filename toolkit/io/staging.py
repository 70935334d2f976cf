"""A staging twin of the output folder: documents written there first and moved into place only once the master is.

The twin is a sibling of the output folder (the same depth, so relative links come out the same), holding a hard
link to every existing file in the scopes the writers may read or remove: they see the last run's files (the
督办编号 register, unchanged documents they need not rewrite, stale 催报 they remove) while the real folder is
untouched. Writers only ever replace a file (fileio.atomic_write_*), which gives the twin's name a new inode and
leaves the linked one alone; commit() then moves what they wrote into place and removes what they removed.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = ".~stage-"


@dataclass
class Stage:
    """A twin of `real` at `folder`; linked: {relative path: (device, inode)} of each file linked in at the start."""
    real: Path
    folder: Path
    linked: dict[str, tuple[int, int]] = field(default_factory=dict)

    def real_path(self, path: Path) -> Path:
        """Where a path under the twin belongs in the output folder (any other path as it is)."""
        try:
            return self.real / Path(path).relative_to(self.folder)
        except ValueError:
            return Path(path)


MARKER = ".~stage-owner"     # in the twin's root: the twin is whole (a twin without it is never committed)


def twin_name(real: Path) -> str:
    return f"{PREFIX}{real.name}-"


def _is_twin_of(real: Path, name: str) -> bool:
    """Whether a folder name is one of real's twins (.~stage-<name>-<pid>), never a sibling folder's."""
    return re.fullmatch(re.escape(twin_name(real)) + r"\d+", name) is not None


def open_stage(real: Path, scopes: list[str], exclude: tuple[str, ...] = ()) -> Stage | None:
    """A twin of the output folder `real`, with its own files and every file under the given sub-folders (but not
    those named in exclude) hard-linked in; None where no twin can be made (no hard links, a name too long, a parent
    folder the user may not write in): the caller then writes after the master, as a run without a twin does."""
    real = Path(real)
    real.mkdir(parents=True, exist_ok=True)
    stage = Stage(real, real.parent / f"{twin_name(real)}{os.getpid()}")
    try:
        shutil.rmtree(stage.folder, ignore_errors=True)
        stage.folder.mkdir()
        st = os.stat(real)
        os.chmod(stage.folder, st.st_mode & 0o7777)       # new documents get the folder's mode and group, as in place
        if hasattr(os, "chown") and os.stat(stage.folder).st_gid != st.st_gid:
            try:
                os.chown(stage.folder, -1, st.st_gid)
            except OSError:
                pass
        for entry in os.scandir(real):
            if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".~"):
                _link(stage, Path(entry.path))
        for scope in scopes:
            for dirpath, dirnames, filenames in os.walk(real / scope):
                dirnames[:] = [d for d in dirnames if d not in exclude and not d.startswith(".~")]
                for name in filenames:       # a temp file (.~…) a killed writer left is nobody's to read
                    path = Path(dirpath) / name
                    if not name.startswith(".~") and not path.is_symlink():
                        _link(stage, path)
        (stage.folder / MARKER).write_text(str(os.getpid()), encoding="utf-8")
    except OSError:
        discard(stage)
        return None
    return stage


def _link(stage: Stage, path: Path) -> None:
    rel = path.relative_to(stage.real)
    target = stage.folder / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(path, target)
    stage.linked[rel.as_posix()] = _ident(target)


def _ident(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def commit(stage: Stage) -> bool:
    """Move every file written into the twin into place and remove from the output folder the linked files the
    writers removed (each only while it is still the file linked in), then remove the twin. Nothing is moved, and
    False returned, when the twin is not whole (its marker gone) or a file to be replaced is no longer the one the
    writers read (saved over or added in the output folder meanwhile): the caller then writes again, in place."""
    if not (stage.folder / MARKER).is_file():
        discard(stage)
        return False
    kept, moves = set(), []
    for dirpath, _, filenames in os.walk(stage.folder):
        for name in filenames:
            staged = Path(dirpath) / name
            rel = staged.relative_to(stage.folder).as_posix()
            if rel == MARKER:
                continue
            kept.add(rel)
            if stage.linked.get(rel) != _ident(staged):
                moves.append(rel)      # written by this run (a linked file left alone stands as it is)
    if any(_ident(stage.real / rel) != stage.linked.get(rel) for rel in moves):
        discard(stage)
        return False
    for rel in moves:
        target = stage.real / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage.folder / rel, target)
    for rel, ident in stage.linked.items():
        if rel not in kept and _ident(stage.real / rel) == ident:
            (stage.real / rel).unlink()
    discard(stage)
    return True


def discard(stage: Stage) -> None:
    """Remove the twin; the output folder is left as it was."""
    shutil.rmtree(stage.folder, ignore_errors=True)


def sweep(real: Path) -> None:
    """Remove the twins a killed run left beside the output folder (only ever called under the workspace lock)."""
    real = Path(real)
    try:
        entries = list(os.scandir(real.parent))
    except OSError:
        return
    for entry in entries:
        if _is_twin_of(real, entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
