"""Round 5 attack: a new 审计整改 / 督查督办 / 责任清单 office following only the README (init --profile, its own
small master in the list's natural shape, distribute, unit returns in the list's words, nightly), its figures
counted independently; and the resident service's request parameters and bodies over real HTTP."""
from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import os
import re
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.test_serve import served, serving  # noqa: F401  (served: the fixture)
from toolkit import profiles, vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.rules import normalize
from toolkit.serve import TOKEN_HEADER, Server, Service, opener

D = dt.datetime
PLACEHOLDERS = {"title": None, "organisation": "市卫生健康委", "subject": "市卫生健康委",
                "addressees": "委机关各处室，委属各单位", "programme_start": "2024-03-01", "period": "2024-08",
                "reference_date": "2024-08-30", "submit_by": "2024-08-25"}


def office(tmp_path: Path, profile: str, title: str, sheet: str, headers: list[str], rows: list[tuple]) -> Path:
    """`init --profile` as the README says, the office's own master written over the blank one, config filled in."""
    root = tmp_path / profile
    result = CliRunner().invoke(cli, ["init", "--profile", profile, str(root)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([f"{title}台账"])
    ws.append(headers)
    for i, row in enumerate(rows, 1):
        ws.append([i, *row])
    wb.save(root / "master" / "整改台账.xlsx")
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8")
    for key, value in {**PLACEHOLDERS, "title": title}.items():
        text = re.sub(rf"(?m)^{key} = .*$", f'{key} = "{value}"', text)
    config.write_text(text, encoding="utf-8")
    return root


def cli_ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def hand_back(root: Path, returns: dict[str, dict[str, str]]) -> None:
    """Each unit fills 完成情况 of its distributed workbook by 编号 and drops it into the inbox, on time."""
    for unit, statuses in returns.items():
        wb = openpyxl.load_workbook(root / "outbox" / "2024-08" / f"{unit}.xlsx")
        ws = wb[vocab.SHEET_LEDGER]
        head = {c.value: c.column for c in ws[2]}
        for r in range(3, ws.max_row + 1):
            mid = ws.cell(r, head[vocab.ID]).value
            if mid in statuses:
                ws.cell(r, head[vocab.STATUS]).value = statuses[mid]
        target = root / "inbox" / f"{unit}8月报送.xlsx"
        wb.save(target)
        stamp = D(2024, 8, 20, 9).timestamp()
        os.utime(target, (stamp, stamp))


def stats_rows(root: Path) -> dict[str, list]:
    ws = openpyxl.load_workbook(root / "master" / "整改台账.xlsx", data_only=True)["整改进度统计"]
    return {str(r[0]): list(r[1:8]) for r in ws.iter_rows(values_only=True) if r and r[0] is not None}


def unit_rows(root: Path) -> dict[str, list]:
    """The ranked unit table of 整改进度统计: unit → [牵头, 总数, 已完成, 基本完成, 正在推进, 未启动, 逾期]."""
    ws = openpyxl.load_workbook(root / "master" / "整改台账.xlsx", data_only=True)["整改进度统计"]
    return {str(r[1]): list(r[2:9]) for r in ws.iter_rows(values_only=True) if r and isinstance(r[0], int)}


def notice_folder(root: Path) -> Path:
    return root / "output" / "2024-08" / "通报" / "2024-08-30"


# ---------------------------------------------------------------- 审计整改: a ledger without 事项类型

AUDIT_HEADERS = ["序号", "审计项目", "问题类别", "审计发现问题", "整改要求", "整改措施", "整改责任单位", "配合单位",
                 "完成时限", "整改结果", "整改情况", "整改金额（万元）"]
AUDIT_ROWS = [
    ("2024年度预算执行审计", "预算管理", "1.部分项目预算编制不细化", "细化预算编制", "修订预算编制办法", "财务处", "",
     D(2024, 6, 30), "已整改", "已修订", 120.5),
    ("2024年度预算执行审计", "预算管理", "1.部分项目预算编制不细化", "细化预算编制", "开展预算编制培训", "财务处", "办公室",
     D(2024, 9, 30), "部分整改", "已培训1次", None),
    ("2024年度预算执行审计", "预算管理", "2.结转结余资金未及时清理", "清理结转结余", "清理并上缴结余资金", "财务处", "",
     D(2024, 7, 31), "整改到位", "已上缴", 300),
    ("2024年度预算执行审计", "资产管理", "3.固定资产账实不符", "开展资产清查", "开展资产全面清查", "办公室", "财务处",
     D(2024, 8, 15), "未整改", "", None),
    ("2024年度预算执行审计", "资产管理", "3.固定资产账实不符", "开展资产清查", "完善资产管理制度", "办公室", "",
     "长期整改", "持续整改", "制度起草中", None),
    ("医疗服务收费专项审计", "收费管理", "4.超标准收取检查费", "退还多收费用", "退还患者多收费用", "市人民医院", "",
     D(2024, 8, 31), "基本整改到位", "已退还大部分", 88.8),
    ("医疗服务收费专项审计", "收费管理", "4.超标准收取检查费", "退还多收费用", "建立收费自查机制", "市人民医院", "医政处",
     "立即整改到位", "已整改到位", "已建立", None),
    ("医疗服务收费专项审计", "收费管理", "5.重复收费", "清退重复收费", "清退重复收费款项", "市人民医院", "",
     D(2024, 10, 31), "正在整改", "", 50.25),
    ("医疗服务收费专项审计", "内部控制", "6.内控制度执行不到位", "健全内控", "修订内部控制手册", "医政处", "",
     D(2024, 12, 31), "分阶段整改", "", None),
    ("医疗服务收费专项审计", "内部控制", "6.内控制度执行不到位", "健全内控", "开展内控评价", "医政处", "",
     D(2024, 5, 31), "未整改", "", 10),
]


def test_an_audit_ledger_without_an_item_type_column_is_read_each_finding_a_specific_problem(tmp_path):
    """Audit ledgers list 审计发现问题 with no 事项类型 column (the README names none); every other profile
    lets it be left out. The audit profile refused such a ledger: 第2行表头缺少列 事项类型."""
    root = office(tmp_path, "审计整改", "2024年度审计整改", "整改台账", AUDIT_HEADERS, AUDIT_ROWS)
    result = CliRunner().invoke(cli, ["check", "-c", str(root)])
    assert result.exit_code == 0 and "缺少列" not in result.output, result.output
    assert "具体问题6个" in result.output


def test_a_new_audit_office_gets_figures_that_match_its_own_count_in_every_document(tmp_path):
    root = office(tmp_path, "审计整改", "2024年度审计整改", "整改台账", AUDIT_HEADERS, AUDIT_ROWS)
    cli_ok("distribute", "-c", str(root))
    hand_back(root, {"财务处": {"1": "已整改", "2": "已整改到位", "3": "整改到位", "4": "部分整改"},
                     "办公室": {"2": "已整改", "4": "部分整改 ", "5": "基本整改到位"},
                     "市人民医院": {"6": "已整改", "7": "已完成", "8": "正在整改中"},
                     "医政处": {"7": "已整改到位", "9": "\u3000未整改", "10": "已整改"}})
    out = cli_ok("nightly", "-c", str(root))
    assert "采纳4个（其中部分采纳0个），退回0个" in out, out
    # by hand: measures 1 2 3 6 7 10 done, 5 基本, 4 8 在推进 (4: both owners 部分整改), 9 未整改; 4 overdue
    stats = stats_rows(root)
    assert stats["整改措施合计"][:6] == [10, 6, 1, 2, 1, 1]
    assert stats["问题类别"][:5] == [4, 1, 0, 3, 0]
    assert stats["具体问题"][:5] == [6, 3, 0, 3, 0]
    assert stats["合计"][:2] == [569.55, 519.3]            # 已整改: 120.5 + 300 + 88.8 + 10
    units = unit_rows(root)
    assert [units[u][1:3] for u in ("财务处", "办公室", "市人民医院", "医政处")] == [[4, 3], [3, 1], [3, 2], [3, 2]]
    paragraph = (notice_folder(root) / "公开进展段落.txt").read_text(encoding="utf-8")
    assert ("问题类别4个，目前已完成整改1个，正在推进3个；具体问题6个，目前已完成整改3个，正在推进3个。"
            "共制定整改措施10条，已完成6条，基本完成1条，正在推进2条，尚未启动1条；应整改金额569.55万元，已整改519.30万元"
            ) in paragraph
    notice = (notice_folder(root) / "进展通报.md").read_text(encoding="utf-8")
    assert "整改措施完成率为60.0%，1条措施逾期未完成" in notice
    assert "（二）资产管理方面：措施2条，已完成0条，基本完成1条，正在推进1条，完成率0.0%，逾期1条。" in notice
    texts = [p for p in (root / "output").rglob("*") if p.suffix in (".md", ".txt", ".html") and "巡视" in
             p.read_text(encoding="utf-8")]
    assert texts == []


# ---------------------------------------------------------------- 督查督办

TASK_HEADERS = ["序号", "来源", "交办事项", "承办单位", "协办单位", "督办领导", "办理时限", "办理状态", "办理情况"]
TASK_ROWS = [
    ("领导批示", "落实市长批示推进社区医院建设", "规划发展与信息化处", "财务处", "王××", D(2024, 7, 31), "已办结", "已完成选址"),
    ("领导批示", "研究解决护士配备不足问题", "人事处", "医政处", "王××", D(2024, 9, 30), "办理中", ""),
    ("会议议定", "制定分级诊疗实施细则", "医政处", "", "李××", D(2024, 8, 20), "未办结", "征求意见中"),
    ("会议议定", "开展医疗机构安全生产检查", "医政处", "市人民医院", "李××", "即办", "办结", ""),
    ("信访转办", "处理群众反映某医院收费问题", "市人民医院", "", "张××", D(2024, 8, 10), "正在办理", ""),
    ("信访转办", "答复群众关于疫苗接种的咨询", "市疾病预防控制中心", "", "张××", D(2024, 8, 15), "未办理", ""),
    ("", "落实人大代表建议第12号", "财务处", "", "王××", "长期跟踪", "基本办结", ""),
    ("会议议定", "推进智慧医院建设", "规划发展与信息化处", "", "李××", D(2024, 12, 28), "未办理", ""),
]


def supervision_office(tmp_path: Path) -> Path:
    root = office(tmp_path, "督查督办", "2024年督查督办", "督办台账", TASK_HEADERS, TASK_ROWS)
    cli_ok("distribute", "-c", str(root))
    hand_back(root, {"人事处": {"2": "已办结"}, "医政处": {"2": "办理中", "3": "办结。", "4": "已办结"},
                     "市人民医院": {"4": "办结", "5": "正在办理中"}, "市疾病预防控制中心": {"6": "尚未办理"},
                     "规划发展与信息化处": {"1": "已办结", "8": "办理中"}, "财务处": {"1": "已办结", "7": "已办结"}})
    return root


def test_a_supervision_unit_writing_its_words_with_zhong_or_shangwei_is_taken_not_refused(tmp_path):
    """正在办理 and 未办理 are the list's own words; “正在办理中” (as 正在推进中 is for 巡视) and “尚未办理” (what its
    own notices print) were refused as not a status."""
    root = supervision_office(tmp_path)
    out = cli_ok("nightly", "-c", str(root))
    assert "采纳6个（其中部分采纳0个），退回0个" in out, out
    receipt = next((root / "output" / "2024-08" / "回执").glob("市人民医院*.txt")).read_text(encoding="utf-8")
    assert "不是有效的完成情况" not in receipt


@pytest.mark.parametrize("profile", profiles.builtin_names())
def test_every_status_word_a_profile_prints_is_read_back_as_that_status(profile):
    """督查督办's documents say “尚未办理N件” / “当前尚未办理”, and a unit typing 尚未办理 back was refused."""
    loaded = profiles.load(profile)
    said = {**vocab.NOTICE_WORDING, **loaded.wording}
    assert {status: normalize.status(said[key], loaded.lexicon) for status, key in vocab.STATUS_WORDING.items()} == {
        status: status for status in vocab.STATUS_WORDING}


def test_the_supervision_dashboard_counts_due_soon_matters_in_its_own_measure_word(tmp_path):
    """The 临期 card said 条 beside 件 everywhere else on a 督查督办 dashboard."""
    root = supervision_office(tmp_path)
    cli_ok("nightly", "-c", str(root))
    board = (root / "output" / "2024-08" / "看板.html").read_text(encoding="utf-8")
    card = re.search(r'<div class="k">临期</div>.*?<div class="d">(.*?)</div>', board, re.S)
    assert card and card.group(1).startswith("件，"), card and card.group(1)
    stats = stats_rows(root)
    assert stats["交办事项合计"][:6] == [8, 4, 0, 3, 1, 2]       # 1 3 4 7 办结; 2 5 8 办理; 6 未办理; 5 6 逾期
    paragraph = (notice_folder(root) / "公开进展段落.txt").read_text(encoding="utf-8")
    assert "上级交办督办事项共8件，已办结4件，正在办理3件，尚未办理1件。" in paragraph
    assert "信访转办2件，正在办理1件，尚未办理1件；督办事项1件，已办结1件。" in paragraph


def test_the_supervision_dashboard_names_its_levels_as_the_list_does_not_as_a_xunshi_ledger(tmp_path):
    """Its 问题整改情况 table read “来源 4 … 具体问题 8”: 具体问题 is 巡视's level; this list's is 交办事项 (事项称谓)."""
    root = supervision_office(tmp_path)
    cli_ok("nightly", "-c", str(root))
    board = (root / "output" / "2024-08" / "看板.html").read_text(encoding="utf-8")
    labels = re.findall(r'<tr><td>([^<]+)</td><td class="n" data-k="问题\.', board)
    assert labels == ["来源", "交办事项"], labels


def test_the_supervision_paragraph_names_each_unit_by_its_own_unfinished_part_and_says_so(tmp_path):
    """The paragraph counts each unit's own part (承办 or 协办, as 单位排名 does): it said “尚有未办结事项的承办单位”,
    naming 医政处 (only 协办 of the unfinished 事项 2) a 承办单位; now the words say what is counted."""
    root = supervision_office(tmp_path)
    cli_ok("nightly", "-c", str(root))
    paragraph = (notice_folder(root) / "公开进展段落.txt").read_text(encoding="utf-8")
    assert "承办单位" not in paragraph.replace("承办或协办", "")
    lead, named = paragraph.split("本单位承办或协办的部分尚未办结的单位")[1].split("：", 1)
    # by hand: 事项 2 (协办 医政处 办理中), 5 (市人民医院), 6 (市疾病预防控制中心), 8 (规划发展与信息化处) are unfinished parts
    assert lead == "4个"
    assert dict(re.findall(r"([^：、]+?)(\d+)件", named)) == {"医政处": "1", "市人民医院": "1", "市疾病预防控制中心": "1",
                                                            "规划发展与信息化处": "1"}


# ---------------------------------------------------------------- 责任清单: a task not yet begun

DUTY_HEADERS = ["序号", "任务类别", "工作任务", "责任单位", "配合部门", "分管领导", "完成时间", "落实情况", "工作进展"]
DUTY_ROWS = [
    ("党的政治建设", "制定年度工作要点", "办公室", "", "王××", D(2024, 3, 31), "已落实", ""),
    ("党的政治建设", "开展专题学习研讨", "人事处", "办公室", "王××", "每季度", "序时推进", ""),
    ("意识形态工作", "开展意识形态风险排查", "办公室", "", "李××", D(2024, 6, 30), "进度滞后", ""),
    ("意识形态工作", "组织网络舆情培训", "医政处", "", "李××", "全年", "未开展", ""),
    ("党风廉政建设", "落实一岗双责约谈", "人事处", "", "张××", "常态化", "正常推进", ""),
    ("党风廉政建设", "组织廉政风险点排查", "财务处", "", "张××", D(2024, 9, 30), "基本落实", ""),
]


def test_a_duty_task_not_yet_begun_is_not_counted_mostly_done_because_it_runs_all_year(tmp_path):
    """README: a problem's status is 基本完成 when its unfinished measures are long-term, “(全未启动则未启动)”.
    A 责任清单 task 尚未开展 with 完成时间 全年 (持续推进) was counted 基本完成 in the statistics and the
    dashboard (具体问题 6: 已完成2 基本完成4 尚未开展0) while the notice said 尚未开展1项."""
    root = office(tmp_path, "责任清单", "2024年度党委主体责任清单", "责任清单", DUTY_HEADERS, DUTY_ROWS)
    cli_ok("distribute", "-c", str(root))
    hand_back(root, {"办公室": {"1": "已落实", "2": "已完成任务", "3": "已落实。"}, "人事处": {"2": "序时推进", "5": "推进中"},
                     "医政处": {"4": "尚未开展"}, "财务处": {"6": "基本落实"}})
    cli_ok("nightly", "-c", str(root))
    stats = stats_rows(root)
    assert stats["年度任务合计"][:5] == [6, 2, 1, 2, 1]
    assert stats["具体问题"][0] == 6 and stats["具体问题"][4] == 1          # task 4: 尚未开展, whatever its deadline
    assert stats["任务类别"][4] == 0 and stats["任务类别"][3] == 1          # 意识形态工作: one done, one not begun
    board = (root / "output" / "2024-08" / "看板.html").read_text(encoding="utf-8")
    assert 'data-k="问题.具体问题.未启动">1<' in board
    wechat = next(notice_folder(root).glob("微信*.txt")).read_text(encoding="utf-8")
    assert wechat.count("截至") == 1 and "共明确年度任务6项，目前已完成2项" in wechat     # not “截至…，截至目前”


# ---------------------------------------------------------------- the service's request parameters

def raw(port: int, token: str, path: str, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=body, headers={"Host": f"127.0.0.1:{port}", TOKEN_HEADER: token,
                                                   "Content-Type": "application/json"})
    resp = conn.getresponse()
    answer = resp.status, json.loads(resp.read())
    conn.close()
    return answer


def test_review_targets_given_as_bare_numbers_or_nulls_are_read_not_a_server_error(served):  # noqa: F811
    """{"targets": [5]} ran list(5): a TypeError, answered 500 运行出错."""
    _, client, _ = served
    for targets in ([5], [None], [["ZG-001", None]]):
        code, answer = raw(client.port, client.token, "/api/review",
                           json.dumps({"targets": targets, "conclusion": "agree"}).encode())
        assert code < 500 and answer["type"] != "InternalError", (targets, answer)


@pytest.mark.parametrize("op, body", [("review", {"targets": 5, "conclusion": "agree"}),
                                      ("distribute", {"units": {"医政处": 1}}),
                                      ("notices", {"kinds": 7}),
                                      ("issue", {"rungs": 3})])
def test_a_list_parameter_sent_as_a_number_or_object_is_the_callers_problem_not_a_server_error(served, op, body):  # noqa: F811
    service, client, s = served
    before = s.master.read_bytes()
    code, answer = raw(client.port, client.token, f"/api/{op}", json.dumps(body).encode())
    assert code < 500 and answer["type"] != "InternalError", answer
    assert answer["kind"] == "request-parameter-not-list" and answer["params"]["name"] == next(
        k for k in body if k != "conclusion")
    assert s.master.read_bytes() == before


def test_one_unit_named_as_text_is_that_unit_not_its_characters(served):  # noqa: F811
    """{"units": "医政处"} distributed to units 医、政、处 (台账中没有这些责任单位：医、政、处)."""
    _, client, s = served
    code, answer = raw(client.port, client.token, "/api/distribute", json.dumps({"units": "医政处"}).encode())
    assert code == 200, answer
    assert [d["unit"] for d in answer["data"]] == ["医政处"]


def test_notices_asked_for_one_kind_or_an_unknown_kind_over_http_do_what_the_cli_does(served):  # noqa: F811
    """The service wrote every kind when asked for “公开” as text, or for a kind it doesn't know; the CLI refuses
    an unknown kind naming it (unknown-notice-kind)."""
    _, client, s = served
    code, answer = raw(client.port, client.token, "/api/notices", json.dumps({"kinds": "公开"}).encode())
    assert code == 200, answer
    names = {Path(p).name for p in answer["data"]["files"]}
    assert "公开进展段落.txt" in names and "进展通报.md" not in names, names
    code, answer = raw(client.port, client.token, "/api/notices", json.dumps({"kinds": ["公告"]}).encode())
    assert code == 422 and answer["kind"] == "unknown-notice-kind" and answer["params"]["unknown"] == ["公告"]
    result = CliRunner().invoke(cli, ["notice", "-c", str(s.root), "--kind", "公告", "--json"])
    assert result.exit_code != 0


def test_a_request_body_nested_thousands_deep_is_not_json_to_us_not_a_server_error(served):  # noqa: F811
    service, client, _ = served
    code, answer = raw(client.port, client.token, "/api/refresh", b"[" * 60_000)
    assert code == 400 and answer["kind"] == "request-not-json", answer
    assert service.last == {}


def test_status_while_the_config_is_broken_says_what_is_wrong_as_the_operations_do_not_a_server_error(tmp_path):
    """The console polls /api/status; with config.toml edited into a misspelt profile it answered 500 (a traceback
    in the log, 请求处理出错) while POST /api/refresh answered the same problem as 400 profile-unknown-near."""
    root = office(tmp_path, "审计整改", "2024年度审计整改", "整改台账", AUDIT_HEADERS, AUDIT_ROWS)
    with Server(Service(opener(root)), port=0) as server:
        config = root / "config.toml"
        config.write_text(config.read_text(encoding="utf-8").replace('profile = "审计整改"', 'profile = "审计整该"'),
                          encoding="utf-8")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", "/api/status", headers={"Host": f"127.0.0.1:{server.port}"})
        resp = conn.getresponse()
        code, answer = resp.status, json.loads(resp.read())
        conn.close()
        assert code < 500 and answer["ok"] is False and answer["kind"] == "profile-unknown-near", answer
        _, refused = raw(server.port, server.token, "/api/refresh", b"{}")
        assert refused["kind"] == answer["kind"] and refused["message"] == answer["message"]
        result = CliRunner().invoke(cli, ["refresh", "-c", str(root), "--json"])
        assert result.exit_code != 0 and json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1]
                                                    )["kind"] == answer["kind"]


