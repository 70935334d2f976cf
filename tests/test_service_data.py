"""The service's JSON of a result: the history's changes (named tuples) reach the console as objects by field,
as they did when they were data classes (the 变更记录 table reads c.measure, c.field, c.old, c.new)."""
from __future__ import annotations

import json

from toolkit.io.history_db import Change
from toolkit.service_ops import to_data


def test_a_history_change_is_sent_as_an_object_with_its_fields():
    change = Change("ZG-001", "办公室", "完成情况", "正在推进", "已完成", "a" * 64, "2024-08-20 10:00:00", "2024-08")
    data = json.loads(json.dumps(to_data([change])))
    assert data == [{"measure": "ZG-001", "unit": "办公室", "field": "完成情况", "old": "正在推进", "new": "已完成",
                     "source": "a" * 64, "time": "2024-08-20 10:00:00", "period": "2024-08"}]


def test_a_plain_tuple_is_still_a_list():
    assert to_data(("a", 1)) == ["a", 1]


def test_the_cli_json_of_a_history_change_is_an_object_with_its_fields():
    from toolkit.results import as_json
    change = Change("ZG-001", "", "完成情况", "", "已完成", "初始导入", "2024-08-20 10:00:00", "2024-08")
    assert json.loads(as_json([change]))[0] == {"measure": "ZG-001", "unit": "", "field": "完成情况", "old": "",
                                                 "new": "已完成", "source": "初始导入", "time": "2024-08-20 10:00:00",
                                                 "period": "2024-08"}
