"""Load a book: a file, a folder of chapter files or an EPUB (Path) -> Book.

A plain-text chapter's Chapter.text is a slice of `decode_text(file bytes)`, so offsets
found in a chapter point into the decoded file. Markdown and HTML are converted to plain
paragraphs first (see narrator.load.markup), so their offsets point into that text.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from narrator.errors import InputError
from narrator.load import limits
from narrator.load.chapters import ChapterSpan, guess_title, prettify_name, split_chapters
from narrator.load.decode import EmptyFileError, decode_text
from narrator.load.epub import load_epub
from narrator.load.limits import Budget
from narrator.load.markup import html_to_text, markdown_to_text
from narrator.model import Book, Chapter

__all__ = [
    "TEXT_SUFFIXES",
    "ChapterSpan",
    "EmptyFileError",
    "decode_text",
    "load_book",
    "natural_key",
    "read_text",
    "split_chapters",
]

TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
CHAPTER_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES
# Files that sit next to chapters but are not chapters.
_NOT_CHAPTERS = frozenset({"readme", "license", "licence", "changelog", "notes", "todo"})


def load_book(path: Path) -> Book:
    """Read a chapter file (.txt/.md/.html), a folder of them, or an EPUB into a Book."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        return _load_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".epub":
        return load_epub(path)
    if suffix and suffix not in CHAPTER_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {suffix!r} "
            "(expected .txt, .md, .html, .xhtml, .epub or a folder)"
        )
    chapters = _load_file(path, first_number=1)  # no suffix: read as plain text
    return Book(title=prettify_name(path.stem), chapters=tuple(chapters), source_path=path)


def read_text(path: Path) -> str:
    """A plain-text file's decoded text, exactly as load_book slices it into chapters."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a text file")
    return decode_text(_read(path), str(path))


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "2.txt" before "10.txt" and "ch2" before "ch10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", name)
        if part
    )


def _load_folder(folder: Path) -> Book:
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise InputError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from None
    files = sorted(
        (
            entry
            for entry in entries
            if not entry.name.startswith((".", "~"))
            and entry.suffix.lower() in CHAPTER_SUFFIXES
            and entry.stem.lower() not in _NOT_CHAPTERS
            and entry.is_file()
        ),
        key=lambda entry: (natural_key(entry.name), entry.name),
    )
    chapters: list[Chapter] = []
    budget = Budget(str(folder))
    for file_path in files:
        try:
            chapters.extend(_load_file(file_path, first_number=len(chapters) + 1, budget=budget))
        except EmptyFileError:
            continue  # an empty chapter file has nothing to lose; the others still load
    if not chapters:
        raise InputError(
            f"{folder}: no chapter files in the folder (expected .txt, .md, .html or .xhtml files)"
        )
    name = folder.resolve().name or str(folder)
    cover, cover_mime = _folder_cover(entries)
    return Book(
        title=prettify_name(name),
        chapters=tuple(chapters),
        cover=cover,
        cover_mime=cover_mime,
        source_path=folder,
    )


_COVER_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def _folder_cover(entries: list[Path]) -> tuple[bytes | None, str | None]:
    """A `cover.jpg` / `cover.png` (any case) in a folder of chapters, for the tags."""
    for entry in sorted(entries):
        mime = _COVER_TYPES.get(entry.suffix.lower())
        if mime and entry.stem.lower() in {"cover", "folder"} and entry.is_file():
            return _read(entry), mime
    return None, None


def _read(path: Path, budget: Budget | None = None) -> bytes:
    try:
        with path.open("rb") as handle:
            size_bytes = os.fstat(handle.fileno()).st_size
            if size_bytes > limits.MAX_FILE_BYTES:  # refused before reading a byte
                raise InputError(
                    f"{path}: the file is {limits.size_text(size_bytes)}, larger than narrator "
                    f"reads (at most {limits.size_text(limits.MAX_FILE_BYTES)})"
                )
            return limits.read_limited(handle, str(path), budget)  # /dev/zero, a growing file
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _load_file(path: Path, *, first_number: int, budget: Budget | None = None) -> list[Chapter]:
    """The chapters in one text, Markdown or HTML file."""
    text = decode_text(_read(path, budget), str(path))
    suffix = path.suffix.lower()
    heading_title: str | None = None
    if suffix in MARKDOWN_SUFFIXES:
        markdown = markdown_to_text(text)
        text = markdown.text
        heading_title = markdown.title or _top_heading(markdown.headings)
    elif suffix in HTML_SUFFIXES:
        converted = html_to_text(text)
        text = converted.text
        heading_title = _top_heading(converted.headings) or converted.title
    if not text.strip():
        raise EmptyFileError(f"{path}: the file has no text once its markup is removed")
    spans = split_chapters(text)
    fallback = heading_title or guess_title(text) or prettify_name(path.stem)
    chapters = []
    for offset, span in enumerate(spans):
        title = span.title or fallback
        source = str(path) if len(spans) == 1 else f"{path} ({title})"
        chapters.append(Chapter(first_number + offset, title, text[span.start : span.end], source))
    return chapters


def _top_heading(headings: list[tuple[int, str]]) -> str | None:
    """The first of the highest-level headings ("# Title" before "## Part")."""
    if not headings:
        return None
    top = min(level for level, _ in headings)
    return next(text for level, text in headings if level == top)
