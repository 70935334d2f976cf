"""Which built-in profile reads a ledger the current one cannot, and how its columns map — said by `check`.

An audit office that runs `check` on its own ledger under the default profile learns which profile
reads it (审计项目→主题, 问题类别→重点问题 …) and the one line of config.toml to write, instead of only
the columns the 巡视 ledger would have. Nothing is put in force: each profile's words are tried on the
file's header rows (rules.header_fit) and the best fit is named.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import profiles
from .io.ledger_file import OWN_SHEETS
from .rules.header_fit import SCAN_ROWS, HeaderFit, fit
from .rules.lexicon import Lexicon


@dataclass(frozen=True)
class ProfileFit:
    """One profile's best header on one sheet of the file."""
    profile: str
    sheet: str
    header: HeaderFit


def sheet_rows(path: Path) -> dict[str, list[list]]:
    """The first rows of each sheet that may hold the ledger ({} when the file is no readable workbook)."""
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)[:SCAN_ROWS]
                for name in wb.sheet_names if name not in OWN_SHEETS}
    except Exception:          # not a workbook, encrypted, a folder: check already says so
        return {}


def best_fit(rows: dict[str, list[list]], name: str, lexicon: Lexicon) -> ProfileFit:
    """The sheet whose header a profile fits best (the first sheet on a tie)."""
    fits = [ProfileFit(name, sheet, fit(r, lexicon)) for sheet, r in rows.items()]
    return max(fits, key=lambda f: f.header.score, default=ProfileFit(name, "", fit([], lexicon)))


def fits(rows: dict[str, list[list]], current: str, lexicon: Lexicon) -> tuple[ProfileFit, list[ProfileFit]]:
    """(the current profile's fit, every other built-in profile's, best first)."""
    others = [best_fit(rows, n, profiles.load(n).lexicon) for n in profiles.builtin_names() if n != current]
    return best_fit(rows, current, lexicon), sorted(others, key=lambda f: f.header.score, reverse=True)


def _where(f: ProfileFit) -> str:
    return f"工作表“{f.sheet}”第{f.header.row}行表头"


def _default_text(spec: str) -> str:
    """How a profile fills an absent hierarchy column: "@来源|督办事项" → 取“来源”列，为空时为“督办事项”."""
    if not spec.startswith("@"):
        return f"为“{spec}”"
    source, _, fallback = spec[1:].partition("|")
    return f"取“{source}”列" + (f"，为空时为“{fallback}”" if fallback else "")


def mapping_text(f: ProfileFit, lexicon: Lexicon) -> str:
    """审计项目→主题，问题类别→重点问题 …, then the columns read under their own name and those filled by default."""
    renamed = [f"{typed}→{column}" for typed, column in f.header.mapped if typed != column]
    same = [column for typed, column in f.header.mapped if typed == column]
    parts = ["，".join(renamed)] if renamed else []
    if same:
        parts.append(f"列名相同的 {'、'.join(same)}")
    if f.header.defaulted:
        parts.append("没有的层级列按方案取值：" + "，".join(f"{c}{_default_text(lexicon.defaults[c])}"
                                                  for c in f.header.defaulted))
    return "；".join(parts)


def advice(path: Path, current: str, lexicon: Lexicon, config_file: Path | None) -> list[str]:
    """Lines for `check` when the ledger can't be read under the current profile: which profile reads it,
    how the columns map and what to write; or that none does. [] when the current profile reads it."""
    rows = sheet_rows(Path(path))
    if not rows:
        return []
    mine, others = fits(rows, current, lexicon)
    if mine.header.readable:
        return []
    out = [f"按当前方案“{current}”读不出：" + (f"{_where(mine)}缺少列 {'、'.join(mine.header.missing)}。"
                                           if mine.header.row else f"前{SCAN_ROWS}行中找不到表头。")]
    readable = [f for f in others if f.header.readable]
    if readable:
        best = readable[0]
        out.append(f"按方案“{best.profile}”可读（{_where(best)}）："
                   f"{mapping_text(best, profiles.load(best.profile).lexicon)}。")
        if len(readable) > 1:
            out.append(f"按方案{''.join(f'“{f.profile}”' for f in readable[1:])}也可读，列对应不同，请按台账的用途选择。")
        if config_file:
            out.append(f"如确是{profiles.load(best.profile).description}，在 {config_file} 中写 "
                       f"profile = \"{best.profile}\"，再运行 check。")
        else:
            out.append(f"如确是{profiles.load(best.profile).description}，用 python -m toolkit init --profile "
                       f"{best.profile} 文件夹 建立工作区（已有工作区的，在其 config.toml 中写 profile = \"{best.profile}\"），"
                       f"把本台账复制为 文件夹/master/整改台账.xlsx 后再运行 check -c 文件夹。")
        return out
    near = next((f for f in others if f.header.row), None)
    if near is None:
        out.append(f"按内置的{len(others)}种其他配置方案也都在前{SCAN_ROWS}行中找不到表头：请确认这是整改台账，表头行写有"
                   f"编号、整改措施、牵头单位、完成时限、完成情况等列。")
    else:
        out.append(f"按内置的{len(others)}种其他配置方案也都读不出；最接近的是方案“{near.profile}”"
                   f"（{_where(near)}缺少列 {'、'.join(near.header.missing)}）。请把这些列的列名改为该方案认得的写法，"
                   f"或复制 toolkit/profiles/{near.profile}.toml 为本单位方案，在其 [headers] 中写上本台账的列名，"
                   f"再在 config.toml 中写 profile = \"本单位方案.toml\"。")
    return out
