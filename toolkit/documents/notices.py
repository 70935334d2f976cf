"""Notices from jinja2 templates (templating.py finds and renders them): 通报, 督办单, the public summary.

Every variable a template may use is built by one of the *_context functions below and listed in
templates/README.md.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from .. import vocab
from ..assessment import Assessment, Dated
from ..errors import FileAccessError, ToolkitError, UsageError
from ..io import fileio, history_db, office
from ..io.fileio import safe_filename, unit_file_names
from ..model import Ledger, Settings
from ..problems import Location
from ..rules import amounts, normalize, order, review
from ..rules.deadlines import OVERDUE
from . import chart, gongwen, trend
from .issuers import contact, notice_issuer, office_issuer  # noqa: F401  (their old home)
from .templating import TEMPLATE_DIR, chinese, pct, render, sentence  # noqa: F401  (their old home)


class NoticeWarning(UserWarning):
    """Something a notice run could not do (no LibreOffice for PDFs, no Chinese font for the chart);
    the notices themselves are still written."""


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


def submission_status(ledger, settings: Settings, period: str) -> tuple[set[str], list[str]]:
    """Units whose workbook for the period was taken in, and those of them that sent it late."""
    first: dict[str, dt.datetime] = {}
    for e in ledger.log:
        if e.period != period or not e.applied:
            continue
        when = dt.datetime.fromisoformat(e.received)
        first[e.unit] = min(first.get(e.unit, when), when)
    late = [u for u, when in first.items() if settings.submit_by and when.date() > settings.submit_by]
    return set(first), late


def programme_context(ledger, settings: Settings, assessment: Assessment) -> dict:
    """Variables shared by 进展通报, 督办单 and 公开进展 (documented in templates/README.md)."""
    summary, ranking = assessment.summary, assessment.ranking
    n = settings.lagging_units
    lagging = [u for u, c in ranking[-n:] if c.completion < 100][::-1] if ranking else []
    leading = [u for u, c in ranking[:n] if u not in lagging]
    overdue_by_unit: dict[str, list] = {}
    soon = []
    for r in assessment.late:
        item = {"编号": r.measure.id, "措施": r.measure.measure, "事项": r.measure.item, "完成时限": r.due,
                "完成时限文字": r.measure.deadline if isinstance(r.measure.deadline, str) else normalize.format_date(r.due),
                "逾期天数": r.days, "逾期工作日": r.workdays, "完成情况": r.measure.status,
                "责任领导": r.measure.leader, "牵头单位": r.measure.lead_unit, "配合单位": "、".join(r.measure.co_units)}
        if r.state == OVERDUE:
            for unit in r.measure.owners:
                own = ledger.owners.get((r.measure.id, unit))
                if ledger.counted_status(r.measure.id, unit) != vocab.DONE:
                    overdue_by_unit.setdefault(unit, []).append(dict(item, 本单位角色=own.role if own else ""))
        else:
            soon.append(item)
    units = assessment.unit_order
    overdue_by_unit = dict(order.items_in_order(overdue_by_unit, units))   # the office's order of units
    submitted, late_units = submission_status(ledger, settings, assessment.period)
    late_units = order.in_order(late_units, units)
    missing = order.in_order((u for u in ledger.units if u not in submitted), units)   # submitted is a set
    words = {**vocab.NOTICE_WORDING, **settings.words}     # a Settings made without a profile has only 巡视's three
    annexes = attachments(ranking, overdue_by_unit, soon, settings.remind_working_days, words)
    reform = summary.by_category.get(vocab.REFORM)
    return {
        "标题": settings.title.removesuffix("台账").removesuffix("整改"), "主体": settings.subject, "主送": settings.addressees,
        "发文单位": notice_issuer(settings), "报送期次": assessment.period, "基准日期": summary.reference_date,
        "问题": level_figures(summary), "措施": counts_dict(summary.measures, summary.weights),
        "分类": {k: counts_dict(c, summary.weights) for k, c in summary.by_category.items()},
        "单位排名": [dict(counts_dict(c, summary.weights), 单位=u, 未办结=c.total - c.done) for u, c in ranking],
        "按重点问题": {k: counts_dict(c, summary.weights) for k, c in summary.by_key_problem.items()},
        "进度靠前单位": leading, "进度靠后单位": lagging,
        "逾期总数": summary.measures.overdue, "逾期按单位": overdue_by_unit, "临期": soon,
        "逾期条目数": sum(len(v) for v in overdue_by_unit.values()),
        "分类重叠": vocab.REFORM if reform and reform.total else "",
        "逾期报送单位": late_units, "未报送单位": missing, "回复期限": None,
        "附件": annexes, "附件序号": {a["键"]: k for k, a in enumerate(annexes, 1)},
        "销号": review_figures(summary, ledger),
        "金额": amount_figures(summary),
        **words,                      # 工作 / 整改工作 / 反馈来源 and how entries are named: the profile's wording
    }


def amount_figures(summary) -> dict | None:
    """整改金额 as the notice writes it (万元, two decimals, as the statistics sheet rounds); None without the column
    or while no measure has an amount (a sentence of 0.00万元 would report what nobody filled in)."""
    if summary.amounts is None or not summary.amounts.by_unit:
        return None
    total = summary.amounts.overall
    return {"应整改": f"{amounts.cents(total.due):.2f}", "已整改": f"{amounts.cents(total.done):.2f}"}


def review_figures(summary, ledger: Ledger) -> dict | None:
    """{已销号, 待审核, 退回} by measure (the 通报 counts measures) when close-out review is on (None otherwise)."""
    if summary.review is None:
        return None
    r = review.measure_counts(ledger)
    return {"已销号": r.closed, "待审核": r.pending, "退回": r.returned}


def attachments(ranking, overdue_by_unit: dict, soon: list, soon_days: int,
                words: dict[str, str] | None = None) -> list[dict]:
    """The 通报's long lists as attachment tables (header row first): overdue entries by unit, the completion
    ranking, measures falling due; empty lists are left out (the ranking always stays). The overdue list has
    no status column (nearly all 正在推进): a status other than that follows the measure, so the measure's
    column is wide enough for its text in two lines. Titles and headers name entries in the profile's words."""
    w = {**vocab.NOTICE_WORDING, **(words or {})}
    out = []
    if overdue_by_unit:
        rows = [["序号", "责任单位", "编号", w["措施称谓"], "完成时限", "已逾期"]]
        entries = [(unit, i) for unit, items in overdue_by_unit.items() for i in items]   # units in office order
        rows += [[str(k), unit, i["编号"], i["措施"] + _status_note(i["完成情况"]), i["完成时限文字"],
                  f"{i['逾期天数']}天"] for k, (unit, i) in enumerate(entries, 1)]
        out.append({"键": "逾期", "名称": f"逾期{w['未完成称谓']}{w['措施称谓']}清单", "表格": rows})
    rows = [["名次", "责任单位", f"{w['措施简称']}数", w["已完成称谓"], w["完成率称谓"], "逾期"]]
    rows += [[str(k), u, str(c.total), str(c.done), pct(c.completion), str(c.overdue)]
             for k, (u, c) in enumerate(ranking, 1)]
    out.append({"键": "排名", "名称": f"各单位{w['完成率全称']}排名", "表格": rows})
    if soon:
        rows = [["序号", "编号", w["措施称谓"], "牵头单位", "完成时限"]]
        rows += [[str(k), i["编号"], i["措施"], i["牵头单位"], i["完成时限文字"]] for k, i in enumerate(soon, 1)]
        out.append({"键": "临期", "名称": f"近期到期的{w['措施称谓']}清单（{soon_days}个工作日内）", "表格": rows})
    return out


