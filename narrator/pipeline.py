"""Compose the stages: load -> segment -> attribute -> cast -> synthesize -> stitch -> export.

`analyze_text` and `analyze_book` run the text stages; `render_book` runs them all, with the
clip cache, chapter skipping (a chapter whose lines, voices and tags did not change is not
redone), resuming after a kill, dry runs and progress reports. Nothing here prints: progress
goes to a `Reporter`, results come back as data.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import narrator
from narrator.attribute import attribute_speakers, guess_narrative_person
from narrator.casting import (
    Assignment,
    assign_voices,
    cast_warnings,
    load_cast,
    merge_cast,
    validate_cast_voices,
    voice_for_label,
    write_book_info,
    write_cast,
)
from narrator.characters import find_characters, name_the_narrator
from narrator.corrections import (
    Change,
    Corrections,
    Stale,
    correct_book,
    default_lines_path,
    load_corrections,
)
from narrator.errors import ConfigError, EngineError, OutputError
from narrator.export import (
    MP3_BITRATE_KBPS,
    check_tools,
    encode_m4b_part,
    encode_mp3,
    join_m4b,
    probe_duration_ms,
    read_cover,
    retag_mp3,
    shift_cues,
    write_abs_metadata,
    write_m3u,
    write_transcripts,
)
from narrator.feed import FEED_NAME, FeedItem, check_base_url, write_feed
from narrator.files import atomic_path, lock_folder
from narrator.layout import DEFAULT_FORMAT, Format, Layout, plan_layout
from narrator.load import TEXT_SUFFIXES, load_book, read_text
from narrator.master import (
    DEFAULT_LOUDNESS_LUFS,
    MASTERING_VERSION,
    LoudnessCheck,
    mastering_for,
    measure_loudness,
)
from narrator.model import (
    Book,
    BookInfo,
    Cast,
    Chapter,
    Character,
    Clip,
    Cue,
    Kind,
    Line,
    Pauses,
    Segment,
    Tags,
    VoiceProfile,
    VoiceSettings,
)
from narrator.readalong import ReadAlongChapter, write_read_along
from narrator.script import NARRATOR, UNKNOWN_SPEAKER, Voice, build_lines, speakable_text
from narrator.segment import segment_chapter
from narrator.stitch import pause_before_ms, stitch_chapter
from narrator.synth import ClipCache, SynthPool, check_engine, clip_key, engine_id, engine_voices
from narrator.synth.base import engine_class
from narrator.synth.language import language_name, language_stretches, languages_without_voice
from narrator.voices import (
    VOICE_LEVEL_LUFS,
    check_profile_voices,
    level_gain_db,
    load_profiles,
    weighting_db,
)

CAST_FILE_NAME = "cast.toml"
THOUGHT_VOLUME = 0.8  # thoughts in the thinker's own voice, a little softer


# ---------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class ChapterAnalysis:
    """A chapter's segments with speakers."""

    chapter: Chapter
    segments: tuple[Segment, ...]
    ids: tuple[str, ...] = ()  # one line id per segment (narrator.lines)
    corrected: frozenset[str] = frozenset()  # ids whose speaker comes from a correction
    changed: tuple[Change, ...] = ()  # speakers changed as a consequence of corrections


@dataclass(frozen=True)
class Analysis:
    """A whole book analysed: its chapters' segments and the characters who speak."""

    book: Book
    cast: Cast
    characters: tuple[Character, ...]
    chapters: tuple[ChapterAnalysis, ...]
    line_counts: dict[str, int]
    stale: tuple[Stale, ...] = ()  # corrections whose line is gone


def candidate_characters(
    cast: Cast, texts: Sequence[str], *, managed: bool, person: int | None = None
) -> list[Character]:
    """The characters attribution chooses from.

    A cast file given with --cast is the author's list and is taken as it is; the book's own
    cast file (managed) is the list narrator keeps, so characters found in new chapters join it.
    `person`: the book's narrative person, when the caller has it already.
    """
    if cast.characters and not managed:
        return list(cast.characters)
    found = find_characters(texts)
    if (person or guess_narrative_person(texts)) == 1:
        found = name_the_narrator(texts, found)
    return merge_cast(cast, found) if cast.characters else found


def analyze_text(
    text: str, characters: Sequence[Character], *, narrative_person: int | None = None
) -> list[Segment]:
    """Segment one text and attribute its speech (person: 1 or 3, None to guess from it)."""
    return attribute_speakers(
        text, segment_chapter(text), characters, narrative_person=narrative_person
    )


def analyze_book(
    book: Book, cast: Cast, *, managed: bool = False, corrections: Corrections | None = None
) -> Analysis:
    """Segment and attribute every chapter of a book against one set of characters."""
    texts = [chapter.text for chapter in book.chapters]
    # Told in the first or third person: decided once for the book, since a short chapter
    # of mostly dialogue says too little on its own.
    person = guess_narrative_person(texts)
    characters = candidate_characters(cast, texts, managed=managed, person=person)
    corrected = correct_book(
        texts, characters, corrections or Corrections(), narrative_person=person
    )
    chapters = tuple(
        ChapterAnalysis(chapter, lines.segments, lines.ids, lines.corrected, lines.changed)
        for chapter, lines in zip(book.chapters, corrected.chapters, strict=True)
    )
    counts = count_lines(segment for ch in chapters for segment in ch.segments)
    return Analysis(book, cast, corrected.characters, chapters, counts, corrected.stale)


def resolve_corrections(input_path: Path, lines_path: Path | None) -> Corrections:
    """The author's line corrections: the --lines file (which must exist), else the default."""
    if lines_path is not None:
        return load_corrections(lines_path, required=True)
    return load_corrections(default_lines_path(input_path))


# Speech lines less certain than this are worth an author's look. Confidence is the ranker's
# probability; on a PDNC novel kept out of tuning, lines below 0.8 are 39% of all and hold 70%
# of the wrong ones (bench/RESULTS.md, "Confidence").
REVIEW_THRESHOLD = 0.8


def is_doubtful(segment: Segment, threshold: float = REVIEW_THRESHOLD) -> bool:
    """A speech line whose speaker attribution is less certain than `threshold`."""
    return segment.kind.is_speech and is_below(segment.confidence, threshold)


def is_below(confidence: float | None, threshold: float = REVIEW_THRESHOLD) -> bool:
    """Whether a confidence is below the review threshold (no confidence: it is)."""
    return (confidence or 0.0) < threshold


def count_doubtful(analysis: Analysis, threshold: float = REVIEW_THRESHOLD) -> int:
    """How many speech lines of a book are below the review threshold."""
    return sum(is_doubtful(s, threshold) for ch in analysis.chapters for s in ch.segments)


