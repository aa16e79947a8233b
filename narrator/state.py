"""What narrator keeps between runs of a book, in its state folder (see narrator.layout).

The manifest says what each output file was made from; a chapter record keeps a rendered
chapter's length and cues; a chapter's AAC part of the M4B is named by its fingerprint.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from narrator.files import atomic_path
from narrator.layout import Layout
from narrator.model import Cue


@dataclass(frozen=True)
class ChapterRecord:
    """What narrator keeps of a rendered chapter: its length and cues (for the book's
    transcript and the read-along), named by the chapter's fingerprint."""

    duration_ms: int
    cues: tuple[Cue, ...]


def record_path(layout: Layout, fingerprint: str) -> Path:
    return layout.records_dir / f"{fingerprint[:32]}.json"


def part_path(layout: Layout, fingerprint: str) -> Path:
    """A chapter's AAC part of the M4B, named by what the chapter is made from."""
    return layout.parts_dir / f"{fingerprint[:32]}.m4a"


def read_record(layout: Layout, fingerprint: str) -> ChapterRecord | None:
    try:
        raw = json.loads(record_path(layout, fingerprint).read_text("utf-8"))
        cues = tuple(Cue(int(s), int(e), str(who), str(text)) for s, e, who, text in raw["cues"])
        return ChapterRecord(int(raw["duration_ms"]), cues)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(layout: Layout, fingerprint: str, record: ChapterRecord) -> None:
    payload = {
        "duration_ms": record.duration_ms,
        "cues": [[c.start_ms, c.end_ms, c.speaker, c.text] for c in record.cues],
    }
    path = record_path(layout, fingerprint)
    with atomic_path(path) as tmp_path:
        tmp_path.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")


class Manifest:
    """What each output file was made from, so unchanged files are not redone.

    Kept in the state folder; outputs are named relative to `base` (the folder above the
    book's folders).
    """

    def __init__(self, path: Path, base: Path) -> None:
        self.path = path
        self.base = base
        self.lock = threading.Lock()
        try:
            self.entries: dict[str, dict[str, object]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def _key(self, output: Path) -> str:
        return Path(os.path.relpath(output.absolute(), self.base.absolute())).as_posix()

    def fingerprint(self, output: Path) -> str | None:
        entry = self.entries.get(self._key(output))
        return str(entry["fingerprint"]) if entry else None

    def duration_ms(self, output: Path) -> int:
        entry = self.entries.get(self._key(output)) or {}
        value = entry.get("duration_ms", 0)
        return value if isinstance(value, int) else 0

    def audio(self, output: Path) -> str | None:
        """The fingerprint of the audio an output holds (for chapter MP3s)."""
        entry = self.entries.get(self._key(output)) or {}
        value = entry.get("audio")
        return value if isinstance(value, str) else None

    def intact(self, output: Path) -> bool:
        """Whether `output` is a file of the size recorded (a cut-short copy has the name only)."""
        if not output.is_file():
            return False
        size_bytes = (self.entries.get(self._key(output)) or {}).get("bytes")
        return size_bytes is None or size_bytes == output.stat().st_size

    def is_current(self, output: Path, companion: Path | None, fingerprint: str) -> bool:
        if not self.intact(output) or (companion is not None and not companion.is_file()):
            return False
        return self.fingerprint(output) == fingerprint

    def record(
        self, output: Path, fingerprint: str, duration_ms: int, audio: str | None = None
    ) -> None:
        with self.lock:  # chapters finish on several encoder threads
            entry: dict[str, object] = {
                "fingerprint": fingerprint,
                "duration_ms": duration_ms,
                "bytes": output.stat().st_size,
            }
            if audio is not None:
                entry["audio"] = audio
            self.entries[self._key(output)] = entry
            # A fresh temporary name, created exclusively: a link planted there is not followed.
            with atomic_path(self.path) as tmp_path:
                tmp_path.write_text(json.dumps(self.entries, indent=1, sort_keys=True), "utf-8")
