"""Evidence files (佐证材料) sent with the workbook in one .zip: the workbook is read as usual, each
other file is matched to a measure (a sub-folder named by its 编号, or its name written in the row's
佐证材料) and stored untouched under archive/<期次>/佐证/<单位>/<编号>/ with its SHA-256.

Nothing in a package is trusted: oversized or over-compressed packages are refused whole; an entry
with an absolute path or '..', a link, an executable or script, or a type that is not a document,
image, PDF or Office file is refused by name; everything else is copied byte for byte.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..rules import normalize

MAX_PACKAGE_MB = 200          # a package's size on disk
MAX_UNPACKED_MB = 500         # all its entries unpacked
MAX_RATIO = 100               # unpacked / packed, for any entry over 1 MB unpacked
MAX_ENTRIES = 1000
MAX_EVIDENCE_MB = 100         # one evidence file
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ods"}
ALLOWED_SUFFIXES = {".pdf", ".ofd", ".doc", ".docx", ".wps", ".rtf", ".txt", ".odt", ".xls", ".xlsx", ".et", ".ods",
                    ".ppt", ".pptx", ".dps", ".odp", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff",
                    ".webp", ".heic"}
EXECUTABLE_SUFFIXES = {".exe", ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".hta",
                       ".sh", ".dll", ".scr", ".msi", ".com", ".cpl", ".jar", ".lnk", ".reg", ".py", ".pif"}
FOLDER = "佐证"
SUMS = "SHA256SUMS.txt"


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence entry of a package, matched to a measure (stored) or refused with the reason."""
    name: str                 # the entry's path as the sender named it
    member: str               # the entry's name in the zip directory (to read it by)
    measure_id: str = ""
    reason: str = ""          # why it was refused ('' : accepted)
    sha256: str = ""          # filled in once stored


_ID_LIKE = re.compile(r"[A-Za-z]{1,6}[-_]?\d{1,6}")     # folder names that look like a measure's 编号


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's path as the sender's system wrote it: zip tools on Chinese Windows store GBK names
    without the UTF-8 flag, which Python reads as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class PackageError(ValueError):
    """The package as a whole cannot be taken in (the message says why, in Chinese)."""


def is_package(path: Path) -> bool:
    """A .zip that is not itself an Office file: a workbook with its evidence."""
    try:
        with zipfile.ZipFile(path) as zf:
            return "[Content_Types].xml" not in zf.namelist() and "mimetype" not in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _unsafe(info: zipfile.ZipInfo) -> str:
    """Why an entry may not be unpacked ('' when it may)."""
    name = entry_name(info).replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "使用绝对路径，可能覆盖本机文件，已拒收"
    if ".." in PurePosixPath(name).parts:
        return "路径含“..”（指向包外的位置），已拒收"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "是快捷方式（符号链接），已拒收"
    if "__MACOSX" in PurePosixPath(name).parts or PurePosixPath(name).name.startswith((".", "~$")):
        return "是系统生成的隐藏文件或临时文件，未保存"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in EXECUTABLE_SUFFIXES:
        return f"是可执行程序或脚本（{suffix}），已拒收"
    if suffix not in ALLOWED_SUFFIXES:
        return f"文件类型{suffix or '（无扩展名）'}不在接收范围（文档、图片、PDF、Office文件），已拒收"
    if info.file_size > MAX_EVIDENCE_MB * 1048576:
        return f"文件过大（{info.file_size / 1048576:.0f}MB，上限{MAX_EVIDENCE_MB}MB），已拒收"
    return ""