def count_lines(segments: Iterator[Segment] | Sequence[Segment]) -> dict[str, int]:
    """How many speech segments each speaker has."""
    counts: Counter[str] = Counter(
        segment.speaker or UNKNOWN_SPEAKER for segment in segments if segment.kind.is_speech
    )
    return dict(counts)


def default_cast_path(input_path: Path) -> Path:
    """Where a book's cast file lives: `cast.toml` in the folder, or beside the file."""
    return (
        input_path / CAST_FILE_NAME if input_path.is_dir() else input_path.parent / CAST_FILE_NAME
    )


def resolve_cast(input_path: Path, cast_path: Path | None) -> tuple[Cast, Path, bool]:
    """The cast, its file, and whether narrator manages it (no --cast given).

    A cast file named with --cast must exist; the book's own cast.toml may not exist yet.
    """
    if cast_path is not None:
        return load_cast(cast_path), cast_path, False
    path = default_cast_path(input_path)
    return (load_cast(path) if path.exists() else Cast(path=path)), path, True


# ---------------------------------------------------------------------------- casting


@dataclass(frozen=True)
class Casting:
    """Who speaks with which voice: the assignment and the profiles it refers to."""

    assignment: Assignment
    profiles: dict[str, VoiceProfile]
    characters: tuple[Character, ...]
    cast: Cast

    def voice(self, profile_id: str, character: Character | None = None) -> Voice:
        profile = self.profiles[profile_id]
        settings = VoiceSettings(
            engine_voice=profile.engine_voice,
            rate_wpm=(character.rate_wpm if character and character.rate_wpm else profile.rate_wpm),
            pitch=(character.pitch if character and character.pitch is not None else profile.pitch),
            volume=(
                character.volume if character and character.volume is not None else profile.volume
            ),
        )
        return Voice(profile_id, settings, level_gain_db(profile), weighting_db(profile))

    def speaker_voice(self, speaker: str) -> Voice:
        by_name = {character.name: character for character in self.characters}
        profile_id = self.assignment.by_character.get(speaker)
        if profile_id is None:
            profile_id = voice_for_label(speaker, self.assignment, self.profiles)
        return self.voice(profile_id, by_name.get(speaker))

    def voice_for(self, segment: Segment) -> tuple[str, Voice]:
        """The transcript label and the voice of one segment."""
        if not segment.kind.is_speech:
            return NARRATOR, self.voice(self.assignment.narrator)
        speaker = segment.speaker or UNKNOWN_SPEAKER
        if segment.kind is Kind.THOUGHT and self.cast.thought_voice:
            return speaker, self.voice(self.cast.thought_voice)
        voice = self.speaker_voice(speaker)
        if segment.kind is Kind.THOUGHT:
            settings = voice.settings
            softer = VoiceSettings(
                settings.engine_voice, settings.rate_wpm, settings.pitch,
                round(settings.volume * THOUGHT_VOLUME, 3),
            )  # fmt: skip
            voice = Voice(voice.voice_id, softer, voice.gain_db, voice.weighting_db)
        return speaker, voice


def check_voices_installed(casting: Casting, used: Iterable[str], engine: str) -> None:
    """Fail before any synthesis when a voice in use names an engine voice not installed."""
    if not engine_class(engine).checks_voices:
        return  # an engine that speaks any voice (the fake one: tones)
    offered = engine_voices(engine)
    installed = [voice for voice in offered if not voice.startswith("+")]
    variants = [voice[1:] for voice in offered if voice.startswith("+")]
    check_profile_voices([casting.profiles[v] for v in sorted(set(used))], installed, variants)


def language_warnings(lines: Iterable[Line], engine: str) -> list[str]:
    """One warning per language in `lines` that no installed voice of `engine` speaks."""
    texts = [line.text for line in lines if not line.text.isascii()]
    if not any(s.language for text in texts for s in language_stretches(text)):
        return []  # no other script: no need to start an engine to ask for its voices
    missing = languages_without_voice(texts, engine_voices(engine))
    return [
        f"no {engine} voice speaks {language_name(language)}: {count} "
        f"line{'' if count == 1 else 's'} read in the speaker's own voice"
        for language, count in missing.items()
    ]


def cast_book(analysis: Analysis, voices_dirs: Sequence[Path] = ()) -> Casting:
    """Give every speaker a voice: the cast file's choices first, then stable defaults."""
    profiles = load_profiles(voices_dirs)
    validate_cast_voices(analysis.cast, profiles)
    # Only those who speak (and the author's own characters) take voices: who else is
    # mentioned must not change which voices the speakers and unnamed speakers get.
    speaking = _speaking(analysis)
    assignment = assign_voices(speaking, analysis.cast, profiles, analysis.line_counts)
    return Casting(assignment, profiles, analysis.characters, analysis.cast)


# ---------------------------------------------------------------------------- rendering


class Preset(StrEnum):
    """Output presets: how chapters are encoded and checked."""

    DEFAULT = "default"  # small files to listen to: 64 kbit/s mono MP3 at espeak-ng's 22050 Hz
    ACX = "acx"  # 44.1 kHz, 192 kbit/s CBR, room tone, loudness and peaks checked and reported


@dataclass(frozen=True)
class RenderOptions:
    """How to render: where to, with which engine, how many workers."""

    out_dir: Path
    cast_path: Path | None = None  # None: the book's own cast.toml, written if missing
    engine: str = "espeak"
    jobs: int = 2
    dry_run: bool = False
    voices_dirs: tuple[Path, ...] = ()
    bitrate_kbps: int | None = None  # None: the preset's
    format: Format = DEFAULT_FORMAT
    title: str | None = None  # sets the cast file's [book] title (default: found)
    author: str | None = None  # sets its author (default: the EPUB's author)
    cover: Path | None = None  # sets its cover (default: the EPUB's or a cover.jpg)
    epub: bool = False  # also write a read-along EPUB 3 with Media Overlays
    feed_url: str | None = None  # also write a podcast feed; where the MP3 folder is published
    state_dir: Path | None = None  # None: narrator's state folder (see narrator.layout)
    cache_dir: Path | None = None  # None: the clip cache's default folder
    cache_max_bytes: int | None = None  # None: $NARRATOR_CACHE_MAX or the default limit
    preset: Preset = Preset.DEFAULT
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS  # each chapter's integrated loudness
    lines_path: Path | None = None  # line corrections (default: beside the input)
    # Render only these chapters (narrator studio's Listen view): their MP3s or M4B parts and
    # transcripts; the playlist, M4B, EPUB and feed wait for a render of the whole book.
    only_chapters: frozenset[int] | None = None


