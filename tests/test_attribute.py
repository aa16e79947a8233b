"""Speaker attribution: golden cases per sieve (tests/data/attribute/) and invariants."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator import segment
from narrator.attribute import (
    NARRATOR,
    SYSTEM,
    Sieve,
    attribute_speakers,
    explain_speakers,
    guess_narrative_person,
)
from narrator.attribute.features import Context, candidates
from narrator.attribute.mentions import acting_nouns, known_nouns
from narrator.attribute.quotes import Quote, TagKind
from narrator.attribute.runner import STEPS
from narrator.attribute.sieves import run_sieves
from narrator.model import Character, Gender, Kind, Segment

DATA = Path(__file__).parent / "data" / "attribute"
CASES = sorted(p.stem for p in DATA.glob("*.json"))


def quote_segments(text: str) -> list[Segment]:
    """Segments as the segmenter gives them: quotes paired per paragraph, marks included.

    An opening mark left unclosed runs to the end of its paragraph (a quotation that
    continues in the next one). Kept here so these tests pin attribution alone.
    """
    pieces: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]*)*", text):
        open_at = -1
        for i in range(para.start(), para.end()):
            if text[i] in '"\u201c\u201d':
                if open_at < 0:
                    open_at = i
                else:
                    pieces.append((open_at, i + 1))
                    open_at = -1
        if open_at >= 0:
            pieces.append((open_at, para.end()))
    segments: list[Segment] = []
    pos = 0
    for start, end in pieces:
        if start > pos:
            segments.append(Segment(pos, start, Kind.NARRATION, text[pos:start]))
        segments.append(Segment(start, end, Kind.DIALOGUE, text[start:end]))
        pos = end
    if pos < len(text):
        segments.append(Segment(pos, len(text), Kind.NARRATION, text[pos:]))
    return segments


def load_cast(entries: list[dict[str, object]]) -> list[Character]:
    return [
        Character(
            str(e["name"]),
            tuple(e.get("aliases", ())),  # type: ignore[arg-type]
            Gender(e["gender"]) if e.get("gender") else None,  # type: ignore[arg-type]
        )
        for e in entries
    ]


def assert_covers(text: str, segments: list[Segment]) -> None:
    pos = 0
    for seg in segments:
        assert seg.start == pos, f"gap or overlap at {pos}"
        assert seg.text == text[seg.start : seg.end]
        pos = seg.end
    assert pos == len(text)


def sieved(text: str, cast: list[Character]) -> list[Quote]:
    """The chapter's quotations as the sieves leave them (before the ranker)."""
    return run_sieves(text, segment.segment_chapter(text), cast).quotes


def dialogue_speakers(text: str, cast: list[Character]) -> list[str | None]:
    """The speaker of each dialogue line, the chapter segmented as the pipeline does."""
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    return [s.speaker for s in out if s.kind is Kind.DIALOGUE]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    text = (DATA / f"{case}.txt").read_text(encoding="utf-8")
    spec = json.loads((DATA / f"{case}.json").read_text(encoding="utf-8"))
    out, sieves = explain_speakers(
        text,
        quote_segments(text),
        load_cast(spec["cast"]),
        narrative_person=spec.get("narrative_person"),
        complete=spec.get("complete"),
    )
    assert_covers(text, out)
    got = [[s.text, s.speaker, sieves[s.start].value] for s in out if s.kind.is_speech]
    want = spec["expect"]
    # One readable diff of the whole case rather than the first differing field.
    assert "\n".join(map(str, got)) == "\n".join(map(str, want))
    for s in out:
        if s.kind.is_speech:
            assert s.confidence is not None and 0.0 < s.confidence <= 1.0


def test_every_sieve_a_run_reports_is_a_member_of_the_enum() -> None:
    # Every golden case, with every step on and with each switched off: the sieve of each
    # speech segment, and the `sieve=` feature of each candidate, name a member of Sieve.
    values = {s.value for s in Sieve}
    seen: set[Sieve] = set()
    for case in CASES:
        text = (DATA / f"{case}.txt").read_text(encoding="utf-8")
        spec = json.loads((DATA / f"{case}.json").read_text(encoding="utf-8"))
        cast = load_cast(spec["cast"])
        person = spec.get("narrative_person")
        for off in ((), *((step,) for step in STEPS)):
            out, sieves = explain_speakers(
                text, quote_segments(text), cast, narrative_person=person, disabled=off
            )
            for s in out:
                if s.kind.is_speech:
                    assert type(sieves[s.start]) is Sieve, (case, off, s.text)
            seen |= set(sieves.values())
        ctx = Context(run_sieves(text, quote_segments(text), cast, person))
        for q, cands in zip(ctx.chapter.quotes, candidates(ctx), strict=True):
            assert type(q.sieve) is Sieve
            for c in cands:
                for feature in c.features:
                    if feature.startswith("sieve="):
                        assert feature.removeprefix("sieve=") in values, (case, feature)
    # The cases reach the tags, paragraph sharing, turn-taking and both halves of a split.
    assert {Sieve.TAG_NAME, Sieve.PARAGRAPH, Sieve.TURN, Sieve.SPLIT_FIRST, Sieve.SPLIT} <= seen


def test_steps_switched_off_by_name_and_unknown_names_refused() -> None:
    text = (
        'Tom waved.\n\n"Hello," said Tom.\n\n"Hi," said Ana.\n\n"How are you?"\n\n'
        'They walked on. Tom stopped at the gate.\n\n"Here."\n'
    )
    cast = [Character("Tom", gender=Gender.MALE), Character("Ana", gender=Gender.FEMALE)]
    segments = segment.segment_chapter(text)

    def sieves_of(off: list[str]) -> list[Sieve]:
        out, sieves = explain_speakers(text, segments, cast, disabled=off)
        return [sieves[s.start] for s in out if s.kind.is_speech]

    tags = [Sieve.TAG_NAME, Sieve.TAG_NAME]
    assert sieves_of([]) == [*tags, Sieve.TURN, Sieve.FALLBACK]
    assert sieves_of(["turn", "fallback", "ranker"]) == [*tags, Sieve.NONE, Sieve.NONE]
    # An answer's name (`tag-name`) is no switch: explicit tags are always on.
    for bad in ("tag-name", "nope"):
        with pytest.raises(ValueError, match=bad):
            explain_speakers(text, segments, cast, disabled=[bad])


def test_confidence_follows_sieve_certainty() -> None:
    text = (DATA / "turns.txt").read_text(encoding="utf-8")
    spec = json.loads((DATA / "turns.json").read_text(encoding="utf-8"))
    out = attribute_speakers(text, quote_segments(text), load_cast(spec["cast"]))
    speech = [s for s in out if s.kind.is_speech]
    assert speech[0].confidence is not None and speech[2].confidence is not None
    assert speech[0].confidence > speech[2].confidence  # explicit tag > turn-taking


def test_shared_alias_is_settled_by_title_and_context() -> None:
    text = (
        'Arthur Grey came in first.\n\n"Sit down," said Mr. Grey.\n\n'
        '"I would rather stand," said Mrs. Grey.\n\nEdith looked at the clock.\n\n'
        '"It is late," said Grey.\n\nLater, Jonas Fenn and Ruben Fenn argued by the well. '
        'Ruben kicked the bucket.\n\n"Enough," said the twin.\n'
    )
    cast = [
        Character("Arthur Grey", ("Grey", "Mr. Grey"), Gender.MALE),
        Character("Edith Grey", ("Grey", "Mrs. Grey", "Edith"), Gender.FEMALE),
        Character("Jonas Fenn", ("Jonas", "the twin"), Gender.MALE),
        Character("Ruben Fenn", ("Ruben", "the twin"), Gender.MALE),
    ]
    out = attribute_speakers(text, quote_segments(text), cast)
    speakers = [s.speaker for s in out if s.kind.is_speech]
    # A title picks by gender; a bare surname shared by a couple is the man (the usual
    # convention in fiction); otherwise the one named last decides.
    assert speakers == ["Arthur Grey", "Edith Grey", "Arthur Grey", "Ruben Fenn"]


def test_first_person_without_cast_entry_is_narrator() -> None:
    narration = "I walked to the harbour and I watched the boats, as I always did. " * 12
    text = narration + '\n\n"Any news?" I asked.\n\n"None," said Dara.\n'
    out = attribute_speakers(text, quote_segments(text), [Character("Dara")])
    assert [s.speaker for s in out if s.kind.is_speech] == [NARRATOR, "Dara"]


def test_narrative_person_is_guessed_over_the_whole_book() -> None:
    first = "I rowed out at dawn and I counted the gulls, as I always do. " * 4
    # A chapter of talk: `he`/`she` in its narration, every `I` inside quotes.
    talk = '"I will go," he said. "I know the way," she said.\n\n' * 6
    assert guess_narrative_person([first, talk, first]) == 1
    assert guess_narrative_person([talk]) == 3
    # Curly quotes and a quotation left open to the end of its paragraph.
    third = "She rowed out at dawn. He counted the gulls. \u201cI am cold,\u201d she said. " * 4
    assert guess_narrative_person([third + '"I was never so tired\n\nHe slept.']) == 3
    assert guess_narrative_person([]) == 3


def test_without_cast_keeps_names_and_descriptions() -> None:
    text = '"Do not cry," Kai said.\n\n"Move along," said the bald man.\n'
    out = attribute_speakers(text, quote_segments(text), [])
    assert [s.speaker for s in out if s.kind.is_speech] == ["Kai", "the bald man"]


def test_no_speech_returns_segments_unchanged() -> None:
    text = "Nobody said anything at all.\n"
    segments = quote_segments(text)
    assert attribute_speakers(text, segments, []) == segments


