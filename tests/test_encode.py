"""Tests for narrator.encode: the fake encoder, which stands in for ffmpeg in pipeline tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from narrator.audio_format import wav_duration_ms
from narrator.encode import FakeEncoder, read_fake_tags
from narrator.errors import OutputError
from narrator.master import Mastering
from narrator.model import Tags, VoiceSettings
from narrator.synth.base import write_wav
from narrator.synth.fake import tone_pcm

VOICE = VoiceSettings("gmw/en", 160, 50, 0.8)


def _wav(path: Path, ms: int) -> Path:
    write_wav(path, tone_pcm(ms, VOICE))
    return path


def test_the_fake_mp3_is_the_wav_with_its_tags_beside_it(tmp_path: Path) -> None:
    wav = _wav(tmp_path / "ch.wav", 1200)
    mp3, part = tmp_path / "01.mp3", tmp_path / "parts" / "01.m4a"
    tags = Tags("One", "Book", track=1, track_total=2, cover=b"\x89PNG...")
    ms = FakeEncoder().encode_mp3(wav, mp3, tags, 48, m4b_part=part, mastering=Mastering(3.0))
    assert ms == 1200 == wav_duration_ms(mp3) == wav_duration_ms(part)
    assert mp3.read_bytes() == wav.read_bytes()
    written = read_fake_tags(mp3)
    assert (written["title"], written["track"], written["bitrate_kbps"]) == ("One", 1, 48)
    assert written["cover"] != "\x89PNG..." and len(str(written["cover"])) == 64  # its hash
    FakeEncoder().retag_mp3(mp3, Tags("One", "Book", track=1, track_total=3))
    assert read_fake_tags(mp3)["track_total"] == 3 and mp3.read_bytes() == wav.read_bytes()


def test_the_fake_m4b_joins_the_parts_with_a_chapter_each(tmp_path: Path) -> None:
    parts = [(_wav(tmp_path / f"{n}.wav", ms), f"Chapter {n}") for n, ms in ((1, 700), (2, 450))]
    m4b = tmp_path / "book.m4b"
    chapters = FakeEncoder().join_m4b(parts, m4b, Tags("Book", "Book"))
    assert chapters == [("Chapter 1", 0, 700), ("Chapter 2", 700, 1150)]
    assert wav_duration_ms(m4b) == 1150
    assert read_fake_tags(m4b)["chapters"] == [list(c) for c in chapters]
    with pytest.raises(OutputError, match="no chapters"):
        FakeEncoder().join_m4b([], tmp_path / "empty.m4b", Tags("Book", "Book"))


def test_the_fake_loudness_check_measures_the_wav(tmp_path: Path) -> None:
    loud = FakeEncoder().measure_loudness(_wav(tmp_path / "loud.wav", 2000))
    quiet_voice = VoiceSettings("gmw/en", 160, 50, 0.1)
    quiet_path = tmp_path / "quiet.wav"
    write_wav(quiet_path, tone_pcm(2000, quiet_voice))
    quiet = FakeEncoder().measure_loudness(quiet_path)
    assert quiet.integrated_lufs < loud.integrated_lufs - 15
    # The tone's peak: 0.8 of the fake engine's 12000 out of 32768 (sampled, so a little under).
    assert loud.true_peak_dbtp == pytest.approx(20 * math.log10(9600 / 32768), abs=0.05)
