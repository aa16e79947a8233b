"""What the sieves answer with: quotations, mentions of people, speech tags, the sieves.

The plain data every step shares and the closed sets it is told in: a `Quote` (where a
quotation stands, then the answer the sieves give it), a `Mention` of a person in the text,
what a speech tag names (`TagKind`) and where it stands (`TagSide`), the sieves (`Sieve`)
and their confidences before the ranker (`CONF_*`, see `sieves.py`)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from narrator.model import Gender

# The first-person narrator when the cast names none (an alias "I", or PDNC's "_narr").
NARRATOR = "Narrator"
SYSTEM = "System"  # who speaks a LitRPG system line (`segment.is_system_line`)
CONF_SYSTEM = 0.95  # a system line is known by its brackets

# Measured precision per sieve, rounded down (see the module docstring).
CONF_EXPLICIT = 0.95
CONF_CONTINUED = 0.9
CONF_VOCATIVE = 0.85
CONF_ACTION = 0.8
CONF_THOUGHT = 0.8  # an untagged thought in a first-person chapter is the narrator's
CONF_PRONOUN = 0.75
CONF_TURN = 0.75
CONF_DESCRIPTIVE = 0.7  # an alias or a title
CONF_GUESS = 0.5  # an epithet resolved by gender alone (turn-taking may revise it)
CONF_PARAGRAPH = 0.7
CONF_SPLIT = 0.6
CONF_FALLBACK = 0.5

# What may close a quotation: a run ending in none of these goes on in the next paragraph.
CLOSE_MARKS = "\"'\u201d\u2019*"


class TagKind(StrEnum):
    """What names the speaker in a speech tag."""

    NAME = "name"  # `said Tom`: a cast member
    PRONOUN = "pronoun"  # `she said`
    DESC = "desc"  # `said the old man`
    PROPER = "proper"  # `said Kai`: a capitalised word not in the cast


class TagSide(StrEnum):
    NONE = ""
    BEFORE = "before"  # `Tom said: "..."`
    AFTER = "after"  # `"...," said Tom`


Tag = tuple[TagKind, str]


class Sieve(StrEnum):
    """The sieve that gave a quotation its first answer (`Quote.sieve`), and the names the
    sieves are switched off by (`SIEVES`). The values are what `explain_speakers` reports and
    the ranker's feature names (`sieve=tag-name` in weights.json): never change them."""

    NONE = "none"  # no sieve answered
    FIXED = "fixed"  # the author's correction
    TAG_NAME = "tag-name"  # a tag naming a cast member, or a text message's sender
    TAG_PRONOUN = "tag-pronoun"
    TAG_DESC = "tag-desc"
    TAG_PROPER = "tag-proper"  # a capitalised word not in the cast
    # A descriptive tag resolved by gender only: a feature name (`Quote.guessed`), never
    # a quotation's sieve; TAG_DESC_TURN when turn-taking revised that guess.
    TAG_GUESS = "tag-guess"
    TAG_DESC_TURN = "tag-desc-turn"
    TAG_PRONOUN_TURN = "tag-pronoun-turn"  # a pronoun tag revised: the next turn calls them
    PARAGRAPH = "paragraph"  # shares the tag of its paragraph
    CONTINUED = "continued"  # speech continued over paragraphs
    ACTION = "action"
    THOUGHT = "thought"  # an untagged thought in a first-person chapter: the narrator's
    SELF_NAMED = "self-named"  # an untagged quotation saying who its speaker is (`I'm Kai`)
    VOCATIVE = "vocative"
    TURN = "turn"
    TURN_BACK = "turn-back"  # turn-taking read back from later turns
    TURN_NARRATOR = "turn-narrator"  # the first-person narrator answers
    FALLBACK = "fallback"  # the nearest named character
    SPLIT_FIRST = "split-first"  # the first of two turns in one quoted run
    SPLIT = "split"  # the second of them; also the switch for splitting
    # Switch names only: the tag sieves they switch off answer as TAG_PRONOUN, TAG_DESC.
    PRONOUN = "pronoun"
    DESCRIPTIVE = "descriptive"


# The sieve of a quotation named by a speech tag, by what the tag names.
TAG_SIEVE = {
    TagKind.NAME: Sieve.TAG_NAME,
    TagKind.PRONOUN: Sieve.TAG_PRONOUN,
    TagKind.DESC: Sieve.TAG_DESC,
    TagKind.PROPER: Sieve.TAG_PROPER,
}
# Sieves that can be switched off one at a time (explicit tags are always on).
SIEVES = (
    Sieve.PRONOUN, Sieve.DESCRIPTIVE, Sieve.THOUGHT, Sieve.SELF_NAMED, Sieve.PARAGRAPH,
    Sieve.CONTINUED, Sieve.ACTION, Sieve.VOCATIVE, Sieve.TURN, Sieve.FALLBACK, Sieve.SPLIT,
)  # fmt: skip


@dataclass
class Quote:
    """A quotation and its answer. Where it stands (`index`, `start`, `end`, `para`,
    `closed`) is set when the chapter is built; the rest is the answer, written by the sieves
    in the order they run, then revised by the ranker (`speaker`, `confidence`, `evidence`,
    `candidates`; the sieves' own answer is kept in `first`)."""

    index: int  # position in the segment list
    start: int
    end: int
    para: int
    speaker: str | None = None
    confidence: float = 0.0
    sieve: Sieve = Sieve.NONE
    tag_speaker: bool = False
    vocatives: set[str] = field(default_factory=set)
    closed: bool = True  # ends in a closing mark (else it goes on in the next paragraph)
    thought: bool = False  # a thought, not said aloud
    tag_side: TagSide = TagSide.NONE  # where the speech tag stands
    guessed: bool = False  # a descriptive tag resolved by gender only
    guess_gender: Gender | None = None
    split_at: int | None = None  # text offset of a second turn inside this quoted run
    second_speaker: str | None = None
    tag: Tag | None = None  # the speech tag read: (kind, words)
    first: str | None = None  # the sieves' answer, kept while the ranker revises speaker
    evidence: tuple[str, ...] = ()  # set by the ranker
    candidates: tuple[tuple[str, float], ...] = ()  # set by the ranker


@dataclass
class Mention:
    """A person named in the text: a cast alias, a nameless description, a title, or `I`."""

    start: int
    end: int
    names: tuple[str, ...]  # cast characters it may refer to; () for a nameless description
    label: str  # the noun phrase for nameless descriptions
    gender: Gender | None
    in_quote: bool
    indefinite: bool = False
    narr: bool = False  # the first-person narrator (`I`, `me`)
    titled: bool = False  # `the count`: a title standing for the cast character bearing it


class SpanTest:
    """Is an offset inside one of the sorted, disjoint spans?"""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def __call__(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


def answer_paragraph(para_quotes: list[Quote], who: str, conf: float, sieve: Sieve) -> None:
    """Give who to the quotations of a paragraph that have no answer yet."""
    for q in para_quotes:
        if q.speaker is None:
            q.speaker, q.confidence, q.sieve = who, conf, sieve


def tag_sources(para_quotes: list[Quote]) -> list[Quote | None]:
    """For each quotation of a paragraph, the one whose tag it shares: the nearest tagged one
    before it, else the first tagged one (`"Save us!" said the old lady. "What a dear."`);
    None in a paragraph without a tag."""
    tagged = [q for q in para_quotes if q.tag_speaker]
    if not tagged:
        return [None] * len(para_quotes)
    out: list[Quote | None] = []
    last = tagged[0]
    for q in para_quotes:
        if q.tag_speaker and q.start >= last.start:
            last = q
        out.append(last)
    return out
