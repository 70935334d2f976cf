"""Manual smoke test on Windows with Excel: drive the real ribbon macros through xlwings.

Not collected by pytest (Excel does not run on Linux; elsewhere it says so and exits). On a
Windows machine with Excel, Python, this package (pip install -e .[excel]) and the xlwings
add-in (xlwings addin install):

    python -m toolkit excel build                # makes workbooks/addin/整改台账.xlam
    python tests/manual/smoke_excel.py           # add --clean to remove workbooks/smoke-run afterwards

It stages the demo in workbooks/smoke-run, opens the add-in and the demo master in a visible Excel
and clicks each button's macro in turn (汇总报送, 刷新统计, 标记逾期, 生成通报, 分发模板, 催报),
checking what each should have left behind. Then it clicks every button in each failure situation
of issue 17 (another workbook active, no workbook open, the ledger unsaved, an add-in built for
another version) and prints a button × situation table: each must show its Chinese message box and
change nothing. Message boxes are read and closed by a watcher thread (pywin32, which xlwings brings).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# failure situation → words its message box must contain (VBA: ZhenggaiChecks.Preflight; Python: excel_checks)
SITUATIONS = {
    "别的工作簿": "不是整改台账",
    "没有工作簿": "没有打开的工作簿",
    "台账未保存": "尚未保存",
    "版本不符": "版本",
}


@dataclass
class Click:
    """One button clicked in one situation: the message boxes it showed and whether files changed."""
    button: str
    situation: str
    messages: list[str]
    changed: bool = False

    @property
    def problem(self) -> str:
        """Why this click failed the smoke test ('' when it passed)."""
        text = "\n".join(self.messages)
        if self.changed:
            return "改动了台账或输出文件"
        if not self.messages:
            return "没有提示框"
        if "Traceback" in text or "Error" in text:
            return "出现 Python 错误信息"
        if SITUATIONS[self.situation] not in text:
            return f"提示中没有“{SITUATIONS[self.situation]}”：{text[:40]}"
        return ""


def table(clicks: list[Click]) -> str:
    """The button × situation table, one line per button (通过 or 失败 and why), then a tally."""
    situations = [s for s in SITUATIONS if any(c.situation == s for c in clicks)]
    buttons = list(dict.fromkeys(c.button for c in clicks))
    cell = {(c.button, c.situation): ("通过" if not c.problem else f"失败（{c.problem}）") for c in clicks}
    lines = ["| 按钮 | " + " | ".join(situations) + " |", "|---" * (len(situations) + 1) + "|"]
    lines += ["| " + " | ".join([b] + [cell.get((b, s), "未运行") for s in situations]) + " |" for b in buttons]
    failed = sum(bool(c.problem) for c in clicks)
    lines.append(f"共{len(clicks)}次点击，通过{len(clicks) - failed}次，失败{failed}次。")
    return "\n".join(lines)


def buttons(macros: Path | None = None) -> list[tuple[str, str]]:
    """(label, VBA sub) of every ribbon button, in ribbon order."""
    from toolkit import addin
    tree = ET.parse((macros or addin.MACROS) / "customUI.xml")
    return [(el.get("label"), el.get("onAction")) for el in tree.iter() if el.get("onAction")]


# ---------------------------------------------------------------- Windows only from here

class DialogWatcher:
    """Reads and closes the message boxes Excel (VBA MsgBox) or RunPython's Python (app.alert) shows."""

    def __init__(self, app):
        self.hwnd, self.pid = app.hwnd, app.pid
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "DialogWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        import win32con
        import win32gui
        import win32process

        def texts(hwnd) -> list[str]:
            out = [win32gui.GetWindowText(hwnd)]
            win32gui.EnumChildWindows(hwnd, lambda h, acc: acc.append(win32gui.GetWindowText(h)) or True, out)
            return [t for t in out if t and t not in ("确定", "OK")]

        def visit(hwnd, _):
            if win32gui.GetClassName(hwnd) == "#32770" and win32gui.IsWindowVisible(hwnd):
                owner = win32gui.GetWindow(hwnd, win32con.GW_OWNER)
                if owner == self.hwnd or win32process.GetWindowThreadProcessId(hwnd)[1] == self.pid:
                    self.seen.append("\n".join(texts(hwnd)))
                    win32gui.PostMessage(hwnd, win32con.WM_CLOSE, 0, 0)
            return True
        while not self._stop.is_set():
            win32gui.EnumWindows(visit, None)
            time.sleep(0.2)


