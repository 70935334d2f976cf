"""Evidence files sent with the workbook in a .zip: stored untouched per measure with hashes, the
unsafe entries refused by name, the master's 佐证材料 linked to the folder."""
import datetime as dt
import hashlib
import os
import stat
import zipfile
from dataclasses import replace

import openpyxl
import pytest

from tests.conftest import fill, ledger_sheet
from toolkit import vocab
from toolkit.app import Workspace
from toolkit.distribute import distribute
from toolkit.io.evidence import entry_name, match
from toolkit.io.ledger_file import read_ledger

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
    assert stored == ["ZG-002/SHA256SUMS.sha256", "ZG-002/培训通知.pdf", "ZG-004/SHA256SUMS.sha256",
                      "ZG-004/会议照片.png", "ZG-004/整改通知扫描件.pdf"]
    assert (folder / "ZG-004" / "整改通知扫描件.pdf").read_bytes() == SCAN           # untouched
    sums = (folder / "ZG-004" / "SHA256SUMS.sha256").read_text(encoding="utf-8")
    assert f"{hashlib.sha256(SCAN).hexdigest()}  整改通知扫描件.pdf" in sums
    assert not any(p.name == "逃逸.pdf" for p in s.root.rglob("*"))                   # nothing escaped

    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert f"ZG-004：整改通知扫描件.pdf（SHA-256 {hashlib.sha256(SCAN).hexdigest()[:12]}）" in receipt
    assert "ZG-002：培训通知.pdf" in receipt
    refused = receipt[receipt.index("未接收的佐证材料（7个）"):]
    assert "已忽略系统自动生成的文件1个" in receipt and "__MACOSX" not in receipt     # a Mac's companion: quietly
    for entry, why in [("../../逃逸.pdf", "“..”"), ("ZG-004/setup.exe", "可执行程序或脚本（.exe）"),
                       ("ZG-004/run.ps1", "（.ps1）"), ("/etc/cron.d/x.pdf", "绝对路径"),
                       ("ZG-004/link.pdf", "符号链接"), ("散落照片.jpg", "无法对应到措施"),
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
             "ZG-006/统计表.xlsx": b"PK\x03\x04 evidence workbook",             # a workbook inside is only evidence
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
    assert stored == ["ZG-001/SHA256SUMS.sha256", "ZG-001/会议照片.png", "ZG-001/整改通知扫描件.pdf",
                      "ZG-005/SHA256SUMS.sha256", "ZG-005/会议纪要.pdf", "ZG-006/SHA256SUMS.sha256", "ZG-006/统计表.xlsx"]
    assert (folder / "ZG-001" / "会议照片.png").read_bytes() == PHOTO
    sums = (folder / "ZG-001" / "SHA256SUMS.sha256").read_text(encoding="utf-8")
    assert f"{hashlib.sha256(SCAN).hexdigest()}  整改通知扫描件.pdf" in sums
    wb, ws, cols, at = ledger_sheet(s.master)
    cell = ws.cell(at["ZG-001"], cols[vocab.EVIDENCE])
    assert cell.value == "见附件" and cell.hyperlink.target.replace("\\", "/") == "../archive/2024-08/佐证/办公室/ZG-001"

    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "文件“办公室8月报送”" in receipt and "已从文件夹中读取工作簿“办公室.xlsx”" in receipt
    assert f"ZG-001：会议照片.png（SHA-256 {hashlib.sha256(PHOTO).hexdigest()[:12]}）、整改通知扫描件.pdf" in receipt
    assert "ZG-005：会议纪要.pdf" in receipt and "ZG-006：统计表.xlsx" in receipt
    refused = receipt[receipt.index("未接收的佐证材料（4个）"):]
    assert "已忽略系统自动生成的文件1个" in receipt and ".DS_Store”" not in receipt
    for entry, why in [("ZG-001/link.pdf", "符号链接"), ("ZG-001/管道.pdf", "不是普通文件"),
                       ("ZG-006/setup.exe", "可执行程序或脚本（.exe）"), ("~$办公室.xlsx", "临时文件")]:
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
    s = replace(s, settle_seconds=60)
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")
    (sent / "ZG-001" / "整改通知扫描件.pdf").touch()     # the copy is still writing this file
    result = Workspace(s).consolidate()
    assert result.files == [] and [d.name for d in result.deferred] == ["办公室8月报送"]
    assert "尚未复制完" in result.deferred[0].reason and not result.receipts
    assert not list((s.path("archive") / "2024-08").glob("*")) and (sent / "办公室.xlsx").exists()
    s = replace(s, settle_seconds=0)                                # the copy has long finished
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

    def unit_adds_a_scan(ledger, settings, *rest, **named):
        (sent / "ZG-001" / "整改通知扫描件.pdf").write_bytes(SCAN + b" page 2")
        return write(ledger, settings, *rest, **named)
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


# ---------------------------------------------------------------- issue 16: what the attack found

def test_content_that_does_not_match_its_extension_is_refused_and_an_executable_whatever_its_name(workspace):
    s = workspace
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {
        "ZG-004/整改通知.pdf": b"MZ\x90\x00\x03\x00 This program cannot be run in DOS mode",
        "ZG-004/工具.txt": b"\x7fELF\x02\x01\x01",
        "ZG-004/现场照片.jpg": b"%PDF-1.4 not a photo",
        "ZG-004/纪要.docx": b"plain text, not a document",
        "ZG-004/空白.pdf": b"",
        "ZG-004/扫描件.pdf": SCAN, "ZG-004/合影.png": PHOTO, "ZG-004/说明.txt": "说明文字".encode()})
    result = Workspace(s).consolidate()
    folder = s.path("archive") / "2024-08" / "佐证" / "市人民医院" / "ZG-004"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS.sha256", "合影.png", "扫描件.pdf", "说明.txt"]
    receipt = result.receipts[0].read_text(encoding="utf-8")
    refused = receipt[receipt.index("未接收的佐证材料（5个）"):]
    for entry, why in [("整改通知.pdf", "可执行程序或脚本（文件头为MZ）"), ("工具.txt", "文件头为ELF"),
                       ("现场照片.jpg", "内容与扩展名.jpg不符"), ("纪要.docx", "内容与扩展名.docx不符"),
                       ("空白.pdf", "空文件")]:
        assert why in refused.split(f"“ZG-004/{entry}”")[1].splitlines()[0]
    assert "填报内容已正常汇总；未接收的佐证材料请按上述原因改正" in receipt and "所有措施已正常汇总" not in receipt


