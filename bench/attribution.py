#!/usr/bin/env python3
"""Speaker attribution benchmark on the PDNC dev novels and the web-fiction chapters.

End to end (default): the segmenter finds the quotations, attribution names the speakers,
scored as /work/shared/bench/pdnc/README.md says. A gold span is detected when predicted
speech segments cover at least half of its characters; a quotation (all spans of one
quote_id) is correct when it is detected and the speaker voted by most of its covered
characters resolves to the gold speaker (equal, case-insensitive, to the gold character's
name or one of its aliases, and to no other character's).

usage:
  python bench/attribution.py [NOVEL ...] [--gold-quotes] [--no-cast] [--cli]
                              [--save run.json] [--misses N]
  python bench/attribution.py --compare a.json b.json
  python bench/attribution.py --webfic
  python bench/attribution.py --litbank [--no-cast]

The PDNC texts are read from /work/shared at run time and never copied.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_data import BENCH_DATA  # noqa: E402
from webfic_gold import speaker_matcher  # noqa: E402

from narrator.attribute import attribute_speakers, explain_speakers  # noqa: E402
from narrator.attribute.runner import STEPS  # noqa: E402
from narrator.model import Character, Gender, Kind, Segment  # noqa: E402

# ../shared beside the checkout (read-only benchmark data; never copied into the repo).

PDNC = Path(os.environ.get("NARRATOR_PDNC", str(BENCH_DATA / "pdnc")))
LITBANK = BENCH_DATA / "litbank"  # the same layout as PDNC
WEBFIC = Path(os.environ.get("NARRATOR_WEBFIC", str(BENCH_DATA / "webfic")))
TYPES = ("explicit", "anaphoric", "implicit", "unknown")
SIEVE_OF: dict[Path, dict[int, str]] = {}  # text path -> segment start -> sieve


def load_characters(novel_dir: Path) -> list[dict[str, Any]]:
    return json.loads((novel_dir / "characters.json").read_text())["characters"]


def cast_characters(chars: list[dict[str, Any]]) -> list[Character]:
    """The cast an author would write: `_narr` becomes the first-person alias `I`."""
    out = []
    for c in chars:
        aliases = tuple("I" if a in ("_narr", "Narr") else a for a in c["aliases"] if a)
        gender = {"M": Gender.MALE, "F": Gender.FEMALE}.get(c.get("gender") or "")
        out.append(Character(c["name"], tuple(dict.fromkeys(aliases)), gender))
    return out


def write_cast_toml(chars: Sequence[Character], path: Path) -> None:
    lines = []
    for c in chars:
        lines.append("[[character]]")
        lines.append(f"name = {json.dumps(c.name)}")
        lines.append("aliases = [" + ", ".join(json.dumps(a) for a in c.aliases) + "]")
        if c.gender is not None:
            lines.append(f'gender = "{c.gender.value}"')
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def cli_path() -> str | None:
    """The narrator command: on PATH, else the project's virtualenv."""
    venv = ROOT / ".venv" / "bin" / "narrator"
    return shutil.which("narrator") or (str(venv) if venv.exists() else None)


def segments_from_json(data: list[dict[str, Any]], text: str) -> list[Segment]:
    return [
        Segment(d["start"], d["end"], Kind(d["kind"]), text[d["start"] : d["end"]],
                d.get("speaker"), d.get("confidence"))
        for d in data
    ]  # fmt: skip


def gold_segments(text: str, quotes: list[dict[str, Any]]) -> list[Segment]:
    """Segments from the gold spans, widened to their quote marks where they have them."""
    segs: list[Segment] = []
    pos = 0
    for q in quotes:
        s, e = q["start"], q["end"]
        if s > 0 and text[s - 1] == '"' and s - 1 >= pos:
            s -= 1
        if e < len(text) and text[e] == '"':
            e += 1
        if s < pos:
            s = pos
        if s > pos:
            segs.append(Segment(pos, s, Kind.NARRATION, text[pos:s]))
        segs.append(Segment(s, e, Kind.DIALOGUE, text[s:e]))
        pos = e
    if pos < len(text):
        segs.append(Segment(pos, len(text), Kind.NARRATION, text[pos:]))
    return segs


