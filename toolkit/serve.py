"""The resident service: the nightly schedule plus a local HTTP API and browser console over the Workspace.

One process per workspace (`python -m toolkit serve -c 文件夹`). The HTTP side is a plain WSGI
application served by waitress (pure Python, Windows and Linux alike). Every operation runs through
the same Workspace methods as the CLI, one at a time, each in a child process of the service (spawned,
on every OS; Office never starts one): the service's threads only wait, take the child's progress from a
pipe and answer status from memory, so the console answers at once while a long run works. A second
press is answered 409 with what is running. Localhost is hostile ground, so every request must name this server as its Host (DNS
rebinding), a browser's Origin must be this server's own (CSRF), and every POST carries the
per-install token kept in the workspace's .zhenggai/ folder.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hmac
import json
import logging
import mimetypes
import multiprocessing
import os
import pickle
import re
import secrets
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qs, quote

from . import check as health
from . import results, vocab
from .app import Workspace
from .documents.notices import KINDS
from .errors import BusyError, ConfigError, EnvironmentProblem, ReviewError, ToolkitError
from .io import history_db
from .io.ledger_file import read_ledger

log = logging.getLogger("toolkit")

TOKEN_FILE = ".zhenggai/serve.token"      # beside secret.key: only this user's programs can read it
STATE_FILE = ".zhenggai/serve.json"       # the running server's port and process id
TOKEN_HEADER = "X-Zhenggai-Token"
# a page opened from a file (the WPS add-in, installed in the user's WPS folder) sends one of these:
# such a caller is let in only with the token, for reads too, and only then told it may read the answer
ADDIN_ORIGINS = {"null", "file://"}
DEFAULT_PORT = 8765
CONSOLE_FILE = Path(__file__).with_name("console.html")
TOKEN_SLOT = "{{TOKEN}}"
NONCE_SLOT = "{{NONCE}}"

# what each operation is called on a button, in the console and in a 409 answer
TITLES = {"consolidate": "汇总报送", "run": "完整运行", "refresh": "刷新统计", "highlight": "标记逾期",
          "notices": "生成通报", "remind": "催报", "review": "销号审核", "history": "变更记录",
          "check": "台账体检", "distribute": "分发模板", "issue": "发出拟发文书"}
STATUS_OF = {BusyError: "409 Conflict", ConfigError: "400 Bad Request", ReviewError: "422 Unprocessable Entity"}
REASONS = {200: "200 OK", 204: "204 No Content", 400: "400 Bad Request", 401: "401 Unauthorized", 403: "403 Forbidden",
           404: "404 Not Found", 405: "405 Method Not Allowed", 409: "409 Conflict", 413: "413 Payload Too Large", 503: "503 Service Unavailable",
           421: "421 Misdirected Request", 422: "422 Unprocessable Entity", 500: "500 Internal Server Error"}
MAX_BODY = 64 * 1024


# ---------------------------------------------------------------- the token

def token_path(root: Path) -> Path:
    return Path(root) / TOKEN_FILE


def ensure_token(root: Path) -> str:
    """The workspace's service token, created (readable by this user only) on first use."""
    path = token_path(root)
    if path.is_file() and (text := path.read_text(encoding="utf-8").strip()):
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


# ---------------------------------------------------------------- results as JSON

def to_data(value, paths: set[Path] | None = None):
    """A result (dataclasses, paths, dates, enums, lists) as plain JSON values; paths met are collected."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name), paths) for f in dataclasses.fields(value) if f.repr}
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
        raise ConfigError(f"日期“{text}”无法识别，请写成 2024-08-31 的形式。") from None


def _review_targets(params: dict) -> list[tuple[str, str]]:
    out = []
    for item in params.get("targets") or []:
        mid, unit = (item, "") if isinstance(item, str) else (list(item) + [""])[:2]
        if str(mid).strip():
            out.append((str(mid).strip(), str(unit or "").strip()))
    if not out:
        raise ReviewError("请选择要审核的措施（编号，或 编号与单位）。")
    return out


def _ledger_rows_targets(settings, params: dict) -> list[tuple[str, str]]:
    """(编号, '') of the measures on the master's 整改台账 rows an add-in had selected (its saved copy)."""
    sheet = str(params.get("sheet") or "")
    if sheet != vocab.SHEET_LEDGER:
        raise ReviewError(f"请先在“{vocab.SHEET_REVIEW}”表（或“{vocab.SHEET_LEDGER}”表）中选中要审核的措施所在的行，"
                          f"再点按钮（当前选中的是“{sheet}”表）。")
    by_row = {m.row: m.id for m in read_ledger(settings.master, settings).measures.values()}
    rows = [int(r) for r in params.get("rows") or [] if str(r).isdigit()]
    return _review_targets({"targets": [by_row[r] for r in rows if r in by_row]})