def _status_note(status: str) -> str:
    """“（未启动）” after a measure whose status is not 正在推进 (the usual one, left unsaid)."""
    return "" if status == vocab.IN_PROGRESS else f"（{status or '未填写完成情况'}）"


def public_summary(ledger, settings: Settings, assessment: Assessment) -> str:
    """The seed-004 style paragraph for public disclosure (公开进展.txt.j2), one line."""
    return _paragraph(render("公开进展.txt.j2", programme_context(ledger, settings, assessment), settings))


WECHAT_CHARS = 500


def wechat_text(context: dict, limit: int = WECHAT_CHARS, settings: Settings | None = None) -> str:
    """The 通报 summary as plain text for a group chat or SMS (微信通报.txt.j2), at most limit characters:
    the full summary when it fits, else the short one, else cut after the last full sentence that fits."""
    text = _paragraphs(render("微信通报.txt.j2", dict(context, 简要=False), settings))
    if len(text) > limit:
        text = _paragraphs(render("微信通报.txt.j2", dict(context, 简要=True), settings))
    if len(text) > limit:
        text = text[:text.rfind("。", 0, limit) + 1] or text[:limit]
    return text


def _paragraphs(text: str) -> str:
    """Paragraphs (separated by blank lines in the template) one a line, each paragraph's lines joined; a
    line starting with —— (the sender) stays a line of its own, as a person signs a chat message."""
    blocks = re.split(r"\n\s*\n", text)
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        joined = "".join(lines)
        if not joined:
            continue
        for line in re.split(r"(?=——)", joined):
            if line:
                out.append(line)
    return "\n".join(out)


