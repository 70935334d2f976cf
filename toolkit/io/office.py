"""LibreOffice headless: recalculate a workbook or render a workbook/.docx to PDF.

Used to check our files in an independent spreadsheet engine, and by anyone who wants a PDF
of a notice without Word. Each call uses its own profile folder so parallel runs don't clash.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import EnvironmentProblem, MissingProgram


def soffice() -> str | None:
    """Path of the LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def convert(path: Path, fmt: str, outdir: Path, timeout: float = 180, infilter: str | None = None,
            recalc: bool = False) -> Path:
    """Convert path with LibreOffice into outdir (fmt like 'pdf' or 'xlsx'); returns the new file.

    infilter names the import filter when LibreOffice cannot guess it (an .xlam needs
    'Calc MS Excel 2007 VBA XML'). recalc makes LibreOffice recalculate every formula on load
    instead of trusting the cached values."""
    return convert_many([path], fmt, outdir, timeout, infilter, recalc)[0]


def convert_many(paths: list[Path], fmt: str, outdir: Path, timeout: float = 600, infilter: str | None = None,
                 recalc: bool = False, env: dict[str, str] | None = None) -> list[Path]:
    """Convert several files with one LibreOffice process (starting it costs seconds); returns the new files.
    env: the process's environment (e.g. FONTCONFIG_FILE naming extra font folders), else this one's."""
    exe = soffice()
    if not exe:
        raise MissingProgram(kind="soffice-missing")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        if recalc:
            (Path(profile) / "user").mkdir(parents=True)
            (Path(profile) / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               *([f"--infilter={infilter}"] if infilter else []),
               "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    targets = [outdir / (Path(p).stem + "." + fmt.split(":")[0]) for p in paths]
    missing = [t.name for t in targets if not t.exists()]
    if proc.returncode != 0 or missing:
        raise EnvironmentProblem(kind="soffice-failed", missing=missing, detail=proc.stderr.strip() or proc.stdout.strip())
    return targets
