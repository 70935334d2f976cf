"""Start the service with the user's session, per user and without administrator rights.

Windows: a .cmd in the user's Startup folder (%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs\\Startup)
starting pythonw minimised. Linux: an XDG autostart entry (~/.config/autostart/*.desktop), which every
desktop of UOS, Kylin and the common distributions runs at login; a systemd user unit is not used, as
not every UOS/Kylin session runs a user manager and the two would start the service twice. One entry
per workspace, named by a hash of its folder, so two workspaces can each have theirs.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path, PureWindowsPath

from .errors import MissingProgram


def _name(root: Path) -> str:
    return "zhenggai-serve-" + hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:8]


def _windows(windows: bool | None) -> bool:
    return sys.platform == "win32" if windows is None else windows


def entry_path(root: Path, windows: bool | None = None) -> Path:
    """Where the workspace's start-at-login entry goes for this user."""
    if _windows(windows):
        appdata = os.environ.get("APPDATA")
        if not appdata:
            raise MissingProgram(kind="startup-folder-unknown")
        return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / f"{_name(root)}.cmd"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path(os.environ.get("HOME") or Path.home()) / ".config")
    return Path(config) / "autostart" / f"{_name(root)}.desktop"


def _desktop_arg(text: str) -> str:
    """One Exec argument, quoted by the Desktop Entry rules (and % doubled)."""
    text = text.replace("%", "%%")
    if text and not any(c in text for c in ' \t"\'\\`$<>|&;*?#()'):
        return text
    return '"' + "".join("\\" + c if c in '"`$\\' else c for c in text) + '"'


def entry_text(root: Path, port: int, windows: bool | None = None, python: str | None = None) -> str:
    root = Path(root).resolve()
    python = python or sys.executable
    if _windows(windows):
        # pythonw.exe beside python.exe: no console window at login
        exe = str(PureWindowsPath(python).with_name("pythonw.exe")) if PureWindowsPath(python).name.lower() == "python.exe" \
            else python
        return "\r\n".join(["@echo off", "rem 整改台账服务：随登录启动（python -m toolkit serve --install 写入，--uninstall 删除）",
                            "chcp 65001 >nul", f'cd /d "{root}"',
                            f'start "整改台账服务" /min "{exe}" -m toolkit serve -c "{root}" --port {port}', ""])
    command = " ".join(_desktop_arg(a) for a in [python, "-m", "toolkit", "serve", "-c", str(root), "--port", str(port)])
    return "\n".join(["[Desktop Entry]", "Type=Application", f"Name=整改台账服务（{root.name}）",
                      f"Comment=整改台账工具的常驻服务：控制台、按钮接口和定时运行（{root}）", f"Exec={command}",
                      f"Path={root}", "Terminal=false", "NoDisplay=true", "X-GNOME-Autostart-enabled=true", ""])


def install(root: Path, port: int, windows: bool | None = None, python: str | None = None) -> list[str]:
    path = entry_path(root, windows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(entry_text(root, port, windows, python).encode("utf-8"))
    return [f"已登记随登录启动：{path}", f"下次登录时服务在 http://127.0.0.1:{port}/ 启动；现在就用，请运行："
            f"python -m toolkit serve -c {Path(root).resolve()}" + (f" --port {port}" if port != 8765 else "")]


def uninstall(root: Path, windows: bool | None = None) -> list[str]:
    path = entry_path(root, windows)
    if not path.exists():
        return [f"没有登记随登录启动（{path} 不存在）。"]
    path.unlink()
    return [f"已删除随登录启动的登记：{path}（正在运行的服务不受影响）。"]


def installed(root: Path, windows: bool | None = None) -> Path | None:
    path = entry_path(root, windows)
    return path if path.exists() else None
