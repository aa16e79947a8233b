"""Tests for narrator.master: the loudness estimate, the mastering gain and limiter, the check."""

from __future__ import annotations

import array
import math
import random
import subprocess
import wave
from pathlib import Path

import pytest

from narrator.audio_format import SAMPLE_RATE_HZ as SAMPLE_RATE
from narrator.ffmpeg import (
    encode_m4b_part,
    encode_mp3,
    ffmpeg_filter,
    measure_loudness,
    probe_duration_ms,
)
from narrator.master import (
    LIMIT_DBFS,
    LIMITER_MAKEUP_DB,
    LoudnessCheck,
    LoudnessMeter,
    Mastering,
    mastering_for,
    peak_dbfs,
)
from narrator.model import Clip, Line, Tags, VoiceSettings
from narrator.stitch import stitch_chapter

SETTINGS = VoiceSettings("gmw/en", 160, 50, 1.0)


def tone(seconds: float, amplitude: float, freq: float = 1000.0) -> bytes:
    frames = round(seconds * SAMPLE_RATE)
    return array.array(
        "h",
        (round(amplitude * math.sin(2 * math.pi * freq * i / SAMPLE_RATE)) for i in range(frames)),
    ).tobytes()


def speechlike_wav(path: Path, seconds: float, seed: int, level: float) -> Path:
    """Harmonics of a wandering 100-200 Hz pitch in syllable-like bursts, with sharp peaks:
    a crest factor like espeak-ng's (~20 dB), so the limiter has work to do."""
    rng = random.Random(seed)
    samples = array.array("h")
    phase = 0.0
    f0 = 120.0
    for i in range(round(seconds * SAMPLE_RATE)):
        if i % 2205 == 0:
            f0 = rng.uniform(100.0, 200.0)
        phase += 2 * math.pi * f0 / SAMPLE_RATE
        syllable = max(0.0, math.sin(2 * math.pi * 4 * i / SAMPLE_RATE)) ** 2
        value = sum(math.sin(k * phase) / k for k in range(1, 8)) * syllable * level
        if i % 20000 < 3:  # a plosive-like click
            value = min(32000.0, 8 * level) * (1 if i % 2 else -1)
        samples.append(max(-32767, min(32767, round(value))))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return path


def line(index: int, gain_db: float, weighting_db: float) -> Line:
    return Line(index, "words", "words", "Narrator", "v", SETTINGS, gain_db, 400, weighting_db)


def measured_weighting_db(path: Path) -> float:
    """K-weighted loudness minus the meter's plain estimate, as bench/measure_voices.py
    measures it for each voice profile."""
    meter = LoudnessMeter(SAMPLE_RATE)
    with wave.open(str(path), "rb") as wav:
        meter.add(wav.readframes(wav.getnframes()))
    estimate = meter.loudness_lufs()
    assert estimate is not None
    return measure_loudness(path).integrated_lufs - estimate


def test_meter_gates_silence_and_quiet_blocks() -> None:
    meter = LoudnessMeter(SAMPLE_RATE)
    meter.add(tone(2.0, 16384))
    alone = meter.loudness_lufs()
    meter.add(bytes(2 * SAMPLE_RATE * 10))  # ten seconds of silence: below the absolute gate
    meter.add(tone(2.0, 16384 * 10 ** (-30 / 20)))  # 30 dB quieter: below the relative gate
    assert alone == pytest.approx(-3.01 - 6.02 - 0.69, abs=0.05)
    assert meter.loudness_lufs() == pytest.approx(alone, abs=0.05)
    assert LoudnessMeter(SAMPLE_RATE).loudness_lufs() is None


def test_mastering_gain_and_filter() -> None:
    assert mastering_for(-27.4, -20.0) == Mastering(7.4 + LIMITER_MAKEUP_DB)
    assert mastering_for(None, -20.0) == Mastering(0.0)
    chain = ffmpeg_filter(Mastering(7.4, limit_dbfs=-4.0), 22050)
    assert chain.startswith("volume=7.40dB,aresample=44100,alimiter=limit=0.6310:")
    assert chain.endswith(",aresample=22050")  # the limiter sees twice the samples
    assert "latency=1" in chain  # cues keep their times


def test_check_reports_what_misses() -> None:
    assert LoudnessCheck(-20.4, -3.5).problems(-20.0) == []
    assert LoudnessCheck(-21.6, -2.1).problems(-20.0) == [
        "loudness -21.6 LUFS, target -20 +/- 1",
        "true peak -2.1 dBTP, above -3",
    ]


