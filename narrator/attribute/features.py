"""Candidates and evidence: who could have said each quotation, and what speaks for each.

Input: the chapter after its sieves ran (`sieves.run_sieves`). Output: for every quotation,
a list of `Candidate`s (the sieve's answer, people on stage, recent speakers, the people
addressed, the one a tagged speaker of the exchange talked with just before, the first-person
narrator), each with named evidence features. The ranker (`ranker.py`) weighs the features
with weights learned on the dev books.

Each kind of evidence is one small function below, listed in EVIDENCE in the order they run.
They read the shared `Context` and add features to the candidates of one quotation.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from narrator.attribute.chapter import Chapter
from narrator.attribute.descriptions import nameless_label, noun_gender, strip_det
from narrator.attribute.idiolect import Idiolects, lines, tagged
from narrator.attribute.patterns import PREPOSITIONS, says_own_name
from narrator.attribute.quotes import Mention, Quote, Sieve, TagKind, tag_sources
from narrator.attribute.tags import GROUP_PRONOUNS
from narrator.attribute.turns import exchange_breaks, thought_paragraphs
from narrator.lexicon import PRONOUN_GENDER
from narrator.model import Gender
from narrator.names import name_key

# Sieves whose answer rests on text next to the quotation, not on other answers.
STRONG = frozenset({Sieve.TAG_NAME, Sieve.TAG_PRONOUN, Sieve.TAG_DESC, Sieve.ACTION, Sieve.FIXED})
# Sieves whose answer restates evidence the ranker weighs for itself: turn-taking
# (`turn_taking`, `alternation`, `exchange_votes`, `first_person`) and the name nearest
# before (`on_stage`). Their answer stays a candidate with its reason and casts no vote of
# its own, so the ranker's learned weights decide such lines, not rules written against
# the dev books (leave one book out: bench/RESULTS.md, round 16).
RESTATED = frozenset({Sieve.TURN, Sieve.TURN_BACK, Sieve.TURN_NARRATOR, Sieve.FALLBACK})
# How far back a narration mention puts someone on stage (characters; about a page).
STAGE_WINDOW = 3000
# How far back a description may reach for someone of its gender named before the stage's
# window (`said the old lady`, the housekeeper named pages ago); 60,000 measured no better.
FAR_WINDOW = 20000
# How far into a paragraph (characters each side of the quotation) its narration counts as
# this quotation's: a long paragraph is read only near the quotation, which keeps a chapter
# written as one huge paragraph linear in time.
PARAGRAPH_REACH = 3000
# How many recent speakers and mentioned people are candidates.
RECENT = 4
# How far back the exchange before counts as the same conversation (`partners`).
PARTNER_BLOCKS = 3
PARTNER_PARAS = 30
# Words per paragraph, on average, below which a text is written in short paragraphs, as
# most web fiction is (12 to 20 in 31 of the 39 dev chapters; every dev novel and opening
# 20 to 140), and the mark of the features only such texts have. 26 (the dialogue-heavy
# novels too) was tried: bench/RESULTS.md, round 11.
SHORT_PARAGRAPH = 20
SHORT = "@short"
# What a tag says weighs the same in any text: the sieves' answer, a tag's gender, a
# description, a name said as one's own.
_SHARED = ("sieve", "desc_", "pronoun_", "described", "named_far", "names_self")
# An exchange of this many turns or more runs on turn-taking (two people talking).
LONG_EXCHANGE = 4
_OBJECT_BEFORE = re.compile(rf"\b(?:{PREPOSITIONS}|[a-z]+ed)\s+$")  # or a verb: `called Ana`
# Before a name opening a sentence, for `para_subject`. Pronoun antecedents read a narrower
# one (`pronouns._SENTENCE_START_BEFORE_RE`: no colon or quote mark, no `Now`); either one
# for both measured worse (bench/RESULTS.md, round 8), so they stay two.
_SENTENCE_START = re.compile(r"(?:^|[.!?;:\"\u201d]\s+|\n\s*)(?:(?:Then|But|And|So|Now)\s+)?$")


@dataclass(slots=True)
class Candidate:
    name: str
    features: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)

    def add(self, feature: str, value: float = 1.0, why: str | None = None) -> None:
        self.features[feature] = self.features.get(feature, 0.0) + value
        if why:
            self.say(why)

    def say(self, why: str | None) -> None:
        """Keep a reason for the candidate (shown to the author), once."""
        if why and why not in self.evidence:
            self.evidence.append(why)


@dataclass
class Turn:
    """One paragraph of an exchange: its quotations and where it stands."""

    para: int
    quotes: list[Quote]
    block: int  # which exchange
    index: int  # position in the exchange

    @property
    def speaker(self) -> str | None:
        return self.quotes[0].speaker

    @property
    def strong(self) -> str | None:
        q = self.quotes[0]
        return q.first if q.sieve in STRONG and not q.guessed else None

    @cached_property
    def vocatives(self) -> set[str]:
        """Everyone addressed in the paragraph (the sieves set them before the ranker runs)."""
        return set().union(*(q.vocatives for q in self.quotes))

    @cached_property
    def tag_source(self) -> dict[int, Quote | None]:
        """id of each quotation -> the one whose tag it shares (`quotes.tag_sources`)."""
        return {id(q): src for q, src in zip(self.quotes, tag_sources(self.quotes), strict=True)}


class Context:
    """What every kind of evidence reads: built once per chapter from the sieves' `Chapter`."""

    def __init__(self, chapter: Chapter, idiolects: Idiolects | None = None) -> None:
        self.chapter = chapter
        self.text = chapter.text
        # How each character talks: the book's, else this chapter's own tagged lines.
        self.tagged_idiolects = (
            Idiolects.of_lines(lines(chapter)) if idiolects is None else idiolects
        )
        self.learn_voices([])  # `idiolects` and `sampled`: nothing ranked yet
        for q in chapter.quotes:
            q.first = q.speaker
        by_para: dict[int, list[Quote]] = {}
        for q in chapter.quotes:
            by_para.setdefault(q.para, []).append(q)
        self.turns: list[Turn] = []
        self.turn_of: dict[int, Turn] = {}  # para -> turn
        block, last, index = -1, -10, 0
        thoughts = thought_paragraphs(by_para)
        for para in sorted(by_para):
            if exchange_breaks(last, para, thoughts):
                block, index = block + 1, 0
            turn = Turn(para, by_para[para], block, index)
            self.turns.append(turn)
            self.turn_of[para] = turn
            last, index = para, index + 1
        # Named narration mentions: (start, name), in text order.
        # Not the owner of someone named after them (`Nico's mother sat down`): not on stage.
        self.named: list[tuple[int, str]] = []
        for m in chapter.mentions:
            if m.in_quote or not m.names or m.narr:
                continue
            if set(m.names) <= chapter.cast.weak:
                continue
            if chapter.relative_after(m.end) is not None:
                continue
            self.named.append((m.start, chapter.pick(m.names, m.start)))
        self.named_starts = [s for s, _ in self.named]
        # A text of short paragraphs (web fiction) takes turns and brings people on stage in
        # its own way: every feature has a twin that only such texts have (`candidates`).
        words = [
            len(self.text[a:b].split())
            for a, b in map(self.para_span, range(len(chapter.para_starts)))
        ]
        self.short_paragraphs = bool(words) and sum(words) / len(words) < SHORT_PARAGRAPH
        # Nameless people in narration (`the footman`), in text order.
        self.strangers = [
            m for m in chapter.mentions if not m.names and not m.narr and not m.in_quote
        ]
        self.stranger_starts = [m.start for m in self.strangers]
        self.count: dict[str, int] = {}
        for _, name in self.named:
            self.count[name] = self.count.get(name, 0) + 1
        self.turn_pos = {id(t): i for i, t in enumerate(self.turns)}
        self.block_turns: dict[int, list[Turn]] = {}
        for t in self.turns:
            self.block_turns.setdefault(t.block, []).append(t)
        self.block_len = {b: len(ts) for b, ts in self.block_turns.items()}
        # Tagged speakers per exchange, counted by the parity of their turn.
        self.parity_votes: dict[int, tuple[dict[str, int], dict[str, int]]] = {}
        for block, ts in self.block_turns.items():
            votes: tuple[dict[str, int], dict[str, int]] = ({}, {})
            for t in ts:
                if t.strong is not None:
                    side = votes[t.index % 2]
                    side[t.strong] = side.get(t.strong, 0) + 1
            self.parity_votes[block] = votes

        # Who each exchange was between, by the sieves' first answers: (first para, people),
        # indexed by exchange (they are numbered 0, 1, ... in text order).
        self.block_people: list[tuple[int, set[str]]] = [
            (ts[0].para, {q.first for t in ts for q in t.quotes[:1] if q.first is not None})
            for _, ts in sorted(self.block_turns.items())
        ]

    def learn_voices(self, sure: list[Quote]) -> None:
        """How each character talks, read again: their tagged lines and these quotations,
        answered surely by a round of ranking (`ranker.rank`), each in its speaker's sample."""
        said = [(q, q.speaker) for q in sure if q.speaker is not None]
        # The quotations in a sample that no tag put there: id -> the speaker.
        self.sampled: dict[int, str] = {id(q): who for q, who in said}
        # None sure: the tagged table itself, its scores cached (no copy per chapter).
        self.idiolects = self.tagged_idiolects
        if said:
            self.idiolects = self.tagged_idiolects.with_lines(
                (who, self.text[q.start : q.end]) for q, who in said
            )

    def partners(self, block: int, who: str, step: int = -1) -> set[str]:
        """The one person `who` talked with in the nearest exchange before this one (step
        -1; after it, step 1) that they were in, if it was the two of them and near."""
        start = self.block_people[block][0]
        last = min(max(block + step * PARTNER_BLOCKS, 0), len(self.block_people) - 1)
        for b in range(block + step, last + step, step):
            first, people = self.block_people[b]
            if abs(start - first) > PARTNER_PARAS:
                break
            if who in people:
                return people - {who} if len(people) == 2 else set()
        return set()

    def para_span(self, para: int) -> tuple[int, int]:
        return self.chapter.para_starts[para], self.chapter.para_end(para)

    def strangers_in(self, start: int, end: int) -> list[Mention]:
        i = bisect.bisect_left(self.stranger_starts, start)
        j = bisect.bisect_left(self.stranger_starts, end)
        return self.strangers[i:j]

    def named_in(self, start: int, end: int) -> list[tuple[int, str]]:
        i = bisect.bisect_left(self.named_starts, start)
        j = bisect.bisect_left(self.named_starts, end)
        return self.named[i:j]

    def mentions_in(self, q: Quote) -> list[tuple[int, int, str]]:
        """Named mentions inside the quotation itself: (start, end, name)."""
        chapter = self.chapter
        i = bisect.bisect_left(chapter.mention_starts, q.start)
        out = []
        while i < len(chapter.mentions) and chapter.mentions[i].start < q.end:
            m = chapter.mentions[i]
            if m.names and not m.narr:
                out.append((m.start, m.end, chapter.pick(m.names, m.start)))
            i += 1
        return out

    def neighbour(self, turn: Turn, step: int) -> Turn | None:
        i = self.turn_pos[id(turn)] + step
        if 0 <= i < len(self.turns) and self.turns[i].block == turn.block:
            return self.turns[i]
        return None


