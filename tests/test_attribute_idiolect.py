"""How each character talks: samples from tagged lines, and a line weighed against them."""

from __future__ import annotations

from narrator.attribute import features, sieve_book
from narrator.attribute.features import Candidate, Context
from narrator.attribute.idiolect import MIN_WORDS, Idiolects, tokens
from narrator.attribute.ranker import rank, sure_lines
from narrator.attribute.sieves import run_sieves
from narrator.model import Character, Gender
from narrator.segment import segment_chapter

TOM = Character("Tom", gender=Gender.MALE)
ANA = Character("Ana", gender=Gender.MALE)

# Tom drawls and swears by his boots; Ana is brisk and precise. Enough of each for a sample.
TOM_SAYS = "Well, I reckon it ain't so, by my boots. Ain't nobody reckons that, I reckon."
ANA_SAYS = "Precisely. The figures are exact, and the schedule is exact. Precisely so."


def test_tokens_keep_contractions_and_marks() -> None:
    assert tokens("Ain't 'em fine?! Yes—no.") == [
        "ain't",
        "'em",
        "fine",
        "?",
        "!",
        "yes",
        "—",
        "no",
    ]


def _table(rounds: int = 5) -> Idiolects:
    lines = [("Tom", TOM_SAYS), ("Ana", ANA_SAYS)] * rounds
    return Idiolects.of_lines([*lines, (None, "Good morning to you both.")])


def test_a_line_sounds_like_the_one_who_talks_so() -> None:
    scores = _table().score("I reckon it ain't far.", ["Tom", "Ana"], None)
    assert scores["Tom"] > 0 > scores["Ana"]
    scores = _table().score("Exact figures, precisely.", ["Tom", "Ana"], None)
    assert scores["Ana"] > scores["Tom"]


def test_a_small_sample_and_an_unknown_name_say_nothing() -> None:
    table = Idiolects.of_lines([("Tom", TOM_SAYS)])
    assert len(tokens(TOM_SAYS)) < MIN_WORDS
    assert table.score("I reckon so.", ["Tom", "Mira"], None) == {}


def test_a_tagged_line_is_no_evidence_for_itself() -> None:
    # The only time anyone says `zebra` is Tom's own tagged line: it must not count for him.
    odd = "Zebra zebra zebra."
    table = Idiolects.of_lines([("Tom", TOM_SAYS)] * 5 + [("Ana", ANA_SAYS)] * 5 + [("Tom", odd)])
    as_own = table.score(odd, ["Tom", "Ana"], "Tom")
    as_other = table.score(odd, ["Tom", "Ana"], None)
    assert as_own["Tom"] < as_other["Tom"]
    assert abs(as_own["Tom"] - as_own["Ana"]) < 0.5


CHAPTER_ONE = "".join(f'"{TOM_SAYS}" said Tom.\n\n"{ANA_SAYS}" said Ana.\n\n' for _ in range(5))
CHAPTER_TWO = 'Tom and Ana sat down.\n\n"Exact, precisely exact."\n\n"I reckon it ain\'t."\n'


def test_the_book_table_reads_tagged_lines_of_every_chapter() -> None:
    texts = [CHAPTER_ONE, CHAPTER_TWO]
    table = sieve_book(texts, [segment_chapter(t) for t in texts], [TOM, ANA]).idiolects
    assert table is not None
    assert table.words["Tom"]["reckon"] == 10 and table.words["Ana"]["precisely"] == 10
    assert table.background["reckon"] == 11  # untagged lines count for everyone's words


def test_a_book_of_one_chapter_reads_it_as_it_is_attributed() -> None:
    # No second reading of the same chapter: its Context builds the same table itself.
    assert sieve_book([CHAPTER_ONE], [segment_chapter(CHAPTER_ONE)], [TOM, ANA]).idiolects is None


