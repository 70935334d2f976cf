"""One-step install on Windows: `excel install` (its Windows steps through stand-ins for the registry
and the xlwings command), scripts/install_windows.cmd, and the add-in's 说明 sheet matching README."""
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from toolkit import addin
from toolkit.cli import cli

ROOT = Path(__file__).resolve().parents[1]


class FakeRegistry:
    """HKEY_CURRENT_USER as {key: {name: value}}; Excel 2016+ has run once (its key exists)."""

    def __init__(self, **keys):
        self.keys = {addin.OFFICE_KEY: {}, **keys}

    def exists(self, key):
        return key in self.keys

    def values(self, key):
        return dict(self.keys.get(key, {}))

    def set(self, key, name, value):
        self.keys.setdefault(key, {})[name] = value


def xlwings_ok(calls):
    def run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "Successfully installed the xlwings add-in!", "")
    return run


def test_install_off_windows_copies_the_addin_to_dest_and_says_what_it_skipped(tmp_path):
    result = CliRunner().invoke(cli, ["excel", "install", "--dest", str(tmp_path / "AddIns")])
    assert result.exit_code == 0, result.output
    target = tmp_path / "AddIns" / "整改台账.xlam"
    with zipfile.ZipFile(target) as z:
        assert addin.RIBBON_PART in z.namelist() and "xl/vbaProject.bin" in z.namelist()
    assert f"已把加载项复制到 {target}。" in result.output
    assert "跳过 xlwings 加载项" in result.output and "跳过受信任位置" in result.output
    assert "Traceback" not in result.output


def test_install_off_windows_without_dest_writes_nothing_and_says_where_it_would(tmp_path, monkeypatch):
    monkeypatch.setenv("APPDATA", str(tmp_path))
    result = CliRunner().invoke(cli, ["excel", "install"])
    assert result.exit_code == 0 and "%APPDATA%\\Microsoft\\AddIns\\整改台账.xlam" in result.output
    assert not list(tmp_path.iterdir())


def test_install_on_windows_runs_xlwings_loads_the_addin_at_start_and_trusts_its_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("APPDATA", str(tmp_path))
    calls, registry = [], FakeRegistry(**{addin.OPTIONS_KEY: {"OPEN": '/R "C:\\Solver\\SOLVER.XLAM"'}})
    done = addin.install(windows=True, registry=registry, run=xlwings_ok(calls))
    target = tmp_path / "Microsoft" / "AddIns" / "整改台账.xlam"
    assert done.ok and done.addin == target and target.is_file()
    assert calls[0][-2:] == ["addin", "install"] and "xlwings.cli" in calls[0][2]
    assert registry.keys[addin.OPTIONS_KEY] == {"OPEN": '/R "C:\\Solver\\SOLVER.XLAM"', "OPEN1": f'/R "{target}"'}
    assert registry.keys[addin.TRUSTED_KEY]["Path"] == str(target.parent) + "\\"
    assert any("受信任位置" in line and str(target.parent) in line for line in done.lines)
    again = addin.install(windows=True, registry=registry, run=xlwings_ok(calls))
    assert "OPEN2" not in registry.keys[addin.OPTIONS_KEY] and "加载项已设为随 Excel 启动加载。" in again.lines


def test_install_respects_a_policy_that_forbids_user_trusted_locations(tmp_path):
    registry = FakeRegistry(**{addin.POLICY_COMMON: {"Allow User Locations": 0}})
    done = addin.install(tmp_path, windows=True, registry=registry, run=xlwings_ok([]))
    assert addin.TRUSTED_KEY not in registry.keys
    assert any("单位策略不允许" in line and "启用内容" in line for line in done.lines)


def test_a_failed_xlwings_install_is_reported_in_chinese_and_the_rest_still_runs(tmp_path):
    def fails(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "Traceback ...\nPermissionError: xlwings.xlam is open")
    done = addin.install(tmp_path, windows=True, registry=FakeRegistry(), run=fails)
    assert not done.ok and (tmp_path / "整改台账.xlam").exists()
    assert "xlwings 加载项安装失败（PermissionError: xlwings.xlam is open）" in done.lines[0]


def test_install_without_excel_says_how_to_add_the_addin_by_hand(tmp_path):
    registry = FakeRegistry()
    del registry.keys[addin.OFFICE_KEY]
    done = addin.install(tmp_path, windows=True, registry=registry, run=xlwings_ok([]))
    assert not done.ok and "没有找到 Excel 2016" in done.lines[-1] and not registry.keys


def test_install_windows_cmd_is_crlf_utf8_and_stops_on_every_error():
    data = (ROOT / "scripts" / "install_windows.cmd").read_bytes()
    assert data.startswith(b"@chcp 65001 >nul\r\n") and data.count(b"\n") == data.count(b"\r\n")
    text = data.decode("utf-8")
    assert 'cd /d "%~dp0.."' in text and 'python -m pip install -e ".[excel]"' in text and "python -m toolkit excel install" in text
    assert text.count("goto failed") == 3 and text.count("if errorlevel 1") == 3
    failed = text.split(":failed", 1)[1]
    assert "安装未完成" in failed and "pause" in failed and "exit /b 1" in failed


def _plain(text: str) -> str:
    """Text without markup, spaces and punctuation: README and the 说明 sheet use different marks."""
    return re.sub(r"[\s`*，。；：（）“”,.;:()\"\\]", "", text)


def test_the_addin_instructions_sheet_gives_the_install_steps_readme_gives(tmp_path):
    book = {p.suffix: p for p in addin.build(tmp_path)}[".xlsm"]
    sheet = [r[0] for r in openpyxl.load_workbook(book)["说明"].iter_rows(values_only=True) if r[0]]
    readme = _plain((ROOT / "README.md").read_text(encoding="utf-8").split("## Excel 按钮")[1].split("\n## ")[0])
    steps = [line for line in sheet if re.match(r"\d\. ", line)]
    assert len(steps) == len(addin.INSTALL_STEPS)
    for step in steps:
        assert _plain(step[3:]) in readme, step
