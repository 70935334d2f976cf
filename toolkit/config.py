"""Settings in one TOML file, with defaults that work on the demo data.

Paths are relative to the file's folder; a bad value stops start-up with a clear message.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import tomllib
from dataclasses import fields, replace
from pathlib import Path

from . import profiles, vocab
from .errors import ConfigError
from .model import Settings
from .problems import Location
from .rules import normalize

CONFIG_NAME = "config.toml"




def _date(value, key: str) -> dt.date | None:
    if value in (None, "", "today", "今天") or (isinstance(value, str) and value.startswith(PLACEHOLDER)):
        return None                    # an init placeholder: `check` names it until the office fills it
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else _wrong(key, value, "日期")
    except ValueError:
        raise ConfigError(kind="config-not-a-date", key=key, value=f"{value}") from None


def _wrong(key: str, value, what: str):
    raise ConfigError(kind="config-wrong-value", key=key, value=f"{value}", expected=what)


def _text(value, key: str) -> str:
    return value if isinstance(value, str) else _wrong(key, value, "文字（用英文双引号括起，如 \"2024-08\"）")


def _count(value, key: str) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else _wrong(key, value, "非负整数，如 5")


def _number(value, key: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else _wrong(key, value, "非负数，如 30")


def _positive(value, key: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return float(value) if ok else _wrong(key, value, "大于0的数，如 20")


def _flag(value, key: str) -> bool:
    return value if isinstance(value, bool) else _wrong(key, value, "true 或 false（不加引号）")


def _dates(value, key: str) -> list[dt.date]:
    if not isinstance(value, list):
        _wrong(key, value, "日期列表，如 [2025-10-08]")
    return [_date(d, key) or _wrong(key, d, "日期") for d in value]


def _clock(value, key: str) -> str:
    try:
        dt.time.fromisoformat(_text(value, key))
    except ValueError:
        raise ConfigError(kind="config-not-a-time", key=key, value=f"{value}") from None
    return value


def _table(value, key: str) -> dict:
    return value if isinstance(value, dict) else _wrong(key, value, f"表格（以 [{key}] 开头的一节）")


def _unknown(key: str, valid, table: str = "") -> ConfigError:
    """An unknown key, named with the nearest valid one (a typo is the usual cause)."""
    name = f"[{table}] 中的“{key}”" if table else f"“{key}”"
    near = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.4)
    return ConfigError(kind="config-unknown-key-near" if near else "config-unknown-key", name=name,
                       near=near[0] if near else "", valid=list(valid))


def _weights(value, key: str) -> dict[str, float]:
    out = {}
    for word, weight in _table(value, key).items():
        if word not in vocab.STATUS_RANK:
            raise _unknown(word, list(vocab.STATUS_RANK), key)
        out[word] = _number(weight, f"{key}.{word}")
        if out[word] > 1:
            _wrong(f"{key}.{word}", weight, "0到1之间的数")
    return out


def _bool(value, key: str) -> bool:
    return value if isinstance(value, bool) else _wrong(key, value, "true 或 false")


def _font(value, key: str):
    """A font role: "名称" or ["名称", "替代名称"]."""
    ok = isinstance(value, str) and value.strip() or (
        isinstance(value, list) and 1 <= len(value) <= 2 and all(isinstance(v, str) and v.strip() for v in value))
    return value if ok else _wrong(key, value, "字体名称，或 [\"字体名称\", \"替代字体名称\"]")


_UNSAFE_PERIOD = re.compile(r'[\\/:*?"<>|\x00-\x1f]|^\.|\.\.')


def _font_files(value, key: str) -> list[str]:
    """[fonts] files: font files LibreOffice should use for the PDFs, e.g. ["D:/字体/仿宋_GB2312.ttf"]."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        _wrong(key, value, "字体文件路径列表，如 [\"D:/字体/仿宋_GB2312.ttf\"]")
    return [v.strip() for v in value]


