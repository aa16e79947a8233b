"""The espeak-ng engine through pyttsx3: the only module that imports pyttsx3.

Input: text + VoiceSettings; output: a 22050 Hz 16-bit mono WAV.
Run it only as it held up in 300- and 500-clip runs (docs in shared tts-facts): one engine per
process and no threads of ours touching it (the pool's spawn workers), one save_to_file per
runAndWait, then wait for the finished-utterance event with a timeout, with pyttsx3's
"Audio saved to" print swallowed. A fresh engine speaks a warm-up line first, because its
first runAndWait can return before the file is written.
A stretch of a line in another script is spoken by that language's voice (synth/language.py),
each stretch its own utterance, joined as PCM.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import io
import itertools
import os
import re
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

from narrator.errors import ConfigError, EngineError, ToolMissingError
from narrator.load.markup import unwrap_tags
from narrator.model import VoiceSettings
from narrator.synth.base import count_words, split_voice, write_wav
from narrator.synth.language import (
    ends_clause,
    language_stretches,
    stretch_settings,
    trim_switch_pause,
)
from narrator.synth.pace import pace_factor

_INSTALL_HINT = "espeak-ng is not installed: apt-get install espeak-ng"
# The names pyttsx3's own loader tries on Linux and macOS.
_LIBRARY_NAMES = (
    "libespeak-ng.so.1",
    "/usr/local/lib/libespeak-ng.so.1",
    "/opt/homebrew/lib/libespeak-ng.1.dylib",
    "/usr/local/lib/libespeak-ng.1.dylib",
)
_WARM_UP_TEXT = "Ready."
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# espeak-ng speaks faster than its rate setting: words per minute measured inside trimmed
# sentence clips (`bench/measure_voices.py --rates`, six voices averaged; they differ by +-4%)
# against the setting. Pairs of (real wpm, espeak-ng rate), interpolated linearly, extended
# along the end slopes; espeak-ng itself does not go below a setting of 80 (~103 real wpm).
_RATE_CALIBRATION = ((102.9, 80), (146.3, 120), (195.8, 160), (245.8, 200), (366.4, 300))
_ESPEAK_MIN_RATE = 80
# Part of the engine id, so clips rendered before the calibration (or under another one)
# are not reused from the cache. 2: each clip's rate also follows its text (synth/pace.py).
_RATE_CALIBRATION_ID = "rate-cal-2"


def engine_rate(rate_wpm: float) -> int:
    """The espeak-ng rate setting that speaks `rate_wpm` real words per minute."""
    table = _RATE_CALIBRATION
    if rate_wpm <= table[0][0]:
        (x0, y0), (x1, y1) = table[0], table[1]
    elif rate_wpm >= table[-1][0]:
        (x0, y0), (x1, y1) = table[-2], table[-1]
    else:
        (x0, y0), (x1, y1) = next(
            (a, b) for a, b in itertools.pairwise(table) if a[0] <= rate_wpm <= b[0]
        )
    setting = y0 + (rate_wpm - x0) * (y1 - y0) / (x1 - x0)
    return max(_ESPEAK_MIN_RATE, round(setting))


def clip_rate(text: str, rate_wpm: float) -> int:
    """The espeak-ng rate setting that speaks this `text` at `rate_wpm` real words per minute
    (the calibration holds for the reference text; pace_factor adjusts it for this one)."""
    return engine_rate(rate_wpm * pace_factor(text))


def _load_library() -> ctypes.CDLL:
    for name in _LIBRARY_NAMES:
        with contextlib.suppress(OSError):
            return ctypes.CDLL(name)
    raise ToolMissingError(_INSTALL_HINT)


def _library_version() -> str:
    info = _load_library().espeak_Info
    info.restype = ctypes.c_char_p
    version: bytes | None = info(None)
    return version.decode("ascii", "replace") if version else "unknown"


def clean_text(text: str) -> str:
    """What espeak-ng is given: no tags, no control characters, single spaces."""
    # Markup is read aloud ("less than b greater than"): tags go, bracketed words stay.
    text = unwrap_tags(text)
    text = _CONTROL_RE.sub(" ", text)
    return " ".join(text.split())


_SENTENCE_END_RE = re.compile(r"(?<=[.!?;:])\s+")
_CLAUSE_END_RE = re.compile(r"(?<=[,\u2014])\s+")
MAX_PIECE_WORDS = 120


def split_long_text(text: str, max_words: int = MAX_PIECE_WORDS) -> list[str]:
    """Cut a long text into pieces of at most about `max_words` words, at sentence ends
    where possible, then at commas, then between words; short texts stay whole."""
    if len(text.split()) <= max_words:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    current_words = 0
    for sentence in _split_to_fit(text, max_words):
        words = len(sentence.split())
        if current and current_words + words > max_words:
            pieces.append(" ".join(current))
            current, current_words = [], 0
        current.append(sentence)
        current_words += words
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_to_fit(text: str, max_words: int) -> list[str]:
    parts: list[str] = []
    for sentence in _SENTENCE_END_RE.split(text):
        if len(sentence.split()) <= max_words:
            parts.append(sentence)
            continue
        for clause in _CLAUSE_END_RE.split(sentence):
            words = clause.split()
            parts.extend(
                " ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)
            )
    return [part for part in parts if part.strip()]


_DATA_HINT = (
    "espeak-ng cannot read its voice data{where}: apt-get install --reinstall espeak-ng-data"
)


def _check_data() -> None:
    """ToolMissingError when espeak-ng's data folder is missing (pyttsx3 would just exit(1))."""
    library = _load_library()
    library.espeak_ng_InitializePath(None)  # $ESPEAK_DATA_PATH, else the built-in folder
    saved_stderr = os.dup(2)  # espeak-ng prints its own message; ours is the one shown
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        status = library.espeak_ng_Initialize(None)
        # pyttsx3 initialises again; on top of this one, it would stop after one clip.
        library.espeak_ng_Terminate()
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    if status != 0:
        configured = os.environ.get("ESPEAK_DATA_PATH")
        where = f" (ESPEAK_DATA_PATH={configured})" if configured else ""
        raise ToolMissingError(_DATA_HINT.format(where=where))


