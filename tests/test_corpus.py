"""Every hostile or broken submission: the run completes, the receipt says where and what to fix,
the file is archived untouched, and a rejected file changes nothing in the master_file."""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.corpus.make_corpus import CASES, run_case
from toolkit import vocab
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_corpus_case(case, tmp_path):
    if case.needs_lo and office.soffice() is None:
        pytest.skip("LibreOffice 未安装,无法生成该格式的文件")
    settings, result, copies, before = run_case(case, tmp_path)
    expected = case.outcome if isinstance(case.outcome, tuple) else (case.outcome,)
    assert [f.outcome for f in result.files] == list(expected), [f.submission.problems for f in result.files]
    receipts = "".join(p.read_text(encoding="utf-8") for p in result.receipts)
    if case.says:
        assert case.says in receipts
    for f in result.files:                       # every file archived byte for byte
        assert f.archived.read_bytes() == copies[f.submission.name]
        for p in f.submission.problems:          # every problem names the file and says what to do
            assert p.file == f.submission.name and p.fix
            if p.row:
                assert p.sheet and p.column and f"第{p.row}行" in p.text()
    if all(o in (vocab.OUTCOME_REJECTED, vocab.OUTCOME_DUPLICATE) for o in expected):
        after = read_ledger(settings.master)
        assert all(m.status == s for m, s in zip(after.measures.values(),
                                                  ["正在推进", "正在推进", "正在推进", "未启动", "已完成", "已完成"]))
    if case.check:
        case.check(settings, result)
    assert not list(settings.path("inbox").iterdir())


def ledger_state(path):
    ledger = read_ledger(path)
    return ([m.values() for m in ledger.measures.values()], [o.values() for o in ledger.owners.values()])


def test_sigkill_at_random_points_never_leaves_a_mixed_master(tmp_path):
    """Kill the consolidation 50 times at random moments: the master always opens and is either
    exactly the state before or exactly the state after."""
    from tests.conftest import settings_for, small_ledger
    from tests.corpus.make_corpus import good
    from toolkit.io import master_file
    template = tmp_path / "template"
    settings = settings_for(template)
    master_file.write_master(small_ledger(), settings)
    settings.path("inbox").mkdir(parents=True)
    (template / "config.toml").write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nprogramme_start = "2024-03-01"\n',
        encoding="utf-8")
    sent = good(settings, settings.path("inbox"))
    os.utime(sent, (time.time() - 60, time.time() - 60))     # arrived a minute ago, not still being written
    before = ledger_state(settings.master)
    done = tmp_path / "done"
    shutil.copytree(template, done)
    cmd = [sys.executable, "-m", "toolkit", "consolidate", "-c"]
    t0 = time.perf_counter()
    subprocess.run(cmd + [str(done)], check=True, capture_output=True)
    full = time.perf_counter() - t0
    after = ledger_state(done / "master" / "整改台账.xlsx")
    assert after != before
    rng = random.Random(7)
    seen = {"before": 0, "after": 0}
    for i in range(50):
        run = tmp_path / f"run{i}"
        shutil.copytree(template, run)
        proc = subprocess.Popen(cmd + [str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full * 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = ledger_state(run / "master" / "整改台账.xlsx")
        assert state in (before, after), f"run {i}: mixed master"
        seen["before" if state == before else "after"] += 1
        if state == before:   # the submission is never lost: still in the inbox, or safely archived
            assert list((run / "inbox").iterdir()) or list((run / "archive").rglob("*.xlsx"))
        shutil.rmtree(run)
    assert seen["before"] and seen["after"], seen