@dataclass(frozen=True)
class Sound:
    """How a render sounds and is encoded, resolved from the options, preset and cast file."""

    bitrate_kbps: int
    sample_rate_hz: int | None  # None: the stitched WAV's (22050 Hz)
    loudness_lufs: float
    pauses: Pauses
    room_tone_db: float | None  # in the stitched WAV, before mastering raises it
    check_loudness: bool


ACX_BITRATE_KBPS = 192
ACX_SAMPLE_RATE_HZ = 44100
# ACX: noise floor at most -60 dB RMS; room tone a few dB under that once mastered.
ACX_ROOM_TONE_DB = -65.0


def sound_for(options: RenderOptions, cast: Cast) -> Sound:
    """The sound of a render: the preset's defaults, the options and [pauses] over them."""
    acx = options.preset is Preset.ACX
    room_tone_db = cast.pauses.room_tone_db
    if room_tone_db is None and acx:
        room_tone_db = ACX_ROOM_TONE_DB
    if room_tone_db is not None:
        # Mastering raises the whole chapter from where the voices sit to the target: the
        # room tone goes in that much lower so that it ends at the level asked for.
        room_tone_db -= options.loudness_lufs - VOICE_LEVEL_LUFS
    return Sound(
        bitrate_kbps=options.bitrate_kbps or (ACX_BITRATE_KBPS if acx else MP3_BITRATE_KBPS),
        sample_rate_hz=ACX_SAMPLE_RATE_HZ if acx else None,
        loudness_lufs=options.loudness_lufs,
        pauses=cast.pauses,
        room_tone_db=room_tone_db,
        check_loudness=acx,
    )


@dataclass
class ChapterResult:
    """What happened to one chapter."""

    number: int
    title: str
    mp3_path: Path | None  # None when no MP3s are made (--format m4b)
    vtt_path: Path | None
    # "rendered", "retagged" (same audio, new tags), "skipped" (up to date), "planned" (dry run)
    status: str
    lines: int
    duration_ms: int = 0
    clips_to_synthesize: int = 0
    fingerprint: str = ""  # of what the chapter's audio is made from
    mp3_fingerprint: str = ""  # of the audio, the MP3's tags and bitrate
    loudness: LoudnessCheck | None = None  # measured after encoding (--preset acx)


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
    doubtful_lines: int = 0  # speech lines below REVIEW_THRESHOLD (`narrator review` lists them)

    @property
    def duration_ms(self) -> int:
        return sum(chapter.duration_ms for chapter in self.chapters)

    def count(self, status: str) -> int:
        return sum(1 for chapter in self.chapters if chapter.status == status)


class Reporter:
    """Receives progress; the CLI shows it. The default shows nothing.

    Counts cover the whole run: `clips_done` counts lines synthesized (or found in the cache)
    out of all lines to render; a chapter is finished once its files are written, so the
    chapter count (and an ETA from it) includes stitching and encoding.
    """

    def stage(self, name: str) -> None: ...

    def run_started(self, chapters: int, clips: int) -> None: ...

    def chapter_started(self, index: int, total: int, title: str, clips: int) -> None: ...

    def clips_done(self, done: int, total: int) -> None: ...

    def chapter_finished(self, result: ChapterResult) -> None: ...


