"""Settings in one TOML file, with defaults that work on the demo data.

Paths are relative to the file's folder; a bad value stops start-up with a clear message.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import normalize, vocab
from .errors import ConfigError

CONFIG_NAME = "config.toml"


@dataclass
class Settings:
    """Everything a run needs to know besides the files themselves."""
    root: Path
    title: str = "巡视整改"
    organisation: str = "中共某市卫生健康委员会委员会"
    subject: str = "市卫生健康委"
    addressees: str = "委机关各处室,委属各单位"
    period: str = ""
    reference_date: dt.date | None = None        # None: today (the workbook cell holds =TODAY())
    programme_start: dt.date = dt.date(2024, 3, 1)
    submit_by: dt.date | None = None
    remind_working_days: int = 5
    reply_days: int = 5
    lagging_units: int = 5
    weights: dict[str, float] = field(default_factory=lambda: {
        vocab.DONE: 1.0, vocab.MOSTLY_DONE: 1.0, vocab.IN_PROGRESS: 0.0, vocab.NOT_STARTED: 0.0})
    extra_holidays: list[dt.date] = field(default_factory=list)
    extra_workdays: list[dt.date] = field(default_factory=list)
    schedule_at: str = "02:00"
    schedule_every_minutes: int = 0
    max_file_mb: float = 20.0
    lock_wait_seconds: float = 30.0
    unit_map: dict[str, list[str]] = field(default_factory=dict)   # [units]: collective name or alias → units
    paths: dict[str, str] = field(default_factory=lambda: {
        "master": "master/整改台账.xlsx", "outbox": "outbox", "inbox": "inbox",
        "archive": "archive", "output": "output", "backup": "backup", "logs": "logs"})

    def path(self, name: str) -> Path:
        return (self.root / self.paths[name]).resolve()

    @property
    def master(self) -> Path:
        return self.path("master")

    def today(self) -> dt.date:
        """The reference date: the configured one, else the calendar date."""
        return self.reference_date or dt.date.today()

    def current_period(self) -> str:
        return self.period or self.today().strftime("%Y-%m")


def _date(value, key: str) -> dt.date | None:
    if value in (None, "", "today", "今天"):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"配置项 {key} 的值“{value}”不是日期,应写成 2024-08-31 或 today。") from None


def load(path: Path | None = None) -> Settings:
    """Read settings from a config.toml (a folder may be given: its config.toml is read)."""
    path = Path(path or CONFIG_NAME)
    if path.is_dir() or path.suffix != ".toml":
        path = path / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"找不到配置文件 {path}。可先运行 `python -m toolkit init {path.parent}` 生成一份。")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 格式有误:{exc}") from None
    return from_dict(data, path.parent.resolve(), str(path))


def from_dict(data: dict, root: Path, where: str = "配置") -> Settings:
    s = Settings(root=Path(root))
    known = {"title", "organisation", "subject", "addressees", "period", "reference_date",
             "programme_start", "submit_by", "remind_working_days", "reply_days", "lagging_units",
             "weights", "calendar", "schedule", "paths", "limits", "units"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where} 中有未知的配置项:{'、'.join(unknown)}。")
    for key in ("title", "organisation", "subject", "addressees", "period"):
        if key in data:
            setattr(s, key, str(data[key]))
    s.period = normalize.period(s.period)
    for name, units in data.get("units", {}).items():
        units = [units] if isinstance(units, str) else units
        if not isinstance(units, list) or not units or not all(isinstance(u, str) and u.strip() for u in units):
            raise ConfigError(f"配置 [units] 中“{name}”应写成单位名称或单位名称列表,如 \"{name}\" = [\"单位甲\", \"单位乙\"]。")
        s.unit_map[name] = units
    s.reference_date = _date(data.get("reference_date"), "reference_date")
    s.programme_start = _date(data.get("programme_start"), "programme_start") or s.programme_start
    s.submit_by = _date(data.get("submit_by"), "submit_by")
    for key in ("remind_working_days", "reply_days", "lagging_units"):
        if key in data:
            if not isinstance(data[key], int) or data[key] < 0:
                raise ConfigError(f"配置项 {key} 应为非负整数,现为“{data[key]}”。")
            setattr(s, key, data[key])
    for word, weight in data.get("weights", {}).items():
        if word not in vocab.STATUS_RANK or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise ConfigError(f"配置 [weights] 中“{word} = {weight}”无效:键应为完成情况,值在0到1之间。")
        s.weights[word] = float(weight)
    cal = data.get("calendar", {})
    s.extra_holidays = [_date(d, "calendar.extra_holidays") for d in cal.get("extra_holidays", [])]
    s.extra_workdays = [_date(d, "calendar.extra_workdays") for d in cal.get("extra_workdays", [])]
    sched = data.get("schedule", {})
    s.schedule_at = str(sched.get("at", s.schedule_at))
    try:
        dt.time.fromisoformat(s.schedule_at)
    except ValueError:
        raise ConfigError(f"配置 [schedule] at = “{s.schedule_at}”应为 HH:MM,例如 02:00。") from None
    s.schedule_every_minutes = int(sched.get("every_minutes", 0))
    limits = data.get("limits", {})
    s.max_file_mb = float(limits.get("max_file_mb", s.max_file_mb))
    s.lock_wait_seconds = float(limits.get("lock_wait_seconds", s.lock_wait_seconds))
    for key, value in data.get("paths", {}).items():
        if key not in s.paths:
            raise ConfigError(f"配置 [paths] 中未知的路径项“{key}”(可用:{'、'.join(s.paths)})。")
        s.paths[key] = str(value)
    return s


DEFAULT_TOML = """\
# 整改台账工具配置。路径相对于本文件所在文件夹。
title = "{title}"
organisation = "{organisation}"
subject = "{subject}"
addressees = "委机关各处室,委属各单位"
period = "{period}"            # 报送期次,如 2024-08
reference_date = "{reference_date}"    # 基准日期:today 表示每天的当天日期
programme_start = "{programme_start}"   # 整改启动日期;“立行立改”按此日期计算逾期
submit_by = "{submit_by}"         # 本期报送截止日,之后收到的算“逾期报送”
remind_working_days = 5         # 到期前几个工作日标黄提醒
reply_days = 5                  # 督办单要求几个工作日内回复
lagging_units = 5               # 通报中点名进度靠后的单位数

[weights]                       # 推进率中各状态的权重(完成率只计“已完成”)
"已完成" = 1.0
"基本完成" = 1.0
"正在推进" = 0.0
"未启动" = 0.0

[calendar]                      # 补充 chinese-calendar 尚未收录年份的节假日与调休上班日
extra_holidays = []
extra_workdays = []

[schedule]
at = "02:00"                    # 每晚汇总时间
every_minutes = 0               # 大于0时改为每隔N分钟汇总一次(报送高峰期)

[paths]
master = "master/整改台账.xlsx"
outbox = "outbox"
inbox = "inbox"
archive = "archive"
output = "output"
backup = "backup"
logs = "logs"
"""


def write_default(folder: Path, **values) -> Path:
    """Write a commented config.toml into folder (used by `init` and the demo)."""
    defaults = dict(title="巡视整改", organisation="中共某市卫生健康委员会委员会", subject="市卫生健康委",
                    period=dt.date.today().strftime("%Y-%m"), reference_date="today",
                    programme_start="2024-03-01", submit_by="")
    defaults.update(values)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(DEFAULT_TOML.format(**defaults), encoding="utf-8")
    return path
