"""Letters of any script and the key that makes two spellings one name (narrator.names)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator.names import (
    CASELESS,
    LOWER,
    UPPER,
    could_be_name,
    fold_accents,
    match_form,
    name_key,
)

CAPITAL = re.compile(rf"[{UPPER}]")
SMALL = re.compile(rf"[{LOWER}]")
NO_CASE = re.compile(rf"[{CASELESS}]")


@pytest.mark.parametrize("letter", list("AÉŌÞŁΝΘАЖЇ"))
def test_capitals_of_latin_greek_and_cyrillic_are_upper(letter: str) -> None:
    assert CAPITAL.fullmatch(letter)
    assert not SMALL.fullmatch(letter)


@pytest.mark.parametrize("letter", list("aéōþłνθажї"))
def test_small_letters_are_lower(letter: str) -> None:
    assert SMALL.fullmatch(letter)
    assert not CAPITAL.fullmatch(letter)


@pytest.mark.parametrize("letter", list("李明みカ한ขא"))
def test_letters_of_scripts_without_case_are_neither(letter: str) -> None:
    assert NO_CASE.fullmatch(letter)
    assert not CAPITAL.fullmatch(letter) and not SMALL.fullmatch(letter)


def test_could_be_name_takes_capitals_and_caseless_words() -> None:
    assert could_be_name("Éowyn") and could_be_name("Анна") and could_be_name("李明")
    assert not could_be_name("éowyn") and not could_be_name("анна") and not could_be_name("")


def test_fold_accents_keeps_the_length_and_the_case() -> None:
    text = "Éowyn, Zoë, Łukasz, Ōkami and Νίκος met Þórr."
    folded = fold_accents(text)
    assert len(folded) == len(text)
    assert folded == "Eowyn, Zoe, Lukasz, Okami and Νικος met Þorr."


def test_name_key_ignores_case_accents_and_normal_form() -> None:
    nfd = unicodedata.normalize("NFD", "Éowyn")
    assert nfd != "Éowyn"
    assert name_key(nfd) == name_key("Éowyn") == name_key("EOWYN") == name_key("eowyn")
    assert name_key("Анна") == name_key("АННА") != name_key("Anna")
    assert name_key("Mrs.\n  Pell") == "mrs. pell"
    assert match_form(nfd) == "Eowyn"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_accents_never_moves_an_offset(text: str) -> None:
    folded = fold_accents(text)
    assert len(folded) == len(text)
    assert all(a == b or not b.isascii() for a, b in zip(folded, text, strict=True))
