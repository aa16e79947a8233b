"""The narrative person and point-of-view headings (narrator/attribute/person.py), alone."""

from __future__ import annotations

from narrator.attribute.cast_index import CastIndex
from narrator.attribute.person import (
    chapter_person,
    guess_narrative_person,
    pov_switches,
    writes_lower_i,
)
from narrator.model import Character, Kind, Segment
from narrator.segment import segment_chapter

FIRST = "I walked to the gate. I looked back. I was alone. I waited. I left.\n\n"
THIRD = "He walked to the gate. She looked back. He was alone. She waited.\n\n"


def test_a_chapter_that_says_enough_decides_its_own_person() -> None:
    text = THIRD * 12  # 48 he/she: enough to overrule the book
    assert chapter_person(text, segment_chapter(text), 1) == 3


def test_a_short_chapter_keeps_the_books_person() -> None:
    text = THIRD  # four he/she say too little
    assert chapter_person(text, segment_chapter(text), 1) == 1
    assert chapter_person(text, segment_chapter(text), None) == 3


def test_speech_does_not_count_toward_the_narrators_person() -> None:
    talk = '"I know. I said so. I told you. I did. I will."\n\n' * 3
    assert guess_narrative_person([talk + THIRD]) == 3
    assert guess_narrative_person([FIRST + THIRD]) == 1


def test_the_counts_kept_for_a_text_are_those_of_its_own_segments() -> None:
    # The book's guess and each chapter's count the same narration once; a text read
    # with other segments (all of it narration here) is counted again.
    text = '"I know. I said so. I told you. I did. I will."\n\n' * 12 + THIRD
    assert chapter_person(text, segment_chapter(text), None) == 3
    all_narration = [Segment(0, len(text), Kind.NARRATION, text)]
    assert chapter_person(text, all_narration, None) == 1
    assert guess_narrative_person([text], [segment_chapter(text)]) == 3


def test_a_text_writing_i_in_lower_case_is_first_person() -> None:
    assert writes_lower_i("i said no. then i left. i know, i know.")
    assert not writes_lower_i("A list: i. one, ii. two, i.e. three.")
    lower = "i walked to the gate. i looked back. i was alone. i waited. i left.\n\n"
    assert guess_narrative_person([lower]) == 1


def test_pov_headings_say_who_i_is_from_there_on() -> None:
    text = (
        "- - Kess's POV - -\n\nI ran.\n\n"
        "POV: Dren\n\nI followed.\n\n"
        "She had a strong point of view about what the captain said that night, at length.\n"
    )
    cast = CastIndex([Character("Kess Arden", aliases=("Kess",)), Character("Dren")])
    switches = pov_switches(segment_chapter(text), cast)
    assert switches == [(0, "Kess Arden", True), (text.index("POV: Dren"), "Dren", True)]


def test_a_name_between_marks_is_a_switch_too() -> None:
    text = (
        "~ Kess ~\n\nI ran.\n\n-Dren-\n\nI followed.\n\n**Mira**\n\nI hid.\n\n"
        "_REAPING_\n\nI reaped.\n\n-- I --\n\nI sowed.\n\n[Illustration]\n\nI drew.\n"
    )
    # `Illustration` in the cast: character discovery finds it in Project Gutenberg's
    # `[Illustration]` lines, which name nobody all the same.
    cast = CastIndex(
        [
            Character("Kess Arden", aliases=("Kess",)),
            Character("Dren"),
            Character("Mira"),
            Character("Illustration"),
        ]
    )
    switches = pov_switches(segment_chapter(text), cast)
    # A name alone only says who tells this part: it does not make a chapter first person.
    # A title between marks that names nobody in the cast (`_REAPING_`) says nothing.
    assert switches == [
        (0, "Kess Arden", False),
        (text.index("-Dren-"), "Dren", False),
        (text.index("**Mira**"), "Mira", False),
    ]


def test_a_pov_heading_naming_someone_outside_the_cast_keeps_the_name() -> None:
    text = "Mira POV\n\nI ran.\n"
    assert pov_switches(segment_chapter(text), CastIndex([])) == [(0, "Mira", True)]


def test_a_pov_heading_in_capitals_names_the_whole_name() -> None:
    # `ARIA'S POV`: the possessive in capitals is not a name `S`; the name matches the cast
    # in any case, and one outside the cast keeps how a listener would write it.
    text = "ARIA'S POV\n\nI ran.\n\nJACE\u2019S POV\n\nI followed.\n\nMOM'S POV\n\nI sighed.\n"
    cast = CastIndex([Character("Aria"), Character("Jace")])
    assert pov_switches(segment_chapter(text), cast) == [
        (0, "Aria", True),
        (text.index("JACE"), "Jace", True),
        (text.index("MOM"), "Mom", True),
    ]


SECOND = "You walk to the gate. You look back. Your hands are cold. You wait. He nods.\n\n"


def test_a_story_told_to_you_is_in_the_second_person() -> None:
    # Written for this test: a quest or a reader insert (`you say`). `you` in speech, and a
    # storyteller's aside to the reader in a third-person book, do not make it so.
    assert guess_narrative_person([SECOND * 3]) == 2
    talk = '"You know. You said so. You told me. You did. You will."\n\n' * 3
    assert guess_narrative_person([talk + THIRD]) == 3
    aside = "You may imagine how he felt. " + THIRD * 4
    assert guess_narrative_person([aside]) == 3
    assert guess_narrative_person([FIRST * 3 + SECOND]) == 1
