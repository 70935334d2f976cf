"""Documents as people read them (issue 26.6–9): the WeChat text in paragraphs, receipts in sentences,
tables whose dates never split and whose measures have room, units in the office's order."""
import re

import pytest

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
    settings.notice_pdf = False
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
