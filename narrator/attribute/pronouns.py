"""Pronouns: who `he`, `she` and `they` are (sieve 2, and the antecedent every sieve reads).

`antecedent` is the latest narration mention of a gender before a place, the subject of the
paragraph first, never an owner named mid-sentence (`took Edna's hand`); `described_subject`
is the one only described who opened the sentence before (`The stranger broke silence.`);
`answering` reads a pronoun tag in a running exchange as the one the turn before addressed;
`group_speaker` reads `they` as a group named in narration."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from narrator.attribute.chapter import Chapter
from narrator.attribute.patterns import AND_NAME_RE
from narrator.attribute.quotes import Quote
from narrator.lexicon import PLURAL_PERSON_NOUNS, PRONOUN_GENDER, said_together
from narrator.model import Gender

_POSSESSIVE_AFTER_RE = re.compile(r"['\u2019]s\b")
# Text before a mention ending where a sentence starts (`... the door. Then Tom`).
_SENTENCE_START_BEFORE_RE = re.compile(r"[.!?;]\s+(?:(?:Then|But|And|So)\s+)?$")


def antecedent(
    ch: Chapter,
    pos: int,
    gender: Gender | None,
    exclude: str | None,
    *,
    window: int = 2500,
    names_only: bool = False,
    narrator_ok: bool = False,
    exclude_all: bool = False,
    avoid: set[str] | frozenset[str] = frozenset(),
    described: bool = False,
) -> str | None:
    """The latest narration mention before pos whose gender fits (`exclude` only if alone).

    Nameless people count when introduced (`a boy`), or with `described` when only
    described (`the Sagitov boy`)."""
    i = bisect.bisect_left(ch.mention_starts, pos) - 1
    near_para = ch.para_at(pos) - 2
    skipped: str | None = None
    if gender is not None:
        # The subject of a sentence earlier in the same paragraph beats a later object.
        p_start = ch.para_starts[ch.para_at(pos)]
        j = i
        while j >= 0 and ch.mentions[j].start >= p_start:
            m = ch.mentions[j]
            j -= 1
            if m.in_quote or not m.names or m.narr or m.gender != gender:
                continue
            who = ch.pick(m.names, m.start)
            if who == exclude or who in avoid or ch.relative_after(m.end) is not None:
                continue
            if _opens_sentence(ch, m.start, p_start):
                return who
    while i >= 0 and pos - ch.mentions[i].start < window:
        m = ch.mentions[i]
        i -= 1
        if m.in_quote:
            continue
        if (names_only or not (m.indefinite or described)) and not m.names:
            continue
        if (m.narr and not narrator_ok) or (m.names and set(m.names) <= ch.cast.weak):
            # `the child` in narration: an epithet of someone named, not an antecedent.
            continue
        g = m.gender
        if gender is not None and g != gender:
            # Unknown gender is no fit either, named or not (`a voice called`): measured,
            # accepting it does worse (bench/RESULTS.md).
            continue
        who = ch.pick(m.names, m.start) if m.names else ch.state.nameless.get(m.start, m.label)
        if who in avoid or (m.names and ch.relative_after(m.end) is not None):
            continue  # `Nico's mother sat down`: the mother, not Nico
        if (
            gender is not None
            and _POSSESSIVE_AFTER_RE.match(ch.text, m.end)
            and not _opens_sentence(ch, m.start, ch.para_starts[ch.para_at(m.start)])
        ):
            continue  # `took Edna's hand`: the owner of an object, not the one acting
        if (
            exclude is not None
            and who == exclude
            and (exclude_all or skipped is None or ch.para_at(m.start) >= near_para)
        ):
            # Measured: a pronoun skips the last speaker's mentions in the last two
            # paragraphs (and one before), a description skips all of them.
            skipped = who
            continue
        return who
    return skipped


def _opens_sentence(ch: Chapter, pos: int, p_start: int) -> bool:
    """Does a mention at pos open a sentence (its paragraph's start is one)?"""
    lead = ch.text[max(p_start, pos - 30) : pos]
    if pos - 30 <= p_start:
        lead = ". " + lead
    return _SENTENCE_START_BEFORE_RE.search(lead) is not None


_DESCRIBED_REACH = 3000  # characters before a pronoun tag read for a described subject


def described_subject(ch: Chapter, pos: int, gender: Gender | None) -> str | None:
    """`The stranger broke silence. / "Were you looking for me," he said`: the latest person
    before a pronoun tag, when only described (a gender that fits or none, `the stranger`)
    and opening a sentence, in this paragraph or the narration paragraph before."""
    para = ch.para_at(pos)
    # The paragraph before, unless someone spoke in it (`said the old man` there speaks).
    floor = ch.para_starts[para if para == 0 or (para - 1) in ch.by_para else para - 1]
    # Within a page: a chapter written as one paragraph stays linear in time.
    floor = max(floor, pos - _DESCRIBED_REACH)
    i = bisect.bisect_left(ch.mention_starts, pos) - 1
    while i >= 0 and ch.mentions[i].start >= floor:
        m = ch.mentions[i]
        i -= 1
        if m.in_quote:
            continue
        if m.names or m.narr or m.indefinite:
            return None
        if m.gender not in (gender, None) or m.label.split()[-1] in PLURAL_PERSON_NOUNS:
            return None
        p_start = ch.para_starts[ch.para_at(m.start)]
        if not _opens_sentence(ch, m.start, p_start):
            return None
        return ch.state.nameless.get(m.start, m.label)
    return None


def answering(
    ch: Chapter, q: Quote, pronoun: str, last: str, before: Sequence[Quote]
) -> str | None:
    """`"Dorian," said Lord Henry, "..."` then `"...," he answered`: the one the turn
    before addressed answers, when the pronoun fits them and nobody else it addressed."""
    gender = PRONOUN_GENDER.get(pronoun)
    if gender is None:
        return None
    addressed = {v for x in before for v in x.vocatives if v != last and v not in q.vocatives}
    fits = [v for v in addressed if ch.cast.gender.get(v) == gender]
    return fits[0] if len(fits) == 1 else None


def group_speaker(ch: Chapter, pronoun: str, pos: int) -> str:
    """`"Open up!" they shouted`: several people at once, a speaker of their own, as
    `said the guards` is. `they` is the latest group named in narration in this paragraph
    or the one before (`The twins ran in. "Us!" they cried.`, `Ann and Bo ran in.`), else
    a group called `they`.
    A cast that gives `they` (or `we`) as a character's alias means that character: one
    person called `they`, or `we` lines read by the narrator."""
    known = ch.cast.by_alias.get(pronoun)
    if known:
        return ch.pick(known, pos)
    if pronoun == "they":
        floor = ch.para_starts[max(0, ch.para_at(pos) - 1)]
        i = bisect.bisect_left(ch.mention_starts, pos) - 1
        while i >= 0 and ch.mentions[i].start >= floor:
            m = ch.mentions[i]
            i -= 1
            if not m.names and not m.in_quote and m.label.split()[-1] in PLURAL_PERSON_NOUNS:
                return ch.state.nameless.get(m.start, m.label)
            first = ch.mentions[i] if i >= 0 else None
            if (
                m.names
                and not m.in_quote
                and first is not None
                and first.names
                and AND_NAME_RE.fullmatch(ch.text, first.end, m.start)
            ):
                # `Ann and Bo ran in. "Us!" they cried.`: the two of them.
                a, b = ch.pick(first.names, first.start), ch.pick(m.names, m.start)
                if a != b:
                    return said_together((a, b))
    return pronoun
