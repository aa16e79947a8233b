"""Script: attributed segments + voices -> the lines to speak (list[Line]).

A segment becomes one line, or several sentence-sized lines when it is long (the engine is
slow and less reliable on long utterances, and short cues are easier to follow). Each line
carries the text the engine is given (markup removed, pronunciations applied) and the text
the transcript shows (the words of the chapter, as written).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

from narrator.lexicon import ABBREVIATIONS
from narrator.load.markup import unwrap_tags
from narrator.model import Cast, Kind, Line, Segment, VoiceSettings
from narrator.segment import is_separator

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

NARRATOR = "Narrator"
UNKNOWN_SPEAKER = "Unknown"
MAX_LINE_CHARS = 300  # sentences are grouped into lines up to this length
HARD_LINE_CHARS = 600  # a "sentence" longer than this is cut at a space

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKUP = re.compile(r"[*_~#|`\\^]+|\[|\]")
_SPACE = re.compile(r"\s+")
_SPEAKABLE = re.compile(r"[^\W_]")  # a letter or digit in any script


@dataclass(frozen=True)
class Voice:
    """What a speaker sounds like: a profile id, the engine settings and the stitch gain."""

    voice_id: str
    settings: VoiceSettings
    gain_db: float = 0.0
    weighting_db: float = 0.0  # for the stitcher's loudness estimate (Line.weighting_db)


VoiceFor = Callable[[Segment], tuple[str, Voice]]  # segment -> (speaker label, voice)
# segment -> the voices that say it together (`Casting.chorus`), () for one voice
ChorusFor = Callable[[Segment], Sequence[Voice]]


class PauseBefore(Protocol):
    """The pause policy (narrator.stitch.pause_before_ms)."""

    def __call__(
        self, prev: Line | None, line: Line, gap_text: str, *, prev_kind: Kind | None, kind: Kind
    ) -> int: ...


@lru_cache(maxsize=1)
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    # Imported here: importing nltk takes half a second, and only rendering splits sentences.
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def speakable_text(text: str, pronunciations: Sequence[tuple[str, str]] = ()) -> str:
    """What the engine is given for `text`: markup and control characters out, words in.

    Only HTML tags are markup here; anything else in angle brackets (a LitRPG "<Level Up!>",
    a key name "<Enter>") is spoken without its brackets.
    """
    text = _clean(text)
    if pronunciations:
        spoken = _pronunciation_map(tuple(pronunciations))
        text = _pronunciation_pattern(tuple(pronunciations)).sub(
            lambda m: spoken[m.group(0).lower()], text
        )
    text = _SPACE.sub(" ", text).strip()
    return text if _SPEAKABLE.search(text) else ""


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text)
    text = unwrap_tags(text)
    text = _URL.sub(" link ", text)
    return _MARKUP.sub(" ", text)


@lru_cache(maxsize=8)
def _pronunciation_pattern(pronunciations: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    words = sorted((w for w, _ in pronunciations), key=len, reverse=True)
    return re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
    )


@lru_cache(maxsize=8)
def _pronunciation_map(pronunciations: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # Cleaned as the text is: a tag or a control character in a cast file is not spoken either.
    return {w.lower(): _SPACE.sub(" ", _clean(spoken)) for w, spoken in pronunciations}


def split_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut text[start:end] into sentence-grouped spans of at most ~MAX_LINE_CHARS."""
    piece = text[start:end]
    if len(piece) <= MAX_LINE_CHARS:
        yield start, end
        return
    group_start: int | None = None
    group_end = 0
    for s, e in _sentence_spans(piece):
        if group_start is not None and e - group_start > MAX_LINE_CHARS:
            yield start + group_start, start + group_end
            group_start = None
        if group_start is None:
            group_start = s
        group_end = e
    if group_start is not None:
        yield start + group_start, start + group_end


def _sentence_spans(piece: str) -> Iterator[tuple[int, int]]:
    """Sentence spans covering `piece` from its first to its last character."""
    spans = list(_sentence_tokenizer().span_tokenize(piece)) or [(0, len(piece))]
    # Close the gaps (whitespace) so the spans cover the piece: nothing may be lost.
    bounds = [0] + [s for s, _ in spans[1:]] + [len(piece)]
    for s, e in pairwise(bounds):
        yield from _hard_split(piece, s, e)


def _hard_split(piece: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > HARD_LINE_CHARS:
        cut = piece.rfind(" ", start + HARD_LINE_CHARS // 2, start + HARD_LINE_CHARS)
        if cut <= start:
            cut = start + HARD_LINE_CHARS
        yield start, cut
        start = cut
    yield start, end


def is_read(segment: Segment, cast: Cast) -> bool:
    """Whether a segment is read aloud at all (headings and notes can be switched off; a
    scene separator is a pause, never words)."""
    if segment.kind is Kind.HEADING:
        return cast.read_headings and not is_separator(segment.text)
    if segment.kind is Kind.NOTE:
        return cast.read_notes
    return True


def build_lines(
    text: str,
    segments: Sequence[Segment],
    cast: Cast,
    voice_for: VoiceFor,
    pause_before: PauseBefore,
    chorus_for: ChorusFor | None = None,
) -> list[Line]:
    """The chapter's script: every spoken piece of every segment, with its voice and pause.

    A piece several characters say together (`chorus_for`) is one line per voice: the first
    as usual, the others marked `together`, each quieter so that together they are as loud
    as one voice.
    """
    lines: list[Line] = []
    prev_end = 0
    prev_kind: Kind | None = None
    for index, segment in enumerate(segments):
        if not is_read(segment, cast):
            continue
        speaker, voice = voice_for(segment)
        chorus = list(chorus_for(segment)) if chorus_for is not None else []
        if len(chorus) > 1:
            voice = chorus[0]
        share_db = -10 * math.log10(len(chorus)) if len(chorus) > 1 else 0.0
        for start, end in split_spans(text, segment.start, segment.end):
            spoken = speakable_text(text[start:end], cast.pronunciations)
            if not spoken:
                continue
            line = Line(
                segment_index=index,
                text=spoken,
                display=_SPACE.sub(" ", text[start:end]).strip(),
                speaker=speaker,
                voice_id=voice.voice_id,
                settings=voice.settings,
                gain_db=voice.gain_db + share_db,
                weighting_db=voice.weighting_db,
            )
            # The gap runs from the last spoken word to this line's first one, so that a
            # paragraph break at the end of the previous segment still counts.
            first = start + len(text[start:end]) - len(text[start:end].lstrip())
            gap = text[prev_end:first]
            pause = pause_before(
                lines[-1] if lines else None, line, gap, prev_kind=prev_kind, kind=segment.kind
            )
            lines.append(replace(line, pause_before_ms=pause))
            lines += [
                replace(
                    line,
                    voice_id=other.voice_id,
                    settings=other.settings,
                    gain_db=other.gain_db + share_db,
                    weighting_db=other.weighting_db,
                    together=True,
                )
                for other in chorus[1:]
            ]
            prev_kind = segment.kind
            prev_end = start + len(text[start:end].rstrip())
    return lines
