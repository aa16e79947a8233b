"""Analysis: which characters attribution chooses from, and whether they are all who speak."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrator.analysis import analyze_book, lists_everyone
from narrator.model import Book, Cast, Chapter, Character, Gender

MAIN = (Character("Fagin", gender=Gender.MALE), Character("Nancy", gender=Gender.FEMALE))
WALK_ON = Character("The Jailer", gender=Gender.MALE)


@pytest.mark.parametrize(
    ("cast", "managed", "want"),
    [
        (Cast(characters=MAIN), False, False),  # the main characters only
        (Cast(characters=(*MAIN, WALK_ON)), False, True),  # an author who lists walk-ons
        (Cast(characters=(*MAIN, WALK_ON)), True, False),  # narrator's own list
        (Cast(characters=(*MAIN, WALK_ON), complete=False), False, False),  # the file says
        (Cast(characters=MAIN, complete=True), True, True),
    ],
    ids=["main-only", "walk-ons", "managed", "said-no", "said-yes"],
)
def test_lists_everyone(cast: Cast, managed: bool, want: bool) -> None:
    assert lists_everyone(cast, managed=managed) is want


def test_a_walk_on_joining_narrators_own_cast_does_not_close_it(tmp_path: Path) -> None:
    # A correction or an earlier run puts `The Old Vendor` into the cast narrator keeps: the
    # next walk-on is still a speaker of their own, not folded into someone listed.
    text = (
        "Fagin sat by the fire while Nancy sewed. An old woman came in with a tray.\n\n"
        '"Eat it while it is hot," said the woman.\n'
    )
    book = Book(title="T", chapters=(Chapter(1, "One", text),))
    cast = Cast(characters=(*MAIN, Character("The Old Vendor")), path=tmp_path / "cast.toml")
    analysis = analyze_book(book, cast, managed=True)
    speakers = [s.speaker for s in analysis.chapters[0].segments if s.kind.is_speech]
    assert speakers == ["the old woman"]


def test_the_cycle_collector_is_paused_only_while_a_book_is_analysed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from narrator import analysis

    text = 'Fagin sat by the fire.\n\n"Sit down," said Fagin.\n'
    book = Book(title="T", chapters=(Chapter(1, "One", text),))
    seen: list[bool] = []
    real = analysis.correct_book

    def spying(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis, "correct_book", spying)
    analyze_book(book, Cast(characters=MAIN))
    assert seen == [False] and gc.isenabled()

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(analysis, "correct_book", failing)
    with pytest.raises(RuntimeError):
        analyze_book(book, Cast(characters=MAIN))
    assert gc.isenabled()
    gc.disable()  # a caller that turned it off finds it off
    try:
        monkeypatch.setattr(analysis, "correct_book", spying)
        analyze_book(book, Cast(characters=MAIN))
        assert not gc.isenabled()
    finally:
        gc.enable()
