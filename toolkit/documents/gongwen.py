"""Notices as 公文 laid out per GB/T 9704-2012, from our Markdown, as a hand-built .docx package.

Markdown conventions: '# ' title (the first is the document's; after an 附件N line, that
attachment's), '## ' / '### ' headings, the first short line ending in '：' (before any body
text) the unindented 主送 (a slip's addressee), '|' rows a table (first row the header), '![说明](file.png)' a picture,
'附件：1.名称' with following '2.名称' lines the attachment list, '---' then two lines the 署名
and 成文日期, a line '附件1' alone starts that attachment on a new page, an '编号：' line right
after the title the document's number (right-aligned, in place of the blank line under the title).

Layout: A4, margins 37/35/28/26 mm (text block 156 × 225 mm), 22 lines at an exact 28.95 pt
pitch, title 二号 小标宋 centred and broken between words, body 三号 仿宋 with a two-character
indent, headings 黑体 / 楷体 kept with the next paragraph, 署名 right-indented two characters
with the date below it two characters further right (unsealed document), the last body
paragraph kept with the signature, page numbers '— 1 —' in 四号 宋体 at the outer side (odd
pages right, even pages left). Fonts are named as the standard wants, each with a fallback
name and GB2312 charset in the font table so Word/WPS substitute a Chinese font.

The package's fixed parts are built and compressed once per font choice; zip timestamps are
fixed, so the same notice always has the same bytes.
"""
from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

from ..io import fileio

# ---------------------------------------------------------------- fonts


@dataclass(frozen=True)
class Fonts:
    """Font per role as (name the standard wants, fallback name Word/WPS/LibreOffice use when it is missing)."""
    title: tuple[str, str] = ("方正小标宋简体", "宋体")
    body: tuple[str, str] = ("仿宋_GB2312", "仿宋")
    heading: tuple[str, str] = ("黑体", "SimHei")
    subheading: tuple[str, str] = ("楷体_GB2312", "楷体")
    number: tuple[str, str] = ("宋体", "SimSun")

    @classmethod
    def from_config(cls, table: dict | None) -> "Fonts":
        """Fonts from config [fonts]: role = "name" or ["name", "fallback"] (roles: title body heading
        subheading number); unnamed roles keep the standard's fonts."""
        chosen = {}
        for role, value in (table or {}).items():
            if role not in cls.__dataclass_fields__:
                continue
            names = [value] if isinstance(value, str) else [str(v) for v in value]
            default = getattr(cls(), role)
            chosen[role] = (names[0], names[1] if len(names) > 1 else default[1])
        return cls(**chosen)


# Chinese fonts of each kind, best first: what a machine lacking the standard's font renders the PDF with.
# A serif 仿宋/宋 family always comes before any sans (a 通报 in 黑体-like sans reads as a web page).
CANDIDATES = {
    "title": ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "华文中宋", "STZhongsong", "宋体", "SimSun",
              "Noto Serif CJK SC", "Source Han Serif SC", "思源宋体", "AR PL UMing CN"),
    "body": ("仿宋_GB2312", "仿宋", "FangSong", "FangSong_GB2312", "华文仿宋", "STFangsong", "Noto Serif CJK SC",
             "Source Han Serif SC", "思源宋体", "宋体", "SimSun", "AR PL UMing CN"),
    "heading": ("黑体", "SimHei", "华文黑体", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", "思源黑体",
                "WenQuanYi Zen Hei"),
    "subheading": ("楷体_GB2312", "楷体", "KaiTi", "KaiTi_GB2312", "华文楷体", "STKaiti", "AR PL UKai CN",
                   "Noto Serif CJK SC", "Source Han Serif SC", "思源宋体"),
    "number": ("宋体", "SimSun", "Noto Serif CJK SC", "Source Han Serif SC", "思源宋体", "AR PL UMing CN"),
}


def installed_families() -> set[str] | None:
    """Font family names this machine has (fontconfig's fc-list, in every language the font names itself);
    None when fc-list is not there to ask (Windows without fontconfig)."""
    import shutil
    import subprocess
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, ":", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {name.strip().replace("\\-", "-") for line in out.splitlines() for name in line.split(",") if name.strip()}


