"""The sieves: each quotation's first answer, and the sieve that gave it (step 1 of runner.py).

Input: the chapter text, the segments of `narrator.segment.segment_chapter` (speech segments
include their quote marks), the characters (a cast, or those found in the text) and the
author's corrections (`fixed`). Output: `run_sieves` returns the `Chapter` (`chapter.py`),
whose quotations hold a speaker, the sieve that named it and that sieve's confidence; the
ranker (`ranker.py`) then weighs these answers with the other evidence, and `to_segments`
turns the quotations back into segments. A quoted run that holds two speakers' turns may come
back as two segments.

This module only runs the steps, in the order of `SIEVE_STEPS`: `read_tags` (sieves 0-3),
`self_introduced` (a nameless speaker who says their name is that character),
`usual_epithets` (an epithet guessed by gender is whom the text's other tags with it name),
`apply_corrections`, `narrators_thoughts`, `self_named`, `share_paragraph_tags`,
`continue_speech`, `act` (5), `take_up`, `conversations` (4 and 6, and 7 inside an exchange),
`nearest_mention` (7), `split_turns`. Each kind of evidence lives in a module of its own,
named below, and reads the chapter built once (`chapter.py`).

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
   gives its last clause's subject (`Tom crossed the room, and then said:`)
   (`tags.py`)                                                                       0.95
2. pronoun tag (`she replied`, `said he`, `was his reply`): in a running exchange the
   one the turn before addressed, when the pronoun fits them; else the latest mention of
   that gender, the subject of the paragraph first, never the one addressed, in a
   running exchange not the last speaker; `I said` is the first-person narrator; one
   the next turn calls by name, when the pronoun fits them (`turns.py`).
   `the duchess` in narration is a mention of the cast character with that title
   (`pronouns.py`, `mentions.py`)                                                    0.75
3. descriptive tag (`the old man said`): a cast alias or a title in a cast name
   (`the count`), a nameless person introduced as `an old man` (kept as the noun
   phrase), else the latest character of that gender (one epithet, one person;
   turn-taking in the exchange overrides this guess; so does the text: when at least
   4 other tags with the epithet name one person, 70% of them, it is that person).
   A cast entry that is only a description and has no gender (`The Painter`) is read
   as such an epithet: the named character it fits, the entry itself only when nobody
   fits; in narration it is no antecedent (`the child` there is someone named).
   Several people (`said the guards`) and a noun the lexicon does not know as a
   person's (`chirped the twins`, any noun phrase right after the quote and its verb)
   are speakers of their own
   (`descriptions.py`)                                                               0.70/0.50
   - an untagged thought in a first-person chapter, or in a part headed by who tells
     it (`~ Mara ~`), is theirs                                                      0.80
   - an untagged quotation saying who its speaker is (`call me Priya`) is theirs     0.70
   - an untagged quotation shares the tag of its paragraph                          0.70
   - a quotation continued over paragraphs (no closing mark) keeps its speaker, and
     one broken off (`It's not—`) and taken up again (`—dead.`) too                 0.90
5. a character acting in the same paragraph (`Tom frowned. "No."`); with several
   turns in it, a one-sentence beat before a quotation gives it to whoever acts
   (`actions.py`)                                                                    0.80
4. a vocative names the addressee: never the speaker, and the next one to speak
   (`vocatives.py`)                                                                  0.85
6. turn-taking (A, B, A, B), forward then backward, reset by a narration paragraph;
   with a first-person narrator, an open turn after someone else that later turns do
   not fill is the narrator (`turns.py`)                                             0.75
7. the nearest named character before an exchange's first open turn, then 6 again
   (`turns.py`; outside an exchange `nearest_mention`)                               0.50

A cast that lists walk-ons by description is complete: no line goes to a speaker outside it
(`cast_index.lists_walk_ons`, `features.candidates`).
Web fiction (`split.py`): a quoted run holding two turns is split after a question answered
by name (`"Can we go? Sure thing, red." Tom said`) or after the sentence that addresses the
tagged speaker (`"Where is it, Mira? In the box." Mira said`).
First-person narrators resolve to the cast character with the alias "I" (or PDNC's "_narr"),
else to "Narrator"; the narrative person (`person.py`) is guessed from `I` against he/she in
narration, per call unless given: `guess_narrative_person(texts)` makes that guess over a
whole book. Aliases are matched (`cast_index.py`) with one compiled alternation (names
case-sensitive, descriptions not, line breaks inside names allowed); an alias shared by
several characters is settled by a title's gender, a bare surname shared by a couple is the
man, else the one named last.
All steps are linear in the text length.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise

from narrator.attribute.actions import actor, beats, lead_actor
from narrator.attribute.chapter import Chapter
from narrator.attribute.descriptions import (
    noun_gender,
    self_introduced,
    self_named,
    usual_epithets,
)
from narrator.attribute.patterns import SENT_END_RE
from narrator.attribute.pronouns import answering, antecedent
from narrator.attribute.quotes import (
    CONF_ACTION,
    CONF_CONTINUED,
    CONF_EXPLICIT,
    CONF_FALLBACK,
    CONF_GUESS,
    CONF_PARAGRAPH,
    CONF_SPLIT,
    CONF_SYSTEM,
    CONF_THOUGHT,
    SIEVES,
    SYSTEM,
    TAG_SIEVE,
    Quote,
    Sieve,
    TagKind,
    TagSide,
    answer_paragraph,
    tag_sources,
)
from narrator.attribute.split import split_turns
from narrator.attribute.tags import colon_intro, resolve_tag, tag_after, tag_before
from narrator.attribute.turns import conversations
from narrator.attribute.vocatives import find_vocatives
from narrator.lexicon import is_storyteller_alias
from narrator.model import Character, Segment
from narrator.names import name_key


def read_tags(ch: Chapter) -> None:
    """Sieves 0-3: text messages and speech tags, in text order, so that a pronoun can skip
    the previous speaker."""
    quotes = ch.quotes
    prev_speaker: str | None = None
    prev_end_at = 0
    prev_para = -1
    for k, q in enumerate(quotes):
        next_start = quotes[k + 1].start if k + 1 < len(quotes) else len(ch.text)
        prev_end = quotes[k - 1].end if k > 0 else 0
        p_end = ch.para_end(q.para)
        p_start = ch.para_starts[q.para]
        limit = min(next_start, p_end, q.end + 200)
        floor = max(prev_end, p_start, q.start - 300)
        find_vocatives(ch, q, quotes[k - 1] if k else None)
        sender = ch.messages.match(ch.text, p_start, q.start + 1)
        tag = tag_after(ch, q, limit) if sender is None else None
        q.tag_side = TagSide.AFTER
        if sender is not None and sender.start("body") == q.start:
            # `[Ana]: where r u`: a text message, said by its sender.
            name = ch.sender_at(q.start, sender["sender"])
            known = ch.cast.by_alias.get(name_key(name))
            if is_storyteller_alias(name):
                who = ch.narrator_at(q.start)  # `Me: 2 min!!`
            else:
                who = ch.pick(known, q.start) if known else name
            q.speaker, q.confidence, q.sieve = who, CONF_EXPLICIT, Sieve.TAG_NAME
            q.tag, q.tag_side, q.tag_speaker = (TagKind.NAME, who), TagSide.BEFORE, True
        elif tag is None:
            # Narration ending in a colon first: its last clause's subject speaks.
            tag = colon_intro(ch, q, floor, quotes[k - 1] if k > 0 else None)
            tag = tag or tag_before(ch, q, floor)
            q.tag_side = TagSide.BEFORE
            if tag is not None and _in_split_tags_clause(ch, quotes, k, tag[1]):
                # `"I hope," said Oliver, when Mrs. Maylie returned, "that..."`: Oliver's.
                tag = quotes[k - 1].tag
        if tag is None and floor == p_start and q.para > 0 and q.start - p_start < 3:
            # `To which Mrs. Pell replied:` closing the narration paragraph before.
            prev_start = ch.para_starts[q.para - 1]
            lead = ch.text[prev_start:p_start].rstrip()
            last_quote_para = quotes[k - 1].para if k > 0 else -1
            if lead.endswith(":") and last_quote_para < q.para - 1:
                tag = tag_before(ch, q, max(prev_start, q.start - 300))
        if tag is not None and (
            (tag[0] is TagKind.PRONOUN and Sieve.PRONOUN in ch.disabled)
            or (tag[0] is TagKind.DESC and Sieve.DESCRIPTIVE in ch.disabled)
        ):
            tag = None
        if tag is not None:
            # In a running exchange the pronoun is rarely the one who spoke last.
            exclude = prev_speaker if q.para == prev_para + 1 else None
            if exclude is not None and ch.named_again(exclude, prev_end_at, q.start):
                exclude = None
            who, conf = resolve_tag(ch, tag[0], tag[1], q, exclude)
            if tag[0] is TagKind.PRONOUN and exclude is not None:
                who = answering(ch, q, tag[1], exclude, ch.by_para.get(q.para - 1, [])) or who
            q.speaker, q.confidence, q.sieve = who, conf, TAG_SIEVE[tag[0]]
            q.tag = tag
            q.tag_speaker = True
            if tag[0] in (TagKind.DESC, TagKind.NAME) and conf == CONF_GUESS:
                # A guess by gender: turn-taking may know better (`turns._regard`).
                q.guess_gender = noun_gender(tag[1])
                q.guessed = True
        if q.speaker is not None:
            prev_speaker, prev_para, prev_end_at = q.speaker, q.para, q.end
            if not ch.state.recent or ch.state.recent[-1] != q.speaker:
                ch.state.recent.append(q.speaker)


# A subordinate clause inside a tag (`when Mrs. Maylie returned`, `as Grimwig left`).
_SUBORDINATE_BEFORE_RE = re.compile(
    r"\b(?:when|as|while|whilst|before|after|till|until|because|whereupon)\s+$", re.IGNORECASE
)


def _in_split_tags_clause(ch: Chapter, quotes: list[Quote], k: int, subject: str) -> bool:
    """Is the subject read before quotation k only a subordinate clause of the tag that cut
    one quotation in two (`"I hope," said Oliver, when Mrs. Maylie returned, "that nothing is
    the matter?"`)? Then the second piece is the first one's speaker's."""
    if k == 0:
        return False
    a, q = quotes[k - 1], quotes[k]
    if a.para != q.para or not a.tag_speaker or a.tag_side is not TagSide.AFTER:
        return False
    between = ch.text[a.end : q.start]
    if SENT_END_RE.search(between.rstrip().rstrip(",:\u2014-").rstrip()):
        return False
    at = between.rfind(subject)
    return at > 0 and _SUBORDINATE_BEFORE_RE.search(between, 0, at) is not None


def apply_corrections(ch: Chapter) -> None:
    """The author's corrections are certain: every later sieve builds on them."""
    quotes = ch.quotes
    for q in quotes:
        if q.start in ch.fixed:
            q.speaker, q.confidence, q.sieve = ch.fixed[q.start], 1.0, Sieve.FIXED
            q.evidence = ("corrected by the author",)
            q.tag_speaker, q.guessed = True, False


