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
import subprocess
import sys
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, resources
from .buttons import BUTTONS
from .errors import FileAccessError, MissingProgram, SourceError
from .problems import Location

MACROS = resources.folder("macros")
ADDIN_NAME = "整改台账.xlam"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"   # Office 2010+ ribbon
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_NS = "http://schemas.microsoft.com/office/2009/07/customui"
ADDIN_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
PRESS = re.compile(r'Press\s+"(\w+)"')
PROCEDURE = re.compile(r"^(?:Public |Private )?(Sub|Function) (\w+)\(([^)]*)\)", re.M)
# The install steps: the add-in's 说明 sheet shows them, README's Excel section says the same.
INSTALL_STEPS = [
    "安装 Python 3.11 或更高版本（安装时勾选“Add python.exe to PATH”）。",
    "把工具包文件夹复制到本机并保留（模板从这里读取），双击其中 scripts 文件夹里的 install_windows.cmd"
    "（或在工具包文件夹的命令行中运行 pip install -e .[excel]，再运行 python -m toolkit excel install）。",
    "它安装 xlwings 加载项，把 整改台账.xlam 复制到 %APPDATA%\\Microsoft\\AddIns 并设为随 Excel 启动加载，"
    "单位策略允许时把该文件夹登记为受信任位置，并逐项显示做了什么。",
    "重新打开 Excel，功能区出现“整改台账”选项卡；打开工作文件夹 master 中的台账，再点按钮。",
    "单位策略禁止宏或禁止 Office 启动其他程序时，双击工作文件夹中的 .cmd 快捷方式（汇总报送、刷新统计、生成通报、分发模板、催报）。",
]


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
        raise SourceError(kind="vba-string-escape", literal=literal)
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
            raise SourceError(kind="vba-chinese-outside-string", where=Location(row=number), line=number)
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
        import ms_ovba
        from ms_ovba.Models.Entities.doc_module import DocModule
        from ms_ovba.Models.Entities.reference import Reference
        from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
        from ms_ovba.Models.Entities.std_module import StdModule
        from ms_ovba.Models.Fields.libid_reference import LibidReference
        from ms_ovba.vbaProject import VbaProject
        from ms_ovba.Views.project_ole_file import ProjectOleFile
        from ms_ovba_compression.ms_ovba import MsOvba
    except ImportError:
        raise MissingProgram(kind="ms-ovba-missing") from None
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
    import datetime as dt

    import xlsxwriter
    wb = xlsxwriter.Workbook(str(target))
    wb.set_properties({"title": "整改台账加载项", "created": dt.datetime(2024, 1, 1)})  # reproducible bytes
    wb.set_vba_name("ThisWorkbook")
    ws = wb.add_worksheet("说明")
    ws.set_vba_name("Sheet1")
    ws.set_column(0, 0, 90)
    lines = ["整改台账 Excel 加载项", "安装后功能区出现“整改台账”选项卡：汇总报送、刷新统计、标记逾期、生成通报、分发模板、催报。",
             "按钮作用于当前打开的台账工作簿。安装步骤（每台电脑一次）："]
    lines += [f"{i}. {step}" for i, step in enumerate(INSTALL_STEPS, 1)]
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
    modules = sorted(macros.glob("*.bas"))
    ribbon = macros / "customUI.xml"
    if not modules or not ribbon.exists():
        raise SourceError(kind="addin-sources-missing", where=Location(file=str(macros)), folder=macros)
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
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(macros.glob("*.bas")))
    subs = button_functions(source)
    try:
        tree = ET.parse(macros / "customUI.xml")
    except ET.ParseError as exc:
        raise SourceError(kind="ribbon-malformed", where=Location(file="customUI.xml"), detail=str(exc)) from None
    if tree.getroot().tag != f"{{{RIBBON_NS}}}customUI":
        raise SourceError(kind="ribbon-root", where=Location(file="customUI.xml"), namespace=RIBBON_NS)
    ids = [el.get("id") for el in tree.iter() if el.get("id")]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SourceError(kind="ribbon-duplicate-id", where=Location(file="customUI.xml"), ids=twice)
    declared = procedures(source)
    callbacks = [v for el in tree.iter() for k, v in el.attrib.items() if k.startswith(("on", "get"))]
    missing = [a for a in callbacks if a not in declared]
    if missing:
        raise SourceError(kind="ribbon-missing-macro", where=Location(file="customUI.xml"), names=missing)
    wrong = [a for a in callbacks if declared[a] != "control As IRibbonControl" or a not in subs]
    if wrong:
        raise SourceError(kind="ribbon-callback-signature", names=wrong)
    unknown = [f"{sub}→{fn or '?'}" for sub, fn in subs.items() if fn not in BUTTONS]
    if unknown:
        raise SourceError(kind="macro-unknown-function", names=unknown)
    return subs


# ---------------------------------------------------------------- install on an office PC

OFFICE_KEY = r"Software\Microsoft\Office\16.0\Excel"             # Excel 2016, 2019, 2021 and 365
TRUSTED_KEY = OFFICE_KEY + r"\Security\Trusted Locations\ZhenggaiToolkit"
OPTIONS_KEY = OFFICE_KEY + r"\Options"                           # OPEN, OPEN1, ...: add-ins loaded at start
POLICY_COMMON = r"Software\Policies\Microsoft\Office\16.0\Common\Security\Trusted Locations"
POLICY_EXCEL = r"Software\Policies\Microsoft\Office\16.0\Excel\Security\Trusted Locations"


