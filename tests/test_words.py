"""The problem kinds' words live in one table: every kind a raise site names has its sentence there, every
raise is an input or an environment problem, and one sentence per family reads as users have read it."""
import ast
import json
from pathlib import Path

import pytest

from toolkit import errors, vocab, words
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


# Raises that still carry a sentence with only their class's kind, each with its reason (none left).
CLASS_KIND_ONLY: set[str] = set()
# errors whose class is itself a specific kind (its words are in the table under the class's kind)
SPECIFIC_CLASSES = {"HeaderError"}
TOOLKIT_ERRORS = {name for name in dir(errors) if isinstance(getattr(errors, name), type)
                  and issubclass(getattr(errors, name), errors.ToolkitError)}


def calls(method: str) -> list[tuple[str, int, ast.Call]]:
    """(file, line, call) of every call of a function or method of that name in the package."""
    out = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and method in (getattr(node.func, "attr", None), getattr(node.func, "id", None)):
                out.append((str(path.relative_to(PACKAGE)), node.lineno, node))
    return out


def test_every_raise_names_a_specific_kind_with_words_unless_allow_listed():
    vague = [f"toolkit/{f}:{line} {cls}" for f, line, cls, kw in raises()
             if cls in TOOLKIT_ERRORS and cls not in SPECIFIC_CLASSES and f not in CLASS_KIND_ONLY
             and not (isinstance(kw.get("kind"), ast.Constant) or isinstance(kw.get("kind"), (ast.IfExp, ast.Attribute)))]
    assert not vague, "name a kind (words.TEMPLATES) at these raises: " + ", ".join(vague)
    assert errors.HeaderError.kind in words.TEMPLATES


def test_every_problem_of_a_submitted_file_names_a_kind_and_a_fix_in_the_one_table():
    named, forwarded = [], []
    # serve.py's reject() refuses an HTTP request, not a submitted file
    for f, line, call in [c for c in calls("reject") if c[0] != "serve.py"] + calls("PackageError") + calls("Refusal") + [
            c for c in calls("problem") if c[0] == "intake.py"]:
        first = call.args[1] if f == "intake.py" and getattr(call.func, "id", "") == "problem" else (
            call.args[0] if call.args else None)
        kinds = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        for kind in kinds:
            (named if isinstance(kind, ast.Constant) else forwarded).append((f, line, kind))
        fix = {k.arg: k.value for k in call.keywords}.get("fix_kind")
        for code in ([fix.body, fix.orelse] if isinstance(fix, ast.IfExp) else [fix]):
            if isinstance(code, ast.Constant) and code.value:
                assert code.value in words.FIXES, f"toolkit/{f}:{line} fix {code.value}"
    assert len(named) >= 45
    missing = [f"toolkit/{f}:{line} {k.value}" for f, line, k in named if k.value not in words.TEMPLATES]
    assert not missing, missing
    # forwarding sites pass on a kind another problem already named (a package's refusal, a reader's failure)
    assert {f for f, _, _ in forwarded} <= {"intake.py", "consolidate.py", "readers.py"}, forwarded


@pytest.mark.parametrize("kind, params, fix, text", [
    ("row-id-repeated", {"measure_id": "ZG-003", "first_row": 4}, "", "编号“ZG-003”与第4行重复。重复行未汇总；请删除重复的行"),
    ("status-unknown", {"value": "差不多", "hint": "", "statuses": ["已完成", "基本完成"]}, "",
     "“差不多”不是有效的完成情况。该格未采纳（本行进展等文字已采纳，完成情况保持原值）；请从下拉列表选择：已完成、基本完成"),
    ("file-empty", {}, "resend-package", "文件是空的（0字节），可能在传输中损坏。请把填好的工作簿和佐证材料重新打包为 .zip"
     "（在压缩软件中选择“ZIP”格式）后报送；也可以先只报送填好的 .xlsx 工作簿"),
    ("file-too-large", {"size_mb": 12.34, "limit_mb": 10}, "", "文件过大（12.3MB，上限10MB）。请删除嵌入的图片等附件后重新报送，佐证材料另行提交"),
], ids=["row", "cell", "file-in-a-package", "formatted-number"])
def test_a_submission_kind_renders_the_receipt_sentence_units_have_always_read(kind, params, fix, text):
    assert f"{words.render(kind, params)}。{words.render_fix(fix or kind, params)}" == text