def test_an_archive_on_another_drive_gets_an_absolute_link_not_a_traceback(workspace, monkeypatch):
    s = workspace
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {"ZG-004/扫描件.pdf": SCAN})

    def windows_relpath(path, start=os.curdir):       # what ntpath does for D:\… from C:\…
        raise ValueError("path is on mount 'D:', start on mount 'C:'")
    monkeypatch.setattr(os.path, "relpath", windows_relpath)
    Workspace(s).consolidate()
    monkeypatch.undo()
    wb, ws, cols, at = ledger_sheet(s.master)
    folder = (s.path("archive") / "2024-08" / "佐证" / "市人民医院" / "ZG-004").resolve()
    assert ws.cell(at["ZG-004"], cols[vocab.EVIDENCE]).hyperlink.target == "file:///" + folder.as_posix().lstrip("/")


def test_links_use_forward_slashes_and_a_blank_cell_says_how_many_files_it_links_to(workspace):
    from toolkit.io import evidence
    s = workspace
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: None}},
            {"ZG-004/扫描件.pdf": SCAN, "ZG-004/合影.png": PHOTO})
    Workspace(s).consolidate()
    wb, ws, cols, at = ledger_sheet(s.master)
    cell = ws.cell(at["ZG-004"], cols[vocab.EVIDENCE])
    assert cell.value == "见归档佐证（2个文件）" and cell.hyperlink.target == "../archive/2024-08/佐证/市人民医院/ZG-004"
    assert read_ledger(s.master, s).measures["ZG-004"].evidence == ""     # the toolkit's own text reads as blank

    # the same name with other bytes, sent later: stored beside the first, and the receipt says under which name
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.PROGRESS: "补充扫描件"}},
            {"ZG-004/扫描件.pdf": b"%PDF-1.4 the second scan"}, name="市人民医院补充.zip")
    os.utime(s.path("inbox") / "市人民医院补充.zip", (OLD + 3600, OLD + 3600))
    result = Workspace(s).consolidate()
    sha = hashlib.sha256(b"%PDF-1.4 the second scan").hexdigest()
    stored = f"扫描件_{sha[:8]}.pdf"
    assert (s.path("archive") / "2024-08" / "佐证" / "市人民医院" / "ZG-004" / stored).exists()
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert f"ZG-004：{stored}（SHA-256 {sha[:12]}，报送时名为“扫描件.pdf”" in receipt
    wb, ws, cols, at = ledger_sheet(s.master)
    assert ws.cell(at["ZG-004"], cols[vocab.EVIDENCE]).value == "见归档佐证（3个文件）"
    assert evidence.SUMS not in receipt


