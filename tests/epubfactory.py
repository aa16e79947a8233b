"""Build small EPUB files for tests with zipfile: EPUB3 (nav.xhtml) or EPUB2 (toc.ncx)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path


@dataclass(frozen=True)
class Page:
    """One XHTML file of the book, in spine order."""

    name: str  # file name inside OEBPS/
    body: str  # XHTML inside <body>
    toc_title: str | None = None  # None: not listed in the table of contents
    epub_type: str = ""  # epub:type on <body> (EPUB3 structural semantics)
    linear: bool = True


@dataclass(frozen=True)
class EpubSpec:
    """What goes into the EPUB; defaults make a valid minimal book."""

    pages: tuple[Page, ...]
    title: str | None = "A Test Book"
    authors: tuple[str, ...] = ("Ada Writer",)
    version: int = 3  # 3: nav.xhtml, 2: toc.ncx
    cover: bytes | None = None
    cover_mime: str = "image/png"
    # Extra TOC entries pointing inside pages: (page name, fragment, title).
    anchors: tuple[tuple[str, str, str], ...] = ()
    guide: tuple[tuple[str, str], ...] = ()  # EPUB2 <guide>: (type, page name)
    landmarks: tuple[tuple[str, str], ...] = ()  # EPUB3 landmarks: (epub:type, page name)
    css: str | None = None  # a stylesheet (OEBPS/style.css) in the manifest
    container: bool = True  # write META-INF/container.xml
    extra_files: dict[str, bytes] = field(default_factory=dict)


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def xhtml(body: str, *, title: str = "page", epub_type: str = "") -> str:
    type_attr = f' epub:type="{epub_type}"' if epub_type else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">\n'
        f"<head><title>{escape(title)}</title>"
        "<style>p { margin: 0 }</style></head>\n"
        f"<body{type_attr}>\n{body}\n</body>\n</html>\n"
    )


def _opf(spec: EpubSpec) -> str:
    meta = []
    if spec.title is not None:
        meta.append(f"<dc:title>{escape(spec.title)}</dc:title>")
    for index, author in enumerate(spec.authors):
        if spec.version == 2:
            meta.append(f'<dc:creator opf:role="aut">{escape(author)}</dc:creator>')
        else:
            meta.append(f'<dc:creator id="c{index}">{escape(author)}</dc:creator>')
            meta.append(f'<meta refines="#c{index}" property="role">aut</meta>')
    meta.append('<dc:identifier id="uid">urn:uuid:test-book</dc:identifier>')
    meta.append("<dc:language>en</dc:language>")
    items = []
    if spec.version == 3:
        items.append(
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
    items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    if spec.cover is not None:
        extension = "png" if spec.cover_mime == "image/png" else "jpg"
        props = ' properties="cover-image"' if spec.version == 3 else ""
        items.append(
            f'<item id="cover-img" href="images/cover.{extension}" '
            f'media-type="{spec.cover_mime}"{props}/>'
        )
        if spec.version == 2:
            meta.append('<meta name="cover" content="cover-img"/>')
    if spec.css is not None:
        items.append('<item id="css" href="style.css" media-type="text/css"/>')
    for index, page in enumerate(spec.pages):
        items.append(f'<item id="p{index}" href="{page.name}" media-type="application/xhtml+xml"/>')
    nonlinear = ' linear="no"'
    spine = "".join(
        f'<itemref idref="p{index}"{"" if page.linear else nonlinear}/>'
        for index, page in enumerate(spec.pages)
    )
    guide = ""
    if spec.guide:
        guide = (
            "<guide>"
            + "".join(
                f'<reference type="{kind}" href="{name}" title="{kind}"/>'
                for kind, name in spec.guide
            )
            + "</guide>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{spec.version}.0" '
        'unique-identifier="uid">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:opf="http://www.idpf.org/2007/opf">\n'
        + "\n".join(meta)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(items)
        + f'\n</manifest>\n<spine toc="ncx">{spine}</spine>\n{guide}</package>\n'
    )


def _toc_entries(spec: EpubSpec) -> list[tuple[str, str]]:
    entries = []
    for page in spec.pages:
        if page.toc_title is not None:
            entries.append((page.name, page.toc_title))
        for name, fragment, title in spec.anchors:
            if name == page.name:
                entries.append((f"{name}#{fragment}", title))
    return entries


def _nav(spec: EpubSpec) -> str:
    links = "".join(
        f'<li><a href="{href}">{escape(title)}</a></li>' for href, title in _toc_entries(spec)
    )
    body = f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{links}</ol></nav>'
    if spec.landmarks:
        marks = "".join(
            f'<li><a epub:type="{kind}" href="{name}">{kind}</a></li>'
            for kind, name in spec.landmarks
        )
        body += f'<nav epub:type="landmarks"><ol>{marks}</ol></nav>'
    return xhtml(body, title="Contents")


def _ncx(spec: EpubSpec) -> str:
    points = "".join(
        f'<navPoint id="n{index}" playOrder="{index + 1}"><navLabel><text>{escape(title)}'
        f'</text></navLabel><content src="{href}"/></navPoint>'
        for index, (href, title) in enumerate(_toc_entries(spec))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        '<head><meta name="dtb:uid" content="urn:uuid:test-book"/></head>'
        f"<docTitle><text>{escape(spec.title or '')}</text></docTitle>"
        f"<navMap>{points}</navMap></ncx>\n"
    )


def build_epub(path: Path, spec: EpubSpec) -> Path:
    """Write the EPUB described by spec to path and return path."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        if spec.container:
            archive.writestr(
                "META-INF/container.xml",
                '<?xml version="1.0"?>\n'
                '<container version="1.0" '
                'xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                '<rootfiles><rootfile full-path="OEBPS/content.opf" '
                'media-type="application/oebps-package+xml"/></rootfiles></container>',
            )
        archive.writestr("OEBPS/content.opf", _opf(spec))
        archive.writestr("OEBPS/toc.ncx", _ncx(spec))
        if spec.version == 3:
            archive.writestr("OEBPS/nav.xhtml", _nav(spec))
        if spec.css is not None:
            archive.writestr("OEBPS/style.css", spec.css)
        if spec.cover is not None:
            extension = "png" if spec.cover_mime == "image/png" else "jpg"
            archive.writestr(f"OEBPS/images/cover.{extension}", spec.cover)
        for page in spec.pages:
            archive.writestr(
                f"OEBPS/{page.name}",
                xhtml(page.body, title=page.toc_title or page.name, epub_type=page.epub_type),
            )
        for name, data in spec.extra_files.items():
            archive.writestr(name, data)
    return path


def rewrite_epub(path: Path, replace: dict[str, bytes | None]) -> Path:
    """Rewrite an EPUB with some files replaced (bytes) or removed (None)."""
    with zipfile.ZipFile(path) as source:
        files = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in files:
            if info.filename not in replace:
                archive.writestr(info, data)
            elif (new := replace[info.filename]) is not None:
                archive.writestr(info, new)
    return path
