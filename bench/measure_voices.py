#!/usr/bin/env python3
"""Measure every voice profile once and store the figures in its `[measured]` table.

Each profile speaks the same reference text (written for this script: eight narrative
sentences and eight short lines of dialogue), one line per clip as narrator does, through
espeak-ng (pyttsx3, the engine narrator renders with). Clips are trimmed as the stitcher
trims them. Figures:
  pitch_hz       median F0 of the voiced frames (bench/audio_figures.py, autocorrelation)
  pace_wpm       words per minute inside the trimmed clips (what a listener hears per line)
  loudness_lufs  integrated loudness of the clips joined with 0.3 s gaps (ffmpeg ebur128),
                 at the profile's own settings and no gain
  weighting_db   loudness_lufs minus narrator.master.LoudnessMeter's plain-RMS estimate of
                 the same clips (the stitcher adds it back per voice when it estimates a
                 chapter's loudness)
`settings` records what was measured; a profile edited afterwards loses its figures until
this script runs again.

usage: .venv/bin/python bench/measure_voices.py [--voices-dir voices] [--write] [--markdown]
       .venv/bin/python bench/measure_voices.py --rates gmw/en-us+f3 [...]   # rate calibration
       .venv/bin/python bench/measure_voices.py --units gmw/en-us+f3 [...]   # pause costs
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import tomlkit
from audio_figures import median_f0_hz, read_pcm, words_per_minute

from narrator.audio_format import SAMPLE_RATE_HZ
from narrator.ffmpeg import measure_loudness
from narrator.master import LoudnessMeter
from narrator.model import (
    VoiceFigures,
    VoiceProfile,
    VoiceSettings,
)
from narrator.stitch import trim_pcm
from narrator.synth import pace
from narrator.synth.espeak import EspeakEngine
from narrator.synth.pace import speech_units
from narrator.voices import (
    load_profile,
    measured_settings,
    project_voices_dir,
    voice_distance,
)

# Written for this script: plain narrative prose and a little dialogue-like speech.
REFERENCE = (
    "The house stood at the end of a long lane, where the hedges grew thick and wild.",
    "Nobody had lived there for years, and the windows were dark with dust.",
    "In the spring, a woman with a small brown suitcase walked up the path and knocked twice.",
    "She waited for a long time, listening to the wind in the chimney, before she tried it.",
    "The door opened at once, as if it had been expecting her all along.",
    "Is anybody home? I have come about the letter, the one you sent in March.",
    "Nothing answered but a clock, ticking somewhere upstairs, slow and patient.",
    "Well then, she said to herself, I shall make myself a cup of tea and wait.",
    # Short lines as characters speak them: their pace and pitch are what casting must tell
    # apart (on long narrative sentences alone, paces came out ~10% further apart than on
    # a chapter's dialogue).
    "Where are you going?",
    "Stop! Come back here this minute!",
    "I don't know. Maybe tomorrow, maybe never.",
    "Fine. Have it your way.",
    "You said you would be here by six, and it is nearly nine.",
    "Look at that! It's snowing!",
    "Thank you, truly.",
    "Who told you that?",
)
# For --units only, also written for this script: sentences with few or many pauses, long and
# short words, and lines as web fiction writes them (lower case, run-on, doubled stops), so
# that the cost of a syllable, a pause and a clip can be told apart.
UNIT_SENTENCES = (
    "He walked to the door and looked out at the rain for a while and then he went back in.",
    "Her grandmother, who had never once, in all her years, raised her voice, stood up.",
    "Wait. Listen. Do you hear that? No? Then it is gone.",
    "The committee's preliminary investigation identified considerable irregularities.",
    "we ran down the stairs and out the door and nobody even saw us go lol",
    "it was way too early for this.. she looked at the clock and it said seven",
    "Slowly, carefully, almost tenderly, the old man folded the map; then he smiled.",
    "Yes.",
    "Absolutely not, under any circumstances whatsoever.",
    "She had a cat, a dog, two birds, a tortoise and, for a short time, a goat.",
    "Everything depended on whether the messenger arrived before the evening tide.",
    "It is late. Go home. We will talk about it in the morning, when we are both rested.",
)
GAP_S = 0.3
RATE_SETTINGS = (80, 120, 160, 200, 300)
CALIBRATION_SENTENCES = REFERENCE[:8]  # what --rates and --units speak
UNIT_SETTINGS = (100, 130, 180)


@dataclass(frozen=True)
class Figures:
    pitch_hz: float
    pace_wpm: float
    loudness_lufs: float
    weighting_db: float


def speak(
    engine: EspeakEngine, settings: VoiceSettings, tmp: Path, sentences: tuple[str, ...]
) -> list[bytes]:
    """The sentences as trimmed clips (16-bit PCM)."""
    clips = []
    for number, sentence in enumerate(sentences):
        path = tmp / f"{number}.wav"
        engine.synthesize(sentence, settings, path)
        with wave.open(str(path), "rb") as wav:
            clips.append(trim_pcm(wav.readframes(wav.getnframes())))
    return clips


def measure(
    engine: EspeakEngine, settings: VoiceSettings, sentences: tuple[str, ...] = REFERENCE
) -> Figures:
    with tempfile.TemporaryDirectory(prefix="narrator-measure-") as tmp_dir:
        tmp = Path(tmp_dir)
        clips = speak(engine, settings, tmp, sentences)
        gap = bytes(2 * round(GAP_S * SAMPLE_RATE_HZ))
        joined = tmp / "joined.wav"
        with wave.open(str(joined), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE_HZ)
            for clip in clips:
                out.writeframes(gap + clip)
            out.writeframes(gap)
        loudness = measure_loudness(joined).integrated_lufs
        samples, rate = read_pcm(joined)
        pitch = median_f0_hz(samples, rate)
    meter = LoudnessMeter(SAMPLE_RATE_HZ)
    for clip in clips:
        meter.add(clip)
    estimate = meter.loudness_lufs()
    if pitch is None or estimate is None:
        raise SystemExit(f"{settings.engine_voice}: no voiced speech measured")
    pace = words_per_minute(
        [len(s.split()) for s in sentences], [len(c) / 2 / SAMPLE_RATE_HZ for c in clips]
    )
    weighting = round(loudness - estimate, 2)
    return Figures(round(pitch, 1), round(pace, 1), round(loudness, 1), weighting)


def settings_of(profile: VoiceProfile) -> VoiceSettings:
    return VoiceSettings(profile.engine_voice, profile.rate_wpm, profile.pitch, profile.volume)


def write_figures(path: Path, profile: VoiceProfile, figures: Figures) -> None:
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = tomlkit.table()
    table.comment("written by bench/measure_voices.py; run it again after editing this file")
    table["settings"] = measured_settings(profile)
    table["pitch_hz"] = figures.pitch_hz
    table["pace_wpm"] = figures.pace_wpm
    table["loudness_lufs"] = figures.loudness_lufs
    table["weighting_db"] = figures.weighting_db
    if "measured" in document:
        del document["measured"]
    text = tomlkit.dumps(document).rstrip("\n") + "\n\n" + tomlkit.dumps({"measured": table})
    path.write_text(text, encoding="utf-8")


@contextmanager
def raw_rates() -> Iterator[None]:
    """The engine's rate setting is the rate asked for: its calibration bypassed."""
    from narrator.synth import espeak

    real = espeak.clip_rate
    espeak.clip_rate = lambda text, rate_wpm: round(rate_wpm)  # type: ignore[assignment]
    try:
        yield
    finally:
        espeak.clip_rate = real


