"""Line ids: segments of a book's chapters -> a short stable name for each (`L3f9a2c`).

An id is `L`, then TEXT_DIGITS hex digits of a hash of the line's own words, then one hex
digit for the CONTEXT_WORDS words before it in the chapter and one for the words after it.
Offsets play no part: an id stays the same when other lines are edited, paragraphs are added
or removed, or a typo is fixed elsewhere. The text part lets a correction find its line again
when a neighbouring word changed, and the side of the context that did not change tells
identical lines apart then (narrator.corrections). Identical lines in identical surroundings
(a `"Yes."` between the same words twice), and the rare hash collision, get the next free
context digits, in book order, so ids are unique in a book.

A segment that attribution (or a correction) cut in two keeps its id for the first piece;
the pieces after it are `<id>.2`, `<id>.3`.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from narrator.model import Segment

PREFIX = "L"
TEXT_DIGITS = 4  # 65536 values: a chapter of 300 lines shares one by chance rarely
CONTEXT_DIGITS = 2  # one for the words before, one for those after: tells identical lines apart
CONTEXT_WORDS = 3  # "a little context": enough to tell two `"Yes."` apart
PIECE_SEPARATOR = "."
_WINDOW = 300  # characters searched for the context words (linear time on huge paragraphs)

_ID_RE = re.compile(
    rf"{PREFIX}[0-9a-f]{{{TEXT_DIGITS + CONTEXT_DIGITS},}}(?:\{PIECE_SEPARATOR}[2-9]\d*)?"
)
_QUOTES = str.maketrans("\u201c\u201d\u201e\u00ab\u00bb\u2018\u2019", '"""""\'\'')


def normalize(text: str) -> str:
    """The words of a text as ids see them: case, quote style and spacing do not count."""
    return " ".join(text.translate(_QUOTES).casefold().split())


def _digest(text: str, digits: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:digits]


def text_part(line_id: str) -> str:
    """The digits of an id that come from the line's own words."""
    return line_id[len(PREFIX) : len(PREFIX) + TEXT_DIGITS]


def context_part(line_id: str) -> tuple[str, str]:
    """The digits of an id that come from the words before and after the line."""
    at = len(PREFIX) + TEXT_DIGITS
    return line_id[at : at + 1], line_id[at + 1 : at + 2]


def base_id(line_id: str) -> str:
    """The id of the whole segment a piece id (`L3f9a2c.2`) belongs to."""
    return line_id.split(PIECE_SEPARATOR, 1)[0]


def piece_number(line_id: str) -> int:
    """1 for a whole segment or its first piece, n for `<id>.n`."""
    _, _, number = line_id.partition(PIECE_SEPARATOR)
    return int(number) if number else 1


def is_line_id(value: str) -> bool:
    """Whether `value` is shaped like a line id."""
    return _ID_RE.fullmatch(value) is not None


@dataclass
class IdSpace:
    """The ids given so far in a book, so that the next chapter's are different."""

    taken: set[str] = field(default_factory=set)
    # How many lines had the same words and surroundings: blank stretches between quotes
    # are thousands in a novel, and counting spares trying every number again.
    seen: dict[str, int] = field(default_factory=dict)


def line_ids(text: str, segments: Sequence[Segment], space: IdSpace | None = None) -> list[str]:
    """One id per segment of a chapter; `space` (ids of earlier chapters) is updated."""
    space = IdSpace() if space is None else space
    taken = space.taken
    ids = []
    for segment in segments:
        own = _digest(normalize(segment.text), TEXT_DIGITS)
        before = text[max(0, segment.start - _WINDOW) : segment.start].split()
        after = text[segment.end : segment.end + _WINDOW].split()
        context = _digest(normalize(" ".join(before[-CONTEXT_WORDS:])), 1) + _digest(
            normalize(" ".join(after[:CONTEXT_WORDS])), 1
        )
        first = candidate = PREFIX + own + context
        n = space.seen.get(first, 0) + 1
        while candidate in taken:
            # The n-th line with these words and surroundings: other context digits, and
            # more of them once two cannot tell that many apart.
            digits = CONTEXT_DIGITS if n <= 16**CONTEXT_DIGITS else CONTEXT_DIGITS + 4
            candidate = PREFIX + own + _digest(f"{context} #{n}", digits)
            n += 1
        space.seen[first] = n
        taken.add(candidate)
        ids.append(candidate)
    return ids


def piece_ids(base: Sequence[Segment], ids: Sequence[str], pieces: Sequence[Segment]) -> list[str]:
    """Ids of `pieces` (segments after attribution) from the ids of the `base` segments.

    Each piece lies inside one base segment: the first piece of a base segment takes its id,
    the next ones `<id>.2`, `<id>.3`.
    """
    starts = [segment.start for segment in base]
    result = []
    seen: dict[int, int] = {}
    for piece in pieces:
        index = max(0, bisect.bisect_right(starts, piece.start) - 1)
        seen[index] = seen.get(index, 0) + 1
        number = seen[index]
        result.append(ids[index] if number == 1 else f"{ids[index]}{PIECE_SEPARATOR}{number}")
    return result
