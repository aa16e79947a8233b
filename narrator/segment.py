"""Segment a chapter: chapter text (str) -> list[Segment] (speaker left None).

The segments cover the text exactly, in order, without gaps or overlaps. Kinds:

- ``heading``: a chapter title, a short scene heading ending in a colon, a ``* * *``
  separator, "Chapter end." / "To be continued...";
- ``note``: an author's note or disclaimer at the start or end of a chapter (or anywhere
  when it is marked ``AN:`` / ``A/N`` / ``Author's note``);
- ``dialogue``: quoted speech, quote marks included;
- ``thought``: a quoted or ``*italic*``/``_italic_`` passage next to a thinking verb
  ("thought Ann", "she wondered"), or a whole italic sentence standing on its own;
- ``narration``: everything else, including the blank lines between paragraphs.

How it works, all in linear time:

1. Paragraphs: separated by blank lines in hard-wrapped texts (lines wrapped at a fixed
   width, most of them not ending a sentence), by single newlines otherwise.
2. Quote style per text: double quotes, or single quotes when single-quoted openings
   outnumber double quotes (British style). Marks of the other style are nested material.
3. Quote marks are paired per paragraph, so one missing mark cannot flip the rest of the
   chapter. Each mark gets a likely role from its neighbours (an opening mark follows a
   space and precedes a word; a closing one the reverse); a two-state Viterbi pass then
   picks the cheapest consistent reading, where treating a mark against its look, leaving a
   speech open at the paragraph end, repairing a missing mark, or calling a single quote
   an apostrophe each cost something. A paragraph that opens a quote and never closes it is
   dialogue to its end, which also covers speeches running over several paragraphs.
4. Outside speech, single-quoted and italic passages become thoughts when a thinking verb
   is next to them (or, for italics, when they form whole sentences of their own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from narrator.model import Kind, Segment

# Costs of the readings the quote pairing can choose from (see _pair_marks).
_MISMATCH = 1.0  # using a mark against its look (an opening-looking mark as a close)
_REPAIR = 0.8  # assuming a missing mark (a close without opening, a re-opening)
_OPEN_AT_END = 0.6  # a speech still open at the end of its paragraph
_IGNORE_DOUBLE = 1.2  # a double quote that is not a quote mark at all
_IGNORE_SINGLE_AFTER_LETTER = 0.3  # Smiths' / somethin' : usually an apostrophe
_IGNORE_SINGLE = 0.9  # any other single quote

_DOUBLE = frozenset('"\u201c\u201d\u201e')
_SINGLE = frozenset("'\u2018\u2019")
_ITALIC = frozenset("*_")
_OPENING_ONLY = frozenset("\u201c\u201e\u2018")
_CLOSING_ONLY = frozenset("\u201d")
_OPEN_BEFORE = frozenset("([{\u2014\u2013-/")  # a quote may open right after these
_CLOSE_AFTER = frozenset(".,;:!?)]}\u2014\u2013-\u2026")  # and close right before these
_SENTENCE_END = frozenset(".!?\u2026")

# Words that begin with an apostrophe: 'em, 'tis, rock 'n' roll, '90s.
_ELISION_RE = re.compile(
    r"(?:em|tis|twas|twere|twill|til|cause|cos|bout|n|nuff|ere|im|er|ow|ave|ead|alf|ello|"
    r"kay|cept|fore|neath|spect|twixt|ye|un|uns|e|s|d|ll|re|ve|m|t|\d+s?)(?![A-Za-z])",
    re.IGNORECASE,
)
_THINK_WORDS = frozenset(
    "thought thinks think thinking wondered wonders wondering mused muses musing "
    "pondered ponders pondering reflected".split()
)
_SPEECH_WORDS = frozenset(
    "said says say asked asks replied replies answered answers called calls shouted yelled "
    "whispered whispers muttered mutters cried cries added adds told tells explained "
    "exclaimed snapped growled roared murmured murmurs continued began responded screamed "
    "laughed chuckled sighed hissed spoke protested offered groaned demanded insisted".split()
)
_WORD_RE = re.compile(r"[A-Za-z]+")
_TAG_WINDOW = 60  # characters of tag looked at on each side of a quote

_NUMBER = r"(?:\d+|[IVXLC]+\b|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_CHAPTER_RE = re.compile(
    r"(?:chapter|prologue|epilogue|interlude|part|book|act|volume|letter|section)"
    rf"(?:\s+(?:{_NUMBER}|end\b))?\s*(?:[:.\-\u2014\u2013]|$)"
    r"|[IVXLC]+\.?$|\d+\.?$"
    r"|(?:the end|to be continued|end of (?:the )?chapter|fin)\W*$",
    re.IGNORECASE,
)
# "* * *", "~~~", "-----", "oOo", "xXx": scene separators.
_SEPARATOR_RE = re.compile(r"(?:[*~#=+\-_\u2022\u2014]\s*){3,40}|[oOxX0]{3,9}")
_NOTE_MARK_RE = re.compile(
    r"(?-i:A\s?/\s?N|AN|N\s?/\s?A)\d*\s*[:.\-\u2014]|author'?s?\s+notes?\b|disclaimer\b",
    re.IGNORECASE,
)
_NOTE_WORDS_RE = re.compile(
    r"\b(?:reviews?|reviewing|reviewers|updates?|updated|updating|favs?|favou?rites|follows|"
    r"followers|beta(?:ed)?|patreon|kudos|own nothing|(?:don'?t|do not) own|"
    r"next chapter|this chapter|last chapter|enjoy(?:ed)?|hope you|thanks? (?:you )?for "
    r"reading|readers?|cliffhanger|comments?|fanfic|fic|oc'?s)\b",
    re.IGNORECASE,
)
_EDGE_PARAGRAPHS = 4  # notes and titles are looked for this far from either end


@dataclass(frozen=True)
class _Mark:
    """A candidate quote or italic mark and what it costs to read it each way."""

    pos: int
    open_cost: float  # cost of reading it as an opening mark
    close_cost: float  # ... as a closing mark
    ignore_cost: float  # ... as no mark at all (apostrophe, stray character)


def segment_chapter(text: str) -> list[Segment]:
    """Split chapter text into narration, dialogue, thought, heading and note segments."""
    paragraphs = list(_paragraphs(text))
    single_style = _uses_single_quotes(text)
    spans: list[tuple[int, int, Kind]] = []
    blocks = _edge_blocks(text, paragraphs)
    for index, (start, end) in enumerate(paragraphs):
        block_kind = blocks.get(index)
        if block_kind is not None:
            spans.append((start, end, block_kind))
            continue
        spans.extend(_segment_paragraph(text, start, end, single_style))
    return _fill_gaps(text, spans)


# --- paragraphs ---------------------------------------------------------------------------


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of every line, newline excluded."""
    pos = 0
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        if nl == -1:
            yield pos, n
            return
        yield pos, nl
        pos = nl + 1


