"""Review of the kept master reading (io.ledger_cache): the reader left behind works where the toolkit runs, holds
nothing of the workspace, never raises into a run, and a cache another account could have written is never loaded."""
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit import demo
from toolkit.app import Workspace
from toolkit.io import ledger_cache
from toolkit.io.ledger_file import read_ledger, read_master, remember

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def staged(tmp_path):
    return demo.stage_demo(tmp_path / "ws")


def _arrived(settings, seconds: float = 60):
    end = time.monotonic() + seconds
    while ledger_cache.recall(settings) is None and time.monotonic() < end:
        time.sleep(0.2)
    return ledger_cache.recall(settings)


def test_the_reader_process_keeps_the_reading_where_python_has_no_os_nice(staged):
    """Windows' os module has no nice(): the process left behind must still read and keep the master."""
    code = ("import os, runpy\n"
            "del os.nice\n"
            "runpy.run_module('toolkit.io.ledger_file', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(staged), cwd=ROOT,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    recalled = ledger_cache.recall(staged)
    assert recalled is not None and recalled == read_ledger(staged.master, staged)


def _is_reader(args) -> bool:
    return isinstance(args, (list, tuple)) and "toolkit.io.ledger_file" in args


def _reader_started(monkeypatch) -> list:
    started = []
    real = subprocess.Popen

    def popen(args, *rest, **kwargs):
        proc = real(args, *rest, **kwargs)
        if _is_reader(args):
            started.append(proc)
        return proc
    monkeypatch.setattr(subprocess, "Popen", popen)
    return started


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="reads the process's folder from /proc")
def test_the_reader_left_behind_does_not_sit_in_the_workspace_folder(staged, monkeypatch):
    """Started from the workspace folder (the double-click shortcuts do), the reader must not keep it as its
    working folder: a USB stick or share could not be ejected, a Windows folder not renamed, while it reads."""
    monkeypatch.chdir(staged.root)
    monkeypatch.setattr(ledger_cache, "CACHE_FROM", 1)
    started = _reader_started(monkeypatch)
    Workspace(staged).run_once()
    assert len(started) == 1
    proc = started[0]
    try:
        cwd = Path(os.readlink(f"/proc/{proc.pid}/cwd"))
    except OSError:
        cwd = None                       # already ended: nothing held
    assert cwd is None or Path(staged.root).resolve() not in [cwd, *cwd.parents]
    assert _arrived(staged) == read_ledger(staged.master, staged)
    proc.wait(60)


@pytest.mark.parametrize("failure", [ValueError("embedded null byte"), subprocess.SubprocessError("no fork"),
                                     RecursionError("deep"), FileNotFoundError(2, "no python")])
def test_a_reader_that_cannot_start_never_stops_the_run(staged, monkeypatch, failure):
    monkeypatch.setattr(ledger_cache, "CACHE_FROM", 1)

    real = subprocess.Popen

    def refuse(args, *rest, **kwargs):
        if _is_reader(args):
            raise failure
        return real(args, *rest, **kwargs)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    report = Workspace(staged).run_once()
    assert report.consolidation.master_changed
    assert ledger_cache.recall(staged) is None


def test_a_python_that_is_not_one_leaves_no_cache_and_no_error(staged, monkeypatch, tmp_path):
    monkeypatch.setattr(ledger_cache, "CACHE_FROM", 1)
    monkeypatch.setattr(sys, "executable", "/bin/true" if Path("/bin/true").exists() else str(tmp_path / "none"))
    Workspace(staged).run_once()
    time.sleep(0.5)
    assert ledger_cache.recall(staged) is None
    assert len(read_master(staged).measures) == 263


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="gives a file to another account (root only)")
def test_a_cache_and_key_another_account_wrote_are_never_unpickled(staged, tmp_path):
    """A colleague who may write .zhenggai can put a key of their own and a cache signed with it there:
    the HMAC then checks out, so only the files' owner tells it is not this account's."""
    remember(staged)
    cache = ledger_cache.cache_path(staged)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    from toolkit.io.template_contract import secret_path
    key = b"\x11" * 32
    secret_path(staged).write_text(key.hex() + "\n", encoding="ascii")
    import hashlib
    import hmac
    blob = cache.read_bytes()
    signed = blob[:len(ledger_cache._TAG) + 32]
    body = pickle.dumps(Payload())
    cache.write_bytes(signed + hmac.new(key, signed + body, hashlib.sha256).digest() + body)
    os.chown(cache, 4242, 4242)
    os.chown(secret_path(staged), 4242, 4242)
    assert ledger_cache.recall(staged) is None
    assert not marker.exists()
    assert len(read_master(staged).measures) == 263


def test_a_cache_others_may_write_is_not_trusted(staged):
    if not hasattr(os, "getuid"):
        pytest.skip("POSIX modes")
    remember(staged)
    cache = ledger_cache.cache_path(staged)
    assert cache.stat().st_mode & 0o077 == 0            # kept for this account alone
    assert ledger_cache.recall(staged) is not None
    os.chmod(cache, 0o666)
    assert ledger_cache.recall(staged) is None


_UPGRADED_UNDER_A_RUNNING_SERVICE = """
import pickle, subprocess, sys
from pathlib import Path
from toolkit.io import ledger_cache
from toolkit.io.ledger_file import read_ledger
settings = pickle.load(sys.stdin.buffer)
source = Path(ledger_cache.__file__).with_name("ledger_file.py")      # the toolkit upgraded on disk meanwhile
text = source.read_text(encoding="utf-8")
source.write_text(text.replace("    notice_decisions(ledger, saved",
                               "    ledger.title += '（新版本）'\\n    notice_decisions(ledger, saved"), encoding="utf-8")
subprocess.run([sys.executable, "-m", "toolkit.io.ledger_file"], input=pickle.dumps(settings), check=True)
recalled = ledger_cache.recall(settings)
print("same" if recalled is None or recalled == read_ledger(settings.master, settings) else recalled.title)
"""


def test_a_service_running_older_code_never_takes_a_reading_newer_code_kept(staged, tmp_path):
    """The resident service runs the code it started with; a reader started after an upgrade runs the new one,
    so the service must not take that reading as its own (its fingerprint is of the code it runs)."""
    import shutil
    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "toolkit", package / "toolkit", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package)}
    done = subprocess.run([sys.executable, "-c", _UPGRADED_UNDER_A_RUNNING_SERVICE], input=pickle.dumps(staged),
                          cwd=package, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert done.stdout.decode().strip() == "same"
