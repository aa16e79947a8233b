"""How ../shared/bench/webfic/score.py decides that a predicted speaker is the gold one.

Shared by bench/attribution.py and bench/train_ranker.py; imports nothing from narrator, so
train_ranker's --baseline can score an older checkout with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def _norm(s: str | None) -> str:
    s = (s or "").strip().lower()
    for article in ("the ", "a ", "an "):
        if s.startswith(article):
            return s[len(article) :]
    return s


def speaker_matcher(cast: Sequence[dict[str, Any]]) -> Callable[[str | None, str], bool]:
    """same(pred, gold) for a chapter whose cast file holds these [[character]] tables.

    A cast name must be named by its name or an alias ("Narrator" counts for the character
    with the alias "I"); a walk-on's description matches loosely ("old woman", "a woman").
    """
    names = {c["name"] for c in cast}
    alias = {a.lower(): c["name"] for c in cast for a in [c["name"], *c.get("aliases", [])]}
    first = {c["name"] for c in cast if "i" in {a.lower() for a in c.get("aliases", [])}}

    def same(pred: str | None, gold: str) -> bool:
        if pred is None:
            return False
        if gold in names:
            p = pred.strip().lower()
            return alias.get(p) == gold or (p == "narrator" and gold in first)
        p, g = _norm(pred), _norm(gold)
        return (
            bool(p)
            and p not in alias
            and (p == g or p in g.split() or g in p or (len(p) > 3 and p in g))
        )

    return same