def _is_hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """Blank lines separate paragraphs, and lines run on without ending a sentence."""
    blank = [text[a:b].strip() == "" for a, b in lines]
    if not any(blank) or all(blank):
        return False
    run_on = 0
    ending = 0
    for i in range(len(lines) - 1):
        if blank[i] or blank[i + 1]:
            continue
        run_on += 1
        last = text[lines[i][0] : lines[i][1]].rstrip()[-1:]
        ending += last in _SENTENCE_END or last in "\"'\u201d\u2019:)"
    # One-paragraph-per-line text ends nearly every line with a sentence; wrapped text
    # ends most lines mid-sentence. With no run-on lines at all both readings agree.
    return run_on == 0 or ending * 2 < run_on


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each paragraph's text, outer whitespace excluded."""
    lines = list(_lines(text))
    by_blank_line = _is_hard_wrapped(text, lines)
    para_start = -1
    para_end = -1
    for a, b in lines:
        stripped = text[a:b].strip()
        if not stripped:
            if para_start >= 0:
                yield para_start, para_end
                para_start = -1
            continue
        lead = a + (len(text[a:b]) - len(text[a:b].lstrip()))
        tail = b - (len(text[a:b]) - len(text[a:b].rstrip()))
        if para_start < 0:
            para_start = lead
        elif not by_blank_line:
            yield para_start, para_end
            para_start = lead
        para_end = tail
    if para_start >= 0:
        yield para_start, para_end


# --- headings and notes -------------------------------------------------------------------


def _edge_blocks(text: str, paragraphs: list[tuple[int, int]]) -> dict[int, Kind]:
    """Headings and author's notes: paragraph index -> kind."""
    found: dict[int, Kind] = {}
    n = len(paragraphs)
    for i, (a, b) in enumerate(paragraphs):
        body = text[a:b]
        if _NOTE_MARK_RE.match(body):
            found[i] = Kind.NOTE
        elif _is_heading(body, i, n, text, paragraphs):
            found[i] = Kind.HEADING
    # Unmarked notes ("Hope you all enjoy it!") only in the run of non-story paragraphs
    # at either end of the chapter.
    for order in (range(min(n, _EDGE_PARAGRAPHS)), range(n - 1, max(-1, n - 1 - _EDGE_PARAGRAPHS), -1)):
        for i in order:
            if i in found:
                continue
            a, b = paragraphs[i]
            if _looks_like_note(text[a:b]):
                found[i] = Kind.NOTE
                continue
            break
    return found