def _no_cancel() -> None:
    return None


class EspeakEngine:
    """One pyttsx3 engine; create at most one per process, and never in the pool's parent."""

    checks_voices = True

    @classmethod
    def identify(cls) -> str:
        try:
            pyttsx3_version = importlib.metadata.version("pyttsx3")
        except importlib.metadata.PackageNotFoundError as exc:
            raise ToolMissingError("pyttsx3 is not installed: pip install pyttsx3") from exc
        return f"pyttsx3-{pyttsx3_version}/espeak-ng-{_library_version()}/{_RATE_CALIBRATION_ID}"

    @classmethod
    def check(cls) -> None:
        cls.identify()

    def __init__(self) -> None:
        self.id = self.identify()
        _check_data()
        try:
            import pyttsx3  # here, not at the top: it loads libespeak-ng; workers only

            self._engine: Any = pyttsx3.init("espeak")
        except (ImportError, OSError, RuntimeError) as exc:
            raise ToolMissingError(_INSTALL_HINT) from exc
        # Called from espeak's own thread; an Event is the safe way to hand the news over.
        self._finished = threading.Event()
        self._errors: list[BaseException] = []
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", self._on_error)
        from pyttsx3.drivers import _espeak

        self._espeak: Any = _espeak
        # runAndWait calls the driver's stop(), which calls espeak_Cancel whenever espeak-ng's
        # thread looks busy, and that cancels the rate/pitch changes just queued or the new
        # utterance itself (a header-only WAV, or a clip at the previous rate). Waiting for
        # espeak_IsPlaying() to read 0 is not enough: a queued command reads as idle until
        # espeak-ng's thread picks it up. We never cancel (a hung engine is killed with its
        # process), so the driver's stop is made a no-op.
        self._engine.proxy._driver.stop = _no_cancel
        self._bases, self._variants = self._list_voices()
        with tempfile.TemporaryDirectory(prefix="narrator-warm-up-") as tmp_dir:
            warm_up = VoiceSettings(engine_voice="gmw/en", rate_wpm=175, pitch=50, volume=1.0)
            self.synthesize(_WARM_UP_TEXT, warm_up, Path(tmp_dir) / "warm-up.wav")

    def _on_finished(self, name: object = None, completed: object = True) -> None:
        if not completed:
            self._errors.append(RuntimeError("the utterance was cancelled"))
        self._finished.set()

    def _wait_until_idle(self, timeout_s: float) -> None:
        # espeak-ng runs parameter changes and synthesis on its own thread; starting the next
        # utterance while it is still busy is what made pyttsx3 cancel (see __init__).
        deadline = time.monotonic() + timeout_s
        while self._espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise RuntimeError(f"espeak-ng still busy after {timeout_s:.0f} s")
            time.sleep(0.001)

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        self._errors.append(exception or RuntimeError("unknown pyttsx3 error"))

    def _list_voices(self) -> tuple[list[str], list[str]]:
        bases = sorted({str(v.id) for v in self._engine.getProperty("voices")})
        spec = self._espeak.VOICE()
        spec.languages = b"variant"
        variants = set()
        for voice in self._espeak.ListVoices(spec):
            # identifier is "!v/<file>"; the file name is what "+<variant>" looks up.
            name = voice.identifier.decode("utf-8", "replace").rsplit("/", 1)[-1]
            if name and " " not in name:
                variants.add(name)
        return bases, sorted(variants)

    def voices(self) -> list[str]:
        return [*self._bases, *(f"+{v}" for v in self._variants)]

    def _check_voice(self, engine_voice: str) -> None:
        # espeak-ng silently keeps the previous voice when given an unknown one.
        base, variant = split_voice(engine_voice)
        if base not in self._bases or (variant and variant not in self._variants):
            raise ConfigError(
                f"unknown engine voice {engine_voice!r}: `narrator voices` lists the installed ones"
            )

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        spoken = clean_text(text)
        if not spoken:
            raise EngineError("cannot speak an empty line")
        self._check_voice(voice.engine_voice)
        # A stretch in another script is spoken by that language's voice (language.py);
        # neighbours spoken by the same voice stay one utterance.
        runs: list[tuple[str, VoiceSettings]] = []
        for stretch in language_stretches(spoken):
            settings = stretch_settings(voice, stretch.language, self._bases)
            if runs and runs[-1][1] == settings:
                runs[-1] = (runs[-1][0] + stretch.text, settings)
            else:
                runs.append((stretch.text, settings))
        pieces = [
            (piece, settings)
            for text_run, settings in runs
            if text_run.strip()
            for piece in split_long_text(text_run.strip())
        ]
        if len(pieces) == 1:
            self._speak(pieces[0][0], pieces[0][1], wav_path)
            return
        # pyttsx3 grows its audio buffer by copying (quadratic): 3700 words took 62 s in
        # one utterance. Pieces of a sentence or so, joined as PCM, take linear time.
        pcm = bytearray()
        with tempfile.TemporaryDirectory(dir=wav_path.parent, prefix=".pieces-") as tmp_dir:
            for number, (piece, settings) in enumerate(pieces):
                piece_path = Path(tmp_dir) / f"{number}.wav"
                self._speak(piece, settings, piece_path)
                with wave.open(str(piece_path), "rb") as piece_wav:
                    frames = piece_wav.readframes(piece_wav.getnframes())
                following = pieces[number + 1][1] if number + 1 < len(pieces) else None
                if following not in (None, settings) and not ends_clause(piece):
                    frames = trim_switch_pause(frames)  # `said Анна`: no gap before the name
                pcm += frames
        write_wav(wav_path, bytes(pcm))

    def _speak(self, spoken: str, voice: VoiceSettings, wav_path: Path) -> None:
        timeout_s = 10.0 + 0.02 * count_words(spoken)
        self._wait_until_idle(timeout_s)
        # Every property every time: getProperty returns wrong values for rate and pitch,
        # so there is nothing to compare against, and setting is cheap.
        self._engine.setProperty("voice", voice.engine_voice)
        self._engine.setProperty("rate", clip_rate(spoken, voice.rate_wpm))
        self._engine.setProperty("volume", float(voice.volume))
        self._engine.setProperty("pitch", int(voice.pitch))
        # espeak-ng queues parameter changes behind its own thread; see _wait_until_idle.
        self._wait_until_idle(timeout_s)
        self._finished.clear()
        self._errors.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            self._engine.save_to_file(spoken, str(wav_path))
            self._engine.runAndWait()
            finished = self._finished.wait(timeout_s)
        if finished:
            self._wait_until_idle(timeout_s)
        if self._errors:
            raise RuntimeError(f"pyttsx3 reported: {self._errors[0]}")
        if not finished:
            raise RuntimeError(f"no finished-utterance event after {timeout_s:.0f} s")
        if not wav_path.exists():
            raise RuntimeError("pyttsx3 wrote no file")
