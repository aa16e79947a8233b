"""Tests for narrator.casting: cast files, voice assignment and cast file updates."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
import tomlkit

from narrator.casting import (
    Assignment,
    Casting,
    assign_voices,
    cast_warnings,
    load_cast,
    merge_cast,
    set_character,
    validate_cast_voices,
    voice_for_label,
    write_book_info,
    write_cast,
)
from narrator.errors import ConfigError, OutputError
from narrator.model import (
    BookInfo,
    Cast,
    Character,
    Gender,
    Kind,
    Pauses,
    Segment,
    VoiceFigures,
    VoiceProfile,
)
from narrator.voices import load_profiles, voice_distance

F, M = Gender.FEMALE, Gender.MALE

EXAMPLE = """\
# Cast for a test book
[narrator]
voice = "narrator"

[thoughts]
voice = "whisper"

[[character]]
name = "Elizabeth Bennet"
aliases = ["Lizzy", "Eliza", "Miss Bennet"]
gender = "female"          # "male" | "female"; optional
voice = "young-woman"      # a profile in voices/; optional
rate_wpm = 190
pitch = 70
volume = 0.8

[[character]]
name = "Mr. Collins"

[pronunciations]
"Naruto" = "Nah-roo-toh"
"justu" = "jutsu"

[reading]
headings = false
notes = true

[speakers]
complete = true            # every speaker is listed: no walk-on speaks outside the cast

