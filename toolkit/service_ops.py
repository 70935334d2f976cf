"""The operations a button may ask the service for: their parameters, their answers and problems as JSON,
and the child process each runs in (spawned by the service; it takes the workspace lock and reports its
progress and log lines over a pipe).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from . import check as health
from . import results, vocab
from .app import Workspace
from .documents.notices import KINDS
from .errors import BusyError, ConfigError, EnvironmentProblem, ReviewError, ToolkitError, UsageError
from .io.ledger_file import read_ledger

log = logging.getLogger("toolkit")

# what each operation is called on a button, in the console and in a 409 answer
TITLES = {"consolidate": "汇总报送", "run": "完整运行", "refresh": "刷新统计", "highlight": "标记逾期",
          "notices": "生成通报", "remind": "催报", "review": "销号审核", "history": "变更记录",
          "check": "台账体检", "distribute": "分发模板", "issue": "发出拟发文书"}
STATUS_OF = {BusyError: "409 Conflict", ConfigError: "400 Bad Request", ReviewError: "422 Unprocessable Entity"}


# ---------------------------------------------------------------- results as JSON

def to_data(value, paths: set[Path] | None = None):
    """A result (dataclasses, paths, dates, enums, lists) as plain JSON values; paths met are collected."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name), paths) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, tuple) and hasattr(value, "_fields"):     # a named tuple (history_db.Change): by field
        return {name: to_data(v, paths) for name, v in zip(value._fields, value)}
    if isinstance(value, Path):
        if paths is not None:
            paths.add(value)
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k if not isinstance(k, tuple) else ":".join(map(str, k))): to_data(v, paths)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_data(v, paths) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def refusal(type_: str, message: str, **extra) -> dict:
    """A failure the service itself answers (not a ToolkitError): its type, a stable kind code and the message,
    in the same shape as a problem's JSON (results.data of the error)."""
    kind = re.sub(r"(?<!^)(?=[A-Z])", "-", type_).lower()        # ForbiddenHost → forbidden-host
    return {"ok": False, "type": type_, "kind": kind, "family": "", "message": message, **extra}


def problem(exc: BaseException) -> dict:
    """A failed operation as data: the problem's type, kind code, family, location and parameters (the same JSON
    as the CLI's --json and the run report), with its Chinese message and what to do."""
    if isinstance(exc, ToolkitError):
        return {"ok": False, **results.data(exc), "guidance": exc.guidance}
    return refusal("InternalError",
                   f"运行出错（{type(exc).__name__}），详细情况已记入日志 logs/toolkit.log。服务仍在运行，可修正后重试。")


def status_of(exc: ToolkitError) -> int:
    """The HTTP status of a refused operation: by its class, else 503 for the machine's trouble, 422 for the input's."""
    return int(STATUS_OF.get(type(exc), "503" if isinstance(exc, EnvironmentProblem) else "422")[:3])


