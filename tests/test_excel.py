import inspect
import shutil
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest
import xlwings as xw

from tests import xlwings_standin as fake
from tests.conftest import hand_in
from toolkit import addin, excel, vocab, words
from toolkit.errors import MissingProgram, SourceError
from toolkit.io import office
from toolkit.io.ledger_file import read_ledger

needs_lo = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice 未安装（scripts/install_system_deps.sh 安装失败）")

# (stand-in class, xlwings class, members the buttons use)
CONTRACT = [
    (fake.Book, xw.Book, ["caller", "sheets", "names", "app", "fullname", "name", "save", "selection"]),
    (fake.Sheet, xw.Sheet, ["range", "used_range", "clear_contents", "name"]),
    (fake.Sheets, xw.main.Sheets, ["add", "__getitem__", "__len__", "__iter__"]),
    (fake.Range, xw.Range, ["options", "value", "last_cell", "row", "column", "sheet", "address"]),
    (fake.App, xw.App, ["alert", "status_bar", "books"]),
    (fake.Books, xw.main.Books, ["active", "__iter__"]),
    (fake.Names, xw.main.Names, ["add"]),
]


@pytest.mark.parametrize("standin, real, members", CONTRACT, ids=[c[1].__name__ for c in CONTRACT])
def test_standin_matches_the_installed_xlwings_api(standin, real, members):
    for member in members:
        assert hasattr(real, member), f"xlwings.{real.__name__} has no {member}"
        ours, theirs = getattr(standin, member, None), getattr(real, member)
        if isinstance(theirs, property):
            continue
        if callable(theirs) and callable(ours) and member not in ("__getitem__", "__len__", "__iter__"):
            mine = [p for p in inspect.signature(ours).parameters if p not in ("self", "cls", "options")]
            real_params = [p for p in inspect.signature(theirs).parameters if p not in ("self", "cls", "options")]
            assert mine == real_params[:len(mine)], f"{real.__name__}.{member}: {mine} vs {real_params}"


def test_buttons_refuse_clearly_outside_excel():
    for name in excel.__all__:
        with pytest.raises(MissingProgram) as refused:
            getattr(excel, name)()
        assert refused.value.kind == "outside-excel" and refused.value.family == "environment"


@pytest.fixture
def open_book(workspace, monkeypatch):
    """The master open in a stand-in Excel, with config.toml beside it, as the buttons find it."""
    (workspace.root / "config.toml").write_text(
        'title = "测试整改台账"\nperiod = "2024-08"\nreference_date = "2024-08-30"\nsubmit_by = "2024-08-25"\n',
        encoding="utf-8")
    book = fake.Book(workspace.master)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    return workspace, book


def cell_of(book, measure_id, column):
    sheet = book.sheets[vocab.SHEET_LEDGER]
    header = {v: c for (r, c), v in sheet.cells.items() if r == 2}
    row = next(r for (r, c), v in sheet.cells.items() if c == 1 and v == measure_id)
    return row, header[column]


def test_consolidate_button_merges_into_the_open_book_saves_it_and_keeps_unsaved_edits(open_book):
    settings, book = open_book
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: "已完成", vocab.PROGRESS: "已印发"}})
    r, c = cell_of(book, "ZG-005", vocab.REMARK)
    book.sheets[vocab.SHEET_LEDGER].cells[(r, c)] = "办公室手工备注（未保存）"
    message = excel.consolidate_button()
    assert "采纳1个" in message and "完成率" in message
    lines = message.splitlines()     # from the result's data: master, units still missing and receipts, all three
    assert f"台账已更新：{settings.master}" in lines and lines[3].startswith("本期尚未报送（2个）") and lines[4].startswith("回执")
    assert book.app.alerts[-1][0] == "汇总报送完成"
    assert book.saved == 1 and book.app.status_bar is False
    assert any("汇总报送：1/1" in str(s) for s in book.app.status_history)
    ledger = read_ledger(settings.master)
    assert ledger.measures["ZG-001"].status == vocab.DONE and ledger.measures["ZG-001"].progress == "已印发"
    assert ledger.measures["ZG-005"].remark == "办公室手工备注（未保存）"
    assert not list(settings.path("inbox").iterdir()) and list(settings.path("archive").rglob("*.xlsx"))
    assert list((settings.path("output") / "2024-08" / "回执").glob("办公室_*.txt"))
    assert list(settings.path("backup").iterdir())


