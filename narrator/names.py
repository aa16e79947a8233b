"""Letters of any script, for the questions "is this a name / a capital / a sentence start".

One place for what counts as an upper-case letter (Latin with diacritics, Greek, Cyrillic,
...), a lower-case letter, a letter of a script without case (Han, kana, Hangul, Arabic, ...),
and for the key that makes two spellings of a name the same name: NFC/NFD, case and accents
do not count (`Eowyn` is `Éowyn`, `ANNA` is `Anna`). Segmenting, attribution and character
discovery import these instead of writing `[A-Z]`.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def _ranges(categories: frozenset[str]) -> str:
    """The code points of `categories` in the Basic Multilingual Plane, as a regex class body.

    Only the BMP: there `re` compiles a class to a lookup table, while a class reaching past
    U+FFFF is a list of ranges searched per character (attribution took 40% longer).
    """
    limit = 0x10000
    parts: list[str] = []
    start = prev = -2
    for cp in range(limit):
        if unicodedata.category(chr(cp)) not in categories:
            continue
        if cp != prev + 1:
            if start >= 0:
                parts.append(_span(start, prev))
            start = cp
        prev = cp
    if start >= 0:
        parts.append(_span(start, prev))
    return "".join(parts)


def _span(first: int, last: int) -> str:
    # Letters are never metacharacters in a class, so they go in as they are: `re` parses
    # literal characters five times faster than `\U` escapes (0.35 against 1.9 ms a pattern).
    a, b = chr(first), chr(last)
    return a if first == last else f"{a}-{b}"


# Inside a character class: `rf"[{UPPER}]"`. Built once from the Unicode database (~30 ms).
UPPER = _ranges(frozenset({"Lu", "Lt"}))
LOWER = _ranges(frozenset({"Ll"}))
# Letters of scripts without case: capitalisation cannot mark a name there, so only the
# cast's names and aliases do (plus modifier letters such as the kana length mark).
CASELESS = _ranges(frozenset({"Lo", "Lm"}))


def is_upper_initial(word: str) -> bool:
    """Whether `word` starts with a capital letter in any cased script."""
    return bool(word) and (word[0].isupper() or word[0].istitle())


def is_caseless_letter(char: str) -> bool:
    """A letter that is neither upper- nor lower-case (Han, kana, Hangul, Arabic, ...)."""
    return char.isalpha() and not char.isupper() and not char.islower() and not char.istitle()


def could_be_name(word: str) -> bool:
    """Capitalised, or written in a script without case (where only a cast can tell)."""
    return bool(word) and (is_upper_initial(word) or is_caseless_letter(word[0]))


# Letters NFD does not take apart but that readers treat as accented forms.
_EXTRA_FOLDS = {
    "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
    "Ŧ": "T", "ŧ": "t", "Ɨ": "I", "ɨ": "i", "ı": "i",
}  # fmt: skip


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord(k): v for k, v in _EXTRA_FOLDS.items()}
    for block in (range(0x00C0, 0x0250), range(0x0370, 0x0530), range(0x1E00, 0x2000)):
        for cp in block:
            decomposed = unicodedata.normalize("NFD", chr(cp))
            base = decomposed[0]
            if (
                len(decomposed) > 1
                and base.isalpha()
                and all(unicodedata.combining(c) for c in decomposed[1:])
            ):
                table[cp] = base
    return table


def fold_accents(text: str) -> str:
    """`text` with accented letters as their base letter, same length (`Éowyn` -> `Eowyn`).

    Give it NFC text (the loader normalises chapters): a lone combining mark stays as it is,
    so offsets into the folded text are offsets into `text`.
    """
    if text.isascii():
        return text
    return text.translate(_fold_table())


def match_form(name: str) -> str:
    """A name as it is looked for in `fold_accents(text)`: NFC, no accents, case kept."""
    return " ".join(fold_accents(unicodedata.normalize("NFC", name)).split())


def name_key(name: str) -> str:
    """What makes two spellings one name: NFC, no accents, case-folded, single spaces."""
    return " ".join(fold_accents(unicodedata.normalize("NFC", name)).casefold().split())