def _date(params: dict) -> dt.date | None:
    text = str(params.get("date") or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(kind="date-unreadable", text=text) from None


def _listed(params: dict, name: str) -> list:
    """A list parameter: one text is a list of one (not its characters); a number or an object is refused."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise UsageError(kind="request-parameter-not-list", name=name, value=json.dumps(value, ensure_ascii=False)[:60])
    return value


def _flag(params: dict, name: str, default: bool = False) -> bool:
    """A yes/no parameter: true/false, 1/0 or those words as text (“false” is no, not a non-empty text)."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    word = str(value).strip().casefold() if isinstance(value, str) else None
    if word in ("true", "1", "yes", "是"):
        return True
    if word in ("false", "0", "no", "否", ""):
        return False
    raise UsageError(kind="request-parameter-not-flag", name=name, value=json.dumps(value, ensure_ascii=False)[:60])


def _review_targets(params: dict) -> list[tuple[str, str]]:
    out = []
    for item in _listed(params, "targets"):
        mid, unit = (list(item) + [""])[:2] if isinstance(item, list) else (item if item is not None else "", "")
        if str(mid).strip():
            out.append((str(mid).strip(), str(unit or "").strip()))
    if not out:
        raise ReviewError(kind="review-no-target")
    return out


def _ledger_rows_targets(settings, params: dict) -> list[tuple[str, str]]:
    """(编号, '') of the measures on the master's 整改台账 rows an add-in had selected (its saved copy)."""
    sheet = str(params.get("sheet") or "")
    if sheet != vocab.SHEET_LEDGER:
        raise ReviewError(kind="review-selection", sheet=sheet)
    by_row = {m.row: m.id for m in read_ledger(settings.master, settings).measures.values()}
    rows = [int(r) for r in _listed(params, "rows") if str(r).isdigit()]
    return _review_targets({"targets": [by_row[r] for r in rows if r in by_row]})


def _conclusion(params: dict) -> str:
    word = str(params.get("conclusion") or "").strip()
    found = {"agree": vocab.REVIEW_APPROVE, "return": vocab.REVIEW_RETURN}.get(word) or \
        vocab.REVIEW_CONCLUSION_WORDS.get(word)
    if not found:
        raise ReviewError(kind="review-conclusion-unknown", word=word)
    return found


# ---------------------------------------------------------------- the operations

Progress = Callable[[int, int, str], None]


def op_consolidate(ws: Workspace, params: dict, progress: Progress):
    result = ws.consolidate(progress)
    return result, result.lines() + [f"提示：{n}" for n in (result.ledger.read_notes if result.ledger else [])]


def op_run(ws: Workspace, params: dict, progress: Progress):
    report = ws.run_once(_flag(params, "distribute"), on_file=progress)
    return report, report.lines()


def op_refresh(ws: Workspace, params: dict, progress: Progress):
    done = ws.refresh_master(_date(params))
    return done, done.lines()


def op_highlight(ws: Workspace, params: dict, progress: Progress):
    """On the file, the overdue marks are rewritten with the statistics (the open book's button
    rewrites only its helper columns): the same refresh, reported as the overdue counts."""
    done = ws.refresh_master(_date(params))
    f = done.figures
    return done, [f"逾期标记已刷新：逾期未完成{f.overdue}条（红色），{f.soon_days}个工作日内到期{f.due_soon}条（黄色）"
                  f"（{done.master}，基准日期 {f.reference_date}）。"] + [f"提示：{n}" for n in done.notes]


def op_notices(ws: Workspace, params: dict, progress: Progress):
    kinds = [str(k) for k in _listed(params, "kinds")] or list(KINDS)      # an unknown kind is refused by name
    written = ws.notices(kinds, _date(params))
    data = {"files": list(written), "warnings": written.warnings}
    folder = f"：{written[0].parent}" if written else ""
    return data, [f"已生成{len(written)}个文件{folder}"] + [f"提示：{w}" for w in written.warnings]


def op_remind(ws: Workspace, params: dict, progress: Progress):
    done = ws.remind(_date(params))
    return done, done.lines()


def op_review(ws: Workspace, params: dict, progress: Progress):
    targets = _ledger_rows_targets(ws.settings, params) if "rows" in params else _review_targets(params)
    done = ws.decide(targets, _conclusion(params), str(params.get("opinion") or "").strip())
    return done, done.lines()


def op_history(ws: Workspace, params: dict, progress: Progress):
    rebuilt, lines = ws.history(str(params.get("id") or "").strip() or None, _flag(params, "rebuild"))
    head = [f"已按归档文件重建变更记录{rebuilt}条。"] if rebuilt is not None else []
    return {"rebuilt": rebuilt, "lines": lines}, head + lines


def op_issue(ws: Workspace, params: dict, progress: Progress):
    """发出拟发文书: by units / rungs when given, else every proposal (the console's button)."""
    units = [str(u) for u in _listed(params, "units")]
    rungs = [str(r) for r in _listed(params, "rungs")]
    done = ws.issue(units, rungs, _flag(params, "all", not (units or rungs)), _date(params))
    return done, done.lines()


def op_check(ws: Workspace, params: dict, progress: Progress):
    report = health.check(ws.settings.master, ws.settings)
    return report, report.lines()


def op_distribute(ws: Workspace, params: dict, progress: Progress):
    done = ws.distribute([str(u) for u in _listed(params, "units")] or None)
    written = sum(d.written for d in done)
    where = f"模板位置：{done[0].path.parent}" if done else ""
    return done, [f"分发完成：{len(done)}个单位，新写入{written}个，未变化{len(done) - written}个。", where]


OPERATIONS: dict[str, Callable[[Workspace, dict, Progress], tuple[object, list[str]]]] = {
    "consolidate": op_consolidate, "run": op_run, "refresh": op_refresh, "highlight": op_highlight,
    "notices": op_notices, "remind": op_remind, "review": op_review, "history": op_history,
    "issue": op_issue, "check": op_check, "distribute": op_distribute}


def answer_of(operation: str, result, lines: list[str], settings) -> dict:
    """A finished operation's answer as JSON: its run's data, the lines a person reads and links to the
    files it wrote. The one place a result becomes the service's JSON."""
    paths: set[Path] = set()
    data = to_data(result, paths)                     # every file the result names becomes a link
    if hasattr(result, "to_dict"):
        data = results.data(result)                   # the run's own data, as the run report and --json have it
    return {"ok": True, "operation": operation, "title": TITLES[operation], "data": data,
            "lines": [line for line in lines if line], "links": links(paths, settings)}


# ---------------------------------------------------------------- the operation's own process

class _ToParent(logging.Handler):
    """The child's log lines, sent to the service, which writes them to its own log (one writer)."""

    def __init__(self, conn):
        super().__init__(logging.INFO)
        self.conn = conn
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.conn.send(("log", record.levelno, self.format(record)))
        except Exception:          # the service is gone: nothing to tell
            pass


def _die_with(life) -> None:
    """Wait on the service's end of a pipe that is never written: it closes when the service stops or is
    killed, and this run stops with it (every write is crash-safe) instead of holding the lock alone."""
    try:
        life.recv()
    except (EOFError, OSError):
        pass
    os._exit(3)


def _below_normal() -> None:
    """Yield the CPU to the service (and to the user's programs): the run is background work, the console
    must answer now. Its reader processes inherit this. Nothing changes on an idle machine."""
    try:
        if hasattr(os, "nice"):
            os.nice(5)
        elif sys.platform == "win32":
            import ctypes
            kernel32 = ctypes.windll.kernel32      # type: ignore[attr-defined]
            kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), 0x4000)   # BELOW_NORMAL_PRIORITY_CLASS
    except (OSError, AttributeError):
        pass


