"""Corrections: the file (read, validated, edited keeping comments) and how they apply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from narrator import corrections as corrections_module
from narrator.corrections import (
    Correction,
    Corrections,
    correct_book,
    default_lines_path,
    load_corrections,
    reminder,
    resolve_speaker,
    save_correction,
    split_offset,
)
from narrator.errors import ConfigError
from narrator.model import Character, Gender, Kind, Segment

ROOT = Path(__file__).resolve().parent.parent
MARKET = (ROOT / "tests" / "data" / "lines" / "market.txt").read_text(encoding="utf-8")
CAST = (
    Character("Mika", gender=Gender.FEMALE),
    Character("Daichi", gender=Gender.MALE),
    Character("Sora", aliases=("Onesan",), gender=Gender.FEMALE),
)


def _lines(text: str, entries: Sequence[Correction] = (), characters=CAST):  # type: ignore[no-untyped-def]
    book = correct_book([text], characters, Corrections(None, tuple(entries)))
    return book, book.chapters[0]


def _by_text(chapter) -> dict[str, tuple[str, Segment]]:  # type: ignore[no-untyped-def]
    """Speech text -> (id, segment); the first of identical texts."""
    found: dict[str, tuple[str, Segment]] = {}
    for segment, line_id in zip(chapter.segments, chapter.ids, strict=True):
        found.setdefault(" ".join(segment.text.split()), (line_id, segment))
    return found


def _other(speaker: str | None) -> str:
    return "Sora" if speaker != "Sora" else "Mika"


# ---------------------------------------------------------------------------- the file


def test_the_file_lives_beside_a_file_or_epub_and_inside_a_folder(tmp_path: Path) -> None:
    assert default_lines_path(tmp_path / "ch1.txt") == tmp_path / "ch1.lines.toml"
    assert default_lines_path(tmp_path / "book.epub") == tmp_path / "book.lines.toml"
    assert default_lines_path(tmp_path) == tmp_path / "lines.toml"


def test_saving_keeps_comments_and_edits_entries_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ch.lines.toml"
    path.write_text(
        "# my notes on this chapter\n\n"
        '[L0000aa]\ntext = "Hello"  # the greeting\nspeaker = "Ann"\n\n'
        '[L1111bb]\ntext = "Bye"\nspeaker = "Tom"\n',
        encoding="utf-8",
    )
    save_correction(path, Correction("L0000aa", speaker="Tom", text="Hello"), "L0000aa")
    save_correction(path, Correction("L2222cc", kind=Kind.NARRATION, text="Ha"), "L2222cc")
    save_correction(path, None, "L1111bb")
    text = path.read_text(encoding="utf-8")
    assert "# my notes on this chapter" in text and "# the greeting" in text
    assert text.index("L0000aa") < text.index("L2222cc") and "L1111bb" not in text
    loaded = {c.line_id: c for c in load_corrections(path).entries}
    assert loaded["L0000aa"].speaker == "Tom"
    assert loaded["L2222cc"].kind is Kind.NARRATION and loaded["L2222cc"].speaker is None


def test_a_new_file_starts_with_a_comment_saying_how_to_edit_it(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    save_correction(path, Correction("L3f9a2c", speaker="Kotomi", text='"Onesan…'), "L3f9a2c")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "narrator assign" in text
    assert load_corrections(path).entries == (
        Correction("L3f9a2c", speaker="Kotomi", text='"Onesan…'),
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[L3f9a2c]\nspeaker = "A"\ncolour = "red"\n', "colour: unknown key"),
        ('[L3f9a2c]\nkind = "song"\n', "kind: must be"),
        ('[L3f9a2c]\nspeaker = "A"\nsplit_at = "Yes"\n', "split_at and then go together"),
        ('[L3f9a2c]\nkind = "narration"\nspeaker = "A"\n', "narration has no speaker"),
        ('[L3f9a2c]\ntext = "x"\n', "needs speaker, kind or split_at"),
        ('["L3f9a2c.2"]\nkind = "thought"\n', "applies to the whole line L3f9a2c"),
        ('[hello]\nspeaker = "A"\n', "not a line id"),
        ('[L3f9a2c]\nspeaker = ""\n', "non-empty string"),
        ("[L3f9a2c\n", "invalid TOML"),
    ],
)
def test_a_bad_corrections_file_names_the_file_line_and_field(
    tmp_path: Path, body: str, needle: str
) -> None:
    path = tmp_path / "ch.lines.toml"
    path.write_text("# notes\n" + body, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_corrections(path)
    message = str(error.value)
    assert "ch.lines.toml:" in message and needle in message and "\n" not in message


def test_a_missing_file_is_empty_unless_it_was_asked_for(tmp_path: Path) -> None:
    assert load_corrections(tmp_path / "none.toml").entries == ()
    with pytest.raises(ConfigError, match=r"none\.toml"):
        load_corrections(tmp_path / "none.toml", required=True)


def test_reminder_and_split_offsets() -> None:
    assert reminder("one two three four five six seven eight nine") == (
        "one two three four five six seven eight\u2026"
    )
    line = '"Onesan but why? Because stealing is wrong."'
    assert line[split_offset(line, "because") or 0 :].startswith("Because")
    assert split_offset(line, '"Onesan') is None  # not at the very start: nothing before it
    assert split_offset(line, "Tomorrow") is None


def test_a_speaker_resolves_by_name_or_alias_exactly_as_printed() -> None:
    woman = Character("Hana", aliases=("small woman",))
    assert resolve_speaker("the small woman", [woman]) is woman
    assert resolve_speaker("Small  Woman", [woman]) is woman
    label = Character("the small woman")
    assert resolve_speaker("small woman", [label]) is label
    assert resolve_speaker("the tall man", [woman, label]) is None


def test_a_speaker_resolves_whatever_the_accents() -> None:
    eowyn = Character("Éowyn", aliases=("Lady Éowyn",))
    assert resolve_speaker("Eowyn", [eowyn]) is eowyn
    assert resolve_speaker("lady eowyn", [eowyn]) is eowyn
    assert resolve_speaker("E\u0301owyn", [eowyn]) is eowyn
    assert resolve_speaker("Eowin", [eowyn]) is None


# ---------------------------------------------------------------------------- applying


def test_a_speaker_correction_applies_to_exactly_its_line() -> None:
    _, plain = _lines(MARKET)
    line_id, segment = _by_text(plain)['"You\'re late."']
    speaker = _other(segment.speaker)
    _, fixed = _lines(MARKET, [Correction(line_id, speaker=speaker, text="x")])
    assert fixed.ids == plain.ids
    target = fixed.segments[fixed.ids.index(line_id)]
    assert target.speaker == speaker and target.confidence == 1.0
    assert fixed.corrected == frozenset({line_id})
    # Every other line is as before, or reported as changed in consequence.
    changed = {change.line_id for change in fixed.changed}
    for old, new, other_id in zip(plain.segments, fixed.segments, plain.ids, strict=True):
        if other_id != line_id:
            assert old.speaker == new.speaker or other_id in changed


def test_a_quote_that_is_not_speech_becomes_narration_and_back() -> None:
    _, plain = _lines(MARKET)
    line_id, _ = _by_text(plain)['"Liar."']
    _, fixed = _lines(MARKET, [Correction(line_id, kind=Kind.NARRATION)])
    segment = fixed.segments[fixed.ids.index(line_id)]
    assert segment.kind is Kind.NARRATION and segment.speaker is None
    narration_id, narration = _by_text(plain)["Daichi laughed."]
    assert narration.kind is Kind.NARRATION
    _, spoken = _lines(MARKET, [Correction(narration_id, speaker="Daichi")])
    segment = spoken.segments[spoken.ids.index(narration_id)]
    assert segment.kind is Kind.DIALOGUE and segment.speaker == "Daichi"


def test_a_quoted_run_is_split_between_two_speakers_at_the_given_words() -> None:
    _, plain = _lines(MARKET)
    line_id, _ = _by_text(plain)['"Onesan but why? Because stealing is wrong, that\'s why."']
    split = Correction(line_id, speaker="Mika", split_at="Because", then="Sora")
    _, fixed = _lines(MARKET, [split])
    first = fixed.segments[fixed.ids.index(line_id)]
    second = fixed.segments[fixed.ids.index(line_id + ".2")]
    assert first.text == '"Onesan but why? ' and first.speaker == "Mika"
    assert second.text == "Because stealing is wrong, that's why.\"" and second.speaker == "Sora"
    assert first.end == second.start
    assert {line_id, line_id + ".2"} <= fixed.corrected


def test_corrected_segments_still_cover_the_text_exactly_in_order() -> None:
    _, plain = _lines(MARKET)
    found = _by_text(plain)
    entries = [
        Correction(found['"Onesan but why? Because stealing is wrong, that\'s why."'][0],
                   speaker="Mika", split_at="stealing", then="Sora"),
        Correction(found['"Liar."'][0], kind=Kind.NARRATION),
        Correction(found["Daichi laughed."][0], speaker="Daichi"),
        Correction(found['"Looking,"'][0], kind=Kind.THOUGHT),
    ]  # fmt: skip
    book, fixed = _lines(MARKET, entries)
    assert book.stale == ()
    assert "".join(s.text for s in fixed.segments) == MARKET
    assert all(MARKET[s.start : s.end] == s.text for s in fixed.segments)
    assert len(set(fixed.ids)) == len(fixed.ids) == len(fixed.segments)


def test_corrections_survive_an_inserted_paragraph_and_a_word_changed_elsewhere() -> None:
    _, plain = _lines(MARKET)
    late_id, late = _by_text(plain)['"You\'re late."']
    yes_id, yes = _by_text(plain)['"Yes."']  # the first of two identical lines
    entries = [
        Correction(late_id, speaker=_other(late.speaker), text=reminder(late.text)),
        Correction(yes_id, speaker="Sora", text=reminder(yes.text)),
    ]
    # A paragraph at the top, a word changed in another line, and one right next to the first
    # "Yes." (so its context changed on one side).
    edited = "Chapter two of the market arc.\n\n" + MARKET.replace(
        "You two never agree", "You two never ever agree"
    ).replace('"Yes."\n\nThe old vendor', '"Yes."\n\nThe grumpy vendor')
    book, chapter = _lines(edited, entries)
    assert book.stale == ()
    late_now = next(s for s in chapter.segments if s.text == '"You\'re late."')
    yes_now = [s for s in chapter.segments if s.text == '"Yes."']
    assert late_now.speaker == _other(late.speaker) and late_now.confidence == 1.0
    assert yes_now[0].speaker == "Sora" and yes_now[0].confidence == 1.0
    assert yes_now[1].confidence != 1.0  # the identical line later on is not touched


def test_a_correction_whose_line_was_rewritten_is_stale_and_applied_nowhere() -> None:
    _, plain = _lines(MARKET)
    line_id, segment = _by_text(plain)['"You\'re late."']
    entry = Correction(line_id, speaker="Mika", text=reminder(segment.text))
    edited = MARKET.replace('"You\'re late."', '"You are so late again."')
    book, chapter = _lines(edited, [entry])
    assert [s.correction for s in book.stale] == [entry]
    assert "You're late." in book.stale[0].message()
    assert chapter.corrected == frozenset()
    assert all(s.confidence != 1.0 for s in chapter.segments if s.kind.is_speech)


def test_a_split_whose_words_are_gone_is_stale() -> None:
    _, plain = _lines(MARKET)
    line_id, _ = _by_text(plain)['"Liar."']
    book, _ = _lines(MARKET, [Correction(line_id, speaker="Mika", split_at="Nope", then="Sora")])
    assert len(book.stale) == 1 and "Nope" in book.stale[0].reason


def test_a_speaker_who_is_nobody_yet_joins_the_characters() -> None:
    _, plain = _lines(MARKET)
    line_id, _ = _by_text(plain)['"Are you buying or just looking?"']
    book, chapter = _lines(MARKET, [Correction(line_id, speaker="the old vendor")])
    assert [c.name for c in book.characters] == ["Mika", "Daichi", "Sora", "the old vendor"]
    assert chapter.segments[chapter.ids.index(line_id)].speaker == "the old vendor"
    # An alias, written as printed, names the character it belongs to.
    _, aliased = _lines(MARKET, [Correction(line_id, speaker="onesan")])
    assert aliased.segments[aliased.ids.index(line_id)].speaker == "Sora"


def test_lines_whose_speaker_changed_in_consequence_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a turn-taking attributor (speakers alternate from the last anchor), one fix
    changes the lines after it, and those are the lines reported."""

    def alternating(
        text: str,
        segments: Sequence[Segment],
        characters: Sequence[Character],
        *,
        narrative_person: int | None = None,
        fixed: Mapping[int, str] | None = None,
        complete: bool | None = None,
        idiolects: object = None,
        sieved: object = None,
    ) -> list[Segment]:
        fixed = fixed or {}
        names = ["Mika", "Daichi"]
        out, turn = [], 0
        for s in segments:
            if not s.kind.is_speech:
                out.append(s)
                continue
            if s.start in fixed:
                speaker, confidence = fixed[s.start], 1.0
                turn = names.index(speaker) if speaker in names else turn
            else:
                speaker, confidence = names[turn % 2], 0.5
            turn += 1
            out.append(replace(s, speaker=speaker, confidence=confidence))
        return out

    monkeypatch.setattr(corrections_module, "attribute_speakers", alternating)
    _, plain = _lines(MARKET)
    speech = [(i, s) for i, s in zip(plain.ids, plain.segments, strict=True) if s.kind.is_speech]
    target_id, target = speech[3]
    assert target.speaker == "Daichi"
    _, fixed = _lines(MARKET, [Correction(target_id, speaker="Mika")])
    after = dict(zip(fixed.ids, fixed.segments, strict=True))
    expected = {i for i, s in speech[4:] if after[i].speaker != s.speaker}
    assert expected and {c.line_id for c in fixed.changed} == expected
    assert all(c.before != c.after for c in fixed.changed)
    assert target_id not in {c.line_id for c in fixed.changed}
