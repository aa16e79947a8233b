"""Casting: cast file + characters + voice profiles -> Assignment (a voice per speaker).

Input: a cast TOML file (`load_cast` -> Cast), the characters found in the text
(Sequence[Character]) and the voice profiles (dict[str, VoiceProfile]). Output: an
Assignment, the narrator's profile id and one profile id per character, which
`write_cast` records in the cast file so that every later run gives the same voices.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tomllib
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from narrator.errors import ConfigError, OutputError
from narrator.files import write_if_changed
from narrator.lexicon import FEMALE_WORDS, MALE_WORDS, is_storyteller_alias, together_names
from narrator.model import (
    Age,
    BookInfo,
    Cast,
    Character,
    Gender,
    Kind,
    Line,
    Pauses,
    Segment,
    VoiceProfile,
    VoiceSettings,
)
from narrator.names import name_key
from narrator.script import NARRATOR, UNKNOWN_SPEAKER, Voice
from narrator.synth.base import engine_class
from narrator.synth.language import language_name, language_stretches, languages_without_voice
from narrator.synth.pool import engine_voices
from narrator.voices import (
    DISTINCT_SEMITONES,
    PITCH_RANGE,
    RATE_WPM_RANGE,
    VOLUME_RANGE,
    check_profile_voices,
    find_key_line,
    find_table_line,
    level_gain_db,
    read_toml,
    shown_path,
    voice_distance,
    weighting_db,
)

NARRATOR_PROFILE = "narrator"
# Characters with fewer lines than this are "minor": they may share a voice when the
# profiles run out. The main cast never shares a voice picked by narrator.
MINOR_LINES = 5

_TOP_KEYS = (
    "book", "character", "narrator", "thoughts", "pronunciations", "reading", "pauses",
    "speakers",
)  # fmt: skip
_CHARACTER_KEYS = ("name", "aliases", "gender", "voice", "rate_wpm", "pitch", "volume")
_VOICE_TABLE_KEYS = ("voice",)
_READING_KEYS = ("headings", "notes")
# Prefer everyday voices for characters we know nothing about: a child's or an old
# person's voice on a character who is neither is worse than a plain adult one.
_AGE_PREFERENCE = {Age.ADULT: 0, Age.YOUNG: 1, Age.OLD: 2, Age.CHILD: 3}


@dataclass(frozen=True)
class Assignment:
    """Who speaks with which voice profile (ids), plus problems worth telling the user."""

    narrator: str
    by_character: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- loading


def load_cast(path: Path) -> Cast:
    """Read and validate a cast file (unknown keys, wrong types, duplicate names: ConfigError)."""
    text, data = read_toml(path, "cast file")
    return _parse_cast(data, text, path)


def _parse_cast(data: dict[str, Any], text: str, path: Path) -> Cast:
    where = shown_path(path)

    def fail(table: str, index: int | None, key: str | None, message: str) -> ConfigError:
        line = find_key_line(text, key, table, index) if key is not None else None
        if line is None and table:
            line = find_table_line(text, table, index)
        if line is None and key is not None and not table:
            line = find_key_line(text, key)
        at = f"{where}:{line}" if line else where
        label = table + (f"[{index}]" if index is not None else "")
        dotted = ".".join(part for part in (label, key) if part)
        return ConfigError(f"{at}: {dotted}: {message}")

    for key in data:
        if key not in _TOP_KEYS:
            table_line = find_table_line(text, key)
            hint = "; it belongs in the [book] table" if key in BOOK_KEYS else ""
            raise fail(
                key if table_line else "",
                None,
                None if table_line else key,
                f"unknown key; allowed: {', '.join(_TOP_KEYS)}{hint}",
            )

    raw_characters = data.get("character", [])
    if not isinstance(raw_characters, list) or not all(isinstance(c, dict) for c in raw_characters):
        raise fail("", None, "character", "must be [[character]] tables")
    characters = [
        _parse_character(raw, index, fail) for index, raw in enumerate(raw_characters, start=1)
    ]
    seen: dict[str, int] = {}
    for index, character in enumerate(characters, start=1):
        folded = name_key(character.name)
        if folded in seen:
            raise fail(
                "character",
                index,
                "name",
                f"{character.name!r} is already the name of character[{seen[folded]}]",
            )
        seen[folded] = index

    narrator_voice = _voice_table(data, "narrator", fail)
    thought_voice = _voice_table(data, "thoughts", fail)

    pronunciations: list[tuple[str, str]] = []
    raw_pron = data.get("pronunciations", {})
    if not isinstance(raw_pron, dict):
        raise fail("", None, "pronunciations", 'must be a table of "written" = "spoken"')
    for written, spoken in raw_pron.items():
        if not isinstance(spoken, str) or not spoken.strip() or not written.strip():
            raise fail(
                "pronunciations", None, written, f"must be a non-empty string, got {spoken!r}"
            )
        pronunciations.append((written, spoken))

    raw_reading = data.get("reading", {})
    if not isinstance(raw_reading, dict):
        raise fail("", None, "reading", "must be a table: [reading]")
    for key, value in raw_reading.items():
        if key not in _READING_KEYS:
            raise fail("reading", None, key, f"unknown key; allowed: {', '.join(_READING_KEYS)}")
        if not isinstance(value, bool):
            raise fail("reading", None, key, f"must be true or false, got {value!r}")

    raw_speakers = data.get("speakers", {})
    if not isinstance(raw_speakers, dict):
        raise fail("", None, "speakers", "must be a table: [speakers]")
    for key, value in raw_speakers.items():
        if key != "complete":
            raise fail("speakers", None, key, "unknown key; allowed: complete")
        if not isinstance(value, bool):
            raise fail("speakers", None, key, f"must be true or false, got {value!r}")

    return Cast(
        complete=raw_speakers.get("complete"),
        characters=tuple(characters),
        narrator_voice=narrator_voice,
        thought_voice=thought_voice,
        pronunciations=tuple(pronunciations),
        read_headings=raw_reading.get("headings", True),
        read_notes=raw_reading.get("notes", True),
        path=path,
        book=_parse_book(data, path, fail),
        pauses=_parse_pauses(data.get("pauses"), fail),
    )


_Fail = Callable[[str, int | None, str | None, str], ConfigError]

# [pauses] key -> Pauses field; seconds, except room_tone (dBFS RMS of the noise).
_PAUSE_KEYS = {
    "head": "head_s",
    "sentence": "sentence_s",
    "speaker_change": "speaker_change_s",
    "paragraph": "paragraph_s",
    "heading": "heading_s",
    "scene_break": "scene_break_s",
    "tail": "tail_s",
}
PAUSE_RANGE_S = (0.0, 30.0)
ROOM_TONE_RANGE_DB = (-90.0, -40.0)


def _parse_pauses(raw: Any, fail: _Fail) -> Pauses:
    """The [pauses] table: seconds per kind of break, and optional room tone (dBFS)."""
    if raw is None:
        return Pauses()
    if not isinstance(raw, dict):
        raise fail("", None, "pauses", "must be a table: [pauses] paragraph = 0.9")
    allowed = [*_PAUSE_KEYS, "room_tone"]
    values: dict[str, float] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise fail("pauses", None, key, f"unknown key; allowed: {', '.join(allowed)}")
        low, high = ROOM_TONE_RANGE_DB if key == "room_tone" else PAUSE_RANGE_S
        unit = "dBFS" if key == "room_tone" else "seconds"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("pauses", None, key, f"must be a number of {unit}, got {value!r}")
        if not low <= value <= high:
            raise fail("pauses", None, key, f"must be {low:g}..{high:g} {unit}, got {value:g}")
        values[_PAUSE_KEYS.get(key, "room_tone_db")] = float(value)
    pauses = Pauses(**values)
    _check_pause_order(pauses, set(raw), fail)
    return pauses


# Pauses a listener hears as growing breaks, shortest first (issue 12); a chapter break is the
# tail of one chapter and the head of the next.
_PAUSE_ORDER = ("sentence", "speaker_change", "paragraph", "scene_break", "head + tail")


def _check_pause_order(pauses: Pauses, given: set[str], fail: _Fail) -> None:
    """ConfigError unless each break in _PAUSE_ORDER is longer than the one before it."""

    def seconds(name: str) -> float:
        if name == "head + tail":
            return pauses.head_s + pauses.tail_s
        value: float = getattr(pauses, _PAUSE_KEYS[name])
        return value

    def keys(name: str) -> list[str]:
        return ["head", "tail"] if name == "head + tail" else [name]

    def shown(name: str) -> str:
        default = "" if any(k in given for k in keys(name)) else ", the default"
        return f"{name} ({seconds(name):g} s{default})"

    chain = " < ".join(_PAUSE_ORDER)
    for shorter, longer in itertools.pairwise(_PAUSE_ORDER):
        if seconds(shorter) < seconds(longer):
            continue
        # Blame a key the author wrote: the longer one if written, else the shorter one.
        blamed = next(k for k in (*keys(longer), *keys(shorter)) if k in given)
        raise fail(
            "pauses",
            None,
            blamed,
            f"{shown(shorter)} must be shorter than {shown(longer)}: pauses grow {chain}",
        )


def _parse_character(raw: dict[str, Any], index: int, fail: _Fail) -> Character:
    def bad(key: str, message: str) -> ConfigError:
        return fail("character", index, key, message)

    for key in raw:
        if key not in _CHARACTER_KEYS:
            raise bad(key, f"unknown key; allowed: {', '.join(_CHARACTER_KEYS)}")
    if "name" not in raw:
        raise fail("character", index, "name", "missing (required)")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise bad("name", f"must be a non-empty string, got {name!r}")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise bad("aliases", f"must be a list of non-empty strings, got {aliases!r}")
    gender = raw.get("gender")
    if gender is not None and gender not in ("male", "female"):
        shown = f'"{gender}"' if isinstance(gender, str) else repr(gender)
        raise bad("gender", f'must be "male" or "female", got {shown}')
    voice = raw.get("voice")
    if voice is not None and (not isinstance(voice, str) or not voice.strip()):
        raise bad("voice", f"must be a voice profile id (a string), got {voice!r}")
    rate_wpm = raw.get("rate_wpm")
    pitch = raw.get("pitch")
    volume = raw.get("volume")
    for key, value, (low, high) in (
        ("rate_wpm", rate_wpm, RATE_WPM_RANGE),
        ("pitch", pitch, PITCH_RANGE),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(key, f"must be a whole number {low}..{high}, got {value!r}")
        if not low <= value <= high:
            raise bad(key, f"must be {low}..{high}, got {value}")
    if volume is not None:
        low_f, high_f = VOLUME_RANGE
        if isinstance(volume, bool) or not isinstance(volume, int | float):
            raise bad("volume", f"must be a number {low_f:g}..{high_f:g}, got {volume!r}")
        if not low_f <= volume <= high_f:
            raise bad("volume", f"must be {low_f:g}..{high_f:g}, got {volume:g}")
    return Character(
        name=name.strip(),
        aliases=tuple(a.strip() for a in aliases),
        gender=Gender(gender) if gender is not None else None,
        voice=voice.strip() if voice is not None else None,
        rate_wpm=rate_wpm,
        pitch=pitch,
        volume=float(volume) if volume is not None else None,
    )


BOOK_KEYS = (
    "title",
    "author",
    "narrator",
    "series",
    "series_part",
    "year",
    "description",
    "language",
    "cover",
)


def _parse_book(data: dict[str, Any], path: Path, fail: _Fail) -> BookInfo:
    """The [book] table: strings, a whole-number year, a cover path; "" means not set."""
    raw = data.get("book", {})
    if not isinstance(raw, dict):
        raise fail("", None, "book", "must be a table: [book]")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in BOOK_KEYS:
            raise fail("book", None, key, f"unknown key; allowed: {', '.join(BOOK_KEYS)}")
        if value == "":
            continue  # written for every key, so the author sees what can be set
        if key == "year":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10000:
                raise fail("book", None, key, f"must be a year such as 2024, got {value!r}")
            values[key] = value
        elif key == "series_part" and type(value) in (int, float):
            values[key] = f"{value:g}"
        elif not isinstance(value, str):
            raise fail("book", None, key, f"must be a string, got {value!r}")
        elif value.strip():
            values[key] = value.strip() if key != "description" else value.strip("\n")
    if "cover" in values:
        values["cover"] = Path(os.path.normpath(path.parent / Path(values["cover"]).expanduser()))
    return BookInfo(**values)


def _voice_table(data: dict[str, Any], table: str, fail: _Fail) -> str | None:
    raw = data.get(table)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise fail("", None, table, f'must be a table: [{table}] voice = "..."')
    for key in raw:
        if key not in _VOICE_TABLE_KEYS:
            raise fail(table, None, key, f"unknown key; allowed: {', '.join(_VOICE_TABLE_KEYS)}")
    voice = raw.get("voice")
    if voice is not None and (not isinstance(voice, str) or not voice.strip()):
        raise fail(table, None, "voice", f"must be a voice profile id (a string), got {voice!r}")
    return voice.strip() if voice is not None else None


def cast_warnings(cast: Cast) -> list[str]:
    """Things in a valid cast file that are probably mistakes (e.g. an alias of two characters)."""
    where = shown_path(cast.path) if cast.path else "cast"
    owners: dict[str, list[str]] = {}
    for character in cast.characters:
        for label in {name_key(character.name), *(name_key(a) for a in character.aliases)}:
            owners.setdefault(label, []).append(character.name)
    warnings = []
    for label, names in sorted(owners.items()):
        if len(names) > 1:
            shown = next(
                a for c in cast.characters for a in (c.name, *c.aliases) if name_key(a) == label
            )
            warnings.append(
                f"{where}: {shown!r} names several characters ({', '.join(names)}); "
                "lines attributed to it go to the first"
            )
    return warnings


def validate_cast_voices(cast: Cast, profiles: Mapping[str, VoiceProfile]) -> None:
    """Raise ConfigError if the cast names a voice that is not a profile (before synthesis)."""
    where = shown_path(cast.path) if cast.path else "cast"
    text = _read_or_empty(cast.path)
    available = ", ".join(sorted(profiles))

    def check(voice: str | None, who: str, table: str, index: int | None = None) -> None:
        if voice is not None and voice not in profiles:
            # Found only for the message: scanning the file per character is quadratic.
            line = find_key_line(text, "voice", table, index)
            at = f"{where}:{line}" if line else where
            raise ConfigError(
                f"{at}: {who}: voice {voice!r} is not a voice profile; available: {available}"
            )

    check(cast.narrator_voice, "narrator", "narrator")
    check(cast.thought_voice, "thoughts", "thoughts")
    for index, character in enumerate(cast.characters, start=1):
        check(character.voice, f"character {character.name!r}", "character", index)


def _read_or_empty(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# ---------------------------------------------------------------------------- merging


def _labels(character: Character) -> set[str]:
    return {name_key(character.name), *(name_key(a) for a in character.aliases)}


def merge_cast(cast: Cast, found: Sequence[Character]) -> list[Character]:
    """Cast characters (their data wins) and found characters no cast entry names.

    In the order the characters were found (most mentioned first), cast characters the text
    does not name last: a cast file written from found characters then gives the same list
    back, so a re-run attributes exactly as the run that wrote it.
    """
    ranked: list[tuple[int, Character]] = []
    claimed: set[int] = set()
    found_by_label: dict[str, list[int]] = {}  # once: casts and books can name thousands
    for index, other in enumerate(found):
        for label in _labels(other):
            found_by_label.setdefault(label, []).append(index)
    for position, character in enumerate(cast.characters):
        labels = _labels(character)
        aliases = list(character.aliases)
        gender = character.gender
        rank = len(found) + position
        matches = sorted({i for label in labels for i in found_by_label.get(label, ())})
        for index in matches:
            other = found[index]
            claimed.add(index)
            rank = min(rank, index)
            # Fill what the author left out; never override what they wrote.
            gender = gender or other.gender
            known = {name_key(a) for a in aliases} | {name_key(character.name)}
            for alias in (other.name, *other.aliases):
                if name_key(alias) not in known:
                    aliases.append(alias)
                    known.add(name_key(alias))
        ranked.append((rank, replace(character, aliases=tuple(aliases), gender=gender)))
    ranked.extend((i, c) for i, c in enumerate(found) if i not in claimed)
    ranked.sort(key=lambda pair: pair[0])  # stable: a cast entry before the found one it ties
    return [character for _, character in ranked]


# ---------------------------------------------------------------------------- assigning


def _preference(profile: VoiceProfile) -> tuple[int, int, str]:
    # The "narrator" profile sounds like narration to the listener: last choice for a
    # character even when the cast file picks another narrator voice.
    return (profile.id == NARRATOR_PROFILE, _AGE_PREFERENCE.get(profile.age, 9), profile.id)


def _fits(profile: VoiceProfile, gender: Gender | None) -> bool:
    return gender is None or profile.gender is None or profile.gender == gender


def assign_voices(
    characters: Sequence[Character],
    cast: Cast,
    profiles: Mapping[str, VoiceProfile],
    line_counts: Mapping[str, int],
    *,
    minor_lines: int = MINOR_LINES,
) -> Assignment:
    """A voice profile for the narrator and every character (cast voices kept; deterministic)."""
    if not profiles:
        raise ConfigError("no voice profiles found: add TOML files to a voices/ folder")
    validate_cast_voices(cast, profiles)
    narrator = cast.narrator_voice or (
        NARRATOR_PROFILE
        if NARRATOR_PROFILE in profiles
        else min(profiles, key=lambda p: _preference(profiles[p]))
    )
    # Every character with a voice already (the author's, or one a previous run wrote into
    # the cast file) keeps it; that is what makes voices stable across runs.
    everyone: dict[str, Character] = {c.name: c for c in cast.characters}
    for character in characters:
        known = everyone.get(character.name)
        # The same name in the cast and the list: the cast's voice, the best-known gender.
        everyone[character.name] = (
            character
            if known is None
            else replace(
                known,
                voice=known.voice or character.voice,
                gender=known.gender or character.gender,
            )
        )
    by_character: dict[str, str] = {}
    # The one who tells a first-person story (alias "I") reads their lines in the narrator's
    # voice, the audiobook convention, unless the cast gives them a voice of their own.
    storytellers = {n for n, c in everyone.items() if c.voice is None and _is_storyteller(c)}
    by_character.update((n, narrator) for n in storytellers)
    for name, character in everyone.items():
        if character.voice is not None:
            if character.voice not in profiles:
                available = ", ".join(sorted(profiles))
                raise ConfigError(
                    f"character {name!r}: voice {character.voice!r} is not a voice profile; "
                    f"available: {available}"
                )
            by_character[name] = character.voice

    reserved = {narrator} | ({cast.thought_voice} if cast.thought_voice else set())
    users: dict[str, list[str]] = {}
    for name, voice in sorted(by_character.items()):
        users.setdefault(voice, []).append(name)

    def count(name: str) -> int:
        return line_counts.get(name, 0)

    def is_minor(name: str) -> bool:
        return count(name) < minor_lines

    # Main characters choose first, so when voices run out it is the minor ones who share.
    newcomers = sorted(
        (c for n, c in everyone.items() if n not in by_character),
        key=lambda c: (-count(c.name), c.name),
    )
    ordered = sorted(profiles.values(), key=_preference)

    def heard() -> list[VoiceProfile]:
        # The voices a listener must tell a newcomer's apart from: the narrator's and those
        # of the characters given voices so far (those who speak most chose first).
        given = set(by_character.values()) | {narrator}
        return [profiles[v] for v in sorted(given) if v in profiles]

    for character in newcomers:
        free = [p for p in ordered if p.id not in users and p.id not in reserved]
        free = _by_distinctness(free, heard(), narrator)
        choice = _pick_free(free, character.gender)
        if choice is None and not is_minor(character.name):
            # The main cast never shares with each other: a voice so far heard only from
            # minor characters, else a free one of the other gender, before sharing.
            choice = _pick_shared(
                ordered, character.gender, users, reserved, is_minor, only_minor=True
            ) or (free[0].id if free else None)
        if choice is None:
            choice = _pick_shared(ordered, character.gender, users, reserved, is_minor)
        assert choice is not None  # _pick_shared without only_minor always finds one
        by_character[character.name] = choice
        users.setdefault(choice, []).append(character.name)

    warnings = _closeness_warnings(narrator, by_character, profiles, is_minor)
    for voice, names in sorted(users.items()):
        main = sorted(n for n in names if not is_minor(n))
        if len(main) > 1:
            warnings.append(
                f"voice {voice!r} is shared by main characters {', '.join(main)}; "
                "add voice profiles or set voices in the cast file"
            )
        others = [n for n in names if n not in storytellers]
        if voice == narrator and others:
            warnings.append(f"voice {voice!r} reads both the narration and {', '.join(others)}")
    return Assignment(
        narrator=narrator, by_character=dict(sorted(by_character.items())), warnings=tuple(warnings)
    )


def _is_storyteller(character: Character) -> bool:
    return any(is_storyteller_alias(a) for a in character.aliases)


# Distances above this count the same: once two voices are clearly apart, an everyday voice
# (age preference) matters more than being even further apart.
_FAR_ENOUGH = 2.0
# Profiles are measured on eight sentences; on a chapter's lines their paces came out up to
# ~10% closer (bench/sound.py: man and northern-man, 18% apart as measured, 11% apart in
# relay-01). A voice this far from all those heard is preferred to one only just distinct.
CAST_MARGIN = 1.25
# F0 on a chapter's lines came out up to 0.5 semitone off the profile's figure (bench/sound.py:
# the narrator 1-3 Hz higher, man and northern-man 2-4 Hz lower): voices
# count as apart in pitch, for ranking, from this many semitones over DISTINCT_SEMITONES.
PITCH_MARGIN_ST = 0.5
# The gap to the narrator shrank most on a chapter's lines: "man", 4.15 semitones above the
# narrator as measured, came out 3.3 to 4.1 apart (bench/sound.py, seven texts: the narrator's
# F0 1-3 Hz higher, the character's 2-4 Hz lower), 0.85 less at worst. The narrator is heard
# beside every character, so a voice counts as apart in pitch from it only with the 0.85 and
# the margin between characters to spare.
NARRATOR_PITCH_MARGIN_ST = 1.4


def _distance(a: VoiceProfile, b: VoiceProfile) -> float | None:
    if a.measured is None or b.measured is None:
        return None
    return voice_distance(a.measured, b.measured)


def _by_distinctness(
    free: Sequence[VoiceProfile], heard: Sequence[VoiceProfile], narrator: str
) -> list[VoiceProfile]:
    """Free voices in the order a character should take them: first those a listener tells
    apart from every voice heard so far; then by preference (narrator last, everyday ages
    first: a boy's voice for a grown man is worse than a voice only just apart); then those
    apart in pitch from all of them (3 semitones and PITCH_MARGIN_ST to spare, from the
    `narrator` profile NARRATOR_PITCH_MARGIN_ST); then those
    apart by CAST_MARGIN; then the furthest apart; then the one that leaves most free voices
    apart in pitch from all those heard and itself (room for the characters still to come).

    Pitch comes first because it holds on a chapter's lines (F0 measured on renders is within
    a few Hz of the profile's), while paces came out up to ~10% closer on short lines
    (bench/sound.py). A profile never measured cannot be judged: it counts as just distinct.
    """

    def room_left(profile: VoiceProfile) -> int:
        # How many other free voices would still be apart in pitch from all heard and this
        # one: of two voices equally good now, the one that leaves more for later characters.
        return sum(
            1
            for other in free
            if other.id != profile.id
            and _pitch_apart(other, profile)
            and _pitch_apart_from_all(other, heard, narrator)
        )

    def key(profile: VoiceProfile) -> tuple[bool, tuple[int, int], bool, bool, float, int, str]:
        distances = [_distance(profile, other) for other in heard]
        nearest = min((d if d is not None else 1.0 for d in distances), default=_FAR_ENOUGH)
        pitch_apart = _pitch_apart_from_all(profile, heard, narrator)
        preference = _preference(profile)
        return (
            nearest < 1.0,
            preference[:2],
            not pitch_apart,
            nearest < CAST_MARGIN,
            -min(nearest, _FAR_ENOUGH),
            -room_left(profile),
            preference[2],
        )

    return sorted(free, key=key)


def _pitch_apart(a: VoiceProfile, b: VoiceProfile, margin_st: float = PITCH_MARGIN_ST) -> bool:
    """Apart in pitch with margin to spare, whatever the voices' genders: a man's voice 3.3
    semitones from a woman's as measured came out 2.8 apart on a chapter's lines and counted
    as alike (bench/sound.py, relay-01)."""
    if a.measured is None or b.measured is None:
        return True
    apart_st = abs(12 * math.log2(a.measured.pitch_hz / b.measured.pitch_hz))
    return apart_st >= DISTINCT_SEMITONES + margin_st


def _pitch_apart_from_all(
    profile: VoiceProfile, heard: Iterable[VoiceProfile], narrator: str
) -> bool:
    """Apart in pitch from every voice heard, with more to spare from the narrator's."""
    return all(
        _pitch_apart(
            profile, other, NARRATOR_PITCH_MARGIN_ST if other.id == narrator else PITCH_MARGIN_ST
        )
        for other in heard
    )


def _closeness_warnings(
    narrator: str,
    by_character: Mapping[str, str],
    profiles: Mapping[str, VoiceProfile],
    is_minor: Callable[[str], bool],
) -> list[str]:
    """Main characters (or the narrator) whose different voices a listener may confuse."""
    users: dict[str, list[str]] = {narrator: ["the narrator"]}
    for name, voice in sorted(by_character.items()):
        if not is_minor(name) and voice != narrator:
            users.setdefault(voice, []).append(name)
    voices = sorted(v for v in users if v in profiles)
    warnings = []
    for i, a in enumerate(voices):
        for b in voices[i + 1 :]:
            distance = _distance(profiles[a], profiles[b])
            if distance is not None and distance < 1.0:
                warnings.append(
                    f"voices {a!r} ({', '.join(users[a])}) and {b!r} ({', '.join(users[b])}) "
                    "sound alike (under 3 semitones and 15% pace apart); set voices in the "
                    "cast file"
                )
    return warnings


def _pick_free(free: Sequence[VoiceProfile], gender: Gender | None) -> str | None:
    if gender is not None:
        fitting = [p for p in free if _fits(p, gender)]
        return fitting[0].id if fitting else None
    if not free:
        return None
    # Unknown gender: take from whichever gender has most voices left, so that characters
    # of known gender found later still find one of their own.
    left = {g: sum(1 for p in free if p.gender == g and p.id != NARRATOR_PROFILE) for g in Gender}
    richest = max(Gender, key=lambda g: (left[g], g == Gender.FEMALE))
    fitting = [p for p in free if _fits(p, richest)]
    return (fitting or list(free))[0].id


def _pick_shared(
    ordered: Sequence[VoiceProfile],
    gender: Gender | None,
    users: Mapping[str, list[str]],
    reserved: set[str],
    is_minor: Callable[[str], bool],
    *,
    only_minor: bool = False,
) -> str | None:
    pool = [p for p in ordered if p.id not in reserved and _fits(p, gender)]
    if only_minor:
        pool = [p for p in pool if all(is_minor(n) for n in users.get(p.id, []))]
        if not pool:
            return None
    pool = pool or [p for p in ordered if p.id not in reserved] or list(ordered)

    # Share with minor characters before main ones, and spread the load.
    def load(p: VoiceProfile) -> tuple[int, int, tuple[int, int, str]]:
        names = users.get(p.id, [])
        return (sum(1 for n in names if not is_minor(n)), len(names), _preference(p))

    return min(pool, key=load).id


_OLD_WORDS = {
    "old", "elderly", "aged", "grandmother", "grandma", "granny", "grandfather", "grandpa",
    "widow", "ancient", "crone", "hag", "elder", "grey-haired", "gray-haired", "matron",
}  # fmt: skip
_CHILD_WORDS = {
    "girl", "boy", "child", "children", "kid", "kids", "little", "baby", "toddler", "infant",
    "son", "daughter",
}  # fmt: skip
_YOUNG_WORDS = {"young", "youth", "lad", "lass", "teen", "teenager", "youngster", "student"}


def _apart_from_all(profile: VoiceProfile, heard: Sequence[VoiceProfile], margin: float) -> bool:
    """At least `margin` from every other voice heard (a voice never measured counts as 1.0;
    a taken voice is not compared with itself)."""
    for other in heard:
        if other.id == profile.id:
            continue
        d = _distance(profile, other)
        if (d if d is not None else 1.0) < margin:
            return False
    return True


def voiced_together(speaker: str, assignment: Assignment) -> list[str]:
    """The characters a line said together (`Rook and Bo`) is theirs, when each has a voice;
    [] for anyone else."""
    together = together_names(speaker)
    if len(together) > 1 and all(part in assignment.by_character for part in together):
        return together
    return []


def voice_for_label(
    speaker: str, assignment: Assignment, profiles: Mapping[str, VoiceProfile]
) -> str:
    """The profile id for a speaker: a character's voice, the narrator's for the storyteller
    ("Narrator", "I"), else one picked from a label.

    Labels such as "the old man" get a voice by their gender and age words, picked from
    the profiles the main cast and the narrator do not use, by a hash of the label (so the
    same label always gets the same voice, and different labels tend to differ).
    """
    if speaker in assignment.by_character:
        return assignment.by_character[speaker]
    together = voiced_together(speaker, assignment)
    if together:
        # `Rook and Bo`: a line said together, in the voice of the first of them (the
        # others join it in a chorus, `Casting.chorus`).
        return assignment.by_character[together[0]]
    if is_storyteller_alias(speaker):
        # "Narrator": attribution's name for the "I" of a first-person book whose storyteller
        # it could not name. They read their lines in the narrator's voice, as a named
        # storyteller does (assign_voices).
        return assignment.narrator
    words = re.findall(r"[a-z]+(?:-[a-z]+)?", speaker.casefold())
    female = sum(w in FEMALE_WORDS for w in words)
    male = sum(w in MALE_WORDS for w in words)
    gender = Gender.FEMALE if female > male else Gender.MALE if male > female else None
    if any(w in _OLD_WORDS for w in words):
        age: Age | None = Age.OLD
    elif any(w in _YOUNG_WORDS for w in words):
        age = Age.YOUNG
    elif any(w in _CHILD_WORDS for w in words):
        age = Age.CHILD
    else:
        age = None  # no age word: an everyday (adult or young) voice
    taken = set(assignment.by_character.values()) | {assignment.narrator}
    ordered = sorted(profiles.values(), key=lambda p: p.id)
    candidates: list[VoiceProfile] = []
    ages = {age} if age else {Age.ADULT, Age.YOUNG}
    everyday = ages | {Age.ADULT, Age.YOUNG}
    # A label in a main character's voice sounds like that character speaking: a near
    # age match in a free voice beats an exact one in a taken voice.
    attempts: tuple[tuple[bool, set[Age] | None], ...] = (
        (True, ages), (True, everyday), (True, None), (False, ages), (False, None),
    )  # fmt: skip
    for avoid_taken, want_ages in attempts:
        candidates = [
            p
            for p in ordered
            if _fits(p, gender)
            and (want_ages is None or p.age in want_ages)
            and (not avoid_taken or p.id not in taken)
            and p.id != assignment.narrator
        ]
        if candidates:
            break
    if not candidates:
        candidates = [p for p in ordered if p.id != assignment.narrator] or ordered
    # Heard next to the narrator and the cast: keep to the voices a listener tells apart from
    # theirs best (as _by_distinctness ranks them), when there are any.
    heard = [profiles[v] for v in sorted(taken) if v in profiles]
    for tier in (
        lambda p: _pitch_apart_from_all(p, heard, assignment.narrator),
        lambda p: _apart_from_all(p, heard, CAST_MARGIN),
        lambda p: _apart_from_all(p, heard, 1.0),
    ):
        distinct = [p for p in candidates if tier(p)]
        if distinct:
            candidates = distinct
            break
    return candidates[zlib.crc32(speaker.casefold().encode("utf-8")) % len(candidates)].id


# ---------------------------------------------------------------------------- writing

_HEADER = (
    "Cast file written by narrator. Edit freely: narrator keeps what you write here,\n"
    "adds new characters at the end and fills in voices you leave out.\n"
    "Voices are the ids of voice profiles (`narrator voices` lists them)."
)


def write_cast(path: Path, characters: Sequence[Character], assignment: Assignment) -> bool:
    """Create or update the cast file: add new characters and missing voices, keep the rest;
    whether the file changed."""
    where = shown_path(path)
    _, document = _open_document(path)

    # What exists is edited in place through tomlkit, which keeps comments and layout.
    narrator_table = document.get("narrator")
    if isinstance(narrator_table, dict) and "voice" not in narrator_table:
        narrator_table["voice"] = assignment.narrator
    entries = document.get("character")
    if entries is not None and not isinstance(entries, AoT | list):
        raise ConfigError(f"{where}: character: must be [[character]] tables")
    added: list[str] = []
    index = _EntryIndex(entries or [])  # once, not once per character: casts can be large
    for character in characters:
        voice = assignment.by_character.get(character.name)
        entry = index.find(character)
        if entry is not None:
            if voice is not None and "voice" not in entry:
                entry["voice"] = voice
        elif isinstance(entries, AoT):
            index.add(_append_entry(entries, character, voice))
        else:
            added.append(_entry_text(character, voice))

    # What is new goes at the end as text: tomlkit spaces tables it creates unevenly, and
    # appending keeps the array of [[character]] tables in one piece (no array existed).
    new_text = tomlkit.dumps(document)
    blocks = []
    if narrator_table is None:
        blocks.append(f"[narrator]\nvoice = {tomlkit.item(assignment.narrator).as_string()}\n")
    blocks.extend(added)
    if blocks:
        new_text = _with_blank_line(new_text) + "\n".join(blocks)
    return _save_document(path, new_text)


CHARACTER_SETTINGS = ("aliases", "gender", "voice", "rate_wpm", "pitch", "volume")


def set_character(path: Path, name: str, values: Mapping[str, Any]) -> Cast:
    """Set (None: remove) settings of one character in the cast file, keeping everything else.

    The character is found by name or alias, or added at the end. The file is written only
    if the result reads back as a valid cast file; the new cast is returned.
    """
    where = shown_path(path)
    for key in values:
        if key not in CHARACTER_SETTINGS:
            raise ConfigError(
                f"{where}: {key}: not a character setting; allowed: {', '.join(CHARACTER_SETTINGS)}"
            )
    _, document = _open_document(path)
    entries = document.get("character")
    if entries is not None and not isinstance(entries, AoT | list):
        raise ConfigError(f"{where}: character: must be [[character]] tables")
    entry = _EntryIndex(entries or []).find(Character(name))
    if entry is None and isinstance(entries, AoT):
        entry = _append_entry(entries, Character(name), None)
    elif entry is None:  # no [[character]] yet: a small file, written out and read again
        text_with = _with_blank_line(tomlkit.dumps(document)) + _entry_text(Character(name), None)
        document = tomlkit.parse(text_with)
        entry = document["character"][-1]
    for key, value in values.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = list(value) if isinstance(value, tuple) else value
    new_text = tomlkit.dumps(document)
    try:
        cast = _parse_cast(tomllib.loads(new_text), new_text, path)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: could not update the cast file safely: {e}") from e
    _save_document(path, new_text)
    return cast


def _open_document(path: Path) -> tuple[str, tomlkit.TOMLDocument]:
    """A cast file's text and tomlkit document (a new file starts with the header comment)."""
    where = shown_path(path)
    text = ""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}: cannot read cast file: {e}") from e
    else:
        text = "".join(f"# {line}\n" for line in _HEADER.splitlines())
    try:
        return text, tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise ConfigError(f"{where}: invalid TOML: {e}") from e