def _conclusion(params: dict) -> str:
    word = str(params.get("conclusion") or "").strip()
    found = {"agree": vocab.REVIEW_APPROVE, "return": vocab.REVIEW_RETURN}.get(word) or \
        vocab.REVIEW_CONCLUSION_WORDS.get(word)
    if not found:
        raise ReviewError(f"审核结论“{word}”无法识别，请选择“{vocab.REVIEW_APPROVE}”或“{vocab.REVIEW_RETURN}”。")
    return found


# ---------------------------------------------------------------- the operations

Progress = Callable[[int, int, str], None]


def op_consolidate(ws: Workspace, params: dict, progress: Progress):
    result = ws.consolidate(progress)
    return result, result.lines() + [f"提示：{n}" for n in (result.ledger.read_notes if result.ledger else [])]


def op_run(ws: Workspace, params: dict, progress: Progress):
    report = ws.run_once(bool(params.get("distribute")), on_file=progress)
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
    kinds = [k for k in params.get("kinds") or [] if k in KINDS] or list(KINDS)
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
    rebuilt, lines = ws.history(str(params.get("id") or "").strip() or None, bool(params.get("rebuild")))
    head = [f"已按归档文件重建变更记录{rebuilt}条。"] if rebuilt is not None else []
    return {"rebuilt": rebuilt, "lines": lines}, head + lines


def op_issue(ws: Workspace, params: dict, progress: Progress):
    """发出拟发文书: by units / rungs when given, else every proposal (the console's button)."""
    units = [str(u) for u in params.get("units") or []]
    rungs = [str(r) for r in params.get("rungs") or []]
    done = ws.issue(units, rungs, bool(params.get("all", not (units or rungs))), _date(params))
    return done, done.lines()


def op_check(ws: Workspace, params: dict, progress: Progress):
    report = health.check(ws.settings.master, ws.settings)
    return report, report.lines()


def op_distribute(ws: Workspace, params: dict, progress: Progress):
    done = ws.distribute([str(u) for u in params.get("units") or []] or None)
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


# ---------------------------------------------------------------- the service

@dataclasses.dataclass
class Job:
    """The operation running now: what, since when, how far it has got, and the process running it."""
    operation: str
    title: str
    started: dt.datetime
    step: str = ""
    done: int = 0
    total: int = 0
    by: str = "按钮"          # 按钮 (an HTTP press) or 定时 (the schedule)
    pid: int = 0


def opener(source) -> Callable[[], Workspace]:
    """How a child process opens the workspace: from a config path / folder (read afresh at each run,
    so config edits apply at the next press) or from given Settings. Picklable, as spawn needs."""
    if isinstance(source, (str, Path)) or source is None:
        return functools.partial(Workspace.open, source)
    return functools.partial(Workspace, source)


