"""EPUB 2/3 -> Book: spine order, titles from the table of contents, OPF metadata, cover.

Read with zipfile and xml.etree only. Front matter without prose (cover, title page,
copyright, contents) is skipped; spine items the table of contents does not list, and that
have no heading, continue the chapter before them (converters split long chapters).
"""

from __future__ import annotations

import html
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from narrator.errors import InputError
from narrator.load import limits
from narrator.load.chapters import prettify_name
from narrator.load.decode import EmptyFileError, decode_text
from narrator.load.limits import Budget
from narrator.load.markup import HtmlText, html_to_text
from narrator.model import Book, Chapter

_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml", "text/xml"})
# Structural semantics (EPUB3 epub:type, EPUB2 guide types) of pages that are not read.
_SKIP_TYPES = frozenset(
    [
        "cover",
        "titlepage",
        "title-page",
        "halftitlepage",
        "copyright-page",
        "copyright",
        "toc",
        "landmarks",
        "loi",
        "lot",
        "frontispiece",
        "imprint",
        "colophon",
    ]
)
_NAME_HINT_RE = re.compile(r"cover|title|copyright|contents|\btoc\b|colophon|imprint", re.I)
_LEGAL_RE = re.compile(r"all rights reserved|\bISBN\b", re.IGNORECASE)
_CONTENTS_LINK_SHARE = 0.6
_MAX_SKIP_WORDS = 500  # a page typed "copyright" but this long is read anyway
_MAX_HINT_WORDS = 150  # a page named "title.xhtml" with this much text is a chapter
_MIN_WORDS = 40
_PROSE_PARAGRAPH_WORDS = 10


@dataclass(frozen=True)
class _Item:
    id: str
    name: str  # path inside the zip
    media_type: str
    properties: frozenset[str]


@dataclass
class _Draft:
    title: str | None
    text: str
    source: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: ET.Element, name: str) -> str:
    """An attribute by local name, whatever its namespace (opf:role, epub:type...)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return ""


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _parse_lenient(data: bytes) -> ET.Element | None:
    """Parse XML that may use HTML entities (&nbsp;, &mdash;), as real nav files do."""
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        pass
    text = data.decode("utf-8", errors="replace")
    text = re.sub(
        r"&([A-Za-z][A-Za-z0-9]*);",
        lambda m: m.group(0) if m.group(1) in _XML_ENTITIES else html.unescape(m.group(0)),
        text,
    )
    try:
        return ET.fromstring(text.encode("utf-8"))
    except ET.ParseError:
        return None


def _resolve(base_dir: str, href: str) -> tuple[str, str]:
    """(zip path, fragment) of an href relative to base_dir."""
    path, _, fragment = href.partition("#")
    if not path:
        return "", unquote(fragment)
    return posixpath.normpath(posixpath.join(base_dir, unquote(path))), unquote(fragment)


class _Epub:
    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.zip = archive
        self.names = set(archive.namelist())
        # Every member read counts against this, so a zip bomb stops at the book's limit.
        self.budget = Budget(str(path), unpacked=True)

    def fail(self, why: str) -> InputError:
        return InputError(f"{self.path}: not a valid EPUB ({why})")

    def read(self, name: str) -> bytes:
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise self.fail(f"{name} is missing") from None
        source = f"{self.path}:{name}"
        if info.file_size > limits.MAX_FILE_BYTES:
            raise InputError(
                f"{source}: the file is {limits.size_text(info.file_size)} unpacked, larger than "
                f"narrator reads (at most {limits.size_text(limits.MAX_FILE_BYTES)})"
            )
        try:
            # Read in blocks: a member that lies about its size is stopped by the limits
            # (or zipfile's CRC check) after a block, instead of being inflated whole first.
            with self.zip.open(info) as stream:
                return limits.read_limited(stream, source, self.budget)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            raise self.fail(f"{name} cannot be read: {exc}") from None
        except NotImplementedError:
            raise self.fail(f"{name} uses an unsupported compression method") from None

    def xml(self, name: str) -> ET.Element:
        try:
            return ET.fromstring(self.read(name))
        except ET.ParseError as exc:
            raise self.fail(f"{name} is not well-formed XML: {exc}") from None

    def opf_name(self) -> str:
        if "META-INF/container.xml" in self.names:
            container = self.xml("META-INF/container.xml")
            for element in container.iter():
                if _local(element.tag) == "rootfile":
                    full_path = _attr(element, "full-path")
                    if full_path in self.names:
                        return full_path
        candidates = sorted(name for name in self.names if name.lower().endswith(".opf"))
        if not candidates:
            raise self.fail("no OPF package document")
        return candidates[0]


def load_epub(path: Path) -> Book:
    """Read an EPUB file into a Book."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not a valid EPUB (not a zip archive)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with archive:
        return _load(_Epub(path, archive))


