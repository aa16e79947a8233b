"""Tests for narrator.text_marks: what the loaders write is what the segmenter and stitcher read."""

from __future__ import annotations

import pytest

from narrator.load.markup import html_to_text, markdown_to_text
from narrator.model import Kind
from narrator.segment import segment_chapter
from narrator.text_marks import SCENE_BREAK, is_scene_break, mark_italic


@pytest.mark.parametrize(
    "gap", [f"\n\n{SCENE_BREAK}\n\n", "\n***\n", "\n  - - -  \n", "\n~~~\n", "\n#  #  #\n"]
)
def test_a_line_of_symbols_is_a_scene_break(gap: str) -> None:
    assert is_scene_break(gap)


@pytest.mark.parametrize("gap", ["\n\n", " ", "\n**\n", "\n* 3 *\n", "\nThe end.\n"])
def test_other_gaps_are_not(gap: str) -> None:
    assert not is_scene_break(gap)


def test_the_loaders_write_the_scene_break_the_stitcher_reads() -> None:
    for text in (
        html_to_text("<p>Night fell.</p><hr/><p>Morning came.</p>").text,
        markdown_to_text("Night fell.\n\n---\n\nMorning came.\n").text,
    ):
        assert f"\n{SCENE_BREAK}\n" in text
        gap = text[text.index("fell.") + 5 : text.index("Morning")]
        assert is_scene_break(gap)


def test_the_loaders_write_italics_the_segmenter_reads_as_a_thought() -> None:
    thought = "Not again,"
    html = f"<p>Ann looked at the door. <em>{thought}</em> she thought.</p>"
    markdown = f"Ann looked at the door. _{thought}_ she thought.\n"
    for text in (html_to_text(html).text, markdown_to_text(markdown).text):
        assert mark_italic(thought) in text
        kinds = {s.text: s.kind for s in segment_chapter(text)}
        assert kinds.get(mark_italic(thought)) is Kind.THOUGHT, kinds
