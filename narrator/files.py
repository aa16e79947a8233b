"""Writing output files so that no half-written file ever stands at its final name."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from narrator.errors import OutputError


@contextmanager
def atomic_path(final_path: Path) -> Iterator[Path]:
    """Yield a fresh temp path beside final_path; move it there on success, else delete it."""
    if final_path.is_dir():
        raise OutputError(f"cannot write {final_path}: it is a folder")
    tmp_path = final_path.with_name(f".{final_path.name}.{secrets.token_hex(4)}.part")
    try:
        final_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path.open("xb").close()  # fails early, before any work, if the folder is unwritable
    except OSError as exc:
        raise OutputError(f"cannot write {final_path}: {exc.strerror or exc}") from exc
    try:
        yield tmp_path
        os.replace(tmp_path, final_path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(f"cannot write {final_path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