def test_split_keeps_coverage_with_curly_quotes() -> None:
    text = "Mira sat down.\n\n\u201cCan we go? Sure thing, red.\u201d Tomas said.\n"
    cast = [
        Character("Mira", ("red",), Gender.FEMALE),
        Character("Tomas", (), Gender.MALE),
    ]
    out = attribute_speakers(text, quote_segments(text), cast)
    assert_covers(text, out)
    assert [s.speaker for s in out if s.kind.is_speech] == ["Mira", "Tomas"]


def test_with_the_segmenter_covers_text() -> None:
    segment = pytest.importorskip("narrator.segment")
    text = (DATA / "vocative.txt").read_text(encoding="utf-8")
    spec = json.loads((DATA / "vocative.json").read_text(encoding="utf-8"))
    out = attribute_speakers(text, segment.segment_chapter(text), load_cast(spec["cast"]))
    assert_covers(text, out)
    assert all(s.speaker for s in out if s.kind.is_speech)


def test_long_chapter_keeps_every_turn() -> None:
    # About 60,000 words of alternating tagged and untagged exchanges. (Speed is measured in
    # bench/attribution.py and reported in bench/RESULTS.md, not timed here.)
    block = (
        'Ilse looked up from the map. "Is the bridge open?" asked Ilse.\n\n'
        '"Since Tuesday," said Mattias.\n\n"And the toll?"\n\n"Two coins."\n\n'
        "The cart rolled on for an hour and nobody spoke at all on the long road.\n\n"
    )
    text = block * 1500
    cast = [Character("Ilse", (), Gender.FEMALE), Character("Mattias", (), Gender.MALE)]
    segments = quote_segments(text)
    out = attribute_speakers(text, segments, cast)
    assert sum(1 for s in out if s.speaker == "Ilse") == 3000


_PIECES = [
    '"Run!"', '"Where to?" ', "said Tom", "Tom said.", "she asked", "Said the old man",
    " ", ", ", ". ", "\n", "\n\n", "\u201cNo, Tom.\u201d", "Mira frowned.", "I said",
    '"Yes? No, red."', "'Think.'", "*Great.*", '"unclosed', "the bald man", "Mr. Grey",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.sampled_from([None, 1, 3]))
@settings(max_examples=150, deadline=None)
def test_any_text_keeps_coverage_and_confidence(pieces: list[str], person: int | None) -> None:
    text = "".join(pieces)
    cast = [
        Character("Tom", ("Tom",), Gender.MALE),
        Character("Mira", ("red",), Gender.FEMALE),
        Character("Edith Grey", ("Mrs. Grey",), Gender.FEMALE),
        Character("", ("",)),  # an empty entry in a hand-written cast must not break
    ]
    out = attribute_speakers(text, quote_segments(text), cast, narrative_person=person)
    assert_covers(text, out)
    for seg in out:
        if seg.kind.is_speech:
            assert seg.confidence is not None and 0.0 <= seg.confidence <= 1.0
            assert seg.speaker is None or seg.speaker.strip()
        else:
            assert seg.speaker is None


def test_fixed_speaker_wins_and_says_so() -> None:
    text = '"Where were you?" Tom asked.\n\n"Out," said Dara.\n'
    segments = segment.segment_chapter(text)
    cast = [Character("Tom"), Character("Dara")]
    second = next(s for s in segments if s.kind is Kind.DIALOGUE and "Out" in s.text)
    out = attribute_speakers(text, segments, cast, fixed={second.start: "Tom"})
    line = next(s for s in out if s.start == second.start)
    assert (line.speaker, line.confidence) == ("Tom", 1.0)
    assert line.evidence == ("corrected by the author",)


def test_a_fixed_speaker_carries_down_the_exchange() -> None:
    text = (
        "Tom and Dara sat by the fire.\n\n"
        '"Cold tonight."\n\n"It is."\n\n"Pass the wood."\n\n"Get it yourself."\n'
    )
    segments = segment.segment_chapter(text)
    cast = [Character("Tom", gender=Gender.MALE), Character("Dara", gender=Gender.FEMALE)]
    speech = [s for s in segments if s.kind is Kind.DIALOGUE]

    def speakers(fixed: dict[int, str]) -> list[str | None]:
        out = attribute_speakers(text, segments, cast, fixed=fixed)
        return [s.speaker for s in out if s.kind is Kind.DIALOGUE]

    default = speakers({})
    other = "Dara" if default[0] == "Tom" else "Tom"
    fixed = speakers({speech[0].start: other})
    assert fixed == [other, default[0], other, default[0]]


