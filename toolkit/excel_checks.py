"""What a ribbon button checks before it touches anything: is the active book a saved ledger with a config.

Each failed check is one Chinese sentence saying what to do; toolkit.excel shows it in a message
box instead of letting an exception reach xlwings (which would show the user a traceback).
"""
from __future__ import annotations

from pathlib import Path

from . import vocab
from .errors import ToolkitError


def _sheet_names(book) -> list[str]:
    return [s.name for s in book.sheets]


def refusal(book) -> str | None:
    """Why a button must not run on this book (not a ledger, unsaved, no config.toml), or None."""
    if vocab.SHEET_LEDGER not in _sheet_names(book):
        ledgers = [b.name for b in book.app.books if b is not book and vocab.SHEET_LEDGER in _sheet_names(b)]
        if ledgers:
            return (f"当前活动的工作簿“{book.name}”不是整改台账。请先切换到已打开的台账“{ledgers[0]}”"
                    f"（视图 → 切换窗口），再点按钮。")
        return (f"当前活动的工作簿“{book.name}”不是整改台账（没有“{vocab.SHEET_LEDGER}”工作表）。"
                f"请先打开工作文件夹 master 中的台账，并切换到它，再点按钮。")
    path = Path(book.fullname)
    if not path.is_absolute() or not path.exists():
        return (f"台账“{book.name}”尚未保存到本机文件夹（或在 OneDrive/SharePoint 网址上）。"
                f"请先把它保存到工作文件夹的 master 文件夹中，再点按钮。")
    from .excel import workspace_for     # the same search the buttons use
    try:
        workspace_for(book)
    except ToolkitError as exc:
        return str(exc)
    return None


def press(addin_version: str, button: str, *args: str):
    """Entry point of the add-in's buttons (macros/ZhenggaiButtons.bas): refuse an add-in built
    for another toolkit version, whose buttons may call functions this toolkit lacks, then run it
    (with the text the button asked for, if any)."""
    from . import __version__, excel
    if addin_version != __version__ or button not in excel.__all__:
        excel.caller_book().app.alert(
            f"“整改台账”加载项的版本（{addin_version}）与本机工具包的版本（{__version__}）不一致。"
            f"请关闭 Excel，在命令行运行 python -m toolkit excel install 重新安装加载项，再打开 Excel 点按钮。",
            title="整改台账加载项版本不符")
        return None
    return getattr(excel, button)(*args)
