"""Stitch a chapter: clips (Sequence[Clip]) + the lines they speak (Sequence[Line]) -> one
chapter WAV (22050 Hz, 16-bit, mono) + StitchedChapter (a Cue per line, the loudness estimate
that mastering needs). A line said together (`Line.together`) is laid over the line before.

The chapter is written clip by clip to a temp file beside the target, so memory holds one
clip at a time however long the chapter is, then moved into place with os.replace. Cue times
are counted in sample frames and only converted to milliseconds at the end of each clip, so
they match the audio exactly (within rounding to 1 ms) and never drift.

`pause_before_ms` is the pause policy the caller uses to fill Line.pause_before_ms. Each clip
is trimmed, given its line's gain (never above PEAK_CEILING_DBFS), faded at its very ends, and
counted by a LoudnessMeter (narrator.master) as it is written; optional room tone fills the
pauses and continues under the speech.
"""

from __future__ import annotations

import array
import math
import random
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from narrator.audio_format import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from narrator.errors import EngineError
from narrator.ffmpeg import decode_audio
from narrator.files import atomic_path
from narrator.master import LoudnessMeter, audioop, peak_dbfs
from narrator.model import Clip, Cue, Kind, Line, Pauses
from narrator.text_marks import is_scene_break

# The pauses heard are Pauses' (narrator.model, the cast file's [pauses]), because clips' own
# silent tails (espeak-ng adds ~300 ms after every utterance) are trimmed when stitching.
DEFAULT_PAUSES = Pauses()

# A clip's leading/trailing stretch quieter than this (about -50 dBFS) counts as silence;
# TRIM_KEEP_MS of it is kept so that onsets and decays are not clipped.
SILENCE_LEVEL = 100
TRIM_KEEP_MS = 40
# A clip that starts or ends mid-sound (a cut long line, a clip that clips) would click: its
# first and last FADE_MS are faded. Trimmed clips start in near-silence, so this is inaudible
# everywhere else.
FADE_MS = 5
# No sample of the stitched chapter reaches full scale: a line's gain is lowered, when it
# would push the clip's peak above this, to what fits (the limiter after it does the rest).
PEAK_CEILING_DBFS = -1.0
ROOM_TONE_SEED = 1770  # the same noise every run, so chapters are reproducible
ROOM_TONE_S = 3


def pause_before_ms(
    prev: Line | None,
    line: Line,
    gap_text: str,
    *,
    prev_kind: Kind | None = None,
    kind: Kind | None = None,
    pauses: Pauses = DEFAULT_PAUSES,
) -> int:
    """Silence (ms) to put before `line`; gap_text is the chapter text between the two lines."""
    if prev is None:
        seconds = pauses.head_s
    elif is_scene_break(gap_text):
        seconds = pauses.scene_break_s
    elif Kind.HEADING in (prev_kind, kind) and not (
        # A heading's sentences (a title split in two) still run on at the sentence pace.
        prev_kind == kind and prev.segment_index == line.segment_index
    ):
        seconds = pauses.heading_s
    elif "\n" in gap_text:
        seconds = pauses.paragraph_s
    elif prev.speaker != line.speaker or prev.voice_id != line.voice_id:
        seconds = pauses.speaker_change_s
    else:
        seconds = pauses.sentence_s
    return round(seconds * 1000)


@dataclass(frozen=True)
class StitchedChapter:
    """What stitching wrote: one cue per line, and the loudness mastering needs."""

    cues: list[Cue]
    loudness_lufs: float | None  # estimated integrated loudness (None: no sound)


