"""The application layer: one run at a time (an OS lock that dies with its process), an open master
or notice is never overwritten, file errors speak Chinese, a rerun notices what matters."""
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

import toolkit
from tests.conftest import hand_in
from toolkit import vocab
from toolkit.app import RunLock, Workspace, owner_files
from toolkit.cli import cli
from toolkit.errors import BusyError, FileAccessError
from toolkit.io import shortcuts
from toolkit.io.ledger_file import read_ledger

RACER = """
import os, sys, time
from pathlib import Path
from toolkit.app import RunLock
lock_path, shared, go, n = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
lock = RunLock(Path(lock_path), wait_seconds=60)
Path(f"{go}.{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
for _ in range(n):
    with lock:
        inside, count = shared.read_text().split()
        if inside != "0":
            print("OVERLAP", flush=True)
        shared.write_text(f"{os.getpid()} {count}")
        os.sched_yield()
        if shared.read_text().split()[0] != str(os.getpid()):
            print("OVERLAP", flush=True)
        shared.write_text(f"0 {int(count) + 1}")
"""


def test_two_processes_racing_1200_times_are_never_inside_together(tmp_path):
    shared, go, n = tmp_path / "shared.txt", tmp_path / "go", 600
    shared.write_text("0 0")
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / ".lock"), str(shared), str(go), str(n)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    while len(list(tmp_path.glob("go.*"))) < 2:        # both ready: start them together
        time.sleep(0.01)
    go.touch()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert "OVERLAP" not in "".join(outputs)
    assert shared.read_text() == f"0 {2 * n}"          # no lost update either


