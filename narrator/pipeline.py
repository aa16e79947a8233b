"""Compose the stages: load -> segment -> attribute -> cast -> synthesize -> stitch -> export.

`analyze_text` and `analyze_book` run the text stages; `render_book` runs them all, with the
clip cache, chapter skipping (a chapter whose lines, voices and tags did not change is not
redone), resuming after a kill, dry runs and progress reports. Nothing here prints: progress
goes to a `Reporter`, results come back as data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
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
    write_cast,
)
from narrator.characters import find_characters
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
    write_m3u,
    write_vtt,
)
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
    Cast,
    Chapter,
    Character,
    Clip,
    Kind,
    Line,
    Pauses,
    Segment,
    Tags,
    VoiceProfile,
    VoiceSettings,
)
from narrator.script import NARRATOR, UNKNOWN_SPEAKER, Voice, build_lines, speakable_text
from narrator.segment import segment_chapter
from narrator.stitch import pause_before_ms, stitch_chapter
from narrator.synth import ClipCache, SynthPool, check_engine, clip_key, engine_id, engine_voices
from narrator.synth.base import engine_class
from narrator.voices import (
    VOICE_LEVEL_LUFS,
    check_profile_voices,
    level_gain_db,
    load_profiles,
    weighting_db,
)

CAST_FILE_NAME = "cast.toml"
MANIFEST_NAME = ".narrator-manifest.json"
PARTS_DIR = ".m4b-parts"  # per-chapter AAC, joined into the M4B without re-encoding
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


def candidate_characters(cast: Cast, texts: Sequence[str], *, managed: bool) -> list[Character]:
    """The characters attribution chooses from.

    A cast file given with --cast is the author's list and is taken as it is; the book's own
    cast file (managed) is the list narrator keeps, so characters found in new chapters join it.
    """
    if cast.characters and not managed:
        return list(cast.characters)
    found = find_characters(texts)
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
    characters = candidate_characters(cast, texts, managed=managed)
    # Told in the first or third person: decided once for the book, since a short chapter
    # of mostly dialogue says too little on its own.
    person = guess_narrative_person(texts)
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


REVIEW_THRESHOLD = 0.6  # speech lines less certain than this are worth an author's look


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
    m4b: bool | None = None  # None: an M4B when the book has more than one chapter
    title: str | None = None  # the book's title in tags and folder names (default: found)
    author: str | None = None  # the artist tag (default: the EPUB's author)
    preset: Preset = Preset.DEFAULT
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS  # each chapter's integrated loudness
    lines_path: Path | None = None  # line corrections (default: beside the input)


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
    mp3_path: Path
    vtt_path: Path
    status: str  # "rendered", "skipped" (up to date), "planned" (dry run)
    lines: int
    duration_ms: int = 0
    clips_to_synthesize: int = 0
    fingerprint: str = ""  # of everything the chapter's files are made from
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
    cast_path: Path | None = None
    dry_run: bool = False
    doubtful_lines: int = 0  # speech lines below REVIEW_THRESHOLD (`narrator review` lists them)

    @property
    def duration_ms(self) -> int:
        return sum(chapter.duration_ms for chapter in self.chapters)

    def count(self, status: str) -> int:
        return sum(1 for chapter in self.chapters if chapter.status == status)


class Reporter:
    """Receives progress; the CLI shows it. The default shows nothing."""

    def stage(self, name: str) -> None: ...

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


def render_book(
    input_path: Path, options: RenderOptions, reporter: Reporter | None = None
) -> RenderSummary:
    """Render a chapter, folder of chapters or EPUB into chapter MP3s, transcripts and an M4B."""
    reporter = reporter or Reporter()
    started = time.perf_counter()
    if not options.dry_run:  # say what to install before any work, not after synthesis
        check_engine(options.engine)
        check_tools()
    stage_seconds: dict[str, float] = {}
    timed = _Timer(stage_seconds)

    reporter.stage("load")
    with timed("load"):
        book = load_book(input_path)
        book = replace(
            book, title=options.title or book.title, author=options.author or book.author
        )
    reporter.stage("analyze")
    with timed("analyze"):
        cast, cast_path, managed = resolve_cast(input_path, options.cast_path)
        corrections = resolve_corrections(input_path, options.lines_path)
        analysis = analyze_book(book, cast, managed=managed, corrections=corrections)
    with timed("cast"):
        casting = cast_book(analysis, options.voices_dirs)
        if not options.dry_run:
            # Recording every voice in the cast file is what keeps voices stable when
            # chapters are added; an author's own values are never changed.
            write_cast(cast_path, _speaking(analysis), casting.assignment)

    book_dir = options.out_dir / safe_file_name(book.title)
    summary = RenderSummary(
        book_title=book.title,
        book_dir=book_dir,
        cast_path=cast_path,
        dry_run=options.dry_run,
        stage_seconds=stage_seconds,
        warnings=[
            *cast_warnings(cast),
            *casting.assignment.warnings,
            *(stale.message() for stale in analysis.stale),
        ],
        doubtful_lines=count_doubtful(analysis),
    )
    _prepare_out_dir(book_dir, options.dry_run)

    cache = ClipCache()
    current_engine = engine_id(options.engine)
    sound = sound_for(options, cast)
    pause_policy = functools.partial(pause_before_ms, pauses=sound.pauses)
    manifest = _Manifest(book_dir / MANIFEST_NAME)
    total = len(analysis.chapters)
    track_total = total
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
            tags = chapter_tags(book, chapter, track_total)
            keys = [clip_key(line.text, line.settings, current_engine) for line in lines]
            fingerprint = _fingerprint(lines, keys, tags, sound)
            stem = f"{chapter.number:02d} - {safe_file_name(chapter.title)}"
            result = ChapterResult(
                number=chapter.number,
                title=chapter.title,
                mp3_path=book_dir / f"{stem}.mp3",
                vtt_path=book_dir / f"{stem}.vtt",
                status="planned",
                lines=len(lines),
                fingerprint=fingerprint,
            )
            if not lines:
                summary.warnings.append(
                    f"chapter {chapter.number} ({chapter.title}): nothing to read"
                )
            if manifest.is_current(result.mp3_path, result.vtt_path, fingerprint):
                result.status = "skipped"
                result.duration_ms = manifest.duration_ms(result.mp3_path)
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

    with_m4b = options.m4b if options.m4b is not None else total > 1
    todo = [plan for plan in plans if plan[2].status != "skipped"]
    if todo:
        with timed("synthesize"):
            check_voices_installed(casting, summary.lines_per_voice, options.engine)
        writer = _ChapterWriter(
            book, manifest, options, sound, track_total, timed, reporter, with_m4b
        )
        with SynthPool(options.engine, cache, options.jobs) as pool, writer:
            for position, (chapter_analysis, lines, result) in enumerate(todo, 1):
                writer.raise_failure()
                reporter.chapter_started(position, len(todo), result.title, len(lines))
                with timed("synthesize"):
                    try:
                        synthesized = pool.synthesize(lines, on_progress=reporter.clips_done)
                    except EngineError as exc:  # its line numbers count within the chapter
                        raise EngineError(
                            f"chapter {result.number} ({result.title}): {exc}"
                        ) from exc
                summary.clips_synthesized += synthesized.synthesized
                summary.clips_reused += synthesized.reused
                summary.warnings += [f"chapter {result.number}: {r}" for r in synthesized.retries]
                # Encoded in the background while the next chapter is being synthesized.
                writer.submit(chapter_analysis.chapter, lines, synthesized.clips, result)

    for result in summary.chapters:
        if result.loudness is not None:
            summary.warnings += [
                f"chapter {result.number}: {problem}"
                for problem in result.loudness.problems(sound.loudness_lufs)
            ]
    with timed("package"):
        _package(book, summary, manifest, book_dir, with_m4b)
    summary.elapsed_s = time.perf_counter() - started
    return summary


class _ChapterWriter:
    """Stitches and encodes chapters on background threads while synthesis goes on."""

    def __init__(
        self,
        book: Book,
        manifest: _Manifest,
        options: RenderOptions,
        sound: Sound,
        track_total: int,
        timed: _Timer,
        reporter: Reporter,
        with_m4b: bool,
    ) -> None:
        self.with_m4b = with_m4b
        self.book = book
        self.manifest = manifest
        self.options = options
        self.sound = sound
        self.track_total = track_total
        self.timed = timed
        self.reporter = reporter
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
        wav_path = result.mp3_path.with_name(f".{result.mp3_path.stem}.wav.tmp")
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
            with self.timed("encode"):
                tags = chapter_tags(self.book, chapter, self.track_total)
                # The M4B's part comes from the WAV too: one lossy step, not two.
                part = _m4b_part_path(result) if self.with_m4b else None
                result.duration_ms = encode_mp3(
                    wav_path,
                    result.mp3_path,
                    tags,
                    sound.bitrate_kbps,
                    m4b_part=part,
                    mastering=mastering_for(stitched.loudness_lufs, sound.loudness_lufs),
                    sample_rate_hz=sound.sample_rate_hz,
                )
            if sound.check_loudness:
                with self.timed("check"):
                    result.loudness = measure_loudness(result.mp3_path)
            write_vtt(stitched.cues, result.vtt_path)
        except BaseException:
            self.failed.set()
            raise
        finally:
            wav_path.unlink(missing_ok=True)
        result.status = "rendered"
        self.manifest.record(result.mp3_path, result.fingerprint, result.duration_ms)
        self.reporter.chapter_finished(result)


def _package(
    book: Book, summary: RenderSummary, manifest: _Manifest, book_dir: Path, with_m4b: bool
) -> None:
    """The M3U playlist and the M4B, when anything in them changed."""
    chapters = summary.chapters
    m3u_path = book_dir / f"{safe_file_name(book.title)}.m3u"
    entries = [(ch.mp3_path, ch.title, ch.duration_ms) for ch in chapters]
    playlist_fp = _hash(json.dumps([(p.name, t, d) for p, t, d in entries]))
    if not manifest.is_current(m3u_path, None, playlist_fp):
        write_m3u(entries, m3u_path)
        manifest.record(m3u_path, playlist_fp, 0)
    summary.m3u_path = m3u_path
    if not with_m4b:
        return
    m4b_path = book_dir / f"{safe_file_name(book.title)}.m4b"
    parts = [(_m4b_part_path(ch), ch.title) for ch in chapters]
    cover = hashlib.sha256(book.cover).hexdigest() if book.cover else None
    m4b_fp = _hash(json.dumps([[p.name, t] for p, t in parts] + [book.author, cover]))
    if not manifest.is_current(m4b_path, None, m4b_fp):
        for chapter, (part, _) in zip(chapters, parts, strict=True):
            if not part.exists():  # e.g. rendered before with --no-m4b
                part.parent.mkdir(exist_ok=True)
                encode_m4b_part(chapter.mp3_path, part)
        tags = Tags(
            title=book.title,
            album=book.title,
            artist=book.author,
            cover=book.cover,
            cover_mime=book.cover_mime,
        )
        join_m4b(parts, m4b_path, tags)
        manifest.record(m4b_path, m4b_fp, summary.duration_ms)
    summary.m4b_path = m4b_path
    in_use = {part.name for part, _ in parts}
    for stale in (book_dir / PARTS_DIR).glob("*.m4a"):
        if stale.name not in in_use:
            stale.unlink(missing_ok=True)


def _m4b_part_path(chapter: ChapterResult) -> Path:
    """A chapter's AAC part of the M4B, named by what the chapter is made from."""
    return chapter.mp3_path.parent / PARTS_DIR / f"{chapter.fingerprint[:32]}.m4a"