def test_buttons_write_in_bulk_not_cell_by_cell(open_book):
    settings, book = open_book
    excel.refresh_button()
    rows = len(read_ledger(settings.master).measures) + len(read_ledger(settings.master).owners)
    assert book.app.writes <= 20 and book.app.writes < rows * 4


def test_highlight_button_uses_unsaved_statuses_and_does_not_save(open_book):
    settings, book = open_book
    before = settings.master.read_bytes()
    r, c = cell_of(book, "ZG-001", vocab.STATUS)
    book.sheets[vocab.SHEET_LEDGER].cells[(r, c)] = vocab.DONE
    message = excel.highlight_button()
    assert "逾期未完成1条" in message                       # ZG-004 only; ZG-001 was just marked done
    overdue = book.sheets[vocab.SHEET_OVERDUE].cells
    assert "ZG-004" in overdue.values() and "ZG-001" not in overdue.values()
    assert settings.master.read_bytes() == before and book.saved == 0


def test_refresh_button_writes_formulas_and_keeps_unit_text_inert(open_book):
    settings, book = open_book
    r, c = cell_of(book, "ZG-001", vocab.PROGRESS)
    book.sheets[vocab.SHEET_LEDGER].cells[(r, c)] = "=1+1 看起来像公式"
    excel.refresh_button()
    assert book.sheets[vocab.SHEET_LEDGER].cells[(r, c)] == "'=1+1 看起来像公式"
    stats = book.sheets[vocab.SHEET_STATS].cells.values()
    assert any(isinstance(v, str) and v.startswith("=COUNTIFS(") for v in stats)


def test_errors_become_a_chinese_message_box_not_a_traceback(open_book, monkeypatch):
    settings, book = open_book
    (settings.root / "config.toml").unlink()
    assert excel.notices_button() is None
    title, prompt = book.app.alerts[-1]
    assert title == "生成通报未完成" and "config.toml" in prompt
    (settings.root / "config.toml").write_text('period = "2024-08"\n', encoding="utf-8")
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    monkeypatch.setattr("toolkit.consolidate.take_in", lambda *a, **k: 1 / 0)
    before = settings.master.read_bytes()
    assert excel.consolidate_button() is None
    assert "意外错误" in book.app.alerts[-1][1] and "Traceback" not in book.app.alerts[-1][1]
    assert settings.master.read_bytes() == before and book.app.status_bar is False


def other_book(tmp_path, app, name="报表.xlsx"):
    """A workbook that is not a ledger, opened in the same stand-in Excel (it becomes the active one)."""
    path = tmp_path / name
    openpyxl.Workbook().save(path)
    return fake.Book(path, app=app)


@pytest.mark.parametrize("button", excel.__all__)
def test_a_button_pressed_on_another_workbook_names_the_open_ledger(open_book, tmp_path, monkeypatch, button):
    settings, ledger_book = open_book
    other = other_book(tmp_path, ledger_book.app)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: other))
    before = settings.master.read_bytes()
    assert getattr(excel, button)() is None                  # a message box, not an exception (a traceback)
    title, prompt = ledger_book.app.alerts[-1]
    assert title.endswith("未完成") and "“报表.xlsx”不是整改台账" in prompt and "“整改台账.xlsx”" in prompt
    assert settings.master.read_bytes() == before and ledger_book.saved == 0 and other.sheets[0].cells == {}


def test_no_ledger_open_unsaved_ledger_and_missing_config_each_say_what_to_do(open_book, tmp_path, monkeypatch):
    settings, book = open_book
    from tests.xlwings_standin import App
    alone = other_book(tmp_path, App())
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: alone))
    assert excel.refresh_button() is None
    assert "没有“整改台账”工作表" in alone.app.alerts[-1][1] and "master" in alone.app.alerts[-1][1]

    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    book.saved_to_disk = False                                 # a new ledger never saved: Excel calls it 整改台账
    assert excel.consolidate_button() is None
    assert "尚未保存" in book.app.alerts[-1][1] and "Traceback" not in book.app.alerts[-1][1]

    book.saved_to_disk = True
    (settings.root / "config.toml").unlink()
    assert excel.highlight_button() is None
    assert "config.toml" in book.app.alerts[-1][1] and "init" in book.app.alerts[-1][1]
    assert book.app.status_bar is False