def analyze(
    text_path: Path,
    chars: list[Character] | None,
    mode: str,
    quotes: list[dict[str, Any]],
    disabled: Sequence[str] = (),
) -> tuple[list[Segment], float]:
    text = text_path.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    if mode == "cli":
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [cli_path(), "analyze", str(text_path), "--json"]
            if chars is not None:
                cast_path = Path(tmp) / "cast.toml"
                write_cast_toml(chars, cast_path)
                cmd += ["--cast", str(cast_path)]
            p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        segs = segments_from_json(json.loads(p.stdout)["segments"], text)
        return segs, time.perf_counter() - t0
    if chars is None:
        from narrator.characters import find_characters  # type: ignore[import-not-found]

        chars = list(find_characters([text]))
    if mode == "gold":
        segs = gold_segments(text, quotes)
    else:
        from narrator.segment import segment_chapter

        segs = segment_chapter(text)
    segs, sieves = explain_speakers(text, segs, chars, disabled=disabled)
    SIEVE_OF[text_path] = sieves
    return segs, time.perf_counter() - t0


def score_novel(
    text: str, quotes: list[dict[str, Any]], raw_chars: list[dict[str, Any]], segs: list[Segment]
) -> dict[str, Any]:
    owner: dict[str, set[str]] = collections.defaultdict(set)
    names_of: dict[str, set[str]] = {}
    for c in raw_chars:
        keys = {c["name"].lower(), *(a.lower() for a in c["aliases"])}
        names_of[c["name"]] = keys
        for k in keys:
            owner[k].add(c["name"])
    speech = [s for s in segs if s.kind.is_speech]
    starts = [s.start for s in speech]
    import bisect

    def covering(a: int, b: int) -> collections.Counter[str | None]:
        votes: collections.Counter[str | None] = collections.Counter()
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(speech) and speech[i].start < b:
            s = speech[i]
            overlap = min(b, s.end) - max(a, s.start)
            if overlap > 0:
                votes[s.speaker] += overlap
            i += 1
        return votes

    by_q: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for q in quotes:
        by_q[q["quote_id"]].append(q)
    spans = det_spans = 0
    c: collections.Counter[str] = collections.Counter()
    misses = []
    for qid, parts in by_q.items():
        total = sum(p["end"] - p["start"] for p in parts)
        votes: collections.Counter[str | None] = collections.Counter()
        for p in parts:
            v = covering(p["start"], p["end"])
            spans += 1
            det_spans += sum(v.values()) * 2 >= (p["end"] - p["start"])
            votes.update(v)
        detected = sum(votes.values()) * 2 >= total
        gold = parts[0]["speaker"]
        typ = parts[0]["type"] if parts[0]["type"] in TYPES else "unknown"
        pred = votes.most_common(1)[0][0] if votes else None
        ok = bool(
            detected and pred is not None
            and pred.lower() in names_of[gold] and owner[pred.lower()] == {gold}
        )  # fmt: skip
        c["n"] += 1
        c[f"n_{typ}"] += 1
        c["detected"] += detected
        c["ok"] += ok
        c[f"ok_{typ}"] += ok
        if not ok:
            misses.append({"qid": qid, "start": parts[0]["start"], "type": typ, "gold": gold,
                           "pred": pred, "detected": detected})  # fmt: skip
    # Precision: predicted speech segments overlapping no gold span (pessimistic, see README).
    gold_cover = sorted((q["start"], q["end"]) for q in quotes)
    gstarts = [a for a, _ in gold_cover]
    fp = 0
    for s in speech:
        i = bisect.bisect_right(gstarts, s.end) - 1
        hit = False
        while i >= 0 and gold_cover[i][1] > s.start - 1000:
            if gold_cover[i][0] < s.end and gold_cover[i][1] > s.start:
                hit = True
                break
            i -= 1
        fp += not hit
    return {"counts": dict(c), "spans": spans, "det_spans": det_spans,
            "pred_speech": len(speech), "pred_unmatched": fp, "misses": misses}  # fmt: skip


def acc(c: dict[str, int], key: str = "") -> float:
    n = c.get(f"n_{key}" if key else "n", 0)
    return c.get(f"ok_{key}" if key else "ok", 0) / n if n else float("nan")


