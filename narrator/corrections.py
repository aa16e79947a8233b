"""Corrections: the author's fixes to single lines -> chapters segmented and attributed with them.

A corrections file (`<stem>.lines.toml` beside a chapter file or EPUB, `lines.toml` in a
folder, or where `--lines` says) holds one table per line, named by its id (narrator.lines):

    [L3f9a2c]
    text = "\\"Onesan but why? Because stealing is…"   # the line's opening words, a reminder
    speaker = "Naruto"          # the line is this character's
    split_at = "Because"        # from these words on ...
    then = "Kotomi"             # ... the line is this character's
    # kind = "narration"        # or "dialogue" / "thought": what the line is

`correct_book` applies them, in this order, to every chapter:

1. segment the chapter and give every segment its id; attribute without corrections
   (the baseline: what narrator thinks by itself);
2. find each correction's line: by its id, else by the id's text part alone when exactly
   one line has it and starts with the reminder (a neighbour's words changed); a correction
   whose line is not found is stale, reported and never applied to another line;
3. change kinds, split lines at the author's words, and split lines as the baseline did
   where a correction names a piece (`L3f9a2c.2`);
4. attribute again with the corrected speakers fixed (they count as certain and anchor
   turn-taking around them);
5. compare with the baseline: speech lines whose speaker changed without a correction of
   their own changed as a consequence.

Speakers named in corrections resolve to a character by name or alias, exactly as printed
(`the small woman` matches an alias `small woman` and the reverse); a speaker who is nobody
yet becomes a character of their own.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomlkit

from narrator.attribute import attribute_speakers, sieve_book
from narrator.attribute.idiolect import Idiolects
from narrator.errors import ConfigError
from narrator.files import atomic_path
from narrator.lines import (
    IdSpace,
    base_id,
    context_part,
    is_line_id,
    line_ids,
    normalize,
    piece_ids,
    piece_number,
)
from narrator.lines import text_part as id_text_part
from narrator.model import Character, Kind, Segment
from narrator.names import name_key
from narrator.segment import segment_chapter
from narrator.voices import find_key_line, find_table_line, read_toml, shown_path

LINES_FILE_NAME = "lines.toml"  # inside a folder of chapters
LINES_SUFFIX = ".lines.toml"  # beside a chapter file or an EPUB: <stem>.lines.toml
REMINDER_WORDS = 8  # opening words kept as a reminder: enough to recognise a line
ELLIPSIS = "\u2026"

_KEYS = ("text", "speaker", "kind", "split_at", "then")
_KINDS = (Kind.NARRATION, Kind.DIALOGUE, Kind.THOUGHT)
_HEADER = """\
Corrections to who says what, one table per line, named by the line's id.
`narrator assign` writes them and `narrator review` lists the ids; edit freely, comments are
kept. Keys: speaker = "Name"; kind = "narration" | "dialogue" | "thought";
split_at = "opening words of the second part" with then = "Name"; text = the line's
opening words, a reminder (a line that has changed beyond them is reported as stale).
"""


@dataclass(frozen=True)
class Correction:
    """What the author says about one line."""

    line_id: str
    speaker: str | None = None
    kind: Kind | None = None
    split_at: str | None = None  # the words the second part starts with
    then: str | None = None  # who speaks from split_at on
    text: str = ""  # the line's opening words, a reminder


@dataclass(frozen=True)
class Corrections:
    """The corrections of a book, and the file they come from."""

    path: Path | None = None
    entries: tuple[Correction, ...] = ()


@dataclass(frozen=True)
class Stale:
    """A correction whose line is gone: reported, never applied."""

    correction: Correction
    reason: str
    path: Path | None = None

    def message(self) -> str:
        where = f" in {shown_path(self.path)}" if self.path else ""
        reminder = f' ("{self.correction.text}")' if self.correction.text else ""
        return (
            f"stale correction {self.correction.line_id}{reminder}{where}: {self.reason}; "
            "not applied (fix or delete it)"
        )


@dataclass(frozen=True)
class Change:
    """A speech line whose speaker changed because of corrections to other lines."""

    line_id: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ChapterLines:
    """A chapter's segments with their ids, and what corrections did to them."""

    segments: tuple[Segment, ...]
    ids: tuple[str, ...]
    corrected: frozenset[str] = frozenset()  # ids whose speaker comes from a correction
    changed: tuple[Change, ...] = ()


