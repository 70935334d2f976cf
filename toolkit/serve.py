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
import functools
import hmac
import json
import logging
import mimetypes
import multiprocessing
import os
import pickle
import secrets
import threading
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs

from .app import Workspace
from .errors import BusyError, ConfigError, ToolkitError
from .io import history_db
from .io.ledger_file import read_ledger
from .service_ops import (  # noqa: F401  (problem, status_of, answer_of: the tests' names)
    OPERATIONS,
    TITLES,
    answer_of,
    file_url,
    interrupted,
    problem,
    refusal,
    run_child,
    served_file,
    status_of,
    to_data,
)
from .words import ENVIRONMENT

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
            # named first: a press while this one reads the workspace is told it runs, not that it just ended
            self.job = Job(operation, TITLES[operation], dt.datetime.now().replace(microsecond=0), "开始运行", by=by)
            try:
                self._info = self._read_info()
            except Exception:                    # a broken config: the run itself says what is wrong
                self._info = None
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
            raise BusyError(kind="service-busy", detail=answer["message"])
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
        """An answer as the lines a person reads: when it failed, the message, and for the machine's trouble what
        to do under it, as the xlwings button says it (excel._button)."""
        words = "\n".join(answer.get("lines") or []) if answer.get("ok") else str(answer.get("message", ""))
        if not answer.get("ok") and answer.get("family") == ENVIRONMENT and answer.get("guidance"):
            words += "\n" + str(answer["guidance"])
        body = words.encode("utf-8")
        return code, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))], body

    @staticmethod
    def body(environ) -> dict:
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size > MAX_BODY:
            raise ConfigError(kind="request-too-long", size=size, limit=MAX_BODY, too_long=True)
        raw = environ["wsgi.input"].read(size) if size else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):           # RecursionError: arrays nested thousands deep
            raise ConfigError(kind="request-not-json") from None
        return data if isinstance(data, dict) else {}

    def get(self, path: str, query: dict):
        service = self.service
        first = {k: v[0] for k, v in query.items()}
        if path in ("/", "/index.html"):
            return self.console()
        try:
            if path == "/api/status":        # a config broken since the start: its problem, not a 500
                return self.json(200, {"ok": True, **service.status()})
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
            raise ToolkitError(kind="port-unavailable", host=host, port=port, reason=exc.strerror or str(exc),
                               next_port=port + 1) from None
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
        pulled = False
        if self.thread.is_alive():
            try:
                self.httpd.trigger.pull_trigger(close_all)
                pulled = True
            except OSError:                                # the loop closed its trigger already (it is ending)
                pass
            self.thread.join(timeout=5)
        if not pulled:
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
