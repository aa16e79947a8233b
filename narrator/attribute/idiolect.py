"""How each character talks: the words of the lines a tag gives them, against all speech.

A book's characters keep their way of talking from chapter to chapter (`mon ami`, `ain't`,
`wot`, a habit of exclaiming), so the lines a speech tag names (`said Poirot`) are a sample
of each one's words, and an untagged line can be weighed against every candidate's sample.
The table is built once per book from the sieves' answers (`corrections.correct_book`),
else from the chapter alone; a line is never evidence for itself.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from narrator.attribute.chapter import Chapter
from narrator.attribute.quotes import Sieve

# Words, contractions (`ain't`, `'em`) and the marks of a manner of speech (`!`, `?`, dashes).
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|'[a-z]+|[!?;\u2014-]")
# How many words of the whole book's speech a character's sample is worth before their own
# words count (a Dirichlet prior): a character with few tagged words sounds like everyone.
PRIOR = 200.0
# A sample this small says nothing.
MIN_WORDS = 50
# The score of one line is clipped: a long line is strong evidence, never overwhelming.
CLIP = 10.0


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def lines(chapter: Chapter) -> list[tuple[str | None, str]]:
    """A chapter's quotations after its sieves ran: (the speaker a tag names, else None;
    the text)."""
    return [
        (
            q.speaker if q.sieve is Sieve.TAG_NAME and not q.guessed else None,
            chapter.text[q.start : q.end],
        )
        for q in chapter.quotes
    ]


@dataclass
class Idiolects:
    """Word counts of each character's tagged lines, and of every quoted line."""

    words: dict[str, Counter[str]] = field(default_factory=dict)
    background: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of_lines(cls, lines: Iterable[tuple[str | None, str]]) -> Idiolects:
        """From (speaker named by a tag, or None; the line's text) pairs."""
        table = cls()
        for speaker, text in lines:
            said = tokens(text)
            table.background.update(said)
            if speaker is not None:
                table.words.setdefault(speaker, Counter()).update(said)
        return table

    def score(self, text: str, names: Iterable[str], own: str | None) -> dict[str, float]:
        """How much more likely the line's words are from each name's sample than from
        anyone's (a log-likelihood ratio, clipped), for the names with a sample; `own`:
        the one the line's own tag names, whose sample holds the line and must not count it."""
        said = Counter(tokens(text))
        total = self.background.total()
        if not said or not total:
            return {}
        size = sum(said.values())
        out = {}
        for name in names:
            sample = self.words.get(name)
            if sample is None:
                continue
            mine = said if name == own else Counter()
            n = sample.total() - (size if name == own else 0)
            if n < MIN_WORDS:
                continue
            llr = 0.0
            for w, k in said.items():
                p = self.background[w] / total
                if not p:
                    continue  # a word no line of the book's speech has: nothing to compare
                llr += k * math.log((sample[w] - mine[w] + PRIOR * p) / (n + PRIOR) / p)
            out[name] = max(-CLIP, min(CLIP, llr))
        return out
