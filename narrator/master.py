"""Mastering: the stitched chapter's PCM -> its loudness estimate -> the gain and limiter the
encoder applies, and the check of what came out (integrated loudness, true peak).

Voices are placed at one level when stitching (voices.VOICE_LEVEL_LUFS, from each profile's
measured loudness), below full scale. While the stitcher writes, `LoudnessMeter` estimates the
chapter's integrated loudness from the same PCM (mean square per 400 ms block, raised by each
voice's measured K-weighting offset, gated as in ITU-R BS.1770), so no second pass over the
audio is needed. The encoder then applies `target - estimate` and a look-ahead limiter
(`ffmpeg_filter`) in the same ffmpeg run that writes the MP3 and the M4B part.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from narrator.audio_format import SAMPLE_WIDTH_BYTES

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # C speed for RMS and peaks; pydub needs it too (audioop-lts on 3.13+)

DEFAULT_LOUDNESS_LUFS = -20.0  # audiobook practice: -23..-18 dB RMS; -20 sits in the middle
LOUDNESS_RANGE_LUFS = (-30.0, -14.0)
# ACX asks for true peaks at or below -3 dBTP. espeak-ng's clips carry energy near the Nyquist
# frequency, where the wave rises between samples: limiting the samples at -4 dBFS let true
# peaks reach -3.3 dBTP (at -5 dBFS, -3.9 on The Call of the Wild's opening). So the limiter
# sees the chapter at OVERSAMPLING times its rate: the limited WAV's true peak then came within
# 0.1-0.3 dB of the limit. Coding adds more: MP3 up to 0.1 dB, the M4B's AAC at 16 kHz up to 0.5
# (limiting after the 16 kHz resampling did not help). At -4.5 dBFS: the chapter MP3s of
# thirteen texts -4.2 to -4.8 dBTP, their M4Bs -3.7 to -4.4 (bench/RESULTS.md, sound).
LIMIT_DBFS = -4.5
OVERSAMPLING = 2  # 4x: up to 0.3 dB more off the WAV, 0.1 at most after coding; twice the cost
TRUE_PEAK_MAX_DBTP = -3.0
# What the limiter takes off the loudness of espeak-ng speech raised to -20 LUFS (measured:
# -20.7 LUFS out for a -20.0 estimate on two webfic chapters with the limit at -4 dBFS, 0.2
# LU more at -4.5 oversampled; the estimate itself was within 0.05 LU of ebur128 on the
# stitched WAV), given back as extra gain before it.
LIMITER_MAKEUP_DB = 0.9
LIMITER_ATTACK_MS = 2  # short: speech onsets (plosives) are the peaks
LIMITER_RELEASE_MS = 40
# Part of every chapter's fingerprint: a change to how chapters are mastered re-renders them.
MASTERING_VERSION = 2
BLOCK_MS = 400  # BS.1770's gating block
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
FULL_SCALE = 32768.0


def lufs(power: float) -> float:
    """BS.1770 loudness of a mean-square power (full scale = 1.0)."""
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


class LoudnessMeter:
    """Estimates integrated loudness (LUFS) of 16-bit mono PCM fed to it piece by piece."""

    def __init__(self, sample_rate: int) -> None:
        self.block_frames = sample_rate * BLOCK_MS // 1000
        self._blocks: list[tuple[float, int]] = []  # (weighted mean square, frames)

    def add(self, pcm: bytes, weighting_db: float = 0.0) -> None:
        """Count a clip's samples; weighting_db is its voice's K-weighted minus plain level."""
        factor = 10 ** (weighting_db / 10)
        step = self.block_frames * SAMPLE_WIDTH_BYTES
        for start in range(0, len(pcm) - len(pcm) % SAMPLE_WIDTH_BYTES, step):
            block = pcm[start : start + step]
            rms = audioop.rms(block, SAMPLE_WIDTH_BYTES) / FULL_SCALE
            self._blocks.append((rms * rms * factor, len(block) // SAMPLE_WIDTH_BYTES))

    def loudness_lufs(self) -> float | None:
        """The gated loudness of everything added; None when nothing rose above the gate."""
        loud = [(p, n) for p, n in self._blocks if lufs(p) > ABSOLUTE_GATE_LUFS]
        if not loud:
            return None
        threshold = lufs(_mean(loud)) + RELATIVE_GATE_LU
        return lufs(_mean([(p, n) for p, n in loud if lufs(p) > threshold]))


def _mean(blocks: list[tuple[float, int]]) -> float:
    frames = sum(n for _, n in blocks)
    return sum(p * n for p, n in blocks) / frames


def peak_dbfs(pcm: bytes) -> float:
    """The highest sample of 16-bit PCM in dB below full scale."""
    peak = audioop.max(pcm, SAMPLE_WIDTH_BYTES) if pcm else 0
    return 20 * math.log10(peak / FULL_SCALE) if peak else -math.inf


@dataclass(frozen=True)
class Mastering:
    """What the encoder does to a stitched chapter: a gain, then a limiter."""

    gain_db: float
    limit_dbfs: float = LIMIT_DBFS


def mastering_for(estimate_lufs: float | None, target_lufs: float) -> Mastering:
    """The gain that brings a chapter estimated at `estimate_lufs` to `target_lufs`."""
    if estimate_lufs is None:  # silence: nothing to bring up
        return Mastering(0.0)
    return Mastering(round(target_lufs - estimate_lufs + LIMITER_MAKEUP_DB, 2))


@dataclass(frozen=True)
class LoudnessCheck:
    """What ffmpeg's ebur128 filter measured on a finished file."""

    integrated_lufs: float
    true_peak_dbtp: float

    def problems(self, target_lufs: float, tolerance_lu: float = 1.0) -> list[str]:
        """What misses the targets (loudness within tolerance, true peak <= -3 dBTP)."""
        found = []
        if abs(self.integrated_lufs - target_lufs) > tolerance_lu:
            found.append(
                f"loudness {self.integrated_lufs:.1f} LUFS, target {target_lufs:g} +/- "
                f"{tolerance_lu:g}"
            )
        if self.true_peak_dbtp > TRUE_PEAK_MAX_DBTP:
            found.append(f"true peak {self.true_peak_dbtp:.1f} dBTP, above {TRUE_PEAK_MAX_DBTP:g}")
        return found
