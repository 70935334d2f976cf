"""Demos for the non-default profiles (审计整改, 督查督办, 责任清单, 民主生活会整改): a small office ledger written in the list's own
headers and words (40 measures, 8 units), distributed, and a few unit returns in the inbox.

Built fresh in the target folder (no shipped workbooks): `python -m toolkit demo --profile 审计整改 文件夹`.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from pathlib import Path

from . import config, distribute, profiles, vocab
from .demo import DEMO_MARKER, PERIOD, REFERENCE, START, SUBMIT_BY
from .errors import UsageError
from .model import Settings
from .problems import Location

ORG = "中共某市卫生健康委员会委员会"
UNITS = ["办公室", "财务处", "医政处", "人事处", "规划发展与信息化处", "市第一中心医院", "市人民医院", "市疾病预防控制中心"]
ACTIONS = ["制定整改方案，明确责任人和完成时限", "修订完善相关制度，堵塞管理漏洞", "开展专项检查，逐项核实整改情况",
           "组织专题培训，提升业务能力", "建立台账，按月跟踪调度", "追回或规范相关资金，完善审批手续"]

# per profile: the office ledger's headers (the list's own), and how a row is written
AUDIT_HEADERS = ["序号", "审计项目", "问题类别", "审计发现问题", "事项类型", "整改措施", "整改责任单位", "配合单位",
                 "完成时限", "整改金额（万元）", "整改结果", "整改进展", "备注"]
AUDIT_PROJECTS = ["2023年度预算执行审计", "重大项目资金专项审计"]
AUDIT_KINDS = ["预算管理不规范", "政府采购不规范", "资产管理不到位", "项目资金使用效益不高"]
AUDIT_STATUS = ["已整改", "已整改", "已整改", "部分整改", "正在整改", "持续整改", "未整改", "基本整改到位"]
TASK_HEADERS = ["序号", "来源", "交办事项", "承办单位", "协办单位", "交办日期", "办结时限", "办结情况", "办理进展", "备注"]
TASK_SOURCES = ["领导批示", "会议议定", "信访转办"]
TASK_STATUS = ["办结", "办结", "办结", "未办结", "未办结", "正在办理", "未办理"]
DUTY_HEADERS = ["序号", "任务类别", "工作任务", "责任单位", "配合部门", "分管领导", "完成时间", "落实情况", "工作进展", "备注"]
DUTY_KINDS = ["党的政治建设", "意识形态工作", "党风廉政建设", "基层党组织建设"]
DUTY_TASKS = ["制定年度工作要点并按季度调度", "开展专题学习研讨", "落实“一岗双责”约谈提醒", "组织廉政风险点排查",
              "开展支部标准化规范化建设", "报送半年工作总结"]
DUTY_STATUS = ["已落实", "已落实", "序时推进", "序时推进", "进度滞后", "未开展"]
LIFE_HEADERS = ["序号", "问题方面", "查摆问题", "整改措施", "责任人", "责任部门", "完成时限", "整改状态", "整改进展", "备注"]
LIFE_KINDS = ["理论学习", "政治素质", "工作作风", "廉洁自律"]
LIFE_PROBLEMS = ["学习贯彻不够深入系统", "运用理论指导实践不够", "调查研究不够经常", "落实基层减负措施不够有力",
                 "对身边同志日常监督不够严格"]
LIFE_STATUS = ["已整改", "已整改", "正在整改", "持续整改", "未整改"]
LEADERS = ["王××（党委书记）", "李××（副主任）", "张××（副主任）"]
RETURN_WORDS = {"审计整改": ["已整改", "部分整改", "已整改到位"], "督查督办": ["办结", "已办结", "未办结"],
                "责任清单": ["已落实", "序时推进", "进度滞后"], "民主生活会整改": ["已整改", "正在整改", "持续整改"]}


def _deadline(rng: random.Random, status_done: bool) -> dt.date | str:
    if rng.random() < 0.1:
        return "立行立改"
    if rng.random() < 0.1 and not status_done:
        return "长期坚持"
    return START + dt.timedelta(days=rng.randrange(40, 280))


def _audit_amount(n: int, kind: str) -> float | None:
    """The demo's 整改金额（万元） of measure n: money problems carry one (two decimals), the others none."""
    if kind in ("资产管理不到位",) or n % 5 == 0:
        return None
    return (n * 7919 % 40000 + 150) / 100


