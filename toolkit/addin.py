"""Build the Excel add-in (.xlam) and a macro workbook (.xlsm) from the text sources in macros/.

The VBA lives as .bas text and the ribbon as customUI XML; this module compiles the .bas files
into a vbaProject.bin with ms-ovba (source only, no p-code: Excel compiles it on first load),
lets xlsxwriter write a macro workbook around it, and adds the ribbon part. The add-in's subs
only call xlwings' RunPython; the logic is in toolkit.excel.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

from . import resources
from .errors import ToolkitError

MACROS = resources.folder("macros")
ADDIN_NAME = "整改台账.xlam"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"   # Office 2010+ ribbon
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_NS = "http://schemas.microsoft.com/office/2009/07/customui"
ADDIN_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
PRESS = re.compile(r'Press\s+"(\w+)"')
PROCEDURE = re.compile(r"^(?:Public |Private )?(Sub|Function) (\w+)\(([^)]*)\)", re.M)


def button_functions(source: str) -> dict[str, str]:
    """{VBA sub: Python function} for every ribbon sub in a .bas source."""
    out = {}
    for m in re.finditer(r"Public Sub (\w+)\(control As IRibbonControl\)(.*?)End Sub", source, re.S):
        call = PRESS.search(m[2])
        out[m[1]] = call[1] if call else ""
    return out


def procedures(source: str) -> dict[str, str]:
    """{name: parameter list} of every Sub and Function in a VBA source."""
    return {m[2]: m[3].strip() for m in PROCEDURE.finditer(source)}


def _escape_literal(literal: str) -> str:
    """A VBA string literal with Chinese text, as Zh("\\uXXXX") calls the module decodes at run time."""
    text = literal[1:-1]
    if "\\u" in text:
        raise ToolkitError(f"VBA 字符串中不能出现 \\u（会被当作转义）：{literal}")
    escaped = "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in text)
    pieces = re.findall(r"(?:\\u[0-9a-f]{4}|[^\\]){1,40}", escaped)   # short literals: LibreOffice's limit is 255
    return " & ".join(f'Zh("{p}")' for p in pieces)


def vba_source(source: str, version: str) -> str:
    """The module as it goes into the add-in: Chinese literals escaped to ASCII, the version declared.

    ADDIN_VERSION goes after Option Explicit; <Module>Version comes last on purpose: a syntax
    error anywhere above it stops the compiler before it, which is how the LibreOffice test
    tells a compiled module from a broken one."""
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        code, comment, in_string = line, "", False
        for i, c in enumerate(line):
            if c == '"':
                in_string = not in_string
            elif c == "'" and not in_string:
                code, comment = line[:i], line[i:]
                break
        code = re.sub(r'"(?:[^"]|"")*"', lambda m: m[0] if m[0].isascii() else _escape_literal(m[0]), code)
        if not (code + comment).isascii():
            raise ToolkitError(f"VBA 源码第{number}行：中文只能写在字符串中（注释用英文）。")
        out.append(code + comment)
        if line.strip() == "Option Explicit":
            out.append(f'Private Const ADDIN_VERSION As String = "{version}"')
    name = re.search(r'Attribute VB_Name = "(\w+)"', source)[1]
    out += ["", f"Public Function {name}Version() As String",
            "    ' Written by toolkit/addin.py: the toolkit version this add-in was built with.",
            f"    {name}Version = ADDIN_VERSION", "End Function", ""]
    return "\r\n".join(out)


def _copytoken_help(difference: int) -> dict:
    """MS-OVBA 2.4.1.3.19.1 CopyToken Help, with MaximumLength = (0xFFFF >> BitCount) + 3.

    ms-ovba-compression 1.0.1 computes 0xFFFF << (BitCount + 3), so a long match past the first
    1 KB of a chunk overflows into the offset bits and Excel/LibreOffice read garbled source."""
    bit_count = 4
    while 2 ** bit_count < difference:
        bit_count += 1
    length_mask = 0xFFFF >> bit_count
    return {"lengthMask": length_mask, "offsetMask": ~length_mask & 0xFFFF, "bitCount": bit_count,
            "maxLength": length_mask + 3}


def compile_vba(modules: list[Path], workdir: Path) -> Path:
    """vbaProject.bin from .bas modules (plus the ThisWorkbook/Sheet1 document modules Excel expects)."""
    try:
        from ms_ovba.Models.Entities.doc_module import DocModule
        from ms_ovba.Models.Entities.reference import Reference
        from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
        from ms_ovba.Models.Entities.std_module import StdModule
        from ms_ovba.Models.Fields.libid_reference import LibidReference
        from ms_ovba.Views.project_ole_file import ProjectOleFile
        from ms_ovba.vbaProject import VbaProject
        import ms_ovba
        from ms_ovba_compression.ms_ovba import MsOvba
    except ImportError:
        raise ToolkitError("缺少 ms-ovba，无法从源码生成 VBA 工程。请运行：pip install -e .[excel]") from None
    blank = Path(ms_ovba.__file__).parent / "blank_files"
    project = VbaProject()
    project.project_id = "{" + str(uuid.UUID("5a9e6c1e-2d3b-4f51-9a0c-7e1d2b3c4d5e")).upper() + "}"
    for name, guid in (("Sheet1", "0002082000000000C000000000000046"), ("ThisWorkbook", "0002081900000000C000000000000046")):
        doc = DocModule(name)
        doc.add_file(str(shutil.copy(blank / f"{name}.cls", workdir / f"{name}.cls")))
        doc.add_guid(uuid.UUID(guid))
        doc.normalize_file()
        project.add_module(doc)
    for source in modules:   # ms-ovba writes scratch files beside each source: work on copies
        path = Path(shutil.copy(source, workdir / source.name))
        std = StdModule(path.stem)
        std.add_file(str(path))
        std.normalize_file()
        project.add_module(std)
    for libid, name in ((LibidReference(uuid.UUID("0002043000000000C000000000000046"), "2.0", "0",
                                        "C:\\Windows\\System32\\stdole2.tlb", "OLE Automation"), "stdole"),
                        (LibidReference(uuid.UUID("2DF8D04C5BFA101BBDE500AA0044DE52"), "2.0", "0",
                                        r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL",
                                        "Microsoft Office 16.0 Object Library"), "Office")):
        project.add_reference(Reference(ReferenceRegistered(libid), name))
    import random
    MsOvba.copytoken_help = staticmethod(_copytoken_help)
    here, state = os.getcwd(), random.getstate()
    os.chdir(workdir)   # ms-ovba writes its streams into the current folder
    random.seed(20240904)   # its project-protection fields are random: fix them for reproducible bytes
    try:
        ProjectOleFile.write_file(project)
    finally:
        os.chdir(here)
        random.setstate(state)
    return workdir / "vbaProject.bin"


def _macro_workbook(vba: Path, target: Path) -> None:
    import xlsxwriter
    import datetime as dt
    wb = xlsxwriter.Workbook(str(target))
    wb.set_properties({"title": "整改台账加载项", "created": dt.datetime(2024, 1, 1)})  # reproducible bytes
    wb.set_vba_name("ThisWorkbook")
    ws = wb.add_worksheet("说明")
    ws.set_vba_name("Sheet1")
    ws.set_column(0, 0, 90)
    lines = ["整改台账 Excel 加载项", "安装后功能区出现“整改台账”选项卡：汇总报送、刷新统计、标记逾期、生成通报、分发模板。",
             "按钮作用于当前打开的台账工作簿；需要已安装 Python、本工具包（pip install zhenggai-toolkit）和 xlwings 加载项（xlwings addin install）。"]
    for r, text in enumerate(lines):
        ws.write_string(r, 0, text)
    wb.add_vba_project(str(vba))
    wb.close()


def _add_ribbon(path: Path, ribbon_xml: bytes, addin: bool) -> None:
    """Add customUI/customUI14.xml with its relationship; for an add-in also switch the main content type."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "_rels/.rels":
                rel = (f'<Relationship Id="rIdZgRibbon" Type="{RIBBON_REL}" Target="{RIBBON_PART}"/>'
                       "</Relationships>").encode()
                data = data.replace(b"</Relationships>", rel)
            elif item.filename == "[Content_Types].xml" and addin:
                data = data.replace(MACRO_TYPE.encode(), ADDIN_TYPE.encode())
            info = zipfile.ZipInfo(item.filename, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
        info = zipfile.ZipInfo(RIBBON_PART, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(info, ribbon_xml)
    os.replace(tmp, path)


def build(out_dir: Path, macros: Path = MACROS) -> list[Path]:
    """Write 整改台账.xlam (the add-in) and 整改台账.xlsm (same macros, as a workbook) into out_dir."""
    from . import __version__
    modules = sorted(macros.glob("*.bas"))
    ribbon = macros / "customUI.xml"
    if not modules or not ribbon.exists():
        raise ToolkitError(f"{macros} 中缺少 .bas 模块或 customUI.xml。")
    check_sources(macros)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="zg-vba-") as tmp:
        (Path(tmp) / "src").mkdir()
        sources = [Path(tmp) / "src" / m.name for m in modules]
        for module, source in zip(modules, sources):
            source.write_bytes(vba_source(module.read_text(encoding="utf-8"), __version__).encode("ascii"))
        vba = compile_vba(sources, Path(tmp))
        for suffix, addin in ((".xlam", True), (".xlsm", False)):
            target = out_dir / Path(ADDIN_NAME).with_suffix(suffix).name
            staging = Path(tmp) / ("book" + suffix)
            _macro_workbook(vba, staging.with_suffix(".xlsm"))
            shutil.move(staging.with_suffix(".xlsm"), staging)
            _add_ribbon(staging, ribbon.read_bytes(), addin)
            shutil.copy(staging, target)
            written.append(target)
    return written


def check_sources(macros: Path = MACROS) -> dict[str, str]:
    """The ribbon and the VBA agree, by the customUI rules Office enforces when it loads the add-in.

    The 2009 customUI namespace (Office 2010+), unique control ids, every callback a Public Sub
    taking (control As IRibbonControl), and every button sub pressing an exported toolkit.excel function."""
    import xml.etree.ElementTree as ET
    from . import excel
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(macros.glob("*.bas")))
    subs = button_functions(source)
    try:
        tree = ET.parse(macros / "customUI.xml")
    except ET.ParseError as exc:
        raise ToolkitError(f"customUI.xml 格式有误：{exc}") from None
    if tree.getroot().tag != f"{{{RIBBON_NS}}}customUI":
        raise ToolkitError(f"customUI.xml 的根元素须为 {RIBBON_NS} 命名空间中的 customUI（Office 2010 及以上）。")
    ids = [el.get("id") for el in tree.iter() if el.get("id")]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ToolkitError(f"customUI.xml 中控件 id 重复：{'、'.join(twice)}")
    declared = procedures(source)
    callbacks = [v for el in tree.iter() for k, v in el.attrib.items() if k.startswith(("on", "get"))]
    missing = [a for a in callbacks if a not in declared]
    if missing:
        raise ToolkitError(f"功能区按钮调用的宏不存在：{'、'.join(missing)}")
    wrong = [a for a in callbacks if declared[a] != "control As IRibbonControl" or a not in subs]
    if wrong:
        raise ToolkitError(f"功能区回调须为 Public Sub 名称（control As IRibbonControl）：{'、'.join(wrong)}")
    unknown = [f"{sub}→{fn or '?'}" for sub, fn in subs.items() if fn not in excel.__all__]
    if unknown:
        raise ToolkitError(f"宏调用了 toolkit.excel 中不存在的函数：{'、'.join(unknown)}")
    return subs
