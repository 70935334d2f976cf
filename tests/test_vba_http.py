"""The contract between the Excel buttons' VBA (macros/ZhenggaiButtons.bas) and the service: the
files it reads, the header it sends the token in, the addresses and the body keys it uses are the
server's, and requests built the way the VBA builds them are answered by a real server."""
from __future__ import annotations

import re
from dataclasses import replace

from tests.conftest import hand_in
from tests.test_serve import Client
from toolkit import addin, serve, vocab
from toolkit.io.ledger_file import read_ledger
from toolkit.serve import Server, Service, opener

VBA = (addin.MACROS / "ZhenggaiButtons.bas").read_text(encoding="utf-8")


def const(name: str) -> str:
    return re.search(rf'Private Const {name} As String = "([^"]*)"', VBA)[1]


def pressed() -> dict[str, tuple[str, ...]]:
    """{ribbon sub: (python button, title, operation, ...)} as the VBA passes them to Press."""
    out = {}
    for sub, body in re.findall(r"Public Sub (\w+)\(control As IRibbonControl\)(.*?)End Sub", VBA, re.S):
        call = re.search(r"Press (.*)", body)[1]
        out[sub] = tuple(re.findall(r'"([^"]*)"', call))
    return out


def test_the_vba_reads_the_files_the_server_writes_and_sends_its_token_header():
    assert const("STATE_FILE").replace("\\", "/") == serve.STATE_FILE
    assert const("TOKEN_FILE").replace("\\", "/") == serve.TOKEN_FILE
    assert const("TOKEN_HEADER") == serve.TOKEN_HEADER and const("API_PATH") == "/api/"
    assert 'CreateObject("MSXML2.ServerXMLHTTP.6.0")' in VBA and "Shell" not in VBA.replace("RunPython", "")
    assert 'req.setRequestHeader "Accept", "text/plain"' in VBA
    assert 'Http "GET", url & API_PATH & "status"' in VBA and 'Http("POST", url & API_PATH & operation' in VBA
    assert '"http://127.0.0.1:" & PortOf(' in VBA          # the name the server accepts as Host


def test_every_button_names_an_operation_of_the_server_and_review_keys_it_reads():
    calls = pressed()
    assert set(calls) == set(addin.button_functions(VBA))
    ops = {sub: args[2] for sub, args in calls.items()}
    assert all(op in serve.TITLES for op in ops.values()), ops
    assert ops["ZG_Agree"] == ops["ZG_Return"] == "review"
    assert calls["ZG_Agree"][-1] == "agree" and calls["ZG_Return"][-1] == "return"
    keys = set(re.findall(r'""(\w+)""', VBA)) - {"port"}
    assert keys == {"conclusion", "opinion", "targets", "sheet", "rows"}


def test_requests_built_as_the_vba_builds_them_are_answered_by_a_real_server(workspace):
    s = workspace
    s = replace(s, review_required=True)
    service = Service(opener(s))
    with Server(service, port=0):
        state = (s.root / serve.STATE_FILE).read_text(encoding="utf-8")
        port = re.search(r'"port"\D*(\d+)', state)[1]            # what PortOf reads
        token = (s.root / serve.TOKEN_FILE).read_text(encoding="utf-8").splitlines()[0].strip()
        client = Client(int(port), token)
        vba_headers = {const("TOKEN_HEADER"): token, "Accept": "text/plain", "Content-Type": "application/json"}
        assert client.get("/api/status", headers=vba_headers)[0] == 200
        hand_in(s, "办公室", {"ZG-001": {vocab.STATUS: vocab.DONE}})
        for args in pressed().values():
            if args[2] == "review":
                continue
            code, body, headers = client.post(args[2], {}, headers=vba_headers)
            assert code == 200 and headers["Content-Type"].startswith("text/plain"), (args, body)
        pending = [k for k, r in read_ledger(s.master, s).reviews.items() if r.state == vocab.REVIEW_PENDING]
        assert pending
        mid, unit = pending[0]
        body = {"conclusion": "agree", "opinion": "", "targets": [[mid, unit]]}
        code, text, _ = client.post("review", body, headers=vba_headers)
        assert code == 200, text
        assert read_ledger(s.master, s).reviews[(mid, unit)].state == vocab.CLOSED
        code, text, _ = client.post("review", {"conclusion": "return", "opinion": "x", "sheet": "说明", "rows": [3]},
                                    headers=vba_headers)
        assert code >= 400 and "销号审核" in text.decode()


def test_the_vba_json_escaping_keeps_every_character_ascii():
    """JsonText writes \\uXXXX for quotes, backslashes, control and non-ASCII characters: what json reads back."""
    import json
    body = re.search(r"Private Function JsonText.*?End Function", VBA, re.S)[0]
    assert "code < 32 Or code > 126 Or code = 34 Or code = 92" in body and '"\\u" & Right$("000" & Hex$(code), 4)' in body

    def json_text(s: str) -> str:        # the same rule, to show json reads it back exactly
        return '"' + "".join(f"\\u{ord(c):04X}" if ord(c) < 32 or ord(c) > 126 or c in '"\\' else c for c in s) + '"'
    for sample in ("请补充\"盖章\"扫描件\\n", "ZG-001", "第1号\t单位"):
        assert json.loads(json_text(sample)) == sample and json_text(sample).isascii()

