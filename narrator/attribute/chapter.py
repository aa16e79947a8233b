"""The chapter as the sieves read it: a typed context built once per chapter.

Input: the chapter text, its segments, the characters, the narrative person, the author's
corrections and the sieves switched off. `Chapter` holds the paragraphs, the cast index, the
quotations (`Quote`), every mention of a person in text order, the narrative person and the
point-of-view switches, and the read-only lookups every kind of evidence shares (which
paragraph, who "I" is, which of several characters sharing an alias is meant). What the
sieves learn while they run is kept apart: in `RunState`, and in each quotation's answer."""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from narrator.attribute.cast_index import CastIndex, lower_case_names
from narrator.attribute.mentions import (
    acting_nouns,
    known_nouns,
    nameless_descriptions,
    speaking_nouns,
    storyteller_mentions,
    title_mentions,
)
from narrator.attribute.patterns import SENT_END_RE, relative_after
from narrator.attribute.person import chapter_person, pov_switches, writes_lower_i
from narrator.attribute.quotes import (
    CLOSE_MARKS,
    NARRATOR,
    Mention,
    Quote,
    Sieve,
    SpanTest,
)
from narrator.model import Character, Kind, Segment
from narrator.segment import is_system_line, messages, paragraph_starts, transcript_roles

_DIALOGUE_DASHES = frozenset("\u2014\u2015\u2013-")
_RELATION_REACH = 60  # characters after a name read for `'s good old mother`


@dataclass
class RunState:
    """What the sieves learn as they run, in text order; the rest of the chapter is fixed
    once built (each quotation's answer is kept on its `Quote`)."""

    recent: list[str] = field(default_factory=list)  # speakers named by tags so far, in order
    # An epithet's last resolution: `old gentleman` -> (who, where), one person in a scene.
    epithets: dict[str, tuple[str, int]] = field(default_factory=dict)
    # `a man` (its offset) -> the label that nameless person is known by from then on.
    nameless: dict[int, str] = field(default_factory=dict)


