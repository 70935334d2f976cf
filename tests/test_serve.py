"""The resident service over real HTTP: operations answer with their run's data, one runs at a time,
a failure is reported and the server goes on, a SIGKILL mid-run loses nothing, and localhost is
guarded (Host, Origin, token)."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import hand_in
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.demo import stage_demo
from toolkit.io import history_db
from toolkit.io.history_db import HistoryDB
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import Scheduler
from toolkit.serve import STATE_FILE, TOKEN_FILE, TOKEN_HEADER, Server, Service, opener

REPO = Path(__file__).resolve().parent.parent


class Client:
    """A real HTTP client (http.client) talking to a server on 127.0.0.1:port."""

    def __init__(self, port: int, token: str = ""):
        self.port, self.token = port, token

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                token: str | None = None) -> tuple[int, dict | bytes, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        sent = {"Host": f"127.0.0.1:{self.port}"}
        if method == "POST":
            sent[TOKEN_HEADER] = self.token if token is None else token
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        data = json.dumps(body or {}).encode() if method == "POST" else None
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        kind = resp.getheader("Content-Type", "")
        return resp.status, (json.loads(raw) if kind.startswith("application/json") else raw), dict(resp.getheaders())

    def post(self, op: str, body: dict | None = None, **kw):
        return self.request("POST", f"/api/{op}", body, **kw)

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)


@pytest.fixture
def served(workspace):
    """A real server (waitress, a free port) over the small workspace, in this process."""
    service = Service(opener(workspace))
    with Server(service, port=0) as server:
        yield service, Client(server.port, server.token), workspace


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- operations

def test_consolidate_over_http_takes_in_the_inbox_and_answers_with_the_results_data(served):
    service, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(s.master)
    code, answer, _ = client.post("consolidate")
    assert code == 200 and answer["ok"]
    files = answer["data"]["files"]
    assert [(f["outcome"], f["submission"]["unit"], f["accepted"]) for f in files] == [(vocab.OUTCOME_ACCEPTED, "办公室", 3)]
    assert answer["data"]["master_changed"] is True
    assert sha(s.master) != before
    assert read_ledger(s.master, s).measures["ZG-001"].status == vocab.DONE
    receipts = [Path(p) for p in answer["data"]["receipts"]]
    assert receipts and all(p.exists() for p in receipts)
    assert any(link["url"].startswith("/files/output/") and link["name"] == receipts[0].name for link in answer["links"])
    assert answer["lines"][0].startswith("汇总（2024-08）：收到1个文件")
    # the receipt is served at its link
    url = next(link["url"] for link in answer["links"] if link["name"] == receipts[0].name)
    code, body, _ = client.get(url)
    assert code == 200 and body == receipts[0].read_bytes()


def test_every_operation_runs_over_http_and_says_what_it_did(served):
    _, client, s = served
    answers = {op: client.post(op) for op in ("refresh", "highlight", "check", "distribute", "remind", "notices")}
    assert {op: a[0] for op, a in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["refresh"][1]["data"]["figures"]["total"] == 6
    assert answers["highlight"][1]["lines"][0].startswith("逾期标记已刷新：逾期未完成")
    assert answers["check"][1]["data"]["problems"] == []
    assert len(answers["distribute"][1]["data"]) == 3 and (s.path("outbox") / "2024-08").is_dir()
    assert answers["notices"][1]["data"]["files"] and all(Path(p).exists() for p in answers["notices"][1]["data"]["files"])
    code, answer, _ = client.post("history", {"id": "zg-001"})
    assert code == 200 and answer["data"]["lines"][0].startswith("措施ZG-001")
    code, status, _ = client.get("/api/status")
    assert code == 200 and status["running"] is None and status["last"]["notices"]["ok"] is True


class HeldWorkspace(Workspace):
    """A workspace whose consolidation waits after its first file until the gate file exists. The operation
    runs in its own spawned process, which imports this class by name."""

    def __init__(self, settings, gate: Path):
        super().__init__(settings)
        self.gate = gate

    def consolidate(self, on_file=None, **kw):
        def held(i, n, name):
            on_file(i, n, name)
            for _ in range(6000):                    # at most ten minutes, should the test die first
                if i > 1 or self.gate.exists():
                    break
                time.sleep(0.1)
        return super().consolidate(held, **kw)


class FaultyWorkspace(Workspace):
    """A workspace whose history operation fails as a bug would (not a ToolkitError)."""

    def history(self, *args, **kwargs):
        return 1 / 0


@contextlib.contextmanager
def serving(open_workspace):
    with Server(Service(open_workspace), port=0) as server:
        yield server.service, Client(server.port, server.token)


def wait_for_step(client: Client, prefix: str) -> dict:
    """The status once the running operation reports a step starting with prefix."""
    for _ in range(6000):
        running = client.get("/api/status")[1]["running"]
        if running and running["step"].startswith(prefix):
            return running
        time.sleep(0.05)
    raise AssertionError(f"no step {prefix}")


def test_a_second_press_while_one_runs_is_told_what_runs_and_since_when(workspace, tmp_path):
    s = workspace
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "已印发方案"}})
    gate = tmp_path / "gate"
    with serving(functools.partial(HeldWorkspace, s, gate)) as (service, client):
        first: list = []
        worker = threading.Thread(target=lambda: first.append(client.post("consolidate")))
        worker.start()
        running = wait_for_step(client, "读取报送文件 1/2")
        assert running["title"] == "汇总报送" and running["pid"] not in (0, os.getpid())
        if hasattr(os, "getpriority"):             # background work: the service answers first
            assert os.getpriority(os.PRIO_PROCESS, running["pid"]) > os.getpriority(os.PRIO_PROCESS, 0)
        opened, service.open_workspace = service.open_workspace, None    # status answers from memory now
        code, status, _ = client.get("/api/status")
        assert code == 200 and status["workspace"]["root"] == str(s.root) and status["running"]["pid"] == running["pid"]
        service.open_workspace = opened
        code, answer, _ = client.post("refresh")
        assert code == 409 and answer["type"] == "BusyError"
        assert answer["message"].startswith("“汇总报送”正在运行（") and running["started"][11:19] in answer["message"]
        gate.touch()
        worker.join(120)
        assert first[0][0] == 200 and first[0][1]["data"]["master_changed"]
        assert client.post("refresh")[0] == 200      # free again


def test_a_failing_operation_returns_its_problem_and_the_server_keeps_serving(workspace):
    s = workspace
    with serving(functools.partial(FaultyWorkspace, s)) as (service, client):
        good = s.master.read_bytes()
        s.master.write_bytes(b"not a workbook")
        code, answer, _ = client.post("refresh")
        assert code == 422 and answer["ok"] is False and answer["type"] == "LedgerError"
        assert "整改台账.xlsx" in answer["message"] and "Traceback" not in answer["message"]
        assert answer["family"] == "input" and answer["kind"] and answer["guidance"]   # the problem's own JSON
        s.master.write_bytes(good)
        code, answer, _ = client.post("history", {"id": "ZG-001"})
        assert code == 500 and answer["type"] == "InternalError" and "服务仍在运行" in answer["message"]
        assert client.post("refresh")[0] == 200
        assert client.get("/api/last/history")[1]["type"] == "InternalError"


def test_killing_the_operations_process_mid_consolidation_loses_nothing_and_the_rerun_takes_each_file_once(
        workspace, tmp_path):
    s = workspace
    sent = [hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}}),
            hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "已印发方案"}})]
    first_sha, second_sha = (sha(p) for p in sent)
    hashes = {first_sha, second_sha}
    before = sha(s.master)
    gate = tmp_path / "gate"
    with serving(functools.partial(HeldWorkspace, s, gate)) as (service, client):
        first: list = []
        worker = threading.Thread(target=lambda: first.append(client.post("consolidate")))
        worker.start()
        pid = wait_for_step(client, "读取报送文件 1/2")["pid"]
        os.kill(pid, signal.SIGKILL)                 # a real signal, mid-run, to the operation's process
        worker.join(120)
        code, answer, _ = first[0]
        assert code == 500 and answer["type"] == "Interrupted" and "请再点一次" in answer["message"]
        assert sha(s.master) == before
        kept = {sha(p) for p in s.path("inbox").iterdir() if p.is_file()}
        archived = {sha(p) for p in s.path("archive").rglob("*.xlsx")} if s.path("archive").exists() else set()
        assert hashes <= kept | archived
        # the service goes on; the lock died with the process; the rerun takes each file exactly once
        gate.touch()
        code, answer, _ = client.post("consolidate")
        assert code == 200, answer
        assert sorted(f["submission"]["unit"] for f in answer["data"]["files"]) == ["办公室", "医政处"]
        assert all(f["outcome"] == vocab.OUTCOME_ACCEPTED for f in answer["data"]["files"])
        assert not [p for p in s.path("inbox").iterdir() if p.is_file()]
        copies = [sha(p) for p in s.path("archive").rglob("*") if p.is_file()]
        assert sorted(copies) == sorted(hashes), copies
        ledger = read_ledger(s.master, s)
        assert ledger.measures["ZG-001"].status == vocab.DONE and ledger.measures["ZG-003"].progress == "已印发方案"
        assert client.post("consolidate")[1]["data"]["files"] == []         # nothing left to take twice
        with HistoryDB(history_db.db_path(s), read_only=True) as db:
            from_files = [(c.source, c.measure, c.field, c.new) for c in db.changes() if c.from_file]
        assert sorted(from_files) == sorted([(first_sha, "ZG-001", vocab.STATUS, "已完成"),
                                             (second_sha, "ZG-003", vocab.PROGRESS, "已印发方案")]), from_files
        assert client.get("/api/status")[1]["running"] is None


def test_stopping_the_server_mid_run_stops_the_operations_process(workspace, tmp_path):
    s = workspace
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    hand_in(s, "医政处", {"ZG-003": {vocab.PROGRESS: "已印发方案"}})
    before = sha(s.master)
    server = Server(Service(functools.partial(HeldWorkspace, s, tmp_path / "never")), port=0).start()
    client = Client(server.port, server.token)
    threading.Thread(target=lambda: _quietly(client.post, "consolidate"), daemon=True).start()
    pid = wait_for_step(client, "读取报送文件 1/2")["pid"]
    server.stop()
    assert wait_gone(pid)
    assert sha(s.master) == before and Workspace(s).consolidate().master_changed


def wait_gone(pid: int) -> bool:
    """Whether the process ends (or is left a zombie, where nothing reaps orphans) within a minute."""
    for _ in range(1200):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_the_schedule_runs_through_the_service_and_is_skipped_while_a_press_runs(served, monkeypatch):
    service, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    scheduler = Scheduler(s, job=service.scheduled)
    scheduler.run_safely()
    assert service.last["run"]["by"] == "定时" and service.last["run"]["ok"]
    assert read_ledger(s.master, s).measures["ZG-001"].status == vocab.DONE
    service._one.acquire()          # a press is running
    try:
        service.job = None
        scheduler.run_safely()
    finally:
        service._one.release()
    assert scheduler.failures == 0 and scheduler.runs == 2


# ---------------------------------------------------------------- killed mid-run

def start_serving(root: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", "-c", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=root)
    line = proc.stdout.readline()
    assert line.startswith("控制台：http://127.0.0.1:"), line
    return proc, int(line.split(":")[2].split("/")[0])


def test_sigkill_of_the_server_mid_consolidation_loses_nothing(tmp_path):
    root = tmp_path / "demo"
    settings = stage_demo(root)
    inbox = {sha(p): p.name for p in settings.path("inbox").iterdir() if p.is_file()}
    master_before = sha(settings.master)
    proc, port = start_serving(root)
    client = Client(port, (root / TOKEN_FILE).read_text(encoding="utf-8").strip())
    try:
        assert json.loads((root / STATE_FILE).read_text(encoding="utf-8"))["port"] == port
        threading.Thread(target=lambda: _quietly(client.post, "consolidate"), daemon=True).start()
        for _ in range(100000):                 # until the run is reading files, then kill it there
            running = client.get("/api/status")[1]["running"]
            if running and running["step"].startswith("读取报送文件"):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
    assert running and wait_gone(running["pid"])      # the operation's process went with the server
    # the master is the one before or a complete one after; every file is in the inbox or the archive
    ledger = read_ledger(settings.master, settings)
    assert len(ledger.measures) == 263
    kept = {sha(p) for p in settings.path("inbox").iterdir() if p.is_file()}
    archived = {sha(p) for p in settings.path("archive").rglob("*.xlsx")} if settings.path("archive").exists() else set()
    assert set(inbox) <= kept | archived, [inbox[h] for h in set(inbox) - kept - archived]
    # a new server takes over: the lock died with the process, and the rerun completes the work
    proc, port = start_serving(root)
    try:
        client.port = port
        code, answer, _ = client.post("consolidate")
        assert code == 200, answer
        assert not list(settings.path("inbox").glob("*.xlsx")) or answer["data"]["deferred"]
        assert sha(settings.master) != master_before
        code, status, _ = client.get("/api/status")
        assert status["last"]["consolidate"]["ok"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert not (root / STATE_FILE).exists()          # a clean stop forgets its port


def _quietly(fn, *args):
    try:
        fn(*args)
    except OSError:              # the server was killed under this request: expected
        pass


# ---------------------------------------------------------------- safe on localhost

def test_a_request_naming_another_host_is_refused(served):
    _, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(s.master)
    for host in ("evil.example", f"evil.example:{client.port}", "127.0.0.1:1", f"127.0.0.1.nip.io:{client.port}"):
        code, answer, _ = client.get("/api/status", headers={"Host": host})
        assert code == 421 and answer["type"] == "ForbiddenHost", host
        code, answer, _ = client.post("consolidate", headers={"Host": host})
        assert code == 421, host
        code, body, _ = client.get("/", headers={"Host": host})
        assert code == 421 and client.token.encode() not in json.dumps(body).encode()
    assert sha(s.master) == before and list(s.path("inbox").iterdir())
    assert client.get("/api/status", headers={"Host": f"localhost:{client.port}"})[0] == 200


def test_a_call_from_a_foreign_origin_is_refused_even_with_the_token(served):
    _, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(s.master)
    for origin in ("http://evil.example", f"http://localhost:{client.port + 1}", f"https://127.0.0.1:{client.port}"):
        code, answer, _ = client.post("consolidate", headers={"Origin": origin})
        assert code == 403 and answer["type"] == "ForbiddenOrigin", origin
    code, _, _ = client.post("consolidate", headers={"Sec-Fetch-Site": "cross-site"})
    assert code == 403
    assert sha(s.master) == before
    code, answer, _ = client.post("consolidate", headers={"Origin": f"http://127.0.0.1:{client.port}"})
    assert code == 200 and sha(s.master) != before


def test_a_page_opened_from_a_file_gets_nothing_without_the_token_and_only_the_api_with_it(served):
    """The WPS add-in's page is a file (Origin null); so is a sandboxed frame on any website."""
    _, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(s.master)
    for origin in ("null", "file://"):
        code, answer, headers = client.get("/api/status", headers={"Origin": origin})
        assert code == 403 and answer["type"] == "ForbiddenOrigin" and "Access-Control-Allow-Origin" not in headers
        code, answer, _ = client.post("consolidate", headers={"Origin": origin}, token="wrong")
        assert code == 403
        code, body, _ = client.get("/", headers={"Origin": origin, TOKEN_HEADER: client.token})
        assert code == 404 and client.token.encode() not in json.dumps(body).encode()
        code, _, headers = client.request("OPTIONS", "/api/consolidate", headers={"Origin": origin})
        assert code == 204 and TOKEN_HEADER in headers["Access-Control-Allow-Headers"]
    assert sha(s.master) == before
    code, answer, headers = client.get("/api/status", headers={"Origin": "null", TOKEN_HEADER: client.token})
    assert code == 200 and headers["Access-Control-Allow-Origin"] == "null"
    code, answer, headers = client.post("consolidate", headers={"Origin": "null"})
    assert code == 200 and answer["ok"] and headers["Access-Control-Allow-Origin"] == "null" and sha(s.master) != before


