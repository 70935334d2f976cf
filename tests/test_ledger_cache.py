"""The master as the last write left it, read once (io.ledger_cache): recalled only for the very bytes, name, time,
settings and code it was read with, and only from a cache this workspace's key signed; anything else reads anew."""
import os
import pickle
import shutil
import time
from dataclasses import replace

import pytest

from toolkit import demo
from toolkit.app import Workspace
from toolkit.io import ledger_cache, ledger_file
from toolkit.io.ledger_file import read_ledger, read_master, remember
from toolkit.io.template_contract import secret_path


@pytest.fixture
def staged(tmp_path):
    return demo.stage_demo(tmp_path / "ws")


def test_a_remembered_master_is_recalled_equal_to_reading_it(staged):
    assert ledger_cache.recall(staged) is None                 # nothing kept yet
    assert remember(staged)
    recalled = ledger_cache.recall(staged)
    assert recalled is not None
    assert recalled == read_ledger(staged.master, staged)
    assert len(recalled.measures) == 263


def test_read_master_takes_the_remembered_reading_and_reads_the_file_on_a_miss(staged, monkeypatch):
    remember(staged)
    real = ledger_file.read_ledger
    monkeypatch.setattr(ledger_file, "read_ledger", lambda *a, **k: pytest.fail("read although remembered"))
    assert len(read_master(staged).measures) == 263
    monkeypatch.setattr(ledger_file, "read_ledger", real)
    os.utime(staged.master)                                    # saved again (same bytes, a new time): a miss
    calls = []
    monkeypatch.setattr(ledger_file, "read_ledger", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert len(read_master(staged).measures) == 263 and calls == [1]


def test_an_edited_master_is_read_anew(staged):
    remember(staged)
    ledger = read_ledger(staged.master, staged)
    first = next(iter(ledger.measures.values()))
    first.progress = "办公室手工改动的进展"
    from toolkit.io import master_file
    master_file.write_master(ledger, staged)
    assert ledger_cache.recall(staged) is None
    assert read_master(staged).measures[first.id].progress == "办公室手工改动的进展"


def test_other_settings_or_other_code_are_a_miss(staged, monkeypatch):
    remember(staged)
    assert ledger_cache.recall(replace(staged, unit_map={"市人民医院": "市第一人民医院"})) is None
    monkeypatch.setattr(ledger_cache, "code_fingerprint", lambda: "another version of the toolkit")
    assert ledger_cache.recall(staged) is None


def test_a_damaged_or_foreign_cache_is_never_unpickled(staged, tmp_path):
    remember(staged)
    path = ledger_cache.cache_path(staged)
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF                                          # a damaged page
    path.write_bytes(bytes(blob))
    assert ledger_cache.recall(staged) is None
    path.write_bytes(bytes(blob[:1000]))                       # cut short
    assert ledger_cache.recall(staged) is None

    marker = tmp_path / "ran"

    class Payload:                                             # what a planted pickle would run when loaded
        def __reduce__(self):
            return (open, (str(marker), "w"))
    remember(staged)
    head = path.read_bytes()[:len(ledger_cache._TAG) + 64]
    path.write_bytes(head + pickle.dumps(Payload()))           # the right key, another body: the HMAC fails
    assert ledger_cache.recall(staged) is None
    assert not marker.exists()

    other = demo.stage_demo(tmp_path / "other")                # the same master, another workspace's key
    secret_path(other).write_text("ab" * 32 + "\n", encoding="ascii")
    remember(other)
    shutil.copy(ledger_cache.cache_path(other), path)
    assert ledger_cache.recall(staged) is None


def test_check_reads_the_file_itself(staged, monkeypatch):
    remember(staged)
    monkeypatch.setattr(ledger_cache, "recall", lambda *a: pytest.fail("check must read the file"))
    problems: list[str] = []
    assert len(read_master(staged, problems).measures) == 263


def test_a_run_on_a_large_master_leaves_it_read_for_the_next_run(staged, monkeypatch):
    monkeypatch.setattr(ledger_cache, "CACHE_FROM", 1)         # the demo's 263 measures count as large here
    report = Workspace(staged).run_once()
    assert report.consolidation.master_changed
    end = time.monotonic() + 60
    while ledger_cache.recall(staged) is None and time.monotonic() < end:
        time.sleep(0.2)
    recalled = ledger_cache.recall(staged)
    assert recalled is not None, "the reading left behind never arrived"
    assert recalled == read_ledger(staged.master, staged)


def test_a_small_master_starts_no_reader(staged):
    Workspace(staged).run_once()
    time.sleep(1)
    assert not ledger_cache.cache_path(staged).exists()


def test_refreshing_the_master_also_leaves_it_read(staged, monkeypatch):
    monkeypatch.setattr(ledger_cache, "CACHE_FROM", 1)
    import datetime as dt
    refreshed = Workspace(staged).refresh_master(on=dt.date(2024, 9, 20))     # another date: the file is rewritten
    assert refreshed.written
    end = time.monotonic() + 60
    while ledger_cache.recall(staged) is None and time.monotonic() < end:
        time.sleep(0.2)
    assert ledger_cache.recall(staged) == read_ledger(staged.master, staged)


def test_a_reader_killed_long_ago_leaves_no_half_written_cache_behind(staged):
    folder = ledger_cache.cache_path(staged).parent
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / ".~tmp-killed.pickle", folder / ".~tmp-writing.pickle"
    for path in (old, fresh):
        path.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert remember(staged)
    assert not old.exists() and fresh.exists()       # a reader still writing is left alone
