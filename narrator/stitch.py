"""Stitch a chapter: clips (Sequence[Clip]) + the lines they speak (Sequence[Line]) -> one
chapter WAV (22050 Hz, 16-bit, mono) + list[Cue].

The chapter is written clip by clip to a temp file beside the target, so memory holds one
clip at a time however long the chapter is, then moved into place with os.replace. Cue times
are counted in sample frames and only converted to milliseconds at the end of each clip, so
they match the audio exactly (within rounding to 1 ms) and never drift.

`pause_before_ms` is the pause policy the caller uses to fill Line.pause_before_ms.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

from narrator.errors import EngineError, OutputError, ToolMissingError
from narrator.files import atomic_path
from narrator.model import Clip, Cue, Kind, Line

SAMPLE_RATE = 22050
SAMPLE_WIDTH = 2  # bytes: 16-bit
CHANNELS = 1

# Pause policy, in ms of silence before a line. These are the pauses heard, because clips'
# own silent tails (espeak-ng adds ~300 ms after every utterance) are trimmed when stitching.
LEAD_IN_MS = 500  # before the first line: ACX asks for 0.5-1 s of room tone at the head
SENTENCE_PAUSE_MS = 250  # between sentence-sized lines of one segment
SEGMENT_PAUSE_MS = 350  # between segments of one paragraph ("Go," he said. "Now.")
PARAGRAPH_PAUSE_MS = 600  # the gap holds a line break
SPEAKER_CHANGE_MS = 150  # added when the voice changes
HEADING_PAUSE_MS = 900  # before and after a heading
SCENE_BREAK_MS = 1500  # the gap holds a line of only symbols: "***", "* * *", "---"
TAIL_MS = 1000  # after the last line: ACX asks for 1-5 s at the end of a file

# A clip's leading/trailing stretch quieter than this (about -50 dBFS) counts as silence;
# TRIM_KEEP_MS of it is kept so that onsets and decays are not clipped.
SILENCE_LEVEL = 100
TRIM_KEEP_MS = 40


def pause_before_ms(
    prev: Line | None,
    line: Line,
    gap_text: str,
    *,
    prev_kind: Kind | None = None,
    kind: Kind | None = None,
) -> int:
    """Silence (ms) to put before `line`; gap_text is the chapter text between the two lines."""
    if prev is None:
        return LEAD_IN_MS
    if _is_scene_break(gap_text):
        return SCENE_BREAK_MS
    if Kind.HEADING in (prev_kind, kind):
        # A heading's sentences (a title split in two) still run on at the sentence pace.
        same_heading = prev_kind == kind and prev.segment_index == line.segment_index
        if not same_heading:
            return HEADING_PAUSE_MS
    if "\n" in gap_text:
        pause = PARAGRAPH_PAUSE_MS
    elif prev.segment_index == line.segment_index:
        pause = SENTENCE_PAUSE_MS
    else:
        pause = SEGMENT_PAUSE_MS
    if prev.speaker != line.speaker:
        pause += SPEAKER_CHANGE_MS
    return pause


def stitch_chapter(
    clips: Sequence[Clip],
    lines: Sequence[Line],
    wav_path: Path,
    *,
    tail_ms: int = TAIL_MS,
    trim_silence: bool = True,
) -> list[Cue]:
    """Write the lines' clips, each after its pause, as one WAV; return one Cue per line."""
    if len(clips) != len(lines):
        raise ValueError(f"{len(clips)} clips for {len(lines)} lines")
    cues: list[Cue] = []
    with atomic_path(wav_path) as tmp_path:
        try:
            with wave.open(str(tmp_path), "wb") as out:
                out.setnchannels(CHANNELS)
                out.setsampwidth(SAMPLE_WIDTH)
                out.setframerate(SAMPLE_RATE)
                frames = 0
                for clip, line in zip(clips, lines, strict=True):
                    pcm = _clip_pcm(clip, gain_db=line.gain_db, trim_silence=trim_silence)
                    frames += _write_silence(out, line.pause_before_ms)
                    start = frames
                    out.writeframesraw(pcm)
                    frames += len(pcm) // SAMPLE_WIDTH
                    cues.append(
                        Cue(_frames_to_ms(start), _frames_to_ms(frames), line.speaker, line.display)
                    )
                _write_silence(out, tail_ms)
        except OSError as exc:
            raise OutputError(f"cannot write {wav_path}: {exc.strerror or exc}") from exc
    return cues


