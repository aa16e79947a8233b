"""The narrative person: first, second or third, for a chapter or a whole book, and who "I" is.

`I` and `you` against he/she in narration (speech, notes and headings left out) decide; a text
that writes the pronoun as a lower-case `i` counts those too. A story told to `you` (a quest,
a reader insert) is in the second person: "you" is a character then, as "I" is in the first.
Point-of-view headings (`Kess's POV`) say who "I" is from there on."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

from narrator.attribute.cast_index import CastIndex
from narrator.attribute.quotes import SpanTest
from narrator.model import Kind, Segment
from narrator.names import name_key
from narrator.segment import decorated_name, segment_chapter

# `you`, `your`, `yours`, `yourself`: in a story told to `you`, the one it is told to.
SECOND_PERSON_RE = re.compile(r"\b[Yy]ou(?:rs?|rself)?\b")
_PRONOUN_RE = re.compile(rf"\b(?i:he|she)\b|\bI\b|(?P<you>{SECOND_PERSON_RE.pattern})")
# `i` as a word of its own (`i said`, `i'm`), not `i.e.` or a letter in a list: texts that
# write I in lower case, as messy web fiction does.
LOWER_I_RE = re.compile(r"(?<![\w'\u2019.(-])i(?![\w.)-])")
_LOWER_I_WORDS = 3  # this many lower-case `i`s make a text one that writes I so
# A chapter's own narration decides its person with this many I/you/he/she in it; below that a
# chapter of mostly dialogue says too little, and the book's person is the better guess.
# (A judgement, not a measurement: the dev sets hold no book that switches person.)
_PERSON_EVIDENCE = 40
_CHAPTERS_KEPT = 512  # chapters whose counts are kept (a long book's, with room to spare)
# `- - Kess's POV - -`, `Dren POV`, `POV: Dren`, `(Kess's point of view)`
_POV_RE = re.compile(
    r"(?:(?P<a>[^\W\d_][\w.-]*(?:\s+[^\W\d_][\w.-]*)?)(?:['\u2019][sS])?\s+"
    r"(?i:POV|P\.O\.V\.?|point of view)\b"
    r"|(?i:POV|point of view)\s*[:\-\u2014\u2013]\s*(?P<b>[^\W\d_][\w'\u2019.-]*))"
)
_POV_LINE = 60  # a point-of-view heading is a short line of its own


def chapter_person(text: str, segments: Sequence[Segment], book_person: int | None) -> int:
    """The chapter's own narration decides when it says enough; else the book's person."""
    first, second, third = _narration_persons(text, _not_narration(segments))
    if book_person is None or first + second + third >= _PERSON_EVIDENCE:
        return _person_of(first, second, third)
    return book_person


class PovSwitch(NamedTuple):
    """Where "I" changes, and to whom; `says_pov`: the heading says so (`Kess's POV`), not
    only names someone (`~ Kess ~`, which in a third-person chapter only starts a part)."""

    start: int
    name: str
    says_pov: bool


def pov_switches(segments: Sequence[Segment], cast: CastIndex) -> list[PovSwitch]:
    """Point-of-view headings (`Kess's POV`, `POV: Dren`, a cast member's `~ Kess ~`): where
    "I" changes, and to whom."""
    found = []
    for seg in segments:
        if seg.kind is not Kind.HEADING and len(seg.text) > _POV_LINE:
            continue
        m = _POV_RE.search(seg.text)
        bare = decorated_name(seg.text) if m is None and seg.kind is Kind.HEADING else None
        if m is None and bare is None:
            continue
        name = (m.group("a") or m.group("b") or "").strip() if m else bare or ""
        if name.isupper() and len(name) > 1:
            name = name.title()  # `ARIA'S POV`: a listener writes the name `Aria`
        known = cast.by_alias.get(name_key(name))
        if m is None and not known:
            continue  # `_REAPING_`, `-- I --`: a part's title, not a character's name
        found.append(PovSwitch(seg.start, known[0] if known else name, m is not None))
    return found


def _count_persons(text: str, outside: Callable[[int], bool]) -> tuple[int, int, int]:
    """`I`, `you` and he/she in the narration of text (`outside`: offsets that are not
    narration: speech, and the author's notes, which say `i` of the author)."""
    first = second = third = 0
    for m in _PRONOUN_RE.finditer(text):
        if outside(m.start()):
            continue
        if m.group("you"):
            second += 1
        elif m.group(0) == "I":
            first += 1
        else:
            third += 1
    if writes_lower_i(text):
        first += sum(not outside(m.start()) for m in LOWER_I_RE.finditer(text))
    return first, second, third


def _not_narration(segments: Sequence[Segment]) -> tuple[tuple[int, int], ...]:
    """The spans of speech, notes and headings: where `I` is not the storyteller's."""
    return tuple((s.start, s.end) for s in segments if s.kind is not Kind.NARRATION)


# Counted once per chapter: the book's person and each chapter's read the same counts.
@lru_cache(maxsize=_CHAPTERS_KEPT)
def _narration_persons(text: str, outside: tuple[tuple[int, int], ...]) -> tuple[int, int, int]:
    return _count_persons(text, SpanTest(list(outside)))


def writes_lower_i(text: str) -> bool:
    """Does the text write the pronoun I as a lower-case `i` (`i said`)?"""
    for found, _ in enumerate(LOWER_I_RE.finditer(text), start=1):
        if found >= _LOWER_I_WORDS:
            return True
    return False


def _person_of(first: int, second: int, third: int) -> int:
    """First (second) person when `I` (`you`) is common in narration relative to he/she, and
    the commoner of the two."""
    if second > first and second * 3 >= third and second >= 5:
        return 2
    return 1 if first * 3 >= third and first >= 5 else 3


def guess_narrative_person(
    texts: Sequence[str], segments: Sequence[Sequence[Segment]] | None = None
) -> int:
    """1, 2 or 3: the narrative person of a whole book (all its chapters' texts).

    attribute_speakers guesses it per chapter when not told; a short chapter can be
    mostly dialogue and guess wrong, so a caller with the whole book should pass this.
    `segments`: each text's segments, when the caller has them already.
    """
    first = second = third = 0
    for n, text in enumerate(texts):
        segs = segments[n] if segments is not None else segment_chapter(text)
        f, s, t = _narration_persons(text, _not_narration(segs))
        first, second, third = first + f, second + s, third + t
    return _person_of(first, second, third)