[pauses]                   # seconds; optional, each key too
paragraph = 1.2
scene_break = 3
room_tone = -62            # dBFS RMS of quiet noise in the pauses instead of silence
"""


def profile(pid: str, gender: Gender | None, age: str = "adult") -> VoiceProfile:
    return VoiceProfile(id=pid, description=pid, engine_voice="gmw/en", gender=gender, age=age)


def profiles_of(*items: VoiceProfile) -> dict[str, VoiceProfile]:
    return {p.id: p for p in items}


SMALL = profiles_of(
    profile("narrator", M),
    profile("f-adult", F),
    profile("f-young", F, "young"),
    profile("f-old", F, "old"),
    profile("m-adult", M),
    profile("m-young", M, "young"),
    profile("m-old", M, "old"),
)


def write(tmp_path: Path, text: str, name: str = "cast.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, snippet: str) -> int:
    """1-based number of the (only) line containing snippet."""
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(numbers) == 1, (snippet, numbers)
    return numbers[0]


# ---------------------------------------------------------------- load_cast


def test_load_cast_reads_every_part(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    cast = load_cast(path)
    assert cast.path == path
    assert cast.narrator_voice == "narrator"
    assert cast.thought_voice == "whisper"
    assert cast.pronunciations == (("Naruto", "Nah-roo-toh"), ("justu", "jutsu"))
    assert (cast.read_headings, cast.read_notes) == (False, True)
    assert cast.complete is True
    assert cast.pauses == Pauses(paragraph_s=1.2, scene_break_s=3.0, room_tone_db=-62.0)
    assert cast.characters == (
        Character(
            name="Elizabeth Bennet",
            aliases=("Lizzy", "Eliza", "Miss Bennet"),
            gender=F,
            voice="young-woman",
            rate_wpm=190,
            pitch=70,
            volume=0.8,
        ),
        Character(name="Mr. Collins"),
    )


def test_empty_cast_file_gives_defaults(tmp_path: Path) -> None:
    cast = load_cast(write(tmp_path, "# nothing yet\n"))
    assert cast == Cast(path=tmp_path / "cast.toml")


TWO = '[[character]]\nname = "Jane"\n\n[[character]]\nname = "Lydia"\n'


@pytest.mark.parametrize(
    ("text", "snippet", "expected"),
    [
        (
            TWO + 'gender = "m"\n',
            'gender = "m"',
            'character[2].gender: must be "male" or "female", got "m"',
        ),
        (
            TWO + "gender = 1\n",
            "gender = 1",
            'character[2].gender: must be "male" or "female", got 1',
        ),
        (
            '[[character]]\nname = "Jane"\nvoise = "woman"\n',
            "voise",
            "character[1].voise: unknown key; allowed: name, aliases, gender, voice, rate_wpm",
        ),
        (
            '[[character]]\naliases = ["J"]\n',
            "[[character]]",
            "character[1].name: missing (required)",
        ),
        (
            "[[character]]\nname = 3\n",
            "name = 3",
            "character[1].name: must be a non-empty string, got 3",
        ),
        ('[[character]]\nname = "  "\n', "name =", "character[1].name: must be a non-empty string"),
        (
            '[[character]]\nname = "J"\naliases = "Jay"\n',
            "aliases",
            "character[1].aliases: must be a list of non-empty strings, got 'Jay'",
        ),
        (
            '[[character]]\nname = "J"\naliases = ["Jay", 2]\n',
            "aliases",
            "character[1].aliases: must be a list of non-empty strings",
        ),
        (
            '[[character]]\nname = "J"\nvoice = 5\n',
            "voice",
            "character[1].voice: must be a voice profile id (a string), got 5",
        ),
        (
            '[[character]]\nname = "J"\nrate_wpm = 900\n',
            "rate_wpm",
            "character[1].rate_wpm: must be 80..450, got 900",
        ),
        (
            '[[character]]\nname = "J"\npitch = true\n',
            "pitch",
            "character[1].pitch: must be a whole number 0..99, got True",
        ),
        (
            '[[character]]\nname = "J"\nvolume = 2\n',
            "volume",
            "character[1].volume: must be 0..1, got 2",
        ),
        (
            '[narator]\nvoice = "man"\n',
            "[narator]",
            "narator: unknown key; allowed: book, character, narrator, thoughts, pronunciations, "
            "reading, pauses, speakers",
        ),
        (
            'title = "Book"\n',
            "title",
            "title: unknown key; allowed: book, character, narrator, thoughts, pronunciations, "
            "reading, pauses, speakers; it belongs in the [book] table",
        ),
        ('narrator = "man"\n', "narrator", 'narrator: must be a table: [narrator] voice = "..."'),
        (
            '[narrator]\nvoice = "man"\nspeed = 2\n',
            "speed",
            "narrator.speed: unknown key; allowed: voice",
        ),
        (
            "[thoughts]\nvoice = 1\n",
            "voice",
            "thoughts.voice: must be a voice profile id (a string), got 1",
        ),
        (
            '[pronunciations]\n"Naruto" = 3\n',
            "Naruto",
            "pronunciations.Naruto: must be a non-empty string, got 3",
        ),
        (
            '[reading]\nheadings = "yes"\n',
            "headings",
            "reading.headings: must be true or false, got 'yes'",
        ),
        ("[reading]\nspeed = 1\n", "speed", "reading.speed: unknown key; allowed: headings, notes"),
        (
            '[speakers]\ncomplete = "yes"\n',
            "complete",
            "speakers.complete: must be true or false, got 'yes'",
        ),
        ("[speakers]\nall = true\n", "all", "speakers.all: unknown key; allowed: complete"),
        ('character = "Jane"\n', "character", "character: must be [[character]] tables"),
        (
            "[pauses]\nparagraph = 40\n",
            "paragraph",
            "pauses.paragraph: must be 0..30 seconds, got 40",
        ),
        (
            '[pauses]\nsentence = "short"\n',
            "sentence",
            "pauses.sentence: must be a number of seconds, got 'short'",
        ),
        (
            "[pauses]\nroom_tone = -10\n",
            "room_tone",
            "pauses.room_tone: must be -90..-40 dBFS, got -10",
        ),
        ("[pauses]\nbreath = 1\n", "breath", "pauses.breath: unknown key; allowed: head,"),
        (
            "[pauses]\nparagraph = 0.5\n",
            "paragraph",
            "pauses.paragraph: speaker_change (0.6 s, the default) must be shorter than "
            "paragraph (0.5 s): pauses grow sentence < speaker_change < paragraph < "
            "scene_break < head + tail",
        ),
        (
            "[pauses]\nsentence = 0.6\nspeaker_change = 0.6\n",
            "speaker_change",
            "pauses.speaker_change: sentence (0.6 s) must be shorter than speaker_change (0.6 s)",
        ),
        (
            "[pauses]\nsentence = 0.9\n",
            "sentence",
            "pauses.sentence: sentence (0.9 s) must be shorter than speaker_change (0.6 s, the",
        ),
        (
            "[pauses]\nhead = 0.5\ntail = 1.0\n",
            "head",
            "pauses.head: scene_break (2 s, the default) must be shorter than head + tail (1.5 s)",
        ),
        ("pauses = 1\n", "pauses", "pauses: must be a table: [pauses] paragraph = 0.9"),
        (
            '[[character]]\nname = "Jane"\n\n[[character]]\nname = "jane"\n',
            'name = "jane"',
            "character[2].name: 'jane' is already the name of character[1]",
        ),
    ],
)
def test_cast_errors_name_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, snippet: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_cast(Path("cast.toml"))
    message = str(caught.value)
    assert message.startswith(f"cast.toml:{line_of(text, snippet)}: {expected}"), message
    assert "\n" not in message


def test_cast_without_pauses_has_the_default_pauses(tmp_path: Path) -> None:
    assert load_cast(write(tmp_path, '[narrator]\nvoice = "man"\n')).pauses == Pauses()


def test_default_pauses_grow_in_the_order_a_cast_file_must_keep() -> None:
    d = Pauses()
    assert d.sentence_s < d.speaker_change_s < d.paragraph_s < d.scene_break_s < d.head_s + d.tail_s


def test_pauses_in_order_load_even_far_from_the_defaults(tmp_path: Path) -> None:
    text = "[pauses]\nsentence = 1\nspeaker_change = 2\nparagraph = 3\nscene_break = 3.4\n"
    assert load_cast(write(tmp_path, text)).pauses.scene_break_s == 3.4
    with pytest.raises(ConfigError, match=r"scene_break \(3.4 s\) must be shorter than head"):
        load_cast(write(tmp_path, text + "tail = 2\n"))


def test_cast_toml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[character]]\nname = "Jane"\ngender = female\n')
    with pytest.raises(ConfigError, match=r"cast\.toml: invalid TOML: .*line 3"):
        load_cast(path)


def test_unreadable_cast_file(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"cast\.toml: cannot read cast file"):
        load_cast(path)


def test_shared_alias_is_accepted_with_a_warning(tmp_path: Path) -> None:
    text = (
        '[[character]]\nname = "Jane Bennet"\naliases = ["Miss Bennet", "Jane"]\n'
        '[[character]]\nname = "Elizabeth Bennet"\naliases = ["miss bennet"]\n'
    )
    cast = load_cast(write(tmp_path, text))
    warnings = cast_warnings(cast)
    assert len(warnings) == 1
    assert "'Miss Bennet'" in warnings[0]
    assert "Jane Bennet, Elizabeth Bennet" in warnings[0]
    assert cast_warnings(load_cast(write(tmp_path, EXAMPLE, "clean.toml"))) == []


# ---------------------------------------------------------------- validate_cast_voices


def test_unknown_character_voice_names_file_character_and_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = '[[character]]\nname = "Jane"\n\n[[character]]\nname = "Lizzy"\nvoice = "yuong-woman"\n'
    write(tmp_path, text)
    cast = load_cast(Path("cast.toml"))
    with pytest.raises(ConfigError) as caught:
        validate_cast_voices(cast, SMALL)
    assert str(caught.value) == (
        f"cast.toml:{line_of(text, 'yuong')}: character 'Lizzy': voice 'yuong-woman' is not a "
        f"voice profile; available: {', '.join(sorted(SMALL))}"
    )


@pytest.mark.parametrize("table", ["narrator", "thoughts"])
def test_unknown_narrator_or_thought_voice(tmp_path: Path, table: str) -> None:
    cast = load_cast(write(tmp_path, f'[{table}]\nvoice = "nobody"\n'))
    with pytest.raises(ConfigError, match=rf"cast\.toml:2: {table}: voice 'nobody' is not"):
        validate_cast_voices(cast, SMALL)


def test_known_voices_pass(tmp_path: Path) -> None:
    cast = load_cast(write(tmp_path, '[narrator]\nvoice = "m-old"\n'))
    validate_cast_voices(cast, SMALL)


# ---------------------------------------------------------------- merge_cast


def test_merge_cast_keeps_the_found_order_and_fills_gaps() -> None:
    cast = Cast(
        characters=(
            Character("Elizabeth Bennet", ("Lizzy",), F, voice="f-young"),
            Character("Mr. Collins"),
        )
    )
    found = [
        Character("Mr. Darcy", ("Darcy",), M),
        Character("Lizzy", ("Eliza",), M),  # wrong gender from the finder: the cast wins
        Character("Collins", ("Mr. Collins",), M),
        Character("Jane", (), F),
    ]
    merged = merge_cast(cast, found)
    assert [c.name for c in merged] == ["Mr. Darcy", "Elizabeth Bennet", "Mr. Collins", "Jane"]
    lizzy, collins = merged[1], merged[2]
    assert lizzy.gender == F and lizzy.voice == "f-young"
    assert lizzy.aliases == ("Lizzy", "Eliza")
    assert collins.gender == M  # filled in: the author gave none
    assert collins.aliases == ("Collins",)


def test_cast_names_are_nfc_and_match_found_names_whatever_their_accents(tmp_path: Path) -> None:
    # `Éowyn` typed with a combining accent in the cast file; the text says `Eowyn`.
    cast = load_cast(write(tmp_path, '[[character]]\nname = "E\u0301owyn"\ngender = "female"\n'))
    assert cast.characters[0].name == "\u00c9owyn"
    merged = merge_cast(cast, [Character("Eowyn", ("Lady Eowyn",), F)])
    assert [(c.name, c.aliases) for c in merged] == [("\u00c9owyn", ("Lady Eowyn",))]
    with pytest.raises(ConfigError, match="already the name"):
        load_cast(write(tmp_path, '[[character]]\nname = "Zoë"\n[[character]]\nname = "ZOE"\n'))


def test_a_cast_written_from_found_characters_merges_back_to_the_same_list() -> None:
    found = [
        Character("Tom Hale", ("Tom", "Mr. Hale"), M),
        Character("Ann", (), F),
        Character("Mrs. Hale", (), F),
        Character("Bea", (), F),
    ]
    # The cast file keeps the speakers only, in its own order, with voices added.
    cast = Cast(characters=(replace(found[2], voice="w"), replace(found[0], voice="m")))
    merged = merge_cast(cast, found)
    assert [c.name for c in merged] == [c.name for c in found]
    assert [c.aliases for c in merged] == [c.aliases for c in found]
    assert merge_cast(Cast(characters=(Character("Zed"),)), found)[-1].name == "Zed"


# ---------------------------------------------------------------- assign_voices


def chars(*specs: tuple[str, Gender | None]) -> list[Character]:
    return [Character(name, (), gender) for name, gender in specs]


def test_cast_voices_are_kept_and_narrator_defaults() -> None:
    cast = Cast(characters=(Character("Ann", gender=F, voice="m-old"),))
    assignment = assign_voices(chars(("Ann", F), ("Bob", M)), cast, SMALL, {"Ann": 9, "Bob": 9})
    assert assignment.narrator == "narrator"
    assert assignment.by_character["Ann"] == "m-old"  # the author's choice, even across gender
    assert assignment.by_character["Bob"] in {"m-adult", "m-young"}


def test_cast_narrator_voice_is_used_and_not_given_to_characters() -> None:
    cast = Cast(narrator_voice="f-adult")
    found = chars(("Ann", F), ("Bea", F), ("Cat", F))
    assignment = assign_voices(found, cast, SMALL, {"Ann": 9, "Bea": 9, "Cat": 9})
    assert assignment.narrator == "f-adult"
    assert "f-adult" not in assignment.by_character.values()


@pytest.mark.parametrize("alias", ["I", "you"])
def test_the_storyteller_reads_in_the_narrator_voice_unless_given_one(alias: str) -> None:
    # "you": the one a second-person story is told to, read as a first-person storyteller is.
    wyn = Character("Wyn", aliases=(alias,), gender=F)
    assignment = assign_voices([wyn, *chars(("Bob", M))], Cast(), SMALL, {"Wyn": 30, "Bob": 9})
    assert assignment.by_character["Wyn"] == assignment.narrator
    assert not any("reads both" in w for w in assignment.warnings)
    own = Cast(characters=(replace(wyn, voice="f-adult"),))
    assert assign_voices([wyn], own, SMALL, {"Wyn": 30}).by_character["Wyn"] == "f-adult"


def test_voices_match_gender_and_main_cast_never_share() -> None:
    found = chars(("Ann", F), ("Bob", M), ("Cat", F), ("Dan", M), ("Eve", F), ("Fay", F))
    counts = {c.name: 20 for c in found}
    assignment = assign_voices(found, Cast(), SMALL, counts)
    voices = assignment.by_character
    assert len(set(voices.values())) == len(found)  # main cast: all different
    for character in found[:5]:
        assert SMALL[voices[character.name]].gender == character.gender, character.name
    # Fay, the fourth woman, finds no woman's voice left: a free voice, not a shared one,
    # and not the narrator's while another remains.
    assert voices["Fay"] != "narrator"
    assert assignment.warnings == ()


def test_everyday_voices_go_first() -> None:
    assignment = assign_voices(chars(("Ann", F), ("Bob", M)), Cast(), SMALL, {})
    assert assignment.by_character == {"Ann": "f-adult", "Bob": "m-adult"}


def test_unknown_gender_gets_any_free_voice() -> None:
    found = chars(("Ann", F), ("Pat", None), ("Sam", None))
    assignment = assign_voices(found, Cast(), SMALL, {"Ann": 30, "Pat": 20, "Sam": 10})
    voices = list(assignment.by_character.values())
    assert len(set(voices)) == 3 and "narrator" not in voices


def test_assignment_is_deterministic_whatever_the_input_order() -> None:
    found = chars(("Ann", F), ("Bob", M), ("Cat", F), ("Dan", None), ("Eve", F), ("Gus", M))
    counts = {"Ann": 10, "Bob": 10, "Cat": 3, "Dan": 7, "Eve": 1, "Gus": 10}
    expected = assign_voices(found, Cast(), SMALL, counts)
    for order in itertools.islice(itertools.permutations(found), 0, 720, 37):
        shuffled_counts = dict(reversed(list(counts.items())))
        shuffled_profiles = dict(reversed(list(SMALL.items())))
        again = assign_voices(list(order), Cast(), shuffled_profiles, shuffled_counts)
        assert again == expected


def test_ties_are_broken_by_name() -> None:
    first = assign_voices(chars(("Zoe", F), ("Amy", F)), Cast(), SMALL, {"Zoe": 5, "Amy": 5})
    assert first.by_character["Amy"] == "f-adult"  # same lines: alphabetical order picks first
    more = assign_voices(chars(("Zoe", F), ("Amy", F)), Cast(), SMALL, {"Zoe": 6, "Amy": 5})
    assert more.by_character["Zoe"] == "f-adult"  # more lines: picks first


def test_minor_characters_share_when_voices_run_out() -> None:
    women = [(f"Main{i}", F) for i in range(2)] + [(f"Minor{i}", F) for i in range(5)]
    found = chars(*women)
    counts = {"Main0": 50, "Main1": 40} | {f"Minor{i}": 1 for i in range(5)}
    assignment = assign_voices(found, Cast(), SMALL, counts)
    voices = assignment.by_character
    main_voices = {voices["Main0"], voices["Main1"]}
    assert len(main_voices) == 2
    minor_voices = [voices[f"Minor{i}"] for i in range(5)]
    # The minors share the women's voices the main cast left, not the main cast's own,
    # and never the narrator's.
    assert not set(minor_voices) & main_voices
    assert all(SMALL[v].gender == F for v in minor_voices)
    assert "narrator" not in voices.values()
    assert assignment.warnings == ()


def test_narrator_voice_only_when_nothing_else_remains() -> None:
    only = profiles_of(profile("narrator", M))
    assignment = assign_voices(chars(("Bob", M)), Cast(), only, {"Bob": 10})
    assert assignment.by_character == {"Bob": "narrator"}
    assert any("reads both the narration and Bob" in w for w in assignment.warnings)


def test_main_cast_sharing_is_warned_about() -> None:
    two = profiles_of(profile("narrator", M), profile("w", F))
    assignment = assign_voices(chars(("Ann", F), ("Bea", F)), Cast(), two, {"Ann": 9, "Bea": 9})
    # Sharing a voice beats reading a character in the narrator's voice, but is reported.
    assert assignment.by_character == {"Ann": "w", "Bea": "w"}
    assert assignment.warnings == (
        "voice 'w' is shared by main characters Ann, Bea; "
        "add voice profiles or set voices in the cast file",
    )


def measured(pid: str, gender: Gender, pitch_hz: float, pace_wpm: float) -> VoiceProfile:
    figures = VoiceFigures(pitch_hz, pace_wpm, loudness_lufs=-20.0, weighting_db=0.8)
    return replace(profile(pid, gender), measured=figures)


def test_main_character_is_not_given_a_voice_that_sounds_like_the_narrator() -> None:
    profiles = profiles_of(
        measured("narrator", M, 95.0, 158.0),
        measured("a-close", M, 100.0, 160.0),  # 0.9 semitones, 1% pace: sounds the same
        measured("b-apart", M, 125.0, 160.0),
    )
    assignment = assign_voices(chars(("Bob", M)), Cast(), profiles, {"Bob": 20})
    assert assignment.by_character == {"Bob": "b-apart"}
    assert assignment.warnings == ()


def test_main_cast_is_spread_most_speaking_first() -> None:
    profiles = profiles_of(
        measured("narrator", M, 95.0, 158.0),
        measured("a", M, 130.0, 160.0),
        measured("b", M, 135.0, 160.0),  # 0.65 semitones from a
        measured("c", M, 70.0, 160.0),
    )
    counts = {"Bob": 50, "Cid": 20, "Dan": 2}
    assignment = assign_voices(chars(("Cid", M), ("Bob", M), ("Dan", M)), Cast(), profiles, counts)
    # Bob speaks most and chooses first, the voice furthest from the narrator's; Cid is kept
    # apart from Bob's (a is 0.65 semitones from b); minor Dan gets what is left.
    assert assignment.by_character == {"Bob": "b", "Cid": "c", "Dan": "a"}
    assert assignment.warnings == ()


def test_a_womans_voice_close_in_pitch_counts_as_close_as_a_mans() -> None:
    # bench/sound.py, relay-01: "man" and "scottish-woman", 3.3 semitones apart as measured,
    # came out 2.8 apart at the same pace on the chapter's lines: not told apart.
    profiles = profiles_of(
        measured("narrator", M, 96.0, 158.0),
        measured("woman", F, 142.0, 160.0),
        measured("a-plain", M, 118.0, 160.0),  # 3.6 st from the narrator, 3.2 from the woman
        measured("b-fast", M, 100.0, 200.0),  # apart from the narrator by pace, 25%
    )
    counts = {"Ann": 30, "Bob": 20}
    assignment = assign_voices(chars(("Ann", F), ("Bob", M)), Cast(), profiles, counts)
    assert assignment.by_character == {"Ann": "woman", "Bob": "b-fast"}


def test_a_voice_needs_more_pitch_to_spare_from_the_narrator_than_from_characters() -> None:
    # bench/sound.py: "man", 4.15 semitones above the narrator as measured, came out 3.3 to
    # 4.1 apart on chapters' lines (the narrator's F0 up 1-3 Hz, other men's down 2-4 Hz).
    # The narrator is heard beside every character: a voice apart from it by pace (27%) is
    # safer than one only that close in pitch at the same pace.
    profiles = profiles_of(
        measured("narrator", M, 94.0, 160.0),
        measured("a-plain", M, 119.2, 160.0),  # 4.1 st from the narrator, same pace
        measured("b-brisk", M, 114.0, 204.0),  # 3.3 st from the narrator, 27% faster
        measured("c-deep", M, 67.0, 125.0),
    )
    counts = {"Bob": 30, "Cid": 20}
    assignment = assign_voices(chars(("Bob", M), ("Cid", M)), Cast(), profiles, counts)
    assert assignment.by_character == {"Bob": "c-deep", "Cid": "b-brisk"}
    # Between two characters the same gap counts as apart in pitch.
    profiles = profiles_of(
        measured("narrator", M, 94.0, 160.0),
        measured("k", M, 150.0, 160.0),  # Bob's
        measured("a-plain", M, 190.2, 160.0),  # 4.1 st from k, same pace
        measured("b-brisk", M, 160.0, 204.0),  # 1.1 st from k, 27% faster
    )
    cast = Cast(characters=(Character("Bob", voice="k"),))
    again = assign_voices(chars(("Bob", M), ("Cid", M)), cast, profiles, counts)
    assert again.by_character == {"Bob": "k", "Cid": "a-plain"}


def test_of_two_voices_equally_apart_the_one_leaving_room_for_later_characters_is_taken() -> None:
    profiles = profiles_of(
        measured("narrator", M, 96.0, 158.0),
        measured("a-low", F, 142.0, 160.0),  # 2.2 st from m-plain: would leave Bob nothing
        measured("b-high", F, 176.0, 150.0),
        measured("m-plain", M, 125.0, 160.0),  # 4.6 st from the narrator
    )
    counts = {"Ann": 30, "Bob": 20}
    assignment = assign_voices(chars(("Ann", F), ("Bob", M)), Cast(), profiles, counts)
    assert assignment.by_character == {"Ann": "b-high", "Bob": "m-plain"}
    assert assignment.warnings == ()


def test_voices_that_sound_alike_are_warned_about() -> None:
    profiles = profiles_of(
        measured("narrator", M, 95.0, 158.0),
        measured("a", M, 130.0, 160.0),
        measured("b", M, 135.0, 165.0),
    )
    cast = Cast(characters=(Character("Bob", voice="a"), Character("Cid", voice="b")))
    assignment = assign_voices([], cast, profiles, {"Bob": 9, "Cid": 9})
    assert assignment.warnings == (
        "voices 'a' (Bob) and 'b' (Cid) sound alike (under 3 semitones and 15% pace apart); "
        "set voices in the cast file",
    )


def test_unnamed_speaker_takes_a_voice_apart_from_the_narrator_and_cast() -> None:
    profiles = profiles_of(
        measured("narrator", M, 96.0, 158.0),
        measured("deep", M, 67.0, 128.0),
        measured("gruff", M, 78.0, 153.0),  # 2.6 semitones from deep: only its pace differs
        measured("plain", M, 122.0, 160.0),
        measured("soft", M, 100.0, 159.0),  # sounds like the narrator
    )
    assignment = Assignment(narrator="narrator", by_character={"Pell": "deep"})
    for label in ("the bald man", "the guard", "a man", "the tall man", "the other man"):
        assert voice_for_label(label, assignment, profiles) == "plain", label


def test_shipped_voices_keep_a_main_cast_of_twelve_apart() -> None:
    # Issue 12: any two voices given to speaking characters or the narrator differ by 3
    # semitones or 15% pace, by the figures measured and stored in voices/*.toml.
    profiles = load_profiles()
    assert all(p.measured is not None for p in profiles.values())
    cast = chars(*((f"M{i}", M) for i in range(6)), *((f"F{i}", F) for i in range(6)))
    counts = {c.name: 100 - i for i, c in enumerate(cast)}
    assignment = assign_voices(cast, Cast(), profiles, counts)
    used = [assignment.narrator, *assignment.by_character.values()]
    assert len(set(used)) == 13
    for i, a in enumerate(used):
        for b in used[i + 1 :]:
            figures_a, figures_b = profiles[a].measured, profiles[b].measured
            assert figures_a is not None and figures_b is not None
            assert voice_distance(figures_a, figures_b) >= 1.0, (a, b)
    assert assignment.warnings == ()


def test_no_profiles_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no voice profiles"):
        assign_voices(chars(("Ann", F)), Cast(), {}, {})


def test_assign_rejects_unknown_voices() -> None:
    cast = Cast(characters=(Character("Ann", voice="ghost"),))
    with pytest.raises(ConfigError, match="'Ann': voice 'ghost' is not a voice profile"):
        assign_voices([], cast, SMALL, {})


def _run(
    cast_path: Path,
    found: list[Character],
    counts: Mapping[str, int],
    profiles: Mapping[str, VoiceProfile],
) -> Assignment:
    """One run of the casting stage as the pipeline does it: load, merge, assign, write."""
    cast = load_cast(cast_path) if cast_path.exists() else Cast(path=cast_path)
    merged = merge_cast(cast, found)
    assignment = assign_voices(merged, cast, profiles, counts)
    write_cast(cast_path, merged, assignment)
    return assignment


def test_voices_stay_stable_when_chapters_are_added(tmp_path: Path) -> None:
    profiles = load_profiles()
    cast_path = tmp_path / "cast.toml"
    first_found = chars(("Ann", F), ("Bob", M), ("Cid", None))
    first = _run(cast_path, first_found, {"Ann": 12, "Bob": 8, "Cid": 2}, profiles)
    # Later chapters: new characters who speak far more than the first ones, and the
    # finder now knows Cid's gender.
    later_found = [
        *chars(("Ann", F), ("Bob", M), ("Cid", M)),
        *chars(("Dot", F), ("Eli", M), ("Fox", F)),
    ]
    counts = {"Ann": 14, "Bob": 9, "Cid": 2, "Dot": 300, "Eli": 200, "Fox": 100}
    second = _run(cast_path, later_found, counts, profiles)
    for name, voice in first.by_character.items():
        assert second.by_character[name] == voice, name
    assert second.narrator == first.narrator
    new_voices = [second.by_character[n] for n in ("Dot", "Eli", "Fox")]
    assert len(set(new_voices)) == 3
    assert not set(new_voices) & set(first.by_character.values())
    third = _run(cast_path, later_found, counts, profiles)
    assert third == second


# ---------------------------------------------------------------- voice_for_label


def test_labels_get_voices_by_gender_and_age() -> None:
    profiles = load_profiles()
    assignment = Assignment(narrator="narrator", by_character={"Ann": "young-woman"})
    assert voice_for_label("Ann", assignment, profiles) == "young-woman"
    cases = {
        "the old man": (M, {"old"}),
        "an elderly woman": (F, {"old"}),
        "a little girl": (F, {"child"}),
        "the boy": (M, {"child"}),
        "the young soldier's wife": (F, {"adult", "young"}),  # the young woman's is taken
        "the landlord": (M, {"adult", "young"}),
        "Lady Catherine's maid": (F, {"adult", "young"}),
    }
    for label, (gender, ages) in cases.items():
        chosen = profiles[voice_for_label(label, assignment, profiles)]
        assert chosen.gender == gender and chosen.age in ages, (label, chosen.id)
        assert chosen.id not in {"narrator", "young-woman"}, label


def test_the_storyteller_label_speaks_in_the_narrators_voice() -> None:
    # A first-person book whose storyteller has no name found: attribution gives the "I"
    # lines the speaker "Narrator". They were read in a hashed label voice ("woman" in The
    # Sun Also Rises' opening), a second voice for the one who tells the story.
    profiles = load_profiles()
    for narrator in ("narrator", "elderly-gentleman"):
        assignment = Assignment(narrator=narrator, by_character={"Jake": "man"})
        for label in ("Narrator", "narrator", "I", "_narr"):
            assert voice_for_label(label, assignment, profiles) == narrator, (narrator, label)
    # A character the cast names "Narrator" keeps the voice given to them.
    assignment = Assignment(narrator="narrator", by_character={"Narrator": "woman"})
    assert voice_for_label("Narrator", assignment, profiles) == "woman"


def test_label_voices_are_deterministic_and_spread() -> None:
    profiles = load_profiles()
    assignment = Assignment(narrator="narrator", by_character={})
    labels = ["the guard", "the stranger", "a voice", "someone", "the clerk", "the captain"]
    picks = [voice_for_label(label, assignment, profiles) for label in labels]
    assert picks == [voice_for_label(label, assignment, profiles) for label in labels]
    assert len(set(picks)) > 1
    assert "narrator" not in picks


# ---------------------------------------------------------------- write_cast


def test_write_cast_creates_a_file_that_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "book" / "cast.toml"
    found = [Character("Mr. Darcy", ("Darcy",), M), Character("Kitty")]
    assignment = Assignment("narrator", {"Mr. Darcy": "man", "Kitty": "woman"})
    write_cast(path, found, assignment)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    cast = load_cast(path)
    assert cast.narrator_voice == "narrator"
    assert cast.characters == (
        Character("Mr. Darcy", ("Darcy",), M, voice="man"),
        Character("Kitty", voice="woman"),
    )
    assert sorted(os.listdir(path.parent)) == ["cast.toml"]  # no temp file left behind


def test_update_keeps_comments_and_hand_edits(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    found = chars(("Ann", F), ("Bob", M))
    write_cast(path, found, Assignment("narrator", {"Ann": "woman", "Bob": "man"}))
    # The author edits by hand: a comment, a different voice for Bob, a pronunciation,
    # and removes Ann's voice line to have it filled again.
    text = path.read_text(encoding="utf-8")
    text = text.replace('voice = "man"', 'voice = "deep-man"  # he is older than he looks')
    text = text.replace('voice = "woman"\n', "")
    text = "# My notes on this book\n" + text + '\n[pronunciations]\n"Ann" = "Anne"\n'
    path.write_text(text, encoding="utf-8")

    found = [*found, Character("Cy", ("Cyrus",), M)]
    assignment = Assignment("woman", {"Ann": "young-woman", "Bob": "man", "Cy": "old-man"})
    write_cast(path, found, assignment)

    updated = path.read_text(encoding="utf-8")
    assert updated.startswith("# My notes on this book\n")
    assert 'voice = "deep-man"  # he is older than he looks' in updated
    assert updated.index('name = "Cy"') > updated.index('name = "Bob"')
    cast = load_cast(path)
    voices = {c.name: c.voice for c in cast.characters}
    assert voices == {"Ann": "young-woman", "Bob": "deep-man", "Cy": "old-man"}
    assert cast.narrator_voice == "narrator"  # the file's narrator, not the new assignment's
    assert cast.pronunciations == (("Ann", "Anne"),)
    assert cast.characters[2].aliases == ("Cyrus",)
    # Writing the same again changes nothing.
    write_cast(path, found, assignment)
    assert path.read_text(encoding="utf-8") == updated


def test_update_matches_characters_by_alias_and_adds_missing_narrator(tmp_path: Path) -> None:
    path = write(tmp_path, '[[character]]\nname = "Elizabeth"\naliases = ["Lizzy"]\n')
    write_cast(path, [Character("Lizzy", (), F)], Assignment("narrator", {"Lizzy": "woman"}))
    cast = load_cast(path)
    assert [(c.name, c.voice) for c in cast.characters] == [("Elizabeth", "woman")]
    assert cast.narrator_voice == "narrator"


def test_update_leaves_the_file_untouched_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '# keep me\n[[character]]\nname = "Ann"\n')

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match=r"cast\.toml: cannot write cast file: disk full"):
        write_cast(path, chars(("Bob", M)), Assignment("narrator", {"Bob": "man"}))
    assert path.read_text(encoding="utf-8") == '# keep me\n[[character]]\nname = "Ann"\n'
    assert sorted(os.listdir(tmp_path)) == ["cast.toml"]


def test_update_of_a_broken_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[[character]\nname = 1\n")
    with pytest.raises(ConfigError, match=r"cast\.toml: invalid TOML"):
        write_cast(path, chars(("Bob", M)), Assignment("narrator", {"Bob": "man"}))


def test_thought_voice_is_kept_for_thoughts() -> None:
    cast = Cast(thought_voice="f-adult")
    assignment = assign_voices(chars(("Ann", F)), cast, SMALL, {"Ann": 30})
    assert assignment.by_character == {"Ann": "f-young"}


# ---------------------------------------------------------------------------- [book]


def test_the_book_table_is_read_with_its_cover_beside_the_cast_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[book]\ntitle = "The Mine"\nauthor = "Ada Writer"\nnarrator = "Sam (espeak-ng)"\n'
        'series = "Deep Works"\nseries_part = 2\nyear = 2024\n'
        'description = """\nLine one.\nLine two.\n"""\nlanguage = "en-GB"\n'
        'cover = "art/cover.jpg"\n',
    )
    assert load_cast(path).book == BookInfo(
        title="The Mine",
        author="Ada Writer",
        narrator="Sam (espeak-ng)",
        series="Deep Works",
        series_part="2",
        year=2024,
        description="Line one.\nLine two.",
        language="en-GB",
        cover=tmp_path / "art" / "cover.jpg",
    )
    # Empty strings mean "not set", so the input's own metadata is used.
    assert load_cast(write(tmp_path, '[book]\ntitle = ""\nseries = ""\n')).book == BookInfo()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[book]\nyear = "2024"\n', "cast.toml:2: book.year: must be a year such as 2024"),
        ("[book]\ntitle = 3\n", "cast.toml:2: book.title: must be a string, got 3"),
        ('[book]\nisbn = "1"\n', "cast.toml:2: book.isbn: unknown key; allowed: title,"),
        ('book = "x"\n', "cast.toml:1: book: must be a table: [book]"),
    ],
)
def test_book_table_errors_name_the_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_cast(Path("cast.toml"))
    assert str(caught.value).startswith(expected), str(caught.value)


def test_the_book_table_is_written_once_then_only_changed_keys(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    info = BookInfo(title="Arc", author="Ada", narrator="narrator (espeak-ng)", year=2025)
    write_book_info(path, info)
    first = load_cast(path).book
    assert (first.title, first.author, first.year, first.series) == ("Arc", "Ada", 2025, None)
    text = path.read_text(encoding="utf-8")
    # The author's edits and comments stay; a later run only sets what it was told to.
    edited = text.replace('series = ""', 'series = "Tales"  # mine')
    path.write_text(edited, encoding="utf-8")
    write_book_info(path, replace(info, title="Other", author="Bo", series=None), ["title"])
    book = load_cast(path).book
    assert (book.title, book.author, book.series) == ("Other", "Ada", "Tales")
    assert "# mine" in path.read_text(encoding="utf-8")
    before = path.stat().st_mtime_ns
    write_book_info(path, replace(info, title="Other"), ["title"])
    assert path.stat().st_mtime_ns == before  # nothing changed: the file is left alone


def test_the_book_table_joins_an_existing_cast_file(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    cover = tmp_path / "art" / "c.png"
    write_book_info(path, BookInfo(title="Pride", cover=cover))
    cast = load_cast(path)
    assert cast.book.title == "Pride" and cast.book.cover == cover
    assert 'cover = "art/c.png"' in path.read_text(encoding="utf-8")
    assert [c.name for c in cast.characters] == [
        c.name for c in load_cast(write(tmp_path, EXAMPLE, "x.toml")).characters
    ]


@pytest.mark.slow
def test_a_cast_of_5000_characters_is_read_merged_and_written_in_linear_time(
    tmp_path: Path,
) -> None:
    import time

    characters = [Character(f"Person{i:05d}", aliases=(f"P{i}",)) for i in range(5000)]
    assignment = Assignment("narrator", {c.name: "man" for c in characters})
    cast_path = tmp_path / "cast.toml"
    write_cast(cast_path, characters, assignment)
    start = time.perf_counter()
    cast = load_cast(cast_path)
    merged = merge_cast(cast, characters)
    validate_cast_voices(cast, profiles_of(profile("man", M), profile("narrator", None)))
    write_cast(cast_path, merged, assignment)
    elapsed = time.perf_counter() - start
    assert len(merged) == 5000
    # Was about 200 s: the cast file scanned again for every character, twice.
    assert elapsed < 30.0


# ---------------------------------------------------------------- set_character (the studio)

_AUTHORED = """\
# my cast: keep this comment
[narrator]
voice = "narrator"

