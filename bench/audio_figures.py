"""Measurements shared by the bench scripts: median pitch (F0) and words per minute of speech.

Pitch: autocorrelation on 40 ms frames every 10 ms; a frame is voiced when it is loud enough
(within 30 dB of the loudest frame) and its normalised autocorrelation peak in the 60-500 Hz
lag range is at least 0.5. The median over voiced frames is the voice's pitch. Octave errors
(the best peak at twice or three times the period) are reduced by taking the period's
divisor when its correlation reaches 85% of the best one. The window's own taper is divided
out of the autocorrelation, so longer lags are not penalised.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FRAME_MS = 40
HOP_MS = 10
F0_RANGE_HZ = (60.0, 500.0)
VOICED_CORRELATION = 0.5
VOICED_LEVEL_DB = -30.0
SUBHARMONIC_SHARE = 0.85


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV as floats in -1..1, with its sample rate."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0, rate


def frame_f0s(samples: np.ndarray, rate: int) -> list[float]:
    """F0 of each voiced frame, in Hz."""
    size = rate * FRAME_MS // 1000
    hop = rate * HOP_MS // 1000
    if len(samples) < size:
        return []
    starts = range(0, len(samples) - size, hop)
    energies = np.array([float(np.sum(samples[s : s + size] ** 2)) for s in starts])
    if not energies.size or energies.max() <= 0:
        return []
    floor = energies.max() * 10 ** (VOICED_LEVEL_DB / 10)
    low_lag = int(rate / F0_RANGE_HZ[1])
    high_lag = int(rate / F0_RANGE_HZ[0])
    window_corr = np.correlate(np.hanning(size), np.hanning(size), mode="full")[size - 1 :]
    taper = np.maximum(window_corr / window_corr[0], 0.05)
    found = []
    for start, energy in zip(starts, energies, strict=True):
        if energy < floor:
            continue
        frame = samples[start : start + size]
        frame = (frame - frame.mean()) * np.hanning(size)
        corr = np.correlate(frame, frame, mode="full")[size - 1 :]
        if corr[0] <= 0:
            continue
        corr = corr / corr[0] / taper
        window = corr[low_lag : min(high_lag, size - 1)]
        if not window.size:
            continue
        best = float(window.max())
        if best < VOICED_CORRELATION:
            continue
        lag = low_lag + int(np.argmax(window))
        # A multiple of the period correlates almost as well as the period itself: prefer
        # the shortest lag (the highest F0) that is nearly as good.
        for divisor in (4, 3, 2):
            short = round(lag / divisor)
            if short >= low_lag and _peak_near(corr, short) >= SUBHARMONIC_SHARE * best:
                lag = _peak_lag(corr, short)
                break
        found.append(rate / lag)
    return found


def _peak_lag(corr: np.ndarray, lag: int, reach: int = 2) -> int:
    """The lag of the highest correlation within `reach` of lag."""
    low = max(1, lag - reach)
    return low + int(np.argmax(corr[low : lag + reach + 1]))


def _peak_near(corr: np.ndarray, lag: int) -> float:
    return float(corr[_peak_lag(corr, lag)])


def median_f0_hz(samples: np.ndarray, rate: int) -> float | None:
    """The median F0 of the voiced frames, or None when there are none."""
    f0s = frame_f0s(samples, rate)
    return float(np.median(f0s)) if f0s else None


def semitones(a_hz: float, b_hz: float) -> float:
    """The distance between two pitches in semitones (always >= 0)."""
    return abs(12 * math.log2(a_hz / b_hz))


def words_per_minute(word_counts: Sequence[int], seconds: Sequence[float]) -> float:
    """Words per minute over several stretches of speech."""
    total = sum(seconds)
    return sum(word_counts) * 60 / total if total else 0.0
