"""Analyze a book: Book + Cast -> Analysis (every chapter's segments with speakers) -> Casting.

The text stages composed: segment, attribute (with the author's line corrections) against one
set of characters for the whole book, then the voice for each speaker. Also where a book's
cast file and corrections are found, and which speech lines are doubtful enough to review.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from narrator.attribute import attribute_speakers, guess_narrative_person, lists_walk_ons
from narrator.casting import (
    Casting,
    assign_voices,
    cast_warnings,
    load_cast,
    merge_cast,
    validate_cast_voices,
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
from narrator.model import Book, Cast, Chapter, Character, Segment
from narrator.script import UNKNOWN_SPEAKER
from narrator.segment import segment_chapter
from narrator.voices import load_profiles

CAST_FILE_NAME = "cast.toml"


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


def lists_everyone(cast: Cast, *, managed: bool) -> bool:
    """Is every speaker in the cast? As the file says ([speakers] complete), else: an
    author's cast that lists walk-ons by description (`The Turnkey`) is; the cast narrator
    keeps itself is not (the walk-ons a correction named join it, and others still come)."""
    if cast.complete is not None:
        return cast.complete
    return not managed and lists_walk_ons(cast.characters)


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
    with _collector_paused():
        return _analyze_book(book, cast, managed, corrections)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a book is analysed: the analysis builds hundreds
    of thousands of objects that live to its end and leaves almost no cycles behind, and
    the collector kept scanning them (3% of a novel's analysis, counted by valgrind)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _analyze_book(
    book: Book, cast: Cast, managed: bool, corrections: Corrections | None
) -> Analysis:
    texts = [chapter.text for chapter in book.chapters]
    segments = [segment_chapter(text) for text in texts]  # once: the person and the lines
    # Told in the first or third person: decided once for the book, since a short chapter
    # of mostly dialogue says too little on its own.
    person = guess_narrative_person(texts, segments)
    characters = candidate_characters(cast, texts, managed=managed, person=person)
    corrected = correct_book(
        texts,
        characters,
        corrections or Corrections(),
        narrative_person=person,
        complete=lists_everyone(cast, managed=managed),
        segments=segments,
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


# Speech lines less certain than this are worth an author's look. Confidence is the chance a
# line is right (attribute/calibrate.py); leaving one book out, lines below 0.8 are 31% of the
# PDNC lines and hold 80% of the wrong ones, 30% and 83% in web fiction (bench/RESULTS.md,
# "Attribution, round 4").
REVIEW_THRESHOLD = 0.8


def is_doubtful(segment: Segment, threshold: float = REVIEW_THRESHOLD) -> bool:
    """A speech line whose speaker attribution is less certain than `threshold`."""
    return segment.kind.is_speech and is_below(segment.confidence, threshold)


def is_below(confidence: float | None, threshold: float = REVIEW_THRESHOLD) -> bool:
    """Whether a confidence is below the review threshold (no confidence: it is)."""
    return (confidence or 0.0) < threshold


def book_warnings(analysis: Analysis, casting: Casting) -> list[str]:
    """Shared aliases, shared voices, stale corrections: worth a look, not errors."""
    return [
        *cast_warnings(analysis.cast),
        *casting.assignment.warnings,
        *(stale.message() for stale in analysis.stale),
    ]


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


def cast_book(analysis: Analysis, voices_dirs: Sequence[Path] = ()) -> Casting:
    """Give every speaker a voice: the cast file's choices first, then stable defaults."""
    profiles = load_profiles(voices_dirs)
    validate_cast_voices(analysis.cast, profiles)
    # Only those who speak (and the author's own characters) take voices: who else is
    # mentioned must not change which voices the speakers and unnamed speakers get.
    speaking = speaking_characters(analysis)
    assignment = assign_voices(speaking, analysis.cast, profiles, analysis.line_counts)
    return Casting(assignment, profiles, analysis.characters, analysis.cast)


def speaking_characters(analysis: Analysis) -> list[Character]:
    """Characters worth keeping in a cast file: the author's, and those who speak."""
    authored = {character.name for character in analysis.cast.characters}
    return [
        character
        for character in analysis.characters
        if character.name in authored or analysis.line_counts.get(character.name, 0) > 0
    ]