def _is_scene_break(gap_text: str) -> bool:
    """A line of three or more symbols and nothing else: "***", "* * *", "---", "~~~"."""
    for raw in gap_text.splitlines():
        symbols = "".join(raw.split())
        if len(symbols) >= 3 and not any(ch.isalnum() for ch in symbols):
            return True
    return False


def _frames_to_ms(frames: int) -> int:
    return round(frames * 1000 / SAMPLE_RATE)


def _write_silence(out: wave.Wave_write, ms: int) -> int:
    frames = round(max(0, ms) * SAMPLE_RATE / 1000)
    chunk = bytes(SAMPLE_WIDTH * SAMPLE_RATE)  # one second, so long pauses stay small in memory
    left = frames * SAMPLE_WIDTH
    while left > 0:
        out.writeframesraw(chunk[: min(left, len(chunk))])
        left -= len(chunk)
    return frames


def _clip_pcm(clip: Clip, *, gain_db: float, trim_silence: bool) -> bytes:
    """The clip's samples as 22050 Hz 16-bit mono PCM, trimmed and with its gain applied."""
    path = clip.wav_path
    pcm: bytes | None = None
    plain_pcm = False
    try:
        with wave.open(str(path), "rb") as clip_wav:
            params = clip_wav.getparams()
            plain_pcm = True
            if (params.framerate, params.sampwidth, params.nchannels) == (
                SAMPLE_RATE,
                SAMPLE_WIDTH,
                CHANNELS,
            ):
                pcm = clip_wav.readframes(params.nframes)
    except FileNotFoundError as exc:
        raise EngineError(f"clip {path} is missing") from exc
    except OSError as exc:
        raise EngineError(f"cannot read clip {path}: {exc.strerror or exc}") from exc
    except (wave.Error, EOFError):
        pass  # not integer PCM (float, WAVE_FORMAT_EXTENSIBLE): ffmpeg decodes it below
    if pcm is None:
        pcm = _convert_pcm_wav(path) if plain_pcm else _decode_with_ffmpeg(path)
    if len(pcm) % SAMPLE_WIDTH:
        pcm = pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]  # truncated file: drop the half sample
    if trim_silence:
        pcm = _trim(pcm)
    if gain_db:
        pcm = _apply_gain(pcm, gain_db)
    return pcm


def _convert_pcm_wav(path: Path) -> bytes:
    """Convert an integer-PCM WAV of another rate, width or channel count (pure Python)."""
    from pydub import AudioSegment  # imported here: most chapters never need it

    try:
        audio = AudioSegment.from_wav(str(path))
    except Exception as exc:  # pydub raises bare Exceptions and CouldntDecodeError
        raise EngineError(f"clip {path} is not readable audio: {exc}") from exc
    audio = audio.set_channels(CHANNELS).set_frame_rate(SAMPLE_RATE).set_sample_width(SAMPLE_WIDTH)
    return bytes(audio.raw_data)


def _decode_with_ffmpeg(path: Path) -> bytes:
    """Decode any other audio file with ffmpeg (pydub misreads float WAVs as integers)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ToolMissingError(
            f"clip {path} is not 16-bit PCM and ffmpeg is not installed: apt-get install ffmpeg"
        )
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", "file:" + os.path.abspath(path)]
    cmd += ["-f", "s16le", "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE), "-"]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise EngineError(f"clip {path} is not readable audio: {reason}")
    return done.stdout


def _apply_gain(pcm: bytes, gain_db: float) -> bytes:
    from pydub import AudioSegment

    audio = AudioSegment(
        data=pcm, sample_width=SAMPLE_WIDTH, frame_rate=SAMPLE_RATE, channels=CHANNELS
    )
    # pydub's apply_gain saturates at full scale instead of wrapping round.
    return bytes(audio.apply_gain(gain_db).raw_data)


def _trim(pcm: bytes) -> bytes:
    """Drop leading and trailing silence beyond TRIM_KEEP_MS; an all-silent clip is kept."""
    samples = memoryview(pcm).cast("h")
    n = len(samples)
    first = 0
    while first < n and abs(samples[first]) <= SILENCE_LEVEL:
        first += 1
    if first == n:
        return pcm
    last = n - 1
    while abs(samples[last]) <= SILENCE_LEVEL:
        last -= 1
    keep = TRIM_KEEP_MS * SAMPLE_RATE // 1000
    start = max(0, first - keep)
    end = min(n, last + 1 + keep)
    return pcm[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]
