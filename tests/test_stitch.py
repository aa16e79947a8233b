"""Tests for narrator.stitch: pause policy, chapter WAV length, cues, gain, trimming, errors."""

from __future__ import annotations

import array
import itertools
import math
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest

from narrator import stitch
from narrator.errors import EngineError, OutputError
from narrator.model import Clip, Kind, Line, VoiceSettings
from narrator.stitch import pause_before_ms, stitch_chapter

RATE = stitch.SAMPLE_RATE
SETTINGS = VoiceSettings(engine_voice="gmw/en-us", rate_wpm=175, pitch=50, volume=1.0)


def make_wav(
    path: Path,
    ms: int,
    *,
    rate: int = RATE,
    channels: int = 1,
    amplitude: int = 8000,
    freq: float = 440.0,
    silent_tail_ms: int = 0,
) -> Path:
    """A sine tone of `ms` (then `silent_tail_ms` of digital silence), 16-bit PCM."""
    tone = round(ms * rate / 1000)
    tail = round(silent_tail_ms * rate / 1000)
    samples = array.array("h")
    for i in range(tone):
        value = int(amplitude * math.sin(2 * math.pi * freq * i / rate))
        samples.extend([value] * channels)
    samples.extend([0] * (tail * channels))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def read_samples(path: Path) -> tuple[array.array[int], Any]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = array.array("h", wav.readframes(params.nframes))
    return samples, params


def make_line(
    segment_index: int = 0,
    *,
    speaker: str = "Narrator",
    display: str = "Some words.",
    gain_db: float = 0.0,
    pause_before_ms: int = 0,
) -> Line:
    return Line(
        segment_index=segment_index,
        text=display,
        display=display,
        speaker=speaker,
        voice_id="narrator",
        settings=SETTINGS,
        gain_db=gain_db,
        pause_before_ms=pause_before_ms,
    )


def make_clip(path: Path, ms: int, **kwargs: int) -> Clip:
    make_wav(path, ms, **kwargs)
    return Clip(key=path.stem, wav_path=path, duration_ms=ms)


def ms_to_frames(ms: int) -> int:
    return round(ms * RATE / 1000)


# --- pause policy -------------------------------------------------------------------------


def test_first_line_gets_a_short_lead_in() -> None:
    assert 300 <= pause_before_ms(None, make_line(0), "") <= 1000


def test_pauses_grow_from_sentence_to_segment_to_paragraph_to_heading() -> None:
    a, a2, b = make_line(3), make_line(3), make_line(4)
    sentence = pause_before_ms(a, a2, " ")
    segment = pause_before_ms(a, b, " ")
    paragraph = pause_before_ms(a, b, "\n\n")
    heading = pause_before_ms(a, b, "\n\n", prev_kind=Kind.HEADING, kind=Kind.NARRATION)
    assert 200 <= sentence <= 300
    assert 300 <= segment <= 400
    assert 500 <= paragraph <= 700
    assert 800 <= heading <= 1000
    assert sentence < segment < paragraph < heading
    # A single newline is a paragraph break too (web fiction often has no blank lines).
    assert pause_before_ms(a, b, "\n") == paragraph


def test_speaker_change_adds_to_the_pause() -> None:
    narration = make_line(1)
    tom = make_line(2, speaker="Tom")
    ann = make_line(3, speaker="Ann")
    same = pause_before_ms(make_line(1, speaker="Tom"), tom, " ")
    changed = pause_before_ms(narration, tom, " ")
    assert 100 <= changed - same <= 200
    # Paragraph break plus change of speaker: both count.
    assert pause_before_ms(tom, ann, "\n") == pause_before_ms(narration, make_line(2), "\n") + (
        changed - same
    )


def test_heading_pause_before_and_after_but_not_inside_one_heading() -> None:
    title, title2, body = make_line(0), make_line(0), make_line(1)
    after = pause_before_ms(title, body, "\n\n", prev_kind=Kind.HEADING, kind=Kind.NARRATION)
    before = pause_before_ms(
        body, make_line(2), "\n\n", prev_kind=Kind.NARRATION, kind=Kind.HEADING
    )
    inside = pause_before_ms(title, title2, " ", prev_kind=Kind.HEADING, kind=Kind.HEADING)
    assert after == before >= 800
    assert inside < 400


@pytest.mark.parametrize("gap", ["\n\n***\n\n", "\n* * *\n", "\n\n-----\n\n", "\n ~~~ \n"])
def test_scene_break_gets_the_longest_pause(gap: str) -> None:
    a, b = make_line(1), make_line(2)
    heading = pause_before_ms(a, b, "\n\n", prev_kind=Kind.HEADING)
    assert pause_before_ms(a, b, gap) > heading


@pytest.mark.parametrize("gap", ["\n\n", " - ", "\n\u201d\n", "\nok\n", "\n#1\n"])
def test_ordinary_gaps_are_not_scene_breaks(gap: str) -> None:
    a, b = make_line(1), make_line(2)
    assert pause_before_ms(a, b, gap) <= pause_before_ms(a, b, "\n\n")