def _names(value, key: str) -> list[str]:
    """[order] units / leaders: names in the office's order, e.g. ["办公室", "组织处", "医政处"] (each once)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        _wrong(key, value, "名称列表，按办公室的排列顺序，如 [\"办公室\", \"组织处\", \"医政处\"]")
    names = [v.strip() for v in value]
    twice = sorted({n for n in names if names.count(n) > 1}, key=names.index)
    if twice:
        raise ConfigError(kind="config-repeated-names", key=key, names=twice)
    return names


def _period(value, key: str) -> str:
    """报送期次 as YYYY-MM, however it was typed (“2024年8月” → 2024-08); it names folders under archive,
    output and outbox, so a path separator, `..` or a leading dot (which would write elsewhere) is refused."""
    period = normalize.period(_text(value, key))
    if _UNSAFE_PERIOD.search(period):      # '' is fine: the current month
        raise ConfigError(kind="config-unsafe-period", key=key, value=f"{value}")
    return period


def _paper(value, key: str) -> str:
    """[print] paper: A4, A3 or auto, however it was cased."""
    word = _text(value, key).strip().upper()
    if word not in ("A4", "A3", "AUTO"):
        raise ConfigError(kind="config-paper", key=key, value=f"{value}")
    return word.replace("AUTO", "auto")


def _unit_map(value, key: str) -> dict[str, list[str]]:
    """[units]: a collective name → its units (a list), or an alias → the canonical name (a text)."""
    out = {}
    for name, target in _table(value, key).items():
        names = [target] if isinstance(target, str) else target
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            _wrong(f"{key}.{name}", target, "单位名称（文字）或单位名称列表，如 [\"办公室\", \"医政处\"]")
        out[name] = [n.strip() for n in names]
    return out


def _slip_number(value, key: str) -> str:
    """[documents] slip_number: the 督办编号's form, holding {序号} (and optionally {年} {月})."""
    text = _text(value, key)
    try:
        text.format(年=2024, 月=8, 序号=1)
    except (KeyError, IndexError, ValueError):
        raise ConfigError(kind="config-slip-placeholders", key=key, value=f"{value}") from None
    if "{序号}" not in text:
        raise ConfigError(kind="config-slip-without-number", key=key, value=f"{value}")
    return text


RUNG_KEYS = {"template": "模板文件名，如 \"告诫书.md.j2\"", "number": "文号格式，如 \"告诫〔{年}〕{序号}号\"",
             "issuer": "署名：\"office\"（[documents] office）或 \"notice_issuer\"（[documents] notice_issuer）"}


def _rung(value, key: str) -> dict[str, str]:
    """[ladder.<梯次>]: the rung's template, number form and issuer (each optional)."""
    out = {}
    for name, text in _table(value, key).items():
        if name not in RUNG_KEYS:
            raise _unknown(name, list(RUNG_KEYS), key)
        out[name] = _text(text, f"{key}.{name}")
        if name == "number":
            out[name] = _slip_number(text, f"{key}.{name}")
        if name == "issuer" and text not in ("office", "notice_issuer"):
            _wrong(f"{key}.{name}", text, RUNG_KEYS["issuer"])
        if name == "template" and not text.endswith(".j2"):
            _wrong(f"{key}.{name}", text, RUNG_KEYS["template"])
    return out


# every key a config file may hold: (table, key) → (check, Settings attribute)
SCHEMA: dict[tuple[str, str], tuple] = {
    **{("", k): (_text, k) for k in ("title", "organisation", "subject", "addressees")},
    ("", "period"): (_period, "period"),
    **{("", k): (_date, k) for k in ("reference_date", "programme_start", "submit_by")},
    **{("", k): (_count, k) for k in ("remind_working_days", "remind_submit_days", "reply_days", "lagging_units")},
    ("", "weights"): (_weights, "weights"),
    ("", "units"): (_unit_map, "unit_map"),
    ("calendar", "extra_holidays"): (_dates, "extra_holidays"),
    ("calendar", "extra_workdays"): (_dates, "extra_workdays"),
    ("schedule", "at"): (_clock, "schedule_at"),
    ("schedule", "every_minutes"): (_count, "schedule_every_minutes"),
    ("limits", "max_file_mb"): (_positive, "max_file_mb"),
    ("limits", "lock_wait_seconds"): (_number, "lock_wait_seconds"),
    ("limits", "settle_seconds"): (_number, "settle_seconds"),
    ("limits", "read_timeout_seconds"): (_positive, "read_timeout_seconds"),
    ("", "notice_pdf"): (_bool, "notice_pdf"),
    ("", "wechat_chars"): (_count, "wechat_chars"),
    **{("fonts", role): (_font, f"fonts.{role}") for role in ("title", "body", "heading", "subheading", "number")},
    ("fonts", "chart"): (_text, "fonts.chart"),
    ("fonts", "files"): (_font_files, "fonts.files"),
    ("print", "paper"): (_paper, "print_paper"),
    ("review", "required"): (_flag, "review_required"),
    **{("documents", k): (_text, f"documents.{k}") for k in ("notice_issuer", "office", "contact", "phone", "reply_to")},
    ("documents", "slip_number"): (_slip_number, "documents.slip_number"),
    ("ladder", "warn_after"): (_count, "ladder.warn_after"),
    ("ladder", "account_after"): (_count, "ladder.account_after"),
    ("ladder", "acceptance"): (_flag, "ladder.acceptance"),
    **{("ladder", rung): (_rung, f"ladder.{rung}") for rung in vocab.RUNGS},
    ("ladder", vocab.RUNG_FILES[vocab.RUNG_ACCOUNT]): (_rung, f"ladder.{vocab.RUNG_ACCOUNT}"),
    ("order", "units"): (_names, "unit_order"),
    ("order", "leaders"): (_names, "leader_order"),
}
TABLES = ("calendar", "schedule", "limits", "fonts", "print", "review", "paths", "documents", "ladder", "order")