def file_families(files: list[Path]) -> set[str]:
    """Family names inside font files (fontconfig's fc-scan); empty when fc-scan is not there."""
    import shutil
    import subprocess
    exe = shutil.which("fc-scan")
    if exe is None or not files:
        return set()
    try:
        out = subprocess.run([exe, "--format", "%{family}\n", *map(str, files)], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


def fontconfig_env(files: list[Path], folder: Path) -> dict[str, str]:
    """An environment under which LibreOffice also finds the fonts in files' folders (a fonts.conf in folder
    that includes the system's and adds those folders), so [fonts] files need not be installed."""
    import os
    dirs = "".join(f"<dir>{escape(str(d))}</dir>" for d in dict.fromkeys(f.resolve().parent for f in files))
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f"{dirs}</fontconfig>\n", encoding="utf-8")
    return dict(os.environ, FONTCONFIG_FILE=str(conf))


@dataclass(frozen=True)
class Substitute:
    """A font the standard (or [fonts]) names that this machine lacks, and the one the PDF is set in instead."""
    role: str
    wanted: str
    used: str            # "" when no Chinese font of any kind is installed


ROLE_WORDS = {"title": "标题", "body": "正文", "heading": "一级标题", "subheading": "二级标题", "number": "页码"}


def substitutes(fonts: "Fonts", families: set[str] | None) -> list[Substitute]:
    """Per role whose font is missing here, the first installed font of the same kind (CANDIDATES order)."""
    if families is None:
        return []
    out = []
    for role in ROLE_WORDS:
        wanted, alt = getattr(fonts, role)
        if wanted in families:
            continue
        chain = (alt,) + CANDIDATES[role]
        out.append(Substitute(role, wanted, next((f for f in chain if f in families), "")))
    return out


def missing_fonts_message(subs: list[Substitute]) -> str:
    """The sentence for the run report and the console: which fonts are missing, what the PDF used, the fix."""
    used = "；".join(f"{ROLE_WORDS[s.role]}“{s.wanted}”以“{s.used}”代替" if s.used else
                    f"{ROLE_WORDS[s.role]}“{s.wanted}”无可用的中文字体" for s in subs)
    return (f"本机缺少公文字体，PDF 未使用标准字体：{used}。.docx 仍指定标准字体，在装有这些字体的电脑上打开即为"
            f"标准字体。改正：安装方正小标宋简体、仿宋_GB2312、楷体_GB2312 后重新生成通报；或在配置 [fonts] 中"
            f"用 files = [\"字体文件路径\", …] 指定这些字体的文件，或改用本机已有的字体，如 body = [\"仿宋\", \"FangSong\"]。")


def with_fonts(docx: bytes, subs: list[Substitute]) -> bytes:
    """The same .docx with each missing font's name replaced by its substitute (the copy LibreOffice renders
    to PDF; LibreOffice ignores the font table's altName and falls back to a sans font)."""
    import zipfile
    swaps = [(f'"{escape(s.wanted, {chr(34): "&quot;"})}"'.encode(), f'"{escape(s.used, {chr(34): "&quot;"})}"'.encode())
             for s in subs if s.used]
    members = []
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.endswith(".xml"):
                for old, new in swaps:
                    data = data.replace(old, new)
            members.append(_stored(info.filename, data) if info.filename.endswith(".png") else
                           _deflated(info.filename, data))
    return _zip(members)


# ---------------------------------------------------------------- parsing our Markdown

@dataclass(frozen=True)
class Part:
    kind: str          # title, blank, heading, subheading, lead, body, annex-list, signature, date,
    text: str          # annex-label, annex-title, image, table
    rows: tuple = ()   # table rows (tuples of cell texts), header first
    keep: bool = False  # keep with the next paragraph


ANNEX_LIST = re.compile(r"^附件：\s*1\.")
ANNEX_MORE = re.compile(r"^\d+\.\S")
ANNEX_LABEL = re.compile(r"^附件\d+$")
DOC_NUMBER = re.compile(r"^\S{0,4}编号：\S+$")


