"""Actions (sieve 5): a character acting in the paragraph speaks (`Tom frowned. "No."`).

With several turns in one paragraph, a one-sentence beat before a quotation gives it to
whoever acts (`"Again." Rook shrugged. "Traffic."`)."""

from __future__ import annotations

import re

from narrator.attribute.chapter import Chapter
from narrator.attribute.descriptions import noun_gender, resolve_description, strip_det
from narrator.attribute.patterns import ACTS_RE, SENT_END_RE
from narrator.attribute.pronouns import antecedent
from narrator.attribute.quotes import CONF_ACTION, Quote, Sieve, TagKind
from narrator.attribute.tags import subject_at
from narrator.lexicon import NOUN_GENDER, PRONOUN_GENDER, SPEECH_VERB_RE

_LEAD_GAP_RE = re.compile(r"[\s,\u2014-]*")
_LOWER_WORD_NEXT_RE = re.compile(r"\s+[a-z]")
# A sentence opened by `He` or `She` and a verb: someone acting (`He sat down.`).
_BEAT_PRONOUN_RE = re.compile(r"(He|She)\s+(?=[a-z])")
_ACTION_OPENER_RE = re.compile(r"[\s,\u2014-]*(?:(?:Then|But|And|So|Now|Here|At this|At that)\s+)?")


def lead_actor(ch: Chapter, q: Quote, floor: int, speaker: str | None = None) -> str | None:
    """A named character opening the sentence right before q (`Woolsey shook his head.`),
    or a `He`/`She` of another gender than speaker, who spoke before it."""
    if floor >= q.start:
        return None
    start = floor
    for sm in SENT_END_RE.finditer(ch.text, floor, q.start):
        if sm.end() < q.start - 1:
            start = sm.end()
    wm = _LEAD_GAP_RE.match(ch.text, start)
    pos = wm.end() if wm else start
    m = ch.mention_at.get(pos)
    if m is None or not m.names or m.narr:
        # `He sat down. "Bad day?"`: a pronoun acting, the latest of its gender.
        pm = _BEAT_PRONOUN_RE.match(ch.text, pos)
        if pm is None or SPEECH_VERB_RE.match(ch.text, pm.end()):
            return None
        gender = PRONOUN_GENDER[pm.group(1).lower()]
        if speaker is None or ch.cast.gender.get(speaker, noun_gender(speaker)) in (
            None,
            gender,
        ):
            return None  # most likely the one speaking, going on
        return antecedent(ch, pos, gender, None, names_only=True)
    if not _LOWER_WORD_NEXT_RE.match(ch.text[m.end : m.end + 3]):
        return None
    if SPEECH_VERB_RE.match(ch.text, m.end + 1):
        return None  # `Tom said.` is a tag, handled elsewhere
    return ch.pick(m.names, m.start)


def beats(ch: Chapter, para_quotes: list[Quote]) -> None:
    """Several turns in one paragraph: a sentence of action right before a quotation
    (`"Again." Rook shrugged. "Traffic."`) gives it, and the untagged ones after it, to
    whoever acts."""
    who = para_quotes[0].speaker
    for j in range(1, len(para_quotes)):
        q = para_quotes[j]
        if q.tag_speaker or q.sieve is Sieve.FIXED:
            who = q.speaker
            continue
        between = ch.text[para_quotes[j - 1].end : q.start]
        other = None
        if len(SENT_END_RE.findall(between.strip())) <= 1:
            # One sentence between the two: a beat. With more, the last may be a
            # listener's (`She looked at Kess. Kess looked at her boots. "And you..."`).
            other = lead_actor(ch, q, para_quotes[j - 1].end, who)
        if other is not None:
            who = other
        if who is not None and who != q.speaker:
            q.speaker, q.confidence, q.sieve = who, CONF_ACTION, Sieve.ACTION


def actor(ch: Chapter, para: int, para_quotes: list[Quote]) -> str | None:
    """The character whose action surrounds the quotation (`Tom frowned. "No."`)."""
    text = ch.text
    first = para_quotes[0]
    p_start = ch.para_starts[para]
    # Narration before the first quotation: its last sentence's subject.
    head = text[p_start : first.start]
    candidates: list[int] = []
    if head.strip():
        sent_start = p_start
        for sm in SENT_END_RE.finditer(text, p_start, first.start):
            if sm.end() < first.start - 1:
                sent_start = sm.end()
        candidates.append(sent_start)
    # Narration right after the first quotation.
    nxt = para_quotes[1].start if len(para_quotes) > 1 else None
    p_end = ch.para_end(para)
    tail_end = min(nxt or p_end, p_end)
    if text[first.end : tail_end].strip():
        candidates.append(first.end)
    for pos in candidates:
        wm = _ACTION_OPENER_RE.match(text, pos)
        start = wm.end() if wm else pos
        subj = subject_at(ch, start, tail_end if start >= first.end else first.start)
        if subj is None:
            continue
        kind, value, end = subj
        follows = text[end : end + 40]
        if not ACTS_RE.match(follows):
            continue
        if kind is TagKind.NAME:
            return value
        if kind is TagKind.PRONOUN:
            if value in ("i", "we"):
                return ch.narrator_at(first.start) if ch.personal else None
            g = PRONOUN_GENDER.get(value)
            return antecedent(ch, first.start, g, None, avoid=first.vocatives)
        noun = strip_det(value).split()[-1]
        if kind is TagKind.DESC and (noun in NOUN_GENDER or noun in ch.person_nouns):
            who, _conf = resolve_description(ch, value, first.start, None)
            return who
    return None