class _Timer:
    """Seconds spent per stage, summed over the threads that run it (so it can exceed the
    wall time when chapters are encoded side by side)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                spent = time.perf_counter() - start
                self.seconds[stage] = self.seconds.get(stage, 0.0) + spent


# How the narrator is credited when the cast file does not say: the composer tag, which
# audiobook apps show as the narrator.
_ENGINE_CREDITS = {"espeak": "espeak-ng", "fake": "a test tone engine"}


def narrator_credit(engine: str) -> str:
    """The default narrator credit for an engine, e.g. "narrator (espeak-ng)"."""
    return f"narrator ({_ENGINE_CREDITS.get(engine, engine)})"


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
        narrator=info.narrator,
        year=info.year,
        description=info.description,
        series=info.series,
        series_part=info.series_part,
        language=info.language,
    )


def render_book(
    input_path: Path, options: RenderOptions, reporter: Reporter | None = None
) -> RenderSummary:
    """Render a chapter, folder of chapters or EPUB into an M4B and/or chapter MP3s with
    transcripts, as `options.format` says.

    The book is locked for the run: a second render of it into the same place is refused.
    """
    with ExitStack() as held:
        return _render_book(input_path, options, reporter, held)


def _render_book(
    input_path: Path, options: RenderOptions, reporter: Reporter | None, held: ExitStack
) -> RenderSummary:
    reporter = reporter or Reporter()
    started = time.perf_counter()
    if not options.dry_run:  # say what to install before any work, not after synthesis
        check_engine(options.engine)
        check_tools()
    stage_seconds: dict[str, float] = {}
    timed = _Timer(stage_seconds)
    fmt = options.format
    if options.feed_url is not None:
        check_base_url(options.feed_url)
        if not fmt.mp3:
            raise ConfigError("--feed needs chapter MP3s: add --format mp3 or --format both")

    reporter.stage("load")
    with timed("load"):
        book = load_book(input_path)
        cast, cast_path, managed = resolve_cast(input_path, options.cast_path)
        info = resolve_book_info(book, cast.book, options)
        tags = book_tags(info, book)
        book = replace(book, title=tags.album, author=info.author)
    reporter.stage("analyze")
    with timed("analyze"):
        corrections = resolve_corrections(input_path, options.lines_path)
        analysis = analyze_book(book, cast, managed=managed, corrections=corrections)
    cast_before = _read_if_exists(cast_path)
    with timed("cast"):
        casting = cast_book(analysis, options.voices_dirs)
        if not options.dry_run:
            # Recording every voice in the cast file is what keeps voices stable when
            # chapters are added; an author's own values are never changed.
            write_cast(cast_path, _speaking(analysis), casting.assignment)
            changed = [key for key in ("title", "author", "cover") if getattr(options, key)]
            write_book_info(cast_path, info, changed)

    folders = [safe_file_name(name) for name in (info.author, info.series) if name]
    layout = plan_layout(
        options.out_dir, [*folders, safe_file_name(book.title)], fmt, options.state_dir
    )
    summary = RenderSummary(
        book_title=book.title,
        book_dir=layout.book_dir,
        cast_path=cast_path,
        cast_written=not options.dry_run and _read_if_exists(cast_path) != cast_before,
        dry_run=options.dry_run,
        stage_seconds=stage_seconds,
        warnings=[
            *cast_warnings(cast),
            *casting.assignment.warnings,
            *(stale.message() for stale in analysis.stale),
        ],
        doubtful_lines=count_doubtful(analysis),
    )
    summary.to_review = [
        (ch.chapter.number, segment.speaker or UNKNOWN_SPEAKER, " ".join(segment.text.split()))
        for ch in analysis.chapters
        for segment in ch.segments
        if is_doubtful(segment)
    ]
    _prepare_out_dirs(layout, options.dry_run, held)

    cache = ClipCache(options.cache_dir)
    current_engine = engine_id(options.engine)
    sound = sound_for(options, cast)
    pause_policy = functools.partial(pause_before_ms, pauses=sound.pauses)
    manifest = _Manifest(layout.manifest_path, layout.book_dir.parent)
    track_total = len(analysis.chapters)
    plans: list[tuple[ChapterAnalysis, list[Line], ChapterResult]] = []
    with timed("script"):
        for chapter_analysis in analysis.chapters:
            chapter = chapter_analysis.chapter
            lines = build_lines(
                chapter.text, chapter_analysis.segments, cast, casting.voice_for, pause_policy
            )
            for line in lines:
                summary.lines_per_voice[line.voice_id] = (
                    summary.lines_per_voice.get(line.voice_id, 0) + 1
                )
            keys = [clip_key(line.text, line.settings, current_engine) for line in lines]
            fingerprint = _fingerprint(lines, keys, sound)
            chapter_tags_ = chapter_tags(tags, chapter, track_total)
            stem = f"{chapter.number:02d} - {safe_file_name(chapter.title)}"
            result = ChapterResult(
                number=chapter.number,
                title=chapter.title,
                mp3_path=layout.mp3_dir / f"{stem}.mp3" if layout.mp3_dir else None,
                vtt_path=layout.mp3_dir / f"{stem}.vtt" if layout.mp3_dir else None,
                status="planned",
                lines=len(lines),
                fingerprint=fingerprint,
                mp3_fingerprint=_hash(
                    json.dumps([fingerprint, sound.bitrate_kbps, _tags_key(chapter_tags_)])
                ),
            )
            if not lines:
                summary.warnings.append(
                    f"chapter {chapter.number} ({chapter.title}): nothing to read"
                )
            record = _read_record(layout, fingerprint)
            if record is not None and _is_current(result, layout, manifest, fmt):
                result.status = "skipped"
                result.duration_ms = record.duration_ms
            elif record is not None and _only_tags_changed(result, layout, manifest, fmt):
                result.status = "retagged" if not options.dry_run else "skipped"
                result.duration_ms = record.duration_ms
                if result.mp3_path is not None and not options.dry_run:
                    retag_mp3(result.mp3_path, chapter_tags_)
                    manifest.record(
                        result.mp3_path, result.mp3_fingerprint, result.duration_ms, fingerprint
                    )
                    summary.written.append(result.mp3_path)
            elif options.dry_run:  # reading the cache is only worth it to show the plan
                result.clips_to_synthesize = len(
                    {key for key in set(keys) if cache.get(key) is None}
                )
            plans.append((chapter_analysis, lines, result))
            summary.chapters.append(result)

    unattributed = sum(1 for _, lines, _ in plans for ln in lines if ln.speaker == UNKNOWN_SPEAKER)
    if unattributed:
        summary.warnings.append(f"{unattributed} lines have no known speaker (read as 'Unknown')")
    if options.dry_run:
        summary.elapsed_s = time.perf_counter() - started
        return summary

    todo = [plan for plan in plans if plan[2].status not in ("skipped", "retagged")]
    if options.only_chapters is not None:
        unknown = sorted(options.only_chapters - {result.number for result in summary.chapters})
        if unknown:
            raise ConfigError(f"no chapter {unknown[0]}: the book has {len(summary.chapters)}")
        todo = [plan for plan in todo if plan[2].number in options.only_chapters]
    if todo:
        with timed("synthesize"):
            check_voices_installed(casting, summary.lines_per_voice, options.engine)
            summary.warnings += language_warnings(
                (line for plan in todo for line in plan[1]), options.engine
            )
        clips_total = sum(len(lines) for _, lines, _ in todo)
        reporter.run_started(len(todo), clips_total)
        clips_before = 0
        writer = _ChapterWriter(
            tags, layout, manifest, options, sound, track_total, timed, reporter
        )
        with SynthPool(options.engine, cache, options.jobs) as pool, writer:
            for position, (chapter_analysis, lines, result) in enumerate(todo, 1):
                writer.raise_failure()
                reporter.chapter_started(position, len(todo), result.title, len(lines))

                def on_progress(done: int, _total: int, before: int = clips_before) -> None:
                    reporter.clips_done(min(before + done, clips_total), clips_total)

                with timed("synthesize"):
                    try:
                        synthesized = pool.synthesize(lines, on_progress=on_progress)
                    except EngineError as exc:  # its line numbers count within the chapter
                        raise EngineError(
                            f"chapter {result.number} ({result.title}): {exc}"
                        ) from exc
                clips_before += len(lines)
                reporter.clips_done(clips_before, clips_total)
                summary.clips_synthesized += synthesized.synthesized
                summary.clips_reused += synthesized.reused
                summary.warnings += [
                    f"chapter {result.number}: {r}"
                    for r in (*synthesized.retries, *synthesized.warnings)
                ]
                # Encoded in the background while the next chapter is being synthesized.
                writer.submit(chapter_analysis.chapter, lines, synthesized.clips, result)
        summary.written += sorted(writer.written)  # chapter order (encoders finish in any)

    for result in summary.chapters:
        if result.loudness is not None:
            summary.warnings += [
                f"chapter {result.number}: {problem}"
                for problem in result.loudness.problems(sound.loudness_lufs)
            ]
    if options.only_chapters is not None:  # the book's own files wait for a whole render
        summary.elapsed_s = time.perf_counter() - started
        return summary

    reporter.stage("package")
    with timed("package"):
        _package(tags, summary, manifest, layout, fmt)
        if options.epub:
            summary.epub_path = _write_read_along(tags, summary, layout, manifest, fmt)
        if options.feed_url is not None and layout.mp3_dir is not None:
            summary.feed_path = _write_feed(tags, summary, layout.mp3_dir, options.feed_url)
        _drop_stale_state(layout, summary.chapters)
        with contextlib.suppress(OSError):  # a full cache is no reason to fail a finished render
            cache.prune(options.cache_max_bytes)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _read_if_exists(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _tags_key(tags: Tags) -> list[object]:
    """Everything in tags that ends up in a file (the cover by its hash)."""
    cover = hashlib.sha256(tags.cover).hexdigest() if tags.cover else None
    return [
        tags.title, tags.album, tags.artist, tags.track, tags.track_total, cover,
        tags.narrator, tags.year, tags.description, tags.series, tags.series_part, tags.language,
    ]  # fmt: skip


@dataclass(frozen=True)
class _ChapterRecord:
    """What narrator keeps of a rendered chapter: its length and cues (for the book's
    transcript and the read-along), named by the chapter's fingerprint."""

    duration_ms: int
    cues: tuple[Cue, ...]