def test_the_evidence_marks_who_a_line_sounds_like() -> None:
    texts = [CHAPTER_ONE, CHAPTER_TWO]
    table = sieve_book(texts, [segment_chapter(t) for t in texts], [TOM, ANA]).idiolects
    chapter = run_sieves(CHAPTER_TWO, segment_chapter(CHAPTER_TWO), [TOM, ANA])
    ctx = Context(chapter, table)
    pools = []
    for q in chapter.quotes:
        pool = {name: Candidate(name) for name in ("Tom", "Ana")}
        features.idiolect(ctx, q, ctx.turn_of[q.para], pool)
        pools.append(pool)
    assert "style_best" in pools[0]["Ana"].features and pools[0]["Ana"].features["style"] > 0
    assert "style_best" in pools[1]["Tom"].features
    assert pools[1]["Tom"].evidence == ["talks like Tom"]
    # Chapter two alone has no tagged lines: nothing to go by.
    alone = Context(chapter)
    pool = {name: Candidate(name) for name in ("Tom", "Ana")}
    features.idiolect(alone, chapter.quotes[0], alone.turn_of[chapter.quotes[0].para], pool)
    assert all(not c.features for c in pool.values())


CHAPTER_THREE = "".join(
    f'Tom leaned on the gate. "{TOM_SAYS}"\n\nAna checked her watch. "{ANA_SAYS}"\n\n'
    for _ in range(5)
)


def test_lines_answered_surely_join_their_speakers_sample() -> None:
    # No tag names anyone: the lines the ranker answers surely (here, by who acts) are the
    # samples of how each talks, and a line in a sample is no evidence for itself.
    chapter = run_sieves(CHAPTER_THREE, segment_chapter(CHAPTER_THREE), [TOM, ANA])
    ctx = Context(chapter)
    assert ctx.idiolects.words == {}
    toms = [q for q in chapter.quotes if q.speaker == "Tom"]
    ctx.learn_voices(toms)
    assert ctx.idiolects.words["Tom"]["reckon"] == 10
    assert ctx.sampled == {id(q): "Tom" for q in toms}
    assert ctx.idiolects.background == ctx.tagged_idiolects.background
    ctx.learn_voices([])
    assert ctx.idiolects.words == {} and ctx.sampled == {}


def test_ranking_reads_each_voice_again_from_the_lines_it_is_sure_of() -> None:
    chapter = run_sieves(CHAPTER_THREE, segment_chapter(CHAPTER_THREE), [TOM, ANA])
    ctx = Context(chapter)
    rank(ctx)
    assert ctx.sampled, "the first round's sure answers join the samples of the second"
    assert set(ctx.sampled.values()) == {"Tom", "Ana"}
    assert all(q.speaker == ctx.sampled[id(q)] for q in chapter.quotes if id(q) in ctx.sampled)


def test_a_run_of_two_turns_joins_no_sample() -> None:
    # `"Can we go? Sure thing, Mira."`: two people's words in one quoted run; however sure,
    # they are nobody's sample (a correction makes the run 1.0 sure, as here).
    mira = Character("Mira", gender=Gender.FEMALE)
    text = 'Mira and Tom stood at the door.\n\n"Can we go? Sure thing, Mira." Tom said.\n'
    chapter = run_sieves(text, segment_chapter(text), [TOM, mira])
    ctx = Context(chapter)
    (run,) = chapter.quotes
    assert run.split_at is not None
    run.confidence = 1.0
    assert sure_lines(ctx) == []


def test_lines_joined_later_score_as_if_tagged_and_leave_the_table_they_came_from() -> None:
    # Asked in any order, a table grown by `with_lines` scores as one built from scratch
    # would, and the table it grew from stays as it was.
    tagged = [("Tom", TOM_SAYS), ("Ana", ANA_SAYS)] * 5
    joined = [("Ana", ANA_SAYS), ("Ana", "Precisely, the schedule."), ("Tom", TOM_SAYS)]
    asked = ["I reckon the schedule is exact.", "Precisely so, I reckon.", ANA_SAYS]
    base = Idiolects.of_lines([*tagged, *((None, text) for _, text in joined)])
    before = {line: base.score(line, ["Tom", "Ana"], None) for line in asked}
    grown = base.with_lines(joined)
    scratch = Idiolects.of_lines([*tagged, *joined])
    for line in asked:
        for own in (None, "Ana", "Tom"):
            assert grown.score(line, ["Tom", "Ana"], own) == scratch.score(
                line, ["Tom", "Ana"], own
            )
        assert grown.score(line, ["Tom", "Ana"], None) != before[line]
    assert {line: base.score(line, ["Tom", "Ana"], None) for line in asked} == before
    assert base.words["Ana"]["precisely"] == 10  # the table grown from is as it was
