"""Headless Chromium with the network cut off: open a page, read the DOM after its scripts ran,
collect console messages and every request the page tried to send (from Chromium's net log)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


@dataclass
class Visit:
    dom: str
    console: list[str]      # console messages and uncaught errors the page produced
    requests: list[str]     # addresses the page itself asked for (file: excepted)


def _page_requests(net_log: Path) -> list[str]:
    """URLs of requests started on behalf of a file:// page (Chromium's own update pings are not the page's)."""
    text = net_log.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    try:
        data = json.loads(text)
    except ValueError:                       # a log cut short: close the events array
        data = json.loads(text + "]}")
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for e in data.get("events", []):
        p = e.get("params", {})
        if e.get("type") == start and "file://" in str(p.get("network_isolation_key", "")) \
                and not str(p.get("url", "")).startswith(("file:", "data:", "blob:", "about:")):
            out.append(p["url"])
    return out


def visit(url: str, budget_ms: int | None = 3000, screenshot: Path | None = None, size: str = "1280,2400") -> Visit:
    """Open url offline, let scripts run for budget_ms of virtual time (None: real time, until the
    load event), return DOM, console and requests."""
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "net.json"
        args = [CHROMIUM, *OFFLINE, f"--user-data-dir={tmp}/profile", f"--log-net-log={net}", f"--window-size={size}"]
        args += [f"--virtual-time-budget={budget_ms}"] if budget_ms else []
        args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        proc = subprocess.run(args + [url], capture_output=True, text=True, timeout=180)
        console = [line for line in proc.stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]
        return Visit(proc.stdout, console, _page_requests(net) if net.exists() else [])
