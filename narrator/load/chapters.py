"""Chapter headings in plain text: where chapters start, and what they are called.

`split_chapters` cuts a text at its chapter headings ("Chapter 12", "CHAPTER XII",
"Chapter 3: The Mine", "Chapter One", plus Prologue/Epilogue/Interlude once a book has
chapter headings). The pieces are contiguous slices that join back into the whole text,
so offsets stay meaningful and nothing is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen"
)
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_WORD_NUMBER = rf"(?i:(?:{_TENS})(?:[\s-]+(?:{_UNITS}))?|(?:{_UNITS})(?:[\s-]+hundred)?|hundred)"
# Upper case only: lower-case Roman numerals are ordinary words ("mix", "dim", "civil").
_ROMAN = r"(?=[IVXLCDM])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_NUMBER = rf"(?:\d{{1,4}}|{_ROMAN}|{_WORD_NUMBER})"
# Decoration around a heading line: markdown, bold, "=== Chapter 3 ===", "[Chapter 3]".
_DECORATION = "#*_=~[]<>|-\u2013\u2014 \t"
_CHAPTER_RE = re.compile(
    rf"(?i:chapter|chap\.|ch\.)\s*(?P<num>{_NUMBER})(?![\w'’])(?P<rest>.*)", re.DOTALL
)
_EXTRA_RE = re.compile(r"(?i:prologue|epilogue|interlude)(?![\w'’])(?P<rest>.*)", re.DOTALL)
# "Book II" / "Part One" just before a chapter heading belongs to that chapter.
_ORDINAL = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last"
_PART_RE = re.compile(
    rf"(?i:book|part|volume|vol\.)\s+(?:{_NUMBER}|(?i:the\s+(?:{_ORDINAL})))(?![\w'’]).{{0,60}}"
)
_SEPARATOR = ".:)-\u2013\u2014"
_MAX_HEADING_CHARS = 100
# Headings whose chapter has no more words than this, in a run of two or more, are a
# table of contents rather than chapters.
_TOC_MAX_WORDS = 12
# Text before the first heading with at least this many words becomes a chapter of its own.
_FRONT_CHAPTER_WORDS = 100


@dataclass(frozen=True)
class ChapterSpan:
    """Chapter text[start:end], with its title (None: the text has no title for it)."""

    start: int
    end: int
    title: str | None


@dataclass(frozen=True)
class _Heading:
    start: int  # where the chapter starts (a "Book II" line before the heading, if any)
    line_end: int  # end of the heading line
    title: str


def split_chapters(text: str) -> list[ChapterSpan]:
    """Cut text at its chapter headings into contiguous spans that cover it exactly."""
    headings = _real_headings(text, _find_headings(text))
    if not headings:
        return [ChapterSpan(0, len(text), guess_title(text))]
    spans: list[ChapterSpan] = []
    front = text[: headings[0].start]
    starts = [h.start for h in headings]
    if len(front.split()) >= _FRONT_CHAPTER_WORDS:
        spans.append(ChapterSpan(0, headings[0].start, guess_title(front) or "Front matter"))
    else:
        # Short front text (an author's note, a title line) is read with chapter 1.
        starts[0] = 0
    ends = [*starts[1:], len(text)]
    for heading, start, end in zip(headings, starts, ends, strict=True):
        spans.append(ChapterSpan(start, end, heading.title))
    return spans


def _lines(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _heading_title(line: str, *, extra: bool) -> str | None:
    """The title of a heading line, or None when the line is not a chapter heading."""
    if len(line) > _MAX_HEADING_CHARS:
        return None
    core = line.strip(_DECORATION)
    match = (_EXTRA_RE if extra else _CHAPTER_RE).fullmatch(core)
    if not match:
        return None
    rest = match.group("rest")
    if rest and not rest[0].isspace() and rest[0] not in _SEPARATOR:
        return None
    words = rest.strip(_SEPARATOR + " \t").split()
    # "Chapter 3 was the best part" is prose that begins with a chapter number.
    if words and rest.lstrip()[0] not in _SEPARATOR and words[0][:1].islower():
        return None
    if core.rstrip().endswith(",") or (words and core.rstrip()[-1:] in ".!?" and len(words) > 8):
        return None
    return " ".join(core.split()).rstrip(_SEPARATOR + " ")


def _find_headings(text: str) -> list[_Heading]:
    lines = _lines(text)
    found: list[tuple[int, int, str]] = []  # (first line, last line, title)
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        title = _heading_title(line, extra=False)
        if title is not None:
            found.append((index, index, title))
        elif line.strip(_DECORATION).lower() == "chapter" and index + 1 < len(lines):
            # "CHAPTER" on one line and its number on the next.
            number_line = text[lines[index + 1][0] : lines[index + 1][1]].strip(_DECORATION)
            if _NUMERAL_RE.fullmatch(number_line):
                found.append((index, index + 1, f"{line.strip(_DECORATION)} {number_line}"))
    if found:
        for index, (start, end) in enumerate(lines):
            title = _heading_title(text[start:end], extra=True)
            if title is not None:
                found.append((index, index, title))  # Prologue and Epilogue alone make no chapters
        found.sort()
    else:
        found = [(index, index, title) for index, title in _numeral_headings(text, lines)]
    headings: list[_Heading] = []
    for index, last, title in found:
        subtitle = _subtitle(text, lines, last)
        if subtitle:
            title = _join_title(title, subtitle)
        start = _part_start(text, lines, index)
        if headings and start <= headings[-1].line_end:
            start = lines[index][0]  # a part line never reaches back over another heading
        if headings and start <= headings[-1].start:
            continue  # two headings on one line range: keep the first
        headings.append(_Heading(start, lines[last][1], title))
    return headings


_NUMERAL_RE = re.compile(rf"(?P<num>{_ROMAN}|\d{{1,3}})\.?")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# Bare numbers count as headings only in a run this long that counts up from one.
_MIN_NUMERAL_RUN = 3


def _numeral_value(numeral: str) -> int:
    if numeral.isdigit():
        return int(numeral)
    values = [_ROMAN_VALUES[ch] for ch in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _numeral_headings(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Lines that are a bare "I", "II"... or "1", "2"... counting up, between blank lines.

    Classic novels often number chapters so; the count-up rule keeps a stray "I" out.
    """
    found: list[tuple[int, str]] = []
    last = 0
    for index, (start, end) in enumerate(lines):
        match = _NUMERAL_RE.fullmatch(text[start:end].strip(_DECORATION))
        if not match:
            continue
        before = lines[index - 1] if index else None
        after = lines[index + 1] if index + 1 < len(lines) else None
        if any(near and text[near[0] : near[1]].strip() for near in (before, after)):
            continue
        value = _numeral_value(match.group("num"))
        if value == last + 1 or (value == 1 and found):  # a new book or part counts from one
            found.append((index, f"Chapter {match.group('num')}"))
            last = value
    return found if len(found) >= _MIN_NUMERAL_RUN else []


