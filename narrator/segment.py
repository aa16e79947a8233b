"""Segment a chapter: chapter text (str) -> list[Segment] (speaker left None).

The segments cover the text exactly, in order, without gaps or overlaps. Kinds:

- ``heading``: a chapter title, a short scene heading ending in a colon, a ``* * *``
  separator, a scene marker (``*Time skip*``), a name alone between marks (``~ Kess ~``),
  "Chapter end." / "To be continued...";
- ``note``: an author's note or disclaimer at the start or end of a chapter (or anywhere
  when it is marked ``AN:`` / ``A/N`` / ``Author's note``);
- ``dialogue``: quoted speech, quote marks included; a text message (``[Ana]: where r u``,
  one per line, or ``Ana: where r u`` in a chapter written as a chat or a script, or in a
  burst of such lines inside prose), without its ``[Ana]:`` prefix; a LitRPG system line
  (``[Quest updated: ...]``, brackets included: `is_system_line`);
- ``thought``: a quoted or ``*italic*``/``_italic_`` passage next to a thinking verb
  ("thought Ann", "she wondered"), or a single-quoted or italic passage forming whole
  sentences of its own in a text whose speech is double-quoted;
- ``narration``: everything else, including the blank lines between paragraphs and
  scare quotes (her "condition").

How it works, all in linear time:

1. Paragraphs: separated by blank lines in hard-wrapped texts (lines wrapped at a fixed
   width, most of them not ending a sentence), by single newlines otherwise.
2. Quote style per text: double quotes, or single quotes when single-quoted openings
   outnumber double quotes three to one (British style). Inside speech, marks of the other
   style are nested quotations and stay part of it.
3. Quote marks are paired per paragraph, so one missing mark cannot flip the rest of the
   chapter. Each mark gets a likely role from its neighbours (an opening mark follows a
   space and precedes a word; a closing one the reverse); a two-state Viterbi pass then
   picks the cheapest consistent reading, where treating a mark against its look, leaving a
   speech open at the paragraph end, repairing a missing mark, or calling a single quote
   an apostrophe each cost something. A paragraph that opens a quote and never closes it is
   dialogue to its end, which also covers speeches running over several paragraphs.
4. Outside speech, the other style's quotes and italics are looked at: thoughts next to a
   thinking verb or standing as sentences of their own, else narration (titles, terms,
   emphasis); double quotes in a single-quoted text are speech all the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from narrator.lexicon import (
    IRREGULAR_PAST_FORMS,
    QUOTE_STYLE_TAG_VERBS,
    SEGMENT_SPEECH_FORMS,
    SEGMENT_THINK_FORMS,
    SPEECH_VERB_ALT,
    TITLE_ABBREVIATIONS,
    word_set,
)
from narrator.model import Kind, Segment
from narrator.names import UPPER
from narrator.text_marks import ITALIC_MARKS

# Costs of the readings the quote pairing can choose from (see _pair_marks).
_MISMATCH = 1.0  # using a mark against its look (an opening-looking mark as a close)
_REPAIR = 0.8  # assuming a missing mark (a close without opening, a re-opening)
_OPEN_AT_END = 0.6  # a speech still open at the end of its paragraph
_IGNORE_DOUBLE = 1.2  # a double quote that is not a quote mark at all
_IGNORE_SINGLE_AFTER_LETTER = 0.3  # Smiths' / somethin' : usually an apostrophe
_IGNORE_SINGLE = 0.9  # any other single quote

_DOUBLE = frozenset('"\u201c\u201d\u201e\u00ab\u00bb')
_SINGLE = frozenset("'\u2018\u2019")
_MARK_RES = {
    chars: re.compile("[" + re.escape("".join(sorted(chars))) + "]") for chars in (_DOUBLE, _SINGLE)
}
_ITALIC_RE = re.compile(f"[{re.escape(ITALIC_MARKS)}]")
_ANY_MARK_RE = re.compile(f"[{re.escape(ITALIC_MARKS + ''.join(sorted(_DOUBLE | _SINGLE)))}]")
_OPENING_ONLY = frozenset("\u201c\u201e\u2018\u00ab")
_CLOSING_ONLY = frozenset("\u201d\u00bb")
_OPEN_BEFORE = frozenset("([{\u2014\u2013-/")  # a quote may open right after these
_CLOSE_AFTER = frozenset(".,;:!?)]}\u2014\u2013-\u2026")  # and close right before these
_SENTENCE_END = frozenset(".!?\u2026")
_GLUED_CLOSE_BEFORE = frozenset(".,!?\u2026")

# Words that begin with an apostrophe: 'em, 'tis, rock 'n' roll, '90s.
_ELISION_RE = re.compile(
    r"(?:em|tis|twas|twere|twill|til|cause|cos|bout|n|nuff|ere|im|er|ow|ave|ead|alf|ello|"
    r"kay|cept|fore|neath|spect|twixt|ye|un|uns|e|s|d|ll|re|ve|m|t|\d+s?)(?![A-Za-z])",
    re.IGNORECASE,
)


# Counting quote styles: an opening single quote, and speech tags after either style.
_SINGLE_OPENING_RE = re.compile(r"(?:^|(?<=[\s(\[\u2014]))['\u2018](?=\w)")
_TAG_AFTER = rf"\s+(?:[^\W\d_]+\s+){{0,2}}(?:{'|'.join(QUOTE_STYLE_TAG_VERBS)})\b"
_SINGLE_TAG_RE = re.compile(r"[,!?\u2014-]['\u2019]" + _TAG_AFTER)
_DOUBLE_TAG_RE = re.compile(r"[,!?\u2014-][\"\u201d\u00bb]" + _TAG_AFTER)


_THINK_WORDS = SEGMENT_THINK_FORMS
_SPEECH_WORDS = SEGMENT_SPEECH_FORMS
_TAG_VERBS = _SPEECH_WORDS | _THINK_WORDS
_CLAUSE_WORDS = word_set(
    "i he she it we they you me him them us his my their our your its is are was were am be "
    "been has have had did does came went began spoke flew read reads wrote writes follows "
    "following then there this dear dearest"
)
_CONJUNCTIONS = word_set("and but or what which that when while if because who")
_WORD_RE = re.compile(r"[^\W\d_]+")  # letters of any script: `Éowyn`, `Анна`
_DETERMINERS = word_set("the a an this that his her my their our your its no some one")
_MAX_THOUGHT_CHARS = 300  # longer unmarked italics are not taken for thoughts
# A paragraph that is all one parenthesis, no quote marks in it: a thought when someone
# talks in it (`I`, `you`, a question or an exclamation), as anime fan fiction sets them.
_PAREN_THOUGHT_RE = re.compile(r"[ \t]*\([^()\"\u201c\u201d\n]{2,300}\)[ \t]*")
_TAG_WINDOW = 60  # characters of tag looked at on each side of a quote

_NUMBER = r"(?:\d+|[IVXLC]+\b|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_CHAPTER_RE = re.compile(
    r"(?:chapter|prologue|epilogue|interlude|part|book|act|volume|letter|section)"
    rf"(?:\s+(?:{_NUMBER}|end\b))?\s*(?:[:.\-\u2014\u2013]|$)"
    r"|(?:ch|chap)\.?\s*\d+\s*(?:[:.\-\u2014\u2013]|$)"
    r"|[IVXLC]+\.?$|\d+\.?$"
    r"|(?:the end|to be continued|tbc|end of (?:the )?chapter|fin)\W*$",
    re.IGNORECASE,
)
# `Lantern Lane - Chapter 7: ...`, `chapter 3 the forbidden wing!!`, `The Cheese Moon - Part
# Two`: a title line naming the chapter or part anywhere in it, where a chapter opens.
_CHAPTER_IN_TITLE_RE = re.compile(
    rf"\b(?:chapter|part|book|volume|episode|ep\.|ch\.)\s*{_NUMBER}\b", re.IGNORECASE
)
# "* * *", "~~~", "-----", "oOo", "xXx": scene separators.
_SEPARATOR_RE = re.compile(r"(?:[*~#=+\-_\u2022\u2014xXoO0]\s*){3,60}")
# "Harry's POV", "Flashback", "Time skip", "Line break": web-fiction scene markers.
_SCENE_MARK_RE = re.compile(
    r".{0,40}\b(?:pov|p\.o\.v\.?)(?!\w)|(?:end(?: of)? )?flashback|time ?skip|line ?break"
    r"|scene ?break|(?:[\w-]+ ){0,3}(?:hours|days|weeks|months|years) later\W*$",
    re.IGNORECASE,
)
_BRACKETED_RE = re.compile(r"[ \t]*[\[(\u3010][ \t]*(.*?)[ \t]*[\])\u3011][ \t]*")
_MARKER_DECORATION = "*_~=#[]()<>- \t"  # around a scene marker: `*Time skip*`, `[Flashback]`
# A name alone between marks (`~ Kess ~`, `-Dren-`, `**Mira**`): a part of the chapter told
# by that character, as web fiction heads them.
_DECORATED_NAME_RE = re.compile(
    rf"[ \t]*[~=*_#\[(<\u2014\u2013-]+[ \t]*"
    rf"(?P<name>[{UPPER}][\w'\u2019.-]*(?:[ ][{UPPER}][\w'\u2019.-]*){{0,2}}?)"
    rf"[ \t]*[~=*_#\])>\u2014\u2013-]+[ \t]*"
)


def is_separator(line: str) -> bool:
    """`* * *`, `-x-x-x-`, `oOo`: a mark between scenes, a heading never read as words."""
    return _SEPARATOR_RE.fullmatch(line.strip()) is not None


def decorated_name(line: str) -> str | None:
    """The name a line holds alone between marks (`~ Kess ~` -> Kess), if it is one."""
    m = _DECORATED_NAME_RE.fullmatch(line)
    if m is None or is_editorial(line):
        return None  # `[Illustration]` is an editor's, not a name
    return m["name"].rstrip(".-")


_NOTE_MARK_RE = re.compile(
    r"[(\[*_]*(?:(?-i:[Aa]\s?/\s?[Nn]|AN|N\s?/\s?A|T\s?/\s?N|TLN|TL\s?[Nn]ote|ED\s?[Nn]ote)\d*"
    r"\s*[:.\-\u2014)]|(?:author|translator|editor)'?s?\s+notes?\b|disclaimer\b)",
    re.IGNORECASE,
)
# Phrases only an author says to readers ...
_NOTE_PHRASES_RE = re.compile(
    r"\b(?:own nothing|(?:don'?t|do not) own|thanks? (?:you )?(?:so much )?for reading|"
    r"please review|r ?& ?r|(?:next|this|last|previous) chapter|cliffhanger|fanfic|patreon|"
    r"kudos|beta(?:ed)? by|my beta|reviews are|"
    r"hope (?:you|y'all|everyone)(?: all| guys)? (?:like|enjoy)|"
    r"sorry for the (?:late|long|wait|delay))",
    re.IGNORECASE,
)
# ... and words that count only when the readers are addressed ("Enjoy, guys!").
_NOTE_WORDS_RE = re.compile(
    r"\b(?:reviews?|updates?|updated|favs?|favou?rites|follows|followers|enjoy|readers|"
    r"comments?)\b",
    re.IGNORECASE,
)
_ADDRESS_RE = re.compile(r"\b(?:you|guys|everyone|y'all|folks)\b|!", re.IGNORECASE)
_AUTHOR_VOICE_RE = re.compile(
    r"\b(?:I|I'm|I've|I'll|my|me|you|your|we|us|guys|everyone)\b|!", re.IGNORECASE
)
_EDGE_PARAGRAPHS = 4  # unmarked notes are looked for this far from either end


@dataclass(frozen=True)
class _Mark:
    """A candidate quote mark and what it costs to read it each way."""

    pos: int
    open_cost: float  # cost of reading it as an opening mark
    close_cost: float  # ... as a closing mark
    ignore_cost: float  # ... as no mark at all (apostrophe, stray character)


def segment_chapter(text: str) -> list[Segment]:
    """Split chapter text into narration, dialogue, thought, heading and note segments."""
    said = messages(text)
    paragraphs = list(_paragraphs(text, said))
    single_style = _uses_single_quotes(text)
    spans: list[tuple[int, int, Kind]] = []
    blocks = _block_kinds(text, paragraphs)
    primary = _SINGLE if single_style else _DOUBLE
    dashes = _uses_dash_dialogue(text, paragraphs, blocks, primary)
    raya = dashes and _uses_raya(text, paragraphs)
    closed = dashes and not raya and _tags_between_dashes(text, paragraphs)
    for index, (start, end) in enumerate(paragraphs):
        block_kind = blocks.get(index)
        if block_kind is not None:
            spans.append((start, end, block_kind))
            continue
        message = said.match(text, start, end)
        if message is not None:
            spans.append((message.start("body"), end, Kind.DIALOGUE))
            continue
        if is_system_line(text[start:end]):
            spans.append((start, end, Kind.DIALOGUE))
            continue
        if raya and not _has_mark(text, start, end, primary):
            spans.extend((a, b, Kind.DIALOGUE) for a, b in _raya_speech(text, start, end))
            continue
        if (
            dashes
            and _DASH_OPEN_RE.match(text, start, end)
            and not _has_mark(text, start, end, primary)
        ):
            speech = _closed_dash_speech if closed else _dash_speech
            spans.extend((a, b, Kind.DIALOGUE) for a, b in speech(text, start, end))
            continue
        spans.extend(_segment_paragraph(text, start, end, single_style))
    return _fill_gaps(text, spans)


# --- system lines -------------------------------------------------------------------------
# LitRPG: a line that is all one bracketed label (`[Quest updated: Survive the Night]`,
# `【Skill acquired: Fireball】`, `<Level Up!>`), or opens with one and a colon (`[Quest
# complete]: reward 50 xp`), is the game system speaking, a paragraph of its own. Not a
# text message (`[Ana]: ...`), a footnote (`[12]: ...`) or an author's note (`[A/N: ...]`,
# a note before it is read as one).
_SYSTEM_LINE_RE = re.compile(
    r"[ \t]*(?:\[[^\[\]\n]*[^\W\d_][^\[\]\n]*\]|\u3010[^\u3010\u3011\n]+\u3011"
    r"|<[^<>\n]*[^\W\d_][^<>\n]*>)(?::[ \t]+\S[^\n]*)?[ \t]*"
)


# An editor's brackets, not a game's: `[Illustration]`, `[Picture: ...]`, `[Footnote 3: ...]`,
# `[Pg 12]` (Project Gutenberg's conventions).
_EDITORIAL_RE = re.compile(
    r"[ \t]*[\[<\u3010][ \t]*(?i:illustration|picture|image|photo|plate|frontispiece|map|"
    r"footnote|foot-note|note|sidenote|transcriber|editor|errata|greek|hebrew|music|blank|"
    r"page|pg|p\.)\b"
)


def is_editorial(line: str) -> bool:
    """An editor's bracketed line (`[Illustration: ...]`, `[Pg 12]`): nobody speaks or is
    named in it."""
    return _EDITORIAL_RE.match(line) is not None


def is_system_line(text: str) -> bool:
    """A LitRPG system line (see above): the whole of `text`, one line."""
    return (
        _SYSTEM_LINE_RE.fullmatch(text) is not None
        and not is_editorial(text)
        and TEXT_MESSAGE_RE.match(text.strip()) is None
        and _NOTE_MARK_RE.match(text.strip()) is None
    )


# A forum quest's furniture, each on a line of its own, is for the players, not the story: a
# vote option (`[ ] Go to the docks`, `[X] Write-in:`) and a dice roll in parentheses
# (`(Stealth: rolled 1d100+5 = 64 vs DC 50. Success.)`). Read as an author's note.
_QUEST_LINE_RE = re.compile(
    r"[ \t]*(?:\[[ \t]?[xX\u2713\u2714]?[ \t]?\][ \t]+\S[^\n]*"
    r"|\((?=[^()\n]*\b\d*d\d+\b)[^()\n]*\))[ \t]*"
)


def is_quest_line(text: str) -> bool:
    """A quest's vote option or dice roll (see above): the whole of `text`, one line."""
    return _QUEST_LINE_RE.fullmatch(text) is not None


