"""The sieves: each quotation's first answer, and the sieve that gave it (step 1 of runner.py).

Input: the chapter text, the segments of `narrator.segment.segment_chapter` (speech segments
include their quote marks), the characters (a cast, or those found in the text) and the
author's corrections (`fixed`). Output: `run_sieves` returns the attributor, whose quotations
hold a speaker, the sieve that named it and that sieve's confidence; the ranker (`ranker.py`)
then weighs these answers with the other evidence, and the attributor's `_output` turns the
quotations back into segments. A quoted run that holds two speakers' turns may come back as
two segments.

The sieves run from the most to the least certain (after Muzny et al. 2017, "A two-stage
sieve approach for quote attribution"); a quotation keeps the first answer it gets. The
author's corrections come first and are certain. The figure after each sieve is the
confidence it had before the ranker (each sieve's precision on the PDNC dev novels, rounded
down); today it is one feature among others, and the confidence comes from the ranker
(`ranker.py`, `calibrate.py`):

0. a text message (`[Ana]: where r u`, `Ana: where r u` in a chat) is its sender's  0.95
1. explicit tag naming a character, in any order, before/after/between quotes
   (`said Tom`, `Tom replied`, `"Run." Said Tom`, `inquired poor Oliver`,
   `was Frank's reply`, `Rook and Bo said` together); narration ending in a colon
   gives its last clause's subject (`Tom crossed the room, and then said:`)         0.95
2. pronoun tag (`she replied`, `said he`, `was his reply`): in a running exchange the
   one the turn before addressed, when the pronoun fits them; else the latest mention of
   that gender, the subject of the paragraph first, never the one addressed, in a
   running exchange not the last speaker; `I said` is the first-person narrator.
   `the duchess` in narration is a mention of the cast character with that title   0.75
3. descriptive tag (`the old man said`): a cast alias or a title in a cast name
   (`the count`), a nameless person introduced as `an old man` (kept as the noun
   phrase), else the latest character of that gender (one epithet, one person;
   turn-taking in the exchange overrides this guess). A cast entry that is only a
   description and has no gender (`The Painter`) is read as such an epithet: the
   named character it fits, the entry itself only when nobody fits; in narration it
   is no antecedent (`the child` there is someone named). Several people (`said the
   guards`) and a noun the lexicon does not know as a person's (`chirped the twins`,
   any noun phrase right after the quote and its verb) are speakers of their own     0.70/0.50
   - an untagged quotation shares the tag of its paragraph                          0.70
   - a quotation continued over paragraphs (no closing mark) keeps its speaker      0.90
5. a character acting in the same paragraph (`Tom frowned. "No."`); with several
   turns in it, a one-sentence beat before a quotation gives it to whoever acts      0.80
4. a vocative names the addressee: never the speaker, and the next one to speak     0.85
6. turn-taking (A, B, A, B), forward then backward, reset by a narration paragraph;
   with a first-person narrator, an open turn after someone else is the narrator     0.75
7. the nearest named character before an exchange's first open turn, then 6 again  0.50

A cast that lists walk-ons by description is complete: no line goes to a speaker outside it
(`lists_walk_ons`, `features.candidates`).
Web fiction: a quoted run holding two turns is split after a question answered by name
(`"Can we go? Sure thing, red." Tom said`) or after the sentence that addresses the tagged
speaker (`"Where is it, Mira? In the box." Mira said`).
First-person narrators resolve to the cast character with the alias "I" (or PDNC's "_narr"),
else to "Narrator"; the narrative person is guessed from `I` against he/she in narration,
per call unless given: `guess_narrative_person(texts)` makes that guess over a whole book.
Aliases are matched with one compiled alternation (names case-sensitive, descriptions not,
line breaks inside names allowed); an alias shared by several characters is settled by a
title's gender, a bare surname shared by a couple is the man, else the one named last.
All steps are linear in the text length.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from narrator.lexicon import (
    ATTRIBUTION_TITLES,
    COMMON_TITLES,
    HONORIFIC_SUFFIX,
    NOUN_GENDER,
    PLURAL_PERSON_NOUNS,
    POSSESSIVE_GENDER,
    PRONOUN_GENDER,
    SPEAKING_PARTS,
    SPEECH_VERB_ALT,
    SPEECH_VERB_RE,
    TITLE_ABBREVIATIONS,
    TITLE_GENDER,
    TITLE_IN_FULL,
    is_storyteller_alias,
    said_together,
    word_set,
)
from narrator.model import Character, Gender, Kind, Segment
from narrator.names import (
    CASELESS,
    UPPER,
    could_be_name,
    fold_accents,
    is_caseless_letter,
    match_form,
    name_key,
)
from narrator.segment import messages, paragraph_starts, segment_chapter

NARRATOR = "Narrator"

# Measured precision per sieve, rounded down (see the module docstring).
CONF_EXPLICIT = 0.95
CONF_CONTINUED = 0.9
CONF_VOCATIVE = 0.85
CONF_ACTION = 0.8
CONF_PRONOUN = 0.75
CONF_TURN = 0.75
CONF_DESCRIPTIVE = 0.7  # an alias or a title
CONF_GUESS = 0.5  # an epithet resolved by gender alone (turn-taking may revise it)
CONF_PARAGRAPH = 0.7
CONF_SPLIT = 0.6
CONF_FALLBACK = 0.5


_FIRST_OF_TWO = "the first of two turns inside the same quotation marks"
_DIALOGUE_DASHES = frozenset("\u2014\u2015\u2013-")

_REPLY_NOUNS = (
    r"(?:reply|answer|question|remark|response|rejoinder|retort|comment|cry|greeting|"
    r"exclamation)\b"
)
# `"No," was his reply.` / `was the old man's answer`: the speaker owns the reply.
_REPLY_OF_RE = re.compile(
    rf"(?:(?P<pron>[Hh]is|[Hh]er)|(?P<desc>the\s+(?:[a-z][\w-]*\s+){{0,2}}?[a-z]+)['\u2019 ]s)"
    rf"\s+(?:[a-z]+\s+)?{_REPLY_NOUNS}"
)
_TITLE_RE = "(?:" + "|".join(sorted(ATTRIBUTION_TITLES, key=len, reverse=True)) + r")\.?"
# Words never used as a name on their own, even when a multi-word alias contains them.
_NOT_NAMES = {
    "the", "of", "de", "la", "le", "du", "von", "van", "and", "a", "an", "old", "young",
    "little", "big", "external", "story", "one", "two", "man", "woman", "i", "my", "his", "her",
    *(t.lower() for t in ATTRIBUTION_TITLES),
}  # fmt: skip

# Modifiers in a noun phrase are never these (`a look at the stranger` is no person).
_FUNCTION_WORDS = (
    "(?:the|a|an|at|of|and|or|to|in|on|with|where|who|which|that|was|is|by|for|from|"
    "some|his|her|their|into|upon|as)"
)
_NOUN_ALT = "|".join(sorted(NOUN_GENDER, key=len, reverse=True))
# A descriptive noun phrase: determiner, up to three modifiers, a person noun.
_NP_RE = re.compile(
    rf"\b(?P<det>(?i:the|a|an|one of the|his|her|my|our|their|that|this))\s+"
    rf"(?P<mods>(?:(?!{_FUNCTION_WORDS}\b)[a-z][\w-]*\s+){{0,3}}?)(?P<noun>(?i:{_NOUN_ALT}))\b"
)
_NOT_INTRODUCING = {
    "in", "with", "like", "as", "of", "is", "was", "be", "been", "were", "are", "to", "for",
    "from", "such", "by", "at", "on", "into", "than", "became", "become", "seemed", "quite",
    "what", "about", "upon", "had", "has", "have", "not", "am", "being",
}  # fmt: skip
_DET_RE = re.compile(r"\b(?i:the|an?|one|his|her|my|our|their|that|this)\b")
_PRONOUN_RE = re.compile(r"\b(?i:he|she)\b|\bI\b")
# `i` as a word of its own (`i said`, `i'm`), not `i.e.` or a letter in a list: texts that
# write I in lower case, as messy web fiction does.
_LOWER_I_RE = re.compile(r"(?<![\w'\u2019.(-])i(?![\w.)-])")
_LOWER_I_WORDS = 3  # this many lower-case `i`s make a text one that writes I so
# The pronoun a speech tag can have (`said she`), any capitalisation.
# Tag pronouns that name several people at once (`"Yes!" they said`): a group speaker.
GROUP_PRONOUNS = frozenset({"they", "we"})
_TAG_PRONOUN_RE = re.compile(rf"(?i:{'|'.join(PRONOUN_GENDER)})\b")
# A sentence ends at .!? unless the word before is a title (`Mr. Poirot`).
_SENT_END_RE = re.compile(
    rf"(?<![{UPPER}]){''.join(f'(?<!{t})' for t in TITLE_ABBREVIATIONS)}[.!?;]+(?=\s|$)"
)
# Capitals of any script, compiled once: the class is long, and these run per quotation.
_PROPER_RE = re.compile(rf"(?:[{UPPER}][\w-]+)(?:\s+[{UPPER}][\w-]+)?")
_DESC_SUBJECT_RE = re.compile(
    rf"(?i:the|a|an|one of the|his|her|my|our|their)\s+(?:[\w-]+\s+){{0,3}}?"
    rf"(?:(?i:{_NOUN_ALT})|[{UPPER}][\w-]+)\b"
)
_LOOSE_DESC_RE = re.compile(r"(?:the|a|an)\s+[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}")
# Words that end a noun phrase (`the twins from the fridge`, `the ferryman and his son`).
_PHRASE_ENDS = word_set(
    "with from on in at and as who to of for by into over under behind near while then but "
    "his her their its the a an was were had has that which"
)
_CAPITAL_NEXT_RE = re.compile(rf"\s+[{UPPER}]")
_QUESTION_BEFORE_CAPITAL_RE = re.compile(rf"\?\s+(?=[{UPPER}])")
_SENTENCE_BEFORE_CAPITAL_RE = re.compile(rf"[.!?]+\s+(?=[{UPPER}])")
_ADVERB_RE = re.compile(r"(?:\w+ly|again|then|now|too|once|at last|at once|aloud|softly)\b")
_CLOSE_MARKS = "\"'\u201d\u2019*"
_ANSWER_START_RE = re.compile(
    r"(?:Yes|Yeah|Yep|No|Nope|Nah|Sure|Fine|Okay|OK|Alright|All right|Of course|Maybe|Deal|"
    r"Because|Never|Right|Aye|Nay)\b"
)
_INTERJECTION_RE = re.compile(
    r"(?:Hey|Hi|Hello|Oh|O|Ah|Thanks|Thank you|Sorry|Please|Shut up|Look|Listen|Come on|"
    r"Yes|No|Well|Dear|My dear|Good morning|Good night|Goodbye|Bye|Wait|Stop)\s*,?\s+$"
)


# Read once per quotation or more: compiled here, once.
# Text before a mention ending where a sentence starts (`... the door. Then Tom`).
_SENTENCE_START_BEFORE_RE = re.compile(r"[.!?;]\s+(?:(?:Then|But|And|So)\s+)?$")
_VOICE_OF_RE = re.compile(r"(?i:the\s+)?(?:\w+\s+)?voice\s+of\s+")  # `the voice of Vesh`
_WORD_RE = re.compile(r"\S+")
_LAST_WORD_RE = re.compile(r"\S+$")
_CAPITALISED_RE = re.compile(r"[A-Z][a-z]+")
# Between a quotation and its tag: spaces, commas, dashes.
_TAG_GAP_RE = re.compile(r"[\s,\u2014\u2013-]*")
_BLANKS_RE = re.compile(r"[ \t\n]+")
_EPITHET_WORDS_RE = re.compile(r"(?:[a-z][\w-]*\s+){1,2}")  # `poor` in `inquired poor Oliver`
_WAS_CAME_RE = re.compile(r"(?:was|came)\s+")
# `Frank's reply`, `Frank's angry voice` (after the owner's name).
_OWNERS_REPLY_RE = re.compile(rf"['\u2019 ]s\s+(?:\w+\s+){{0,2}}?(?:{_REPLY_NOUNS}|voice\b)")


def _verb_after_subject(group: str) -> re.Pattern[str]:
    """A speech verb after a tag's subject (`Tom, pale, had quietly said`)."""
    return re.compile(
        rf"{group}(?:,[^,\"\u201c\u201d]{{1,60}},)?\s+(?:(?:had|has|was|then|again|only|just)\s+)?"
        rf"(?:{_ADVERB_RE.pattern}\s+)?(?i:{SPEECH_VERB_ALT})\b"
    )