def calibrate_rates(engine: EspeakEngine, voices: list[str]) -> None:
    """Real words per minute for espeak-ng rate settings (the engine's calibration bypassed)."""
    with raw_rates():
        print("voice                          " + "".join(f"{r:>8}" for r in RATE_SETTINGS))
        for voice in voices:
            row = []
            for rate in RATE_SETTINGS:
                settings = VoiceSettings(voice, rate, 50, 1.0)
                figures = measure(engine, settings, CALIBRATION_SENTENCES)
                row.append(figures.pace_wpm)
            print(f"{voice:<30} " + "".join(f"{w:>8.1f}" for w in row))
    words, units = map(sum, zip(*(speech_units(s) for s in CALIBRATION_SENTENCES), strict=True))
    print(f"units per word of these sentences: {units / words:.3f} (pace.REFERENCE_UNITS_PER_WORD)")


def unit_clips() -> list[str]:
    """Texts whose syllables, clause pauses and sentence pauses vary independently: the
    calibration sentences alone, in pairs and all together, with and without their commas,
    and their clauses alone (short clips, which pin down the cost of a clip itself)."""
    singles = [*CALIBRATION_SENTENCES, *UNIT_SENTENCES]
    pairs = [" ".join(singles[i : i + 2]) for i in range(0, len(singles), 2)]
    texts = [*singles, *pairs, " ".join(singles[:8]), " ".join(singles[8:])]
    clauses = [c.strip() for s in singles for c in s.split(",")]
    return [*texts, *(t.replace(",", "") for t in texts), *clauses]


