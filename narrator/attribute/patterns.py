"""Text patterns read by several kinds of evidence: compiled once, here."""

from __future__ import annotations

import re
from collections.abc import Collection

from narrator.lexicon import (
    ACTING_PARTS,
    NOUN_GENDER,
    QUOTE_STYLE_TAG_VERBS,
    SPEAKING_PARTS,
    TITLE_ABBREVIATIONS,
    TITLE_GENDER,
    any_of,
    person_nouns,
    word_set,
)
from narrator.names import UPPER

# After a name: `'s good lady`, `'s wife`: someone named by their relation to the one named.
_RELATED_RE = re.compile(r"['\u2019]s\s+(?:[a-z][\w-]*\s+){0,2}?(?P<noun>[a-z][\w-]*)\b")


def relative_after(text: str, pos: int, limit: int, more_nouns: Collection[str]) -> int | None:
    """Where `'s wife` after a name ending at pos ends: a person named by their relation to
    that name (`the baker's wife`, `Nico's mother`), who is someone else. A part of them that
    speaks or acts (`Tom's voice`, `Tom's hand`) is no one else. `more_nouns`: the nouns the
    text makes people of, besides the lexicon's."""
    m = _RELATED_RE.match(text, pos, limit)
    if m is None:
        return None
    noun = m.group("noun").lower()
    if noun in SPEAKING_PARTS or noun in ACTING_PARTS:
        return None
    if noun in NOUN_GENDER or noun in more_nouns or noun in person_nouns():
        return m.end()
    return None


# A sentence ends at .!? unless the word before is a title (`Mr. Poirot`).
SENT_END_RE = re.compile(
    rf"(?<![{UPPER}]){''.join(f'(?<!{t})' for t in TITLE_ABBREVIATIONS)}[.!?;]+(?=\s|$)"
)
NOUN_ALT = any_of(NOUN_GENDER)
# Words after which a name is an object, not a subject (`turned to Tom`, `from Tom's eyes`).
PREPOSITIONS = "to|at|with|on|upon|for|from|by|of"
AND_NAME_RE = re.compile(r"\s+(?:and|&)\s+")
# After an actor's name: `Tom frowned`, `Tom, pale,`, `Tom's voice rose` (`Tom s voice`),
# `Tom's eyes narrowed`: a part of them moving (not `Tom's sister laughed`).
ACTS_RE = re.compile(
    rf"\s+[a-z]|,|['\u2019 ]s\s+(?:\w+\s+)?(?:{'|'.join(sorted(ACTING_PARTS))})(?:\s+[a-z]|,)"
)
# Right before a name, the speaker saying it is theirs (`I'm Anne`, `my name is Oliver`,
# `I, Hercule Poirot, affirm`).
_SELF_NAMED_RE = re.compile(
    r"(?:\b(?:[Mm]y name(?:'s|\u2019s| is)|I'm|I\u2019m|I am|[Cc]all me|Name's|Name\u2019s|I,)\s+)$"
)
_POSSESSIVE_RE = re.compile(r"['\u2019]s\b")
# `"Ruby? It's Kettle."`: on the phone or at a door, the speaker saying who is there, when
# `It's` opens a sentence after a first one (a greeting, the listener's name) and the name
# ends it. A line opening with it announces someone as often (`"It's Rafe! Hush!"`), and
# `This is Mrs. Bell` introduces someone else.
_ITS_BEFORE_RE = re.compile(r"[.!?]\s+(?:It's|It\u2019s|It is)\s+$")
_SENTENCE_ENDS_RE = re.compile(r"[.!](?:\s|[\"\u201d]|$)")
# A full name opening a quotation as a sentence of its own (`"Ezra Tull. Nobody asked."`,
# `"Sissy Jupe, sir,"`) is the speaker saying who they are; `"Eli Marsh, you come home"` is
# not. A name opening with a title, an article or a possessive is an address (`"Mr. Hale."`,
# `"Lord Commander."`, `"Your Majesty."`), and so is one with an honorific (`"Han
# Ji-woo-ssi."`, `"Tanaka-senpai."`).
_NOT_FIRST_NAMES = frozenset(
    {"the", "a", "an", "your", "my", "our", "his", "her", "mister", "missus", "junior", "senior"}
    | {"young", "old", "little", "dear", "poor", "good"}
    | {t.lower() for t in TITLE_GENDER}
)
_HONORIFIC_END_RE = re.compile(r"-(?:ssi|nim|san|sama|kun|chan|senpai|sensei|dono)$", re.I)
_OPENS_QUOTE_RE = re.compile(r"[\s\"'\u201c\u2018\u2014-]*$")
_ALONE_AFTER_RE = re.compile(
    r"(?:,\s*(?:sir|ma['\u2019]am|madam|miss|your honou?r)\b)?"
    r"(?:[.,;]?\s*(?:[\"\u201d]|$)|\.\s+[A-Z])"
)


