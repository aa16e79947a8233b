"""Read-along: chapter audio + Cues + Tags -> an EPUB 3 with Media Overlays.

Each chapter becomes one XHTML page with a span per line (a class per speaker) and a SMIL
file that points every span at its stretch of the chapter's audio (`clipBegin`/`clipEnd`),
taken from the cue times narrator measured while stitching, so no speech recogniser is
needed. A reader that plays Media Overlays (Thorium, Apple Books, BookFusion) highlights
each line as it is spoken. The chapter audio files go inside the EPUB as they are.
"""

from __future__ import annotations

import datetime
import html
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from narrator.errors import OutputError
from narrator.files import atomic_path
from narrator.model import Cue, Tags

_SECTION_ID = "chapter"  # the page's one section, which the overlay's sequence points at
# What reading systems add to the element being read; the stylesheet colours it.
ACTIVE_CLASS = "-epub-media-overlay-active"
_AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".mp4": "audio/mp4"}
# Speaker colours (readable on white and on sepia); the narrator stays in the text colour.
_PALETTE = ("#1f5fa8", "#a8321f", "#2e7d32", "#7b3fa0", "#a86a00", "#00796b", "#ad1457")


@dataclass(frozen=True)
class ReadAlongChapter:
    """One chapter of a read-along: its title, audio file, length and cues in that audio."""

    title: str
    audio_path: Path
    duration_ms: int
    cues: tuple[Cue, ...]


def write_read_along(chapters: Sequence[ReadAlongChapter], epub_path: Path, tags: Tags) -> None:
    """Write an EPUB 3 whose chapters play their audio with each line highlighted in turn."""
    if not chapters:
        raise OutputError(f"cannot write {epub_path}: no chapters to put in it")
    for chapter in chapters:
        if chapter.audio_path.suffix.lower() not in _AUDIO_TYPES:
            raise OutputError(f"cannot write {epub_path}: {chapter.audio_path} is not MP3 or M4A")
        if not chapter.audio_path.is_file():
            raise OutputError(f"cannot write {epub_path}: {chapter.audio_path} is missing")
    language = tags.info.language or "en"
    speakers = _speaker_classes(cue.speaker for ch in chapters for cue in ch.cues)
    with atomic_path(epub_path) as tmp_path:
        try:
            with zipfile.ZipFile(tmp_path, "w") as epub:
                # The mimetype entry comes first and is stored, so the file identifies itself.
                epub.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
                epub.writestr("META-INF/container.xml", _CONTAINER, zipfile.ZIP_DEFLATED)
                _write_book(epub, chapters, tags, language, speakers)
        except OSError as exc:
            raise OutputError(f"cannot write {epub_path}: {exc.strerror or exc}") from exc


def _write_book(
    epub: zipfile.ZipFile,
    chapters: Sequence[ReadAlongChapter],
    tags: Tags,
    language: str,
    speakers: dict[str, str],
) -> None:
    def text(name: str, content: str) -> None:
        epub.writestr(f"EPUB/{name}", content, zipfile.ZIP_DEFLATED)

    manifest = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
    ]
    spine, durations, toc = [], [], []
    for number, chapter in enumerate(chapters, start=1):
        page = f"c{number:03d}.xhtml"
        toc.append(f'<li><a href="{page}">{_x(chapter.title)}</a></li>')
        spine.append(f'<itemref idref="c{number}"/>')
        if not chapter.cues:  # nothing read: a page without audio
            manifest.append(
                f'<item id="c{number}" href="{page}" media-type="application/xhtml+xml"/>'
            )
            text(page, _page(chapter, language, speakers))
            continue
        smil = f"c{number:03d}.smil"
        suffix = chapter.audio_path.suffix.lower()
        audio = f"audio/c{number:03d}{suffix}"
        manifest += [
            f'<item id="c{number}" href="{page}" media-type="application/xhtml+xml" '
            f'media-overlay="mo{number}"/>',
            f'<item id="mo{number}" href="{smil}" media-type="application/smil+xml"/>',
            f'<item id="a{number}" href="{audio}" media-type="{_AUDIO_TYPES[suffix]}"/>',
        ]
        durations.append((f"mo{number}", _overlay_ms(chapter)))
        text(page, _page(chapter, language, speakers))
        text(smil, _smil(page, audio, chapter))
        epub.write(chapter.audio_path, f"EPUB/{audio}", zipfile.ZIP_STORED)
    if tags.cover:
        kind = "png" if tags.cover.startswith(b"\x89PNG") else "jpeg"
        cover = f"cover.{'png' if kind == 'png' else 'jpg'}"
        manifest.append(
            f'<item id="cover" href="{cover}" media-type="image/{kind}" properties="cover-image"/>'
        )
        epub.writestr(f"EPUB/{cover}", tags.cover, zipfile.ZIP_STORED)
    text("style.css", _stylesheet(speakers))
    text("nav.xhtml", _nav(tags, language, toc))
    text("package.opf", _package(tags, language, manifest, spine, durations))


def _overlay_ms(chapter: ReadAlongChapter) -> int:
    """The length of a chapter's overlay: the audio it plays, to the end of its last cue."""
    return max(cue.end_ms for cue in chapter.cues)


