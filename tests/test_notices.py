import re
import subprocess
from dataclasses import replace
from pathlib import Path

import docx
import pytest

from tests.conftest import settings_for, small_ledger
from toolkit import demo, vocab
from toolkit.assessment import assess
from toolkit.documents import notices
from toolkit.errors import SourceError
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger
from toolkit.rules import punct

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装(scripts/install_system_deps.sh 安装失败)")
SEED_TEXT = ("本轮巡视反馈意见共指出市卫生健康委重点问题14个,目前已完成整改7个,基本完成7个;具体问题45个,目前已完成整改34个,"
                 "基本完成11个;巡视提出整改意见4条,已落实4条。整改期间共查摆“举一反三”整改事项58个,目前已完成整改50个,"
                 "基本完成8个;明确“推动改革促进发展”整改事项8个,目前已完成整改5个,基本完成3个。共制定整改措施263条,"
                 "已完成234条,正在推进29条。")
SEED_SENTENCE = punct.fullwidth(SEED_TEXT)   # the seed as published, in the full-width punctuation of a 公文


def test_public_paragraph_for_a_seed_shaped_ledger_is_the_seed_sentence(tmp_path):
    settings = settings_for(tmp_path, subject="市卫生健康委")
    ledger = demo.seed_ledger()
    text = notices.public_summary(ledger, settings, assess(ledger, settings))
    assert re.findall(r"\d+", text) == re.findall(r"\d+", SEED_TEXT)
    assert text == SEED_SENTENCE and "，" in text and "," not in text


def test_public_paragraph_leaves_out_zero_clauses_and_mentions_unstarted(tmp_path):
    settings = settings_for(tmp_path, subject="市卫生健康委")
    ledger = small_ledger()
    text = notices.public_summary(ledger, settings, assess(ledger, settings))
    assert "0个" not in text and "0条" not in text.replace("10条", "")
    assert "尚未启动1条" in text and text.startswith("本轮巡视反馈意见共指出市卫生健康委重点问题1个")


def test_a_template_using_an_unknown_variable_is_a_clear_error(tmp_path):
    (tmp_path / "坏模板.txt.j2").write_text("{{ 不存在的变量 }}", encoding="utf-8")
    with pytest.raises(SourceError) as broken:
        notices.render("坏模板.txt.j2", {}, tmp_path)
    assert broken.value.kind == "template-undefined-variable" and Path(broken.value.location.file).name == "坏模板.txt.j2"
    assert "不存在的变量" in broken.value.params["detail"]


@pytest.fixture
def written(workspace):
    ledger = read_ledger(workspace.master)
    workspace = replace(workspace, notice_pdf=False)     # PDFs: tests/test_gongwen.py
    paths = notices.write_notices(ledger, workspace, assess(ledger, workspace))
    return workspace, {p.relative_to(p.parents[1] if p.parent.name == "督办单" else p.parent).as_posix(): p for p in paths}


def test_notice_names_lagging_units_overdue_items_and_missing_reports(written):
    settings, files = written
    text = files["进展通报.md"].read_text(encoding="utf-8")
    assert text.startswith("# 关于测试整改进展情况的通报")
    assert "\n委机关各处室，委属各单位：\n" in text and "主送" not in text
    assert "进度靠后的单位：" in text and "提示提醒" in text
    assert "附件：1.逾期未完成整改措施清单" in text and "| 1 | 办公室 | ZG-001 | 措施1：制定工作方案 |" in text
    assert "| 61天 |" in text and "报送期次" in text and "2024年8月报送期次" in text
    assert "本期尚无单位报送台账（共3个单位）" in text
    assert text.split("---")[1].strip().startswith("中共某市卫生健康委员会委员会\n2024年8月30日\n\n附件1")
    assert "{{" not in text and "None" not in text


def test_one_supervision_slip_per_unit_with_overdue_rows(written):
    settings, files = written
    slips = {k: v for k, v in files.items() if k.startswith("督办单/") and k.endswith(".md")}
    assert set(slips) == {"督办单/办公室.md", "督办单/市人民医院.md"}
    text = slips["督办单/办公室.md"].read_text(encoding="utf-8")
    assert "| 1 | ZG-001 | 措施1：制定工作方案 | 2024年6月30日 | 61天 | 45天 |" in text
    assert "请于2024年9月6日前" in text and "| 已逾期 | 工作日 |" in text          # 5 working days after Friday 30 August


def test_empty_sections_say_none(tmp_path):
    settings = settings_for(tmp_path)
    settings = replace(settings, notice_pdf=False)
    ledger = small_ledger()
    for m in ledger.measures.values():
        m.status = vocab.DONE
    ledger.owners = __import__("toolkit.io.ledger_file", fromlist=["x"]).owners_from_measures(ledger.measures)
    paths = notices.write_notices(ledger, settings, assess(ledger, settings))
    text = next(p for p in paths if p.name == "进展通报.md").read_text(encoding="utf-8")
    assert "## 四、逾期未完成事项\n\n无。" in text
    assert not [p for p in paths if "督办单" in p.parts]