# Each kind that replaced a sentence written at its raise site renders exactly that sentence (the old f-string
# evaluated for the same representative values).
_P = Path("/ws/台账.xlsx")
_REFUSED = ["“ZG-001”（台账中没有该编号）", "“ZG-002”（医政处，未申请销号）"]
_NAMED = ["措施“ZG-003”（医政处）为“同意销号”"]


_MOVED = [
    ("history-no-first-backup", {"folder": Path("/ws/backup")},
     f"备份文件夹“{Path('/ws/backup')}”中找不到台账的最早备份，无法确定初始状态，不能重建变更记录。"),
    ("history-archived-missing", {"path": _P, "unit": "医政处", "received": "2024-08-31T10:00:00"},
     f"归档文件“{_P}”不存在（报送记录：医政处，2024-08-31T10:00:00），无法重建变更记录。请从备份恢复该文件后重试。"),
    ("history-archived-altered", {"name": _P.name},
     "归档文件“台账.xlsx”的内容与报送记录中的哈希不一致，可能被改动过。请从备份恢复原件后重试。"),
    ("again-file-missing", {"path": _P}, f"找不到要重新汇总的文件 {_P}。请给出归档文件夹中该文件的位置。"),
    ("units-not-in-ledger", {"units": ["医政处", "财务处"]}, "台账中没有这些责任单位：医政处、财务处。"),
    ("config-of-ledger-workspace", {"config": Path("/ws/config.toml"), "detail": "收件箱有误。"},
     f"{Path('/ws/config.toml')}：收件箱有误。"),
    ("config-not-near-ledger", {"config": "config.toml"},
     "在台账所在文件夹及其上两级中找不到配置文件 config.toml。请运行 python -m toolkit init 生成，并把台账放在 master 文件夹中。"),
    ("target-exists", {"path": _P}, f"{_P} 已存在，未覆盖。"),
    ("review-not-enabled", {"config": "config.toml", "waiting": "台账中还有1条待审核的销号申请。"},
     "销号审核未启用。如需启用，请在 config.toml 中写入 [review] required = true。台账中还有1条待审核的销号申请。"),
    ("review-not-enabled", {"config": "config.toml", "waiting": ""},
     "销号审核未启用。如需启用，请在 config.toml 中写入 [review] required = true。"),
    ("acceptance-incomplete", {"measure_id": "ZG-001", "missing": ["牵头单位", "办公室"], "party": "牵头单位"},
     "措施“ZG-001”尚未完成三方验收（缺牵头单位、办公室），本次未销号。请先记录验收："
     "python -m toolkit accept ZG-001 --party 牵头单位 -c 文件夹。"),
    ("review-conclusion-invalid", {"word": "同意"}, "审核结论“同意”无法识别，应为同意销号/退回补充之一。"),
    ("review-return-without-opinion", {}, "退回补充须写明审核意见（单位需补充的材料），本次未作任何修改。"),
    ("review-nothing-selected", {}, "没有选中任何措施。请在“销号审核”表（或台账）中选中要审核的行，再操作。"),
    ("review-not-pending", {"refused": _REFUSED},
     f"以下措施没有待审核的销号申请：{'、'.join(_REFUSED)}。只有“{vocab.REVIEW_STATE}”为“待审核”（单位已申请销号）的行可以审核；本次未作任何修改。"),
    ("review-typed-conclusion-differs", {"named": _NAMED, "chosen": "退回补充"},
     f"“销号审核”表中已手工填写了尚未办理的审核结论：{'、'.join(_NAMED)}，与本次“退回补充”不一致。"
     f"请先在该表改正或清空“审核结论”单元格，再操作；本次未作任何修改。"),
    ("history-unopenable", {"path": _P, "reason": "磁盘已满"},
     f"无法打开变更记录数据库 {_P}：磁盘已满。请把占据该位置的文件夹移走或检查所在文件夹的权限后重试（数据库本身无需处理）。"),
    ("history-db-unwritable", {"path": _P, "reason": "磁盘已满"},
     f"无法写入变更记录数据库 {_P}：磁盘已满。请清理磁盘或检查文件夹权限后重试（数据库本身无需处理）。"),
    ("history-unknown-measure", {"measure_id": "ZG-009"}, "变更记录中没有措施“ZG-009”。请核对编号（见台账“编号”列）。"),
    ("backup-verify-failed", {"path": _P},
     f"台账备份 {_P} 校验失败（磁盘已满或文件在备份时被改动），台账未改动。请检查磁盘空间后重新运行。"),
    ("signing-key-damaged", {"path": _P},
     f"模板签名密钥文件 {_P} 已损坏。请从备份恢复该文件；如无备份，删除它后重新分发本期模板（此前下发的模板将不再被接受）。"),
    ("ledger-far-cells", {"what": "台账", "name": "台账.xlsx", "sheet": "整改台账", "far": "A30000、XFD3",
                          "span": "A1:XFD30000", "rows": 30000, "columns": 16384},
     "台账“台账.xlsx”工作表“整改台账”中单元格A30000、XFD3有内容，使表格范围达到A1:XFD30000（30000行×16384列），"
     "远超台账的大小；读取会耗尽内存，已停止，文件未改动。请打开该文件，删除A30000、XFD3中的内容"
     "（可按 Ctrl+End 跳到最后一个有内容的单元格）并保存后重新运行。"),
    ("request-too-long", {"size": 70000, "limit": 65536},
     "请求内容过长（70000字节，上限65536字节）：按钮和控制台的请求不会这么长，请检查调用本服务的程序。"),
    ("request-not-json", {}, "请求内容不是 JSON。"),
    ("profile-words-not-table", {"profile": "方案.toml", "key": "status"}, "配置方案 方案.toml：[status] 应为一节“用语 = 规范用语”。"),
    ("profile-word-target", {"profile": "方案.toml", "key": "status", "word": "完成", "target": "好", "canonical": ["已完成", "未完成"]},
     "配置方案 方案.toml：[status] 中“完成” = “好”：应为已完成、未完成之一。"),
    ("profile-word-is-canonical", {"profile": "方案.toml", "key": "status", "word": "已完成", "target": "未完成"},
     "配置方案 方案.toml：[status] 中“已完成” = “未完成”：“已完成”本身是规范用语，不能改指“未完成”。"
     "请删去这一行，或把台账中的这个用语改成“未完成”。"),
    ("profile-alias-taken", {"profile": "方案.toml", "name": "编号", "alias": "序号", "other": "措施"},
     "配置方案 方案.toml：[headers] 中“编号”的别名“序号”已是“措施”列的列名或别名：一个列名只能对应一列，请删去或改写这个别名。"),
    ("profile-toml", {"profile": "方案.toml", "detail": "Expected '=' (at line 1, column 3)"},
     "配置方案 方案.toml：不符合 TOML 格式（Expected '=' (at line 1, column 3)）。"),
    ("profile-unknown-key", {"profile": "方案.toml", "key": "xyz"}, "配置方案 方案.toml：未知的配置项“xyz”。"),
    ("profile-unknown-key-near", {"profile": "方案.toml", "key": "titel", "near": "title"},
     "配置方案 方案.toml：未知的配置项“titel”。是否想写“title”？"),
    ("profile-missing-text", {"profile": "方案.toml", "key": "name"}, "配置方案 方案.toml：缺少 name（文字，用英文双引号括起）。"),
    ("profile-headers", {"profile": "方案.toml", "columns": ["编号", "措施"]},
     "配置方案 方案.toml：[headers] 应写成 规范列名 = [\"别名\", …]，规范列名为编号、措施之一。"),
    ("profile-hierarchy", {"profile": "方案.toml", "columns": ["主题", "重点问题"]},
     "配置方案 方案.toml：[hierarchy] optional 只能列主题、重点问题，defaults 只能给 optional 中的列。"),
    ("profile-hierarchy-defaults", {"profile": "方案.toml"},
     "配置方案 方案.toml：[hierarchy] 可省略的“重点问题”“事项”须在 defaults 中给出默认值，否则统计无法按层级计数。"),
    ("profile-wording-not-table", {"profile": "方案.toml"}, "配置方案 方案.toml：[wording] 应为一节“用语名 = \"本清单的说法\"”。"),
    ("profile-wording-unknown", {"profile": "方案.toml", "key": "甲", "names": ["条目", "分类依据"]},
     "配置方案 方案.toml：[wording] 中未知的用语名“甲”。可用的有：条目、分类依据。"),
    ("profile-wording-unknown-near", {"profile": "方案.toml", "key": "条", "near": "条目", "names": ["条目", "分类依据"]},
     "配置方案 方案.toml：[wording] 中未知的用语名“条”。是否想写“条目”？可用的有：条目、分类依据。"),
    ("profile-wording-not-text", {"profile": "方案.toml", "key": "条目"}, "配置方案 方案.toml：[wording] 中“条目”应为文字（用英文双引号括起）。"),
    ("profile-wording-grouping", {"profile": "方案.toml"},
     f"配置方案 方案.toml：[wording] 中“分类依据”应为{'、'.join(vocab.NOTICE_GROUPINGS)}之一（按事项类别或按重点问题分类）。"),
    ("profile-file-missing", {"name": "方案.toml", "path": _P}, f"配置项 profile = “方案.toml”：找不到配置方案文件 {_P}。"),
    ("profile-unknown", {"name": "乱写", "names": ["默认", "审计整改"]},
     "配置项 profile = “乱写”不是内置的配置方案。可用的有：默认、审计整改；也可写本单位配置方案文件的路径，如 profile = \"本单位方案.toml\"。"),
    ("profile-unknown-near", {"name": "审计", "near": "审计整改", "names": ["默认", "审计整改"]},
     "配置项 profile = “审计”不是内置的配置方案。是否想写“审计整改”？可用的有：默认、审计整改；"
     "也可写本单位配置方案文件的路径，如 profile = \"本单位方案.toml\"。"),
    ("service-busy", {"detail": "另一个操作刚刚结束，请再点一次。"}, "另一个操作刚刚结束，请再点一次。"),
    ("port-unavailable", {"host": "127.0.0.1", "port": 8765, "reason": "Address already in use", "next_port": 8766},
     "无法在 127.0.0.1:8765 上启动服务：Address already in use。端口可能已被占用，请用 --port 指定另一个端口（如 --port 8766）。"),
]