# --- text messages ------------------------------------------------------------------------
# A chat handle: `bex`, `toby.exe`, `moth_queen`, `xX_k_Xx`.
_HANDLE = r"[^\W\d_][\w.'\u2019-]{0,24}"
# `[Ana]: where r u`: a line opened by a sender's name in brackets and a colon is a message,
# a paragraph of its own, said by the sender. The name is a chat handle (`bex`, `xX_k_Xx`)
# or capitalised words (`Mira K.`); `[Quest complete]: ...` and `[12]: ...` are not names.
TEXT_MESSAGE_RE = re.compile(
    rf"\[(?P<sender>{_HANDLE}|[{UPPER}][\w.'\u2019-]*"
    rf"(?:[ ][{UPPER}][\w.'\u2019-]*){{1,2}})\]:[ \t]*(?=\S)(?P<body>)"
)
# A chapter written as a chat or a script: lines opened by `Ana:` (or `**Ana:**`). Such a
# line is a message only when at least two senders open two lines each, so that a fan-fiction
# header (`Rating: T`, `Pairing: ...`) or one `Note:` is not.
_SCRIPT_LINE_RE = re.compile(
    rf"(?m)^[ \t]*(?:\*\*)?(?P<sender>(?:[{UPPER}][\w'\u2019-]*\.[ ])?"  # `DET. OKAFOR`
    rf"[{UPPER}][\w'\u2019-]*(?:[ ][{UPPER}][\w'\u2019-]*)?|{_HANDLE})"
    r"(?:\*\*)?:(?:\*\*)?[ \t]+(?=\S)"
)
_NOT_SENDERS = word_set(
    "chapter note notes warning warnings disclaimer summary author an a/n ps edit update rating "
    "pairing pairings genre genres words status title fandom characters location time date "
    "part book volume episode prologue epilogue beta setting timeline era"
)
_NOT_SENDER_ALT = "|".join(re.escape(w) for w in sorted(_NOT_SENDERS, key=len, reverse=True))
_SCRIPT_MIN_LINES = 2  # lines each of two senders must open
# A court transcript: `Q. Where were you?` (counsel asking) and `A. Home.` (the witness).
_TRANSCRIPT_LINE_RE = re.compile(r"[ \t]*(?P<sender>[QA])\.[ \t]+(?=\S)(?P<body>)")
_TRANSCRIPT_LINES_RE = re.compile(r"(?m)^[ \t]*(?P<sender>[QA])\.[ \t]+(?=\S)")
_EXAMINED_BY_RE = re.compile(
    rf"(?i:examination\s+by)\s+(?P<name>[{UPPER}][\w.'\u2019 -]{{1,40}}?):"
)
_SWORN_RE = re.compile(
    rf"(?m)^[ \t]*(?P<name>[{UPPER}][\w.'\u2019 -]{{1,40}}?),\s+(?i:having\s+been\s+)?"
    r"(?i:duly\s+)?(?i:sworn|affirmed)"
)
_BURST_LINES = 3  # lines in a row that make a burst of messages inside prose


