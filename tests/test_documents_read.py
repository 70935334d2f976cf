"""Documents as people read them (issue 26.6–9): the WeChat text in paragraphs, receipts in sentences,
tables whose dates never split and whose measures have room, units in the office's order."""
import re
import subprocess
import zipfile
from dataclasses import replace

import pytest

from tests.test_gongwen import needs_lo
from toolkit import demo
from toolkit.assessment import assess
from toolkit.documents import notices
from toolkit.nightly import run_once


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory):
    """The demo staged and run once: receipts, notices, dashboard."""
    settings = demo.stage_demo(tmp_path_factory.mktemp("read") / "demo")
    run_once(settings)
    return settings


def test_the_wechat_text_breaks_where_a_person_would(tmp_path):
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, notice_pdf=False)
    ledger = demo.demo_ledger()
    paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("公开",))
    lines = next(p for p in paths if p.name == "微信通报.txt").read_text(encoding="utf-8").strip().split("\n")
    assert lines[0] == "【十二届市委第三轮第一批巡视反馈意见整改进展】"
    assert lines[1].startswith("截至2024年8月31日，本轮巡视") and lines[1].endswith("尚未启动1条。")
    assert lines[2].startswith("整改期间共查摆“举一反三”") and lines[3].startswith("共制定整改措施263条")
    assert lines[4].startswith("进度靠后的单位：") and lines[-2] == "详见正式通报。"
    assert lines[-1] == f"——{settings.organisation}" and all(line.endswith("。") for line in lines[1:-1])


def test_receipt_lines_end_as_sentences_and_times_read_as_written(demo_workspace):
    folder = demo_workspace.path("output") / "2024-08" / "回执"
    receipts = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.txt")}
    text = next(t for name, t in receipts.items() if name.startswith("市第二人民医院_20240819-130000"))
    assert "（2024年8月19日13:00收到）" in text and "收件时间 " not in text
    early = next(t for name, t in receipts.items() if name.startswith("财务处_20240821-090000"))
    assert "（2024年8月21日9:00收到）" in early
    for name, t in receipts.items():
        body = t.strip().splitlines()[2:-2]            # between the addressee and the signature
        for line in (x.strip() for x in body if x.strip()):
            assert line.endswith(("。", "：")), (name, line)
        assert not re.search(r"\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}", t), name


def ordered_programme(tmp_path):
    """The demo with [order] listing units and leaders the reverse of how the ledger first names them."""
    settings = demo.demo_settings(tmp_path)
    settings = replace(settings, notice_pdf=False)
    ledger = demo.demo_ledger()
    settings = replace(settings, unit_order=ledger.units[::-1])
    settings = replace(settings, leader_order=ledger.leaders[::-1])
    return settings, ledger


def test_units_and_leaders_follow_the_configured_order_in_every_document(tmp_path):
    from python_calamine import CalamineWorkbook

    from toolkit import vocab
    from toolkit.documents import dashboard
    from toolkit.io import master_file
    settings, ledger = ordered_programme(tmp_path)
    a = assess(ledger, settings)
    place = {u: i for i, u in enumerate(settings.unit_order)}
    assert a.unit_order == tuple(settings.unit_order)
    tied = [(-c.completion, -c.progress(settings.weights), c.overdue, place[u]) for u, c in a.ranking]
    assert tied == sorted(tied) and len({t[:3] for t in tied}) < len(tied)   # equal figures: the office's order
    paths = notices.write_notices(ledger, settings, a, ("通报", "督办单"))
    md = next(p for p in paths if p.name == "进展通报.md").read_text(encoding="utf-8")
    annex = md[md.index("# 逾期未完成整改措施清单"):md.index("# 各单位整改完成率排名")]
    units = list(dict.fromkeys(row.split("|")[2].strip() for row in annex.splitlines()
                               if re.match(r"^\| \d+ \|", row)))
    assert len(units) > 10 and units == sorted(units, key=place.get)
    slips = sorted((p for p in paths if p.suffix == ".md" and p.parent.name == "督办单"),
                   key=lambda p: int(re.search(r"〔2024〕(\d+)号", p.read_text(encoding="utf-8"))[1]))
    assert [p.stem for p in slips] == units                         # 督办编号 given in the office's order
    page = dashboard.render(dashboard.build(ledger, settings, a))
    options = re.findall(r"<option>([^<]+)</option>", page[page.index('id="f-unit"'):page.index('id="f-leader"')])
    assert options == settings.unit_order
    sections = re.findall(r'<section class="card leader[^"]*" data-units="[^"]*" data-leaders="([^"]+)"', page)
    assert sections == settings.leader_order
    master_file.write_master(ledger, settings)
    rows = CalamineWorkbook.from_path(str(settings.master)).get_sheet_by_name(vocab.SHEET_STATS).to_python()
    listed = [r[1] for r in rows if len(r) > 1 and r[1] in place]
    assert listed == [u for u, _ in a.ranking]