Pool = dict[str, Candidate]
Evidence = Callable[[Context, Quote, Turn, Pool], None]


def _get(pool: Pool, name: str) -> Candidate:
    c = pool.get(name)
    if c is None:
        c = pool[name] = Candidate(name)
    return c


def _merge(pool: Pool, part: Pool) -> None:
    """Add what one kind of evidence found (`part`) to the pool, as if it had run on it:
    the same candidates in the same order, the same features, the same reasons."""
    for name, found in part.items():
        c = pool.get(name)
        if c is None:
            pool[name] = Candidate(name, found.features.copy(), found.evidence.copy())
            continue
        features = c.features
        for feature, value in found.features.items():
            features[feature] = features.get(feature, 0.0) + value
        for why in found.evidence:
            c.say(why)


def sieve_answer(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """The sieves' answer, by the sieve that gave it (their precision is learned per sieve).

    A description the sieves could tie to nobody (`said the gentleman`, no gentleman
    introduced, no man named near) is no answer: `nameless` makes it one candidate among others.
    An answer by turn-taking or the nearest name (`RESTATED`) is a candidate without a vote.
    """
    if q.first is None or tied_to_nobody(ctx, q):
        return
    c = _get(pool, q.first)
    if answered_by(q) in RESTATED:
        c.say(_sieve_reason(q))
        return
    c.add("sieve", why=None)
    c.add(f"sieve={answered_by(q)}", why=_sieve_reason(q))


def tied_to_nobody(ctx: Context, q: Quote) -> bool:
    """The sieves' answer is only the tag's own words: a description they guessed at and
    could tie to no cast member (`said the gentleman`, nobody introduced, no man near)."""
    return q.guessed and q.first is not None and q.first not in ctx.chapter.cast.gender


def answered_by(q: Quote) -> Sieve:
    """The sieve a quotation's answer is weighed as: a gender guess is a kind of its own."""
    return Sieve.TAG_GUESS if q.guessed else q.sieve


def _sieve_reason(q: Quote) -> str:
    who = q.first
    if q.sieve is Sieve.FIXED:
        return "corrected by the author"
    if q.tag is not None:
        kind, words = q.tag
        if kind is TagKind.PRONOUN:
            return f"pronoun {words} -> {who}"
        return f"tag: {words}"
    return {
        Sieve.NONE: "no evidence",
        Sieve.PARAGRAPH: "shares the paragraph's tag",
        Sieve.CONTINUED: "speech continued, or broken off and taken up again",
        Sieve.ACTION: f"{who} acts in the paragraph",
        Sieve.THOUGHT: f"a thought: {who} tells this part",
        Sieve.SELF_NAMED: f"says they are {who}",
        Sieve.VOCATIVE: f"{who} was addressed by the turn before",
        Sieve.TURN: "turn-taking",
        Sieve.TURN_BACK: "turn-taking, read back from later turns",
        Sieve.TURN_NARRATOR: "the first-person narrator answers",
        Sieve.FALLBACK: f"{who} was named nearby",
        Sieve.TAG_DESC_TURN: "an epithet, read by turn-taking",
    }.get(q.sieve, q.sieve.value)


def turn_taking(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """Who spoke one and two turns before and after in the same exchange."""
    for step, strong, said in _TURN_FEATURES:
        other = ctx.neighbour(turn, step)
        if other is None:
            continue
        if other.strong is not None:
            _get(pool, other.strong).add(strong)
        if other.speaker is not None:
            _get(pool, other.speaker).add(said)


# Turns before and after, with their features' names (`said_t-1`: who spoke the turn before).
_TURN_FEATURES = tuple((step, f"strong_t{step:+d}", f"said_t{step:+d}") for step in (-2, -1, 1, 2))


def partner(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """A conversation goes on over a line of narration: the one tagged on the other parity
    of this exchange talked with someone just before (or talks with them just after), who
    is likely the one answering now."""
    other = ctx.parity_votes[turn.block][1 - turn.index % 2]
    for name in other:
        for p in ctx.partners(turn.block, name):
            _get(pool, p).add("partner_before", why=f"talked with {name} just before")
        for p in ctx.partners(turn.block, name, 1):
            _get(pool, p).add("partner_after", why=f"talks with {name} just after")


def alternation(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """A, B, A: the one who spoke two turns away when someone else spoke in between, unless
    this turn calls them by name (`Did you sleep, Hal?`: then the alternation is broken)."""
    for a, b, where in ((-2, -1, "back"), (2, 1, "ahead")):
        two, one = ctx.neighbour(turn, a), ctx.neighbour(turn, b)
        if two is None or one is None:
            continue
        if two.speaker is not None and two.speaker != one.speaker:
            if two.speaker in turn.vocatives:
                continue  # called by name in this turn: turn-taking says nothing for them
            _get(pool, two.speaker).add(f"alternates_{where}")
            if two.strong is not None and two.strong == two.speaker:
                why = f"turn-taking: {two.speaker} is tagged two turns " + (
                    "before" if a < 0 else "after"
                )
                pool[two.speaker].add(f"alternates_tagged_{where}", why=why)
    if ctx.block_len[turn.block] >= LONG_EXCHANGE:
        for c in pool.values():
            if "alternates_back" in c.features or "alternates_ahead" in c.features:
                c.add("alternates_long")


def exchange_votes(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """Tags anywhere in the exchange vote: same parity as this turn for, the other against.

    Two people talking take turns, so a tag four turns away says as much as one two turns
    away; one wrong tag is outvoted instead of copied down the exchange. A turn that calls
    someone by name gets no votes for them.
    """
    by_parity = ctx.parity_votes[turn.block]
    same = dict(by_parity[turn.index % 2])
    other = by_parity[1 - turn.index % 2]
    if turn.strong is not None:
        same[turn.strong] -= 1  # this turn's own tag is not a vote
    for name, n in same.items():
        if n <= 0 or name in turn.vocatives:
            continue
        why = f"turn-taking: {name} is tagged on {n} turn{'s' * (n > 1)} of this parity"
        _get(pool, name).add("exchange_same", math.log1p(n), why=why)
    for name, n in other.items():
        _get(pool, name).add("exchange_other", math.log1p(n))


def paragraph_tag(q: Quote, turn: Turn) -> tuple[TagKind, str] | None:
    """The quotation's tag, or the tag it shares with its paragraph (`"Save us!" said the old
    lady. "What a dear it is."`), the one `share_paragraph_tags` gave it."""
    if q.tag is None and q.sieve is Sieve.PARAGRAPH:
        src = turn.tag_source[id(q)]
        return src.tag if src is not None else None
    return q.tag


def _gender_of(kind: TagKind, words: str) -> Gender | None:
    """The gender a pronoun tag (`she`) or a descriptive one (`the old man`) gives."""
    return PRONOUN_GENDER.get(words.lower()) if kind is TagKind.PRONOUN else noun_gender(words)


def tag_gender(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """`she said`, `said the old man`: the tag's gender fits some candidates and not others."""
    tag = paragraph_tag(q, turn)
    if tag is None or tag[0] not in (TagKind.PRONOUN, TagKind.DESC):
        return
    kind, words = tag
    gender = _gender_of(kind, words)
    if gender is None:
        return
    for c in pool.values():
        have = ctx.chapter.cast.gender.get(c.name)
        if have == gender:
            c.add(f"{kind}_gender_fits")
        elif have is not None:
            c.add(f"{kind}_gender_clash")


def named_far(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """`said the old lady` when the housekeeper was named pages ago: a description may be
    anyone of its gender named earlier, within `FAR_WINDOW` and beyond the stage's window."""
    tag = paragraph_tag(q, turn)
    if tag is None or tag[0] is not TagKind.DESC:
        return
    gender = _gender_of(*tag)
    far = ctx.named_in(max(0, q.start - FAR_WINDOW), max(0, q.start - STAGE_WINDOW))
    for name in dict.fromkeys(name for _, name in far):  # each once, in text order
        if gender is None or ctx.chapter.cast.gender.get(name) == gender:
            _get(pool, name).add("named_far", why=f"{name} was named earlier and may be {tag[1]}")


def named_later(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """`said the stranger` when the stranger's name comes a page later (`It was Monks`): a
    description may be anyone of its gender first named within `STAGE_WINDOW` after it."""
    tag = paragraph_tag(q, turn)
    if tag is None or tag[0] is not TagKind.DESC:
        return
    gender = _gender_of(*tag)
    before = {name for _, name in ctx.named_in(max(0, q.start - STAGE_WINDOW), q.start)}
    for name in dict.fromkeys(name for _, name in ctx.named_in(q.end, q.end + STAGE_WINDOW)):
        if name not in before and (gender is None or ctx.chapter.cast.gender.get(name) == gender):
            _get(pool, name).add(
                "named_later", why=f"{name} is named just after, and may be {tag[1]}"
            )


def nameless(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """`said the shopkeeper`: the person the tag describes, a speaker of their own; `they
    shouted`: the group the sieves read it as (`the guards`, or `they`); `said the
    croupier` with a cast entry for the croupier: that entry, whomever the sieves read."""
    tag = paragraph_tag(q, turn)
    if tag is None:
        return
    if tag[0] is TagKind.PRONOUN and tag[1] in GROUP_PRONOUNS:
        if q.first is not None and q.first not in ctx.chapter.cast.gender:
            _get(pool, q.first).add("described", why=f"tag: {tag[1]}")
        return
    if tag[0] is not TagKind.DESC:
        return
    label = nameless_label(tag[1])
    cast = ctx.chapter.cast
    listed = cast.by_alias.get(name_key(label)) or cast.described(strip_det(label))
    if listed:
        # A cast member's epithet: the sieves read it, and may have read it as someone
        # else (`the croupier` as whoever was named last); the entry stays a candidate.
        for name in listed:
            _get(pool, name).add("described_listed", why=f"the cast lists {tag[1]}")
        return
    stranger = _get(pool, label)
    stranger.add("described", why=f"tag: {tag[1]}")
    if ctx.chapter.cast.lists_epithets:
        stranger.add("described_unlisted", why="the cast lists epithets, and not this one")


def strangers(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """Someone nameless opening a sentence of the narration next to an untagged line (`The
    footman brought it in and bowed. / "A letter, ma'am."`): a candidate of their own."""
    if paragraph_tag(q, turn) is not None:
        return
    spans = [(max(ctx.chapter.para_starts[q.para], q.start - PARAGRAPH_REACH), q.start, "here")]
    p_end = ctx.chapter.para_end(q.para)
    spans.append((q.end, min(p_end, q.end + PARAGRAPH_REACH), "here"))
    if q.para > 0 and q.para - 1 not in ctx.turn_of:
        a, b = ctx.para_span(q.para - 1)
        spans.append((max(a, b - PARAGRAPH_REACH), b, "before"))
    if q.para + 1 < len(ctx.chapter.para_starts) and q.para + 1 not in ctx.turn_of:
        a, b = ctx.para_span(q.para + 1)
        spans.append((a, min(b, a + PARAGRAPH_REACH), "after"))
    for lo, hi, where in spans:
        for m in ctx.strangers_in(lo, hi):
            if _at_sentence_start(ctx.text, m.start, lo):
                _get(pool, m.label).add(f"stranger_{where}", why=f"{m.label} acts nearby")


def addressees(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """Named in address: by the turn before (answers now), here (is not speaking), after."""
    for step, feature in ((-1, "addressed_before"), (1, "addressed_after")):
        other = ctx.neighbour(turn, step)
        if other is None:
            continue
        for name in sorted(other.vocatives):  # sets iterate by hash: one order every run
            why = f"addressed by the turn {'before' if step < 0 else 'after'}"
            _get(pool, name).add(feature, why=why)
    for name in sorted(turn.vocatives):
        _get(pool, name).add("addressed_here")


def _at_sentence_start(text: str, start: int, floor: int) -> bool:
    """Does a name at start open a sentence, its paragraph starting at floor?"""
    lead = text[max(floor, start - 12) : start]
    return _SENTENCE_START.search(lead if start - 12 > floor else "\n" + lead) is not None


def on_stage(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """People named in narration: in this paragraph (subjects first), in the narration before
    (subjects, objects and the last one named marked: `handed them to Tom` is not Tom
    acting, `Brett smiled at him` is Brett) and after (opening a sentence, and someone the
    stage had not named: `Sheriff Pruitt stood in the doorway`)."""
    p_start, p_end = ctx.para_span(q.para)
    text = ctx.text
    stage = ctx.named_in(max(0, q.start - STAGE_WINDOW), q.start)
    # Within a page of the quotation: a paragraph can be a whole chapter of web fiction, and
    # reading all of it for each of its quotations would take quadratic time.
    reach = PARAGRAPH_REACH
    near = ctx.named_in(max(p_start, q.start - reach), min(p_end, q.end + reach))
    for start, name in near:
        c = _get(pool, name)
        side = "before" if start < q.start else "after"
        c.add(f"para_{side}", why=f"{name} is named in the paragraph")
        if _at_sentence_start(text, start, p_start):
            c.add("para_subject")
    if q.para > 0:
        a, b = ctx.para_span(q.para - 1)
        if q.para - 1 not in ctx.turn_of:
            before = ctx.named_in(max(a, b - PARAGRAPH_REACH), b)
            for start, name in before:
                c = _get(pool, name)
                c.add("prev_para_narr")
                if _OBJECT_BEFORE.search(text[max(a, start - 12) : start]):
                    c.add("prev_para_object")
                elif _at_sentence_start(text, start, a):
                    c.add("prev_para_subject")
            if before:
                _get(pool, before[-1][1]).add("prev_para_last")
    if q.para + 1 < len(ctx.chapter.para_starts):
        a, b = ctx.para_span(q.para + 1)
        if q.para + 1 not in ctx.turn_of:
            on_stage_before = {name for _, name in stage}
            for start, name in ctx.named_in(a, min(b, a + PARAGRAPH_REACH)):
                c = _get(pool, name)
                c.add("next_para_narr")
                if _at_sentence_start(text, start, a):
                    c.add("next_para_subject")
                    if name not in on_stage_before:
                        c.add("next_para_arrives", why=f"{name} comes on just after the line")
    # The most recently named people before the quotation, by rank.
    seen: list[str] = []
    for _, name in reversed(stage):
        if name not in seen:
            seen.append(name)
            if len(seen) > RECENT:
                break
    for rank, name in enumerate(seen[:RECENT]):
        _get(pool, name).add(f"named_rank{min(rank, 2)}")


def recent_speakers(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """The people who spoke last, most recent first (by the sieves' answers)."""
    i = ctx.turn_pos[id(turn)] - 1
    turns, since = ctx.turns, q.start - STAGE_WINDOW
    seen: list[str] = []
    while i >= 0 and len(seen) < RECENT:
        first = turns[i].quotes[0]  # a turn's speaker is its first quotation's
        if first.start <= since:
            break
        who = first.speaker
        if who is not None and who not in seen:
            seen.append(who)
        i -= 1
    for rank, name in enumerate(seen):
        _get(pool, name).add(f"spoke_rank{min(rank, 2)}")


def named_inside(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """A name inside the quotation that is not an address: people rarely name themselves,
    unless they say who they are (`My name is Oliver`, `I'm Anne`, `Call me Dev`)."""
    for start, end, name in ctx.mentions_in(q):
        if says_own_name(ctx.text, start, end, q.start):
            _get(pool, name).add("names_self", why=f"says they are {name}")
        elif name in pool and name not in q.vocatives:
            pool[name].add("named_inside")


def first_person(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """In a first-person chapter the narrator is always on stage (in a second-person one,
    the `you` it is told to). An exchange whose tags name others on both sides and the
    narrator on neither (a hearing, an interview) is one the narrator may only watch."""
    if ctx.chapter.personal:
        name = ctx.chapter.narrator_at(q.start)
        c = _get(pool, name)
        c.add("narrator", why="the first-person narrator")
        votes = ctx.parity_votes[turn.block]
        if all(set(side) - {name} for side in votes) and not any(name in v for v in votes):
            c.add("narrator_untagged")


def idiolect(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """How much the quotation's words sound like each candidate's sample (`idiolect`: their
    tagged lines, and the lines a round of ranking was sure of): above or below the
    candidates' mean, and the one it sounds most like."""
    own = ctx.sampled.get(id(q), q.first if tagged(q) else None)
    scores = ctx.idiolects.score(ctx.text[q.start : q.end], pool, own)
    if len(scores) < 2:
        return
    mean = sum(scores.values()) / len(scores)
    for name, v in scores.items():
        pool[name].add("style", (v - mean) / 5)
    best = max(scores, key=scores.__getitem__)
    pool[best].add("style_best", why=f"talks like {best}")


def frequency(ctx: Context, q: Quote, turn: Turn, pool: Pool) -> None:
    """Main characters speak more: how often each candidate is named in the chapter."""
    for c in pool.values():
        c.add("log_count", math.log1p(ctx.count.get(c.name, 0)) / 5)
        if c.name not in ctx.chapter.cast.gender and c.name != ctx.chapter.narrator_at(q.start):
            c.add("nameless")


EVIDENCE: tuple[Evidence, ...] = (
    sieve_answer,
    turn_taking,
    partner,
    alternation,
    exchange_votes,
    nameless,
    strangers,
    addressees,
    on_stage,
    recent_speakers,
    named_inside,
    first_person,
    named_far,
    named_later,
    # Last but one, as frequency: these weigh every candidate the others proposed.
    tag_gender,
    idiolect,
    frequency,
)


# Evidence that reads only the text, the tags and the sieves' answers, never a round's
# answers (`Quote.speaker`), the voices learned (`Context.learn_voices`) or the candidates
# proposed before it: the same in every round of ranking, so it is worked out once.
FIXED: frozenset[Evidence] = frozenset(
    {
        sieve_answer,
        partner,
        exchange_votes,
        nameless,
        strangers,
        addressees,
        on_stage,
        first_person,
        named_far,
        named_later,
    }
)
# What the FIXED evidence found for each quotation (by its index), in EVIDENCE order.
Found = dict[int, list[Pool]]


def candidates(ctx: Context, found: Found | None = None) -> list[list[Candidate]]:
    """Every quotation's candidates with their features, in the order of `chapter.quotes`.

    `found`: kept by the caller from one round of ranking to the next, so the FIXED
    evidence is worked out once; the candidates are the same as without it."""
    out = []
    cast = ctx.chapter.cast
    for i, q in enumerate(ctx.chapter.quotes):
        pool: Pool = {}
        turn = ctx.turn_of[q.para]
        parts = None if found is None else found.setdefault(i, [])
        n = 0  # FIXED kinds met so far
        for evidence in EVIDENCE:
            if parts is None or evidence not in FIXED:
                evidence(ctx, q, turn, pool)
                continue
            if n == len(parts):  # the first round: work it out
                parts.append({})
                evidence(ctx, q, turn, parts[n])
            _merge(pool, parts[n])
            n += 1
        cands = list(pool.values())
        if ctx.short_paragraphs:  # its own weights for a text of short paragraphs
            for c in cands:
                c.features.update(
                    {f + SHORT: v for f, v in c.features.items() if not f.startswith(_SHARED)}
                )
        if cast.complete:
            # The cast lists walk-ons too: nobody outside it speaks (the narrator aside).
            narrator = ctx.chapter.narrator_at(q.start)
            listed = [c for c in cands if c.name in cast.gender or c.name == narrator]
            cands = listed or cands
        out.append(cands)
    return out
