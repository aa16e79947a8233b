"""The book's metadata: the options, the cast file's [book] and the input -> BookInfo -> Tags."""

from __future__ import annotations

import datetime

from narrator.export import read_cover
from narrator.model import Book, BookInfo, Tags
from narrator.plan import RenderOptions
from narrator.synth import engine_entry


def narrator_credit(engine: str) -> str:
    """The default narrator credit for an engine, e.g. "narrator (espeak-ng)": the composer
    tag, which audiobook apps show as the narrator, when the cast file names no narrator."""
    return f"narrator ({engine_entry(engine).credit})"


def resolve_book_info(book: Book, stored: BookInfo, options: RenderOptions) -> BookInfo:
    """The book's metadata: --title/--author/--cover, then the cast file's [book], then the
    input's own (an EPUB's metadata, the folder name)."""
    return BookInfo(
        title=options.title or stored.title or book.title,
        author=options.author or stored.author or book.author,
        narrator=stored.narrator or narrator_credit(options.engine),
        series=stored.series,
        series_part=stored.series_part,
        year=stored.year or datetime.date.today().year,
        description=stored.description,
        language=stored.language or "en",
        cover=options.cover.absolute() if options.cover else stored.cover,
    )


def book_tags(info: BookInfo, book: Book) -> Tags:
    """The tags of the whole book (the M4B's; each chapter MP3 adds its title and track)."""
    cover, cover_mime = book.cover, book.cover_mime
    if info.cover is not None:
        cover, cover_mime = read_cover(info.cover)
    title = info.title or book.title
    return Tags(
        title=title,
        album=title,
        artist=info.author,
        cover=cover,
        cover_mime=cover_mime,
        info=info,
    )
