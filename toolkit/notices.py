"""Notices from jinja2 templates in templates/: receipts (回执), 通报, 督办单, the public summary.

Templates are plain text files staff can edit; every variable they may use is built by one
of the *_context functions below and listed in templates/README.md. A missing variable is
an error (StrictUndefined), never a silent blank.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from . import normalize, sheets, vocab
from .config import Settings
from .distribute import safe_filename
from .errors import ToolkitError

if TYPE_CHECKING:
    from .consolidate import ConsolidationResult

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def pct(value: float) -> str:
    """87.5% — one decimal, as notices print percentages."""
    return f"{value:.1f}%"


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir or TEMPLATE_DIR)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["日期"] = normalize.format_date
    env.filters["中文日期"] = normalize.format_date_cn
    env.filters["百分比"] = pct
    return env


def render(name: str, context: dict, template_dir: Path | None = None) -> str:
    """Render one template; a variable the template uses but the context lacks is a clear error."""
    try:
        return environment(template_dir).get_template(name).render(**context)
    except jinja2.UndefinedError as exc:
        raise ToolkitError(f"模板“{name}”使用了未提供的变量:{exc.message}。可用变量见 templates/README.md。") from None
    except jinja2.TemplateNotFound:
        raise ToolkitError(f"找不到模板“{name}”(模板文件夹:{template_dir or TEMPLATE_DIR})。") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ToolkitError(f"模板“{name}”第{exc.lineno}行语法有误:{exc.message}") from None


def receipt_context(unit: str, outcomes: list, settings: Settings, when: dt.datetime | None = None) -> dict:
    """Variables of 回执.txt.j2: one unit's files this run, with every problem located."""
    files = []
    for f in outcomes:
        s = f.submission
        files.append({"文件名": s.name, "收件时间": s.received.strftime("%Y-%m-%d %H:%M"), "结果": f.outcome,
                      "采纳条数": f.accepted, "逾期报送": f.late, "归档文件": f.archived.name,
                      "问题": [p.text() for p in s.problems], "说明": list(s.notes)})
    identified = not unit.startswith(vocab.UNIDENTIFIED)
    return {"单位": unit if identified else f"文件“{outcomes[0].submission.name}”的报送单位",
            "已识别": identified, "报送期次": settings.current_period(), "文件": files,
            "发文单位": settings.organisation, "日期": (when or dt.datetime.now()).date(),
            "截止日期": settings.submit_by}


def write_receipts(result: "ConsolidationResult", settings: Settings) -> list[Path]:
    """One 回执 per unit that sent files in this run (unidentified files get one each)."""
    folder = settings.path("output") / result.period / "回执"
    groups: dict[str, list] = {}
    for f in result.files:
        key = f.submission.unit or f"{vocab.UNIDENTIFIED}_{f.submission.name}"
        groups.setdefault(key, []).append(f)
    written = []
    for key, outcomes in groups.items():
        text = render("回执.txt.j2", receipt_context(key, outcomes, settings))
        path = folder / f"{safe_filename(key)}.txt"
        sheets.atomic_write_text(path, text)
        written.append(path)
    return written


def write_notices(ledger, settings: Settings, result, summary) -> list[Path]:
    """All notices for the period (filled in by the notices issue)."""
    return []