def test_a_file_named_by_two_measures_is_stored_under_both(workspace):
    s = workspace
    package(s, "市人民医院", {"ZG-002": {vocab.EVIDENCE: "整改通知.pdf、培训照片"},
                          "ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "《工作方案》；整改通知.pdf"}},
            {"整改通知.pdf": SCAN})
    result = Workspace(s).consolidate()
    folder = s.path("archive") / "2024-08" / "佐证" / "市人民医院"
    assert (folder / "ZG-002" / "整改通知.pdf").read_bytes() == SCAN == (folder / "ZG-004" / "整改通知.pdf").read_bytes()
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "ZG-002：整改通知.pdf" in receipt and "ZG-004：整改通知.pdf" in receipt


@pytest.mark.parametrize("as_folder, photos", [(False, 1001), (True, 1001), (True, 2500)])
def test_too_many_files_give_their_own_reason_with_the_number(workspace, as_folder, photos):
    from toolkit.io import evidence
    s = workspace
    photos = {f"ZG-004/照片{i:04d}.jpg": b"\xff\xd8\xff" for i in range(photos)}
    if as_folder:
        sent = s.path("inbox") / "市人民医院8月"
        (d,) = distribute(s, ["市人民医院"])
        fill(d.path, {"ZG-004": {vocab.STATUS: "已完成"}}, sent / "市人民医院.xlsx")
        (sent / "ZG-004").mkdir()
        for rel, data in photos.items():
            (sent / rel).write_bytes(data)
    else:
        package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, photos)
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert f.outcome == vocab.OUTCOME_REJECTED
    (problem,) = f.submission.problems
    word = "文件夹" if as_folder else "压缩包"
    assert problem.kind == "package-too-many-files" and problem.fix_kind == "count"
    assert (problem.params["container"], problem.params["limit"]) == (word, evidence.MAX_ENTRIES)
    assert str(problem.params["count"]) == str(len(photos) + 1)      # a folder counts as far as it looks: text


def test_files_the_system_leaves_in_folders_are_skipped_with_one_line(workspace):
    s = workspace
    package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {
        "Thumbs.db": b"\xd0\xcf\x11\xe0 thumbs", "desktop.ini": b"[.ShellClassInfo]", "ZG-004/Thumbs.db": b"\xd0\xcf",
        ".DS_Store": b"\0\0\0\1Bud1", "ZG-004/扫描件.pdf": SCAN})
    result = Workspace(s).consolidate()
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert "已忽略系统自动生成的文件4个" in receipt and "未接收的佐证材料" not in receipt
    assert "Thumbs.db”" not in receipt and "所有措施已正常汇总" in receipt


def test_the_workbook_name_in_a_gbk_zip_reads_like_the_evidence_names(workspace):
    s = workspace
    target = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {"ZG-004/PLACEHOLDER": SCAN},
                     name="gbk.zip")
    raw = target.read_bytes()       # rename the entries in GBK without the UTF-8 flag, as Chinese Windows tools do
    for old, new in [("市人民医院.xlsx", "市人民医院报表.xlsx"), ("ZG-004/PLACEHOLDER", "ZG-004/通知.pdf")]:
        u, (stem, suffix) = old.encode("utf-8"), new.rsplit(".", 1)
        g = stem.encode("gbk") + b"_" * (len(u) - len(new.encode("gbk"))) + f".{suffix}".encode()   # same length
        raw = raw.replace(u, g)
    raw = raw.replace(b"\x00\x08\x08\x00", b"\x00\x00\x08\x00")   # clear the UTF-8 flag (bit 11) where set
    target.write_bytes(raw)
    os.utime(target, (OLD, OLD))
    with zipfile.ZipFile(target) as zf:
        assert [i.flag_bits & 0x800 for i in zf.infolist()] == [0, 0]
    receipt = Workspace(s).consolidate().receipts[0].read_text(encoding="utf-8")
    assert "已从压缩包中读取工作簿“市人民医院报表_.xlsx”" in receipt and "ZG-004：通知___.pdf" in receipt


