"""Where the benchmark data lives: $NARRATOR_BENCH_DATA, else ../shared/bench beside the checkout.

The texts there (PDNC, LitBank, web fiction) are read at run time and never copied into
the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

BENCH_DATA_ENV = "NARRATOR_BENCH_DATA"
BENCH_DATA = Path(
    os.environ.get(BENCH_DATA_ENV) or Path(__file__).resolve().parents[2] / "shared" / "bench"
)