class Chapter:
    """One chapter, read once: what every kind of evidence looks up (see the module doc).

    `disabled`: the sieves switched off; `fixed`: the author's corrections (quotation start
    -> speaker); `complete`: every speaker is in the cast (None: if it lists walk-ons)."""

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
        self.cast = CastIndex(characters, lower_case_names(text, characters), complete)
        self.messages = messages(text)
        self._roles = transcript_roles(text) if self.messages.transcript else {}
        self.para_starts = paragraph_starts(text, self.messages)
        self.lower_i = writes_lower_i(text)
        self.quotes: list[Quote] = []
        # Segments that are LitRPG system lines: no quotation, nobody's turn in a
        # conversation; `sieves.to_segments` gives them to the system.
        self.system_lines: set[int] = set()
        for i, seg in enumerate(self.segments):
            if not seg.kind.is_speech:
                continue
            if is_system_line(seg.text) and not self._sent(seg):
                self.system_lines.add(i)
                continue
            q = Quote(i, seg.start, seg.end, self.para_at(seg.start))
            q.thought = seg.kind is Kind.THOUGHT
            stripped = seg.text.rstrip()
            q.closed = (len(stripped) > 1 and stripped[-1] in CLOSE_MARKS) or (
                seg.text[:1] in _DIALOGUE_DASHES  # dash dialogue: one paragraph a turn
            )
            self.quotes.append(q)
        self.by_para: dict[int, list[Quote]] = {}  # paragraph -> its quotations, in order
        for q in self.quotes:
            self.by_para.setdefault(q.para, []).append(q)
        self.in_quote = SpanTest([(q.start, q.end) for q in self.quotes])
        # Every mention of a person, in text order: cast aliases, nameless descriptions,
        # titles, and with a first-person narrator `I`.
        self.mentions = self.cast.mentions(text, self.in_quote)
        # Nouns the text makes speak (`said the steward`): a person's, like the lexicon's.
        self.person_nouns = speaking_nouns(text) | acting_nouns(text) | known_nouns(text)
        self.mentions += nameless_descriptions(
            text, self.cast, self.in_quote, self.mentions, self.person_nouns
        )
        self.mentions += title_mentions(text, self.cast, self.in_quote, self.mentions)
        self.person = chapter_person(text, self.segments, narrative_person)
        self.narrator = self.cast.narrator or NARRATOR
        # `- - Kess's POV - -` (or `~ Kess ~`): from there on, "I" is Kess.
        self.pov = pov_switches(self.segments, self.cast)
        self.pov_starts = [switch.start for switch in self.pov]
        if any(switch.says_pov for switch in self.pov):
            self.person = 1
        # Told as someone's, `I` or `you`: that pronoun names a character (`narrator_at`).
        self.personal = self.person in (1, 2)
        if self.personal:
            self.mentions += storyteller_mentions(
                text,
                self.in_quote,
                self.lower_i,
                self.narrator_at,
                self.cast.gender,
                second=self.person == 2,
            )
        self.mentions.sort(key=lambda m: m.start)
        self.mention_starts = [m.start for m in self.mentions]
        self.mention_at: dict[int, Mention] = {}
        for m in self.mentions:
            # A cast alias wins over a bare description starting at the same place.
            if m.start not in self.mention_at or m.names:
                self.mention_at[m.start] = m
        self.state = RunState()
        self._relatives: dict[int, int | None] = {}  # `relative_after`, by a mention's end

    def sender_at(self, pos: int, sender: str) -> str:
        """Who a message's sender is at pos: in a court transcript, the counsel asking for
        `Q` and the witness for `A` (`transcript_roles`), else the sender as written."""
        roles = self._roles.get(sender, [])
        i = bisect.bisect_right(roles, (pos, "\uffff")) - 1
        return roles[i][1] if i >= 0 else sender

    def _sent(self, seg: Segment) -> bool:
        """Is the segment a message's body (`HERON: <Registry found.>` is Heron's)?"""
        line = self.text.rfind("\n", 0, seg.start) + 1
        m = self.messages.match(self.text, line, seg.end)
        return m is not None and m.start("body") == seg.start

    def relative_after(self, end: int, limit: int | None = None) -> int | None:
        """Where `'s mother` after a name ending at end ends, when it names someone by their
        relation to that name (`patterns.relative_after`): someone else, not the one named.
        Without a limit, read once per mention: antecedents ask it of the same ones often."""
        if limit is not None:
            return relative_after(self.text, end, limit, self.person_nouns)
        if end not in self._relatives:
            reach = min(len(self.text), end + _RELATION_REACH)
            self._relatives[end] = relative_after(self.text, end, reach, self.person_nouns)
        return self._relatives[end]

    def para_at(self, pos: int) -> int:
        """The paragraph holding pos."""
        return bisect.bisect_right(self.para_starts, pos) - 1

    def para_end(self, para: int) -> int:
        """Where paragraph para ends: where the next one starts, or the end of the text."""
        return self.para_starts[para + 1] if para + 1 < len(self.para_starts) else len(self.text)

    def narrator_at(self, pos: int) -> str:
        """Who "I" is at pos: the last point-of-view heading's character, else the narrator."""
        i = bisect.bisect_right(self.pov_starts, pos) - 1
        return self.pov[i].name if i >= 0 else self.narrator

    def pick(self, names: Sequence[str], pos: int) -> str:
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

    def fits_guess(self, q: Quote, who: str) -> bool:
        """May who be the person an epithet guessed by gender stands for (`the old man`)?
        Yes unless both genders are known and differ."""
        return q.guess_gender is None or self.cast.gender.get(who) in (None, q.guess_gender)

    def mention_start(self, pos: int) -> int:
        """The start of the cast mention covering pos (`Inglethorp` in `Mrs. Inglethorp`)."""
        i = bisect.bisect_right(self.mention_starts, pos) - 1
        if (
            i >= 0
            and self.mentions[i].start <= pos < self.mentions[i].end
            and self.mentions[i].names
        ):
            return self.mentions[i].start
        return pos

    def named_again(self, who: str, since: int, pos: int) -> bool:
        """`"Why, Anne," she said. Marilla felt a queer regret.`: a sentence of narration after
        `who` last spoke, before pos, names them again: they are in view, not just done."""
        i = bisect.bisect_left(self.mention_starts, since)
        while i < len(self.mentions) and self.mentions[i].start < pos:
            m = self.mentions[i]
            i += 1
            if m.in_quote or not m.names or self.pick(m.names, m.start) != who:
                continue
            if SENT_END_RE.search(self.text, since, m.start):
                return True
        return False

    def names_between(self, start: int, end: int) -> list[str]:
        """Cast characters mentioned in text[start:end]."""
        found = []
        i = bisect.bisect_left(self.mention_starts, start)
        while i < len(self.mentions) and self.mentions[i].start < end:
            m = self.mentions[i]
            i += 1
            if m.names and not m.narr:
                found.append(self.pick(m.names, m.start))
        return found
