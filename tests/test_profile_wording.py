"""Every document and page speaks the profile's [wording]: a non-巡视 demo's outputs (通报, 督办单, ladder notices,
调度单, 催报, 回执, 看板, chart titles, 拟发清单) never use an inspection word the profile replaces."""
import html
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit import profiles, vocab
from toolkit.cli import cli
from toolkit.documents import templating

NON_DEFAULT = [n for n in profiles.builtin_names() if n != profiles.DEFAULT]


def replaced_words(profile: profiles.Profile) -> list[str]:
    """The default words the profile's [wording] replaces, derived from the table itself: each key it sets
    to another word, whose default is a term (three characters or more, or a level's name) and not part of
    the profile's own words. 主题 / 事项 / 措施 / 条 are also ordinary prose (下一步措施, 逾期事项)."""
    own = " ".join([*(v for k, v in profile.wording.items() if k != "分类依据"), profile.programme, profile.work, profile.source, profile.title])
    out = set()
    for key, value in profile.wording.items():
        default = vocab.NOTICE_WORDING[key]
        if key == "分类依据" or value == default or default in own:
            continue
        if len(default) >= 3 or key == "重点问题称谓":
            out.add(default)
    return sorted(out)


def visible_texts(root: Path):
    """(file, text a reader sees) for every document under output/: md/txt/csv as written, HTML without its
    tags (titles and alt texts kept), docx paragraphs, and the chart PNGs' titles as the notice names them."""
    for path in sorted((root / "output").rglob("*")):
        if "运行报告" in path.parts:          # the console's run report (toolkit/results.py) is not a document yet
            continue
        if path.suffix in (".md", ".txt", ".csv"):
            text = path.read_text(encoding="utf-8-sig")    # a 回执's note tells how the list's words were stored:
            yield path, re.sub(r".*按规范用语登记.*", "", text)   # “办结”→“已完成” names the stored word on purpose
        elif path.suffix == ".html":
            page = path.read_text(encoding="utf-8")
            page = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
            shown = re.findall(r'(?:title|alt|data-label|data-empty)="([^"]*)"', page)
            yield path, html.unescape(re.sub(r"<[^>]+>", " ", page) + " ".join(shown))
        elif path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                yield path, re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
        elif path.suffix == ".png":
            yield path, path.stem


def demo(tmp_path: Path, profile: str) -> Path:
    target = tmp_path / profile
    result = CliRunner().invoke(cli, ["demo", "--profile", profile, str(target)])
    assert result.exit_code == 0, result.output
    for args in (["issue", "-c", str(target), "--all"], ["remind", "-c", str(target), "--date", "2024-08-22"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    return target


@pytest.mark.parametrize("profile", NON_DEFAULT)
def test_every_document_of_a_profile_demo_speaks_its_wording_and_names_its_levels(tmp_path, profile):
    words = replaced_words(profiles.load(profile))
    target = demo(tmp_path, profile)
    texts = dict(visible_texts(target))
    kinds = {p.parent.name if p.parent.name in ("督办单", "领导调度单", "回执", "催报") else p.suffix for p in texts}
    assert {"督办单", "领导调度单", "回执", ".html", ".png", ".csv"} <= kinds, kinds
    assert any(re.search("提醒函|告诫书|约谈", str(p)) for p in texts), "the ladder's notices were issued"
    found = {(str(p.relative_to(target)), w) for p, t in texts.items() for w in words if w in t}
    assert sorted(found) == []


def test_the_replaced_words_come_from_the_profile_table_not_a_list_kept_by_hand():
    supervision = replaced_words(profiles.load("督查督办"))
    assert {"整改措施", "完成率", "已完成", "正在推进", "重点问题"} <= set(supervision)
    assert "事项" not in supervision                       # its own word: 交办事项
    assert replaced_words(profiles.load(profiles.DEFAULT)) == []


def test_status_words_reach_templates_in_the_profile_wording(tmp_path):
    from toolkit import config
    settings = config.from_dict({"profile": "责任清单"}, tmp_path)
    said = templating.wording(settings)["状态称谓"]
    assert said[vocab.IN_PROGRESS] == "序时推进" and said[vocab.NOT_STARTED] == "尚未开展"
    assert templating.wording(config.from_dict({}, tmp_path / "d"))["状态称谓"][vocab.DONE] == vocab.DONE


@pytest.mark.parametrize("profile", NON_DEFAULT)
def test_the_statistics_sheet_of_a_profile_demo_speaks_its_wording(tmp_path, profile):
    """整改进度统计's headings and labels (status columns, 完成率, 整改措施合计, section titles, the chart's words)
    are the profile's; its formulas keep counting the ledger's own words, which a reader never sees as text."""
    import openpyxl

    from toolkit.io import stats_sheet
    words = replaced_words(profiles.load(profile))
    target = tmp_path / profile
    result = CliRunner().invoke(cli, ["demo", "--profile", profile, str(target)])
    assert result.exit_code == 0, result.output
    master = target / "master" / f"{vocab.SHEET_LEDGER}.xlsx"
    ws = openpyxl.load_workbook(master)[vocab.SHEET_STATS]
    shown = [(c.coordinate, c.value) for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and not c.value.startswith("=")]
    label = stats_sheet.total_label({**vocab.NOTICE_WORDING, **profiles.load(profile).wording})
    assert any(v == label for _, v in shown)
    assert [(at, w) for at, v in shown for w in words if w in v] == []
    with zipfile.ZipFile(master) as z:
        charts = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/"))
    assert charts and [w for w in words if w in re.sub(r"<c:f>.*?</c:f>", "", charts)] == []
