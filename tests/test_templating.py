"""Templates per workspace: `init --templates` writes the package's copies, a workspace's copy wins over the
package's (which stays the fallback) for every document, and a broken template names its file and line."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit import config
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.documents import templating
from toolkit.errors import ToolkitError
from toolkit.profile_demo import stage_profile_demo


def test_init_templates_writes_the_packages_copies_and_keeps_the_offices_own(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "台账"
    done = runner.invoke(cli, ["init", "--templates", str(folder)])
    assert done.exit_code == 0, done.output
    copies = folder / "templates"
    package = {p.name for p in templating.TEMPLATE_DIR.glob("*.j2")}
    assert {p.name for p in copies.glob("*.j2")} == package and (copies / "README.md").is_file()
    assert (copies / "进展通报.md.j2").read_bytes() == (templating.TEMPLATE_DIR / "进展通报.md.j2").read_bytes()
    (copies / "回执.txt.j2").write_text("本单位自己的回执\n", encoding="utf-8")
    (copies / "督办单.md.j2").unlink()
    again = runner.invoke(cli, ["init", "--templates", str(folder)])      # the workspace exists: templates only
    assert again.exit_code == 0, again.output
    assert (copies / "回执.txt.j2").read_text(encoding="utf-8") == "本单位自己的回执\n"
    assert (copies / "督办单.md.j2").is_file() and "未覆盖" in again.output and "回执.txt.j2" in again.output


def test_init_templates_of_a_profile_writes_that_profiles_wording(tmp_path):
    assert CliRunner().invoke(cli, ["init", "--profile", "督查督办", "--templates", str(tmp_path / "d")]).exit_code == 0
    own = templating.profile_folder("督查督办") / "公开进展.txt.j2"
    assert own.is_file(), "督查督办 has its own wording of the paragraph"
    assert (tmp_path / "d" / "templates" / "公开进展.txt.j2").read_bytes() == own.read_bytes()


def audit_demo(tmp_path: Path) -> config.Settings:
    return stage_profile_demo(tmp_path / "审计", "审计整改")


def test_a_workspace_copy_wins_for_every_document_and_the_package_is_the_fallback(tmp_path):
    settings = audit_demo(tmp_path)
    own = settings.root / "templates"
    own.mkdir()
    marked = {"进展通报.md.j2": "进展通报.md", "督办单.md.j2": "督办单", "公开进展.txt.j2": "公开进展段落.txt",
              "回执.txt.j2": "回执", "领导调度单.md.j2": "领导调度单", "看板.html.j2": "看板.html"}
    for name in marked:
        text = (templating.package_names(settings.profile)[name]).read_text(encoding="utf-8")
        (own / name).write_text(text.rstrip("\n") + "\n本单位模板标记\n", encoding="utf-8")
    Workspace(settings).run_once(distribute_first=True)
    output = settings.path("output")
    for name, where in marked.items():
        files = [p for p in output.rglob("*") if p.is_file() and where in str(p) and p.suffix in (".md", ".txt", ".html")]
        assert files and all("本单位模板标记" in p.read_text(encoding="utf-8") for p in files), name
    wechat = next(output.rglob("微信通报.txt")).read_text(encoding="utf-8")     # no copy: the package's,
    assert wechat.startswith("【审计整改进展】") and wechat.count("本单位模板标记") == 1   # quoting the own 公开进展


def test_a_template_error_names_the_file_and_line_in_chinese(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "语法.md.j2").write_text("第一行\n第二行 {% if %}\n", encoding="utf-8")
    (folder / "变量.md.j2").write_text("第一行\n第二行\n{{ 不存在的变量 }}\n", encoding="utf-8")
    with pytest.raises(ToolkitError) as syntax:
        templating.render("语法.md.j2", {}, folder)
    assert str(folder / "语法.md.j2") in str(syntax.value) and "第2行" in str(syntax.value)
    with pytest.raises(ToolkitError) as undefined:
        templating.render("变量.md.j2", {}, folder)
    message = str(undefined.value)
    assert str(folder / "变量.md.j2") in message and "第3行" in message and "不存在的变量" in message


def test_a_broken_workspace_template_stops_the_notices_with_its_file_and_line_not_a_traceback(tmp_path):
    settings = audit_demo(tmp_path)
    (settings.root / "templates").mkdir()
    (settings.root / "templates" / "进展通报.md.j2").write_text("# 通报\n\n{{ 措施.总数 }\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["notice", "-c", str(settings.root)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "进展通报.md.j2" in result.output and "第3行" in result.output, result.output


def test_init_writes_neutral_placeholders_that_check_names_until_the_office_fills_them(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "新台账"
    assert runner.invoke(cli, ["init", str(folder)], input="").exit_code == 0
    text = (folder / "config.toml").read_text(encoding="utf-8")
    values = "\n".join(line.split("#")[0] for line in text.splitlines())       # the examples in comments aside
    assert "卫生健康" not in values and "委机关" not in values and 'organisation = "（请填写：单位名称）"' in text
    first = runner.invoke(cli, ["check", "-c", str(folder)])
    assert first.exit_code == 1
    for key in ("title", "organisation", "subject", "addressees", "programme_start"):
        assert f" {key} = “（请填写：" in first.output, key
    filled = (text.replace('"（请填写：单位名称）"', '"中共某市审计局党组"')
              .replace('"（请填写：单位简称，通报中“共指出××重点问题”处）"', '"市审计局"')
              .replace('"（请填写：主送单位，如 各处室，各直属单位）"', '"局机关各处室"')
              .replace('"（请填写：整改启动日期，如 2024-03-01）"', '"2024-05-06"'))
    filled = filled.replace(next(line for line in filled.splitlines() if line.startswith("title = ")),
                            'title = "2023年度预算执行审计整改"')
    (folder / "config.toml").write_text(filled, encoding="utf-8")
    second = runner.invoke(cli, ["check", "-c", str(folder)])
    assert "请填写" not in second.output and second.exit_code == 0, second.output
    settings = config.load(folder)
    assert (settings.organisation, settings.programme_start.isoformat()) == ("中共某市审计局党组", "2024-05-06")
