"""Render the document pictures in docs/ from the demo through LibreOffice → PDF → pdftoppm.

    python scripts/docs_pngs.py

进展通报第一页.png and 督办单.png (市口腔医院) from the demo programme before the August reports, with the
[documents] settings an office would give; 台账打印.png (the master's 整改台账, first page) and 台账打印版.png
(output/<期次>/台账打印版.xlsx, first page). The dashboard's pictures come from scripts/dashboard_screenshot.py.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import demo  # noqa: E402
from toolkit.assessment import assess  # noqa: E402
from toolkit.documents import ledger_print, notices  # noqa: E402
from toolkit.io import master_file, office  # noqa: E402

DOCS = ROOT / "docs"


def first_page(pdf: Path, out: Path, dpi: int) -> Path:
    """Page 1 of pdf as out (PNG) at dpi."""
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True)
    return out


def main() -> None:
    if office.soffice() is None or shutil.which("pdftoppm") is None:
        sys.exit("需要 LibreOffice 和 poppler-utils，请先运行 scripts/install_system_deps.sh")
    with tempfile.TemporaryDirectory() as tmp:
        settings = demo.demo_settings(Path(tmp) / "demo")
        settings.documents.update(office="市卫生健康委巡视整改工作领导小组办公室", contact="张××",
                                  phone="022-23456789", reply_to="电子版发送至整改办工作邮箱")
        ledger = demo.demo_ledger()
        a = assess(ledger, settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            paths = notices.write_notices(ledger, settings, a, ("通报", "督办单"))
        notice = next(p for p in paths if p.name == "进展通报.pdf")
        slip = next(p for p in paths if p.suffix == ".pdf" and p.stem == "市口腔医院")
        master_file.write_master(ledger, settings)
        book = ledger_print.write_print_book(ledger, settings, a)
        master_pdf, book_pdf = office.convert_many([settings.master, book], "pdf", Path(tmp) / "pdf")
        made = [first_page(notice, DOCS / "进展通报第一页.png", 80), first_page(slip, DOCS / "督办单.png", 80),
                first_page(master_pdf, DOCS / "台账打印.png", 90), first_page(book_pdf, DOCS / "台账打印版.png", 90)]
    for path in made:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