def test_the_addin_passes_its_version_and_a_mismatch_is_refused_before_anything_runs(open_book):
    settings, book = open_book
    from toolkit import __version__, excel_checks
    assert "统计已刷新" in excel_checks.press(__version__, "refresh_button")
    before = settings.master.read_bytes()
    for version, button in (("0.0.9", "consolidate_button"), (__version__, "retired_button")):
        assert excel_checks.press(version, button) is None
        title, prompt = book.app.alerts[-1]
        assert title == "整改台账加载项版本不符" and f"（{version}）" in prompt and "excel install" in prompt
    assert settings.master.read_bytes() == before and book.saved == 0


def test_notices_and_distribute_buttons_write_their_files(open_book):
    settings, book = open_book
    assert "已生成" in excel.notices_button()
    assert (settings.path("output") / "2024-08" / "通报" / "2024-08-30" / "进展通报.docx").exists()
    assert "3个单位" in excel.distribute_button()
    assert (settings.path("outbox") / "2024-08" / "办公室.xlsx").exists()


def test_the_remind_button_writes_reminders_for_units_that_have_not_reported(open_book):
    settings, book = open_book
    config = settings.root / "config.toml"
    assert "不在催报时段" in excel.remind_button()           # 2024-08-30 is after submit_by
    assert book.app.alerts[-1][0] == "催报完成" and not (settings.path("output") / "2024-08" / "催报").exists()
    config.write_text(config.read_text(encoding="utf-8").replace("2024-08-30", "2024-08-23"), encoding="utf-8")
    assert "已为3个尚未报送的单位生成催报" in excel.remind_button()
    assert (settings.path("output") / "2024-08" / "催报" / "办公室.docx").exists() and book.saved == 0


def test_the_remind_button_refuses_while_the_inbox_waits_to_be_consolidated(open_book):
    settings, book = open_book
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    assert excel.remind_button() is None
    title, prompt = book.app.alerts[-1]
    assert title == "催报未完成" and "请先汇总" in prompt and "Traceback" not in prompt


def test_every_button_takes_the_run_lock_and_changes_nothing_while_another_run_holds_it(open_book):
    from toolkit.app import Workspace
    settings, book = open_book
    with open(settings.root / "config.toml", "a", encoding="utf-8") as fh:
        fh.write("[limits]\nlock_wait_seconds = 0\n")
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    before = settings.master.read_bytes()
    outbox = sorted(p.name for p in settings.path("outbox").rglob("*"))
    with Workspace.open(settings.root).lock:                 # a nightly run is under way
        for name in excel.__all__:
            assert getattr(excel, name)() is None
            title, prompt = book.app.alerts[-1]
            assert title.endswith("未完成") and "另一个操作" in prompt
    assert settings.master.read_bytes() == before and book.saved == 0
    assert list(settings.path("inbox").iterdir())
    assert sorted(p.name for p in settings.path("outbox").rglob("*")) == outbox and not settings.path("output").exists()


def test_the_consolidate_button_writes_its_own_open_book_despite_excels_owner_file(open_book):
    settings, book = open_book
    settings.master.with_name("~$" + settings.master.name).write_bytes(b"Excel")   # the book is open: of course
    hand_in(settings, "办公室", {"ZG-001": {vocab.STATUS: "已完成"}})
    assert "采纳1个" in excel.consolidate_button()
    assert read_ledger(settings.master).measures["ZG-001"].status == vocab.DONE


def test_the_notices_button_does_not_overwrite_a_notice_open_in_word(open_book):
    settings, book = open_book
    with open(settings.root / "config.toml", "a", encoding="utf-8") as fh:
        fh.write("[limits]\nlock_wait_seconds = 0\n")
    excel.notices_button()
    folder = settings.path("output") / "2024-08" / "通报" / "2024-08-30"
    (folder / "~$进展通报.docx").write_bytes(b"Word")
    assert excel.notices_button() is None
    said = book.app.alerts[-1][1].splitlines()
    assert "进展通报.docx 正被打开" in said[0] and said[-1] == words.GUIDANCE[words.ENVIRONMENT]   # not "fix your file"


# ---------------------------------------------------------------- the add-in built from macros/

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return {p.suffix: p for p in addin.build(tmp_path_factory.mktemp("addin"))}


