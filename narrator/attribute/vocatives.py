"""Vocatives (sieve 4): names used in address inside a quotation (`Tom, come here`).

The one addressed is never the speaker, and likely the next one to speak (`turns.py`)."""

from __future__ import annotations

import bisect
import re

from narrator.attribute.chapter import Chapter
from narrator.attribute.patterns import says_own_name
from narrator.attribute.quotes import Quote
from narrator.model import Kind
from narrator.names import UPPER

# Before and after a name used in address (`Well, my dear Tom, ...`), and not told of.
_VOCATIVE_BEFORE_RE = re.compile(
    r"[,!?.;\u2014-]\s*(?:(?:my|you)\s+)?(?:dear|dearest|good|poor|old)?\s*$"
)
_VOCATIVE_AFTER_RE = re.compile(r"\s*[,.!?;\u2014\"\u201d]")
_TOLD_OF_RE = re.compile(r"\b(?:said|says|ask|tell)\w*\s*$")
_INTERJECTION_RE = re.compile(
    r"(?:Hey|Hi|Hello|Oh|O|Ah|Thanks|Thank you|Sorry|Please|Shut up|Look|Listen|Come on|"
    r"Yes|No|Well|Dear|My dear|Good morning|Good night|Goodbye|Bye|Wait|Stop)\s*,?\s+$"
)
_CAPITAL_NEXT_RE = re.compile(rf"\s+[{UPPER}]")
_CLOSE = "\"'\u201d\u2019 \n"
# A quotation that is only names (`"Harper. Harper Quinn."`), marks and stops aside.
_ONLY_NAMES_RE = re.compile(r"[\"'\u201c\u2018]?(?:\s*@[.,]?)+\s*[\"'\u201d\u2019]?\s*")


def find_vocatives(ch: Chapter, q: Quote, prev: Quote | None = None) -> None:
    """Names used as a form of address inside the quotation (`Tom, come here`); not a name
    that is the whole answer to the question before (`"Name?"` `"Harper. Harper Quinn."`,
    `"Who did it?"` `"Tom."`). `prev`: the quotation before."""
    if ch.segments[q.index].kind is Kind.THOUGHT:
        return  # `*Don't do it, Mara.*`: a thought may call the thinker by name
    i = bisect.bisect_left(ch.mention_starts, q.start)
    text = ch.text
    if (
        prev is not None
        and prev.para == q.para - 1
        and text[prev.start : prev.end].rstrip(_CLOSE).endswith("?")
        and _ONLY_NAMES_RE.fullmatch(_names_blanked(ch, q))
    ):
        return
    inner_start = q.start + 1
    while i < len(ch.mentions) and ch.mentions[i].start < q.end:
        m = ch.mentions[i]
        i += 1
        if not m.names:
            continue
        before = text[max(inner_start, m.start - 20) : m.start]
        after = text[m.end : m.end + 2]
        starts = m.start <= inner_start + 1 or bool(_VOCATIVE_BEFORE_RE.search(before))
        starts = starts or bool(_INTERJECTION_RE.search(before))
        ends = bool(_VOCATIVE_AFTER_RE.match(after)) or bool(_CAPITAL_NEXT_RE.match(after))
        if starts and ends and not _TOLD_OF_RE.search(before):
            if says_own_name(text, m.start, m.end, q.start):
                continue  # `"Ezra Tull. Nobody asked."`: the speaker's own name
            q.vocatives.add(ch.pick(m.names, m.start))


def _names_blanked(ch: Chapter, q: Quote) -> str:
    """The quotation's words with each cast mention replaced by `@`."""
    out, pos = [], q.start
    i = bisect.bisect_left(ch.mention_starts, q.start)
    while i < len(ch.mentions) and ch.mentions[i].start < q.end:
        m = ch.mentions[i]
        i += 1
        if m.names and m.start >= pos:
            out += [ch.text[pos : m.start], "@"]
            pos = m.end
    out.append(ch.text[pos : q.end])
    return "".join(out)
