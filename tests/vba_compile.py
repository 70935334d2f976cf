"""Compile a workbook's VBA module with LibreOffice (VBA support mode) and report what compiled.

LibreOffice compiles a module when it stores its library as p-code (a password-protected library
is saved compiled). A syntax error stops its compiler at the first error, so the stored image then
lacks every procedure after it; calling into a broken module instead would hang headless
LibreOffice in its error handling. A Basic macro in a throw-away profile does the loading.
"""
from __future__ import annotations

import html
import os
import shutil
import signal
import struct
import subprocess
import zipfile
from pathlib import Path

CHECKER = '''Sub Log(sOut As String, s As String)
    n = FreeFile
    Open sOut For Append As #n
    Print #n, s
    Close #n
End Sub

Sub Check(sDoc As String, sOut As String, sCalls As String)
    Dim args(1) As New com.sun.star.beans.PropertyValue
    Dim st(0) As New com.sun.star.beans.PropertyValue
    On Error Goto Failed
    args(0).Name = "MacroExecutionMode" : args(0).Value = 4
    args(1).Name = "Hidden" : args(1).Value = True
    oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sDoc), "_blank", 0, args())
    oDoc.BasicLibraries.loadLibrary("VBAProject")
    If sCalls = "" Then
        oDoc.BasicLibraries.changeLibraryPassword("VBAProject", "", "zg")
        st(0).Name = "FilterName" : st(0).Value = "calc8"
        oDoc.storeToURL(ConvertToURL(sOut & ".ods"), st())
    End If
    For Each sName In Split(sCalls, ",")
        oScript = oDoc.getScriptProvider().getScript("vnd.sun.star.script:VBAProject." & sName & "?language=Basic&location=document")
        Log(sOut, sName & "=" & oScript.invoke(Array(), Array(), Array()))
    Next
    Log(sOut, "done")
    Goto Finish
Failed:
    Log(sOut, "ERROR " & Err & " " & Error$)
Finish:
    On Error Resume Next
    oDoc.close(True)
    StarDesktop.terminate()
End Sub
'''


def _soffice(profile: Path, *args: str, timeout: float = 60) -> None:
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def profile(folder: Path) -> Path:
    """A LibreOffice user profile whose Standard library holds the checker macro."""
    _soffice(folder, "--terminate_after_init")
    module = folder / "user" / "basic" / "Standard" / "Module1.xba"
    module.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<script:module xmlns:script="http://openoffice.org/'
                      '2000/script" script:name="Module1" script:language="StarBasic">' + html.escape(CHECKER)
                      + "</script:module>", encoding="utf-8")
    return folder


def run(profile_dir: Path, workbook: Path, workdir: Path, calls: str = "") -> str:
    """Load a copy of workbook; compile-and-store its VBA (calls empty) or call the given Module.Function list."""
    workdir.mkdir(parents=True, exist_ok=True)
    doc = Path(shutil.copy(workbook, workdir / ("book" + workbook.suffix)))
    out = workdir / "log.txt"
    out.unlink(missing_ok=True)
    _soffice(profile_dir, f'macro:///Standard.Module1.Check("{doc}","{out}","{calls}")')
    return out.read_text(encoding="utf-8", errors="replace") if out.exists() else "TIMEOUT"


def compiled_image(profile_dir: Path, workbook: Path, workdir: Path, module: str) -> bytes:
    """The p-code image LibreOffice produced for one VBA module."""
    log = run(profile_dir, workbook, workdir)
    assert "done" in log, log
    with zipfile.ZipFile(workdir / "log.txt.ods") as z:
        return z.read(f"Basic/VBAProject/{module}.bin")


def has_procedure(image: bytes, name: str) -> bool:
    """Whether the compiled image holds a procedure (names are stored length-prefixed)."""
    return struct.pack("<H", len(name)) + name.encode() in image