def test_the_lock_dies_with_its_process(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from toolkit.app import RunLock\n"
                               "with RunLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n",
                               str(tmp_path / ".lock")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(BusyError, match="另一个操作"):
        with RunLock(tmp_path / ".lock", wait_seconds=0):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with RunLock(tmp_path / ".lock", wait_seconds=10):    # no stale lock to clean up
        pass


@pytest.mark.parametrize("marker", ["~$整改台账.xlsx", ".~lock.整改台账.xlsx#"])
def test_an_open_master_is_never_overwritten(workspace, monkeypatch, marker):
    (workspace.master.parent / marker).write_bytes(b"owner")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = workspace.master.read_bytes()
    monkeypatch.setattr("toolkit.guards.time.sleep", lambda s: None)
    for operation in (lambda w: w.consolidate(), lambda w: w.run_once()):
        with pytest.raises(BusyError, match="正被打开.*已等待30秒"):
            operation(Workspace(workspace))
    assert workspace.master.read_bytes() == before
    assert [p.name for p in workspace.path("inbox").iterdir()] == ["办公室.xlsx"]


def test_the_run_waits_for_the_master_to_be_closed_then_proceeds(workspace, monkeypatch):
    owner = workspace.master.with_name("~$" + workspace.master.name)
    owner.write_bytes(b"owner")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    monkeypatch.setattr("toolkit.guards.time.sleep", lambda s: owner.unlink())   # closed while we wait
    result = Workspace(workspace).consolidate()
    assert result.master_changed and read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE


@pytest.mark.parametrize("marker", ["~$进展通报.docx", ".~lock.进展通报.docx#"])
def test_a_notice_open_in_word_is_never_overwritten(workspace, monkeypatch, marker):
    workspace_ = Workspace(workspace)
    written = workspace_.notices()
    docx = next(p for p in written if p.name == "进展通报.docx")
    (docx.parent / marker).write_bytes(b"owner")
    before = docx.read_bytes()
    workspace_.settings = replace(workspace, submit_by=None)      # a change that would rewrite the notice
    monkeypatch.setattr("toolkit.guards.time.sleep", lambda s: None)
    with pytest.raises(BusyError, match="进展通报.docx 正被打开"):
        workspace_.notices()
    assert docx.read_bytes() == before


def test_word_owner_files_of_long_names_are_recognised(tmp_path):
    doc = tmp_path / "市卫生健康信息中心.docx"          # Word: ~$ replaces the first two characters
    (tmp_path / "~$生健康信息中心.docx").write_bytes(b"")
    (tmp_path / "~$他文件.docx").write_bytes(b"")
    assert [p.name for p in owner_files(doc)] == ["~$生健康信息中心.docx"]
    assert owner_files(tmp_path / "办公室.docx") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_output_folder_is_a_chinese_message_naming_it(workspace):
    output = workspace.path("output")
    output.mkdir()
    output.chmod(0)
    try:
        with pytest.raises(FileAccessError, match="没有权限读写 .*output"):
            Workspace(workspace).notices()
    finally:
        output.chmod(0o755)


def test_file_errors_become_one_chinese_line_naming_the_file(workspace):
    (workspace.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n',
                                                encoding="utf-8")
    workspace.path("output").write_text("not a folder")         # what root cannot be kept out of
    result = CliRunner().invoke(cli, ["notice", "-c", str(workspace.root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "错误：无法读写" in result.output and "output" in result.output


def test_permission_denied_while_writing_the_master_names_it(workspace, monkeypatch):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})

    def denied(self):
        raise PermissionError(13, "Permission denied", str(workspace.master))
    monkeypatch.setattr("toolkit.io.sheets.Book.close", denied)
    with pytest.raises(FileAccessError, match="没有权限读写 .*整改台账.xlsx"):
        Workspace(workspace).consolidate()
    assert list(workspace.path("inbox").iterdir())


# ---------------------------------------------------------------- a rerun notices what matters

def test_a_rerun_notices_a_changed_setting(workspace):
    first = Workspace(workspace).run_once()
    assert not first.quick and Workspace(workspace).run_once().quick
    workspace = replace(workspace, submit_by=workspace.submit_by.replace(day=20))
    assert not Workspace(workspace).run_once().quick


def test_a_rerun_notices_changed_templates(workspace):
    from toolkit.documents import templating
    templating.write_copies(workspace)                # the workspace's own templates/, used first
    templates = workspace.root / templating.WORKSPACE_FOLDER
    Workspace(workspace).run_once()
    assert Workspace(workspace).run_once().quick
    path = templates / "进展通报.md.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n（本期新增说明）\n", encoding="utf-8")
    again = Workspace(workspace).run_once()
    assert not again.quick
    md = next(p for p in again.notices if p.name == "进展通报.md")
    assert "本期新增说明" in md.read_text(encoding="utf-8")


def test_a_file_arriving_during_a_run_is_taken_in_by_the_next(workspace, monkeypatch):
    from toolkit.documents import notices
    write_notices = notices.write_notices
    arrived = []

    def late_arrival(*args, **kwargs):       # the inbox was listed long ago; a unit drops a file now
        if not arrived:
            arrived.append(hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}}))
        return write_notices(*args, **kwargs)
    monkeypatch.setattr(notices, "write_notices", late_arrival)
    Workspace(workspace).run_once()
    assert arrived[0].exists()
    second = Workspace(workspace).run_once()
    assert not second.quick and second.consolidation.count(vocab.OUTCOME_ACCEPTED) == 1
    assert read_ledger(workspace.master).measures["ZG-004"].status == vocab.IN_PROGRESS


def test_the_package_exports_the_workspace(workspace):
    assert "Workspace" in toolkit.__all__ and toolkit.Workspace is Workspace
    (workspace.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n',
                                                encoding="utf-8")
    report = toolkit.Workspace.open(workspace.root).run_once()
    assert report.figures.total == 6


# ---------------------------------------------------------------- killing a CLI run while another waits

