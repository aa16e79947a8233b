"""Confidence: how likely a line's speaker is right, from what the ranker decided and why.

The ranker's probability says how much better the winner looks than the other candidates of
the same quotation; it does not know that a turn far from any tag, or a nameless speaker, is
wrong more often than the same probability elsewhere. A logistic regression over a few
facts about the decision (the ranker's probability and margin, the evidence kind, how far the
nearest tag is, the size of the exchange) turns it into the chance the line is right. Its
weights are data (`weights.json`, "calibration"), learned by `bench/train_ranker.py` on the
ranker's answers for books the ranker was not trained on, and chosen by leaving one book out
(bench/RESULTS.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from narrator.attribute.features import Context, answered_by
from narrator.attribute.quotes import Quote, Sieve

# The longest distance (in turns) to a tagged turn, and exchange length, told apart.
FAR = 4
LONG = 6


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def decision_features(ctx: Context, q: Quote) -> dict[str, float]:
    """Facts about one ranked quotation (its speaker, confidence and candidates set)."""
    chapter = ctx.chapter
    turn = ctx.turn_of[q.para]
    tagged = [abs(t.index - turn.index) for t in ctx.block_turns[turn.block] if t.strong]
    distance = min(min(tagged, default=FAR), FAR)
    p = q.confidence or 0.0
    runner_up = q.candidates[0][1] if q.candidates else 0.0
    return {
        "logit": _logit(p),
        "margin": p - runner_up,
        f"sieve={answered_by(q)}": 1.0,
        "agree": float(q.speaker == q.first),
        f"tag={q.tag[0] if q.tag else 'none'}": 1.0,
        f"dist={distance}": 1.0,
        f"exchange={min(ctx.block_len[turn.block], LONG)}": 1.0,
        "candidates": min(len(q.candidates) + 1, FAR) / FAR,
        "nameless": float(q.speaker not in chapter.cast.gender),
        "storyteller": float(chapter.personal and q.speaker == chapter.narrator_at(q.start)),
        "shared_paragraph": float(len(turn.quotes) > 1),
    }


def chance_right(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    z = weights.get("bias", 0.0) + sum(weights.get(f, 0.0) * v for f, v in features.items())
    return 1.0 / (1.0 + math.exp(-z))


def calibrate(ctx: Context, weights: Mapping[str, float]) -> None:
    """Replace each ranked quotation's confidence by the chance that it is right."""
    if not weights:
        return
    for q in ctx.chapter.quotes:
        if q.speaker is None or q.sieve is Sieve.FIXED or q.split_at is not None:
            continue
        q.confidence = round(chance_right(decision_features(ctx, q), weights), 3)
