"""Voice previews: a voice profile or a character + text -> a short MP3 to audition it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

from narrator.casting import Assignment, Casting
from narrator.encode import FFMPEG
from narrator.errors import ConfigError, OutputError
from narrator.files import safe_file_name
from narrator.layout import prepare_out_dir
from narrator.master import DEFAULT_LOUDNESS_LUFS, mastering_for
from narrator.model import Cast, Line, Tags, VoiceProfile
from narrator.report import AnalyzeReport
from narrator.script import Voice, speakable_text
from narrator.stitch import stitch_chapter
from narrator.synth import DEFAULT_ENGINE, ClipCache, SynthPool, check_engine, engine_voices
from narrator.voices import load_profiles


def list_voices(
    voices_dirs: Sequence[Path] = (), engine: str = DEFAULT_ENGINE
) -> tuple[list[VoiceProfile], list[str]]:
    """The voice profiles, and the engine voices installed on this machine."""
    profiles = load_profiles(voices_dirs)
    return sorted(profiles.values(), key=lambda p: p.id), engine_voices(engine)


SAMPLE_TEXT = "Hello. This is how I sound when I read your story aloud. Do you like it?"


def preview_voice(
    profile_id: str,
    text: str | None,
    out_path: Path,
    engine: str = DEFAULT_ENGINE,
    voices_dirs: Sequence[Path] = (),
) -> Path:
    """Speak a line with one voice profile into an MP3, to audition it."""
    profiles = load_profiles(voices_dirs)
    if profile_id not in profiles:
        known = ", ".join(sorted(profiles))
        raise ConfigError(f"unknown voice profile '{profile_id}'; available: {known}")
    casting_voice = Casting(
        Assignment(narrator=profile_id, by_character={}), profiles, (), Cast()
    ).voice(profile_id)
    line = _sample_line(text or SAMPLE_TEXT, profile_id, casting_voice)
    _render_lines([line], out_path, engine, Tags(title=f"{profile_id} sample", album="narrator"))
    return out_path


def preview_characters(
    report: AnalyzeReport, out_dir: Path, engine: str = DEFAULT_ENGINE
) -> list[Path]:
    """One short MP3 per main character, in its voice, with a line the character speaks."""
    rows = [row for row in report.character_rows() if row.lines > 0][:12]
    first_lines = first_spoken_lines(report)
    prepare_out_dir(out_dir, False)
    paths = []
    for row in rows:
        name = row.name
        voice = report.casting.speaker_voice(name)
        text = f"{name}. " + first_lines.get(name, "This is my voice.")
        path = out_dir / f"{safe_file_name(name)}.mp3"
        _render_lines(
            [_sample_line(text, name, voice)], path, engine, Tags(name, "narrator preview")
        )
        paths.append(path)
    return paths


def first_spoken_lines(report: AnalyzeReport) -> dict[str, str]:
    """Each speaker's first line in the book: what a voice sample of them says."""
    first_lines: dict[str, str] = {}
    for _, segments in report.parts():
        for segment in segments:
            speaker = segment.speaker
            if segment.kind.is_speech and speaker and speaker not in first_lines:
                first_lines[speaker] = segment.text
    return first_lines


def speak_sample(
    text: str, speaker: str, voice: Voice, out_path: Path, engine: str = DEFAULT_ENGINE
) -> Path:
    """Speak one line in one voice into an MP3 (an audition of a character's voice)."""
    line = _sample_line(text, speaker, voice)
    _render_lines([line], out_path, engine, Tags(speaker, "narrator sample"))
    return out_path


def _sample_line(text: str, speaker: str, voice: Voice) -> Line:
    return Line(
        segment_index=0,
        text=speakable_text(text) or SAMPLE_TEXT,
        display=text,
        speaker=speaker,
        voice_id=voice.voice_id,
        settings=voice.settings,
        gain_db=voice.gain_db,
        weighting_db=voice.weighting_db,
    )


def _render_lines(lines: list[Line], out_path: Path, engine: str, tags: Tags) -> None:
    if out_path.exists() and out_path.is_dir():
        raise OutputError(f"{out_path}: is a folder; give a file name ending in .mp3")
    check_engine(engine)
    FFMPEG.check()
    prepare_out_dir(out_path.parent, False)
    with SynthPool(engine, ClipCache(), 1) as pool:
        result = pool.synthesize(lines)
    wav_path = _stitch_path(out_path)
    try:
        stitched = stitch_chapter(result.clips, lines, wav_path)
        mastering = mastering_for(stitched.loudness_lufs, DEFAULT_LOUDNESS_LUFS)
        FFMPEG.encode_mp3(wav_path, out_path, tags, mastering=mastering)
    finally:
        wav_path.unlink(missing_ok=True)


def _stitch_path(mp3_path: Path) -> Path:
    """A fresh name for the stitched WAV beside an MP3: never another run's, nor a planted link."""
    return mp3_path.with_name(f".{mp3_path.stem}.{secrets.token_hex(4)}.wav.tmp")
