"""Lines in other scripts: stretches, the voice for each, and what is said when none fits
(narrator.synth.language, its use in the espeak engine and in the render summary)."""

from __future__ import annotations

import array
from pathlib import Path

import pytest
from test_synth import zero_crossings_per_s

from narrator import pipeline
from narrator.casting import language_warnings
from narrator.export import read_vtt
from narrator.layout import Format
from narrator.model import Line, VoiceSettings
from narrator.plan import RenderOptions
from narrator.report import analyze_input
from narrator.synth import ClipCache, SynthPool
from narrator.synth.language import (
    SWITCH_PAUSE_MS,
    Stretch,
    ends_clause,
    language_stretches,
    language_voice,
    languages_without_voice,
    stretch_settings,
    trim_switch_pause,
)

INSTALLED = ["gmw/en-us", "grk/el", "zle/ru", "zle/uk", "sit/cmn", "jpx/ja", "ko"]
HIGH = VoiceSettings(engine_voice="gmw/en-us+f3", rate_wpm=190, pitch=80, volume=0.9)
LOW = VoiceSettings(engine_voice="gmw/en-us+m7", rate_wpm=150, pitch=20, volume=1.0)


def test_a_latin_line_is_one_stretch_in_the_speakers_own_voice() -> None:
    for text in ("Where is the ship?", "Zoë and Éowyn met Łukasz at the café."):
        assert language_stretches(text) == [Stretch(text, None)]


def test_a_mixed_line_switches_for_the_foreign_stretch_and_back() -> None:
    text = "Follow me, 我们走吧, she said to Анна."
    stretches = language_stretches(text)
    assert "".join(s.text for s in stretches) == text
    assert [(s.text, s.language) for s in stretches] == [
        ("Follow me, ", None),
        ("我们走吧, ", "cmn"),
        ("she said to ", None),
        ("Анна.", "ru"),
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Πού είναι το πλοίο;", "el"),
        ("Где корабль?", "ru"),
        ("Їжак і Анна", "uk"),  # letters only Ukrainian uses
        ("我们走吧。", "cmn"),
        ("東京へ行きます。", "ja"),  # kanji with kana: Japanese
        ("ｶﾀｶﾅ", "ja"),  # half-width katakana
        ("안녕하세요", "ko"),
        ("ខ្ញុំទៅ", "km"),
    ],
)
def test_the_script_names_the_language(text: str, language: str) -> None:
    assert [s.language for s in language_stretches(text)] == [language]


def test_a_stretch_keeps_the_speakers_variant_pitch_pace_and_volume() -> None:
    greek = stretch_settings(HIGH, "el", INSTALLED)
    assert greek == VoiceSettings("grk/el+f3", 190, 80, 0.9)
    plain = VoiceSettings("gmw/en-us", 175, 50, 1.0)
    assert stretch_settings(plain, "cmn", INSTALLED).engine_voice == "sit/cmn"
    assert stretch_settings(HIGH, None, INSTALLED) == HIGH
    # No voice for the language: the speaker's own voice reads it.
    assert stretch_settings(HIGH, "km", INSTALLED) == HIGH


def test_languages_without_voice_counts_the_lines_that_need_them() -> None:
    assert language_voice("el", INSTALLED) == "grk/el"
    assert language_voice("km", INSTALLED) is None
    texts = ["ខ្ញុំ and Θάλασσα", "ខ្ញុំទៅ", "Where is the ship?", "ສະບາຍດີ"]
    assert languages_without_voice(texts, INSTALLED) == {"km": 2, "lo": 1}


