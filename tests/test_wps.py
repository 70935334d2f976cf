"""The WPS add-in, pressed in headless Chromium against a stand-in of WPS's JavaScript object model
(tests/wps_standin.js) and a real server on the demo workspace: the files change, the open ledger
is saved and closed before the request and opened again after, an absent service is said in
Chinese with how to start it; its ribbon is well-formed and every callback is defined; install
writes the token where only the add-in reads it and registers it in publish.xml beside others."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.browser import CHROMIUM
from tests.conftest import demo_with_review
from toolkit import vocab, wps
from toolkit.app import Workspace
from toolkit.errors import ToolkitError
from toolkit.io.ledger_file import read_ledger
from toolkit.serve import Server, Service, opener

STANDIN = Path(__file__).with_name("wps_standin.js").read_text(encoding="utf-8")
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="需要 Chromium（apt-get install chromium）")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo(tmp_path):
    return demo_with_review(tmp_path / "demo")


def open_addin(browser, folder: Path, master: Path | None) -> None:
    browser.call("Page.addScriptToEvaluateOnNewDocument", {"source": STANDIN})
    browser.open((folder / "index.html").as_uri())
    browser.wait_for("typeof window.ZG_Consolidate === 'function' && typeof window.__wpsOpen === 'function'")
    assert browser.js("OnAddinLoad({}) === true")
    if master is not None:
        browser.js(f"window.__wpsOpen({json.dumps(str(master))})")


def press(browser, function: str, op: str) -> str:
    browser.js(f"window.{function}()")
    return browser.wait_for(f"(document.body.dataset.last || '').startsWith('{op}:') && document.body.dataset.last")


def calls(browser) -> list[list]:
    return browser.js("window.__wps")


@needs_chromium
def test_a_wps_button_saves_and_closes_the_ledger_calls_the_service_and_opens_it_again(demo, tmp_path):
    from tests.cdp import Chromium
    s = demo
    service = Service(opener(s.root))
    with Server(service, port=0) as server, Chromium() as browser:
        installed = wps.install(s.root, dest=tmp_path / "jsaddons", port=server.port)
        open_addin(browser, installed.folder, s.master)
        before = sha(s.master)
        assert press(browser, "ZG_Consolidate", "consolidate") == "consolidate:ok"
        assert sha(s.master) != before
        assert len(list((s.path("output") / "2024-08" / "回执").glob("*.txt"))) == 30
        log = calls(browser)
        kinds = [c[0] if c[0] != "fetch" else f"{c[1]} {c[2].removeprefix(server.url[:-1])}" for c in log]
        save, close = kinds.index("Save"), kinds.index("Close")
        post, reopen = kinds.index("POST /api/consolidate"), kinds.index("Open")
        assert save < close < post < reopen, kinds
        assert log[reopen][1] == str(s.master) and log[close][2] is False
        report = next(c[1] for c in log if c[0] == "alert")
        assert report.startswith("汇总报送完成") and "收到30个文件，采纳27个" in report

        for function, op in (("ZG_Refresh", "refresh"), ("ZG_Highlight", "highlight"), ("ZG_Notices", "notices"),
                             ("ZG_Distribute", "distribute"), ("ZG_Remind", "remind")):
            assert press(browser, function, op) == f"{op}:ok"
        assert len(list((s.path("outbox") / "2024-08").glob("*.xlsx"))) == 33
        assert not browser.errors()
        assert all(u.startswith(("file:", server.url)) for u in browser.requests()), browser.requests()


@needs_chromium
def test_wps_review_buttons_take_the_selected_rows_of_the_review_sheet_into_the_master(demo, tmp_path):
    from tests.cdp import Chromium
    s = demo
    Workspace.open(s.root).consolidate()
    pending = [k for k, r in read_ledger(s.master, s).reviews.items() if r.state == vocab.REVIEW_PENDING]
    (agree_id, agree_unit), (back_id, back_unit) = pending[:2]
    service = Service(opener(s.root))
    with Server(service, port=0) as server, Chromium() as browser:
        installed = wps.install(s.root, dest=tmp_path / "jsaddons", port=server.port)
        open_addin(browser, installed.folder, s.master)
        cells = {"A3": agree_id, "B3": agree_unit, "A4": back_id, "B4": back_unit}
        browser.js(f"Object.assign(window.__wpsSetup, {{sheet: {{name: '销号审核', cells: {json.dumps(cells)}}}, row: 3, count: 1}})")
        assert press(browser, "ZG_Agree", "review") == "review:ok"
        assert read_ledger(s.master, s).reviews[(agree_id, agree_unit)].state == vocab.CLOSED
        browser.js("Object.assign(window.__wpsSetup, {row: 4, opinion: '请补充盖章扫描件'})")
        assert press(browser, "ZG_Return", "review") == "review:ok"
        returned = read_ledger(s.master, s).reviews[(back_id, back_unit)]
        assert (returned.state, returned.opinion) == (vocab.REVIEW_RETURNED, "请补充盖章扫描件")
        # a selection on 整改台账 names measures by their rows there
        measure = next(m for m in read_ledger(s.master, s).measures.values() if m.id == pending[2][0])
        browser.js(f"Object.assign(window.__wpsSetup, {{sheet: {{name: '整改台账', cells: {{}}}}, row: {measure.row}, count: 1}})")
        assert press(browser, "ZG_Agree", "review") == "review:ok"
        assert read_ledger(s.master, s).reviews[pending[2]].state == vocab.CLOSED
        assert not browser.errors()


@needs_chromium
def test_without_the_service_the_wps_add_in_says_so_in_chinese_and_leaves_the_ledger_open(demo, tmp_path):
    from tests.cdp import Chromium
    s = demo
    with Chromium() as browser:
        installed = wps.install(s.root, dest=tmp_path / "jsaddons", port=free_port())
        open_addin(browser, installed.folder, s.master)
        assert press(browser, "ZG_Consolidate", "consolidate") == "consolidate:offline"
        log = calls(browser)
        text = next(c[1] for c in log if c[0] == "alert")
        assert "整改台账服务没有运行" in text and f"python -m toolkit serve -c {s.root}" in text and "--install" in text
        assert not [c for c in log if c[0] in ("Save", "Close", "Open")]


@needs_chromium
def test_a_wps_button_refused_for_the_machines_trouble_says_what_to_do_under_the_message(demo, tmp_path):
    """The run lock held (family environment): the alert is the message and, under it, the guidance, as the
    service's text answer and the Excel button give them."""
    from dataclasses import replace

    from tests.cdp import Chromium
    from toolkit.guards import LOCK_NAME, RunLock
    from toolkit.words import ENVIRONMENT, GUIDANCE
    s = replace(demo, lock_wait_seconds=0.5)
    with Server(Service(opener(s)), port=0) as server, Chromium() as browser, RunLock(s.root / LOCK_NAME):
        installed = wps.install(s.root, dest=tmp_path / "jsaddons", port=server.port)
        open_addin(browser, installed.folder, s.master)
        assert press(browser, "ZG_Refresh", "refresh") == "refresh:failed"
        text = next(c[1] for c in calls(browser) if c[0] == "alert")
        assert text.startswith("刷新统计未完成")
        assert text.rstrip().endswith(GUIDANCE[ENVIRONMENT]) and "另一个操作" in text