def _record_path(layout: Layout, fingerprint: str) -> Path:
    return layout.records_dir / f"{fingerprint[:32]}.json"


def _part_path(layout: Layout, fingerprint: str) -> Path:
    """A chapter's AAC part of the M4B, named by what the chapter is made from."""
    return layout.parts_dir / f"{fingerprint[:32]}.m4a"


def _read_record(layout: Layout, fingerprint: str) -> _ChapterRecord | None:
    try:
        raw = json.loads(_record_path(layout, fingerprint).read_text("utf-8"))
        cues = tuple(Cue(int(s), int(e), str(who), str(text)) for s, e, who, text in raw["cues"])
        return _ChapterRecord(int(raw["duration_ms"]), cues)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(layout: Layout, fingerprint: str, record: _ChapterRecord) -> None:
    payload = {
        "duration_ms": record.duration_ms,
        "cues": [[c.start_ms, c.end_ms, c.speaker, c.text] for c in record.cues],
    }
    path = _record_path(layout, fingerprint)
    with atomic_path(path) as tmp_path:
        tmp_path.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")


def _is_current(result: ChapterResult, layout: Layout, manifest: _Manifest, fmt: Format) -> bool:
    """Whether every file the chapter needs in this format is there and made from the same."""
    if fmt.m4b and not _part_path(layout, result.fingerprint).exists():
        return False
    if result.mp3_path is not None and result.vtt_path is not None:
        return (
            manifest.is_current(result.mp3_path, result.vtt_path, result.mp3_fingerprint)
            and result.vtt_path.with_suffix(".srt").exists()
        )
    return True


def _only_tags_changed(
    result: ChapterResult, layout: Layout, manifest: _Manifest, fmt: Format
) -> bool:
    """Whether the chapter's MP3 holds the right audio and only its tags are out of date."""
    if result.mp3_path is None or result.vtt_path is None:
        return False
    if fmt.m4b and not _part_path(layout, result.fingerprint).exists():
        return False
    return (
        manifest.intact(result.mp3_path)
        and result.vtt_path.with_suffix(".srt").exists()
        and manifest.audio(result.mp3_path) == result.fingerprint
    )


class _ChapterWriter:
    """Stitches and encodes chapters on background threads while synthesis goes on."""

    def __init__(
        self,
        tags: Tags,
        layout: Layout,
        manifest: _Manifest,
        options: RenderOptions,
        sound: Sound,
        track_total: int,
        timed: _Timer,
        reporter: Reporter,
    ) -> None:
        self.tags = tags
        self.layout = layout
        self.manifest = manifest
        self.options = options
        self.sound = sound
        self.track_total = track_total
        self.timed = timed
        self.reporter = reporter
        self.written: list[Path] = []
        self.lock = threading.Lock()
        # ffmpeg runs in its own process: threads are enough to encode chapters side by side.
        self.executor = ThreadPoolExecutor(
            max(1, options.jobs), thread_name_prefix="narrator-encode"
        )
        self.futures: list[Future[None]] = []
        self.failed = threading.Event()

    def __enter__(self) -> _ChapterWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self.failed.set()  # what is queued is dropped; what runs finishes atomically
        self.executor.shutdown(wait=True)
        if exc_type is None:
            for future in self.futures:
                future.result()

    def submit(
        self, chapter: Chapter, lines: list[Line], clips: Sequence[Clip], result: ChapterResult
    ) -> None:
        self.futures.append(self.executor.submit(self._write, chapter, lines, clips, result))

    def raise_failure(self) -> None:
        """Re-raise the error of a chapter that failed, so the run stops early."""
        for future in self.futures:
            if future.done():
                future.result()

    def _write(
        self, chapter: Chapter, lines: list[Line], clips: Sequence[Clip], result: ChapterResult
    ) -> None:
        if self.failed.is_set():
            return
        fmt = self.options.format
        token = secrets.token_hex(4)
        wav_path = self.layout.work_dir / f"{result.fingerprint[:32]}.{token}.wav"
        part = _part_path(self.layout, result.fingerprint) if fmt.m4b else None
        written: list[Path] = []
        try:
            sound = self.sound
            with self.timed("stitch"):
                stitched = stitch_chapter(
                    clips,
                    lines,
                    wav_path,
                    tail_ms=round(sound.pauses.tail_s * 1000),
                    room_tone_db=sound.room_tone_db,
                )
                cues = stitched.cues
            mastering = mastering_for(stitched.loudness_lufs, sound.loudness_lufs)
            with self.timed("encode"):
                if result.mp3_path is not None and result.vtt_path is not None:
                    tags = chapter_tags(self.tags, chapter, self.track_total)
                    # The M4B's part comes from the WAV too: one lossy step, not two.
                    result.duration_ms = encode_mp3(
                        wav_path,
                        result.mp3_path,
                        tags,
                        sound.bitrate_kbps,
                        m4b_part=part,
                        mastering=mastering,
                        sample_rate_hz=sound.sample_rate_hz,
                    )
                    srt_path = write_transcripts(cues, result.vtt_path)
                    written += [result.mp3_path, result.vtt_path, srt_path]
                elif part is not None:
                    encode_m4b_part(wav_path, part, mastering=mastering)
                    result.duration_ms = probe_duration_ms(wav_path)
            checked = result.mp3_path or part  # the MP3, else the M4B's part (--format m4b)
            if sound.check_loudness and checked is not None:
                with self.timed("check"):
                    result.loudness = measure_loudness(checked)
            _write_record(
                self.layout, result.fingerprint, _ChapterRecord(result.duration_ms, tuple(cues))
            )
        except BaseException:
            self.failed.set()
            raise
        finally:
            wav_path.unlink(missing_ok=True)
        result.status = "rendered"
        if result.mp3_path is not None:
            self.manifest.record(
                result.mp3_path, result.mp3_fingerprint, result.duration_ms, result.fingerprint
            )
        with self.lock:
            self.written += written
        self.reporter.chapter_finished(result)


def _stitch_path(mp3_path: Path) -> Path:
    """A fresh name for the stitched WAV beside an MP3: never another run's, nor a planted link."""
    return mp3_path.with_name(f".{mp3_path.stem}.{secrets.token_hex(4)}.wav.tmp")


