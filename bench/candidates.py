#!/usr/bin/env python3
"""Where attribution falls short: the candidates, and speakers of their own against the cast.

Over the tuning books (the kept-out ones untouched), each book scored with weights trained on
the others, as bench/train_ranker.py does:
- how often the gold speaker is among a quotation's candidates at all (what a perfect ranker
  could reach) against how often it is chosen;
- with the cast read as not listing everyone (`complete=False`, as before round 6): how often
  a speaker of their own (`the jailer`, not in the cast) is right, and how often the
  best-ranked cast member among the runners-up would have been.

usage: python bench/candidates.py
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import train_ranker as T

from narrator.attribute.features import Context
from narrator.attribute.sieves import run_sieves


def _open_cast_extract(book: T.Book) -> tuple[Context, list[T.Example | None]]:
    """T.extract with the cast taken as not listing every speaker."""
    original = T.run_sieves
    T.run_sieves = lambda *args: run_sieves(*args, complete=False)  # type: ignore[assignment]
    try:
        return T.extract(book)
    finally:
        T.run_sieves = original


def main() -> None:
    books = [b for b in T.load_books() if b.name not in T.CONFIRM]
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for label, extract in (("complete", T.extract), ("open", _open_cast_extract)):
        data = [(b, *extract(b)) for b in books]
        vocab = sorted({f for _, _, ex in data for e in ex if e for fs in e.feats for f in fs})
        mat = T.matrix([ex for _, _, ex in data], vocab)
        for n, (book, ctx, ex) in enumerate(data):
            print(f"  {label} cast: {book.name} ({n + 1}/{len(data)})", file=sys.stderr, flush=True)
            keep = np.ones(len(data), bool)
            keep[n] = False
            T.score(book, ctx, T.train(mat, keep))
            cast = {ch.name for ch in book.cast}
            for q, e in zip(ctx.chapter.quotes, ex, strict=True):
                if e is None:
                    continue
                if label == "complete":
                    counts[book.corpus, "quotes"] += 1
                    counts[book.corpus, "gold among candidates"] += e.label >= 0
                    counts[book.corpus, "chosen right"] += book.same(q.speaker, e.gold)
                elif q.speaker is not None and q.speaker not in cast:
                    counts[book.corpus, "own speakers"] += 1
                    counts[book.corpus, "own speakers right"] += book.same(q.speaker, e.gold)
                    best = next((name for name, _ in q.candidates if name in cast), None)
                    counts[book.corpus, "best cast member right"] += bool(best) and book.same(
                        best, e.gold
                    )
    keys = ("quotes", "gold among candidates", "chosen right", "own speakers",
            "own speakers right", "best cast member right")  # fmt: skip
    print("set      " + "  ".join(f"{k:>22}" for k in keys))
    for corpus in sorted({c for c, _ in counts}):
        print(f"{corpus:8} " + "  ".join(f"{counts[corpus, k]:>22}" for k in keys))


if __name__ == "__main__":
    main()
