"""Config mistakes speak Chinese: encodings, wrong types and unknown keys name the key and the fix."""
import pytest
from click.testing import CliRunner

from toolkit import config
from toolkit.cli import cli
from toolkit.errors import ConfigError

TEXT = 'title = "测试整改台账"\nperiod = "2024-08"\n[limits]\nmax_file_mb = 5\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_with_bom_and_gbk_files_are_read(tmp_path, encoding):
    (tmp_path / "config.toml").write_bytes(TEXT.encode(encoding))
    settings = config.load(tmp_path)
    assert settings.title == "测试整改台账" and settings.max_file_mb == 5.0


def test_an_undecodable_file_is_rejected_in_chinese(tmp_path):
    (tmp_path / "config.toml").write_bytes(b'title = "\xff\xfe\xff"\n')
    with pytest.raises(ConfigError, match="编码无法识别.*UTF-8"):
        config.load(tmp_path)


@pytest.mark.parametrize("text, says", [
    ("weights = 1\n", "weights 的值“1”无效：应为表格"),
    ('schedule = "x"\n', "schedule 的值“x”无效：应为表格"),
    ('[limits]\nmax_file_mb = "a"\n', "limits.max_file_mb 的值“a”无效：应为大于0的数"),
    ("[limits]\nlock_wait_seconds = -1\n", "limits.lock_wait_seconds 的值“-1”无效"),
    ('[schedule]\nat = "25:99"\n', "schedule.at = “25:99”应为 HH:MM"),
    ("[schedule]\nevery_minutes = 1.5\n", "schedule.every_minutes 的值“1.5”无效：应为非负整数"),
    ("reply_days = true\n", "reply_days 的值“True”无效：应为非负整数"),
    ("title = 3\n", "title 的值“3”无效：应为文字"),
    ('[calendar]\nextra_holidays = "2024-10-01"\n', "calendar.extra_holidays 的值“2024-10-01”无效：应为日期列表"),
    ('[weights]\n"已完成" = 2\n', "weights.已完成 的值“2”无效：应为0到1之间的数"),
    ('[units]\n"委属各单位" = 3\n', "units.委属各单位 的值“3”无效：应为单位名称"),
    ('[units]\n"委属各单位" = []\n', "units.委属各单位 的值“[]”无效"),
])
def test_wrong_types_name_the_key_and_what_it_should_be(tmp_path, text, says):
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert says in str(info.value) and "config.toml" in str(info.value)


@pytest.mark.parametrize("text, says", [
    ('titel = "x"\n', "未知的配置项 “titel”。是否想写“title”？"),
    ("[limits]\nmax_fle_mb = 3\n", "[limits] 中的“max_fle_mb”。是否想写“max_file_mb”？"),
    ('[schedule]\nevery_minute = 3\n', "是否想写“every_minutes”？"),
    ('[paths]\nmastr = "a.xlsx"\n', "[paths] 中的“mastr”。是否想写“master”？"),
    ('[weights]\n"已完" = 1\n', "[weights] 中的“已完”。是否想写“已完成”？"),
    ('[calendar]\nholidays = []\n', "[calendar] 中的“holidays”"),
])
def test_unknown_keys_anywhere_suggest_the_nearest_valid_one(tmp_path, text, says):
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=None) as info:
        config.load(tmp_path)
    assert says in str(info.value)


def test_a_toml_syntax_error_says_where_in_chinese(tmp_path):
    (tmp_path / "config.toml").write_text('title = “全角引号”\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="第1行第9列附近不符合 TOML 格式.*英文双引号"):
        config.load(tmp_path)


def test_the_units_table_maps_collective_names_and_aliases_to_lists(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[units]\n"委属各单位" = ["市第一中心医院", " 市人民医院 "]\n"一中心" = "市第一中心医院"\n', encoding="utf-8")
    assert config.load(tmp_path).unit_map == {"委属各单位": ["市第一中心医院", "市人民医院"], "一中心": ["市第一中心医院"]}


def test_the_default_config_loads_and_every_mistake_reaches_the_cli_as_one_line(tmp_path):
    config.write_default(tmp_path)
    assert config.load(tmp_path).lock_wait_seconds == 30.0 and config.load(tmp_path).unit_map == {}
    (tmp_path / "config.toml").write_text("[limits]\nlock_wait_second = 1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["consolidate", "-c", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("错误：") and "lock_wait_seconds" in result.output
