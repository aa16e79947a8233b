"""The attribution steps, in the order they run.

1. sieves (`sieves.py`): the author's corrections first, then speech tags, paragraph
   sharing, speech continued over paragraphs, actions, vocatives, turn-taking and the
   nearest-mention fallback give each quotation a first answer and the sieve that gave it;
2. candidates and evidence (`features.py`): for each quotation, the sieves' answer (a vote
   of its own, except an answer by turn-taking or the nearest name, `RESTATED`), people on
   stage, recent speakers, people addressed and the first-person narrator, each with the
   evidence for it (one small function per kind of evidence, listed in `EVIDENCE`), among it
   how the line's words sound like each one's tagged lines in the whole book (`idiolect.py`);
3. ranking (`ranker.py`): learned weights turn the evidence into a probability per
   candidate, in `ROUNDS` rounds, each after the first reading the answers of the round
   before for turn-taking and with the lines it was sure of in their speakers' samples of
   words; the runners-up are kept;
4. confidence (`calibrate.py`): what was decided and why (the winner's probability and
   margin, the kind of evidence, how far the nearest tag is) becomes the chance the line is
   right;
5. output: the segments with speaker, confidence, evidence and candidates; a quoted run
   holding two turns comes back as two segments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from narrator.attribute.cast_index import lists_walk_ons
from narrator.attribute.chapter import Chapter
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
    "explain_speakers",
    "guess_narrative_person",
    "lists_walk_ons",
    "sieve_book",
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
    sieved: Chapter | None = None,
) -> list[Segment]:
    """Fill in speaker, confidence, evidence and candidates on a chapter's speech segments.

    `fixed` maps the start offset of a speech segment to the speaker an author gave it (a
    correction): that segment keeps it with confidence 1.0, and turn-taking builds on it.
    `complete`: every speaker is one of `characters`, so no line goes to a walk-on of its
    own (None: when they list walk-ons by description, `lists_walk_ons`). `idiolects`: how
    the book's characters talk (`sieve_book`), else read from this chapter alone. `sieved`:
    this chapter as `sieve_book` left it (no `fixed` then), so its sieves do not run again.
    """
    return explain_speakers(
        text,
        segments,
        characters,
        narrative_person=narrative_person,
        fixed=fixed,
        complete=complete,
        idiolects=idiolects,
        sieved=sieved,
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
    sieved: Chapter | None = None,
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
    if sieved is not None and (fixed or sieves_off):
        raise ValueError("a sieved chapter was sieved without corrections, all sieves on")
    chapter = (
        sieved
        if sieved is not None
        else run_sieves(text, segments, characters, narrative_person, sieves_off, fixed, complete)
    )
    ctx = Context(chapter, idiolects)
    if RANKER not in disabled:
        rank(ctx)
    named = {q.start: q.sieve for q in chapter.quotes}
    for q in chapter.quotes:
        if q.split_at is not None:
            named[q.split_at] = Sieve.SPLIT
    return to_segments(chapter), named


@dataclass
class SievedBook:
    """Every chapter of a book as the sieves left it (None: a chapter without speech), and
    how the book's characters talk, read from them all (None: one chapter of speech, which
    reads its own as it is ranked, `features.Context`)."""

    chapters: list[Chapter | None]
    idiolects: Idiolects | None


def sieve_book(
    texts: Sequence[str],
    segments: Sequence[Sequence[Segment]],
    characters: Sequence[Character],
    *,
    narrative_person: int | None = None,
    complete: bool | None = None,
) -> SievedBook:
    """Run the sieves on every chapter first: characters keep their way of talking across
    chapters, so the lines tagged with each one's name anywhere in the book say how they
    talk. Each chapter is then ranked from where its sieves left it (`attribute_speakers`,
    `sieved`), not sieved twice."""
    chapters: list[Chapter | None] = [
        run_sieves(text, segs, characters, narrative_person, (), None, complete)
        if any(s.kind.is_speech for s in segs)
        else None
        for text, segs in zip(texts, segments, strict=True)
    ]
    talking = [chapter for chapter in chapters if chapter is not None]
    if len(talking) < 2:
        return SievedBook(chapters, None)
    return SievedBook(chapters, Idiolects.of_lines(x for ch in talking for x in lines(ch)))