def _speaker_classes(speakers: Iterable[str]) -> dict[str, str]:
    """A CSS class per speaker, stable for a name, unique within the book."""
    classes: dict[str, str] = {}
    for speaker in speakers:
        if speaker in classes:
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", str(speaker).casefold()).strip("-") or "speaker"
        name, n = f"sp-{slug}", 2
        while name in classes.values():
            name, n = f"sp-{slug}-{n}", n + 1
        classes[speaker] = name
    return classes


def _page(chapter: ReadAlongChapter, language: str, speakers: dict[str, str]) -> str:
    body = [f'<section id="{_SECTION_ID}" epub:type="chapter" aria-label="{_x(chapter.title)}">']
    if not chapter.cues:
        body.append(f"<h1>{_x(chapter.title)}</h1>")
    for number, cue in enumerate(chapter.cues, start=1):
        words = _x(" ".join(cue.text.split()))
        body.append(
            f'<p><span id="l{number}" class="{speakers[cue.speaker]}" '
            f'title="{_x(cue.speaker)}">{words}</span></p>'
        )
    body.append("</section>")
    return _xhtml(chapter.title, language, "\n".join(body))


def _smil(page: str, audio: str, chapter: ReadAlongChapter) -> str:
    pars = [
        f'<par id="p{number}"><text src="{page}#l{number}"/>'
        f'<audio src="{audio}" clipBegin="{_clock(cue.start_ms)}" '
        f'clipEnd="{_clock(max(cue.end_ms, cue.start_ms))}"/></par>'
        for number, cue in enumerate(chapter.cues, start=1)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" '
        'version="3.0">\n<body>\n'
        f'<seq id="s1" epub:textref="{page}#{_SECTION_ID}" epub:type="chapter">\n'
        + "\n".join(pars)
        + "\n</seq>\n</body>\n</smil>\n"
    )


def _nav(tags: Tags, language: str, toc: list[str]) -> str:
    body = (
        '<nav epub:type="toc" id="toc"><h1>Contents</h1>\n<ol>\n'
        + "\n".join(toc)
        + "\n</ol>\n</nav>"
    )
    return _xhtml(tags.album, language, body)


def _xhtml(title: str, language: str, body: str) -> str:
    lang = _x(language)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f'xml:lang="{lang}" lang="{lang}">\n<head>\n<meta charset="utf-8"/>\n'
        f"<title>{_x(title)}</title>\n"
        '<link rel="stylesheet" type="text/css" href="style.css"/>\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _stylesheet(speakers: dict[str, str]) -> str:
    rows = [
        "p { margin: 0 0 0.6em 0; }",
        f".{ACTIVE_CLASS} {{ background-color: #fff3a0; color: inherit; }}",
    ]
    colours = iter(_PALETTE * (len(speakers) // len(_PALETTE) + 1))
    for speaker, css_class in speakers.items():
        if speaker.casefold() != "narrator":
            rows.append(f".{css_class} {{ color: {next(colours)}; }}")
    return "\n".join(rows) + "\n"


def _package(
    tags: Tags,
    language: str,
    manifest: list[str],
    spine: list[str],
    durations: list[tuple[str, int]],
) -> str:
    info = tags.info
    # The same book gets the same identifier on every render.
    seed = "\n".join([tags.album, tags.artist or "", info.series or "", info.series_part or ""])
    identifier = uuid.uuid5(uuid.NAMESPACE_URL, "narrator:" + seed)
    modified = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = [
        f'<dc:identifier id="pub-id">urn:uuid:{identifier}</dc:identifier>',
        f"<dc:title>{_x(tags.album)}</dc:title>",
        f"<dc:language>{_x(language)}</dc:language>",
        f'<meta property="dcterms:modified">{modified}</meta>',
    ]
    if tags.artist:
        meta.append(f"<dc:creator>{_x(tags.artist)}</dc:creator>")
    if info.description:
        meta.append(f"<dc:description>{_x(info.description)}</dc:description>")
    if info.year is not None:
        meta.append(f"<dc:date>{info.year:04d}</dc:date>")
    if info.narrator:
        meta.append(f'<meta property="media:narrator">{_x(info.narrator)}</meta>')
    if durations:
        meta += [
            f'<meta property="media:duration" refines="#{ref}">{_clock(ms)}</meta>'
            for ref, ms in durations
        ]
        total = sum(ms for _, ms in durations)
        meta.append(f'<meta property="media:duration">{_clock(total)}</meta>')
        meta.append(f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        f'unique-identifier="pub-id" xml:lang="{_x(language)}">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        + "\n".join(meta)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(manifest)
        + "\n</manifest>\n<spine>\n"
        + "\n".join(spine)
        + "\n</spine>\n</package>\n"
    )


def _clock(ms: int) -> str:
    """A SMIL full clock value, h:mm:ss.fff."""
    ms = max(0, ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _x(value: str) -> str:
    """Text as XML content or attribute (characters XML 1.0 forbids are dropped)."""
    return html.escape(_NOT_XML.sub("", value), quote=True)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_CONTAINER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
    '<rootfiles><rootfile full-path="EPUB/package.opf" '
    'media-type="application/oebps-package+xml"/></rootfiles>\n</container>\n'
)