def _decode(raw: bytes, path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), else GBK as Notepad on Chinese Windows saves it."""
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(kind="config-encoding", where=Location(file=str(path)), path=path)


def load(path: Path | None = None) -> Settings:
    """Read settings from a config.toml (a folder may be given: its config.toml is read)."""
    path = Path(path or CONFIG_NAME)
    if path.is_dir() or path.suffix != ".toml":
        path = path / CONFIG_NAME
    if not path.exists():
        raise ConfigError(kind="config-missing", where=Location(file=str(path)), path=path, folder=path.parent)
    try:
        data = tomllib.loads(_decode(path.read_bytes(), path))
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+), column (\d+)", str(exc))
        raise ConfigError(kind="config-toml" if at else "config-toml-somewhere", path=path, line=int(at[1]) if at else None,
                          column=int(at[2]) if at else None,
                          where=Location(file=str(path), row=int(at[1]) if at else None)) from None
    except OSError as exc:
        raise ConfigError(kind="config-unreadable", where=Location(file=str(path)), path=path, reason=exc.strerror) from None
    return from_dict(data, path.parent.resolve(), str(path))


def from_dict(data: dict, root: Path, where: str = "配置") -> Settings:
    """Settings from parsed TOML; any unknown key or wrong type is a ConfigError naming it. The values
    are gathered into a draft first: Settings is frozen once made."""
    blank = Settings(root=Path(root))
    d = {f.name: getattr(blank, f.name) for f in fields(Settings)}
    top = [k for t, k in SCHEMA if not t] + ["profile"] + list(TABLES)
    try:
        _profile(d, data)
        for key, value in data.items():
            if key in TABLES:
                _section(d, key, _table(value, key))
            elif key == "profile":
                continue
            elif ("", key) in SCHEMA:
                check, attr = SCHEMA[("", key)]
                _assign(d, attr, check(value, key))
            else:
                raise _unknown(key, top)
        s = Settings(**d)
        check_folders(s)
    except ConfigError as exc:
        raise ConfigError(f"{where}：{exc}", kind=exc.kind, where=replace(exc.location, file=where), **exc.params) from None
    return s


WRITTEN_FOLDERS = ("archive", "output", "backup", "outbox", "logs")   # folders the toolkit fills itself


def _profile(d: dict, data: dict) -> None:
    """profile = "审计整改" (or a TOML path): its wording, its default title, and its words carried on the settings."""
    profile = profiles.load(_text(data.get("profile", profiles.DEFAULT), "profile"), d["root"])
    d["profile"], d["words"] = profile.name, profile.words()
    if "title" not in data:
        d["title"] = profile.title
    d["lexicon"] = profile.lexicon


def _within(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def check_folders(s: Settings) -> None:
    """A workspace owns its folders: the inbox, whose files are archived and then deleted, must hold
    nothing of the workspace itself (its folder, config.toml, history.sqlite, master, archive, output,
    backup). Paths are compared resolved, links followed, so a link cannot smuggle them in."""
    inbox = s.path("inbox")
    root = Path(s.root).resolve()
    own = {"工作文件夹": root, CONFIG_NAME: root / CONFIG_NAME, vocab.HISTORY_DB: root / vocab.HISTORY_DB,
           "paths.master": s.master, **{f"paths.{k}": s.path(k) for k in ("archive", "output", "backup")}}
    for what, path in own.items():
        if _within(path, inbox):
            raise ConfigError(kind="config-inbox-holds-workspace", written=s.paths['inbox'], inbox=inbox, what=what,
                              path=path)
    for key in WRITTEN_FOLDERS:        # and it lies in none of the folders the toolkit writes into
        if inbox.is_relative_to(s.path(key)):
            raise ConfigError(kind="config-inbox-in-written-folder", written=s.paths['inbox'], inbox=inbox, key=key,
                              folder=s.path(key))


def _section(d: dict, table: str, values: dict) -> None:
    if table == "paths":
        for key, value in values.items():
            if key not in d["paths"]:
                raise _unknown(key, list(d["paths"]), table)
            d["paths"][key] = _text(value, f"paths.{key}")
        return
    valid = [k for t, k in SCHEMA if t == table]
    for key, value in values.items():
        if (table, key) not in SCHEMA:
            raise _unknown(key, valid, table)
        check, attr = SCHEMA[(table, key)]
        _assign(d, attr, check(value, f"{table}.{key}"))


def _assign(d: dict, attr: str, value) -> None:
    """Put one checked value into the draft of Settings (fonts.x, documents.x, ladder.x into their tables)."""
    if "." in attr:
        table, key = attr.split(".", 1)
        d[table][key] = value
    elif attr == "weights":
        d["weights"].update(value)
    elif attr == "programme_start":
        d["programme_start"] = value or d["programme_start"]
    else:
        d[attr] = value


DEFAULT_TOML = """\
# 整改台账工具配置。路径相对于本文件所在文件夹。
profile = "{profile}"       # 配置方案：巡视巡察整改 / 审计整改 / 督查督办 / 责任清单 / 民主生活会整改，或本单位方案文件，如 "本单位方案.toml"
title = "{title}"
organisation = "{organisation}"
subject = "{subject}"
addressees = "{addressees}"
period = "{period}"            # 报送期次，如 2024-08
reference_date = "{reference_date}"    # 基准日期：today 表示每天的当天日期
programme_start = "{programme_start}"   # 整改启动日期；“立行立改”按此日期计算逾期
submit_by = "{submit_by}"         # 本期报送截止日，之后收到的算“逾期报送”
remind_submit_days = 3          # 截止日前几个工作日起，每晚为尚未报送的单位生成催报（0 表示不催报）
remind_working_days = 5         # 到期前几个工作日标黄提醒
reply_days = 5                  # 督办单要求几个工作日内回复
lagging_units = 5               # 通报中点名进度靠后的单位数
notice_pdf = true               # 通报、督办单同时输出 PDF（需安装 LibreOffice）
wechat_chars = 500              # 微信通报摘要的最多字数

