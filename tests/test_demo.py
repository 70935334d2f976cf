"""`demo` never deletes a user's files: only an empty folder or its own earlier run is replaced."""
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.demo import DEMO_MARKER, stage_demo


def test_demo_refuses_a_folder_holding_other_files(tmp_path):
    target = tmp_path / "台账"
    target.mkdir()
    (target / "整改台账.xlsx").write_bytes(b"the office's real ledger")
    result = CliRunner().invoke(cli, ["demo", str(target)])
    assert result.exit_code == 1 and "不是空文件夹，也不是之前的演示目录" in result.output
    assert (target / "整改台账.xlsx").read_bytes() == b"the office's real ledger"
    assert [p.name for p in target.iterdir()] == ["整改台账.xlsx"]


def test_demo_replaces_an_empty_folder_or_its_own_earlier_run(tmp_path):
    target = tmp_path / "演示"
    target.mkdir()
    stage_demo(target)
    assert (target / DEMO_MARKER).exists() and (target / "inbox").is_dir()
    (target / "output").mkdir()
    (target / "output" / "old.txt").write_text("from the last demo")
    settings = stage_demo(target)
    assert not (target / "output").exists() and settings.root == target.resolve()


def test_demo_recognises_a_run_from_before_the_marker_but_not_a_lookalike(tmp_path):
    target = tmp_path / "demo-run"
    stage_demo(target)
    (target / DEMO_MARKER).unlink()                   # an older version's run: the demo's layout and config
    stage_demo(target)
    (target / DEMO_MARKER).unlink()
    with open(target / "config.toml", "a", encoding="utf-8") as fh:
        fh.write("# 我改过的配置\n")
    result = CliRunner().invoke(cli, ["demo", str(target)])
    assert result.exit_code == 1 and "我改过的配置" in (target / "config.toml").read_text(encoding="utf-8")


def test_demo_without_a_folder_runs_in_workbooks_demo_run_as_readme_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    target = (tmp_path / "workbooks" / "demo-run").resolve()
    assert f"演示数据已复制到 {target}" in result.output
    assert "总体完成率：" in result.output and (target / "master" / "整改台账.xlsx").is_file()
