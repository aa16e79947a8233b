"""Voice profiles: TOML files in voices/ folders -> dict[str, VoiceProfile].

A profile names an engine voice (an espeak-ng voice, optionally with a `+variant`) and the
rate, pitch, volume and gain it is read with. Profiles come from the project's voices/
folder, then the user's folder, then extra folders; a later file with the same id (file
stem) replaces an earlier one. Every file is validated strictly: unknown keys, wrong types
and out-of-range values raise ConfigError naming the file, line and field.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import platformdirs

import narrator
from narrator.errors import ConfigError
from narrator.model import Age, Gender, VoiceFigures, VoiceProfile

VOICES_DIR_ENV = "NARRATOR_VOICES_DIR"
RATE_WPM_RANGE = (80, 450)
PITCH_RANGE = (0, 99)
VOLUME_RANGE = (0.0, 1.0)
GAIN_DB_RANGE = (-30.0, 30.0)
AGES = tuple(Age)
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
    "measured",
)
_MEASURED_FIELDS = ("settings", "pitch_hz", "pace_wpm", "loudness_lufs", "weighting_db")
# Where each voice is placed before mastering (integrated loudness of its lines). Low enough
# that no shipped voice needs a positive gain (the quietest, deep-man, measures -26.7 LUFS),
# since espeak-ng clips already reach full scale; the chapter's own gain and limiter
# (narrator.master) then bring the whole to the target.
VOICE_LEVEL_LUFS = -27.0
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
        if isinstance(value, dict) and key != "measured":
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
    age = Age(_choice(data.get("age", "adult"), "age", AGES, fail))
    profile = VoiceProfile(
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
    if "measured" not in data:
        return profile
    figures = _measured(data["measured"], text, where)
    # Figures taken with other settings describe another voice: ignored until re-measured.
    if figures is None or figures[0] != measured_settings(profile):
        return profile
    return replace(profile, measured=figures[1])


def measured_settings(profile: VoiceProfile) -> str:
    """The settings a profile's figures belong to, as `[measured] settings` records them."""
    return (
        f"{profile.engine_voice} rate {profile.rate_wpm} pitch {profile.pitch} "
        f"volume {profile.volume:g}"
    )


def _measured(raw: Any, text: str, where: str) -> tuple[str, VoiceFigures] | None:
    """The `[measured]` table: (settings it was measured with, figures)."""

    def fail(field: str, message: str) -> ConfigError:
        line = find_key_line(text, field, "measured")
        at = f"{where}:{line}" if line else where
        return ConfigError(f"{at}: measured.{field}: {message}")

    if not isinstance(raw, dict):
        raise fail("", "must be a table: [measured]")
    for key in raw:
        if key not in _MEASURED_FIELDS:
            raise fail(key, f"unknown field; allowed: {', '.join(_MEASURED_FIELDS)}")
    for key in _MEASURED_FIELDS:
        if key not in raw:
            raise fail(key, "missing (bench/measure_voices.py writes the whole table)")
    settings = raw["settings"]
    if not isinstance(settings, str):
        raise fail("settings", f"must be a string, got {settings!r}")
    bounds = {
        "pitch_hz": (30.0, 1000.0),
        "pace_wpm": (30.0, 1000.0),
        "loudness_lufs": (-70.0, 0.0),
        "weighting_db": (-20.0, 20.0),
    }
    values = {key: _float_in(raw[key], key, bounds[key], lambda f, m: fail(f, m)) for key in bounds}
    return settings, VoiceFigures(**values)


# K-weighted loudness minus plain RMS level for a voice never measured: the median of the
# shipped profiles' measured values (+0.8 dB; -0.2..+1.3 between them).
DEFAULT_WEIGHTING_DB = 0.8


def weighting_db(profile: VoiceProfile) -> float:
    """The profile's measured weighting_db, or the shipped profiles' median."""
    return profile.measured.weighting_db if profile.measured else DEFAULT_WEIGHTING_DB


def level_gain_db(profile: VoiceProfile) -> float:
    """The gain that puts a profile's lines at VOICE_LEVEL_LUFS, plus its own gain_db trim.

    An unmeasured profile gets its gain_db only: it stays at the engine's own level (about
    -20 LUFS for espeak-ng, a few LU above the measured voices; the chapter's gain and limiter
    still master the whole).
    """
    if profile.measured is None:
        return profile.gain_db
    return round(VOICE_LEVEL_LUFS - profile.measured.loudness_lufs + profile.gain_db, 2)


# Two voices a listener tells apart without tags: median pitches at least DISTINCT_SEMITONES
# apart, or paces differing by at least DISTINCT_PACE (issue 12's figures).
DISTINCT_SEMITONES = 3.0
DISTINCT_PACE = 0.15


def voice_distance(a: VoiceFigures, b: VoiceFigures) -> float:
    """How far apart two voices sound: 1.0 or more is distinct (pitch or pace, whichever is
    further, each in units of its distinctness threshold)."""
    pitch_st = abs(12 * math.log2(a.pitch_hz / b.pitch_hz))
    pace = abs(math.log(a.pace_wpm / b.pace_wpm))
    return max(pitch_st / DISTINCT_SEMITONES, pace / math.log1p(DISTINCT_PACE))


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
