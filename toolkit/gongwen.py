"""Notices as 公文 (official documents, GB/T 9704 as far as .docx allows), from our Markdown.

Markdown conventions: '# ' title, '## ' first-level heading, '### ' second-level, '---' starts
the signature block (issuing body and date, right-aligned), '![说明](file.png)' a picture, a
short line ending in ':' an unindented lead-in, anything else a body paragraph.

Layout: A4, margins 37/35/28/26 mm, 22 lines of 28 characters (exact 28.95 pt line pitch),
title 二号 (22 pt) 小标宋 centred, body 三号 (16 pt) 仿宋 with a two-character first-line indent,
headings 黑体/楷体, page numbers '— 1 —' centred in the footer. Fonts are named, not embedded:
Word/WPS on an office PC has them; elsewhere the viewer substitutes a CJK font by name.

Documents are assembled from a cached skeleton (built once by python-docx with the very same
paragraph code) in well under a millisecond each, with fixed zip timestamps, so the same notice
always has the same bytes.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
KINDS = ("title", "blank", "heading", "subheading", "lead", "body", "signature")


@dataclass(frozen=True)
class Part:
    kind: str          # one of KINDS, or "image"
    text: str


def parse(text: str) -> list[Part]:
    """Our Markdown as a list of typed paragraphs."""
    parts, signature = [], False
    for raw in text.splitlines():
        s = raw.strip()
        if not s:
            continue
        if s == "---":
            signature = True
            parts.append(Part("blank", ""))
        elif s.startswith("!["):
            parts.append(Part("image", s[s.index("(") + 1:s.rindex(")")]))
        elif s.startswith("# "):
            parts += [Part("title", s[2:]), Part("blank", "")]
        elif s.startswith("## "):
            parts.append(Part("heading", s[3:]))
        elif s.startswith("### "):
            parts.append(Part("subheading", s[4:]))
        elif signature:
            parts.append(Part("signature", s))
        elif s.startswith("主送") or (s.endswith(":") and len(s) < 40):
            parts.append(Part("lead", s.replace("**", "")))
        else:
            parts.append(Part("body", s.lstrip("- ").replace("**", "")))
    return parts


def _east_asian(run, name: str) -> None:
    from docx.oxml.ns import qn
    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        rfonts.set(qn(attr), name)


def _page_number(paragraph) -> None:
    """— 1 — style page numbers in the footer (a PAGE field)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    paragraph.add_run(" —")


def _document(parts: list[Part], images: dict[str, Path] | None = None):
    """A python-docx Document laid out as a 公文."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    document = docx.Document()
    document.core_properties.title = next((p.text for p in parts if p.kind == "title"), "")
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = {"title": (TITLE_FONT, 22, WD_ALIGN_PARAGRAPH.CENTER, False),
              "blank": (BODY_FONT, 16, None, False),
              "heading": (HEADING_FONT, 16, None, True),
              "subheading": (SUBHEADING_FONT, 16, None, True),
              "lead": (BODY_FONT, 16, None, False),
              "body": (BODY_FONT, 16, WD_ALIGN_PARAGRAPH.JUSTIFY, True),
              "signature": (BODY_FONT, 16, WD_ALIGN_PARAGRAPH.RIGHT, False)}
    for part in parts:
        if part.kind == "image":
            image = (images or {}).get(part.text)
            if image and Path(image).exists():
                document.add_picture(str(image), width=Mm(150))
                document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            continue
        font, size, align, indent = styles[part.kind]
        p = document.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28.95)          # 225 mm of text height / 22 lines
        fmt.space_before = fmt.space_after = Pt(0)
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if align is not None:
            p.alignment = align
        run = p.add_run(part.text)
        run.font.size = Pt(size)
        _east_asian(run, font)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)
    return document


DOS_TIME, DOS_DATE = 0, (2024 - 1980) << 9 | 1 << 5 | 1   # 2024-01-01 00:00: fixed, so bytes repeat


def _deflated(name: str, data: bytes) -> tuple[bytes, int, bytes, int]:
    """(name, crc, raw-deflated data, size) of one zip member, compressed once."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return name.encode(), zlib.crc32(data), co.compress(data) + co.flush(), len(data)