@dataclass(frozen=True)
class Messages:
    """Lines said by the sender named at their start, in one chapter: `[Ana]: where r u`
    anywhere, and `Ana: where r u` where the chapter is written as a chat or a script."""

    script: re.Pattern[str] | None = None
    transcript: bool = False  # `Q. Where were you?` / `A. Home.`: a court transcript

    def match(self, text: str, start: int, end: int) -> re.Match[str] | None:
        """The message opening text[start:end] (groups `sender` and `body`), if any."""
        found = TEXT_MESSAGE_RE.match(text, start, end)
        if found is None and self.script is not None:
            found = self.script.match(text, start, end)
        if found is None and self.transcript:
            found = _TRANSCRIPT_LINE_RE.match(text, start, end)
        return found


def messages(text: str) -> Messages:
    """How messages look in this chapter (see Messages)."""
    lines = Counter(m["sender"] for m in _TRANSCRIPT_LINES_RE.finditer(text))
    transcript = lines["Q"] >= _SCRIPT_MIN_LINES and lines["A"] >= _SCRIPT_MIN_LINES
    script = _script_messages(text)
    return Messages(script, transcript) if script or transcript else Messages()


def transcript_roles(text: str) -> dict[str, list[tuple[int, str]]]:
    """Who a court transcript's `Q.` and `A.` are from where: (offset, name) in text order,
    from `EXAMINATION BY MS. VOSS:` (who asks) and `LENA MARSH, having been duly sworn` (who
    answers)."""
    return {
        sender: [(m.start(), " ".join(m["name"].split()).title()) for m in heading.finditer(text)]
        for sender, heading in (("Q", _EXAMINED_BY_RE), ("A", _SWORN_RE))
    }


def _script_messages(text: str) -> re.Pattern[str] | None:
    """The pattern of lines opened by a sender in this chapter, if it has such lines."""
    counts: dict[str, int] = {}
    for m in _SCRIPT_LINE_RE.finditer(text):
        sender = m["sender"]
        if sender.split()[0].lower() not in _NOT_SENDERS:
            counts[sender] = counts.get(sender, 0) + 1
    found = {s for s, n in counts.items() if n >= _SCRIPT_MIN_LINES}
    found |= _chat_bursts(text) if counts else set()
    if len(found) < 2:
        return None
    found |= _run_mates(text, found)
    # A script in capitals (`MAGPIE: ...`): any line opened by a name in capitals is one.
    capitals = sum(1 for s in found if s.isupper() and len(s) > 1) >= 2
    senders = sorted(found, key=len)
    alt = "|".join(re.escape(s) for s in reversed(senders))
    if capitals:
        alt += rf"|[{UPPER}][{UPPER}'\u2019-]+(?:[ ][{UPPER}][{UPPER}'\u2019-]+)?"
    return re.compile(
        rf"[ \t]*(?:\*\*)?(?!(?i:{_NOT_SENDER_ALT})\b)(?P<sender>{alt})(?:\*\*)?:"
        r"(?:\*\*)?[ \t]+(?=\S)(?P<body>)"
    )


def _run_mates(text: str, senders: set[str]) -> set[str]:
    """Senders of lines in a row with a known sender's (`LANTERN` between `MAGPIE` and
    `ANCHOR`)."""
    found: set[str] = set()
    for run in _script_runs(text):
        if len(run) >= 2 and senders & set(run):
            found.update(run)
    return found


def _chat_bursts(text: str) -> set[str]:
    """Senders of a burst of messages inside prose: lines in a row (blank lines between them
    allowed) opened by a sender, at least _BURST_LINES of them, from two senders, one of them
    twice (`Jules: where are you` / `Jules: they're calling names` / `Me: 2 min!!`). A header
    (`Rating: T`, `Spoilers: none`) names each key once."""
    found: set[str] = set()
    for run in _script_runs(text):
        if len(run) >= _BURST_LINES and 1 < len(set(run)) < len(run):
            found.update(run)
    return found