def snapshot(settings) -> dict[str, tuple[int, int]]:
    """Every file of the workspace except Excel's owner markers: name → (size, mtime)."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in settings.root.rglob("*")
            if p.is_file() and not p.name.startswith(("~$", ".~")) and "logs" not in p.parts}


def click(app, addin: Path, sub: str) -> list[str]:
    """Run one ribbon sub (None stands in for the IRibbonControl) and return the message boxes it showed."""
    with DialogWatcher(app) as watcher:
        app.macro(f"'{addin.name}'!{sub}")(None)
    return watcher.seen


def stale_addin(folder: Path) -> Path:
    """The add-in as built for another toolkit version (what an upgrade without reinstall leaves)."""
    import toolkit
    from toolkit import addin
    real, toolkit.__version__ = toolkit.__version__, "0.0.0-smoke"
    try:
        built = next(p for p in addin.build(folder) if p.suffix == ".xlam")
    finally:
        toolkit.__version__ = real
    return Path(shutil.copy(built, folder / "整改台账-旧版本.xlam"))


def happy_path(app, addin: Path, settings, book) -> list[tuple[str, bool]]:
    """Each button once on the demo master, checked by what it leaves behind."""
    from toolkit import vocab
    from toolkit.io.ledger_file import read_ledger
    results = []
    inbox_before = len(list(settings.path("inbox").iterdir()))
    click(app, addin, "ZG_Consolidate")
    after = read_ledger(settings.master)
    results.append(("汇总报送", inbox_before > 0 and not list(settings.path("inbox").iterdir())
                    and any(r[6] == vocab.OUTCOME_ACCEPTED for r in after.log)))
    click(app, addin, "ZG_Refresh")
    results.append(("刷新统计", book.sheets[vocab.SHEET_STATS].range("A1").value is not None))
    click(app, addin, "ZG_Highlight")
    results.append(("标记逾期", book.sheets[vocab.SHEET_OVERDUE].range("A3").value is not None))
    click(app, addin, "ZG_Notices")
    results.append(("生成通报", any(settings.path("output").rglob("进展通报.docx"))))
    click(app, addin, "ZG_Distribute")
    results.append(("分发模板", len(list((settings.path("outbox") / settings.current_period()).glob("*.xlsx"))) == 33))
    said = click(app, addin, "ZG_Remind")
    results.append(("催报", any("催报" in m for m in said)))
    return results


def failure_clicks(app, addin: Path, settings, scratch: Path) -> list[Click]:
    """Every button in every failure situation; the master is saved and closed between situations."""
    from toolkit import vocab
    old = stale_addin(scratch)
    app.books.open(str(old))
    out = []

    def run(situation: str, via: Path = addin) -> None:
        for label, sub in buttons():
            before = snapshot(settings)
            said = click(app, via, sub)
            out.append(Click(label, situation, said, snapshot(settings) != before))

    ledger = app.books.open(str(settings.master))
    other = app.books.add()
    other.save(str(scratch / "报表.xlsx"))
    other.activate()
    run("别的工作簿")
    other.close()
    ledger.close()
    run("没有工作簿")                                   # only the add-ins are open: no ActiveWorkbook
    ledger = app.books.open(str(settings.master))
    unsaved = app.books.add()
    ledger.sheets[vocab.SHEET_LEDGER].copy(before=unsaved.sheets[0])
    unsaved.activate()
    run("台账未保存")
    unsaved.close()
    ledger.activate()
    run("版本不符", via=old)
    ledger.close()
    return out


def main() -> int:
    if not sys.platform.startswith("win"):
        print("本冒烟测试需要 Windows 和 Excel（通过 xlwings 点击真实的功能区宏）；当前系统不是 Windows，未运行。")
        return 0
    import xlwings as xw

    from toolkit import demo
    addin = ROOT / "workbooks" / "addin" / "整改台账.xlam"
    if not addin.exists():
        print("先运行 python -m toolkit excel build")
        return 2
    run_dir = ROOT / "workbooks" / "smoke-run"
    settings = demo.stage_demo(run_dir)
    app = xw.App(visible=True)
    app.display_alerts = False                    # closing the scratch books asks nothing
    try:
        with tempfile.TemporaryDirectory(prefix="zg-smoke-") as scratch:
            app.books.open(str(addin))
            book = app.books.open(str(settings.master))
            book.activate()
            results = happy_path(app, addin, settings, book)
            book.save()
            book.close()
            clicks = failure_clicks(app, addin, settings, Path(scratch))
    finally:
        app.quit()
        if "--clean" in sys.argv:
            shutil.rmtree(run_dir, ignore_errors=True)
    for name, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    print()
    print(table(clicks))
    ok = all(ok for _, ok in results) and not any(c.problem for c in clicks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
