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
    # Each (line, own) weighed once per name: every round of ranking asks again. A table
    # grown by `with_lines` shares these with the one it came from for the names whose
    # samples did not grow, and the words of each line (`_said`) with every table.
    _scores: dict[str, dict[tuple[str, str | None], float | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _terms: dict[str, dict[str, float]] = field(default_factory=dict, compare=False, repr=False)
    _said: dict[str, tuple[Counter[str], int]] = field(
        default_factory=dict, compare=False, repr=False
    )

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
        added: dict[str, Counter[str]] = {}
        for speaker, text in lines:
            added.setdefault(speaker, Counter()).update(self._words_of(text)[0])
        words, sizes = dict(self.words), dict(self.sizes)
        for name, more in added.items():
            words[name] = Counter(words.get(name, {}))
            words[name].update(more)
            sizes[name] = words[name].total()
        return Idiolects(
            words,
            self.background,
            sizes,
            self.total,
            {name: s for name, s in self._scores.items() if name not in added},
            {name: t for name, t in self._terms.items() if name not in added},
            self._said,
        )

    def score(self, text: str, names: Iterable[str], own: str | None) -> dict[str, float]:
        """How much more likely the line's words are from each name's sample than from
        anyone's (a log-likelihood ratio, clipped), for the names with a sample; `own`:
        the one the line's own tag names, whose sample holds the line and must not count it."""
        out = {}
        key = (text, own)
        for name in names:
            scores = self._scores.setdefault(name, {})
            if key not in scores:
                said, known = self._words_of(text)
                scores[key] = self._llr(said, known, name, own)
            value = scores[key]
            if value is not None:
                out[name] = value
        return out

    def _words_of(self, text: str) -> tuple[Counter[str], int]:
        """The line's words counted, and how many of them the book's speech has (a word no
        quoted line of the book has is left out of its score: nothing to compare)."""
        if text not in self._said:
            said = Counter(tokens(text))
            self._said[text] = (said, sum(k for w, k in said.items() if w in self.background))
        return self._said[text]

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
                if (rest := sample[w] - k) > 0 and w in self.background:
                    llr += k * self._term(rest, w)
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
            sample = self.words[name].items()
            terms = {w: self._term(k, w) for w, k in sample if w in self.background}
            self._terms[name] = terms
        return terms

    def _term(self, count: int, w: str) -> float:
        """What each use of `w` adds for a sample that has it `count` times, beyond the part
        every word shares (`_llr`); `w` is in the background."""
        return math.log1p(count * self.total / (PRIOR * self.background[w]))
