"""Tests for narrator.lexicon: one list per fact, and the modules that read it agree."""

from __future__ import annotations

import random
import re

from test_attribute import quote_segments

from narrator import lexicon
from narrator.attribute import attribute_speakers
from narrator.casting import Assignment, voice_for_label
from narrator.characters import guess_gender
from narrator.model import Character, Gender
from narrator.voices import load_profiles


def test_narrow_verb_sets_are_subsets_of_the_speech_verbs() -> None:
    forms = set(lexicon.SPEECH_VERB_FORMS)
    assert forms >= lexicon.SEGMENT_SPEECH_FORMS
    assert forms >= lexicon.SEGMENT_THINK_FORMS
    assert set(lexicon.QUOTE_STYLE_TAG_VERBS) <= forms
    # Character discovery also counts verbs people do; its speech verbs are speech verbs.
    assert {"said", "asked", "replied", "whispered"} <= lexicon.PERSON_CONTEXT_WORDS


def test_speech_verbs_are_inflected_right_and_include_phrasal_ones() -> None:
    forms = set(lexicon.SPEECH_VERB_FORMS)
    assert {"quipped", "quips", "quipping"} <= forms and "quiped" not in forms
    assert {"said", "stammered", "replied", "cried", "chirped", "hissed"} <= forms
    assert {"pointed out", "called out", "piped up", "spoke up", "cut in"} <= forms


def test_every_title_has_one_role_and_the_role_gender() -> None:
    seen: list[str] = [t for _, titles in lexicon.TITLE_ROLES.values() for t in titles]
    assert len(seen) == len(set(seen)), "a title listed under two roles"
    for title, role in lexicon.ROLE_OF_TITLE.items():
        assert lexicon.TITLE_GENDER[title] == lexicon.GENDER_OF_ROLE[role]
    assert set(lexicon.NOBLE_TITLES) <= set(lexicon.TITLES)
    assert set(lexicon.TITLES) == set(lexicon.ATTRIBUTION_TITLES)
    assert lexicon.TITLE_GENDER["Mistress"] == Gender.FEMALE
    assert lexicon.TITLE_GENDER["Friar"] == Gender.MALE
    assert lexicon.TITLE_GENDER["Constable"] is None


def test_character_discovery_reads_title_gender_from_the_lexicon() -> None:
    for title, gender in lexicon.TITLE_GENDER.items():
        # An invented surname: no first-name list or patronymic can decide instead.
        assert guess_gender(f"{title} Quorble") == gender, title


def test_attribution_knows_every_title_character_discovery_knows() -> None:
    # "Baroness", "Baron" and "Nurse" were titles to character discovery only: attribution
    # read `said Nurse Grey` as the bare surname and gave it to the man.
    text = (
        'Arthur Grey and Edith Grey sat by the fire.\n\n"It is late," said Baroness Grey.\n\n'
        '"Not yet," said Baron Grey.\n\n"Sit down," said Nurse Grey.\n'
    )
    cast = [
        Character("Arthur Grey", ("Grey", "Baron Grey"), Gender.MALE),
        Character("Edith Grey", ("Grey", "Edith"), Gender.FEMALE),
    ]
    out = attribute_speakers(text, quote_segments(text), cast)
    speakers = [s.speaker for s in out if s.kind.is_speech]
    assert speakers == ["Edith Grey", "Arthur Grey", "Edith Grey"]


def test_gender_words_cover_person_nouns_and_titles() -> None:
    assert not lexicon.FEMALE_WORDS & lexicon.MALE_WORDS
    for noun, gender in lexicon.NOUN_GENDER.items():
        if gender == Gender.FEMALE:
            assert noun in lexicon.FEMALE_WORDS, noun
        elif gender == Gender.MALE:
            assert noun in lexicon.MALE_WORDS, noun
    profiles = load_profiles()
    assignment = Assignment(narrator="narrator", by_character={})
    cases = {
        "the redhead": Gender.FEMALE,
        "the nurse": Gender.FEMALE,
        "Herr Doktor's clerk": Gender.MALE,
    }
    for label, gender in cases.items():
        assert profiles[voice_for_label(label, assignment, profiles)].gender == gender, label


def test_plural_person_nouns_keep_their_gender() -> None:
    from narrator.lexicon import PLURAL_PERSON_NOUNS

    assert PLURAL_PERSON_NOUNS["men"] is Gender.MALE
    assert PLURAL_PERSON_NOUNS["wives"] is Gender.FEMALE
    assert PLURAL_PERSON_NOUNS["ladies"] is Gender.FEMALE
    assert "soldiers" in PLURAL_PERSON_NOUNS and PLURAL_PERSON_NOUNS["soldiers"] is None
    assert not {"mens", "guardses", "ladieses", "wifes"} & set(PLURAL_PERSON_NOUNS)


def test_person_nouns_are_people_by_their_commonest_sense_and_never_adjectives() -> None:
    nouns = lexicon.person_nouns()
    assert {"sailor", "footman", "croupier", "shopkeeper", "nurse"} <= nouns
    assert not {"general", "private", "native", "wall", "dog", "voice"} & nouns
    assert all(n == n.lower() and " " not in n for n in nouns)


def _flat(words: set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def test_a_prefix_tree_matches_what_the_longest_first_list_matches() -> None:
    rng = random.Random(7)
    for _ in range(300):
        words = {"".join(rng.choice("ab-.") for _ in range(rng.randint(1, 5))) for _ in range(6)}
        text = " ".join(
            "".join(rng.choice("abAB-. ") for _ in range(rng.randint(1, 8))) for _ in range(20)
        )
        tree = re.compile(rf"(?i:{lexicon.any_of(words)})(?![ab])")
        flat = re.compile(rf"(?i:{_flat(words)})(?![ab])")
        assert [m.span() for m in tree.finditer(text)] == [m.span() for m in flat.finditer(text)]


def test_the_longest_word_wins_and_a_shorter_one_is_taken_when_it_does_not_fit() -> None:
    nouns = re.compile(rf"\b(?i:{lexicon.any_of(['man', 'stranger', 'stranger-man', 'manse'])})\b")
    assert nouns.search("the Stranger-man came").group() == "Stranger-man"
    assert nouns.search("the stranger-woman came").group() == "stranger"
    assert nouns.search("a manservant and a man").group() == "man"
    assert nouns.search("manservant") is None