def _package(
    tags: Tags, summary: RenderSummary, manifest: _Manifest, layout: Layout, fmt: Format
) -> None:
    """The playlist and metadata of the MP3s, the M4B with its transcript, when changed."""
    chapters = summary.chapters
    name = safe_file_name(tags.album)
    if layout.mp3_dir is not None:
        m3u_path = layout.mp3_dir / f"{name}.m3u"
        entries = [(ch.mp3_path, ch.title, ch.duration_ms) for ch in chapters if ch.mp3_path]
        playlist_fp = _hash(json.dumps([(p.name, t, d) for p, t, d in entries]))
        if not manifest.is_current(m3u_path, None, playlist_fp):
            write_m3u(entries, m3u_path)
            manifest.record(m3u_path, playlist_fp, 0)
            summary.written.append(m3u_path)
        summary.m3u_path = m3u_path
        times = _chapter_times([(ch.title, ch.duration_ms) for ch in chapters])
        _write_if_changed(summary, layout.mp3_dir / ABS_METADATA_NAME, tags, times)
    if layout.m4b_dir is None:
        return
    m4b_path = layout.m4b_dir / f"{name}.m4b"
    parts = [(_part_path(layout, ch.fingerprint), ch.title) for ch in chapters]
    m4b_fp = _hash(json.dumps([[p.name, t] for p, t in parts] + _tags_key(tags)))
    vtt_path = m4b_path.with_suffix(".vtt")
    if not manifest.is_current(m4b_path, vtt_path, m4b_fp):
        times = join_m4b(parts, m4b_path, tags)
        cues: list[Cue] = []
        for chapter, (_, start_ms, _) in zip(chapters, times, strict=True):
            record = _read_record(layout, chapter.fingerprint)
            cues += shift_cues(record.cues if record else (), start_ms)
        srt_path = write_transcripts(cues, vtt_path)
        manifest.record(m4b_path, m4b_fp, summary.duration_ms)
        summary.written += [m4b_path, vtt_path, srt_path]
        _write_if_changed(summary, layout.m4b_dir / ABS_METADATA_NAME, tags, times)
    summary.m4b_path = m4b_path


ABS_METADATA_NAME = "metadata.json"  # Audiobookshelf's own metadata file, beside the audio