def _save_document(path: Path, new_text: str) -> bool:
    """Write the updated cast file, unless it did not change or would not parse; whether it
    wrote (an unchanged file keeps its modification time)."""
    try:
        tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as e:  # a bug here must not destroy the author's file
        raise ConfigError(f"{shown_path(path)}: could not update the cast file safely: {e}") from e
    try:
        return write_if_changed(path, new_text, durable=True)
    except OutputError as exc:
        reason = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        raise OutputError(f"{shown_path(path)}: cannot write cast file: {reason}") from exc


_BOOK_COMMENT = (
    "What players and library apps show; narrator wrote it on the first render and keeps it.\n"
    'Edit freely; "" leaves a value out. cover: an image path, relative to this file.'
)


def write_book_info(path: Path, info: BookInfo, changed: Iterable[str] = ()) -> bool:
    """Add a [book] table with `info` to the cast file, or set the `changed` keys in it;
    whether the file changed.

    An existing table is the author's: only keys named in `changed` (e.g. from --title) are
    overwritten; nothing else in the file is touched.
    """
    text, document = _open_document(path)
    table = document.get("book")
    if table is None:
        comment = "".join(f"# {line}\n" for line in _BOOK_COMMENT.splitlines())
        rows = [f"{key} = {_book_value(info, key, path).as_string()}" for key in BOOK_KEYS]
        new_text = _with_blank_line(text) + "[book]\n" + comment + "\n".join(rows) + "\n"
    elif isinstance(table, dict):
        for key in changed:
            table[key] = _book_value(info, key, path)
        new_text = tomlkit.dumps(document)
    else:
        raise ConfigError(f"{shown_path(path)}: book: must be a table: [book]")
    return _save_document(path, new_text)


