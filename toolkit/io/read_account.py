"""The read account in words: the one place that renders where each cell and sheet of an office's ledger went.

ledger_file records typed entries (model.CellUse / SheetUse: a kind code, the place, parameters);
`check` prints lines(), the run report carries summary() and the notes saying how a colliding
office column was kept.
"""
from __future__ import annotations

from .. import vocab
from ..model import CellUse, ReadAccount, SheetUse
from .sheets import cell_name, col_letter

# ---- cells kept as office columns (written back verbatim under their own header) ----
KEPT_OFFICE = "office-column"        # (header,)
KEPT_ALIAS = "alias-of-field"        # (header, field, cell of the field's header): also a word for a field we read elsewhere
KEPT_OURS = "name-of-computed"       # (header,): the name of a column the toolkit computes
KEPT_BLANK = "blank-header"          # ()
KEPT_SAME = "same-name"              # (header, cell of the first column of that name)
KEPT_ROW_NUMBER = "row-number"       # (header,): 序号 beside 编号
# ---- cells not used ----
UNUSED_ABOVE = "above-header"        # (text,): text above the header other than the title
UNUSED_COMPUTED = "computed"         # (header,): our helper columns, recomputed on every write
UNUSED_PROBLEM_ROW = "problem-row"   # (): a row left out because it has a problem to fix (check only)
UNUSED_DUPLICATE = "duplicate-field"  # (field, cell of the column read): a second column of one field (check only)
# ---- sheets ----
SHEET_READ = "read"                  # (measures, header row)
SHEET_OURS = "ours"                  # (): one of the toolkit's own sheets, read as its records
SHEET_KEPT = "office-sheet"          # (): an office sheet, kept as values
SHEET_KEPT_HIDDEN = "office-sheet-hidden"   # (): likewise, and kept hidden
SHEET_HIDDEN_LEDGER = "hidden-ledger"       # (header row,): a hidden sheet with the ledger header, not read
SHEET_HIDDEN_READ = "hidden-read"    # (): a hidden ledger sheet read because no visible sheet has the header
SHEET_PARTIAL = "partial-header"     # (header row, missing columns joined by 、): looks like a ledger, not read

ROUTINE = {UNUSED_COMPUTED}          # not worth a line in every run report


def cells(use: CellUse) -> str:
    """The cells of a record as ranges: 整改台账 R3:R265、R270."""
    runs: list[list[int]] = []
    for r in sorted(use.rows):
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    col = col_letter(use.column)
    refs = [f"{col}{a}" if a == b else f"{col}{a}:{col}{b}" for a, b in runs]
    shown = "、".join(refs[:6]) + ("等" if len(refs) > 6 else "")
    return f"“{use.sheet}”{shown}"


def header_of(use: CellUse) -> str:
    return use.params[0] if use.params and use.kind != KEPT_BLANK else f"{col_letter(use.column)}列（无表头）"


def kept_text(use: CellUse) -> str:
    """What an office column is and how it is kept."""
    where, p = cells(use), use.params
    if use.kind == KEPT_ALIAS:
        return (f"{where}“{p[0]}”：这个列名也是“{p[1]}”的常见写法，但“{p[1]}”已从{p[2]}列读入，"
                f"所以“{p[0]}”按办公室自己的列原样保留（不计入统计），写回时表头不变")
    if use.kind == KEPT_OURS:
        return (f"{where}“{p[0]}”：与程序计算的“{p[0]}”列同名，按办公室自己的列原样保留（放在台账数据列之后），"
                f"程序计算的“{p[0]}”另写在最右侧的辅助列")
    if use.kind == KEPT_BLANK:
        return f"{where}：这一列没有表头，按办公室自己的列原样保留（写回时表头仍为空）"
    if use.kind == KEPT_SAME:
        return f"{where}“{p[0]}”：与{p[1]}列同名，两列都按办公室自己的列原样保留，写回时表头不变、顺序不变"
    if use.kind == KEPT_ROW_NUMBER:
        return f"{where}“{p[0]}”：已有“{vocab.ID}”列，序号按办公室自己的列原样保留"
    return f"{where}“{p[0]}”：办公室自己的列，原样保留"