def _looks_like_note(body: str) -> bool:
    if any(ch in _DOUBLE for ch in body) or len(body) > 600:
        return False
    return _NOTE_WORDS_RE.search(body) is not None


def _is_heading(
    body: str, index: int, count: int, text: str, paragraphs: list[tuple[int, int]]
) -> bool:
    if "\n" in body or len(body) > 80 or any(ch in _DOUBLE for ch in body):
        return False
    if _SEPARATOR_RE.fullmatch(body):
        return True
    words = body.split()
    if len(words) <= 8 and _CHAPTER_RE.match(body):
        return True
    if body.endswith(":") and len(words) <= 12:
        # "He said:" introduces a quotation; a heading does not.
        if any(w.lower() in _SPEECH_WORDS for w in _WORD_RE.findall(body)):
            return False
        if index + 1 < count:
            nxt = text[paragraphs[index + 1][0] : paragraphs[index + 1][0] + 1]
            if nxt in _DOUBLE or nxt in _SINGLE:
                return False
        return True
    # A title line opening the chapter: short, capitalised, no sentence punctuation.
    return (
        index == 0
        and count > 1
        and len(words) <= 8
        and body[-1] not in _SENTENCE_END
        and body[-1] not in ",;"
        and all(w[0].isupper() or not w[0].isalpha() or len(w) <= 3 for w in words)
    )


# --- quote style --------------------------------------------------------------------------


def _uses_single_quotes(text: str) -> bool:
    """True when single quotes, not double quotes, mark speech in this text."""
    doubles = sum(text.count(ch) for ch in _DOUBLE)
    openings = 0
    for m in re.finditer(r"(?:^|(?<=[\s(\[\u2014]))['\u2018](?=\w)", text):
        if not _ELISION_RE.match(text, m.end()):
            openings += 1
    return openings > 0 and openings > 2 * doubles


# --- quote marks --------------------------------------------------------------------------


def _classify(text: str, pos: int, start: int, end: int) -> _Mark | None:
    """Costs of a quote mark at pos in paragraph text[start:end]; None: not a mark."""
    ch = text[pos]
    before = text[pos - 1] if pos > start else " "
    after = text[pos + 1] if pos + 1 < end else " "
    opens_look = (before.isspace() or before in _OPEN_BEFORE or before in _DOUBLE) and not (
        after.isspace()
    )
    closes_look = not before.isspace() and (after.isspace() or after in _CLOSE_AFTER)
    if ch in _SINGLE:
        if before.isalnum() and after.isalnum():
            return None  # don't, o'clock
        if opens_look and ch != "\u2019" and _ELISION_RE.match(text, pos + 1):
            return None  # 'em, 'tis, rock 'n' roll
        if not opens_look and not closes_look:
            return None
        ignore = _IGNORE_SINGLE_AFTER_LETTER if before.isalpha() else _IGNORE_SINGLE
    else:
        ignore = _IGNORE_DOUBLE
    if ch in _OPENING_ONLY:
        opens_look, closes_look = True, False
    elif ch in _CLOSING_ONLY or ch == "\u2019":
        opens_look, closes_look = False, closes_look or not opens_look
    open_cost = _MISMATCH if closes_look and not opens_look else 0.0
    close_cost = _MISMATCH if opens_look and not closes_look else 0.0
    return _Mark(pos, open_cost, close_cost, ignore)