def _book_value(info: BookInfo, key: str, cast_path: Path) -> Any:
    value = getattr(info, key)
    if key == "cover" and value is not None:
        try:  # relative to the cast file when it lies beside or below it
            value = Path(os.path.relpath(Path(value).resolve(), cast_path.parent.resolve()))
        except ValueError:  # another drive (Windows)
            value = Path(value).resolve()
        value = value.as_posix()
    if key == "description" and value and "\n" in value:
        return tomlkit.string(value, multiline=True)
    return tomlkit.item(value if value is not None else "")


def _with_blank_line(text: str) -> str:
    if not text.strip():
        return text
    if not text.endswith("\n"):
        text += "\n"
    return text if text.endswith("\n\n") else text + "\n"


class _EntryIndex:
    """The cast file's [[character]] tables by name and by alias, casefolded, in file order."""

    def __init__(self, entries: Iterable[Any]) -> None:
        self.by_name: dict[str, Any] = {}
        self.by_alias: dict[str, tuple[int, Any]] = {}
        self.count = 0
        for entry in entries:
            self.add(entry)

    def add(self, entry: Any) -> None:
        if not isinstance(entry, Table | dict):
            return
        self.by_name.setdefault(name_key(str(entry.get("name", ""))), entry)
        aliases = entry.get("aliases", [])
        if isinstance(aliases, list):
            for alias in aliases:
                self.by_alias.setdefault(name_key(str(alias)), (self.count, entry))
        self.count += 1

    def find(self, character: Character) -> Any:
        """The table naming `character`, else the first whose aliases share a label with it."""
        entry = self.by_name.get(name_key(character.name))
        if entry is not None:
            return entry
        found = [self.by_alias[label] for label in _labels(character) if label in self.by_alias]
        return min(found, key=lambda item: item[0])[1] if found else None