def test_every_ranked_line_says_why_and_who_else() -> None:
    text = 'Tom looked at Dara.\n\n"Where were you?" Tom asked.\n\n"Out," said Dara.\n'
    cast = [Character("Tom", gender=Gender.MALE), Character("Dara", gender=Gender.FEMALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    lines = [s for s in out if s.kind is Kind.DIALOGUE]
    assert [s.speaker for s in lines] == ["Tom", "Dara"]
    assert lines[0].evidence[0] == "tag: Tom"
    assert lines[1].evidence[0] == "tag: Dara"
    for line in lines:
        assert line.candidates and all(p < (line.confidence or 0) for _, p in line.candidates)


def test_dash_dialogue_is_attributed_by_its_tags() -> None:
    text = (DATA.parent / "segment" / "dash_dialogue.txt").read_text(encoding="utf-8")
    cast = [Character("Stephen", gender=Gender.MALE), Character("Marta", gender=Gender.FEMALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    said = [(s.text.lstrip("—- "), s.speaker) for s in out if s.kind is Kind.DIALOGUE]
    assert said[:5] == [
        ("Where is he?", "Stephen"),
        ("Gone to the harbour,", "Marta"),
        ("At dawn? And you let him go?", "Stephen"),
        ("I am not his keeper,", "Marta"),
        ("I am his sister.", "Marta"),
    ]


def test_names_written_in_lower_case_in_a_lower_case_text() -> None:
    text = (
        "chapter two\n\n"
        "nix woke up late again..\n\n"
        '"get up!!"yelled mags from the hall\n\n'
        '"five more minutes"nix said and rolled over\n\n'
        "mags threw a pillow at her. it was going to be a long day\n\n"
        '"you will thank me later"said mags\n'
    )
    cast = [Character("Nix", gender=Gender.FEMALE), Character("Mags", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Mags", "Nix", "Mags"]


def test_a_lower_case_name_once_after_a_function_word_is_still_a_name() -> None:
    # `is that nell?` once does not make `nell` an ordinary word (`you will`, `she rose`).
    text = (
        "chapter three\n\n"
        "nell is on my floor eating chips. i let her. i always do, i guess.\n\n"
        '"is that nell?" jace said\n\n'
        "nell waved at him through the glass\n\n"
        '"hi jace!!" nell yelled\n\n'
        '"go away" i said\n'
    )
    cast = [
        Character("Nell", gender=Gender.FEMALE),
        Character("Jace", gender=Gender.MALE),
        Character("Aria", ("I",), Gender.FEMALE),
    ]
    assert dialogue_speakers(text, cast) == ["Jace", "Nell", "Aria"]


def test_a_name_that_is_also_a_word_stays_case_sensitive() -> None:
    text = (
        "chapter one\n\n"
        "it was cold. Will sat by the door\n\n"
        '"i will not go"said Will\n\n'
        "the rain will stop soon, she thought\n\n"
        '"you will,"Ana said\n'
    )
    cast = [Character("Will", gender=Gender.MALE), Character("Ana", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Will", "Ana"]


POV_TEXT = (
    "- - Kess's POV - -\n\n"
    "I had been waiting at the gate for an hour when the boy finally showed up.\n\n"
    '"You\'re late," I said.\n\n'
    '"The tide was high," Dren said.\n\n'
    "- - Dren's POV - -\n\n"
    "I didn't tell her the real reason. She would only worry.\n\n"
    '"Are we going or not?" Kess asked.\n\n'
    '"We\'re going," I said.\n'
)


def test_a_point_of_view_heading_changes_who_i_is() -> None:
    cast = [Character("Kess", gender=Gender.FEMALE), Character("Dren", gender=Gender.MALE)]
    out = attribute_speakers(POV_TEXT, segment.segment_chapter(POV_TEXT), cast)
    assert [s.speaker for s in out if s.kind is Kind.DIALOGUE] == ["Kess", "Dren", "Kess", "Dren"]


def test_a_name_alone_between_marks_is_a_point_of_view_heading() -> None:
    # `~ Kess ~`, `-Dren-`: web fiction heads each first-person part with its teller's name.
    text = POV_TEXT.replace("- - Kess's POV - -", "~ Kess ~").replace(
        "- - Dren's POV - -", "-Dren-"
    )
    cast = [Character("Kess", gender=Gender.FEMALE), Character("Dren", gender=Gender.MALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    assert [s.speaker for s in out if s.kind is Kind.DIALOGUE] == ["Kess", "Dren", "Kess", "Dren"]
    assert [s.text for s in out if s.kind is Kind.HEADING] == ["~ Kess ~", "-Dren-"]
    # In a third-person chapter such a heading says where a part starts, not who "I" is.
    he = "He walked to the mill, and he looked at the river, and he thought of her. " * 15
    third = f"~ Kess ~\n\n{he}\n\n" + '"Cold," he said.\n'
    assert run_sieves(third, segment.segment_chapter(third), cast).person == 3


def test_a_third_person_chapter_in_a_first_person_book_is_third_person() -> None:
    he = "He walked to the mill, and he looked at the river, and he thought of her. " * 15
    text = f"{he}\n\n" + '"Cold," he said.\n\n"It is," said Ana.\n'
    cast = [Character("Tom", aliases=("I",), gender=Gender.MALE), Character("Ana")]
    assert run_sieves(text, segment.segment_chapter(text), cast, 1).person == 3
    short = '"Cold," he said.\n\n"It is," said Ana.\n'
    assert run_sieves(short, segment.segment_chapter(short), cast, 1).person == 1


def test_a_scene_break_line_does_not_change_how_paragraphs_are_read() -> None:
    # One paragraph per line; a `* * *` with blank lines around it must not turn the whole
    # chapter into blank-line paragraphs for attribution (the segmenter's rule is the rule).
    lines = [
        "Tom and Dara walked to the mill.",
        '"Is it far?" asked Dara.',
        '"Not far."',
        '"You said that an hour ago."',
        '"And I was right then too," said Tom.',
        "They walked on.",
    ]
    plain = "\n".join(lines) + "\n"
    broken = "\n".join(lines[:3]) + "\n\n* * *\n\n" + "\n".join(lines[3:]) + "\n"
    cast = [Character("Tom", gender=Gender.MALE), Character("Dara", gender=Gender.FEMALE)]

    def speakers(text: str) -> list[str | None]:
        out = attribute_speakers(text, segment.segment_chapter(text), cast)
        return [s.speaker for s in out if s.kind is Kind.DIALOGUE]

    assert speakers(plain) == ["Dara", "Tom", "Dara", "Tom"]
    assert speakers(broken)[:2] == ["Dara", "Tom"]
    assert speakers(broken)[3] == "Tom"


# Names in other scripts (issue 16). Written for these tests.
WORLD_CHAPTER = """\
The hall was cold when the riders came in from the plain.

"Where is the ship?" asked Éowyn.

"It sailed at dawn," said Анна.

"Then we walk," replied Ōkami.

"To the sea," said Νίκος.

Éowyn looked at Анна, and Ōkami looked at Νίκος. "Walk where?" Анна said.

"Follow me," said 李明.
"""


def _speakers(text: str, characters: list[Character]) -> list[str | None]:
    out = attribute_speakers(text, segment.segment_chapter(text), characters)
    assert_covers(text, out)
    return [s.speaker for s in out if s.kind.is_speech]


def test_names_in_any_cased_script_are_tags_without_a_cast() -> None:
    speakers = _speakers(WORLD_CHAPTER, [])
    assert speakers[:5] == ["Éowyn", "Анна", "Ōkami", "Νίκος", "Анна"]


def test_names_in_any_script_are_tags_with_a_cast_including_a_caseless_one() -> None:
    cast = [Character(n) for n in ("Éowyn", "Анна", "Ōkami", "Νίκος", "李明")]
    assert _speakers(WORLD_CHAPTER, cast) == ["Éowyn", "Анна", "Ōkami", "Νίκος", "Анна", "李明"]


def test_accents_case_and_normal_form_do_not_keep_a_name_from_its_cast_entry() -> None:
    import unicodedata

    text = (
        '"Where is the ship?" asked Eowyn.\n\n"It sailed," said АННА.\n\n'
        '"Walk," replied Okami.\n\n"我们走吧," said 李明.\n'
    )
    cast = [
        Character(unicodedata.normalize("NFD", "Éowyn")),
        Character("Anya", ("Анна",)),
        Character("Ōkami"),
        Character("Li Ming", ("李明",)),
    ]
    assert _speakers(text, cast) == [cast[0].name, "Anya", "Ōkami", "Li Ming"]


def test_a_caseless_name_is_found_inside_unspaced_text() -> None:
    text = '李明说："我们走吧。"\n'
    assert _speakers(text, [Character("李明")]) == ["李明"]


def test_a_vocative_in_another_script_names_the_next_speaker() -> None:
    from narrator.characters import find_characters

    text = (
        "Анна and Ōkami stood at the gate.\n\n"
        '"Where is the ship, Анна?" asked Ōkami.\n\n"Gone."\n\n'
        '"Gone where, Анна?"\n\n"To the sea, Ōkami."\n'
    )
    out = attribute_speakers(text, segment.segment_chapter(text), find_characters([text]))
    lines = [s for s in out if s.kind.is_speech]
    assert [s.speaker for s in lines] == ["Ōkami", "Анна", "Ōkami", "Анна"]
    assert "addressed" in lines[1].evidence[0]


def test_both_halves_of_a_split_run_say_why() -> None:
    text = 'Mira and Tom sat in the cart.\n\n"Can we go? Sure thing, Mira." Tom said.\n'
    cast = [Character("Mira", gender=Gender.FEMALE), Character("Tom", gender=Gender.MALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    halves = [s for s in out if s.kind is Kind.DIALOGUE]
    assert [s.speaker for s in halves] == ["Mira", "Tom"]
    assert all(s.evidence for s in halves)


@pytest.mark.slow
def test_one_huge_paragraph_of_quotes_and_names_is_linear() -> None:
    # Web fiction can be one paragraph a chapter: the ranker reads each quotation's paragraph
    # only near it. Four times the text must take about four times as long, not sixteen.
    cast = [Character(x) for x in ("Ann", "Bob", "Cid", "Dan")]

    def seconds(n: int) -> float:
        text = 'Ann and Bob met Cid there. "Hello," said Dan. ' * n
        segments = segment.segment_chapter(text)
        start = time.perf_counter()
        attribute_speakers(text, segments, cast)
        return time.perf_counter() - start

    small, large = seconds(1000), seconds(4000)
    assert large < 7 * small


def test_a_text_message_is_said_by_its_sender() -> None:
    text = (
        "Noor's phone buzzed on the library table.\n\n"
        "[bex]: where r u\n"
        "[Theo]: blink twice if the books have taken u hostage\n\n"
        "Noor sighed and typed.\n\n"
        "[Noor]: be there in 20\n"
    )
    cast = [
        Character("Noor", gender=Gender.FEMALE),
        Character("Bex", gender=Gender.FEMALE),
    ]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    said = [(s.text, s.speaker) for s in out if s.kind is Kind.DIALOGUE]
    assert said == [
        ("where r u", "Bex"),
        ("blink twice if the books have taken u hostage", "Theo"),
        ("be there in 20", "Noor"),
    ]


def test_people_speaking_together_are_a_group_not_one_of_the_cast() -> None:
    text = (
        "Vey stood in the galley with Tully and two guards.\n\n"
        '"Who let the goat in?" Vey asked.\n\n'
        '"Not us," said the guards together.\n\n'
        '"Nor I," the women cried.\n'
    )
    cast = [Character("Vey", gender=Gender.FEMALE), Character("Tully", gender=Gender.MALE)]
    said = dialogue_speakers(text, cast)
    assert said == ["Vey", "the guards", "the women"]


def test_they_and_we_in_a_tag_are_a_group_not_one_of_the_cast() -> None:
    # Written for this test: a plural pronoun tag (`they both asked` too) names several
    # people at once. `they` is the group named just before (`Vey and Tully`, `the guards`),
    # else `they`.
    text = (
        "Vey and Tully reached the gate at dusk.\n\n"
        '"Open up!" they shouted.\n\n'
        '"Who goes there?" Vey asked.\n\n'
        "The guards leaned over the wall and laughed.\n\n"
        '"Nobody you know," they said.\n\n'
        '"Then we wait," we answered.\n\n'
        '"Forever?" they both asked.\n'
    )
    cast = [Character("Vey", gender=Gender.FEMALE), Character("Tully", gender=Gender.MALE)]
    segments = segment.segment_chapter(text)
    sieves, _ = explain_speakers(text, segments, cast, disabled=["ranker"])
    assert [s.speaker for s in sieves if s.kind is Kind.DIALOGUE] == [
        "Vey and Tully", "Vey", "the guards", "we", "they",
    ]  # fmt: skip


def test_a_cast_alias_they_is_one_person_called_they() -> None:
    # Singular they: the author says so by giving `they` as the character's alias.
    text = 'Vey waved at Sam across the square.\n\n"Over here!" they called.\n'
    cast = [
        Character("Vey", gender=Gender.FEMALE),
        Character("Sam", aliases=("they",)),
    ]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    assert [s.speaker for s in out if s.kind is Kind.DIALOGUE] == ["Sam"]


def test_we_lines_are_a_group_unless_the_narrator_has_the_alias_we() -> None:
    text = 'I met Bill at the station.\n\n"Late again," Bill said.\n\n"Us?" we said together.\n'
    bill = Character("Bill", gender=Gender.MALE)
    for aliases, last in ((("I",), "we"), (("I", "we"), "Jake")):
        cast = [Character("Jake", aliases=aliases), bill]
        out = attribute_speakers(text, segment.segment_chapter(text), cast)
        assert [s.speaker for s in out if s.kind is Kind.DIALOGUE] == ["Bill", last]


def test_a_speaker_described_by_any_noun_is_a_speaker_of_their_own() -> None:
    # `chirped the twins`, `said the ferryman`: no person noun we know, no cast member it
    # could be: the noun phrase is the speaker, not the last person named.
    text = (
        "Vey stood in the galley with Tully.\n\n"
        '"Who let the goat in?" Vey asked.\n\n'
        '"Us!" Chirped the twins from on top of the fridge.\n\n'
        '"Oars in," said the old ferryman, and the boat slowed.\n\n'
        '"Then you row," said the latter.\n'
    )
    cast = [Character("Vey", gender=Gender.FEMALE), Character("Tully", gender=Gender.MALE)]
    said = dialogue_speakers(text, cast)
    assert said[:3] == ["Vey", "the twins", "the old ferryman"]
    assert said[3] != "the latter"


def test_a_walk_on_named_before_the_verb_is_a_speaker_of_their_own() -> None:
    # `the baker said`, `someone in the crowd muttered`, `one of the guards barked`: the
    # subject-first order of `said the baker`, for any noun phrase.
    text = (
        "Mara walked into the shop with Tomas.\n\n"
        '"Is that so?" the baker said.\n\n'
        '"It is," Mara said.\n\n'
        '"Go away," someone in the crowd shouted.\n\n'
        '"No," one of the burly followers barked.\n\n'
        '"Enough!" Tomas said.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Tomas", gender=Gender.MALE)]
    said = dialogue_speakers(text, cast)
    assert said == [
        "the baker",
        "Mara",
        "someone in the crowd",
        "one of the burly followers",
        "Tomas",
    ]


def test_a_walk_on_named_after_the_verb_is_a_speaker_of_their_own() -> None:
    # The verb-first order of the test above: `shouted one of the gunners`, `whispered
    # someone`, `said another clerk`, and `came a voice from the stairs`.
    text = (
        "Mara walked onto the deck with Tomas.\n\n"
        '"Guns are out!" shouted one of the gunners.\n\n'
        '"Good," Mara said.\n\n'
        '"Hush!" whispered someone near the mast.\n\n'
        '"Why?" laughed one of them.\n\n'
        '"Sit down," said another clerk.\n\n'
        '"Who is there?" came a voice from the stairs.\n\n'
        '"Enough!" Tomas said.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Tomas", gender=Gender.MALE)]
    said = dialogue_speakers(text, cast)
    assert said == [
        "one of the gunners",
        "Mara",
        "someone",
        "one of them",
        "another clerk",
        "the voice",
        "Tomas",
    ]


def test_a_cast_entry_named_by_a_quantifier_is_the_one_its_tag_names() -> None:
    # A cast that lists walk-ons by description (`One Of The Women`, `An Old Man`): the
    # tag `said one of the women` is that entry, not a stranger left out of the cast.
    text = (
        'Tom came in with the women.\n\n"Go!" said one of the women.\n\n"Sit," said an old man.\n'
    )
    cast = [
        Character("Tom", gender=Gender.MALE),
        Character("One Of The Women", gender=Gender.FEMALE),
        Character("An Old Man", gender=Gender.MALE),
    ]
    assert dialogue_speakers(text, cast) == ["One Of The Women", "An Old Man"]


def test_a_point_of_view_heading_finds_a_name_with_accents() -> None:
    text = (
        '- - Éowyn\'s POV - -\n\nI looked at the gate. Merry was beside me.\n\n"Open it," I said.\n'
    )
    cast = [
        Character("Éowyn of Rohan", ("Éowyn",), Gender.FEMALE),
        Character("Merry", gender=Gender.MALE),
    ]
    assert dialogue_speakers(text, cast) == ["Éowyn of Rohan"]


def test_an_abbreviated_title_is_the_same_title_written_out() -> None:
    # `Dr. Pike` is `the doctor` and `Capt. Oro` is `the captain`, whoever was named last.
    text = (
        "Dr. Pike stood by the bed with Capt. Oro and Tully.\n\n"
        '"Is she awake?" asked Bran.\n\n'
        '"Not yet," said the doctor.\n\n'
        '"Then we wait," said the captain.\n'
    )
    cast = [
        Character("Dr. Pike", gender=Gender.MALE),
        Character("Capt. Oro", gender=Gender.MALE),
        Character("Tully", gender=Gender.MALE),
        Character("Bran", gender=Gender.MALE),
    ]
    said = dialogue_speakers(text, cast)
    assert said == ["Bran", "Dr. Pike", "Capt. Oro"]


def test_she_is_never_someone_whose_gender_nothing_says() -> None:
    # `a voice` may be anyone's: `she said` goes to the last woman named, not to the voice.
    text = (
        "Mara sat by the fire, and Tully slept. A voice called from the door.\n\n"
        '"Who is it?" she said.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Tully", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["Mara"]


def test_a_speaker_named_again_in_narration_can_be_the_next_pronoun() -> None:
    # A pronoun skips who spoke last, unless narration after their words names them again.
    text = (
        "Lisa had gone up to bed.\n\n"
        '"Good night, then," said Mara to the empty room. Mara sat alone by the fire, and '
        "the fire burned low.\n\n"
        '"I am tired," she said at last.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Lisa", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Mara", "Mara"]


def test_a_pronoun_still_skips_who_spoke_last_in_an_exchange() -> None:
    text = (
        "Lisa and Mara sat by the fire.\n\n"
        '"Good night, then," said Mara, standing up.\n\n'
        '"Sleep well," she said.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Lisa", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Mara", "Lisa"]


def test_a_cast_entry_that_is_a_description_is_who_the_narration_describes() -> None:
    # A cast file may name someone only by a description (`a girl`): `the girl` in narration
    # is that character, and so is the `she` who speaks after her.
    text = (
        "The boy sat by the water when the girl came down the path and sat beside him.\n\n"
        '"What you fishing for?" she asked.\n'
    )
    cast = [Character("The boy", gender=Gender.MALE), Character("a girl", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["a girl"]


def test_someone_described_with_a_is_someone_new() -> None:
    # `said a rough voice`: nobody known, even with Dick asleep right there.
    text = 'Dick lay asleep on the box.\n\n"Wake up there," said a rough voice.\n'
    cast = [Character("Dick", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["the rough voice"]


def test_a_longer_description_still_finds_the_cast_entry_it_ends_with() -> None:
    text = 'Tom knocked.\n\n"Halloa?" said a little ugly hump-backed man at the door.\n'
    cast = [Character("Tom", gender=Gender.MALE), Character("The Hump-backed Man")]
    assert dialogue_speakers(text, cast) == ["The Hump-backed Man"]


def test_his_voice_is_a_man_speaking() -> None:
    # `said his voice`: not a person noun, so the owner speaks, and `his` says a man.
    text = (
        "Matthew came in from the yard while Anne set the table.\n\n"
        '"Well, now," said his voice from the porch.\n'
    )
    cast = [Character("Matthew", gender=Gender.MALE), Character("Anne", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Matthew"]


def test_a_cast_listing_walk_ons_is_complete_so_nobody_outside_it_speaks() -> None:
    # A cast that lists walk-ons by description (`The Jailer`) lists everyone who speaks:
    # the old woman who just came in is then someone in it. A cast of the main characters
    # only leaves her a speaker of her own.
    text = (
        "Fagin sat by the fire while Nancy sewed. An old woman came in with a tray.\n\n"
        '"Eat it while it is hot," said the woman.\n'
    )
    main = [Character("Fagin", gender=Gender.MALE), Character("Nancy", gender=Gender.FEMALE)]
    walk_on = Character("The Jailer", gender=Gender.MALE)
    assert dialogue_speakers(text, main) == ["the old woman"]
    assert dialogue_speakers(text, [*main, walk_on]) == ["Nancy"]
    # What the author says ([speakers] complete in the cast file) wins either way.
    segments = segment.segment_chapter(text)
    for cast, complete, want in (([*main, walk_on], False, "the old woman"), (main, True, "Nancy")):
        told = attribute_speakers(text, segments, cast, complete=complete)
        assert [s.speaker for s in told if s.kind.is_speech] == [want]


@pytest.mark.parametrize(
    ("intro", "want"),
    [
        ("Tom crossed the long room to the window, looked out at the rain, and then said:", "Tom"),
        ("Tom glanced at the clock, and Ana, seeing him, remarked drily:", "Ana"),
        ("Tom nodded to the stranger at the door, who answered him gravely:", "the stranger"),
        ("A long pause followed before Ana went on in her quiet way:", "Ana"),
        ("Ana looked at Tom, and Tom hesitated, then cleared his throat and began:", "Tom"),
    ],
    ids=["and-then", "comma-subject", "who", "before", "last-clause"],
)
def test_narration_ending_in_a_colon_introduces_its_subject(intro: str, want: str) -> None:
    # The paragraph before a quotation ends with a colon: its last clause's subject speaks,
    # however far from the colon the verb is.
    text = f'Tom and Ana waited in the hall.\n\n{intro}\n\n"We should go."\n'
    cast = [
        Character("Tom", gender=Gender.MALE),
        Character("Ana", gender=Gender.FEMALE),
        Character("The Stranger", gender=Gender.MALE),
    ]
    got = dialogue_speakers(text, cast)
    assert [g.lower() for g in got] == [want.lower()]


@pytest.mark.parametrize(
    "closing",
    [
        "Kess looked at them both for a long moment, and then said quietly:",
        "Then Kess turned away from the window and spoke:",
    ],
)
def test_a_colon_after_a_paragraphs_last_quotation_introduces_the_next_paragraph(
    closing: str,
) -> None:
    # The paragraph before ends with narration after its quotation, and that narration ends
    # with a colon: its subject speaks the next paragraph, not the turn after Ana's.
    text = (
        'Tom, Ana and Kess waited in the hall.\n\n"Are we going?" asked Tom.\n\n'
        f'"Soon," said Ana. {closing}\n\n"Not yet."\n'
    )
    cast = [
        Character("Tom", gender=Gender.MALE),
        Character("Ana", gender=Gender.FEMALE),
        Character("Kess", gender=Gender.FEMALE),
    ]
    assert dialogue_speakers(text, cast) == ["Tom", "Ana", "Kess"]


@pytest.mark.parametrize(
    ("paragraph", "want"),
    [
        (
            '"You\'re late." Kess crossed her arms. "Again." Rook shrugged. "Traffic." Kess '
            'rolled her eyes. "You walk."',
            ["Kess", "Kess", "Rook", "Kess"],
        ),
        (
            'Rook came in. "Hey." Kess didn\'t look up. "Hey yourself." He sat down. "Bad day?"',
            ["Rook", "Kess", "Rook"],
        ),
        ('"Move," Kess said. Rook folded his arms. "No."', ["Kess", "Rook"]),
    ],
    ids=["names", "pronoun", "after-a-tag"],
)
def test_a_beat_before_a_quotation_in_a_shared_paragraph_names_its_speaker(
    paragraph: str, want: list[str]
) -> None:
    # Web fiction puts several turns in one paragraph: a sentence of action right before a
    # quotation (`Rook shrugged. "Traffic."`) gives it to the one who acts.
    text = f"Kess and Rook sat on the wall by the dock.\n\n{paragraph}\n"
    cast = [Character("Kess", gender=Gender.FEMALE), Character("Rook", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == want


def test_names_with_japanese_honorifics_are_the_cast_members() -> None:
    # `Sasuke-kun, wait!` addresses Sasuke; `Kakashi-sensei said` is Kakashi speaking, not
    # someone new called Kakashi-sensei.
    text = (
        "Sakura ran to the gate where Sasuke waited.\n\n"
        '"Sasuke-kun, wait!"\n\n'
        '"Hn."\n\n'
        "A leaf fell from the tree above them.\n\n"
        '"Late again," Kakashi-sensei said.\n'
    )
    cast = [
        Character("Sakura", gender=Gender.FEMALE),
        Character("Sasuke", gender=Gender.MALE),
        Character("Kakashi", gender=Gender.MALE),
    ]
    assert dialogue_speakers(text, cast) == ["Sakura", "Sasuke", "Kakashi"]


def test_a_chat_chapter_gives_each_line_to_its_sender() -> None:
    text = (
        "The group chat lit up at midnight.\n\n"
        "Sakura: where are you\n"
        "Sasuke: training\n"
        "Sakura: it's midnight\n"
        "Sasuke: so?\n"
    )
    cast = [Character("Sakura Haruno", aliases=("Sakura",)), Character("Sasuke")]
    assert dialogue_speakers(text, cast) == ["Sakura Haruno", "Sasuke", "Sakura Haruno", "Sasuke"]


def test_a_message_from_me_is_the_first_person_narrators() -> None:
    text = (
        "I was already late when my phone buzzed. I looked at it and I sighed.\n"
        "Jules: where are you\n"
        "Jules: they're calling names\n"
        "Me: 2 min!!\n"
        "I shoved the phone in my pocket and I ran.\n"
    )
    cast = [Character("Harper", aliases=("I",)), Character("Jules")]
    assert dialogue_speakers(text, cast) == ["Jules", "Jules", "Harper"]
    assert dialogue_speakers(text, [Character("Jules")]) == ["Jules", "Jules", NARRATOR]


def test_a_text_that_writes_i_in_lower_case_is_still_told_in_the_first_person() -> None:
    # Messy web fiction writes `i said`: where the text uses a lone lower-case `i` as a word,
    # it is `I`, for the narrative person and in speech tags.
    text = (
        "i walked into the room and rook was there already. i sat down next to him and i "
        "stared at the wall for a long time.\n\n"
        '"whatever," i said.\n\n'
        '"fine," rook said.\n\n'
        '"ok," i muttered.\n'
    )
    cast = [
        Character("Kess", aliases=("I",), gender=Gender.FEMALE),
        Character("Rook", gender=Gender.MALE),
    ]
    assert dialogue_speakers(text, cast) == ["Kess", "Rook", "Kess"]
    assert guess_narrative_person([text]) == 1


def test_a_line_two_named_people_say_together_is_theirs_together() -> None:
    # `Rook and Bo said in unison`: both of them, not Rook alone.
    text = (
        "Kess faced the two recruits.\n\n"
        '"Ready?" Kess asked.\n\n'
        '"Yes, sir!" Rook and Bo said in unison.\n\n'
        '"Good," said Kess.\n\n'
        '"Always," said Rook and Bo together.\n\n'
        '"Then go," said Kess and Rook laughed.\n'
    )
    cast = [
        Character("Kess", gender=Gender.FEMALE),
        Character("Rook", gender=Gender.MALE),
        Character("Bo", gender=Gender.MALE),
    ]
    # The verb first too (`said Rook and Bo together`); not when the second name goes on
    # to a verb of its own (`said Kess and Rook laughed`).
    said = dialogue_speakers(text, cast)
    assert said == ["Kess", "Rook and Bo", "Kess", "Rook and Bo", "Kess"]


def test_they_after_two_people_named_together_is_the_two_of_them() -> None:
    text = 'Rook and Bo ran into the yard.\n\n"Us!" they cried.\n'
    cast = [Character("Rook", gender=Gender.MALE), Character("Bo", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["Rook and Bo"]


def test_a_voice_in_someones_head_is_a_speaker_of_its_own() -> None:
    # `said the voice in his head`: a voice is a part of someone, never an epithet of whoever
    # was named last (Rook hears it; he does not speak it).
    text = "Rook froze at the edge of the roof.\n\n*Run,* said the voice in his head.\n"
    cast = [Character("Rook", gender=Gender.MALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    assert [(s.kind, s.speaker) for s in out if s.kind.is_speech] == [(Kind.THOUGHT, "the voice")]


def test_a_pronoun_answering_the_turn_before_is_the_one_it_addressed() -> None:
    # `"Dorian," said Henry, "..."` then `"...," he answered`: the man addressed answers,
    # even when another man (the driver) was named more recently.
    text = (
        "Dorian stood by the gate. The driver of the cab waited at the corner, and Jehu the "
        "driver whistled.\n\n"
        '"Dorian," said Henry, "we had better go in."\n\n'
        '"I wish we had never come, Harry," he answered.\n'
    )
    cast = [
        Character("Dorian", gender=Gender.MALE),
        Character("Henry", aliases=("Harry",), gender=Gender.MALE),
        Character("Jehu", gender=Gender.MALE),
    ]
    assert dialogue_speakers(text, cast) == ["Henry", "Henry", "Dorian"]


def test_a_shorter_description_is_the_cast_entry_it_heads() -> None:
    # Casts name walk-ons by a longer description than the text uses for them: `our last
    # guide`, `man sold to`, `The first man who came in`. The text's `the guide` is that
    # entry when no other entry has that head noun, and a pronoun can then point at it.
    main = [Character("Terry", gender=Gender.MALE), Character("Jeff", gender=Gender.MALE)]
    guide = Character("our last guide", gender=Gender.MALE)
    text = (
        "Terry and Jeff waded in after the cloth. The guide stood on the bank.\n\n"
        '"Come down," he said, pointing to the falls.\n'
    )
    assert dialogue_speakers(text, [*main, guide]) == ["our last guide"]
    text = 'Jeff looked back at the shore.\n\n"One day blue," said the guide.\n'
    assert dialogue_speakers(text, [*main, guide]) == ["our last guide"]
    # Two entries with that head: the text's word says neither.
    other = Character("the guide who stayed below", gender=Gender.MALE)
    assert dialogue_speakers(text, [*main, guide, other]) != ["our last guide"]


def test_a_plain_description_in_the_cast_is_not_every_shorter_one() -> None:
    # `The Old Woman` is named the way the text names her; `the woman` may be anyone.
    cast = [
        Character("Fagin", gender=Gender.MALE),
        Character("Nancy", gender=Gender.FEMALE),
        Character("The Old Woman", gender=Gender.FEMALE),
    ]
    text = 'Nancy stood at the door.\n\n"Let him go," said the woman.\n'
    assert dialogue_speakers(text, cast) == ["Nancy"]


def test_a_name_answering_a_question_is_not_a_form_of_address() -> None:
    # `"Name?"` `"Harper. Harper Quinn."`: the answer names someone, it does not call them
    # (so it says nothing about who speaks next). Called out of the blue, it does.
    cast = [Character("Harper Quinn", gender=Gender.FEMALE), Character("Dev", gender=Gender.MALE)]

    def vocatives(text: str) -> list[set[str]]:
        return [q.vocatives for q in sieved(text, cast)]

    asked = 'Dev looked up. "Name?"\n\n"Harper. Harper Quinn."\n'
    assert vocatives(asked) == [set(), set()]
    called = 'Dev looked up. "There."\n\n"Harper. Harper Quinn."\n'
    assert vocatives(called) == [set(), {"Harper Quinn"}]


def test_a_system_line_is_the_systems_and_stays_out_of_the_exchange() -> None:
    text = (
        "Tom and Ana sat down by the fire.\n\n"
        '"Ready?" said Tom.\n\n'
        "[Quest accepted: The Long Road]\n\n"
        '"Ready," Ana said.\n\n'
        '"Then we go."\n'
    )
    cast = [Character("Tom", gender=Gender.MALE), Character("Ana", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["Tom", SYSTEM, "Ana", "Tom"]
    # An author's correction wins here too.
    segments = segment.segment_chapter(text)
    system_at = next(s.start for s in segments if s.text.startswith("["))
    told = attribute_speakers(text, segments, cast, fixed={system_at: "The Voice"})
    assert [s.speaker for s in told if s.kind.is_speech][1] == "The Voice"


def test_an_epithet_guessed_by_gender_is_the_one_the_answer_calls() -> None:
    # `said the boy` names nobody the text introduced; the answer calling `Rook` says
    # who it was, over the latest person named.
    cast = [
        Character("Rook", gender=Gender.MALE),
        Character("Ana", gender=Gender.FEMALE),
        Character("Vesh", gender=Gender.MALE),
    ]
    text = (
        "Vesh held up two bells. Ana watched them swing.\n\n"
        '"But there are only two," the boy said slowly.\n\n'
        '"Very good, Rook. You can count," said Vesh.\n'
    )
    assert dialogue_speakers(text, cast) == ["Rook", "Vesh"]
    # The sieves' own answer (what the ranker weighs), not only the ranker's.
    first = sieved(text, cast)[0]
    assert (first.speaker, first.sieve) == ("Rook", Sieve.TAG_DESC_TURN)


USUAL_EPITHET_CAST = [Character("Tom", gender=Gender.MALE), Character("Bill", gender=Gender.MALE)]
# Four scenes call Tom `the old man`; in the fifth, Bill was named last, so gender and
# recency alone guess Bill. One epithet, one person over the text: it is Tom.
USUAL_EPITHET_TEXT = "\n\n".join(
    ['Tom came in from the yard.\n\n"Shut the door," said the old man.\n\n'
     + "The rain fell on the roofs of the town all night long. " * 60] * 4
    + ['Tom sat by the fire. Bill came in from the cold.\n\n"Sit," said the old man.\n']
)  # fmt: skip


def test_an_epithet_guessed_by_gender_yields_to_its_usual_reading_over_the_text() -> None:
    first = sieved(USUAL_EPITHET_TEXT, USUAL_EPITHET_CAST)[-1]
    assert first.speaker == "Tom"
    assert dialogue_speakers(USUAL_EPITHET_TEXT, USUAL_EPITHET_CAST)[:4] == ["Tom"] * 4


@pytest.mark.xfail(
    strict=True,
    reason="known limit (bench/RESULTS.md, round 16): the ranker weighs the usual reading "
    "as a gender guess, and Bill, named last, outscores it by a hair",
)
def test_the_ranker_keeps_an_epithets_usual_reading() -> None:
    assert dialogue_speakers(USUAL_EPITHET_TEXT, USUAL_EPITHET_CAST)[-1] == "Tom"


@pytest.mark.xfail(
    strict=True,
    reason="known limit (bench/RESULTS.md, round 16): calling Hal by name weighs against "
    "him without ruling him out, and with four people on stage the ranker picks Sanne",
)
def test_a_line_calling_the_one_two_turns_back_goes_to_the_one_who_answered() -> None:
    # The vocative golden case, one line on: the sieves answer Ines (turn-taking skips the
    # one addressed); a hard rule for the ranker lost 7 lines leaving one book out.
    text = (DATA / "vocative.txt").read_text(encoding="utf-8")
    text += '\n"Did you sleep at all, Hal?"\n'
    cast = load_cast(json.loads((DATA / "vocative.json").read_text(encoding="utf-8"))["cast"])
    assert sieved(text, cast)[-1].speaker == "Ines"
    assert dialogue_speakers(text, cast)[-1] == "Ines"


def test_a_pronoun_tag_is_the_one_the_next_turn_calls_by_name() -> None:
    # `he said` read as the latest man named (Vesh); the answer calls Rook: it was Rook.
    cast = [Character("Rook", gender=Gender.MALE), Character("Vesh", gender=Gender.MALE)]
    text = (
        "Rook sat by the door. Vesh held up two bells and shook them.\n\n"
        '"There are only two," he said.\n\n'
        '"Very good, Rook. You can count."\n'
    )
    first = sieved(text, cast)[0]
    assert (first.speaker, first.sieve) == ("Rook", Sieve.TAG_PRONOUN_TURN)
    # A name the pronoun cannot be is no answer: `he said` is not Ana.
    text = text.replace("Very good, Rook", "Very good, Ana")
    first = run_sieves(
        text, segment.segment_chapter(text), [*cast, Character("Ana", gender=Gender.FEMALE)]
    ).quotes[0]
    assert first.sieve is Sieve.TAG_PRONOUN


def test_a_thought_calling_the_thinker_by_name_is_still_theirs() -> None:
    # Self-talk: `_Don't do it, Mara._` is Mara's own thought, and so is her next line.
    text = (
        "~ Mara ~\n\n"
        "I knew who it was before I looked. I sat up in the dark.\n\n"
        '"Can you come over?" Theo asked.\n\n'
        "_Don't. Don't do it, Mara._ \"Give me twenty minutes.\"\n"
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Theo", gender=Gender.MALE)]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    assert [(s.kind, s.speaker) for s in out if s.kind.is_speech] == [
        (Kind.DIALOGUE, "Theo"),
        (Kind.THOUGHT, "Mara"),
        (Kind.DIALOGUE, "Mara"),
    ]


def test_the_first_person_narrator_answers_only_where_later_turns_do_not_say_who() -> None:
    # The narrator watches Poirot question the maid: the tags after the open turns say the
    # exchange is Poirot's and Annie's, so the narrator is not given a turn in it.
    text = (
        "I stood by the door and I said nothing. Poirot turned to the maid.\n\n"
        '"Did she have cocoa every night?" said Poirot.\n\n'
        '"Yes, sir, every night."\n\n'
        '"And who took it up to her?"\n\n'
        '"I did, sir," Annie said.\n\n'
        '"Thank you," said Poirot.\n'
    )
    cast = [
        Character("Hastings", aliases=("I",), gender=Gender.MALE),
        Character("Poirot", gender=Gender.MALE),
        Character("Annie", gender=Gender.FEMALE),
    ]
    quotes = run_sieves(text, segment.segment_chapter(text), cast, narrative_person=1).quotes
    assert [q.speaker for q in quotes] == ["Poirot", "Annie", "Poirot", "Annie", "Poirot"]


def test_hair_colour_epithets_say_no_gender() -> None:
    # Web fiction calls men `the blonde` and `the redhead` as often as women.
    cast = [Character("Naruto", gender=Gender.MALE), Character("Sakura", gender=Gender.FEMALE)]
    text = (
        "Sakura sighed and looked away from Naruto.\n\n"
        '"Believe it!" the blonde shouted.\n\n'
        '"Shut up, Naruto," Sakura said.\n'
    )
    assert dialogue_speakers(text, cast) == ["Naruto", "Sakura"]


def test_me_after_the_verb_is_who_was_told_not_who_tells() -> None:
    # `He told me that ...: "..."`: `me` is the one told; the narrator is not the speaker.
    cast = [
        Character("Van", aliases=("I",), gender=Gender.MALE),
        Character("Terry", gender=Gender.MALE),
        Character("our last guide", gender=Gender.MALE),
    ]
    text = (
        "I spoke of the river to our last guide, a fellow with quick eyes.\n\n"
        "He told me that there was another river--\u201cover there, short river, sweet "
        "water.\u201d\n"
    )
    quote = run_sieves(text, segment.segment_chapter(text), cast, narrative_person=1).quotes[0]
    assert quote.tag is not None and quote.tag[0] is not TagKind.NAME
    assert quote.speaker == "our last guide"


def test_a_description_in_apposition_is_the_person_just_named() -> None:
    # `our last guide, a fellow with quick eyes`: nobody new, the guide said again.
    cast = [Character("Terry", gender=Gender.MALE), Character("Nick", gender=Gender.MALE)]
    text = (
        "Terry waved to Nick, a fellow with quick eyes, across the river. A stranger came.\n\n"
        '"Come down," said the fellow.\n'
    )
    chapter = run_sieves(text, segment.segment_chapter(text), cast)
    described = {text[m.start : m.end]: (m.names, m.indefinite) for m in chapter.mentions}
    assert described["a fellow"] == (("Nick",), False)  # not someone new
    assert described["A stranger"] == ((), True)
    assert chapter.quotes[0].speaker == "Nick"


def test_a_capitalised_function_word_after_a_quotation_is_no_speaker() -> None:
    # `So saying, he ...`, `This was said ...`: a sentence opening, not a name in a tag.
    cast = [Character("Tom", gender=Gender.MALE), Character("Ana", gender=Gender.FEMALE)]
    text = (
        'Tom stood up.\n\n"I am off," So saying, he sprang over the hedge.\n\n'
        '"Well," This was said by Ana with great gravity.\n'
    )
    quotes = sieved(text, cast)
    assert [q.tag for q in quotes] == [None, None]
    # A capitalised word that can be a name still is one: `said Charly`.
    text = '"Look," said Charly.\n'
    quote = sieved(text, cast)[0]
    assert quote.tag == (TagKind.PROPER, "Charly")


def test_an_owner_named_mid_sentence_is_not_who_a_pronoun_tag_means() -> None:
    # `away from Stephen's eyes`: Stephen owns the eyes; `he said` is still the one acting.
    cast = [Character("Buck", gender=Gender.MALE), Character("Stephen", gender=Gender.MALE)]
    text = (
        "Stephen watched while Buck shaved at the parapet.\n\n"
        "Laughing again, he took the mirror away from Stephen's eyes.\n\n"
        '"The rage of Caliban," he said.\n'
    )
    assert sieved(text, cast)[0].speaker == "Buck"
    # After a verb too (`took Edna's hand`); a sentence may open with an owner, though.
    cast = [Character("Edna", gender=Gender.FEMALE), Character("Reisz", gender=Gender.FEMALE)]
    took = 'Reisz sat down. She took Edna\'s hand in her wiry fingers.\n\n"Yes," she went on.\n'
    assert run_sieves(took, segment.segment_chapter(took), cast).quotes[0].speaker == "Reisz"
    opens = 'Reisz sat down. Edna\'s face fell.\n\n"Yes," she said.\n'
    assert run_sieves(opens, segment.segment_chapter(opens), cast).quotes[0].speaker == "Edna"


SELF_INTRODUCED = (
    "Mara waited at the gate.\n\n"
    "A boy with a scar stepped out of the crowd.\n\n"
    '"Who are you?" Mara asked.\n\n'
    '"Nobody," said the boy.\n\n'
    '"Everyone is somebody."\n\n'
    '"I\'m Kai," said the boy.\n'
)
MARA = Character("Mara", gender=Gender.FEMALE)
KAI = Character("Kai", gender=Gender.MALE)


def test_a_nameless_speaker_who_says_their_name_is_that_character() -> None:
    # Every line the chapter gave `the boy` is Kai's, before he says so too.
    assert _speakers(SELF_INTRODUCED, [MARA, KAI]) == ["Mara", "Kai", "Mara", "Kai"]
    # Without Kai in the cast, the boy stays a speaker of his own.
    assert _speakers(SELF_INTRODUCED, [MARA])[1] == "the boy"


@pytest.mark.parametrize("says", ["I met Kai", "I'm Kai's brother"])
def test_a_self_introduction_is_not_a_name_told_of(says: str) -> None:
    # Someone else named: the boy keeps his label.
    text = SELF_INTRODUCED.replace("I'm Kai", says)
    assert _speakers(text, [MARA, KAI])[1] == "the boy"


def test_the_authors_correction_wins_over_a_self_introduction() -> None:
    text = SELF_INTRODUCED
    segs = segment.segment_chapter(text)
    last = [s for s in segs if s.kind.is_speech][-1]
    out = attribute_speakers(text, segs, [MARA, KAI], fixed={last.start: "Mara"})
    assert [s.speaker for s in out if s.kind.is_speech][-1] == "Mara"


def test_a_pronoun_tag_for_someone_only_described_is_that_person() -> None:
    # Nobody of that gender named or introduced: `he said` is the boy described, not `he`.
    text = (
        "Anna opened the door. The skinny boy stood on the step with a letter.\n\n"
        '"For Volkov," he said.\n\n'
        '"He is out," said Anna.\n'
    )
    cast = [Character("Anna", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["the skinny boy", "Anna"]


def test_a_part_of_someone_moving_is_them_acting() -> None:
    # `Tomas's eyes narrowed.`, `"Nobody." Mara's face fell.`: a beat by their eyes, face,
    # smile or voice is theirs; `Tomas's sister` is someone else.
    text = (
        "Mara and Tomas waited at the gate, and Ilse watched them from the wall.\n\n"
        'Tomas\'s eyes narrowed. "Who sent you?"\n\n'
        '"Nobody." Mara\'s face fell.\n\n'
        'Tomas\'s sister laughed from the wall. "Liar."\n'
    )
    cast = [
        Character("Mara", gender=Gender.FEMALE),
        Character("Tomas", gender=Gender.MALE),
        Character("Ilse", ("Tomas's sister",), Gender.FEMALE),
    ]
    assert dialogue_speakers(text, cast) == ["Tomas", "Mara", "Ilse"]


def test_an_untagged_thought_in_a_first_person_chapter_is_the_narrators() -> None:
    text = (
        "I stood at the gate with Kess. The wind was cold and I hated it.\n\n"
        '"Ready?" Kess asked.\n\n'
        "*Not even close.*\n\n"
        '"Yes," I said.\n\n'
        "The kid has a point, I thought. I looked at Pim.\n\n"
        "*Okay. Do not panic.*\n"
    )
    cast = [
        Character("Sam", ("I",), Gender.MALE),
        Character("Kess", gender=Gender.FEMALE),
        Character("Pim", gender=Gender.MALE),
    ]
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    thoughts = [s for s in out if s.kind is Kind.THOUGHT]
    assert [s.speaker for s in thoughts] == ["Sam", "Sam"]
    assert all("a thought: Sam tells this part" in s.evidence for s in thoughts)


def test_a_message_in_angle_brackets_is_its_senders_not_the_systems() -> None:
    text = (
        "The tug came about.\n\n"
        "MAGPIE: On the hull.\n"
        "HERON: <Registry found. Abel Voss.>\n"
        "MAGPIE: Figures.\n"
    )
    cast = [Character("Kit", ("MAGPIE",), Gender.MALE), Character("Heron", ("HERON",))]
    assert dialogue_speakers(text, cast) == ["Kit", "Heron", "Kit"]


def test_an_untagged_line_saying_who_its_speaker_is_is_theirs() -> None:
    # `Toby snorted` is the listener reacting: the line says it is Priya's.
    text = (
        "Priya sat down opposite Toby.\n\n"
        '"Policewoman?" Toby snorted into his wine. "But you can call me Priya."\n\n'
        '"Detective, then," said Toby.\n'
    )
    cast = [Character("Priya", gender=Gender.FEMALE), Character("Toby", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast)[1:] == ["Priya", "Toby"]


def test_a_noun_the_text_makes_speak_is_a_person_acting_too() -> None:
    # `said the turnkey` teaches that a turnkey is a person: `The turnkey shook his head.`
    # is then the turnkey acting, though the lexicon knows no turnkeys.
    text = (
        "Oliver stood at the gate with Tom.\n\n"
        '"Open up," Tom said.\n\n'
        '"Not tonight," said the turnkey.\n\n'
        "Oliver waited in the cold.\n\n"
        'The turnkey shook his head again. "Come back at dawn."\n'
    )
    cast = [Character("Oliver", gender=Gender.MALE), Character("Tom", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["Tom", "the turnkey", "the turnkey"]


def test_a_noun_the_text_makes_do_what_only_people_do_is_a_person() -> None:
    # No tag names a receptionist, and the lexicon knows none: looking up from a ledger says
    # she is a person, so she is the one acting before her line.
    text = (
        "Tom and Ana walked into the guild hall.\n\n"
        "The receptionist didn\u2019t even look up from her ledger. "
        '"Turning in, or signing up?"\n\n'
        '"Turning in," Tom said.\n'
    )
    cast = [Character("Tom", gender=Gender.MALE), Character("Ana", gender=Gender.FEMALE)]
    assert dialogue_speakers(text, cast) == ["the receptionist", "Tom"]


def test_acting_nouns_are_read_from_what_only_people_do() -> None:
    text = (
        "The steward bowed low. The old clerk's eyes narrowed. The eyes smiled. "
        "The ledger lay open."
    )
    assert acting_nouns(text) == {"steward", "clerk"}


def test_known_nouns_are_dictionary_person_nouns_a_sentence_opens_with() -> None:
    # `The sailor`, `A lanky bouncer`, `, the footman`: people by the dictionary, as
    # subjects; `the coach` as an object, `The general idea` (an adjective) are not.
    text = (
        "The sailor laughed. A lanky bouncer stood by the coach. It rained, the footman "
        "said nothing. The general idea was sound. The wall fell."
    )
    assert known_nouns(text) == {"sailor", "bouncer", "footman"}


def test_a_stranger_acting_next_to_an_untagged_line_can_be_its_speaker() -> None:
    text = (
        "Ana opened the letter at the table.\n\n"
        "It was the post. The footman came in and bowed.\n\n"
        '"Another letter, ma\'am."\n\n'
        '"Thank you," said Ana.\n'
    )
    cast = [Character("Ana", gender=Gender.FEMALE), Character("Tom", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["the footman", "Ana"]


def test_a_full_name_opening_a_line_alone_is_the_speaker_saying_who_they_are() -> None:
    # `"Ezra Tull. Nobody's asked me that."`, `"Sissy Jupe, sir,"`, `"I, Hercule Poirot,
    # affirm"`: the speaker's own name, not someone addressed; `"Eli Marsh, you come
    # straight home"` is an address.
    text = (
        "Mara looked at the two strangers by the fire.\n\n"
        '"Ezra Tull. Nobody has asked me that in a year."\n\n'
        '"Sissy Jupe, sir," the girl said.\n\n'
        '"I, Ezra Tull, say so."\n\n'
        '"Eli Marsh, you come straight home."\n'
    )
    cast = [
        Character("Mara", gender=Gender.FEMALE),
        Character("Ezra Tull", aliases=("Ezra", "Tull"), gender=Gender.MALE),
        Character("Sissy Jupe", aliases=("Sissy",), gender=Gender.FEMALE),
        Character("Eli Marsh", aliases=("Eli",), gender=Gender.MALE),
    ]
    ch = run_sieves(text, segment.segment_chapter(text), cast)
    assert [sorted(q.vocatives) for q in ch.quotes] == [[], [], [], ["Eli Marsh"]]
    said = dialogue_speakers(text, cast)
    assert said[:3] == ["Ezra Tull", "Sissy Jupe", "Ezra Tull"]


def test_a_pronoun_tag_after_a_described_subject_reads_as_that_person() -> None:
    # The sieves read `he` as the stranger who opened the sentence before, not as Bumble,
    # named earlier; the ranker weighs that answer against Bumble being on stage.
    text = (
        "Mr. Bumble sat down by the fire and looked about him.\n\n"
        "The stranger broke silence at last, in a harsh, deep voice.\n\n"
        '"Were you looking for me," he said, "when you peered in at the window?"\n'
    )
    cast = [Character("Mr. Bumble", ("Bumble",), Gender.MALE)]
    q = sieved(text, cast)[0]
    assert (q.sieve, q.speaker) == (Sieve.TAG_PRONOUN, "the stranger")


def test_a_quotation_cut_by_a_tag_with_a_clause_about_someone_else_stays_one_speakers() -> None:
    # The second piece is Oliver's and Bumble's: `when Mrs. Maylie returned` and `as Mr.
    # Grimwig disappeared` are clauses of their tags, not tags of their own.
    text = (
        "Rose went up to bed.\n\n"
        '"I hope," said Oliver, when Mrs. Maylie returned, "that nothing is the matter?"\n\n'
        '"I hope," said Mr. Bumble, looking about him, as Mr. Grimwig disappeared with the '
        'two old women: "I hope that this will not deprive me of my office?"\n\n'
        '"It was an accident!" he cried, and Mrs. Maylie said, "It really was."\n'
    )
    cast = [
        Character("Oliver", gender=Gender.MALE),
        Character("Mrs. Maylie", gender=Gender.FEMALE),
        Character("Mr. Bumble", gender=Gender.MALE),
        Character("Mr. Grimwig", gender=Gender.MALE),
    ]
    speakers = [q.speaker for q in sieved(text, cast)]
    assert speakers[:4] == ["Oliver", "Oliver", "Mr. Bumble", "Mr. Bumble"]
    assert speakers[5] == "Mrs. Maylie"  # a tag of its own after `and`


def test_a_line_broken_off_and_taken_up_again_is_the_same_speakers() -> None:
    text = (
        "I lowered my map. I hate caves, and I hate spiders more. I looked at the dwarf.\n\n"
        '"Is it dead?" the dwarf asked.\n\n'
        '"It\'s not\u2014" I started.\n\n'
        "The rubble heaved.\n\n"
        '"\u2014dead. It\'s not dead. Everyone back!"\n'
    )
    cast = [
        Character("Sam", ("I",), Gender.MALE),
        Character("Brannoc", ("the dwarf",), Gender.MALE),
        Character("Ysolde", gender=Gender.FEMALE),
    ]
    assert dialogue_speakers(text, cast) == ["Brannoc", "Sam", "Sam"]


def test_a_court_transcript_gives_questions_to_counsel_and_answers_to_the_witness() -> None:
    text = (
        "LENA MARSH, having been duly sworn, testified as follows:\n\n"
        "DIRECT EXAMINATION BY MS. VOSS:\n\n"
        "Q. Where were you that night?\n"
        "A. At the Fuel Stop.\n"
        "Q. Alone?\n"
        "A. Yes.\n\n"
        "CROSS-EXAMINATION BY MR. HALE:\n\n"
        "Q. You were tired?\n"
        "A. No.\n"
    )
    cast = [
        Character("Renata Voss", ("Ms. Voss",), Gender.FEMALE),
        Character("Owen Hale", ("Mr. Hale",), Gender.MALE),
        Character("Lena Marsh", ("Marsh",), Gender.FEMALE),
    ]
    voss, hale, marsh = "Renata Voss", "Owen Hale", "Lena Marsh"
    assert dialogue_speakers(text, cast) == [voss, marsh, voss, marsh, hale, marsh]


# Written for these tests: a quest told in the second person.
_SECOND_PERSON = (
    "You push the door open. The barkeep looks up from his glass. You take the stool "
    "nearest the fire, and your boots drip on the boards. You wait. He waits longer.\n\n"
    '"We\'re closed," says the barkeep.\n\n'
    '"The sign says open," you say.\n\n'
    '"The sign lies." He sets the glass down.\n\n'
    'You put three coins on the bar. "Then let it lie for a room."\n\n'
    '"Upstairs. Second door," he tells you.\n\n'
    '"And a meal," you add. "Something hot."\n'
)


def test_a_second_person_protagonist_speaks_as_you() -> None:
    cast = [
        Character("Rook", aliases=("you",), gender=Gender.FEMALE),
        Character("Jory", aliases=("the barkeep",), gender=Gender.MALE),
    ]
    assert dialogue_speakers(_SECOND_PERSON, cast) == [
        "Jory", "Rook", "Jory", "Rook", "Jory", "Rook", "Rook",
    ]  # fmt: skip


def test_without_a_cast_entry_you_are_the_narrator() -> None:
    # Like a first-person narrator the cast does not name, read in the narrator's voice.
    cast = [Character("Jory", aliases=("the barkeep",), gender=Gender.MALE)]
    speakers = dialogue_speakers(_SECOND_PERSON, cast)
    assert speakers == ["Jory", NARRATOR, "Jory", NARRATOR, "Jory", NARRATOR, NARRATOR]


def test_you_in_a_tag_of_a_third_person_story_is_nobody_in_particular() -> None:
    # `you` outside a second-person story is no one's tag: the line goes by its turn.
    text = (
        "Mara rowed out at dawn. She counted the gulls. Tam watched her from the pier. " * 4
        + '\n\n"Any news?" asked Tam.\n\n"None," you might say Mara said.\n'
    )
    cast = [Character("Mara", gender=Gender.FEMALE), Character("Tam", gender=Gender.MALE)]
    assert dialogue_speakers(text, cast) == ["Tam", "Mara"]


def test_a_tag_naming_someone_by_their_relation_to_another_is_not_that_other() -> None:
    # Written for this test: `said the baker's wife` is the wife, not the baker; a part of
    # someone speaking (`said Tom's voice`) is still Tom.
    cast = [
        Character("Tom Hale", aliases=("Tom", "the baker"), gender=Gender.MALE),
        Character("Nell Hale", aliases=("Nell",), gender=Gender.FEMALE),
    ]
    text = (
        "Nell came in from the yard with the eggs and set them on the table by the door.\n\n"
        '"Flour\'s late again," said the baker.\n\n'
        '"Then we bake with what we have," said the baker\'s wife.\n\n'
        '"We always do," said Tom\'s voice from the back.\n'
    )
    assert dialogue_speakers(text, cast) == ["Tom Hale", "Nell Hale", "Tom Hale"]


def test_someone_named_only_as_the_owner_of_a_relative_is_not_on_stage() -> None:
    # Written for this test: `Nico's mother clicked her rosary` puts the mother on stage,
    # not Nico, so the untagged line before anyone is tagged is not his.
    cast = [
        Character("Tamsin Ward", aliases=("Tamsin", "Ward"), gender=Gender.FEMALE),
        Character("Gordon Teague", aliases=("Teague", "Mr. Teague"), gender=Gender.MALE),
        Character("Nico Ferrante", aliases=("Nico",), gender=Gender.MALE),
    ]
    text = (
        "Tamsin Ward rose from the defence table and crossed to the witness box. Behind "
        "her, Nico Ferrante's mother clicked through her rosary.\n\n"
        '"Good morning, Mr. Teague."\n\n'
        '"Morning."\n'
    )
    assert dialogue_speakers(text, cast) == ["Tamsin Ward", "Gordon Teague"]


def test_words_in_the_head_sent_by_someone_named_are_theirs_not_the_storytellers() -> None:
    # Written for this test: an untagged thought is the storyteller's, unless the narration
    # says whose voice it is (a mind link, a voice in the head).
    cast = [
        Character("Rook", aliases=("I",), gender=Gender.FEMALE),
        Character("Bram", gender=Gender.MALE),
    ]
    text = (
        "I sat at the back of the hall and kept my eyes on the floor, the way I always did "
        "when the elders met. I counted the knots in the boards. I was on forty when it came.\n\n"
        "Bram's voice came through the link, pitched for me alone. *They can see your eyes, "
        "Rook. Look down.*\n\n"
        "I looked down.\n\n"
        "*Too late,* I thought.\n"
    )
    out = attribute_speakers(text, segment.segment_chapter(text), cast)
    assert [s.speaker for s in out if s.kind.is_speech] == ["Bram", "Rook"]


def test_its_and_a_name_on_the_phone_or_at_a_door_is_the_speaker_saying_who_is_there() -> None:
    # Written for this test: `"Ruby? It's Kettle."` is Kettle calling; `"It's Kettle's
    # hat."` and `"This is Mrs. Bell."` (an introduction) say nothing of the speaker.
    cast = [
        Character("Kettle", gender=Gender.MALE),
        Character("Ruby", gender=Gender.FEMALE),
        Character("Morty", gender=Gender.MALE),
    ]
    text = (
        "Morty wiped the bar and said nothing. The payphone by the coat rack ate one nickel "
        "in three. Morty watched it eat two.\n\n"
        "\"Ruby? It's Kettle. Don't hang up.\"\n\n"
        '"Give me one reason."\n'
    )
    ch = run_sieves(text, segment.segment_chapter(text), cast)
    assert ch.quotes[0].sieve is Sieve.SELF_NAMED
    assert dialogue_speakers(text, cast)[0] == "Kettle"
    for line in (
        "\"Look. It's Kettle's hat. He left it.\"",
        '"Hush. This is Mrs. Bell. She sings."',
        "\"It's Kettle! Everybody hush, it's Kettle!\"",
    ):
        other = "Morty wiped the bar and said nothing.\n\n" + line + "\n"
        cast2 = [*cast, Character("Mrs. Bell", aliases=("Bell",), gender=Gender.FEMALE)]
        assert run_sieves(other, segment.segment_chapter(other), cast2).quotes[0].sieve is not (
            Sieve.SELF_NAMED
        )


def test_the_one_a_tag_speaks_to_is_not_its_speaker() -> None:
    # `said he to Temple`, `he said to Temple`: Temple is spoken to; `he` is the other man.
    cast = [Character("Temple", gender=Gender.MALE), Character("Eldridge", gender=Gender.MALE)]
    opening = "Eldridge rose and offered Temple his chair.\n\n"
    for tag in ("said he to Temple", "he said to Temple", "he said, turning to Temple"):
        text = f'{opening}"This is a strange place," {tag}, "to receive visitors."\n'
        first = sieved(text, cast)[0]
        assert (first.speaker, first.tag) == ("Eldridge", (TagKind.PRONOUN, "he")), tag
    # An epithet before a name is still the name's: `inquired poor Temple`.
    for tag in ("inquired poor Temple", "asked the sleepy Temple"):
        text = f'{opening}"Where am I to sit?" {tag}.\n'
        first = sieved(text, cast)[0]
        assert (first.speaker, first.tag) == ("Temple", (TagKind.NAME, "Temple")), tag


def test_a_participle_after_a_line_is_no_tag_of_its_own() -> None:
    # `"...," addressing Sissy`: Sissy is spoken to; the line is Bitzer's, as the tag of
    # its paragraph says.
    cast = [Character("Bitzer", gender=Gender.MALE), Character("Sissy", gender=Gender.FEMALE)]
    text = (
        "Bitzer and Sissy stood by the desk.\n\n"
        '"No, I wasn\'t!" cried Bitzer. "Not till she ran away from me," addressing Sissy.'
        ' "Everyone knows it."\n'
    )
    quotes = sieved(text, cast)
    assert [q.speaker for q in quotes] == ["Bitzer", "Bitzer", "Bitzer"]


def test_an_inverted_tag_with_a_verb_no_list_holds_names_who_follows_the_verb() -> None:
    # `flashed` is in no verb list: after a line closed by a comma the tag goes on, so the
    # name right after the verb speaks (not Diana, who acts first in the paragraph). A name
    # further on is no speaker (`seemed the best answer to Diana`).
    text = (
        "Anne and Diana walked home from the exam.\n\n"
        'Diana looked at her friend. "I would rather not pass at all than pass low," '
        "flashed Anne.\n\n"
        '"You will pass," Diana said.\n\n'
        'Anne shook her head. "Never mind," seemed the best answer to Diana.\n'
    )
    out = attribute_speakers(
        text, segment.segment_chapter(text), [Character("Anne"), Character("Diana")]
    )
    speech = [s for s in out if s.kind.is_speech]
    assert [s.speaker for s in speech] == ["Anne", "Diana", "Anne"]
    assert "tag: Anne" in speech[0].evidence
    assert not any(reason.startswith("tag") for reason in speech[2].evidence)
