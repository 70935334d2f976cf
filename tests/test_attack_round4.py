"""Round four of the independent attack on the merged tree: an audit office's own ledger, a hostile workspace
template, the resident service's long-lived Workspace, and the declared outputs; one test per defect found."""
from __future__ import annotations

import http.client
import json
import socket

import openpyxl
import pytest

from tests.conftest import hand_in, settings_for
from tests.test_outputs import count_calls
from tests.test_reminders import workspace_on
from tests.test_schema import audit_workspace
from tests.test_serve import served  # noqa: F401  (the fixture: a real server over the small workspace)
from toolkit import profiles, vocab
from toolkit.app import Workspace
from toolkit.documents import dashboard, ledger_print, notices, reminders, templating
from toolkit.errors import ConfigError, LedgerError, SourceError
from toolkit.io.ledger_file import read_ledger
from toolkit.rules.amounts import amount_totals
from toolkit.serve import TOKEN_HEADER


def amount_cell(settings, mid: str) -> tuple[openpyxl.Workbook, object]:
    """The master workbook and the 整改金额 cell of measure `mid` (audit_workspace: header on row 3)."""
    wb = openpyxl.load_workbook(settings.master)
    ws = wb[vocab.SHEET_LEDGER]
    col = next(c for c in range(1, ws.max_column + 1) if str(ws.cell(3, c).value).startswith(vocab.AMOUNT))
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value == mid)
    return wb, ws.cell(row, col)


@pytest.mark.parametrize("typed", [-5, "-5", "-12.5万元", "-1,200.00"])
def test_a_negative_amount_stops_the_read_naming_its_cell(tmp_path, typed):
    settings = audit_workspace(tmp_path, {"ZG-001": typed, "ZG-002": 10})
    _, cell = amount_cell(settings, "ZG-001")
    with pytest.raises(LedgerError) as caught:
        read_ledger(settings.master, settings)
    assert f"（{cell.coordinate}）" in str(caught.value)


def test_amounts_as_offices_type_them_are_totalled_exactly(tmp_path):
    settings = audit_workspace(tmp_path, {"ZG-001": "12.5万元", "ZG-002": "1,200.00", "ZG-003": 0, "ZG-004": None})
    totals = amount_totals(read_ledger(settings.master, settings))
    assert totals is not None and str(totals.overall.due) == "1212.5"


def test_an_amount_merged_over_several_measures_stops_the_read_instead_of_counting_it_twice(tmp_path):
    settings = audit_workspace(tmp_path, {"ZG-001": 100, "ZG-002": None, "ZG-003": 5})
    wb, first = amount_cell(settings, "ZG-001")
    _, second = amount_cell(settings, "ZG-002")
    assert second.row == first.row + 1
    wb[vocab.SHEET_LEDGER].merge_cells(f"{first.coordinate}:{second.coordinate}")
    wb.save(settings.master)
    with pytest.raises(LedgerError) as caught:
        read_ledger(settings.master, settings)
    assert f"{first.coordinate}:{second.coordinate}" in str(caught.value)
    problems: list[str] = []
    ledger = read_ledger(settings.master, settings, problems)      # check: reported, never read as 200
    assert len(problems) == 1 and ledger.measures["ZG-002"].amount is None


ESCAPES = ["{{ cycler.__init__.__globals__.os.system('touch %s') }}",
           "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ lipsum.__globals__['os'].system('touch %s') }}"]


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_workspace_template_reaching_python_internals_is_refused_by_file_and_line(tmp_path, escape):
    settings = settings_for(tmp_path)
    (tmp_path / "templates").mkdir()
    marker = tmp_path / "ran"
    (tmp_path / "templates" / "回执.txt.j2").write_text("回执\n" + escape.replace("%s", str(marker)), "utf-8")
    with pytest.raises(SourceError) as caught:
        templating.render("回执.txt.j2", {}, settings)
    assert not marker.exists()
    assert caught.value.kind == "template-error" and caught.value.location.row == 2
    assert caught.value.location.file.endswith("回执.txt.j2")


def test_the_dashboard_template_of_a_workspace_is_sandboxed_too(tmp_path):
    (tmp_path / "看板.html.j2").write_text("{{ cycler.__init__.__globals__.os.getcwd() }}", "utf-8")
    with pytest.raises(SourceError) as caught:
        dashboard.render(None, tmp_path)          # the sandbox refuses before the board is looked at
    assert caught.value.location.row == 1


