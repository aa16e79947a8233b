"""Compose the stages: load -> analyze -> cast -> plan -> synthesize -> stitch, encode -> package.

`render_book` runs them all, as one list of stages chosen from the options (a dry run swaps
what follows the plan for an estimate of the clips to synthesize), with the clip cache, chapter
skipping (a chapter whose lines, voices and tags did not change is not redone) and resuming
after a kill. Each stage's work lives in the module named after it: narrator.analysis,
narrator.casting, narrator.plan, narrator.writer, narrator.package. Nothing here prints:
progress goes to a `Reporter`, results come back as a `RenderSummary`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path

from narrator.analysis import (
    Analysis,
    analyze_book,
    book_warnings,
    cast_book,
    is_doubtful,
    resolve_cast,
    resolve_corrections,
    speaking_characters,
)
from narrator.casting import (
    Casting,
    check_voices_installed,
    language_warnings,
    write_book_info,
    write_cast,
)
from narrator.errors import ConfigError, EngineError
from narrator.feed import check_base_url
from narrator.files import safe_file_name
from narrator.layout import Layout, plan_layout, prepare_folders
from narrator.load import load_book
from narrator.metadata import book_tags, resolve_book_info
from narrator.model import Book, BookInfo, Cast, Tags
from narrator.package import drop_stale_state, package_book
from narrator.plan import (
    ChapterPlan,
    ChapterResult,
    ChapterStatus,
    RenderOptions,
    Sound,
    plan_chapters,
    sound_for,
)
from narrator.progress import Reporter, StageTimer
from narrator.script import UNKNOWN_SPEAKER
from narrator.state import ChapterRecord, Manifest
from narrator.synth import ClipCache, SynthPool, check_engine, engine_voices
from narrator.writer import ChapterWriter


@dataclass
class RenderSummary:
    """The end-of-run report."""

    book_title: str
    book_dir: Path
    chapters: list[ChapterResult] = field(default_factory=list)
    clips_synthesized: int = 0
    clips_reused: int = 0
    lines_per_voice: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0
    m4b_path: Path | None = None
    m3u_path: Path | None = None
    epub_path: Path | None = None
    feed_path: Path | None = None
    cast_path: Path | None = None
    cast_written: bool = False  # narrator created or updated the cast file in this run
    written: list[Path] = field(default_factory=list)  # files written in this run, in order
    # Speech lines whose speaker is a guess below REVIEW_THRESHOLD: (chapter, speaker, text).
    to_review: list[tuple[int, str, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def doubtful_lines(self) -> int:
        """Speech lines below REVIEW_THRESHOLD (`narrator review` lists them)."""
        return len(self.to_review)

    @property
    def duration_ms(self) -> int:
        return sum(chapter.duration_ms for chapter in self.chapters)

    def count(self, status: ChapterStatus) -> int:
        return sum(1 for chapter in self.chapters if chapter.status == status)


@dataclass(frozen=True)
class _Source:
    """The book as loaded, with its cast file and metadata."""

    book: Book
    cast: Cast
    cast_path: Path
    managed: bool  # narrator keeps the cast file (no --cast given)
    info: BookInfo
    tags: Tags


@dataclass
class _Run:
    """What the stages after planning share."""

    options: RenderOptions
    reporter: Reporter
    timed: StageTimer
    tags: Tags
    casting: Casting
    layout: Layout
    manifest: Manifest
    cache: ClipCache
    sound: Sound
    plans: tuple[ChapterPlan, ...]
    summary: RenderSummary
    # Each chapter's record by fingerprint: as planned, then as written. Read once, here.
    records: dict[str, ChapterRecord] = field(default_factory=dict)


def render_book(
    input_path: Path, options: RenderOptions, reporter: Reporter | None = None
) -> RenderSummary:
    """Render a chapter, folder of chapters or EPUB into an M4B and/or chapter MP3s with
    transcripts, as `options.format` says.

    The book is locked for the run: a second render of it into the same place is refused.
    """
    started = time.perf_counter()
    reporter = reporter or Reporter()
    timed = StageTimer()
    _check_ready(options)
    with ExitStack() as held:
        reporter.stage("load")
        with timed("load"):
            source = _load(input_path, options)
        reporter.stage("analyze")
        with timed("analyze"):
            corrections = resolve_corrections(input_path, options.lines_path)
            analysis = analyze_book(
                source.book, source.cast, managed=source.managed, corrections=corrections
            )
        with timed("cast"):
            casting = cast_book(analysis, options.voices_dirs)
            layout = _layout(source, options)
            # The book is locked before its cast file is touched: a run refused because
            # another one renders the book leaves the cast file alone.
            prepare_folders(layout, options.dry_run, held)
            cast_written = _update_cast_file(source, analysis, casting, options)
        summary = _start_summary(source, analysis, casting, layout, cast_written, options)
        summary.stage_seconds = timed.seconds
        manifest = Manifest(layout.manifest_path, layout.book_dir.parent)
        sound = sound_for(options, source.cast)
        with timed("script"):
            plans = plan_chapters(analysis, casting, source.tags, layout, manifest, sound, options)
        _check_only_chapters(plans, options)
        run = _Run(
            options, reporter, timed, source.tags, casting, layout, manifest,
            ClipCache(options.cache_dir), sound, plans, summary,
        )  # fmt: skip
        run.records.update(
            (plan.result.fingerprint, plan.record) for plan in plans if plan.record is not None
        )
        _note_plans(run)
        # A dry run estimates instead of rendering; when only some chapters are rendered
        # (studio), the book's own files wait for a whole render.
        stages: list[Callable[[_Run], None]] = [_retag, _synthesize_and_write, _package]
        if options.only_chapters is not None:
            stages = [_retag, _synthesize_and_write]
        for stage in [_estimate] if options.dry_run else stages:
            stage(run)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _check_ready(options: RenderOptions) -> None:
    """Say what to install, or what is wrong with the options, before any work."""
    if not options.dry_run:
        check_engine(options.engine)
        options.encoder.check()
    if options.feed_url is not None:
        check_base_url(options.feed_url)
        if not options.format.mp3:
            raise ConfigError("--feed needs chapter MP3s: add --format mp3 or --format both")


def _load(input_path: Path, options: RenderOptions) -> _Source:
    book = load_book(input_path)
    cast, cast_path, managed = resolve_cast(input_path, options.cast_path)
    info = resolve_book_info(book, cast.book, options)
    tags = book_tags(info, book)
    book = replace(book, title=tags.album, author=info.author)
    return _Source(book, cast, cast_path, managed, info, tags)


def _update_cast_file(
    source: _Source, analysis: Analysis, casting: Casting, options: RenderOptions
) -> bool:
    """Record every voice and the book's metadata in the cast file; whether it changed.

    Recording every voice is what keeps voices stable when chapters are added; an author's
    own values are never changed. A dry run writes nothing.
    """
    if options.dry_run:
        return False
    cast_changed = write_cast(source.cast_path, speaking_characters(analysis), casting.assignment)
    changed = [key for key in ("title", "author", "cover") if getattr(options, key)]
    info_changed = write_book_info(source.cast_path, source.info, changed)
    return cast_changed or info_changed


def _layout(source: _Source, options: RenderOptions) -> Layout:
    folders = [safe_file_name(name) for name in (source.info.author, source.info.series) if name]
    names = [*folders, safe_file_name(source.book.title)]
    return plan_layout(options.out_dir, names, options.format, options.state_dir)


def _start_summary(
    source: _Source,
    analysis: Analysis,
    casting: Casting,
    layout: Layout,
    cast_written: bool,
    options: RenderOptions,
) -> RenderSummary:
    return RenderSummary(
        book_title=source.book.title,
        book_dir=layout.book_dir,
        cast_path=source.cast_path,
        cast_written=cast_written,
        dry_run=options.dry_run,
        warnings=book_warnings(analysis, casting),
        to_review=[
            (ch.chapter.number, segment.speaker or UNKNOWN_SPEAKER, " ".join(segment.text.split()))
            for ch in analysis.chapters
            for segment in ch.segments
            if is_doubtful(segment)
        ],
    )


def _note_plans(run: _Run) -> None:
    """The planned chapters, lines per voice, and what is worth a warning in the plan."""
    summary = run.summary
    for plan in run.plans:
        for line in plan.lines:
            summary.lines_per_voice[line.voice_id] = (
                summary.lines_per_voice.get(line.voice_id, 0) + 1
            )
        if not plan.lines:
            summary.warnings.append(
                f"chapter {plan.chapter.number} ({plan.chapter.title}): nothing to read"
            )
        summary.chapters.append(plan.result)
    unattributed = sum(
        1 for plan in run.plans for line in plan.lines if line.speaker == UNKNOWN_SPEAKER
    )
    if unattributed:
        summary.warnings.append(f"{unattributed} lines have no known speaker (read as 'Unknown')")


def _estimate(run: _Run) -> None:
    """Dry run: how many clips each chapter to render would synthesize (not in the cache)."""
    run.summary.chapters = [
        replace(
            plan.result,
            clips_to_synthesize=sum(1 for key in set(plan.keys) if not run.cache.has(key)),
        )
        if plan.result.status is ChapterStatus.PLANNED
        else plan.result
        for plan in run.plans
    ]


def _retag(run: _Run) -> None:
    """New tags on the MP3s whose audio is up to date."""
    for plan in run.plans:
        result = plan.result
        if result.status is ChapterStatus.RETAGGED and result.mp3_path is not None:
            run.options.encoder.retag_mp3(result.mp3_path, plan.tags)
            run.manifest.record(
                result.mp3_path, result.mp3_fingerprint, result.duration_ms, result.fingerprint
            )
            run.summary.written.append(result.mp3_path)


def _check_only_chapters(plans: Sequence[ChapterPlan], options: RenderOptions) -> None:
    """Before anything is written: every chapter asked for exists."""
    if options.only_chapters is None:
        return
    unknown = sorted(options.only_chapters - {plan.result.number for plan in plans})
    if unknown:
        raise ConfigError(f"no chapter {unknown[0]}: the book has {len(plans)}")


def _chapters_to_render(run: _Run) -> list[ChapterPlan]:
    todo = [plan for plan in run.plans if plan.result.status is ChapterStatus.PLANNED]
    only = run.options.only_chapters
    if only is not None:
        todo = [plan for plan in todo if plan.result.number in only]
    return todo


def _synthesize_and_write(run: _Run) -> None:
    """Synthesize each chapter's clips; stitch and encode it while the next is synthesized."""
    todo = _chapters_to_render(run)
    options, reporter, summary, timed = run.options, run.reporter, run.summary, run.timed
    if todo:
        with timed("synthesize"):
            # One engine start answers both checks, and only when one needs it.
            voices = cache(partial(engine_voices, options.engine))
            check_voices_installed(run.casting, summary.lines_per_voice, options.engine, voices)
            summary.warnings += language_warnings(
                (line for plan in todo for line in plan.lines), options.engine, voices
            )
        clips_total = sum(len(plan.lines) for plan in todo)
        reporter.run_started(len(todo), clips_total)
        clips_before = 0
        writer = ChapterWriter(run.layout, run.manifest, options, run.sound, timed, reporter)
        with SynthPool(options.engine, run.cache, options.jobs) as pool, writer:
            for position, plan in enumerate(todo, 1):
                writer.raise_failure()
                result = plan.result
                reporter.chapter_started(position, len(todo), result.title, len(plan.lines))

                def on_progress(done: int, _total: int, before: int = clips_before) -> None:
                    reporter.clips_done(min(before + done, clips_total), clips_total)

                with timed("synthesize"):
                    try:
                        synthesized = pool.synthesize(plan.lines, on_progress=on_progress)
                    except EngineError as exc:  # its line numbers count within the chapter
                        raise EngineError(
                            f"chapter {result.number} ({result.title}): {exc}"
                        ) from exc
                clips_before += len(plan.lines)
                reporter.clips_done(clips_before, clips_total)
                summary.clips_synthesized += synthesized.synthesized
                summary.clips_reused += synthesized.reused
                summary.warnings += [
                    f"chapter {result.number}: {r}"
                    for r in (*synthesized.retries, *synthesized.warnings)
                ]
                # Encoded in the background while the next chapter is being synthesized.
                writer.submit(plan, synthesized.clips)
            written = writer.results()
        run.records.update((chapter.result.fingerprint, chapter.record) for chapter in written)
        rendered = {chapter.result.number: chapter.result for chapter in written}
        summary.chapters = [rendered.get(result.number, result) for result in summary.chapters]
        # chapter order (by name: "01 - ...")
        summary.written += sorted(path for chapter in written for path in chapter.written)
    for result in summary.chapters:
        if result.loudness is not None:
            summary.warnings += [
                f"chapter {result.number}: {problem}"
                for problem in result.loudness.problems(run.sound.loudness_lufs)
            ]


def _package(run: _Run) -> None:
    """The book's own files (playlist, M4B, read-along, feed); state and cache tidied."""
    run.reporter.stage("package")
    with run.timed("package"):
        summary = run.summary
        package = package_book(
            run.tags, summary.chapters, run.records, run.manifest, run.layout, run.options
        )
        summary.written += package.written
        summary.m3u_path, summary.m4b_path = package.m3u_path, package.m4b_path
        summary.epub_path, summary.feed_path = package.epub_path, package.feed_path
        drop_stale_state(run.layout, summary.chapters)
        with contextlib.suppress(OSError):  # a full cache is no reason to fail a finished render
            run.cache.prune(run.options.cache_max_bytes)
