"""Tests for narrator.ffmpeg: MP3 tags/cover/chapters, M4B parts and joins, durations, failures."""

from __future__ import annotations

import array
import json
import math
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from narrator import ffmpeg
from narrator.errors import InputError, OutputError, ToolMissingError
from narrator.ffmpeg import (
    M4B_SAMPLE_RATE,
    encode_m4b_part,
    encode_mp3,
    join_m4b,
    probe_duration_ms,
)
from narrator.model import Tags

RATE = 22050


def make_wav(
    path: Path, ms: int, *, rate: int = RATE, channels: int = 1, freq: float = 440.0
) -> Path:
    frames = round(ms * rate / 1000)
    samples = array.array("h")
    for i in range(frames):
        samples.extend([int(6000 * math.sin(2 * math.pi * freq * i / rate))] * channels)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def make_image(path: Path, codec: str) -> bytes:
    """A tiny cover made by ffmpeg (an original solid colour image)."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=teal:s=32x32:d=1"),
            *("-frames:v", "1", "-c:v", codec, "-y", str(path)),
        ],
        check=True,
    )
    return path.read_bytes()


def probe(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters"),
            *("-of", "json", str(path)),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.ffmpeg
def test_mp3_has_tags_cover_and_chapters(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 3000)
    cover = make_image(tmp_path / "cover.jpg", "mjpeg")
    tags = Tags(
        title="Chapter 2: Fish; Chips = Dinner \u2014 caf\u00e9 \u65e5\u672c",
        album="A Book # One",
        artist="Jo Writer",
        track=2,
        track_total=5,
        cover=cover,
        cover_mime="image/jpeg",
        chapters=(("Opening", 0, 1200), ("Close", 1200, 3000)),
    )
    out_dir = tmp_path / "out"
    duration_ms = encode_mp3(wav_path, out_dir / "02.mp3", tags)
    assert abs(duration_ms - 3000) <= 30
    info = probe(out_dir / "02.mp3")
    fmt = info["format"]
    assert fmt["format_name"] == "mp3"
    assert fmt["tags"]["title"] == tags.title
    assert fmt["tags"]["album"] == tags.album
    assert fmt["tags"]["artist"] == "Jo Writer"
    assert fmt["tags"]["track"] == "2/5"
    assert fmt["tags"]["genre"] == "Audiobook"
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert audio[0]["channels"] == 1
    assert abs(int(audio[0]["bit_rate"]) - 64000) <= 8000
    pictures = [s for s in info["streams"] if s["disposition"].get("attached_pic")]
    assert len(pictures) == 1
    assert pictures[0]["codec_name"] == "mjpeg"
    assert pictures[0]["tags"]["comment"] == "Cover (front)"
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == ["Opening", "Close"]
    assert [round(float(c["start_time"]) * 1000) for c in chapters] == [0, 1200]
    assert [round(float(c["end_time"]) * 1000) for c in chapters] == [1200, 3000]
    assert files_in(out_dir) == ["02.mp3"]


@pytest.mark.ffmpeg
@pytest.mark.ffmpeg
def test_awkward_relative_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A leading "-" would be an ffmpeg option, "x:" a protocol, "%" an image pattern.
    monkeypatch.chdir(tmp_path)
    make_wav(tmp_path / "-ch 1.wav", 400)
    cover = make_image(tmp_path / "c.png", "png")
    tags = Tags(title="T", album="A", cover=cover)
    ms = encode_mp3(Path("-ch 1.wav"), Path("concat:Part 1 100%.mp3"), tags)
    assert abs(ms - 400) <= 30
    build_m4b([(Path("concat:Part 1 100%.mp3"), "One")], Path("-arc.m4b"), tags)
    assert len(probe(tmp_path / "-arc.m4b")["chapters"]) == 1


@pytest.mark.ffmpeg
def test_gif_cover_is_stored_as_png(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 400)
    cover = make_image(tmp_path / "cover.gif", "gif")
    encode_mp3(wav_path, tmp_path / "a.mp3", Tags(title="T", album="A", cover=cover))
    pictures = [s for s in probe(tmp_path / "a.mp3")["streams"] if s["codec_type"] == "video"]
    assert [p["codec_name"] for p in pictures] == ["png"]


@pytest.mark.ffmpeg
def test_mp3_without_cover_or_chapters_and_other_bitrate(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 2000)
    encode_mp3(wav_path, tmp_path / "a.mp3", Tags(title="T", album="A"), bitrate_kbps=32)
    info = probe(tmp_path / "a.mp3")
    assert [s["codec_type"] for s in info["streams"]] == ["audio"]
    assert info["chapters"] == []
    assert "artist" not in info["format"]["tags"]
    assert "track" not in info["format"]["tags"]
    assert abs(int(info["streams"][0]["bit_rate"]) - 32000) <= 4000


@pytest.mark.ffmpeg
def test_mp3_png_cover(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 500)
    cover = make_image(tmp_path / "cover.png", "png")
    tags = Tags(title="T", album="A", cover=cover, cover_mime=None)  # kind sniffed from bytes
    encode_mp3(wav_path, tmp_path / "a.mp3", tags)
    pictures = [s for s in probe(tmp_path / "a.mp3")["streams"] if s["codec_type"] == "video"]
    assert [p["codec_name"] for p in pictures] == ["png"]


@pytest.mark.ffmpeg
def test_mp3_bad_input_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio at all")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "01.mp3").write_bytes(b"previous version")
    tags = Tags(title="T", album="A", cover=b"\x89PNG\r\n\x1a\nnot really", chapters=(("c", 0, 9),))
    with pytest.raises(OutputError, match=r"01\.mp3: ffmpeg: .+") as caught:
        encode_mp3(bad, out_dir / "01.mp3", tags)
    assert "\n" not in str(caught.value)
    # Old file kept, no temp/metadata/cover files left behind.
    assert (out_dir / "01.mp3").read_bytes() == b"previous version"
    assert files_in(out_dir) == ["01.mp3"]


def test_ffmpeg_failure_mid_encode_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 300)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def failing_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        Path(cmd[-1].removeprefix("file:")).write_bytes(
            b"half an mp3"
        )  # ffmpeg got some way before dying
        stderr = b"some progress\n[libmp3lame] Error: No space left on device\n"
        return subprocess.CompletedProcess(cmd, 1, b"", stderr)

    monkeypatch.setattr(ffmpeg.subprocess, "run", failing_run)
    monkeypatch.setattr(ffmpeg.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(OutputError, match=r"01\.mp3: ffmpeg: .*No space left on device$"):
        encode_mp3(wav_path, out_dir / "01.mp3", Tags(title="T", album="A"))
    assert files_in(out_dir) == []


def test_missing_ffmpeg_is_a_tool_missing_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 300)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(ToolMissingError, match=r"ffmpeg is not installed: apt-get install ffmpeg"):
        encode_mp3(wav_path, tmp_path / "out" / "01.mp3", Tags(title="T", album="A"))
    assert files_in(tmp_path / "out") == []


def test_mp3_output_that_is_a_folder(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 300)
    (tmp_path / "01.mp3").mkdir()
    with pytest.raises(OutputError, match=r"01\.mp3.*folder"):
        encode_mp3(wav_path, tmp_path / "01.mp3", Tags(title="T", album="A"))


def test_mp3_output_folder_that_is_a_file(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "ch.wav", 300)
    (tmp_path / "book").write_text("a file")
    with pytest.raises(OutputError, match=r"book/01\.mp3"):
        encode_mp3(wav_path, tmp_path / "book" / "01.mp3", Tags(title="T", album="A"))


@pytest.mark.ffmpeg
def test_probe_duration_wav_exact_and_mp3_decoded(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "a.wav", 2345)
    assert probe_duration_ms(wav_path) == 2345
    encode_mp3(wav_path, tmp_path / "a.mp3", Tags(title="T", album="A"))
    # The MP3 header says ~50 ms more (encoder delay + padding); the audio is 2345 ms.
    header_ms = 1000 * float(probe(tmp_path / "a.mp3")["format"]["duration"])
    assert header_ms - 2345 > 20
    assert abs(probe_duration_ms(tmp_path / "a.mp3") - 2345) <= 5


@pytest.mark.ffmpeg
def test_probe_duration_of_a_non_audio_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_text("nope")
    with pytest.raises(InputError, match=r"junk\.mp3"):
        probe_duration_ms(junk)


@pytest.mark.ffmpeg
@pytest.mark.parametrize("part_format", ["wav", "mp3"])
def test_m4b_chapters_start_where_each_part_starts(tmp_path: Path, part_format: str) -> None:
    lengths = [1500, 2250, 1000]
    parts: list[tuple[Path, str]] = []
    for i, ms in enumerate(lengths, start=1):
        wav_path = make_wav(tmp_path / f"{i}.wav", ms, freq=200.0 * i)
        if part_format == "mp3":
            part = tmp_path / f"{i}.mp3"
            encode_mp3(wav_path, part, Tags(title=f"Chapter {i}", album="A"))
        else:
            part = wav_path
        parts.append((part, f"Chapter {i}: the {i}"))
    cover = make_image(tmp_path / "cover.jpg", "mjpeg")
    tags = Tags(title="Arc One", album="Arc One", artist="Jo", cover=cover, cover_mime="image/jpeg")
    m4b_path = tmp_path / "book" / "arc.m4b"
    build_m4b(parts, m4b_path, tags)

    info = probe(m4b_path)
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [title for _, title in parts]
    expected_starts = [0, 1500, 3750]
    starts = [1000 * float(c["start_time"]) for c in chapters]
    # MP3 parts: their header durations are ~50 ms long each; the starts must not drift.
    assert all(abs(s - e) <= 5 for s, e in zip(starts, expected_starts, strict=True))
    assert abs(1000 * float(chapters[-1]["end_time"]) - sum(lengths)) <= 5
    # The container adds AAC padding (about 1024 samples a part) that players trim.
    assert abs(1000 * float(info["format"]["duration"]) - sum(lengths)) <= 100
    assert info["format"]["tags"]["title"] == "Arc One"
    assert info["format"]["tags"]["artist"] == "Jo"
    assert info["format"]["tags"]["genre"] == "Audiobook"
    codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert codecs["audio"] == "aac"
    assert any(s["disposition"].get("attached_pic") for s in info["streams"])
    assert files_in(tmp_path / "book") == ["arc.m4b"]


@pytest.mark.ffmpeg
def test_m4b_accepts_parts_in_other_formats(tmp_path: Path) -> None:
    parts = [
        (make_wav(tmp_path / "a.wav", 1000), "One"),
        (make_wav(tmp_path / "b.wav", 700, rate=44100, channels=2), "Two"),
    ]
    build_m4b(parts, tmp_path / "arc.m4b", Tags(title="A", album="A"))
    info = probe(tmp_path / "arc.m4b")
    assert [round(float(c["start_time"]) * 1000) for c in info["chapters"]] == [0, 1000]
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (audio["channels"], audio["sample_rate"]) == (1, str(M4B_SAMPLE_RATE))


@pytest.mark.ffmpeg
def test_m4b_missing_part_fails_cleanly(tmp_path: Path) -> None:
    parts = [(make_wav(tmp_path / "a.wav", 500), "One"), (tmp_path / "gone.mp3", "Two")]
    out_dir = tmp_path / "out"
    with pytest.raises(InputError, match=r"gone\.mp3"):
        build_m4b(parts, out_dir / "arc.m4b", Tags(title="A", album="A"))
    assert not out_dir.exists() or files_in(out_dir) == []


def test_m4b_needs_parts(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"arc\.m4b"):
        build_m4b([], tmp_path / "arc.m4b", Tags(title="A", album="A"))


@pytest.mark.ffmpeg
def test_encode_mp3_can_write_the_m4b_part_in_the_same_run(tmp_path: Path) -> None:
    wav_path = make_wav(tmp_path / "c.wav", 1800)
    part = tmp_path / ".parts" / "c.m4a"
    ms = encode_mp3(wav_path, tmp_path / "c.mp3", Tags(title="C", album="A"), m4b_part=part)
    assert ms == 1800
    assert abs(probe_duration_ms(tmp_path / "c.mp3") - 1800) <= 5
    audio = next(s for s in probe(part)["streams"] if s["codec_type"] == "audio")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", str(M4B_SAMPLE_RATE))
    assert not [p for p in part.parent.iterdir() if p.name.startswith(".")]


def build_m4b(parts: Sequence[tuple[Path, str]], m4b_path: Path, tags: Tags) -> None:
    """Encode chapter audio files (path, title) of any format into one M4B with chapters."""
    if not parts:
        raise OutputError(f"cannot write {m4b_path}: no chapters to put in it")
    with tempfile.TemporaryDirectory(prefix=".m4b-", dir=_existing_parent(m4b_path)) as tmp:
        aac_parts = []
        for number, (path, title) in enumerate(parts):
            part = Path(tmp) / f"{number}.m4a"
            encode_m4b_part(path, part)
            aac_parts.append((part, title))
        join_m4b(aac_parts, m4b_path, tags)


def _existing_parent(path: Path) -> Path | None:
    """The nearest existing folder above path (for temporary files on the same disk)."""
    for parent in path.absolute().parents:
        if parent.is_dir():
            return parent
    return None


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