def _chapter_times(chapters: Sequence[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(title, start_ms, end_ms) of chapters played one after the other."""
    times, start_ms = [], 0
    for title, duration_ms in chapters:
        times.append((title, start_ms, start_ms + duration_ms))
        start_ms += duration_ms
    return times


def _write_if_changed(
    summary: RenderSummary, path: Path, tags: Tags, times: Sequence[tuple[str, int, int]]
) -> None:
    before = _read_if_exists(path)
    write_abs_metadata(path, tags, times)
    if _read_if_exists(path) != before:
        summary.written.append(path)


def _write_read_along(
    tags: Tags, summary: RenderSummary, layout: Layout, manifest: _Manifest, fmt: Format
) -> Path:
    """The read-along EPUB beside the first product, when anything in it changed."""
    chapters = []
    for chapter in summary.chapters:
        record = _read_record(layout, chapter.fingerprint)
        audio = chapter.mp3_path if chapter.mp3_path else _part_path(layout, chapter.fingerprint)
        chapters.append(
            ReadAlongChapter(chapter.title, audio, record.duration_ms if record else 0,
                             record.cues if record else ())
        )  # fmt: skip
    epub_path = layout.book_dir / f"{safe_file_name(tags.album)}.epub"
    epub_fp = _hash(
        json.dumps(
            [[c.title, c.audio_path.name, c.duration_ms] for c in chapters] + _tags_key(tags)
        )
        + "".join(_hash(repr(c.cues)) for c in chapters)
    )
    if not manifest.is_current(epub_path, None, epub_fp):
        write_read_along(chapters, epub_path, tags)
        manifest.record(epub_path, epub_fp, summary.duration_ms)
        summary.written.append(epub_path)
    return epub_path


def _write_feed(tags: Tags, summary: RenderSummary, mp3_dir: Path, base_url: str) -> Path:
    """The podcast feed beside the chapter MP3s."""
    items = [
        FeedItem(ch.number, ch.title, ch.mp3_path, ch.vtt_path, ch.duration_ms)
        for ch in summary.chapters
        if ch.mp3_path is not None and ch.vtt_path is not None
    ]
    feed_path = mp3_dir / FEED_NAME
    before = _read_if_exists(feed_path)
    write_feed(items, feed_path, tags, base_url)
    if _read_if_exists(feed_path) != before:
        summary.written.append(feed_path)
    return feed_path


def _drop_stale_state(layout: Layout, chapters: Sequence[ChapterResult]) -> None:
    """Parts and records of chapters no longer in the book (edited, or removed)."""
    in_use = {ch.fingerprint[:32] for ch in chapters}
    for folder in (layout.parts_dir, layout.records_dir):
        if folder.is_dir():
            for stale in folder.iterdir():
                if stale.stem not in in_use and not stale.name.startswith("."):
                    stale.unlink(missing_ok=True)


def chapter_tags(book_tags: Tags, chapter: Chapter, track_total: int) -> Tags:
    """ID3 tags of a chapter MP3: the book's, with the chapter's title and track number."""
    return replace(book_tags, title=chapter.title, track=chapter.number, track_total=track_total)


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')
# Invisible characters: controls, format characters (direction overrides such as U+202E,
# which make "x\u202egnp.mp3" display as "xmp3.png"), surrogates, private use, separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# File systems allow 255 bytes per name. The longest name narrator derives from a title is
# a temporary one: ".NNNN - <title>.m4b.<8 hex>.ffmeta" adds up to 28 bytes; the rest is
# room for later suffixes.
MAX_NAME_BYTES = 200


def safe_file_name(name: str, limit_bytes: int = MAX_NAME_BYTES) -> str:
    """A name usable as a file name on every common file system, at most limit_bytes in UTF-8."""
    cleaned = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES or ch in "\t\n\r"
    )
    cleaned = _UNSAFE.sub(" ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .")
    cut = cleaned.encode("utf-8")[:limit_bytes].decode("utf-8", errors="ignore")
    return cut.rstrip(" .") or "untitled"


def _prepare_out_dirs(layout: Layout, dry_run: bool, held: ExitStack) -> None:
    """Create the book's folders, lock the book for this run, clear what killed runs left."""
    if dry_run:
        return
    try:
        layout.work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{layout.state_dir}: cannot write narrator's state folder: {exc}"
        ) from exc
    # Locked before anything is removed: the files of a live run are not leftovers.
    held.enter_context(lock_folder(layout.state_dir, layout.book_dir))
    for product_dir in layout.product_dirs:
        _prepare_out_dir(product_dir, dry_run)
        # What narrator 0.1 kept beside the audio now lives in the state folder; rmtree
        # refuses a link (the error is ignored), so nothing is removed through one.
        shutil.rmtree(product_dir / ".m4b-parts", ignore_errors=True)
        (product_dir / ".narrator-manifest.json").unlink(missing_ok=True)
        _clear_leftovers(product_dir)
    try:
        for leftover in layout.work_dir.iterdir():  # WAVs of a run that was killed
            leftover.unlink(missing_ok=True)
        if layout.parts_dir.is_dir():
            _clear_leftovers(layout.parts_dir)
    except OSError as exc:
        raise OutputError(
            f"{layout.state_dir}: cannot write narrator's state folder: {exc}"
        ) from exc


def _prepare_out_dir(book_dir: Path, dry_run: bool) -> None:
    if dry_run:
        return
    for parent in (book_dir, *book_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent}: is a file, not a folder; choose another --out")
    try:
        book_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{book_dir}: cannot create the output folder ({exc.strerror})") from exc
    if not os.access(book_dir, os.W_OK):
        raise OutputError(f"{book_dir}: the output folder is not writable")


def _clear_leftovers(folder: Path) -> None:
    """Remove the temporary files a killed run left in `folder` (a link itself, not its target)."""
    for leftover in folder.iterdir():
        if _LEFTOVER.match(leftover.name):
            leftover.unlink(missing_ok=True)


# Temporary files of the stages (stitch, export, manifest): hidden, with a random token.
_LEFTOVER = re.compile(
    r"^\..+(\.[0-9a-f]{8}\.(part|ffmeta|png|jpe?g|img|concat|wav\.tmp)|\.wav\.tmp)$"
)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fingerprint(lines: Sequence[Line], keys: Sequence[str], sound: Sound) -> str:
    """Everything a chapter's audio depends on: when it is unchanged, so is the audio."""
    payload = {
        "version": narrator.__version__,
        "sound": [
            sound.sample_rate_hz,
            sound.loudness_lufs,
            sound.pauses.tail_s,
            sound.room_tone_db,
            MASTERING_VERSION,
        ],
        "lines": [
            [key, line.pause_before_ms, line.gain_db, line.weighting_db, line.speaker, line.display]
            for key, line in zip(keys, lines, strict=True)
        ],
    }
    return _hash(json.dumps(payload, sort_keys=True))


class _Manifest:
    """What each output file was made from, so unchanged files are not redone.

    Kept in the state folder; outputs are named relative to `base` (the folder above the
    book's folders).
    """

    def __init__(self, path: Path, base: Path) -> None:
        self.path = path
        self.base = base
        self.lock = threading.Lock()
        try:
            self.entries: dict[str, dict[str, object]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def _key(self, output: Path) -> str:
        return Path(os.path.relpath(output.absolute(), self.base.absolute())).as_posix()

    def fingerprint(self, output: Path) -> str | None:
        entry = self.entries.get(self._key(output))
        return str(entry["fingerprint"]) if entry else None

    def duration_ms(self, output: Path) -> int:
        entry = self.entries.get(self._key(output)) or {}
        value = entry.get("duration_ms", 0)
        return value if isinstance(value, int) else 0

    def audio(self, output: Path) -> str | None:
        """The fingerprint of the audio an output holds (for chapter MP3s)."""
        entry = self.entries.get(self._key(output)) or {}
        value = entry.get("audio")
        return value if isinstance(value, str) else None

    def intact(self, output: Path) -> bool:
        """Whether `output` is a file of the size recorded (a cut-short copy has the name only)."""
        if not output.is_file():
            return False
        size_bytes = (self.entries.get(self._key(output)) or {}).get("bytes")
        return size_bytes is None or size_bytes == output.stat().st_size

    def is_current(self, output: Path, companion: Path | None, fingerprint: str) -> bool:
        if not self.intact(output) or (companion is not None and not companion.is_file()):
            return False
        return self.fingerprint(output) == fingerprint

    def record(
        self, output: Path, fingerprint: str, duration_ms: int, audio: str | None = None
    ) -> None:
        with self.lock:  # chapters finish on several encoder threads
            entry: dict[str, object] = {
                "fingerprint": fingerprint,
                "duration_ms": duration_ms,
                "bytes": output.stat().st_size,
            }
            if audio is not None:
                entry["audio"] = audio
            self.entries[self._key(output)] = entry
            # A fresh temporary name, created exclusively: a link planted there is not followed.
            with atomic_path(self.path) as tmp_path:
                tmp_path.write_text(json.dumps(self.entries, indent=1, sort_keys=True), "utf-8")


def _speaking(analysis: Analysis) -> list[Character]:
    """Characters worth keeping in a cast file: the author's, and those who speak."""
    authored = {character.name for character in analysis.cast.characters}
    return [
        character
        for character in analysis.characters
        if character.name in authored or analysis.line_counts.get(character.name, 0) > 0
    ]


# ---------------------------------------------------------------------------- analyze, cast


@dataclass(frozen=True)
class AnalyzeReport:
    """`narrator analyze` and `narrator cast`: segments with speakers, characters with voices."""

    analysis: Analysis
    casting: Casting
    whole_text: bool  # True: one text file, offsets refer to the whole decoded file

    @property
    def warnings(self) -> list[str]:
        """Shared aliases, shared voices, stale corrections: worth a look, not errors."""
        return [
            *cast_warnings(self.analysis.cast),
            *self.casting.assignment.warnings,
            *(stale.message() for stale in self.analysis.stale),
        ]

    def parts(self) -> list[tuple[str | None, tuple[Segment, ...]]]:
        if self.whole_text:
            return [(None, self.analysis.chapters[0].segments)]
        return [(ch.chapter.title, ch.segments) for ch in self.analysis.chapters]

    def character_rows(self) -> list[dict[str, object]]:
        """Characters (and unnamed speakers) with aliases, gender, voice and line count."""
        counts = self.analysis.line_counts
        rows: list[dict[str, object]] = []
        named = set()
        for character in self.analysis.characters:
            named.add(character.name)
            rows.append(
                {
                    "name": character.name,
                    "aliases": list(character.aliases),
                    "gender": character.gender.value if character.gender else None,
                    "voice": self.casting.speaker_voice(character.name).voice_id,
                    "lines": counts.get(character.name, 0),
                }
            )
        for speaker, lines in counts.items():
            if speaker not in named:
                rows.append(
                    {
                        "name": speaker,
                        "aliases": [],
                        "gender": None,
                        "voice": self.casting.speaker_voice(speaker).voice_id,
                        "lines": lines,
                    }
                )
        rows.sort(key=lambda row: (-int(row["lines"]), str(row["name"])))  # type: ignore[call-overload]
        return rows

    def to_json(self) -> dict[str, object]:
        def seg(segment: Segment, line_id: str) -> dict[str, object]:
            return {
                "id": line_id,
                "start": segment.start,
                "end": segment.end,
                "kind": segment.kind.value,
                "speaker": segment.speaker if segment.kind.is_speech else None,
                "confidence": segment.confidence if segment.kind.is_speech else None,
                "evidence": list(segment.evidence) if segment.kind.is_speech else [],
                "text": segment.text,
            }

        def segs(ch: ChapterAnalysis) -> list[dict[str, object]]:
            return [seg(s, i) for s, i in zip(ch.segments, ch.ids, strict=True)]

        result: dict[str, object] = {}
        if self.whole_text:
            result["segments"] = segs(self.analysis.chapters[0])
        else:
            result["chapters"] = [
                {
                    "number": ch.chapter.number,
                    "title": ch.chapter.title,
                    "source": ch.chapter.source,
                    "segments": segs(ch),
                }
                for ch in self.analysis.chapters
            ]
        result["characters"] = [
            {k: row[k] for k in ("name", "aliases", "gender", "voice")}
            for row in self.character_rows()
        ]
        return result


def analyze_input(
    input_path: Path,
    cast_path: Path | None = None,
    voices_dirs: Sequence[Path] = (),
    lines_path: Path | None = None,
    *,
    corrections: Corrections | None = None,
) -> AnalyzeReport:
    """Analyze a file, folder or EPUB with its cast and line corrections (`narrator analyze`).

    `corrections`, when given, is used instead of reading them from `lines_path`.
    """
    whole_text = input_path.is_file() and input_path.suffix.lower() in TEXT_SUFFIXES
    if whole_text:
        text = read_text(input_path)
        chapter = Chapter(1, input_path.stem, text, str(input_path))
        book = Book(title=input_path.stem, chapters=(chapter,), source_path=input_path)
    else:
        book = load_book(input_path)
    cast, _, managed = resolve_cast(input_path, cast_path)
    if corrections is None:
        corrections = resolve_corrections(input_path, lines_path)
    analysis = analyze_book(book, cast, managed=managed, corrections=corrections)
    return AnalyzeReport(analysis, cast_book(analysis, voices_dirs), whole_text)


def write_cast_file(input_path: Path, cast_path: Path | None, report: AnalyzeReport) -> Path:
    """Create or update the cast file with every speaking character and its voice."""
    path = cast_path or default_cast_path(input_path)
    write_cast(path, _speaking(report.analysis), report.casting.assignment)
    return path


def list_voices(
    voices_dirs: Sequence[Path] = (), engine: str = "espeak"
) -> tuple[list[VoiceProfile], list[str]]:
    """The voice profiles, and the engine voices installed on this machine."""
    profiles = load_profiles(voices_dirs)
    return sorted(profiles.values(), key=lambda p: p.id), engine_voices(engine)


SAMPLE_TEXT = "Hello. This is how I sound when I read your story aloud. Do you like it?"


def preview_voice(
    profile_id: str,
    text: str | None,
    out_path: Path,
    engine: str = "espeak",
    voices_dirs: Sequence[Path] = (),
) -> Path:
    """Speak a line with one voice profile into an MP3, to audition it."""
    profiles = load_profiles(voices_dirs)
    if profile_id not in profiles:
        known = ", ".join(sorted(profiles))
        raise ConfigError(f"unknown voice profile '{profile_id}'; available: {known}")
    casting_voice = Casting(
        Assignment(narrator=profile_id, by_character={}), profiles, (), Cast()
    ).voice(profile_id)
    line = _sample_line(text or SAMPLE_TEXT, profile_id, casting_voice)
    _render_lines([line], out_path, engine, Tags(title=f"{profile_id} sample", album="narrator"))
    return out_path


def preview_characters(report: AnalyzeReport, out_dir: Path, engine: str = "espeak") -> list[Path]:
    """One short MP3 per main character, in its voice, with a line the character speaks."""
    rows = [row for row in report.character_rows() if int(row["lines"]) > 0][:12]  # type: ignore[call-overload]
    first_lines = first_spoken_lines(report)
    _prepare_out_dir(out_dir, False)
    paths = []
    for row in rows:
        name = str(row["name"])
        voice = report.casting.speaker_voice(name)
        text = f"{name}. " + first_lines.get(name, "This is my voice.")
        path = out_dir / f"{safe_file_name(name)}.mp3"
        _render_lines(
            [_sample_line(text, name, voice)], path, engine, Tags(name, "narrator preview")
        )
        paths.append(path)
    return paths


def first_spoken_lines(report: AnalyzeReport) -> dict[str, str]:
    """Each speaker's first line in the book: what a voice sample of them says."""
    first_lines: dict[str, str] = {}
    for _, segments in report.parts():
        for segment in segments:
            speaker = segment.speaker
            if segment.kind.is_speech and speaker and speaker not in first_lines:
                first_lines[speaker] = segment.text
    return first_lines


def speak_sample(
    text: str, speaker: str, voice: Voice, out_path: Path, engine: str = "espeak"
) -> Path:
    """Speak one line in one voice into an MP3 (an audition of a character's voice)."""
    line = _sample_line(text, speaker, voice)
    _render_lines([line], out_path, engine, Tags(speaker, "narrator sample"))
    return out_path


def _sample_line(text: str, speaker: str, voice: Voice) -> Line:
    return Line(
        segment_index=0,
        text=speakable_text(text) or SAMPLE_TEXT,
        display=text,
        speaker=speaker,
        voice_id=voice.voice_id,
        settings=voice.settings,
        gain_db=voice.gain_db,
        weighting_db=voice.weighting_db,
    )


def _render_lines(lines: list[Line], out_path: Path, engine: str, tags: Tags) -> None:
    if out_path.exists() and out_path.is_dir():
        raise OutputError(f"{out_path}: is a folder; give a file name ending in .mp3")
    check_engine(engine)
    check_tools()
    _prepare_out_dir(out_path.parent, False)
    with SynthPool(engine, ClipCache(), 1) as pool:
        result = pool.synthesize(lines)
    wav_path = _stitch_path(out_path)
    try:
        stitched = stitch_chapter(result.clips, lines, wav_path)
        mastering = mastering_for(stitched.loudness_lufs, DEFAULT_LOUDNESS_LUFS)
        encode_mp3(wav_path, out_path, tags, mastering=mastering)
    finally:
        wav_path.unlink(missing_ok=True)
