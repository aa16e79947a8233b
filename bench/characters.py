#!/usr/bin/env python3
"""Measure narrator.characters.find_characters on PDNC (read from /work/shared, never copied).

For each novel, find_characters gets the text split into chapters, with no cast file. Gold:
the characters of characters.json who speak at least --min-quotes times (PDNC's "_group" and
"_unknowable" pseudo-speakers left out). A gold character is *found* when one of our clusters
has an alias equal (case-insensitive) to one of its aliases or its name; its *gender* is right
when that cluster (the most mentioned one that matches) has the gold gender (M/F only). A
*merge* is a cluster whose aliases name two different gold characters who both speak somewhere
in the novel, one of them in the gold set (aliases shared by two gold characters do not
count). *top20*: how many of the 20 most mentioned clusters name any PDNC character, speaking
or not (a floor for precision: PDNC does not list every named person).

Two settings: --chapters 10 (default): only the first ten chapters, with quotes counted
there (issue 4's goal); --chapters 0: the whole novel.

usage: .venv/bin/python bench/characters.py [--pdnc DIR] [--chapters N] [--min-quotes N] [-v]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_data import BENCH_DATA

from narrator.characters import find_characters
from narrator.model import Character, Gender

# ../shared beside the checkout (read-only benchmark data; never copied into the repo).

# Chapter headings in the PDNC texts: "CHAPTER IV.", "CHAPTER\n   10", "IV", "   12".
_HEADING_RE = re.compile(
    r"(?m)^[ \t]*(?:CHAPTER\b[^\n]*(?:\n[ \t]*\d+[ \t]*)?|[IVXLC]+\.?|\d{1,3})[ \t]*$"
)
_GENDER = {"M": Gender.MALE, "F": Gender.FEMALE}


def split_chapters(text: str) -> list[tuple[int, int]]:
    """(start, end) of each chapter; text before the first heading joins the first chapter."""
    heads = [m.start() for m in _HEADING_RE.finditer(text)]
    # A heading directly after another (a "BOOK" line, a number under "CHAPTER") is one heading.
    bounds = [0] + [h for h in heads if h > 0]
    merged: list[int] = []
    for b in bounds:
        if merged and b - merged[-1] < 200 and merged[-1] != 0:
            continue
        merged.append(b)
    merged.append(len(text))
    return [(a, b) for a, b in itertools.pairwise(merged) if b > a]


def score_novel(
    novel_dir: Path, n_chapters: int, min_quotes: int, verbose: bool
) -> dict[str, object]:
    text = (novel_dir / "text.txt").read_text(encoding="utf-8")
    chars = json.loads((novel_dir / "characters.json").read_text())["characters"]
    quotes = [json.loads(x) for x in (novel_dir / "quotes.jsonl").read_text().splitlines()]
    chapters = split_chapters(text)
    if n_chapters:
        chapters = chapters[:n_chapters]
    limit = chapters[-1][1]
    n_quotes: dict[str, set[str]] = {}
    for q in quotes:
        if q["start"] < limit:
            n_quotes.setdefault(q["speaker"], set()).add(q["quote_id"])
    texts = [text[a:b] for a, b in chapters]
    t0 = time.perf_counter()
    found = find_characters(texts)
    elapsed = time.perf_counter() - t0

    def names_of(c: dict[str, object]) -> set[str]:
        return {str(a).lower() for a in [c["name"], *c["aliases"]]}  # type: ignore[list-item]

    owners: dict[str, set[str]] = {}
    for c in chars:
        for a in names_of(c):
            owners.setdefault(a, set()).add(str(c["name"]))
    gold = [
        c
        for c in chars
        if len(n_quotes.get(str(c["name"]), ())) >= min_quotes
        and not str(c["name"]).startswith("_")
    ]
    hits = gender_ok = gender_n = 0
    misses: list[str] = []
    wrong_gender: list[str] = []
    for g in gold:
        aliases = names_of(g)
        match: Character | None = next(
            (c for c in found if aliases & {a.lower() for a in c.aliases}), None
        )
        if match is None:
            misses.append(str(g["name"]))
            continue
        hits += 1
        want = _GENDER.get(str(g["gender"]))
        if want is not None:
            gender_n += 1
            if match.gender == want:
                gender_ok += 1
            else:
                wrong_gender.append(f"{g['name']} ({match.gender})")
    gold_names = {str(g["name"]) for g in gold}
    # Characters who never speak are left out: PDNC lists some bare surnames ("Childers")
    # apart from the full character ("Mr. E. W. B. Childers").
    speakers = {str(c["name"]) for c in chars if int(c["n_quotes"]) > 0}
    merges: list[str] = []
    for c in found:
        hit = set()
        for a in c.aliases:
            o = owners.get(a.lower(), set())
            if len(o) == 1:
                hit |= o & speakers
        if len(hit) >= 2 and hit & gold_names:
            merges.append(f"{c.name}: {' + '.join(sorted(hit))}")
    # Precision, roughly: the share of the 20 most mentioned clusters that name any PDNC
    # character (speaking or not). PDNC does not list every named person, so it is a floor.
    top = found[:20]
    in_gold = sum(1 for c in top if any(a.lower() in owners for a in c.aliases))
    if verbose:
        others = [c.name for c in top if not any(a.lower() in owners for a in c.aliases)]
        print(f"  top 20 not in PDNC: {others}")
        print(f"  misses: {misses}\n  wrong gender: {wrong_gender}\n  merges: {merges}")
        print("  top:", [(c.name, c.gender and c.gender.value[0]) for c in found[:25]])
    return {
        "novel": novel_dir.name,
        "chapters": len(chapters),
        "words": sum(len(t.split()) for t in texts),
        "gold": len(gold),
        "found": hits,
        "gender_ok": gender_ok,
        "gender_n": gender_n,
        "merges": len(merges),
        "clusters": len(found),
        "top20": f"{in_gold}/{len(top)}",
        "sec": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pdnc", type=Path, default=BENCH_DATA / "pdnc")
    ap.add_argument("--chapters", type=int, default=10, help="first N chapters; 0: all")
    ap.add_argument("--min-quotes", type=int, default=10)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    novels = json.loads((args.pdnc / "novels.json").read_text())["dev"]
    head = f"{'novel':30} {'ch':>3} {'words':>7} {'gold':>4} {'found':>5} {'gender':>7}"
    print(head + f" {'merges':>6} {'clusters':>8} {'top20':>6} {'sec':>5}")
    tot = {"gold": 0, "found": 0, "gender_ok": 0, "gender_n": 0, "merges": 0}
    for novel in novels:
        if args.verbose:
            print(novel)
        r = score_novel(args.pdnc / novel, args.chapters, args.min_quotes, args.verbose)
        for k in tot:
            tot[k] += int(r[k])  # type: ignore[call-overload]
        print(
            f"{novel:30} {r['chapters']:>3} {r['words']:>7} {r['gold']:>4} {r['found']:>5} "
            f"{r['gender_ok']:>3}/{r['gender_n']:<3} {r['merges']:>6} {r['clusters']:>8} "
            f"{r['top20']:>6} {r['sec']:>5.2f}"
        )
    print(
        f"{'TOTAL':30} {'':>3} {'':>7} {tot['gold']:>4} {tot['found']:>5} "
        f"{tot['gender_ok']:>3}/{tot['gender_n']:<3} {tot['merges']:>6}"
    )
    print(
        f"recall {tot['found'] / max(tot['gold'], 1):.3f}  "
        f"gender accuracy {tot['gender_ok'] / max(tot['gender_n'], 1):.3f}"
    )


if __name__ == "__main__":
    main()
