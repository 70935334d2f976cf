"""The inbox as offices really have it: files still arriving or changed during a run, items that
are not submissions, unreadable or hostile files, clocks that are wrong, files sent twice."""
import datetime as dt
import os
import shutil
import stat
import time
import zipfile
from dataclasses import replace

import pytest

from tests.conftest import hand_in
from toolkit import vocab
from toolkit.consolidate import consolidate, inbox_fingerprint
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import normalize


def test_only_the_archived_copy_is_read_and_a_file_changed_during_the_run_stays(workspace, monkeypatch):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    original = sent.read_bytes()
    from toolkit.io import master_file
    write = master_file.write_master

    def unit_saves_again(ledger, settings, *rest):     # the unit overwrites its file while we consolidate
        sent.write_bytes(original + b"\0")
        return write(ledger, settings, *rest)
    monkeypatch.setattr(master_file, "write_master", unit_saves_again)
    result = consolidate(workspace)
    (f,) = result.files
    assert f.submission.path == f.archived and f.archived.parent == workspace.path("archive") / "2024-08"
    assert f.archived.read_bytes() == original
    assert sent.exists() and sent.read_bytes() == original + b"\0"
    assert [k.reason for k in result.kept] == ["文件在汇总期间被改动，留待下次汇总"]
    assert any("留待下次汇总" in line and sent.name in line for line in result.lines())


def test_a_file_still_being_written_is_deferred_not_rejected(workspace):
    workspace = replace(workspace, settle_seconds=60)
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}, when=dt.datetime.now())
    result = consolidate(workspace)
    assert result.files == [] and [d.name for d in result.deferred] == [sent.name]
    assert sent.exists() and not result.receipts and not read_ledger(workspace.master).log
    assert result.inbox_seen == [] and inbox_fingerprint(workspace.path("inbox")) != result.inbox_seen
    old = time.time() - 120
    os.utime(sent, (old, old))
    assert consolidate(workspace).files[0].outcome == vocab.OUTCOME_ACCEPTED and not sent.exists()