@pytest.mark.parametrize("target", ["/etc/hostname", "../config.toml"])
def test_a_template_linked_to_a_file_outside_the_templates_folder_is_refused_by_file_and_line(tmp_path, target):
    settings = settings_for(tmp_path)
    (tmp_path / "config.toml").write_text("secret = 1", "utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "片段.j2").symlink_to(target if target.startswith("/") else tmp_path / "config.toml")
    (tmp_path / "templates" / "回执.txt.j2").write_text("回执\n\n{% include '片段.j2' %}", "utf-8")
    with pytest.raises(SourceError) as caught:
        templating.render("回执.txt.j2", {}, settings)
    assert caught.value.location.row == 3 and caught.value.location.file.endswith("回执.txt.j2")
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("name", ["/etc/passwd", "../config.toml", "../../../etc/passwd"])
def test_an_include_or_import_by_path_out_of_the_templates_folder_finds_nothing(tmp_path, name):
    settings = settings_for(tmp_path)
    (tmp_path / "config.toml").write_text("secret = 1", "utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "回执.txt.j2").write_text(f"{{% import '{name}' as x %}}", "utf-8")
    with pytest.raises(SourceError) as caught:
        templating.render("回执.txt.j2", {}, settings)
    assert caught.value.kind == "template-not-found"


def raw_post(port: int, token: str, body: bytes) -> tuple[int, bytes]:
    """POST /api/refresh with these exact bytes (a real HTTP client)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/refresh", body=body, headers={"Host": f"127.0.0.1:{port}", TOKEN_HEADER: token,
                                                              "Content-Type": "application/json"})
    resp = conn.getresponse()
    answer = resp.status, resp.read()
    conn.close()
    return answer


def test_a_very_long_request_body_is_refused_as_too_large_and_the_server_keeps_serving(served):  # noqa: F811
    service, client, _ = served
    code, raw = raw_post(client.port, client.token, b'{"x": "' + b"a" * 200_000 + b'"}')
    answer = json.loads(raw)
    assert code == 413 and (answer["type"], answer["kind"]) == ("ConfigError", "request-too-long")
    assert service.last == {}                                  # nothing ran
    assert client.get("/api/status")[0] == 200


def test_a_huge_announced_body_is_refused_before_the_server_reads_it(served):  # noqa: F811
    service, client, _ = served
    with socket.create_connection(("127.0.0.1", client.port), timeout=10) as sock:   # headers only: 100 MB announced
        sock.sendall(f"POST /api/refresh HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n{TOKEN_HEADER}: {client.token}"
                     f"\r\nContent-Length: {100 * 1024 ** 2}\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 413")
    assert service.last == {} and client.get("/api/status")[0] == 200


@pytest.mark.parametrize("body", [b"{not json", "{\"date\": \"\u4e00\"".encode()])
def test_a_request_body_that_is_not_json_is_the_callers_problem_not_a_server_error(served, body):  # noqa: F811
    _, client, _ = served
    code, raw = raw_post(client.port, client.token, body)
    answer = json.loads(raw)
    assert code == 400 and (answer["type"], answer["kind"]) == ("ConfigError", "request-not-json")


def test_an_output_edited_by_hand_between_runs_is_written_again_not_kept_as_this_runs(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    first = Workspace(workspace).run_once()
    board = next(p for p in first.notices if p.name == "看板.html")
    summary = next(p for p in first.notices if p.name.startswith("公开进展"))
    as_written = {p: p.read_bytes() for p in (board, summary)}
    for path in as_written:                              # a figure changed by hand in each
        path.write_bytes(path.read_bytes().replace(b"1", b"9"))
    again = Workspace(workspace).run_once()
    assert {p: p.read_bytes() for p in as_written} == as_written
    assert again.figures == first.figures


def test_a_deleted_proposal_list_comes_back_on_the_next_run(workspace):
    hand_in(workspace, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
    Workspace(workspace).run_once()
    listed = next(workspace.path("output").rglob("拟发清单.csv"))
    listed.unlink()
    Workspace(workspace).run_once()
    assert listed.exists()


def test_a_changed_reminder_template_rewrites_the_reminders_but_not_the_print_book(tmp_path, monkeypatch):
    settings = workspace_on(tmp_path, "2024-08-22")
    Workspace(settings).run_once()
    (tmp_path / "templates").mkdir()
    own = (templating.TEMPLATE_DIR / reminders.TEMPLATE).read_text("utf-8") + "\n本单位新增的一句话。\n"
    (tmp_path / "templates" / reminders.TEMPLATE).write_text(own, "utf-8")
    calls = count_calls(monkeypatch, reminders, "write_reminders")
    count_calls(monkeypatch, notices, "write_notices", calls)
    count_calls(monkeypatch, ledger_print, "build", calls)           # no template: its inputs are unchanged
    report = Workspace(settings).run_once()
    assert sorted(calls) == ["write_notices", "write_reminders"]
    assert report.reminders and all("本单位新增的一句话" in p.read_text("utf-8") for p in report.reminders
                                    if p.suffix == ".md")


AUDIT = (profiles.FOLDER / "审计整改.toml").read_text("utf-8")


@pytest.mark.parametrize("line, edited, named", [
    ('"牵头单位" = ["整改责任单位", "被审计单位"]', '"牵头单位" = ["整改责任单位", "完成情况"]', "完成情况"),
    ('"整改措施" = ["整改措施及要求"]', '"整改措施" = ["整改措施及要求", "问题描述"]', "问题描述"),
    ('"未整改" = "未启动"', '"已完成" = "未启动"', "已完成"),
])
def test_an_office_profile_whose_words_would_misread_a_column_or_be_ignored_is_refused_naming_the_word(
        line, edited, named):
    assert line in AUDIT
    with pytest.raises(ConfigError) as caught:
        profiles.from_toml(AUDIT.replace(line, edited), "本单位方案.toml")
    assert "本单位方案.toml" in str(caught.value) and f"“{named}”" in str(caught.value)

