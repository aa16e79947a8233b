#!/usr/bin/env python3
"""Measure narrator.segment on the benchmark corpora (read from /work/shared, never copied).

PDNC: a gold quotation span is detected when dialogue/thought segments cover at least half of
its characters (spans exclude quote marks). Precision: a predicted speech segment is correct
when at least half of its inner characters (quote marks stripped) lie inside gold spans.
Web fiction: the kind covering most of each gold utterance/note/heading must match.

usage: .venv/bin/python bench/segment_recall.py [--pdnc DIR] [--webfic DIR] [--misses N]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_data import BENCH_DATA

from narrator.model import Segment
from narrator.segment import segment_chapter

# ../shared beside the checkout (read-only benchmark data; never copied into the repo).

_QUOTES = "\"'\u201c\u201d\u2018\u2019"


def _speech_mask(n: int, segments: list[Segment]) -> bytearray:
    mask = bytearray(n)
    for s in segments:
        if s.kind.is_speech:
            mask[s.start : s.end] = b"\x01" * (s.end - s.start)
    return mask


def score_pdnc(pdnc_dir: Path, show_misses: int) -> None:
    novels = json.loads((pdnc_dir / "novels.json").read_text())["dev"]
    tot = collections.Counter()
    print(f"{'novel':32} {'recall':>7} {'precision':>9} {'gold':>6} {'pred':>6} {'sec':>5}")
    for novel in novels:
        text = (pdnc_dir / novel / "text.txt").read_text(encoding="utf-8")
        gold = [json.loads(x) for x in (pdnc_dir / novel / "quotes.jsonl").read_text().splitlines()]
        t0 = time.perf_counter()
        segments = segment_chapter(text)
        elapsed = time.perf_counter() - t0
        mask = _speech_mask(len(text), segments)
        gold_mask = bytearray(len(text))
        hit = 0
        misses = []
        for g in gold:
            covered = sum(mask[g["start"] : g["end"]])
            if covered * 2 >= g["end"] - g["start"]:
                hit += 1
            else:
                misses.append(g)
            gold_mask[g["start"] : g["end"]] = b"\x01" * (g["end"] - g["start"])
        pred = [s for s in segments if s.kind.is_speech]
        good = 0
        for s in pred:
            a, b = s.start, s.end
            while a < b and text[a] in _QUOTES:
                a += 1
            while b > a and text[b - 1] in _QUOTES:
                b -= 1
            if b == a or sum(gold_mask[a:b]) * 2 >= b - a:
                good += 1
        rec, prec = hit / max(len(gold), 1), good / max(len(pred), 1)
        print(f"{novel:32} {rec:7.4f} {prec:9.4f} {len(gold):6} {len(pred):6} {elapsed:5.2f}")
        tot.update(hit=hit, gold=len(gold), good=good, pred=len(pred))
        for g in misses[:show_misses]:
            ctx = text[max(0, g["start"] - 60) : g["end"] + 40]
            print(f"   MISS {g['start']}: {ctx!r}")
    print(
        f"{'ALL (micro)':32} {tot['hit'] / tot['gold']:7.4f} {tot['good'] / tot['pred']:9.4f}"
        f" {tot['gold']:6} {tot['pred']:6}"
    )


def score_webfic(webfic_dir: Path) -> None:
    for text_path in sorted(webfic_dir.glob("*.txt")):
        text = text_path.read_text(encoding="utf-8")
        gold_path = text_path.with_name(text_path.stem + ".gold.jsonl")
        gold = [json.loads(x) for x in gold_path.read_text(encoding="utf-8").splitlines()]
        kinds: list[str] = ["narration"] * len(text)
        for s in segment_chapter(text):
            kinds[s.start : s.end] = [s.kind.value] * (s.end - s.start)
        ok = 0
        bad = []
        for g in gold:
            top = collections.Counter(kinds[g["start"] : g["end"]]).most_common(1)[0][0]
            if top == g["kind"]:
                ok += 1
            else:
                bad.append(f"   {g['kind']:>8} got {top:9} {g['text'][:60]!r}")
        print(f"{text_path.name}: kinds {ok}/{len(gold)}")
        if bad:
            print("\n".join(bad))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdnc", type=Path, default=BENCH_DATA / "pdnc")
    ap.add_argument("--webfic", type=Path, default=BENCH_DATA / "webfic")
    ap.add_argument("--misses", type=int, default=0, help="print N missed spans per novel")
    args = ap.parse_args()
    score_pdnc(args.pdnc, args.misses)
    print()
    score_webfic(args.webfic)


if __name__ == "__main__":
    main()
