"""How much input narrator reads, and reading within those limits.

Input is read in blocks against a budget, so that a file or a zip member bigger than it says
(a zip bomb, /dev/zero, a 1 GiB file renamed .txt) is refused after reading at most one block
past the limit, never held whole in memory first. The README's "What narrator promises on bad
input" quotes these numbers.
"""

from __future__ import annotations

from typing import IO

from narrator.errors import InputError

# About eight million words: ten times the longest web-serial arcs narrator is meant for.
MAX_FILE_BYTES = 50_000_000
# All the text of one book (an EPUB's members once unpacked, or a folder's chapter files).
MAX_BOOK_BYTES = 200_000_000
_BLOCK_BYTES = 1 << 20


def size_text(size_bytes: int) -> str:
    """A byte count for messages: "50 MB", "4 kB"."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.3g} {unit}"
    return f"{size_bytes} bytes"


class Budget:
    """Bytes a book may still read; `take` raises InputError naming the limit when spent."""

    def __init__(self, source: str, limit_bytes: int | None = None, *, unpacked: bool = False):
        self.source = source
        self.limit_bytes = MAX_BOOK_BYTES if limit_bytes is None else limit_bytes
        self.left_bytes = self.limit_bytes
        self.what = "unpacked" if unpacked else "of text in all"

    def take(self, size_bytes: int) -> None:
        self.left_bytes -= size_bytes
        if self.left_bytes < 0:
            raise InputError(
                f"{self.source}: the book is larger than narrator reads "
                f"(more than {size_text(self.limit_bytes)} {self.what})"
            )


def read_limited(
    stream: IO[bytes], source: str, budget: Budget | None = None, *, limit_bytes: int | None = None
) -> bytes:
    """All of `stream`, read in blocks; InputError past MAX_FILE_BYTES or the book's budget."""
    limit = MAX_FILE_BYTES if limit_bytes is None else limit_bytes
    blocks: list[bytes] = []
    read_bytes = 0
    while block := stream.read(_BLOCK_BYTES):
        read_bytes += len(block)
        if read_bytes > limit:
            raise InputError(
                f"{source}: the file is larger than narrator reads (more than {size_text(limit)})"
            )
        if budget is not None:
            budget.take(len(block))
        blocks.append(block)
    return b"".join(blocks)