def test_every_ribbon_button_calls_an_exported_python_function():
    subs = addin.check_sources()
    tree = ET.parse(addin.MACROS / "customUI.xml")
    actions = {el.get("onAction") for el in tree.iter() if el.get("onAction")}
    assert actions == set(subs) and len(actions) == 8
    assert set(subs.values()) == set(excel.__all__)
    assert {el.get("label") for el in tree.iter() if el.get("onAction")} == {"汇总报送", "刷新统计", "标记逾期", "生成通报",
                                                                              "分发模板", "催报", "同意销号", "退回补充"}


def test_addin_is_a_macro_package_with_the_ribbon(built):
    with zipfile.ZipFile(built[".xlam"]) as z:
        assert "xl/vbaProject.bin" in z.namelist() and addin.RIBBON_PART in z.namelist()
        assert addin.ADDIN_TYPE in z.read("[Content_Types].xml").decode()
        assert addin.RIBBON_REL in z.read("_rels/.rels").decode()
        assert ET.fromstring(z.read(addin.RIBBON_PART)).tag == f"{{{addin.RIBBON_NS}}}customUI"
    wb = openpyxl.load_workbook(built[".xlsm"], keep_vba=True)
    assert wb.vba_archive is not None and "xl/vbaProject.bin" in wb.vba_archive.namelist()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # olevba leaves a zip to the GC
def test_olevba_extracts_every_button_sub(built):
    import gc
    gc.collect()        # Python 3.11: a finalizer that imports, run by a collection in the middle of an import, breaks
    gc.disable()        # importlib's per-thread lock bookkeeping (KeyError in _ModuleLock.acquire; re-entrant from 3.12)
    try:
        from oletools.olevba import VBA_Parser
    finally:
        gc.enable()
    parser = VBA_Parser(str(built[".xlam"]))
    code = {stream.split("/")[-1]: text for _, stream, _, text in parser.extract_macros()}
    parser.close()
    assert set(addin.button_functions(code["ZhenggaiButtons"])) == set(addin.check_sources())


def _strict_decompress(container: bytes) -> bytes:
    """MS-OVBA decompression exactly as LibreOffice does it (bit count from the chunk position)."""
    out, pos = b"", 1
    while pos < len(container):
        header = int.from_bytes(container[pos:pos + 2], "little")
        pos += 2
        end, chunk = pos + (header & 0xFFF) + 1, bytearray()
        while pos < end:
            flags, pos = container[pos], pos + 1
            for bit in range(8):
                if pos >= end:
                    break
                if flags >> bit & 1:
                    token, pos = int.from_bytes(container[pos:pos + 2], "little"), pos + 2
                    bits = max(4, (len(chunk) - 1).bit_length())
                    length, offset = (token & (0xFFFF >> bits)) + 3, (token >> (16 - bits)) + 1
                    assert offset <= len(chunk) and len(chunk) + length <= 4096, "bad copy token"
                    for _ in range(length):
                        chunk.append(chunk[-offset])
                else:
                    chunk.append(container[pos])
                    pos += 1
        out += chunk
    return bytes(out)


def test_vba_modules_decompress_exactly_as_office_reads_them(built):
    """ms-ovba-compression 1.0.1 garbles source past ~1 KB (wrong maximum copy length); addin fixes it."""
    import io

    import olefile
    with zipfile.ZipFile(built[".xlam"]) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    for bas in sorted(addin.MACROS.glob("*.bas")):
        source = addin.vba_source(bas.read_text(encoding="utf-8"), "x")
        text = _strict_decompress(ole.openstream(f"VBA/{bas.stem}").read()).decode("ascii")
        body = source.split("Option Explicit", 1)[1].split("ADDIN_VERSION As String")[1].split("\n", 1)[1]
        assert len(text) > 2000 and body.replace("\r\n", "\n")[:-200] in text.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory):
    from tests import vba_compile
    return vba_compile.profile(tmp_path_factory.mktemp("lo-basic"))


def uncompiled(profile, workbook, workdir, macros=addin.MACROS) -> dict[str, list[str]]:
    """{module: procedures LibreOffice did not compile} for every .bas module."""
    from tests import vba_compile
    out = {}
    for bas in sorted(macros.glob("*.bas")):
        image = vba_compile.compiled_image(profile, workbook, workdir / bas.stem, bas.stem)
        names = list(addin.procedures(bas.read_text(encoding="utf-8"))) + [bas.stem + "Version"]
        out[bas.stem] = [n for n in names if not vba_compile.has_procedure(image, n)]
    return out