def share_paragraph_tags(ch: Chapter) -> None:
    """An untagged quotation shares the tag of its paragraph, unless someone else acts
    right before it."""
    for para_quotes in ch.by_para.values():
        for j, (q, src) in enumerate(zip(para_quotes, tag_sources(para_quotes), strict=True)):
            if q.speaker is None and src is not None:
                # `"Thanks," Krum said. Woolsey shook his head. "I have to go."`
                other = lead_actor(ch, q, para_quotes[j - 1].end if j else q.start)
                if other is not None and other != src.speaker:
                    q.speaker, q.confidence, q.sieve = other, CONF_ACTION, Sieve.ACTION
                    continue
                q.speaker, q.confidence, q.sieve = src.speaker, CONF_PARAGRAPH, Sieve.PARAGRAPH


def continue_speech(ch: Chapter) -> None:
    """A quotation continued over paragraphs (no closing mark) keeps its speaker, forward
    then backward."""
    quotes = ch.quotes
    for k in range(1, len(quotes)):
        a, b = quotes[k - 1], quotes[k]
        if not a.closed and b.para == a.para + 1 and b.speaker is None and a.speaker:
            answer_paragraph(ch.by_para[b.para], a.speaker, CONF_CONTINUED, Sieve.CONTINUED)
    for k in range(len(quotes) - 2, -1, -1):
        a, b = quotes[k], quotes[k + 1]
        if not a.closed and b.para == a.para + 1 and a.speaker is None and b.speaker:
            answer_paragraph(ch.by_para[a.para], b.speaker, CONF_CONTINUED, Sieve.CONTINUED)


