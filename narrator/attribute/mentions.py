"""People named in narration without a cast alias: descriptions, titles and `I` (or `you`).

`an old man`, `the bald man` (a nameless person, or the cast entry that is this description)
and `the duchess` (the cast character bearing that title), as `Mention`s. The cast's own
aliases are found by `CastIndex.mentions`, and `I` for the first-person narrator here too."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from narrator.attribute.cast_index import CastIndex
from narrator.attribute.patterns import NOUN_PATTERNS, SAID_AFTER_RE, loose_description
from narrator.attribute.person import LOWER_I_RE, SECOND_PERSON_RE
from narrator.attribute.quotes import Mention, SpanTest
from narrator.lexicon import (
    ACTING_PARTS,
    COMMON_TITLES,
    FUNCTION_WORDS,
    NOUN_GENDER,
    PERSON_BEATS,
    POSSESSIVE_GENDER,
    QUOTE_STYLE_TAG_VERBS,
    SPEAKING_PARTS,
    TITLE_GENDER,
    any_of,
    person_nouns,
)
from narrator.model import Gender
from narrator.names import UPPER

# Modifiers in a noun phrase are never these (`a look at the stranger` is no person).
_FUNCTION_WORDS = (
    "(?:the|a|an|at|of|and|or|to|in|on|with|where|who|which|that|was|is|by|for|from|"
    "some|his|her|their|into|upon|as)"
)


# Keyed by the nouns a chapter adds: bounded, as a batch of books brings new ones.
@lru_cache(maxsize=NOUN_PATTERNS)
def _noun_phrase(more_nouns: frozenset[str]) -> re.Pattern[str]:
    """A descriptive noun phrase: determiner, up to three modifiers, a person noun (one of
    the lexicon's, or of `more_nouns`: the head nouns of the cast's descriptions)."""
    nouns = any_of(more_nouns | NOUN_GENDER.keys())
    return re.compile(
        rf"\b(?P<det>(?i:the|a|an|one of the|his|her|my|our|their|that|this))\s+"
        rf"(?P<mods>(?:(?!{_FUNCTION_WORDS}\b)[a-z][\w-]*\s+){{0,3}}?)(?P<noun>(?i:{nouns}))\b"
    )


_NOT_INTRODUCING = {
    "in", "with", "like", "as", "of", "is", "was", "be", "been", "were", "are", "to", "for",
    "from", "such", "by", "at", "on", "into", "than", "became", "become", "seemed", "quite",
    "what", "about", "upon", "had", "has", "have", "not", "am", "being",
}  # fmt: skip
_DET_RE = re.compile(r"\b(?i:the|an?|one|his|her|my|our|their|that|this)\b")
# The first-person narrator in narration; also a lower-case `i` in texts that write it so.
_FIRST_PERSON_RE = re.compile(r"\b(?:I|me|my|myself)\b")
_FIRST_PERSON_OR_LOWER_I_RE = re.compile(rf"{_FIRST_PERSON_RE.pattern}|{LOWER_I_RE.pattern}")


# A speech tag right after a closing quote mark, naming someone by a noun phrase: `," said
# the steward`, `!" the herald said`. Its noun is a person's, whatever the lexicon knows.
_TAGGED_NOUN_RE = re.compile(
    rf"[\"\u201d'\u2019][ \t]*(?:(?:{'|'.join(QUOTE_STYLE_TAG_VERBS)})[ \t]+(?P<after>the\b)"
    rf"|(?P<before>the\b))"
)


def speaking_nouns(text: str) -> frozenset[str]:
    """Nouns the text makes speak in a tag (`said the steward`, `the herald said`): person
    nouns of this text, read from it as a reader learns who `the steward` is."""
    found = set()
    for m in _TAGGED_NOUN_RE.finditer(text):
        start = m.start("after") if m.group("after") else m.start("before")
        phrase = loose_description(text, start, min(len(text), start + 60))
        if phrase is None:
            continue
        if m.group("before") and not SAID_AFTER_RE.match(text, start + len(phrase)):
            continue
        words = phrase.split()
        while len(words) > 2 and words[-1].endswith(("ly", "ing", "ed")):
            words.pop()  # `said the old gentleman pettishly`, `the man said, wiping`
        noun = words[-1]
        if noun.isalpha() and noun not in FUNCTION_WORDS and not noun.endswith(("ly", "ing")):
            found.add(noun)
    return frozenset(found)


# `The steward bowed.`, `The receptionist doesn't even look up.`, `the clerk's eyes narrowed`.
_BEAT_NOUN_RE = re.compile(
    r"\b[Tt]he\s+(?:[a-z][\w-]*\s+){0,2}?(?P<noun>[a-z]{3,})"
    rf"(?:['\u2019]s\s+(?:{'|'.join(ACTING_PARTS)})\s+[a-z]+(?:ed|s)\b|\s+"
    r"(?:(?:just|only|even|finally|slowly|still|does(?:n['\u2019]t| not)|did(?:n['\u2019]t| not)|"
    r"does(?:n['\u2019]t| not) even|did(?:n['\u2019]t| not) even)\s+)?"
    rf"(?:{'|'.join(PERSON_BEATS)})\b)"
)
_NEVER_ACTING_NOUNS = FUNCTION_WORDS | ACTING_PARTS | SPEAKING_PARTS  # `the eyes smiled`


_ARTICLE_WORDS_RE = re.compile(
    r"(?:^|(?<=[.!?])[\"\u201d'\u2019]?\s+|\n\s*|,\s+)(?:[Tt]he|[Aa]n?)((?:\s+[a-z][a-z-]*){1,3})"
)


def known_nouns(text: str) -> frozenset[str]:
    """Nouns of people the text writes after an article opening a sentence or a clause
    (`The sailor laughed.`, `A lanky sailor`, `, the footman said nothing`) that are a
    person's in their commonest sense (`lexicon.person_nouns`)."""
    known = person_nouns()
    return frozenset(
        w for m in _ARTICLE_WORDS_RE.finditer(text) for w in m.group(1).split() if w in known
    )


