"""Reading one returned workbook cheaply changes nothing: the archive opened once, its sheet XML read once,
fingerprints computed as the contract defines them."""
import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile

import pytest

from tests.corpus.make_corpus import good
from toolkit import intake, vocab
from toolkit.io import extent
from toolkit.io.ledger_file import read_master
from toolkit.io.template_contract import canon, row_fingerprint
from toolkit.rules import normalize

KEY = bytes(range(32))


def reference_fingerprint(values, key, unit, period):
    """row_fingerprint as first written: json.dumps and an hmac object."""
    payload = json.dumps([normalize.clean_key(unit), normalize.clean_key(period), [canon(v) for v in values]],
                         ensure_ascii=False).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize("values", [
    ["关于政治执行力不强的问题", "1.关于政治站位不高的问题", None, "", " 措施 1 ", "ＺＧ－００１"],
    [dt.datetime(2024, 6, 30), dt.date(2024, 6, 30), 45473, 45473.0, "2024-06-30", "2024年6月30日", "长期坚持"],
    [True, False, 0, 1.5, 3.0, -7, "\u200b隐形\u00ad字符", "引号\"与\\反斜杠\n换行\t制表", "\u2028\u2029", "😀"],
])
def test_row_fingerprints_are_those_the_contract_defines(values):
    assert row_fingerprint(values, KEY, " 办公室 ", "2024-08") == reference_fingerprint(values, KEY, " 办公室 ", "2024-08")


def sheet_zip(xml: str) -> zipfile.ZipFile:
    """An in-memory .xlsx skeleton whose one sheet, 台账, holds xml."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", f'<workbook><sheets><sheet name="{vocab.SHEET_LEDGER}" r:id="rId1"/></sheets>'
                                       f'</workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" '
                                                  'Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    return zipfile.ZipFile(buf)


@pytest.mark.parametrize("cells, found", [
    ('<c r="M3" t="inlineStr"><is><t>已完成</t></is></c><c r="S3"><f>IF(Q3&lt;1,1,"")</f></c>', {}),
    ('<c r="M3"><f>HYPERLINK("x","点此")</f><v>点此</v></c>', {(3, 13): '=HYPERLINK("x","点此")'}),
    ('<c r="N4"><v>1</v><f t="shared">A1&amp;B1</f></c><c r="O4"><v>2</v></c>', {(4, 14): "=A1&B1"}),
    ('<c r="M5" t="inlineStr"><is><t>&lt;f&gt;不是公式</t></is></c>', {}),
    ('', {}),
])
def test_the_formula_scan_finds_what_it_found_before(cells, found):
    zf = sheet_zip(f"<worksheet><sheetData><row r=\"3\">{cells}</row></sheetData></worksheet>")
    assert intake.book_formula_cells(extent.Book(zf), vocab.SHEET_LEDGER, {13, 14, 15}) == found


def test_a_sheet_longer_than_one_scan_chunk_is_streamed_not_read_whole(monkeypatch):
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 400))
    zf = sheet_zip(f"<worksheet><sheetData>{cells}<row r=\"900\"><c r=\"C900\"><v>1</v></c></row></sheetData></worksheet>")
    monkeypatch.setattr(extent, "_CHUNK", 1024)
    book = extent.Book(zf)
    used = extent.book_extents(book)[vocab.SHEET_LEDGER]
    assert (used.rows, used.columns, used.far_cells()) == (900, 3, "C900")
    assert book.small_xml("xl/worksheets/sheet1.xml") is None and not book._xml


def test_a_submission_is_opened_as_a_zip_once(workspace, monkeypatch):
    inbox = workspace.path("inbox")
    path = good(workspace, inbox)
    ledger = read_master(workspace)
    opened = []
    real = zipfile.ZipFile

    class Counting(real):
        def __init__(self, *args, **kwargs):
            opened.append(args[0])
            super().__init__(*args, **kwargs)
    monkeypatch.setattr(zipfile, "ZipFile", Counting)
    sub = intake.read_submission(path, ledger, workspace)
    assert not sub.rejected and sub.updates
    assert opened == [path]