def _script_runs(text: str) -> Iterator[list[str]]:
    """The senders of each run of lines opened by a sender (blank lines between them
    allowed), in text order."""
    run: list[str] = []
    for line in [*text.splitlines(), "."]:  # a last line that ends any run
        m = _SCRIPT_LINE_RE.match(line)
        if m is not None and m["sender"].split()[0].lower() not in _NOT_SENDERS:
            run.append(m["sender"])
        elif line.strip():
            if run:
                yield run
            run = []


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
    """True when blank lines separate paragraphs: most lines run on mid-sentence."""
    blank = [text[a:b].strip() == "" for a, b in lines]
    filled = [i for i, is_blank in enumerate(blank) if not is_blank]
    if not filled or not any(blank[filled[0] : filled[-1]]):
        return False  # no blank line between two paragraphs
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


# A quotation within one paragraph, found without the full pairing above: for counts over a
# whole book (narrative person, who is named in speech) where a rough answer is enough.
_ROUGH_QUOTED_RE = re.compile(
    r"\"[^\"]*?(?:\"|\n[ \t]*\n|$)|\u201c[^\u201d]*?(?:\u201d|\n[ \t]*\n|$)"
)


def rough_quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of double-quoted stretches, each ending at its paragraph at the latest."""
    return [(m.start(), m.end()) for m in _ROUGH_QUOTED_RE.finditer(text)]


def paragraph_starts(text: str, said: Messages | None = None) -> list[int]:
    """Where each paragraph starts (0 first): the one paragraph rule the program uses.
    `said`: the chapter's `messages(text)`, when the caller has it already."""
    starts = [a for a, _ in _paragraphs(text, said if said is not None else messages(text))]
    return [0, *starts[1:]] if starts else [0]


def _paragraphs(text: str, said: Messages) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each paragraph's text, outer whitespace excluded."""
    lines = list(_lines(text))
    by_blank_line = _is_hard_wrapped(text, lines)
    para_start = -1
    para_end = -1
    in_message = False
    for a, b in lines:
        stripped = text[a:b].strip()
        if not stripped:
            if para_start >= 0:
                yield para_start, para_end
                para_start = -1
            continue
        lead = a + (len(text[a:b]) - len(text[a:b].lstrip()))
        tail = b - (len(text[a:b]) - len(text[a:b].rstrip()))
        # A text message, a system line or a quest's line is a paragraph of its own.
        line = text[lead:tail]
        message = said.match(text, lead, tail) is not None or (
            is_system_line(line) or is_quest_line(line)
        )
        if para_start < 0:
            para_start = lead
        elif not by_blank_line or message or in_message:
            yield para_start, para_end
            para_start = lead
        para_end = tail
        in_message = message
    if para_start >= 0:
        yield para_start, para_end


# --- headings and notes -------------------------------------------------------------------


def _block_kinds(text: str, paragraphs: list[tuple[int, int]]) -> dict[int, Kind]:
    """Paragraphs that are headings or author's notes: paragraph index -> kind."""
    found: dict[int, Kind] = {}
    n = len(paragraphs)
    opening = n > 1  # no story paragraph yet: only notes and headings so far
    for i, (a, b) in enumerate(paragraphs):
        body = text[a:b]
        if _NOTE_MARK_RE.match(body) or is_quest_line(body):
            found[i] = Kind.NOTE
        elif _is_heading(body, opens_chapter=opening):
            found[i] = Kind.HEADING
        elif _is_bracketed_note(body):
            found[i] = Kind.NOTE
        opening = opening and i in found
    # Unmarked notes ("Hope you all enjoy it!") only in the run of non-story paragraphs
    # at either end of the chapter.
    head = range(min(n, _EDGE_PARAGRAPHS))
    tail = range(n - 1, max(-1, n - 1 - _EDGE_PARAGRAPHS), -1)
    for order in (head, tail):
        for i in order:
            if i in found:
                continue
            a, b = paragraphs[i]
            if _looks_like_note(text[a:b]):
                found[i] = Kind.NOTE
                continue
            break
    _extend_marked_notes(text, paragraphs, found)
    return found


def _extend_marked_notes(
    text: str, paragraphs: list[tuple[int, int]], found: dict[int, Kind]
) -> None:
    """A marked note ("A/N: ...") near an end of the chapter runs on over several
    paragraphs: at the start up to a heading; at the end while the author talks to the
    readers ("See you next week!")."""
    n = len(paragraphs)
    marked = [i for i, kind in found.items() if kind is Kind.NOTE]
    tail_notes = [i for i in marked if i >= n - _EDGE_PARAGRAPHS]
    if tail_notes:
        for i in range(min(tail_notes) + 1, n):
            a, b = paragraphs[i]
            if i not in found and not _AUTHOR_VOICE_RE.search(text, a, b):
                break
            found.setdefault(i, Kind.NOTE)
    head_notes = [i for i in marked if i < _EDGE_PARAGRAPHS]
    if head_notes:
        first = min(head_notes)
        ends = [i for i, kind in found.items() if kind is Kind.HEADING and first < i]
        if ends and min(ends) <= first + _EDGE_PARAGRAPHS:
            for i in range(first + 1, min(ends)):
                found.setdefault(i, Kind.NOTE)


def _looks_like_note(body: str) -> bool:
    if any(ch in _DOUBLE for ch in body) or len(body) > 600:
        return False
    if _NOTE_PHRASES_RE.search(body):
        return True
    return _NOTE_WORDS_RE.search(body) is not None and _ADDRESS_RE.search(body) is not None


def _is_bracketed_note(body: str) -> bool:
    """`[Edit: fixed typos]`, `[Beta read by Kim]`, `[Next chapter: ...]`: an aside in
    brackets opened by a word a fan-fiction header uses, or a phrase only an author says."""
    inner = _BRACKETED_RE.fullmatch(body)
    if inner is None or "\n" in body:
        return False
    words = _WORD_RE.findall(inner[1])
    return bool(words) and (
        words[0].lower() in _NOT_SENDERS or _NOTE_PHRASES_RE.search(inner[1]) is not None
    )


