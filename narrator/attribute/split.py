"""Two speakers in one quoted run (web fiction): where the second turn starts, and who.

Split after a question answered by name (`"Can we go? Sure thing, red." Tom said`) or after
the sentence that addresses the tagged speaker (`"Where is it, Mira? In the box." Mira
said`)."""

from __future__ import annotations

import bisect
import re

from narrator.attribute.chapter import Chapter
from narrator.attribute.pronouns import antecedent
from narrator.attribute.quotes import CLOSE_MARKS, CONF_SPLIT, Quote, Sieve, TagSide
from narrator.names import UPPER

_QUESTION_BEFORE_CAPITAL_RE = re.compile(rf"\?\s+(?=[{UPPER}])")
_SENTENCE_BEFORE_CAPITAL_RE = re.compile(rf"[.!?]+\s+(?=[{UPPER}])")
_ANSWER_START_RE = re.compile(
    r"(?:Yes|Yeah|Yep|No|Nope|Nah|Sure|Fine|Okay|OK|Alright|All right|Of course|Maybe|Deal|"
    r"Because|Never|Right|Aye|Nay)\b"
)
_MORE_SENTENCES_RE = re.compile(r"[.!?]\s+\S")


def split_turns(ch: Chapter) -> None:
    """Two speakers in one quoted run (web fiction): split where the text shows a new turn.

    Evidence: a question answered inside the same quotes (`"Can we go? Sure thing." Tom
    said`), or the tagged speaker addressed by name in the run's first sentences
    (`"Where is it, Mira? In the box." Mira said`: Mira cannot have asked).
    """
    text = ch.text
    for k, q in enumerate(ch.quotes):
        if q.sieve is Sieve.FIXED:
            continue
        inner = text[q.start : q.end]
        body = inner.rstrip(CLOSE_MARKS + " \n")
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
                and ch.names_between(q.start + m.end(), q.start + len(body))
            ):
                cut = q.start + m.end()
                break
        if cut is None and q.tag_speaker and q.tag_side is TagSide.AFTER:
            cut = _addressee_cut(ch, q, body)
        if cut is None:
            continue
        first, second = _split_speakers(ch, q, k, cut)
        if first is None or second is None or first == second:
            continue
        q.split_at = cut
        q.speaker, q.second_speaker = first, second
        q.sieve = Sieve.SPLIT_FIRST
        q.confidence = min(q.confidence, CONF_SPLIT)


def _addressee_cut(ch: Chapter, q: Quote, body: str) -> int | None:
    """After the sentence that addresses the tagged speaker by name, if more follows."""
    i = bisect.bisect_left(ch.mention_starts, q.start)
    while i < len(ch.mentions) and ch.mentions[i].start < q.start + len(body):
        m = ch.mentions[i]
        i += 1
        if not m.names or ch.pick(m.names, m.start) != q.speaker:
            continue
        if q.speaker not in q.vocatives:
            return None
        end = _SENTENCE_BEFORE_CAPITAL_RE.search(ch.text, m.end, q.start + len(body))
        return end.end() if end else None
    return None


def _split_speakers(ch: Chapter, q: Quote, k: int, cut: int) -> tuple[str | None, str | None]:
    """Speakers of the two parts: the tag names the part next to it; the other part is
    the one a vocative names, else the previous speaker, else the latest one mentioned."""
    tagged = q.speaker if q.tag_speaker else None
    # The part whose names tell who the other speaker is: the tagged part, or the answer.
    tag_part = (cut, q.end) if q.tag_side is TagSide.AFTER or tagged is None else (q.start, cut)
    named = ch.names_between(*tag_part)
    prev = next((p.speaker for p in reversed(ch.quotes[:k]) if p.speaker), None)
    other = next((n for n in named if n != tagged), None)
    if tagged is None:
        # No tag: only a question answered with the asker's name (`No, kid.`) splits.
        if other is None or prev in (None, other):
            return None, None
        return other, prev
    if other is None and prev not in (None, tagged):
        other = prev
    if other is None:
        other = antecedent(ch, q.start, None, None, window=1500, avoid={tagged})
    return (other, tagged) if q.tag_side is TagSide.AFTER else (tagged, other)
