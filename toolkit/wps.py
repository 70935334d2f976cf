"""The WPS add-in (WPS加载项, JavaScript): built from macros/wps/, installed into the user's jsaddons folder.

WPS loads an offline add-in named in jsaddons/publish.xml (<jsplugin name type url="<name>_<version>"
version enable install customDomain/>, the form wpsjs's offline build writes) from the folder
jsaddons/<name>_<version>/: its index.html runs hidden, ribbon.xml's callbacks are functions of that
page, manifest.xml names it as wpsjs's templates do. The page is a file, so
it cannot be handed the token the way the console is (by the service, same origin): `install`
writes config.js into the installed folder, readable by this user only, holding the port and the
workspace's token. The service lets a file page in only with that token (serve.ADDIN_ORIGINS).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, resources
from .errors import MissingProgram, SourceError
from .problems import Location
from .serve import DEFAULT_PORT, STATE_FILE, ensure_token

NAME = "zhenggai"
SOURCES = resources.folder("macros") / "wps"
CALLBACK = re.compile(r"^(on[A-Z]\w*|get[A-Z]\w*)$")
JS_FUNCTION = re.compile(r"(?:global\.(\w+)\s*=\s*function|^function\s+(\w+)\s*\()", re.M)


def folder_name(version: str = __version__) -> str:
    return f"{NAME}_{version}"


def check_sources(sources: Path = SOURCES) -> list[str]:
    """The ribbon is well-formed XML and every callback it names is a function the add-in's script defines."""
    try:
        tree = ET.parse(sources / "ribbon.xml")
    except (ET.ParseError, OSError) as exc:
        raise SourceError(kind="wps-ribbon-malformed", where=Location(file="ribbon.xml"), detail=str(exc)) from None
    defined = {a or b for a, b in JS_FUNCTION.findall((sources / "js" / "ribbon.js").read_text(encoding="utf-8"))}
    callbacks = [v for el in tree.iter() for k, v in el.attrib.items() if CALLBACK.match(k)]
    missing = [c for c in callbacks if c not in defined]
    if missing:
        raise SourceError(kind="wps-ribbon-missing-function", where=Location(file="js/ribbon.js"), names=missing)
    ids = [el.get("id") for el in tree.iter() if el.get("id")]
    if len(ids) != len(set(ids)):
        raise SourceError(kind="wps-ribbon-duplicate-id", where=Location(file="ribbon.xml"))
    if not (sources / "ribbon.xml").read_text(encoding="utf-8").lstrip("\ufeff").startswith("<customUI"):
        raise SourceError(kind="wps-ribbon-declaration", where=Location(file="ribbon.xml"))
    try:
        name = ET.parse(sources / "manifest.xml").getroot().findtext("Name")
    except (ET.ParseError, OSError) as exc:
        raise SourceError(kind="wps-manifest-malformed", where=Location(file="manifest.xml"), detail=str(exc)) from None
    if name != NAME:
        raise SourceError(kind="wps-manifest-name", where=Location(file="manifest.xml"), expected=NAME, found=name)
    return callbacks


def config_js(port: int = DEFAULT_PORT, token: str = "", root: str = "") -> str:
    data = json.dumps({"port": port, "token": token, "root": root}, ensure_ascii=False)
    return f"/* written by python -m toolkit wps install: the service's port and this workspace's token */\n" \
           f"window.ZHENGGAI_CONFIG = {data};\n"


def build(out_dir: Path, sources: Path = SOURCES) -> Path:
    """out_dir/zhenggai_<version>/: ribbon.xml, index.html, js/ and a config.js without a token."""
    check_sources(sources)
    target = Path(out_dir) / folder_name()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(sources, target)
    (target / "config.js").write_text(config_js(), encoding="utf-8")
    return target


def jsaddons_dir(windows: bool | None = None) -> Path:
    """WPS's per-user add-in folder: %APPDATA%\\kingsoft\\wps\\jsaddons, ~/.local/share/Kingsoft/wps/jsaddons."""
    windows = sys.platform == "win32" if windows is None else windows
    if windows:
        appdata = os.environ.get("APPDATA")
        if not appdata:
            raise MissingProgram(kind="wps-folder-unknown")
        return Path(appdata) / "kingsoft" / "wps" / "jsaddons"
    return Path(os.environ.get("HOME") or Path.home()) / ".local" / "share" / "Kingsoft" / "wps" / "jsaddons"


def publish_entry(folder: Path) -> ET.Element:
    """Our line in publish.xml: an offline add-in for WPS 表格 (et), found by its folder's name in jsaddons."""
    return ET.Element("jsplugin", {"name": NAME, "type": "et", "url": folder.name, "version": __version__,
                                   "enable": "enable_dev", "install": "null", "customDomain": ""})


def register(publish: Path, folder: Path | None) -> None:
    """Put (folder) or take (None) our entry in publish.xml, keeping every other add-in's entries."""
    if publish.exists() and publish.read_text(encoding="utf-8").strip():
        try:
            root = ET.parse(publish).getroot()
        except ET.ParseError as exc:
            raise SourceError(kind="wps-publish-malformed", where=Location(file=str(publish)), path=publish, detail=str(exc)) from None
    else:
        root = ET.Element("jsplugins")
    for el in [el for el in root if el.get("name") == NAME]:
        root.remove(el)
    if folder is not None:
        root.append(publish_entry(folder))
    ET.indent(root)
    tmp = publish.with_suffix(".xml.tmp")
    tmp.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n")
    os.replace(tmp, publish)


@dataclass
class Installed:
    folder: Path
    publish: Path
    port: int
    lines: list[str] = field(default_factory=list)


def service_port(root: Path) -> int:
    """The port the workspace's service runs on (its serve.json), else the default."""
    try:
        return int(json.loads((Path(root) / STATE_FILE).read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_PORT


def install(root: Path, dest: Path | None = None, port: int | None = None, windows: bool | None = None) -> Installed:
    """Build the add-in into jsaddons/zhenggai_<version>/ with this workspace's token and port, replace older
    versions of it, and register it in publish.xml."""
    jsaddons = Path(dest) if dest else jsaddons_dir(windows)
    jsaddons.mkdir(parents=True, exist_ok=True)
    for old in jsaddons.glob(f"{NAME}_*"):
        if old.is_dir():
            shutil.rmtree(old)
    folder = build(jsaddons)
    port = port or service_port(root)
    config = folder / "config.js"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(config_js(port, ensure_token(root), str(Path(root).resolve())))
    os.chmod(config, 0o600)
    publish = jsaddons / "publish.xml"
    register(publish, folder)
    return Installed(folder, publish, port, [
        f"已安装 WPS 加载项：{folder}", f"已登记到：{publish}",
        f"加载项连接 http://127.0.0.1:{port}/（工作文件夹 {Path(root).resolve()} 的服务）。",
        "请重启 WPS 表格，功能区会出现“整改台账”选项卡；点按钮前须先运行服务：python -m toolkit serve -c 工作文件夹。"])


def uninstall(dest: Path | None = None, windows: bool | None = None) -> list[str]:
    jsaddons = Path(dest) if dest else jsaddons_dir(windows)
    removed = [p for p in jsaddons.glob(f"{NAME}_*") if p.is_dir()]
    for p in removed:
        shutil.rmtree(p)
    if (jsaddons / "publish.xml").exists():
        register(jsaddons / "publish.xml", None)
    return [f"已删除：{p}" for p in removed] or ["没有找到已安装的整改台账 WPS 加载项。"]