# A quotation broken off (`It's not—`) and one taking it up (`—dead.`, `...and then`).
_BROKEN_OFF_RE = re.compile(r"(?:\u2014|\u2013|--|-)[\"'\u201d\u2019\u00bb]?\s*$")
_TAKES_UP_RE = re.compile(r"[\"'\u201c\u2018\u00ab]?\s*(?:\u2014|\u2013|--|\.\.\.|\u2026)\s*[a-z]")
_RESUME_PARAS = 2  # paragraphs from the broken-off quotation to the one taking it up


def take_up(ch: Chapter) -> None:
    """A quotation broken off and taken up again is the same speaker's (`"It's not—" I
    start. The rubble heaves. "—dead."`). After the tags and actions, before turn-taking."""
    quotes = ch.quotes
    for a, b in pairwise(quotes):
        if (
            b.speaker is None
            and a.speaker
            and b.para - a.para <= _RESUME_PARAS
            and _broken_off(ch, a)
            and _takes_up(ch, b)
        ):
            b.speaker, b.confidence, b.sieve = a.speaker, CONF_CONTINUED, Sieve.CONTINUED


def _broken_off(ch: Chapter, q: Quote) -> bool:
    return _BROKEN_OFF_RE.search(ch.text, q.start, q.end) is not None


def _takes_up(ch: Chapter, q: Quote) -> bool:
    return _TAKES_UP_RE.match(ch.text, q.start, q.end) is not None