def parse(text: str) -> list[Part]:
    """Our Markdown as a list of typed parts, with the keep-with-next chains the layout needs."""
    parts: list[Part] = []
    tables: dict[int, list[tuple]] = {}     # a table's rows by its part's index, made a tuple once at the end
    mode, title_seen = "body", False
    for raw in text.splitlines():
        s = raw.strip()
        if not s:
            continue
        if s.startswith("|"):
            cells = tuple(c.strip().replace("**", "") for c in s.strip("|").split("|"))
            if not any(c.strip("-: ") for c in cells):       # the |---|:--| rule under the header
                continue
            if parts and parts[-1].kind == "table":
                tables[len(parts) - 1].append(cells)
            else:
                tables[len(parts)] = [cells]
                parts.append(Part("table", ""))
        elif s == "---":
            parts = _keep_tail(parts) + [Part("blank", "", keep=True)]
            mode = "signature"
        elif ANNEX_LABEL.match(s):
            parts.append(Part("annex-label", s, keep=True))
            mode = "annex"
        elif mode == "signature":
            if parts[-1].kind == "blank":
                parts.append(Part("signature", s, keep=True))
            else:
                parts.append(Part("date", s))
        elif DOC_NUMBER.match(s) and len(parts) > 1 and parts[-1].kind == "blank" and parts[-2].kind == "title":
            parts[-1] = Part("number", s, keep=True)
        elif s.startswith("!["):
            parts.append(Part("image", s[s.index("(") + 1:s.rindex(")")]))
        elif s.startswith("# "):
            if mode == "annex":
                parts += [Part("annex-title", s[2:], keep=True), Part("blank", "", keep=True)]
            elif not title_seen:
                parts += [Part("title", s[2:], keep=True), Part("blank", "", keep=True)]
                title_seen = True
            else:
                parts.append(Part("heading", s[2:], keep=True))
        elif s.startswith("## "):
            parts.append(Part("heading", s[3:], keep=True))
        elif s.startswith("### "):
            parts.append(Part("subheading", s[4:], keep=True))
        elif ANNEX_LIST.match(s):
            parts += [Part("blank", ""), Part("annex-list", s.replace("附件：", "", 1).strip())]
            mode = "annex-list"
        elif mode == "annex-list" and ANNEX_MORE.match(s):
            parts.append(Part("annex-list", s))
        elif s.endswith("：") and len(s) < 40 and not any(p.kind in ("body", "heading", "lead") for p in parts):
            parts.append(Part("lead", s.replace("**", ""), keep=True))
        else:
            mode = "body" if mode == "annex-list" else mode
            parts.append(Part("body", s.removeprefix("- ").replace("**", "")))
    return [Part("table", "", tuple(tables[i])) if i in tables else p for i, p in enumerate(parts)]


def _keep_tail(parts: list[Part]) -> list[Part]:
    """Mark the end of the body (back to and including its last body paragraph) keep-with-next,
    so 署名 and 成文日期 never stand alone at the top of a page."""
    out = list(parts)
    for i in range(len(out) - 1, -1, -1):
        p = out[i]
        if p.kind in ("table", "image"):
            break
        out[i] = Part(p.kind, p.text, p.rows, True)
        if p.kind in ("body", "lead"):
            break
    return out


# ---------------------------------------------------------------- title line breaks

TITLE_CHARS = 20                 # 二号 (22 pt) characters on a 156 mm line
WORDS = ("关于", "巡视", "反馈", "意见", "整改", "进展", "情况", "通报", "督办", "事项", "清单", "工作", "落实",
         "问题", "单位", "市委", "省委", "完成率", "排名")
BREAK_AFTER = ("关于", "届", "轮", "批", "意见", "反馈意见", "巡视", "工作")
BREAK_BEFORE = ("整改", "进展情况", "情况", "的通报", "督办单", "巡视", "工作", "落实", "问题")


def title_breaks(title: str) -> list[int]:
    """Offsets where a title line may end: after or before the words in BREAK_AFTER/BREAK_BEFORE,
    never inside any word of WORDS (so 整改 stays whole)."""
    spots = set()
    for word in BREAK_AFTER:
        spots |= {m.end() for m in re.finditer(re.escape(word), title)}
    for word in BREAK_BEFORE:
        spots |= {m.start() for m in re.finditer(re.escape(word), title)}
    inside = {i for word in WORDS for m in re.finditer(re.escape(word), title) for i in range(m.start() + 1, m.end())}
    return sorted(s for s in spots - inside if 0 < s < len(title))