@pytest.mark.parametrize("kind, params, old", _MOVED, ids=[kind for kind, _, _ in _MOVED])
def test_a_kind_moved_from_its_raise_site_renders_the_sentence_it_replaced(kind, params, old):
    assert words.render(kind, params) == old


@pytest.mark.parametrize("suffix, fmt, lost", [(".xlsm", "含宏的 .xlsm 格式", "，宏也会丢失"), (".ods", "ODS 格式（WPS/LibreOffice 表格）", "")])
def test_a_master_in_another_format_is_refused_with_the_words_it_always_had(tmp_path, suffix, fmt, lost):
    from toolkit.io import master_file
    path = tmp_path / f"台账{suffix}"
    old = (f"台账“{path.name}”是{fmt}。程序写台账时生成 .xlsx 工作簿，以原名覆盖会使文件无法打开{lost}，"
           f"因此汇总、刷新统计和销号审核不写台账、不改动任何文件（体检和通报照常读取）。请用 WPS、Excel 或 "
           f"LibreOffice 打开它，“另存为”Excel 工作簿（*.xlsx），保存为“台账.xlsx”，再把 config.toml 中 "
           f"[paths] 的 master 改为这个新文件后重新运行；原文件保留作存档，程序不再改动它。")
    assert master_file.format_problem(path) == old
    with pytest.raises(errors.LedgerError) as caught:
        master_file.check_format(path)
    assert str(caught.value) == old and caught.value.kind == "ledger-not-xlsx"
    assert caught.value.location.file == str(path)
