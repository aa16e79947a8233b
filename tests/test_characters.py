"""Tests for narrator.characters: discovery, alias clustering, gender, filtering, speed."""

from __future__ import annotations

import time

import pytest

from narrator.characters import count_mentions, find_characters, guess_gender, name_the_narrator
from narrator.model import Character, Gender

# An original story, written for these tests.
CHAPTER_ONE = """\
Clara Whitcombe had lived at the grange for twenty years. On Monday morning Clara
walked down to the village with her father, Mr. George Whitcombe, who said little.

"You will be late," said Miss Whitcombe to the groom. She laughed at him.

Perhaps the rain would hold. Mr. Ashdown met them at the gate of the church, and he
bowed. "Good morning, Miss Whitcombe," said Mr. Ashdown. He had ridden from London.

Oh, how she wished the day were over. Clara took his arm; Ashdown led her across the
square while Mr. Whitcombe waited. Yesterday it had rained in London, and in London it
always rained, said Ashdown to nobody in particular, and he smiled.

Mr. Pell kept the shop, and Mrs. Pell kept Mr. Pell. "Sugar," said Mrs. Pell, and she
weighed it. "And tea," said Mr. Pell, and he wrapped it. Mrs. Pell frowned at her
husband, and Mr. Pell looked at the ceiling. Everyone said Pell was a patient man.
"""

CHAPTER_TWO = """\
Mr. Henry Marsh came to dinner with Mrs. Henry Marsh, his wife of thirty years. Mr.
Henry Marsh spoke of horses; Mrs. Henry Marsh spoke of her roses, and she sighed.

Brannoch the blacksmith stood by the door. "Evening," said Brannoch, and he touched
his cap. Brannoch had a hammer in his belt. Later Brannoch walked home, and his dog
followed him. Everyone in the village trusted Brannoch, and he knew it.

Ysolde sang in the kitchen. "Come and eat," said Ysolde, and she set down the bowls.
Ysolde had baked since dawn; her hands were white with flour. Then Ysolde sat, and she
laughed. When Ysolde laughed, the whole house laughed with her.

Margaret and Tobias, the twins, ran in from the garden. Tobias wanted bread and
Margaret wanted the jam. Clara gave the jam to Margaret and the bread to Tobias.
"Thank you, Clara," said Tobias. Clara Whitcombe smiled at Mr. Ashdown.
"""


@pytest.fixture(scope="module")
def characters() -> list[Character]:
    return find_characters([CHAPTER_ONE, CHAPTER_TWO])


def _by_alias(characters: list[Character], alias: str) -> Character:
    matches = [c for c in characters if alias in c.aliases]
    assert len(matches) == 1, f"{alias!r} is in {len(matches)} characters: {characters}"
    return matches[0]


def test_discovers_the_named_characters(characters: list[Character]) -> None:
    for alias in ("Clara", "Mr. Ashdown", "Mr. Pell", "Mrs. Pell", "Brannoch", "Ysolde"):
        _by_alias(characters, alias)
    assert all(c.voice is None for c in characters)
    assert all(c.name in c.aliases for c in characters)


def test_sorted_by_mentions(characters: list[Character]) -> None:
    counts = count_mentions([CHAPTER_ONE, CHAPTER_TWO], characters)
    values = [counts[c.name] for c in characters]
    assert values == sorted(values, reverse=True)
    assert characters[0].name == "Clara Whitcombe"


def test_first_name_full_name_and_title_are_one_character(characters: list[Character]) -> None:
    clara = _by_alias(characters, "Clara")
    assert {"Clara", "Clara Whitcombe", "Miss Whitcombe"} <= set(clara.aliases)
    assert clara.name == "Clara Whitcombe"
    ashdown = _by_alias(characters, "Mr. Ashdown")
    assert "Ashdown" in ashdown.aliases


def test_same_surname_different_titles_stay_apart(characters: list[Character]) -> None:
    assert _by_alias(characters, "Mr. Pell") is not _by_alias(characters, "Mrs. Pell")
    # The bare surname goes to the man of the family, not to his wife.
    assert "Pell" in _by_alias(characters, "Mr. Pell").aliases
    husband = _by_alias(characters, "Mr. Henry Marsh")
    wife = _by_alias(characters, "Mrs. Henry Marsh")
    assert husband is not wife
    # Clara's father shares her surname but is not her.
    assert _by_alias(characters, "Mr. George Whitcombe") is not _by_alias(characters, "Clara")