def _join_title(title: str, subtitle: str) -> str:
    # "Chapter 3" + "The Mine" -> "Chapter 3: The Mine"; a title that has its own name keeps it.
    match = _CHAPTER_RE.fullmatch(title) or _EXTRA_RE.fullmatch(title)
    if match and match.group("rest").strip(_SEPARATOR + " "):
        return title
    return f"{title}: {subtitle}"


def _next_nonblank(text: str, lines: list[tuple[int, int]], index: int) -> int | None:
    for other in range(index + 1, min(index + 3, len(lines))):
        start, end = lines[other]
        if text[start:end].strip():
            return other
    return None


def _subtitle(text: str, lines: list[tuple[int, int]], index: int) -> str | None:
    """A short title line right after a bare heading ("CHAPTER I." / "Down the Rabbit-Hole")."""
    other = _next_nonblank(text, lines, index)
    if other is None:
        return None
    start, end = lines[other]
    candidate = text[start:end].strip(_DECORATION)
    after = lines[other + 1] if other + 1 < len(lines) else None
    if after is not None and text[after[0] : after[1]].strip():
        return None  # the line is part of a paragraph
    if _heading_title(text[start:end], extra=False) or _heading_title(text[start:end], extra=True):
        return None
    return candidate if _looks_like_title(candidate) else None


def _part_start(text: str, lines: list[tuple[int, int]], index: int) -> int:
    """Start of a "Book II" / "Part One" line just above the heading, else of the heading."""
    seen = 0
    for other in range(index - 1, max(index - 8, -1), -1):
        start, end = lines[other]
        line = text[start:end].strip(_DECORATION)
        if not line:
            continue
        if _PART_RE.fullmatch(line):
            return start
        seen += 1
        # One line may sit between: the part's own title ("BOOK THE FIRST" / "SOWING").
        if seen > 1 or not _looks_like_title(line):
            break
    return lines[index][0]


def _real_headings(text: str, headings: list[_Heading]) -> list[_Heading]:
    """Drop runs of headings with (almost) nothing under them: a table of contents."""
    words = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        words.append(len(text[heading.line_end : end].split()))
    keep = []
    for i, heading in enumerate(headings):
        small = words[i] <= _TOC_MAX_WORDS
        neighbour_small = (i > 0 and words[i - 1] <= _TOC_MAX_WORDS) or (
            i + 1 < len(headings) and words[i + 1] <= _TOC_MAX_WORDS
        )
        if small and neighbour_small:
            continue
        keep.append(heading)
    return keep


def _looks_like_title(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 12
        and len(line) <= 80
        and line[-1] not in ".,;:!?\u2026\"'\u201d\u2019*"
        and line[0] not in "\"'\u201c\u2018*(-"
        and not line[0].islower()
    )


def guess_title(text: str) -> str | None:
    """The text's first line when it stands alone and looks like a title, else None."""
    lines = text.lstrip().split("\n", 2)
    if len(lines) < 2 or lines[1].strip():
        return None  # no text after it, or the line is part of a paragraph
    first = lines[0].strip().strip(_DECORATION)
    return " ".join(first.split()) if first and _looks_like_title(first) else None


def prettify_name(name: str) -> str:
    """A file or folder name as a title: "the_long-road" -> "The Long Road"."""
    pretty = name.replace("_", " ")
    if " " not in name.strip():
        pretty = pretty.replace("-", " ")
    pretty = " ".join(pretty.split())
    if pretty == pretty.lower():
        pretty = " ".join(word[:1].upper() + word[1:] for word in pretty.split())
    return pretty or name
