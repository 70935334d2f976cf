"""Documents read as their recipients read them: the 附件 list, the PDF's fonts and line starts, who signs
what, how a leader is addressed, a 督办单 a unit can act on."""
import re
import shutil
import struct
import subprocess
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_gongwen import docx_text, needs_lo
from toolkit import demo
from toolkit.assessment import assess
from toolkit.documents import gongwen, leaders, notices

OFFICE = "市卫生健康委巡视整改工作领导小组办公室"


def settings_with_documents(tmp_path, pdf=False):
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, notice_pdf=pdf)
    settings.documents.update(office=OFFICE, contact="张××", phone="022-23456789",
                              reply_to="电子版发送至整改办工作邮箱", slip_number="卫整督〔{年}〕{序号}号")
    return settings


def test_the_annex_list_never_runs_a_number_into_the_item_number(tmp_path):
    settings = settings_with_documents(tmp_path)
    ledger = demo.demo_ledger()
    paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报",))
    text = docx_text(next(p for p in paths if p.name == "进展通报.docx"))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("附件：1."))
    annex = lines[start:start + 3]
    assert len(annex) == 3 and annex[2] == "3.近期到期的整改措施清单（5个工作日内）"
    assert not [line for line in annex if re.match(r"^(附件：)?\d+\.\d", line)]


def test_each_document_is_signed_by_its_issuer_and_the_slip_says_how_to_reply(tmp_path):
    settings = settings_with_documents(tmp_path)
    ledger = demo.demo_ledger()
    a = assess(ledger, settings)
    paths = notices.write_notices(ledger, settings, a, ("通报", "督办单"))
    notice = next(p for p in paths if p.name == "进展通报.docx")
    assert docx_text(notice).splitlines()[-1] != OFFICE and settings.organisation in docx_text(notice)
    slip = docx_text(next(p for p in paths if p.suffix == ".docx" and p.parent.name == "督办单"))
    lines = [x for x in slip.splitlines() if x]
    assert re.fullmatch(r"督办编号：卫整督〔2024〕\d+号", lines[1])
    assert lines[-2] == OFFICE and lines[-1] == "2024年8月31日" and settings.organisation not in slip
    assert "联系人：张××，联系电话：022-23456789。" in slip and "，电子版发送至整改办工作邮箱，" in slip
    assert "责任单位主要负责同志审签" in slip and "已逾期工作日" in slip.replace("\n", "")   # calendar and working days


def test_a_leaders_slip_comes_from_the_office_and_names_the_leader_by_position(tmp_path):
    settings = settings_with_documents(tmp_path)
    ledger = demo.demo_ledger()
    paths = leaders.write_slips(ledger, settings, assess(ledger, settings))
    text = docx_text(next(p for p in paths if p.suffix == ".docx" and p.stem.startswith("王××")))
    lines = [x for x in text.splitlines() if x]
    assert lines[1] == "党委书记、主任王××同志："
    assert "由您担任" not in text and "二〇" not in text and "2024-08" not in text
    assert lines[-2] == OFFICE and lines[-1] == "2024年8月31日"
    assert leaders.address("李××") == "李××同志"


def test_run_in_second_level_headings_are_set_in_kaiti():
    xml = gongwen.body_xml(gongwen.parse("# 标题\n\n（一）重点问题整改方面：措施115条。\n"), gongwen.Fonts())
    kai = re.search(r'w:eastAsia="楷体_GB2312"[^>]*/>.*?<w:t[^>]*>([^<]*)</w:t>', xml)
    assert kai and kai.group(1) == "（一）重点问题整改方面："
    assert '<w:overflowPunct w:val="0"/>' in xml and '<w:autoSpaceDE w:val="0"/>' in xml


def test_missing_standard_fonts_are_named_with_a_serif_substitute_and_the_fix():
    subs = gongwen.substitutes(gongwen.Fonts(), {"Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans"})
    used = {s.role: s.used for s in subs}
    assert used["body"] == used["title"] == used["subheading"] == "Noto Serif CJK SC"
    assert used["heading"] == "Noto Sans CJK SC"
    message = gongwen.missing_fonts_message(subs)
    assert "仿宋_GB2312" in message and "安装" in message and "[fonts]" in message
    assert gongwen.substitutes(gongwen.Fonts(), set(gongwen.CANDIDATES["body"]) | {"方正小标宋简体", "黑体",
                                                                                   "楷体_GB2312", "宋体"}) == []


@needs_lo
def test_the_pdf_is_set_in_a_serif_font_says_so_and_starts_no_line_with_punctuation(tmp_path):
    families = gongwen.installed_families() or set()
    if "仿宋_GB2312" in families or "Noto Serif CJK SC" not in families:
        pytest.skip("本机字体与此测试的前提不同（需缺少仿宋_GB2312、装有 Noto Serif CJK SC）")
    settings = settings_with_documents(tmp_path, pdf=True)
    ledger = demo.demo_ledger()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报",))
    said = [str(w.message) for w in caught if issubclass(w.category, notices.NoticeWarning)]
    assert any("仿宋_GB2312" in m and "Noto Serif CJK SC" in m for m in said)
    pdf = next(p for p in paths if p.suffix == ".pdf")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSerifCJK" in fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    starts = [x.strip() for x in text.splitlines() if x.strip()]
    assert not [x for x in starts if x[0] in "，。；：、）》”"]


def renamed_font(source: Path, target: Path, family: str) -> Path:
    """A copy of a TrueType font whose name table says family (the font a test can point [fonts] files at)."""
    data = bytearray(source.read_bytes())
    tables = struct.unpack(">H", data[4:6])[0]
    names = [(1, family), (2, "Regular"), (4, family), (6, "RenamedTestFont")]
    strings = b"".join(text.encode("utf-16-be") for _, text in names)
    records, offset = b"", 0
    for name_id, text in names:
        size = len(text.encode("utf-16-be"))
        records += struct.pack(">6H", 3, 1, 0x0409, name_id, size, offset)
        offset += size
    table = struct.pack(">3H", 0, len(names), 6 + 12 * len(names)) + records + strings
    for i in range(tables):
        entry = 12 + 16 * i
        if data[entry:entry + 4] == b"name":
            struct.pack_into(">2L", data, entry + 8, len(data), len(table))
    target.write_bytes(bytes(data) + table)
    return target


@needs_lo
def test_font_files_named_in_the_config_are_used_for_the_pdf_without_installing_them(tmp_path):
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    families = gongwen.installed_families() or set()
    if not dejavu.exists() or shutil.which("fc-scan") is None or "仿宋_GB2312" in families:
        pytest.skip("需要 DejaVuSans.ttf、fc-scan，且本机未装仿宋_GB2312")
    (tmp_path / "字体").mkdir()
    renamed_font(dejavu, tmp_path / "字体" / "fangsong.ttf", "仿宋_GB2312")
    settings = settings_with_documents(tmp_path, pdf=True)
    settings.fonts["files"] = ["字体/fangsong.ttf"]
    ledger = demo.demo_ledger()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报",))
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, notices.NoticeWarning))
    assert "方正小标宋简体" in said and "正文“仿宋_GB2312”" not in said
    fonts = subprocess.run(["pdffonts", next(str(p) for p in paths if p.suffix == ".pdf")], capture_output=True,
                           text=True).stdout
    assert "RenamedTestFont" in fonts or "DejaVuSans" in fonts   # the file's font (LibreOffice may name it by its glyphs' origin)