def test_a_caller_asking_for_text_gets_the_lines_a_person_reads(served):
    _, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    code, body, headers = client.post("consolidate", headers={"Accept": "text/plain"})
    assert code == 200 and headers["Content-Type"].startswith("text/plain") and body.decode().startswith("汇总")
    code, body, _ = client.post("review", {"targets": ["ZG-999"], "conclusion": "agree"}, headers={"Accept": "text/plain"})
    assert code >= 400 and body.decode().startswith("销号审核未启用")


def test_a_state_changing_call_needs_the_install_token(served):
    _, client, s = served
    hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = sha(s.master)
    token_file = s.root / TOKEN_FILE
    assert token_file.read_text(encoding="utf-8").strip() == client.token and len(client.token) >= 40
    if os.name == "posix":
        assert token_file.stat().st_mode & 0o077 == 0
    for token in ("", "wrong", client.token[:-1]):
        code, answer, _ = client.post("consolidate", token=token)
        assert code == 401 and answer["type"] == "BadToken"
    code, _, _ = client.post("consolidate", headers={TOKEN_HEADER: None})
    assert code == 401
    assert sha(s.master) == before and list(s.path("inbox").iterdir())
    # the console page (same origin only) carries it; reads need none
    code, page, headers = client.get("/")
    assert code == 200 and client.token.encode() in page and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert client.get("/api/status", headers={})[0] == 200
    assert client.post("consolidate")[0] == 200


