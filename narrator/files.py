"""Writing output files so that no half-written file ever stands at its final name."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from narrator.errors import OutputError


@contextmanager
def atomic_path(final_path: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a fresh temp path beside final_path; move it there on success, else delete it.

    durable: flush the file to disk before it takes the final name (for files an author
    edits, such as the cast file, which a crash must not leave empty).
    """
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
        if durable:
            fd = os.open(tmp_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp_path, final_path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(f"cannot write {final_path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


LOCK_NAME = ".narrator.lock"


@contextmanager
def lock_folder(folder: Path, shown: Path | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `folder` for as long as the block runs.

    Another process holding it makes OutputError name that process and `shown` (what the
    user knows the folder as: the book's output folder). The lock is an flock on
    a hidden file (opened without following links), so it dies with its process, kill -9
    included, and a stale file never blocks a run.
    """
    lock_path = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write {folder}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(
                f"another render is writing {shown or folder} (pid {holder}); wait for it to finish"
            ) from None
        # A holder that was just releasing may have removed the file we opened: start over.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        os.close(fd)


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')
# Invisible characters: controls, format characters (direction overrides such as U+202E,
# which make "x\u202egnp.mp3" display as "xmp3.png"), surrogates, private use, separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# File systems allow 255 bytes per name. The longest name narrator derives from a title is
# a temporary one: ".NNNN - <title>.m4b.<8 hex>.ffmeta" adds up to 28 bytes; the rest is
# room for later suffixes.
MAX_NAME_BYTES = 200


def safe_file_name(name: str, limit_bytes: int = MAX_NAME_BYTES) -> str:
    """A name usable as a file name on every common file system, at most limit_bytes in UTF-8."""
    cleaned = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES or ch in "\t\n\r"
    )
    cleaned = _UNSAFE.sub(" ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .")
    cut = cleaned.encode("utf-8")[:limit_bytes].decode("utf-8", errors="ignore")
    return cut.rstrip(" .") or "untitled"


def write_if_changed(path: Path, content: str | bytes, *, durable: bool = False) -> bool:
    """Write content (text as UTF-8) to path atomically unless the file already holds it;
    whether it wrote. An unchanged file keeps its modification time, so players, library
    scanners and podcast apps see nothing new.

    Text that differs only in line endings counts as the same: an author's cast file saved
    with CRLF that says the same thing is left as it is.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        current: bytes | None = path.read_bytes()
    except OSError:
        current = None  # missing or unreadable: written (atomic_path says what stops that)
    if current == data:
        return False
    if current is not None and isinstance(content, str):
        try:
            if current.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n") == content:
                return False
        except UnicodeDecodeError:
            pass
    with atomic_path(path, durable=durable) as tmp_path:
        tmp_path.write_bytes(data)
    return True