[[character]]
name = "Mika"   # the sister
voice = "girl"

[[character]]
name = "Sora"
aliases = ["Onesan"]
"""


def test_set_character_changes_only_what_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_text(_AUTHORED, encoding="utf-8")
    cast = set_character(path, "Onesan", {"voice": "old-woman", "pitch": 40, "gender": "female"})
    sora = next(c for c in cast.characters if c.name == "Sora")
    assert (sora.voice, sora.pitch, sora.gender) == ("old-woman", 40, Gender.FEMALE)
    text = path.read_text(encoding="utf-8")
    assert "# my cast: keep this comment" in text and 'name = "Mika"   # the sister' in text
    set_character(path, "Mika", {"voice": None, "aliases": ["Mika-chan"]})
    mika = next(c for c in load_cast(path).characters if c.name == "Mika")
    assert (mika.voice, mika.aliases) == (None, ("Mika-chan",))


def test_set_character_adds_someone_new_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_text(_AUTHORED, encoding="utf-8")
    set_character(path, "the old vendor", {"voice": "old-man"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(_AUTHORED)
    assert load_cast(path).characters[-1] == Character("the old vendor", voice="old-man")


def test_set_character_adds_to_the_characters_without_parsing_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cast.toml"
    authored = _AUTHORED + '\n[book]\ntitle = "Market Day"\n'
    path.write_text(authored, encoding="utf-8")
    parsed: list[str] = []
    real_parse = tomlkit.parse

    def counting(text: str) -> tomlkit.TOMLDocument:
        parsed.append(text)
        return real_parse(text)

    monkeypatch.setattr(tomlkit, "parse", counting)
    set_character(path, "the old vendor", {"voice": "old-man"})
    assert [text for text in parsed if "Mika" in text] == [authored]  # once, when opened
    text = path.read_text(encoding="utf-8")
    # Added after the last character (as `write_cast` adds), a blank line before [book].
    assert text.startswith(_AUTHORED) and text.endswith('\n\n[book]\ntitle = "Market Day"\n')
    assert load_cast(path).characters[-1] == Character("the old vendor", voice="old-man")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pitch": 500}, "character[1].pitch"),
        ({"gender": "robot"}, "gender"),
        ({"name": "Other"}, "not a character setting"),
    ],
)
def test_set_character_refuses_what_the_cast_file_would_reject(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    path = tmp_path / "cast.toml"
    path.write_text(_AUTHORED, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        set_character(path, "Mika", values)
    assert path.read_text(encoding="utf-8") == _AUTHORED


def test_a_label_voice_is_not_counted_apart_from_a_twin_of_a_voice_heard() -> None:
    # Two profiles measured the same (distance 0.0) are one voice to a listener: 0.0 used to
    # be read as "not measured" (1.0) and passed as distinct.
    same = VoiceFigures(pitch_hz=120.0, pace_wpm=160.0, loudness_lufs=-20.0, weighting_db=0.5)
    far = VoiceFigures(pitch_hz=250.0, pace_wpm=160.0, loudness_lufs=-20.0, weighting_db=0.5)
    narr = VoiceFigures(pitch_hz=90.0, pace_wpm=150.0, loudness_lufs=-20.0, weighting_db=0.5)

    def measured(pid: str, figures: VoiceFigures) -> VoiceProfile:
        return replace(profile(pid, None), measured=figures)

    profiles = profiles_of(
        measured("narrator", narr), measured("taken", same), measured("twin", same),
        measured("apart", far),
    )  # fmt: skip
    assignment = Assignment(narrator="narrator", by_character={"Ann": "taken"})
    for label in ("the guard", "the clerk", "a stranger", "the porter", "the driver"):
        assert voice_for_label(label, assignment, profiles) == "apart", label


def test_a_line_said_together_is_read_in_the_first_speakers_voice() -> None:
    # `Rook and Bo` (attribution's label for a line two characters say together) sounds like
    # one of them, not like a stranger.
    profiles = load_profiles()
    assignment = Assignment(narrator="narrator", by_character={"Rook": "man", "Bo": "deep-man"})
    assert voice_for_label("Rook and Bo", assignment, profiles) == "man"
    assert voice_for_label("Bo & Rook", assignment, profiles) == "deep-man"
    assert voice_for_label("Rook and the dog", assignment, profiles) != "man"


def test_a_line_said_together_has_each_speakers_voice_in_the_chorus() -> None:
    profiles = load_profiles()
    assignment = Assignment(narrator="narrator", by_character={"Rook": "man", "Bo": "deep-man"})
    casting = Casting(assignment, profiles, (Character("Rook"), Character("Bo")), Cast())
    line = Segment(0, 6, Kind.DIALOGUE, '"Now!"', "Bo and Rook", 0.9)
    assert [v.voice_id for v in casting.chorus(line)] == ["deep-man", "man"]
    assert casting.chorus(replace(line, speaker="Rook")) == ()
    assert casting.chorus(replace(line, kind=Kind.THOUGHT)) == ()  # thought: the first's voice
    assert casting.chorus(replace(line, speaker="Rook and the dog")) == ()
    assert casting.chorus(Segment(0, 6, Kind.NARRATION, "Rook and Bo ran.")) == ()


def test_adding_characters_keeps_what_the_author_said_of_the_speakers(tmp_path: Path) -> None:
    path = write(tmp_path, '[speakers]\ncomplete = true\n\n[[character]]\nname = "Ann"\n')
    write_cast(path, chars(("Ann", F), ("Bob", M)), Assignment("narrator", {"Bob": "man"}))
    cast = load_cast(path)
    assert cast.complete is True
    assert [c.name for c in cast.characters] == ["Ann", "Bob"]
