"""The service starts with the user's session (registered per user, no administrator) and `status`
says whether it runs and on which port: Linux with HOME/XDG_CONFIG_HOME in tmp_path, Windows with
a fake APPDATA."""
from __future__ import annotations

import configparser
import json
import shlex
import socket

import pytest
from click.testing import CliRunner

from toolkit import autostart
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.serve import STATE_FILE, Server, Service, opener


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "台账 2024%"            # a space and a percent sign: the quoting is tested too
    Workspace.init(folder)
    return folder.resolve()


@pytest.fixture
def linux_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(autostart.sys, "platform", "linux")
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_serve_install_writes_an_xdg_autostart_entry_that_starts_this_workspace_and_uninstall_removes_it(root, linux_home):
    result = run("serve", "-c", str(root), "--install", "--port", "8766")
    assert result.exit_code == 0, result.output
    entries = list((linux_home / "xdg" / "autostart").glob("zhenggai-serve-*.desktop"))
    assert len(entries) == 1 and str(entries[0]) in result.output
    desktop = configparser.RawConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(entries[0], encoding="utf-8")
    entry = desktop["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Terminal"] == "false" and entry["Path"] == str(root)
    argv = [a.replace("%%", "%") for a in shlex.split(entry["Exec"])]
    assert argv[1:] == ["-m", "toolkit", "serve", "-c", str(root), "--port", "8766"]
    assert "serve" in run("status", "-c", str(root)).output and str(entries[0]) in run("status", "-c", str(root)).output
    result = run("serve", "-c", str(root), "--uninstall")
    assert result.exit_code == 0 and not entries[0].exists() and "已删除" in result.output
    assert "没有登记" in run("serve", "-c", str(root), "--uninstall").output


def test_without_xdg_config_home_the_entry_goes_under_home_config(root, linux_home, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    autostart.install(root, 8765, windows=False)
    assert autostart.installed(root, windows=False).parent == linux_home / "home" / ".config" / "autostart"


def test_on_windows_a_startup_folder_cmd_starts_pythonw_minimised(root, tmp_path, monkeypatch):
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    lines = autostart.install(root, 8765, windows=True, python="C:\\Python312\\python.exe")
    path = autostart.installed(root, windows=True)
    assert path.parent == tmp_path / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    assert path.suffix == ".cmd" and str(path) in lines[0]
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("utf-8")
    assert f'start "整改台账服务" /min "C:\\Python312\\pythonw.exe" -m toolkit serve -c "{root}" --port 8765' in text
    assert "chcp 65001" in text
    autostart.uninstall(root, windows=True)
    assert not path.exists()


def test_two_workspaces_each_have_their_own_entry(root, tmp_path, linux_home):
    other = tmp_path / "另一个"
    Workspace.init(other)
    autostart.install(root, 8765)
    autostart.install(other, 8766)
    assert autostart.installed(root) != autostart.installed(other)
    assert len(list((linux_home / "xdg" / "autostart").iterdir())) == 2


def test_status_says_whether_the_service_runs_and_on_which_port(root, linux_home):
    result = run("status", "-c", str(root))
    assert result.exit_code == 3 and "服务没有运行" in result.output and f"python -m toolkit serve -c {root}" in result.output
    service = Service(opener(root))
    with Server(service, port=0) as server:
        result = run("status", "-c", str(root))
        assert result.exit_code == 0, result.output
        assert f"服务正在运行：http://127.0.0.1:{server.port}/" in result.output and "当前没有操作在运行" in result.output
        assert run("serve", "-c", str(root), "--status").output == result.output
    # a record left by a killed server: the port no longer answers
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    (root / STATE_FILE).write_text(json.dumps({"port": dead, "pid": 1}), encoding="utf-8")
    result = run("status", "-c", str(root))
    assert result.exit_code == 3 and f"端口 {dead} 无应答" in result.output