class SlowToOpen(Workspace):
    """A workspace whose opening takes a while in the service's own process (a config on a slow network share):
    the service opens it as a press begins, before the operation's process starts."""

    def __init__(self, settings, gate: Path):
        super().__init__(settings)
        if gate.exists() and os.getpid() == int(gate.read_text()):
            time.sleep(2)


def test_a_second_press_while_the_first_is_starting_is_told_what_runs_not_that_it_just_ended(workspace, tmp_path):
    """The first press holds the one-at-a-time lock while it reads the workspace, before it names its job: a
    second press then was told “另一个操作刚刚结束，请再点一次” though the first had only begun (and runs on)."""
    gate = tmp_path / "slow"
    with serving(functools.partial(SlowToOpen, workspace, gate)) as (service, client):
        gate.write_text(str(os.getpid()))
        first: list = []
        worker = threading.Thread(target=lambda: first.append(client.post("refresh")))
        worker.start()
        time.sleep(0.5)
        code, answer, _ = client.post("notices")
        worker.join(120)
        assert first[0][0] == 200
        assert code == 409 and answer["type"] == "BusyError"
        assert answer["message"].startswith("“刷新统计”正在运行"), answer["message"]


def test_issue_asked_with_all_false_as_text_issues_nothing_instead_of_every_proposal(served):  # noqa: F811
    """bool("false") is True: {"all": "false"} numbered and issued every proposed 告诫书/督办单 (no undo)."""
    _, client, s = served
    code, answer = raw(client.port, client.token, "/api/run", b"{}")
    assert code == 200, answer
    assert any((s.path("output") / "2024-08" / "拟发").iterdir())
    code, answer = raw(client.port, client.token, "/api/issue", json.dumps({"all": "false"}).encode())
    assert code == 422 and answer["kind"] == "ladder-issue-unspecified", answer
    code, answer = raw(client.port, client.token, "/api/issue", json.dumps({"all": "maybe"}).encode())
    assert code < 500 and answer["kind"] == "request-parameter-not-flag", answer
    assert not (s.path("output") / "2024-08" / "发文").exists()