def acting_nouns(text: str) -> frozenset[str]:
    """Nouns the text makes do what only people do (`The steward bowed.`): person nouns of
    this text, as `speaking_nouns` are."""
    found = set()
    for m in _BEAT_NOUN_RE.finditer(text):
        noun = m.group("noun")
        person_like = not noun.endswith(("ly", "ing", "ed"))
        if person_like and noun not in _NEVER_ACTING_NOUNS:
            found.add(noun)
    return frozenset(found)


def nameless_descriptions(
    text: str,
    cast: CastIndex,
    in_quote: SpanTest,
    mentions: Sequence[Mention],
    person_nouns: frozenset[str] = frozenset(),
) -> list[Mention]:
    """Nameless people in narration (`an old man`, `the bald man`) as mentions; a person is
    one of the lexicon's nouns, the cast's descriptions' or `person_nouns`."""
    found = []
    last_end = 0
    cast_at = {m.start for m in mentions if m.names}
    cast_end = {m.end: m for m in mentions if m.names and not m.narr}
    noun_phrase = _noun_phrase(cast.head_nouns | person_nouns)
    for start in _DET_RE.finditer(text):
        if start.start() < last_end:
            continue
        m = noun_phrase.match(text, start.start())
        if m is None:
            continue
        last_end = m.end()
        if in_quote(m.start()):
            continue
        det = m.group("det").lower()
        if det in POSSESSIVE_GENDER:
            continue
        noun = m.group("noun").lower()
        mods = m.group("mods").split()
        if any(w in ("of", "and", "or", "to", "in", "with", "was", "is") for w in mods):
            continue
        label = " ".join(["the", *mods, noun]) if det != "one of the" else m.group(0)
        # A cast entry that is this description (`a girl` for `the girl`) is who it is.
        names = tuple(cast.described(" ".join([*mods, noun]).lower()))
        if det == "one of the" or m.start() in cast_at:
            names = ()
        # `in a terrible voice`, `she was a beautiful woman`: nobody new on stage.
        prev_word = text[max(0, m.start() - 12) : m.start()].split()[-1:]
        introduces = det in ("a", "an") and not (
            prev_word and prev_word[0].lower().strip(",") in _NOT_INTRODUCING
        )
        named = cast_end.get(m.start() - 2) if text[m.start() - 2 : m.start()] == ", " else None
        if named is not None and det in ("a", "an"):
            # `our last guide, a fellow with quick eyes`: the same person, said again.
            names, introduces = named.names, False
        gender = cast.gender.get(names[0]) if len(names) == 1 else None
        found.append(
            Mention(
                m.start(),
                m.end(),
                names,
                label.lower(),
                gender or NOUN_GENDER.get(noun),
                False,
                indefinite=introduces,
            )
        )
    return found


def title_mentions(
    text: str, cast: CastIndex, in_quote: SpanTest, mentions: Sequence[Mention]
) -> list[Mention]:
    """`the duchess`, `the count` in narration: the cast character bearing that title."""
    # Not kinship or courtesy words: `the lady`, `the mother` may be anybody's.
    titles = [t for t in cast.by_title if len(t) > 2 and t not in COMMON_TITLES]
    if not titles:
        return []
    found = []
    taken = {m.start for m in mentions if m.names}
    alt = "|".join(sorted(titles, key=len, reverse=True))
    for m in re.finditer(rf"\b[Tt]he\s+(?:{alt})\b(?![ \t\n]+[{UPPER}])", text):
        if m.start() in taken or in_quote(m.start()):
            continue
        title = m.group(0).split()[-1]
        names = tuple(cast.by_title[title])
        gender = cast.gender.get(names[0]) if len(names) == 1 else None
        gender = gender or TITLE_GENDER.get(title.capitalize())
        found.append(Mention(m.start(), m.end(), names, "", gender, False, titled=True))
    return found


def storyteller_mentions(
    text: str,
    in_quote: SpanTest,
    lower_i: bool,
    narrator_at: Callable[[int], str],
    gender: Mapping[str, Gender | None],
    *,
    second: bool = False,
) -> list[Mention]:
    """`I`, `me`, `my` in narration (`you`, `your` when `second`): the character the story is
    told by (or to) there (`narrator_at`)."""
    found = []
    if second:
        first_person = SECOND_PERSON_RE
    else:
        first_person = _FIRST_PERSON_OR_LOWER_I_RE if lower_i else _FIRST_PERSON_RE
    for im in first_person.finditer(text):
        if not in_quote(im.start()):
            who = narrator_at(im.start())
            found.append(
                Mention(im.start(), im.end(), (who,), "", gender.get(who), False, narr=True)
            )
    return found