def test_docx_follows_the_official_document_layout_and_carries_the_chart(written):
    settings, files = written
    document = docx.Document(files["进展通报.docx"])
    section = document.sections[0]
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    title = document.paragraphs[0]
    assert title.text.startswith("关于测试整改进展情况的通报") and title.alignment == 1
    assert title.runs[0].font.size.pt == 22
    body = next(p for p in document.paragraphs if p.text.startswith("根据巡视整改"))
    assert body.runs[0].font.size.pt == 16
    east = body.runs[0]._element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
    assert east == "仿宋_GB2312"
    date = next(p for p in document.paragraphs if p.text == "2024年8月30日")
    assert date.paragraph_format.left_indent > docx.shared.Mm(60)
    if notices.cjk_font():
        assert len(document.inline_shapes) == 1
        assert files["各单位完成率.png"].stat().st_size > 5000


def test_rerunning_the_notices_rewrites_nothing(written):
    settings, files = written
    stamps = {k: p.stat().st_mtime_ns for k, p in files.items()}
    ledger = read_ledger(settings.master)
    notices.write_notices(ledger, settings, assess(ledger, settings))
    assert {k: p.stat().st_mtime_ns for k, p in files.items()} == stamps


def test_a_change_of_fonts_reaches_every_docx_although_the_text_is_the_same(written):
    """The .md texts stay, untouched; each .docx is rewritten in the newly configured body font."""
    settings, files = written
    md_stamps = {k: p.stat().st_mtime_ns for k, p in files.items() if p.suffix == ".md"}
    settings = replace(settings, fonts={"body": ["仿宋", "FangSong"]})
    ledger = read_ledger(settings.master)
    notices.write_notices(ledger, settings, assess(ledger, settings))
    assert {k: p.stat().st_mtime_ns for k, p in files.items() if p.suffix == ".md"} == md_stamps
    docxs = [p for p in files.values() if p.suffix == ".docx"]
    assert docxs
    for path in docxs:
        fonts = {r.font.name for para in docx.Document(str(path)).paragraphs for r in para.runs if r.font.name}
        xml = __import__("zipfile").ZipFile(path).read("word/document.xml").decode()
        assert "仿宋_GB2312" not in xml and "仿宋" in xml, (path.name, fonts)


@needs_lo
def test_docx_renders_in_libreoffice_with_its_text(written, tmp_path):
    settings, files = written
    pdf = office.convert(files["进展通报.docx"], "pdf", tmp_path / "pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "关于测试整改进展情况的通报" in flat and "ZG-001" in flat and "中共某市卫生健康委员会委员会" in flat


def test_cli_notice_writes_the_chosen_kind_for_the_given_date(workspace):
    from click.testing import CliRunner

    from toolkit.cli import cli
    (workspace.root / "config.toml").write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nsubject = "市卫生健康委"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["notice", "-c", str(workspace.root), "--kind", "公开", "--date", "2024-09-10"])
    assert result.exit_code == 0, result.output
    path = workspace.path("output") / "2024-08" / "通报" / "2024-09-10" / "公开进展段落.txt"
    assert path.read_text(encoding="utf-8").startswith("本轮巡视反馈意见共指出市卫生健康委")


def test_supervision_slip_docx_is_valid_and_the_same_bytes_every_time(written, tmp_path):
    from toolkit.documents import gongwen
    settings, files = written
    text = files["督办单/办公室.md"].read_text(encoding="utf-8")
    data = gongwen.render(text, author=settings.organisation)
    assert data == gongwen.render(text, author=settings.organisation) == files["督办单/办公室.docx"].read_bytes()
    document = docx.Document(files["督办单/办公室.docx"])
    assert document.paragraphs[0].text == "巡视整改督办单" and document.paragraphs[0].runs[0].font.size.pt == 22
    assert document.tables[0].cell(1, 1).text == "ZG-001"
    assert round(document.sections[0].top_margin.mm) == 37


def test_the_notice_states_the_trend_and_charts_it_once_there_is_an_earlier_period(tmp_path):
    import zipfile

    from tests.test_dashboard import history_row
    settings = settings_for(tmp_path, notice_pdf=False)
    ledger = small_ledger()
    first = notices.write_notices(ledger, settings, assess(ledger, settings), ["通报"])
    md = next(p for p in first if p.name == "进展通报.md").read_text(encoding="utf-8")
    assert "整改措施完成率为33.3%，" in md and "无上期数据" not in md and "逐月变化" not in md
    ledger.history = [history_row("2024-06", 6, 0), history_row("2024-07", 6, 1)]
    written = notices.write_notices(ledger, settings, assess(ledger, settings), ["通报"])
    md = next(p for p in written if p.name == "进展通报.md").read_text(encoding="utf-8")
    assert "整改措施完成率为33.3%，较上月提高16.6个百分点（逐月变化见附件" in md
    assert "![整改措施完成率逐月变化](完成率逐月变化.png)" in md
    with zipfile.ZipFile(next(p for p in written if p.name == "进展通报.docx")) as z:
        media = sorted(n for n in z.namelist() if n.startswith("word/media/"))
        rels = z.read("word/_rels/document.xml.rels").decode()
    assert media == ["word/media/image1.png", "word/media/image2.png"]
    assert 'Id="rIdImg1"' in rels and 'Id="rIdImg2"' in rels
    text = "\n".join(p.text for p in docx.Document(next(p for p in written if p.suffix == ".docx")).paragraphs)
    assert "较上月提高16.6个百分点" in text