def test_the_excel_button_over_http_says_what_the_same_button_says_through_xlwings_when_the_machine_is_in_the_way(
        workspace, tmp_path):
    """The Excel buttons call the service (Accept: text/plain) when it runs, else xlwings: for the machine's trouble
    (the run lock held) xlwings shows the message and, under it, what to do; over HTTP only the message came."""
    from dataclasses import replace

    from toolkit.guards import LOCK_NAME, RunLock
    from toolkit.words import ENVIRONMENT, GUIDANCE
    settings = replace(workspace, lock_wait_seconds=0.5)
    with serving(opener(settings)) as (_, client), RunLock(settings.root / LOCK_NAME):
        code, answer, _ = client.post("refresh")
        assert code == 409 and answer["kind"] == "run-locked" and answer["family"] == ENVIRONMENT
        code, text, _ = client.post("refresh", headers={"Accept": "text/plain"})
        assert code == 409
        assert text.decode("utf-8") == f"{answer['message']}\n{GUIDANCE[ENVIRONMENT]}"


def test_check_names_the_levels_of_a_supervision_list_by_the_lists_own_words(tmp_path):
    """`check` of a 督查督办 ledger printed 巡视's levels (主题…；重点问题…；具体问题…；“举一反三”事项0个…)."""
    root = supervision_office(tmp_path)
    out = cli_ok("check", "-c", str(root))
    line = next(x for x in out.splitlines() if "责任单位" in x and "个；" in x and x.startswith("  "))
    assert "交办事项8件" in line and "来源" in line
    assert not any(w in line for w in ("重点问题", "具体问题", "举一反三", "整改措施", "主题")), line


def test_a_supervision_dashboard_is_a_work_board_not_a_rectification_one(tmp_path):
    """The dashboard's title said “督查督办事项整改工作看板”: 整改 is the 巡视/审计 lists' word, not a 督办 list's."""
    root = supervision_office(tmp_path)
    cli_ok("nightly", "-c", str(root))
    board = (root / "output" / "2024-08" / "看板.html").read_text(encoding="utf-8")
    assert "<h1>2024年督查督办工作看板</h1>" in board and "整改工作看板" not in board


def test_a_supervision_lists_receipts_and_slips_do_not_call_its_work_rectification(tmp_path):
    """Receipts said “…整改台账已收到” and 督办单 “将整改进展…反馈” to units of a 督查督办 list."""
    root = supervision_office(tmp_path)
    cli_ok("nightly", "-c", str(root))
    receipts = [p.read_text(encoding="utf-8") for p in (root / "output" / "2024-08" / "回执").glob("*.txt")]
    assert receipts and all("2024年8月台账已收到" in r for r in receipts)
    slips = [p.read_text(encoding="utf-8") for p in (notice_folder(root) / "督办单").glob("*.md")]
    assert slips and all("前将工作进展、逾期原因" in s and "整改进展" not in s for s in slips)
