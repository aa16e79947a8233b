"""Where a render's files go: output folder + book names + format -> Layout.

Library scanners (Audiobookshelf, Jellyfin, Plex agents) take a folder as one book and
every audio file in it as one of its tracks. So each product gets a folder of its own: the
M4B with its transcript and `metadata.json` in one, the chapter MP3s with theirs in another,
laid out as Audiobookshelf documents it (`Author/Series/Title`). What narrator needs between
runs (the manifest, the M4B's AAC parts, chapter cues, WAVs being stitched) lives in the
state folder, never under the output folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import platformdirs

from narrator.errors import OutputError
from narrator.files import lock_folder

STATE_DIR_ENV = "NARRATOR_STATE_DIR"
MP3_FOLDER_SUFFIX = " (MP3)"  # the MP3 product's folder beside the M4B's, with --format both


class Format(StrEnum):
    """Which audio products a render writes."""

    MP3 = "mp3"  # one MP3 per chapter, with an M3U playlist
    M4B = "m4b"  # one audiobook file with chapter marks: what audiobook apps want
    BOTH = "both"

    @property
    def mp3(self) -> bool:
        return self in (Format.MP3, Format.BOTH)

    @property
    def m4b(self) -> bool:
        return self in (Format.M4B, Format.BOTH)


# One file with chapters, cover and a remembered position is what audiobook players
# (Audiobookshelf, Smart AudioBook Player, BookPlayer, Apple Books) are built around.
DEFAULT_FORMAT = Format.M4B


def default_state_dir() -> Path:
    """$NARRATOR_STATE_DIR, else the user state folder's narrator."""
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_state_dir("narrator"))


def state_size_bytes(state_root: Path | None = None) -> int:
    """What the render state of every book takes on disk (mostly the M4Bs' AAC parts)."""
    root = (state_root or default_state_dir()) / "renders"
    total = 0
    for path in root.rglob("*") if root.is_dir() else ():
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


@dataclass(frozen=True)
class Layout:
    """The folders of one render."""

    book_dir: Path  # the first product's folder: the M4B's, or the MP3s' with --format mp3
    mp3_dir: Path | None
    m4b_dir: Path | None
    state_dir: Path  # manifest, M4B parts, chapter records: narrator's, not the listener's

    @property
    def product_dirs(self) -> list[Path]:
        return [d for d in (self.m4b_dir, self.mp3_dir) if d is not None]

    @property
    def parts_dir(self) -> Path:
        return self.state_dir / "parts"

    @property
    def records_dir(self) -> Path:
        return self.state_dir / "chapters"

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / "manifest.json"


def plan_layout(
    out_dir: Path, folders: Sequence[str], fmt: Format, state_root: Path | None = None
) -> Layout:
    """The folders for a book whose (already file-safe) folder names are e.g. author, title."""
    book_dir = out_dir.joinpath(*folders)
    mp3_dir = None
    if fmt.mp3:
        mp3_dir = book_dir if not fmt.m4b else book_dir.with_name(book_dir.name + MP3_FOLDER_SUFFIX)
    key = hashlib.sha256(str(book_dir.absolute()).encode("utf-8")).hexdigest()[:20]
    state_dir = (state_root or default_state_dir()) / "renders" / key
    return Layout(book_dir, mp3_dir, book_dir if fmt.m4b else None, state_dir)


def prepare_folders(layout: Layout, dry_run: bool, held: ExitStack) -> None:
    """Create the book's folders, lock the book for this run, clear what killed runs left."""
    if dry_run:
        return
    try:
        layout.work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{layout.state_dir}: cannot write narrator's state folder: {exc}"
        ) from exc
    # Locked before anything is removed: the files of a live run are not leftovers.
    held.enter_context(lock_folder(layout.state_dir, layout.book_dir))
    for product_dir in layout.product_dirs:
        prepare_out_dir(product_dir, dry_run)
        # What narrator 0.1 kept beside the audio now lives in the state folder; rmtree
        # refuses a link (the error is ignored), so nothing is removed through one.
        shutil.rmtree(product_dir / ".m4b-parts", ignore_errors=True)
        (product_dir / ".narrator-manifest.json").unlink(missing_ok=True)
        _clear_leftovers(product_dir)
    try:
        for leftover in layout.work_dir.iterdir():  # WAVs of a run that was killed
            leftover.unlink(missing_ok=True)
        if layout.parts_dir.is_dir():
            _clear_leftovers(layout.parts_dir)
    except OSError as exc:
        raise OutputError(
            f"{layout.state_dir}: cannot write narrator's state folder: {exc}"
        ) from exc


def prepare_out_dir(book_dir: Path, dry_run: bool) -> None:
    if dry_run:
        return
    for parent in (book_dir, *book_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent}: is a file, not a folder; choose another --out")
    try:
        book_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{book_dir}: cannot create the output folder ({exc.strerror})") from exc
    if not os.access(book_dir, os.W_OK):
        raise OutputError(f"{book_dir}: the output folder is not writable")


def _clear_leftovers(folder: Path) -> None:
    """Remove the temporary files a killed run left in `folder` (a link itself, not its target)."""
    for leftover in folder.iterdir():
        if _LEFTOVER.match(leftover.name):
            leftover.unlink(missing_ok=True)


# Temporary files of the stages (stitch, export, manifest): hidden, with a random token.
_LEFTOVER = re.compile(
    r"^\..+(\.[0-9a-f]{8}\.(part|ffmeta|png|jpe?g|img|concat|wav\.tmp)|\.wav\.tmp)$"
)
