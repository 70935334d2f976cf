"""The hostile-submission corpus: every case is generated at test time (no committed binaries).

Each Case writes one or more files into an inbox for a workspace whose master is the small
test ledger, and says what the consolidation must make of them. Run this module to print the
case → outcome table:  python -m tests.corpus.make_corpus
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import openpyxl

from toolkit import intake, vocab
from toolkit.distribute import distribute
from toolkit.io import office

WHEN = dt.datetime(2024, 8, 20, 10, 0)


@dataclass
class Case:
    key: str
    what: str                       # Chinese description, for the table
    make: Callable                  # make(settings, inbox) -> None
    outcome: str | tuple            # expected outcome(s) of the (first) file
    says: str = ""                  # text the receipt must contain
    needs_lo: bool = False
    check: Callable | None = None   # extra check(settings, result)


def unit_file(settings, unit="办公室") -> Path:
    return {d.unit: d.path for d in distribute(settings, [unit])}[unit]


def edited(settings, target: Path, edit, unit="办公室") -> Path:
    """A unit's workbook opened with openpyxl, edited like a person would, saved as target."""
    wb = openpyxl.load_workbook(unit_file(settings, unit))
    ws = wb[vocab.SHEET_LEDGER]
    edit(wb, ws, {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)})
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def filled(wb, ws, cols):
    ws.cell(3, cols[vocab.STATUS]).value = "已完成"
    ws.cell(3, cols[vocab.PROGRESS]).value = "已完成整改"


def good(settings, inbox, name="办公室.xlsx") -> Path:
    return edited(settings, inbox / name, filled)


def raw(data: bytes, name: str):
    def make(settings, inbox):
        (inbox / name).write_bytes(data)
    return make


def last_period(settings, inbox):
    """A genuine template of the previous period (signed by the office for 2024-07)."""
    old = replace(settings, period="2024-07", paths=dict(settings.paths, outbox="outbox-old"))
    edited(old, inbox / "办公室.xlsx", filled)


def forged(settings, inbox):
    """A workbook built from the master's content by someone without the office's key: the
    fingerprints are computed the way the toolkit computes them, with a guessed key."""
    from toolkit.distribute import row_fingerprint, template_signature

    def edit(wb, ws, cols):
        filled(wb, ws, cols)
        meta = wb[vocab.SHEET_META]
        guess = b"\0" * 32
        from toolkit.distribute import META_TABLE_ROW
        from toolkit.io.ledger_file import read_ledger
        ledger = read_ledger(settings.master)
        fps = []
        for r in range(META_TABLE_ROW, meta.max_row + 1):
            mid = meta.cell(r, 1).value
            meta.cell(r, 2).value = row_fingerprint(ledger.measures[mid].locked_values(), guess, "办公室", "2024-08")
            fps.append((mid, meta.cell(r, 2).value))
        meta.cell(8, 2).value = template_signature(guess, "办公室", "2024-08", fps)
    edited(settings, inbox / "办公室.xlsx", edit)


def huge_cell(settings, inbox):
    def edit(wb, ws, cols):
        filled(wb, ws, cols)
        ws["XFD20000"] = "x"          # one value far away: a reader would allocate 16384 × 20000 cells
    edited(settings, inbox / "办公室.xlsx", edit)


def huge_dimension(settings, inbox):
    source = good(settings, inbox.parent / "tmp", "d.xlsx")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(inbox / "办公室.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet1"):
                import re
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
            dst.writestr(item, data)


def long_name(settings, inbox):
    good(settings, inbox, "办公室" + "关于巡视整改落实情况的报告" * 6 + ".xlsx")   # 246 bytes