class Service:
    """The operations behind the HTTP API, one at a time, each in a process of its own (spawned, on every
    OS) on a Workspace opened afresh there. The service's threads only wait and answer from memory, so
    status answers at once however heavy the run."""

    def __init__(self, open_workspace: Callable[[], Workspace]):
        try:
            pickle.dumps(open_workspace)
        except Exception as exc:
            raise TypeError(f"Service needs a picklable opener (use serve.opener(...)): {exc}") from None
        self.open_workspace = open_workspace
        self.settings = open_workspace().settings
        self.job: Job | None = None
        self.last: dict[str, dict] = {}          # operation → the answer of its last run
        self._one = threading.Lock()
        self._life = None                        # the running child's life line (closed: it stops)
        self._info: dict | None = None           # status's workspace part, kept while a run works
        self.port = 0

    # -- running one

    def busy_answer(self) -> dict:
        job = self.job
        if job is None:           # between the check and the answer it finished: say so plainly
            return refusal("BusyError", "另一个操作刚刚结束，请再点一次。")
        return refusal("BusyError", f"“{job.title}”正在运行（{job.started:%H:%M:%S}开始"
                       + (f"，{job.step}" if job.step else "") + "），请等它结束后再点。", running=to_data(job))

    def _progress(self, i: int, n: int, name: str) -> None:
        if self.job:
            self.job.done, self.job.total, self.job.step = i, n, f"读取报送文件 {i}/{n}：{name}"

    def perform(self, operation: str, params: dict | None = None, by: str = "按钮") -> tuple[int, dict]:
        """Run one operation if none is running: (HTTP status, answer). Never raises."""
        if operation not in TITLES or operation not in OPERATIONS:
            return 404, refusal("NotFound", f"没有“{operation}”这个操作。")
        if not self._one.acquire(blocking=False):
            return 409, self.busy_answer()
        try:
            try:
                self._info = self._read_info()
            except Exception:                    # a broken config: the run itself says what is wrong
                self._info = None
            self.job = Job(operation, TITLES[operation], dt.datetime.now().replace(microsecond=0), "开始运行", by=by)
            try:
                code, answer = self._in_child(operation, params or {})
            except Exception as exc:             # the child could not be started (out of memory, handles)
                log.exception("%s无法启动", TITLES[operation])
                code, answer = 500, problem(exc)
            answer.update(operation=operation, title=TITLES[operation], by=by,
                          started=self.job.started.isoformat(), finished=dt.datetime.now().isoformat(timespec="seconds"))
            self.last[operation] = answer
            return code, answer
        finally:
            self.job = None
            self._one.release()

    def _in_child(self, operation: str, params: dict) -> tuple[int, dict]:
        """Start the operation's process and wait for it, taking its progress and log lines as they come."""
        ctx = multiprocessing.get_context("spawn")
        mine, theirs = ctx.Pipe(duplex=False)
        life_theirs, life_mine = ctx.Pipe(duplex=False)
        # not a daemon: consolidation starts reader processes of its own; it stops with the service all the same
        proc = ctx.Process(target=run_child, args=(self.open_workspace, operation, params, theirs, life_theirs),
                           name=f"zhenggai-{operation}")
        self._life = life_mine
        try:
            proc.start()
            theirs.close()
            life_theirs.close()
            assert self.job is not None
            self.job.pid = proc.pid or 0
            outcome: tuple[int, dict] | None = None
            while outcome is None:
                try:
                    message = mine.recv()
                except (EOFError, OSError):
                    break
                if message[0] == "progress":
                    self._progress(*message[1:])
                elif message[0] == "log":
                    log.log(message[1], "%s", message[2])
                elif message[0] == "done":
                    outcome = message[1], message[2]
            proc.join()
            if outcome is None:
                outcome = 500, interrupted(proc.exitcode)
                log.error("%s：%s", TITLES[operation], outcome[1]["message"])
            return outcome
        finally:
            self._life = None
            mine.close()
            life_mine.close()
            if proc.is_alive():
                proc.kill()
                proc.join()

    def stop(self) -> None:
        """Stop a running operation with the service (its process ends; every write is crash-safe)."""
        life = self._life
        if life is not None:
            try:
                life.close()
            except OSError:
                pass

    def scheduled(self, settings=None) -> None:
        """The schedule's job: a complete run, skipped (logged) while a press is running."""
        code, answer = self.perform("run", {}, by="定时")
        if code == 409:
            raise BusyError(answer["message"])
        if not answer["ok"]:
            log.error("定时运行未完成：%s", answer["message"])

    # -- what the console shows

    def status(self) -> dict:
        """What runs now and how far it got, the last answers and the workspace: from memory while a run
        works (no file is read then), so it answers at once."""
        job = self.job
        return {"running": to_data(job) if job else None,
                "last": {op: {k: a.get(k) for k in ("ok", "title", "type", "kind", "message", "finished", "by")}
                         for op, a in self.last.items()},
                **self.workspace_info(), "operations": TITLES, "port": self.port}

    def workspace_info(self) -> dict:
        """The workspace and its links: read afresh when nothing runs, else the copy taken as the run began."""
        if self.job is None or self._info is None:
            self._info = self._read_info()
        return self._info

    def _read_info(self) -> dict:
        s = self.open_workspace().settings
        board = s.path("output") / s.current_period() / "看板.html"
        return {"workspace": {"root": str(s.root), "master": str(s.master), "period": s.current_period(),
                              "title": s.title, "review": s.review_required},
                "links": {"master": "/files/master" if s.master.exists() else None,
                          "dashboard": file_url(board, s) if board.exists() else None}}

    def reviews(self) -> dict:
        """The 销号审核 rows of the master as it is on disk (read only; the master is replaced atomically)."""
        s = self.open_workspace().settings
        ledger = read_ledger(s.master, s)
        rows = [to_data(r) for r in ledger.reviews.values()]
        for row, key in zip(rows, ledger.reviews):
            m = ledger.measures.get(key[0])
            row["measure"] = m.measure if m else ""
        return {"ok": True, "review": s.review_required, "rows": rows}

    def history_rows(self, measure: str, unit: str) -> dict:
        """A measure's or a unit's committed changes, read without the run lock."""
        s = self.open_workspace().settings
        path = history_db.db_path(s)
        if not path.exists():
            return {"ok": True, "changes": []}
        with history_db.HistoryDB(path, read_only=True) as db:
            if measure:
                wanted = measure.strip().casefold()
                changes = [c for c in db.changes() if c.measure.casefold() == wanted]
            else:
                changes = [c for c in db.changes(newest_first=True) if c.unit == unit.strip()][:500]
        return {"ok": True, "changes": [to_data(c) for c in changes]}


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