def run_pdnc(args: argparse.Namespace) -> dict[str, Any]:
    novels = args.novels or json.loads((PDNC / "novels.json").read_text())["dev"]
    mode = "gold" if args.gold_quotes else ("cli" if args.cli else "inprocess")
    results: dict[str, Any] = {
        "mode": mode, "cast": not args.no_cast, "without": args.without, "novels": {}
    }  # fmt: skip
    for novel in novels:
        d = PDNC / novel
        text = (d / "text.txt").read_text(encoding="utf-8")
        quotes = [json.loads(line) for line in (d / "quotes.jsonl").read_text().splitlines()]
        raw = load_characters(d)
        chars = None if args.no_cast else cast_characters(raw)
        segs, secs = analyze(d / "text.txt", chars, mode, quotes, args.without)
        r = score_novel(text, quotes, raw, segs)
        r["seconds"] = round(secs, 2)
        r["words"] = len(text.split())
        r["sieves"] = sieve_stats(r, segs, SIEVE_OF.get(d / "text.txt", {}), quotes)
        results["novels"][novel] = r
    return results


def sieve_stats(
    r: dict[str, Any], segs: list[Segment], sieves: dict[int, str], quotes: list[dict[str, Any]]
) -> dict[str, list[int]]:
    """Per sieve: [quotations it answered, of which correct], by the segment at the first span."""
    import bisect

    speech = [s for s in segs if s.kind.is_speech]
    starts = [s.start for s in speech]
    wrong = {m["qid"] for m in r["misses"]}
    undetected = {m["qid"] for m in r["misses"] if not m["detected"]}
    out: dict[str, list[int]] = {}
    seen = set()
    for q in quotes:
        if q["quote_id"] in seen or q["quote_id"] in undetected:
            continue
        seen.add(q["quote_id"])
        i = bisect.bisect_right(starts, q["start"]) - 1
        if i < 0 or speech[i].end <= q["start"]:
            i = min(i + 1, len(speech) - 1)
        name = sieves.get(speech[i].start, "?")
        n_ok = out.setdefault(name, [0, 0])
        n_ok[0] += 1
        n_ok[1] += q["quote_id"] not in wrong
    return out


def print_table(results: dict[str, Any], misses: int = 0) -> None:
    hdr = (
        f"{'novel':30} {'quotes':>6} {'recall':>6} {'acc':>6} {'expl':>6} {'anaph':>6} "
        f"{'impl':>6} {'sec':>5}"
    )
    print(f"mode={results['mode']} cast={results['cast']}")
    print(hdr)
    tot: collections.Counter[str] = collections.Counter()
    spans = det = 0
    secs = 0.0
    for novel, r in results["novels"].items():
        c = r["counts"]
        tot.update(c)
        spans += r["spans"]
        det += r["det_spans"]
        secs += r["seconds"]
        print(f"{novel:30} {c['n']:6d} {r['det_spans'] / r['spans']:6.3f} {acc(c):6.3f} "
              f"{acc(c, 'explicit'):6.3f} {acc(c, 'anaphoric'):6.3f} {acc(c, 'implicit'):6.3f} "
              f"{r['seconds']:5.2f}")  # fmt: skip
    macro = sum(acc(r["counts"]) for r in results["novels"].values()) / max(
        1, len(results["novels"])
    )
    print(f"{'MICRO':30} {tot['n']:6d} {det / max(1, spans):6.3f} {acc(tot):6.3f} "
          f"{acc(tot, 'explicit'):6.3f} {acc(tot, 'anaphoric'):6.3f} {acc(tot, 'implicit'):6.3f} "
          f"{secs:5.2f}")  # fmt: skip
    print(f"{'MACRO':30} {'':6} {'':6} {macro:6.3f}")
    sieves: collections.Counter[str] = collections.Counter()
    right: collections.Counter[str] = collections.Counter()
    for r in results["novels"].values():
        for k, (n, ok) in r.get("sieves", {}).items():
            sieves[k] += n
            right[k] += ok
    if sieves:
        print("sieve               spans  correct  precision")
        for k, n in sieves.most_common():
            print(f"{k:18} {n:6d} {right[k]:8d} {right[k] / n:10.3f}")
    if misses:
        for novel, r in results["novels"].items():
            print(f"-- {novel}")
            for m in r["misses"][:misses]:
                print(f"   {m}")


def compare(a_path: Path, b_path: Path) -> None:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    print(f"{'novel':30} {'a':>7} {'b':>7} {'delta':>7}")
    for novel in a["novels"]:
        if novel not in b["novels"]:
            continue
        x, y = acc(a["novels"][novel]["counts"]), acc(b["novels"][novel]["counts"])
        print(f"{novel:30} {x:7.3f} {y:7.3f} {y - x:+7.3f}")
    for name, run in (("a", a), ("b", b)):
        tot: collections.Counter[str] = collections.Counter()
        for r in run["novels"].values():
            tot.update(r["counts"])
        print(f"micro {name}: {acc(tot):.3f}")


