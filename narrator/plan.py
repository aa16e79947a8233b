"""Plan a render: RenderOptions + analysed, cast chapters -> one frozen ChapterPlan per chapter.

A chapter's plan holds its lines, their clip cache keys, its tags, the fingerprint of
everything its audio depends on, where its files go, and what the run must do with it
(render it, retag its MP3, or skip it because the manifest shows it is up to date).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import narrator
from narrator.analysis import Analysis
from narrator.casting import Casting
from narrator.encode import FFMPEG, Encoder
from narrator.export import MP3_BITRATE_KBPS
from narrator.files import safe_file_name
from narrator.layout import DEFAULT_FORMAT, Format, Layout
from narrator.master import DEFAULT_LOUDNESS_LUFS, MASTERING_VERSION, LoudnessCheck
from narrator.model import Cast, Chapter, Line, Pauses, Tags
from narrator.script import build_lines
from narrator.state import ChapterRecord, Manifest, part_path, read_record
from narrator.stitch import pause_before_ms
from narrator.synth import DEFAULT_ENGINE, clip_key, engine_id
from narrator.voices import VOICE_LEVEL_LUFS


class Preset(StrEnum):
    """Output presets: how chapters are encoded and checked."""

    DEFAULT = "default"  # small files to listen to: 64 kbit/s mono MP3 at espeak-ng's 22050 Hz
    ACX = "acx"  # 44.1 kHz, 192 kbit/s CBR, room tone, loudness and peaks checked and reported


@dataclass(frozen=True)
class RenderOptions:
    """How to render: where to, with which engine, how many workers."""

    out_dir: Path
    cast_path: Path | None = None  # None: the book's own cast.toml, written if missing
    engine: str = DEFAULT_ENGINE  # a name in the engine registry (narrator.synth.base)
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
    encoder: Encoder = FFMPEG  # narrator.encode.FakeEncoder() renders without ffmpeg


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


class ChapterStatus(StrEnum):
    """What a run does, or did, with a chapter."""

    RENDERED = "rendered"
    RETAGGED = "retagged"  # same audio, new tags
    SKIPPED = "skipped"  # up to date
    PLANNED = "planned"  # to render (a dry run stops here)


@dataclass(frozen=True)
class ChapterResult:
    """What happened to one chapter."""

    number: int
    title: str
    mp3_path: Path | None  # None when no MP3s are made (--format m4b)
    vtt_path: Path | None
    status: ChapterStatus
    lines: int
    duration_ms: int = 0
    clips_to_synthesize: int = 0
    fingerprint: str = ""  # of what the chapter's audio is made from
    mp3_fingerprint: str = ""  # of the audio, the MP3's tags and bitrate
    loudness: LoudnessCheck | None = None  # measured after encoding (--preset acx)


@dataclass(frozen=True)
class ChapterPlan:
    """One chapter ready to synthesize: its text, lines, cache keys and tags, and its result
    as planned (status PLANNED, or SKIPPED/RETAGGED when its audio is already there)."""

    chapter: Chapter
    lines: tuple[Line, ...]
    keys: tuple[str, ...]
    tags: Tags
    result: ChapterResult
    record: ChapterRecord | None = None  # kept by the render that made this audio, if any


def plan_chapters(
    analysis: Analysis,
    casting: Casting,
    book_tags: Tags,
    layout: Layout,
    manifest: Manifest,
    sound: Sound,
    options: RenderOptions,
) -> tuple[ChapterPlan, ...]:
    """Each chapter's lines, keys and fingerprints, and whether its files are up to date."""
    current_engine = engine_id(options.engine)
    pause_policy = functools.partial(pause_before_ms, pauses=sound.pauses)
    track_total = len(analysis.chapters)
    plans = []
    for chapter_analysis in analysis.chapters:
        chapter = chapter_analysis.chapter
        lines = build_lines(
            chapter.text,
            chapter_analysis.segments,
            analysis.cast,
            casting.voice_for,
            pause_policy,
            casting.chorus,
        )
        keys = [clip_key(line.text, line.settings, current_engine) for line in lines]
        fingerprint = chapter_fingerprint(lines, keys, sound)
        tags = chapter_tags(book_tags, chapter, track_total)
        stem = f"{chapter.number:02d} - {safe_file_name(chapter.title)}"
        result = ChapterResult(
            number=chapter.number,
            title=chapter.title,
            mp3_path=layout.mp3_dir / f"{stem}.mp3" if layout.mp3_dir else None,
            vtt_path=layout.mp3_dir / f"{stem}.vtt" if layout.mp3_dir else None,
            status=ChapterStatus.PLANNED,
            lines=len(lines),
            fingerprint=fingerprint,
            mp3_fingerprint=content_hash(
                json.dumps([fingerprint, sound.bitrate_kbps, tags_key(tags)])
            ),
        )
        record = read_record(layout, fingerprint)
        if record is not None and is_current(result, layout, manifest, options.format):
            result = replace(result, status=ChapterStatus.SKIPPED, duration_ms=record.duration_ms)
        elif record is not None and only_tags_changed(result, layout, manifest, options.format):
            # A dry run shows it as up to date: its audio is.
            status = ChapterStatus.SKIPPED if options.dry_run else ChapterStatus.RETAGGED
            result = replace(result, status=status, duration_ms=record.duration_ms)
        plans.append(ChapterPlan(chapter, tuple(lines), tuple(keys), tags, result, record))
    return tuple(plans)


def is_current(result: ChapterResult, layout: Layout, manifest: Manifest, fmt: Format) -> bool:
    """Whether every file the chapter needs in this format is there and made from the same."""
    if fmt.m4b and not part_path(layout, result.fingerprint).exists():
        return False
    if result.mp3_path is not None and result.vtt_path is not None:
        return (
            manifest.is_current(result.mp3_path, result.vtt_path, result.mp3_fingerprint)
            and result.vtt_path.with_suffix(".srt").exists()
        )
    return True


def only_tags_changed(
    result: ChapterResult, layout: Layout, manifest: Manifest, fmt: Format
) -> bool:
    """Whether the chapter's MP3 holds the right audio and only its tags are out of date."""
    if result.mp3_path is None or result.vtt_path is None:
        return False
    if fmt.m4b and not part_path(layout, result.fingerprint).exists():
        return False
    return (
        manifest.intact(result.mp3_path)
        and result.vtt_path.with_suffix(".srt").exists()
        and manifest.audio(result.mp3_path) == result.fingerprint
    )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chapter_fingerprint(lines: Sequence[Line], keys: Sequence[str], sound: Sound) -> str:
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
            + ([True] if line.together else [])
            for key, line in zip(keys, lines, strict=True)
        ],
    }
    return content_hash(json.dumps(payload, sort_keys=True))


def tags_key(tags: Tags) -> list[object]:
    """Everything in tags that ends up in a file (the cover by its hash)."""
    cover = hashlib.sha256(tags.cover).hexdigest() if tags.cover else None
    info = tags.info
    return [
        tags.title, tags.album, tags.artist, tags.track, tags.track_total, cover,
        info.narrator, info.year, info.description, info.series, info.series_part, info.language,
    ]  # fmt: skip


def chapter_tags(book_tags: Tags, chapter: Chapter, track_total: int) -> Tags:
    """ID3 tags of a chapter MP3: the book's, with the chapter's title and track number."""
    return replace(book_tags, title=chapter.title, track=chapter.number, track_total=track_total)