def test_the_pause_inside_a_sentence_is_cut_at_a_switch_but_not_after_a_clause() -> None:
    speech = array.array("h", [8000, -8000] * 2205).tobytes()  # 200 ms
    silence = bytes(2 * 6615)  # 300 ms
    trimmed = trim_switch_pause(speech + silence)
    assert len(trimmed) == len(speech) + 2 * (SWITCH_PAUSE_MS * 22050 // 1000)
    assert trim_switch_pause(speech) == speech
    assert trim_switch_pause(silence) == silence[: 2 * (SWITCH_PAUSE_MS * 22050 // 1000)]
    assert not ends_clause("said ") and not ends_clause("to the")
    assert ends_clause("Follow me, ") and ends_clause("我们走吧。") and ends_clause("Stop!")


def _line(text: str, index: int = 0) -> Line:
    return Line(index, text, text, "Narrator", "narrator", HIGH)


def test_the_summary_names_a_language_no_voice_speaks() -> None:
    # The fake engine offers Greek, Russian and Mandarin voices, not Khmer.
    lines = [_line("ខ្ញុំទៅ"), _line("Θάλασσα"), _line("ខ្ញុំ, she said", 2), _line("Plain.")]
    warnings = language_warnings(lines, "fake")
    assert warnings == ["no fake voice speaks Khmer (km): 2 lines read in the speaker's own voice"]
    assert language_warnings([_line("Θάλασσα, Анна, 我们")], "fake") == []


# ---------------------------------------------------------------- with espeak-ng


def _need_ms(units: int, rate_wpm: int) -> float:
    return units * 60000.0 / rate_wpm


@pytest.mark.espeak
def test_espeak_speaks_greek_and_mandarin_in_those_languages_at_the_speakers_pitch(
    tmp_path: Path,
) -> None:
    greek = "Πού είναι το πλοίο; Έφυγε την αυγή."  # 7 words
    mandarin = "我们走吧。"  # 4 syllables
    lines = [
        Line(0, greek, greek, "A", "a", HIGH),
        Line(1, greek, greek, "B", "b", LOW),
        Line(2, greek, greek, "C", "c", VoiceSettings("grk/el+f3", 190, 80, 0.9)),
        Line(3, mandarin, mandarin, "A", "a", HIGH),
        Line(4, "The sea, Θάλασσα, is far.", "", "A", "a", HIGH),
        Line(5, "said Анна", "", "A", "a", HIGH),
        Line(6, "said", "", "A", "a", HIGH),
        Line(7, "Анна", "", "A", "a", HIGH),
    ]
    with SynthPool("espeak", ClipCache(tmp_path), jobs=1) as pool:
        result = pool.synthesize(lines)
    high, low, native, chinese, mixed, said_anna, said, anna = result.clips
    # No pause in the middle of `said Анна`: espeak-ng's 300 ms after `said` is cut.
    assert said_anna.duration_ms < said.duration_ms + anna.duration_ms - 150
    # The English voice hands the Greek to the Greek voice: about as long as the Greek
    # voice itself, where letter-by-letter reading took several seconds a word.
    assert abs(high.duration_ms - native.duration_ms) < 0.15 * native.duration_ms
    assert 0.5 * _need_ms(7, 190) < high.duration_ms < 2.0 * _need_ms(7, 190)
    assert 0.5 * _need_ms(4, 190) < chinese.duration_ms < 2.0 * _need_ms(4, 190)
    assert 0.5 * _need_ms(5, 190) < mixed.duration_ms < 2.0 * _need_ms(5, 190)
    # The speaker's pitch carries over into the other language.
    assert zero_crossings_per_s(high.wav_path) > zero_crossings_per_s(low.wav_path)


@pytest.mark.espeak
@pytest.mark.ffmpeg
def test_a_chapter_with_names_and_lines_in_other_scripts_renders_at_speaking_length(
    tmp_path: Path,
) -> None:
    # Written for this test.
    chapter = tmp_path / "harbour.txt"
    chapter.write_text(
        '"Where is the ship?" asked Éowyn.\n\n'
        '"It sailed at dawn," said Анна.\n\n'
        '"Then we walk," replied Ōkami.\n\n'
        '"Πού είναι το πλοίο;" asked Νίκος.\n\n'
        '"我们走吧," said 李明.\n',
        encoding="utf-8",
    )
    cast = tmp_path / "cast.toml"
    cast.write_text(
        "".join(f'[[character]]\nname = "{n}"\n\n' for n in ("Éowyn", "Анна", "Ōkami", "Νίκος"))
        + '[[character]]\nname = "Li Ming"\naliases = ["李明"]\n',
        encoding="utf-8",
    )
    options = RenderOptions(
        out_dir=tmp_path / "out",
        engine="espeak",
        jobs=2,
        cast_path=cast,
        format=Format.MP3,
        state_dir=tmp_path / "state",
    )
    summary = pipeline.render_book(chapter, options)
    assert not [w for w in summary.warnings if "voice speaks" in w]
    (result,) = summary.chapters
    cues = read_vtt(result.vtt_path)
    speakers = [cue.speaker for cue in cues if cue.text.startswith('"')]
    assert speakers == ["Éowyn", "Анна", "Ōkami", "Νίκος", "Li Ming"]
    spoken = {cue.text: cue.end_ms - cue.start_ms for cue in cues}
    # espeak-ng reads about 1.2x faster than its rate; 4 words and 4 syllables.
    assert 600 < spoken['"Πού είναι το πλοίο;"'] < 3000
    assert 600 < spoken['"我们走吧,"'] < 3000
    # 27 spoken units in all, plus pauses between lines: nowhere near letter spelling.
    assert summary.duration_ms < 25000


def test_the_issue_chapter_is_attributed_with_and_without_a_cast(tmp_path: Path) -> None:
    # Written for this test: each name is mentioned once, as in the issue.
    chapter = tmp_path / "gate.txt"
    chapter.write_text(
        'Rain fell on the gate.\n\n"Where is the ship?" asked Éowyn.\n\n'
        '"It sailed at dawn," said Анна.\n\n"Then we walk," replied Ōkami.\n',
        encoding="utf-8",
    )
    cast = tmp_path / "people.toml"
    cast.write_text(
        '[[character]]\nname = "Eowyn"\n\n[[character]]\nname = "Anna"\naliases = ["Анна"]\n\n'
        '[[character]]\nname = "O\u0304kami"\n',
        encoding="utf-8",
    )

    def speakers(cast_path: Path | None) -> list[str]:
        segments = analyze_input(chapter, cast_path).to_json()["segments"]
        return [s["speaker"] for s in segments if s["speaker"]]  # type: ignore[index]

    assert speakers(None) == ["Éowyn", "Анна", "Ōkami"]
    assert speakers(cast) == ["Eowyn", "Anna", "Ōkami"]