def says_own_name(text: str, start: int, end: int, floor: int) -> bool:
    """Does the name at start:end follow the speaker saying it is theirs (`I'm Kai`, `It's
    Kai.` on the phone), not someone else's (`I'm Kai's sister`), or is it a full name the
    quotation opens with as a sentence of its own (`"Ezra Tull. Nobody asked."`)? `floor`:
    where the quotation starts."""
    if _POSSESSIVE_RE.match(text, end):
        return False
    if _SELF_NAMED_RE.search(text, max(floor, start - 20), start):
        return True
    if _ITS_BEFORE_RE.search(text[max(floor, start - 12) : start]) and _SENTENCE_ENDS_RE.match(
        text, end
    ):
        return True
    words = text[start:end].split()
    return (
        len(words) > 1
        and words[0].rstrip(".").lower() not in _NOT_FIRST_NAMES
        and not _HONORIFIC_END_RE.search(words[-1])
        and _OPENS_QUOTE_RE.fullmatch(text, floor, start) is not None
        and _ALONE_AFTER_RE.match(text, end) is not None
    )


# Noun-phrase patterns kept compiled at once (one per chapter's person nouns, `mentions` and
# `tags`): a book's chapters mostly share them.
NOUN_PATTERNS = 32
# Someone nobody names: `one of the guards`, `two of his men`, `someone in the crowd`.
QUANTIFIERS = "one|some|two|three|several|a few|many|each|both|most|all|none"
INDEFINITE_PEOPLE = "someone|somebody|anyone|everyone|nobody"
# After a tag's subject, a verb that is nearly always a speech tag (`the herald said`).
SAID_AFTER_RE = re.compile(
    r"\s+(?:\w+ly\s+)?(?:" + "|".join(sorted(QUOTE_STYLE_TAG_VERBS)) + r")\b"
)
_LOOSE_DESC_RE = re.compile(
    rf"(?P<opener>(?:{QUANTIFIERS})\s+of\s+(?:the|his|her|their)\s+|(?:the|a|an|another)\s+)"
    r"(?P<words>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})"
    rf"|(?P<whole>(?:{QUANTIFIERS})\s+of\s+(?:them|us)|{INDEFINITE_PEOPLE})\b"
)
# Words that end a noun phrase (`the twins from the fridge`, `the ferryman and his son`).
_PHRASE_ENDS = word_set(
    "with from on in at and as who to of for by into over under behind near while then but "
    "his her their its the a an was were had has that which"
)


def loose_description(text: str, pos: int, limit: int) -> str | None:
    """`the twins`, `the long-legged ferryman`, `one of the gunners`, `another clerk`: a noun
    phrase of up to three words after its opener at pos; or `someone`, `one of them`."""
    m = _LOOSE_DESC_RE.match(text, pos, limit)
    if m is None:
        return None
    if m.group("whole"):
        return " ".join(m.group("whole").split())
    keep = m.group("opener").split()
    for w in m.group("words").split():
        if w in _PHRASE_ENDS:
            break
        keep.append(w)
    # `said the latter` points back at someone named: that is for turn-taking to read.
    if keep[-1] in _PHRASE_ENDS or keep[-1] in ("latter", "former"):
        return None
    return " ".join(keep)
