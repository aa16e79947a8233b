"""Each kind of attribution evidence, alone: what it adds, and to whom."""

from __future__ import annotations

import pytest

from narrator.attribute import features
from narrator.attribute.features import Candidate, Context
from narrator.attribute.quotes import Quote, Sieve
from narrator.attribute.ranker import load_calibration, load_weights, probabilities
from narrator.attribute.sieves import run_sieves
from narrator.model import Character, Gender
from narrator.segment import segment_chapter

TOM = Character("Tom", gender=Gender.MALE)
ANA = Character("Ana", gender=Gender.FEMALE)
MIRA = Character("Mira", gender=Gender.FEMALE)


def _pools(text: str, cast: list[Character], evidence: features.Evidence) -> list[dict[str, dict]]:
    """For each quotation, candidate name -> features, from one kind of evidence alone."""
    ctx = Context(run_sieves(text, segment_chapter(text), cast))
    out = []
    for q in ctx.chapter.quotes:
        pool: dict[str, Candidate] = {}
        evidence(ctx, q, ctx.turn_of[q.para], pool)
        out.append({name: c.features for name, c in pool.items()})
    return out


EXCHANGE = (
    "Tom and Ana sat by the fire.\n\n"
    '"Cold tonight," said Tom.\n\n'
    '"It is."\n\n'
    '"Pass the wood."\n\n'
    '"Get it yourself," Ana said.\n'
)


def test_sieve_answer_names_the_sieve() -> None:
    pools = _pools(EXCHANGE, [TOM, ANA], features.sieve_answer)
    assert pools[0] == {"Tom": {"sieve": 1.0, "sieve=tag-name": 1.0}}
    assert pools[3]["Ana"]["sieve=tag-name"] == 1.0