@pytest.mark.ffmpeg
@pytest.mark.parametrize("target", [-20.0, -23.0])
def test_mastered_chapter_meets_loudness_and_true_peak(tmp_path: Path, target: float) -> None:
    # Three voices at different levels, evened out by their gains (as calibrated profiles
    # are), with clicks 18 dB over the speech, stitched and encoded as
    # the pipeline does: the MP3 and the M4B part land on the target with peaks <= -3 dBTP.
    clips, lines = [], []
    weighting_db = measured_weighting_db(speechlike_wav(tmp_path / "w.wav", 5, seed=9, level=3000))
    for i, (level, gain_db) in enumerate([(3000, 0.0), (6000, -6.0), (1500, 6.0)] * 2):
        path = speechlike_wav(tmp_path / f"c{i}.wav", 2.5, seed=i, level=level)
        clips.append(Clip(f"k{i}", path, 2500))
        lines.append(line(i, gain_db, weighting_db))
    wav_path = tmp_path / "chapter.wav"
    stitched = stitch_chapter(clips, lines, wav_path)
    with wave.open(str(wav_path), "rb") as wav:
        assert peak_dbfs(wav.readframes(wav.getnframes())) < 0
    mp3_path, part_path = tmp_path / "chapter.mp3", tmp_path / "part.m4a"
    mastering = mastering_for(stitched.loudness_lufs, target)
    encode_mp3(wav_path, mp3_path, Tags("T", "A"), m4b_part=part_path, mastering=mastering)
    for path in (mp3_path, part_path):
        check = measure_loudness(path)
        assert check.integrated_lufs == pytest.approx(target, abs=1.0), path
        assert check.true_peak_dbtp <= -3.0, path
    # The limiter's look-ahead is compensated: the audio neither grows nor shifts.
    assert abs(probe_duration_ms(mp3_path) - probe_duration_ms(wav_path)) <= 60


@pytest.mark.ffmpeg
def test_peaks_between_samples_are_limited_too(tmp_path: Path) -> None:
    # espeak-ng's clips carry energy near the Nyquist frequency, where the wave between two
    # samples rises above both: limiting the samples at -4 dBFS let true peaks reach -3.3
    # dBTP (bench/sound.py). A tone at a quarter of the sample rate, sampled 45 degrees off
    # its crests, is the extreme case: every sample 3 dB below the peaks between them.
    amplitude = 0.5 * 32767  # samples at -9 dBFS, true peaks at -6
    samples = array.array("h")
    for i in range(3 * SAMPLE_RATE):
        burst = 1.0 if (i // (SAMPLE_RATE // 4)) % 2 else 0.05  # loud and quiet quarter seconds
        samples.append(round(amplitude * burst * math.sin(math.pi * i / 2 + math.pi / 4)))
    wav_path = tmp_path / "nyquist.wav"
    with wave.open(str(wav_path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    mp3_path, part_path = tmp_path / "chapter.mp3", tmp_path / "part.m4a"
    mastering = Mastering(8.0)  # true peaks at +2 dBTP before the limiter
    encode_mp3(wav_path, mp3_path, Tags("T", "A"), m4b_part=part_path, mastering=mastering)
    # Limiting the samples alone left -1.3 dBTP here; coding adds up to 0.5 dB (AAC).
    for path in (mp3_path, part_path):
        assert measure_loudness(path).true_peak_dbtp <= LIMIT_DBFS + 0.5, path


@pytest.mark.ffmpeg
def test_an_m4b_part_from_an_mp3_is_mastered_at_the_mp3s_rate(tmp_path: Path) -> None:
    wav_path = speechlike_wav(tmp_path / "c.wav", 3.0, seed=2, level=4000)
    mp3_path, part_path = tmp_path / "c.mp3", tmp_path / "c.m4a"
    encode_mp3(wav_path, mp3_path, Tags("T", "A"), sample_rate_hz=16000)
    ms = encode_m4b_part(mp3_path, part_path, mastering=Mastering(6.0))
    assert abs(ms - 3000) <= 60
    assert measure_loudness(part_path).true_peak_dbtp <= LIMIT_DBFS + 0.5


@pytest.mark.ffmpeg
def test_acx_rate_and_bitrate(tmp_path: Path) -> None:
    wav_path = speechlike_wav(tmp_path / "c.wav", 2.0, seed=1, level=4000)
    mp3_path = tmp_path / "a.mp3"
    encode_mp3(
        wav_path, mp3_path, Tags("T", "A"), 192, mastering=Mastering(3.0), sample_rate_hz=44100
    )
    probe = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", "a:0"),
            *("-show_entries", "stream=sample_rate,bit_rate", "-of", "csv=p=0", str(mp3_path)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate, bitrate = probe.stdout.strip().split(",")
    assert (int(rate), int(bitrate)) == (44100, 192000)