# --- stitching ----------------------------------------------------------------------------


def test_chapter_length_is_clips_plus_pauses_plus_tail(tmp_path: Path) -> None:
    lengths = [700, 1234, 333, 2001]
    pauses = [500, 250, 600, 350]
    clips = [make_clip(tmp_path / f"c{i}.wav", ms) for i, ms in enumerate(lengths)]
    lines = [make_line(i, pause_before_ms=p) for i, p in enumerate(pauses)]
    wav_path = tmp_path / "out" / "chapter.wav"
    stitch_chapter(clips, lines, wav_path, tail_ms=800)
    _, params = read_samples(wav_path)
    assert (params.framerate, params.sampwidth, params.nchannels) == (RATE, 2, 1)
    expected = sum(ms_to_frames(ms) for ms in lengths + pauses + [800])
    assert params.nframes == expected


def test_cues_follow_the_audio_exactly(tmp_path: Path) -> None:
    lengths = [900, 1500, 400]
    pauses = [500, 350, 750]
    speakers = ["Narrator", "Tom", "Narrator"]
    clips = [make_clip(tmp_path / f"c{i}.wav", ms) for i, ms in enumerate(lengths)]
    lines = [
        make_line(i, speaker=s, display=f"line {i}", pause_before_ms=p)
        for i, (s, p) in enumerate(zip(speakers, pauses, strict=True))
    ]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=1000)
    samples, params = read_samples(wav_path)
    total_ms = params.nframes * 1000 / RATE

    assert [c.speaker for c in cues] == speakers
    assert [c.text for c in cues] == ["line 0", "line 1", "line 2"]
    prev_end = 0
    for cue, ms, pause in zip(cues, lengths, pauses, strict=True):
        assert abs(cue.start_ms - (prev_end + pause)) <= 1
        assert abs((cue.end_ms - cue.start_ms) - ms) <= 1
        prev_end = cue.end_ms
        # The cue's span is sound; the pause before it is silence.
        voiced = samples[ms_to_frames(cue.start_ms) + 50 : ms_to_frames(cue.end_ms) - 50]
        assert max(abs(s) for s in voiced) > 4000
        gap = samples[ms_to_frames(cue.start_ms - pause) + 2 : ms_to_frames(cue.start_ms) - 2]
        assert max(abs(s) for s in gap) == 0
    assert abs(total_ms - (cues[-1].end_ms + 1000)) <= 1


def test_gain_is_applied_per_line(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path / f"c{i}.wav", 500, amplitude=8000) for i in range(3)]
    lines = [
        make_line(0, gain_db=0.0),
        make_line(1, gain_db=-6.0, pause_before_ms=200),
        make_line(2, gain_db=40.0, pause_before_ms=200),
    ]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0)
    samples, _ = read_samples(wav_path)
    peaks = [
        max(abs(s) for s in samples[ms_to_frames(c.start_ms) : ms_to_frames(c.end_ms)])
        for c in cues
    ]
    assert peaks[1] / peaks[0] == pytest.approx(10 ** (-6 / 20), rel=0.02)
    # +40 dB saturates at full scale instead of wrapping round into noise.
    assert peaks[2] >= 32000
    loud = samples[ms_to_frames(cues[2].start_ms) : ms_to_frames(cues[2].end_ms)]
    quarter = RATE // 440 // 4  # a quarter period: the sine is positive here
    assert all(s > 0 for s in loud[2 : quarter + 2])


def test_silent_tails_of_clips_are_trimmed(tmp_path: Path) -> None:
    # espeak-ng ends every clip with ~300 ms of silence; the pause policy sets the real gap.
    clip = make_clip(tmp_path / "c.wav", 1000, silent_tail_ms=300)
    cues = stitch_chapter([clip], [make_line(0)], tmp_path / "a.wav", tail_ms=0)
    span = cues[0].end_ms - cues[0].start_ms
    assert 1000 <= span <= 1000 + stitch.TRIM_KEEP_MS + 1
    untrimmed = stitch_chapter(
        [clip], [make_line(0)], tmp_path / "b.wav", tail_ms=0, trim_silence=False
    )
    assert untrimmed[0].end_ms - untrimmed[0].start_ms == 1300


def test_all_silent_clip_is_kept_whole(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.wav", 0, silent_tail_ms=600)
    cues = stitch_chapter([clip], [make_line(0)], tmp_path / "a.wav", tail_ms=0)
    assert cues[0].end_ms - cues[0].start_ms == 600


def test_clip_in_another_format_is_converted(tmp_path: Path) -> None:
    clips = [
        make_clip(tmp_path / "a.wav", 800),
        make_clip(tmp_path / "b.wav", 1200, rate=44100, channels=2),
    ]
    lines = [make_line(0), make_line(1, pause_before_ms=300)]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0)
    _, params = read_samples(wav_path)
    assert (params.framerate, params.nchannels, params.sampwidth) == (RATE, 1, 2)
    assert abs((cues[1].end_ms - cues[1].start_ms) - 1200) <= 2
    assert abs(params.nframes - ms_to_frames(800 + 300 + 1200)) <= 2 * RATE // 1000


