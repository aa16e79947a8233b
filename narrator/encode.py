"""The encoder seam: stitched chapter WAVs + Tags -> MP3s, M4B parts, an M4B, loudness checks.

`Encoder` is to encoding what `narrator.synth.Engine` is to speech: the pipeline asks one
for its files and never calls ffmpeg itself. `FfmpegEncoder` is the real one (the default);
`FakeEncoder` copies the WAV where the audio file would go and writes its tags beside it as
JSON (`<file>.tags.json`), so whole renders run in tests without ffmpeg.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from narrator.audio_format import wav_duration_ms
from narrator.errors import InputError, OutputError
from narrator.export import MP3_BITRATE_KBPS
from narrator.ffmpeg import FfmpegEncoder
from narrator.files import atomic_path
from narrator.master import LoudnessCheck, LoudnessMeter, Mastering, peak_dbfs
from narrator.model import Tags


class Encoder(Protocol):
    """Writes the audio files of a render."""

    def check(self) -> None:
        """Raise ToolMissingError when the encoder cannot run on this machine."""
        ...

    def encode_mp3(
        self,
        wav_path: Path,
        mp3_path: Path,
        tags: Tags,
        bitrate_kbps: int = MP3_BITRATE_KBPS,
        *,
        m4b_part: Path | None = None,
        mastering: Mastering | None = None,
        sample_rate_hz: int | None = None,
    ) -> int:
        """A chapter WAV as a tagged MP3 (and its M4B part, if asked); the audio's ms."""
        ...

    def encode_m4b_part(
        self, wav_path: Path, part_path: Path, *, mastering: Mastering | None = None
    ) -> int:
        """A chapter WAV as an AAC part for `join_m4b`; its ms."""
        ...

    def retag_mp3(self, mp3_path: Path, tags: Tags) -> None:
        """New tags around an MP3's audio, which is kept as it is."""
        ...

    def join_m4b(
        self, parts: Sequence[tuple[Path, str]], m4b_path: Path, tags: Tags
    ) -> list[tuple[str, int, int]]:
        """Parts (path, chapter title) joined into one M4B; its chapters (title, start, end ms)."""
        ...

    def measure_loudness(self, path: Path) -> LoudnessCheck:
        """Integrated loudness and true peak of a file this encoder wrote."""
        ...


FFMPEG = FfmpegEncoder()  # the default


TAGS_SUFFIX = ".tags.json"


def fake_tags_path(audio_path: Path) -> Path:
    """Where FakeEncoder keeps the tags of a file it wrote."""
    return audio_path.with_name(audio_path.name + TAGS_SUFFIX)


def read_fake_tags(audio_path: Path) -> dict[str, object]:
    """The tags FakeEncoder wrote for `audio_path` (the cover as its SHA-256)."""
    loaded: dict[str, object] = json.loads(fake_tags_path(audio_path).read_text("utf-8"))
    return loaded


class FakeEncoder:
    """Copies WAVs instead of encoding them and writes the tags as JSON; needs no ffmpeg.

    Mastering is not applied (the copy is the stitched WAV); the M4B is the parts' WAV
    audio joined; loudness is measured on the WAV with narrator.master's meter.
    """

    def check(self) -> None:
        return None

    def encode_mp3(
        self,
        wav_path: Path,
        mp3_path: Path,
        tags: Tags,
        bitrate_kbps: int = MP3_BITRATE_KBPS,
        *,
        m4b_part: Path | None = None,
        mastering: Mastering | None = None,
        sample_rate_hz: int | None = None,
    ) -> int:
        _copy(wav_path, mp3_path)
        _write_tags(mp3_path, tags, bitrate_kbps=bitrate_kbps, sample_rate_hz=sample_rate_hz)
        if m4b_part is not None:
            _copy(wav_path, m4b_part)
        return wav_duration_ms(wav_path)

    def encode_m4b_part(
        self, wav_path: Path, part_path: Path, *, mastering: Mastering | None = None
    ) -> int:
        _copy(wav_path, part_path)
        return wav_duration_ms(wav_path)

    def retag_mp3(self, mp3_path: Path, tags: Tags) -> None:
        if not mp3_path.is_file():
            raise InputError(f"cannot read {mp3_path}: no such file")
        _write_tags(mp3_path, tags)

    def join_m4b(
        self, parts: Sequence[tuple[Path, str]], m4b_path: Path, tags: Tags
    ) -> list[tuple[str, int, int]]:
        if not parts:
            raise OutputError(f"cannot write {m4b_path}: no chapters to put in it")
        chapters: list[tuple[str, int, int]] = []
        start_ms = 0
        with atomic_path(m4b_path) as tmp_path, wave.open(str(tmp_path), "wb") as joined:
            for number, (path, title) in enumerate(parts):
                with wave.open(str(path), "rb") as part:
                    if number == 0:
                        joined.setparams(part.getparams())
                    frames = part.getnframes()
                    joined.writeframes(part.readframes(frames))
                    end_ms = start_ms + round(frames * 1000 / part.getframerate())
                chapters.append((title, start_ms, end_ms))
                start_ms = end_ms
        _write_tags(m4b_path, tags, chapters=chapters)
        return chapters

    def measure_loudness(self, path: Path) -> LoudnessCheck:
        with wave.open(str(path), "rb") as wav:
            meter = LoudnessMeter(wav.getframerate())
            pcm = wav.readframes(wav.getnframes())
        meter.add(pcm)
        return LoudnessCheck(meter.loudness_lufs() or -70.0, peak_dbfs(pcm))


def _copy(wav_path: Path, target: Path) -> None:
    with atomic_path(target) as tmp_path:
        shutil.copyfile(wav_path, tmp_path)


def _write_tags(audio_path: Path, tags: Tags, **extra: object) -> None:
    fields = dataclasses.asdict(tags)
    if tags.cover is not None:
        fields["cover"] = hashlib.sha256(tags.cover).hexdigest()
    with atomic_path(fake_tags_path(audio_path)) as tmp_path:
        tmp_path.write_text(json.dumps({**fields, **extra}, sort_keys=True, default=str), "utf-8")
