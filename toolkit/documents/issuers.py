"""Who signs each document and whom to contact ([documents] in config.toml): one floor below the documents
that sign (notices, receipts, reminders, leaders, ladder), so none imports another for it."""
from __future__ import annotations

from ..model import Settings


def notice_issuer(settings: Settings) -> str:
    """The 发文机关 that signs the 通报: [documents] notice_issuer, else organisation."""
    return settings.documents.get("notice_issuer") or settings.organisation


def office_issuer(settings: Settings) -> str:
    """Who signs 督办单, 催报, 回执 and 领导调度单 (the 整改办 or 办公室): [documents] office, else organisation."""
    return settings.documents.get("office") or settings.organisation


def contact(settings: Settings) -> dict:
    """督办单's 联系人, 联系电话 and 反馈方式 ([documents] contact, phone, reply_to; blank when not configured)."""
    d = settings.documents
    return {"联系人": d.get("contact", ""), "联系电话": d.get("phone", ""), "反馈方式": d.get("reply_to", "")}
