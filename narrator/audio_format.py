"""The audio format between stages: clips and stitched chapters are 22050 Hz, 16-bit, mono PCM WAVs.

Engines write it, the stitcher joins it, the encoders read it: one place says what it is.
"""

from __future__ import annotations

import wave
from pathlib import Path

SAMPLE_RATE_HZ = 22050  # espeak-ng's own rate: nothing is resampled before encoding
SAMPLE_WIDTH_BYTES = 2  # 16-bit
CHANNELS = 1


def wav_duration_ms(wav_path: Path) -> int:
    """The length of a PCM WAV file in ms, from its header."""
    with wave.open(str(wav_path), "rb") as wav:
        return round(wav.getnframes() * 1000 / wav.getframerate())