def chapter_tags(book: Book, chapter: Chapter, track_total: int) -> Tags:
    """ID3 tags of a chapter MP3."""
    return Tags(
        title=chapter.title,
        album=book.title,
        artist=book.author,
        track=chapter.number,
        track_total=track_total,
        cover=book.cover,
        cover_mime=book.cover_mime,
    )


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_file_name(name: str, limit: int = 80) -> str:
    """A name usable as a file name on every common file system."""
    cleaned = _UNSAFE.sub(" ", name)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .")
    return cleaned[:limit].rstrip(" .") or "untitled"


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
    for leftover in book_dir.iterdir():
        if _LEFTOVER.match(leftover.name):  # from a run that was killed
            leftover.unlink(missing_ok=True)


# Temporary files of the stages (stitch, export): hidden, with a random token.
_LEFTOVER = re.compile(r"^\..+(\.[0-9a-f]{8}\.(part|ffmeta|png|jpe?g)|\.wav\.tmp)$")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fingerprint(lines: Sequence[Line], keys: Sequence[str], tags: Tags, sound: Sound) -> str:
    """Everything a chapter's files depend on: when it is unchanged, so are they."""
    cover = hashlib.sha256(tags.cover).hexdigest() if tags.cover else None
    payload = {
        "version": narrator.__version__,
        "sound": [
            sound.bitrate_kbps,
            sound.sample_rate_hz,
            sound.loudness_lufs,
            sound.pauses.tail_s,
            sound.room_tone_db,
            MASTERING_VERSION,
        ],
        "tags": [tags.title, tags.album, tags.artist, tags.track, tags.track_total, cover],
        "lines": [
            [key, line.pause_before_ms, line.gain_db, line.weighting_db, line.speaker, line.display]
            for key, line in zip(keys, lines, strict=True)
        ],
    }
    return _hash(json.dumps(payload, sort_keys=True))