def fit_units(engine: EspeakEngine, voices: list[str]) -> None:
    """What a word, a clause pause and a sentence pause inside a clip cost, in syllables: a
    least-squares fit of trimmed clip durations
    = a*syllables + b*words + c*clause marks + d*sentence ends + e."""
    texts = unit_clips()
    counts = []
    for text in texts:
        words = pace.words_of(text)
        body = pace.clip_body(text)
        counts.append(
            [
                sum(pace.word_syllables(w) for w in words),
                len(words),
                len(pace.CLAUSE_MARK_RE.findall(body)),
                len(pace.SENTENCE_END_RE.findall(body)),
                1.0,
            ]
        )
    design = np.array(counts, dtype=float)
    print(
        f"{'voice':<26} {'setting':>7} {'ms/syll':>8} {'word':>6} {'clause':>7} {'sentence':>8} "
        f"{'clip':>6}"
    )
    with raw_rates(), tempfile.TemporaryDirectory(prefix="narrator-units-") as tmp_dir:
        for voice in voices:
            for rate in UNIT_SETTINGS:
                settings = VoiceSettings(voice, rate, 50, 1.0)
                seconds = []
                for number, text in enumerate(texts):
                    path = Path(tmp_dir) / f"{number}.wav"
                    engine.synthesize(text, settings, path)
                    with wave.open(str(path), "rb") as wav:
                        pcm = trim_pcm(wav.readframes(wav.getnframes()))
                    seconds.append(len(pcm) / 2 / SAMPLE_RATE_HZ)
                coef, *_ = np.linalg.lstsq(design, np.array(seconds), rcond=None)
                syllable_s, word_s, clause_s, sentence_s, clip_s = (float(c) for c in coef)
                print(
                    f"{voice:<26} {rate:>7} {syllable_s * 1000:>8.1f} {word_s / syllable_s:>6.2f} "
                    f"{clause_s / syllable_s:>7.2f} {sentence_s / syllable_s:>8.2f} "
                    f"{clip_s / syllable_s:>6.2f}"
                )
    print("(word, clause, sentence, clip: in syllables of the same voice at the same setting)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices-dir", type=Path, default=project_voices_dir())
    parser.add_argument("--write", action="store_true", help="store the figures in the files")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--rates", nargs="+", metavar="ENGINE_VOICE")
    parser.add_argument("--units", nargs="+", metavar="ENGINE_VOICE")
    args = parser.parse_args()
    engine = EspeakEngine()
    if args.rates:
        calibrate_rates(engine, args.rates)
        return
    if args.units:
        fit_units(engine, args.units)
        return
    if args.markdown:
        print("| id | engine voice | rate_wpm | pitch | F0 (Hz) | pace (wpm) | LUFS | weighting |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    measured: dict[str, tuple[VoiceProfile, Figures]] = {}
    for path in sorted(args.voices_dir.glob("*.toml")):
        profile = load_profile(path)
        figures = measure(engine, settings_of(profile))
        measured[profile.id] = (profile, figures)
        if args.markdown:
            print(
                f"| {profile.id} | {profile.engine_voice} | {profile.rate_wpm} | {profile.pitch}"
                f" | {figures.pitch_hz:.0f} | {figures.pace_wpm:.0f} | "
                f"{figures.loudness_lufs:.1f} | {figures.weighting_db:+.1f} |"
            )
        else:
            print(
                f"{profile.id:<20} {profile.engine_voice:<26} {profile.rate_wpm:>4} "
                f"{profile.pitch:>3}  F0 {figures.pitch_hz:6.1f} Hz  {figures.pace_wpm:6.1f} wpm  "
                f"{figures.loudness_lufs:6.1f} LUFS  weighting {figures.weighting_db:+.2f} dB"
            )
        if args.write:
            write_figures(path, profile, figures)
    print_close_pairs(measured)


def print_close_pairs(measured: dict[str, tuple[VoiceProfile, Figures]]) -> None:
    """Pairs of profiles a listener may not tell apart (voice_distance below 1)."""
    as_figures = {
        pid: VoiceFigures(f.pitch_hz, f.pace_wpm, f.loudness_lufs, f.weighting_db)
        for pid, (_, f) in measured.items()
    }
    ids = sorted(as_figures)
    pairs = sorted(
        (voice_distance(as_figures[a], as_figures[b]), a, b)
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    )
    close = [(d, a, b) for d, a, b in pairs if d < 1.0]
    print(f"\n{len(close)} of {len(pairs)} pairs closer than distinct (distance < 1):")
    for distance, a, b in close:
        print(f"  {a:<18} {b:<18} {distance:.2f}")


if __name__ == "__main__":
    main()
