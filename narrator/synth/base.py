"""The speech-engine contract, the engine registry, and checks on the WAV files engines write.

Input: text + VoiceSettings; output: a 22050 Hz, 16-bit, mono WAV file.
Engine modules are imported lazily by name, so that importing narrator.synth never loads
pyttsx3 or libespeak-ng in the parent process (workers create the engines).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import re
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from narrator.audio_format import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from narrator.errors import ConfigError
from narrator.model import VoiceSettings


@runtime_checkable
class Engine(Protocol):
    """A speech engine living in one worker process."""

    # Engine name and version, part of every clip's cache key.
    id: str

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        """Speak `text` into `wav_path` as a 22050 Hz 16-bit mono WAV."""
        ...

    def voices(self) -> list[str]:
        """Installed voice ids, then variants as "+name" (usable as "base+name")."""
        ...


class EngineClass(Protocol):
    """What the registry needs from an engine class before any engine exists."""

    def __call__(self) -> Engine: ...

    # Whether profiles' engine voices are checked against voices() before synthesis.
    checks_voices: bool

    def identify(self) -> str:
        """The engine id, found without starting an engine (safe in the parent process)."""
        ...

    def check(self) -> None:
        """Raise ToolMissingError when the engine cannot run on this machine."""
        ...


@dataclass(frozen=True)
class EngineEntry:
    """An engine as the registry knows it, before its module is imported."""

    name: str  # what users type: --engine NAME
    target: str  # "module:Class", imported when the engine is first used
    credit: str  # how the default narrator credit names it: "narrator (CREDIT)"
    listed: bool = True  # offered to users (the CLI's --engine choices)


# Engine name -> entry. Built-in engines register below exactly as plugins do (a plugin
# package names its class under the "narrator.engines" entry-point group).
_REGISTRY: dict[str, EngineEntry] = {}
ENTRY_POINT_GROUP = "narrator.engines"
DEFAULT_ENGINE = "espeak"


def register_engine(name: str, target: str, *, credit: str, listed: bool = True) -> None:
    """Make an engine available by name ("module:Class" is imported only when it is used)."""
    _REGISTRY[name] = EngineEntry(name, target, credit, listed)


register_engine("espeak", "narrator.synth.espeak:EspeakEngine", credit="espeak-ng")
register_engine("fake", "narrator.synth.fake:FakeEngine", credit="a test tone engine")
# For tests of the worker pool only: misbehaves on demand.
register_engine(
    "fake-faulty", "narrator.synth.fake:FaultyEngine", credit="a test tone engine", listed=False
)


@functools.cache
def _load_plugins() -> None:
    """Register the engines installed packages offer (once; the built-ins win a name clash)."""
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name not in _REGISTRY:
            register_engine(entry_point.name, entry_point.value, credit=entry_point.name)


def engine_entry(engine_name: str) -> EngineEntry:
    """The registry's entry for `engine_name`; ConfigError for an unknown name."""
    _load_plugins()
    entry = _REGISTRY.get(engine_name)
    if entry is None:
        choices = ", ".join(engine_names())
        raise ConfigError(f"unknown speech engine {engine_name!r}: choose one of {choices}")
    return entry


def engine_names() -> tuple[str, ...]:
    """The engines users may choose, the default first."""
    _load_plugins()
    listed = [name for name, entry in _REGISTRY.items() if entry.listed]
    return tuple(sorted(listed, key=lambda name: (name != DEFAULT_ENGINE, name)))


def engine_class(engine_name: str) -> EngineClass:
    """The class registered under `engine_name`; ConfigError for an unknown name."""
    module_name, _, class_name = engine_entry(engine_name).target.partition(":")
    cls: EngineClass = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_engine(engine_name: str) -> Engine:
    """Start an engine; call this only inside a worker process."""
    return engine_class(engine_name)()


def engine_id(engine_name: str) -> str:
    """The id of an engine (for cache keys) without starting it."""
    return engine_class(engine_name).identify()


def split_voice(engine_voice: str) -> tuple[str, str]:
    """Split "gmw/en-us+f3" into ("gmw/en-us", "f3"); the variant may be ""."""
    base, _, variant = engine_voice.partition("+")
    return base.strip(), variant.strip()