def _paragraph(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines() if line.strip())


# ---------------------------------------------------------------- chart for the 通报

def cjk_font(settings: Settings | None = None) -> str | None:
    """A font file that can draw Chinese labels: config [fonts] chart = "path" first, else one found on the
    machine (scripts/install_system_deps.sh installs Noto CJK)."""
    return chart.cjk_font_file(_fonts_table(settings).get("chart"))


def _fonts_table(settings: Settings | None) -> dict:
    return dict(settings.fonts) if settings else {}


CHART_UNITS = 40   # more bars than this are unreadable on an A4 page: show the lagging ones


def chart_png(assessment: Assessment, path: Path, font: str | None = None,
              words: dict[str, str] | None = None) -> Path | None:
    """Bar chart of completion by unit, best on top (with many units, the CHART_UNITS lowest), titled in
    the profile's words; None when no CJK font is installed."""
    w = {**vocab.NOTICE_WORDING, **(words or {})}
    ranking = assessment.ranking
    day = normalize.format_date(assessment.reference_date)
    title = f"各责任单位{w['完成率全称']}（截至{day}）"
    if len(ranking) > CHART_UNITS:
        ranking = ranking[-CHART_UNITS:]
        title = f"{w['完成率全称']}最低的{CHART_UNITS}个责任单位（截至{day}）"
    data = chart.bar_chart_png([(u, c.completion) for u, c in ranking], title, w["措施称谓"] + w["完成率称谓"], font)
    if data is None:
        return None
    fileio.atomic_write_bytes(path, data)
    return path


# ---------------------------------------------------------------- 督办编号 register

SLIP_NUMBER = "〔{年}〕{序号}号"


