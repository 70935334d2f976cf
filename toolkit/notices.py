"""Notices from jinja2 templates in templates/: receipts (回执), 通报, 督办单, the public summary.

Templates are plain text files staff can edit; every variable they may use is built by one
of the *_context functions below and listed in templates/README.md. A missing variable is
an error (StrictUndefined), never a silent blank.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from functools import lru_cache

import jinja2

from . import chart, gongwen, normalize, resources, utils, vocab
from .config import Settings
from .distribute import safe_filename
from .errors import ToolkitError

if TYPE_CHECKING:
    from .consolidate import ConsolidationResult

TEMPLATE_DIR = resources.folder("templates")


def pct(value: float) -> str:
    """87.5% — one decimal, as notices print percentages."""
    return f"{value:.1f}%"


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """One environment per template folder: each template is compiled once per process
    (jinja2 still reloads a template whose file changed)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir or TEMPLATE_DIR)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["日期"] = normalize.format_date
    env.filters["中文日期"] = normalize.format_date_cn
    env.filters["百分比"] = pct
    env.filters["序号"] = lambda n: f"({'一二三四五六七八九十'[n - 1]})" if 0 < n <= 10 else f"({n})"
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
        taken = [f"{u.measure_id}({u.status or '完成情况未改'})" for u in s.updates] if f.accepted else []
        files.append({"文件名": s.name, "收件时间": s.received.strftime("%Y-%m-%d %H:%M"), "结果": f.outcome,
                      "采纳条数": f.accepted, "采纳措施": taken, "逾期报送": f.late, "归档文件": f.archived.name,
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
        utils.atomic_write_text(path, text)
        written.append(path)
    return written



# ---------------------------------------------------------------- notice contexts

def level_figures(summary) -> dict:
    """The seed's problem-level counts: {层级: {总数, 已完成, 基本完成, 正在推进, 未启动}}."""
    out = {}
    for level in (vocab.KEY_PROBLEM, vocab.SPECIFIC, vocab.RECOMMENDATION, vocab.DRAW_LESSONS, vocab.REFORM):
        c = summary.level(level)
        out[level] = {"总数": c.total, "已完成": c.done, "基本完成": c.mostly, "正在推进": c.in_progress, "未启动": c.not_started}
    return out


def counts_dict(c, weights) -> dict:
    return {"总数": c.total, "已完成": c.done, "基本完成": c.mostly, "正在推进": c.in_progress, "未启动": c.not_started,
            "逾期": c.overdue, "完成率": c.completion, "推进率": c.progress(weights)}


def submission_status(ledger, settings: Settings) -> tuple[set[str], list[str]]:
    """Units whose workbook for the period was taken in, and those of them that sent it late."""
    period = settings.current_period()
    first: dict[str, dt.datetime] = {}
    for r in ledger.log:
        if normalize.clean_text(r[0]) != period or normalize.clean_text(r[6]) not in vocab.APPLIED_OUTCOMES:
            continue
        unit, when = normalize.clean_key(r[1]), dt.datetime.fromisoformat(normalize.clean_text(r[2]))
        first[unit] = min(first.get(unit, when), when)
    late = sorted(u for u, when in first.items() if settings.submit_by and when.date() > settings.submit_by)
    return set(first), late


def programme_context(ledger, settings: Settings, summary) -> dict:
    """Variables shared by 进展通报, 督办单 and 公开进展 (documented in templates/README.md)."""
    from .overdue import OVERDUE, late_rows
    ranking = summary.ranking()
    n = settings.lagging_units
    lagging = [u for u, c in ranking[-n:] if c.completion < 100][::-1] if ranking else []
    leading = [u for u, c in ranking[:n] if u not in lagging]
    overdue_by_unit: dict[str, list] = {}
    soon = []
    for r in late_rows(ledger, settings):
        item = {"编号": r.measure.id, "措施": r.measure.measure, "事项": r.measure.item, "完成时限": r.due,
                "完成时限文字": r.measure.deadline if isinstance(r.measure.deadline, str) else normalize.format_date(r.due),
                "逾期天数": r.days, "逾期工作日": r.workdays, "完成情况": r.measure.status,
                "责任领导": r.measure.leader, "牵头单位": r.measure.lead_unit, "配合单位": "、".join(r.measure.co_units)}
        if r.state == OVERDUE:
            for unit in r.measure.owners:
                own = ledger.owners.get((r.measure.id, unit))
                if own is None or own.status != vocab.DONE:
                    overdue_by_unit.setdefault(unit, []).append(dict(item, 本单位角色=own.role if own else ""))
        else:
            soon.append(item)
    submitted, late_units = submission_status(ledger, settings)
    missing = [u for u in ledger.units if u not in submitted]   # submitted is a set
    return {
        "标题": (ledger.title or settings.title).removesuffix("台账").removesuffix("整改"), "主体": settings.subject, "主送": settings.addressees,
        "发文单位": settings.organisation, "报送期次": settings.current_period(), "基准日期": summary.reference_date,
        "问题": level_figures(summary), "措施": counts_dict(summary.measures, summary.weights),
        "分类": {k: counts_dict(c, summary.weights) for k, c in summary.by_category.items()},
        "单位排名": [dict(counts_dict(c, summary.weights), 单位=u) for u, c in ranking],
        "进度靠前单位": leading, "进度靠后单位": lagging,
        "逾期总数": summary.measures.overdue, "逾期按单位": overdue_by_unit, "临期": soon,
        "逾期报送单位": late_units, "未报送单位": missing, "回复期限": None,
    }


def public_summary(ledger, settings: Settings, summary) -> str:
    """The seed-004 style paragraph for public disclosure (公开进展.txt.j2), one line."""
    return _paragraph(render("公开进展.txt.j2", programme_context(ledger, settings, summary)))


def _paragraph(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines() if line.strip())


# ---------------------------------------------------------------- chart for the 通报

def cjk_font() -> str | None:
    """A font file that can draw Chinese labels (scripts/install_system_deps.sh installs Noto CJK)."""
    return chart.cjk_font_file()


CHART_UNITS = 40   # more bars than this are unreadable on an A4 page: show the lagging ones


def chart_png(summary, path: Path) -> Path | None:
    """Bar chart of completion by unit, best on top (with many units, the CHART_UNITS lowest);
    None when no CJK font is installed."""
    ranking = summary.ranking()
    day = normalize.format_date(summary.reference_date)
    title = f"各责任单位整改完成率(截至{day})"
    if len(ranking) > CHART_UNITS:
        ranking = ranking[-CHART_UNITS:]
        title = f"整改完成率最低的{CHART_UNITS}个责任单位(截至{day})"
    data = chart.bar_chart_png([(u, c.completion) for u, c in ranking], title, "整改措施完成率")
    if data is None:
        return None
    utils.atomic_write_bytes(path, data)
    return path


# ---------------------------------------------------------------- writing every notice

def _write_pair(text: str, md_path: Path, images: dict[str, Path] | None = None) -> list[Path]:
    """Write the Markdown and, when the text changed, the .docx beside it (reruns rewrite nothing)."""
    docx_path = md_path.with_suffix(".docx")
    if md_path.exists() and docx_path.exists() and md_path.read_text(encoding="utf-8") == text:
        return [md_path, docx_path]
    utils.atomic_write_bytes(docx_path, gongwen.render(text, images))
    utils.atomic_write_text(md_path, text)
    return [md_path, docx_path]


KINDS = ("通报", "督办单", "公开")


def write_notices(ledger, settings: Settings, summary, kinds=KINDS) -> list[Path]:
    """Write the period's notices into output/<期次>/通报/<基准日期>/ (text + .docx)."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ToolkitError(f"未知的通报类型:{'、'.join(unknown)}(可选:{'、'.join(KINDS)})。")
    folder = settings.path("output") / settings.current_period() / "通报" / summary.reference_date.isoformat()
    context = programme_context(ledger, settings, summary)
    context["公开进展"] = _paragraph(render("公开进展.txt.j2", context))
    written: list[Path] = []
    if "公开" in kinds:
        path = folder / "公开进展段落.txt"
        text = context["公开进展"] + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            utils.atomic_write_text(path, text)
        written.append(path)
    if "通报" in kinds:
        chart_file = folder / "各单位完成率.png"
        text = render("进展通报.md.j2", dict(context, 图表=chart_file.name if cjk_font() else ""))
        md = folder / "进展通报.md"
        if cjk_font() and (not chart_file.exists() or not md.exists() or md.read_text(encoding="utf-8") != text):
            chart_png(summary, chart_file)
        written += _write_pair(text, md, {chart_file.name: chart_file})
        if chart_file.exists():
            written.append(chart_file)
    if "督办单" in kinds:
        from .overdue import calendar_for
        reply = calendar_for(settings).shift(summary.reference_date, settings.reply_days)
        for k, (unit, items) in enumerate(sorted(context["逾期按单位"].items()), 1):
            slip = dict(context, 单位=unit, 事项=items, 回复期限=reply,
                        督办编号=f"DB-{settings.current_period().replace('-', '')}-{k:03d}")
            text = render("督办单.md.j2", slip)
            written += _write_pair(text, folder / "督办单" / f"{safe_filename(unit)}.md")
    return written
