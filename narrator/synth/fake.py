"""A deterministic stand-in for the speech engine, so the whole pipeline runs without espeak-ng.

Input: text + VoiceSettings; output: a WAV holding a tone whose length follows the words and
the rate (words * 60000 / rate_wpm ms, at least 150 ms) and whose pitch follows the voice.

FaultyEngine ("fake-faulty") is for tests of the worker pool only: markers in the text make
it misbehave. `[hang]` sleeps for an hour, `[crash]` kills its process, `[raise]` raises,
`[empty]` writes a header-only WAV, `[short]` writes a tenth of the audio, `[long]` half as
much again as the most its words could need (complete but long), `[callback]` fails
with "No space left on device" inside a C callback (as pyttsx3 does on a full disk),
`[refuse]` raises EngineError (a user-facing error, not retried). A count such as
`[crash*2]` misbehaves only on the first two attempts at that text; the attempts are counted
in files under $NARRATOR_FAKE_FAULT_DIR (without it, the marker always misbehaves). Braces
work as brackets do (`{long}`): they survive the script's markup removal in whole renders.
$NARRATOR_FAKE_START_FAULT set to "crash" or "missing" makes the engine fail to start.

Both keep a `history` of what they were asked to speak (text and voice), as simonw/llm's
fake model does, so tests can assert which lines were synthesized. Engines live in worker
processes: with $NARRATOR_FAKE_HISTORY naming a file, every request is also appended to it
as a JSON line, and `read_history` gives them back in the parent.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import math
import os
import re
import struct
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from narrator.errors import EngineError, ToolMissingError
from narrator.model import VoiceSettings
from narrator.synth.base import SAMPLE_RATE_HZ, count_words, max_duration_ms, write_wav

MIN_DURATION_MS = 150
FAULT_DIR_ENV = "NARRATOR_FAKE_FAULT_DIR"
START_FAULT_ENV = "NARRATOR_FAKE_START_FAULT"
HISTORY_ENV = "NARRATOR_FAKE_HISTORY"

# Names in the style of espeak-ng, so voice profiles written for espeak work with the fake.
# A few voices for other scripts let tests see a line's language found or missing.
_BASES = (
    "gmw/en", "gmw/en-gb-scotland", "gmw/en-gb-x-rp", "gmw/en-us", "roa/fr", "gmw/de",
    "grk/el", "zle/ru", "sit/cmn",
)  # fmt: skip
_VARIANTS = tuple(f"+{v}" for v in ("f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m7"))


def tone_pcm(duration_ms: float, voice: VoiceSettings) -> bytes:
    """A sine tone for `voice`: frequency from its pitch and name, amplitude from its volume."""
    frames = max(1, round(duration_ms * SAMPLE_RATE_HZ / 1000))
    # A whole number of samples per period lets one period be repeated instead of computed.
    frequency_hz = 100.0 + 4.0 * voice.pitch + zlib.crc32(voice.engine_voice.encode()) % 60
    period = max(2, round(SAMPLE_RATE_HZ / frequency_hz))
    amplitude = max(0.0, min(voice.volume, 1.0)) * 12000
    one_period = struct.pack(
        f"<{period}h",
        *(round(amplitude * math.sin(2 * math.pi * i / period)) for i in range(period)),
    )
    repeats = frames // period + 1
    return (one_period * repeats)[: frames * 2]


@dataclass(frozen=True)
class Request:
    """One line the fake engine was asked to speak."""

    text: str
    voice: VoiceSettings


def read_history(history_path: Path) -> list[Request]:
    """The requests fake engines appended to `history_path` ($NARRATOR_FAKE_HISTORY)."""
    if not history_path.exists():
        return []
    rows = [json.loads(row) for row in history_path.read_text("utf-8").splitlines()]
    return [Request(row["text"], VoiceSettings(**row["voice"])) for row in rows]


class FakeEngine:
    """Writes tones instead of speech; accepts any voice name; remembers what it was asked."""

    checks_voices = False  # it speaks any voice as a tone

    id = "fake-1"

    def __init__(self) -> None:
        self.history: list[Request] = []

    @classmethod
    def identify(cls) -> str:
        return cls.id

    @classmethod
    def check(cls) -> None:
        return None

    def voices(self) -> list[str]:
        return [*_BASES, *_VARIANTS]

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        self._remember(text, voice)
        self._speak(text, voice, wav_path)

    def _speak(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        if not text.strip():
            raise EngineError("cannot speak an empty line")
        duration_ms = max(
            float(MIN_DURATION_MS), count_words(text) * 60000.0 / max(voice.rate_wpm, 1)
        )
        write_wav(wav_path, tone_pcm(duration_ms, voice))

    def _remember(self, text: str, voice: VoiceSettings) -> None:
        request = Request(text, voice)
        self.history.append(request)
        history_path = os.environ.get(HISTORY_ENV)
        if history_path:
            row = json.dumps({"text": text, "voice": asdict(voice)}) + "\n"
            # One write in append mode: lines from several workers do not interleave.
            fd = os.open(history_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, row.encode("utf-8"))
            finally:
                os.close(fd)


_FAULT_RE = re.compile(r"[\[{](hang|crash|raise|refuse|empty|short|long|callback)(?:\*(\d+))?[\]}]")


def _should_misbehave(text: str, fault: str, times: str | None) -> bool:
    if times is None:
        return True
    fault_dir = os.environ.get(FAULT_DIR_ENV)
    if not fault_dir:
        return True
    name = hashlib.sha256(f"{fault}\0{text}".encode()).hexdigest()[:20]
    counter_path = Path(fault_dir) / name
    seen = int(counter_path.read_text()) if counter_path.exists() else 0
    counter_path.write_text(str(seen + 1))
    return seen < int(times)


def _disk_full() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FaultyEngine(FakeEngine):
    """The fake engine with misbehaviour on demand (see the module docstring); tests only."""

    id = "fake-faulty-1"

    def __init__(self) -> None:
        super().__init__()
        start_fault = os.environ.get(START_FAULT_ENV)
        if start_fault == "crash":
            raise RuntimeError("the fake engine would not start")
        if start_fault == "missing":
            raise ToolMissingError("fake-tool is not installed: apt-get install fake-tool")

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        self._remember(text, voice)
        match = _FAULT_RE.search(text)
        if match is None or not _should_misbehave(text, match[1], match[2]):
            self._speak(text, voice, wav_path)
            return
        fault = match[1]
        if fault == "hang":
            time.sleep(3600)
        elif fault == "crash":
            os._exit(17)
        elif fault == "raise":
            raise RuntimeError("the fake engine failed on purpose")
        elif fault == "refuse":
            raise EngineError("the fake engine refuses this line")
        elif fault == "empty":
            write_wav(wav_path, b"")
        elif fault == "short":
            duration_ms = count_words(text) * 60000.0 / max(voice.rate_wpm, 1)
            write_wav(wav_path, tone_pcm(duration_ms / 10, voice))
        elif fault == "callback":
            ctypes.CFUNCTYPE(None)(_disk_full)()  # Python reports it as "unraisable"
            self._speak(text, voice, wav_path)
        elif fault == "long":
            write_wav(wav_path, tone_pcm(1.5 * max_duration_ms(text, voice.rate_wpm), voice))