def _append_entry(entries: AoT, character: Character, voice: str | None) -> Any:
    """A [[character]] table for `character` added after the last one, a blank line apart."""
    if len(entries) and not entries[-1].as_string().endswith("\n\n"):
        entries[-1].add(tomlkit.nl())
    entries.append(tomlkit.parse(_entry_text(character, voice) + "\n")["character"][0])
    return entries[-1]


def _entry_text(character: Character, voice: str | None) -> str:
    lines = ["[[character]]", f"name = {tomlkit.item(character.name).as_string()}"]
    if character.aliases:
        lines.append(f"aliases = {tomlkit.item(list(character.aliases)).as_string()}")
    if character.gender is not None:
        lines.append(f'gender = "{character.gender.value}"')
    if voice is not None:
        lines.append(f"voice = {tomlkit.item(voice).as_string()}")
    return "\n".join(lines) + "\n"


THOUGHT_VOLUME = 0.8  # thoughts in the thinker's own voice, a little softer


@dataclass(frozen=True)
class Casting:
    """Who speaks with which voice: the assignment and the profiles it refers to."""

    assignment: Assignment
    profiles: dict[str, VoiceProfile]
    characters: tuple[Character, ...]
    cast: Cast

    def voice(self, profile_id: str, character: Character | None = None) -> Voice:
        profile = self.profiles[profile_id]
        settings = VoiceSettings(
            engine_voice=profile.engine_voice,
            rate_wpm=(character.rate_wpm if character and character.rate_wpm else profile.rate_wpm),
            pitch=(character.pitch if character and character.pitch is not None else profile.pitch),
            volume=(
                character.volume if character and character.volume is not None else profile.volume
            ),
        )
        return Voice(profile_id, settings, level_gain_db(profile), weighting_db(profile))

    def speaker_voice(self, speaker: str) -> Voice:
        by_name = {character.name: character for character in self.characters}
        profile_id = self.assignment.by_character.get(speaker)
        if profile_id is None:
            profile_id = voice_for_label(speaker, self.assignment, self.profiles)
        return self.voice(profile_id, by_name.get(speaker))

    def chorus(self, segment: Segment) -> tuple[Voice, ...]:
        """The voices of a line several characters say together (`Rook and Bo`), each in
        their own voice; () for any other line (a thought too), or when one of them has no
        voice of their own."""
        if segment.kind is not Kind.DIALOGUE or segment.speaker is None:
            return ()
        together = voiced_together(segment.speaker, self.assignment)
        return tuple(self.speaker_voice(part) for part in together)

    def voice_for(self, segment: Segment) -> tuple[str, Voice]:
        """The transcript label and the voice of one segment."""
        if not segment.kind.is_speech:
            return NARRATOR, self.voice(self.assignment.narrator)
        speaker = segment.speaker or UNKNOWN_SPEAKER
        if segment.kind is Kind.THOUGHT and self.cast.thought_voice:
            return speaker, self.voice(self.cast.thought_voice)
        voice = self.speaker_voice(speaker)
        if segment.kind is Kind.THOUGHT:
            settings = voice.settings
            softer = VoiceSettings(
                settings.engine_voice, settings.rate_wpm, settings.pitch,
                round(settings.volume * THOUGHT_VOLUME, 3),
            )  # fmt: skip
            voice = Voice(voice.voice_id, softer, voice.gain_db, voice.weighting_db)
        return speaker, voice