def test_a_file_growing_while_it_is_copied_is_deferred(workspace, monkeypatch):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    from toolkit import archive as module
    copy = module.copy_hashed

    def copy_while_the_unit_writes(source, target):
        out = copy(source, target)
        with open(source, "ab") as fh:
            fh.write(b"more")
        return out[0], os.stat(source)
    monkeypatch.setattr(module, "copy_hashed", copy_while_the_unit_writes)
    result = consolidate(workspace)
    assert result.files == [] and "仍在变化" in result.deferred[0].reason
    assert sent.exists() and not list((workspace.path("archive") / "2024-08").glob("*.xlsx"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX: symlinks and FIFOs")
def test_items_that_are_not_submissions_are_listed_never_followed_or_opened(workspace, tmp_path):
    inbox = workspace.path("inbox")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    outside = hand_in(workspace, "医政处", {"ZG-003": {vocab.STATUS: "已完成"}}, name="x.xlsx")
    elsewhere = tmp_path / "别处.xlsx"
    shutil.move(outside, elsewhere)
    (inbox / "医政处.xlsx").symlink_to(elsewhere)
    (inbox / ".同步").mkdir()                      # a hidden folder: never a submission
    shutil.copy(elsewhere, inbox / ".同步" / "医政处2.xlsx")
    (inbox / "空文件夹").mkdir()
    (inbox / "子文件夹").mkdir()                   # a folder is a submission: this one has no workbook
    (inbox / "子文件夹" / "说明.pdf").write_bytes(b"%PDF note")
    (inbox / ".DS_Store").write_bytes(b"x")
    (inbox / "~$办公室.xlsx").write_bytes(b"owner")
    os.mkfifo(inbox / "管道.xlsx")
    result = consolidate(workspace)
    assert [f.submission.name for f in result.files] == ["办公室.xlsx", "子文件夹"]
    folder = result.files[1]
    assert folder.outcome == vocab.OUTCOME_REJECTED and folder.submission.problems[0].kind == "package-without-workbook"
    assert any("“子文件夹”" in p.read_text(encoding="utf-8") for p in result.receipts)
    reasons = {i.name: i.reason for i in result.ignored}
    assert set(reasons) == {"医政处.xlsx", ".同步", "空文件夹", ".DS_Store", "~$办公室.xlsx", "管道.xlsx"}
    assert "符号链接" in reasons["医政处.xlsx"] and "管道" in reasons["管道.xlsx"]
    assert reasons[".同步"] == "隐藏文件夹" and reasons["空文件夹"] == "文件夹中没有文件"
    assert any(line.startswith("忽略的项目（6个）") for line in result.lines())
    assert read_ledger(workspace.master).measures["ZG-003"].status == vocab.IN_PROGRESS   # neither was read
    assert sorted(p.name for p in inbox.iterdir()) == sorted(reasons)     # the rejected folder is archived


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_file_is_rejected_with_a_receipt_and_the_rest_is_consolidated(workspace, monkeypatch):
    locked = hand_in(workspace, "医政处", {"ZG-003": {vocab.STATUS: "已完成"}}, when=dt.datetime(2024, 8, 19, 9))
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    if os.geteuid() == 0:          # root reads everything: deny the read the way the OS would
        from toolkit import archive as module
        copy = module.copy_hashed

        def denied(source, target):
            if source == locked:
                raise PermissionError(13, "Permission denied", str(source))
            return copy(source, target)
        monkeypatch.setattr(module, "copy_hashed", denied)
    else:
        os.chmod(locked, 0)
    result = consolidate(workspace)
    outcomes = {f.submission.name: f for f in result.files}
    bad = outcomes[locked.name]
    assert bad.outcome == vocab.OUTCOME_REJECTED and bad.archived is None and bad.submission.problems[0].kind == "file-no-read-permission"
    assert outcomes["办公室.xlsx"].outcome == vocab.OUTCOME_ACCEPTED
    assert len(result.receipts) == 2 and locked.exists()
    receipt = next(p for p in result.receipts if p.name.startswith(vocab.UNIDENTIFIED)).read_text(encoding="utf-8")
    assert "未能归档" in receipt and "已正常汇总" not in receipt


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="reader processes need fork")
def test_a_reader_that_crashes_or_hangs_rejects_only_its_file(workspace, monkeypatch):
    workspace = replace(workspace, read_timeout_seconds=1)
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}, when=dt.datetime(2024, 8, 20, 12))
    crash = hand_in(workspace, "医政处", {"ZG-003": {vocab.STATUS: "已完成"}}, name="崩溃.xlsx",
                    when=dt.datetime(2024, 8, 20, 10))
    hang = hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, name="卡住.xlsx",
                   when=dt.datetime(2024, 8, 20, 11))
    from toolkit import readers as module
    read = module.read_submission

    def reader(path, ledger, settings, received=None, name=None, sha256=None, key=None):
        if name == crash.name:
            os._exit(3)               # the reader process dies (e.g. a crash in a native library)
        if name == hang.name:
            time.sleep(600)           # the reader never comes back
        return read(path, ledger, settings, received, name, sha256, key=key)
    monkeypatch.setattr(module, "read_submission", reader)
    result = consolidate(workspace)
    outcomes = {f.submission.name: f for f in result.files}
    assert outcomes[sent.name].outcome == vocab.OUTCOME_ACCEPTED
    assert outcomes[crash.name].submission.problems[0].kind == "file-reader-crashed"
    (late,) = outcomes[hang.name].submission.problems
    assert late.kind == "file-reader-timeout" and late.params == {"seconds": 1} and late.file == hang.name
    assert all(outcomes[n].outcome == vocab.OUTCOME_REJECTED for n in (crash.name, hang.name))
    assert len(result.receipts) == 3
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE


def test_a_modification_time_in_the_future_counts_as_the_time_of_receipt(workspace):
    future = dt.datetime.now() + dt.timedelta(days=400)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}, when=future)
    before = dt.datetime.now().replace(microsecond=0)
    result = consolidate(workspace)
    received = result.files[0].submission.received
    assert before <= received <= dt.datetime.now()
    assert read_ledger(workspace.master).log[0].received == received.isoformat(timespec="seconds")
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "晚于本机当前时间" in receipt and normalize.format_time(future) in receipt


def test_every_file_gets_its_own_receipt_and_a_line_in_the_log(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}, name="第一次.xlsx", when=dt.datetime(2024, 8, 20, 9))
    broken = workspace.path("inbox") / "第二次.xlsx"
    broken.write_bytes(b"PK\x03\x04 cut short")
    os.utime(broken, (dt.datetime(2024, 8, 21, 9).timestamp(),) * 2)
    first = consolidate(workspace)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "正在推进"}}, name="上期.xlsx", when=dt.datetime(2024, 8, 19, 9))
    second = consolidate(workspace)
    receipts = first.receipts + second.receipts
    assert len(set(receipts)) == 3 and all(p.exists() for p in receipts)
    texts = {f.submission.name: p.read_text(encoding="utf-8") for f, p in
             zip(first.files + second.files, receipts)}
    assert "所有措施已正常汇总" in texts["第一次.xlsx"]
    assert "已正常汇总" not in texts["第二次.xlsx"] and "本文件未汇总" in texts["第二次.xlsx"]
    assert "已正常汇总" not in texts["上期.xlsx"] and "更新的版本" in texts["上期.xlsx"]
    log = read_ledger(workspace.master).log
    assert [(e.name, e.outcome) for e in log] == [("第一次.xlsx", vocab.OUTCOME_ACCEPTED), ("第二次.xlsx", vocab.OUTCOME_REJECTED),
                                           ("上期.xlsx", vocab.OUTCOME_SUPERSEDED)]