def test_an_order_naming_a_unit_twice_is_refused_with_the_fix(tmp_path):
    from toolkit import config
    from toolkit.errors import ConfigError
    with pytest.raises(ConfigError, match="“医政处”出现了不止一次"):
        config.from_dict({"order": {"units": ["医政处", "办公室", "医政处"]}}, tmp_path)


DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def layout_lines(pdf) -> list[list[str]]:
    """Each page's lines as pdftotext -layout sets them, spaces removed (a date split over two lines of a
    cell shows as two fragments on two lines)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return [[re.sub(r"\s+", "", line) for line in page.splitlines()] for page in text.split("\f")]


@needs_lo
def test_dates_never_split_and_the_overdue_list_has_room_for_its_measures(tmp_path):
    settings, ledger = ordered_programme(tmp_path)
    settings = replace(settings, notice_pdf=True)
    paths = notices.write_notices(ledger, settings, assess(ledger, settings), ("通报", "督办单"))
    notice = next(p for p in paths if p.name == "进展通报.pdf")
    md = next(p for p in paths if p.name == "进展通报.md").read_text(encoding="utf-8")
    pages = layout_lines(notice)
    annex = next(i for i, page in enumerate(pages) if any(line == "附件1" for line in page))
    second = next(i for i, page in enumerate(pages) if any(line == "附件2" for line in page))
    in_pdf = [d for page in pages[annex:] for line in page for d in DATE.findall(line)]
    in_md = DATE.findall(md[md.index("\n附件1\n"):])
    assert len(in_md) > 60 and sorted(in_pdf) == sorted(in_md)           # every table date whole on one line
    entries = len(re.findall(r"^\| \d+ \|", md[md.index("\n附件1\n"):md.index("\n附件2\n")], re.M))
    assert entries == 63 and second - annex <= 4                        # was 5 pages at 9 characters a line
    xml = zipfile.ZipFile(notice.with_suffix(".docx")).read("word/document.xml").decode()
    table = xml[xml.index("逾期未完成整改措施清单"):]
    widths = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', table[:table.index("</w:tblGrid>")])]
    assert len(widths) == 6 and widths[3] >= 14 * 210                  # 整改措施: 14 五号 characters a line (was 9)
    slips = [p for p in paths if p.suffix == ".pdf" and p.parent.name == "督办单"]
    assert len(slips) > 10
    for pdf in slips:
        text = pdf.with_suffix(".md").read_text(encoding="utf-8")
        found = [d for page in layout_lines(pdf) for line in page for d in DATE.findall(line)]
        assert sorted(found) == sorted(DATE.findall(text)), pdf.name


def test_check_names_an_order_entry_the_ledger_does_not_hold(tmp_path):
    from toolkit import check
    from toolkit.io import master_file
    settings = demo.demo_settings(tmp_path)
    master_file.write_master(demo.demo_ledger(), settings)
    settings = replace(settings, unit_order=["办公室", "医正处"])
    report = check.check(settings.master, settings)
    assert any("[order] units 中的“医正处”不是台账中的责任单位" in line for line in report.suspicious)