def test_an_answer_by_turn_taking_is_a_candidate_without_a_vote() -> None:
    # "It is." is Ana's by the turn-taking sieve: the ranker weighs turn-taking itself
    # (`turn_taking`, `alternation`), so that answer brings the candidate and its reason only.
    ctx = Context(run_sieves(EXCHANGE, segment_chapter(EXCHANGE), [TOM, ANA]))
    q = ctx.chapter.quotes[1]
    assert (q.first, q.sieve in features.RESTATED) == ("Ana", True)
    pool: dict[str, Candidate] = {}
    features.sieve_answer(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Ana"].features == {}
    assert pool["Ana"].evidence == [features._sieve_reason(q)]


def test_turn_taking_reads_neighbours_in_the_exchange() -> None:
    pools = _pools(EXCHANGE, [TOM, ANA], features.turn_taking)
    # "Pass the wood." (turn 3): Tom tagged two turns before, Ana tagged one turn after.
    assert pools[2]["Tom"]["strong_t-2"] == 1.0
    assert pools[2]["Ana"]["strong_t+1"] == 1.0
    assert "strong_t-1" not in pools[2].get("Tom", {})


def test_alternation_needs_someone_else_between() -> None:
    pools = _pools(EXCHANGE, [TOM, ANA], features.alternation)
    assert "alternates_tagged_back" in pools[2]["Tom"]
    assert "alternates_tagged_ahead" in pools[1]["Ana"]


def test_turn_taking_votes_nothing_for_someone_the_turn_calls_by_name() -> None:
    # Tom, Ana, then a line calling Tom: alternation and the exchange's votes say Tom, and
    # the name says it is not him; the votes go, the name stays evidence (`addressees`).
    text = '"Good morning," said Tom.\n\n"Morning," said Ana.\n\n"Did you sleep at all, Tom?"\n'
    plain = text.replace(", Tom?", "?")
    assert "alternates_back" in _pools(plain, [TOM, ANA], features.alternation)[2]["Tom"]
    assert "exchange_same" in _pools(plain, [TOM, ANA], features.exchange_votes)[2]["Tom"]
    assert "Tom" not in _pools(text, [TOM, ANA], features.alternation)[2]
    assert "Tom" not in _pools(text, [TOM, ANA], features.exchange_votes)[2]


def test_partner_before_carries_a_conversation_over_narration() -> None:
    # Tom talked with Ana; a line of narration; Tom is tagged again: the turn beside his is
    # likely Ana's, not Mira's, who was named last.
    text = (
        '"Cold tonight," said Tom.\n\n"It is," said Ana.\n\n'
        "Mira walked past them to the door.\n\n"
        '"Wood?" said Tom.\n\n"In the shed."\n'
    )
    pools = _pools(text, [TOM, ANA, MIRA], features.partner)
    assert pools[3] == {"Ana": {"partner_before": 1.0}}
    assert pools[2] == {}  # Tom's own turn: the other parity has no tag


def test_partner_after_reads_the_next_exchange() -> None:
    text = (
        '"Wood?" said Tom.\n\n"In the shed."\n\n'
        "Mira walked past them to the door.\n\n"
        '"Cold tonight," said Tom.\n\n"It is," said Ana.\n'
    )
    assert _pools(text, [TOM, ANA, MIRA], features.partner)[1] == {"Ana": {"partner_after": 1.0}}


def test_partner_before_only_when_the_two_talked_alone() -> None:
    text = (
        '"Cold tonight," said Tom.\n\n"It is," said Ana.\n\n"Wood?" said Mira.\n\n'
        "The fire cracked.\n\n"
        '"Wood?" said Tom.\n\n"In the shed."\n'
    )
    assert _pools(text, [TOM, ANA, MIRA], features.partner)[4] == {}


def test_exchange_votes_count_tags_by_parity() -> None:
    text = EXCHANGE + '\n"Fine," said Tom.\n\n"Good," said Ana.\n'
    pools = _pools(text, [TOM, ANA], features.exchange_votes)
    # Turn 2 ("It is.") shares its parity with Ana's two tags, not Tom's.
    assert pools[1]["Ana"]["exchange_same"] > 0 and "exchange_other" not in pools[1]["Ana"]
    assert pools[1]["Tom"]["exchange_other"] > 0 and "exchange_same" not in pools[1]["Tom"]


def test_tag_gender_fits_and_clashes() -> None:
    text = 'Tom and Ana waited.\n\n"Now?" she asked.\n'
    pools = _pools(text, [TOM, ANA], features.tag_gender)
    assert pools[0] == {}  # only adds to candidates others proposed
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA]))
    q = ctx.chapter.quotes[0]
    pool = {"Tom": Candidate("Tom"), "Ana": Candidate("Ana")}
    features.tag_gender(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Ana"].features == {"pronoun_gender_fits": 1.0}
    assert pool["Tom"].features == {"pronoun_gender_clash": 1.0}


def test_a_line_shares_the_tag_of_its_paragraph() -> None:
    # The second line has no tag of its own: the old lady's tag says who it is, by gender
    # for Ana and Tom and as a stranger of her own.
    text = 'Tom and Ana waited.\n\n"Save us!" said the old lady. "What a dear it is."\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA]))
    q = ctx.chapter.quotes[1]
    assert q.tag is None and q.sieve is Sieve.PARAGRAPH
    pool = {"Tom": Candidate("Tom"), "Ana": Candidate("Ana")}
    features.tag_gender(ctx, q, ctx.turn_of[q.para], pool)
    features.nameless(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Ana"].features == {"desc_gender_fits": 1.0}
    assert pool["Tom"].features == {"desc_gender_clash": 1.0}
    assert pool["the old lady"].features == {"described": 1.0}


def test_a_description_may_be_someone_of_its_gender_named_pages_ago() -> None:
    filler = "The rain went on and on over the roofs of the town. " * 80  # beyond the stage
    text = f'Mira and Tom came in.\n\n{filler}\n\nAna waited.\n\n"Sit down," said the old lady.\n'
    pools = _pools(text, [TOM, ANA, MIRA], features.named_far)
    assert pools[0] == {"Mira": {"named_far": 1.0}}  # Tom is no lady; Ana is on stage
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA, MIRA]))
    pool: dict[str, Candidate] = {}
    q = ctx.chapter.quotes[0]
    features.named_far(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Mira"].evidence == ["Mira was named earlier and may be the old lady"]


def test_a_description_may_be_someone_named_just_after_it() -> None:
    # `said the stranger` ... `It was Mira`: whoever is first named on the page after the
    # line may be the stranger; Tom, named before it, is not first named after it.
    text = (
        'Tom waited by the gate.\n\n"Who goes there?" said the stranger.\n\n'
        "It was Mira, soaked to the skin, and Tom let her in.\n"
    )
    pools = _pools(text, [TOM, MIRA], features.named_later)
    assert pools[0] == {"Mira": {"named_later": 1.0}}
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, MIRA]))
    pool: dict[str, Candidate] = {}
    q = ctx.chapter.quotes[0]
    features.named_later(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Mira"].evidence == ["Mira is named just after, and may be the stranger"]
    # A description of the other gender leaves her out.
    text = text.replace("the stranger", "the old man")
    assert _pools(text, [TOM, MIRA], features.named_later)[0] == {}


def test_a_described_stranger_is_a_candidate_of_their_own() -> None:
    text = 'Tom walked into the shop.\n\n"Buying or looking?" asked the shopkeeper.\n'
    pools = _pools(text, [TOM], features.nameless)
    assert pools[0] == {"the shopkeeper": {"described": 1.0}}


def test_a_group_read_from_they_is_a_candidate_of_its_own() -> None:
    text = 'Tom and Ana ran to the gate.\n\n"Open up!" they shouted.\n'
    pools = _pools(text, [TOM, ANA], features.nameless)
    assert pools[0] == {"Tom and Ana": {"described": 1.0}}
    text = 'The night was cold.\n\n"Open up!" they shouted.\n'
    assert _pools(text, [TOM, ANA], features.nameless)[0] == {"they": {"described": 1.0}}


def test_a_cast_epithet_is_not_a_stranger() -> None:
    red = Character("Ana", aliases=("the redhead",), gender=Gender.FEMALE)
    text = 'Tom waved.\n\n"Over here!" called the redhead.\n'
    assert _pools(text, [TOM, red], features.nameless) == [{}]


def test_the_cast_entry_a_tag_names_stays_a_candidate_when_the_sieves_read_someone_else() -> None:
    # A description-only entry without a gender may be read as an epithet of whoever was
    # named last (`the painter` for Hallward); the entry itself is still a candidate.
    croupier = Character("The Croupier")
    text = 'Tom sat down at the wheel.\n\n"Zero!" called the croupier.\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, croupier]))
    assert ctx.chapter.quotes[0].speaker == "Tom"  # the sieves' epithet reading
    pools = _pools(text, [TOM, croupier], features.nameless)
    assert pools[0] == {"The Croupier": {"described_listed": 1.0}}


def test_a_stranger_is_marked_when_the_cast_lists_epithets_and_not_theirs() -> None:
    # An author's cast that names people by epithets (`the redhead`) would list the
    # shopkeeper's too, were the shopkeeper one of them: the stranger is someone else.
    red = Character("Ana", aliases=("the redhead",), gender=Gender.FEMALE)
    text = 'Tom walked into the shop.\n\n"Buying or looking?" asked the shopkeeper.\n'
    pools = _pools(text, [TOM, red], features.nameless)
    assert pools[0] == {"the shopkeeper": {"described": 1.0, "described_unlisted": 1.0}}
    # A cast of names only (PDNC's): the shopkeeper may still be someone in it.
    pools = _pools(text, [TOM, ANA], features.nameless)
    assert pools[0] == {"the shopkeeper": {"described": 1.0}}


def test_a_nameless_person_opening_narration_next_to_an_untagged_line() -> None:
    text = (
        "Tom sat down. The waiter came over and bowed.\n\n"
        '"The soup is cold."\n\n'
        "A porter ran past.\n\n"
        '"Soup again," said Tom to the waiter.\n'
    )
    pools = _pools(text, [TOM], features.strangers)
    assert pools[0] == {
        "the waiter": {"stranger_before": 1.0},
        "the porter": {"stranger_after": 1.0},
    }
    assert pools[1] == {}  # tagged: the tag says who


def test_addressees_answer_next_and_do_not_speak_now() -> None:
    text = 'Tom and Ana waited.\n\n"Ana, are you ready?"\n\n"Almost."\n'
    pools = _pools(text, [TOM, ANA], features.addressees)
    assert pools[0]["Ana"] == {"addressed_here": 1.0}
    assert pools[1]["Ana"] == {"addressed_before": 1.0}


def test_on_stage_reads_the_paragraph_and_its_neighbours() -> None:
    text = 'Mira came in.\n\nTom frowned at her. "Late again."\n\nAna laughed.\n'
    pools = _pools(text, [TOM, ANA, MIRA], features.on_stage)
    tom = pools[0]["Tom"]
    assert tom["para_before"] == 1.0 and tom["para_subject"] == 1.0
    assert pools[0]["Mira"]["prev_para_narr"] == 1.0
    assert pools[0]["Ana"] == {
        "next_para_narr": 1.0,
        "next_para_subject": 1.0,
        "next_para_arrives": 1.0,
    }
    assert tom["named_rank0"] == 1.0 and pools[0]["Mira"]["named_rank1"] == 1.0


def test_someone_who_arrives_in_the_narration_after_a_line_is_marked() -> None:
    # `"That'll do, boys." / Sheriff Pruitt stood in the doorway.`: a person the scene has
    # not named opens the narration after an untagged line. Tom, named before, only acts.
    text = 'Tom glared at Mira.\n\n"That\'ll do."\n\nAna stood in the doorway, and Tom turned.\n'
    pools = _pools(text, [TOM, ANA, MIRA], features.on_stage)
    assert pools[0]["Ana"]["next_para_arrives"] == 1.0
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA, MIRA]))
    pool: dict[str, Candidate] = {}
    q = ctx.chapter.quotes[0]
    features.on_stage(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Ana"].evidence == ["Ana comes on just after the line"]
    assert "next_para_arrives" not in pools[0]["Tom"]
    assert "next_para_subject" not in pools[0]["Tom"]  # named, but not at a sentence's start


def test_the_object_of_the_narration_before_is_marked() -> None:
    # `handed them to Tom`, `called Ana to account`: people acted upon, not the one acting.
    text = 'Mira took out two keys and handed them to Tom, then called Ana over.\n\n"Keep them."\n'
    pool = _pools(text, [TOM, ANA, MIRA], features.on_stage)[0]
    assert "prev_para_object" not in pool["Mira"]
    assert pool["Tom"]["prev_para_object"] == 1.0 and pool["Ana"]["prev_para_object"] == 1.0


def test_the_subjects_and_the_last_named_of_the_narration_before_are_marked() -> None:
    # `Brett smiled at him again.` / `"You've a nice friend."`: who acts in the narration
    # just before, and who was named last in it.
    text = 'Tom glared at Ana. Then Mira smiled at him again.\n\n"You look tired."\n'
    pool = _pools(text, [TOM, ANA, MIRA], features.on_stage)[0]
    assert pool["Tom"]["prev_para_subject"] == 1.0 and pool["Mira"]["prev_para_subject"] == 1.0
    assert "prev_para_subject" not in pool["Ana"]  # `at Ana`: acted upon
    assert pool["Mira"]["prev_para_last"] == 1.0
    assert "prev_para_last" not in pool["Tom"] and "prev_para_last" not in pool["Ana"]


def test_recent_speakers_rank_by_recency() -> None:
    pools = _pools(EXCHANGE, [TOM, ANA], features.recent_speakers)
    assert pools[0] == {}
    assert "spoke_rank0" in pools[1]["Tom"]


def test_a_name_inside_the_quote_that_is_not_an_address() -> None:
    text = 'Tom and Ana waited.\n\n"I told Ana we would wait."\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA]))
    q = ctx.chapter.quotes[0]
    pool = {"Ana": Candidate("Ana"), "Tom": Candidate("Tom")}
    features.named_inside(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Ana"].features == {"named_inside": 1.0} and pool["Tom"].features == {}


@pytest.mark.parametrize(
    "says", ["I'm Mira.", "My name is Mira, sir.", "Hello. I am Mira Vell.", "Call me Mira."]
)
def test_a_name_the_speaker_says_is_theirs(says: str) -> None:
    text = f'Tom and Ana waited. A stranger came up.\n\n"{says}"\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA, MIRA]))
    q = ctx.chapter.quotes[0]
    pool = {"Tom": Candidate("Tom")}
    features.named_inside(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Mira"].features == {"names_self": 1.0}
    assert pool["Mira"].evidence == ["says they are Mira"]


def test_someone_elses_name_after_i_am_is_no_self_introduction() -> None:
    text = 'Tom and Ana waited. A stranger came up.\n\n"I am Mira\'s brother."\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA, MIRA]))
    q = ctx.chapter.quotes[0]
    pool = {"Mira": Candidate("Mira")}
    features.named_inside(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Mira"].features == {"named_inside": 1.0}


def test_first_person_narrator_is_on_stage_only_in_first_person() -> None:
    first = 'I sat down. I was tired. I waited. I slept. I woke.\n\n"Who is there?"\n'
    me = Character("Wyn", aliases=("I",), gender=Gender.FEMALE)
    assert _pools(first, [me, TOM], features.first_person)[0] == {"Wyn": {"narrator": 1.0}}
    third = 'He sat down. He was tired. She waited.\n\n"Who is there?"\n'
    assert _pools(third, [me, TOM], features.first_person)[0] == {}


def test_the_narrator_is_marked_in_an_exchange_tagged_on_both_sides_and_never_for_them() -> None:
    me = Character("Wyn", aliases=("I",), gender=Gender.FEMALE)
    hearing = (
        "I sat down. I was tired. I waited. I slept. I woke in the hall.\n\n"
        '"Your name?" said Tom.\n\n'
        '"Ana," said Ana.\n\n'
        '"Where were you?"\n\n'
        '"At home."\n'
    )
    pools = _pools(hearing, [me, TOM, ANA], features.first_person)
    assert all(p["Wyn"] == {"narrator": 1.0, "narrator_untagged": 1.0} for p in pools)
    talking = hearing.replace('"Ana," said Ana.', '"Ana," I said.')
    pools = _pools(talking, [me, TOM, ANA], features.first_person)
    assert all(p["Wyn"] == {"narrator": 1.0} for p in pools)


def test_frequency_and_nameless_marks() -> None:
    text = 'Tom ran. Tom hid. Tom waited.\n\n"Here," said the old man.\n'
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM]))
    q = ctx.chapter.quotes[0]
    pool = {"Tom": Candidate("Tom"), "the old man": Candidate("the old man")}
    features.frequency(ctx, q, ctx.turn_of[q.para], pool)
    assert pool["Tom"].features["log_count"] > 0
    assert pool["the old man"].features == {"log_count": 0.0, "nameless": 1.0}


def test_a_text_of_short_paragraphs_gives_every_feature_a_twin_of_its_own() -> None:
    # Web fiction takes turns in its own way: its features weigh apart from a novel's.
    ctx = Context(run_sieves(EXCHANGE, segment_chapter(EXCHANGE), [TOM, ANA]))
    assert ctx.short_paragraphs
    for cands in features.candidates(ctx):
        for c in cands:
            plain = {f: v for f, v in c.features.items() if not f.endswith(features.SHORT)}
            twins = {f + features.SHORT: v for f, v in plain.items() if not f.startswith("sieve")}
            assert c.features == {**plain, **twins}  # what a tag says weighs the same anywhere
    evening = (
        "Tom and Ana sat by the fire in the long room of the inn, where the lamps burned low "
        "and the rain ran down the windows, and neither of them had said a word since supper, "
        "for there was nothing left to say that the other did not know already. "
    )
    long_text = "\n\n".join([evening * 3] * 3) + "\n\n" + EXCHANGE.split("\n\n", 1)[1]
    ctx = Context(run_sieves(long_text, segment_chapter(long_text), [TOM, ANA]))
    assert not ctx.short_paragraphs
    assert not any(
        f.endswith(features.SHORT)
        for cs in features.candidates(ctx)
        for c in cs
        for f in c.features
    )


def test_probabilities_sum_to_one_and_follow_the_weights() -> None:
    weights = load_weights()
    strong = Candidate("A", {"sieve": 1.0, "sieve=tag-name": 1.0})
    weak = Candidate("B", {"addressed_here": 1.0})
    p = probabilities([strong, weak], weights)
    assert abs(sum(p) - 1) < 1e-9 and p[0] > 0.9


def test_evidence_next_to_the_quote_is_not_overruled() -> None:
    from narrator.attribute.ranker import rank

    text = (
        'Tom and Dara came in.\n\n"Sit down," said Tom.\n\n'
        'Dara frowned. "No."\n\nA stranger stood at the door.\n\n'
        '"Is this the inn?" asked the stranger.\n'
    )
    # Weights that would give every line to whoever spoke last, if allowed.
    loud = {"spoke_rank0": 10.0}
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA, Character("Dara")]))
    rank(ctx, loud)
    said = [(q.sieve, q.speaker) for q in ctx.chapter.quotes]
    assert said == [("tag-name", "Tom"), ("action", "Dara"), ("tag-desc", "the stranger")]
    # The ranker still says how sure it is: the recent speaker took most of the probability.
    assert all(q.confidence < 0.5 for q in ctx.chapter.quotes[1:])