def title_lines(title: str, width: int = TITLE_CHARS) -> list[str]:
    """The title in the fewest lines of at most width characters, broken only at title_breaks,
    lines as even as possible (a pyramid: a longer line is put last); one line when it fits."""
    if len(title) <= width:
        return [title]
    cuts = title_breaks(title)
    best: tuple | None = None

    def search(start: int, chosen: list[int]):
        nonlocal best
        if len(title) - start <= width:
            lines = [title[a:b] for a, b in zip([0] + chosen, chosen + [len(title)])]
            lengths = [len(x) for x in lines]
            key = (len(lines), max(lengths) - min(lengths), lengths[0] > lengths[-1])
            if best is None or key < best[0]:
                best = (key, lines)
            return
        for c in cuts:
            if start < c <= start + width and len(chosen) < 4:
                search(c, chosen + [c])
    search(0, [])
    return best[1] if best else [title[i:i + width] for i in range(0, len(title), width)]


# ---------------------------------------------------------------- XML of the body

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
TEXT_WIDTH = 8844               # twips: 156 mm
CHAR = 320                      # twips: one 三号 (16 pt) character
LINE = 579                      # twips: 28.95 pt, 22 lines in 225 mm
TABLE_SIZE, TABLE_LINE = 21, 270   # 五号 (10.5 pt) at 13.5 pt in tables: a measure's text in two lines, not three
NO_WRAP = re.compile(r"^(\d{4}年\d{1,2}月\d{1,2}日|\d+天|[\x00-\x7f]*)$")   # dates, day counts, ids: never split


@lru_cache(maxsize=64)
def _run_start(font: tuple[str, str], size: int, bold: bool) -> str:
    """A run's opening and properties up to its text, built once per font, size and weight (a table has thousands)."""
    name = escape(font[0], {'"': "&quot;"})
    return (f'<w:r><w:rPr><w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}" '
            f'w:hint="eastAsia"/>{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>'
            '<w:t xml:space="preserve">')


def _run(text: str, font: tuple[str, str], size: int, bold: bool = False) -> str:
    return f'{_run_start(font, size, bold)}{escape(text)}</w:t></w:r>'


# Chinese line breaking: punctuation never starts a line (kinsoku) nor hangs into the margin (overflowPunct
# off), and no extra space is put between Chinese and Latin letters or digits (autoSpaceDE/DN off), so a
# justified line is filled by moving a character, not by spacing the whole line out letter by letter.
CJK_LINES = '<w:kinsoku/><w:overflowPunct w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
RUN_IN = re.compile(r"^（[一二三四五六七八九十]+）[^。：；，]{1,30}?[：。]")


def _run_in(text: str, fonts: "Fonts") -> str:
    """A body paragraph opening with a （一） heading (“（一）重点问题整改方面：…”): the heading in 楷体 as
    GB/T 9704 sets second-level headings, the rest in the body font."""
    m = RUN_IN.match(text)
    if not m:
        return _run(text, fonts.body, 32)
    return _run(m.group(0), fonts.subheading, 32) + _run(text[m.end():], fonts.body, 32)


def _para(runs: str, *, align: str = "both", first: int = 0, left: int = 0, hanging: int = 0, keep: bool = False,
          page_break: bool = False, line: int = LINE, keep_lines: bool = False) -> str:
    return f'{_para_start(align, first, left, hanging, keep, page_break, line, keep_lines)}{runs}</w:p>'


@lru_cache(maxsize=256)
def _para_start(align: str, first: int, left: int, hanging: int, keep: bool, page_break: bool, line: int,
                keep_lines: bool) -> str:
    """A paragraph's opening and properties, built once per layout (a table's cells share a handful)."""
    ind = f'<w:ind w:left="{left}"' + (f' w:hanging="{hanging}"' if hanging else f' w:firstLine="{first}"') + "/>"
    return (f'<w:p><w:pPr>{"<w:keepNext/>" if keep else ""}{"<w:keepLines/>" if keep_lines else ""}'
            f'{"<w:pageBreakBefore/>" if page_break else ""}<w:widowControl/>{CJK_LINES}'
            f'<w:spacing w:before="0" w:after="0" w:line="{line}" w:lineRule="exact"/>{ind}'
            f'<w:jc w:val="{align}"/></w:pPr>')


SCRIPT_RUN = re.compile(r"[\x00-\u2e7f]+|[^\x00-\u2e7f]+")    # a run of Latin (below U+2E80) or of Asian characters


