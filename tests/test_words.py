"""The problem kinds' words live in one table: every kind a raise site names has its sentence there, every
raise is an input or an environment problem, and one sentence per family reads as users have read it."""
import ast
import json
from pathlib import Path

import pytest

from toolkit import errors, words
from toolkit.errors import EnvironmentProblem, InputError, MissingProgram, UsageError
from toolkit.problems import Location

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"
# serve.py belongs to the service's owner this wave; its one port-in-use raise is the lead's to classify
UNCLASSIFIED_ALLOWED = {"serve.py"}


def raises() -> list[tuple[str, int, str, dict]]:
    """(file, line, error class, keyword arguments) of every `raise SomeError(...)` in the package."""
    out = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                kw = {k.arg: k.value for k in node.exc.keywords if k.arg}
                out.append((str(path.relative_to(PACKAGE)), node.lineno, node.exc.func.id, kw))
    return out


def test_every_raise_is_an_input_or_an_environment_problem_not_a_bare_toolkit_error():
    bare = [f"toolkit/{f}:{line}" for f, line, cls, _ in raises() if cls == "ToolkitError" and f not in UNCLASSIFIED_ALLOWED]
    assert not bare, "raise InputError/EnvironmentProblem (or a subclass) with a kind instead of ToolkitError: " + ", ".join(bare)
    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.ToolkitError) and cls not in (
                errors.ToolkitError, InputError, EnvironmentProblem):
            assert issubclass(cls, (InputError, EnvironmentProblem)), f"{name} is in neither family"


def test_every_kind_a_raise_site_names_has_its_words_in_the_one_table():
    named = [(f, line, kw["kind"].value) for f, line, _, kw in raises() if isinstance(kw.get("kind"), ast.Constant)]
    assert len(named) >= 35
    missing = [f"toolkit/{f}:{line} {kind}" for f, line, kind in named if kind not in words.TEMPLATES]
    assert not missing, missing


@pytest.mark.parametrize("error, text", [
    (UsageError(kind="unknown-rung", word="警告", choices=["提醒函", "督办单", "告诫书"]),
     "没有“警告”这个督办梯次。可选：提醒函、督办单、告诫书。"),
    (UsageError(kind="ladder-unit-without-proposal", unit="医政处", known=[]),
     "单位“医政处”本期没有拟发文书（有拟发的单位：无）。请核对单位名称，或先运行汇总更新拟发清单。"),
    (MissingProgram(kind="soffice-missing"),
     "未安装 LibreOffice（soffice），无法转换文件。请运行 scripts/install_system_deps.sh。"),
    (UsageError(kind="review-selection", where=Location(sheet="统计"), sheet="统计"),
     "请先在“销号审核”表（或“整改台账”表）中选中要审核的措施所在的行，再点按钮（当前选中的是“统计”表）。"),
], ids=["input-list", "input-empty-list", "environment", "input-vocab"])
def test_a_kind_renders_the_chinese_users_have_always_read(error, text):
    assert str(error) == text


def test_each_family_has_its_own_guidance_line():
    assert "修改" in InputError("x").guidance and "重新报送" in InputError("x").guidance
    assert "磁盘" in EnvironmentProblem("x").guidance and "权限" in EnvironmentProblem("x").guidance
    assert InputError("x").guidance != EnvironmentProblem("x").guidance
    assert errors.ToolkitError("x").guidance == ""


def test_a_problem_serialises_to_json_with_kind_family_location_and_parameters(tmp_path):
    error = UsageError(kind="target-exists", where=Location(file=str(tmp_path / "体检.xlsx")), path=tmp_path / "体检.xlsx")
    data = json.loads(json.dumps(error.to_dict(), ensure_ascii=False))
    assert data["type"] == "UsageError" and data["kind"] == "target-exists" and data["family"] == "input"
    assert data["location"] == {"file": str(tmp_path / "体检.xlsx")}
    assert data["params"] == {"path": str(tmp_path / "体检.xlsx")}
    assert data["message"] == f"{tmp_path / '体检.xlsx'} 已存在，未覆盖。" and data["guidance"] == words.GUIDANCE["input"]


def test_a_header_error_locates_its_row_and_names_the_missing_columns():
    error = errors.HeaderError("第3行表头缺少列：完成时限。", 3, ["完成时限"])
    assert error.kind == "ledger-header-missing-columns" and error.location.row == 3
    assert error.problem.params == {"missing": ["完成时限"]} and error.missing == ["完成时限"]