def test_a_description_tied_to_nobody_is_a_candidate_not_the_answer() -> None:
    from narrator.attribute.ranker import rank

    # `said the gentleman`, no gentleman introduced and no man named near: the sieves could
    # only guess; the description is one candidate, and the ranker may prefer someone on stage.
    text = (
        "The house was quiet. Ana read by the lamp, and it was late when the door opened.\n\n"
        '"You are up late," said the gentleman.\n'
    )
    ctx = Context(run_sieves(text, segment_chapter(text), [ANA]))
    (q,) = ctx.chapter.quotes
    assert q.guessed and q.first == "the gentleman"
    pool: dict[str, Candidate] = {}
    features.sieve_answer(ctx, q, ctx.turn_of[q.para], pool)
    assert pool == {}
    rank(ctx, {"prev_para_narr": 5.0})
    assert q.speaker == "Ana"


def test_the_shipped_weights_weigh_sieves_by_their_enum_values() -> None:
    # weights.json names sieves by value (`sieve=tag-name`): a renamed value loses its weight.
    learned = {
        feature.removeprefix("sieve=")
        for table in (load_weights(), load_calibration())
        for feature in table
        if feature.startswith("sieve=")
    }
    assert Sieve.TAG_NAME in learned
    assert learned <= {s.value for s in Sieve}


