"""The add-in's entry point: a button runs only when the add-in was built for this toolkit version.

The checks on the active book itself (a saved ledger with a config) are `toolkit.excel.refusal`.
"""
from __future__ import annotations

from . import __version__, excel


def press(addin_version: str, button: str, *args: str):
    """Entry point of the add-in's buttons (macros/ZhenggaiButtons.bas): refuse an add-in built
    for another toolkit version, whose buttons may call functions this toolkit lacks, then run it
    (with the text the button asked for, if any)."""
    if addin_version != __version__ or button not in excel.__all__:
        excel.caller_book().app.alert(
            f"“整改台账”加载项的版本（{addin_version}）与本机工具包的版本（{__version__}）不一致。"
            f"请关闭 Excel，在命令行运行 python -m toolkit excel install 重新安装加载项，再打开 Excel 点按钮。",
            title="整改台账加载项版本不符")
        return None
    return getattr(excel, button)(*args)