def run_child(opener: Callable[[], Workspace], operation: str, params: dict, conn, life) -> None:
    """An operation in a process of its own (spawned by the service): it opens the workspace, takes its
    lock, sends its progress and log lines, and ends with ("done", HTTP status, answer)."""
    threading.Thread(target=_die_with, args=(life,), name="zhenggai-life", daemon=True).start()
    _below_normal()
    logger = logging.getLogger("toolkit")
    for h in list(logger.handlers):
        logger.removeHandler(h)
    logger.addHandler(_ToParent(conn))
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def progress(i: int, n: int, name: str) -> None:
        conn.send(("progress", i, n, name))
    title = TITLES[operation]
    try:
        workspace = opener()
        result, lines = OPERATIONS[operation](workspace, params, progress)
        code, answer = 200, answer_of(operation, result, lines, workspace.settings)
    except ToolkitError as exc:
        answer, code = problem(exc), status_of(exc)
        log.warning("%s未完成：%s", title, exc)
    except BaseException as exc:          # the server keeps serving whatever one run does
        log.exception("%s运行出错", title)
        answer, code = problem(exc), 500
    try:
        conn.send(("done", code, answer))
        conn.close()
    except OSError:                       # the service is gone; what was written is complete either way
        pass


def interrupted(exitcode: int | None) -> dict:
    """The answer when the operation's process ended without one (killed, or the machine out of memory)."""
    how = f"退出码 {exitcode}" if exitcode is not None and exitcode >= 0 else f"被信号 {-(exitcode or 0)} 终止"
    return refusal("Interrupted",
            f"运行中断：执行该操作的进程意外结束（{how}）。已写入的文件都是完整的，未完成的部分没有写入；"
                       "服务仍在运行，请再点一次完成本次操作。")


# ---------------------------------------------------------------- the files an answer links to

def links(paths: Iterable[Path], settings) -> list[dict]:
    """The servable files among paths, each with its address on this server."""
    out = []
    for p in sorted(set(paths)):
        if url := file_url(p, settings):
            out.append({"name": p.name, "path": str(p), "url": url})
    return out


def file_url(path: Path, settings) -> str | None:
    """This server's address of an output file, a template handed out or the master (None: not served)."""
    path = Path(path)
    if path == settings.master:
        return "/files/master"
    for name in ("output", "outbox"):
        base = settings.path(name)
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        return f"/files/{name}/" + quote(rel.as_posix())
    return None


def served_file(url_path: str, settings) -> Path | None:
    """The file an address under /files/ names, if it is one we serve (no way out of its folder)."""
    rest = url_path.removeprefix("/files/")
    if rest == "master":
        return settings.master if settings.master.is_file() else None
    name, _, rel = rest.partition("/")
    if name not in ("output", "outbox") or not rel:
        return None
    base = settings.path(name).resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