def office_rows(profile: str) -> tuple[str, list[str], list[list]]:
    """(title, headers, rows) of the demo's office ledger, 40 measures over 8 units, seeded."""
    rng = random.Random(24)
    rows: list[list] = []
    if profile == "审计整改":
        for n in range(1, 41):
            status = AUDIT_STATUS[rng.randrange(len(AUDIT_STATUS))]
            problem = (n - 1) // 2 + 1             # two measures per problem
            kind = AUDIT_KINDS[(problem - 1) % len(AUDIT_KINDS)]
            rows.append([n, AUDIT_PROJECTS[(problem - 1) * 2 // 20], kind,
                         f"审计发现问题{problem}：{kind}，涉及{UNITS[problem % 8]}相关业务",
                         "审计建议" if problem % 7 == 0 else "审计发现问题", f"{ACTIONS[n % len(ACTIONS)]}。",
                         UNITS[(n * 3) % 8], UNITS[(n * 5 + 1) % 8] if n % 4 == 0 else "",
                         _deadline(rng, status == "已整改"), _audit_amount(n, kind), status,
                         "已完成整改并报送佐证材料。" if status == "已整改" else "正在按方案推进。", ""])
        return "2023年度预算执行审计发现问题整改台账", AUDIT_HEADERS, rows
    if profile == "督查督办":
        for n in range(1, 41):
            status = TASK_STATUS[rng.randrange(len(TASK_STATUS))]
            source = TASK_SOURCES[n % 3]
            given = START + dt.timedelta(days=rng.randrange(0, 120))
            rows.append([n, source, f"关于{ACTIONS[n % len(ACTIONS)][:8]}的{source}事项（第{n}件）",
                         UNITS[(n * 3) % 8], UNITS[(n * 5 + 1) % 8] if n % 5 == 0 else "", given,
                         _deadline(rng, status == "办结"), status,
                         "已按要求办结并反馈。" if status == "办结" else "正在办理。", ""])
        return "2024年督查督办事项台账", TASK_HEADERS, rows
    if profile == "责任清单":
        for n in range(1, 41):
            status = DUTY_STATUS[rng.randrange(len(DUTY_STATUS))]
            due = "每季度" if n % 6 == 0 else START.replace(month=12, day=31) if n % 3 else _deadline(rng, status == "已落实")
            rows.append([n, DUTY_KINDS[(n - 1) * 4 // 40], f"{DUTY_TASKS[n % len(DUTY_TASKS)]}（第{n}项）",
                         UNITS[(n * 3) % 8], UNITS[(n * 5 + 1) % 8] if n % 5 == 0 else "", LEADERS[n % 3], due, status,
                         "已按计划完成。" if status == "已落实" else "按月推进中。", ""])
        return "2024年度全面从严治党主体责任清单", DUTY_HEADERS, rows
    if profile == "民主生活会整改":
        for n in range(1, 41):
            status = LIFE_STATUS[rng.randrange(len(LIFE_STATUS))]
            problem = (n - 1) // 2 + 1             # two measures per problem
            kind = LIFE_KINDS[(problem - 1) * 4 // 20]
            rows.append([n, kind, f"{kind}方面：{LIFE_PROBLEMS[problem % len(LIFE_PROBLEMS)]}（问题{problem}）",
                         f"{ACTIONS[n % len(ACTIONS)]}。", LEADERS[n % 3], UNITS[(n * 3) % 8],
                         _deadline(rng, status == "已整改"), status,
                         "已整改到位。" if status == "已整改" else "正在落实。", ""])
        return "2024年度民主生活会查摆问题整改台账", LIFE_HEADERS, rows
    raise UsageError(kind="profile-without-demo", profile=profile)


def write_office_ledger(path: Path, profile: str) -> None:
    """The office's own ledger: a title row, its own headers, dates as dates."""
    import openpyxl
    title, headers, rows = office_rows(profile)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
        for c, v in enumerate(row, 1):
            if isinstance(v, dt.date):
                ws.cell(ws.max_row, c).number_format = "yyyy-mm-dd"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _return(path: Path, target: Path, words: list[str], rng: random.Random) -> None:
    """A unit's return: every open row reported in the list's own words, with progress."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, cols[vocab.STATUS]).value != vocab.DONE:
            ws.cell(r, cols[vocab.STATUS]).value = words[rng.randrange(len(words))]
            ws.cell(r, cols[vocab.PROGRESS]).value = "本月已推进，佐证材料随表报送。"
    wb.save(target)


def stage_profile_demo(target: Path, profile: str) -> Settings:
    """Write a fresh demo workspace for profile in target (empty, or an earlier demo): config, the office
    ledger as master, templates distributed, and returns from five of the eight units in the inbox."""
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not (target / DEMO_MARKER).exists():
        raise UsageError(kind="demo-target-not-empty", where=Location(file=str(target.resolve())), target=target.resolve(),
                         example=f"python -m toolkit demo --profile {profile} 演示{profile}")
    office_rows(profile)                       # an unknown profile stops here, before anything is deleted
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / DEMO_MARKER).write_text("本文件夹由 python -m toolkit demo 生成，再次运行演示会整个替换它。\n", encoding="utf-8")
    config.write_default(target, profile=profile, title=profiles.load(profile).title, organisation=ORG,
                         subject="市卫生健康委", addressees="委机关各处室，委属各单位", period=PERIOD,
                         reference_date=REFERENCE.isoformat(), programme_start=START.isoformat(),
                         submit_by=SUBMIT_BY.isoformat())
    settings = config.load(target)
    write_office_ledger(settings.master, profile)
    handed = {d.unit: d.path for d in distribute.distribute(settings)}
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8)
    for k, unit in enumerate(UNITS[:5]):
        name = f"{unit}8月报送.xlsx"
        _return(handed[unit], inbox / name, RETURN_WORDS[profile], rng)
        stamp = dt.datetime(2024, 8, 20, 9, 0).timestamp() + 3600 * k
        os.utime(inbox / name, (stamp, stamp))
    return config.load(target)
