"""Tests for narrator.stitch: pause policy, chapter WAV length, cues, gain, trimming, errors."""

from __future__ import annotations

import array
import itertools
import math
import subprocess
import wave
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from narrator import stitch
from narrator.audio_format import SAMPLE_RATE_HZ
from narrator.errors import EngineError, OutputError
from narrator.master import peak_dbfs
from narrator.model import Clip, Kind, Line, Pauses, VoiceSettings
from narrator.stitch import pause_before_ms, stitch_chapter

RATE = SAMPLE_RATE_HZ
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


def wav_peak_dbfs(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return peak_dbfs(wav.readframes(wav.getnframes()))


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


def test_pauses_grow_sentence_speaker_paragraph_heading_scene_chapter() -> None:
    a, a2, b = make_line(3), make_line(3), make_line(4, speaker="Tom")
    sentence = pause_before_ms(a, a2, " ")
    speaker_change = pause_before_ms(a, b, " ")
    paragraph = pause_before_ms(a, b, "\n\n")
    heading = pause_before_ms(a, b, "\n\n", prev_kind=Kind.HEADING, kind=Kind.NARRATION)
    scene = pause_before_ms(a, b, "\n\n***\n\n")
    chapter = stitch.DEFAULT_PAUSES.tail_s * 1000 + pause_before_ms(None, a, "")
    assert sentence < speaker_change < paragraph < heading < scene < chapter
    # Natural for narration: a breath between sentences, a beat at a new paragraph.
    assert 300 <= sentence <= 500
    assert 700 <= paragraph <= 1200
    # ACX: 0.5-1 s at the head (issue 12: at least 0.75 s), 1-5 s at the tail (at least 2 s).
    assert 750 <= pause_before_ms(None, a, "") <= 1000
    assert 2000 <= stitch.DEFAULT_PAUSES.tail_s * 1000 <= 5000
    # A single newline is a paragraph break too (web fiction often has no blank lines).
    assert pause_before_ms(a, b, "\n") == paragraph


def test_speaker_change_inside_a_paragraph_is_longer_than_a_sentence_break() -> None:
    narration = make_line(1)
    tom = make_line(2, speaker="Tom")
    same = pause_before_ms(make_line(1, speaker="Tom"), tom, " ")
    changed = pause_before_ms(narration, tom, " ")
    assert changed > same == pause_before_ms(narration, make_line(1), " ")
    # A paragraph break is a paragraph break, whoever speaks next.
    assert pause_before_ms(tom, make_line(3, speaker="Ann"), "\n") == pause_before_ms(
        narration, make_line(2), "\n"
    )


def test_pauses_come_from_the_pauses_given() -> None:
    pauses = Pauses(
        head_s=0.8, sentence_s=0.1, speaker_change_s=0.2, paragraph_s=0.3, heading_s=0.4,
        scene_break_s=0.5, tail_s=3.0,
    )  # fmt: skip
    a, b = make_line(1), make_line(2, speaker="Tom")
    assert pause_before_ms(None, a, "", pauses=pauses) == 800
    assert pause_before_ms(a, make_line(1), " ", pauses=pauses) == 100
    assert pause_before_ms(a, b, " ", pauses=pauses) == 200
    assert pause_before_ms(a, b, "\n", pauses=pauses) == 300
    assert pause_before_ms(a, b, "\n", prev_kind=Kind.HEADING, pauses=pauses) == 400
    assert pause_before_ms(a, b, "\n***\n", pauses=pauses) == 500


def test_heading_pause_before_and_after_but_not_inside_one_heading() -> None:
    title, title2, body = make_line(0), make_line(0), make_line(1)
    after = pause_before_ms(title, body, "\n\n", prev_kind=Kind.HEADING, kind=Kind.NARRATION)
    before = pause_before_ms(
        body, make_line(2), "\n\n", prev_kind=Kind.NARRATION, kind=Kind.HEADING
    )
    inside = pause_before_ms(title, title2, " ", prev_kind=Kind.HEADING, kind=Kind.HEADING)
    assert after == before >= 800
    assert inside == pause_before_ms(title, title2, " ") < after


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
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=1000).cues
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


