"""Evidence files (佐证材料) sent with the workbook in one .zip (or a plain folder, snapshotted into a
stored .zip first, see snapshot_folder): the workbook is read as usual, each
other file is matched to a measure (a sub-folder named by its 编号, or its name written in the row's
佐证材料) and stored untouched under archive/<期次>/佐证/<单位>/<编号>/ with its SHA-256.

Nothing in a package is trusted: oversized or over-compressed packages (each entry and the whole
package alike) are refused whole; an entry that cannot be unpacked as it should (damaged: bad CRC,
cut short) is refused by name and the rest goes on; an entry
with an absolute path or '..', a link, an executable or script, a type that is not a document,
image, PDF or Office file, or content that does not match its extension (check_content) is refused
by name; what Windows and macOS leave in folders (Thumbs.db…) is skipped quietly; everything else is
copied byte for byte.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .. import words
from ..rules import normalize
from .fileio import open_regular

MAX_PACKAGE_MB = 200          # a package's size on disk
MAX_UNPACKED_MB = 500         # all its entries unpacked
MAX_RATIO = 100               # unpacked / packed, for any entry over 1 MB unpacked, and for the whole package
RATIO_FROM_MB = 1             # below this many MB unpacked (an entry, or the whole package) no ratio is checked
MAX_ENTRIES = 1000
MAX_EVIDENCE_MB = 100         # one evidence file
MAX_DEPTH = 8                 # folder levels inside a package (a sub-folder per 编号 needs one)
MAX_NAME_BYTES = 200          # one file name in UTF-8 (leaves room for the _hash the store may append)
SNAPSHOT_COMMENT = "整改台账工具：收件箱中文件夹的存档".encode("utf-8")   # marks a folder's snapshot .zip
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ods"}
ALLOWED_SUFFIXES = {".pdf", ".ofd", ".doc", ".docx", ".wps", ".rtf", ".txt", ".odt", ".xls", ".xlsx", ".et", ".ods",
                    ".ppt", ".pptx", ".dps", ".odp", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff",
                    ".webp", ".heic"}
EXECUTABLE_SUFFIXES = {".exe", ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".hta",
                       ".sh", ".dll", ".scr", ".msi", ".com", ".cpl", ".jar", ".lnk", ".reg", ".py", ".pif"}
FOLDER = "佐证"
SUMS = "SHA256SUMS.sha256"    # our checksum list per measure: .sha256 is no evidence type, so no unit's file can take its name
LEGACY_SUMS = "SHA256SUMS.txt"   # the list's name before: a unit's file of that name is evidence like any other
DAMAGED = "已损坏（解压时校验不符或数据不完整，可能下载或复制时中断），未保存；请重新发送此文件（可与工作簿一起重新打包报送）"
ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".cab", ".iso"}
LITTER_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", ".localized", "icon\r"}
SAME_NAME = ("与压缩包中另外{count}个文件同名同路径（压缩包有问题，解压时会互相覆盖），无法确定哪一个是佐证材料，均未保存；"
             "请重新打包（每个文件只放一次）后报送")


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence entry of a package, matched to a measure (stored) or refused with the reason."""
    name: str                 # the entry's path as the sender named it
    member: str               # the entry's name in the zip directory (to read it by)
    measure_id: str = ""
    reason: str = ""          # why it was refused ('' : accepted)
    sha256: str = ""          # filled in once stored
    stored: str = ""          # the file's name in the archive (another when a same-named file differs)


