"""Lines from segments: cleaning, pronunciations, splitting long segments, voices, pauses."""

from __future__ import annotations

import itertools

import pytest

from narrator.model import Cast, Kind, Line, Segment, VoiceSettings
from narrator.script import (
    HARD_LINE_CHARS,
    MAX_LINE_CHARS,
    NARRATOR,
    Voice,
    build_lines,
    speakable_text,
    split_spans,
)
from narrator.segment import segment_chapter

SETTINGS = VoiceSettings("gmw/en-us", 175, 50, 1.0)


def _voice_for(segment: Segment) -> tuple[str, Voice]:
    if segment.kind.is_speech:
        return segment.speaker or "Unknown", Voice("woman", SETTINGS)
    return NARRATOR, Voice("narrator", SETTINGS)


def _pause(prev: Line | None, line: Line, gap: str, *, prev_kind: Kind | None, kind: Kind) -> int:
    return 0 if prev is None else (600 if "\n" in gap else 300)


def test_markup_that_the_engine_would_read_aloud_is_removed() -> None:
    assert speakable_text("<b>Run</b>, *now*! _please_") == "Run , now ! please"
    assert speakable_text("See https://example.com/x?y=1 now") == "See link now"
    assert speakable_text("bell\x07 rings\u202e") == "bell rings"


def test_angle_brackets_that_are_not_html_are_spoken() -> None:
    # LitRPG system messages and key names: words in angle brackets, not markup.
    assert speakable_text("<Level Up! You have reached level 5.>") == (
        "Level Up! You have reached level 5."
    )
    assert speakable_text("He pressed <Enter> twice.") == "He pressed Enter twice."
    assert speakable_text("<<Skill gained: Fireball>>") == "Skill gained: Fireball"
    assert speakable_text("<I am the system>") == "I am the system"
    assert speakable_text('<span class="x">Hi</span> <br/>there') == "Hi there"


def test_a_long_run_of_angle_brackets_is_cleaned_in_linear_time() -> None:
    import time

    start = time.perf_counter()
    assert speakable_text("<" * 100_000 + "Hi") == "<" * 100_000 + "Hi"
    assert time.perf_counter() - start < 5.0  # was minutes: every "<" retried the whole run


def test_text_without_letters_or_digits_is_not_spoken() -> None:
    assert speakable_text("* * *") == ""
    assert speakable_text("---  ...  ") == ""
    assert speakable_text("1912") == "1912"


def test_pronunciations_are_cleaned_like_the_text() -> None:
    # A cast file's spoken form is engine input too: markup in it must not reach the engine.
    assert speakable_text("Zed ran.", [("Zed", "<span>Zee</span>\x07")]) == "Zee ran."
    assert speakable_text("Zed", [("Zed", "<b></b>")]) == ""
    assert speakable_text("Zed ran.", [("Zed", "*Zee* `x`")]) == "Zee x ran."


def test_pronunciations_apply_to_whole_words_case_insensitively() -> None:
    rules = (("Naruto", "Nah-roo-toh"), ("justu", "jutsu"))
    assert speakable_text("Naruto used a justu.", rules) == "Nah-roo-toh used a jutsu."
    assert speakable_text("NARUTO's justus", rules) == "Nah-roo-toh's justus"


def test_long_text_is_split_into_sentence_groups_that_cover_it() -> None:
    text = "Mr. Smith went home. He was tired, and the road was long. " * 40
    spans = list(split_spans(text, 0, len(text)))
    assert len(spans) > 5
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end == start  # contiguous: nothing lost
    assert all(e - s <= MAX_LINE_CHARS + HARD_LINE_CHARS for s, e in spans)
    # "Mr." is an abbreviation, not a sentence end.
    assert not any(text[s:e].strip().endswith("Mr.") for s, e in spans)