_VERB_AFTER_SUBJECT_RE = _verb_after_subject("")
# `they both said`, `we all cried`: a plural subject may float a `both` or `all`.
_VERB_AFTER_GROUP_RE = _verb_after_subject(r"(?:\s+(?:both|all))?")
_CLAUSE_BEFORE_QUOTE_RE = re.compile(r"[,:\u2014-]\s*$|\w\s*$")
_OBJECT_BEFORE_RE = re.compile(r"\b(?:to|at|with|on|upon|for|from|by|of)\s+$")
# What may stand between a tag's subject and its verb (`Tom had turned and said`).
_SUBJECT_TO_VERB_RE = re.compile(
    r"(?:\s+(?:\w+ly|had|has|was|then|again|only|just|turned|and|to \w+|"
    r"at \w+|\w+ed(?: and)?))*\s+"
)
_COLON_GAP_RE = re.compile(r"\s*[,:]?\s*")
_AND_END_RE = re.compile(r"\band\s*$")
_CLAUSE_OPENER_RE = re.compile(r"\s*(?:(?:Then|But|And|So|Now|At last|At length),?\s+)?")
_LEAD_GAP_RE = re.compile(r"[\s,\u2014-]*")
# Where a clause, and so perhaps a subject, starts in narration introducing a quotation;
# `sub`: a subordinate clause (`before Ana went on`), whose subject speaks only when nothing
# else comes between it and the colon.
_CLAUSE_MARK_RE = re.compile(
    r"(?:(?P<sub>(?:,\s+|\s)(?:who|when|as|before|while|till|until|after|because)\s+)"
    r"|^|(?<=\n)|(?<=[.!?])\s+|,\s+|;\s+|\s(?:and|then|but|so)\s+)"
    r"(?:(?:and|then|at last|at length|at once|suddenly|so)[,\s]+)*"
)
_INTRO_REACH = 600  # characters before a colon read for the sentence introducing a quotation
_LOWER_WORD_NEXT_RE = re.compile(r"\s+[a-z]")
_AND_NAME_RE = re.compile(r"\s+(?:and|&)\s+")
# A sentence opened by `He` or `She` and a verb: someone acting (`He sat down.`).
_BEAT_PRONOUN_RE = re.compile(r"(He|She)\s+(?=[a-z])")
# Before and after a name used in address (`Well, my dear Tom, ...`), and not told of.
_VOCATIVE_BEFORE_RE = re.compile(
    r"[,!?.;\u2014-]\s*(?:(?:my|you)\s+)?(?:dear|dearest|good|poor|old)?\s*$"
)
_VOCATIVE_AFTER_RE = re.compile(r"\s*[,.!?;\u2014\"\u201d]")
_TOLD_OF_RE = re.compile(r"\b(?:said|says|ask|tell)\w*\s*$")
_ACTION_OPENER_RE = re.compile(r"[\s,\u2014-]*(?:(?:Then|But|And|So|Now|Here|At this|At that)\s+)?")
# After an actor's name: `Tom frowned`, `Tom, pale,`, `Tom's voice rose` (`Tom s voice`).
_ACTS_RE = re.compile(r"\s+[a-z]|,|['\u2019 ]s\s+(?:\w+\s+)?voice\b")
_MORE_SENTENCES_RE = re.compile(r"[.!?]\s+\S")
_DETERMINER_RE = re.compile(r"^(?i:the|a|an|one of the)\s+")


@dataclass
class _Mention:
    start: int
    end: int
    names: tuple[str, ...]  # cast characters it may refer to; () for a nameless description
    label: str  # the noun phrase for nameless descriptions
    gender: Gender | None
    in_quote: bool
    indefinite: bool = False
    narr: bool = False  # the first-person narrator (`I`, `me`)
    titled: bool = False  # `the count`: a title standing for the cast character bearing it


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
    """The sieve that gave a quotation its first answer (`_Quote.sieve`), and the names the
    sieves are switched off by (`SIEVES`). The values are what `explain_speakers` reports and
    the ranker's feature names (`sieve=tag-name` in weights.json): never change them."""

    NONE = "none"  # no sieve answered
    FIXED = "fixed"  # the author's correction
    TAG_NAME = "tag-name"  # a tag naming a cast member, or a text message's sender
    TAG_PRONOUN = "tag-pronoun"
    TAG_DESC = "tag-desc"
    TAG_PROPER = "tag-proper"  # a capitalised word not in the cast
    # A descriptive tag resolved by gender only: a feature name (`_Quote.guessed`), never
    # a quotation's sieve; TAG_DESC_TURN when turn-taking revised that guess.
    TAG_GUESS = "tag-guess"
    TAG_DESC_TURN = "tag-desc-turn"
    PARAGRAPH = "paragraph"  # shares the tag of its paragraph
    CONTINUED = "continued"  # speech continued over paragraphs
    ACTION = "action"
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
    Sieve.PRONOUN, Sieve.DESCRIPTIVE, Sieve.PARAGRAPH, Sieve.CONTINUED, Sieve.ACTION,
    Sieve.VOCATIVE, Sieve.TURN, Sieve.FALLBACK, Sieve.SPLIT,
)  # fmt: skip


@dataclass
class _Quote:
    index: int  # position in the segment list
    start: int
    end: int
    para: int
    speaker: str | None = None
    confidence: float = 0.0
    sieve: Sieve = Sieve.NONE
    tag_speaker: bool = False
    vocatives: set[str] = field(default_factory=set)
    closed: bool = True
    tag_side: TagSide = TagSide.NONE  # where the speech tag stands
    guessed: bool = False  # a descriptive tag resolved by gender only
    guess_gender: Gender | None = None
    split_at: int | None = None  # text offset of a second turn inside this quoted run
    second_speaker: str | None = None
    tag: Tag | None = None  # the speech tag read: (kind, words)
    first: str | None = None  # the sieves' answer, kept while the ranker revises speaker
    evidence: tuple[str, ...] = ()  # set by the ranker
    candidates: tuple[tuple[str, float], ...] = ()  # set by the ranker


def _loose_description(text: str, pos: int, limit: int) -> str | None:
    """`the twins`, `the long-legged ferryman`: a noun phrase of up to three words at pos."""
    m = _LOOSE_DESC_RE.match(text, pos, limit)
    if m is None:
        return None
    found = m.group(0).split()
    keep = [found[0]]
    for w in found[1:]:
        if w in _PHRASE_ENDS:
            break
        keep.append(w)
    # `said the latter` points back at someone named: that is for turn-taking to read.
    return " ".join(keep) if len(keep) > 1 and keep[-1] not in ("latter", "former") else None