@lru_cache(maxsize=1 << 16)
def _width(text: str, size: int = 32) -> int:
    """Twips the text takes at size (half-points; 32 is 三号): Chinese characters one em, ASCII at most 0.65 em
    (digits are half an em in 仿宋, wider in the Latin fonts a viewer may substitute), and a quarter em where
    Chinese meets Latin (LibreOffice always spaces them apart; Word does unless told not to). Counted by runs
    of one script and cached (a table measures each cell twice, and unit names and dates recur)."""
    runs = SCRIPT_RUN.findall(text)
    narrow = sum(len(r) for r in runs if r[0] < "\u2e80")
    gaps = max(len(runs) - 1, 0)                                   # Asian–Latin spacing
    return narrow * (size * 13 // 2) + (len(text) - narrow) * size * 10 + gaps * size * 10 // 4


def _signature(name: str, date: str) -> tuple[int, int]:
    """Left indents of 署名 and 成文日期 (unsealed document): 署名 right-indented two characters,
    the date on the next line starting two characters right of the 署名's first character; a date
    too long for that moves both left so the date is right-indented two characters."""
    sign = TEXT_WIDTH - 2 * CHAR - _width(name)
    day = sign + 2 * CHAR
    if day + _width(date) > TEXT_WIDTH - 2 * CHAR:
        day = TEXT_WIDTH - 2 * CHAR - _width(date)
        sign = day - 2 * CHAR
    return max(sign, 0), max(day, 0)


PADDING = 114                   # twips of cell margins per column


def _column_widths(rows: tuple) -> list[int]:
    """Twips per column: each column as wide as its longest text, except that the widest column (a
    measure's text) keeps at least 40% of the table; the others then wrap, down to their header's width."""
    n = max(len(r) for r in rows)
    columns = list(zip(*(tuple(r) + ("",) * (n - len(r)) for r in rows)))    # a short row's missing cells empty
    natural = [max(_width(text, TABLE_SIZE) for text in column) + PADDING + 60 for column in columns]
    main = max(range(n), key=lambda i: natural[i])
    others = [i for i in range(n) if i != main]
    budget = TEXT_WIDTH - min(natural[main], max(TEXT_WIDTH * 2 // 5, TEXT_WIDTH - sum(natural[i] for i in others)))
    widths = list(natural)
    wanted = sum(natural[i] for i in others)
    if wanted > budget:
        floor = {i: natural[i] if all(map(NO_WRAP.match, columns[i][1:]))
                 else min(natural[i], max(_width(columns[i][0], TABLE_SIZE),
                                          5 * TABLE_SIZE * 10) + PADDING + 60)
                 for i in others}   # ids, numbers and dates never wrap; texts wrap at five characters
        spare = max(budget - sum(floor.values()), 0)
        excess = sum(natural[i] - floor[i] for i in others) or 1
        for i in others:
            widths[i] = floor[i] + (natural[i] - floor[i]) * spare // excess
    widths[main] = TEXT_WIDTH - sum(widths[i] for i in others)
    return widths


def _table(rows: tuple, fonts: Fonts) -> str:
    """A bordered table across the text width: the header row repeats on each page, rows never split."""
    widths = _column_widths(rows)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    border = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:jc w:val="center"/>'
           f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/>'
           f'<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
           f'</w:tblPr><w:tblGrid>{grid}</w:tblGrid>']
    for k, row in enumerate(rows):
        header = k == 0
        out.append(f'<w:tr><w:trPr><w:cantSplit/>{"<w:tblHeader/>" if header else ""}</w:trPr>')
        font = fonts.heading if header else fonts.body
        out.extend(_cell(row[i] if i < len(row) else "", w, font, header) for i, w in enumerate(widths))
        out.append("</w:tr>")
    return "".join(out) + "</w:tbl>"


@lru_cache(maxsize=4096)
def _cell(text: str, width: int, font: tuple[str, str], header: bool) -> str:
    """One table cell, centred when a header or when its text fits one line; built once per text, width and
    font (dates, day counts, unit names and measure texts recur in every table)."""
    short = _width(text, TABLE_SIZE) <= width - PADDING
    runs = _run(text, font, TABLE_SIZE)
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
            + _para(runs, align="center" if header or short else "left", line=TABLE_LINE) + "</w:tc>")


IMAGE_WIDTH_MM, IMAGE_HEIGHT_MM = 156, 200
EMU_MM = 36000


def _picture(png: bytes, n: int = 1) -> str:
    """The n-th inline picture (relationship rIdImg<n>) as large as fits the text block, aspect kept, centred."""
    w, h = struct.unpack(">II", png[16:24])        # PNG IHDR width and height
    cx = IMAGE_WIDTH_MM * EMU_MM
    cy = cx * h // max(w, 1)
    if cy > IMAGE_HEIGHT_MM * EMU_MM:
        cx, cy = cx * IMAGE_HEIGHT_MM * EMU_MM // cy, IMAGE_HEIGHT_MM * EMU_MM
    pic = ('xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')
    a = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    drawing = (f'<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
               f'<wp:docPr id="{n}" name="图表 {n}"/><wp:cNvGraphicFramePr><a:graphicFrameLocks {a} noChangeAspect="1"/>'
               f'</wp:cNvGraphicFramePr><a:graphic {a}><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
               f'<pic:pic {pic}><pic:nvPicPr><pic:cNvPr id="0" name="chart.png"/><pic:cNvPicPr/></pic:nvPicPr>'
               f'<pic:blipFill><a:blip r:embed="rIdImg{n}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
               f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
               f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
               f'</wp:inline></w:drawing>')
    return (f'<w:p><w:pPr><w:spacing w:before="120" w:after="120"/><w:jc w:val="center"/></w:pPr>'
            f'<w:r>{drawing}</w:r></w:p>')


def body_xml(parts: list[Part], fonts: Fonts, pngs: dict[int, bytes] | None = None) -> str:
    """The paragraphs and tables of the document body; pngs: {index of an image part: its bytes}."""
    pngs = pngs or {}
    numbers = {i: n for n, i in enumerate(sorted(pngs), 1)}
    out = []
    signature = next((p.text for p in parts if p.kind == "signature"), "")
    date = next((p.text for p in parts if p.kind == "date"), "")
    sign_left, date_left = _signature(signature, date)
    for i, p in enumerate(parts):
        k = p.kind
        if k == "title" or k == "annex-title":
            runs = "<w:r><w:br/></w:r>".join(_run(line, fonts.title, 44) for line in title_lines(p.text))
            out.append(_para(runs, align="center", keep=True, keep_lines=True))
        elif k == "blank":
            out.append(_para("", keep=p.keep))
        elif k == "heading":
            out.append(_para(_run(p.text, fonts.heading, 32), first=2 * CHAR, keep=True, keep_lines=True))
        elif k == "subheading":
            out.append(_para(_run(p.text, fonts.subheading, 32), first=2 * CHAR, keep=True, keep_lines=True))
        elif k == "number":
            out.append(_para(_run(p.text, fonts.body, 32), align="right", keep=True))
        elif k == "lead":
            out.append(_para(_run(p.text, fonts.body, 32), keep=True))
        elif k == "body":
            out.append(_para(_run_in(p.text, fonts), first=2 * CHAR, keep=p.keep))
        elif k == "annex-list":
            first = p.text.startswith("1.")
            label = "附件：" if first else ""
            number = _width(p.text.split(".")[0] + ".")
            out.append(_para(_run(label + p.text, fonts.body, 32), align="left", left=5 * CHAR + number,
                             hanging=(3 * CHAR if first else 0) + number, keep=True))
        elif k == "signature":
            out.append(_para(_run(p.text, fonts.body, 32), align="left", left=sign_left, keep=True))
        elif k == "date":
            out.append(_para(_run(p.text, fonts.body, 32), align="left", left=date_left))
        elif k == "annex-label":
            out.append(_para(_run(p.text, fonts.heading, 32), align="left", page_break=True, keep=True))
        elif k == "table":
            out.append(_table(p.rows, fonts))
        elif k == "image" and i in pngs:
            out.append(_picture(pngs[i], numbers[i]))
    return "".join(out)


# ---------------------------------------------------------------- the package

NS_DOC = (f'{W} {R} xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"')
SECTION = ('<w:sectPr><w:footerReference w:type="default" r:id="rIdF1"/><w:footerReference w:type="even" r:id="rIdF2"/>'
           '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" '
           'w:header="851" w:footer="1304" w:gutter="0"/></w:sectPr>')
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>'
    '<Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>'
    '<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>'
    '<Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    '</Types>')
RELS_NS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships {RELS_NS}>'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
SETTINGS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:settings {W}><w:zoom w:percent="100"/>'
            '<w:defaultTabStop w:val="640"/><w:evenAndOddHeaders/><w:characterSpacingControl w:val="compressPunctuation"/>'
            '<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/>'
            '</w:compat></w:settings>')
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
       'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       '<Application>整改台账工具</Application></Properties>')