def test_files_are_served_only_from_the_output_and_outbox_folders(served):
    _, client, s = served
    client.post("notices")
    secret = s.root / ".zhenggai" / "secret.key"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("x")
    for path in ("/files/output/../.zhenggai/secret.key", "/files/output/%2e%2e/.zhenggai/serve.token",
                 "/files/config.toml", "/files/output/", "/files/archive/x.xlsx"):
        code, _, _ = client.get(path)
        assert code == 404, path
    code, body, headers = client.get("/files/master")
    assert code == 200 and body == s.master.read_bytes()
    notice = next((s.path("output") / "2024-08").rglob("*.md"))
    rel = notice.relative_to(s.path("output")).as_posix()
    code, body, headers = client.get("/files/output/" + "/".join(map(_quote, rel.split("/"))))
    assert code == 200 and body == notice.read_bytes() and headers["Content-Security-Policy"].startswith("sandbox")


def _quote(part: str) -> str:
    from urllib.parse import quote
    return quote(part)


def test_a_machine_problem_is_answered_503_and_an_input_problem_422_with_their_families():
    from toolkit.errors import FileAccessError, LedgerError
    from toolkit.serve import problem, status_of
    disk, bad = FileAccessError("磁盘已满"), LedgerError("第3行编号为空")
    assert (status_of(disk), status_of(bad)) == (503, 422)
    assert (problem(disk)["family"], problem(bad)["family"]) == ("environment", "input")
    assert problem(disk)["guidance"] != problem(bad)["guidance"]