def _load(epub: _Epub) -> Book:
    opf_name = epub.opf_name()
    opf_dir = posixpath.dirname(opf_name)
    package = epub.xml(opf_name)
    sections = {_local(child.tag): child for child in package}
    metadata = sections.get("metadata", ET.Element("metadata"))
    manifest: dict[str, _Item] = {}
    for element in sections.get("manifest", ET.Element("manifest")):
        if _local(element.tag) != "item":
            continue
        item_id, href = _attr(element, "id"), _attr(element, "href")
        if not item_id or not href:
            continue
        name, _ = _resolve(opf_dir, href)
        manifest[item_id] = _Item(
            item_id,
            name,
            _attr(element, "media-type").lower(),
            frozenset(_attr(element, "properties").split()),
        )
    spine = sections.get("spine")
    if spine is None:
        raise epub.fail(f"{opf_name} has no spine")
    spine_items = [
        manifest[ref]
        for itemref in spine
        if _local(itemref.tag) == "itemref"
        and _attr(itemref, "linear") != "no"
        and (ref := _attr(itemref, "idref")) in manifest
    ]
    _check_encryption(epub, spine_items)
    toc, skip_names = _table_of_contents(epub, manifest, _attr(spine, "toc"))
    for element in sections.get("guide", ET.Element("guide")):
        if _attr(element, "type").lower() in _SKIP_TYPES:
            skip_names.add(_resolve(opf_dir, _attr(element, "href"))[0])

    # Converters set italics with classes (".calibre5 { font-style: italic }").
    css = "\n".join(
        epub.read(item.name).decode("utf-8", errors="replace")
        for item in manifest.values()
        if item.media_type == "text/css" and item.name in epub.names
    )
    drafts = _chapters(epub, spine_items, toc, skip_names, css)
    if not drafts:
        raise InputError(f"{epub.path}: the EPUB has no chapters with text")
    title, author = _metadata(metadata)
    cover, cover_mime = _cover(epub, metadata, manifest)
    chapters = tuple(
        Chapter(number, draft.title or f"Chapter {number}", draft.text, draft.source)
        for number, draft in enumerate(drafts, start=1)
    )
    return Book(
        title=title or prettify_name(epub.path.stem),
        chapters=chapters,
        author=author,
        cover=cover,
        cover_mime=cover_mime,
        source_path=epub.path,
    )


def _check_encryption(epub: _Epub, spine_items: list[_Item]) -> None:
    if "META-INF/encryption.xml" not in epub.names:
        return
    encrypted = {
        posixpath.normpath(unquote(_attr(element, "URI")))
        for element in epub.xml("META-INF/encryption.xml").iter()
        if _local(element.tag) == "CipherReference"
    }
    # Font obfuscation also lists files here; only encrypted chapters stop us.
    if any(item.name in encrypted for item in spine_items):
        raise InputError(f"{epub.path}: the EPUB is DRM-protected (its chapters are encrypted)")


def _table_of_contents(
    epub: _Epub, manifest: dict[str, _Item], ncx_id: str
) -> tuple[list[tuple[str, str, str]], set[str]]:
    """TOC entries (zip path, fragment, title) in reading order, and pages landmarks skip."""
    skip: set[str] = set()
    nav = next((item for item in manifest.values() if "nav" in item.properties), None)
    if nav is not None and nav.name in epub.names:
        skip.add(nav.name)
        root = _parse_lenient(epub.read(nav.name))
        if root is not None:
            base = posixpath.dirname(nav.name)
            navs = [element for element in root.iter() if _local(element.tag) == "nav"]
            for element in navs:
                if "landmarks" in _attr(element, "type").split():
                    for link in element.iter():
                        if _local(link.tag) == "a" and _SKIP_TYPES & set(
                            _attr(link, "type").split()
                        ):
                            skip.add(_resolve(base, _attr(link, "href"))[0])
            tocs = [e for e in navs if "toc" in _attr(e, "type").split()] or navs[:1]
            if tocs:
                entries = [
                    (*_resolve(base, _attr(link, "href")), _text(link))
                    for link in tocs[0].iter()
                    if _local(link.tag) == "a" and _attr(link, "href")
                ]
                if entries:
                    return entries, skip
    ncx = manifest.get(ncx_id) or next(
        (item for item in manifest.values() if item.media_type == "application/x-dtbncx+xml"),
        None,
    )
    if ncx is None or ncx.name not in epub.names:
        return [], skip
    root = _parse_lenient(epub.read(ncx.name))
    if root is None:
        return [], skip
    base = posixpath.dirname(ncx.name)
    entries = []
    for point in root.iter():
        if _local(point.tag) != "navPoint":
            continue
        label = next((e for e in point if _local(e.tag) == "navLabel"), None)
        content = next((e for e in point if _local(e.tag) == "content"), None)
        if content is not None:
            title = _text(label) if label is not None else ""
            entries.append((*_resolve(base, _attr(content, "src")), title))
    return entries, skip