@needs_chromium
def test_the_console_button_opens_the_services_page_in_a_task_pane(demo, tmp_path):
    from tests.cdp import Chromium
    with Chromium() as browser:
        installed = wps.install(demo.root, dest=tmp_path / "jsaddons", port=8765)
        open_addin(browser, installed.folder, None)
        browser.js("window.ZG_Console()")
        assert ["CreateTaskPane", "http://127.0.0.1:8765/"] in calls(browser)


def test_the_ribbon_is_well_formed_and_every_callback_is_a_function_of_the_add_in(tmp_path):
    folder = wps.build(tmp_path)
    root = ET.parse(folder / "ribbon.xml").getroot()
    buttons = {el.get("label") for el in root.iter("{http://schemas.microsoft.com/office/2006/01/customui}button")}
    assert buttons >= {"汇总报送", "刷新统计", "标记逾期", "生成通报", "分发模板", "催报", "同意销号", "退回补充"}
    assert set(wps.check_sources()) >= {"OnAddinLoad", "ZG_Consolidate", "ZG_Return", "ZG_Console"}
    broken = tmp_path / "broken"
    (broken / "js").mkdir(parents=True)
    (broken / "js" / "ribbon.js").write_text((wps.SOURCES / "js" / "ribbon.js").read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "ribbon.xml").write_text((wps.SOURCES / "ribbon.xml").read_text(encoding="utf-8")
                                       .replace('onAction="ZG_Remind"', 'onAction="ZG_Nothing"'), encoding="utf-8")
    with pytest.raises(ToolkitError, match="ZG_Nothing"):
        wps.check_sources(broken)
    (broken / "ribbon.xml").write_text("<customUI><ribbon>", encoding="utf-8")
    with pytest.raises(ToolkitError, match="ribbon.xml 有误"):
        wps.check_sources(broken)