def _doc_rels(images: int) -> str:
    image = "".join(f'<Relationship Id="rIdImg{n}" Type="{REL}/image" Target="media/image{n}.png"/>'
                    for n in range(1, images + 1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships {RELS_NS}>'
            f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rIdT" Type="{REL}/settings" Target="settings.xml"/>'
            f'<Relationship Id="rIdN" Type="{REL}/fontTable" Target="fontTable.xml"/>'
            f'<Relationship Id="rIdF1" Type="{REL}/footer" Target="footer1.xml"/>'
            f'<Relationship Id="rIdF2" Type="{REL}/footer" Target="footer2.xml"/>{image}</Relationships>')


def _styles(fonts: Fonts) -> str:
    name = escape(fonts.body[0], {'"': "&quot;"})
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles {W}><w:docDefaults><w:rPrDefault><w:rPr>'
            f'<w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}" w:hint="eastAsia"/>'
            '<w:kern w:val="2"/><w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
            '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:widowControl/><w:spacing w:before="0" w:after="0"/></w:pPr>'
            '</w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal">'
            '<w:name w:val="Normal"/><w:qFormat/></w:style><w:style w:type="table" w:default="1" w:styleId="TableNormal">'
            '<w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar>'
            '<w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
            '<w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style></w:styles>')


