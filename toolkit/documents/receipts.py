"""回执: one receipt per received file, telling the unit what was taken in, what was refused and why,
and (under 销号审核) which requests await review or were returned."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from .. import vocab
from ..io import fileio
from ..io.fileio import safe_filename
from ..model import Ledger, Settings
from ..rules import normalize
from .issuers import office_issuer
from .templating import render, wording


def receipt_context(unit: str, outcomes: list, settings: Settings, period: str, when: dt.datetime | None = None,
                    ledger=None) -> dict:
    """Variables of 回执.txt.j2: one unit's files this run, with every problem located, and (under
    销号审核, given the merged ledger) the unit's requests awaiting review and those returned."""
    reviews = ledger.reviews if ledger is not None else {}
    said = wording(settings)["状态称谓"]      # the status as the unit's own list says it (办结, 序时推进 …)
    files = []
    for f in outcomes:
        s = f.submission
        taken = [f"{u.measure_id}（{_said(reviewed_status(u, reviews.get((u.measure_id, s.unit))), said)}）"
                 for u in s.updates] if f.accepted else []
        files.append({"文件名": s.name, "收件时间": normalize.format_time(s.received), "结果": f.outcome,
                      "采纳条数": f.accepted, "采纳措施": taken, "逾期报送": f.late, "归档文件": f.archived.name,
                      "问题": [p.text() for p in s.problems], "说明": list(s.notes),
                      "佐证": evidence_lines(s.evidence) if f.outcome in vocab.APPLIED_OUTCOMES else [],
                      "拒收佐证": [f"“{e.name}”{e.reason}" for e in s.evidence if e.reason]})
    identified = not unit.startswith(vocab.UNIDENTIFIED)
    return {"单位": unit if identified else f"文件“{outcomes[0].submission.name}”的报送单位",
            "已识别": identified, "报送期次": period, "文件": files,
            "发文单位": office_issuer(settings), "日期": (when or dt.datetime.now()).date(),
            "截止日期": settings.submit_by,
            "退回补充": [f"措施“{r.measure_id}”（{r.decided}退回）：{r.opinion or '请补充佐证材料'}"
                      for r in reviews.values() if r.unit == unit and r.state == vocab.REVIEW_RETURNED]}


def reviewed_status(update, review) -> str:
    """How a receipt names a row's 完成情况: under 销号审核 an 已完成 is a request, pending, returned or closed."""
    if update.status != vocab.DONE or review is None:
        return update.status or "完成情况未改"
    return {vocab.REVIEW_PENDING: f"{vocab.APPLIED_CLOSE}，待办公室审核",
            vocab.REVIEW_RETURNED: "销号申请已退回，请按下文审核意见补充后再报已完成",
            vocab.CLOSED: vocab.CLOSED}[review.state]


def evidence_lines(files: list) -> list[str]:
    """Per measure, the evidence files stored from a package, each by the name it is stored under (and
    the name it was sent as, when a different file of that name was already there), with the start of
    its SHA-256."""
    by_measure: dict[str, list[str]] = {}
    for e in files:
        if not e.reason:
            name = e.name.replace("\\", "/").rsplit("/", 1)[-1]
            stored = e.stored or name
            sent = f"，报送时名为“{name}”，因已有内容不同的同名文件而改名保存" if stored != name else ""
            by_measure.setdefault(e.measure_id, []).append(f"{stored}（SHA-256 {e.sha256[:12]}{sent}）")
    return [f"{mid}：{'、'.join(names)}" for mid, names in by_measure.items()]


def _said(status: str, said: dict[str, str]) -> str:
    """A status (possibly “已完成（待审核）”) with its leading status word in the profile's wording."""
    for word, own in said.items():
        if status.startswith(word):
            return own + status[len(word):]
    return status


def write_receipts(files: list, ledger: Ledger, period: str, settings: Settings) -> list[Path]:
    """One 回执 per received file, named unit_time_hash (a unit's second file never overwrites the
    first one's receipt; the same file always gets the same name, so a rerun rewrites it)."""
    folder = settings.path("output") / period / "回执"
    written = []
    for f in files:
        s = f.submission
        key = s.unit or f"{vocab.UNIDENTIFIED}_{s.name}"
        shown = f if f.archived is not None else replace(f, archived=Path(""))
        context = receipt_context(key, [shown], settings, period, ledger=ledger)
        for item in context["文件"]:
            item["已汇总"] = f.outcome in vocab.APPLIED_OUTCOMES
        tail = f"_{s.received:%Y%m%d-%H%M%S}_{(s.sha256 or '0' * 8)[:8]}.txt"
        path = folder / fileio.fit_name(safe_filename(key), tail)
        fileio.atomic_write_text(path, render("回执.txt.j2", context, settings))
        written.append(path)
    return written