@dataclass(frozen=True)
class CorrectedBook:
    """Every chapter's lines, the characters (with speakers only corrections name), stale ones."""

    chapters: tuple[ChapterLines, ...]
    characters: tuple[Character, ...]
    stale: tuple[Stale, ...] = ()


# ---------------------------------------------------------------------------- the file


def default_lines_path(input_path: Path) -> Path:
    """Where a book's corrections live: `lines.toml` in a folder, else `<stem>.lines.toml`."""
    if input_path.is_dir():
        return input_path / LINES_FILE_NAME
    return input_path.with_name(input_path.stem + LINES_SUFFIX)


def reminder(text: str) -> str:
    """A line's opening words, as kept beside its correction."""
    words = text.split()
    shown = " ".join(words[:REMINDER_WORDS])
    return shown + ELLIPSIS if len(words) > REMINDER_WORDS else shown


def load_corrections(path: Path, *, required: bool = False) -> Corrections:
    """Read and validate a corrections file; a missing one is empty unless `required`."""
    if not path.exists() and not required:
        return Corrections(path)
    text, data = read_toml(path, "corrections file")
    where = shown_path(path)
    entries = []
    for line_id, raw in data.items():
        row = find_table_line(text, line_id)
        at = f"{where}:{row}" if row else where
        if not is_line_id(line_id):
            raise ConfigError(f"{at}: [{line_id}]: not a line id (`narrator review` lists them)")
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: {line_id}: must be a table [{line_id}]")

        def bad(
            key: str, message: str, line_id: str = line_id, row: int | None = row
        ) -> ConfigError:
            key_row = find_key_line(text, key, line_id)
            return ConfigError(f"{where}:{key_row or row or 1}: {line_id}: {key}: {message}")

        entries.append(_parse_entry(line_id, raw, bad))
    return Corrections(path, tuple(entries))


def _parse_entry(
    line_id: str, raw: Mapping[str, Any], bad: Callable[[str, str], ConfigError]
) -> Correction:
    for key, value in raw.items():
        if key not in _KEYS:
            raise bad(key, f"unknown key; allowed: {', '.join(_KEYS)}")
        if key != "kind" and (not isinstance(value, str) or (key != "text" and not value.strip())):
            raise bad(key, f"must be a non-empty string, got {value!r}")
    kind = raw.get("kind")
    if kind is not None and kind not in [k.value for k in _KINDS]:
        raise bad("kind", f'must be "narration", "dialogue" or "thought", got {kind!r}')
    speaker = raw.get("speaker")
    if kind == Kind.NARRATION and speaker:
        raise bad("speaker", "a line of narration has no speaker")
    if ("split_at" in raw) != ("then" in raw):
        raise bad("then" if "split_at" in raw else "split_at", "split_at and then go together")
    if "split_at" in raw and (not speaker or kind == Kind.NARRATION):
        raise bad("split_at", "a split needs the speaker of the first part (speaker = ...)")
    if piece_number(line_id) > 1 and ("kind" in raw or "split_at" in raw):
        key = "kind" if "kind" in raw else "split_at"
        raise bad(key, f"applies to the whole line {base_id(line_id)}")
    if not ({"speaker", "kind", "split_at"} & set(raw)):
        raise bad("speaker", "missing: a correction needs speaker, kind or split_at")
    return Correction(
        line_id=line_id,
        speaker=speaker.strip() if speaker else None,
        kind=Kind(kind) if kind is not None else None,
        split_at=raw.get("split_at"),
        then=raw["then"].strip() if "then" in raw else None,
        text=str(raw.get("text", "")),
    )


def check_correction(correction: Correction) -> None:
    """Raise ConfigError when a correction breaks the rules the file is read with."""

    def bad(key: str, message: str) -> ConfigError:
        return ConfigError(f"{correction.line_id}: {key}: {message}")

    _parse_entry(correction.line_id, correction_table(correction), bad)


