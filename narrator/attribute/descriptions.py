"""Descriptive tags (sieve 3): who `the old man` is.

A cast alias or a title in a cast name (`the count`), a nameless person introduced as `an old
man` (kept as the noun phrase), else the latest character of that gender (one epithet, one
person; over the text, whom most of its other tags with the epithet name). Several people
(`said the guards`) and nouns the lexicon does not know as a person's (`chirped the twins`)
are speakers of their own."""

from __future__ import annotations

import bisect
import re
from collections import Counter

from narrator.attribute.chapter import Chapter
from narrator.attribute.patterns import INDEFINITE_PEOPLE, QUANTIFIERS, says_own_name
from narrator.attribute.pronouns import antecedent
from narrator.attribute.quotes import CONF_DESCRIPTIVE, CONF_GUESS, Quote, Sieve, TagKind
from narrator.lexicon import (
    NOUN_GENDER,
    PLURAL_PERSON_NOUNS,
    POSSESSIVE_GENDER,
    SPEAKING_PARTS,
)
from narrator.model import Gender
from narrator.names import name_key

# One epithet, one person over the text: an epithet guessed by gender alone gives way to
# whom at least USUAL_VOTES of the text's other tags with it name, USUAL_SHARE of them.
USUAL_VOTES = 4
USUAL_SHARE = 0.7
_DETERMINER_RE = re.compile(r"^(?i:the|a|an|one of the)\s+")
_SOMEONE_RE = re.compile(rf"(?i:(?:{QUANTIFIERS})\s+of|{INDEFINITE_PEOPLE}|another)\b")


def noun_gender(label: str) -> Gender | None:
    """The gender a nameless speaker's label says (`the bald man`), if any."""
    words = label.lower().split()
    return NOUN_GENDER.get(words[-1]) if words else None


def strip_det(phrase: str) -> str:
    return _DETERMINER_RE.sub("", phrase.strip()).lower()


def someone_new(phrase: str) -> bool:
    """`one of the guards`, `someone in the crowd`: a person never named, and never an
    epithet of someone known: the phrase is their label as it stands."""
    return _SOMEONE_RE.match(phrase) is not None


def nameless_label(phrase: str) -> str:
    """The label a nameless speaker goes by: `the bald man` (any article), `one of the
    guards`, `someone in the crowd`."""
    return " ".join(phrase.lower().split()) if someone_new(phrase) else "the " + strip_det(phrase)


def resolve_description(
    ch: Chapter, phrase: str, pos: int, exclude: str | None
) -> tuple[str, float]:
    """A descriptive subject: a cast alias, a known nameless person, or a cast guess."""
    norm = strip_det(phrase)
    if someone_new(phrase):
        # `one of the women`: a stranger, unless the cast lists them so (`One Of The Women`).
        listed = ch.cast.by_alias.get(name_key(phrase))
        if listed:
            return ch.pick(listed, pos), CONF_DESCRIPTIVE
        return nameless_label(phrase), CONF_DESCRIPTIVE - 0.1  # no guess to revise
    names = ch.cast.described(norm) or ch.cast.by_alias.get(name_key(phrase))
    noun = norm.split()[-1] if norm else ""
    gender = NOUN_GENDER.get(noun)
    if not names and noun in PLURAL_PERSON_NOUNS:
        # `said the guards`: several people at once, a speaker of their own.
        return "the " + norm, CONF_DESCRIPTIVE
    if phrase.split()[0].lower() in ("a", "an"):
        # `said a rough voice`: someone new, never an epithet of someone known.
        return (ch.pick(names, pos) if names else "the " + norm), CONF_DESCRIPTIVE
    if noun == "other" and ch.state.recent:
        # `said the other`: the party of the exchange who did not speak last.
        others = [r for r in reversed(ch.state.recent[-4:]) if r != exclude]
        if others:
            return others[0], CONF_GUESS
    if names and all(n in ch.cast.generic for n in names):
        # A character called `The Doctor` may be any doctor: `Doctor Losberne` first,
        # then a named one in the scene.
        titled = [n for n in ch.cast.by_title.get(noun, []) if n not in ch.cast.generic]
        if titled:
            return ch.pick(titled, pos), CONF_DESCRIPTIVE
        if all(ch.cast.gender.get(n) is None for n in names):
            # A description-only entry without a gender (`The Painter`) is as often an
            # epithet of someone named in the scene: that person, else the entry.
            guess = _epithet_guess(ch, norm, pos, gender, exclude)
            if guess is not None:
                return guess, CONF_GUESS
    if names:
        return ch.pick(names, pos), CONF_DESCRIPTIVE
    owner = phrase.split()[0].lower()
    if owner in POSSESSIVE_GENDER:
        if noun in SPEAKING_PARTS:
            # `his voice`: a part of the owner speaks, so the owner, of that gender.
            gender = POSSESSIVE_GENDER[owner]
        guess = antecedent(ch, pos, gender, exclude, window=3000, names_only=True, exclude_all=True)
        return (guess or phrase.lower()), CONF_GUESS
    any_titled = ch.cast.by_title.get(noun)
    if any_titled and len(norm.split()) == 1:
        return ch.pick(any_titled, pos), CONF_DESCRIPTIVE
    # Introduced as `an old man` earlier: that person (a cast alias, or nameless).
    intro = _introduced(ch, norm, pos)
    if intro is not None:
        names = ch.cast.descriptive.get(strip_det(intro))
        if names:
            return ch.pick(names, pos), CONF_DESCRIPTIVE
        return intro, CONF_DESCRIPTIVE
    if (noun not in NOUN_GENDER or noun in SPEAKING_PARTS) and phrase.split()[-1].islower():
        # Not a person noun we know (`the twins`, `the ferryman`): nothing says which cast
        # member it could be, so it is a speaker of its own.
        return "the " + norm, CONF_DESCRIPTIVE
    guess = _epithet_guess(ch, norm, pos, gender, exclude)
    return (guess or "the " + norm), CONF_GUESS