def test_candidates_come_in_the_same_order_in_every_process() -> None:
    # Sets of names iterate in an order that changes with Python's string hashing: the
    # candidates (and a tie's winner) must not.
    import subprocess
    import sys

    script = (
        "from narrator.attribute import attribute_speakers\n"
        "from narrator.model import Character, Gender\n"
        "from narrator.segment import segment_chapter\n"
        "t = ('Tom, Ana, Mira and Bo sat by the fire.\\n\\n'\n"
        '     \'"Tom, Ana, Mira, Bo, listen to me," said Kit.\\n\\n"Why?"\\n\')\n'
        "cast = [Character(n) for n in ('Tom', 'Ana', 'Mira', 'Bo', 'Kit')]\n"
        "out = attribute_speakers(t, segment_chapter(t), cast)\n"
        "print([(s.speaker, s.candidates) for s in out if s.kind.is_speech])\n"
    )
    seen = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}
        run = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        seen.add(run.stdout)
    assert len(seen) == 1, seen


def test_the_number_of_ranking_rounds_is_read_when_ranking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # bench/train_ranker.py --rounds sets ranker.ROUNDS: it must count then, not at import.
    from narrator.attribute import ranker

    ctx = Context(run_sieves(EXCHANGE, segment_chapter(EXCHANGE), [TOM, ANA]))
    monkeypatch.setattr(ranker, "ROUNDS", 0)
    ranker.rank(ctx, {"spoke_rank0": 10.0})
    assert [q.speaker for q in ctx.chapter.quotes] == [q.first for q in ctx.chapter.quotes]
    assert all(q.candidates == () for q in ctx.chapter.quotes)


