"""公文 form of the notices: full-width punctuation, GB/T 9704 layout, attachments, PDF, stable 督办编号, fonts."""
import datetime as dt
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from toolkit import demo, nightly
from toolkit.assessment import assess
from toolkit.documents import gongwen, notices
from toolkit.errors import FileAccessError
from toolkit.io import office
from toolkit.rules import punct

needs_lo = pytest.mark.skipif(office.soffice() is None or shutil.which("pdftotext") is None,
                              reason="LibreOffice 或 poppler-utils 未安装（scripts/install_system_deps.sh）")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return "\n".join("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in xml.split("</w:p>"))


def package(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist()}


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    """The demo programme's notices (263 measures, 33 units) before the August reports, .docx only."""
    settings = demo.demo_settings(tmp_path_factory.mktemp("demo"))
    settings = replace(settings, notice_pdf=False)
    ledger = demo.demo_ledger()
    paths = notices.write_notices(ledger, settings, assess(ledger, settings))
    return settings, ledger, paths


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The whole demo run (consolidation, receipts, notices, PDFs where LibreOffice is installed)."""
    settings = demo.stage_demo(tmp_path_factory.mktemp("run") / "demo")
    return settings, nightly.run_once(settings).notices


def test_every_document_of_a_demo_run_uses_fullwidth_punctuation(demo_run):
    settings, written = demo_run
    files = [p for p in settings.path("output").rglob("*") if p.suffix in (".md", ".txt", ".docx")
             and "运行报告" not in p.parts]   # the run report is console text (nightly.py), swept separately
    assert len([p for p in files if p.suffix == ".docx"]) > 10 and any("回执" in p.parts for p in files)
    bad = {p.name: punct.halfwidth_marks(docx_text(p) if p.suffix == ".docx" else p.read_text(encoding="utf-8"))
           for p in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_punctuation_is_converted_in_chinese_text_only():
    assert punct.fullwidth("主送:委机关各处室,委属各单位") == "主送：委机关各处室，委属各单位"
    assert punct.fullwidth('(1)查摆"举一反三"事项') == "（1）查摆“举一反三”事项"
    assert punct.fullwidth("文件“财务处(重发).xlsx”(10:00)") == "文件“财务处(重发).xlsx”（10:00）"
    assert punct.fullwidth("f(x), a:b 10:30") == "f(x), a:b 10:30"
    assert punct.halfwidth_marks("完成率(截至8月)") and not punct.halfwidth_marks("ZG-001 10:30, 财务处(重发).xlsx")


def test_title_breaks_between_words_only():
    title = "关于十二届市委第三轮第一批巡视反馈意见整改进展情况的通报"
    lines = gongwen.title_lines(title)
    assert "".join(lines) == title and len(lines) == 2 and all(len(x) <= gongwen.TITLE_CHARS for x in lines)
    for word in gongwen.WORDS:
        assert not any(x.endswith(word[:1]) and y.startswith(word[1:]) for x, y in zip(lines, lines[1:]) if word in title)
    assert gongwen.title_lines("巡视整改督办单") == ["巡视整改督办单"]


def test_notice_docx_layout_follows_the_standard(programme):
    settings, ledger, paths = programme
    docx = next(p for p in paths if p.name == "进展通报.docx")
    parts = package(docx)
    xml = parts["word/document.xml"]
    paras = [p for p in xml.split("</w:p>")]
    texts = ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in paras]
    assert "<w:br/>" in paras[0] and texts[0] == "关于十二届市委第三轮第一批巡视反馈意见整改进展情况的通报"
    assert texts[2] == "委机关各处室，委属各单位：" and '<w:ind w:left="0" w:firstLine="0"/>' in paras[2]
    headings = [p for p, t in zip(paras, texts) if re.match(r"[一二三四五六]、", t)]
    assert len(headings) == 6 and all("<w:keepNext/>" in p for p in headings)
    sign = texts.index(settings.organisation)
    assert texts[sign + 1] == "2024年8月31日" and "二〇" not in xml
    left = [int(re.search(r'w:left="(\d+)"', paras[i]).group(1)) for i in (sign, sign + 1)]
    assert left[1] - left[0] == 2 * gongwen.CHAR                                   # date two characters right
    assert left[0] + gongwen._width(settings.organisation) == gongwen.TEXT_WIDTH - 2 * gongwen.CHAR   # 右空二字
    assert all("<w:keepNext/>" in paras[i] for i in range(sign - 6, sign + 1))    # body + 附件说明 kept with it
    assert texts[sign - 6].startswith("三是") and texts[sign - 4] == "附件：1.逾期未完成整改措施清单"
    assert re.search(r"w:hanging=\"\d+\"", paras[sign - 4])
    # attachments: new page, label, centred title, table with a repeating header row
    label = texts.index("附件1")
    assert "<w:pageBreakBefore/>" in paras[label] and "黑体" in paras[label] and label > sign
    assert texts[label + 1] == "逾期未完成整改措施清单" and 'w:jc w:val="center"' in paras[label + 1]
    assert xml.count("<w:tbl>") == 3 and "<w:tblHeader/>" in xml
    # picture inside the 156 mm text block
    cx, cy = map(int, re.search(r'<wp:extent cx="(\d+)" cy="(\d+)"', xml).groups())
    assert cx <= 156 * 36000 and cy <= 200 * 36000
    # page numbers at the outer side, odd right and even left
    assert "<w:evenAndOddHeaders/>" in parts["word/settings.xml"]
    assert 'w:jc w:val="right"' in parts["word/footer1.xml"] and 'w:jc w:val="left"' in parts["word/footer2.xml"]
    assert "— " in parts["word/footer1.xml"] and "PAGE" in parts["word/footer2.xml"]
    # properties, and nothing left over from a template
    assert "<dc:title>关于十二届市委第三轮第一批巡视反馈意见整改进展情况的通报</dc:title>" in parts["docProps/core.xml"]
    assert f"<dc:creator>{settings.organisation}</dc:creator>" in parts["docProps/core.xml"]
    blob = "".join(v for n, v in parts.items() if n.endswith((".xml", ".rels")))
    assert not re.search(r"ZZ|python-docx|Lorem|placeholder|\{\{|None", blob)


def test_fonts_are_the_standards_with_east_asian_attributes_and_configurable_fallbacks(programme):
    settings, ledger, paths = programme
    parts = package(next(p for p in paths if p.name == "进展通报.docx"))
    xml = parts["word/document.xml"]
    for name in ("方正小标宋简体", "仿宋_GB2312", "黑体"):
        assert f'w:eastAsia="{name}"' in xml
    assert 'w:hint="eastAsia"' in xml and '<w:altName w:val="仿宋"/>' in parts["word/fontTable.xml"]
    assert '<w:charset w:val="86"/>' in parts["word/fontTable.xml"]
    fonts = gongwen.Fonts.from_config({"body": ["仿宋", "FangSong"], "title": "华文中宋"})
    data = gongwen.render("# 标题\n\n正文。\n", fonts=fonts)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        assert 'w:eastAsia="仿宋"' in z.read("word/document.xml").decode()
        table = z.read("word/fontTable.xml").decode()
    assert 'w:name="华文中宋"><w:altName w:val="宋体"/>' in table and '<w:altName w:val="FangSong"/>' in table


def test_docx_is_the_same_bytes_every_time(programme):
    settings, ledger, paths = programme
    md = next(p for p in paths if p.name == "进展通报.md")
    chart = md.with_name("各单位完成率.png")
    once = gongwen.render(md.read_text(encoding="utf-8"), {chart.name: chart}, author=settings.organisation)
    assert once == md.with_suffix(".docx").read_bytes()


def test_slip_numbers_stay_with_their_unit_across_dates_and_new_slips_get_the_next(tmp_path):
    settings = demo.demo_settings(tmp_path)
    first = notices.slip_numbers(settings, "2024-08", ["医政处", "办公室"])
    assert sorted(first.values()) == ["〔2024〕1号", "〔2024〕2号"]          # an office's form, not DB-202408-001
    again = notices.slip_numbers(settings, "2024-08", ["财务处", "办公室"])
    assert again["办公室"] == first["办公室"] and again["财务处"] == "〔2024〕3号"
    assert notices.slip_numbers(settings, "2024-09", ["办公室"])["办公室"] == "〔2024〕4号"   # numbered through the year
    settings.documents["slip_number"] = "卫整督〔{年}〕{月}-{序号}号"
    assert notices.slip_numbers(settings, "2024-09", ["办公室"])["办公室"] == "卫整督〔2024〕9-4号"
    assert (settings.path("output") / "督办编号.json").exists()


def test_a_slip_keeps_its_number_when_the_notices_are_written_for_another_day(tmp_path):
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, notice_pdf=False)
    ledger = demo.demo_ledger()

    def numbers(day):
        paths = notices.write_notices(ledger, settings, assess(ledger, settings, on=day), ("督办单",))
        return {p.stem: re.search(r"〔\d+〕\d+号", p.read_text(encoding="utf-8")).group(0)
                for p in paths if p.suffix == ".md"}
    before, later = numbers(dt.date(2024, 8, 31)), numbers(dt.date(2024, 9, 10))
    assert set(before) <= set(later) and all(later[u] == n for u, n in before.items())


def pdf_pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return [re.sub(r"\s+", "", page) for page in text.split("\f") if page.strip()]


@needs_lo
@pytest.mark.parametrize("which", ["demo_run", "programme_with_pdf"])
def test_pdfs_keep_the_body_within_three_pages_and_the_signature_with_text(which, request):
    settings, written = request.getfixturevalue(which)
    notices = [p for p in written if "通报" in p.parts]        # the notices (not the leaders' slips)
    pdfs = [p for p in notices if p.suffix == ".pdf"]
    assert len(pdfs) == len([p for p in notices if p.suffix == ".docx"]) > 10
    pages = pdf_pages(next(p for p in pdfs if p.stem == "进展通报"))
    sign = next(i for i, page in enumerate(pages) if "2024年8月31日" in page and settings.organisation in page)
    assert 2 <= sign + 1 <= 3                                    # the body: two to three pages
    assert "附件：1.逾期未完成整改措施清单" in pages[sign] and "三是" in pages[sign]   # text stands with the signature
    assert pages[sign + 1].startswith("附件1") and len(pages) > sign + 1
    text = subprocess.run(["pdftotext", str(next(p for p in pdfs if p.stem == "进展通报")), "-"],
                          capture_output=True, text=True).stdout
    for page in text.split("\f")[:sign + 1]:                   # no heading stands last on a page
        lines = [x.strip() for x in page.splitlines() if x.strip() and not x.strip().startswith("—")]
        assert not re.match(r"^[一二三四五六]、|^（[一二三四]）\S{0,12}$", lines[-1]), lines[-1]
    for pdf in (p for p in pdfs if p.parent.name == "督办单"):
        slip = pdf_pages(pdf)
        items = len(re.findall(r"^\| \d+ \|", pdf.with_suffix(".md").read_text(encoding="utf-8"), re.M))
        assert items > 10 or len(slip) == 1, pdf.name
        assert settings.organisation in slip[-1] and "2024年8月31日" in slip[-1] and "请于" in slip[-1]


@pytest.fixture(scope="module")
def programme_with_pdf(tmp_path_factory):
    """The demo programme before the August reports (more overdue, no reports yet), with PDFs."""
    settings = demo.demo_settings(tmp_path_factory.mktemp("pdf"))
    ledger = demo.demo_ledger()
    return settings, notices.write_notices(ledger, settings, assess(ledger, settings))


def test_without_libreoffice_the_notices_say_so_once_and_write_no_pdf(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "soffice", lambda: None)
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    with pytest.warns(notices.NoticeWarning, match="未安装 LibreOffice") as noted:
        paths = notices.write_notices(ledger, settings, assess(ledger, settings))
    assert len([w for w in noted if "LibreOffice" in str(w.message)]) == 1
    assert not [p for p in paths if p.suffix == ".pdf"]


def test_without_a_chinese_font_the_chart_is_left_out_and_the_font_to_install_named(tmp_path, monkeypatch):
    monkeypatch.setattr(notices, "cjk_font", lambda settings=None: None)
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, notice_pdf=False)
    ledger = demo.demo_ledger()
    with pytest.warns(notices.NoticeWarning, match="fonts-noto-cjk"):
        paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报",))
    assert "![" not in next(p for p in paths if p.suffix == ".md").read_text(encoding="utf-8")


def test_wechat_text_is_plain_and_within_the_configured_length(programme):
    settings, ledger, paths = programme
    text = next(p for p in paths if p.name == "微信通报.txt").read_text(encoding="utf-8").strip()
    assert text.startswith("【十二届市委第三轮第一批巡视反馈意见整改进展】\n截至2024年8月31日，本轮巡视")
    assert not re.search(r"[#*|!\[\]`]", text) and not punct.halfwidth_marks(text) and len(text) <= 500
    context = notices.programme_context(ledger, settings, assess(ledger, settings))
    context["公开进展"] = notices.public_summary(ledger, settings, assess(ledger, settings))
    short = notices.wechat_text(context, 200)
    assert len(short) <= 200 and "共制定整改措施263条，已完成164条，整改措施完成率62.4%" in short
    assert "重点问题14个" not in short


def slip_markdown(programme, count: int) -> str:
    """A 督办单 for one unit with count overdue items (the demo's longest texts, repeated)."""
    settings, ledger, paths = programme
    context = notices.programme_context(ledger, settings, assess(ledger, settings))
    items = sorted((i for v in context["逾期按单位"].values() for i in v), key=lambda i: -len(i["措施"]))
    return notices.render("督办单.md.j2", dict(context, 单位="市中医药研究院附属医院", 事项=(items * 9)[:count],
                                              回复期限=dt.date(2024, 9, 6), 督办编号="〔2024〕1号",
                                              发文单位=notices.office_issuer(settings), **notices.contact(settings)))


@needs_lo
@pytest.mark.parametrize("count", [10, 30])
def test_a_slip_of_ten_items_fits_one_page_and_a_longer_one_never_leaves_the_signature_alone(programme, count,
                                                                                             tmp_path):
    settings = programme[0]
    docx = tmp_path / "督办单.docx"
    docx.write_bytes(gongwen.render(slip_markdown(programme, count), author=settings.organisation))
    pages = pdf_pages(office.convert(docx, "pdf", tmp_path))
    assert (len(pages) == 1) == (count <= 10)
    assert settings.organisation in pages[-1] and "请于2024年9月6日前" in pages[-1] and "审签" in pages[-1]


@needs_lo
def test_rerunning_rewrites_no_pdf(demo_run):
    settings, written = demo_run
    pdfs = {p: p.stat().st_mtime_ns for p in written if p.suffix == ".pdf"}
    ledger = __import__("toolkit.io.ledger_file", fromlist=["read_ledger"]).read_ledger(settings.master)
    again = notices.write_notices(ledger, settings, assess(ledger, settings))
    assert {p: p.stat().st_mtime_ns for p in again if p.suffix == ".pdf"} == pdfs


def test_a_damaged_slip_register_stops_with_the_fix(tmp_path):
    settings = demo.demo_settings(tmp_path)
    register = settings.path("output") / "督办编号.json"
    register.parent.mkdir(parents=True)
    register.write_text("{坏", encoding="utf-8")
    with pytest.raises(FileAccessError) as damaged:
        notices.slip_numbers(settings, "2024-08", ["办公室"])
    assert damaged.value.kind == "register-damaged" and damaged.value.location.file == str(register)


def test_a_failing_libreoffice_leaves_the_docx_and_says_why(tmp_path, monkeypatch):
    def broken(paths, fmt, outdir, timeout=600):
        raise notices.ToolkitError("LibreOffice 转换失败：测试")
    monkeypatch.setattr(office, "soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(office, "convert_many", broken)
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    with pytest.warns(notices.NoticeWarning, match="PDF 未能生成.*LibreOffice 转换失败"):
        paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报",))
    assert [p.suffix for p in paths if p.stem == "进展通报"] == [".md", ".docx"]


def test_the_chart_font_can_be_named_in_config(tmp_path):
    font = notices.chart.cjk_font_file()
    if font is None:
        pytest.skip("本机没有中文字体")
    copy = tmp_path / "我的字体.ttc"
    copy.write_bytes(open(font, "rb").read())
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, fonts={"chart": str(copy)})
    assert notices.cjk_font(settings) == str(copy)
    settings = replace(settings, fonts={"chart": str(tmp_path / "不存在.ttf")})
    assert notices.cjk_font(settings) == font


def test_one_libreoffice_process_converts_the_notice_and_every_slip(tmp_path, monkeypatch):
    calls = []

    def fake(paths, fmt, outdir, timeout=600):          # stands in for LibreOffice: one call, one PDF per file
        calls.append([Path(p) for p in paths])
        made = [Path(outdir) / f"{Path(p).stem}.pdf" for p in paths]
        for pdf in made:
            pdf.write_bytes(b"%PDF-1.4")
        return made
    monkeypatch.setattr(office, "soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(office, "convert_many", fake)
    settings = demo.demo_settings(tmp_path)
    ledger = demo.demo_ledger()
    paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报", "督办单"))
    docx = [p for p in paths if p.suffix == ".docx"]
    assert len(calls) == 1 and sorted(p.name for p in calls[0]) == sorted(p.name for p in docx) and len(docx) > 2
    assert {p.parent.name for p in docx} == {"督办单", settings.today().isoformat()}
    assert all(p.with_suffix(".pdf").read_bytes() == b"%PDF-1.4" for p in docx)
    assert not list(tmp_path.rglob(".~pdf-*"))