def _is_heading(body: str, *, opens_chapter: bool) -> bool:
    if "\n" in body or len(body) > 80 or any(ch in _DOUBLE for ch in body):
        return False
    inner = _BRACKETED_RE.fullmatch(body)
    if inner is not None and _CHAPTER_RE.match(inner[1]):
        return True  # `[Chapter 5]`, `[To be continued]`
    if is_separator(body):
        return True
    words = body.split()
    if len(words) <= 16 and _CHAPTER_RE.match(body):
        return True  # "Chapter 12: In Which ..." titles can be long
    if decorated_name(body) is not None:
        return True  # `~ Kess ~`: whose part of the chapter starts here
    if len(words) <= 8 and _SCENE_MARK_RE.match(body.strip(_MARKER_DECORATION)):
        return True  # `Flashback`, and as web fiction decorates it: `*Time skip*`
    if opens_chapter and len(words) <= 16 and _CHAPTER_IN_TITLE_RE.search(body):
        return True
    if body.endswith(":") and len(words) <= 12:
        # "He said:", "The sign read:" introduce a quotation; a heading does not.
        # A heading is a noun phrase ("The forest road, evening:"); a sentence with a
        # verb or a pronoun ("John lowered his voice:") introduces what follows.
        lowered = [w.lower() for w in _WORD_RE.findall(body)]
        return not any(
            w in _CLAUSE_WORDS or w in _SPEECH_WORDS or (len(w) > 4 and w.endswith("ed"))
            for w in lowered
        )
    # A title line opening the chapter: short, capitalised, no sentence punctuation.
    return (
        opens_chapter
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
    for m in _SINGLE_OPENING_RE.finditer(text):
        if not _ELISION_RE.match(text, m.end()):
            openings += 1
    # Speech tags decide when there are some: ,' said Tom  against  ," said Tom.
    single_tags = len(_SINGLE_TAG_RE.findall(text))
    double_tags = len(_DOUBLE_TAG_RE.findall(text))
    if single_tags + double_tags >= 2:
        return single_tags > double_tags
    # Texts using double quotes still have a few single-quoted thoughts and titles.
    return openings > 0 and openings >= 3 * doubles


# --- quote marks --------------------------------------------------------------------------


def _classify(text: str, pos: int, start: int, end: int) -> _Mark | None:
    """Costs of a quote mark at pos in paragraph text[start:end]; None: not a mark."""
    ch = text[pos]
    before = text[pos - 1] if pos > start else " "
    after = text[pos + 1] if pos + 1 < end else " "
    opens_look = (before.isspace() or before in _OPEN_BEFORE or before in _DOUBLE) and not (
        after.isspace()
    )
    closes_look = not before.isspace() and (
        after.isspace()
        or after in _CLOSE_AFTER
        # `...need.'Thought Tsunade.`: a mark after the end of a sentence closes it, even
        # with the tag glued to it.
        or (before in _GLUED_CLOSE_BEFORE and after.isalpha())
    )
    if before == "," and after.isalpha():
        # `"Hello,"he said` closes, `she tried,"what if` opens: the pairing decides.
        opens_look = closes_look = True
    if ch in _SINGLE:
        if before.isalnum() and after.isalnum():
            verb = _WORD_RE.match(text, pos + 1, end)
            if verb is None or verb.group(0).lower() not in _TAG_VERBS:
                return None  # don't, o'clock
            # `bad'thought nix`: a verb of speech or thought glued to a closing mark.
            opens_look, closes_look = False, True
        if opens_look and ch != "\u2019" and _ELISION_RE.match(text, pos + 1):
            return None  # 'em, 'tis, rock 'n' roll
        if not opens_look and not closes_look:
            return None
        ignore = _IGNORE_SINGLE_AFTER_LETTER if before.isalpha() else _IGNORE_SINGLE
    elif before.isdigit():
        ignore = _IGNORE_SINGLE_AFTER_LETTER  # 12" : inches
    else:
        ignore = _IGNORE_DOUBLE
    if ch in _OPENING_ONLY:
        opens_look, closes_look = True, False
    elif ch in _CLOSING_ONLY or ch == "\u2019":
        opens_look, closes_look = False, closes_look or not opens_look
    open_cost = _MISMATCH if closes_look and not opens_look else 0.0
    close_cost = _MISMATCH if opens_look and not closes_look else 0.0
    return _Mark(pos, open_cost, close_cost, ignore)


class _Role(StrEnum):
    """What one quotation mark does in a reading of its paragraph."""

    IGNORE = "ignore"  # not a speech mark (an apostrophe, a quote inside a quote)
    OPEN = "open"
    CLOSE = "close"
    REOPEN = "reopen"  # opens a speech while one is open: that one lost its closing mark
    NO_OPEN = "no-open"  # closes a speech whose opening mark is missing


class _Found(StrEnum):
    """How a speech was found among the marks."""

    PAIR = "pair"  # both marks
    NO_OPEN = "no-open"  # the opening mark is missing
    NO_CLOSE = "no-close"  # the closing mark is missing: it ends before the next mark or
    # at the paragraph end


def _pair_marks(marks: list[_Mark], open_at_end: float) -> list[tuple[int, int, _Found]]:
    """Choose the cheapest reading of the marks of one paragraph.

    Returns (first mark index or -1, last mark index or -1, how the speech was found) per
    speech.
    """
    inf = float("inf")
    # cost[s] of the best reading so far ending closed (s=0) or with a speech open (s=1);
    # back[k][s] = (previous state, role of mark k).
    cost = [0.0, inf]
    back: list[tuple[tuple[int, _Role], tuple[int, _Role]]] = []
    for mark in marks:
        closed, opened = cost
        # Ways to end this mark with no speech open ...
        best_closed = (closed + mark.ignore_cost, 0, _Role.IGNORE)
        if opened + mark.close_cost < best_closed[0]:
            best_closed = (opened + mark.close_cost, 1, _Role.CLOSE)
        if closed + mark.close_cost + _REPAIR < best_closed[0]:
            best_closed = (closed + mark.close_cost + _REPAIR, 0, _Role.NO_OPEN)
        # ... and with a speech open.
        best_open = (opened + mark.ignore_cost, 1, _Role.IGNORE)
        if closed + mark.open_cost < best_open[0]:
            best_open = (closed + mark.open_cost, 0, _Role.OPEN)
        if opened + mark.open_cost + _REPAIR < best_open[0]:
            best_open = (opened + mark.open_cost + _REPAIR, 1, _Role.REOPEN)
        cost = [best_closed[0], best_open[0]]
        back.append(((best_closed[1], best_closed[2]), (best_open[1], best_open[2])))
    state = 0 if cost[0] <= cost[1] + open_at_end else 1
    roles: list[_Role] = [_Role.IGNORE] * len(marks)
    for k in range(len(marks) - 1, -1, -1):
        prev_state, role = back[k][state]
        roles[k] = role
        state = prev_state
    speeches: list[tuple[int, int, _Found]] = []
    open_index = -1
    for k, role in enumerate(roles):
        if role is _Role.OPEN:
            open_index = k
        elif role is _Role.CLOSE:
            speeches.append((open_index, k, _Found.PAIR))
            open_index = -1
        elif role is _Role.REOPEN:
            speeches.append((open_index, k, _Found.NO_CLOSE))
            open_index = k
        elif role is _Role.NO_OPEN:
            speeches.append((-1, k, _Found.NO_OPEN))
    if open_index >= 0:
        speeches.append((open_index, -1, _Found.NO_CLOSE))
    return speeches


def _find_speech(
    text: str, start: int, end: int, quote_chars: frozenset[str], next_opens: bool
) -> list[tuple[int, int]]:
    """(start, end) of the quoted passages in paragraph text[start:end], marks included."""
    marks = []
    for found in _MARK_RES[quote_chars].finditer(text, start, end):
        mark = _classify(text, found.start(), start, end)
        if mark is not None:
            marks.append(mark)
    if not marks:
        return []
    # A paragraph that opens with a quote and leaves it open, followed by one opening
    # with a quote, is part of a speech running over several paragraphs.
    multi = next_opens and marks[0].pos == start
    speeches = _pair_marks(marks, 0.0 if multi else _OPEN_AT_END)
    spans: list[tuple[int, int]] = []
    prev_end = start
    for i, j, how in speeches:
        if how is _Found.PAIR:
            a, b = marks[i].pos, marks[j].pos + 1
        elif how is _Found.NO_OPEN:
            b = marks[j].pos + 1
            a = _missing_open(text, start, prev_end, b)
        else:
            a = marks[i].pos
            b = end if j < 0 else _rstrip_to(text, a + 1, marks[j].pos)
        if b > a >= prev_end:
            spans.append((a, b))
            prev_end = b
    return spans


def _missing_open(text: str, start: int, lower: int, close_end: int) -> int:
    """Where a speech whose opening mark is missing most likely began.

    start is the paragraph start, lower the end of the previous speech in it.
    """
    if lower == start:
        return _lstrip_to(text, lower, close_end)
    # After an earlier speech in the paragraph: skip its tag, up to the first sentence end.
    for k in range(lower, close_end - 1):
        if text[k] in _SENTENCE_END and text[k + 1].isspace():
            return _lstrip_to(text, k + 1, close_end)
    if _tag_verb(text[lower : min(close_end, lower + _TAG_WINDOW)], after=True):
        return close_end  # a stray mark after a tag ("Hi," he said."): no speech
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


def _tag_verb(tag: str, *, after: bool, ends_sentence: bool = False) -> str | None:
    """'think' or 'speech' when the tag next to a quote holds such a verb, else None.

    After a quote that ends a sentence, a capitalised word starts a new sentence rather
    than a tag ("...!" I thought of home.) unless the verb comes first ("Thought Mira") or
    ends its clause ("Tony thought.").
    """
    words = list(_WORD_RE.finditer(tag))
    if not after:
        stripped = tag.rstrip()
        if stripped[-1:] in _SENTENCE_END:
            return None  # "Marilla thought. "I don't..." : the verb ended its sentence
        if not stripped.endswith((",", ":", "\u2014")):
            words = words[-1:]  # "He called it his 'project'": no tag unless the verb ends it
    near = words[:4] if after else words[-4:]
    new_sentence = after and ends_sentence and bool(near) and near[0].group()[0].isupper()
    for n, match in enumerate(near):
        lower = match.group().lower()
        if after and lower in _CONJUNCTIONS:
            return None  # '"condition" and what he called': a new clause, not a tag
        verb = "think" if lower in _THINK_WORDS else "speech" if lower in _SPEECH_WORDS else None
        if verb is None:
            continue
        if n and near[n - 1].group().lower() in _DETERMINERS:
            continue  # "the thought of", "his answer": a noun
        if after and n and new_sentence and tag[match.end() : match.end() + 1] not in ".,;:!?":
            return None
        return verb
    return None


def _speech_kinds(
    text: str, spans: list[tuple[int, int]], start: int, end: int
) -> list[Kind | None]:
    """Kind per span: thought next to a thinking verb, dialogue next to a speech verb.

    None means no verb either side. A tag shared by two quotes ("Hm," thought Ann, "no.")
    gives both the same kind.
    """
    after_verbs: list[str | None] = []
    for n, (_a, b) in enumerate(spans):
        right = spans[n + 1][0] if n + 1 < len(spans) else end
        ends_sentence = text[b - 2 : b - 1] in _SENTENCE_END
        tag = text[b : min(right, b + _TAG_WINDOW)]
        after_verbs.append(_tag_verb(tag, after=True, ends_sentence=ends_sentence))
    kinds: list[Kind | None] = []
    for n, (a, _b) in enumerate(spans):
        left = spans[n - 1][1] if n else start
        before = _tag_verb(text[max(left, a - _TAG_WINDOW) : a], after=False)
        if n and before is None:
            before = after_verbs[n - 1]  # "'No.' Thought Vesh. 'Never.'"
        verb = after_verbs[n] or before
        kinds.append(
            Kind.THOUGHT if verb == "think" else Kind.DIALOGUE if verb == "speech" else None
        )
    return kinds


def _is_scare_quote(text: str, a: int, b: int, start: int) -> bool:
    """A few quoted words inside a running sentence: her "condition", called "the old days".

    They are the narrator's words, so they stay narration.
    """
    inner = text[a + 1 : b - 1]
    if b - a > _TAG_WINDOW or len(inner.split()) > 3 or "!" in inner or "?" in inner:
        return False  # "Stop thief!" is a cry
    first = next((ch for ch in inner if ch.isalpha()), "")
    if not first.islower():
        return False  # "Good night," a greeting; "Mrs. Pegler", a name given
    if a > start and text[a - 1].isalnum():
        return False  # glued to the word before (`heart"i would never"`): a typo'd speech
    before = text[max(start, a - 30) : a].rstrip()
    if not before or not before[-1].isalnum():
        return False  # after a comma, colon or the paragraph start: speech
    words = _WORD_RE.findall(before)
    return not words or words[-1].lower() not in _TAG_VERBS


def _italic_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """*italic* and _italic_ passages in text[start:end], markup included."""
    spans: list[tuple[int, int]] = []
    open_pos = -1
    open_ch = ""
    for found in _ITALIC_RE.finditer(text, start, end):
        pos = found.start()
        ch = text[pos]
        before = text[pos - 1] if pos > start else " "
        after = text[pos + 1] if pos + 1 < end else " "
        if open_pos >= 0 and ch == open_ch:
            if not before.isspace() and (after.isspace() or not after.isalnum()):
                if any(c.isalpha() for c in text[open_pos:pos]):
                    spans.append((open_pos, pos + 1))
                open_pos = -1
        elif not before.isalnum() and not after.isspace() and after != ch:
            open_pos, open_ch = pos, ch
    return spans


def _is_emphasis(text: str, a: int, b: int) -> bool:
    """One italic word with no punctuation of its own: stress, not a thought."""
    inner = text[a + 1 : b - 1].strip()
    return len(inner.split()) < 2 and inner[-1:] not in ".,;:!?\u2026\u2014-"


def _ends_a_phrase(text: str, a: int, b: int) -> bool:
    """An italic passage that ends as speech before its tag does (`*Run,*`), unlike a title
    (`_The Times_ said`) or a stressed word (`had _said_ so`)."""
    inner = text[a + 1 : b - 1].rstrip()
    return inner[-1:] in ".,;!?\u2026\u2014-"


def _stands_alone(text: str, a: int, b: int, start: int, end: int) -> bool:
    """An italic passage forming whole sentences of its own (an unmarked thought)."""
    # Bounded look-arounds keep this linear however many italics a paragraph holds.
    # A previous quote or italic may end the sentence before: 'Not again.' 'Why me?'
    head = text[max(start, a - 8) : a].rstrip().rstrip("'\"\u2019\u201d*_").rstrip()
    tail = text[b : min(end, b + 8)].lstrip()
    inner = text[a + 1 : b - 1].rstrip()
    opens = not head or head[-1] in _SENTENCE_END
    if b - a > _MAX_THOUGHT_CHARS:
        return False  # a long italic block is a letter or an inscription, not a thought
    if _tells_the_story(text, a + 1, b - 1):
        return False  # _The kitchen smelled of tar. Da had the chart out._: a flashback
    words = inner.split()
    title_case = len(words) >= 2 and all(w[:1].isupper() for w in words)
    if title_case and not any(ch in _SENTENCE_END for ch in inner[:-1]):
        return False  # _La France Sportive._: a title
    if len(words) < 2 and inner[-1:] not in _SENTENCE_END:
        return False  # _GARNERING_: a single word
    closes = bool(inner) and (inner[-1] in _SENTENCE_END or not tail or tail[0] in ".!?")
    return opens and closes


def _tells_the_story(text: str, start: int, end: int) -> bool:
    """Sentences that tell what a third person did, in the past, with no `I` or `you`: a
    flashback set in italics, not a thought (`_He's lying._`, `_I knew it._`)."""
    return (
        len(_SENTENCE_END_RE.findall(text, start, end)) >= 1
        and _NARRATIVE_RES[True].match(text, start, end) is not None
        and _STILL_TALKING_RE.search(text, start, end) is None
    )


def _segment_paragraph(
    text: str, start: int, end: int, single_style: bool
) -> list[tuple[int, int, Kind]]:
    """Speech and thought spans of one paragraph."""
    if _PAREN_THOUGHT_RE.fullmatch(text, start, end) and _STILL_TALKING_RE.search(text, start, end):
        return [(start, end, Kind.THOUGHT)]  # `(W-why is he sitting here?!)`
    if _ANY_MARK_RE.search(text, start, end) is None:
        return []
    primary, secondary = (_SINGLE, _DOUBLE) if single_style else (_DOUBLE, _SINGLE)
    next_opens = _next_paragraph_opens(text, end, primary)
    speech = _find_speech(text, start, end, primary, next_opens)
    kinds = _speech_kinds(text, speech, start, end)
    result = [
        (a, b, k or Kind.DIALOGUE)
        for (a, b), k in zip(speech, kinds, strict=True)
        if k is not None or not _is_scare_quote(text, a, b, start)
    ]
    # Outside speech: single quotes in a double-quoted text and italics are thoughts next
    # to a thinking verb or when they form whole sentences (otherwise they are titles,
    # terms, emphasis); double quotes in a single-quoted text are speech all the same.
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
            elif single_style:
                if not _is_scare_quote(text, a, b, start):
                    extra.append((a, b, Kind.DIALOGUE))
            elif _stands_alone(text, a, b, start, end):
                extra.append((a, b, Kind.THOUGHT))
        for ia, ib in _gaps(quoted, ga, gb):
            italics = _italic_spans(text, ia, ib)
            italic_kinds = _speech_kinds(text, italics, ia, ib)
            for (a, b), k in zip(italics, italic_kinds, strict=True):
                if k is Kind.THOUGHT and _is_emphasis(text, a, b):
                    continue  # "wondering _why_ it was", "_I_ thought"
                if k is Kind.THOUGHT or (k is None and _stands_alone(text, a, b, start, end)):
                    extra.append((a, b, Kind.THOUGHT))
                elif k is Kind.DIALOGUE and _ends_a_phrase(text, a, b):
                    # `*Run,* said the voice in his head`: a voice nobody hears aloud.
                    extra.append((a, b, Kind.THOUGHT))
    result.extend(extra)
    result.sort()
    return result


# --- dash dialogue ------------------------------------------------------------------------
# `—Come up, Kinch!`, `--O, Stephen will apologize.`, `— Where is he? said Stephen.`: a
# paragraph opened by a dash is speech, up to a speech tag. After a tag that ends in a comma
# the speech goes on. After one that ends the sentence, the speaker may go on (`—The bard's
# noserag! Buck Mulligan said. A new art colour for our Irish poets.`) or the story does
# (`—Yes, he said. He turned and walked away.`): each sentence after the tag is speech
# unless it reads as narration (see _reads_as_narration); from the first one that does, the
# rest is narration until a dash opens speech again. Used by some novelists and most
# translated fiction.

_DIALOGUE_DASH = r"(?:\u2014|\u2015|\u2013|--)"
_DASH_OPEN_RE = re.compile(rf"{_DIALOGUE_DASH}[ \u00a0]?(?=[^\s\u2014\u2015\u2013-])")
_DASH_AGAIN_RE = re.compile(rf"\s{_DIALOGUE_DASH}[ \u00a0]?(?=[{UPPER}])")
_DASH_PARAGRAPHS = 3  # a text uses dash dialogue when this many paragraphs open with a dash
_DASH_IN_RE = re.compile(_DIALOGUE_DASH)
# A dash after a clause's end and a space, where dashes close speech as well as open it.
_DASH_TOGGLE_RE = re.compile(rf"(?<=[,.!?\u2026:;])[ \u00a0]+(?={_DIALOGUE_DASH})")
_SPEAKER_WORDS = (
    rf"(?:he|she|I|they|we|[{UPPER}][\w'\u2019-]*(?:\s+[{UPPER}][\w'\u2019-]*){{0,2}}"
    r"|(?:the|a|an|his|her|my|their|our)\s+[\w-]+(?:\s+[\w-]+)?)"
)
_DASH_TAG_RE = re.compile(
    rf"(?<=[,.!?\u2026:;])\s+(?:{_DIALOGUE_DASH}\s*)?(?="
    rf"{_SPEAKER_WORDS}\s+(?:[a-z]+ly\s+)?(?:{SPEECH_VERB_ALT})\b"
    rf"|(?:{SPEECH_VERB_ALT})\s+{_SPEAKER_WORDS}\b)"
)


_NARRATION_GOES_ON_RE = re.compile(
    r"(?:\w+(?:ing|ly)|and|as|with|while|then|but|his|her|their|its|the|a|an|to|in|at)\b",
    re.IGNORECASE,
)
_CLAUSE_END_RE = re.compile(r"[,.!?;:\u2026]")
# A sentence ends at .!?… (and any closing marks) before a space, not after `Mr` or `Dr`.
_SENTENCE_END_RE = re.compile(
    "".join(rf"(?<!\b{t})" for t in TITLE_ABBREVIATIONS) + r"[.!?\u2026]+[\u2019\u201d\"')]*(?=\s)"
)
_SPEECH_VERB_WORD_RE = re.compile(rf"\b(?:{SPEECH_VERB_ALT})\b")
# A sentence after a tag is speech when the speaker is plainly still talking: a question or
# an exclamation, or words for the speaker and the listener (`I`, `you`, `we`).
_STILL_TALKING_RE = re.compile(
    r"[?!]|\b(?:I|I'm|I'll|I've|I'd|I\u2019m|I\u2019ll|I\u2019ve|I\u2019d|me|my|mine|we|us|our|"
    r"you|your|yours)\b",
    re.IGNORECASE,
)
_SECOND_PERSON_RE = re.compile(r"\b(?:you|your|yours)\b", re.IGNORECASE)
# ... and narration when it tells what a third person did, in the tense of the tag: a
# subject (`he`, `she`, `they`, `it`, a capitalised name, `the/his/her ... noun`) and a verb
# in the narrative tense, after at most an opening phrase (`Then`, `Slowly,`, `Laughing
# again,`) and two adverbs. `He can't wear them.` and `Etiquette is etiquette.` are in the
# present: speech, when the story is told in the past.
_NARRATIVE_SUBJECT = (
    rf"(?:(?i:he|she|they|it|there)|[{UPPER}][\w'\u2019-]*(?:\.?\s+[{UPPER}][\w'\u2019-]*){{0,2}}"
    r"|(?i:the|a|an|his|her|their|its)\s+(?:[\w-]+\s+){0,2}?[\w-]+)"
)
_NARRATIVE_OPENING = (
    r"(?:(?i:then|and|but|so|now|still|again|at\s+last|\w+ly)\s+|[^,.!?;:]{1,40},\s+)?"
)
_NARRATIVE_ADVERBS = r"(?:(?:\w+ly|then|also|only|just|still|never|not|all|both)\s+){0,2}"
_NOT_PAST = r"(?!(?:n|ind|sp|f|s|bl|br|h|w|proc|succ|exc)eed\b|bed\b|red\b)"
_PAST_VERB = (
    rf"(?:{_NOT_PAST}[a-z]+ed|"
    + "|".join(sorted(IRREGULAR_PAST_FORMS, key=len, reverse=True))
    + r")\b"
)
_PRESENT_VERB = r"(?:[a-z]+s|is|has|does)\b"
_NARRATIVE_RES = {
    past: re.compile(
        rf"{_NARRATIVE_OPENING}{_NARRATIVE_SUBJECT}\s+{_NARRATIVE_ADVERBS}"
        rf"{_PAST_VERB if past else _PRESENT_VERB}"
    )
    for past in (True, False)
}


def _uses_dash_dialogue(
    text: str,
    paragraphs: list[tuple[int, int]],
    blocks: dict[int, Kind],
    primary: frozenset[str],
) -> bool:
    """More paragraphs open with a dash than with a quote mark, and a few at least."""
    dashes = quotes = 0
    for index, (a, b) in enumerate(paragraphs):
        if index in blocks or a >= b:
            continue
        if _DASH_OPEN_RE.match(text, a, b):
            dashes += 1
        elif text[a] in primary:
            quotes += 1
    return dashes >= _DASH_PARAGRAPHS and dashes > quotes


def _tags_between_dashes(text: str, paragraphs: list[tuple[int, int]]) -> bool:
    """Does the text set its tags between dashes (`— No, — said Anna. — I will not.`), as
    most translated fiction does, rather than after the speech alone (`—No, Ann said.`)?"""
    between = after = 0
    for a, b in paragraphs:
        if not _DASH_OPEN_RE.match(text, a, b):
            continue
        for tag in _DASH_TAG_RE.finditer(text, a, b):
            if _DASH_IN_RE.search(tag.group()):
                between += 1
            else:
                after += 1
    return between >= _DASH_PARAGRAPHS and between > after


def _closed_dash_speech(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Speech spans of a paragraph where dashes also close speech: a dash after a clause's
    end (`It is late. — He rose. — Come.`) turns speech to the story's words and back."""
    spans: list[tuple[int, int]] = []
    pos, speaking = start, True
    for toggle in _DASH_TOGGLE_RE.finditer(text, start, end):
        if speaking:
            spans.append((pos, _rstrip_to(text, pos, toggle.start())))
        pos, speaking = _lstrip_to(text, toggle.start(), end), not speaking
    if speaking:
        spans.append((pos, _rstrip_to(text, pos, end)))
    return [(a, b) for a, b in spans if b > a]


# The Spanish typography of dash dialogue (the raya, also Catalan and most fan translations
# that keep it): the dash is glued to the speech (`—No`) and to the narrator's words that
# cut in (`—No —said Ana—. Never.`). A space and a dash glued to the next word open the
# narrator's words; a dash glued to the word before closes them, and the speech goes on after
# the `.` or `,` that follows. In narration, a dash after a sentence's end opens speech
# (`She looked up. —No.`); one after a word opens a parenthesis (`beans —too salty— and`).
_RAYA_OPEN_RE = re.compile(rf"{_DIALOGUE_DASH}(?=[^\s\u2014\u2015\u2013-])")
_RAYA_CUT_RE = re.compile(rf"(?<=\S)[ \u00a0]{_DIALOGUE_DASH}(?=[^\s\u2014\u2015\u2013-])")
_RAYA_CLOSE_RE = re.compile(rf"(?<=[^\s\u2014\u2015\u2013-]){_DIALOGUE_DASH}[,.;:]?(?=\s|$)")
_RAYA_SPEECH_RE = re.compile(
    rf"(?<=[.!?\u2026:])[ \u00a0]+(?P<dash>{_DIALOGUE_DASH})(?=[^\s\u2014\u2015\u2013-])"
)


def _uses_raya(text: str, paragraphs: list[tuple[int, int]]) -> bool:
    """Does a dash-dialogue text cut its speech with glued dashes (`—No —said Ana.`)?"""
    cut = 0
    for a, b in paragraphs:
        if _RAYA_OPEN_RE.match(text, a, b) and _RAYA_CUT_RE.search(text, a, b):
            cut += 1
            if cut >= _DASH_PARAGRAPHS:
                return True
    return False


def _raya_speech(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Speech spans of a paragraph in the Spanish typography (`_RAYA_CUT_RE`), dash included
    where one opens the speech."""
    spans: list[tuple[int, int]] = []
    if _RAYA_OPEN_RE.match(text, start, end):
        pos: int | None = start
    else:
        opens = _RAYA_SPEECH_RE.search(text, start, end)
        pos = opens.start("dash") if opens else None
    while pos is not None and pos < end:
        cut = _RAYA_CUT_RE.search(text, pos + 1, end)
        spans.append((pos, _rstrip_to(text, pos, cut.start() if cut else end)))
        if cut is None:
            break
        pos = _raya_resumes(text, cut.end(), end)
    return [(a, b) for a, b in spans if b > a]


def _raya_resumes(text: str, pos: int, end: int) -> int | None:
    """Where speech goes on after the narrator's words starting at pos: after a closing
    dash (and its `.` or `,`), or at a dash after a sentence's end; None: it does not."""
    close = _RAYA_CLOSE_RE.search(text, pos, end)
    opens = _RAYA_SPEECH_RE.search(text, pos, end)
    if opens is not None and (close is None or opens.start("dash") < close.start()):
        return opens.start("dash")
    if close is None:
        return None
    resumed = _lstrip_to(text, close.end(), end)
    return resumed if resumed < end else None


def _has_mark(text: str, start: int, end: int, marks: frozenset[str]) -> bool:
    return _MARK_RES[marks].search(text, start, end) is not None


def _dash_speech(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Speech spans of a paragraph opened by a dialogue dash (dash included)."""
    spans: list[tuple[int, int]] = []
    pos = start
    past = True  # the tense the story is told in, from the last tag's verb
    after_tag = False  # pos follows a tag that ended its sentence
    while pos < end:
        tag = _next_tag(text, pos, end)
        stop = tag.start() if tag else end
        if after_tag:
            cut = _narration_start(text, pos, stop, past)
            if cut is not None:
                spans.append((pos, _rstrip_to(text, pos, cut)))
                pos = _resume_after_narration(text, cut, end, past)
                after_tag = False
                continue
        spans.append((pos, _rstrip_to(text, pos, stop)))
        if tag is None:
            break
        past = not _tag_in_present(text, tag.end(), end)
        # The tag runs to the next comma (speech goes on) or sentence end (see above).
        clause = _CLAUSE_END_RE.search(text, tag.end(), end)
        if clause is None:
            break
        after_tag = False
        if text[clause.start()] == ",":
            pos = _lstrip_to(text, clause.end(), end)
            if not _NARRATION_GOES_ON_RE.match(text, pos, end):
                continue
            # `he said, turning away.`: the tag's sentence runs on as narration.
            clause = _SENTENCE_END_RE.search(text, pos, end)
            if clause is None:
                break
        pos = _lstrip_to(text, clause.end(), end)
        after_tag = True
    return [(a, b) for a, b in spans if b > a]


def _next_tag(text: str, pos: int, end: int) -> re.Match[str] | None:
    """The next dialogue tag; after a full stop, not one that says `you` (`Late again. I told
    you so.` is the speaker talking; `Yes. He told her nothing.` is a tag)."""
    while (tag := _DASH_TAG_RE.search(text, pos, end)) is not None:
        clause = _CLAUSE_END_RE.search(text, tag.end(), end)
        clause_end = clause.start() if clause else end
        if text[tag.start() - 1] != "." or not _SECOND_PERSON_RE.search(
            text, tag.end(), clause_end
        ):
            return tag
        pos = tag.end()
    return None


def _tag_in_present(text: str, pos: int, end: int) -> bool:
    """The tag at pos tells in the present (`he says`, `says Ann`), not the past."""
    verb = _SPEECH_VERB_WORD_RE.search(text, pos, min(end, pos + 60))
    return verb is not None and verb.group().endswith("s") and not verb.group().endswith("ss")


def _narration_start(text: str, pos: int, stop: int, past: bool) -> int | None:
    """Start of the first sentence in [pos, stop) that reads as narration, if any."""
    while pos < stop:
        sentence_end = _SENTENCE_END_RE.search(text, pos, stop)
        end = sentence_end.end() if sentence_end else stop
        if _reads_as_narration(text, pos, end, past):
            return pos
        pos = _lstrip_to(text, end, stop)
    return None


def _reads_as_narration(text: str, start: int, end: int, past: bool) -> bool:
    """A sentence after a dialogue tag tells the story rather than goes on with the speech."""
    if _DASH_OPEN_RE.match(text, start, end):  # a dash opens speech again
        return False
    if _STILL_TALKING_RE.search(text, start, end):
        return False
    return _NARRATIVE_RES[past].match(text, start, end) is not None


def _resume_after_narration(text: str, pos: int, end: int, past: bool) -> int:
    """Where speech opens again after narration at pos: at a new dash, or at a sentence in
    which the speaker is plainly talking again (`Sit with me.`, `Why ask?`) that does not
    tell what a third person did (`He looked at me.`)."""
    again = _DASH_AGAIN_RE.search(text, pos, end)
    limit = again.start() + 1 if again else end
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(text, pos, limit)] + [limit]
    for stop, sentence_end in pairwise(ends):
        start = _lstrip_to(text, stop, limit)
        if start >= limit:
            break
        # Stricter than after a tag (`_reads_as_narration`): here telling what a third
        # person did outweighs `me` or `you` in it, as the story has already taken over.
        talking = _STILL_TALKING_RE.search(text, start, sentence_end) is not None
        tells = _NARRATIVE_RES[past].match(text, start, sentence_end) is not None
        if talking and not tells:
            return start
    return limit


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