def act(ch: Chapter) -> None:
    """Sieve 5: a character acting in the paragraph speaks; with several turns, beats."""
    for para, para_quotes in ch.by_para.items():
        if para_quotes[0].speaker is not None:
            continue
        who = actor(ch, para, para_quotes)
        if who is not None:
            answer_paragraph(para_quotes, who, CONF_ACTION, Sieve.ACTION)
            beats(ch, para_quotes)


def nearest_mention(ch: Chapter) -> None:
    """Sieve 7: the nearest named character before a paragraph still unanswered; with a
    first-person narrator and nobody named near, the narrator."""
    for para_quotes in ch.by_para.values():
        if para_quotes[0].speaker is None:
            q = para_quotes[0]
            vocs = set().union(*(x.vocatives for x in para_quotes))
            near = antecedent(ch, q.start, None, None, window=12000, names_only=True, avoid=vocs)
            if near is None and ch.personal:
                near = ch.narrator_at(q.start)  # nobody named near: the storyteller
            if near is not None:
                answer_paragraph(para_quotes, near, CONF_FALLBACK, Sieve.FALLBACK)


def narrators_thoughts(ch: Chapter) -> None:
    """An untagged thought in a first-person chapter is the narrator's, and in a part headed
    by the one who tells it (`~ Mara ~`, `Kess's POV`) theirs: the story hears nobody else's
    thoughts (`*Okay. Don't panic.*`)."""
    for q in ch.quotes:
        if not q.thought or q.speaker is not None:
            continue
        headed = bisect.bisect_right(ch.pov_starts, q.start) > 0
        if ch.personal or headed:
            q.speaker, q.confidence, q.sieve = ch.narrator_at(q.start), CONF_THOUGHT, Sieve.THOUGHT


# The sieves in the order they run (see the module docstring), each with the switch that
# turns it off (`disabled`); None: always on, or switched off inside (turn-taking reads
# VOCATIVE, TURN and FALLBACK).
SIEVE_STEPS: tuple[tuple[Callable[[Chapter], None], Sieve | None], ...] = (
    (read_tags, None),
    (self_introduced, None),
    (usual_epithets, None),
    (apply_corrections, None),
    (narrators_thoughts, Sieve.THOUGHT),
    (self_named, Sieve.SELF_NAMED),
    (share_paragraph_tags, Sieve.PARAGRAPH),
    (continue_speech, Sieve.CONTINUED),
    (act, Sieve.ACTION),
    (take_up, Sieve.CONTINUED),
    (conversations, None),
    (nearest_mention, Sieve.FALLBACK),
    (split_turns, Sieve.SPLIT),
)


def run_sieves(
    text: str,
    segments: Sequence[Segment],
    characters: Sequence[Character],
    narrative_person: int | None = None,
    disabled: Collection[str] = (),
    fixed: Mapping[int, str] | None = None,
    complete: bool | None = None,
) -> Chapter:
    """Run every sieve; the chapter's quotations keep each answer and the sieve that gave it.

    `disabled`: sieves switched off, any of SIEVES (or their names). `complete`: every
    speaker is in the cast (None: when it lists walk-ons, `lists_walk_ons`).
    """
    unknown = set(disabled) - set(SIEVES)
    if unknown:
        raise ValueError(f"unknown sieve(s): {', '.join(sorted(unknown))}")
    off = frozenset(Sieve(name) for name in disabled)
    ch = Chapter(text, segments, characters, narrative_person, off, fixed, complete)
    for step, switch in SIEVE_STEPS:
        if switch not in ch.disabled:
            step(ch)
    return ch


_FIRST_OF_TWO = "the first of two turns inside the same quotation marks"
_SYSTEM_LINE = "a system line: one bracketed line of its own"


def to_segments(ch: Chapter) -> list[Segment]:
    """The chapter's segments with each quotation's answer; a quoted run holding two turns
    comes back as two segments."""
    out = list(ch.segments)
    result: list[Segment] = []
    by_index = {q.index: q for q in ch.quotes}
    for i, seg in enumerate(out):
        q = by_index.get(i)
        if q is None:
            if i in ch.system_lines:  # the system's, unless the author says
                who = ch.fixed.get(seg.start, SYSTEM)
                conf = 1.0 if seg.start in ch.fixed else CONF_SYSTEM
                seg = replace(seg, speaker=who, confidence=conf, evidence=(_SYSTEM_LINE,))
            result.append(seg)
            continue
        conf = round(q.confidence, 2) if q.speaker else 0.0
        if q.split_at is not None:
            first = replace(
                seg, end=q.split_at, text=ch.text[seg.start : q.split_at],
                speaker=q.speaker, confidence=conf,
                evidence=q.evidence or (_FIRST_OF_TWO,),
                candidates=q.candidates,
            )  # fmt: skip
            second = replace(
                seg, start=q.split_at, text=ch.text[q.split_at : seg.end],
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