@needs_lo
def test_libreoffice_compiles_every_vba_module_of_the_addin(built, lo_profile, tmp_path):
    assert uncompiled(lo_profile, built[".xlsm"], tmp_path) == {"ZhenggaiButtons": [], "ZhenggaiChecks": []}


@needs_lo
def test_libreoffice_compile_check_fails_on_a_syntax_error(lo_profile, tmp_path):
    macros = tmp_path / "macros"
    shutil.copytree(addin.MACROS, macros)
    bas = macros / "ZhenggaiButtons.bas"
    bas.write_text(bas.read_text(encoding="utf-8").replace(
        '    Press "refresh_button"', '    If x = = 1 Then\n    Press "refresh_button"'), encoding="utf-8")
    workbook = {p.suffix: p for p in addin.build(tmp_path / "addin", macros)}[".xlsm"]
    missing = uncompiled(lo_profile, workbook, tmp_path / "lo", macros)
    assert "ZhenggaiButtonsVersion" in missing["ZhenggaiButtons"] and missing["ZhenggaiChecks"] == []


@needs_lo
def test_the_vba_preflight_runs_in_libreoffice_and_speaks_chinese(built, lo_profile, tmp_path):
    from tests import vba_compile
    from toolkit import __version__
    log = vba_compile.run(lo_profile, built[".xlsm"], tmp_path,
                          "ZhenggaiChecks.Preflight,ZhenggaiButtons.ZhenggaiButtonsVersion")
    assert "Preflight=没有找到 xlwings 加载项。请运行 xlwings addin install" in log    # no xlwings.xlam here
    assert f"ZhenggaiButtonsVersion={__version__}" in log


@pytest.mark.parametrize("change, kind, params", [
    (lambda x, b: (x.replace("2009/07/customui", "2006/01/customui"), b), "ribbon-root", {"namespace": addin.RIBBON_NS}),
    (lambda x, b: (x.replace('id="zgRefresh"', 'id="zgConsolidate"'), b), "ribbon-duplicate-id", {"ids": ["zgConsolidate"]}),
    (lambda x, b: (x, b.replace("ZG_Notices(control As IRibbonControl)", "ZG_Notices()")), "ribbon-callback-signature",
     {"names": ["ZG_Notices"]}),
    (lambda x, b: (x.replace('onAction="ZG_Distribute"', 'onAction="ZG_Gone"'), b), "ribbon-missing-macro",
     {"names": ["ZG_Gone"]}),
], ids=["namespace", "duplicate-id", "signature", "missing-sub"])
def test_ribbon_rules_that_office_enforces_are_checked(tmp_path, change, kind, params):
    macros = tmp_path / "macros"
    shutil.copytree(addin.MACROS, macros)
    xml, bas = change((macros / "customUI.xml").read_text(encoding="utf-8"),
                      (macros / "ZhenggaiButtons.bas").read_text(encoding="utf-8"))
    (macros / "customUI.xml").write_text(xml, encoding="utf-8")
    (macros / "ZhenggaiButtons.bas").write_text(bas, encoding="utf-8")
    with pytest.raises(SourceError) as broken:
        addin.check_sources(macros)
    assert broken.value.kind == kind and broken.value.params == params


def test_chinese_in_vba_is_escaped_and_comments_stay_ascii():
    assert addin.vba_source('Attribute VB_Name = "M"\nOption Explicit\nx = "汇总"', "1") .count('Zh("\\u6c47\\u603b")') == 1
    with pytest.raises(SourceError) as broken:
        addin.vba_source('Attribute VB_Name = "M"\nOption Explicit\n\' 中文注释', "1")
    assert broken.value.kind == "vba-chinese-outside-string" and broken.value.location.row == 3


def test_addin_build_is_reproducible_from_the_text_sources(built, tmp_path):
    again = {p.suffix: p for p in addin.build(tmp_path)}
    assert again[".xlam"].read_bytes() == built[".xlam"].read_bytes()
    assert not [p for p in addin.MACROS.iterdir() if p.suffix in (".new", ".bin")]
