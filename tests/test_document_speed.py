"""The document outputs' shortcuts give exactly what the long way gives: the sandbox's memo of its attribute check
(same values, same refusals), text widths counted by script runs."""
from __future__ import annotations

import dataclasses
import os
import random

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from tests.conftest import settings_for
from tests.test_dashboard import two_leader_ledger
from toolkit import vocab
from toolkit.assessment import assess
from toolkit.documents import dashboard, gongwen, ladder, leaders, templating
from toolkit.model import Status
from toolkit.rules import punct
from toolkit.rules.deadlines import OVERDUE
from toolkit.rules.stats import Counts


def records() -> list[object]:
    """One of every record type the templates read, filled in."""
    line = leaders.Line("ZG-001", "制定方案。", "甲单位", "乙单位、丙单位", Status(vocab.IN_PROGRESS), "2024年9月1日",
                        OVERDUE, 3)
    group = leaders.UnitGroup("甲单位", [line])
    counts = Counts(total=2, done=1, overdue=1)
    view = leaders.LeaderView("王××（主任）", counts, [group])
    bar = dashboard.Bar("甲单位", "甲单位", 50.0, 2, 1, 1, None, units=("甲单位",), leaders=("王××（主任）",))
    late = dashboard.LateItem(OVERDUE, "ZG-001", "制定方案。", "甲单位", "", "王××", "2024年9月1日", 3, 2,
                              Status(vocab.IN_PROGRESS), ("甲单位",))
    rung = ladder.UnitRung("甲单位", "提醒函", ("告诫书：ZG-001",), ())
    return [line, group, counts, view, bar, late, rung, vocab]


def names(obj: object) -> list[str]:
    """Its fields and properties, and the internals a template escape reaches for."""
    own = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else ["DONE", "OVERDUE", "re"]
    props = [k for k, v in vars(type(obj)).items() if isinstance(v, property)]
    return own + props + ["__class__", "__init__", "__dict__", "__globals__", "__module__", "_rank", "mro", "add",
                          "missing", "__builtins__", "__loader__", "__spec__"]


@pytest.mark.parametrize("obj", records(), ids=lambda o: type(o).__name__)
def test_the_sandboxs_memo_gives_what_jinja2s_own_check_gives(obj):
    ours, theirs = templating.Sandbox(undefined=jinja2.StrictUndefined), SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert type(obj) in templating.RECORDS
    for _ in range(2):                            # the second time from the memo
        for name in names(obj):
            got, expected = ours.getattr(obj, name), theirs.getattr(obj, name)
            if isinstance(expected, jinja2.Undefined):
                assert isinstance(got, jinja2.Undefined), name
                assert got._undefined_exception is expected._undefined_exception, name      # SecurityError stays
            else:
                assert got == expected and type(got) is type(expected), name


ESCAPES = ["{{ m.__class__.__init__.__globals__ }}", "{{ m.id.__class__.__mro__ }}", "{{ vocab.__builtins__ }}",
           "{{ m.status.__class__.__mro__ }}", "{{ g.__dict__ }}", "{{ m.measure.format.__globals__ }}",
           "{{ v.counts.add.__func__.__globals__ }}"]


@pytest.mark.parametrize("source", ESCAPES)
def test_a_template_reaching_internals_through_a_record_is_still_refused(source):
    line, group, _, view, *_ = records()
    env = templating.Sandbox(undefined=jinja2.StrictUndefined)
    with pytest.raises(SecurityError):
        env.from_string("{{ m.id }}{{ g.unit }}" + source).render(m=line, g=group, v=view, vocab=vocab)


def test_the_templates_environments_are_the_memoising_sandbox():
    assert isinstance(templating.environment(), templating.Sandbox)
    assert isinstance(dashboard.environment((templating.TEMPLATE_DIR,)), templating.Sandbox)
    assert issubclass(templating.Sandbox, SandboxedEnvironment)


