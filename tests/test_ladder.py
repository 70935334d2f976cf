"""The ladder's rule as a table, its config, its table in an older history database, the HTTP route, and
三方验收 before 销号."""
import datetime as dt
import sqlite3
from dataclasses import replace

import pytest
from click.testing import CliRunner

from tests.conftest import hand_in
from tests.test_serve import served  # noqa: F401  (the real server fixture)
from toolkit import config, vocab
from toolkit.app import Workspace
from toolkit.cli import cli
from toolkit.errors import ConfigError, ReviewError
from toolkit.io import history_db
from toolkit.rules.ladder import Issued, LadderRules, Standing, propose

DUE = dt.date(2024, 7, 15)
RULES = LadderRules(warn_after=10, account_after=30)


def standing(state="逾期", workdays=5, status="正在推进", progress="已部署"):
    return Standing("ZG-1", "甲单位", state, DUE, workdays, status, progress)


def sent(rung, status="正在推进", progress="已部署", period="2024-07", due=DUE):
    return Issued("ZG-1", "甲单位", rung, "x号", dt.date(2024, 7, 20), "整改办", 3, due, status, progress, period)


@pytest.mark.parametrize("now, history, expected", [
    (standing("临期", -3), [], ("提醒函", "due_soon")),
    (standing(workdays=5), [], ("督办单", "overdue")),
    (standing(workdays=12), [], ("告诫书", "warn_after")),
    (standing(workdays=31), [], ("约谈/问责建议", "account_after")),
    (standing("临期", -2), [sent("提醒函")], None),                              # never twice for the same lateness
    (standing(workdays=5), [sent("提醒函")], ("督办单", "overdue")),
    (standing(workdays=6), [sent("督办单")], ("告诫书", "no_progress")),          # second 督办 without progress
    (standing(workdays=6), [sent("督办单", period="2024-08")], None),             # issued this period: stands
    (standing(workdays=6, progress="方案已起草"), [sent("督办单")], None),        # some news, no real progress
    (standing(workdays=12, status="基本完成"), [sent("告诫书")], ("督办单", "stepped_down")),
    (standing(workdays=6, status="基本完成"), [sent("督办单")], None),            # never under 督办单 while overdue
    (standing(workdays=5, progress="方案已起草"), [sent("告诫书")], None),        # no real progress: never lower
    (standing(workdays=5), [sent("告诫书")], ("约谈/问责建议", "no_progress")),    # warned, still nothing
    (standing(workdays=40), [sent("约谈/问责建议")], None),                       # the top rung is not repeated
    (standing(workdays=5), [sent("告诫书", due=dt.date(2024, 6, 30))], ("督办单", "overdue")),   # a new deadline
])
def test_the_rule_proposes_by_lateness_and_by_what_was_issued(now, history, expected):
    found = propose([now], history, RULES, "2024-08")
    assert [(p.rung, p.reason) for p in found] == ([expected] if expected else [])


def test_a_rung_table_in_config_is_checked_and_a_typo_is_named(tmp_path):
    s = config.from_dict({"ladder": {"warn_after": 15, "告诫书": {"number": "告〔{年}〕{序号}号", "issuer": "office"}}},
                         tmp_path)
    assert s.ladder == {"warn_after": 15, "告诫书": {"number": "告〔{年}〕{序号}号", "issuer": "office"}}
    with pytest.raises(ConfigError, match="是否想写“issuer”"):
        config.from_dict({"ladder": {"告诫书": {"isuer": "office"}}}, tmp_path)
    with pytest.raises(ConfigError, match="缺少 {序号}"):
        config.from_dict({"ladder": {"督办单": {"number": "督〔{年}〕号"}}}, tmp_path)


def test_a_history_database_from_before_the_ladder_keeps_working_and_gains_the_table(workspace):
    s = workspace
    path = history_db.db_path(s)
    old = sqlite3.connect(path)                # the schema as it was: runs and changes only
    old.executescript(history_db.SCHEMA.split("CREATE TABLE IF NOT EXISTS notices")[0])
    old.execute("INSERT INTO runs (digest, state, time) VALUES ('d', 'committed', '2024-08-01T00:00:00')")
    old.execute("INSERT INTO changes (run, measure, unit, field, old, new, source, time, period) VALUES "
                "(1, 'ZG-001', '', '完成情况', '', '正在推进', '初始导入', '2024-08-01T00:00:00', '')")
    old.commit()
    old.close()
    with history_db.HistoryDB(path, read_only=True) as db:
        assert db.issued() == []               # read-only, table absent: no notices, no error
    done = Workspace(s).issue(rungs=["提醒函"])
    assert {(i.measure, i.unit, i.rung) for i in done.issued} == {("ZG-002", "医政处", "提醒函"),
                                                                 ("ZG-002", "市人民医院", "提醒函")}
    with history_db.open_history(s) as db:
        assert [c.new for c in db.changes("ZG-001")] == ["正在推进"]
        assert sorted(i.number for i in db.issued()) == ["提醒〔2024〕1号", "提醒〔2024〕2号"]


def test_the_issue_button_issues_over_http_and_the_list_shrinks(served):  # noqa: F811
    _, client, s = served
    code, answer, _ = client.post("issue", {"rungs": ["约谈"]})
    assert code == 200, answer
    assert answer["lines"][0] == "已发出2份文书（涉及措施2条），已编号并记入变更记录数据库："
    assert {i["unit"] for i in answer["data"]["issued"]} == {"办公室", "市人民医院"}
    assert any(link["name"].endswith(".docx") for link in answer["links"])
    code, again, _ = client.post("issue", {"rungs": ["约谈/问责建议"]})
    assert code == 200 and again["lines"][0].startswith("没有符合条件的拟发文书")


def test_closing_waits_for_three_party_acceptance_when_config_asks(workspace):
    s = workspace
    (s.root / "config.toml").write_text('period = "2024-08"\nreference_date = "2024-08-30"\n[review]\nrequired = true\n'
                                        '[ladder]\nacceptance = true\n', encoding="utf-8")
    s = replace(s, review_required=True, ladder={"acceptance": True})
    hand_in(s, "市人民医院", {"ZG-004": {vocab.STATUS: "已完成", vocab.EVIDENCE: "某文〔2024〕9号"}})
    Workspace(s).consolidate()
    with pytest.raises(ReviewError, match="尚未完成三方验收（缺责任单位、牵头单位、整改办）"):
        Workspace(s).decide([("ZG-004", "")], vocab.REVIEW_APPROVE)
    for party in vocab.ACCEPTANCE_PARTIES[:2]:
        Workspace(s).accept("zg-004", party)
    result = CliRunner().invoke(cli, ["review", "ZG-004", "--agree", "-c", str(s.root)])
    assert result.exit_code == 1 and "缺整改办" in result.output
    out = CliRunner().invoke(cli, ["accept", "ZG-004", "--party", "整改办", "-c", str(s.root)])
    assert out.exit_code == 0 and "三方验收已齐全" in out.output
    result = CliRunner().invoke(cli, ["review", "ZG-004", "--agree", "-c", str(s.root)])
    assert result.exit_code == 0, result.output
