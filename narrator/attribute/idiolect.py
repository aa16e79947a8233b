"""How each character talks: the words of the lines a tag gives them, against all speech.

A book's characters keep their way of talking from chapter to chapter (`mon ami`, `ain't`,
`wot`, a habit of exclaiming), so the lines a speech tag names (`said Poirot`) are a sample
of each one's words, and an untagged line can be weighed against every candidate's sample.
The table is built once per book from the sieves' answers (`runner.sieve_book`), else from
the chapter alone; after a round of ranking, the lines it is sure of join their speakers'
samples (`features.Context.learn_voices`). A line is never evidence for itself.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from narrator.attribute.chapter import Chapter
from narrator.attribute.quotes import Quote, Sieve

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


def tagged(q: Quote) -> bool:
    """A quotation whose own tag names its speaker (`said Poirot`): in their sample."""
    return q.sieve is Sieve.TAG_NAME and not q.guessed


def lines(chapter: Chapter) -> list[tuple[str | None, str]]:
    """A chapter's quotations after its sieves ran: (the speaker a tag names, else None;
    the text)."""
    return [
        (
            q.speaker if tagged(q) else None,
            chapter.text[q.start : q.end],
        )
        for q in chapter.quotes
    ]


@dataclass(frozen=True)
class Idiolects:
    """Word counts of each character's tagged lines, and of every quoted line."""

    words: dict[str, Counter[str]] = field(default_factory=dict)
    background: Counter[str] = field(default_factory=Counter)
    sizes: dict[str, int] = field(default_factory=dict)  # words in each character's sample
    total: int = 0  # words in every quoted line
    # Each (line, name, own) weighed once: every round of ranking asks again.
    _scores: dict[tuple[str, str, str | None], float | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    _terms: dict[str, dict[str, float]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of_lines(cls, lines: Iterable[tuple[str | None, str]]) -> Idiolects:
        """From (speaker named by a tag, or None; the line's text) pairs."""
        words: dict[str, Counter[str]] = {}
        background: Counter[str] = Counter()
        for speaker, text in lines:
            said = tokens(text)
            background.update(said)
            if speaker is not None:
                words.setdefault(speaker, Counter()).update(said)
        sizes = {name: sample.total() for name, sample in words.items()}
        return cls(words, background, sizes, background.total())

    def with_lines(self, lines: Iterable[tuple[str, str]]) -> Idiolects:
        """These (speaker, text) lines added to their speakers' samples: lines the ranker
        answered surely. They are quoted lines of the book, in the background already."""
        words = {name: Counter(sample) for name, sample in self.words.items()}
        for speaker, text in lines:
            words.setdefault(speaker, Counter()).update(tokens(text))
        sizes = {name: sample.total() for name, sample in words.items()}
        return Idiolects(words, self.background, sizes, self.total)

    def score(self, text: str, names: Iterable[str], own: str | None) -> dict[str, float]:
        """How much more likely the line's words are from each name's sample than from
        anyone's (a log-likelihood ratio, clipped), for the names with a sample; `own`:
        the one the line's own tag names, whose sample holds the line and must not count it."""
        out = {}
        said: Counter[str] | None = None  # counted once, and only for a line not seen yet
        known = 0
        for name in names:
            key = (text, name, own)
            if key not in self._scores:
                if said is None:
                    said = Counter(tokens(text))
                    # Words no line of the book's speech has are left out: nothing to compare.
                    known = sum(k for w, k in said.items() if w in self.background)
                self._scores[key] = self._llr(said, known, name, own)
            value = self._scores[key]
            if value is not None:
                out[name] = value
        return out

    def _llr(self, said: Counter[str], known: int, name: str, own: str | None) -> float | None:
        """sum over the line's words of k * log(P(word | name) / P(word | anyone)), which is
        k * (log(PRIOR / (n + PRIOR)) + log1p(count in the sample / (PRIOR * P(word)))): the
        first part is the same for every word, the second is nought for a word the sample
        lacks, so only the words the two share are looked up. `known`: how many of the
        line's words the book's speech has."""
        sample = self.words.get(name)
        if sample is None or not said:
            return None
        n = self.sizes[name] - (said.total() if name == own else 0)
        if n < MIN_WORDS:
            return None
        llr = known * math.log(PRIOR / (n + PRIOR))
        if name == own:  # the line is in its speaker's sample: weighed without it
            for w, k in said.items():
                if (rest := sample[w] - k) > 0 and (seen := self.background.get(w)):
                    llr += k * math.log1p(rest * self.total / (PRIOR * seen))
        else:
            terms = self._terms_of(name)
            for w, k in said.items():
                if w in terms:
                    llr += k * terms[w]
        return max(-CLIP, min(CLIP, llr))

    def _terms_of(self, name: str) -> dict[str, float]:
        """log1p(count in the sample / (PRIOR * P(word))) for each word of name's sample."""
        terms = self._terms.get(name)
        if terms is None:
            scale = self.total / PRIOR
            background = self.background
            terms = {
                w: math.log1p(k * scale / background[w])
                for w, k in self.words[name].items()
                if background.get(w)
            }
            self._terms[name] = terms
        return terms
