"""File versions: what the page read, so that a save against a changed file is refused.

A version is a hash of the file's bytes ("absent" for a file that does not exist yet). The
page sends back the version it read with every save; if the file changed on disk since (an
editor, another window, a render adding voices), the save is refused, never written over.
A hash and not a modification time: two writes within the file system's time resolution
would share an mtime.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from narrator.errors import StaleEditError
from narrator.voices import shown_path

ABSENT = "absent"


def file_version(path: Path) -> str:
    """A short hash of the file's bytes, or "absent"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ABSENT
    except OSError:
        return "unreadable"
    return hashlib.sha256(data).hexdigest()[:16]


def check_version(path: Path, expected: str | None) -> None:
    """Refuse (StaleEditError) when the file is no longer the version the page read.

    `expected` None: the client did not say what it read (an API call), nothing to compare.
    """
    if expected is None:
        return
    if file_version(path) != expected:
        raise StaleEditError(
            f"{shown_path(path)} changed on disk since the page read it; nothing was saved. "
            "Reload to see the file as it is now, then make the change again."
        )