def test_the_add_in_has_wpsjs_s_manifest_and_a_ribbon_that_starts_with_custom_ui(tmp_path):
    """As wpsjs's templates ship them: manifest.xml <JsPlugin> naming the add-in; ribbon.xml opening with
    <customUI (WPS's publish page refuses an XML declaration in front)."""
    folder = wps.build(tmp_path)
    manifest = ET.parse(folder / "manifest.xml").getroot()
    assert manifest.tag == "JsPlugin" and manifest.findtext("Name") == "zhenggai" and manifest.findtext("ApiVersion")
    assert (folder / "ribbon.xml").read_text(encoding="utf-8").startswith("<customUI ")
    broken = tmp_path / "broken"
    shutil.copytree(wps.SOURCES, broken)
    (broken / "ribbon.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                       + (wps.SOURCES / "ribbon.xml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ToolkitError, match="<customUI 开头"):
        wps.check_sources(broken)
    shutil.copytree(wps.SOURCES, tmp_path / "unnamed")
    (tmp_path / "unnamed" / "manifest.xml").write_text("<JsPlugin><Name>other</Name></JsPlugin>", encoding="utf-8")
    with pytest.raises(ToolkitError, match="manifest.xml"):
        wps.check_sources(tmp_path / "unnamed")


def test_install_writes_the_token_for_this_user_only_and_keeps_other_add_ins_in_publish_xml(demo, tmp_path):
    jsaddons = tmp_path / "jsaddons"
    jsaddons.mkdir()
    (jsaddons / "publish.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<jsplugins>'
                                          '<jspluginonline name="other" type="wps" url="http://127.0.0.1:3889/"/>'
                                          '</jsplugins>', encoding="utf-8")
    (jsaddons / "zhenggai_0.0.1").mkdir()          # an older version goes
    done = wps.install(demo.root, dest=jsaddons)
    token = (demo.root / ".zhenggai" / "serve.token").read_text(encoding="utf-8").strip()
    config = (done.folder / "config.js").read_text(encoding="utf-8")
    assert token in config and '"port": 8765' in config
    if os.name == "posix":
        assert (done.folder / "config.js").stat().st_mode & 0o077 == 0
    assert token not in (wps.build(tmp_path / "plain") / "config.js").read_text(encoding="utf-8")
    entries = {el.get("name"): el.attrib for el in ET.parse(jsaddons / "publish.xml").getroot()}
    assert entries["other"]["url"] == "http://127.0.0.1:3889/"
    # the offline form wpsjs's build writes: the folder jsaddons/<name>_<version>/ named by its name alone
    assert done.folder.parent == jsaddons and done.folder.name == f"zhenggai_{entries['zhenggai']['version']}"
    assert {k: entries["zhenggai"][k] for k in ("type", "url", "enable", "install", "customDomain")} == \
        {"type": "et", "url": done.folder.name, "enable": "enable_dev", "install": "null", "customDomain": ""}
    assert not (jsaddons / "zhenggai_0.0.1").exists()
    wps.install(demo.root, dest=jsaddons)
    assert [el.get("name") for el in ET.parse(jsaddons / "publish.xml").getroot()].count("zhenggai") == 1
    wps.uninstall(jsaddons)
    assert [el.get("name") for el in ET.parse(jsaddons / "publish.xml").getroot()] == ["other"]
    assert not list(jsaddons.glob("zhenggai_*"))


def test_the_default_jsaddons_folders_are_wps_per_user_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert wps.jsaddons_dir(windows=True) == tmp_path / "Roaming" / "kingsoft" / "wps" / "jsaddons"
    assert wps.jsaddons_dir(windows=False) == tmp_path / "home" / ".local" / "share" / "Kingsoft" / "wps" / "jsaddons"
