#!/usr/bin/env python3
"""Does the learner matter? The ranker's conditional logit against boosted trees.

Leave one book out over the tuning books (the books in train_ranker's CONFIRM never read),
on the candidates the sieves' first answers give (the first round of ranking): for each
quotation whose gold speaker is among two or more candidates, is the best-scored candidate
the gold one? The conditional logit is train_ranker's `train`; the trees are LightGBM's
LambdaRank and its binary classifier, trained on the same rows. LightGBM (MIT) is not a
dependency of narrator: install it by hand to run this (`pip install lightgbm scikit-learn`,
its scikit-learn interface).

usage: python bench/learners.py [--trees N] [--leaves N]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ranker as T  # puts this checkout's narrator first on the path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--leaves", type=int, default=8)
    args = ap.parse_args()
    import lightgbm as lgb

    books = [b for b in T.load_books() if b.name not in T.CONFIRM]
    per_book = [T.extract(b)[1] for b in books]
    vocab = sorted({f for ex in per_book for e in ex if e for fs in e.feats for f in fs})
    mat = T.matrix(per_book, vocab)
    ends = np.append(mat.starts[1:], len(mat.y))
    sizes = ends - mat.starts
    row_book = np.repeat(mat.book, sizes)
    common = dict(n_estimators=args.trees, num_leaves=args.leaves, learning_rate=0.05,
                  min_child_samples=20, verbose=-1, n_jobs=2)  # fmt: skip
    right: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for n, book in enumerate(books):
        print(f"  {book.name} ({n + 1}/{len(books)})", file=sys.stderr, flush=True)
        keep = np.ones(len(books), dtype=bool)
        keep[n] = False
        weights = T.train(mat, keep)
        train_rows, train_quotes = row_book != n, mat.book != n
        ranker = lgb.LGBMRanker(objective="lambdarank", **common)
        ranker.fit(mat.x[train_rows], mat.y[train_rows], group=sizes[train_quotes])
        binary = lgb.LGBMClassifier(objective="binary", **common)
        binary.fit(mat.x[train_rows], mat.y[train_rows])
        rows = np.flatnonzero(row_book == n)
        x = mat.x[rows]
        scores = {
            "logit": x @ np.array([weights.get(f, 0.0) for f in vocab]),
            "lambdarank": ranker.predict(x),
            "binary": binary.predict_proba(x)[:, 1],
        }
        for i in np.flatnonzero(mat.book == n):
            a, b = mat.starts[i] - rows[0], ends[i] - rows[0]
            right[book.corpus]["quotes"] += 1
            for name, s in scores.items():
                right[book.corpus][name] += int(mat.y[rows[0] + a + np.argmax(s[a:b])] == 1)
    print(f"{'set':10} {'quotes':>6} {'logit':>6} {'lambdarank':>10} {'binary':>6}")
    for group, c in sorted(right.items()):
        print(f"{group:10} {c['quotes']:6d} {c['logit']:6d} {c['lambdarank']:10d} {c['binary']:6d}")


if __name__ == "__main__":
    main()
