"""Render the demo's 看板.html to docs/看板.png and, as a phone shows it (390 px wide), docs/看板手机.png (and, with
--pdf, print it to an A4 PDF to check the print layout).

    python scripts/dashboard_screenshot.py [--pdf out.pdf]

The demo is staged in a temporary folder; its master as it stood before the August reports is
recorded as the 2024-07 period of 历史进度, so the trend and the "较上期" figures have something
to compare with. Chromium runs headless with the network cut off (tests/browser.py).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, OFFLINE, visit  # noqa: E402
from toolkit import demo
from toolkit.io import master_file
from toolkit.io.ledger_file import read_ledger
from toolkit.nightly import run_once  # noqa: E402
from toolkit.rules import stats


def staged_dashboard(folder: Path) -> Path:
    """Run the demo once, with last month's figures in 历史进度; the dashboard's path."""
    settings = demo.stage_demo(folder)
    ledger = read_ledger(settings.master)
    ledger.history = stats.history_rows(stats.summarise(ledger, settings, settings.today()), "2024-07")
    master_file.write_master(ledger, settings)
    run_once(settings)
    return settings.path("output") / settings.current_period() / "看板.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "看板.png")
    parser.add_argument("--size", default="1280,1900")
    parser.add_argument("--phone", type=Path, default=ROOT / "docs" / "看板手机.png")
    parser.add_argument("--phone-size", default="390,1688", help="a 390 × 844 phone, two screens long")
    parser.add_argument("--pdf", type=Path)
    args = parser.parse_args()
    if CHROMIUM is None:
        sys.exit("未安装 Chromium,请先运行 scripts/install_system_deps.sh")
    with tempfile.TemporaryDirectory() as tmp:
        page = staged_dashboard(Path(tmp) / "demo")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        seen = visit(page.as_uri(), screenshot=args.out.resolve(), size=args.size)
        visit(page.as_uri(), screenshot=args.phone.resolve(), size=args.phone_size)
        from PIL import Image
        for shot in (args.out, args.phone):
            Image.open(shot).convert("RGB").quantize(256).save(shot, optimize=True)   # a third of the bytes
        print(f"截图:{args.out}({page.stat().st_size / 1024:.0f} KB 的看板;控制台消息{len(seen.console)}条,"
              f"对外请求{len(seen.requests)}个)")
        if args.pdf:
            subprocess.run([CHROMIUM, *OFFLINE, f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
                            f"--print-to-pdf={args.pdf.resolve()}", page.as_uri()], capture_output=True, timeout=180)
            print(f"打印预览:{args.pdf}")


if __name__ == "__main__":
    main()