FAMILY = {"title": "roman", "body": "modern", "heading": "modern", "subheading": "script", "number": "roman"}


def _font_table(fonts: Fonts) -> str:
    """Each named font with its fallback (altName) and the GB2312 charset, so a PC lacking it substitutes a
    Chinese font of the same kind rather than a Latin one."""
    out, seen = [], set()
    for role in FAMILY:
        name, alt = getattr(fonts, role)
        if name in seen:
            continue
        seen.add(name)
        q = {'"': "&quot;"}
        out.append(f'<w:font w:name="{escape(name, q)}"><w:altName w:val="{escape(alt, q)}"/><w:charset w:val="86"/>'
                   f'<w:family w:val="{FAMILY[role]}"/><w:pitch w:val="variable"/></w:font>')
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts {W}>{"".join(out)}</w:fonts>'


def _footer(fonts: Fonts, odd: bool) -> str:
    """'— 1 —' in 四号 宋体, one character in from the outer edge (right on odd pages, left on even)."""
    def run(text: str = "", field: str = "") -> str:
        inner = (f'<w:fldChar w:fldCharType="{field}"/>' if field in ("begin", "separate", "end") else
                 f'<w:instrText xml:space="preserve">{field}</w:instrText>' if field else
                 f'<w:t xml:space="preserve">{text}</w:t>')
        name = escape(fonts.number[0], {'"': "&quot;"})
        return (f'<w:r><w:rPr><w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}" '
                f'w:hint="eastAsia"/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr>{inner}</w:r>')
    side = '<w:ind w:right="280"/><w:jc w:val="right"/>' if odd else '<w:ind w:left="280"/><w:jc w:val="left"/>'
    runs = run("— ") + run(field="begin") + run(field=" PAGE ") + run(field="separate") + run("1") + \
        run(field="end") + run(" —")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr {W} {R}><w:p><w:pPr>{side}</w:pPr>'
            f'{runs}</w:p></w:ftr>')


def _core(title: str, author: str) -> str:
    q = {'"': "&quot;"}
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{escape(title, q)}</dc:title><dc:creator>{escape(author, q)}</dc:creator>'
            f'<cp:lastModifiedBy>{escape(author, q)}</cp:lastModifiedBy></cp:coreProperties>')


@lru_cache(maxsize=16)
def _core_member(title: str, author: str) -> tuple[bytes, int, bytes, int, int]:
    """docProps/core.xml compressed once per title and author (every 督办单 of a run shares both)."""
    return _deflated("docProps/core.xml", _core(title, author).encode())


DOS_TIME, DOS_DATE = 0, (2024 - 1980) << 9 | 1 << 5 | 1   # 2024-01-01 00:00: fixed, so bytes repeat