[weights]                       # 推进率中各状态的权重（完成率只计“已完成”）
"已完成" = 1.0
"基本完成" = 1.0
"正在推进" = 0.0
"未启动" = 0.0

[calendar]                      # 补充 chinese-calendar 尚未收录年份的节假日与调休上班日
extra_holidays = []
extra_workdays = []

[schedule]
at = "02:00"                    # 每晚汇总时间
every_minutes = 0               # 大于0时改为每隔N分钟汇总一次（报送高峰期）

[limits]
max_file_mb = 20                # 单个报送文件的大小上限（MB）
lock_wait_seconds = 30          # 另一个操作正在运行、或台账/通报正被打开时，最多等待的秒数
settle_seconds = 2              # 收件箱中最近几秒内仍在变化的文件视为正在复制，留待下次汇总
read_timeout_seconds = 120      # 单个报送文件读取超时（秒），超时的文件退回，其余照常汇总

[fonts]                         # 公文字体：名称，或 ["名称", "电脑上没有时的替代字体"]
title = ["方正小标宋简体", "宋体"]
body = ["仿宋_GB2312", "仿宋"]
heading = ["黑体", "SimHei"]
subheading = ["楷体_GB2312", "楷体"]
number = ["宋体", "SimSun"]
# chart = "C:/Windows/Fonts/simhei.ttf"   # 图表用的中文字体文件（默认自动查找）
# files = ["fonts/方正小标宋简体.ttf", "fonts/仿宋_GB2312.ttf", "fonts/楷体_GB2312.ttf"]   # 生成 PDF 时使用的字体文件（不必安装）

[documents]                     # 谁发文、督办单怎么写（不写时均用 organisation）
# notice_issuer = "中共某市卫生健康委员会委员会"      # 进展通报的发文机关
# office = "{office}"               # 督办单、催报、回执、领导调度单的署名
# slip_number = "〔{{年}}〕{{序号}}号"                  # 督办编号格式，可用 {{年}} {{月}} {{序号}}；序号按年连续
# contact = "张××"                                     # 督办单上的联系人
# phone = "022-12345678"                               # 联系电话
# reply_to = "书面材料加盖公章后报送整改办，电子版发送至工作邮箱"   # 督办单“如何反馈”一句

