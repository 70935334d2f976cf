"""Manual smoke test on Windows with Excel: drive the real ribbon macros through xlwings.

Not collected by pytest (Excel does not run on Linux). On a Windows machine with Excel,
Python, this package (pip install -e .[excel]) and the xlwings add-in (xlwings addin install):

    python -m toolkit demo                       # makes workbooks/demo-run with a master and an inbox
    python -m toolkit excel build                # makes workbooks/addin/整改台账.xlam
    python tests/manual/smoke_excel.py

It opens the add-in and the demo master in a visible Excel, clicks each button's macro in turn
(汇总报送, 刷新统计, 标记逾期, 生成通报, 分发模板) and checks what each should have left behind.
Close the message box after each step; the script prints PASS/FAIL per button.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    import xlwings as xw
    from toolkit import demo, vocab
    from toolkit.ledger import read_ledger

    run = ROOT / "workbooks" / "smoke-run"
    settings = demo.stage_demo(run)
    addin = ROOT / "workbooks" / "addin" / "整改台账.xlam"
    if not addin.exists():
        print("先运行 python -m toolkit excel build")
        return 2
    app = xw.App(visible=True)
    results = []
    try:
        app.books.open(str(addin))
        book = app.books.open(str(settings.master))
        book.activate()

        def click(sub: str) -> None:
            app.macro(f"'{addin.name}'!{sub}")(None)   # the ribbon passes an IRibbonControl; None stands in

        inbox_before = len(list(settings.path("inbox").iterdir()))
        click("ZG_Consolidate")
        after = read_ledger(settings.master)
        results.append(("汇总报送", inbox_before > 0 and not list(settings.path("inbox").iterdir())
                        and any(r[6] == vocab.OUTCOME_ACCEPTED for r in after.log)))
        click("ZG_Refresh")
        results.append(("刷新统计", book.sheets[vocab.SHEET_STATS].range("A1").value is not None))
        click("ZG_Highlight")
        results.append(("标记逾期", book.sheets[vocab.SHEET_OVERDUE].range("A3").value is not None))
        click("ZG_Notices")
        results.append(("生成通报", any(settings.path("output").rglob("进展通报.docx"))))
        click("ZG_Distribute")
        results.append(("分发模板", len(list((settings.path("outbox") / settings.current_period()).glob("*.xlsx"))) == 33))
    finally:
        app.quit()
        shutil.rmtree(run, ignore_errors=True) if "--clean" in sys.argv else None
    for name, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if results and all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
