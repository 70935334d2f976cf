import os
import subprocess
import sys

from tests.conftest import hand_in
from toolkit import vocab
from toolkit.io.ledger_file import read_ledger
from toolkit.io.shortcuts import COMMANDS, write_shortcuts

CONFIG = ('title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\n'
          'submit_by = "2024-08-25"\n')


def test_every_operation_gets_a_cmd_and_an_executable_sh(tmp_path):
    written = write_shortcuts(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{t}{s}" for t in ("汇总报送", "生成通报", "分发模板", "刷新统计", "催报") for s in (".cmd", ".sh"))
    for path in written:
        if path.suffix == ".sh":
            assert os.access(path, os.X_OK) and b"\r" not in path.read_bytes()


def test_cmd_files_are_crlf_utf8_after_chcp_and_quote_the_folder_safely(tmp_path):
    write_shortcuts(tmp_path, python=r"C:\Program Files\Python311\python.exe")
    data = (tmp_path / "汇总报送.cmd").read_bytes()
    assert data.startswith(b"@chcp 65001 >nul\r\n")       # cmd.exe reads the rest as UTF-8
    assert data.count(b"\n") == data.count(b"\r\n")        # CRLF only
    text = data.decode("utf-8")
    assert '"C:\\Program Files\\Python311\\python.exe" -m toolkit consolidate -c "%~dp0."' in text
    assert "汇总报送未完成" in text and text.count("pause") == 2
    assert "-m toolkit notice " in (tmp_path / "生成通报.cmd").read_text(encoding="utf-8")
    assert "-m toolkit refresh " in (tmp_path / "刷新统计.cmd").read_text(encoding="utf-8")
    assert "-m toolkit remind " in (tmp_path / "催报.cmd").read_text(encoding="utf-8")
    assert set(COMMANDS.values()) <= {"consolidate", "notice", "distribute", "refresh", "remind"}


def test_the_sh_shortcut_consolidates_the_workspace_it_sits_in(workspace):
    (workspace.root / "config.toml").write_text(CONFIG, encoding="utf-8")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "已印发"}})
    write_shortcuts(workspace.root)
    proc = subprocess.run([str(workspace.root / "汇总报送.sh")], cwd="/", capture_output=True, text=True,
                          env=os.environ, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "采纳1个" in proc.stdout and "汇总报送完成" in proc.stdout
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.DONE
    assert not list(workspace.path("inbox").iterdir())


def test_a_failing_sh_shortcut_says_so_in_chinese_and_exits_non_zero(tmp_path):
    write_shortcuts(tmp_path, python=sys.executable)          # no config.toml here
    proc = subprocess.run([str(tmp_path / "分发模板.sh")], capture_output=True, text=True,
                          env=os.environ, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode != 0
    assert "分发模板未完成" in proc.stdout and "Traceback" not in proc.stderr + proc.stdout


def test_the_refresh_shortcut_rewrites_statistics_and_leaves_the_inbox_alone(workspace):
    import openpyxl
    (workspace.root / "config.toml").write_text(CONFIG.replace("2024-08-30", "2024-09-10"), encoding="utf-8")
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    write_shortcuts(workspace.root)
    proc = subprocess.run([str(workspace.root / "刷新统计.sh")], cwd="/", capture_output=True, text=True,
                          env=os.environ, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "已刷新" in proc.stdout and "刷新统计完成" in proc.stdout
    assert "2024年9月10日" in openpyxl.load_workbook(workspace.master)[vocab.SHEET_STATS]["A1"].value
    assert read_ledger(workspace.master).measures["ZG-001"].status == vocab.IN_PROGRESS
    assert list(workspace.path("inbox").iterdir())