def _deflated(name: str, data: bytes) -> tuple[bytes, int, bytes, int, int]:
    """(name, crc, raw-deflated data, size, method 8) of one zip member, compressed once."""
    co = zlib.compressobj(fileio.ZIP_LEVEL, zlib.DEFLATED, -15)
    return name.encode(), zlib.crc32(data), co.compress(data) + co.flush(), len(data), 8


def _stored(name: str, data: bytes) -> tuple[bytes, int, bytes, int, int]:
    """A zip member stored as is (a PNG is compressed already; deflating it again costs time for nothing)."""
    return name.encode(), zlib.crc32(data), data, len(data), 0


def _zip(members: list[tuple[bytes, int, bytes, int, int]]) -> bytes:
    """A zip archive from already-deflated members (the fixed parts of a .docx are compressed once)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, crc, data, size, method in members:
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, method, DOS_TIME, DOS_DATE, crc, len(data), size,
                              len(name), 0) + name + data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, method, DOS_TIME, DOS_DATE, crc, len(data),
                                  size, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central.getvalue()),
                          start, 0))
    return out.getvalue()


@lru_cache(maxsize=4)
def _fixed(fonts: Fonts) -> tuple[tuple, dict[int, tuple]]:
    """The parts every document shares (compressed once per font choice), and document.xml.rels for 0–3 pictures."""
    parts = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": PACKAGE_RELS, "docProps/app.xml": APP,
             "word/styles.xml": _styles(fonts), "word/settings.xml": SETTINGS, "word/fontTable.xml": _font_table(fonts),
             "word/footer1.xml": _footer(fonts, odd=True), "word/footer2.xml": _footer(fonts, odd=False)}
    static = tuple(_deflated(name, text.encode("utf-8")) for name, text in parts.items())
    rels = {n: _deflated("word/_rels/document.xml.rels", _doc_rels(n).encode("utf-8")) for n in range(4)}
    return static, rels


def to_bytes(parts: list[Part], images: dict[str, Path] | None = None, fonts: Fonts = Fonts(),
             author: str = "") -> bytes:
    """A .docx of the parts (same input, same bytes), with each picture whose file exists (up to three)."""
    pngs = {i: Path(images[p.text]).read_bytes() for i, p in enumerate(parts) if p.kind == "image"
            and (images or {}).get(p.text) and Path(images[p.text]).exists()}
    pngs = dict(list(pngs.items())[:3])
    static, rels = _fixed(fonts)
    title = next((p.text for p in parts if p.kind == "title"), "")
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {NS_DOC}><w:body>'
                f'{body_xml(parts, fonts, pngs)}{SECTION}</w:body></w:document>')
    members = list(static) + [rels[len(pngs)], _core_member(title, author),
                              _deflated("word/document.xml", document.encode("utf-8"))]
    members += [_stored(f"word/media/image{n}.png", png) for n, png in enumerate(pngs.values(), 1)]
    return _zip(members)


def render(text: str, images: dict[str, Path] | None = None, fonts: Fonts = Fonts(), author: str = "") -> bytes:
    """The .docx bytes of a Markdown notice."""
    return to_bytes(parse(text), images, fonts, author)


def write_pair(text: str, md_path: Path, images: dict[str, Path] | None = None, fonts: Fonts | None = None,
               author: str = "") -> tuple[list[Path], bool]:
    """The Markdown and the .docx beside it, each rewritten only when its bytes changed (a rerun rewrites
    nothing and a copy open in Word is left alone, while a change of [fonts] or signer reaches the .docx
    although the text is the same); returns the paths and whether the .docx was (re)written. Each file is
    judged by its own bytes, so a run stopped between the two is completed by the next."""
    docx_path = md_path.with_suffix(".docx")
    data = render(text, images, fonts or Fonts(), author)
    rewritten = _present(docx_path, Path.read_bytes) != data
    if rewritten:
        fileio.atomic_write_bytes(docx_path, data)
    if _present(md_path, lambda p: p.read_text(encoding="utf-8")) != text:
        fileio.atomic_write_text(md_path, text)
    return [md_path, docx_path], rewritten


def _present(path: Path, read: Callable[[Path], Any]) -> Any:
    """What read gives for the file, None when there is none (read straight away, not looked for first)."""
    try:
        return read(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