def _pair_marks(marks: list[_Mark], open_at_end: float) -> list[tuple[int, int, str]]:
    """Choose the cheapest reading of the marks of one paragraph.

    Returns (first mark index or -1, last mark index or -1, how) per speech, where how is
    "pair" (both marks found), "no-open" (the opening mark is missing) or "no-close" (the
    closing mark is missing: the speech ends before the next mark or at the paragraph end).
    """
    inf = float("inf")
    # cost[s] of the best reading so far ending closed (s=0) or with a speech open (s=1);
    # back[k][s] = (previous state, role of mark k).
    cost = [0.0, inf]
    back: list[tuple[tuple[int, str], tuple[int, str]]] = []
    for mark in marks:
        closed_options = [
            (cost[0] + mark.ignore_cost, 0, "ignore"),
            (cost[1] + mark.close_cost, 1, "close"),
            (cost[0] + mark.close_cost + _REPAIR, 0, "no-open"),
        ]
        open_options = [
            (cost[1] + mark.ignore_cost, 1, "ignore"),
            (cost[0] + mark.open_cost, 0, "open"),
            (cost[1] + mark.open_cost + _REPAIR, 1, "reopen"),
        ]
        best_closed = min(closed_options, key=lambda o: o[0])
        best_open = min(open_options, key=lambda o: o[0])
        cost = [best_closed[0], best_open[0]]
        back.append(((best_closed[1], best_closed[2]), (best_open[1], best_open[2])))
    state = 0 if cost[0] <= cost[1] + open_at_end else 1
    roles: list[str] = [""] * len(marks)
    for k in range(len(marks) - 1, -1, -1):
        prev_state, role = back[k][state]
        roles[k] = role
        state = prev_state
    speeches: list[tuple[int, int, str]] = []
    open_index = -1
    for k, role in enumerate(roles):
        if role == "open":
            open_index = k
        elif role == "close":
            speeches.append((open_index, k, "pair"))
            open_index = -1
        elif role == "reopen":
            speeches.append((open_index, k, "no-close"))
            open_index = k
        elif role == "no-open":
            speeches.append((-1, k, "no-open"))
    if open_index >= 0:
        speeches.append((open_index, -1, "no-close"))
    return speeches


def _find_speech(
    text: str, start: int, end: int, quote_chars: frozenset[str], next_opens: bool
) -> list[tuple[int, int]]:
    """(start, end) of the quoted passages in paragraph text[start:end], marks included."""
    marks = []
    pos = start
    while pos < end:
        ch = text[pos]
        if ch in quote_chars:
            mark = _classify(text, pos, start, end)
            if mark is not None:
                marks.append(mark)
        pos += 1
    if not marks:
        return []
    # A paragraph that opens with a quote and leaves it open, followed by one opening
    # with a quote, is part of a speech running over several paragraphs.
    multi = next_opens and marks[0].pos == start
    speeches = _pair_marks(marks, 0.0 if multi else _OPEN_AT_END)
    spans: list[tuple[int, int]] = []
    prev_end = start
    for i, j, how in speeches:
        if how == "pair":
            a, b = marks[i].pos, marks[j].pos + 1
        elif how == "no-open":
            b = marks[j].pos + 1
            a = _missing_open(text, prev_end, b)
        else:
            a = marks[i].pos
            b = end if j < 0 else _rstrip_to(text, a + 1, marks[j].pos)
        if b > a >= prev_end:
            spans.append((a, b))
            prev_end = b
    return spans


def _missing_open(text: str, lower: int, close_end: int) -> int:
    """Where a speech whose opening mark is missing most likely began."""
    if lower == 0 or text[lower - 1] == "\n" or not text[lower:close_end].strip():
        return _lstrip_to(text, lower, close_end)
    # After an earlier speech in the paragraph: skip its tag, up to the first sentence end.
    for k in range(lower, close_end - 1):
        if text[k] in _SENTENCE_END and text[k + 1].isspace():
            return _lstrip_to(text, k + 1, close_end)
    return _lstrip_to(text, lower, close_end)


def _lstrip_to(text: str, pos: int, limit: int) -> int:
    while pos < limit and text[pos].isspace():
        pos += 1
    return pos


def _rstrip_to(text: str, limit: int, pos: int) -> int:
    while pos > limit and text[pos - 1].isspace():
        pos -= 1
    return pos


# --- thoughts -----------------------------------------------------------------------------


def _tag_verb(tag: str, *, after: bool) -> str | None:
    """'think' or 'speech' when the tag next to a quote holds such a verb, else None."""
    words = _WORD_RE.findall(tag)
    near = words[:4] if after else words[-4:]
    for word in near:
        lower = word.lower()
        if lower in _THINK_WORDS:
            return "think"
        if lower in _SPEECH_WORDS:
            return "speech"
    return None


def _speech_kinds(
    text: str, spans: list[tuple[int, int]], start: int, end: int
) -> list[Kind | None]:
    """Kind per span: thought next to a thinking verb, dialogue next to a speech verb.

    None means no verb either side. A tag shared by two quotes ("Hm," thought Ann, "no.")
    gives both the same kind.
    """
    kinds: list[Kind | None] = []
    for n, (a, b) in enumerate(spans):
        left = spans[n - 1][1] if n else start
        right = spans[n + 1][0] if n + 1 < len(spans) else end
        after = _tag_verb(text[b : min(right, b + _TAG_WINDOW)], after=True)
        before_text = text[max(left, a - _TAG_WINDOW) : a]
        before = _tag_verb(before_text, after=False)
        if n and before is None:
            # The tag of the previous quote: "'No.' Thought Vesh. 'Never.'"
            before = _tag_verb(text[left : min(a, left + _TAG_WINDOW)], after=True)
        verb = after or before
        kinds.append(
            Kind.THOUGHT if verb == "think" else Kind.DIALOGUE if verb == "speech" else None
        )
    return kinds