def correction_table(correction: Correction) -> dict[str, str]:
    """A correction as the keys and values of its table in the file."""
    table = {"text": correction.text} if correction.text else {}
    for key in ("speaker", "kind", "split_at", "then"):
        value = getattr(correction, key)
        if value is not None:
            table[key] = str(value)
    return table


def save_correction(path: Path, correction: Correction | None, line_id: str) -> None:
    """Write (or with None, remove) the correction of `line_id`, keeping the rest of the file."""
    where = shown_path(path)
    if path.exists():
        text, _ = read_toml(path, "corrections file")
    else:
        text = "".join(f"# {line}\n" if line else "#\n" for line in _HEADER.splitlines())
    document = tomlkit.parse(text)
    values = correction_table(correction) if correction is not None else None
    current = document.get(line_id)
    if values is None:
        document.pop(line_id, None)
    elif isinstance(current, dict):
        # Edited in place: the entry keeps its place and the author's comments in it.
        for key in [key for key in current if key not in values]:
            del current[key]
        for key, value in values.items():
            if current.get(key) != value:
                current[key] = value
    else:
        table = tomlkit.table()
        for key, value in values.items():
            table[key] = value
        document[line_id] = table
    new_text = tomlkit.dumps(document).rstrip("\n") + "\n"
    try:
        tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as e:  # a bug here must not destroy the author's file
        raise ConfigError(f"{where}: could not update the corrections file safely: {e}") from e
    with atomic_path(path) as tmp_path:
        tmp_path.write_text(new_text, encoding="utf-8")


# ---------------------------------------------------------------------------- applying


def resolve_speaker(name: str, characters: Sequence[Character]) -> Character | None:
    """The character a speaker label names: by name or alias, with or without `the`/`a`."""
    wanted = {name_key(normalize(name)), _bare(name)}
    for character in characters:
        for label in (character.name, *character.aliases):
            if name_key(normalize(label)) in wanted or _bare(label) in wanted:
                return character
    return None


def _bare(label: str) -> str:
    # Accents and normal form do not count either: `Eowyn` is the cast's `Éowyn`.
    return re.sub(r"^(?:the|a|an) ", "", name_key(normalize(label)))


def correct_book(
    texts: Sequence[str],
    characters: Sequence[Character],
    corrections: Corrections,
    *,
    narrative_person: int | None = None,
    complete: bool | None = None,
    segments: Sequence[Sequence[Segment]] | None = None,
) -> CorrectedBook:
    """Segment and attribute every chapter text, with the author's corrections (module doc).

    `complete`: every speaker is one of `characters` (see `attribute_speakers`); someone a
    correction names joins them all the same. `segments`: each text's segments, when the
    caller has them already.
    """
    space = IdSpace()
    if segments is None:
        segments = [segment_chapter(text) for text in texts]
    # Every chapter sieved first, for how each character talks (attribute/idiolect.py).
    sieved = sieve_book(
        texts, segments, characters, narrative_person=narrative_person, complete=complete
    )
    idiolects = sieved.idiolects
    bases, base_ids, baselines, baseline_ids = [], [], [], []
    for n, text in enumerate(texts):
        base = list(segments[n])
        ids = line_ids(text, base, space)
        baseline = attribute_speakers(
            text,
            base,
            characters,
            narrative_person=narrative_person,
            complete=complete,
            idiolects=idiolects,
            sieved=sieved.chapters[n],
        )
        sieved.chapters[n] = None  # ranked: its memory goes
        bases.append(base)
        base_ids.append(ids)
        baselines.append(baseline)
        baseline_ids.append(piece_ids(base, ids, baseline))
    if not corrections.entries:
        return CorrectedBook(
            tuple(
                ChapterLines(tuple(segs), tuple(ids))
                for segs, ids in zip(baselines, baseline_ids, strict=True)
            ),
            tuple(characters),
        )

    everyone = list(characters)
    resolved: list[Correction] = []
    for correction in corrections.entries:
        speaker, then = (
            _speaker(name, everyone) if name else None
            for name in (correction.speaker, correction.then)
        )
        resolved.append(replace(correction, speaker=speaker, then=then))

    stale: list[Stale] = []
    per_chapter: list[dict[int, list[Correction]]] = [{} for _ in texts]
    where = _Finder(bases, base_ids)
    for correction in resolved:
        found = where.find(correction, baselines)
        if isinstance(found, str):
            stale.append(Stale(correction, found, corrections.path))
        else:
            chapter, index = found
            per_chapter[chapter].setdefault(index, []).append(correction)

    chapters = []
    for number, text in enumerate(texts):
        if not per_chapter[number]:
            chapters.append(ChapterLines(tuple(baselines[number]), tuple(baseline_ids[number])))
            continue
        lines, problems = _correct_chapter(
            text,
            bases[number],
            base_ids[number],
            baselines[number],
            baseline_ids[number],
            per_chapter[number],
            everyone,
            narrative_person,
            complete,
            idiolects,
        )
        chapters.append(lines)
        stale += [Stale(c, reason, corrections.path) for c, reason in problems]
    return CorrectedBook(tuple(chapters), tuple(everyone), tuple(stale))