[ladder]                        # 督办梯次：提醒函（临期）→ 督办单（逾期）→ 告诫书 → 约谈/问责建议；工具只拟发，办公室决定发出
warn_after = 10                 # 逾期满几个工作日拟发告诫书（上次督办后无进展的，也升为告诫书）
account_after = 30              # 逾期满几个工作日拟发约谈/问责建议
acceptance = false              # true：销号前须经三方验收（责任单位、牵头单位、整改办）
# [ladder."告诫书"]             # 每个梯次可另设模板、文号格式和署名（office 或 notice_issuer）
# template = "告诫书.md.j2"
# number = "告诫〔{{年}}〕{{序号}}号"
# issuer = "office"

[print]
paper = "A4"                    # 台账打印纸张：A4（横向，收窄长文字列使正文不小于9磅）、A3，或 auto（原列宽放得下用A4，否则A3）

[review]                        # 销号审核
required = false                # true：单位报“已完成”后先记为“申请销号”，经办公室在台账“销号审核”表同意后才算完成

[units]                         # 单位名称对照：集体名称 = ["单位1", "单位2"]；别名 = "规范名称"
# "委属各单位" = ["市第一中心医院", "市人民医院"]
# "一中心" = "市第一中心医院"

[order]                         # 通报、督办单、统计表、看板中单位和责任领导的排列顺序（不写则按台账中首次出现的顺序）
# units = ["办公室", "组织处", "医政处"]
# leaders = ["王××（党委书记、主任）", "李××（副主任）"]

[paths]
master = "master/整改台账.xlsx"
outbox = "outbox"
inbox = "inbox"
archive = "archive"
output = "output"
backup = "backup"
logs = "logs"
"""


PLACEHOLDER = "（请填写："          # how init's neutral values start; `check` names each until the office fills it
PLACEHOLDERS = {"title": "（请填写：整改工作名称，如 {title}）", "organisation": "（请填写：单位名称）",
                "subject": "（请填写：单位简称，通报中“共指出××重点问题”处）",
                "addressees": "（请填写：主送单位，如 各处室，各直属单位）",
                "programme_start": "（请填写：整改启动日期，如 2024-03-01）"}


def write_default(folder: Path, **values) -> Path:
    """Write a commented config.toml into folder (used by `init` and the demo): neutral placeholders, not
    any office's names, for what only the office knows."""
    profile = profiles.load(values.get("profile", ""), Path(folder))
    defaults = dict(profile=values.get("profile") or profile.name,
                    **{k: v.format(title=profile.title) for k, v in PLACEHOLDERS.items()},
                    period=dt.date.today().strftime("%Y-%m"), reference_date="today", submit_by="", office=profile.office)
    defaults.update({k: v for k, v in values.items() if k != "profile"})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(DEFAULT_TOML.format(**defaults), encoding="utf-8")
    return path


def _unfilled(root: Path) -> tuple[Path, dict[str, str]]:
    """(root's config.toml, {key: placeholder} for each top-level key still holding init's placeholder)."""
    path = Path(root) / CONFIG_NAME
    try:
        data = tomllib.loads(_decode(path.read_bytes(), path))
    except (OSError, tomllib.TOMLDecodeError, ConfigError):
        return path, {}                             # no file, or a fault config.load reports itself
    return path, {k: v for k, v in data.items() if isinstance(v, str) and v.startswith(PLACEHOLDER)}


def _placeholder_text(path: Path, key: str, value: str, start: dt.date) -> str:
    if key == "programme_start":     # not printed anywhere: a date stands in for it, silently unless said
        return (f"配置文件 {path} 中 programme_start = “{value}” 仍是 init 写入的占位内容：在填写本单位的整改启动日期之前，"
                f"“立行立改”措施的完成时限（及其逾期、临期）按{normalize.format_date(start)}计算。"
                f"请写成 programme_start = \"2024-05-06\" 这样的日期。")
    return (f"配置文件 {path} 中 {key} = “{value}” 仍是 init 写入的占位内容：请改为本单位的实际内容"
            f"（{value.removeprefix(PLACEHOLDER).rstrip('）')}），否则通报、督办单会照写这几个字。")


def placeholders(root: Path) -> list[str]:
    """Each key of root's config.toml still holding init's placeholder, named with what to write there."""
    path, unfilled = _unfilled(root)
    start = next(f.default for f in dataclasses.fields(Settings) if f.name == "programme_start")   # what stands in
    return [_placeholder_text(path, k, v, start) for k, v in unfilled.items()]


def unfilled_start(settings: Settings) -> list[str]:
    """A run's 提示 while programme_start still holds init's placeholder: the date used in its place and the fix."""
    path, unfilled = _unfilled(settings.root)
    return [_placeholder_text(path, "programme_start", unfilled["programme_start"], settings.programme_start)
            ] if "programme_start" in unfilled else []