log = logging.getLogger("toolkit")
_ID_LIKE = re.compile(r"[A-Za-z]{1,6}[-_]?\d{1,6}")     # folder names that look like a measure's 编号


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's path as the sender's system wrote it (NFC, as typed in a cell): without the UTF-8
    flag Python reads the name's bytes as cp437, but macOS and Linux archivers store UTF-8 bytes there
    and zip tools on Chinese Windows GBK. A short GBK name can be valid UTF-8 too (通知 reads as two
    Hebrew and combining marks), so the first reading made of plausible characters wins."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:      # not read as cp437 (a name made here, or another metadata encoding)
            raw = b""
        readings = []
        for encoding in ("utf-8", "gb18030") if raw else ():
            try:
                readings.append(unicodedata.normalize("NFC", raw.decode(encoding)))
            except UnicodeDecodeError:
                continue
        name = next((r for r in readings if all(map(_plausible, r))), readings[0] if readings else name)
    return unicodedata.normalize("NFC", name)


_PLAUSIBLE = ((0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x2000, 0x206F), (0x2150, 0x218F), (0x2460, 0x24FF),
              (0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


def _plausible(char: str) -> bool:
    """A character a file name on an office PC is made of: ASCII, Latin with accents, general and CJK
    punctuation, circled and Roman numerals, kana and hanzi, full-width forms."""
    return any(lo <= ord(char) <= hi for lo, hi in _PLAUSIBLE)


class PackageError(ValueError):
    """The package as a whole cannot be taken in: a problem kind of a submitted file and its parameters (words
    in toolkit.words); fix_kind names its fix when it is not the general advice on how to lay out a package."""

    def __init__(self, kind: str, fix_kind: str = "", **params: Any):
        super().__init__(words.render(kind, params))
        self.kind, self.fix_kind, self.params = kind, fix_kind, params

    @property
    def fix(self) -> str:
        """What to do, in Chinese ("" when the general advice on a package's layout applies)."""
        return words.render_fix(self.fix_kind, self.params) if self.fix_kind else ""


class MissingWorkbook(PackageError):
    """A package with files but no workbook (entries: its files), e.g. the rest of a folder whose first
    part was taken in by an earlier run."""

    def __init__(self, entries: list[zipfile.ZipInfo], **params: Any):
        super().__init__("package-without-workbook", "package-without-workbook", **params)
        self.entries = entries


def is_litter(name: str) -> bool:
    """A file the system makes by itself in folders (Thumbs.db, desktop.ini, .DS_Store, macOS's
    __MACOSX and ._ companions): not evidence, not worth a line of refusal either."""
    path = PurePosixPath(name.replace("\\", "/"))
    return (path.name.lower() in LITTER_NAMES or path.name.startswith("._")
            or "__MACOSX" in path.parts)


def is_package(path: Path) -> bool:
    """A .zip that is not itself an Office file, or a folder's snapshot: a workbook with its evidence."""
    try:
        with zipfile.ZipFile(path) as zf:
            return is_package_zip(zf)
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_package_zip(zf: zipfile.ZipFile) -> bool:
    """is_package of an archive already open (a reader opens each file once for all its checks)."""
    names = zf.namelist()
    return zf.comment == SNAPSHOT_COMMENT or ("[Content_Types].xml" not in names and "mimetype" not in names)


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
    if len(PurePosixPath(name).parts) > MAX_DEPTH:
        return f"所在文件夹层级过深（超过{MAX_DEPTH}层），已拒收"
    if len(PurePosixPath(name).name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"文件名过长（超过{MAX_NAME_BYTES}字节），已拒收"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in EXECUTABLE_SUFFIXES:
        return f"是可执行程序或脚本（{suffix}），已拒收"
    if suffix in ARCHIVE_SUFFIXES:
        return (f"是压缩包（{suffix}），压缩包里套压缩包不予拆开，未接收；请把其中的佐证材料解压出来，"
                f"按编号放进文件夹后重新报送")
    if suffix not in ALLOWED_SUFFIXES:
        return f"文件类型{suffix or '（无扩展名）'}不在接收范围（文档、图片、PDF、Office文件），已拒收"
    if info.file_size > MAX_EVIDENCE_MB * 1048576:
        return f"文件过大（{info.file_size / 1048576:.0f}MB，上限{MAX_EVIDENCE_MB}MB），已拒收"
    return ""


def open_package(path: Path) -> tuple[str, list[zipfile.ZipInfo]]:
    """(the workbook's entry name, the other file entries) of a package; PackageError when the
    package is too big, a zip bomb, or has no single workbook outside the 编号 sub-folders."""
    if Path(path).stat().st_size > MAX_PACKAGE_MB * 1048576:
        raise PackageError("package-too-large", limit_mb=MAX_PACKAGE_MB)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            word = kind_word(zf)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackageError("package-damaged") from None
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_ENTRIES:
        raise PackageError("package-too-many-files", "count", container=word, count=len(infos), limit=MAX_ENTRIES)
    if total > MAX_UNPACKED_MB * 1048576 or any(_bomb(i.file_size, i.compress_size) for i in infos) \
            or _bomb(total, sum(i.compress_size for i in infos)):
        raise PackageError("package-bomb", count=len(infos), unpacked_mb=total / 1048576, limit_mb=MAX_UNPACKED_MB,
                           ratio=MAX_RATIO)
    books = [i for i in infos if PurePosixPath(i.filename).suffix.lower() in WORKBOOK_SUFFIXES
             and len(PurePosixPath(i.filename).parts) <= 2 and not _unsafe(i)
             and not PurePosixPath(i.filename).name.startswith(("~$", "."))]
    books = [i for i in books if len(PurePosixPath(i.filename).parts) == min(len(PurePosixPath(b.filename).parts)
                                                                             for b in books)]
    if not books and infos:
        raise MissingWorkbook(infos, container=word, count=len(infos))
    if len(books) != 1:
        if books:
            raise PackageError("package-several-workbooks", container=word, found=[entry_name(i) for i in books])
        raise PackageError("package-workbooks", container=word)
    return books[0].filename, [i for i in infos if i is not books[0]]


def _bomb(unpacked: int, packed: int) -> bool:
    """More than RATIO_FROM_MB unpacked from over MAX_RATIO times less: an entry, or all of them together
    (450 entries just under 1 MB each are no better than one of 450 MB)."""
    return unpacked > RATIO_FROM_MB * 1048576 and unpacked > MAX_RATIO * max(packed, 1)


def extract_workbook(path: Path, member: str, target: Path) -> None:
    """Copy the workbook entry out of the package (at most its declared size is read)."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as src, open(target, "wb") as out:
        limit = zf.getinfo(member).file_size
        while block := src.read(min(1 << 20, limit + 1)):
            limit -= len(block)
            if limit < 0:
                raise PackageError("package-workbook-size")
            out.write(block)


def match(infos: list[zipfile.ZipInfo], own_ids: list[str], evidence_texts: dict[str, str]) -> list[EvidenceFile]:
    """Each entry matched to one of the unit's measures: a path folder named by the 编号, else the
    row whose 佐证材料 mentions the file's name; refused (named, with the reason) otherwise."""
    ids = {normalize.clean_key(i): i for i in own_ids}
    named = Counter(i.filename for i in infos)
    out = []
    for info in infos:
        name = entry_name(info)
        if named[info.filename] > 1:        # read by name, every one of them would give the last one's bytes
            out.append(EvidenceFile(name, info.filename, reason=SAME_NAME.format(count=named[info.filename] - 1)))
            continue
        if reason := _unsafe(info):
            out.append(EvidenceFile(name, info.filename, reason=reason))
            continue
        path = PurePosixPath(name.replace("\\", "/"))
        mids = [ids[normalize.clean_key(p)] for p in path.parts[:-1] if normalize.clean_key(p) in ids][:1]
        if not mids:        # named in 佐证材料: stored under every measure that names it
            mids = [m for m, text in evidence_texts.items()
                    if path.name in text or (len(path.stem) >= 4 and path.stem in text)]
        folders = [p for p in path.parts[:-1] if _ID_LIKE.fullmatch(normalize.clean_key(p))]
        if mids:
            out += [EvidenceFile(name, info.filename, mid) for mid in mids]
        elif folders:      # a folder named like an 编号, but not one of this unit's measures
            out.append(EvidenceFile(name, info.filename, reason=f"文件夹“{folders[0]}”不是本单位承担的措施编号，"
                                                                 f"无法对应到措施，未保存"))
        else:
            out.append(EvidenceFile(name, info.filename, reason="未放在以编号命名的文件夹中，佐证材料中也未写明"
                                                                 "此文件名，无法对应到措施，未保存"))
    return out


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_EXECUTABLE_HEADS = {b"MZ": "MZ", b"\x7fELF": "ELF", b"#!": "#!", b"\xcf\xfa\xed\xfe": "Mach-O",
                     b"\xce\xfa\xed\xfe": "Mach-O", b"\xfe\xed\xfa\xce": "Mach-O", b"\xfe\xed\xfa\xcf": "Mach-O"}
_IMAGE = "图片"
_OFFICE = "Office/WPS文档"
# suffix: (what a file of that type is called, does this head belong to one)
_CONTENT = {
    ".pdf": ("PDF文件", lambda h: b"%PDF" in h[:1024]),
    ".ofd": ("OFD文件", lambda h: h.startswith(_ZIP)),
    ".jpg": (_IMAGE, lambda h: h.startswith(b"\xff\xd8")),
    ".jpeg": (_IMAGE, lambda h: h.startswith(b"\xff\xd8")),
    ".png": (_IMAGE, lambda h: h.startswith(b"\x89PNG")),
    ".gif": (_IMAGE, lambda h: h.startswith(b"GIF8")),
    ".bmp": (_IMAGE, lambda h: h.startswith(b"BM")),
    ".tif": (_IMAGE, lambda h: h.startswith((b"II*\x00", b"MM\x00*"))),
    ".tiff": (_IMAGE, lambda h: h.startswith((b"II*\x00", b"MM\x00*"))),
    ".webp": (_IMAGE, lambda h: h.startswith(b"RIFF") and h[8:12] == b"WEBP"),
    ".heic": (_IMAGE, lambda h: h[4:8] == b"ftyp"),
    ".rtf": ("RTF文档", lambda h: h.startswith(b"{\\rtf")),
    **{x: (_OFFICE, lambda h: h.startswith(_ZIP)) for x in (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")},
    **{x: (_OFFICE, lambda h: h.startswith((_OLE, *_ZIP, b"{\\rtf")))
       for x in (".doc", ".xls", ".ppt", ".wps", ".et", ".dps")},
}


def content_reason(name: str, head: bytes) -> str:
    """Why a file's first bytes do not fit its name ('' when they do): an executable header is refused
    whatever the name, and a PDF, image or Office file must start as one."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if not head:
        return "是空文件（0字节），已拒收"
    exe = next((kind for magic, kind in _EXECUTABLE_HEADS.items() if head.startswith(magic)), "")
    if exe:
        return f"内容是可执行程序或脚本（文件头为{exe}），不是{suffix}文件，已拒收"
    kind, fits = _CONTENT.get(suffix, ("", lambda h: True))
    if not fits(head):
        return f"内容与扩展名{suffix}不符（不是{kind}，可能是其他文件改了扩展名），已拒收；请报送原始文件"
    return ""


def check_content(package: Path, files: list[EvidenceFile]) -> list[EvidenceFile]:
    """The matched files with those whose content does not fit their extension (content_reason), that
    cannot be unpacked (encrypted, unknown compression) or that are damaged (each accepted entry is read
    to its end, so its CRC is checked), refused by name; nothing raised, whatever the package holds."""
    out = []
    try:
        zf = zipfile.ZipFile(package)
    except Exception as exc:       # the archived copy itself: every entry refused, the workbook goes on
        log.warning("无法打开压缩包 %s：%r", package, exc)
        return [f if f.reason else replace(f, reason=DAMAGED) for f in files]
    with zf:
        for f in files:
            reason = f.reason or _entry_reason(zf, f)
            out.append(replace(f, reason=reason) if reason != f.reason else f)
    return out


def _entry_reason(zf: zipfile.ZipFile, f: EvidenceFile) -> str:
    """Why one entry cannot be taken ('' when it can): its head must fit its name, and it must unpack
    whole with the right CRC; any error reading it is this entry's, never the run's."""
    try:
        with zf.open(f.member) as fh:
            reason = content_reason(f.name, fh.read(2048))
            while not reason and fh.read(1 << 20):      # to the end: zipfile checks the CRC there
                pass
        return reason
    except (RuntimeError, NotImplementedError) as exc:
        if isinstance(exc, RuntimeError) and "encrypt" not in str(exc).lower():
            log.warning("读取 %s 时出错：%r", f.name, exc)
            return DAMAGED
        return "无法解压（已加密或压缩方式不受支持），已拒收；请不加密码重新打包"
    except Exception as exc:       # bad CRC, a cut-off stream, a broken header, or whatever comes next
        log.warning("压缩包中的 %s 已损坏：%r", f.name, exc)
        return DAMAGED


def store(package: Path, files: list[EvidenceFile], folder: Path) -> list[EvidenceFile]:
    """Copy the accepted entries into folder/<编号>/ untouched (a same-named file with other bytes
    is kept beside it), with SUMS per measure; returns the files with their hashes and the names
    they are stored under. An entry that cannot be read comes back refused (DAMAGED) and the others
    are stored; an OSError writing (e.g. a full disk) names the evidence folder, and leaves no
    temporary file behind."""
    out = []
    cleaned: set[Path] = set()
    try:
        zf = zipfile.ZipFile(package)
    except Exception as exc:
        log.warning("无法打开压缩包 %s：%r", package, exc)
        return [f if f.reason else replace(f, reason=DAMAGED) for f in files]
    with zf:
        for f in files:
            if f.reason:
                out.append(f)
                continue
            try:
                data = zf.read(f.member)
            except Exception as exc:      # checked before, but the boundary holds whatever happens here
                log.warning("压缩包中的 %s 无法读取：%r", f.name, exc)
                out.append(replace(f, reason=DAMAGED))
                continue
            target_dir = folder / safe_part(f.measure_id)
            name = safe_part(PurePosixPath(f.name.replace("\\", "/")).name)
            sha = hashlib.sha256(data).hexdigest()
            tmp = target_dir / f".~tmp-{os.getpid()}"
            try:
                target_dir.mkdir(parents=True, exist_ok=True)
                if target_dir not in cleaned:       # left by a run that was stopped or hit a full disk
                    for stale in target_dir.glob(".~tmp-*"):
                        stale.unlink(missing_ok=True)
                    cleaned.add(target_dir)
                target = target_dir / name
                if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() != sha:
                    target = target_dir / f"{Path(name).stem}_{sha[:8]}{Path(name).suffix}"
                if not target.exists():
                    tmp.write_bytes(data)
                    os.replace(tmp, target)
                sums = target_dir / SUMS
                line = f"{sha}  {target.name}\n"
                listed = sums.read_text(encoding="utf-8") if sums.exists() else ""
                if line not in listed:        # never truncated in place: a full disk keeps the old list
                    tmp.write_text(listed + line, encoding="utf-8")
                    os.replace(tmp, sums)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise OSError(exc.errno, exc.strerror, str(target_dir)) from None
            out.append(replace(f, sha256=sha, stored=target.name))
    return out


def stored_files(folder: Path) -> list[str]:
    """The names of the evidence files stored in a measure's folder: all but our checksum list (and
    the list under its former name, unless our list names it: then it is a unit's own file)."""
    files = sorted(p.name for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    listed = (Path(folder) / SUMS).read_text(encoding="utf-8") if SUMS in files else ""
    return [n for n in files if n != SUMS and (n != LEGACY_SUMS or f"  {LEGACY_SUMS}\n" in listed)]


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


def kind_word(zf: zipfile.ZipFile) -> str:
    """How messages name a package: 文件夹 for a folder's snapshot, else 压缩包."""
    return "文件夹" if zf.comment == SNAPSHOT_COMMENT else "压缩包"


# ---------------------------------------------------------------- a plain folder sent in the inbox

class FolderChanging(Exception):
    """The folder is still being copied (a file changed, appeared or vanished): try again next run."""


@dataclass(frozen=True)
class FolderItem:
    """One item under a folder as lstat saw it (nothing followed or opened)."""
    path: str                 # relative, '/'-separated
    kind: str                 # file, dir, link or other (FIFO, device, socket)
    size: int
    mtime_ns: int
    ctime_ns: int = 0         # when it was created or last changed here: a copy that keeps the sender's
                              # times (Explorer, unzip, robocopy) still shows when it was written


def list_folder(root: Path) -> list[FolderItem]:
    """Every item under root, sorted, by lstat only: a link is listed, never followed. PackageError
    when the folder nests deeper than MAX_DEPTH or holds far too many items."""
    out: list[FolderItem] = []
    stack = [(Path(root), "", 1)]
    while stack:
        folder, rel, depth = stack.pop()
        with os.scandir(folder) as it:
            for e in it:
                st = e.stat(follow_symlinks=False)
                path = rel + e.name
                if stat.S_ISDIR(st.st_mode):
                    if depth >= MAX_DEPTH:
                        raise PackageError("folder-too-deep", limit=MAX_DEPTH, path=path)
                    out.append(FolderItem(path, "dir", 0, st.st_mtime_ns, st.st_ctime_ns))
                    stack.append((Path(e.path), path + "/", depth + 1))
                else:
                    kind = "file" if stat.S_ISREG(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "other"
                    out.append(FolderItem(path, kind, st.st_size if kind == "file" else 0, st.st_mtime_ns,
                                          st.st_ctime_ns))
                if len(out) > 2 * MAX_ENTRIES:
                    raise PackageError("package-too-many-files", "count", container="文件夹", count=_count_files(root),
                                       limit=MAX_ENTRIES)
    return sorted(out, key=lambda i: i.path)


def _count_files(root: Path, cap: int = 100 * MAX_ENTRIES) -> str:
    """How many files a folder far over the limit holds, for the message ('N以上' past cap)."""
    count = 0
    for _, _, names in os.walk(root):
        count += len(names)
        if count > cap:
            return f"{cap}以上"
    return str(count)


def _open_dir(root: Path, parts: list[str]) -> int:
    """A descriptor of root/parts…, no level of it followed if a link (O_NOFOLLOW per component)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(root, flags)
    try:
        for part in parts:
            inner = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


_DIR_FD = {os.open, os.unlink, os.rmdir} <= os.supports_dir_fd


def _open_inside(root: Path, rel: str):
    """Open the regular file root/rel for reading, following no link at any level and waiting on no FIFO
    (by path where the system has no dir_fd, e.g. Windows, which has no FIFOs either)."""
    if not _DIR_FD:
        return open_regular(Path(root) / rel)
    *dirs, name = rel.split("/")
    parent = _open_dir(root, dirs)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
    finally:
        os.close(parent)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.ELOOP, f"{rel} 不是普通文件")
    return open(fd, "rb")


def _refused_item(item: FolderItem) -> EvidenceFile:
    reason = ("是快捷方式（符号链接），未读取其指向的内容，已拒收" if item.kind == "link"
              else "不是普通文件（如管道、设备），未打开，已拒收")
    return EvidenceFile(item.path, "", reason=reason)


def snapshot_folder(root: Path, target: Path) -> list[EvidenceFile]:
    """Copy every regular file under root, each read once and byte for byte, into a new stored .zip
    target (names relative to root, fixed times: the same folder always gives the same bytes), which
    is then taken in as a package. Links, FIFOs and devices are never opened: they come back refused.
    FolderChanging when anything changes, appears or vanishes meanwhile; PackageError when the
    folder is too large or too deep, or a file cannot be read."""
    items = list_folder(root)
    files = [i for i in items if i.kind == "file"]
    total = sum(i.size for i in files)
    if len(files) > MAX_ENTRIES:
        raise PackageError("package-too-many-files", "count", container="文件夹", count=len(files), limit=MAX_ENTRIES)
    if total > MAX_PACKAGE_MB * 1048576:
        raise PackageError("folder-too-large", "folder-too-large", size_mb=total / 1048576, limit_mb=MAX_PACKAGE_MB)
    with zipfile.ZipFile(target, "x", zipfile.ZIP_STORED) as zf:
        zf.comment = SNAPSHOT_COMMENT
        for item in files:
            info = zipfile.ZipInfo(item.path, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr, info.file_size = 3, (stat.S_IFREG | 0o644) << 16, item.size
            try:
                with _open_inside(root, item.path) as src, zf.open(info, "w") as out:
                    before = os.fstat(src.fileno())
                    copied = 0
                    for block in iter(lambda: src.read(1 << 20), b""):
                        copied += len(block)
                        out.write(block)
                    after = os.fstat(src.fileno())
            except PermissionError:
                raise PackageError("folder-no-read-permission", path=item.path) from None
            except OSError as exc:      # vanished, or a level replaced by a link since it was listed
                raise FolderChanging(f"文件夹中的“{item.path}”在存档时被移走或替换（{exc.strerror or exc}），"
                                     f"可能尚未复制完") from None
            if {(s.st_size, s.st_mtime_ns) for s in (before, after)} != {(item.size, item.mtime_ns)} \
                    or copied != item.size:
                raise FolderChanging(f"文件夹中的“{item.path}”在存档时仍在变化，可能尚未复制完")
    try:
        unchanged = list_folder(root) == items
    except OSError:
        unchanged = False
    if not unchanged:
        raise FolderChanging("文件夹中的文件在存档时有增减或改动，可能尚未复制完")
    return [_refused_item(i) for i in items if i.kind in ("link", "other")]


def remove_folder(root: Path, package: Path) -> str:
    """Remove a folder taken in as package, only if its regular files are exactly those archived there,
    each with the same bytes; '' when removed, else why it was kept. Links and FIFOs are unlinked,
    never followed."""
    try:
        items = list_folder(root)
        with zipfile.ZipFile(package) as zf:
            archived = {i.filename: i for i in zf.infolist()}
            files = [i for i in items if i.kind == "file"]
            if {i.path for i in files} != set(archived):
                return "文件夹中的文件在汇总期间有增减，留待下次汇总"
            for item in files:
                with zf.open(archived[item.path]) as stored, _open_inside(root, item.path) as now:
                    if _stream_sha256(stored) != _stream_sha256(now):
                        return "文件夹中的文件在汇总期间被改动，留待下次汇总"
    except (OSError, PackageError, zipfile.BadZipFile):
        return "文件夹在汇总期间有改动，留待下次汇总"
    try:
        for item in sorted(items, key=lambda i: (-i.path.count("/"), i.kind == "dir", i.path)):
            _remove(root, item)
        os.rmdir(root)
    except OSError as exc:
        return f"已汇总，但文件夹未能完全删除（{exc.strerror or exc}；其中可能出现了新的文件）"
    return ""


def _stream_sha256(fh) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def _remove(root: Path, item: FolderItem) -> None:
    """Unlink (or rmdir) one listed item, through no link at any level."""
    if not _DIR_FD:
        (os.rmdir if item.kind == "dir" else os.unlink)(Path(root) / item.path)
        return
    *dirs, name = item.path.split("/")
    parent = _open_dir(root, dirs)
    try:
        (os.rmdir if item.kind == "dir" else os.unlink)(name, dir_fd=parent)
    finally:
        os.close(parent)