def test_a_zip_inside_a_folder_is_refused_with_what_to_do(workspace):
    import io
    s = workspace
    sent = s.path("inbox") / "办公室8月报送"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ZG-001/通知.pdf", SCAN)
    folder_package(s, sent, extra={"佐证.zip": buf.getvalue()})
    receipt = Workspace(s).consolidate().receipts[0].read_text(encoding="utf-8")
    line = receipt.split("“佐证.zip”")[1].splitlines()[0]
    assert "是压缩包（.zip）" in line and "请把其中的佐证材料解压出来" in line
    assert "所有措施已正常汇总" not in receipt


def test_a_full_archive_disk_is_named_in_chinese_and_leaves_no_temporary_file(workspace, monkeypatch):
    import errno
    import pathlib

    from toolkit import archive as consolidate_module
    from toolkit.errors import FileAccessError
    s = workspace
    sent = package(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成"}}, {"ZG-004/扫描件.pdf": SCAN})
    real = pathlib.Path.write_bytes

    def full(self, data):
        real(self, data[:3])
        if "佐证" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    with pytest.raises(FileAccessError) as caught:
        Workspace(s).consolidate()
    folder = s.path("archive") / "2024-08" / "佐证" / "市人民医院" / "ZG-004"
    assert str(caught.value).startswith(f"磁盘空间不足，无法写入 {folder}") and sent.exists()
    assert not list(folder.glob(".~tmp-*"))
    monkeypatch.undo()
    (folder / ".~tmp-99999").write_bytes(b"left by a run that was killed")
    Workspace(s).consolidate()
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS.sha256", "扫描件.pdf"] and not sent.exists()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(consolidate_module, "copy_hashed", no_space)
    package(s, "市人民医院", {"ZG-004": {vocab.PROGRESS: "再报"}}, {}, name="再报.zip")
    (deferred,) = Workspace(s).consolidate().deferred
    assert deferred.reason == (f"复制到归档文件夹 {s.path('archive') / '2024-08'} 时出错（磁盘空间不足，请清理该磁盘后"
                               f"重新汇总），原件留在收件箱")


def test_a_folder_copied_with_its_old_times_waits_and_its_late_rest_is_taken_for_the_same_unit(workspace):
    s = workspace
    s = replace(s, settle_seconds=60)
    sent = folder_package(s, s.path("inbox") / "办公室8月报送")    # every time old, as Explorer keeps them
    result = Workspace(s).consolidate()
    assert result.files == [] and "尚未复制完" in result.deferred[0].reason and (sent / "办公室.xlsx").exists()

    s = replace(s, settle_seconds=0)          # taken; then the rest of the copy lands under the same name
    assert Workspace(s).consolidate().files[0].outcome == vocab.OUTCOME_ACCEPTED and not sent.exists()
    (sent / "ZG-001").mkdir(parents=True)
    (sent / "ZG-001" / "现场照片.jpg").write_bytes(b"\xff\xd8\xff late photo")
    (sent / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    result = Workspace(s).consolidate()
    (f,) = result.files
    assert (f.outcome, f.accepted, f.unit) == (vocab.OUTCOME_ACCEPTED, 0, "办公室") and not sent.exists()
    folder = s.path("archive") / "2024-08" / "佐证" / "办公室" / "ZG-001"
    assert (folder / "现场照片.jpg").read_bytes() == b"\xff\xd8\xff late photo"
    receipt = result.receipts[0].read_text(encoding="utf-8")
    assert receipt.startswith("办公室：") and "ZG-001：现场照片.jpg" in receipt and "其余部分（复制时后到）" in receipt

    other = s.path("inbox") / "补充材料"        # no workbook, and nothing sent under that name before
    (other / "ZG-001").mkdir(parents=True)
    (other / "ZG-001" / "照片.jpg").write_bytes(b"\xff\xd8\xff")
    (f,) = Workspace(s).consolidate().files
    (problem,) = f.submission.problems
    assert problem.kind == "package-without-workbook" and problem.params == {"container": "文件夹", "count": 1}
    assert problem.fix_kind == "package-without-workbook"