class _Manifest:
    """What each output file was made from, so unchanged files are not redone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        try:
            self.entries: dict[str, dict[str, object]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def fingerprint(self, output: Path) -> str | None:
        entry = self.entries.get(output.name)
        return str(entry["fingerprint"]) if entry else None

    def duration_ms(self, output: Path) -> int:
        entry = self.entries.get(output.name) or {}
        value = entry.get("duration_ms", 0)
        return value if isinstance(value, int) else 0

    def is_current(self, output: Path, companion: Path | None, fingerprint: str) -> bool:
        if not output.exists() or (companion is not None and not companion.exists()):
            return False
        return self.fingerprint(output) == fingerprint

    def record(self, output: Path, fingerprint: str, duration_ms: int) -> None:
        with self.lock:  # chapters finish on several encoder threads
            self.entries[output.name] = {"fingerprint": fingerprint, "duration_ms": duration_ms}
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)


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
    first_lines: dict[str, str] = {}
    for _, segments in report.parts():
        for segment in segments:
            speaker = segment.speaker
            if segment.kind.is_speech and speaker and speaker not in first_lines:
                first_lines[speaker] = segment.text
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
    wav_path = out_path.with_name(f".{out_path.name}.wav.tmp")
    try:
        stitched = stitch_chapter(result.clips, lines, wav_path)
        mastering = mastering_for(stitched.loudness_lufs, DEFAULT_LOUDNESS_LUFS)
        encode_mp3(wav_path, out_path, tags, mastering=mastering)
    finally:
        wav_path.unlink(missing_ok=True)
