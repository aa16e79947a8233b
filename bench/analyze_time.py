#!/usr/bin/env python3
"""Seconds to analyze one text in process (import left out), for timing two checkouts.

Run it with each checkout first on the path, alternating, and compare the two in the same
run (the machine is noisy):

  PYTHONPATH=<checkout> .venv/bin/python bench/analyze_time.py \
      ../shared/bench/pdnc/OliverTwist/text.txt
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from narrator.report import analyze_input


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/analyze_time.py TEXT")
    start = time.perf_counter()
    analyze_input(Path(sys.argv[1]))
    print(f"analyze {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
