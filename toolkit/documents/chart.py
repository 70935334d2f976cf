"""A horizontal bar chart as PNG, drawn with Pillow and a CJK font (readers look before they read).

Pillow draws it in a few milliseconds; a plotting library would cost half a second to import
for one picture. Colours: red below 60%, orange below 90%, green otherwise.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf", "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc", "/Library/Fonts/Arial Unicode.ttf",
]


@lru_cache(maxsize=4)
def cjk_font_file(preferred: str | None = None) -> str | None:
    """Path of a font with Chinese glyphs: preferred (a file path from config) when it exists, else
    fontconfig's choice for Chinese, else well-known places on Linux, Windows and macOS."""
    if preferred and Path(preferred).exists():
        return str(preferred)
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
            if out and os.path.exists(out) and any(k in out.lower() for k in ("cjk", "wqy", "hei", "song", "ming")):
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return next((p for p in CANDIDATES if Path(p).exists()), None)


def bar_chart_png(values: list[tuple[str, float]], title: str, axis: str, font: str | None = None) -> bytes | None:
    """PNG bytes of a horizontal bar chart of percentages (first item on top; more than 12 items in two
    panels side by side, so the picture stays wide and short on an A4 page); None without a CJK font."""
    from PIL import Image, ImageDraw, ImageFont
    font_file = font or cjk_font_file()
    if font_file is None:
        return None
    scale = 3
    label = ImageFont.truetype(font_file, 13 * scale)
    small = ImageFont.truetype(font_file, 11 * scale)
    heading = ImageFont.truetype(font_file, 16 * scale)
    panels = 2 if len(values) > 12 else 1
    per = -(-len(values) // panels) if values else 0
    columns = [values[k * per:(k + 1) * per] for k in range(panels)]
    names = [n for n, _ in values]
    left = max((label.getlength(n) for n in names), default=0) + 10 * scale
    plot_w = (340 if panels == 2 else 420) * scale
    panel_w = left + plot_w + 48 * scale
    bar_h, gap, top = 13 * scale, 4 * scale, 40 * scale
    width = int(panel_w * panels + 10 * scale)
    height = int(top + per * (bar_h + gap) + 44 * scale)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, 12 * scale), title, font=heading, fill="#222222", anchor="mt")
    for k, column in enumerate(columns):
        x0 = 5 * scale + k * panel_w + left
        for tick in range(0, 101, 20 if panels == 1 else 25):
            x = x0 + plot_w * tick / 100
            draw.line([(x, top - 4 * scale), (x, height - 38 * scale)], fill="#DDDDDD", width=scale)
            draw.text((x, height - 34 * scale), f"{tick}%", font=small, fill="#555555", anchor="mt")
        for i, (name, value) in enumerate(column):
            y = top + i * (bar_h + gap)
            color = "#C00000" if value < 60 else "#ED7D31" if value < 90 else "#548235"
            draw.text((x0 - 6 * scale, y + bar_h / 2), name, font=label, fill="#222222", anchor="rm")
            draw.rectangle([x0, y, x0 + plot_w * max(value, 0) / 100, y + bar_h], fill=color)
            draw.text((x0 + plot_w * value / 100 + 4 * scale, y + bar_h / 2), f"{value:.1f}%", font=small,
                      fill="#222222", anchor="lm")
    draw.text((width / 2, height - 15 * scale), axis, font=small, fill="#555555", anchor="mt")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()