def check_long_name(settings, result):
    (f,) = result.files
    assert len(f.archived.name.encode()) <= 255 and f.archived.name.startswith("办公室_")
    assert all(len(p.name.encode()) <= 255 for p in result.receipts)


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def truncated(settings, inbox):
    data = good(settings, inbox.parent / "tmp", "t.xlsx").read_bytes()
    (inbox / "截断.xlsx").write_bytes(data[: len(data) // 2])


def corrupt(settings, inbox):
    data = bytearray(good(settings, inbox.parent / "tmp", "c.xlsx").read_bytes())
    for i in range(200, len(data) - 200, 97):
        data[i] ^= 0xFF
    (inbox / "损坏.xlsx").write_bytes(bytes(data))


def zip_bomb(settings, inbox):
    with zipfile.ZipFile(inbox / "炸弹.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(260):
                f.write(chunk)


def enormous(settings, inbox):
    """A ledger sheet one row over intake's limit (header row plus MAX_ROWS rows of data)."""
    import xlsxwriter
    src = openpyxl.load_workbook(unit_file(settings))
    wb = xlsxwriter.Workbook(str(inbox / "超多行.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet(vocab.SHEET_LEDGER)
    ws.write_row(1, 0, [c.value for c in src[vocab.SHEET_LEDGER][2]])
    for r in range(2, intake.MAX_ROWS + 2):
        ws.write_row(r, 0, [f"ZG-{r}", "主题", "问题"])
    meta = wb.add_worksheet(vocab.SHEET_META)
    for r, row in enumerate(src[vocab.SHEET_META].iter_rows(values_only=True)):
        meta.write_row(r, 0, ["" if v is None else str(v) for v in row])
    wb.close()


def via_libreoffice(fmt: str, name: str):
    def make(settings, inbox):
        source = good(settings, inbox.parent / "tmp", "办公室.xlsx")
        out = office.convert(source, fmt, inbox.parent / "tmp" / fmt)
        shutil.copy(out, inbox / name)
    return make


def with_macros(settings, inbox):
    source = good(settings, inbox.parent / "tmp", "m.xlsx")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(inbox / "办公室.xlsm", "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 508)


def encrypted(settings, inbox):
    from msoffcrypto.format.ooxml import OOXMLFile
    source = good(settings, inbox.parent / "tmp", "e.xlsx")
    with open(source, "rb") as fh, open(inbox / "加密.xlsx", "wb") as out:
        OOXMLFile(fh).encrypt("123456", out)


def meta_edit(key, value):
    def edit(wb, ws, cols):
        filled(wb, ws, cols)
        meta = wb[vocab.SHEET_META]
        row = next(r for r in range(1, 9) if meta.cell(r, 1).value == key)
        meta.cell(row, 2).value = value
    return lambda settings, inbox: edited(settings, inbox / "办公室.xlsx", edit)


def missing_meta(settings, inbox):
    src = openpyxl.load_workbook(unit_file(settings))[vocab.SHEET_LEDGER]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = vocab.SHEET_LEDGER
    for row in src.iter_rows(values_only=True):
        ws.append(row)
    wb.save(inbox / "办公室.xlsx")


def edit_case(edit, name="办公室.xlsx", unit="办公室"):
    return lambda settings, inbox: edited(settings, inbox / name, edit, unit)


def rename_header(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(2, cols[vocab.PROGRESS]).value = "进展情况"


def reorder(wb, ws, cols):
    filled(wb, ws, cols)
    a, b = cols[vocab.PROGRESS], cols[vocab.EVIDENCE]
    for r in range(2, ws.max_row + 1):
        x, y = ws.cell(r, a).value, ws.cell(r, b).value
        ws.cell(r, a).value, ws.cell(r, b).value = y, x


def extra_column(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(2, ws.max_column + 1).value = "联系人"
    ws.cell(3, ws.max_column).value = "张三 13800000000"


def header_down(wb, ws, cols):
    filled(wb, ws, cols)
    for title in [r for r in ws.merged_cells.ranges if r.min_row == 1]:
        ws.unmerge_cells(str(title))
    ws.insert_rows(1, 3)


def merged_header(wb, ws, cols):
    filled(wb, ws, cols)
    ws.merge_cells(start_row=2, start_column=cols[vocab.PROGRESS], end_row=2, end_column=cols[vocab.EVIDENCE])


def blank_rows(wb, ws, cols):
    filled(wb, ws, cols)
    ws.insert_rows(4, 2)


def hidden_row(wb, ws, cols):
    filled(wb, ws, cols)
    ws.row_dimensions[3].hidden = True


def fullwidth_ids(wb, ws, cols):
    filled(wb, ws, cols)
    for r in range(3, ws.max_row + 1):
        ws.cell(r, cols[vocab.ID]).value = ws.cell(r, cols[vocab.ID]).value.replace("ZG-", "ＺＧ－") + " \u3000"


def added_row(wb, ws, cols):
    filled(wb, ws, cols)
    r = ws.max_row + 1
    for name, c in cols.items():
        ws.cell(r, c).value = ws.cell(3, c).value
    ws.cell(r, cols[vocab.ID]).value = "ZG-100"


def tampered(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(4, cols[vocab.MEASURE]).value = "改过的措施"


def duplicated_id(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(4, cols[vocab.ID]).value = ws.cell(3, cols[vocab.ID]).value


def formula_text(wb, ws, cols):
    filled(wb, ws, cols)
    for name, text in ((vocab.PROGRESS, "=cmd|' /C calc'!A0"), (vocab.EVIDENCE, "+1+1"), (vocab.REMARK, "@SUM(1)")):
        ws.cell(3, cols[name]).value = text
        ws.cell(3, cols[name]).data_type = "s"


def real_formula(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(3, cols[vocab.PROGRESS]).value = '=HYPERLINK("http://example.invalid","点我")'


def serial_deadline(wb, ws, cols):
    filled(wb, ws, cols)
    cell = ws.cell(3, cols[vocab.DEADLINE])
    cell.value = (cell.value.date() if isinstance(cell.value, dt.datetime) else cell.value) - dt.date(1899, 12, 30)
    cell.value = cell.value.days
    cell.number_format = "General"


def impossible_date(wb, ws, cols):
    filled(wb, ws, cols)
    ws.cell(3, cols[vocab.DEADLINE]).value = "2024-02-30"


def two_files(settings, inbox):
    import os
    def first(wb, ws, cols):
        ws.cell(3, cols[vocab.STATUS]).value = "正在推进"
        ws.cell(3, cols[vocab.PROGRESS]).value = "旧版本"
    older = edited(settings, inbox / "办公室(旧).xlsx", first)
    newer = good(settings, inbox, "办公室(新).xlsx")
    os.utime(older, (WHEN.timestamp(), WHEN.timestamp()))
    os.utime(newer, (WHEN.timestamp() + 3600, WHEN.timestamp() + 3600))


def same_twice(settings, inbox):
    path = good(settings, inbox, "办公室.xlsx")
    shutil.copy(path, inbox / "办公室(再发一次).xlsx")


def long_texts(settings, inbox):
    def lead(wb, ws, cols):
        ws.cell(3, cols[vocab.PROGRESS]).value = "医" * 20000
    def co(wb, ws, cols):
        ws.cell(3, cols[vocab.PROGRESS]).value = "院" * 20000
    edited(settings, inbox / "医政处.xlsx", lead, "医政处")
    edited(settings, inbox / "市人民医院.xlsx", co, "市人民医院")


def check_master_text(settings, result):
    from tests.conftest import ledger_sheet
    wb, ws, cols, rows = ledger_sheet(settings.master)
    cell = ws.cell(rows["ZG-001"], cols[vocab.PROGRESS])
    assert cell.data_type == "s" and str(cell.value).startswith("=")


def check_long(settings, result):
    from tests.conftest import ledger_sheet
    wb, ws, cols, rows = ledger_sheet(settings.master)
    text = ws.cell(rows["ZG-002"], cols[vocab.PROGRESS]).value
    assert len(text) == vocab.EXCEL_CELL_LIMIT and text.endswith(vocab.TRUNCATION_MARK)
    archived = [f.archived for f in result.files]
    full = openpyxl.load_workbook(archived[0])[vocab.SHEET_LEDGER]
    assert any(isinstance(c.value, str) and len(c.value) == 20000 for row in full.iter_rows() for c in row)


def check_latest(settings, result):
    from toolkit.io.ledger_file import read_ledger
    m = read_ledger(settings.master).measures["ZG-001"]
    assert m.status == vocab.DONE and m.progress == "已完成整改"
    assert len({f.archived for f in result.files}) == 2


A, P, R, D = vocab.OUTCOME_ACCEPTED, vocab.OUTCOME_PARTIAL, vocab.OUTCOME_REJECTED, vocab.OUTCOME_DUPLICATE
CASES = [
    Case("renamed_docx", "Word 文档改扩展名为 .xlsx", raw(docx_bytes(), "通知.xlsx"), R, "Word文档"),
    Case("renamed_pdf", "PDF 改扩展名", raw(b"%PDF-1.7\n" + b"0" * 500, "扫描件.xlsx"), R, "PDF"),
    Case("renamed_txt", "文本文件改扩展名", raw("进展情况:已完成".encode("gbk"), "说明.xlsx"), R, "不是Excel"),
    Case("truncated", "截断的压缩包", truncated, R, "损坏"),
    Case("corrupt", "内容被破坏的压缩包", corrupt, R, ""),
    Case("empty", "0 字节文件", raw(b"", "空.xlsx"), R, "空的"),
    Case("zip_bomb", "解压后 260MB 的“压缩炸弹”", zip_bomb, R, "解压后过大"),
    Case("enormous", "行数超过上限的工作表", enormous, R, "行"),
    Case("legacy_xls", "另存为旧版 .xls", via_libreoffice("xls", "办公室.xls"), A, "旧版 .xls", needs_lo=True),
    Case("macros", "带宏的 .xlsm", with_macros, A, "含宏"),
    Case("ods", "另存为 .ods(WPS/LibreOffice)", via_libreoffice("ods", "办公室.ods"), A, "ODS", needs_lo=True),
    Case("encrypted", "设置了打开密码", encrypted, R, "取消密码"),
    Case("wrong_version", "模板版本不符", meta_edit(vocab.META_VERSION, "ZG-0"), R, "模板版本"),
    Case("wrong_period", "上期模板", last_period, R, "报送期次"),
    Case("edited_unit", "把模板信息中的单位改成另一单位", meta_edit(vocab.META_UNIT, "医政处"), R, "不是本办公室下发的模板"),
    Case("forged", "按台账内容自行制作并伪造指纹的表格", forged, R, "不是本办公室下发的模板"),
    Case("unsigned", "旧版(无签名)模板", meta_edit(vocab.META_SIGNATURE, None), R, "请使用本期下发的模板"),
    Case("huge_cell", "在 XFD20000 填了一个值", huge_cell, R, "远超模板的大小"),
    Case("huge_dimension", "声明范围为 A1:XFD1048576（只是声明，单元格没有内容）", huge_dimension, A),
    Case("long_name", "文件名长达 246 字节", long_name, A, "", check=check_long_name),
    Case("missing_meta", "复制到新工作簿(无模板信息)", missing_meta, R, "缺少模板信息"),
    Case("renamed_column", "改了列名", edit_case(rename_header), R, "整改进展"),
    Case("reordered_columns", "调换了列的顺序", edit_case(reorder), A),
    Case("extra_column", "多加了一列", edit_case(extra_column), A),
    Case("header_down", "表头下移 3 行", edit_case(header_down), A),
    Case("merged_header", "合并了表头单元格", edit_case(merged_header), R, "佐证材料"),
    Case("blank_rows", "中间插入空行", edit_case(blank_rows), A),
    Case("hidden_row", "隐藏了行", edit_case(hidden_row), A),
    Case("fullwidth_ids", "编号为全角并带空格", edit_case(fullwidth_ids), A),
    Case("other_unit", "医政处的模板以办公室名义报送", edit_case(filled, "办公室8月台账.xlsx", "医政处"), R, "文件名表明"),
    Case("same_twice", "同一文件发两次", same_twice, (A, D), "完全相同"),
    Case("two_files", "同一单位两个不同文件", two_files, (A, A), "", check=check_latest),
    Case("added_row", "新增了模板外的行", edit_case(added_row), P, "不存在"),
    Case("tampered", "改动了锁定的措施内容", edit_case(tampered), P, "锁定"),
    Case("duplicated_id", "编号重复", edit_case(duplicated_id), P, "重复"),
    Case("formula_text", "以 = + @ 开头的文字(含 DDE)", edit_case(formula_text), A, "按文字保存", check=check_master_text),
    Case("real_formula", "真正的公式(超链接)", edit_case(real_formula), A, "是公式", check=check_master_text),
    Case("serial_deadline", "完成时限改成日期序号(同一天)", edit_case(serial_deadline), A),
    Case("impossible_date", "完成时限写成 2024-02-30", edit_case(impossible_date), P, "锁定"),
    Case("long_text", "两单位进展合计超 32767 字", long_texts, (A, A), "", check=check_long),
]


def run_case(case: Case, root: Path):
    """Build a fresh workspace in root, drop the case's files in its inbox, consolidate."""
    import os

    from tests.conftest import settings_for, small_ledger
    from toolkit.consolidate import consolidate
    from toolkit.io import master_file
    settings = settings_for(root)
    master_file.write_master(small_ledger(), settings)
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True)
    case.make(settings, inbox)
    for i, p in enumerate(sorted(inbox.iterdir())):
        if case.key != "two_files":
            os.utime(p, (WHEN.timestamp() + i, WHEN.timestamp() + i))
    copies = {p.name: p.read_bytes() for p in inbox.iterdir()}
    before = settings.master.read_bytes()
    return settings, consolidate(settings), copies, before


if __name__ == "__main__":
    import tempfile
    print("| 情形 | 文件 | 结果 | 回执要点 |\n|---|---|---|---|")
    for case in CASES:
        if case.needs_lo and office.soffice() is None:
            print(f"| {case.what} | | 跳过(无 LibreOffice) | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            settings, result, _, _ = run_case(case, Path(tmp))
            for f in result.files:
                said = (f.submission.problems[0].text() if f.submission.problems else
                        (f.submission.notes[0] if f.submission.notes else ""))
                print(f"| {case.what} | {f.submission.name} | {f.outcome} | {said[:80]} |")
