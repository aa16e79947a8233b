#!/usr/bin/env python3
"""Train the attribution ranker and measure it on books it was not trained on.

Books: the 9 PDNC dev novels, the 23 LitBank dev openings and the 8 web-fiction chapters, read
from ../shared/bench at run time (never copied); the 20 web-fiction chapters written for
narrator in bench/webfic2, the 12 in bench/webfic3 (kept out until session 11) and the 8 in
bench/webfic5 (kept out until session 12); the 6 in bench/webfic4 and the 8 in bench/webfic6,
kept out like the books in CONFIRM. Each quotation
found by the segmenter gets its candidates and evidence (narrator/attribute/features.py) and
the gold speaker.

Leave one book out: for every book, weights are trained on all the others and the book is
scored with them, end to end (the segmenter's quotations; a quotation is right when its
speaker names the gold character, as bench/attribution.py scores PDNC and webfic/score.py
scores web fiction). Confidence is measured the same way: the 50% most confident quotations.

usage:
  python bench/train_ranker.py                 # leave-one-book-out figures, sieves vs ranker
  python bench/train_ranker.py --write         # then train on every book and ship the weights
  python bench/train_ranker.py --confirm       # only the books kept out of all tuning
  python bench/train_ranker.py --no-cast       # scored on the characters narrator finds
  python bench/train_ranker.py --baseline /tmp/old [--no-cast]   # an earlier checkout
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# --baseline CHECKOUT scores another checkout of narrator (an earlier commit) the same way.
BASELINE = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
sys.path.insert(0, BASELINE or str(ROOT))
for _name in [m for m in sys.modules if m == "narrator" or m.startswith("narrator.")]:
    del sys.modules[_name]  # an editable install may have imported the main checkout's

from bench_data import BENCH_DATA  # noqa: E402
from webfic_gold import speaker_matcher  # noqa: E402

from narrator.characters import find_characters  # noqa: E402
from narrator.model import Character, Gender  # noqa: E402
from narrator.segment import segment_chapter  # noqa: E402

if BASELINE is None:
    from narrator.attribute.calibrate import calibrate, decision_features
    from narrator.attribute.features import Context, candidates
    from narrator.attribute.ranker import WEIGHTS
    from narrator.attribute.sieves import run_sieves, to_segments

# Kept out of every design decision: looked at only with --confirm, to check the figures.
WEBFIC_RETIRED = ROOT / "bench" / "webfic3"  # kept out until session 11, tuning data since
WEBFIC_KEPT_OUT_2 = ROOT / "bench" / "webfic4"  # written for narrator in session 10, kept out
WEBFIC_RETIRED_2 = ROOT / "bench" / "webfic5"  # kept out in session 11, tuning data since 12
WEBFIC_KEPT_OUT_3 = ROOT / "bench" / "webfic6"  # written for narrator in session 12, kept out
CONFIRM = {
    "TheSportOfTheGods", "4276_north_and_south", "766_david_copperfield", "502_desert_gold",
    "quill-01", *(p.stem for p in WEBFIC_KEPT_OUT_2.glob("*.txt")),
    *(p.stem for p in WEBFIC_KEPT_OUT_3.glob("*.txt")),
}  # fmt: skip
L2 = 0.001  # the ranker's weight decay, chosen by leave-one-book-out (RESULTS.md, round 5)
CALIBRATION_L2 = 0.01  # the calibration's (round 4)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
BALANCE = 0.5  # see train(); chosen by leave-one-book-out (bench/RESULTS.md)


@dataclass
class Book:
    corpus: str
    name: str
    text: str
    gold: list[dict[str, Any]]  # start, end, speaker, qid
    cast: list[Character]
    same: Any  # (pred, gold) -> bool


def _pdnc_like(corpus: str, folder: Path) -> list[Book]:
    books = []
    for name in json.loads((folder / "novels.json").read_text())["dev"]:
        d = folder / name
        text = (d / "text.txt").read_text(encoding="utf-8")
        raw = json.loads((d / "characters.json").read_text())["characters"]
        cast = []
        owner: dict[str, set[str]] = collections.defaultdict(set)
        names_of: dict[str, set[str]] = {}
        for c in raw:
            aliases = tuple(
                dict.fromkeys("I" if a in ("_narr", "Narr") else a for a in c["aliases"] if a)
            )
            gender = {"M": Gender.MALE, "F": Gender.FEMALE}.get(c.get("gender") or "")
            cast.append(Character(c["name"], aliases, gender))
            keys = {c["name"].lower(), *(a.lower() for a in c["aliases"] if a)}
            names_of[c["name"]] = keys
            for k in keys:
                owner[k].add(c["name"])

        def same(pred: str | None, gold: str, names_of=names_of, owner=owner) -> bool:
            return bool(
                pred
                and pred.lower() in names_of.get(gold, {gold.lower()})
                and owner[pred.lower()] <= {gold}
            )

        gold = []
        for line in (d / "quotes.jsonl").read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            gold.append({"start": q["start"], "end": q["end"], "speaker": q["speaker"],
                         "qid": q["quote_id"]})  # fmt: skip
        books.append(Book(corpus, name, text, gold, cast, same))
    return books


def _webfic(folder: Path, corpus: str = "webfic") -> list[Book]:
    books = []
    for path in sorted(folder.glob("*.txt")):
        own = folder / f"{path.stem}.cast.toml"
        raw = tomllib.loads((own if own.exists() else folder / "cast.toml").read_text())
        chars = raw.get("character", [])
        cast = [
            Character(c["name"], tuple(c.get("aliases", [])),
                      Gender(c["gender"]) if c.get("gender") else None)
            for c in chars
        ]  # fmt: skip
        same = speaker_matcher(chars)
        gold = []
        for i, line in enumerate(path.with_suffix(".gold.jsonl").read_text().splitlines()):
            g = json.loads(line)
            if g["speaker"] is not None:
                gold.append({"start": g["start"], "end": g["end"], "speaker": g["speaker"],
                             "qid": f"U{i}"})  # fmt: skip
        books.append(Book(corpus, path.stem, path.read_text(encoding="utf-8"), gold, cast, same))
    return books


def load_books() -> list[Book]:
    return (
        _pdnc_like("pdnc", BENCH_DATA / "pdnc")
        + _pdnc_like("litbank", BENCH_DATA / "litbank")
        + _webfic(BENCH_DATA / "webfic")
        + _webfic(ROOT / "bench" / "webfic2", "webfic2")
        + _webfic(WEBFIC_RETIRED, "webfic3")
        + _webfic(WEBFIC_KEPT_OUT_2, "webfic4")
        + _webfic(WEBFIC_RETIRED_2, "webfic5")
        + _webfic(WEBFIC_KEPT_OUT_3, "webfic6")
    )


def found_characters(text: str) -> list[Character]:
    """The characters narrator finds itself, as `narrator analyze` without a cast does."""
    from narrator.model import Cast

    try:
        from narrator.analysis import candidate_characters
    except ImportError:  # a checkout from before the pipeline was split (issue 15)
        try:
            from narrator.pipeline import candidate_characters
        except ImportError:  # an older checkout still
            return list(find_characters([text]))
    return candidate_characters(Cast(), [text], managed=False)


@dataclass
class Example:
    names: list[str]
    feats: list[dict[str, float]]
    label: int  # index of the gold candidate, -1 when none is right
    gold: str
    sieve_ok: bool


def extract(book: Book, no_cast: bool = False) -> tuple[Context, list[Example | None]]:
    chars = found_characters(book.text) if no_cast else book.cast
    segs = segment_chapter(book.text)
    chapter = run_sieves(book.text, segs, chars)
    ctx = Context(chapter)
    cands = candidates(ctx)
    starts = [g["start"] for g in book.gold]
    import bisect

    out: list[Example | None] = []
    for q, cs in zip(chapter.quotes, cands, strict=True):
        # The gold utterance covering most of the quotation.
        i = max(0, bisect.bisect_right(starts, q.start) - 1)
        best, overlap = None, 0
        while i < len(book.gold) and book.gold[i]["start"] < q.end:
            g = book.gold[i]
            ov = min(q.end, g["end"]) - max(q.start, g["start"])
            if ov > overlap:
                best, overlap = g, ov
            i += 1
        if best is None:
            out.append(None)
            continue
        label = next((k for k, c in enumerate(cs) if book.same(c.name, best["speaker"])), -1)
        out.append(
            Example([c.name for c in cs], [c.features for c in cs], label, best["speaker"],
                    book.same(q.first, best["speaker"]))
        )  # fmt: skip
    return ctx, out


@dataclass
class Matrix:
    """Every candidate of every labelled quotation, one row each, built once."""

    x: np.ndarray
    y: np.ndarray
    book: np.ndarray  # the book index of each quotation
    starts: np.ndarray  # first row of each quotation
    vocab: list[str]


def matrix(per_book: list[list[Example | None]], vocab: list[str]) -> Matrix:
    index = {f: i for i, f in enumerate(vocab)}
    usable = [
        (b, e)
        for b, ex in enumerate(per_book)
        for e in ex
        if e and e.label >= 0 and len(e.names) > 1
    ]
    rows = sum(len(e.names) for _, e in usable)
    x = np.zeros((rows, len(vocab)))
    y = np.zeros(rows)
    starts = np.zeros(len(usable), dtype=np.int64)
    r = 0
    for n, (_, e) in enumerate(usable):
        starts[n] = r
        for k, feats in enumerate(e.feats):
            for f, v in feats.items():
                x[r + k, index[f]] = v
        y[r + e.label] = 1.0
        r += len(e.names)
    return Matrix(x, y, np.array([b for b, _ in usable]), starts, vocab)


def train(
    mat: Matrix, keep: np.ndarray, l2: float = L2, balance: float = BALANCE
) -> dict[str, float]:
    """Conditional logit by full-batch gradient descent (Adam) on the quotations in `keep`.

    A quotation is a run of rows, so the softmax over its candidates is a segment sum.
    """
    ends = np.append(mat.starts[1:], len(mat.y))
    picked = np.flatnonzero(keep[mat.book])
    sel = np.concatenate([np.arange(mat.starts[i], ends[i]) for i in picked])
    x, y = mat.x[sel], mat.y[sel]
    sizes = ends[picked] - mat.starts[picked]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = np.repeat(np.arange(len(picked)), sizes)
    # Each quotation weighs 1 / n^balance, n its book's quotations: long novels would
    # otherwise drown the short web-fiction chapters.
    counts = np.bincount(mat.book[picked])
    qw = 1.0 / counts[mat.book[picked]] ** balance
    qw *= len(picked) / qw.sum()
    rw = np.repeat(qw, sizes)
    w = np.zeros(len(mat.vocab))
    m = np.zeros_like(w)
    v2 = np.zeros_like(w)
    for step in range(1, 401):
        s = x @ w
        s = np.exp(s - np.maximum.reduceat(s, starts)[group])
        p = s / np.add.reduceat(s, starts)[group]
        grad = x.T @ (rw * (p - y)) / len(picked) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v2 = 0.999 * v2 + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v2 / (1 - 0.999**step)) + 1e-8)
    return {f: round(float(w[i]), 4) for i, f in enumerate(mat.vocab) if abs(w[i]) > 1e-4}


def left_out(
    data: list[tuple[Book, Context, list[Example | None]]],
    mat: Matrix,
    in_tuning: np.ndarray,
    l2: float = L2,
    balance: float = BALANCE,
    no_cast: bool = False,
) -> Iterator[tuple[int, Book, Context, list[Example | None], dict[str, float]]]:
    """Leave one book out: each tuning book (in `in_tuning`), with weights trained on the
    other tuning books; without a cast, the book re-read on the characters narrator finds."""
    for n, (book, ctx, ex) in enumerate(data):
        if not in_tuning[n]:
            continue
        print(f"  {book.name} ({n + 1}/{len(data)})", file=sys.stderr, flush=True)
        keep = in_tuning.copy()
        keep[n] = False
        weights = train(mat, keep, l2, balance)
        if no_cast:  # the same weights, on characters narrator found itself
            ctx, ex = extract(book, no_cast=True)
        yield n, book, ctx, ex, weights


def score(book: Book, ctx: Context, weights: dict[str, float] | None) -> list[tuple[float, bool]]:
    """End to end: rank (or keep the sieves' answers), then score every gold utterance."""
    from narrator.attribute import ranker

    chapter = ctx.chapter
    if not hasattr(ctx, "sieve_conf"):
        ctx.sieve_conf = [q.confidence for q in chapter.quotes]  # type: ignore[attr-defined]
    for q, c in zip(chapter.quotes, ctx.sieve_conf, strict=True):  # type: ignore[attr-defined]
        q.speaker, q.confidence, q.evidence, q.candidates = q.first, c, (), ()
    if weights is not None:
        ranker.rank(ctx, weights)
    return score_segments(book, to_segments(chapter))


def score_segments(book: Book, segs: list[Any]) -> list[tuple[float, bool]]:
    """(confidence, right) for every gold quotation, from attributed segments."""
    speech = [s for s in segs if s.kind.is_speech]
    by_qid: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for g in book.gold:
        by_qid[g["qid"]].append(g)
    import bisect

    starts = [s.start for s in speech]
    results = []
    for parts in by_qid.values():
        votes: collections.Counter[str | None] = collections.Counter()
        conf: dict[str | None, float] = {}
        total = 0
        for g in parts:
            total += g["end"] - g["start"]
            i = max(0, bisect.bisect_right(starts, g["start"]) - 1)
            while i < len(speech) and speech[i].start < g["end"]:
                s = speech[i]
                ov = min(g["end"], s.end) - max(g["start"], s.start)
                if ov > 0:
                    votes[s.speaker] += ov
                    conf[s.speaker] = max(conf.get(s.speaker, 0.0), s.confidence or 0.0)
                i += 1
        if not votes or sum(votes.values()) * 2 < total:
            results.append((0.0, False))
            continue
        pred = votes.most_common(1)[0][0]
        results.append((conf.get(pred, 0.0), book.same(pred, parts[0]["speaker"])))
    return results


Decision = tuple[dict[str, float], bool]


def decisions(book: Book, ctx: Context, ex: list[Example | None]) -> list[Decision]:
    """What the calibration learns from: each ranked quotation's facts and if it was right."""
    out = []
    for q, e in zip(ctx.chapter.quotes, ex, strict=True):
        if e is None or q.speaker is None or q.sieve == "fixed" or q.split_at is not None:
            continue
        out.append((decision_features(ctx, q), book.same(q.speaker, e.gold)))
    return out


def fit_calibration(per_book: list[list[Decision]], l2: float = CALIBRATION_L2) -> dict[str, float]:
    """Logistic regression: facts about a decision -> the chance it is right.

    Each book's decisions weigh 1 / n^BALANCE each, as in train().
    """
    rows = [d for ds in per_book for d in ds]
    sizes = [len(ds) for ds in per_book]
    vocab = sorted({f for fs, _ in rows for f in fs})
    index = {f: i for i, f in enumerate(vocab)}
    x = np.zeros((len(rows), len(vocab) + 1))
    x[:, -1] = 1.0  # the bias
    for r, (fs, _) in enumerate(rows):
        for f, v in fs.items():
            x[r, index[f]] = v
    y = np.array([float(ok) for _, ok in rows])
    rw = np.concatenate([np.full(k, 1.0 / max(k, 1) ** BALANCE) for k in sizes])
    rw *= len(rows) / rw.sum()
    w = np.zeros(x.shape[1])
    m = np.zeros_like(w)
    v2 = np.zeros_like(w)
    for step in range(1, 501):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (rw * (p - y)) / len(rows) + l2 * np.append(w[:-1], 0.0)
        m = 0.9 * m + 0.1 * grad
        v2 = 0.999 * v2 + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v2 / (1 - 0.999**step)) + 1e-8)
    out = {f: round(float(w[i]), 4) for i, f in enumerate(vocab) if abs(w[i]) > 1e-4}
    out["bias"] = round(float(w[-1]), 4)
    return out


