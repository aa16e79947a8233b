"""Turn-taking (sieves 4, 6 and 7 inside an exchange): A, B, A, B.

An exchange is a run of quotation paragraphs; a narration paragraph ends it. Open turns are
filled forward (the one before last, the one addressed), then backward from later turns,
then forward again where the first-person narrator may answer (only where later turns did
not say who: a narrator watching two others talk is given no turn in it); the first open
turn still empty gets the nearest named character,
and turns run on from it. A pronoun tag yields to the one the next turn calls by name, when
the pronoun fits them; a descriptive tag guessed by gender too, else to the alternation."""

from __future__ import annotations

from narrator.attribute.chapter import Chapter
from narrator.attribute.pronouns import antecedent
from narrator.attribute.quotes import (
    CONF_FALLBACK,
    CONF_TURN,
    CONF_VOCATIVE,
    Quote,
    Sieve,
    answer_paragraph,
)
from narrator.lexicon import PRONOUN_GENDER


def conversations(ch: Chapter) -> None:
    """Vocatives and turn-taking: alternate speakers until narration breaks the exchange."""
    by_para = ch.by_para
    thoughts = thought_paragraphs(by_para)
    blocks: list[list[int]] = []
    last_para = -10
    for para in sorted(by_para):
        if exchange_breaks(last_para, para, thoughts):
            blocks.append([])
        blocks[-1].append(para)
        last_para = para
    for block in blocks:
        _forward(ch, block, by_para, narrator=False)
        if Sieve.TURN not in ch.disabled:
            _backward(ch, block, by_para)
        _forward(ch, block, by_para, narrator=True)
        if Sieve.FALLBACK not in ch.disabled:
            _seed(ch, block, by_para)
        _regard(ch, block, by_para)


def _regard(ch: Chapter, block: list[int], by_para: dict[int, list[Quote]]) -> None:
    """`said the gentleman` guessed by gender: prefer the exchange's alternation."""
    for k, para in enumerate(block):
        q = by_para[para][0]
        # `"Very good, Rook."` right after `he said` or `said the boy`: the one it calls.
        who = _called_next(block, k, by_para)
        if q.sieve is Sieve.TAG_PRONOUN and q.tag:
            g = PRONOUN_GENDER.get(q.tag[1])
            if who not in (None, q.speaker) and g is not None and ch.cast.gender.get(who) == g:
                _revise(by_para[para], q.speaker, who, Sieve.TAG_PRONOUN_TURN)
            continue
        if not q.guessed:
            continue
        if who is not None and ch.fits_guess(q, who):
            _revise(by_para[para], q.speaker, who, Sieve.TAG_DESC_TURN)
            continue
        for a, b in ((k - 2, k - 1), (k + 2, k + 1)):
            if not (0 <= a < len(block) and 0 <= b < len(block)):
                continue
            two, one = by_para[block[a]][0].speaker, by_para[block[b]][0].speaker
            if two is None or two == one or two == q.speaker or two in q.vocatives:
                continue
            if ch.fits_guess(q, two):
                _revise(by_para[para], q.speaker, two, Sieve.TAG_DESC_TURN)
                break


def _called_next(block: list[int], k: int, by_para: dict[int, list[Quote]]) -> str | None:
    """The one person the turn after turn k calls by name, other than its own speaker."""
    if k + 1 >= len(block):
        return None
    after = by_para[block[k + 1]]
    called = set().union(*(x.vocatives for x in after)) - {after[0].speaker, None}
    return called.pop() if len(called) == 1 else None


def _revise(para_quotes: list[Quote], old: str | None, who: str, sieve: Sieve) -> None:
    """A tag's speaker revised by the exchange, in the whole paragraph."""
    for x in para_quotes:
        if x.speaker == old:
            x.speaker, x.sieve = who, sieve


def _seed(ch: Chapter, block: list[int], by_para: dict[int, list[Quote]]) -> None:
    """Sieve 7 inside an exchange: guess its first open turn, then let turns run on."""
    tried: set[int] = set()
    while True:
        todo = [k for k, p in enumerate(block) if by_para[p][0].speaker is None and k not in tried]
        if not todo:
            return
        k = todo[0]
        tried.add(k)
        pq = by_para[block[k]]
        avoid = set().union(*(x.vocatives for x in pq))
        for j in (k - 1, k + 1):
            if 0 <= j < len(block) and by_para[block[j]][0].speaker:
                avoid.add(by_para[block[j]][0].speaker or "")
        near = antecedent(
            ch, pq[0].start, None, None, window=3000, names_only=True, avoid=avoid
        ) or antecedent(ch, pq[0].start, None, None, window=12000, names_only=True, avoid=avoid)
        if near is None:
            continue
        answer_paragraph(pq, near, CONF_FALLBACK, Sieve.FALLBACK)
        _forward(ch, block[max(0, k - 1) :], by_para, narrator=True)


def _forward(
    ch: Chapter, block: list[int], by_para: dict[int, list[Quote]], *, narrator: bool
) -> None:
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
                and Sieve.TURN not in ch.disabled
            ):
                who, conf, sieve = turns[-2], CONF_TURN, Sieve.TURN
            if (
                addressee is not None
                and Sieve.VOCATIVE not in ch.disabled
                and addressee not in vocs
                and (who is None or addressee != turns[-1])
            ):
                who, conf, sieve = addressee, CONF_VOCATIVE, Sieve.VOCATIVE
            if (
                who is None
                and narrator
                and ch.personal
                and turns
                and turns[-1] not in (None, ch.narrator_at(pq[0].start))
                and Sieve.TURN not in ch.disabled
            ):
                who = ch.narrator_at(pq[0].start)
                conf, sieve = CONF_TURN - 0.2, Sieve.TURN_NARRATOR
            if who is not None and who in vocs:
                who = turns[-1] if turns and turns[-1] not in vocs else None
            if who is not None:
                answer_paragraph(pq, who, conf, sieve)
        speaker = pq[0].speaker
        turns.append(speaker)
        # The one addressed here is likely to answer next.
        others = [v for v in vocs if v != speaker]
        addressee = others[0] if len(others) == 1 else None


def _backward(ch: Chapter, block: list[int], by_para: dict[int, list[Quote]]) -> None:
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
            answer_paragraph(pq, b, CONF_TURN - 0.05, Sieve.TURN_BACK)


def exchange_breaks(last_para: int, para: int, thoughts: frozenset[int] = frozenset()) -> bool:
    """A narration paragraph between two quotation paragraphs ends the exchange; so does a
    paragraph of thoughts only (`thoughts`), which is nobody's turn, before or after.

    Measured on PDNC: letting one short narration paragraph continue the exchange
    (as Muzny et al. do) loses more than it gains once open turns are seeded anew.
    """
    return last_para < 0 or para - last_para > 1 or para in thoughts or last_para in thoughts


def thought_paragraphs(by_para: dict[int, list[Quote]]) -> frozenset[int]:
    """Paragraphs whose quotations are all thoughts (`*Don't panic.*`)."""
    return frozenset(p for p, qs in by_para.items() if all(q.thought for q in qs))
