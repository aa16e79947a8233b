"""Line ids: keyed by a line's words and a little context, unique, stable through edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from narrator.lines import (
    IdSpace,
    base_id,
    context_part,
    is_line_id,
    line_ids,
    normalize,
    piece_ids,
    piece_number,
    text_part,
)
from narrator.model import Kind, Segment
from narrator.segment import segment_chapter

CHAPTER = (
    "Mika and Daichi stopped at the stall.\n\n"
    '"Yes." Mika nodded.\n\n'
    '"Are you buying?" asked the vendor.\n\n'
    '"Yes."\n\n'
    '"Then pay," he said.\n'
)


def _speech_ids(text: str) -> list[tuple[str, str]]:
    segments = segment_chapter(text)
    return [
        (s.text, i)
        for s, i in zip(segments, line_ids(text, segments), strict=True)
        if s.kind is Kind.DIALOGUE
    ]


def test_ids_look_like_the_issue_says_and_identical_lines_differ() -> None:
    pairs = _speech_ids(CHAPTER)
    ids = [i for _, i in pairs]
    assert all(is_line_id(i) and len(i) == 7 and i.startswith("L") for i in ids)
    yes = [i for t, i in pairs if t == '"Yes."']
    assert len(yes) == 2 and yes[0] != yes[1]
    assert text_part(yes[0]) == text_part(yes[1])  # same words, told apart by context
    assert len(set(ids)) == len(ids)


def test_ids_survive_a_paragraph_inserted_at_the_top_and_a_word_changed_elsewhere() -> None:
    before = _speech_ids(CHAPTER)
    edited = "A new opening paragraph, added later.\n\n" + CHAPTER.replace(
        '"Then pay," he said.', '"Then pay up," he said.'
    )
    after = _speech_ids(edited)
    assert [t for t, _ in after] == [t.replace("pay,", "pay up,") for t, _ in before]
    # Untouched lines keep their ids; the second "Yes." (just before the edited line) keeps
    # its words and the context digit of the side that did not change.
    assert after[:2] == before[:2]
    (_, yes_before), (_, yes_after) = before[2], after[2]
    assert text_part(yes_after) == text_part(yes_before)
    assert context_part(yes_after)[0] == context_part(yes_before)[0]


def test_a_removed_paragraph_changes_only_the_context_of_its_neighbours() -> None:
    before = dict(_speech_ids(CHAPTER))
    after = dict(_speech_ids(CHAPTER.replace("Mika and Daichi stopped at the stall.\n\n", "")))
    for text, line_id in after.items():
        assert text_part(line_id) == text_part(before[text])
    assert after['"Then pay,"'] == before['"Then pay,"']


def test_ids_do_not_depend_on_case_quote_style_or_spacing() -> None:
    assert normalize("\u201cYes,\u201d  he\nsaid") == normalize('"yes," He said')


def test_piece_ids_number_the_pieces_of_a_split_line() -> None:
    text = '"Can we go? Yes, kid." Brann said.'
    base = segment_chapter(text)
    ids = line_ids(text, base)
    speech = base[0]
    cut = speech.start + speech.text.index("Yes")
    pieces = [
        Segment(speech.start, cut, speech.kind, text[speech.start : cut]),
        Segment(cut, speech.end, speech.kind, text[cut : speech.end]),
        *base[1:],
    ]
    got = piece_ids(base, ids, pieces)
    assert got == [ids[0], ids[0] + ".2", *ids[1:]]
    assert base_id(got[1]) == ids[0] and piece_number(got[1]) == 2 and piece_number(got[0]) == 1
    assert is_line_id(got[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(['"Yes."', '"No."', "He said.", "\n\n", " ", "Ann"]), max_size=40))
def test_ids_are_unique_in_any_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    segments = segment_chapter(text) if text.strip() else []
    ids = line_ids(text, segments)
    assert len(set(ids)) == len(ids) == len(segments)


def test_ids_are_unique_across_the_chapters_of_a_book() -> None:
    space = IdSpace()
    first = line_ids(CHAPTER, segment_chapter(CHAPTER), space)
    second = line_ids(CHAPTER, segment_chapter(CHAPTER), space)
    assert not set(first) & set(second)


def test_thousands_of_identical_lines_get_unique_ids_quickly() -> None:
    text = '"Yes." ' * 3000  # more than two context digits can tell apart
    segments = segment_chapter(text)
    ids = line_ids(text, segments)
    assert len(set(ids)) == len(ids) == len(segments) > 5000
    assert all(is_line_id(i) for i in ids)


def test_the_ids_of_a_fixed_text_never_change() -> None:
    """Correction files written by earlier versions name lines by these ids: computing them
    faster must give the same ones, with every kind of space around the context words."""
    text = (
        'The rain\u00a0came down.\u2028 "Who is there?" said Tom.\n\n'
        '"Only me,"\u3000said Ana,\tshaking\x1cher coat. "Let me in."\n\n'
        '"Yes."\n\nHe let her in.\n\n"Yes."\n'
    )
    assert line_ids(text, segment_chapter(text)) == [
        "L1bcbda", "La224f2", "Lbd3aa8", "L7db5c9", "L4edeb8", "L856105",
        "Lda3985", "L676a83", "L6a2056", "L676a3d", "Lda39dd",
    ]  # fmt: skip
