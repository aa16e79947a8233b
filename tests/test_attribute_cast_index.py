"""Alias lookup for the cast (narrator/attribute/cast_index.py), alone."""

from __future__ import annotations

from narrator.attribute.cast_index import CastIndex, lists_walk_ons, lower_case_names
from narrator.attribute.quotes import SpanTest
from narrator.model import Character, Gender

NOWHERE = SpanTest([])


def names_at(cast: CastIndex, text: str, in_quote: SpanTest = NOWHERE) -> list[tuple[str, tuple]]:
    return [(text[m.start : m.end], m.names) for m in cast.mentions(text, in_quote)]


def test_a_full_name_is_also_its_first_name_and_surname() -> None:
    cast = CastIndex([Character("Jake Barnes", gender=Gender.MALE)])
    text = "Jake Barnes came in. Jake sat. Mr.\nBarnes left."
    assert names_at(cast, text) == [
        ("Jake Barnes", ("Jake Barnes",)),
        ("Jake", ("Jake Barnes",)),
        ("Mr.\nBarnes", ("Jake Barnes",)),
    ]


def test_a_shared_surname_is_the_man_bare_and_the_titles_gender_with_a_title() -> None:
    cast = CastIndex(
        [
            Character("Josiah Bounderby", gender=Gender.MALE),
            Character("Louisa Bounderby", gender=Gender.FEMALE),
        ]
    )
    text = "Bounderby shouted. Mrs. Bounderby sighed."
    assert names_at(cast, text) == [
        ("Bounderby", ("Josiah Bounderby",)),
        ("Mrs. Bounderby", ("Louisa Bounderby",)),
    ]


def test_accents_do_not_count_and_names_keep_their_case() -> None:
    cast = CastIndex([Character("Éowyn"), Character("Will")])
    text = "Eowyn said she will go. Will went."
    assert names_at(cast, text) == [("Eowyn", ("Éowyn",)), ("Will", ("Will",))]


def test_a_lower_case_one_word_alias_counts_only_inside_quotes() -> None:
    cast = CastIndex([Character("Mira", aliases=("red",))])
    text = 'The red door. "Come, red."'
    inside = SpanTest([(text.index('"'), len(text))])
    assert names_at(cast, text, inside) == [("red", ("Mira",))]


def test_descriptions_and_titles_name_cast_entries() -> None:
    cast = CastIndex([Character("The Old Man"), Character("Count Mippipopolous")])
    assert cast.described("little old man") == ["The Old Man"]
    assert cast.by_title["count"] == ["Count Mippipopolous"]
    assert cast.generic == {"The Old Man"}
    assert cast.weak == {"The Old Man"}  # a description-only entry without a gender


def test_a_cast_listing_walk_ons_is_complete() -> None:
    assert lists_walk_ons([Character("Tom"), Character("A Waiter")])
    assert not lists_walk_ons([Character("Tom"), Character("Ana")])
    assert CastIndex([Character("The Turnkey")]).complete
    assert not CastIndex([Character("The Turnkey")], complete=False).complete


def test_names_written_in_lower_case_unless_used_as_words() -> None:
    cast = [Character("Nix"), Character("Will")]
    text = "nix groaned.\n\nwill you stop?\n\nI will not.\n\nnix laughed.\n"
    assert lower_case_names(text, cast) == {"nix"}
    # A text that opens its paragraphs with capitals writes names as names.
    assert lower_case_names("Nix groaned.\n\nThen nix laughed.\n", cast) == frozenset()


def test_a_description_is_the_cast_entry_it_names_or_the_one_it_shortens() -> None:
    cast = CastIndex(
        [
            Character("The Hump-backed Man", gender=Gender.MALE),
            Character("our last guide", gender=Gender.MALE),
            Character("The first man who came in", gender=Gender.MALE),
            Character("The Old Woman", gender=Gender.FEMALE),
        ]
    )
    assert cast.described("little ugly hump-backed man") == ["The Hump-backed Man"]
    assert cast.described("guide") == ["our last guide"]
    assert cast.described("last guide") == ["our last guide"]
    assert cast.described("first man") == ["The first man who came in"]
    # Words the entry does not have, or a head two entries share: neither.
    assert cast.described("tall guide") == []
    assert cast.described("man") == []  # the hump-backed one, or the first one in?
    # A plain description names the person as the text does: `woman` is not `The Old Woman`.
    assert cast.described("woman") == []
    assert cast.head_nouns == {"guide", "man"}