def _epithet_guess(
    ch: Chapter, norm: str, pos: int, gender: Gender | None, exclude: str | None
) -> str | None:
    """The named character an epithet (`the painter`) stands for, by gender and recency."""
    # One epithet means one person within a scene: reuse the last resolution nearby.
    last = ch.state.epithets.get(norm)
    if last is not None and pos - last[1] < 3000 and last[0] != exclude:
        ch.state.epithets[norm] = (last[0], pos)
        return last[0]
    guess = antecedent(ch, pos, gender, exclude, window=3000, names_only=True, exclude_all=True)
    if guess is None:
        return None
    ch.state.epithets[norm] = (guess, pos)
    return guess


def _introduced(ch: Chapter, norm: str, pos: int) -> str | None:
    """The label of a recent `a stout man` that `the man` at pos refers back to."""
    head = norm.split()[-1] if norm else ""
    mods = set(norm.split()[:-1])
    i = bisect.bisect_left(ch.mention_starts, pos) - 1
    while i >= 0 and pos - ch.mentions[i].start < 6000:
        m = ch.mentions[i]
        words = m.label.split()
        if m.indefinite and words[-1] == head:
            # `a man stepped out ... He was bald` -> `the bald man` is that man, and
            # keeps that one label (one voice) from then on.
            if m.start not in ch.state.nameless:
                ch.state.nameless[m.start] = m.label if mods <= set(words) else "the " + norm
            return ch.state.nameless[m.start]
        if m.names and m.start < pos - 2000:
            break
        i -= 1
    return None


def own_name(ch: Chapter, q: Quote) -> str | None:
    """The one cast member a quotation says is its speaker (`I'm Kai`, `call me Priya`)."""
    named = set()
    i = bisect.bisect_left(ch.mention_starts, q.start)
    while i < len(ch.mentions) and ch.mentions[i].start < q.end:
        m = ch.mentions[i]
        i += 1
        if m.names and says_own_name(ch.text, m.start, m.end, q.start):
            named.add(ch.pick(m.names, m.start))
    return named.pop() if len(named) == 1 else None


def self_introduced(ch: Chapter) -> None:
    """A nameless speaker who says who they are (`"I'm Kai," said the boy`) is that cast
    member in every line the chapter gave their label; an epithet guessed by gender gives
    way in that line. After the tags, before the author's corrections (which win)."""
    for q in ch.quotes:
        if q.tag is None or q.tag[0] is not TagKind.DESC or q.speaker is None:
            continue
        if not (q.guessed or q.speaker not in ch.cast.gender):
            continue
        who = own_name(ch, q)
        if who is None:
            continue
        label, guessed = q.speaker, q.guessed
        for other in ch.quotes if not guessed else [q]:
            if other.speaker == label and other.sieve is q.sieve:
                other.speaker, other.guessed = who, False


def self_named(ch: Chapter) -> None:
    """An untagged quotation in which the speaker says who they are (`But you can call me
    Priya.`) is theirs, whoever acts around it (`Toby snorted.`)."""
    for q in ch.quotes:
        if q.speaker is None and (who := own_name(ch, q)) is not None:
            q.speaker, q.confidence, q.sieve = who, CONF_DESCRIPTIVE, Sieve.SELF_NAMED


def usual_epithets(ch: Chapter) -> None:
    """An epithet guessed by gender alone (`said the old man`, the latest man named) is
    whom most of the text's other tags with that epithet name, when enough of them agree
    and the gender fits: one epithet, one person over the text, not only within a scene."""
    votes: dict[str, Counter[str]] = {}
    for q in ch.quotes:
        if q.tag is not None and q.tag[0] is TagKind.DESC and q.speaker is not None:
            votes.setdefault(strip_det(q.tag[1]), Counter())[q.speaker] += 1
    for q in ch.quotes:
        if not q.guessed or q.tag is None or q.tag[0] is not TagKind.DESC or q.speaker is None:
            continue
        others = votes[strip_det(q.tag[1])].copy()
        others[q.speaker] -= 1
        total = others.total()
        if total < USUAL_VOTES:
            continue
        who, n = others.most_common(1)[0]
        if who != q.speaker and n >= USUAL_SHARE * total and ch.fits_guess(q, who):
            q.speaker = who
