#!/usr/bin/env python3
"""Leave one book out over the tuning books, quickly: to choose between two designs.

The first stage of `train_ranker.py` alone (no calibration, the books in its CONFIRM never
read): for each tuning book, weights trained on all the others rank its quotations, and every
gold quotation is scored end to end. Prints, per set, the quotations, the share right (four
decimals), the count right and the share right of the most confident half. Run it on two
checkouts and compare counts: a design is kept on what it does to books it was not fitted to.

usage:
  python bench/lobo.py                   # this checkout, with each book's cast
  python bench/lobo.py --no-cast         # scored on the characters narrator finds
  python bench/lobo.py --dump miss.jsonl # also write every wrong quotation, with its context
  python bench/lobo.py --l2 0.003        # another weight decay (default: train_ranker's)
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ranker as T  # puts this checkout's narrator first on the path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-cast", action="store_true", help="score without a cast file")
    ap.add_argument("--dump", metavar="JSONL", help="write the wrong quotations here")
    ap.add_argument("--l2", type=float, default=T.L2)
    ap.add_argument("--balance", type=float, default=T.BALANCE)
    args = ap.parse_args()
    books = [b for b in T.load_books() if b.name not in T.CONFIRM]
    data = [(b, *T.extract(b)) for b in books]
    vocab = sorted({f for _, _, ex in data for e in ex if e for fs in e.feats for f in fs})
    mat = T.matrix([ex for _, _, ex in data], vocab)
    pooled: dict[str, list[tuple[float, bool]]] = collections.defaultdict(list)
    wrong: list[str] = []  # --dump: one JSON line per wrong quotation
    everyone = np.ones(len(data), dtype=bool)
    for _, book, ctx, ex, weights in T.left_out(
        data, mat, everyone, args.l2, args.balance, args.no_cast
    ):
        pooled[book.corpus] += T.score(book, ctx, weights)
        if args.dump:
            for q, e in zip(ctx.chapter.quotes, ex, strict=True):
                if e is None or book.same(q.speaker, e.gold):
                    continue
                row = {
                    "book": book.name, "corpus": book.corpus, "sieve": str(q.sieve),
                    "first": q.first, "pred": q.speaker, "gold": e.gold,
                    "conf": round(q.confidence, 3), "first_right": e.sieve_ok,
                    "gold_is_candidate": e.label >= 0, "candidates": len(e.names),
                    "tag": [q.tag[0].value, q.tag[1]] if q.tag else None,
                    "context": book.text[max(0, q.start - 400) : q.start] + "[["
                    + book.text[q.start : q.end] + "]]" + book.text[q.end : q.end + 150],
                }  # fmt: skip
                wrong.append(json.dumps(row) + "\n")
    if args.dump:
        Path(args.dump).write_text("".join(wrong), encoding="utf-8")
    print(f"{'set':10} {'quotes':>6} {'right':>6} {'share':>7} {'top50%':>7}")
    for group, results in sorted(pooled.items()):
        right = sum(ok for _, ok in results)
        print(
            f"{group:10} {len(results):6d} {right:6d} {right / len(results):7.4f} "
            f"{T.top_half(results):7.4f}"
        )


if __name__ == "__main__":
    main()