def test_gender_from_titles(characters: list[Character]) -> None:
    assert _by_alias(characters, "Mr. Pell").gender == Gender.MALE
    assert _by_alias(characters, "Mrs. Pell").gender == Gender.FEMALE
    assert _by_alias(characters, "Mrs. Henry Marsh").gender == Gender.FEMALE
    assert _by_alias(characters, "Mr. Henry Marsh").gender == Gender.MALE


def test_gender_from_pronouns(characters: list[Character]) -> None:
    # Neither name is in the first-name list: only the pronouns tell.
    assert guess_gender("Brannoch") is None
    assert guess_gender("Ysolde") is None
    assert _by_alias(characters, "Brannoch").gender == Gender.MALE
    assert _by_alias(characters, "Ysolde").gender == Gender.FEMALE


def test_gender_from_first_names(characters: list[Character]) -> None:
    # The twins are never followed by a pronoun of their own.
    assert _by_alias(characters, "Margaret").gender == Gender.FEMALE
    assert _by_alias(characters, "Tobias").gender == Gender.MALE


def test_stop_words_days_places_and_interjections_are_not_characters(
    characters: list[Character],
) -> None:
    aliases = {a for c in characters for a in c.aliases}
    for word in ("Perhaps", "Monday", "Oh", "Yesterday", "London", "On", "Later", "Then"):
        assert word not in aliases
    assert not any(a.startswith(("When ", "Then ", "Perhaps ")) for a in aliases)


def test_sentence_initial_common_word_is_stripped() -> None:
    text = (
        "Poor Rowena had waited all day. Rowena was tired, and she said so. "
        "Poor Rowena! The poor girl sat down. Rowena slept, and she dreamt."
    )
    found = find_characters([text])
    assert [c.name for c in found] == ["Rowena"]
    assert found[0].gender == Gender.FEMALE


def test_word_mostly_written_in_lower_case_is_not_a_name() -> None:
    text = (
        "Hope was all they had. They had hope, and hope was cheap. "
        "Nobody lost hope. Hope kept them warm. There was hope in the air and hope in Dunmore, "
        "said Dunmore, and he went home. Dunmore slept."
    )
    names = [c.name for c in find_characters([text])]
    assert "Hope" not in names
    assert "Dunmore" in names


def test_min_mentions_and_empty_input() -> None:
    assert find_characters([]) == []
    assert find_characters([""]) == []
    text = "Quillane said nothing, and he left. Later Quillane came back."
    assert [c.name for c in find_characters([text])] == ["Quillane"]
    assert find_characters([text], min_mentions=3) == []


def test_rank_alone_is_a_character() -> None:
    text = (
        'The General was angry. "Sit down," said the General, and he pointed. '
        "I sat, and the General paced the room. Then the General stopped, and he sighed."
    )
    found = find_characters([text])
    general = _by_alias(found, "the General")
    assert general.gender == Gender.MALE


@pytest.mark.parametrize(
    ("name", "gender"),
    [
        ("Mrs. Hale", Gender.FEMALE),
        ("Mr. Hale", Gender.MALE),
        ("Lady Ashton", Gender.FEMALE),
        ("Sir Thomas", Gender.MALE),
        ("Aunt Polly", Gender.FEMALE),
        ("John", Gender.MALE),
        ("Emma Woodhouse", Gender.FEMALE),
        ("Dr. Margaret Hale", Gender.FEMALE),
        ("Alexis Ivanovitch", Gender.MALE),
        ("Polina Alexandrovna", Gender.FEMALE),
        ("Dr. Hale", None),
        ("Zzyzx", None),
        ("", None),
    ],
)
def test_guess_gender(name: str, gender: Gender | None) -> None:
    assert guess_gender(name) == gender


def test_count_mentions_prefers_the_longest_alias() -> None:
    chars = [
        Character("Mr. Pell", aliases=("Mr. Pell", "Pell")),
        Character("Mrs. Pell", aliases=("Mrs. Pell",)),
    ]
    counts = count_mentions(["Mrs. Pell saw Mr. Pell. Pell waved. Pellworth is a town."], chars)
    assert counts == {"Mr. Pell": 2, "Mrs. Pell": 1}