# ---------------------------------------------------------------- the WSGI application

class Api:
    """The WSGI application: the safety checks, then the console page, the API and the output files."""

    def __init__(self, service: Service, token: str, host: str = "127.0.0.1"):
        self.service = service
        self.token = token
        self.host = host

    def allowed_hosts(self) -> set[str]:
        port = self.service.port
        return {f"{h}:{port}" for h in {"127.0.0.1", "localhost", self.host}}

    def origins(self) -> set[str]:
        return {f"http://{h}" for h in self.allowed_hosts()}

    def __call__(self, environ, start_response):
        try:
            code, headers, body = self.handle(environ)
        except Exception as exc:         # never a traceback page; the server goes on
            log.exception("请求处理出错")
            code, headers, body = self.json(500, problem(exc))
        start_response(REASONS.get(code, f"{code} Error"), headers + SAFE_HEADERS)
        return [body]

    @staticmethod
    def json(code: int, data: dict) -> tuple[int, list, bytes]:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return code, [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))], body

    def refuse(self, code: int, type_: str, message: str):
        log.warning("拒绝请求：%s", message)
        return self.json(code, refusal(type_, message))

    def handle(self, environ):
        method = environ.get("REQUEST_METHOD", "GET")
        # WSGI hands the decoded path as latin-1 text: its bytes are the UTF-8 of the address
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        host = environ.get("HTTP_HOST", "")
        if host not in self.allowed_hosts():          # a rebound DNS name, or a request meant for elsewhere
            return self.refuse(421, "ForbiddenHost", f"拒绝：请求的主机名“{host}”不是本服务（只接受 127.0.0.1:{self.service.port}"
                                                     f" 或 localhost:{self.service.port}）。")
        origin = environ.get("HTTP_ORIGIN")
        sent = environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), "")
        has_token = hmac.compare_digest(sent.encode(), self.token.encode())
        if origin in ADDIN_ORIGINS:                     # the WPS add-in's page, or any sandboxed page
            return self.from_file_page(method, path, environ, origin, has_token)
        if origin is not None and origin not in self.origins():   # another site's page calling us
            return self.refuse(403, "ForbiddenOrigin", f"拒绝：来自其他网页（{origin}）的请求。")
        if environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            return self.refuse(403, "ForbiddenOrigin", "拒绝：来自其他网站的请求。")
        return self.route(method, path, environ, has_token)

    def route(self, method: str, path: str, environ, has_token: bool):
        if method == "POST":
            if not has_token:
                return self.refuse(401, "BadToken", f"拒绝：缺少或错误的令牌（请求头 {TOKEN_HEADER}，"
                                                    f"见工作文件夹中的 {TOKEN_FILE}）。")
            if not path.startswith("/api/"):
                return self.refuse(404, "NotFound", "没有这个地址。")
            try:
                params = self.body(environ)
            except ConfigError as exc:           # the caller's request, not the server: 413 / 400, never a 500
                return self.json(413 if exc.params.get("too_long") else 400, problem(exc))
            code, answer = self.service.perform(path.removeprefix("/api/"), params)
            if "text/plain" in environ.get("HTTP_ACCEPT", ""):      # the Excel buttons: the words, not the data
                return self.text(code, answer)
            return self.json(code, answer)
        if method not in ("GET", "HEAD"):
            return self.refuse(405, "MethodNotAllowed", "只接受 GET 和 POST。")
        return self.get(path, parse_qs(environ.get("QUERY_STRING", "")))

    def from_file_page(self, method: str, path: str, environ, origin: str, has_token: bool):
        """A page opened from a file: its preflight is answered, then nothing without the token (a
        sandboxed frame on any website sends the same Origin); with it, the API as for any caller."""
        allow = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if method == "OPTIONS":
            return 204, allow + [("Access-Control-Allow-Methods", "GET, POST"),
                                 ("Access-Control-Allow-Headers", f"{TOKEN_HEADER}, Content-Type"),
                                 ("Access-Control-Max-Age", "600"), ("Content-Length", "0")], b""
        if not has_token:
            return self.refuse(403, "ForbiddenOrigin", f"拒绝：来自本机文件网页（{origin}）且未带令牌的请求。")
        if not path.startswith("/api/"):
            return self.refuse(404, "NotFound", "加载项只能调用 /api/ 下的接口。")
        code, headers, body = self.route(method, path, environ, has_token)
        return code, headers + allow, body

    @staticmethod
    def text(code: int, answer: dict) -> tuple[int, list, bytes]:
        """An answer as the lines a person reads (the message, when it failed)."""
        words = "\n".join(answer.get("lines") or []) if answer.get("ok") else str(answer.get("message", ""))
        body = words.encode("utf-8")
        return code, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))], body

    @staticmethod
    def body(environ) -> dict:
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size > MAX_BODY:
            raise ConfigError(f"请求内容过长（{size}字节，上限{MAX_BODY}字节）：按钮和控制台的请求不会这么长，"
                              f"请检查调用本服务的程序。", too_long=True)
        raw = environ["wsgi.input"].read(size) if size else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise ConfigError("请求内容不是 JSON。") from None
        return data if isinstance(data, dict) else {}

    def get(self, path: str, query: dict):
        service = self.service
        first = {k: v[0] for k, v in query.items()}
        if path in ("/", "/index.html"):
            return self.console()
        if path == "/api/status":
            return self.json(200, {"ok": True, **service.status()})
        try:
            if path == "/api/reviews":
                return self.json(200, service.reviews())
            if path == "/api/history":
                return self.json(200, service.history_rows(first.get("id", ""), first.get("unit", "")))
            if path.startswith("/api/last/"):
                answer = service.last.get(path.removeprefix("/api/last/"))
                return self.json(200, answer) if answer else self.refuse(404, "NotFound", "该操作本次服务启动以来尚未运行。")
        except ToolkitError as exc:
            return self.json(422, problem(exc))
        if path.startswith("/files/"):
            target = served_file(path, service.open_workspace().settings)
            if target is None:
                return self.refuse(404, "NotFound", "没有这个文件（只提供输出文件夹、分发文件夹中的文件和总台账）。")
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or target.suffix == ".md":
                kind = ("text/plain" if target.suffix == ".md" else kind) + "; charset=utf-8"
            body = target.read_bytes()
            # an output page runs in a sandbox of its own: it can never read the console or its token
            return 200, [("Content-Type", kind), ("Content-Length", str(len(body))),
                         ("Content-Security-Policy", "sandbox allow-scripts allow-popups allow-modals")], body
        return self.refuse(404, "NotFound", "没有这个地址。")

    def console(self):
        nonce = secrets.token_urlsafe(16)
        html = CONSOLE_FILE.read_text(encoding="utf-8").replace(TOKEN_SLOT, self.token).replace(NONCE_SLOT, nonce)
        body = html.encode("utf-8")
        csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        return 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                     ("Content-Security-Policy", csp)], body