def open_package(path: Path) -> tuple[str, list[zipfile.ZipInfo]]:
    """(the workbook's entry name, the other file entries) of a package; PackageError when the
    package is too big, a zip bomb, or has no single workbook outside the 编号 sub-folders."""
    if Path(path).stat().st_size > MAX_PACKAGE_MB * 1048576:
        raise PackageError(f"压缩包过大（上限{MAX_PACKAGE_MB}MB）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackageError("压缩包已损坏，无法打开") from None
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_ENTRIES or total > MAX_UNPACKED_MB * 1048576 or any(
            i.file_size > 1048576 and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        raise PackageError(f"压缩包解压后过大或压缩比异常（{len(infos)}个文件，共{total / 1048576:.0f}MB），疑似异常文件")
    books = [i for i in infos if PurePosixPath(i.filename).suffix.lower() in WORKBOOK_SUFFIXES
             and len(PurePosixPath(i.filename).parts) <= 2 and not _unsafe(i)
             and not PurePosixPath(i.filename).name.startswith(("~$", "."))]
    books = [i for i in books if len(PurePosixPath(i.filename).parts) == min(len(PurePosixPath(b.filename).parts)
                                                                             for b in books)]
    if len(books) != 1:
        found = "、".join(i.filename for i in books)
        raise PackageError(f"压缩包最外层应有且只有一个填报的工作簿，{'发现' + found if found else '没有找到'}")
    return books[0].filename, [i for i in infos if i is not books[0]]


def extract_workbook(path: Path, member: str, target: Path) -> None:
    """Copy the workbook entry out of the package (at most its declared size is read)."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as src, open(target, "wb") as out:
        limit = zf.getinfo(member).file_size
        while block := src.read(min(1 << 20, limit + 1)):
            limit -= len(block)
            if limit < 0:
                raise PackageError("压缩包中工作簿的实际大小与声明不符")
            out.write(block)


def match(infos: list[zipfile.ZipInfo], own_ids: list[str], evidence_texts: dict[str, str]) -> list[EvidenceFile]:
    """Each entry matched to one of the unit's measures: a path folder named by the 编号, else the
    row whose 佐证材料 mentions the file's name; refused (named, with the reason) otherwise."""
    ids = {normalize.clean_key(i): i for i in own_ids}
    out = []
    for info in infos:
        name = entry_name(info)
        if reason := _unsafe(info):
            out.append(EvidenceFile(name, info.filename, reason=reason))
            continue
        path = PurePosixPath(name.replace("\\", "/"))
        mid = next((ids[normalize.clean_key(p)] for p in path.parts[:-1] if normalize.clean_key(p) in ids), "")
        if not mid:
            mid = next((m for m, text in evidence_texts.items()
                        if path.name in text or (len(path.stem) >= 4 and path.stem in text)), "")
        folders = [p for p in path.parts[:-1] if _ID_LIKE.fullmatch(normalize.clean_key(p))]
        if mid:
            out.append(EvidenceFile(name, info.filename, mid))
        elif folders:      # a folder named like an 编号, but not one of this unit's measures
            out.append(EvidenceFile(name, info.filename, reason=f"文件夹“{folders[0]}”不是本单位承担的措施编号，"
                                                                 f"无法对应到措施，未保存"))
        else:
            out.append(EvidenceFile(name, info.filename, reason="未放在以编号命名的文件夹中，佐证材料中也未写明"
                                                                 "此文件名，无法对应到措施，未保存"))
    return out


def store(package: Path, files: list[EvidenceFile], folder: Path) -> list[EvidenceFile]:
    """Copy the accepted entries into folder/<编号>/ untouched (a same-named file with other bytes
    is kept beside it), with SHA256SUMS.txt per measure; returns the files with their hashes."""
    out = []
    with zipfile.ZipFile(package) as zf:
        for f in files:
            if f.reason:
                out.append(f)
                continue
            target_dir = folder / safe_part(f.measure_id)
            target_dir.mkdir(parents=True, exist_ok=True)
            name = safe_part(PurePosixPath(f.name.replace("\\", "/")).name)
            data = zf.read(f.member)
            sha = hashlib.sha256(data).hexdigest()
            target = target_dir / name
            if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() != sha:
                target = target_dir / f"{Path(name).stem}_{sha[:8]}{Path(name).suffix}"
            if not target.exists():
                tmp = target_dir / f".~tmp-{os.getpid()}"
                tmp.write_bytes(data)
                os.replace(tmp, target)
            sums = target_dir / SUMS
            line = f"{sha}  {target.name}\n"
            listed = sums.read_text(encoding="utf-8") if sums.exists() else ""
            if line not in listed:
                sums.write_text(listed + line, encoding="utf-8")
            out.append(EvidenceFile(f.name, f.member, f.measure_id, sha256=sha))
    return out


def safe_part(name: str) -> str:
    """One path component safe on Windows and POSIX."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .") or "_"


def folders(archive: Path) -> dict[str, dict[str, Path]]:
    """{编号: {单位: its newest evidence folder}} over every period of the archive."""
    out: dict[str, dict[str, Path]] = {}
    for period in sorted(p for p in Path(archive).glob(f"*/{FOLDER}") if p.is_dir()):
        for unit in sorted(u for u in period.iterdir() if u.is_dir()):
            for measure in sorted(m for m in unit.iterdir() if m.is_dir()):
                out.setdefault(measure.name, {})[unit.name] = measure
    return out