def test_8_bit_clip_is_converted_with_the_right_level(tmp_path: Path) -> None:
    # 8-bit WAV samples are unsigned: read as signed they would be a loud square wave.
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(16000)
        out.writeframes(bytes(128 + round(32 * math.sin(i / 5)) for i in range(16000)))
    cues = stitch_chapter([Clip("k", path, 1000)], [make_line(0)], tmp_path / "a.wav", tail_ms=0)
    samples, _ = read_samples(tmp_path / "a.wav")
    assert abs(cues[0].end_ms - cues[0].start_ms - 1000) <= 1
    assert 32 * 256 * 0.9 <= max(samples) <= 32 * 256 * 1.1
    assert abs(sum(samples) / len(samples)) < 200  # centred on zero


@pytest.mark.ffmpeg
def test_float_clip_is_decoded_by_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "f32.wav"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1.5"),
            *("-ar", "24000", "-c:a", "pcm_f32le", str(path)),
        ],
        check=True,
    )
    cues = stitch_chapter([Clip("k", path, 1500)], [make_line(0)], tmp_path / "a.wav", tail_ms=0)
    samples, _ = read_samples(tmp_path / "a.wav")
    assert abs(cues[0].end_ms - cues[0].start_ms - 1500) <= 2
    # ffmpeg's sine is 1/8 of full scale; misread as integers it would be far louder.
    assert 3500 <= max(samples) <= 4700


def test_many_clips_keep_cues_in_step_without_drift(tmp_path: Path) -> None:
    # Odd lengths (not whole frames per ms) over many clips: rounding must not accumulate.
    lengths = [317 + (i * 37) % 211 for i in range(60)]
    clips = [make_clip(tmp_path / f"c{i}.wav", ms, freq=300.0) for i, ms in enumerate(lengths)]
    lines = [make_line(i, pause_before_ms=133) for i in range(60)]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0)
    _, params = read_samples(wav_path)
    assert abs(cues[-1].end_ms - params.nframes * 1000 / RATE) <= 1
    assert all(a.end_ms < b.start_ms for a, b in itertools.pairwise(cues))


# --- errors and atomicity ------------------------------------------------------------------


def test_missing_clip_fails_and_leaves_no_file(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    wav_path = out_dir / "chapter.wav"
    wav_path.write_bytes(b"old chapter")
    good = make_clip(tmp_path / "good.wav", 400)
    missing = Clip(key="k2", wav_path=tmp_path / "gone.wav", duration_ms=400)
    with pytest.raises(EngineError, match=r"gone\.wav"):
        stitch_chapter([good, missing], [make_line(0), make_line(1)], wav_path)
    # The old chapter is untouched and no temp file is left beside it.
    assert wav_path.read_bytes() == b"old chapter"
    assert sorted(p.name for p in out_dir.iterdir()) == ["chapter.wav"]


@pytest.mark.ffmpeg
def test_unreadable_clip_is_an_engine_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    clip = Clip(key="k", wav_path=bad, duration_ms=100)
    with pytest.raises(EngineError, match=r"bad\.wav"):
        stitch_chapter([clip], [make_line(0)], tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


def test_output_that_is_a_folder_is_an_output_error(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.wav", 300)
    target = tmp_path / "chapter.wav"
    target.mkdir()
    with pytest.raises(OutputError, match=r"chapter\.wav"):
        stitch_chapter([clip], [make_line(0)], target)


def test_output_folder_that_is_a_file_is_an_output_error(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.wav", 300)
    (tmp_path / "book").write_text("not a folder")
    with pytest.raises(OutputError, match="book"):
        stitch_chapter([clip], [make_line(0)], tmp_path / "book" / "chapter.wav")


def test_disk_full_is_an_output_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = [make_clip(tmp_path / f"c{i}.wav", 300) for i in range(3)]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    calls = 0
    real = wave.Wave_write.writeframesraw

    def full_after_a_while(self: wave.Wave_write, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise OSError(28, "No space left on device")
        real(self, data)

    monkeypatch.setattr(wave.Wave_write, "writeframesraw", full_after_a_while)
    with pytest.raises(OutputError, match=r"chapter\.wav.*No space left"):
        stitch_chapter(clips, [make_line(i) for i in range(3)], out_dir / "chapter.wav")
    assert list(out_dir.iterdir()) == []


def test_clip_and_line_counts_must_match(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.wav", 300)
    with pytest.raises(ValueError):
        stitch_chapter([clip], [make_line(0), make_line(1)], tmp_path / "out.wav")
