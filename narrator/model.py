"""Plain data passed between the pipeline stages.

load -> Book/Chapter; segment -> Segment; attribute -> Segment with speaker;
characters/casting -> Character, Cast; voices -> VoiceProfile; synth -> Line -> Clip;
stitch -> Cue; export -> files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    """What a stretch of chapter text is."""

    NARRATION = "narration"
    DIALOGUE = "dialogue"
    THOUGHT = "thought"
    HEADING = "heading"
    NOTE = "note"

    @property
    def is_speech(self) -> bool:
        """Dialogue and thought are spoken by a character; the rest by the narrator."""
        return self in (Kind.DIALOGUE, Kind.THOUGHT)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Age(StrEnum):
    """How old a voice sounds."""

    CHILD = "child"
    YOUNG = "young"
    ADULT = "adult"
    OLD = "old"


@dataclass(frozen=True)
class Chapter:
    """One chapter: its text decoded, newlines normalised to \\n, BOM dropped."""

    number: int  # 1-based position in the book
    title: str
    text: str
    source: str = ""  # where it came from (file path, EPUB item), for messages


@dataclass(frozen=True)
class Book:
    """A book or arc: ordered chapters and the metadata that goes into tags."""

    title: str
    chapters: tuple[Chapter, ...]
    author: str | None = None
    cover: bytes | None = None
    cover_mime: str | None = None  # "image/jpeg" or "image/png"
    source_path: Path | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch text[start:end] of a chapter, of one kind; speech has a speaker."""

    start: int
    end: int
    kind: Kind
    text: str
    speaker: str | None = None
    confidence: float | None = None  # 0..1, for dialogue and thought only
    # Why attribution chose the speaker, as short readable reasons (`tag: said Tom`).
    evidence: tuple[str, ...] = ()
    # The other likely speakers with their probabilities, most likely first.
    candidates: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Character:
    """A character of the book, as found in the text or named in a cast file."""

    name: str
    aliases: tuple[str, ...] = ()
    gender: Gender | None = None
    voice: str | None = None  # voice profile id
    # Per-character adjustments on top of the voice profile (None: the profile's own).
    rate_wpm: int | None = None
    pitch: int | None = None
    volume: float | None = None


@dataclass(frozen=True)
class BookInfo:
    """The cast file's [book] table: what tags, folder names and library scanners show.

    None means "not set": narrator falls back to what the input says (an EPUB's metadata,
    the folder name).
    """

    title: str | None = None
    author: str | None = None
    narrator: str | None = None  # the narrator credit, e.g. "narrator (espeak-ng)"
    series: str | None = None
    series_part: str | None = None  # "3" or "2.5": a position, kept as written
    year: int | None = None
    description: str | None = None
    language: str | None = None  # BCP 47, e.g. "en"
    cover: Path | None = None  # an image file; relative paths are from the cast file's folder


@dataclass(frozen=True)
class Pauses:
    """Silence between lines, in seconds (the cast file's [pauses] table), and what fills it.

    Shorter to longer: sentence < speaker change < paragraph < heading < scene break, and a
    chapter break (tail + head) longer than all of them.
    """

    head_s: float = 1.0  # before the first line of a chapter (ACX: 0.5-1 s of room tone)
    sentence_s: float = 0.4  # between sentences of one speaker
    speaker_change_s: float = 0.6  # where the voice changes inside a paragraph
    paragraph_s: float = 0.9
    heading_s: float = 1.3  # before and after a heading
    scene_break_s: float = 2.0  # a line of only symbols: "***", "* * *", "---"
    tail_s: float = 2.5  # after the last line (ACX: 1-5 s)
    room_tone_db: float | None = None  # noise at this level (dBFS RMS) instead of silence


@dataclass(frozen=True)
class Cast:
    """What an author says about a book: who is who, and how it is read."""

    characters: tuple[Character, ...] = ()
    narrator_voice: str | None = None  # voice profile id for narration
    thought_voice: str | None = None  # None: thoughts in the thinker's own voice
    pronunciations: tuple[tuple[str, str], ...] = ()  # (written, spoken), applied before synthesis
    read_headings: bool = True
    read_notes: bool = True
    path: Path | None = None  # the cast file this came from, if any
    book: BookInfo = field(default_factory=BookInfo)
    pauses: Pauses = field(default_factory=Pauses)
    # Every speaker is listed ([speakers] complete); None: an author's cast that lists
    # walk-ons by description is, the cast narrator keeps itself is not.
    complete: bool | None = None


@dataclass(frozen=True)
class VoiceFigures:
    """How a voice profile measured (bench/measure_voices.py), as opposed to how it is set."""

    pitch_hz: float  # median F0 of its speech
    pace_wpm: float  # words per minute inside its lines (trimmed clips)
    loudness_lufs: float  # integrated loudness of the reference text at gain 0
    weighting_db: float  # loudness_lufs minus the stitcher's plain-RMS estimate of it


@dataclass(frozen=True)
class VoiceProfile:
    """A named voice: an engine voice with rate, pitch and volume (one TOML file in voices/)."""

    id: str  # the file stem
    description: str
    engine_voice: str  # e.g. "gmw/en-us+f3"
    rate_wpm: int = 175
    pitch: int = 50  # 0..99
    volume: float = 1.0  # 0.0..1.0
    gain_db: float = 0.0  # trim in dB, on top of the level calibration from `measured`
    gender: Gender | None = None
    age: Age = Age.ADULT
    path: Path | None = None
    measured: VoiceFigures | None = None  # None: never measured, or measured with other settings


@dataclass(frozen=True)
class VoiceSettings:
    """Exactly what the engine is given for a clip (part of the clip's cache key)."""

    engine_voice: str
    rate_wpm: int
    pitch: int
    volume: float


@dataclass(frozen=True)
class Line:
    """One clip to speak: a segment, or a sentence-sized piece of a long one."""

    segment_index: int
    text: str  # what the engine is given (cleaned, pronunciations applied)
    display: str  # what the transcript shows
    speaker: str  # "Narrator" for narration, headings and notes
    voice_id: str
    settings: VoiceSettings
    gain_db: float = 0.0
    pause_before_ms: int = 0
    # The voice's K-weighted loudness minus its plain RMS level (VoiceFigures.weighting_db),
    # for the stitcher's estimate of the chapter's loudness.
    weighting_db: float = 0.0
    # Said at the same time as the line before, by another voice (a line several people say
    # together): the stitcher lays it over that line instead of after it.
    together: bool = False


@dataclass(frozen=True)
class Clip:
    """A synthesized line: a validated WAV file (22050 Hz, 16-bit, mono) in the clip cache."""

    key: str
    wav_path: Path
    duration_ms: int


@dataclass(frozen=True)
class Cue:
    """A transcript cue: who says what, when, in the chapter's audio."""

    start_ms: int
    end_ms: int
    speaker: str
    text: str


@dataclass(frozen=True)
class Tags:
    """Metadata written into audio files.

    The book's credits, series, year, description and language are those of `info`; its
    title, author and cover are written as album, artist and cover (the image's bytes).
    """

    title: str
    album: str
    artist: str | None = None
    track: int | None = None
    track_total: int | None = None
    cover: bytes | None = None
    cover_mime: str | None = None
    chapters: tuple[tuple[str, int, int], ...] = field(default=())  # (title, start_ms, end_ms)
    info: BookInfo = BookInfo()  # its narrator is the composer tag audiobook apps read