def _italic_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """*italic* and _italic_ passages in text[start:end], markup included."""
    spans: list[tuple[int, int]] = []
    open_pos = -1
    open_ch = ""
    for pos in range(start, end):
        ch = text[pos]
        if ch not in _ITALIC:
            continue
        before = text[pos - 1] if pos > start else " "
        after = text[pos + 1] if pos + 1 < end else " "
        if open_pos >= 0 and ch == open_ch:
            if not before.isspace() and (after.isspace() or not after.isalnum()):
                if any(c.isalpha() for c in text[open_pos:pos]):
                    spans.append((open_pos, pos + 1))
                open_pos = -1
        elif (before.isspace() or not before.isalnum()) and not after.isspace():
            if after != ch:
                open_pos, open_ch = pos, ch
    return spans


def _stands_alone(text: str, a: int, b: int, start: int, end: int) -> bool:
    """An italic passage forming whole sentences of its own (an unmarked thought)."""
    # Bounded look-arounds keep this linear however many italics a paragraph holds.
    head = text[max(start, a - 8) : a].rstrip()
    tail = text[b : min(end, b + 8)].lstrip()
    inner = text[a + 1 : b - 1].rstrip()
    opens = not head or head[-1] in _SENTENCE_END
    closes = bool(inner) and (inner[-1] in _SENTENCE_END or not tail or tail[0] in ".!?")
    return opens and closes


def _segment_paragraph(
    text: str, start: int, end: int, single_style: bool
) -> list[tuple[int, int, Kind]]:
    """Speech and thought spans of one paragraph."""
    primary, secondary = (_SINGLE, _DOUBLE) if single_style else (_DOUBLE, _SINGLE)
    next_opens = _next_paragraph_opens(text, end, primary)
    speech = _find_speech(text, start, end, primary, next_opens)
    kinds = _speech_kinds(text, speech, start, end)
    result = [(a, b, k or Kind.DIALOGUE) for (a, b), k in zip(speech, kinds, strict=True)]
    # Outside speech, secondary quotes and italics count only next to a verb.
    gaps = _gaps(speech, start, end)
    extra: list[tuple[int, int, Kind]] = []
    for ga, gb in gaps:
        quoted = _find_speech(text, ga, gb, secondary, False) if ga < gb else []
        quoted_kinds = _speech_kinds(text, quoted, ga, gb)
        thinking = any(k is Kind.THOUGHT for k in quoted_kinds)
        for (a, b), k in zip(quoted, quoted_kinds, strict=True):
            if k is Kind.THOUGHT or (thinking and k is None):
                extra.append((a, b, Kind.THOUGHT))
            elif k is Kind.DIALOGUE:
                extra.append((a, b, Kind.DIALOGUE))
        for ia, ib in _gaps(quoted, ga, gb):
            italics = _italic_spans(text, ia, ib)
            italic_kinds = _speech_kinds(text, italics, ia, ib)
            for (a, b), k in zip(italics, italic_kinds, strict=True):
                if k is Kind.THOUGHT or (k is None and _stands_alone(text, a, b, start, end)):
                    extra.append((a, b, Kind.THOUGHT))
    result.extend(extra)
    result.sort()
    return result


def _next_paragraph_opens(text: str, end: int, quote_chars: frozenset[str]) -> bool:
    pos = end
    n = len(text)
    # Whitespace between paragraphs is short; cap the look-ahead to keep this linear.
    limit = min(n, end + 200)
    while pos < limit and text[pos].isspace():
        pos += 1
    return pos < n and text[pos] in quote_chars


def _gaps(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    gaps = []
    pos = start
    for a, b in spans:
        if a > pos:
            gaps.append((pos, a))
        pos = max(pos, b)
    if pos < end:
        gaps.append((pos, end))
    return gaps


def _fill_gaps(text: str, spans: list[tuple[int, int, Kind]]) -> list[Segment]:
    """Segments covering text exactly: the spans, and narration between them."""
    segments: list[Segment] = []
    pos = 0
    for a, b, kind in spans:
        a = max(a, pos)  # defensive: never overlap
        if b <= a:
            continue
        if a > pos:
            segments.append(Segment(pos, a, Kind.NARRATION, text[pos:a]))
        segments.append(Segment(a, b, kind, text[a:b]))
        pos = b
    if pos < len(text):
        segments.append(Segment(pos, len(text), Kind.NARRATION, text[pos:]))
    return segments
