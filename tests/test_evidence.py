"""Evidence files sent with the workbook in a .zip: stored untouched per measure with hashes, the
unsafe entries refused by name, the master's 佐证材料 linked to the folder."""
import datetime as dt
import hashlib
import os
import stat
import zipfile

import openpyxl

from toolkit import vocab
from toolkit.app import Workspace
from toolkit.distribute import distribute
from toolkit.io.evidence import entry_name, match
from tests.conftest import fill, ledger_sheet

SCAN = b"%PDF-1.4 scan of the notice"
PHOTO = b"\x89PNG\r\n\x1a\n photo of the meeting"


def package(settings, unit, rows, entries: dict[str, bytes], name="市人民医院佐证.zip", links=()):
    """The unit's filled workbook zipped with the given evidence entries (and symlink entries)."""
    (d,) = distribute(settings, [unit])
    book = fill(d.path, rows, settings.root / "filled.xlsx")
    target = settings.path("inbox") / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(book, f"{unit}.xlsx")
        for entry, data in entries.items():
            zf.writestr(entry, data)
        for entry in links:
            info = zipfile.ZipInfo(entry)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    when = dt.datetime(2024, 8, 20, 10, 0).timestamp()
    os.utime(target, (when, when))
    return target


def test_a_zip_brings_evidence_per_measure_and_unsafe_entries_are_refused_by_name(workspace):
    s = workspace
    rows = {"ZG-002": {vocab.STATUS: "正在推进", vocab.EVIDENCE: "培训通知.pdf"},
            "ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "见附件"}}
    package(s, "市人民医院", rows, {
        "ZG-004/整改通知扫描件.pdf": SCAN,
        "ZG-004/会议照片.png": PHOTO,
        "培训通知.pdf": b"%PDF-1.4 training notice",               # matched by the name in 佐证材料
        "../../逃逸.pdf": b"%PDF outside",                            # path traversal
        "ZG-004/setup.exe": b"MZ\x90\x00",                           # executable
        "ZG-004/run.ps1": b"Remove-Item -Recurse C:\\",              # script
        "/etc/cron.d/x.pdf": b"%PDF absolute",                       # absolute path
        "散落照片.jpg": b"\xff\xd8 unmatched",                        # no measure to put it under
        "ZG-001/别人的.pdf": b"%PDF someone else's",                  # ZG-001 is not 市人民医院's
        "__MACOSX/ZG-004/._会议照片.png": b"resource fork"},             # a Mac's hidden companion file
        links=["ZG-004/link.pdf"])
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_ACCEPTED and f.accepted == 2

    folder = s.path("archive") / "2024-08" / "佐证" / "市人民医院"
    stored = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert stored == ["ZG-002/SHA256SUMS.txt", "ZG-002/培训通知.pdf", "ZG-004/SHA256SUMS.txt",
                      "ZG-004/会议照片.png", "ZG-004/整改通知扫描件.pdf"]
    assert (folder / "ZG-004" / "整改通知扫描件.pdf").read_bytes() == SCAN           # untouched
    sums = (folder / "ZG-004" / "SHA256SUMS.txt").read_text(encoding="utf-8")
    assert f"{hashlib.sha256(SCAN).hexdigest()}  整改通知扫描件.pdf" in sums
    assert not any(p.name == "逃逸.pdf" for p in s.root.rglob("*"))                   # nothing escaped

    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert f"ZG-004：整改通知扫描件.pdf（SHA-256 {hashlib.sha256(SCAN).hexdigest()[:12]}）" in receipt
    assert "ZG-002：培训通知.pdf" in receipt
    refused = receipt[receipt.index("未接收的佐证材料（8个）"):]
    for entry, why in [("../../逃逸.pdf", "“..”"), ("ZG-004/setup.exe", "可执行程序或脚本（.exe）"),
                       ("ZG-004/run.ps1", "（.ps1）"), ("/etc/cron.d/x.pdf", "绝对路径"),
                       ("ZG-004/link.pdf", "符号链接"), ("散落照片.jpg", "无法对应到措施"),
                       ("__MACOSX/ZG-004/._会议照片.png", "隐藏文件"),
                       ("ZG-001/别人的.pdf", "“ZG-001”不是本单位承担的措施编号")]:
        assert f"“{entry}”" in refused and why in refused.split(f"“{entry}”")[1].splitlines()[0]

    wb, ws, cols, at = ledger_sheet(s.master)
    cell = ws.cell(at["ZG-004"], cols[vocab.EVIDENCE])
    assert cell.value == "见附件"                                 # the text stays, the link is added
    assert cell.hyperlink.target.replace("\\", "/") == "../archive/2024-08/佐证/市人民医院/ZG-004"
    assert ws.cell(at["ZG-001"], cols[vocab.EVIDENCE]).hyperlink is None


def test_a_zip_bomb_is_refused_whole_and_nothing_is_unpacked(workspace):
    s = workspace
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {"ZG-004/炸弹.pdf": b"\0" * (30 << 20)})
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_REJECTED
    assert "压缩比异常" in result.receipts[0].read_text(encoding="utf-8")
    assert not (s.path("archive") / "2024-08" / "佐证").exists()
    assert openpyxl.load_workbook(s.master)[vocab.SHEET_LEDGER] is not None


def test_an_entry_named_in_gbk_by_a_chinese_windows_zip_tool_keeps_its_chinese_name():
    info = zipfile.ZipInfo("ZG-004/整改通知.pdf".encode("gbk").decode("cp437"))
    info.flag_bits = 0                       # no UTF-8 flag: the name bytes are the system's code page
    assert entry_name(info) == "ZG-004/整改通知.pdf"
    (f,) = match([info], ["ZG-004"], {})
    assert (f.name, f.measure_id, f.reason) == ("ZG-004/整改通知.pdf", "ZG-004", "")