def test_a_line_said_together_is_laid_over_the_line_before(tmp_path: Path) -> None:
    # Two voices say one line: one cue, as long as the longer take, both heard at once.
    clips = [
        make_clip(tmp_path / "a.wav", 400, amplitude=6000),
        make_clip(tmp_path / "b.wav", 700, amplitude=6000, freq=660.0),
        make_clip(tmp_path / "c.wav", 300),
    ]
    lines = [
        make_line(0, speaker="Rook and Bo", display='"Now!"'),
        replace(make_line(0, speaker="Rook and Bo", display='"Now!"'), together=True),
        make_line(1, display="They ran.", pause_before_ms=300),
    ]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0).cues
    samples, _ = read_samples(wav_path)
    assert [(c.speaker, c.text) for c in cues] == [
        ("Rook and Bo", '"Now!"'),
        ("Narrator", "They ran."),
    ]
    assert abs((cues[0].end_ms - cues[0].start_ms) - 700) <= 1
    assert abs(cues[1].start_ms - (cues[0].end_ms + 300)) <= 1
    # Where both sound, the sum of two tones at 6000 peaks above either alone.
    both = samples[ms_to_frames(cues[0].start_ms) + 50 : ms_to_frames(cues[0].start_ms + 350)]
    alone = samples[ms_to_frames(cues[0].start_ms + 450) : ms_to_frames(cues[0].end_ms) - 50]
    assert max(abs(s) for s in both) > 7000 >= max(abs(s) for s in alone) > 4000


def test_gain_is_applied_per_line(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path / f"c{i}.wav", 500, amplitude=8000) for i in range(3)]
    lines = [
        make_line(0, gain_db=0.0),
        make_line(1, gain_db=-6.0, pause_before_ms=200),
        make_line(2, gain_db=40.0, pause_before_ms=200),
    ]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0).cues
    samples, _ = read_samples(wav_path)
    peaks = [
        max(abs(s) for s in samples[ms_to_frames(c.start_ms) : ms_to_frames(c.end_ms)])
        for c in cues
    ]
    assert peaks[1] / peaks[0] == pytest.approx(10 ** (-6 / 20), rel=0.02)
    # +40 dB would clip: the gain stops at the ceiling, below full scale (no clipped samples
    # before the encoder; issue 12), instead of saturating or wrapping round into noise.
    ceiling = 32768 * 10 ** (stitch.PEAK_CEILING_DBFS / 20)
    assert 0.98 * ceiling <= peaks[2] <= ceiling + 1
    assert max(abs(s) for s in samples) < 32767
    loud = samples[ms_to_frames(cues[2].start_ms) : ms_to_frames(cues[2].end_ms)]
    quarter = RATE // 440 // 4  # a quarter period: the sine is positive here
    assert all(s > 0 for s in loud[2 : quarter + 2])


def test_silent_tails_of_clips_are_trimmed(tmp_path: Path) -> None:
    # espeak-ng ends every clip with ~300 ms of silence; the pause policy sets the real gap.
    clip = make_clip(tmp_path / "c.wav", 1000, silent_tail_ms=300)
    cues = stitch_chapter([clip], [make_line(0)], tmp_path / "a.wav", tail_ms=0).cues
    span = cues[0].end_ms - cues[0].start_ms
    assert 1000 <= span <= 1000 + stitch.TRIM_KEEP_MS + 1
    untrimmed = stitch_chapter(
        [clip], [make_line(0)], tmp_path / "b.wav", tail_ms=0, trim_silence=False
    ).cues
    assert untrimmed[0].end_ms - untrimmed[0].start_ms == 1300


def test_all_silent_clip_is_kept_whole(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.wav", 0, silent_tail_ms=600)
    cues = stitch_chapter([clip], [make_line(0)], tmp_path / "a.wav", tail_ms=0).cues
    assert cues[0].end_ms - cues[0].start_ms == 600


def test_clip_in_another_format_is_converted(tmp_path: Path) -> None:
    clips = [
        make_clip(tmp_path / "a.wav", 800),
        make_clip(tmp_path / "b.wav", 1200, rate=44100, channels=2),
    ]
    lines = [make_line(0), make_line(1, pause_before_ms=300)]
    wav_path = tmp_path / "chapter.wav"
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0).cues
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
    cues = stitch_chapter(
        [Clip("k", path, 1000)], [make_line(0)], tmp_path / "a.wav", tail_ms=0
    ).cues
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
    cues = stitch_chapter(
        [Clip("k", path, 1500)], [make_line(0)], tmp_path / "a.wav", tail_ms=0
    ).cues
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
    cues = stitch_chapter(clips, lines, wav_path, tail_ms=0).cues
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


# --- loudness, fades, room tone -----------------------------------------------------------


