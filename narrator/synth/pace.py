"""How much speaking a text takes, and the pace to ask the engine for so that it speaks the
text at a given number of real words per minute.

Input: the text of one utterance; output: its speech units (estimated syllables, a cost per
word, the pauses a reader makes at punctuation inside it and the clip's own onset and decay,
all counted in syllables) and the factor by which to scale a voice's words per minute for it.
espeak-ng's rate follows syllables and pauses, not words: at one setting the narrator read
run-on web fiction in short words at 169 words per minute and Dickens at 144. Pure Python and
deterministic, so the clip cache's key (text, voice settings, engine id) determines the rate.
"""

from __future__ import annotations

import re

from narrator.synth.base import is_latin_letter

WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")
# A final "e" is silent ("stone", "made"), except in "-le" after a consonant ("table").
_SILENT_E_RE = re.compile(r"(?<=[^aeiouy])e$")
_CONSONANT_LE_RE = re.compile(r"[^aeiouy]le$")
# ... and so is the e of such a word inside a longer one ("lovely", "something", "somebody").
_INNER_SILENT_E_RE = re.compile(
    r"[aeiouy][^aeiouy]e(?:ly|ment|ments|ful|ness|less|where|thing|things|times|one|body)$"
)
# "-ed" after anything but t or d is not a syllable ("walked", "rained"; "wanted" is two).
_SILENT_ED_RE = re.compile(r"(?<=[^aeiouytd])ed$")
# "-es" after these is a syllable ("horses", "wishes"), else not ("makes", "stones").
_SOUNDED_ES_RE = re.compile(r"(?:[sxz]|ch|sh|ge|ce)es$")
_SYLLABIC_NT_RE = re.compile(r"[^aeiouy]n't$")
_NON_ENGLISH_VOWELS_RE = re.compile(r"[aeiouyàáâäãåæéèêëíìîïóòôöõøœúùûüý]+")
# Marks a reader pauses at inside an utterance; at its end the stitcher trims the pause away.
CLAUSE_MARK_RE = re.compile(r"[,;:\u2014\u2013()]|\s-\s")
SENTENCE_END_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)]*(?=\s)")
_TRAILING_RE = re.compile(r"[\W_]+$")
# What a word beyond its syllables, a pause inside a clip and a clip's own onset and decay
# cost, in syllables of the same voice at the same rate: least-squares fits of trimmed clip
# durations on 109 clips of reference text (`bench/measure_voices.py --units`, espeak-ng 1.51,
# the narrator's voice at the setting for ~160 wpm: word 0.72, clause 2.26, sentence 2.53,
# clip 0.52; two other voices within 0.15, 0.35, 0.45 and 0.7 of these).
WORD_SYLLABLES = 0.7
CLAUSE_PAUSE_SYLLABLES = 2.3
SENTENCE_PAUSE_SYLLABLES = 2.5
CLIP_SYLLABLES = 0.5


def word_syllables(word: str) -> int:
    """An estimate of the syllables in one word (a digit counts as one word), at least 1."""
    w = word.lower().replace("\u2019", "'")
    # "n't" after a consonant is a syllable of its own ("doesn't", "didn't"; not "don't").
    extra = 1 if _SYLLABIC_NT_RE.search(w) else 0
    w = "".join(c for c in w if c.isalpha())
    if len(w) <= 3:
        return 1  # "the", "are", "one", "eye", and a digit
    if not w.isascii():
        return max(1, len(_NON_ENGLISH_VOWELS_RE.findall(w)))
    count = len(_VOWEL_GROUP_RE.findall(w))
    if w.endswith("es"):
        count -= not _SOUNDED_ES_RE.search(w)
    elif _SILENT_ED_RE.search(w) or (_SILENT_E_RE.search(w) and not _CONSONANT_LE_RE.search(w)):
        count -= 1
    if _INNER_SILENT_E_RE.search(w):
        count -= 1
    return max(1, count) + extra


def words_of(text: str) -> list[str]:
    """The words of a text as pace counts them (a digit is a word)."""
    return WORD_RE.findall(text)


def clip_body(text: str) -> str:
    """The text without its closing punctuation, whose pause the stitcher trims away."""
    return _TRAILING_RE.sub("", text)


def speech_units(text: str) -> tuple[int, float]:
    """(words, units) of an utterance: units are its syllables, its inner pauses and the
    clip's own onset and decay, in syllables."""
    return _units(words_of(text), text)


def _units(words: list[str], text: str) -> tuple[int, float]:
    body = clip_body(text)
    clauses = len(CLAUSE_MARK_RE.findall(body))
    sentences = len(SENTENCE_END_RE.findall(body))
    units = (
        sum(word_syllables(w) for w in words)
        + WORD_SYLLABLES * len(words)
        + CLAUSE_PAUSE_SYLLABLES * clauses
        + SENTENCE_PAUSE_SYLLABLES * sentences
        + CLIP_SYLLABLES
    )
    return len(words), units


# Units per word of the text espeak-ng's rate was calibrated on (the eight narrative sentences
# of `bench/measure_voices.py`, one clip each; its `--rates` prints it): a text with as many units
# per word is spoken at the calibrated pace, one with more needs a faster setting.
REFERENCE_UNITS_PER_WORD = 2.19
# A short line's own figure says little ("Aurelio?"): it is taken together with this many
# words' worth of reference text.
PRIOR_WORDS = 4
# However unusual a line, its pace changes by no more than this (a list of initials or a
# line of numbers is better read a little fast than at half speed).
FACTOR_RANGE = (0.8, 1.25)


def pace_factor(text: str) -> float:
    """By how much to scale a pace in words per minute for the engine to speak `text` at it.

    1.0 for text mostly in another script than Latin, which the estimate cannot count.
    """
    found = words_of(text)
    if not found or 2 * sum(1 for w in found if _is_latin(w)) < len(found):
        return 1.0
    words, units = _units(found, text)
    per_word = (units + PRIOR_WORDS * REFERENCE_UNITS_PER_WORD) / (words + PRIOR_WORDS)
    low, high = FACTOR_RANGE
    return min(high, max(low, per_word / REFERENCE_UNITS_PER_WORD))


def _is_latin(word: str) -> bool:
    return word.isdigit() or is_latin_letter(word[0])
