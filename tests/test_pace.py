"""synth/pace.py: syllables, speech units and the pace factor; the rate espeak-ng is given."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from test_synth import synthesize_lines

from narrator.audio_format import SAMPLE_RATE_HZ as SAMPLE_RATE
from narrator.model import Line, VoiceSettings
from narrator.stitch import trim_pcm
from narrator.synth import ClipCache
from narrator.synth.espeak import clip_rate, engine_rate
from narrator.synth.pace import (
    CLAUSE_PAUSE_SYLLABLES,
    CLIP_SYLLABLES,
    FACTOR_RANGE,
    REFERENCE_UNITS_PER_WORD,
    SENTENCE_PAUSE_SYLLABLES,
    WORD_SYLLABLES,
    pace_factor,
    speech_units,
    word_syllables,
)

# Written for these tests.
SHORT_WORDS = "He went to the door and looked out at the rain and then he went back in to bed."
LONG_WORDS = (
    "Unfortunately, the administrative committee, considering everything, "
    "immediately recommended additional investigations."
)
PLAIN = "The lamp on the table had gone out, and nobody wanted to light it again."
RUN_ON = (
    "we ran down the hall and out the back door and nobody saw us go. it was way too late "
    "for this and i was so tired i could not even think straight. then the bell rang and we "
    "both just stood there like we did not know what a bell was"
)
ORNATE = (
    "Notwithstanding the considerable inconvenience occasioned by the weather, the travellers, "
    "having deliberated at length, resolved to continue; and accordingly, before the evening "
    "had entirely declined, they arrived, exhausted but triumphant, at the venerable inn."
)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("the", 1),
        ("are", 1),
        ("one", 1),
        ("stone", 1),
        ("table", 2),
        ("little", 2),
        ("walked", 1),
        ("wanted", 2),
        ("makes", 1),
        ("horses", 2),
        ("lovely", 2),
        ("something", 2),
        ("anybody", 4),
        ("tomorrow", 3),
        ("investigation", 5),
        ("doesn\u2019t", 2),
        ("7", 1),
    ],
)
def test_word_syllables_of_common_words(word: str, syllables: int) -> None:
    assert word_syllables(word) == syllables


def test_units_count_pauses_inside_a_line_but_not_at_its_end() -> None:
    words, units = speech_units("Stop.")
    assert words == 1
    assert units == pytest.approx(1 + WORD_SYLLABLES + CLIP_SYLLABLES)
    # One clause mark and one sentence end inside; the final stop is trimmed by the stitcher.
    words, units = speech_units("Well, yes. No.")
    assert words == 3
    assert units == pytest.approx(
        3 * (1 + WORD_SYLLABLES)
        + CLAUSE_PAUSE_SYLLABLES
        + SENTENCE_PAUSE_SYLLABLES
        + CLIP_SYLLABLES
    )


def test_text_with_more_to_say_per_word_gets_a_faster_setting() -> None:
    assert pace_factor(SHORT_WORDS) < pace_factor(PLAIN) < pace_factor(LONG_WORDS)
    assert pace_factor(SHORT_WORDS) < 1.0 < pace_factor(LONG_WORDS)


def test_factor_is_bounded() -> None:
    low, high = FACTOR_RANGE
    monosyllables = " ".join(["go"] * 200)
    polysyllables = ", ".join(["unconstitutionality"] * 50)
    assert pace_factor(monosyllables) == low
    assert pace_factor(polysyllables) == high


def test_short_line_moves_less_than_a_long_one_of_the_same_kind() -> None:
    # "Go." alone says little about the text; forty monosyllables say a lot.
    assert abs(pace_factor("Go.") - 1) < 0.5 * abs(pace_factor(" ".join(["go"] * 40)) - 1)


def test_text_in_another_script_keeps_the_voice_pace() -> None:
    assert pace_factor("\u0398\u03ac\u03bb\u03b1\u03c3\u03c3\u03b1 \u03ba\u03b1\u03b9") == 1.0
    assert pace_factor("") == 1.0


def test_reference_like_text_keeps_the_calibrated_rate() -> None:
    words, units = speech_units(PLAIN)
    assert units / words == pytest.approx(REFERENCE_UNITS_PER_WORD, rel=0.08)
    assert abs(clip_rate(PLAIN, 160) - engine_rate(160)) <= 0.08 * engine_rate(160)


@pytest.mark.parametrize("text", [SHORT_WORDS, PLAIN, LONG_WORDS, "Go."])
def test_characters_keep_their_relative_speeds(text: str) -> None:
    # Two voices speaking the same line: the faster profile stays faster by about its ratio.
    slow, fast = clip_rate(text, 120), clip_rate(text, 180)
    assert slow < fast
    assert fast / slow == pytest.approx(engine_rate(180) / engine_rate(120), rel=0.05)


def test_rate_depends_only_on_text_and_pace() -> None:
    # The clip cache's key holds the text, the settings and the engine id (with the
    # calibration's version), so the rate used must follow from the text and rate_wpm alone.
    assert clip_rate(LONG_WORDS, 157) == clip_rate(LONG_WORDS, 157)
    assert clip_rate(LONG_WORDS, 157) != clip_rate(SHORT_WORDS, 157)


@pytest.mark.espeak
def test_espeak_reads_run_on_and_ornate_prose_at_closer_paces(tmp_path: Path) -> None:
    # One espeak-ng setting for both (before synth/pace.py): 204 and 106 words per minute in
    # the narrator's voice at rate_wpm 160, 1.9x apart. With the pace per line: 174 and 131
    # (the ornate passage's factor is at the top of FACTOR_RANGE).
    settings = VoiceSettings("gmw/en-gb-x-rp+m3", 160, 41, 1.0)
    texts = (RUN_ON, ORNATE)
    lines = [
        Line(segment_index=i, text=t, display=t, speaker="N", voice_id="n", settings=settings)
        for i, t in enumerate(texts)
    ]
    result = synthesize_lines(lines, "espeak", cache=ClipCache(tmp_path / "clips"))
    paces = []
    for text, clip in zip(texts, result.clips, strict=True):
        with wave.open(str(clip.wav_path), "rb") as wav:
            pcm = trim_pcm(wav.readframes(wav.getnframes()))
        paces.append(len(re.findall(r"[\w']+", text)) * 60 / (len(pcm) / 2 / SAMPLE_RATE))
    run_on_wpm, ornate_wpm = paces
    assert run_on_wpm / ornate_wpm < 1.5
    assert 140 < run_on_wpm < 190
