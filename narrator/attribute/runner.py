"""The attribution steps, in the order they run.

1. sieves (`sieves.py`): the author's corrections first, then speech tags, paragraph
   sharing, speech continued over paragraphs, actions, vocatives, turn-taking and the
   nearest-mention fallback give each quotation a first answer and the sieve that gave it;
2. candidates and evidence (`features.py`): for each quotation, the sieves' answer, people
   on stage, recent speakers, people addressed and the first-person narrator, each with the
   evidence for it (one small function per kind of evidence, listed in `EVIDENCE`), among it
   how the line's words sound like each one's tagged lines in the whole book (`idiolect.py`);
3. ranking (`ranker.py`): learned weights turn the evidence into a probability per
   candidate, twice, the second round reading the first round's answers for turn-taking;
   the runners-up are kept;
4. confidence (`calibrate.py`): what was decided and why (the winner's probability and
   margin, the kind of evidence, how far the nearest tag is) becomes the chance the line is
   right;
5. output: the segments with speaker, confidence, evidence and candidates; a quoted run
   holding two turns comes back as two segments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from narrator.attribute.cast_index import lists_walk_ons
from narrator.attribute.features import Context
from narrator.attribute.idiolect import Idiolects, lines
from narrator.attribute.person import guess_narrative_person
from narrator.attribute.quotes import NARRATOR, SIEVES, SYSTEM, Sieve
from narrator.attribute.ranker import rank
from narrator.attribute.sieves import run_sieves, to_segments
from narrator.model import Character, Segment

__all__ = [
    "NARRATOR",
    "RANKER",
    "SIEVES",
    "STEPS",
    "SYSTEM",
    "Sieve",
    "attribute_speakers",
    "book_idiolects",
    "explain_speakers",
    "guess_narrative_person",
    "lists_walk_ons",
]

# Steps that can be switched off to measure them (`disabled`): the sieves, and the ranker.
RANKER = "ranker"
STEPS: tuple[str, ...] = (*SIEVES, RANKER)


def attribute_speakers(
    text: str,
    segments: Sequence[Segment],
    characters: Sequence[Character],
    *,
    narrative_person: int | None = None,
    fixed: Mapping[int, str] | None = None,
    complete: bool | None = None,
    idiolects: Idiolects | None = None,
) -> list[Segment]:
    """Fill in speaker, confidence, evidence and candidates on a chapter's speech segments.

    `fixed` maps the start offset of a speech segment to the speaker an author gave it (a
    correction): that segment keeps it with confidence 1.0, and turn-taking builds on it.
    `complete`: every speaker is one of `characters`, so no line goes to a walk-on of its
    own (None: when they list walk-ons by description, `lists_walk_ons`). `idiolects`: how
    the book's characters talk (`book_idiolects`), else read from this chapter alone.
    """
    return explain_speakers(
        text,
        segments,
        characters,
        narrative_person=narrative_person,
        fixed=fixed,
        complete=complete,
        idiolects=idiolects,
    )[0]


def explain_speakers(
    text: str,
    segments: Sequence[Segment],
    characters: Sequence[Character],
    *,
    narrative_person: int | None = None,
    fixed: Mapping[int, str] | None = None,
    disabled: Collection[str] = (),
    complete: bool | None = None,
    idiolects: Idiolects | None = None,
) -> tuple[list[Segment], dict[int, Sieve]]:
    """attribute_speakers, plus the sieve that first named each speech segment (by start).

    `disabled` switches steps off to measure what each contributes: any of STEPS.
    """
    if not any(s.kind.is_speech for s in segments):
        return list(segments), {}
    unknown = set(disabled) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown step(s): {', '.join(sorted(unknown))}")
    sieves_off = {Sieve(step) for step in disabled if step != RANKER}
    chapter = run_sieves(text, segments, characters, narrative_person, sieves_off, fixed, complete)
    ctx = Context(chapter, idiolects)
    if RANKER not in disabled:
        rank(ctx)
    named = {q.start: q.sieve for q in chapter.quotes}
    for q in chapter.quotes:
        if q.split_at is not None:
            named[q.split_at] = Sieve.SPLIT
    return to_segments(chapter), named


def book_idiolects(
    texts: Sequence[str],
    segments: Sequence[Sequence[Segment]],
    characters: Sequence[Character],
    *,
    narrative_person: int | None = None,
    complete: bool | None = None,
) -> Idiolects | None:
    """How each character of a book talks, from the lines the sieves find tagged with their
    name in every chapter: characters keep their way of talking across chapters. None for a
    book with one chapter of speech: each chapter reads its own (`features.Context`)."""
    found: list[tuple[str | None, str]] = []
    talking = [
        (t, s) for t, s in zip(texts, segments, strict=True) if any(x.kind.is_speech for x in s)
    ]
    if len(talking) < 2:
        return None  # one chapter: its own lines are the book's (read as it is attributed)
    for text, segs in talking:
        chapter = run_sieves(text, segs, characters, narrative_person, set(), None, complete)
        found += lines(chapter)
    return Idiolects.of_lines(found)