class _CastIndex:
    """Alias lookup for the cast: one compiled alternation, alias -> candidate names."""

    def __init__(
        self,
        characters: Sequence[Character],
        loose: frozenset[str] = frozenset(),
        complete: bool | None = None,
    ) -> None:
        """`loose`: names (lower case) the text writes in lower case too (`nix`, `mags`).
        `complete`: every speaker is in the cast (None: if it lists walk-ons, see
        `lists_walk_ons`)."""
        self.loose = frozenset(fold_accents(name) for name in loose)  # as the regex sees them
        self.gender: dict[str, Gender | None] = {}
        self.narrator: str | None = None
        self.by_alias: dict[str, list[str]] = {}
        derived: dict[str, list[str]] = {}
        spellings: set[str] = set()
        self.descriptive: dict[str, list[str]] = {}  # normalised description -> names
        # Characters named by a description only (`The Lad`, `The Old Woman`).
        self.generic = frozenset(ch.name for ch in characters if _is_description(ch.name))
        # Description-only entries without a gender (`The Painter`): often an epithet.
        self.weak = self.generic - {ch.name for ch in characters if ch.gender}
        # Every line goes to someone in the cast (`features.candidates`).
        self.complete = lists_walk_ons(characters) if complete is None else complete
        for ch in characters:
            self.gender[ch.name] = ch.gender
            for alias in (ch.name, *ch.aliases):
                alias = alias.strip()
                if not alias:
                    continue
                if is_storyteller_alias(alias):
                    self.narrator = self.narrator or ch.name
                    continue
                key = name_key(alias)
                spellings.add(match_form(alias))
                if ch.name not in self.by_alias.setdefault(key, []):
                    self.by_alias[key].append(ch.name)
                words = alias.split()
                if _is_description(alias):
                    norm = " ".join(words[1:]).lower()
                    self.descriptive.setdefault(norm, []).append(ch.name)
                    continue
                # `Jake Barnes` is also `Jake` and `Barnes` (and `Mr. Barnes` via the title).
                for w in words:
                    bare = w.rstrip(".,")
                    if len(bare) > 1 and could_be_name(bare) and bare.lower() not in _NOT_NAMES:
                        spellings.add(match_form(bare))
                        names = derived.setdefault(name_key(bare), [])
                        if ch.name not in names:
                            names.append(ch.name)
        # `the count` / `the doctor`: a title inside a cast name (`Count Mippipopolous`).
        self.by_title: dict[str, list[str]] = {}
        for ch in characters:
            for alias in (ch.name, *ch.aliases):
                for w in alias.replace(".", " ").split():
                    if w not in ATTRIBUTION_TITLES:
                        continue
                    for t in {w.lower(), TITLE_IN_FULL.get(w.lower(), w.lower())}:
                        if ch.name not in self.by_title.setdefault(t, []):
                            self.by_title[t].append(ch.name)
        stubs = {
            ch.name
            for ch in characters
            if " " not in ch.name.strip() and set(ch.aliases) <= {ch.name}
        }
        for key, names in derived.items():
            have = self.by_alias.setdefault(key, names)
            if have is not names and set(have) <= stubs:
                # A bare `Bounderby` entry next to `Josiah Bounderby`: context decides.
                self.by_alias[key] = [n for n in names if n not in have] + have
        alts = set()
        lower_starts: set[str] = set()  # first words of aliases matched in any case
        caseless_starts: set[str] = set()  # first letters of names in scripts without case
        for spelling in spellings:
            words = [re.escape(w) for w in spelling.split()]
            # Names as the cast spells them (`Will` is not `will`); descriptions (`the
            # redhead`, `kid`) and `The Jew` also with the other case of their first letter.
            first = spelling[0]
            # Hard-wrapped text breaks names over lines.
            alt = r"\s+".join(words)
            if first.isalpha() and (
                first.islower()
                or _is_description(spelling)
                or spelling.split()[0].lower() in self.loose
            ):
                alt = f"(?i:{alt})"
                lower_starts.add(re.escape(spelling.split()[0].lower()))
            elif is_caseless_letter(first):
                caseless_starts.add(re.escape(first))
            alts.add(alt)
        self.regex: re.Pattern[str] | None = None
        # Where a mention can start: a capital, or the first word of a description. Trying
        # the long alternation only there keeps a 150,000-word novel well under a second.
        # Names in a script without case (`李明`) start anywhere: such scripts leave no space
        # between words, so there is no word boundary to ask for.
        starts = "|".join(sorted(lower_starts))
        starter = (
            rf"(?<![\w-])(?:[{UPPER}]|(?i:{starts})(?![\w-]))"
            if starts
            else rf"(?<![\w-])[{UPPER}]"
        )
        if caseless_starts:
            starter += f"|[{''.join(sorted(caseless_starts))}]"
        self.starter = re.compile(starter)
        if alts:
            self.regex = re.compile(
                rf"(?:(?<![\w-])|(?=[{CASELESS}]))(?:(?P<title>{_TITLE_RE})\s+)?"
                rf"(?P<alias>{'|'.join(sorted(alts, key=len, reverse=True))})"
                rf"{HONORIFIC_SUFFIX}?(?:(?<=[{CASELESS}])|(?![\w-]))"
            )

    def described(self, norm: str) -> list[str]:
        """The cast entries named by a description (`hump-backed man`), its article stripped:
        the whole of it, else without its first modifiers (`little ugly hump-backed man`)."""
        words = norm.split()
        for k in range(len(words) - 1 if len(words) > 1 else 1):
            names = self.descriptive.get(" ".join(words[k:]))
            if names:
                return names
        return []

    def mentions(self, text: str, in_quote: _SpanTest) -> list[_Mention]:
        found: list[_Mention] = []
        if self.regex is None:
            return found
        regex = self.regex
        # Accents do not count (`Eowyn` is the cast's `Éowyn`); the folded text has the
        # same length, so its offsets are the chapter's.
        text = fold_accents(text)
        pos = 0
        for start in self.starter.finditer(text):
            if start.start() < pos:
                continue
            m = regex.match(text, start.start())
            if m is None:
                continue
            pos = m.end()
            alias = m.group("alias")
            # A lower-case one-word alias (`red`, `kid`) only counts inside quotes.
            if (
                alias[0].islower()
                and " " not in alias
                and alias.lower() not in self.loose
                and not in_quote(m.start())
            ):
                continue
            title = (m.group("title") or "").rstrip(".")
            whole = name_key(m.group(0))  # hard-wrapped: `Mrs.\nPell`
            names = self.by_alias.get(whole) or self.by_alias.get(name_key(alias), [])
            if title and whole not in self.by_alias:
                tg = TITLE_GENDER.get(title)
                if tg is not None:
                    fitting = [n for n in names if self.gender.get(n) in (tg, None)]
                    names = fitting or names
            elif not title and len(names) > 1:
                # A bare surname shared by a couple (`Bounderby`) is the man, by convention.
                men = [n for n in names if self.gender.get(n) == Gender.MALE]
                names = men if len(men) == 1 else names
            if not names:
                continue
            gender = self.gender.get(names[0]) if len(names) == 1 else None
            if gender is None and title:
                gender = TITLE_GENDER.get(title)
            found.append(
                _Mention(m.start(), m.end(), tuple(names), "", gender, in_quote(m.start()))
            )
        return found