def _zip(members: list[tuple[bytes, int, bytes, int]]) -> bytes:
    """A zip archive from already-deflated members (the static parts of a .docx are compressed once)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, crc, data, size in members:
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, DOS_TIME, DOS_DATE, crc, len(data), size,
                              len(name), 0) + name + data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, DOS_TIME, DOS_DATE, crc, len(data),
                                  size, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central.getvalue()),
                          start, 0))
    return out.getvalue()


IMAGE_MARK = "zz-image-zz.png"
MEDIA = "word/media/image1.png"


def _placeholder_png() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=1)
def _skeleton() -> tuple[list, str, str, dict[str, str], dict[str, bytes]]:
    """(static zip members, document.xml before the body's paragraphs, after them, paragraph XML per kind,
    the parts a picture needs). Built once by python-docx with the same layout code as any document."""
    import tempfile
    marks = {kind: f"ZZ{kind.upper()}ZZ" for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / IMAGE_MARK
        png.write_bytes(_placeholder_png())
        parts = [Part(kind, marks[kind]) for kind in KINDS] + [Part("image", IMAGE_MARK)]
        document = _document(parts, {IMAGE_MARK: png})
        buf = io.BytesIO()
        document.save(buf)
    with zipfile.ZipFile(buf) as z:
        files = {name: z.read(name) for name in z.namelist()}
    picture = {name: files.pop(name) for name in [n for n in files if n.startswith("word/media/")]}
    xml = files.pop("word/document.xml").decode("utf-8")
    body_start = xml.index("<w:body>") + len("<w:body>")
    body_end = xml.index("<w:sectPr")
    templates = {}
    for kind, mark in marks.items():
        at = xml.index(mark)
        start = xml.rindex("<w:p>", 0, at) if "<w:p>" in xml[:at] else xml.rindex("<w:p ", 0, at)
        end = xml.index("</w:p>", at) + len("</w:p>")
        templates[kind] = xml[start:end].replace(mark, "\x00")
    at = xml.index("<w:drawing>")
    start, end = xml.rindex("<w:p>", 0, at) if "<w:p>" in xml[:at] else xml.rindex("<w:p ", 0, at), \
        xml.index("</w:p>", at) + len("</w:p>")
    templates["image"] = xml[start:end]
    order = ["[Content_Types].xml"] + sorted(n for n in files if n != "[Content_Types].xml")
    return [_deflated(n, files[n]) for n in order], xml[:body_start], xml[body_end:], templates, picture


def _picture(template: str, png: bytes) -> str:
    """The skeleton's picture paragraph resized to this PNG's aspect ratio (150 mm wide)."""
    import re
    import struct as st
    w, h = st.unpack(">II", png[16:24])           # PNG IHDR width and height
    cx = 150 * 36000                              # EMU per mm
    cy = int(cx * h / max(w, 1))
    return re.sub(r'cx="\d+" cy="\d+"', f'cx="{cx}" cy="{cy}"', template)


def to_bytes(parts: list[Part], images: dict[str, Path] | None = None) -> bytes:
    """A .docx via the cached skeleton (same input, same bytes); at most one picture is placed."""
    static, head, tail, templates, picture = _skeleton()
    chunks, media = [], None
    for p in parts:
        if p.kind != "image":
            chunks.append(templates[p.kind].replace("\x00", escape(p.text)))
        elif media is None and (images or {}).get(p.text) and Path(images[p.text]).exists():
            media = Path(images[p.text]).read_bytes()
            chunks.append(_picture(templates["image"], media))
    members = list(static)
    if media is not None:
        members.append(_deflated(MEDIA, media))
    else:   # no picture: drop its relationship so the package stays consistent
        members = [m for m in members if m[0] != b"word/_rels/document.xml.rels"] + [
            _deflated("word/_rels/document.xml.rels", _rels_without_media())]
    return _zip(members + [_deflated("word/document.xml", (head + "".join(chunks) + tail).encode("utf-8"))])


@lru_cache(maxsize=1)
def _rels_without_media() -> bytes:
    import re
    static = {m[0]: m for m in _skeleton()[0]}
    name, crc, data, size = static[b"word/_rels/document.xml.rels"]
    xml = zlib.decompress(data, -15).decode("utf-8")
    return re.sub(r'<Relationship [^>]*Target="media/[^"]+"[^>]*/>', "", xml).encode("utf-8")


def render(text: str, images: dict[str, Path] | None = None) -> bytes:
    """The .docx bytes of a Markdown notice."""
    return to_bytes(parse(text), images)
