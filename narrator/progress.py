"""Progress of a render: the `Reporter` the CLI implements, and seconds spent per stage."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrator.plan import ChapterResult


class Reporter:
    """Receives progress; the CLI shows it. The default shows nothing.

    Counts cover the whole run: `clips_done` counts lines synthesized (or found in the cache)
    out of all lines to render; a chapter is finished once its files are written, so the
    chapter count (and an ETA from it) includes stitching and encoding.
    """

    def stage(self, name: str) -> None: ...

    def run_started(self, chapters: int, clips: int) -> None: ...

    def chapter_started(self, index: int, total: int, title: str, clips: int) -> None: ...

    def clips_done(self, done: int, total: int) -> None: ...

    def chapter_finished(self, result: ChapterResult) -> None: ...


class StageTimer:
    """Seconds spent per stage, summed over the threads that run it (so it can exceed the
    wall time when chapters are encoded side by side)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                spent = time.perf_counter() - start
                self.seconds[stage] = self.seconds.get(stage, 0.0) + spent