def top_half(results: list[tuple[float, bool]]) -> float:
    ranked = sorted(results, key=lambda r: -r[0])[: max(1, len(results) // 2)]
    return sum(ok for _, ok in ranked) / len(ranked)


def baseline(books: list[Book], no_cast: bool) -> None:
    """An earlier checkout's attribute_speakers, scored like the ranker (every book)."""
    from narrator.attribute import attribute_speakers

    pooled: dict[str, list[tuple[float, bool]]] = collections.defaultdict(list)
    for book in books:
        chars = found_characters(book.text) if no_cast else book.cast
        segs = attribute_speakers(book.text, segment_chapter(book.text), chars)
        group = book.corpus + ("-confirm" if book.name in CONFIRM else "")
        pooled[group] += score_segments(book, segs)
    print(f"{'set':16} {'quotes':>6} {'accuracy':>8} {'top50%':>7}")
    for group, r in sorted(pooled.items()):
        print(f"{group:16} {len(r):6d} {sum(o for _, o in r) / len(r):8.3f} {top_half(r):7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="train on all books, write weights")
    ap.add_argument("--confirm", action="store_true", help="only the books kept out of tuning")
    ap.add_argument("--no-cast", action="store_true", help="score without a cast file")
    ap.add_argument("--no-lobo", action="store_true", help="skip the leave-one-out figures")
    ap.add_argument("--l2", type=float, default=L2)
    ap.add_argument("--balance", type=float, default=BALANCE, help="book weight exponent")
    ap.add_argument("--rounds", type=int, help="rounds of ranking (default: the ranker's)")
    ap.add_argument("--baseline", metavar="CHECKOUT", help="score an earlier checkout instead")
    args = ap.parse_args()
    t0 = time.perf_counter()
    books = load_books()
    if args.baseline:
        baseline(books, args.no_cast)
        return
    data = [(b, *extract(b)) for b in books]
    vocab = sorted({f for _, _, ex in data for e in ex if e for fs in e.feats for f in fs})
    print(
        f"{len(books)} books, {len(vocab)} features, extracted in {time.perf_counter() - t0:.1f}s"
    )
    from narrator.attribute import ranker

    if args.rounds is not None:
        ranker.ROUNDS = args.rounds
    tuned = [d for d in data if d[0].name not in CONFIRM]
    mat = matrix([ex for _, _, ex in data], vocab)
    in_tuning = np.array([b.name not in CONFIRM for b, _, _ in data])
    rows = []
    pooled: dict[str, dict[str, list[tuple[float, bool]]]] = collections.defaultdict(
        lambda: {"sieves": [], "ranker": [], "calibrated": []}
    )
    # Stage 1, leave one book out over the tuning books: the ranker's answers on books it was
    # not trained on, which are also what the calibration learns from (stage 2).
    ranked: list[tuple[int, Any, list[Decision]]] = []
    tuning = in_tuning & (not args.no_lobo)
    stage1 = left_out(data, mat, tuning, args.l2, args.balance, args.no_cast)
    for n, book, ctx, ex, weights in stage1:
        before = score(book, ctx, None)
        after = score(book, ctx, weights)
        ranked.append((n, ctx, decisions(book, ctx, ex)))
        if args.confirm:
            continue
        group = book.corpus
        pooled[group]["sieves"] += before
        pooled[group]["ranker"] += after
        rows.append((group, book.name, len(after), sum(o for _, o in before) / len(before),
                     sum(o for _, o in after) / len(after)))  # fmt: skip
    # Stage 2: each tuning book's confidences calibrated on the other books' decisions.
    if not args.confirm:
        for n, ctx, _ in ranked:
            calibrate(ctx, fit_calibration([ds for m, _, ds in ranked if m != n]))
            book = data[n][0]
            pooled[book.corpus]["calibrated"] += score_segments(book, to_segments(ctx.chapter))
    calibration = fit_calibration([ds for _, _, ds in ranked])
    if args.confirm:  # the books kept out: weights and calibration from all the others
        weights = train(mat, in_tuning, args.l2, args.balance)
        for book, ctx, ex in data:
            if book.name not in CONFIRM:
                continue
            if args.no_cast:
                ctx, ex = extract(book, no_cast=True)
            group = book.corpus + "-confirm"
            before = score(book, ctx, None)
            after = score(book, ctx, weights)
            calibrate(ctx, calibration)
            cal = score_segments(book, to_segments(ctx.chapter))
            pooled[group]["sieves"] += before
            pooled[group]["ranker"] += after
            pooled[group]["calibrated"] += cal
            rows.append((group, book.name, len(after), sum(o for _, o in before) / len(before),
                         sum(o for _, o in after) / len(after)))  # fmt: skip
    print(f"{'set':16} {'book':44} {'quotes':>6} {'sieves':>7} {'ranker':>7}")
    for group, name, n, a, b in rows:
        print(f"{group:16} {name[:44]:44} {n:6d} {a:7.3f} {b:7.3f}")
    print()
    print(f"{'set':16} {'quotes':>6} {'sieves':>7} {'ranker':>7} {'top50% sieves':>14} "
          f"{'top50% ranker':>14} {'top50% calibrated':>18}")  # fmt: skip
    for group, r in sorted(pooled.items()):
        s, k, c = r["sieves"], r["ranker"], r["calibrated"]
        print(
            f"{group:16} {len(k):6d} {sum(o for _, o in s) / len(s):7.3f} "
            f"{sum(o for _, o in k) / len(k):7.3f} {top_half(s):14.3f} {top_half(k):14.3f} "
            f"{top_half(c):18.3f}"
        )
    for kind in ("ranker", "calibrated"):
        print()
        print(
            f"{kind} confidence: lines marked below a threshold (share of lines, share of errors)"
            " and the errors in the least confident 20% / 30% of lines"
        )
        for group, r in sorted(pooled.items()):
            k = r[kind]
            wrong = sum(1 for _, ok in k if not ok)
            cells = []
            for t in THRESHOLDS:
                marked = [ok for c, ok in k if c < t]
                caught = sum(1 for ok in marked if not ok)
                cells.append(f"<{t:.1f}: {len(marked) / len(k):.2f} {caught / max(1, wrong):.2f}")
            for share in (0.2, 0.3):
                least = sorted(k, key=lambda r: r[0])[: int(share * len(k))]
                caught = sum(1 for _, ok in least if not ok)
                cells.append(f"{share:.0%}: {caught / max(1, wrong):.2f}")
            print(f"{group:16} " + "  ".join(cells))
    if args.write:
        # The confirm books stay out of the shipped weights too, so --confirm stays honest.
        weights = train(mat, in_tuning, args.l2, args.balance)
        payload = {
            "trained_on": [b.name for b, _, _ in tuned],
            "l2": args.l2,
            "balance": args.balance,
            "weights": weights,
            "calibration": calibration,
        }
        WEIGHTS.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
        print(f"wrote {WEIGHTS.relative_to(ROOT)} ({len(weights)} weights)")
    print(f"{time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
