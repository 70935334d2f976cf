"""Evidence files sent with the workbook in a .zip: stored untouched per measure with hashes, the
unsafe entries refused by name, the master's 佐证材料 linked to the folder."""
import datetime as dt
import hashlib
import os
import stat
import zipfile

import openpyxl
import pytest

from toolkit import vocab
from toolkit.app import Workspace
from toolkit.distribute import distribute
from toolkit.io.evidence import entry_name, match
from toolkit.io.ledger_file import read_ledger
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


# ---------------------------------------------------------------- a plain folder in the inbox

OLD = dt.datetime(2024, 8, 20, 10, 0).timestamp()


def folder_package(settings, root, unit="办公室", books=1, extra: dict[str, bytes] | None = None):
    """A unit's folder as offices copy it: the filled workbook at the top, evidence in sub-folders per
    编号 or named in 佐证材料, an executable, an Excel owner file and a Mac's .DS_Store; every time old."""
    (d,) = distribute(settings, [unit])
    rows = {"ZG-001": {vocab.STATUS: "已完成", vocab.EVIDENCE: "见附件"},
            "ZG-005": {vocab.EVIDENCE: "会议纪要.pdf"},
            "ZG-006": {vocab.PROGRESS: "已建立台账"}}
    for i in range(books):
        fill(d.path, rows, root / (f"{unit}.xlsx" if i == 0 else f"{unit}（第{i + 1}版）.xlsx"))
    files = {"ZG-001/整改通知扫描件.pdf": SCAN, "ZG-001/会议照片.png": PHOTO,
             "会议纪要.pdf": b"%PDF-1.4 minutes",                    # named in ZG-005's 佐证材料
             "ZG-006/统计表.xlsx": b"PK evidence workbook",             # a workbook inside is only evidence
             "ZG-006/setup.exe": b"MZ\x90\x00",
             "~$办公室.xlsx": b"owner", ".DS_Store": b"mac"}
    for rel, data in {**files, **(extra or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            os.utime(p, (OLD, OLD))
    return root


def test_a_folder_is_taken_like_a_zip_and_resending_it_is_a_duplicate(workspace, tmp_path):
    s = workspace
    sent = s.path("inbox") / "办公室8月报送"
    folder_package(s, sent)
    os.mkfifo(tmp_path / "外部管道")                    # a link out of the folder: reading it would hang
    (sent / "ZG-001" / "link.pdf").symlink_to(tmp_path / "外部管道")
    os.mkfifo(sent / "ZG-001" / "管道.pdf")
    for p in (sent / "ZG-001", sent / "ZG-001" / "管道.pdf", sent / "ZG-001" / "link.pdf"):
        os.utime(p, (OLD, OLD), follow_symlinks=False)
    copied = {p.relative_to(sent): p.read_bytes() for p in sent.rglob("*") if p.is_file()}
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.submission.name == "办公室8月报送" and f.outcome == vocab.OUTCOME_ACCEPTED and f.accepted == 3
    assert f.archived.name.startswith("办公室_20240820-100000_") and f.archived.suffix == ".zip"
    with zipfile.ZipFile(f.archived) as zf:             # every regular file, byte for byte, nothing else
        assert zf.read("ZG-001/整改通知扫描件.pdf") == SCAN and "ZG-001/link.pdf" not in zf.namelist()
    assert not sent.exists()                            # archived and verified: removed from the inbox

    folder = s.path("archive") / "2024-08" / "佐证" / "办公室"
    stored = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert stored == ["ZG-001/SHA256SUMS.txt", "ZG-001/会议照片.png", "ZG-001/整改通知扫描件.pdf",
                      "ZG-005/SHA256SUMS.txt", "ZG-005/会议纪要.pdf", "ZG-006/SHA256SUMS.txt", "ZG-006/统计表.xlsx"]
    assert (folder / "ZG-001" / "会议照片.png").read_bytes() == PHOTO
    sums = (folder / "ZG-001" / "SHA256SUMS.txt").read_text(encoding="utf-8")
    assert f"{hashlib.sha256(SCAN).hexdigest()}  整改通知扫描件.pdf" in sums
    wb, ws, cols, at = ledger_sheet(s.master)
    cell = ws.cell(at["ZG-001"], cols[vocab.EVIDENCE])
    assert cell.value == "见附件" and cell.hyperlink.target.replace("\\", "/") == "../archive/2024-08/佐证/办公室/ZG-001"

    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "文件“办公室8月报送”" in receipt and "已从文件夹中读取工作簿“办公室.xlsx”" in receipt
    assert f"ZG-001：会议照片.png（SHA-256 {hashlib.sha256(PHOTO).hexdigest()[:12]}）、整改通知扫描件.pdf" in receipt
    assert "ZG-005：会议纪要.pdf" in receipt and "ZG-006：统计表.xlsx" in receipt
    refused = receipt[receipt.index("未接收的佐证材料（5个）"):]
    for entry, why in [("ZG-001/link.pdf", "符号链接"), ("ZG-001/管道.pdf", "不是普通文件"),
                       ("ZG-006/setup.exe", "可执行程序或脚本（.exe）"), ("~$办公室.xlsx", "临时文件"),
                       (".DS_Store", "隐藏文件")]:
        assert f"“{entry}”" in refused and why in refused.split(f"“{entry}”")[1].splitlines()[0]

    for rel, data in copied.items():                     # the same folder sent again, copied anew
        (sent / rel).parent.mkdir(parents=True, exist_ok=True)
        (sent / rel).write_bytes(data)
    for p in [sent, *sent.rglob("*")]:
        os.utime(p, (OLD + 86400, OLD + 86400))
    again = Workspace(s).consolidate()
    assert [x.outcome for x in again.files] == [vocab.OUTCOME_DUPLICATE] and again.files[0].archived == f.archived
    assert not sent.exists() and sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                        if p.is_file()) == stored


def test_a_folder_still_being_copied_is_deferred_untouched(workspace):
    s = workspace
    s.settle_seconds = 60
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")
    (sent / "ZG-001" / "整改通知扫描件.pdf").touch()     # the copy is still writing this file
    result = Workspace(s).consolidate()
    assert result.files == [] and [d.name for d in result.deferred] == ["办公室8月报送"]
    assert "尚未复制完" in result.deferred[0].reason and not result.receipts
    assert not list((s.path("archive") / "2024-08").glob("*")) and (sent / "办公室.xlsx").exists()
    os.utime(sent / "ZG-001" / "整改通知扫描件.pdf", (OLD, OLD))
    assert Workspace(s).consolidate().files[0].outcome == vocab.OUTCOME_ACCEPTED and not sent.exists()


@pytest.mark.parametrize("change", ["appears", "vanishes", "grows"])
def test_a_folder_changing_during_the_snapshot_is_deferred(workspace, monkeypatch, change):
    from toolkit.io import evidence
    s = workspace
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")
    open_inside = evidence._open_inside

    def copying_goes_on(root, rel):
        fh = open_inside(root, rel)
        if rel == "ZG-001/会议照片.png":
            if change == "appears":
                (sent / "ZG-001" / "第二张照片.png").write_bytes(PHOTO)
            elif change == "vanishes":
                (sent / "会议纪要.pdf").unlink()
            else:
                with open(sent / "ZG-001" / "会议照片.png", "ab") as more:
                    more.write(b"more")
        return fh
    monkeypatch.setattr(evidence, "_open_inside", copying_goes_on)
    result = Workspace(s).consolidate()
    assert result.files == [] and not result.receipts and "尚未复制完" in result.deferred[0].reason
    assert not list((s.path("archive") / "2024-08").glob("*")) and (sent / "办公室.xlsx").exists()


def test_a_folder_changed_after_its_snapshot_stays_in_the_inbox(workspace, monkeypatch):
    from toolkit.io import master_file
    s = workspace
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")
    write = master_file.write_master

    def unit_adds_a_scan(ledger, settings, *rest):
        (sent / "ZG-001" / "整改通知扫描件.pdf").write_bytes(SCAN + b" page 2")
        return write(ledger, settings, *rest)
    monkeypatch.setattr(master_file, "write_master", unit_adds_a_scan)
    result = Workspace(s).consolidate()
    assert result.files[0].outcome == vocab.OUTCOME_ACCEPTED
    assert [k.reason for k in result.kept] == ["文件夹中的文件在汇总期间被改动，留待下次汇总"]
    assert sorted(p.name for p in sent.iterdir()) == [".DS_Store", "ZG-001", "ZG-006", "~$办公室.xlsx",
                                                      "会议纪要.pdf", "办公室.xlsx"]


def test_a_folder_with_two_workbooks_is_rejected_with_its_receipt(workspace):
    s = workspace
    sent = folder_package(s, s.path("inbox") / "办公室8月报送", books=2)
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_REJECTED and f.archived is not None and not sent.exists()   # as a .zip
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "文件夹最外层应有且只有一个填报的工作簿，发现办公室.xlsx、办公室（第2版）.xlsx" in receipt
    assert "重新报送整个文件夹" in receipt and "已正常汇总" not in receipt
    assert not (s.path("archive") / "2024-08" / "佐证").exists()
    assert read_ledger(s.master).measures["ZG-001"].status == vocab.IN_PROGRESS


def test_a_folder_nested_too_deep_is_refused_without_a_copy_and_stays(workspace):
    from toolkit.io import evidence
    s = workspace
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")
    deep = sent.joinpath(*["层"] * evidence.MAX_DEPTH)
    deep.mkdir(parents=True)
    (deep / "照片.jpg").write_bytes(b"\xff\xd8")
    for p in [sent, *sent.rglob("*")]:
        os.utime(p, (OLD, OLD))
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_REJECTED and f.archived is None and sent.exists()
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert f"文件夹层级过深（超过{evidence.MAX_DEPTH}层" in receipt and "原件留在收件箱" in receipt


def test_the_toolkits_own_folders_inside_the_inbox_are_not_submissions(workspace):
    s = workspace
    s.paths["output"] = "inbox/输出"
    Workspace(s).consolidate()                        # writes its own files into inbox/输出
    (s.path("inbox") / "输出" / "说明.pdf").write_bytes(b"%PDF")
    result = Workspace(s).consolidate()
    assert result.files == [] and [(i.name, i.reason) for i in result.ignored] == [
        ("输出", "本工具自己的文件夹（归档、输出等），不是报送材料")]


def test_entries_nested_too_deep_or_with_too_long_a_name_are_refused_in_a_zip_too():
    from toolkit.io import evidence
    deep = zipfile.ZipInfo("/".join(["ZG-004"] * evidence.MAX_DEPTH) + "/照片.jpg")
    long = zipfile.ZipInfo("ZG-004/" + "长" * 70 + ".pdf")              # 210 bytes in UTF-8
    fine = zipfile.ZipInfo("ZG-004/" + "长" * 60 + ".pdf")
    out = match([deep, long, fine], ["ZG-004"], {})
    assert [f.reason[:6] for f in out] == ["所在文件夹层", "文件名过长（", ""]
