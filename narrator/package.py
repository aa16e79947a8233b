"""Package a book: rendered chapters -> playlist, M4B with transcript, read-along EPUB, feed.

Each product is rewritten only when what it is made from changed (the manifest says);
`package_book` returns where the products are and which files this run wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from narrator.export import shift_cues, write_abs_metadata, write_m3u, write_transcripts
from narrator.feed import FEED_NAME, FeedItem, write_feed
from narrator.files import safe_file_name
from narrator.layout import Layout
from narrator.model import Cue, Tags
from narrator.plan import ChapterResult, RenderOptions, content_hash, tags_key
from narrator.readalong import ReadAlongChapter, write_read_along
from narrator.state import ChapterRecord, Manifest, part_path

ABS_METADATA_NAME = "metadata.json"  # Audiobookshelf's own metadata file, beside the audio


@dataclass
class Package:
    """The book's products and the files written for them in this run, in order."""

    m3u_path: Path | None = None
    m4b_path: Path | None = None
    epub_path: Path | None = None
    feed_path: Path | None = None
    written: list[Path] = field(default_factory=list)


def package_book(
    tags: Tags,
    chapters: Sequence[ChapterResult],
    records: Mapping[str, ChapterRecord],
    manifest: Manifest,
    layout: Layout,
    options: RenderOptions,
) -> Package:
    """The playlist and metadata of the MP3s, the M4B with its transcript, the read-along
    EPUB and the feed (as the options ask), each when changed.

    records: each chapter's record by its fingerprint (as planned or just written).
    """
    package = Package()
    name = safe_file_name(tags.album)
    duration_ms = sum(chapter.duration_ms for chapter in chapters)
    if layout.mp3_dir is not None:
        m3u_path = layout.mp3_dir / f"{name}.m3u"
        entries = [(ch.mp3_path, ch.title, ch.duration_ms) for ch in chapters if ch.mp3_path]
        playlist_fp = content_hash(json.dumps([(p.name, t, d) for p, t, d in entries]))
        if not manifest.is_current(m3u_path, None, playlist_fp):
            write_m3u(entries, m3u_path)
            manifest.record(m3u_path, playlist_fp, 0)
            package.written.append(m3u_path)
        package.m3u_path = m3u_path
        times = chapter_times([(ch.title, ch.duration_ms) for ch in chapters])
        _write_abs_metadata(package, layout.mp3_dir / ABS_METADATA_NAME, tags, times)
    if layout.m4b_dir is not None:
        m4b_path = layout.m4b_dir / f"{name}.m4b"
        parts = [(part_path(layout, ch.fingerprint), ch.title) for ch in chapters]
        m4b_fp = content_hash(json.dumps([[p.name, t] for p, t in parts] + tags_key(tags)))
        vtt_path = m4b_path.with_suffix(".vtt")
        if not manifest.is_current(m4b_path, vtt_path, m4b_fp):
            times = options.encoder.join_m4b(parts, m4b_path, tags)
            cues: list[Cue] = []
            for chapter, (_, start_ms, _) in zip(chapters, times, strict=True):
                record = records.get(chapter.fingerprint)
                cues += shift_cues(record.cues if record else (), start_ms)
            srt_path = write_transcripts(cues, vtt_path)
            manifest.record(m4b_path, m4b_fp, duration_ms)
            package.written += [m4b_path, vtt_path, srt_path]
            _write_abs_metadata(package, layout.m4b_dir / ABS_METADATA_NAME, tags, times)
        package.m4b_path = m4b_path
    if options.epub:
        package.epub_path = _write_read_along(tags, chapters, records, layout, manifest, package)
    if options.feed_url is not None and layout.mp3_dir is not None:
        package.feed_path = _write_feed(tags, chapters, layout.mp3_dir, options.feed_url, package)
    return package


def chapter_times(chapters: Sequence[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(title, start_ms, end_ms) of chapters played one after the other."""
    times, start_ms = [], 0
    for title, duration_ms in chapters:
        times.append((title, start_ms, start_ms + duration_ms))
        start_ms += duration_ms
    return times


def _write_abs_metadata(
    package: Package, path: Path, tags: Tags, times: Sequence[tuple[str, int, int]]
) -> None:
    if write_abs_metadata(path, tags, times):
        package.written.append(path)


def _write_read_along(
    tags: Tags,
    results: Sequence[ChapterResult],
    records: Mapping[str, ChapterRecord],
    layout: Layout,
    manifest: Manifest,
    package: Package,
) -> Path:
    """The read-along EPUB beside the first product, when anything in it changed."""
    chapters = []
    for chapter in results:
        record = records.get(chapter.fingerprint)
        audio = chapter.mp3_path if chapter.mp3_path else part_path(layout, chapter.fingerprint)
        chapters.append(
            ReadAlongChapter(chapter.title, audio, record.duration_ms if record else 0,
                             record.cues if record else ())
        )  # fmt: skip
    epub_path = layout.book_dir / f"{safe_file_name(tags.album)}.epub"
    epub_fp = content_hash(
        json.dumps([[c.title, c.audio_path.name, c.duration_ms] for c in chapters] + tags_key(tags))
        + "".join(content_hash(repr(c.cues)) for c in chapters)
    )
    if not manifest.is_current(epub_path, None, epub_fp):
        write_read_along(chapters, epub_path, tags)
        manifest.record(epub_path, epub_fp, sum(ch.duration_ms for ch in results))
        package.written.append(epub_path)
    return epub_path


def _write_feed(
    tags: Tags, chapters: Sequence[ChapterResult], mp3_dir: Path, base_url: str, package: Package
) -> Path:
    """The podcast feed beside the chapter MP3s."""
    items = [
        FeedItem(ch.number, ch.title, ch.mp3_path, ch.vtt_path, ch.duration_ms)
        for ch in chapters
        if ch.mp3_path is not None and ch.vtt_path is not None
    ]
    feed_path = mp3_dir / FEED_NAME
    if write_feed(items, feed_path, tags, base_url):
        package.written.append(feed_path)
    return feed_path


def drop_stale_state(layout: Layout, chapters: Sequence[ChapterResult]) -> None:
    """Parts and records of chapters no longer in the book (edited, or removed)."""
    in_use = {ch.fingerprint[:32] for ch in chapters}
    for folder in (layout.parts_dir, layout.records_dir):
        if folder.is_dir():
            for stale in folder.iterdir():
                if stale.stem not in in_use and not stale.name.startswith("."):
                    stale.unlink(missing_ok=True)
