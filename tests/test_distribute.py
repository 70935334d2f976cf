import openpyxl
from python_calamine import CalamineWorkbook

from toolkit import vocab
from toolkit.distribute import UNIT_SHEET_COLUMNS, distribute


def test_each_unit_gets_only_the_rows_it_leads_or_co_owns(workspace):
    out = {d.unit: d for d in distribute(workspace)}
    assert set(out) == {"办公室", "医政处", "市人民医院"}
    rows = CalamineWorkbook.from_path(str(out["市人民医院"].path)).get_sheet_by_name(vocab.SHEET_LEDGER).to_python()
    ids = [r[0] for r in rows[2:]]
    assert ids == ["ZG-002", "ZG-004"]
    role = UNIT_SHEET_COLUMNS.index("本单位角色")
    assert [r[role] for r in rows[2:]] == [vocab.ROLE_CO, vocab.ROLE_LEAD]


def test_plan_columns_are_locked_and_fill_in_columns_are_not(workspace):
    path = {d.unit: d.path for d in distribute(workspace)}["医政处"]
    ws = openpyxl.load_workbook(path)[vocab.SHEET_LEDGER]
    assert ws.protection.sheet
    col = {name: i for i, name in enumerate(UNIT_SHEET_COLUMNS, 1)}
    for name in vocab.LOCKED_COLUMNS:
        assert ws.cell(3, col[name]).protection.locked, name
    for name in vocab.UNIT_COLUMNS:
        assert not ws.cell(3, col[name]).protection.locked, name


def test_status_has_a_dropdown_and_rows_have_live_highlighting(workspace):
    path = {d.unit: d.path for d in distribute(workspace)}["办公室"]
    ws = openpyxl.load_workbook(path)[vocab.SHEET_LEDGER]
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].type == "list" and vocab.DONE in dv[0].formula1
    status_letter = openpyxl.utils.get_column_letter(UNIT_SHEET_COLUMNS.index(vocab.STATUS) + 1)
    assert str(dv[0].sqref).startswith(f"{status_letter}3")
    formulas = [r.formula[0] for rng in ws.conditional_formatting for r in rng.rules]
    assert any(vocab.NAME_REF_DATE in f and "ISNUMBER" in f for f in formulas)


def test_hidden_sheet_records_unit_period_version_and_fingerprints(workspace):
    path = {d.unit: d.path for d in distribute(workspace)}["办公室"]
    wb = openpyxl.load_workbook(path)
    meta = wb[vocab.SHEET_META]
    assert meta.sheet_state == "veryHidden"
    info = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, 8)}
    assert info[vocab.META_UNIT] == "办公室" and info[vocab.META_PERIOD] == "2024-08"
    assert info[vocab.META_VERSION] == vocab.TEMPLATE_VERSION and len(info[vocab.META_FINGERPRINT]) == 16
    assert [meta.cell(r, 1).value for r in range(10, 13)] == ["ZG-001", "ZG-005", "ZG-006"]


def test_unit_workbook_is_printable(workspace):
    path = {d.unit: d.path for d in distribute(workspace)}["办公室"]
    ws = openpyxl.load_workbook(path)[vocab.SHEET_LEDGER]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"


def test_distributing_twice_leaves_identical_files_alone(workspace):
    first = distribute(workspace)
    stamps = {d.unit: d.path.stat().st_mtime_ns for d in first}
    second = distribute(workspace)
    assert not any(d.written for d in second)
    assert {d.unit: d.path.stat().st_mtime_ns for d in second} == stamps


def test_a_locked_cells_canonical_form_is_remembered_for_texts_only():
    """canon memoises texts (a unit's rows repeat them); 1, 1.0 and True stay apart, and a date typed as text
    still compares equal to the date."""
    import datetime as dt

    from toolkit.io.template_contract import canon
    assert [canon(True), canon(1), canon(1.0), canon("1")] == ["True", "1", "1", "1"]
    assert canon("2024年9月30日") == canon(dt.date(2024, 9, 30)) == "2024-09-30"
    assert canon(" 关于 问题 ") == canon("关于问题") == "关于问题"
