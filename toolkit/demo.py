"""Demo data shaped like seed 004: the commission's 14 key problems, 45 specific problems,
58 举一反三 items, 4 整改意见 and 263 measures across 33 units, plus one period of returned
unit workbooks (good, late, tampered, typed-by-hand, duplicated, broken).

`seed_ledger()` reproduces the seed's published figures exactly; `build_demo()` writes
workbooks/demo/; `run_demo()` copies it to a scratch folder and runs the whole job there.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import zipfile
from pathlib import Path

from . import config, distribute, resources, vocab
from .distribute import SECRET_FILE
from .errors import UsageError
from .io import master_file
from .io.ledger_file import owners_from_measures
from .model import Ledger, Measure
from .problems import Location

DEMO_DIR = resources.folder("demo_data")
STRUCTURE = DEMO_DIR / "source" / "seed004_structure.json"
PERIOD = "2024-08"
REFERENCE = dt.date(2024, 8, 31)
START = dt.date(2024, 3, 1)
SUBMIT_BY = dt.date(2024, 8, 25)
TITLE = "十二届市委第三轮第一批巡视反馈意见整改台账"
ORG = "中共天津市卫生健康委员会委员会"

OFFICES = ["办公室", "组织处", "人事处", "宣传处", "规划发展与信息化处", "财务处", "体制改革处", "医政处",
           "中医处", "基层卫生健康处", "疾病预防控制处", "科技教育处", "老龄健康处", "妇幼健康处", "药政处",
           "综合监督处", "机关党委", "驻委纪检监察组"]
DIRECT = ["市第一中心医院", "市人民医院", "市第二人民医院", "市疾病预防控制中心", "市急救中心",
          "市卫生健康监督所", "市卫生健康信息中心", "市中医药研究院附属医院", "市妇女儿童保健中心",
          "市口腔医院", "市肿瘤医院", "市胸科医院", "市眼科医院", "市综合服务中心", "市卫生健康促进中心"]
UNITS = OFFICES + DIRECT
LEADERS = ["王××（党委书记、主任）", "李××（副主任）", "张××（副主任）", "刘××（副主任）", "陈××（驻委纪检监察组组长）",
           "杨××（副主任）", "赵××（一级巡视员）"]
MEASURE_TEXTS = [
    "制定专项整改工作方案，明确责任分工、时间节点和工作要求",
    "召开专题会议研究部署，逐项细化任务清单、责任清单",
    "修订完善相关管理制度，建立长效工作机制",
    "开展专项督导检查，对发现的问题建立台账、限期整改",
    "组织专题培训，提升干部职工业务能力和政策水平",
    "建立定期调度和通报机制，每月跟踪推进情况",
    "开展调查研究，形成专题调研报告并提出改进措施",
    "将相关工作纳入年度绩效考核，强化结果运用",
    "印发指导意见，推动各区、各单位抓好贯彻落实",
    "建立部门协同联动机制，定期会商解决重点难点问题",
    "开展“回头看”，巩固整改成果，防止问题反弹",
    "加强宣传引导，及时总结推广典型经验做法",
]
PROGRESS_DONE = ["已印发实施方案并组织落实，相关工作按期完成。", "已召开专题会议部署，建立工作台账，完成阶段目标。",
                 "已修订完善制度2项，形成长效机制。", "已完成专项检查，发现问题均已整改到位。"]
PROGRESS_ONGOING = ["已制定工作方案，正在按计划推进。", "已完成前期调研，正在起草相关文件。", "按长效机制持续推进，定期调度。"]


def structure() -> dict:
    return json.loads(STRUCTURE.read_text(encoding="utf-8"))


def _items(data: dict) -> list[dict]:
    """Every 具体问题, 举一反三 item and 整改意见 in report order, with its place in the hierarchy."""
    out = []
    for theme in data["themes"]:
        for k, kp in enumerate(theme["key_problems"]):
            if k == 0:
                out.append({"theme": theme["title"], "kp": kp["title"], "type": vocab.RECOMMENDATION, "reform": False,
                            "title": f"巡视整改意见：针对{theme['title'].removeprefix('关于')[:40]}，认真抓好整改落实"})
            for p in kp["problems"]:
                out.append({"theme": theme["title"], "kp": kp["title"], "type": vocab.SPECIFIC, "reform": p["reform"],
                            "title": f"({p['no']}){p['title']}", "no": p["no"]})
                for lesson in p["lessons"]:
                    out.append({"theme": theme["title"], "kp": kp["title"], "type": vocab.DRAW_LESSONS,
                                "reform": lesson["reform"], "title": f"举一反三整改事项{lesson['no']}:{lesson['title']}",
                                "no": lesson["no"]})
    return out


# the specific problems the seed's 11 基本完成 ones are taken to be (2 of them flagged reform)
MOSTLY_SPECIFIC = {2, 5, 6, 9, 10, 15, 19, 21, 33, 40, 42}


def _plan(rng: random.Random) -> tuple[list[dict], list[int]]:
    """Items and how many measures each has: 263 in all, at least one each."""
    items = _items(structure())
    counts = [1] * len(items)
    for _ in range(263 - len(items)):
        counts[rng.randrange(len(items))] += 1
    return items, counts


def _mostly_items(items: list[dict]) -> set[int]:
    """Indices of the 19 items that are 基本完成 in the seed: 11 specific, 8 举一反三 (3 flagged reform)."""
    chosen = {i for i, it in enumerate(items) if it["type"] == vocab.SPECIFIC and it["no"] in MOSTLY_SPECIFIC}
    kps = {items[i]["kp"] for i in chosen}
    lessons = [i for i, it in enumerate(items) if it["type"] == vocab.DRAW_LESSONS and it["kp"] in kps]
    flagged = [i for i in lessons if items[i]["reform"]][:1]
    plain = [i for i in lessons if not items[i]["reform"]]
    picked, seen_kp = [], set()
    for i in plain:  # spread over the key problems first, then fill
        if items[i]["kp"] not in seen_kp:
            picked.append(i)
            seen_kp.add(items[i]["kp"])
    picked += [i for i in plain if i not in picked]
    return chosen | set(flagged) | set(picked[: 8 - len(flagged)])


def seed_ledger() -> Ledger:
    """A ledger whose roll-up gives exactly seed 004's figures (14: 7/7, 45: 34/11, 4/4, 58: 50/8, 8: 5/3, 263: 234/29)."""
    rng = random.Random(2024)
    items, counts = _plan(rng)
    mostly = _mostly_items(items)
    ongoing_budget = 29 - len(mostly)
    measures: dict[str, Measure] = {}
    n = 0
    for i, (it, count) in enumerate(zip(items, counts)):
        lead_pool = UNITS
        for j in range(count):
            n += 1
            mid = f"ZG-{n:03d}"
            lead = lead_pool[rng.randrange(len(lead_pool))]
            co = rng.sample([u for u in UNITS if u != lead], rng.choice([1, 2])) if rng.random() < 0.25 else []
            ongoing = i in mostly and (j == 0 or (ongoing_budget > 0 and rng.random() < 0.5))
            if i in mostly and j > 0 and ongoing:
                ongoing_budget -= 1
            if ongoing:
                deadline: dt.date | str = rng.choice([vocab.LONG_TERM, vocab.ONGOING])
            elif rng.random() < 0.08:
                deadline = vocab.IMMEDIATE
            else:
                deadline = START + dt.timedelta(days=rng.randrange(30, 300))
            text = MEASURE_TEXTS[(n * 7 + j) % len(MEASURE_TEXTS)]
            measures[mid] = Measure(
                id=mid, theme=it["theme"], key_problem=it["kp"], item=it["title"], item_type=it["type"],
                reform=it["reform"], measure=f"{text}。", leader=LEADERS[rng.randrange(len(LEADERS))],
                lead_unit=lead, co_units=co, deadline=deadline,
                status=vocab.IN_PROGRESS if ongoing else vocab.DONE,
                progress=rng.choice(PROGRESS_ONGOING if ongoing else PROGRESS_DONE))
    # any budget left: more long-term ongoing measures inside the 基本完成 items
    for m in measures.values():
        if ongoing_budget <= 0:
            break
        idx = next(i for i, it in enumerate(items) if it["title"] == m.item and it["kp"] == m.key_problem)
        if idx in mostly and m.status == vocab.DONE:
            m.status, m.deadline, ongoing_budget = vocab.IN_PROGRESS, vocab.LONG_TERM, ongoing_budget - 1
    ledger = Ledger(measures, {}, title=TITLE)
    ledger.owners = owners_from_measures(measures)
    return ledger