def _speaker(name: str, everyone: list[Character]) -> str:
    """A correction's speaker as a character name; someone new joins the characters."""
    character = resolve_speaker(name, everyone)
    if character is None:
        character = Character(name=name)
        everyone.append(character)
    return character.name


class _Finder:
    """Finds the segment a correction's id names: by the whole id, else by its text part."""

    def __init__(self, bases: Sequence[Sequence[Segment]], ids: Sequence[Sequence[str]]) -> None:
        self.bases = bases
        self.ids = ids
        self.exact: dict[str, tuple[int, int]] = {}
        self.by_text: dict[str, list[tuple[int, int]]] = {}
        for chapter, chapter_ids in enumerate(ids):
            for index, line_id in enumerate(chapter_ids):
                self.exact[line_id] = (chapter, index)
                self.by_text.setdefault(id_text_part(line_id), []).append((chapter, index))

    def find(
        self, correction: Correction, baselines: Sequence[Sequence[Segment]]
    ) -> tuple[int, int] | str:
        """(chapter, base segment index), or why the line is not found."""
        whole = base_id(correction.line_id)
        number = piece_number(correction.line_id)
        at = self.exact.get(whole)
        if at is not None:
            if self._piece(at, number, baselines) is None:
                return f"the line {whole} is no longer split in {number} parts"
            return at
        # Not found as it was: a neighbour's words changed, or the line itself did.
        wanted = normalize(correction.text.rstrip(ELLIPSIS))
        matches = []
        for candidate in self.by_text.get(id_text_part(whole), []):
            piece = self._piece(candidate, number, baselines)
            if piece is not None and normalize(piece.text).startswith(wanted):
                matches.append(candidate)
        if len(matches) > 1:
            # Identical lines: the one whose words before or after are still the same.
            before, after = context_part(whole)
            matches = [
                (chapter, index)
                for chapter, index in matches
                if (sides := context_part(self.ids[chapter][index]))[0] == before
                or sides[1] == after
            ]
            if len(matches) > 1:
                return "more than one line now matches it (identical lines edited around)"
        if not matches:
            return "its line is not in the text any more (edited or removed)"
        return matches[0]

    def _piece(
        self, at: tuple[int, int], number: int, baselines: Sequence[Sequence[Segment]]
    ) -> Segment | None:
        """The number-th piece of a base segment as the baseline cut it (1: the whole)."""
        chapter, index = at
        segment = self.bases[chapter][index]
        if number == 1:
            return segment
        pieces = [s for s in baselines[chapter] if segment.start <= s.start < segment.end]
        return pieces[number - 1] if len(pieces) >= number else None