class _SpanTest:
    """Is an offset inside one of the sorted, disjoint spans?"""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def __call__(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


# Words before which a lower-case word is a verb or a noun, not a name (`I will`, `the rose`).
_NOT_BEFORE_NAME_RE = re.compile(
    r"\b(?i:to|i|you|we|they|he|she|it|will|would|can|could|may|might|must|shall|should"
    r"|the|a|an|my|your|his|her|our|their|its|this|that|some|no)\s+$"
)
# A text writes names in lower case when this share of its paragraphs opens in lower case.
_LOWER_CASE_TEXT = 0.25


def _lower_case_names(text: str, characters: Sequence[Character]) -> frozenset[str]:
    """Cast names this text writes in lower case (web fiction: `nix groaned`, `said mags`).

    Only in a text that opens many paragraphs in lower case, and only names that the text
    never uses as an ordinary word (after `to`, `I`, `the`, ...: `will`, `rose`, `may`).
    """
    paragraphs = re.findall(r"(?:^|\n)[ \t]*([^\W\d_])", text)
    if not paragraphs or sum(c.islower() for c in paragraphs) < _LOWER_CASE_TEXT * len(paragraphs):
        return frozenset()
    names = {
        w.lower()
        for ch in characters
        for alias in (ch.name, *ch.aliases)
        for w in alias.split()
        if w[:1].isupper() and len(w) > 1 and w.lower() not in _NOT_NAMES
    }
    if not names:
        return frozenset()
    # One pass over the text for all the names (a cast can hold thousands).
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    used: set[str] = set()
    as_words: set[str] = set()
    for m in re.finditer(rf"(?<![\w-])(?:{alternation})(?![\w-])", text):
        used.add(m.group(0))
        if _NOT_BEFORE_NAME_RE.search(text[max(0, m.start() - 12) : m.start()]):
            as_words.add(m.group(0))
    return frozenset(used - as_words)


# A chapter's own narration decides its person with this many I/he/she in it; below that a
# chapter of mostly dialogue says too little, and the book's person is the better guess.
# (A judgement, not a measurement: the dev sets hold no book that switches person.)
_PERSON_EVIDENCE = 40
# `- - Kess's POV - -`, `Dren POV`, `POV: Dren`, `(Kess's point of view)`
_POV_RE = re.compile(
    r"(?:(?P<a>[^\W\d_][\w.-]*(?:\s+[^\W\d_][\w.-]*)?)(?:['\u2019]s)?\s+"
    r"(?i:POV|P\.O\.V\.?|point of view)\b"
    r"|(?i:POV|point of view)\s*[:\-\u2014\u2013]\s*(?P<b>[^\W\d_][\w'\u2019.-]*))"
)
_POV_LINE = 60  # a point-of-view heading is a short line of its own


def _noun_gender(label: str) -> Gender | None:
    """The gender a nameless speaker's label says (`the bald man`), if any."""
    words = label.lower().split()
    return NOUN_GENDER.get(words[-1]) if words else None


def _strip_det(phrase: str) -> str:
    return _DETERMINER_RE.sub("", phrase.strip()).lower()


class _Attributor:
    def __init__(
        self,
        text: str,
        segments: Sequence[Segment],
        characters: Sequence[Character],
        narrative_person: int | None,
        disabled: Collection[Sieve] = (),
        fixed: Mapping[int, str] | None = None,
        complete: bool | None = None,
    ) -> None:
        self.disabled = frozenset(disabled)
        self.fixed = dict(fixed or {})
        self.text = text
        self.segments = list(segments)
        self.cast = _CastIndex(characters, _lower_case_names(text, characters), complete)
        self.messages = messages(text)
        self.para_starts = paragraph_starts(text, self.messages)
        self.lower_i = _writes_lower_i(text)
        self.quotes: list[_Quote] = []
        for i, seg in enumerate(self.segments):
            if seg.kind.is_speech:
                q = _Quote(i, seg.start, seg.end, self._para(seg.start))
                stripped = seg.text.rstrip()
                q.closed = (len(stripped) > 1 and stripped[-1] in _CLOSE_MARKS) or (
                    seg.text[:1] in _DIALOGUE_DASHES  # dash dialogue: one paragraph a turn
                )
                self.quotes.append(q)
        spans = [(q.start, q.end) for q in self.quotes]
        self.in_quote = _SpanTest(spans)
        self.mentions = self.cast.mentions(text, self.in_quote)
        self.mentions += self._descriptions()
        self.mentions += self._title_mentions()
        self.person = self._guess_person(narrative_person)
        self.narrator = self.cast.narrator or NARRATOR
        # `- - Kess's POV - -`: from there on, "I" is Kess.
        self.pov = self._pov_switches()
        self.pov_starts = [p for p, _ in self.pov]
        if self.pov:
            self.person = 1
        if self.person == 1:
            first_person = r"\b(?:I|me|my|myself)\b" + (
                f"|{_LOWER_I_RE.pattern}" if self.lower_i else ""
            )
            for im in re.finditer(first_person, text):
                if not self.in_quote(im.start()):
                    who = self.narrator_at(im.start())
                    gender = self.cast.gender.get(who)
                    self.mentions.append(
                        _Mention(im.start(), im.end(), (who,), "", gender, False, narr=True)
                    )
        self.mentions.sort(key=lambda m: m.start)
        self.mention_starts = [m.start for m in self.mentions]
        self.mention_at: dict[int, _Mention] = {}
        for m in self.mentions:
            # A cast alias wins over a bare description starting at the same place.
            if m.start not in self.mention_at or m.names:
                self.mention_at[m.start] = m
        self.recent: list[str] = []  # speakers named by tags so far, in order
        self.epithets: dict[str, tuple[str, int]] = {}  # `old gentleman` -> (who, where)
        self.nameless: dict[int, str] = {}  # `a man` (its offset) -> the label it is known by

    # ---- helpers -------------------------------------------------------------------------

    def _para(self, pos: int) -> int:
        return bisect.bisect_right(self.para_starts, pos) - 1

    def para_end(self, para: int) -> int:
        """Where paragraph para ends: where the next one starts, or the end of the text."""
        return self.para_starts[para + 1] if para + 1 < len(self.para_starts) else len(self.text)

    def _descriptions(self) -> list[_Mention]:
        """Nameless people in narration (`an old man`, `the bald man`) as mentions."""
        found = []
        last_end = 0
        cast_at = {m.start for m in self.mentions if m.names}
        for start in _DET_RE.finditer(self.text):
            if start.start() < last_end:
                continue
            m = _NP_RE.match(self.text, start.start())
            if m is None:
                continue
            last_end = m.end()
            if self.in_quote(m.start()):
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
            names = tuple(self.cast.described(" ".join([*mods, noun]).lower()))
            if det == "one of the" or m.start() in cast_at:
                names = ()
            # `in a terrible voice`, `she was a beautiful woman`: nobody new on stage.
            prev_word = self.text[max(0, m.start() - 12) : m.start()].split()[-1:]
            introduces = det in ("a", "an") and not (
                prev_word and prev_word[0].lower().strip(",") in _NOT_INTRODUCING
            )
            gender = self.cast.gender.get(names[0]) if len(names) == 1 else None
            found.append(
                _Mention(
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

    def _title_mentions(self) -> list[_Mention]:
        """`the duchess`, `the count` in narration: the cast character bearing that title."""
        # Not kinship or courtesy words: `the lady`, `the mother` may be anybody's.
        titles = [t for t in self.cast.by_title if len(t) > 2 and t not in COMMON_TITLES]
        if not titles:
            return []
        found = []
        taken = {m.start for m in self.mentions if m.names}
        alt = "|".join(sorted(titles, key=len, reverse=True))
        for m in re.finditer(rf"\b[Tt]he\s+(?:{alt})\b(?![ \t\n]+[{UPPER}])", self.text):
            if m.start() in taken or self.in_quote(m.start()):
                continue
            title = m.group(0).split()[-1]
            names = tuple(self.cast.by_title[title])
            gender = self.cast.gender.get(names[0]) if len(names) == 1 else None
            gender = gender or TITLE_GENDER.get(title.capitalize())
            found.append(_Mention(m.start(), m.end(), names, "", gender, False, titled=True))
        return found

    def _guess_person(self, book_person: int | None) -> int:
        """The chapter's own narration decides when it says enough; else the book's person."""
        first, third = _count_persons(self.text, _outside_narration(self.segments))
        if book_person is None or first + third >= _PERSON_EVIDENCE:
            return _person_of(first, third)
        return book_person

    def _pov_switches(self) -> list[tuple[int, str]]:
        """Point-of-view headings (`Kess's POV`, `POV: Dren`): where "I" changes, and to whom."""
        found = []
        for seg in self.segments:
            if seg.kind is not Kind.HEADING and len(seg.text) > _POV_LINE:
                continue
            m = _POV_RE.search(seg.text)
            if m is None:
                continue
            name = (m.group("a") or m.group("b") or "").strip()
            known = self.cast.by_alias.get(name_key(name))
            found.append((seg.start, known[0] if known else name))
        return found

    def narrator_at(self, pos: int) -> str:
        """Who "I" is at pos: the last point-of-view heading's character, else the narrator."""
        i = bisect.bisect_right(self.pov_starts, pos) - 1
        return self.pov[i][1] if i >= 0 else self.narrator

    def _resolve_description(self, phrase: str, pos: int, exclude: str | None) -> tuple[str, float]:
        """A descriptive subject: a cast alias, a known nameless person, or a cast guess."""
        norm = _strip_det(phrase)
        if phrase.lower().startswith("one of"):
            return phrase.lower(), CONF_DESCRIPTIVE - 0.1  # someone new: no guess to revise
        names = self.cast.described(norm) or self.cast.by_alias.get(name_key(phrase))
        noun = norm.split()[-1] if norm else ""
        gender = NOUN_GENDER.get(noun)
        if not names and noun in PLURAL_PERSON_NOUNS:
            # `said the guards`: several people at once, a speaker of their own.
            return "the " + norm, CONF_DESCRIPTIVE
        if phrase.split()[0].lower() in ("a", "an"):
            # `said a rough voice`: someone new, never an epithet of someone known.
            return (self._pick(names, pos) if names else "the " + norm), CONF_DESCRIPTIVE
        if noun == "other" and self.recent:
            # `said the other`: the party of the exchange who did not speak last.
            others = [r for r in reversed(self.recent[-4:]) if r != exclude]
            if others:
                return others[0], CONF_GUESS
        if names and all(n in self.cast.generic for n in names):
            # A character called `The Doctor` may be any doctor: `Doctor Losberne` first,
            # then a named one in the scene.
            titled = [n for n in self.cast.by_title.get(noun, []) if n not in self.cast.generic]
            if titled:
                return self._pick(titled, pos), CONF_DESCRIPTIVE
            if all(self.cast.gender.get(n) is None for n in names):
                # A description-only entry without a gender (`The Painter`) is as often an
                # epithet of someone named in the scene: that person, else the entry.
                guess = self._epithet_guess(norm, pos, gender, exclude)
                if guess is not None:
                    return guess, CONF_GUESS
        if names:
            return self._pick(names, pos), CONF_DESCRIPTIVE
        owner = phrase.split()[0].lower()
        if owner in POSSESSIVE_GENDER:
            if noun in SPEAKING_PARTS:
                # `his voice`: a part of the owner speaks, so the owner, of that gender.
                gender = POSSESSIVE_GENDER[owner]
            guess = self._antecedent(
                pos, gender, exclude, window=3000, names_only=True, exclude_all=True
            )
            return (guess or phrase.lower()), CONF_GUESS
        any_titled = self.cast.by_title.get(noun)
        if any_titled and len(norm.split()) == 1:
            return self._pick(any_titled, pos), CONF_DESCRIPTIVE
        # Introduced as `an old man` earlier: that person (a cast alias, or nameless).
        intro = self._introduced(norm, pos)
        if intro is not None:
            names = self.cast.descriptive.get(_strip_det(intro))
            if names:
                return self._pick(names, pos), CONF_DESCRIPTIVE
            return intro, CONF_DESCRIPTIVE
        if (noun not in NOUN_GENDER or noun in SPEAKING_PARTS) and phrase.split()[-1].islower():
            # Not a person noun we know (`the twins`, `the ferryman`): nothing says which cast
            # member it could be, so it is a speaker of its own.
            return "the " + norm, CONF_DESCRIPTIVE
        guess = self._epithet_guess(norm, pos, gender, exclude)
        return (guess or "the " + norm), CONF_GUESS

    def _epithet_guess(
        self, norm: str, pos: int, gender: Gender | None, exclude: str | None
    ) -> str | None:
        """The named character an epithet (`the painter`) stands for, by gender and recency."""
        # One epithet means one person within a scene: reuse the last resolution nearby.
        last = self.epithets.get(norm)
        if last is not None and pos - last[1] < 3000 and last[0] != exclude:
            self.epithets[norm] = (last[0], pos)
            return last[0]
        guess = self._antecedent(
            pos, gender, exclude, window=3000, names_only=True, exclude_all=True
        )
        if guess is None:
            return None
        self.epithets[norm] = (guess, pos)
        return guess

    def _introduced(self, norm: str, pos: int) -> str | None:
        """The label of a recent `a stout man` that `the man` at pos refers back to."""
        head = norm.split()[-1] if norm else ""
        mods = set(norm.split()[:-1])
        i = bisect.bisect_left(self.mention_starts, pos) - 1
        while i >= 0 and pos - self.mentions[i].start < 6000:
            m = self.mentions[i]
            words = m.label.split()
            if m.indefinite and words[-1] == head:
                # `a man stepped out ... He was bald` -> `the bald man` is that man, and
                # keeps that one label (one voice) from then on.
                if m.start not in self.nameless:
                    self.nameless[m.start] = m.label if mods <= set(words) else "the " + norm
                return self.nameless[m.start]
            if m.names and m.start < pos - 2000:
                break
            i -= 1
        return None

    def _pick(self, names: Sequence[str], pos: int) -> str:
        """Among characters sharing an alias, the one mentioned most recently by a unique name."""
        if len(names) == 1:
            return names[0]
        i = bisect.bisect_left(self.mention_starts, pos) - 1
        while i >= 0 and pos - self.mentions[i].start < 20000:
            m = self.mentions[i]
            if len(m.names) == 1 and m.names[0] in names:
                return m.names[0]
            i -= 1
        return names[0]

    def _antecedent(
        self,
        pos: int,
        gender: Gender | None,
        exclude: str | None,
        *,
        window: int = 2500,
        names_only: bool = False,
        narrator_ok: bool = False,
        exclude_all: bool = False,
        avoid: set[str] | frozenset[str] = frozenset(),
    ) -> str | None:
        """The latest narration mention before pos whose gender fits (`exclude` only if alone)."""
        i = bisect.bisect_left(self.mention_starts, pos) - 1
        near_para = self._para(pos) - 2
        skipped: str | None = None
        if gender is not None:
            # The subject of a sentence earlier in the same paragraph beats a later object.
            p_start = self.para_starts[self._para(pos)]
            j = i
            while j >= 0 and self.mentions[j].start >= p_start:
                m = self.mentions[j]
                j -= 1
                if m.in_quote or not m.names or m.narr or m.gender != gender:
                    continue
                who = self._pick(m.names, m.start)
                if who == exclude or who in avoid:
                    continue
                lead = self.text[max(p_start, m.start - 30) : m.start]
                if m.start - 30 <= p_start:
                    lead = ". " + lead  # the paragraph start is a sentence start
                if _SENTENCE_START_BEFORE_RE.search(lead):
                    return who
        while i >= 0 and pos - self.mentions[i].start < window:
            m = self.mentions[i]
            i -= 1
            if m.in_quote:
                continue
            if (names_only or not m.indefinite) and not m.names:
                continue
            if (m.narr and not narrator_ok) or (m.names and set(m.names) <= self.cast.weak):
                # `the child` in narration: an epithet of someone named, not an antecedent.
                continue
            g = m.gender
            if gender is not None and g != gender:
                # Unknown gender is no fit either, named or not (`a voice called`): measured,
                # accepting it does worse (bench/RESULTS.md).
                continue
            who = self._pick(m.names, m.start) if m.names else self.nameless.get(m.start, m.label)
            if who in avoid:
                continue
            if (
                exclude is not None
                and who == exclude
                and (exclude_all or skipped is None or self._para(m.start) >= near_para)
            ):
                # Measured: a pronoun skips the last speaker's mentions in the last two
                # paragraphs (and one before), a description skips all of them.
                skipped = who
                continue
            return who
        return skipped

    # ---- tags ------------------------------------------------------------------------------

    def _subject_at(self, pos: int, limit: int) -> tuple[TagKind, str, int] | None:
        """A subject starting at pos: ('name'|'pronoun'|'desc'|'proper', value, end)."""
        m = self.mention_at.get(pos)
        if m is not None and m.names and not m.titled:
            if set(m.names) <= self.cast.weak:
                return TagKind.DESC, self.text[m.start : m.end], m.end
            who, end = self._pick(m.names, pos), m.end
            # `Rook and Bo said in unison`: a line they say together, theirs together.
            am = _AND_NAME_RE.match(self.text, end, limit)
            other = self.mention_at.get(am.end()) if am else None
            if other is not None and other.names and not other.narr:
                second = self._pick(other.names, other.start)
                if second != who and SPEECH_VERB_RE.match(self.text, other.end + 1):
                    return TagKind.NAME, said_together((who, second)), other.end
            return TagKind.NAME, who, end
        rest = self.text[pos:limit]
        # `The voice of Vesh echoed`: the owner of the voice.
        vm = _VOICE_OF_RE.match(rest)
        if vm:
            owner = self.mention_at.get(pos + vm.end())
            if owner is not None and owner.names:
                return TagKind.NAME, self._pick(owner.names, owner.start), owner.end
        pm = _TAG_PRONOUN_RE.match(rest)
        if pm and (pm.group(0) != "i" or self.lower_i):
            return TagKind.PRONOUN, pm.group(0).lower(), pos + pm.end()
        dm = _DESC_SUBJECT_RE.match(rest)
        if dm:
            last = _LAST_WORD_RE.search(dm.group(0))
            inner = self.mention_at.get(pos + last.start()) if last else None
            if inner is not None and inner.names and not inner.narr:
                return TagKind.NAME, self._pick(inner.names, inner.start), inner.end
            return TagKind.DESC, dm.group(0), pos + dm.end()
        nm = _PROPER_RE.match(rest)
        if nm is None:
            return None
        # `De Griers` (only `Griers` is a known name), `Mademoiselle` / `Mlle.` alone.
        for w in _WORD_RE.finditer(nm.group(0)):
            inner = self.mention_at.get(pos + w.start())
            if inner is not None and inner.names and not inner.narr:
                return TagKind.NAME, self._pick(inner.names, inner.start), inner.end
        title = _CAPITALISED_RE.match(rest)
        if (
            title
            and title.group(0) in ATTRIBUTION_TITLES
            and self.cast.by_title.get(title.group(0).lower())
        ):
            end = pos + title.end() + (1 if rest[title.end() : title.end() + 1] == "." else 0)
            return TagKind.NAME, self._pick(self.cast.by_title[title.group(0).lower()], pos), end
        if nm.group(0).lower() not in _NOT_NAMES and not SPEECH_VERB_RE.fullmatch(nm.group(0)):
            return TagKind.PROPER, nm.group(0), pos + nm.end()
        return None

    def _tag_after(self, q: _Quote, limit: int) -> Tag | None:
        """A speech tag right after the quotation: `said Tom`, `Tom said`, `he asked`."""
        text = self.text
        pos = q.end
        # Skip spaces, commas, dashes (and a capitalised tag after `."`).
        m = _TAG_GAP_RE.match(text, pos, limit)
        pos = m.end() if m else pos
        # `and said Tom` / `then said Tom`
        vm = SPEECH_VERB_RE.match(text, pos, limit)
        if vm:
            after = _BLANKS_RE.match(text, vm.end(), limit)
            if after:
                # `inquired poor Oliver`: a name behind an epithet or two.
                epithet = _EPITHET_WORDS_RE.match(text, after.end(), limit)
                if epithet:
                    named = self.mention_at.get(epithet.end())
                    if named is not None and named.names and not named.narr:
                        return TagKind.NAME, self._pick(named.names, named.start)
                subj = self._subject_at(after.end(), limit)
                if subj:
                    return subj[0], subj[1]
                # `"Us!" chirped the twins`: right after the quotation and its verb, any
                # noun phrase is the speaker, a person noun or not.
                loose = _loose_description(text, after.end(), limit)
                if loose:
                    return TagKind.DESC, loose
            # `said Tom` may be preceded by an adverb: `said quietly Tom` is rare; skip.
            return None
        # `"No," was Frank's reply.`
        wm = _WAS_CAME_RE.match(text, pos, limit)
        if wm:
            owner = self.mention_at.get(wm.end())
            if (
                owner is not None
                and owner.names
                and _OWNERS_REPLY_RE.match(text[owner.end : owner.end + 50])
            ):
                return TagKind.NAME, self._pick(owner.names, owner.start)
            # `was his reply`, `was the impatient man's question`.
            pm = _REPLY_OF_RE.match(text, wm.end(), limit)
            if pm and pm.group("pron"):
                return TagKind.PRONOUN, "he" if pm.group("pron").lower() == "his" else "she"
            if pm:
                return TagKind.DESC, pm.group("desc")
        subj = self._subject_at(pos, limit)
        if subj is None:
            return None
        kind, value, end = subj
        rest = text[end:limit]
        verb = _VERB_AFTER_GROUP_RE if value in GROUP_PRONOUNS else _VERB_AFTER_SUBJECT_RE
        sm = verb.match(rest)
        if sm:
            return kind, value
        return None

    def _tag_before(self, q: _Quote, floor: int) -> Tag | None:
        """A speech tag in the clause right before the quotation: `Tom said:`, `she asked,`."""
        text = self.text
        clause_start = floor
        for sm in _SENT_END_RE.finditer(text, floor, q.start):
            clause_start = sm.end()
        clause = text[clause_start : q.start]
        if not clause.strip() or not _CLAUSE_BEFORE_QUOTE_RE.search(clause):
            return None
        verbs = list(SPEECH_VERB_RE.finditer(text, clause_start, q.start))
        if not verbs:
            return None
        vm = verbs[-1]
        if q.start - vm.end() > 40:
            return None
        # Subject after the verb (`said Tom,`) ...
        after = _BLANKS_RE.match(text, vm.end(), q.start)
        if after:
            subj = self._subject_at(after.end(), q.start)
            if subj and subj[0] in (TagKind.NAME, TagKind.PRONOUN):
                return subj[0], subj[1]
        # ... or the last subject before it, separated by adverbs / an auxiliary only.
        head = text[clause_start : vm.start()]
        for m in reversed(list(_WORD_RE.finditer(head))[-6:]):
            sub_pos = self._mention_start(clause_start + m.start())
            sub = self._subject_at(sub_pos, vm.start())
            if sub is None:
                continue
            if _OBJECT_BEFORE_RE.search(text[max(0, sub_pos - 8) : sub_pos]):
                break  # `turned to Hallward and said`: an object, not the subject
            between = text[sub[2] : vm.start()]
            if _SUBJECT_TO_VERB_RE.fullmatch(between):
                return sub[0], sub[1]
            break
        # `Tom crossed the room, laid a hand on the door, and said:` -- the sentence subject.
        if _COLON_GAP_RE.fullmatch(text[vm.end() : q.start]) and _AND_END_RE.search(
            text[clause_start : vm.start()]
        ):
            wm = _CLAUSE_OPENER_RE.match(text, clause_start)
            sub = self._subject_at(wm.end() if wm else clause_start, vm.start())
            if sub is not None and sub[0] in (TagKind.NAME, TagKind.PRONOUN):
                return sub[0], sub[1]
        return None

    def _colon_intro(self, q: _Quote, floor: int, last_quote_para: int) -> Tag | None:
        """The subject of narration ending in a colon right before the quotation.

        `Tom crossed the room, looked out at the rain, and then said:`, `..., who answered
        gravely:`, `A pause followed before Ana went on:`: the subject of the last clause
        that has one, however far from the colon its verb is.
        """
        text = self.text
        lead = text[floor : q.start].rstrip()
        if lead:
            start = floor
        elif q.para > 0 and last_quote_para < q.para - 1:
            start = self.para_starts[q.para - 1]  # the narration paragraph before
            lead = text[start : self.para_starts[q.para]].rstrip()
        else:
            return None
        if not lead.endswith(":"):
            return None
        colon = start + len(lead) - 1
        # Only the end of a long paragraph: an introduction is a sentence, and this keeps one
        # huge paragraph linear in time.
        start = max(start, colon - _INTRO_REACH)
        sentence = start
        for sm in _SENT_END_RE.finditer(text, start, colon):
            if sm.group().startswith(";"):
                continue  # `...on her arms; and continued:` is one sentence
            sentence = sm.end()
        found: Tag | None = None
        for cm in _CLAUSE_MARK_RE.finditer(text, sentence, colon):
            if cm["sub"] and "," in text[cm.end() : colon]:
                continue  # `while they talked, ..., said`: not the clause that speaks
            if cm["sub"] and cm["sub"].split()[-1] == "who":
                subj = self._antecedent_of_who(sentence, cm.start())
            else:
                subj = self._subject_at(cm.end(), colon)
                if subj is not None and not _ACTS_RE.match(text, subj[2]):
                    subj = None
            if subj is not None and subj[0] is not TagKind.PROPER:
                found = (subj[0], subj[1])
        return found

    def _antecedent_of_who(self, start: int, who: int) -> tuple[TagKind, str, int] | None:
        """`the stranger at the door, who answered`: the person a `who` clause is about."""
        words = list(_WORD_RE.finditer(self.text, start, who))
        for m in reversed(words[-8:]):
            subj = self._subject_at(self._mention_start(m.start()), who)
            if subj is not None and subj[0] is not TagKind.PROPER:
                return subj
        return None

    def _mention_start(self, pos: int) -> int:
        """The start of the cast mention covering pos (`Inglethorp` in `Mrs. Inglethorp`)."""
        i = bisect.bisect_right(self.mention_starts, pos) - 1
        if (
            i >= 0
            and self.mentions[i].start <= pos < self.mentions[i].end
            and self.mentions[i].names
        ):
            return self.mentions[i].start
        return pos

    def _named_again(self, who: str, since: int, pos: int) -> bool:
        """`"Why, Anne," she said. Marilla felt a queer regret.`: a sentence of narration after
        `who` last spoke, before pos, names them again: they are in view, not just done."""
        i = bisect.bisect_left(self.mention_starts, since)
        while i < len(self.mentions) and self.mentions[i].start < pos:
            m = self.mentions[i]
            i += 1
            if m.in_quote or not m.names or self._pick(m.names, m.start) != who:
                continue
            if _SENT_END_RE.search(self.text, since, m.start):
                return True
        return False

    def _resolve_tag(
        self, kind: TagKind, value: str, q: _Quote, prev: str | None
    ) -> tuple[str, float]:
        if kind is TagKind.NAME:
            if value in self.cast.generic:
                return self._resolve_description(value, q.start, prev)
            return value, CONF_EXPLICIT
        if kind is TagKind.PRONOUN:
            if value in GROUP_PRONOUNS:
                return self._group_speaker(value, q.start), CONF_DESCRIPTIVE
            if value == "i":
                return self.narrator_at(q.start), CONF_EXPLICIT - 0.05
            gender = PRONOUN_GENDER.get(value)
            # `"Must I go, Basil?" he asked`: the one addressed is not the speaker.
            avoid = q.vocatives
            who = self._antecedent(q.start, gender, prev, avoid=avoid)
            if who is None:
                who = self._antecedent(q.start, gender, prev, window=8000, avoid=avoid)
            return (who or value), CONF_PRONOUN if who else 0.2
        if kind is TagKind.DESC:
            return self._resolve_description(value, q.start, prev)
        # A bare title (`said Mademoiselle`) names the cast character bearing it.
        titled = self.cast.by_title.get(value.lower().rstrip("."))
        if titled:
            return self._pick(titled, q.start), CONF_DESCRIPTIVE
        # A cast name in other capitals (`said ANNA`): matching those everywhere would make
        # every shouted `BRETT` a mention (PDNC: 2 quotations lost), so only in a tag.
        known = self.cast.by_alias.get(name_key(value))
        if known:
            return self._pick(known, q.start), CONF_EXPLICIT
        # An unknown capitalised word: a name not in the cast (`Kai said`).
        return value, CONF_DESCRIPTIVE

    def _answering(
        self, q: _Quote, pronoun: str, last: str, before: Sequence[_Quote]
    ) -> str | None:
        """`"Dorian," said Lord Henry, "..."` then `"...," he answered`: the one the turn
        before addressed answers, when the pronoun fits them and nobody else it addressed."""
        gender = PRONOUN_GENDER.get(pronoun)
        if gender is None:
            return None
        addressed = {v for x in before for v in x.vocatives if v != last and v not in q.vocatives}
        fits = [v for v in addressed if self.cast.gender.get(v) == gender]
        return fits[0] if len(fits) == 1 else None

    def _group_speaker(self, pronoun: str, pos: int) -> str:
        """`"Open up!" they shouted`: several people at once, a speaker of their own, as
        `said the guards` is. `they` is the latest group named in narration in this paragraph
        or the one before (`The twins ran in. "Us!" they cried.`, `Ann and Bo ran in.`), else
        a group called `they`.
        A cast that gives `they` (or `we`) as a character's alias means that character: one
        person called `they`, or `we` lines read by the narrator."""
        known = self.cast.by_alias.get(pronoun)
        if known:
            return self._pick(known, pos)
        if pronoun == "they":
            floor = self.para_starts[max(0, self._para(pos) - 1)]
            i = bisect.bisect_left(self.mention_starts, pos) - 1
            while i >= 0 and self.mentions[i].start >= floor:
                m = self.mentions[i]
                i -= 1
                if not m.names and not m.in_quote and m.label.split()[-1] in PLURAL_PERSON_NOUNS:
                    return self.nameless.get(m.start, m.label)
                first = self.mentions[i] if i >= 0 else None
                if (
                    m.names
                    and not m.in_quote
                    and first is not None
                    and first.names
                    and _AND_NAME_RE.fullmatch(self.text, first.end, m.start)
                ):
                    # `Ann and Bo ran in. "Us!" they cried.`: the two of them.
                    a, b = self._pick(first.names, first.start), self._pick(m.names, m.start)
                    if a != b:
                        return said_together((a, b))
        return pronoun

    # ---- sieves ------------------------------------------------------------------------------

    def run(self) -> list[Segment]:
        quotes = self.quotes
        by_para: dict[int, list[_Quote]] = {}
        for q in quotes:
            by_para.setdefault(q.para, []).append(q)
        # Sieves 1-3: tags, in text order, so pronouns can skip the previous speaker.
        prev_speaker: str | None = None
        prev_end_at = 0
        prev_para = -1
        for k, q in enumerate(quotes):
            next_start = quotes[k + 1].start if k + 1 < len(quotes) else len(self.text)
            prev_end = quotes[k - 1].end if k > 0 else 0
            p_end = self.para_end(q.para)
            p_start = self.para_starts[q.para]
            limit = min(next_start, p_end, q.end + 200)
            floor = max(prev_end, p_start, q.start - 300)
            self._vocatives(q)
            sender = self.messages.match(self.text, p_start, q.start + 1)
            tag = self._tag_after(q, limit) if sender is None else None
            q.tag_side = TagSide.AFTER
            if sender is not None and sender.start("body") == q.start:
                # `[Ana]: where r u`: a text message, said by its sender.
                known = self.cast.by_alias.get(name_key(sender["sender"]))
                who = self._pick(known, q.start) if known else sender["sender"]
                q.speaker, q.confidence, q.sieve = who, CONF_EXPLICIT, Sieve.TAG_NAME
                q.tag, q.tag_side, q.tag_speaker = (TagKind.NAME, who), TagSide.BEFORE, True
            elif tag is None:
                # Narration ending in a colon first: its last clause's subject speaks.
                tag = self._colon_intro(q, floor, quotes[k - 1].para if k > 0 else -1)
                tag = tag or self._tag_before(q, floor)
                q.tag_side = TagSide.BEFORE
            if tag is None and floor == p_start and q.para > 0 and q.start - p_start < 3:
                # `To which Mrs. Pell replied:` closing the narration paragraph before.
                prev_start = self.para_starts[q.para - 1]
                lead = self.text[prev_start:p_start].rstrip()
                last_quote_para = quotes[k - 1].para if k > 0 else -1
                if lead.endswith(":") and last_quote_para < q.para - 1:
                    tag = self._tag_before(q, max(prev_start, q.start - 300))
            if tag is not None and (
                (tag[0] is TagKind.PRONOUN and Sieve.PRONOUN in self.disabled)
                or (tag[0] is TagKind.DESC and Sieve.DESCRIPTIVE in self.disabled)
            ):
                tag = None
            if tag is not None:
                # In a running exchange the pronoun is rarely the one who spoke last.
                exclude = prev_speaker if q.para == prev_para + 1 else None
                if exclude is not None and self._named_again(exclude, prev_end_at, q.start):
                    exclude = None
                who, conf = self._resolve_tag(tag[0], tag[1], q, exclude)
                if tag[0] is TagKind.PRONOUN and exclude is not None:
                    who = self._answering(q, tag[1], exclude, by_para.get(q.para - 1, [])) or who
                q.speaker, q.confidence, q.sieve = who, conf, TAG_SIEVE[tag[0]]
                q.tag = tag
                q.tag_speaker = True
                if tag[0] in (TagKind.DESC, TagKind.NAME) and conf == CONF_GUESS:
                    # A guess by gender: turn-taking may know better (see _regard).
                    q.guess_gender = _noun_gender(tag[1])
                    q.guessed = True
            if q.speaker is not None:
                prev_speaker, prev_para, prev_end_at = q.speaker, q.para, q.end
                if not self.recent or self.recent[-1] != q.speaker:
                    self.recent.append(q.speaker)

        # The author's corrections are certain: every later sieve builds on them.
        for q in quotes:
            if q.start in self.fixed:
                q.speaker, q.confidence, q.sieve = self.fixed[q.start], 1.0, Sieve.FIXED
                q.evidence = ("corrected by the author",)
                q.tag_speaker, q.guessed = True, False
        # Same paragraph: share the speaker of a tagged quotation.
        for para_quotes in by_para.values():
            tagged = [q for q in para_quotes if q.tag_speaker]
            if not tagged or Sieve.PARAGRAPH in self.disabled:
                continue
            tagged_starts = [t.start for t in tagged]  # in text order: bisect, not a scan
            for j, q in enumerate(para_quotes):
                if q.speaker is None:
                    before = bisect.bisect_left(tagged_starts, q.start)
                    src = tagged[before - 1] if before else tagged[0]
                    # `"Thanks," Krum said. Woolsey shook his head. "I have to go."`
                    other = self._lead_actor(q, para_quotes[j - 1].end if j else q.start)
                    if other is not None and other != src.speaker:
                        q.speaker, q.confidence, q.sieve = other, CONF_ACTION, Sieve.ACTION
                        continue
                    q.speaker, q.confidence, q.sieve = src.speaker, CONF_PARAGRAPH, Sieve.PARAGRAPH
        # Quotations continued over paragraphs.
        for k in range(1, len(quotes) if Sieve.CONTINUED not in self.disabled else 0):
            a, b = quotes[k - 1], quotes[k]
            if not a.closed and b.para == a.para + 1 and b.speaker is None and a.speaker:
                self._set_para(by_para[b.para], a.speaker, CONF_CONTINUED, Sieve.CONTINUED)
        for k in range(len(quotes) - 2 if Sieve.CONTINUED not in self.disabled else -1, -1, -1):
            a, b = quotes[k], quotes[k + 1]
            if not a.closed and b.para == a.para + 1 and a.speaker is None and b.speaker:
                self._set_para(by_para[a.para], b.speaker, CONF_CONTINUED, Sieve.CONTINUED)
        # Sieve 5: a character acting in the paragraph.
        for para, para_quotes in by_para.items():
            if para_quotes[0].speaker is not None or Sieve.ACTION in self.disabled:
                continue
            actor = self._actor(para, para_quotes)
            if actor is not None:
                self._set_para(para_quotes, actor, CONF_ACTION, Sieve.ACTION)
                self._beats(para_quotes)
        # Sieves 4 and 6: vocatives and turn-taking over conversations.
        self._conversations(by_para)
        # Sieve 7: nearest mention.
        for para_quotes in by_para.values():
            if para_quotes[0].speaker is None and Sieve.FALLBACK not in self.disabled:
                q = para_quotes[0]
                vocs = set().union(*(x.vocatives for x in para_quotes))
                near = self._antecedent(
                    q.start, None, None, window=12000, names_only=True, avoid=vocs
                )
                if near is None and self.person == 1:
                    near = self.narrator_at(q.start)  # nobody named near: the storyteller
                if near is not None:
                    self._set_para(para_quotes, near, CONF_FALLBACK, Sieve.FALLBACK)
        if Sieve.SPLIT not in self.disabled:
            self._split_turns(by_para)
        return self._output()

    def _lead_actor(self, q: _Quote, floor: int, speaker: str | None = None) -> str | None:
        """A named character opening the sentence right before q (`Woolsey shook his head.`),
        or a `He`/`She` of another gender than speaker, who spoke before it."""
        if floor >= q.start:
            return None
        start = floor
        for sm in _SENT_END_RE.finditer(self.text, floor, q.start):
            if sm.end() < q.start - 1:
                start = sm.end()
        wm = _LEAD_GAP_RE.match(self.text, start)
        pos = wm.end() if wm else start
        m = self.mention_at.get(pos)
        if m is None or not m.names or m.narr:
            # `He sat down. "Bad day?"`: a pronoun acting, the latest of its gender.
            pm = _BEAT_PRONOUN_RE.match(self.text, pos)
            if pm is None or SPEECH_VERB_RE.match(self.text, pm.end()):
                return None
            gender = PRONOUN_GENDER[pm.group(1).lower()]
            if speaker is None or self.cast.gender.get(speaker, _noun_gender(speaker)) in (
                None,
                gender,
            ):
                return None  # most likely the one speaking, going on
            return self._antecedent(pos, gender, None, names_only=True)
        if not _LOWER_WORD_NEXT_RE.match(self.text[m.end : m.end + 3]):
            return None
        if SPEECH_VERB_RE.match(self.text, m.end + 1):
            return None  # `Tom said.` is a tag, handled elsewhere
        return self._pick(m.names, m.start)

    def _beats(self, para_quotes: list[_Quote]) -> None:
        """Several turns in one paragraph: a sentence of action right before a quotation
        (`"Again." Rook shrugged. "Traffic."`) gives it, and the untagged ones after it, to
        whoever acts."""
        who = para_quotes[0].speaker
        for j in range(1, len(para_quotes)):
            q = para_quotes[j]
            if q.tag_speaker or q.sieve is Sieve.FIXED:
                who = q.speaker
                continue
            between = self.text[para_quotes[j - 1].end : q.start]
            other = None
            if len(_SENT_END_RE.findall(between.strip())) <= 1:
                # One sentence between the two: a beat. With more, the last may be a
                # listener's (`She looked at Kess. Kess looked at her boots. "And you..."`).
                other = self._lead_actor(q, para_quotes[j - 1].end, who)
            if other is not None:
                who = other
            if who is not None and who != q.speaker:
                q.speaker, q.confidence, q.sieve = who, CONF_ACTION, Sieve.ACTION

    def _set_para(self, para_quotes: list[_Quote], who: str, conf: float, sieve: Sieve) -> None:
        for q in para_quotes:
            if q.speaker is None:
                q.speaker, q.confidence, q.sieve = who, conf, sieve

    def _vocatives(self, q: _Quote) -> None:
        """Names used as a form of address inside the quotation (`Tom, come here`)."""
        i = bisect.bisect_left(self.mention_starts, q.start)
        text = self.text
        inner_start = q.start + 1
        while i < len(self.mentions) and self.mentions[i].start < q.end:
            m = self.mentions[i]
            i += 1
            if not m.names:
                continue
            before = text[max(inner_start, m.start - 20) : m.start]
            after = text[m.end : m.end + 2]
            starts = m.start <= inner_start + 1 or bool(_VOCATIVE_BEFORE_RE.search(before))
            starts = starts or bool(_INTERJECTION_RE.search(before))
            ends = bool(_VOCATIVE_AFTER_RE.match(after)) or bool(_CAPITAL_NEXT_RE.match(after))
            if starts and ends and not _TOLD_OF_RE.search(before):
                q.vocatives.add(self._pick(m.names, m.start))

    def _actor(self, para: int, para_quotes: list[_Quote]) -> str | None:
        """The character whose action surrounds the quotation (`Tom frowned. "No."`)."""
        text = self.text
        first = para_quotes[0]
        p_start = self.para_starts[para]
        # Narration before the first quotation: its last sentence's subject.
        head = text[p_start : first.start]
        candidates: list[int] = []
        if head.strip():
            sent_start = p_start
            for sm in _SENT_END_RE.finditer(text, p_start, first.start):
                if sm.end() < first.start - 1:
                    sent_start = sm.end()
            candidates.append(sent_start)
        # Narration right after the first quotation.
        nxt = para_quotes[1].start if len(para_quotes) > 1 else None
        p_end = self.para_end(para)
        tail_end = min(nxt or p_end, p_end)
        if text[first.end : tail_end].strip():
            candidates.append(first.end)
        for pos in candidates:
            wm = _ACTION_OPENER_RE.match(text, pos)
            start = wm.end() if wm else pos
            subj = self._subject_at(start, tail_end if start >= first.end else first.start)
            if subj is None:
                continue
            kind, value, end = subj
            follows = text[end : end + 40]
            if not _ACTS_RE.match(follows):
                continue
            if kind is TagKind.NAME:
                return value
            if kind is TagKind.PRONOUN:
                if value in ("i", "we"):
                    return self.narrator_at(first.start) if self.person == 1 else None
                g = PRONOUN_GENDER.get(value)
                return self._antecedent(first.start, g, None, avoid=first.vocatives)
            if kind is TagKind.DESC and _strip_det(value).split()[-1] in NOUN_GENDER:
                who, _conf = self._resolve_description(value, first.start, None)
                return who
        return None

    def _conversations(self, by_para: dict[int, list[_Quote]]) -> None:
        """Vocatives and turn-taking: alternate speakers until narration breaks the exchange."""
        blocks: list[list[int]] = []
        last_para = -10
        for para in sorted(by_para):
            if self._gap(last_para, para):
                blocks.append([])
            blocks[-1].append(para)
            last_para = para
        for block in blocks:
            self._forward(block, by_para)
            if Sieve.TURN not in self.disabled:
                self._backward(block, by_para)
            if Sieve.FALLBACK not in self.disabled:
                self._seed(block, by_para)
            self._regard(block, by_para)

    def _regard(self, block: list[int], by_para: dict[int, list[_Quote]]) -> None:
        """`said the gentleman` guessed by gender: prefer the exchange's alternation."""
        for k, para in enumerate(block):
            q = by_para[para][0]
            if not q.guessed:
                continue
            for a, b in ((k - 2, k - 1), (k + 2, k + 1)):
                if not (0 <= a < len(block) and 0 <= b < len(block)):
                    continue
                two, one = by_para[block[a]][0].speaker, by_para[block[b]][0].speaker
                if two is None or two == one or two == q.speaker or two in q.vocatives:
                    continue
                g = self.cast.gender.get(two)
                if q.guess_gender is None or g in (None, q.guess_gender):
                    old = q.speaker
                    for x in by_para[para]:
                        if x.speaker == old:
                            x.speaker, x.sieve = two, Sieve.TAG_DESC_TURN
                    break

    def _seed(self, block: list[int], by_para: dict[int, list[_Quote]]) -> None:
        """Sieve 7 inside an exchange: guess its first open turn, then let turns run on."""
        tried: set[int] = set()
        while True:
            todo = [
                k for k, p in enumerate(block) if by_para[p][0].speaker is None and k not in tried
            ]
            if not todo:
                return
            k = todo[0]
            tried.add(k)
            pq = by_para[block[k]]
            avoid = set().union(*(x.vocatives for x in pq))
            for j in (k - 1, k + 1):
                if 0 <= j < len(block) and by_para[block[j]][0].speaker:
                    avoid.add(by_para[block[j]][0].speaker or "")
            near = self._antecedent(
                pq[0].start, None, None, window=3000, names_only=True, avoid=avoid
            ) or self._antecedent(
                pq[0].start, None, None, window=12000, names_only=True, avoid=avoid
            )
            if near is None:
                continue
            self._set_para(pq, near, CONF_FALLBACK, Sieve.FALLBACK)
            self._forward(block[max(0, k - 1) :], by_para)

    def _forward(self, block: list[int], by_para: dict[int, list[_Quote]]) -> None:
        turns: list[str | None] = []
        addressee: str | None = None
        for para in block:
            pq = by_para[para]
            vocs = set().union(*(x.vocatives for x in pq))
            if pq[0].speaker is None:
                who: str | None = None
                conf, sieve = 0.0, Sieve.NONE
                if (
                    len(turns) >= 2
                    and turns[-2] is not None
                    and turns[-2] != turns[-1]
                    and Sieve.TURN not in self.disabled
                ):
                    who, conf, sieve = turns[-2], CONF_TURN, Sieve.TURN
                if (
                    addressee is not None
                    and Sieve.VOCATIVE not in self.disabled
                    and addressee not in vocs
                    and (who is None or addressee != turns[-1])
                ):
                    who, conf, sieve = addressee, CONF_VOCATIVE, Sieve.VOCATIVE
                if (
                    who is None
                    and self.person == 1
                    and turns
                    and turns[-1] not in (None, self.narrator_at(pq[0].start))
                    and Sieve.TURN not in self.disabled
                ):
                    who = self.narrator_at(pq[0].start)
                    conf, sieve = CONF_TURN - 0.2, Sieve.TURN_NARRATOR
                if who is not None and who in vocs:
                    who = turns[-1] if turns and turns[-1] not in vocs else None
                if who is not None:
                    self._set_para(pq, who, conf, sieve)
            speaker = pq[0].speaker
            turns.append(speaker)
            # The one addressed here is likely to answer next.
            others = [v for v in vocs if v != speaker]
            addressee = others[0] if len(others) == 1 else None

    def _backward(self, block: list[int], by_para: dict[int, list[_Quote]]) -> None:
        """Fill the start of an exchange from the turns after it (B, A, B -> ?, A, B)."""
        for k in range(len(block) - 3, -1, -1):
            pq = by_para[block[k]]
            if pq[0].speaker is not None:
                continue
            a = by_para[block[k + 1]][0].speaker
            b = by_para[block[k + 2]][0].speaker
            vocs = set().union(*(x.vocatives for x in pq))
            # B, ?, B -> B too: the open turn between is the other party's.
            if b is not None and a != b and b not in vocs:
                self._set_para(pq, b, CONF_TURN - 0.05, Sieve.TURN_BACK)

    def _gap(self, last_para: int, para: int) -> bool:
        """A narration paragraph between two quotation paragraphs ends the exchange.

        Measured on PDNC: letting one short narration paragraph continue the exchange
        (as Muzny et al. do) loses more than it gains once open turns are seeded anew.
        """
        return last_para < 0 or para - last_para > 1

    # ---- two speakers in one quoted run (web fiction) ---------------------------------------

    def _split_turns(self, by_para: dict[int, list[_Quote]]) -> None:
        """Two speakers in one quoted run (web fiction): split where the text shows a new turn.

        Evidence: a question answered inside the same quotes (`"Can we go? Sure thing." Tom
        said`), or the tagged speaker addressed by name in the run's first sentences
        (`"Where is it, Mira? In the box." Mira said`: Mira cannot have asked).
        """
        text = self.text
        for k, q in enumerate(self.quotes):
            if q.sieve is Sieve.FIXED:
                continue
            inner = text[q.start : q.end]
            body = inner.rstrip(_CLOSE_MARKS + " \n")
            cut: int | None = None
            for m in _QUESTION_BEFORE_CAPITAL_RE.finditer(body):
                rest = body[m.end() :]
                # A one-sentence answer ending the run, that names the asker (`Sure thing,
                # red.`): a reply. Without the name it is as often the asker answering
                # themselves (`Burn it? No, no!`), so the run stays whole.
                if (
                    _ANSWER_START_RE.match(rest)
                    and not _MORE_SENTENCES_RE.search(rest)
                    and not rest.rstrip(" ,.!").endswith("?")
                    and self._names_between(q.start + m.end(), q.start + len(body))
                ):
                    cut = q.start + m.end()
                    break
            if cut is None and q.tag_speaker and q.tag_side is TagSide.AFTER:
                cut = self._addressee_cut(q, body)
            if cut is None:
                continue
            first, second = self._split_speakers(q, k, cut)
            if first is None or second is None or first == second:
                continue
            q.split_at = cut
            q.speaker, q.second_speaker = first, second
            q.sieve = Sieve.SPLIT_FIRST
            q.confidence = min(q.confidence, CONF_SPLIT)

    def _names_between(self, start: int, end: int) -> list[str]:
        """Cast characters mentioned in text[start:end]."""
        found = []
        i = bisect.bisect_left(self.mention_starts, start)
        while i < len(self.mentions) and self.mentions[i].start < end:
            m = self.mentions[i]
            i += 1
            if m.names and not m.narr:
                found.append(self._pick(m.names, m.start))
        return found

    def _addressee_cut(self, q: _Quote, body: str) -> int | None:
        """After the sentence that addresses the tagged speaker by name, if more follows."""
        i = bisect.bisect_left(self.mention_starts, q.start)
        while i < len(self.mentions) and self.mentions[i].start < q.start + len(body):
            m = self.mentions[i]
            i += 1
            if not m.names or self._pick(m.names, m.start) != q.speaker:
                continue
            if q.speaker not in q.vocatives:
                return None
            end = _SENTENCE_BEFORE_CAPITAL_RE.search(self.text, m.end, q.start + len(body))
            return end.end() if end else None
        return None

    def _split_speakers(self, q: _Quote, k: int, cut: int) -> tuple[str | None, str | None]:
        """Speakers of the two parts: the tag names the part next to it; the other part is
        the one a vocative names, else the previous speaker, else the latest one mentioned."""
        tagged = q.speaker if q.tag_speaker else None
        # The part whose names tell who the other speaker is: the tagged part, or the answer.
        tag_part = (cut, q.end) if q.tag_side is TagSide.AFTER or tagged is None else (q.start, cut)
        named = self._names_between(*tag_part)
        prev = next((p.speaker for p in reversed(self.quotes[:k]) if p.speaker), None)
        other = next((n for n in named if n != tagged), None)
        if tagged is None:
            # No tag: only a question answered with the asker's name (`No, kid.`) splits.
            if other is None or prev in (None, other):
                return None, None
            return other, prev
        if other is None and prev not in (None, tagged):
            other = prev
        if other is None:
            other = self._antecedent(q.start, None, None, window=1500, avoid={tagged})
        return (other, tagged) if q.tag_side is TagSide.AFTER else (tagged, other)

    # ---- output ------------------------------------------------------------------------------

    def _output(self) -> list[Segment]:
        out = list(self.segments)
        result: list[Segment] = []
        by_index = {q.index: q for q in self.quotes}
        for i, seg in enumerate(out):
            q = by_index.get(i)
            if q is None:
                result.append(seg)
                continue
            conf = round(q.confidence, 2) if q.speaker else 0.0
            if q.split_at is not None:
                first = replace(
                    seg, end=q.split_at, text=self.text[seg.start : q.split_at],
                    speaker=q.speaker, confidence=conf,
                    evidence=q.evidence or (_FIRST_OF_TWO,),
                    candidates=q.candidates,
                )  # fmt: skip
                second = replace(
                    seg, start=q.split_at, text=self.text[q.split_at : seg.end],
                    speaker=q.second_speaker, confidence=CONF_SPLIT,
                    evidence=("a second turn inside the same quotation marks",),
                )  # fmt: skip
                result += [first, second]
            else:
                result.append(
                    replace(
                        seg,
                        speaker=q.speaker,
                        confidence=conf,
                        evidence=q.evidence,
                        candidates=q.candidates,
                    )
                )
        return result


def _count_persons(text: str, outside: Callable[[int], bool]) -> tuple[int, int]:
    """`I` and he/she in the narration of text (`outside`: offsets that are not narration:
    speech, and the author's notes, which say `i` of the author)."""
    first = third = 0
    for m in _PRONOUN_RE.finditer(text):
        if outside(m.start()):
            continue
        if m.group(0) == "I":
            first += 1
        else:
            third += 1
    if _writes_lower_i(text):
        first += sum(not outside(m.start()) for m in _LOWER_I_RE.finditer(text))
    return first, third


def _outside_narration(segments: Sequence[Segment]) -> _SpanTest:
    """Offsets in speech, notes and headings: where `I` is not the storyteller's."""
    return _SpanTest([(s.start, s.end) for s in segments if s.kind is not Kind.NARRATION])


def _writes_lower_i(text: str) -> bool:
    """Does the text write the pronoun I as a lower-case `i` (`i said`)?"""
    for found, _ in enumerate(_LOWER_I_RE.finditer(text), start=1):
        if found >= _LOWER_I_WORDS:
            return True
    return False


def _person_of(first: int, third: int) -> int:
    """First person when `I` is common in narration relative to he/she."""
    return 1 if first * 3 >= third and first >= 5 else 3


def guess_narrative_person(
    texts: Sequence[str], segments: Sequence[Sequence[Segment]] | None = None
) -> int:
    """1 or 3: the narrative person of a whole book (all its chapters' texts).

    attribute_speakers guesses it per chapter when not told; a short chapter can be
    mostly dialogue and guess wrong, so a caller with the whole book should pass this.
    `segments`: each text's segments, when the caller has them already.
    """
    first = third = 0
    for n, text in enumerate(texts):
        segs = segments[n] if segments is not None else segment_chapter(text)
        f, t = _count_persons(text, _outside_narration(segs))
        first, third = first + f, third + t
    return _person_of(first, third)


def lists_walk_ons(characters: Sequence[Character]) -> bool:
    """Does a cast list walk-ons by description (`The Turnkey`, `A Waiter`)? Then it lists
    everyone who speaks, and no line goes to someone outside it."""
    return any(_is_description(ch.name) for ch in characters)


def _is_description(name: str) -> bool:
    return name.lower().split()[:1] in (["the"], ["a"], ["an"])


def run_sieves(
    text: str,
    segments: Sequence[Segment],
    characters: Sequence[Character],
    narrative_person: int | None = None,
    disabled: Collection[str] = (),
    fixed: Mapping[int, str] | None = None,
    complete: bool | None = None,
) -> _Attributor:
    """Run every sieve; the attributor keeps each quotation's answer and what gave it.

    `disabled`: sieves switched off, any of SIEVES (or their names). `complete`: every
    speaker is in the cast (None: when it lists walk-ons, `lists_walk_ons`).
    """
    unknown = set(disabled) - set(SIEVES)
    if unknown:
        raise ValueError(f"unknown sieve(s): {', '.join(sorted(unknown))}")
    off = frozenset(Sieve(name) for name in disabled)
    att = _Attributor(text, segments, characters, narrative_person, off, fixed, complete)
    att.run()
    return att