def width_char_by_char(text: str, size: int) -> int:
    """gongwen._width as first written: character by character."""
    gaps = sum((ord(a) < 0x2E80) != (ord(b) < 0x2E80) for a, b in zip(text, text[1:]))
    return sum(size * 13 // 2 if ord(c) < 0x2E80 else size * 10 for c in text) + gaps * size * 10 // 4


def test_text_width_by_script_runs_is_the_character_by_character_width():
    alphabet = ["a", "1", " ", "\x00", "\u2e7f", "\u2e80", "中", "（", "—", "、", "é", "\U0001F600", "\uffff"]
    rng = random.Random(7)
    samples = ["", "2024年8月31日", "ZG-001", "12天", "（一）重点问题整改方面：", "第0001号责任单位"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 15))) for _ in range(3000)]
    for text in samples:
        for size in (21, 28, 32, 44):
            assert gongwen._width(text, size) == width_char_by_char(text, size), (text, size)


def chinese_line_by_line(text: str) -> str:
    """templating.chinese as first written: every line through punct.fullwidth."""
    return "\n".join(line if templating.IMAGE_LINE.match(line.strip()) else punct.fullwidth(line)
                     for line in text.split("\n"))


def test_lines_kept_as_they_are_are_those_fullwidth_would_keep():
    pieces = ["整改", "a", "1", " ", ",", ":", "(", ")", '"', "“", "”", "=", "报告.xlsx", "\ue000", "\ue001", "，",
              "![图](a.png)", "（", "见附件.docx"]
    rng = random.Random(11)
    texts = ["", "\n", "措施,明确分工", "报告.xlsx\ue000", "\ue000 报告.xlsx", "(甲单位)", "ZG-001 2024-08-31"]
    texts += ["\n".join("".join(rng.choice(pieces) for _ in range(rng.randrange(0, 9))) for _ in range(4))
              for _ in range(3000)]
    texts += ["a.md " * 6500 + "\ue000", "“=”" * 6500]         # more file names than private-use characters
    for text in texts:
        assert templating.chinese(text) == chinese_line_by_line(text), text[:80]


def test_an_edited_template_and_another_workspaces_words_are_never_served_from_a_memo(tmp_path):
    """One process, as the resident service: the dashboard and 调度单 are written, the workspace's copies of their
    templates edited, written again (the new text); a second workspace with another profile gets its own words."""
    def documents(settings) -> tuple[str, str]:
        ledger = two_leader_ledger()
        assessment = assess(ledger, settings)
        view = leaders.views(ledger, list(assessment.late))[0]
        return (dashboard.render(dashboard.build(ledger, settings, assessment), settings),
                templating.render("领导调度单.md.j2", leaders.slip_context(view, settings, assessment.dated), settings))

    first = settings_for(tmp_path / "甲")
    html, slip = documents(first)
    own = first.root / "templates"
    own.mkdir(parents=True)
    for mark in ("标记一", "标记二"):
        for name, line in (("看板.html.j2", "{% for v in d.leader_views %}" + mark + "{{ v.leader }}{% endfor %}"),
                           ("领导调度单.md.j2", mark + "{% for u in 单位 %}{{ u.未完成措施[0].id }}{% endfor %}")):
            path = own / name
            path.write_text((templating.TEMPLATE_DIR / name).read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
            later = path.stat().st_mtime + (10 if mark == "标记一" else 20)
            os.utime(path, (later, later))                  # a save seconds later, as an office edits it
        edited_html, edited_slip = documents(first)
        assert f"{mark}李××" in edited_html and edited_html.startswith(html[:200]) and edited_html != html
        assert f"{mark}ZG-001" in edited_slip and edited_slip.startswith(slip)
    other = settings_for(tmp_path / "乙", profile="督查督办")
    other_html, other_slip = documents(other)
    assert other_html != html and other_slip != slip
    words = templating.wording(other)
    assert words["措施称谓"] != templating.wording(first)["措施称谓"]
    assert other_slip.startswith(f"# {words['措施称谓']}调度单") and slip.startswith("# 整改措施调度单")
    assert "标记二ZG-001" in documents(first)[1] and documents(other) == (other_html, other_slip)