def test_novel_sized_input_takes_time_in_proportion_to_its_length() -> None:
    # About 150,000 words: every chapter repeats the story with its names renamed. A fifth
    # of it is the baseline, timed in the same run (the machine's speed cancels out): five
    # times the text must not take much more than five times as long (quadratic work: 25).
    chapters = []
    for i in range(170):
        suffix = chr(ord("a") + i % 26) + chr(ord("a") + i // 26)
        chapters.append((CHAPTER_ONE + CHAPTER_TWO).replace("Brannoch", f"Bran{suffix}") * 3)
    words = sum(len(c.split()) for c in chapters)
    assert words > 140_000

    def timed(texts: list[str]) -> tuple[float, list[Character]]:
        start = time.perf_counter()
        found = find_characters(texts)
        return time.perf_counter() - start, found

    fifth = min(timed(chapters[:34])[0] for _ in range(2))
    whole, found = timed(chapters)
    assert whole < 12 * fifth, (whole, fifth)
    assert len([c for c in found if c.name.startswith("Bran")]) == 170


def test_title_case_heading_is_not_a_name() -> None:
    chapter = (
        "Chapter Three\n\nOdile Makes Up Her Mind\n\n"
        "Odile Fairweather looked at the sea. Aunt Odile, the children called her, "
        "and she smiled at Odile's reflection. Later Odile walked home."
    )
    found = find_characters([chapter])
    aliases = {a for c in found for a in c.aliases}
    assert "Odile Makes" not in aliases
    odile = _by_alias(found, "Odile")
    assert {"Odile Fairweather", "Aunt Odile"} <= set(odile.aliases)
    assert odile.gender == Gender.FEMALE


def test_curly_quotes_and_markup_do_not_make_names() -> None:
    chapter = (
        "“Maybe we should run,” Corvin said, and he drew his knife.\n\n"
        "*Maybe not*, she thought. “Corvin, wait.”\n\n"
        "“Later,” said Corvin. He was already gone."
    )
    found = find_characters([chapter])
    assert [c.name for c in found] == ["Corvin"]
    assert found[0].gender == Gender.MALE


def test_accented_names() -> None:
    text = (
        "Zoë Laurent opened the door. “Hello,” said Zoë, and she laughed. Outside, José "
        "waited; José was cold, and he said so."
    )
    found = find_characters([text])
    assert {"Zoë", "Zoë Laurent"} <= set(_by_alias(found, "Zoë").aliases)
    assert _by_alias(found, "José").gender == Gender.MALE
    assert guess_gender("Zoë") == Gender.FEMALE


def test_a_long_single_line_dense_in_names_is_scanned_in_linear_time() -> None:
    from narrator.characters import _mentions

    line = "Ann and Bob met Cid there, said Dan. " * 110_000  # 4 MB, no newline
    start = time.perf_counter()
    found, _ = _mentions([line])
    elapsed = time.perf_counter() - start
    assert len(found) == 440_000
    # Was about 40 s: each capital looked back to the start of its line.
    assert elapsed < 10.0


def test_names_in_other_scripts_are_discovered_like_plain_ones() -> None:
    # Written for this test: the same story with the names spelled four ways.
    story = """\
{a} came down to the harbour at dawn. "Where is the ship?" asked {a}. Nobody answered
{a}, so she waited. Later {b} arrived with the lanterns, and {b} sat down. "It sailed,"
said {b}. Then {c} came, and {c} laughed. "We walk," replied {c}. {d} said nothing, but
{d} pointed at the sea. Everyone followed {d} to the road.
"""
    plain = find_characters([story.format(a="Eowyn", b="Anna", c="Okami", d="Nikos")])
    world = find_characters([story.format(a="Éowyn", b="Анна", c="Ōkami", d="Νίκος")])
    assert {c.name for c in plain} == {"Eowyn", "Anna", "Okami", "Nikos"}
    assert {c.name for c in world} == {"Éowyn", "Анна", "Ōkami", "Νίκος"}


def test_cyrillic_patronymics_give_the_gender() -> None:
    # Written for this test; no pronouns, so only the patronymic can tell.
    story = (
        "Анна Петровна came to the door. Иван Петрович stood up. Анна Петровна and "
        "Иван Петрович looked at the rain. Later Анна Петровна left, and Иван Петрович "
        "stayed by the fire."
    )
    genders = {c.name: c.gender for c in find_characters([story])}
    assert genders == {"Анна Петровна": Gender.FEMALE, "Иван Петрович": Gender.MALE}


def test_one_name_spelled_with_and_without_accents_is_one_character() -> None:
    story = (
        'Éowyn came down to the harbour. "Where?" asked Éowyn. Later Eowyn sat by the fire, '
        "and Eowyn laughed. Then Éowyn left."
    )
    assert [(c.name, c.aliases) for c in find_characters([story])] == [("Éowyn", ("Éowyn",))]


def test_the_first_person_storyteller_is_the_one_the_others_name() -> None:
    # Written for this test: "I" tells it; Nell is named by the others, Rudd by everyone.
    scene = (
        'Rudd came in from the rain. "Nell, you are late," Rudd said. I shrugged.\n\n'
        '"Nell never hurries," said Mags, and Rudd laughed. "Sit down, Nell."\n\n'
    )
    characters = find_characters([scene * 6])
    named = name_the_narrator([scene * 6], characters)
    storyteller = [c.name for c in named if "I" in c.aliases]
    assert storyteller == ["Nell"]
    # Not enough evidence: nobody becomes "I".
    assert name_the_narrator([scene], find_characters([scene])) == find_characters([scene])


def test_the_storyteller_is_found_when_the_name_is_broken_across_lines() -> None:
    # Written for this test: hard-wrapped text cuts "Nell Hart" at a line end.
    scene = (
        'Rudd came in from the rain. "You are late, Nell\nHart," Rudd said. I shrugged.\n\n'
        '"Nell  Hart never hurries," said Mags, and Rudd laughed.\n\n'
    )
    characters = [Character("Nell Hart"), Character("Rudd"), Character("Mags")]
    named = name_the_narrator([scene * 6], characters)
    assert [c.name for c in named if "I" in c.aliases] == ["Nell Hart"]
    assert count_mentions([scene], characters) == {"Nell Hart": 2, "Rudd": 3, "Mags": 1}


def test_count_mentions_counts_possessives_and_single_quoted_names() -> None:
    # Written for this test. Tom's and 'Tom are Tom; Tomas and Tom-Tom are not.
    characters = [Character("Tom"), Character("Ann")]
    text = "'Tom, come here,' said Ann. Tom's hat was wet. Tomas left."
    assert count_mentions([text], characters) == {"Tom": 2, "Ann": 1}
    assert count_mentions(["A Tom-Tom is a drum."], characters) == {"Tom": 0, "Ann": 0}


def test_count_mentions_reads_a_name_through_a_japanese_honorific() -> None:
    # Fan fiction writes `Sasuke-kun`, `Kakashi-sensei`: still Sasuke and Kakashi; a name
    # inside another hyphenated word is not.
    chars = [Character("Sasuke"), Character("Kakashi")]
    text = "Sasuke-kun waited. Kakashi-sensei was late, and Kakashi-nii-chan later. Sasuke-ish."
    assert count_mentions([text], chars) == {"Sasuke": 1, "Kakashi": 2}


def test_an_editors_bracketed_line_names_nobody() -> None:
    # Project Gutenberg's `[Illustration]` lines once made `Illustration` a character.
    text = "\n\n".join(
        ["[Illustration]", "Tom went to the mill, and Tom looked at the river.", "[Illustration]"]
        * 3
    )
    assert [c.name for c in find_characters([text])] == ["Tom"]


def test_a_game_systems_lines_name_nobody() -> None:
    # LitRPG: `[Level Up! You are now Level 5.]` once made `Level` a character.
    text = "\n\n".join(
        [
            "Kai swung at the goblin, and Kai missed.",
            "[Level Up! You are now Level 5.]",
            "[Level: 5]",
        ]
        * 3
    )
    assert [c.name for c in find_characters([text])] == ["Kai"]
