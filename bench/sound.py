#!/usr/bin/env python3
"""How renders sound: loudness, true peak, pace, pitch and pauses per chapter and per speaker.

Renders web-fiction chapters from ../shared/bench/webfic (read in place, copied only into a
temporary folder, never into the repo) with the author's cast for each (`<id>.cast.toml`, else
`cast.toml`), which names no voices: the caster picks them. Then measures each chapter MP3:
  chapter   integrated loudness and true peak (ffmpeg ebur128), decoded samples at full
            scale, head and tail (silence before the first cue, after the last); the same
            loudness and true peak for the M4B (rendered alongside, of all chapters)
  speaker   from the WebVTT cues: loudness of all its cues joined (ebur128), relative to the
            narrator; words per minute inside its cues; median F0 (bench/audio_figures.py)
  pairs     the two speakers (3+ cues) a listener is likeliest to confuse: smallest
            narrator.voices.voice_distance from the measured F0 and pace (>= 1.0: distinct)
  pauses    median gap between cues: same speaker, speaker changed

Any other text (`--texts`, e.g. a LitBank or PDNC novel's text.txt) is read in place too, cut
to its first --max-words words at a paragraph end, and rendered with the cast narrator makes.
Every chapter of a text is measured (a `==` block each); the `===` line gives the M4B.

usage: .venv/bin/python bench/sound.py [--chapters courier-01 relay-01 ...] [--preset acx]
                                       [--texts ../shared/bench/litbank/24_o_pioneers/text.txt]
                                       [--max-words 3000] [--jobs 2] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import tomllib
import wave
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from audio_figures import median_f0_hz, semitones  # noqa: E402
from bench_data import BENCH_DATA  # noqa: E402

from narrator.audio_format import SAMPLE_RATE_HZ as RATE  # noqa: E402
from narrator.export import read_vtt  # noqa: E402
from narrator.ffmpeg import measure_loudness  # noqa: E402
from narrator.model import Cue, VoiceFigures  # noqa: E402
from narrator.voices import voice_distance  # noqa: E402

WEBFIC = BENCH_DATA / "webfic"
NARRATOR = REPO / ".venv" / "bin" / "narrator"
MIN_SPEAKER_S = 3.0  # less audio than this gives no stable loudness or pitch
MIN_PAIR_CUES = 3


@dataclass
class Speaker:
    name: str
    voice: str
    cues: int
    seconds: float
    loudness_lufs: float | None
    pace_wpm: float
    pitch_hz: float | None


def render(
    source: Path, cast: Path | None, work: Path, preset: str, jobs: int, max_words: int
) -> tuple[list[Path], Path, Path]:
    """Render one text (a copy of its first max_words words) with `cast` (None: narrator
    makes one); its chapter MP3s in order (each with its VTT beside it), the cast file the
    render filled in, and the M4B of all its chapters."""
    name = source.parent.name if source.name == "text.txt" else source.stem
    folder = work / name
    folder.mkdir()
    text = folder / f"{name}.txt"
    text.write_text(first_words(source.read_text(encoding="utf-8"), max_words), encoding="utf-8")
    cast_copy = folder / "cast.toml"
    cmd = [str(NARRATOR), "render", str(text), "--out", str(folder / "out")]
    if cast is not None:
        shutil.copy(cast, cast_copy)
        cmd += ["--cast", str(cast_copy)]
    env = dict(os.environ, NARRATOR_CACHE_DIR=str(work / "cache"))
    cmd += ["--format", "both", "--jobs", str(jobs), "--preset", preset]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    mp3s = sorted((folder / "out").rglob("*.mp3"))
    return mp3s, cast_copy, next((folder / "out").rglob("*.m4b"))


def first_words(text: str, max_words: int) -> str:
    """The paragraphs of `text` up to the one that reaches max_words words (all of a shorter
    text, unchanged)."""
    if len(text.split()) <= max_words:
        return text
    kept, words = [], 0
    for paragraph in re.split(r"\n\s*\n", text):
        kept.append(paragraph)
        words += len(paragraph.split())
        if words >= max_words:
            break
    return "\n\n".join(kept) + "\n"


def decode(mp3: Path) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-ar", str(RATE)]
    raw = subprocess.run([*cmd, "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2")


def voices_of(cast: Path) -> dict[str, str]:
    data = tomllib.loads(cast.read_text(encoding="utf-8")) if cast.exists() else {}
    voices = {"Narrator": data.get("narrator", {}).get("voice", "narrator")}
    for character in data.get("character", []):
        voices[character["name"]] = character.get("voice", "?")
    return voices


def speaker_figures(
    samples: np.ndarray, cues: list[Cue], voices: dict[str, str], work: Path
) -> list[Speaker]:
    found = []
    for name in sorted({c.speaker for c in cues}):
        own = [c for c in cues if c.speaker == name]
        pieces = [samples[c.start_ms * RATE // 1000 : c.end_ms * RATE // 1000] for c in own]
        joined = np.concatenate(pieces)
        seconds = len(joined) / RATE
        words = sum(len(re.findall(r"[\w'’-]+", c.text)) for c in own)
        loudness = pitch = None
        if seconds >= MIN_SPEAKER_S:
            path = work / "speaker.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(joined.astype("<i2").tobytes())
            loudness = measure_loudness(path).integrated_lufs
            pitch = median_f0_hz(joined.astype(np.float64) / 32768.0, RATE)
        pace = words * 60 / seconds if seconds else 0.0
        found.append(
            Speaker(name, voices.get(name, "(label)"), len(own), seconds, loudness, pace, pitch)
        )
    return found


def closest_pair(speakers: list[Speaker]) -> tuple[float, Speaker, Speaker] | None:
    known = [s for s in speakers if s.pitch_hz and s.cues >= MIN_PAIR_CUES]
    best = None
    for i, a in enumerate(known):
        for b in known[i + 1 :]:
            assert a.pitch_hz and b.pitch_hz
            distance = voice_distance(
                VoiceFigures(a.pitch_hz, a.pace_wpm, 0.0, 0.0),
                VoiceFigures(b.pitch_hz, b.pace_wpm, 0.0, 0.0),
            )
            if best is None or distance < best[0]:
                best = (distance, a, b)
    return best


def report_chapter(name: str, mp3: Path, voices: dict[str, str], work: Path) -> None:
    """Print one chapter MP3's figures: loudness, peaks, head and tail, gaps, speakers, pair."""
    check = measure_loudness(mp3)
    samples = decode(mp3)
    cues = read_vtt(mp3.with_suffix(".vtt"))
    if not cues:
        print(f"== {name}: no cues")
        return
    full_scale = int(np.sum(np.abs(samples.astype(np.int32)) >= 32767))
    head_s = cues[0].start_ms / 1000
    tail_s = len(samples) / RATE - cues[-1].end_ms / 1000
    same, changed = [], []
    for a, b in itertools.pairwise(cues):
        gap_s = (b.start_ms - a.end_ms) / 1000
        (same if a.speaker == b.speaker else changed).append(gap_s)
    print(
        f"== {name}: {check.integrated_lufs:.1f} LUFS, true peak "
        f"{check.true_peak_dbtp:.1f} dBTP, {full_scale} decoded samples at full scale; "
        f"head {head_s:.2f} s, tail {tail_s:.2f} s; median gap same speaker "
        f"{statistics.median(same) if same else 0:.2f} s, speaker change "
        f"{statistics.median(changed) if changed else 0:.2f} s"
    )
    speakers = speaker_figures(samples, cues, voices, work)
    narrator = next((s for s in speakers if s.name == "Narrator"), None)
    print(f"   {'speaker':<22} {'voice':<18} cues   secs    LUFS  vs narr   wpm    F0")
    for s in sorted(speakers, key=lambda s: -s.seconds):
        relative = (
            f"{s.loudness_lufs - narrator.loudness_lufs:+7.1f}"
            if s.loudness_lufs is not None and narrator and narrator.loudness_lufs
            else "      -"
        )
        lufs = f"{s.loudness_lufs:7.1f}" if s.loudness_lufs is not None else "      -"
        f0 = f"{s.pitch_hz:5.0f}" if s.pitch_hz else "    -"
        print(
            f"   {s.name[:22]:<22} {s.voice[:18]:<18} {s.cues:>4} {s.seconds:6.1f} "
            f"{lufs} {relative}  {s.pace_wpm:5.0f} {f0}"
        )
    pair = closest_pair(speakers)
    if pair:
        distance, a, b = pair
        assert a.pitch_hz and b.pitch_hz
        print(
            f"   closest pair: {a.name} / {b.name}: "
            f"{semitones(a.pitch_hz, b.pitch_hz):.1f} semitones, pace "
            f"{abs(a.pace_wpm / b.pace_wpm - 1) * 100:.0f}% apart (distance {distance:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", nargs="*", default=["courier-01", "courier-02", "relay-01"])
    parser.add_argument("--texts", nargs="+", type=Path, default=[], metavar="TEXT")
    parser.add_argument("--max-words", type=int, default=3000)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the renders; print where")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="narrator-sound-"))
    try:
        sources: list[tuple[str, Path, Path | None]] = []
        for chapter_id in args.chapters:
            own_cast = WEBFIC / f"{chapter_id}.cast.toml"
            cast = own_cast if own_cast.exists() else WEBFIC / "cast.toml"
            sources.append((chapter_id, WEBFIC / f"{chapter_id}.txt", cast))
        for path in args.texts:
            sources.append((path.parent.name if path.name == "text.txt" else path.stem, path, None))
        for chapter_id, source, cast_file in sources:
            max_words = args.max_words if cast_file is None else 10**9
            mp3s, cast, m4b = render(source, cast_file, work, args.preset, args.jobs, max_words)
            book = measure_loudness(m4b)
            print(
                f"=== {chapter_id}: M4B (all {len(mp3s)} chapters) {book.integrated_lufs:.1f} "
                f"LUFS, true peak {book.true_peak_dbtp:.1f} dBTP"
            )
            for mp3 in mp3s:
                name = chapter_id if len(mp3s) == 1 else f"{chapter_id} {mp3.stem[:40]}"
                report_chapter(name, mp3, voices_of(cast), work)
    finally:
        if args.keep:
            print(f"renders kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