# Letter runs are words; every digit counts as one, because "1834" is read as several words.
_WORD_RE = re.compile(r"[^\W\d_]+|\d")
# The one definition of a Latin letter (clip checks, pace, language): the letters a voice for a
# Latin-script language reads within words. ASCII, Latin-1, Latin Extended-A and -B, Extended
# Additional, -C and -D, and the ligatures (ﬁ, ﬀ). Not the IPA letters (U+0250-02AF), which
# are Latin by their Unicode names but which espeak-ng names one by one ("ʃɔə": "esh, open o,
# schwa"), nor ª, º and µ.
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\ufb00-\ufb06"
_LATIN_LETTER_RE = re.compile(rf"[{_LATIN}]")


def is_latin_letter(char: str) -> bool:
    """Whether `char` is a letter a Latin-script voice reads within words (IPA letters are not)."""
    return char.isalpha() and _LATIN_LETTER_RE.match(char) is not None


# Words an English voice may read letter by letter: any letter outside the Latin script
# (a CJK, kana, Greek or Cyrillic line takes 0.35-0.75 s per character), and Latin words with
# a letter held three times ("Zzzzz", "Hmmmm", "Shhhh") or without a vowel ("Pfft", "Grr").
_NON_LATIN_LETTER_RE = re.compile(rf"(?![{_LATIN}])[^\W\d_]")
_HELD_OR_VOWELLESS_RE = re.compile(
    rf"\b(?=[{_LATIN}]*([{_LATIN}])\1\1|[b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ]{{2,}}\b)[{_LATIN}]+\b"
)


def count_words(text: str) -> int:
    """Spoken words in `text`, as used for clip timeouts and duration checks."""
    return len(_WORD_RE.findall(text))


def spelled_letters(text: str) -> int:
    """Letters the engine may read one by one (other scripts, held sounds, no vowel)."""
    held = sum(len(match.group(0)) for match in _HELD_OR_VOWELLESS_RE.finditer(text))
    return held + len(_NON_LATIN_LETTER_RE.findall(text))


def expected_duration_ms(text: str, rate_wpm: int) -> float:
    """How long `text` should take at `rate_wpm`, read as words (the least it may take)."""
    return count_words(text) * 60000.0 / max(rate_wpm, 1)


def max_duration_ms(text: str, rate_wpm: int) -> float:
    """The longest a complete clip of `text` may plausibly be at `rate_wpm`.

    Every letter the engine may spell counts as a word of its own (measured: 0.2-0.75 s
    per letter at 165 wpm, against 0.36 s per word), then 3x and 1.5 s of slack as for words.
    """
    units = count_words(text) + spelled_letters(text)
    return 3.0 * units * 60000.0 / max(rate_wpm, 1) + 1500.0


def duration_plausible(duration_ms: float, text: str, rate_wpm: int) -> bool:
    """Whether a clip's length fits its words and rate (40%..max_duration_ms).

    espeak-ng speaks 80-95% of the nominal rate on sentences and pads one word to ~0.7 s;
    the check is there to catch clips that lost part of their audio or gained another's.
    """
    return not too_short(duration_ms, text, rate_wpm) and duration_ms <= max_duration_ms(
        text, rate_wpm
    )


def too_short(duration_ms: float, text: str, rate_wpm: int) -> bool:
    """Whether a clip is shorter than its words allow: part of its audio is missing."""
    return duration_ms < 0.4 * expected_duration_ms(text, rate_wpm) - 300.0


@dataclass(frozen=True)
class WavInfo:
    frames: int
    duration_ms: int


def read_wav(wav_path: Path) -> WavInfo:
    """Read and check a clip's WAV; ValueError if it is not 22050 Hz 16-bit mono with audio."""
    try:
        with wave.open(str(wav_path), "rb") as wav:
            params = wav.getparams()
            frames = wav.getnframes()
            data = wav.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise ValueError(f"unreadable WAV: {exc}") from exc
    if (params.nchannels, params.sampwidth, params.framerate) != (
        CHANNELS,
        SAMPLE_WIDTH_BYTES,
        SAMPLE_RATE_HZ,
    ):
        raise ValueError(
            f"WAV is {params.framerate} Hz, {8 * params.sampwidth}-bit, "
            f"{params.nchannels} channel(s); expected 22050 Hz 16-bit mono"
        )
    if frames == 0:
        raise ValueError("WAV has no audio (header only)")
    if len(data) != frames * SAMPLE_WIDTH_BYTES:
        raise ValueError("WAV is truncated")
    return WavInfo(frames=frames, duration_ms=round(frames * 1000 / SAMPLE_RATE_HZ))


def write_wav(wav_path: Path, pcm: bytes) -> None:
    """Write 16-bit mono PCM at 22050 Hz as a WAV file."""
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH_BYTES)
        wav.setframerate(SAMPLE_RATE_HZ)
        wav.writeframes(pcm)