def test_killing_a_cli_consolidate_lets_the_waiting_nightly_finish_the_job(workspace):
    (workspace.root / "config.toml").write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nsubmit_by = "2024-08-25"\n'
        '[limits]\nlock_wait_seconds = 60\n', encoding="utf-8")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    hand_in(workspace, "市人民医院", {"ZG-004": {vocab.STATUS: vocab.IN_PROGRESS}})
    cmd = [sys.executable, "-m", "toolkit"]
    first = subprocess.Popen(cmd + ["consolidate", "-c", str(workspace.root)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = workspace.root / ".整改台账.lock"
    while first.poll() is None:                 # wait until the consolidation holds the lock…
        try:
            with RunLock(lock, wait_seconds=0):
                pass
        except BusyError:
            first.send_signal(signal.SIGSTOP)   # …and freeze it there, mid-run
            break
        time.sleep(0.005)
    nightly = subprocess.Popen(cmd + ["nightly", "-c", str(workspace.root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)                             # the nightly starts and waits for the lock
    first.send_signal(signal.SIGKILL)
    first.wait()
    out, err = nightly.communicate(timeout=60)
    assert nightly.returncode == 0, err
    assert "总体完成率" in out and "Traceback" not in err
    ledger = read_ledger(workspace.master)                   # whole, and holding both submissions
    assert ledger.measures["ZG-001"].status == vocab.DONE
    assert ledger.owners[("ZG-004", "市人民医院")].status == vocab.IN_PROGRESS
    assert not list(workspace.path("inbox").iterdir())
    assert len(list(workspace.path("archive").rglob("*.xlsx"))) == 2


def test_a_notice_run_without_libreoffice_says_so_as_one_chinese_hint(workspace, monkeypatch):
    from click.testing import CliRunner

    from toolkit.cli import cli
    from toolkit.io import office
    monkeypatch.setattr(office, "soffice", lambda: None)
    (workspace.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n',
                                                encoding="utf-8")
    result = CliRunner().invoke(cli, ["notice", "-c", str(workspace.root / "config.toml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("提示：未安装 LibreOffice") == 1 and "Warning" not in result.output
    assert not list((workspace.path("output")).rglob("*.pdf"))


def test_the_nightly_report_names_what_the_notices_could_not_do(workspace, monkeypatch):
    from toolkit.app import Workspace
    from toolkit.io import office
    monkeypatch.setattr(office, "soffice", lambda: None)
    report = Workspace(workspace).run_once()
    assert any(w.startswith("未安装 LibreOffice") for w in report.warnings)
    assert "提示：未安装 LibreOffice" in report.report_path.read_text(encoding="utf-8")


def test_font_and_pdf_settings_are_read_and_checked(tmp_path):
    from toolkit import config
    s = config.from_dict({"notice_pdf": False, "wechat_chars": 300,
                          "fonts": {"body": ["仿宋", "宋体"], "chart": "/x/simhei.ttf"}}, tmp_path)
    assert s.notice_pdf is False and s.wechat_chars == 300
    assert s.fonts == {"body": ["仿宋", "宋体"], "chart": "/x/simhei.ttf"}
    with pytest.raises(config.ConfigError, match="fonts.body"):
        config.from_dict({"fonts": {"body": 3}}, tmp_path)
    with pytest.raises(config.ConfigError, match="是否想写“body”"):
        config.from_dict({"fonts": {"bdy": "仿宋"}}, tmp_path)


def test_init_writes_config_folders_shortcuts_an_empty_master_and_the_key_and_refuses_twice(tmp_path):
    import openpyxl
    folder = tmp_path / "台账"
    result = CliRunner().invoke(cli, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    for name in ("config.toml", ".zhenggai/secret.key", "master/整改台账.xlsx", "刷新统计.cmd", "刷新统计.sh"):
        assert (folder / name).is_file() and name in result.output
    assert all((folder / d).is_dir() for d in ("inbox", "outbox", "archive", "output", "backup"))
    assert len(shortcuts.COMMANDS) == 5
    assert sorted(p.name for p in folder.glob("*.cmd")) == sorted(f"{t}.cmd" for t in shortcuts.COMMANDS)
    assert os.access(folder / "汇总报送.sh", os.X_OK)
    ws = openpyxl.load_workbook(folder / "master" / "整改台账.xlsx")[vocab.SHEET_LEDGER]
    assert [c.value for c in ws[2]][:len(vocab.COLUMNS)] == vocab.COLUMNS and ws.cell(3, 1).value
    key = (folder / ".zhenggai" / "secret.key").read_bytes()
    again = CliRunner().invoke(cli, ["init", str(folder)])
    assert again.exit_code == 1 and "已存在" in again.output and "Traceback" not in again.output
    assert (folder / ".zhenggai" / "secret.key").read_bytes() == key


def test_init_keeps_a_master_the_office_put_there_first(tmp_path):
    (tmp_path / "master").mkdir()
    (tmp_path / "master" / "整改台账.xlsx").write_bytes(b"ours")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "master" / "整改台账.xlsx").read_bytes() == b"ours"
    assert "master/整改台账.xlsx" not in result.output


def test_refresh_rewrites_the_derived_sheets_from_the_master_alone(workspace):
    import openpyxl

    from toolkit.rules.normalize import format_date
    (workspace.root / "config.toml").write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-09-10"\n', encoding="utf-8")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})        # waits in the inbox, untouched
    before = read_ledger(workspace.master)
    result = CliRunner().invoke(cli, ["refresh", "-c", str(workspace.root)])
    assert result.exit_code == 0, result.output
    assert "已刷新" in result.output and "基准日期 2024-09-10" in result.output
    after = read_ledger(workspace.master)
    assert [m.values() for m in after.measures.values()] == [m.values() for m in before.measures.values()]
    assert [p.name for p in workspace.path("inbox").iterdir()] == ["办公室.xlsx"]
    wb = openpyxl.load_workbook(workspace.master)
    assert f"基准日期 {format_date(dt.date(2024, 9, 10))}" in wb[vocab.SHEET_STATS]["A1"].value
    overdue = [c.value for c in wb[vocab.SHEET_OVERDUE]["A"]]
    assert "ZG-002" in overdue                                   # due 2024-09-03: overdue on 09-10, not on 08-30
    assert any(str(r[0].value) == "2024-08" for r in wb[vocab.SHEET_HISTORY].iter_rows(min_row=3))
    again = CliRunner().invoke(cli, ["refresh", "-c", str(workspace.root)])
    assert again.exit_code == 0 and "未改动文件" in again.output


def test_refresh_does_not_overwrite_a_master_open_in_excel(workspace):
    (workspace.root / "config.toml").write_text(
        'period = "2024-08"\nreference_date = "2024-09-10"\n[limits]\nlock_wait_seconds = 0\n', encoding="utf-8")
    workspace.master.with_name("~$" + workspace.master.name).write_bytes(b"Excel")
    before = workspace.master.read_bytes()
    result = CliRunner().invoke(cli, ["refresh", "-c", str(workspace.root)])
    assert result.exit_code == 1 and "正被打开" in result.output
    assert workspace.master.read_bytes() == before


def test_file_errors_of_every_kind_become_one_chinese_sentence_naming_the_place(tmp_path):
    import errno
    import sqlite3

    import xlsxwriter.exceptions

    from toolkit.app import file_errors
    from toolkit.errors import FileAccessError
    cases = [
        (xlsxwriter.exceptions.FileCreateError(OSError(errno.ENOSPC, "No space left on device", "/x/台账.xlsx")),
         "磁盘空间不足，无法写入 /x/台账.xlsx"),
        (OSError(errno.EROFS, "Read-only file system", "/x/回执/.~tmp-abc.txt"), "无法读写 /x/回执：所在位置是只读的"),
        (OSError(errno.EEXIST, "File exists", "/x/a"), "已有同名的文件"),
        (sqlite3.OperationalError("database or disk is full"), "变更记录数据库：磁盘空间不足"),
    ]
    for exc, says in cases:
        with pytest.raises(FileAccessError) as err:
            with file_errors(tmp_path):
                raise exc
        assert says in str(err.value) and not any(w in str(err.value) for w in ("Errno", "File exists", "Read-only"))


def test_a_cli_command_outside_the_workspace_reports_a_bad_path_in_chinese(tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import cli
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["excel", "build", "-o", str(tmp_path / "a-file" / "x")])
    assert result.exit_code == 1 and "错误：无法读写" in result.output and "Traceback" not in result.output


def test_an_unwritable_output_folder_stops_a_consolidation_before_the_master_changes(workspace):
    from toolkit.app import Workspace
    from toolkit.errors import FileAccessError
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    workspace.path("output").rmdir() if workspace.path("output").exists() else None
    workspace.path("output").write_text("not a folder", encoding="utf-8")     # as a read-only share would
    before = workspace.master.read_bytes()
    with pytest.raises(FileAccessError, match="output"):
        Workspace(workspace).consolidate()
    assert workspace.master.read_bytes() == before
    assert [p.name for p in workspace.path("inbox").iterdir()] == ["办公室.xlsx"]
