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
from toolkit.io import ledger_cache, ledger_file
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