def _lantern_context() -> Context:
    from pathlib import Path

    from narrator.casting import load_cast

    root = Path(__file__).resolve().parent.parent / "examples"
    text = (root / "the-lantern-keeper.txt").read_text(encoding="utf-8")
    cast = load_cast(root / "cast.toml")
    return Context(run_sieves(text, segment_chapter(text), list(cast.characters)))


def _answer_otherwise(ctx: Context) -> None:
    """Every quotation given someone else, as a later round of ranking might."""
    names = sorted({q.speaker for q in ctx.chapter.quotes if q.speaker} | {"Nobody"})
    for q in ctx.chapter.quotes:
        q.speaker = names[(names.index(q.speaker) + 1) % len(names) if q.speaker else 0]


def test_fixed_evidence_finds_the_same_whatever_the_round_answered_or_the_pool_holds() -> None:
    ctx = _lantern_context()
    assert len(ctx.chapter.quotes) > 20
    alone = {fn: [_run(ctx, q, fn, {}) for q in ctx.chapter.quotes] for fn in features.FIXED}
    _answer_otherwise(ctx)
    for fn in features.FIXED:
        for q, expected in zip(ctx.chapter.quotes, alone[fn], strict=True):
            others = ("Wren", "Tobin", q.speaker or "Nobody")
            crowd = {n: Candidate(n, {"x": 1.0}, ["x"]) for n in others}
            found = _run(ctx, q, fn, crowd)
            added = {
                n: ({f: v for f, v in fs.items() if f != "x"}, [w for w in ws if w != "x"])
                for n, (fs, ws) in found.items()
            }
            assert {n: v for n, v in added.items() if v != ({}, [])} == expected, fn.__name__


def _run(
    ctx: Context, q: Quote, fn: features.Evidence, pool: dict[str, Candidate]
) -> dict[str, tuple[dict[str, float], list[str]]]:
    fn(ctx, q, ctx.turn_of[q.para], pool)
    return {n: (c.features, c.evidence) for n, c in pool.items()}


def test_candidates_worked_out_once_are_the_candidates_worked_out_again() -> None:
    ctx = _lantern_context()
    found: features.Found = {}
    features.candidates(ctx, found)
    _answer_otherwise(ctx)
    again = features.candidates(ctx, found)
    fresh = features.candidates(ctx)
    as_lists = [[(c.name, list(c.features.items()), c.evidence) for c in cs] for cs in again]
    assert as_lists == [
        [(c.name, list(c.features.items()), c.evidence) for c in cs] for cs in fresh
    ]
    assert any("said_t-1" in c.features for cs in again for c in cs)  # rounds do differ
