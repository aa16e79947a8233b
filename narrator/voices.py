"""Voice profiles: TOML files in voices/ folders -> dict[str, VoiceProfile].

A profile names an engine voice (an espeak-ng voice, optionally with a `+variant`) and the
rate, pitch, volume and gain it is read with. Profiles come from the project's voices/
folder, then the user's folder, then extra folders; a later file with the same id (file
stem) replaces an earlier one. Every file is validated strictly: unknown keys, wrong types
and out-of-range values raise ConfigError naming the file, line and field.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import platformdirs

import narrator
from narrator.errors import ConfigError
from narrator.model import Gender, VoiceProfile

VOICES_DIR_ENV = "NARRATOR_VOICES_DIR"
RATE_WPM_RANGE = (80, 450)
PITCH_RANGE = (0, 99)
VOLUME_RANGE = (0.0, 1.0)
GAIN_DB_RANGE = (-30.0, 30.0)
AGES = ("child", "young", "adult", "old")
GENDERS = tuple(g.value for g in Gender)

# Ids end up in cast files and on command lines: keep them easy to type and quote-free.
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
# espeak-ng voice names are path-like ("gmw/en-us"); variant names are file names in
# espeak-ng-data/voices/!v and may contain spaces ("Mr serious").
_ENGINE_VOICE_RE = re.compile(r"[A-Za-z0-9_./-]+(\+[A-Za-z0-9_. -]+)?")
_FIELDS = (
    "description",
    "engine_voice",
    "rate_wpm",
    "pitch",
    "volume",
    "gain_db",
    "gender",
    "age",
)
_Fail = Callable[[str, str], ConfigError]
_KEY_LINE_RE = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def shown_path(path: Path) -> str:
    """The path as shown in messages: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def project_voices_dir() -> Path:
    """The shipped voices: voices/ beside the package in a checkout, else where pip put them."""
    checkout = Path(narrator.__file__).resolve().parent.parent / "voices"
    if checkout.is_dir():
        return checkout
    # A wheel installs them as data files under the environment's prefix (pyproject.toml).
    return Path(sys.prefix) / "share" / "narrator" / "voices"


def user_voices_dir() -> Path:
    """The user's own voices folder ($NARRATOR_VOICES_DIR, else the platform config dir)."""
    override = os.environ.get(VOICES_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("narrator")) / "voices"


def voices_dirs(extra_dirs: Sequence[Path] = ()) -> list[Path]:
    """The folders profiles are read from, in order (later ones win)."""
    return [project_voices_dir(), user_voices_dir(), *extra_dirs]


def load_profiles(extra_dirs: Sequence[Path] = ()) -> dict[str, VoiceProfile]:
    """Load and validate all voice profiles, sorted by id; later folders override by id."""
    profiles: dict[str, VoiceProfile] = {}
    for index, folder in enumerate(voices_dirs(extra_dirs)):
        if not folder.exists():
            # The project and user folders are optional; a folder the caller names is not.
            if index >= 2:
                raise ConfigError(f"{shown_path(folder)}: voices folder does not exist")
            continue
        if not folder.is_dir():
            raise ConfigError(f"{shown_path(folder)}: not a folder (expected voice profiles)")
        for path in sorted(folder.glob("*.toml")):
            if path.name.startswith("."):
                continue
            profile = load_profile(path)
            profiles[profile.id] = profile
    return dict(sorted(profiles.items()))