def slip_numbers(settings: Settings, period: str, units: list[str]) -> dict[str, str]:
    """督办编号 per unit for the period in the office's form ([documents] slip_number, default 〔2024〕9号), kept
    in output/督办编号.json (期次 → 单位 → 序号): a unit keeps its number across reruns and dates; a unit new to
    the register gets the next number of the year (in the order given: the office's order of units), so no two
    slips of a year share one."""
    path = settings.path("output") / "督办编号.json"
    try:
        register = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FileAccessError(kind="register-damaged", where=Location(file=str(path)), path=path) from None
    numbers = register.setdefault(period, {})
    new = [u for u in units if u not in numbers]
    year = period[:4]
    for unit in new:
        numbers[unit] = max((n for p, kept in register.items() if p[:4] == year for n in kept.values()), default=0) + 1
    if new:
        fileio.atomic_write_text(path, json.dumps(register, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    form = settings.documents.get("slip_number") or SLIP_NUMBER
    month = int(period[5:7]) if period[5:7].isdigit() else ""
    return {u: form.format(年=year, 月=month, 序号=numbers[u]) for u in units}


# ---------------------------------------------------------------- writing every notice

KINDS = ("通报", "督办单", "公开")
NO_OFFICE = "未安装 LibreOffice，通报和督办单只生成了 .docx，未另存 PDF（安装方法见 scripts/install_system_deps.sh）。"
NO_FONT = ("未找到能显示中文的字体，进展通报未附完成率图表。请安装中文字体：Debian/Ubuntu 运行"
           " sudo apt-get install fonts-noto-cjk，或在配置 [fonts] 中用 chart = \"字体文件路径\" 指定。")


def write_pdfs(docx_files: list[Path], changed: set[Path], fonts: gongwen.Fonts | None = None,
               font_files: list[Path] | None = None) -> list[Path]:
    """A PDF beside each .docx, redone only where the .docx was rewritten or the PDF is missing; without
    LibreOffice, or when it fails, a NoticeWarning and no PDFs (the .docx notices stand). One LibreOffice
    process converts every file whose name no other file in its batch has (starting one costs seconds).
    A font this machine lacks is never silently replaced: the PDF is set in the best installed font of the
    same kind (a serif 仿宋 before any sans) and a NoticeWarning names each one and the fix; the fonts in
    font_files ([fonts] files) count as installed for LibreOffice."""
    if not docx_files:
        return []
    if office.soffice() is None:
        warnings.warn(NO_OFFICE, NoticeWarning, stacklevel=3)
        return []
    found = [f for f in font_files or [] if f.is_file()]
    for f in font_files or []:
        if not f.is_file():
            warnings.warn(f"配置 [fonts] files 中的字体文件 {f} 不存在，PDF 未用它。请改正路径。", NoticeWarning,
                          stacklevel=3)
    families = gongwen.installed_families()
    if families is not None:
        families |= gongwen.file_families(found)
    subs = gongwen.substitutes(fonts or gongwen.Fonts(), families)
    if subs:
        warnings.warn(gongwen.missing_fonts_message(subs), NoticeWarning, stacklevel=3)
    batches: list[list[Path]] = []
    for d in docx_files:
        if d in changed or not d.with_suffix(".pdf").exists():
            batch = next((b for b in batches if all(x.name != d.name for x in b)), None)
            if batch is None:
                batches.append([d])
            else:
                batch.append(d)
    for files in batches:
        folder = Path(os.path.commonpath([f.parent for f in files]))
        with tempfile.TemporaryDirectory(prefix=".~pdf-", dir=folder) as tmp:   # moved into place whole
            sources = files
            if subs:          # LibreOffice renders a copy naming the installed substitutes
                (Path(tmp) / "src").mkdir()
                sources = [Path(tmp) / "src" / f.name for f in files]
                for f, copy in zip(files, sources):
                    copy.write_bytes(gongwen.with_fonts(f.read_bytes(), subs))
            env = {"env": gongwen.fontconfig_env(found, Path(tmp))} if found else {}
            try:
                made = office.convert_many(sources, "pdf", Path(tmp), **env)
            except (ToolkitError, subprocess.SubprocessError) as exc:   # LibreOffice's own words go to the log
                logging.getLogger("toolkit").warning("PDF 转换失败（%s）：%s", folder, exc)
                free = shutil.disk_usage(folder).free
                why = "磁盘空间不足" if free < 50 * 2 ** 20 else "LibreOffice 转换失败，详情见日志"
                warnings.warn(f"PDF 未能生成（{folder}）：{why}。.docx 已写好，可稍后重新生成通报。", NoticeWarning,
                              stacklevel=3)
                continue
            for docx, pdf in zip(files, made):
                os.replace(pdf, docx.with_suffix(".pdf"))
    return [p for p in (d.with_suffix(".pdf") for d in docx_files) if p.exists()]


def notice_folder(settings: Settings, when: Dated) -> Path:
    """output/<期次>/通报/<基准日期>/: where a run's notices go (the Workspace guards it before writing)."""
    return settings.path("output") / when.period / "通报" / when.reference_date.isoformat()


def write_notices(ledger, settings: Settings, assessment: Assessment, kinds=KINDS) -> list[Path]:
    """Write the period's notices into output/<期次>/通报/<基准日期>/ (text, .docx and, where LibreOffice
    is installed and config notice_pdf is on, PDF). Things left out are said once as a NoticeWarning."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(kind="unknown-notice-kind", unknown=unknown, choices=list(KINDS))
    summary = assessment.summary
    folder = notice_folder(settings, assessment.dated)
    context = programme_context(ledger, settings, assessment)
    context["公开进展"] = _paragraph(render("公开进展.txt.j2", context, settings))
    context["梯次发文"] = history_db.issued_this_period(settings, assessment.period)       # {梯次: 份数} the office issued this period
    context["趋势"] = trend.trend_sentence(ledger.history, summary, assessment.period, label=context["完成率称谓"],
                                         missing="")   # a first period: the figure alone, no software words
    fonts, author = gongwen.Fonts.from_config(_fonts_table(settings)), notice_issuer(settings)
    written: list[Path] = []
    docx_files, changed = [], set()

    def pair(text: str, md: Path, images=None) -> None:
        paths, rewritten = gongwen.write_pair(text, md, images, fonts, author)
        written.extend(paths)
        docx_files.append(paths[1])
        if rewritten:
            changed.add(paths[1])
    if "公开" in kinds:
        texts = {"公开进展段落.txt": context["公开进展"] + "\n",
                 "微信通报.txt": wechat_text(context, settings.wechat_chars, settings) + "\n"}
        for name, text in texts.items():
            path = folder / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                fileio.atomic_write_text(path, text)
            written.append(path)
    if "通报" in kinds:
        chart_file = folder / f"各单位{context['完成率称谓']}.png"
        font = cjk_font(settings)
        if font is None:
            warnings.warn(NO_FONT, NoticeWarning, stacklevel=2)
        trend_file = folder / f"{context['完成率称谓']}逐月变化.png"
        with_trend = bool(font) and len(trend.series(ledger.history, trend.OVERALL, summary,
                                                     assessment.period)) >= 2
        text = render("进展通报.md.j2", dict(context, 图表=chart_file.name if font else "",
                                            趋势图=trend_file.name if with_trend else ""), settings)
        md = folder / "进展通报.md"
        if font and (not chart_file.exists() or not md.exists() or md.read_text(encoding="utf-8") != text):
            chart_png(assessment, chart_file, font, context)
            if with_trend:
                trend.write_trend_chart(ledger.history, summary, assessment.period, trend_file, context)
        pair(text, md, {chart_file.name: chart_file, trend_file.name: trend_file})
        written += [p for p in (chart_file, trend_file) if font and p.exists() and p.name in text]
    if "督办单" in kinds:
        reply = assessment.calendar.shift(summary.reference_date, settings.reply_days)
        numbers = slip_numbers(settings, assessment.period, list(context["逾期按单位"]))
        stems = unit_file_names(ledger.units)          # 市*医院 and 市**医院: two slips
        for unit, items in context["逾期按单位"].items():
            slip = dict(context, **contact(settings), 单位=unit, 事项=items, 回复期限=reply, 督办编号=numbers[unit],
                        发文单位=office_issuer(settings))
            pair(render("督办单.md.j2", slip, settings), folder / "督办单" / f"{stems.get(unit) or safe_filename(unit)}.md")
    if settings.notice_pdf:
        files = [settings.root / str(f) for f in _fonts_table(settings).get("files", [])]
        written += write_pdfs(docx_files, changed, fonts, files)
    return written