OfferedVoices = Callable[[], Sequence[str]]  # the engine's voices, asked for when needed


def check_voices_installed(
    casting: Casting, used: Iterable[str], engine: str, voices: OfferedVoices | None = None
) -> None:
    """Fail before any synthesis when a voice in use names an engine voice not installed.

    `voices`: how to ask the engine for its voices (pass one cached callable to this and
    `language_warnings` so the engine is started once); by default it is asked here.
    """
    if not engine_class(engine).checks_voices:
        return  # an engine that speaks any voice (the fake one: tones)
    offered = voices() if voices is not None else engine_voices(engine)
    installed = [voice for voice in offered if not voice.startswith("+")]
    variants = [voice[1:] for voice in offered if voice.startswith("+")]
    check_profile_voices([casting.profiles[v] for v in sorted(set(used))], installed, variants)


def language_warnings(
    lines: Iterable[Line], engine: str, voices: OfferedVoices | None = None
) -> list[str]:
    """One warning per language in `lines` that no installed voice of `engine` speaks."""
    texts = [line.text for line in lines if not line.text.isascii()]
    if not any(s.language for text in texts for s in language_stretches(text)):
        return []  # no other script: no need to start an engine to ask for its voices
    offered = voices() if voices is not None else engine_voices(engine)
    missing = languages_without_voice(texts, offered)
    return [
        f"no {engine} voice speaks {language_name(language)}: {count} "
        f"line{'' if count == 1 else 's'} read in the speaker's own voice"
        for language, count in missing.items()
    ]