def run_webfic(cli: bool = False) -> None:
    """The web-fiction chapters, scored as webfic/score.py does (in process by default).

    Each chapter with the cast an author wrote for it (`<id>.cast.toml`, else `cast.toml`).
    """

    def load(path: Path) -> tuple[list[dict[str, Any]], list[Character]]:
        raw = tomllib.loads(path.read_text())["character"]
        chars = [
            Character(c["name"], tuple(c.get("aliases", [])),
                      Gender(c["gender"]) if c.get("gender") else None)
            for c in raw
        ]  # fmt: skip
        return raw, chars

    from narrator.segment import segment_chapter

    total: collections.Counter[str] = collections.Counter()
    for text_path in sorted(WEBFIC.glob("*.txt")):
        own = WEBFIC / f"{text_path.stem}.cast.toml"
        cast_raw, chars = load(own if own.exists() else WEBFIC / "cast.toml")
        same = speaker_matcher(cast_raw)
        text = text_path.read_text(encoding="utf-8")
        gold = [
            json.loads(x) for x in text_path.with_suffix(".gold.jsonl").read_text().splitlines()
        ]
        segs = attribute_speakers(text, segment_chapter(text), chars)
        kind: list[str | None] = [None] * len(text)
        who: list[str | None] = [None] * len(text)
        for s in segs:
            for i in range(s.start, min(s.end, len(text))):
                kind[i], who[i] = s.kind.value, s.speaker
        c: collections.Counter[str] = collections.Counter()
        missed = []
        for g in gold:
            if g["speaker"] is None:
                continue
            span = range(g["start"], g["end"])
            c["utt"] += 1
            votes = collections.Counter(who[i] for i in span if kind[i] in ("dialogue", "thought"))
            top = (
                votes.most_common(1)[0][0]
                if votes and sum(votes.values()) * 2 >= len(span)
                else None
            )
            if same(top, g["speaker"]):
                c["ok"] += 1
            else:
                missed.append(f"  {g['text'][:40]!r}: {g['speaker']} <- {top}")
        total.update(c)
        print(f"{text_path.name}: speaker {c['ok']}/{c['utt']}")
        print("\n".join(missed))
    print(f"webfic total: speaker {total['ok']}/{total['utt']}")


def micro(results: dict[str, Any]) -> float:
    tot: collections.Counter[str] = collections.Counter()
    for r in results["novels"].values():
        tot.update(r["counts"])
    return acc(tot)


def ablate(args: argparse.Namespace) -> None:
    """What each sieve contributes: micro accuracy with all sieves, then without each one."""
    base = micro(run_pdnc(args))
    print(f"{'sieve switched off':20} {'micro':>6} {'delta':>7}")
    print(f"{'(none)':20} {base:6.3f}")
    for sieve in STEPS:
        args.without = [sieve]
        value = micro(run_pdnc(args))
        print(f"{sieve:20} {value:6.3f} {value - base:+7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("novels", nargs="*")
    ap.add_argument("--gold-quotes", action="store_true", help="attribute the gold spans")
    ap.add_argument("--no-cast", action="store_true", help="characters from find_characters")
    ap.add_argument(
        "--cli", action="store_true", help="run `narrator analyze` (default: in process)"
    )
    ap.add_argument("--save", type=Path, help="write the run as JSON")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    ap.add_argument("--misses", type=int, default=0, help="print N misses per novel")
    ap.add_argument("--webfic", action="store_true", help="score the web-fiction chapters")
    ap.add_argument(
        "--litbank", action="store_true", help="score the LitBank openings instead of PDNC"
    )
    ap.add_argument(
        "--without", action="append", default=[], choices=STEPS, help="switch a step off"
    )
    ap.add_argument("--ablate", action="store_true", help="micro accuracy without each sieve")
    args = ap.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    if args.litbank:
        global PDNC
        PDNC = LITBANK
    if args.webfic:
        run_webfic()
        return
    if args.ablate:
        ablate(args)
        return
    if args.cli and cli_path() is None:
        print("narrator CLI not found; running in process", file=sys.stderr)
        args.cli = False
    results = run_pdnc(args)
    print_table(results, args.misses)
    if args.save:
        tmp = args.save.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        os.replace(tmp, args.save)


if __name__ == "__main__":
    main()