def unused_text(use: CellUse) -> str:
    """Why cells were not used."""
    where, p = cells(use), use.params
    if use.kind == UNUSED_ABOVE:
        return f"{where}“{p[0][:30]}”：表头上方的说明文字，不计入统计（标题取表头上方的第一处文字），重写台账时不保留"
    if use.kind == UNUSED_COMPUTED:
        return f"{where}“{p[0]}”：程序计算的辅助列，每次写台账时重新计算"
    if use.kind == UNUSED_PROBLEM_ROW:
        return f"{where}：所在行有须改正的问题（见“需要注意的地方”），未读入"
    if use.kind == UNUSED_DUPLICATE:
        return f"{where}：与{p[1]}列都是“{p[0]}”，未读入（须先删除或改名其中一列）"
    return f"{where}：未使用（{use.kind}）"


def sheet_text(use: SheetUse) -> str:
    p = use.params
    if use.kind == SHEET_READ:
        return f"“{use.sheet}”：已读入（表头在第{p[1]}行，整改措施{p[0]}条）"
    if use.kind == SHEET_OURS:
        return f"“{use.sheet}”：程序自己的工作表，按其记录读入"
    if use.kind == SHEET_KEPT:
        return f"“{use.sheet}”：办公室自己的工作表，不读入统计，写回时按值原样保留"
    if use.kind == SHEET_KEPT_HIDDEN:
        return f"“{use.sheet}”：办公室自己的隐藏工作表，不读入统计，写回时按值保留并仍然隐藏"
    if use.kind == SHEET_HIDDEN_LEDGER:
        return (f"“{use.sheet}”：隐藏的工作表，第{p[0]}行也是台账表头，未读入（只读可见的台账工作表）；"
                f"如它是台账的一部分，请取消隐藏后重新运行；如是旧副本，可删除")
    if use.kind == SHEET_HIDDEN_READ:
        return f"“{use.sheet}”：隐藏的工作表，因没有可见的台账工作表而读入"
    if use.kind == SHEET_PARTIAL:
        return (f"“{use.sheet}”：第{p[0]}行像台账表头但缺少列{p[1]}，未读入；"
                f"如它是台账的一部分，请补上这些列（列名同“{vocab.SHEET_LEDGER}”表）后重新运行")
    return f"“{use.sheet}”：{use.kind}"


def lines(account: ReadAccount) -> list[str]:
    """The whole account, for `check`: the sheets, then cells read / kept / not used, each not-used one by cell."""
    out = ["  工作表：" + ("；".join(sheet_text(s) for s in account.sheets) or "无")]
    out.append(f"  读入字段：{account.read}格（表头、标题与各字段的单元格）")
    out.append(f"  办公室自己的列：{account.kept_cells}格" + ("（原样写回）：" if account.kept else ""))
    out += [f"    - {kept_text(u)}" for u in account.kept]
    out.append(f"  未使用：{account.unused_cells}格" + ("：" if account.unused else ""))
    out += [f"    - {unused_text(u)}" for u in account.unused]
    return out


def summary(account: ReadAccount) -> str:
    """One line for the run report: the counts, the office columns kept and the cells and sheets not used."""
    parts = [f"读取清点：读入字段{account.read}格，办公室自己的列{account.kept_cells}格（原样保留），"
             f"未使用{account.unused_cells}格"]
    notable = [u for u in account.unused if u.kind not in ROUTINE]
    if notable:
        parts.append("未使用的有：" + "；".join(unused_text(u) for u in notable[:5])
                     + (f"等{len(notable)}处" if len(notable) > 5 else ""))
    sheets = [s for s in account.sheets if s.kind in (SHEET_HIDDEN_LEDGER, SHEET_PARTIAL)]
    if sheets:
        parts.append("；".join(sheet_text(s) for s in sheets))
    return "。".join(parts) + "。"


def notable(account: ReadAccount) -> bool:
    """Whether the account says more than a master the toolkit wrote itself (worth a line in the run report)."""
    return bool(account.kept or any(u.kind not in ROUTINE for u in account.unused)
                or any(s.kind in (SHEET_HIDDEN_LEDGER, SHEET_PARTIAL) for s in account.sheets))


def collision_notes(account: ReadAccount) -> list[str]:
    """For the run report: each office column whose name collides with ours, and how it was kept."""
    return [kept_text(u) + "。" for u in account.kept if u.kind in (KEPT_ALIAS, KEPT_OURS, KEPT_BLANK, KEPT_SAME)]


def first_cell(sheet: str, row: int, column: int) -> str:
    return f"“{sheet}”{cell_name(row, column)}"
