"""Confidence as the chance a line is right: the facts read, and what the weights make of them."""

from __future__ import annotations

import pytest

from narrator.attribute.calibrate import calibrate, chance_right, decision_features
from narrator.attribute.features import Context
from narrator.attribute.ranker import load_calibration, rank
from narrator.attribute.sieves import run_sieves
from narrator.model import Character, Gender
from narrator.segment import segment_chapter

TOM = Character("Tom", gender=Gender.MALE)
ANA = Character("Ana", gender=Gender.FEMALE)
LONG_EXCHANGE = (
    "Tom and Ana sat by the fire.\n\n"
    '"Cold tonight," said Tom.\n\n'
    '"It is."\n\n"Pass the wood."\n\n"Get it yourself."\n\n"I will not."\n\n'
    '"Then be cold."\n\n"I am."\n\n"Good."\n'
)


def _ranked(text: str, cast: list[Character], **kw: object) -> Context:
    ctx = Context(run_sieves(text, segment_chapter(text), cast))
    rank(ctx, **kw)  # type: ignore[arg-type]
    return ctx


def test_the_facts_say_how_far_the_nearest_tag_is() -> None:
    ctx = _ranked(LONG_EXCHANGE, [TOM, ANA], weights={}, calibration={})
    facts = [decision_features(ctx, q) for q in ctx.chapter.quotes]
    assert facts[0]["dist=0"] == 1.0 and facts[0]["tag=name"] == 1.0
    assert facts[1]["dist=1"] == 1.0 and facts[1]["tag=none"] == 1.0
    assert facts[-1]["dist=4"] == 1.0  # seven turns away: as far as told apart
    assert all(f"exchange={6}" in f for f in facts)


def test_chance_right_is_a_logistic_of_the_weighted_facts() -> None:
    assert chance_right({}, {}) == 0.5
    assert chance_right({"logit": 2.0}, {"logit": 1.0, "bias": -2.0}) == 0.5
    assert chance_right({"nameless": 1.0}, {"nameless": -3.0}) < 0.05


def test_without_calibration_the_confidence_is_the_rankers() -> None:
    ctx = _ranked(LONG_EXCHANGE, [TOM, ANA], weights={"sieve": 1.0}, calibration={})
    before = [q.confidence for q in ctx.chapter.quotes]
    calibrate(ctx, {})
    assert [q.confidence for q in ctx.chapter.quotes] == before


def test_shipped_calibration_trusts_a_name_tag_over_a_turn_far_from_any_tag() -> None:
    assert load_calibration(), "weights.json ships no calibration"
    ctx = _ranked(LONG_EXCHANGE, [TOM, ANA])
    conf = [q.confidence for q in ctx.chapter.quotes]
    assert conf[0] is not None and conf[-1] is not None
    assert conf[0] > 0.9
    assert conf[-1] < conf[0] - 0.1


def test_an_authors_correction_stays_certain() -> None:
    text = LONG_EXCHANGE
    fixed_at = text.index('"Good."')
    ctx = Context(run_sieves(text, segment_chapter(text), [TOM, ANA], fixed={fixed_at: "Ana"}))
    rank(ctx)
    q = next(q for q in ctx.chapter.quotes if q.start == fixed_at)
    assert (q.speaker, q.confidence) == ("Ana", pytest.approx(1.0))