def test_a_file_rejected_for_an_office_mistake_can_be_taken_in_again(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    workspace = replace(workspace, period="2024-09")                # the office set the wrong period
    rejected = consolidate(workspace).files[0]
    assert rejected.outcome == vocab.OUTCOME_REJECTED and rejected.submission.problems[0].kind == "template-period"
    workspace = replace(workspace, period="2024-08")                # fixed
    shutil.copy(rejected.archived, workspace.path("inbox") / "办公室.xlsx")
    assert consolidate(workspace).files[0].outcome == vocab.OUTCOME_DUPLICATE   # resent as it was: a duplicate
    result = consolidate(workspace, again=[rejected.archived])
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_ACCEPTED and f.submission.name == "办公室.xlsx"
    assert f.submission.received == dt.datetime(2024, 8, 20, 10) and rejected.archived.exists()
    ledger = read_ledger(workspace.master)
    assert ledger.measures["ZG-001"].status == vocab.DONE
    assert [e.outcome for e in ledger.log] == [vocab.OUTCOME_REJECTED, vocab.OUTCOME_DUPLICATE, vocab.OUTCOME_ACCEPTED]


def test_cli_consolidate_again(workspace, tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import cli
    (workspace.root / "config.toml").write_text('title = "测试整改台账"\nperiod = "2024-09"\n'
                                                'reference_date = "2024-08-30"\n', encoding="utf-8")
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    archived = consolidate(workspace).files[0].archived
    assert not sent.exists()
    (workspace.root / "config.toml").write_text('title = "测试整改台账"\nperiod = "2024-08"\n'
                                                'reference_date = "2024-08-30"\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["consolidate", "-c", str(workspace.root), "--again", str(archived)])
    assert out.exit_code == 0, out.output
    assert "已采纳" in out.output and read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE


def test_a_rerun_after_a_crash_before_the_inbox_was_cleared_is_not_a_duplicate(workspace, monkeypatch):
    sent = hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    from toolkit.documents import receipts
    write = receipts.write_receipts

    def crash(*a, **k):
        raise RuntimeError("断电")
    monkeypatch.setattr(receipts, "write_receipts", crash)
    with pytest.raises(RuntimeError):
        consolidate(workspace)
    assert sent.exists() and read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE
    monkeypatch.setattr(receipts, "write_receipts", write)
    result = consolidate(workspace)
    assert result.files[0].outcome == vocab.OUTCOME_ACCEPTED and not sent.exists()
    assert len(read_ledger(workspace.master).log) == 1
    assert "已正常汇总" in result.receipts[0].read_text(encoding="utf-8")


def test_the_signing_key_lives_in_the_workspace_only(workspace):
    from toolkit.distribute import distribute, ensure_secret, secret_path
    key = ensure_secret(workspace)
    assert ensure_secret(workspace) == key and len(key) == 32
    path = secret_path(workspace)
    assert path == workspace.root / ".zhenggai" / "secret.key"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for d in distribute(workspace):
        with zipfile.ZipFile(d.path) as zf:
            blob = b"".join(zf.read(n) for n in zf.namelist())
        assert key.hex().encode() not in blob and key not in blob


def test_a_very_long_file_name_never_makes_a_name_too_long_for_the_disk(workspace):
    name = "关于巡视整改落实情况的报告" * 6 + "附件.xlsx"            # 248 bytes: unit unknown, receipt named after it
    broken = workspace.path("inbox") / name
    broken.write_bytes(b"not a workbook")
    os.utime(broken, (dt.datetime(2024, 8, 20, 9).timestamp(),) * 2)
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    result = consolidate(workspace)
    assert sorted(f.outcome for f in result.files) == sorted([vocab.OUTCOME_REJECTED, vocab.OUTCOME_ACCEPTED])
    for p in result.receipts + [f.archived for f in result.files]:
        assert p.exists() and len(p.name.encode()) <= 255
    assert not broken.exists()


def test_without_fork_the_files_are_read_in_this_process(workspace, monkeypatch):
    import multiprocessing
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])   # as on Windows
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    broken = workspace.path("inbox") / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04")
    os.utime(broken, (dt.datetime(2024, 8, 20, 9).timestamp(),) * 2)
    result = consolidate(workspace)
    assert sorted(f.outcome for f in result.files) == sorted([vocab.OUTCOME_ACCEPTED, vocab.OUTCOME_REJECTED])
