"""Rank each quotation's candidates by learned weights; calibrate the winner's confidence.

A conditional logit: a candidate's score is the sum of its features times their weights, and
the probabilities are the softmax of the scores over the quotation's candidates. The weights
are data (`weights.json`), learned by `bench/train_ranker.py` on the dev books; the figures
that chose the features come from books the weights were not trained on (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from itertools import repeat
from operator import mul
from pathlib import Path

from narrator.attribute.calibrate import calibrate
from narrator.attribute.features import Candidate, Context, Found, candidates, tied_to_nobody
from narrator.attribute.idiolect import tagged
from narrator.attribute.quotes import Quote, Sieve, TagKind

WEIGHTS = Path(__file__).with_name("weights.json")
# Rounds of ranking: each round reads the answers of the round before for turn-taking, so
# evidence is weighed over the whole exchange instead of first-answer-wins. Three, chosen by
# leave one book out once turn-taking answers stopped voting for themselves (round 16): two
# rounds 13,346 lines right, three 13,359, four 13,367 for another 0.4 s of ranking on
# Oliver Twist (bench/RESULTS.md).
ROUNDS = 3
# A line ranked at least this sure joins its speaker's sample of words for the next round
# (`Context.learn_voices`); chosen by leave one book out (bench/RESULTS.md, round 15).
SURE = 0.7
# Candidates listed beside the winner (for review and the studio).
SHOWN = 3


@cache
def _load(path: Path) -> dict[str, dict[str, float]]:
    """The weights file, read once: its "weights" and its "calibration" (may be absent)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        table: {str(k): float(v) for k, v in data.get(table, {}).items()}
        for table in ("weights", "calibration")
    }


def load_weights(path: Path = WEIGHTS) -> dict[str, float]:
    return _load(path)["weights"]


def load_calibration(path: Path = WEIGHTS) -> dict[str, float]:
    return _load(path)["calibration"]


def probabilities(cands: Sequence[Candidate], weights: Mapping[str, float]) -> list[float]:
    weight = weights.get  # each feature's weight times its value, summed in feature order
    scores = [
        sum(map(mul, map(weight, c.features, repeat(0.0)), c.features.values())) for c in cands
    ]
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _answer_holds(ctx: Context, q: Quote) -> bool:
    """Evidence next to the quotation that the ranker does not overrule (chosen by leave one
    book out, bench/RESULTS.md): a tag naming the speaker, a tag describing someone the text
    introduced (`a stranger ... said the stranger`), a character acting in the paragraph,
    a speaker saying who they are. (An untagged thought is the storyteller's only until the
    ranker hears otherwise: `Jonah's voice comes through the pack link. *Cal.*`)"""
    if q.first is None:
        return False
    if q.sieve in (Sieve.ACTION, Sieve.SELF_NAMED):
        return True
    if q.tag is None:
        return False
    kind = q.tag[0]
    return kind is TagKind.NAME or (
        kind is TagKind.DESC
        and q.first not in ctx.chapter.cast.gender
        and not tied_to_nobody(ctx, q)
    )


def sure_lines(ctx: Context) -> list[Quote]:
    """The quotations a round of ranking is sure of (`SURE`), to join their speaker's sample
    of words: not a line a name tag gives (in it already), and not a run of two turns."""
    return [
        q
        for q in ctx.chapter.quotes
        if q.confidence >= SURE and q.split_at is None and not tagged(q)
    ]


def rank(
    ctx: Context,
    weights: Mapping[str, float] | None = None,
    rounds: int | None = None,
    calibration: Mapping[str, float] | None = None,
) -> None:
    """Set speaker, confidence, evidence and candidates on every quotation of the context.

    The confidence is the chance the line is right (`calibrate.py`): with the shipped
    weights, the shipped calibration; with weights given, the calibration given (if any).
    """
    if weights is None:
        weights = load_weights()
        calibration = load_calibration() if calibration is None else calibration
    ctx.learn_voices([])  # ranked again, a chapter starts from its tagged lines
    found: Found = {}  # the evidence every round finds alike, worked out in the first
    for n in range(ROUNDS if rounds is None else rounds):
        if n:
            ctx.learn_voices(sure_lines(ctx))
        decided: list[tuple[str, float, tuple[str, ...], tuple[tuple[str, float], ...]] | None]
        decided = []
        for q, cands in zip(ctx.chapter.quotes, candidates(ctx, found), strict=True):
            if not cands or q.sieve is Sieve.FIXED or q.split_at is not None:
                decided.append(None)
                continue
            probs = probabilities(cands, weights)
            order = sorted(range(len(cands)), key=lambda i: -probs[i])
            if _answer_holds(ctx, q) and any(c.name == q.first for c in cands):
                # Not overruled: the ranker only says how sure it is of it.
                keep = next(i for i, c in enumerate(cands) if c.name == q.first)
                order.remove(keep)
                order.insert(0, keep)
            best = cands[order[0]]
            shown = tuple((cands[i].name, round(probs[i], 3)) for i in order[1 : 1 + SHOWN])
            decided.append((best.name, probs[order[0]], tuple(best.evidence), shown))
        for q, d in zip(ctx.chapter.quotes, decided, strict=True):
            if d is None:
                continue
            q.speaker, q.confidence, q.evidence, q.candidates = d
    calibrate(ctx, calibration or {})