def test_loudness_estimate_of_a_sine_matches_bs1770(tmp_path: Path) -> None:
    # A 1 kHz sine at full scale measures -3.01 LUFS; K-weighting adds +0.69 dB at 1 kHz,
    # which the plain-RMS estimate gets from the line's weighting_db.
    clip = make_clip(tmp_path / "c.wav", 3000, amplitude=16384, freq=1000.0)  # -6.02 dBFS peak
    line = replace(make_line(0), weighting_db=0.69)
    stitched = stitch_chapter([clip], [line], tmp_path / "a.wav", tail_ms=2000)
    assert stitched.loudness_lufs == pytest.approx(-3.01 - 6.02, abs=0.1)
    assert wav_peak_dbfs(tmp_path / "a.wav") == pytest.approx(-6.02, abs=0.05)


def test_loudness_estimate_ignores_pauses_and_follows_gain(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path / f"c{i}.wav", 2000, amplitude=4000) for i in range(2)]
    short = stitch_chapter(clips[:1], [make_line(0)], tmp_path / "a.wav", tail_ms=0)
    lines = [make_line(0, pause_before_ms=3000), make_line(1, pause_before_ms=5000)]
    padded = stitch_chapter(clips, lines, tmp_path / "b.wav", tail_ms=4000)
    assert padded.loudness_lufs == pytest.approx(short.loudness_lufs, abs=0.05)
    quieter = stitch_chapter(clips[:1], [make_line(0, gain_db=-6.0)], tmp_path / "c.wav")
    assert quieter.loudness_lufs == pytest.approx(short.loudness_lufs - 6.0, abs=0.1)
    silent = make_clip(tmp_path / "s.wav", 0, silent_tail_ms=500)
    assert stitch_chapter([silent], [make_line(0)], tmp_path / "d.wav").loudness_lufs is None


def test_no_sample_reaches_full_scale_even_from_a_clipping_clip(tmp_path: Path) -> None:
    # espeak-ng clips already touch full scale; with no gain they still come out under it.
    clip = make_clip(tmp_path / "c.wav", 500, amplitude=32767)
    stitch_chapter([clip], [make_line(0, gain_db=3.0)], tmp_path / "a.wav")
    samples, _ = read_samples(tmp_path / "a.wav")
    assert max(abs(s) for s in samples) < 32767
    assert wav_peak_dbfs(tmp_path / "a.wav") <= stitch.PEAK_CEILING_DBFS + 0.01


def test_abrupt_clip_edges_are_faded(tmp_path: Path) -> None:
    # A square-ish clip that starts and stops at full level would click.
    path = tmp_path / "c.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(array.array("h", [12000] * RATE).tobytes())
    cues = stitch_chapter([Clip("k", path, 1000)], [make_line(0)], tmp_path / "a.wav").cues
    samples, _ = read_samples(tmp_path / "a.wav")
    start, end = ms_to_frames(cues[0].start_ms), ms_to_frames(cues[0].end_ms)
    fade = stitch.FADE_MS * RATE // 1000
    assert abs(samples[start]) < 12000 / fade * 2
    assert abs(samples[end - 1]) < 12000 / fade * 2
    assert samples[start + fade + 5] == 12000
    steps = [abs(b - a) for a, b in itertools.pairwise(samples[max(0, start - 5) : end + 5])]
    assert max(steps) < 12000 / fade * 2


def test_room_tone_fills_pauses_quietly_and_leaves_timing_alone(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path / f"c{i}.wav", 600) for i in range(2)]
    lines = [make_line(0, pause_before_ms=800), make_line(1, pause_before_ms=700)]
    plain = stitch_chapter(clips, lines, tmp_path / "a.wav", tail_ms=1000)
    toned = stitch_chapter(clips, lines, tmp_path / "b.wav", tail_ms=1000, room_tone_db=-60.0)
    assert toned.cues == plain.cues
    samples, params = read_samples(tmp_path / "b.wav")
    _, plain_params = read_samples(tmp_path / "a.wav")
    assert params.nframes == plain_params.nframes
    gap = samples[: ms_to_frames(800)]
    rms = math.sqrt(sum(s * s for s in gap) / len(gap))
    assert 20 * math.log10(rms / 32768) == pytest.approx(-60.0, abs=1.0)
    assert max(abs(s) for s in gap) < 32768 * 10 ** (-40 / 20)
    # The noise goes on under the speech and after it: no digital silence anywhere.
    assert samples[-ms_to_frames(500) :].count(0) < ms_to_frames(500) // 10
    assert toned.loudness_lufs == pytest.approx(plain.loudness_lufs, abs=0.05)
