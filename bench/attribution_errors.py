#!/usr/bin/env python3
"""Where attribution goes wrong, leaving one book out, on the PDNC tuning novels.

For every tuning novel (the books kept out are never read), weights are trained on the
other tuning books (bench/train_ranker.py's procedure) and the novel is ranked with them.
Then, over the quotations that have a gold speaker:

- answers given by turn-taking, by whether the gold exchange alternates, how many people
  talk in it, and whether a wrong answer is the other party of the exchange (`flip`) or
  someone outside it (`outsider`);
- descriptive tags (`said the jailer`): how often the gold speaker is among the candidates.

usage: python bench/attribution_errors.py
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ranker as T

TURNS = {"turn", "turn-back", "turn-narrator"}


def main() -> None:
    books = [b for b in T.load_books() if b.name not in T.CONFIRM]
    data = [(b, *T.extract(b)) for b in books]
    vocab = sorted({f for _, _, ex in data for e in ex if e for fs in e.feats for f in fs})
    mat = T.matrix([ex for _, _, ex in data], vocab)
    turns: collections.Counter[tuple[str, ...]] = collections.Counter()
    described = collections.Counter[str]()
    for n, (book, ctx, ex) in enumerate(data):
        if book.corpus != "pdnc":
            continue
        keep = np.ones(len(data), bool)
        keep[n] = False
        T.score(book, ctx, T.train(mat, keep))
        gold = {id(q): e.gold for q, e in zip(ctx.chapter.quotes, ex, strict=True) if e}
        for q, e in zip(ctx.chapter.quotes, ex, strict=True):
            if e is not None and q.tag is not None and q.tag[0].value == "desc":
                described["tags"] += 1
                described["gold among candidates"] += e.label >= 0
        for block in ctx.block_turns.values():
            g = [gold.get(id(t.quotes[0])) for t in block]
            for k, t in enumerate(block):
                q = t.quotes[0]
                if str(q.sieve) not in TURNS or g[k] is None:
                    continue
                two_back = k >= 2 and g[k - 2] is not None and book.same(g[k - 2], g[k])
                two_on = k + 2 < len(g) and g[k + 2] is not None and book.same(g[k + 2], g[k])
                people = {x for x in g if x}
                key = (
                    "alternates" if two_back or two_on else "does not alternate",
                    "2 people" if len(people) <= 2 else "3+ people",
                )
                if book.same(q.speaker, g[k]):
                    turns[("right", *key)] += 1
                else:
                    inside = any(book.same(q.speaker, x) for x in people)
                    turns[("wrong", *key, "flip" if inside else "outsider")] += 1
    print("turn-taking answers (PDNC tuning novels, leave one book out)")
    for key, count in sorted(turns.items()):
        print(f"  {' / '.join(key):50} {count:5}")
    print(
        f"descriptive tags: {described['tags']}, gold speaker among the candidates "
        f"{described['gold among candidates'] / max(1, described['tags']):.3f}"
    )


if __name__ == "__main__":
    main()