def _correct_chapter(
    text: str,
    base: Sequence[Segment],
    ids: Sequence[str],
    baseline: Sequence[Segment],
    baseline_ids: Sequence[str],
    corrections: Mapping[int, list[Correction]],
    characters: Sequence[Character],
    narrative_person: int | None,
    complete: bool | None,
    idiolects: Idiolects | None,
) -> tuple[ChapterLines, list[tuple[Correction, str]]]:
    """One chapter attributed again with its corrections (steps 3 to 5 of the module doc)."""
    problems: list[tuple[Correction, str]] = []
    fixed: dict[int, str] = {}
    segments: list[Segment] = []
    for index, segment in enumerate(base):
        entries = corrections.get(index)
        if not entries:
            segments.append(segment)
            continue
        whole = [c for c in entries if piece_number(c.line_id) == 1]
        reshaped = next((c for c in whole if c.kind or c.split_at), None)
        if reshaped is not None:
            pieces, problem = _reshape(segment, reshaped, fixed)
            if problem:
                problems.append((reshaped, problem))
            others = [c for c in entries if c is not reshaped]
            problems += [(c, f"superseded by the correction of {ids[index]}") for c in others]
            segments += pieces
            continue
        # Speakers only: the line as the baseline cut it, each piece's speaker fixed.
        pieces = [
            replace(s, speaker=None, confidence=None, evidence=(), candidates=())
            for s in baseline
            if segment.start <= s.start < segment.end
        ] or [segment]
        for correction in entries:
            piece = pieces[piece_number(correction.line_id) - 1]
            if not piece.kind.is_speech:
                piece = replace(piece, kind=Kind.DIALOGUE)
                pieces[piece_number(correction.line_id) - 1] = piece
            assert correction.speaker is not None  # a piece's correction names a speaker
            fixed[piece.start] = correction.speaker
        segments += pieces
    final = attribute_speakers(
        text,
        segments,
        characters,
        narrative_person=narrative_person,
        fixed=fixed,
        complete=complete,
        idiolects=idiolects,
    )
    final_ids = piece_ids(base, ids, final)
    corrected = frozenset(
        line_id
        for segment, line_id in zip(final, final_ids, strict=True)
        if segment.kind.is_speech and fixed.get(segment.start) == segment.speaker
    )
    before = {
        line_id: segment.speaker
        for segment, line_id in zip(baseline, baseline_ids, strict=True)
        if segment.kind.is_speech
    }
    changed = tuple(
        Change(line_id, before[line_id], segment.speaker)
        for segment, line_id in zip(final, final_ids, strict=True)
        if segment.kind.is_speech
        and line_id not in corrected
        and line_id in before
        and before[line_id] != segment.speaker
    )
    return ChapterLines(tuple(final), tuple(final_ids), corrected, changed), problems


def _reshape(
    segment: Segment, correction: Correction, fixed: dict[int, str]
) -> tuple[list[Segment], str | None]:
    """A line with its kind changed and/or split at the author's words."""
    kind = correction.kind or (segment.kind if segment.kind.is_speech else Kind.DIALOGUE)
    if kind is Kind.NARRATION:
        return [replace(segment, kind=kind, speaker=None, confidence=None)], None
    line = replace(segment, kind=kind, speaker=None, confidence=None)
    if correction.split_at is None:
        if correction.speaker:
            fixed[line.start] = correction.speaker
        return [line], None
    cut = split_offset(line.text, correction.split_at)
    if cut is None:
        return [line], f'"{correction.split_at}" is not in the line any more'
    at = line.start + cut
    first = replace(line, end=at, text=line.text[:cut])
    second = replace(line, start=at, text=line.text[cut:])
    assert correction.speaker is not None and correction.then is not None  # checked on load
    fixed[first.start] = correction.speaker
    fixed[second.start] = correction.then
    return [first, second], None


def split_offset(line: str, words: str) -> int | None:
    """Where in `line` the words of a split start (not at its very start), or None."""
    wanted = words.strip()
    if not wanted:
        return None
    for pattern in (re.escape(wanted), re.escape(wanted).replace(r"\ ", r"\s+")):
        for flags in (0, re.IGNORECASE):
            for match in re.finditer(pattern, line, flags):
                if line[: match.start()].strip(" \t\n\"'\u201c\u2018\u00ab*_"):
                    return match.start()
    return None
