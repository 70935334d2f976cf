"""The 通报 speaks each profile's language: 二、分类进展 by the list's own grouping (来源, 任务类别, 方面, 问题类别),
entries named as the list names them (交办事项 / 年度任务, 件 / 项, 办结率), and no 巡视 word that does not fit."""
import pytest
from click.testing import CliRunner

from toolkit import profiles
from toolkit.cli import cli
from toolkit.errors import ConfigError

# per profile: words its 通报 must not say, and a line of 二、分类进展 it must say
UNFIT = {
    "审计整改": (["重点问题整改方面", "举一反三"], "（一）预算管理不规范方面：措施10条，"),
    "督查督办": (["重点问题", "整改措施", "措施", "正在推进"], "会议议定方面：事项14件，已办结"),
    "责任清单": (["重点问题", "整改措施", "措施", "正在推进"], "（一）党的政治建设方面：任务10项，已完成"),
    "民主生活会整改": (["重点问题"], "（一）理论学习方面：措施10条，"),
}


@pytest.mark.parametrize("profile", list(UNFIT))
def test_each_profiles_notice_groups_by_its_own_categories_and_never_uses_words_that_do_not_fit(tmp_path, profile):
    target = tmp_path / profile
    result = CliRunner().invoke(cli, ["demo", "--profile", profile, str(target)])
    assert result.exit_code == 0, result.output
    notice = next(target.glob("output/*/通报/*/进展通报.md")).read_text(encoding="utf-8")
    unfit, line = UNFIT[profile]
    assert [w for w in unfit if w in notice] == []
    section = notice[notice.index("## 二、分类进展"):notice.index("## 三、")]
    assert line in section


def test_supervision_notice_states_the_rate_and_overdue_in_its_own_words(tmp_path):
    target = tmp_path / "督办"
    assert CliRunner().invoke(cli, ["demo", "--profile", "督查督办", str(target)]).exit_code == 0
    notice = next(target.glob("output/*/通报/*/进展通报.md")).read_text(encoding="utf-8")
    assert "交办事项办结率为77.5%，6件事项逾期未办结。" in notice
    assert "附件：1.逾期未办结交办事项清单" in notice and "| 名次 | 责任单位 | 事项数 | 已办结 | 办结率 | 逾期 |" in notice


def test_default_profile_words_are_the_inspection_notices_words():
    words = profiles.load().words()
    assert (words["措施称谓"], words["计量"], words["完成率称谓"], words["分类依据"]) == ("整改措施", "条", "完成率", "类别")


def test_an_unknown_wording_key_is_refused_naming_the_nearest():
    base = 'name = "x"\nprogramme = "x"\nwork = "x"\nsource = "x"\ntitle = "x"\noffice = "x"\n'
    with pytest.raises(ConfigError, match="未知的用语名“分类方式”。是否想写“分类依据”？"):
        profiles.from_toml(base + '[wording]\n"分类方式" = "类别"\n', "本单位方案.toml")
    with pytest.raises(ConfigError, match="“分类依据”应为类别、重点问题之一"):
        profiles.from_toml(base + '[wording]\n"分类依据" = "单位"\n', "本单位方案.toml")