class WinRegistry:
    """The few HKEY_CURRENT_USER operations the install needs (Windows only; tests pass a stand-in)."""

    def __init__(self):
        import winreg
        self.reg = winreg

    def exists(self, key: str) -> bool:
        try:
            self.reg.CloseKey(self.reg.OpenKey(self.reg.HKEY_CURRENT_USER, key))
            return True
        except OSError:
            return False

    def values(self, key: str) -> dict:
        try:
            handle = self.reg.OpenKey(self.reg.HKEY_CURRENT_USER, key)
        except OSError:
            return {}
        out, i = {}, 0
        with handle:
            while True:
                try:
                    name, value, _ = self.reg.EnumValue(handle, i)
                except OSError:
                    return out
                out[name] = value
                i += 1

    def set(self, key: str, name: str, value: str | int) -> None:
        kind = self.reg.REG_DWORD if isinstance(value, int) else self.reg.REG_SZ
        with self.reg.CreateKey(self.reg.HKEY_CURRENT_USER, key) as handle:
            self.reg.SetValueEx(handle, name, 0, kind, value)


@dataclass
class Installed:
    """What `excel install` did, one Chinese line per step; ok is False when a step failed."""
    lines: list[str] = field(default_factory=list)
    ok: bool = True
    addin: Path | None = None


def default_dest() -> Path:
    """The user's Excel add-in folder: %APPDATA%\\Microsoft\\AddIns."""
    return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "Microsoft" / "AddIns"


def install(dest: Path | None = None, windows: bool | None = None, registry=None, run=subprocess.run) -> Installed:
    """Install the buttons for this user: the xlwings add-in, 整改台账.xlam copied into the add-in folder
    and loaded at Excel's start, its folder a trusted location where policy allows. Off Windows the
    Windows-only steps are skipped with a line saying what they would do; dest (--dest) still gets the copy."""
    windows = sys.platform.startswith("win") if windows is None else windows
    done = Installed()
    if windows:
        proc = run([sys.executable, "-c", "from xlwings.cli import main; main()", "addin", "install"],
                   capture_output=True, text=True)
        if proc.returncode == 0:
            done.lines.append("已安装 xlwings 加载项（xlwings addin install）。")
        else:
            reason = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["未知原因"]
            done.ok = False
            done.lines.append(f"xlwings 加载项安装失败（{reason[0]}）。请关闭 Excel 后重新运行，或手动运行 xlwings addin install。")
    else:
        done.lines.append("不是 Windows：跳过 xlwings 加载项（在 Windows 上会运行 xlwings addin install）。")
    if dest is None and not windows:
        done.lines.append(f"不是 Windows 且未指定 --dest：未复制加载项（在 Windows 上会复制到 "
                          f"%APPDATA%\\Microsoft\\AddIns\\{ADDIN_NAME}）。")
        return done
    dest = Path(dest or default_dest())
    target = dest / ADDIN_NAME
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="zg-addin-") as tmp:
            built = next(p for p in build(Path(tmp)) if p.suffix == ".xlam")
            shutil.copyfile(built, target)
    except OSError as exc:
        raise FileAccessError(kind="addin-locked", where=Location(file=str(target)), path=target,
                              detail=exc.strerror or str(exc)) from None
    done.addin = target
    done.lines.append(f"已把加载项复制到 {target}。")
    if not windows:
        done.lines.append("不是 Windows：跳过受信任位置和随 Excel 启动加载的登记（在 Windows 上会写入注册表 "
                          f"HKCU\\{TRUSTED_KEY} 和 HKCU\\{OPTIONS_KEY}）。")
        return done
    registry = registry or WinRegistry()
    if not registry.exists(OFFICE_KEY):
        done.ok = False
        done.lines.append(f"没有找到 Excel 2016 或更高版本（注册表中无 HKCU\\{OFFICE_KEY}）：未登记加载项。"
                          f"请先打开一次 Excel 再重新运行；或在 Excel 中 文件 → 选项 → 加载项 → 转到 → 浏览，选中 {target}。")
        return done
    done.lines += register(registry, target)
    return done


def register(registry, target: Path) -> list[str]:
    """Load target at Excel's start (an OPENn value, as ticking it in the add-ins dialog does) and
    make its folder a trusted location unless policy forbids user locations; one line per step."""
    lines = []
    opened = {n: v for n, v in registry.values(OPTIONS_KEY).items() if n.upper().startswith("OPEN")}
    if any(ADDIN_NAME in str(v) for v in opened.values()):
        lines.append("加载项已设为随 Excel 启动加载。")
    else:
        name = next(n for n in ["OPEN"] + [f"OPEN{i}" for i in range(1, 100)] if n not in opened)
        registry.set(OPTIONS_KEY, name, f'/R "{target}"')
        lines.append(f"已设为随 Excel 启动加载（HKCU\\{OPTIONS_KEY} 中的 {name}）。")
    if registry.values(POLICY_COMMON).get("Allow User Locations") == 0 or \
            registry.values(POLICY_EXCEL).get("AllLocationsDisabled") == 1:
        lines.append(f"单位策略不允许自行添加受信任位置：未登记。请信息部门把 {target.parent} 设为受信任位置，"
                     f"或在 Excel 提示时对加载项点“启用内容”。")
        return lines
    registry.set(TRUSTED_KEY, "Path", str(target.parent) + "\\")
    registry.set(TRUSTED_KEY, "Description", "整改台账加载项")
    lines.append(f"已把 {target.parent} 登记为 Excel 受信任位置（HKCU\\{TRUSTED_KEY}）。")
    return lines