def test_a_sentence_without_punctuation_is_cut_at_spaces() -> None:
    text = "word " * 2000
    spans = list(split_spans(text, 0, len(text)))
    assert "".join(text[s:e] for s, e in spans) == text
    assert max(e - s for s, e in spans) <= HARD_LINE_CHARS
    long_word = "x" * 5000
    spans = list(split_spans(long_word, 0, len(long_word)))
    assert "".join(long_word[s:e] for s, e in spans) == long_word


def test_build_lines_gives_voices_speakers_and_pauses() -> None:
    text = 'Ann smiled.\n"Hello," she said.\n\n* * *\n'
    segments = [
        Segment(0, 12, Kind.NARRATION, text[0:12]),
        Segment(12, 20, Kind.DIALOGUE, text[12:20], "Ann", 0.9),
        Segment(20, 31, Kind.NARRATION, text[20:31]),
        Segment(31, len(text), Kind.NARRATION, text[31:]),
    ]
    lines = build_lines(text, segments, Cast(), _voice_for, _pause)
    assert [(ln.speaker, ln.display) for ln in lines] == [
        (NARRATOR, "Ann smiled."),
        ("Ann", '"Hello,"'),
        (NARRATOR, "she said."),
    ]
    assert [ln.voice_id for ln in lines] == ["narrator", "woman", "narrator"]
    assert [ln.pause_before_ms for ln in lines] == [0, 600, 300]


def test_a_line_said_together_is_one_line_per_voice() -> None:
    text = '"Now!" they shouted.'
    segments = [
        Segment(0, 6, Kind.DIALOGUE, text[0:6], "Rook and Bo", 0.9),
        Segment(6, len(text), Kind.NARRATION, text[6:]),
    ]
    rook, bo = Voice("man", SETTINGS, gain_db=1.0), Voice("deep-man", SETTINGS, gain_db=-2.0)

    def chorus(segment: Segment) -> list[Voice]:
        return [rook, bo] if segment.speaker == "Rook and Bo" else []

    lines = build_lines(text, segments, Cast(), _voice_for, _pause, chorus)
    assert [(ln.speaker, ln.voice_id, ln.together) for ln in lines] == [
        ("Rook and Bo", "man", False),
        ("Rook and Bo", "deep-man", True),
        (NARRATOR, "narrator", False),
    ]
    # Each voice about 3 dB down, so that the two together are as loud as one.
    assert lines[0].gain_db == pytest.approx(1.0 - 3.01, abs=0.01)
    assert lines[1].gain_db == pytest.approx(-2.0 - 3.01, abs=0.01)
    assert lines[1].display == lines[0].display and lines[1].pause_before_ms == 0
    # Without a chorus the same segments are one voice each.
    plain = build_lines(text, segments, Cast(), _voice_for, _pause)
    assert [ln.voice_id for ln in plain] == ["woman", "narrator"]


def test_headings_and_notes_can_be_left_unread() -> None:
    text = "AN: thanks!\nChapter 2\nShe ran."
    segments = [
        Segment(0, 12, Kind.NOTE, text[0:12]),
        Segment(12, 22, Kind.HEADING, text[12:22]),
        Segment(22, len(text), Kind.NARRATION, text[22:]),
    ]
    every = build_lines(text, segments, Cast(), _voice_for, _pause)
    assert len(every) == 3
    quiet = Cast(read_headings=False, read_notes=False)
    assert [ln.display for ln in build_lines(text, segments, quiet, _voice_for, _pause)] == [
        "She ran."
    ]


def test_a_scene_separator_is_a_pause_never_words() -> None:
    # `-x-x-x-`, `oOo`, `~*~`: marks between scenes; the engine would spell them out.
    text = "She ran.\n\n-x-x-x-\n\noOo\n\n~*~\n\nPart Three\n\nHe hid."
    segments = segment_chapter(text)
    spoken = [ln.display for ln in build_lines(text, segments, Cast(), _voice_for, _pause)]
    assert spoken == ["She ran.", "Part Three", "He hid."]