def _chapters(
    epub: _Epub,
    spine_items: list[_Item],
    toc: list[tuple[str, str, str]],
    skip_names: set[str],
    css: str,
) -> list[_Draft]:
    by_file: dict[str, list[tuple[str, str]]] = {}
    for name, fragment, title in toc:
        entries = by_file.setdefault(name, [])
        if all(fragment != seen for seen, _ in entries):
            entries.append((fragment, title))
    drafts: list[_Draft] = []
    for item in spine_items:
        if item.media_type not in _HTML_TYPES or item.name in skip_names:
            continue
        data = epub.read(item.name)
        if not data.strip():
            continue
        source = f"{epub.path}:{item.name}"
        entries = by_file.get(item.name, [])
        try:
            markup = decode_text(data, source)
        except EmptyFileError:
            continue
        converted = html_to_text(markup, frozenset(f for f, _ in entries if f), css)
        words = len(converted.text.split())
        if not words:
            continue  # an image page, an empty page: nothing to read
        toc_title = entries[0][1] if entries else ""
        if _is_front_matter(converted, f"{item.name} {toc_title}", started=bool(drafts)):
            continue
        heading = min(converted.headings, default=None, key=lambda h: h[0])
        if not entries and heading is None and drafts and toc:
            # A chapter split over two files by the converter: one chapter, read on.
            drafts[-1].text = drafts[-1].text.rstrip("\n") + "\n\n" + converted.text
            continue
        starts: list[tuple[int, str]] = []
        for fragment, title in entries:
            at = 0 if not fragment else converted.anchors.get(fragment)
            if at is not None and all(at != seen for seen, _ in starts):
                starts.append((at, title))
        starts.sort()
        if not starts:
            # Not the <title>: converters put the book's title in every page's.
            starts = [(0, heading[1] if heading else "")]
        # Text before the first anchor is read with the first chapter of the file.
        starts[0] = (0, starts[0][1])
        ends = [at for at, _ in starts[1:]] + [len(converted.text)]
        for (start, title), end in zip(starts, ends, strict=True):
            text = converted.text[start:end]
            if text.strip():
                drafts.append(_Draft(title or None, text, source))
    return drafts


def _is_front_matter(page: HtmlText, names: str, *, started: bool) -> bool:
    """A page not to read: cover, title page, copyright, contents (typed, named or by look)."""
    text = page.text
    words = len(text.split())
    if page.types & _SKIP_TYPES and words < _MAX_SKIP_WORDS:
        return True
    if page.link_words >= _CONTENTS_LINK_SHARE * words:
        return True  # a contents page: mostly links to the chapters
    if _LEGAL_RE.search(text) and words < _MAX_SKIP_WORDS:
        return True
    if _NAME_HINT_RE.search(names) and words < _MAX_HINT_WORDS:
        return True
    if started:
        return False  # after the first chapter, a short page is a short chapter or its end
    longest = max((len(p.split()) for p in text.split("\n\n")), default=0)
    return words < _MIN_WORDS and longest < _PROSE_PARAGRAPH_WORDS


def _metadata(metadata: ET.Element) -> tuple[str | None, str | None]:
    titles = [_text(e) for e in metadata if _local(e.tag) == "title" and _text(e)]
    roles = {
        _attr(e, "refines").lstrip("#"): _text(e)
        for e in metadata
        if _local(e.tag) == "meta" and _attr(e, "property") == "role"
    }
    creators = []
    for element in metadata:
        if _local(element.tag) == "creator" and _text(element):
            role = _attr(element, "role") or roles.get(_attr(element, "id"), "")
            creators.append((_text(element), role))
    authors = [name for name, role in creators if role in ("", "aut")] or [
        name for name, _ in creators
    ]
    return (titles[0] if titles else None), (", ".join(authors) if authors else None)


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None  # audio tags take JPEG or PNG only


def _cover(
    epub: _Epub, metadata: ET.Element, manifest: dict[str, _Item]
) -> tuple[bytes | None, str | None]:
    candidates = [item for item in manifest.values() if "cover-image" in item.properties]
    for element in metadata:
        if _local(element.tag) == "meta" and _attr(element, "name") == "cover":
            content = _attr(element, "content")
            candidates += [item for item in manifest.values() if content in (item.id, item.name)]
    candidates += [
        item
        for item in manifest.values()
        if item.media_type.startswith("image/") and "cover" in f"{item.id} {item.name}".lower()
    ]
    for item in candidates:
        if item.name in epub.names:
            data = epub.read(item.name)
            mime = _sniff_image(data)
            if mime:
                return data, mime
    return None, None