def demo_ledger() -> Ledger:
    """The programme as it stood before the August reports: some dated measures still open."""
    ledger = seed_ledger()
    rng = random.Random(808)
    dated = [m for m in ledger.measures.values() if m.status == vocab.DONE and isinstance(m.deadline, dt.date)]
    for m in rng.sample(dated, 70):
        m.status = vocab.IN_PROGRESS if rng.random() < 0.85 else vocab.NOT_STARTED
        m.progress = rng.choice(PROGRESS_ONGOING[:2]) if m.status == vocab.IN_PROGRESS else ""
        if rng.random() < 0.3:
            m.deadline = REFERENCE + dt.timedelta(days=rng.randrange(1, 8))   # due within days
        elif m.deadline > REFERENCE:
            m.deadline = REFERENCE - dt.timedelta(days=rng.randrange(1, 60))  # already late
    ledger.owners = owners_from_measures(ledger.measures)
    return ledger


def demo_settings(root: Path) -> config.Settings:
    return config.from_dict({"title": TITLE, "organisation": ORG, "subject": "市卫生健康委", "period": PERIOD,
                             "reference_date": REFERENCE.isoformat(), "programme_start": START.isoformat(),
                             "submit_by": SUBMIT_BY.isoformat()}, root)


def _fill(path: Path, edits) -> None:
    """Open a distributed workbook as a unit would, apply edits(ws, header_map) and save."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    ws = wb[vocab.SHEET_LEDGER]
    cols = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    edits(ws, cols)
    wb.save(path)


def build_demo(folder: Path = DEMO_DIR) -> dict[str, str]:
    """Write the demo master, config and one period of unit submissions into folder."""
    folder = Path(folder)
    for sub in ("master", "inbox"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    config.write_default(folder, title=TITLE, organisation=ORG, subject="市卫生健康委",
                         addressees="委机关各处室，委属各单位", period=PERIOD,
                         reference_date=REFERENCE.isoformat(), programme_start=START.isoformat(),
                         submit_by=SUBMIT_BY.isoformat())
    settings = config.load(folder)
    ledger = demo_ledger()
    master_file.write_master(ledger, settings)
    scratch = folder / ".outbox-build"
    settings.paths["outbox"] = str(scratch)
    handed = {d.unit: d.path for d in distribute.distribute(settings, ledger=ledger)}
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(31)
    times: dict[str, str] = {}
    silent = {"市眼科医院", "市口腔医院", "老龄健康处", "市卫生健康促进中心", "科技教育处", "市综合服务中心"}

    def complete_some(ws, cols, share=0.7):
        for r in range(3, ws.max_row + 1):
            status = ws.cell(r, cols[vocab.STATUS]).value
            if status in (vocab.IN_PROGRESS, vocab.NOT_STARTED) and isinstance(ws.cell(r, cols[vocab.DUE_DATE]).value,
                                                                             (dt.date, dt.datetime)):
                if rng.random() < share:
                    ws.cell(r, cols[vocab.STATUS]).value = vocab.DONE
                    ws.cell(r, cols[vocab.PROGRESS]).value = rng.choice(PROGRESS_DONE)
                    ws.cell(r, cols[vocab.EVIDENCE]).value = "《关于印发整改工作方案的通知》及会议纪要"
                elif status == vocab.NOT_STARTED:
                    ws.cell(r, cols[vocab.STATUS]).value = vocab.IN_PROGRESS

    for k, (unit, path) in enumerate(handed.items()):
        if unit in silent:
            continue
        name = f"{unit}8月整改台账.xlsx"
        target = inbox / name
        shutil.copy(path, target)
        day = dt.datetime(2024, 8, 19, 9, 0) + dt.timedelta(hours=4 * k)
        if unit == "市胸科医院":   # typed by hand: synonyms, spaces, a deadline retyped as text
            def typed(ws, cols):
                words = ["完成", " 推进中", "已整改 ", "整改中", "已完成整改"]
                for i, r in enumerate(range(3, ws.max_row + 1)):
                    ws.cell(r, cols[vocab.STATUS]).value = words[i % len(words)]
                    ws.cell(r, cols[vocab.PROGRESS]).value = "  已于2024.8.15召开专题会议，2024/8/20印发方案。 "
                    d = ws.cell(r, cols[vocab.DEADLINE]).value
                    if isinstance(d, (dt.date, dt.datetime)):
                        ws.cell(r, cols[vocab.DEADLINE]).value = f"{d.year}年{d.month}月{d.day}日"
            _fill(target, typed)
        elif unit == "市第二人民医院":  # tampering: a deadline pushed back, a measure reworded
            def tamper(ws, cols):
                complete_some(ws, cols)
                ws.cell(3, cols[vocab.DEADLINE]).value = dt.date(2024, 12, 31)
                if ws.max_row >= 4:
                    ws.cell(4, cols[vocab.MEASURE]).value = "（已调整）" + str(ws.cell(4, cols[vocab.MEASURE]).value)
            _fill(target, tamper)
        elif unit == "宣传处":  # text that looks like formulas must stay text
            def inject(ws, cols):
                complete_some(ws, cols)
                ws.cell(3, cols[vocab.PROGRESS]).value = '=HYPERLINK（"http://example.invalid","详见链接"）'  # a real formula
                for name, text in ((vocab.EVIDENCE, "+86 022-12345678 联系人核实"), (vocab.REMARK, "@所有人 -请关注")):
                    ws.cell(3, cols[name]).value = text   # typed with Excel's leading apostrophe: text
                    ws.cell(3, cols[name]).data_type = "s"
            _fill(target, inject)
        else:
            _fill(target, complete_some)
        if unit == "市肿瘤医院":
            day = dt.datetime(2024, 8, 28, 16, 30)   # after the 25 August deadline
        times[name] = day.isoformat()
        if unit == "财务处":  # the same file sent again a day later under another name
            again = inbox / f"{unit}8月整改台账（重发）.xlsx"
            shutil.copy(target, again)
            times[again.name] = (day + dt.timedelta(days=1)).isoformat()
    broken = inbox / "市胸科医院附件.xlsx"    # a Word file renamed .xlsx
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    times[broken.name] = dt.datetime(2024, 8, 22, 10, 5).isoformat()
    truncated = inbox / "市急救中心整改台账（损坏）.xlsx"
    data = handed["市急救中心"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    times[truncated.name] = dt.datetime(2024, 8, 21, 15, 0).isoformat()
    (folder / "inbox_times.json").write_text(json.dumps(times, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(scratch, ignore_errors=True)
    return times


DEMO_MARKER = ".整改台账演示"
DEMO_LAYOUT = {config.CONFIG_NAME, DEMO_MARKER, ".整改台账.lock", "master", "inbox", "outbox", "archive", "output",
               "backup", "logs", ".zhenggai", vocab.HISTORY_DB, vocab.HISTORY_DB + "-wal", vocab.HISTORY_DB + "-shm"}


def _earlier_demo(target: Path, source: Path) -> bool:
    """An empty folder, or one demo made: it holds the marker (or, from before the marker, nothing
    but the demo's layout with the demo's own config)."""
    if not target.is_dir():
        return False
    names = {p.name for p in target.iterdir()}
    config_file = target / config.CONFIG_NAME
    return not names or DEMO_MARKER in names or (
        names <= DEMO_LAYOUT and config_file.is_file()
        and config_file.read_bytes() == (source / config.CONFIG_NAME).read_bytes())


def stage_demo(target: Path, source: Path = DEMO_DIR) -> config.Settings:
    """Copy the demo (config, master, inbox) into target, fresh, with the files' receipt times.
    Only an empty folder or an earlier demo run (it holds DEMO_MARKER) is ever replaced."""
    target = Path(target)
    if target.exists() and not _earlier_demo(target, source):
        raise UsageError(kind="demo-target-not-empty", where=Location(file=str(target.resolve())), target=target.resolve(),
                         example="python -m toolkit demo 演示台账")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / DEMO_MARKER).write_text("本文件夹由 python -m toolkit demo 生成，再次运行演示会整个替换它。\n", encoding="utf-8")
    shutil.copy(source / config.CONFIG_NAME, target / config.CONFIG_NAME)
    shutil.copytree(source / "master", target / "master")
    shutil.copytree(source / "inbox", target / "inbox")
    secret = Path(SECRET_FILE)                    # the demo's templates were signed with the demo's key
    (target / secret).parent.mkdir(parents=True)
    shutil.copy(source / secret, target / secret)
    os.chmod(target / secret, 0o600)
    times = json.loads((source / "inbox_times.json").read_text(encoding="utf-8"))
    for name, when in times.items():
        stamp = dt.datetime.fromisoformat(when).timestamp()
        os.utime(target / "inbox" / name, (stamp, stamp))
    return config.load(target)