def stitch_chapter(
    clips: Sequence[Clip],
    lines: Sequence[Line],
    wav_path: Path,
    *,
    tail_ms: int = round(DEFAULT_PAUSES.tail_s * 1000),
    trim_silence: bool = True,
    room_tone_db: float | None = None,
) -> StitchedChapter:
    """Write the lines' clips, each after its pause, as one WAV; one Cue per line (a line
    said together, with the lines laid over it, is one).

    room_tone_db: fill pauses (and lie under the speech) with quiet noise at this RMS level
    instead of digital silence.
    """
    if len(clips) != len(lines):
        raise ValueError(f"{len(clips)} clips for {len(lines)} lines")
    cues: list[Cue] = []
    meter = LoudnessMeter(SAMPLE_RATE_HZ)
    tone = _RoomTone(room_tone_db) if room_tone_db is not None else None
    # atomic_path reports an OSError in the block as "cannot write <wav_path>: <reason>".
    with atomic_path(wav_path) as tmp_path, wave.open(str(tmp_path), "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH_BYTES)
        out.setframerate(SAMPLE_RATE_HZ)
        frames = 0
        for group in _groups(lines):
            line = lines[group[0]]
            pcm = _mix(
                [
                    _clip_pcm(clips[i], gain_db=lines[i].gain_db, trim_silence=trim_silence)
                    for i in group
                ]
            )
            meter.add(pcm, line.weighting_db)
            frames += _write_silence(out, line.pause_before_ms, tone)
            start = frames
            if tone is not None:
                pcm = tone.under(pcm)
            out.writeframesraw(pcm)
            frames += len(pcm) // SAMPLE_WIDTH_BYTES
            cues.append(
                Cue(_frames_to_ms(start), _frames_to_ms(frames), line.speaker, line.display)
            )
        _write_silence(out, tail_ms, tone)
    return StitchedChapter(cues, meter.loudness_lufs())


def _groups(lines: Sequence[Line]) -> list[list[int]]:
    """Lines heard at once: each line with the `together` lines after it (a chorus)."""
    groups: list[list[int]] = []
    for i, line in enumerate(lines):
        if line.together and groups:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _mix(pcms: Sequence[bytes]) -> bytes:
    """Clips laid over one another from their first sample; the longest sets the length."""
    longest = max(len(p) for p in pcms)
    mixed = pcms[0].ljust(longest, b"\0")
    for pcm in pcms[1:]:
        mixed = audioop.add(mixed, pcm.ljust(longest, b"\0"), SAMPLE_WIDTH_BYTES)
    return mixed


def _frames_to_ms(frames: int) -> int:
    return round(frames * 1000 / SAMPLE_RATE_HZ)


def _write_silence(out: wave.Wave_write, ms: int, tone: _RoomTone | None = None) -> int:
    frames = round(max(0, ms) * SAMPLE_RATE_HZ / 1000)
    if tone is not None:
        out.writeframesraw(tone.take(frames))
        return frames
    chunk = bytes(
        SAMPLE_WIDTH_BYTES * SAMPLE_RATE_HZ
    )  # one second, so long pauses stay small in memory
    left = frames * SAMPLE_WIDTH_BYTES
    while left > 0:
        out.writeframesraw(chunk[: min(left, len(chunk))])
        left -= len(chunk)
    return frames


class _RoomTone:
    """Quiet noise, low-passed so it sounds like a room rather than hiss, looped (the step at
    the loop point is as quiet as the noise itself)."""

    def __init__(self, level_db: float) -> None:
        rng = random.Random(ROOM_TONE_SEED)
        frames = ROOM_TONE_S * SAMPLE_RATE_HZ
        smooth, values = 0.0, []
        for _ in range(frames):
            smooth = 0.9 * smooth + 0.1 * rng.gauss(0.0, 1.0)  # one-pole low-pass, ~400 Hz
            values.append(smooth)
        rms = math.sqrt(sum(v * v for v in values) / frames)
        scale = 10 ** (level_db / 20) * 32767 / rms
        top = 32767
        samples = array.array("h", (max(-top, min(top, round(v * scale))) for v in values))
        self.loop = samples.tobytes()
        self.position = 0  # in bytes

    def take(self, frames: int) -> bytes:
        """The next `frames` of noise."""
        wanted = frames * SAMPLE_WIDTH_BYTES
        parts = []
        while wanted > 0:
            piece = self.loop[self.position : self.position + wanted]
            parts.append(piece)
            wanted -= len(piece)
            self.position = (self.position + len(piece)) % len(self.loop)
        return b"".join(parts)

    def under(self, pcm: bytes) -> bytes:
        """The clip with the noise continuing under it."""
        return audioop.add(pcm, self.take(len(pcm) // SAMPLE_WIDTH_BYTES), SAMPLE_WIDTH_BYTES)


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
                SAMPLE_RATE_HZ,
                SAMPLE_WIDTH_BYTES,
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
        pcm = _convert_pcm_wav(path) if plain_pcm else decode_audio(path)
    if len(pcm) % SAMPLE_WIDTH_BYTES:
        pcm = pcm[
            : len(pcm) - len(pcm) % SAMPLE_WIDTH_BYTES
        ]  # truncated file: drop the half sample
    if trim_silence:
        pcm = trim_pcm(pcm)
    # Never louder than the ceiling: a gain that would push the peak over it is cut to fit.
    headroom_db = PEAK_CEILING_DBFS - peak_dbfs(pcm)
    gain_db = min(gain_db, headroom_db)
    if gain_db:
        pcm = audioop.mul(pcm, SAMPLE_WIDTH_BYTES, 10 ** (gain_db / 20))
    return _fade_edges(pcm)


def _fade_edges(pcm: bytes) -> bytes:
    """Linear fade-in and fade-out over FADE_MS at the clip's ends (only the ends are copied
    into Python objects: a clip can be minutes long)."""
    n = min(FADE_MS * SAMPLE_RATE_HZ // 1000, len(pcm) // SAMPLE_WIDTH_BYTES // 2)
    if n == 0:
        return pcm
    edge = n * SAMPLE_WIDTH_BYTES
    head, tail = array.array("h", pcm[:edge]), array.array("h", pcm[-edge:])
    for i in range(n):
        weight = (i + 1) / (n + 1)
        head[i] = round(head[i] * weight)
        tail[-1 - i] = round(tail[-1 - i] * weight)
    return b"".join((head.tobytes(), pcm[edge:-edge], tail.tobytes()))


def _convert_pcm_wav(path: Path) -> bytes:
    """Convert an integer-PCM WAV of another rate, width or channel count (pure Python)."""
    from pydub import AudioSegment  # imported here: most chapters never need it

    try:
        audio = AudioSegment.from_wav(str(path))
    except Exception as exc:  # pydub raises bare Exceptions and CouldntDecodeError
        raise EngineError(f"clip {path} is not readable audio: {exc}") from exc
    audio = (
        audio.set_channels(CHANNELS)
        .set_frame_rate(SAMPLE_RATE_HZ)
        .set_sample_width(SAMPLE_WIDTH_BYTES)
    )
    return bytes(audio.raw_data)


def trim_pcm(pcm: bytes) -> bytes:
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
    keep = TRIM_KEEP_MS * SAMPLE_RATE_HZ // 1000
    start = max(0, first - keep)
    end = min(n, last + 1 + keep)
    return pcm[start * SAMPLE_WIDTH_BYTES : end * SAMPLE_WIDTH_BYTES]
