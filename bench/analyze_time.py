#!/usr/bin/env python3
"""Seconds to analyze one text in process (import left out), for timing two checkouts.

Run it with each checkout first on the path, alternating, and compare the two in the same
run (the machine is noisy):

  PYTHONPATH=<checkout> .venv/bin/python bench/analyze_time.py \
      ../shared/bench/pdnc/OliverTwist/text.txt

It also times a fixed yardstick (a loop adding ten million integers) just before, so that
figures taken on different machines or days can be compared as multiples of it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from narrator.report import analyze_input

YARDSTICK = 10_000_000


def yardstick() -> float:
    """Seconds for a fixed amount of plain Python work: how fast this machine is now."""
    start = time.perf_counter()
    total = 0
    for i in range(YARDSTICK):
        total += i
    return time.perf_counter() - start


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/analyze_time.py TEXT")
    unit = yardstick()
    start = time.perf_counter()
    analyze_input(Path(sys.argv[1]))
    took = time.perf_counter() - start
    print(f"analyze {took:.2f} s, yardstick {unit:.2f} s, ratio {took / unit:.1f}")


if __name__ == "__main__":
    main()