def read_toml(path: Path, what: str) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and data; ConfigError naming the file (and line) when it is bad."""
    where = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot read {what}: {e}") from e
    try:
        # Names typed with combining accents are the NFC names of the text (load/decode.py).
        return text, tomllib.loads(unicodedata.normalize("NFC", text))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: invalid TOML: {e}") from e


def load_profile(path: Path) -> VoiceProfile:
    """Read and validate one voice profile file; its id is the file stem."""
    where = shown_path(path)
    text, data = read_toml(path, "voice profile")

    def fail(field: str, message: str) -> ConfigError:
        line = find_key_line(text, field)
        at = f"{where}:{line}" if line else where
        return ConfigError(f"{at}: {field}: {message}")

    if not _ID_RE.fullmatch(path.stem):
        raise ConfigError(
            f"{where}: file name must be a voice id of lowercase letters, digits, '-' or '_' "
            f"(got {path.stem!r})"
        )
    for key, value in data.items():
        if key not in _FIELDS:
            raise fail(key, f"unknown field; allowed: {', '.join(_FIELDS)}")
        if isinstance(value, dict):
            raise fail(key, "must be a value, not a table")
    for required in ("description", "engine_voice"):
        if required not in data:
            raise ConfigError(f"{where}: {required}: missing (required)")

    description = _string(data["description"], "description", fail)
    if "\n" in description:
        raise fail("description", "must be one line")
    engine_voice = _string(data["engine_voice"], "engine_voice", fail)
    if not _ENGINE_VOICE_RE.fullmatch(engine_voice):
        raise fail(
            "engine_voice",
            f'must look like "gmw/en-us" or "gmw/en-us+f3", got {engine_voice!r}',
        )
    gender: Gender | None = None
    if "gender" in data:
        gender = Gender(_choice(data["gender"], "gender", GENDERS, fail))
    age = _choice(data.get("age", "adult"), "age", AGES, fail)
    return VoiceProfile(
        id=path.stem,
        description=description,
        engine_voice=engine_voice,
        rate_wpm=_int_in(data.get("rate_wpm", 175), "rate_wpm", RATE_WPM_RANGE, fail),
        pitch=_int_in(data.get("pitch", 50), "pitch", PITCH_RANGE, fail),
        volume=_float_in(data.get("volume", 1.0), "volume", VOLUME_RANGE, fail),
        gain_db=_float_in(data.get("gain_db", 0.0), "gain_db", GAIN_DB_RANGE, fail),
        gender=gender,
        age=age,
        path=path,
    )


def split_engine_voice(engine_voice: str) -> tuple[str, str | None]:
    """Split "gmw/en-us+f3" into ("gmw/en-us", "f3"); no variant gives None."""
    base, plus, variant = engine_voice.partition("+")
    return base, (variant if plus else None)


def check_engine_voice(
    engine_voice: str, installed: Collection[str], variants: Collection[str]
) -> None:
    """Raise ConfigError unless the engine voice and its variant are installed.

    `installed` holds the engine's voice ids (pyttsx3 lists them lower-cased, e.g.
    "gmw/en-us"); `variants` the espeak-ng variant names (the file names after "!v/" in
    `espeak-ng --voices=variant`, e.g. "f3", "Andrea"). Needed because pyttsx3 and
    espeak-ng silently fall back to the plain voice for an unknown name.
    """
    base, variant = split_engine_voice(engine_voice)
    # espeak-ng matches voice names case-insensitively, and also by the name without its
    # language-family folder ("en-us" for "gmw/en-us").
    known = {v.lower() for v in installed} | {v.lower().rsplit("/", 1)[-1] for v in installed}
    if base.lower() not in known:
        raise ConfigError(
            f"engine voice {base!r} is not installed{_did_you_mean(base.lower(), known)}"
        )
    if variant is not None and variant not in variants:
        # Variant names are file names: case matters ("F3" silently falls back).
        raise ConfigError(
            f"espeak-ng variant {variant!r} (in {engine_voice!r}) does not exist"
            f"{_did_you_mean(variant, variants)}"
        )


def check_profile_voices(
    profiles: Iterable[VoiceProfile], installed: Collection[str], variants: Collection[str]
) -> None:
    """check_engine_voice for each profile, naming the profile's file in the error."""
    for profile in profiles:
        try:
            check_engine_voice(profile.engine_voice, installed, variants)
        except ConfigError as e:
            where = shown_path(profile.path) if profile.path else f"voice {profile.id!r}"
            line = _file_key_line(profile.path, "engine_voice") if profile.path else None
            at = f"{where}:{line}" if line else where
            raise ConfigError(f"{at}: engine_voice: {e}") from e


def parse_variant_listing(listing: str) -> frozenset[str]:
    """Variant names from the output of `espeak-ng --voices=variant` (the "!v/..." files)."""
    names = set()
    for line in listing.splitlines():
        match = re.search(r"!v/(\S(?:.*?\S)?)(?:\s{2,}|\s*$)", line)
        if match:
            names.add(match.group(1))
    return frozenset(names)


def find_key_line(text: str, key: str, table: str = "", index: int | None = None) -> int | None:
    """1-based line of `key = ...` inside [table] (or the index-th [[table]], 1-based).

    A plain text scan (tomllib gives no positions): good for the flat files narrator reads,
    None when the key is not written as a plain `key = value` line.
    """
    current, count = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
        if header:
            current = header.group(2).strip().strip("\"'")
            if header.group(1) == "[[" and current == table:
                count += 1
            continue
        if current != table or (index is not None and count != index):
            continue
        match = _KEY_LINE_RE.match(line)
        if match and next(g for g in match.groups() if g is not None) == key:
            return number
    return None


def find_table_line(text: str, table: str, index: int | None = None) -> int | None:
    """1-based line of the [table] header (or of the index-th [[table]], 1-based)."""
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
        if header and header.group(2).strip().strip("\"'") == table:
            count += 1
            if index is None or count == index:
                return number
    return None


def _file_key_line(path: Path, key: str) -> int | None:
    try:
        return find_key_line(path.read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return None


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    ordered = sorted(choices)
    same_letters = [c for c in ordered if c.lower() == name.lower()]
    close = same_letters or difflib.get_close_matches(name, ordered, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _string(value: Any, field: str, fail: _Fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(field, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _choice(value: Any, field: str, allowed: Sequence[str], fail: _Fail) -> str:
    if value not in allowed or not isinstance(value, str):
        options = " or ".join(f'"{a}"' for a in allowed)
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        raise fail(field, f"must be {options}, got {shown}")
    return value


def _int_in(value: Any, field: str, bounds: tuple[int, int], fail: _Fail) -> int:
    low, high = bounds
    # bool is an int subclass; `pitch = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(field, f"must be a whole number {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise fail(field, f"must be {low}..{high}, got {value}")
    return value


def _float_in(value: Any, field: str, bounds: tuple[float, float], fail: _Fail) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(field, f"must be a number {low:g}..{high:g}, got {value!r}")
    if not low <= value <= high:
        raise fail(field, f"must be {low:g}..{high:g}, got {value:g}")
    return float(value)


def profiles_by_gender(
    profiles: Mapping[str, VoiceProfile], gender: Gender | None
) -> list[VoiceProfile]:
    """Profiles of a gender (profiles without one fit any), sorted by id."""
    return [
        p
        for _, p in sorted(profiles.items())
        if gender is None or p.gender is None or p.gender == gender
    ]