SAFE_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")]


# ---------------------------------------------------------------- is it running?

def probe(root: Path, timeout: float = 2.0) -> dict:
    """Whether the workspace's service answers: {"running", "port", "pid", "started", "job", "problem"}."""
    import http.client
    path = Path(root) / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        port = int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"running": False, "port": None, "problem": "没有找到服务留下的端口记录（它尚未启动过，或已正常退出）。"}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/api/status", headers={"Host": f"127.0.0.1:{port}"})
        resp = conn.getresponse()
        data = json.loads(resp.read().decode("utf-8"))
        conn.close()
    except (OSError, ValueError) as exc:
        return {"running": False, "port": port, "pid": state.get("pid"),
                "problem": f"端口 {port} 无应答（{exc}）：服务已停止（记录是上次运行留下的）。"}
    if resp.status != 200 or Path(data.get("workspace", {}).get("root", "")).resolve() != Path(root).resolve():
        return {"running": False, "port": port, "problem": f"端口 {port} 上运行的不是本工作文件夹的服务。"}
    return {"running": True, "port": port, "pid": state.get("pid"), "started": state.get("started"),
            "job": data.get("running")}


# ---------------------------------------------------------------- the server

class Server:
    """The HTTP side on its own thread (waitress), so the scheduler can own the main thread and its signals."""

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = DEFAULT_PORT, threads: int = 4):
        from waitress import create_server
        self.service = service
        self.token = ensure_token(service.settings.root)
        self.app = Api(service, self.token, host)
        try:
            self.sockets: dict = {}        # waitress's socket map: the listener, the connections, its wake-up pipe
            self.httpd = create_server(self.app, map=self.sockets, host=host, port=port, threads=threads, ident="zhenggai",
                                       expose_tracebacks=False, clear_untrusted_proxy_headers=True,
                                       # beyond this waitress answers 413 itself: a page can't make it buffer 1 GB
                                       max_request_body_size=16 * MAX_BODY)
        except OSError as exc:
            raise ToolkitError(f"无法在 {host}:{port} 上启动服务：{exc.strerror or exc}。端口可能已被占用，"
                               f"请用 --port 指定另一个端口（如 --port {port + 1}）。") from None
        self.host = host
        self.port = service.port = int(self.httpd.effective_port)
        self.thread = threading.Thread(target=self.httpd.run, name="zhenggai-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('127.0.0.1', '0.0.0.0') else self.host}:{self.port}/"

    def start(self) -> "Server":
        self.thread.start()
        state = {"port": self.port, "host": self.host, "pid": os.getpid(),
                 "started": dt.datetime.now().isoformat(timespec="seconds")}
        path = Path(self.service.settings.root) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        return self

    def stop(self) -> None:
        self.service.stop()                                # a run in progress ends with the service
        self.httpd.task_dispatcher.shutdown(timeout=5)     # the workers first: none may pull a closed trigger

        def close_all() -> None:                           # on the loop's own thread, which then ends
            for dispatcher in list(self.sockets.values()):
                dispatcher.close()
        if self.thread.is_alive():
            self.httpd.trigger.pull_trigger(close_all)
            self.thread.join(timeout=5)
        else:
            close_all()
        path = Path(self.service.settings.root) / STATE_FILE
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
