"""Clips cached by content: key = sha256 of (text, VoiceSettings, engine id).

Input: a finished WAV from an engine; output: a validated Clip in the cache folder.
Each entry is `<key>.wav` plus a `<key>.json` sidecar holding its size, frame count and
sha256; both are moved into place with os.replace, so a run killed at any moment leaves
either a whole entry or one that fails the check on read and is rendered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from narrator.errors import ConfigError, OutputError
from narrator.files import atomic_path
from narrator.model import Clip, VoiceSettings
from narrator.synth.base import read_wav

CACHE_DIR_ENV = "NARRATOR_CACHE_DIR"
CACHE_MAX_ENV = "NARRATOR_CACHE_MAX"
# 22050 Hz 16-bit mono is 159 MB per hour of speech: 4 GB keeps about 25 hours of clips,
# enough for a long book to re-render with one voice changed without synthesizing the rest.
DEFAULT_MAX_BYTES = 4 * 1000**3
_FORMAT_VERSION = 1
_STALE_TEMP_S = 24 * 3600


def default_cache_dir() -> Path:
    """$NARRATOR_CACHE_DIR, else the user cache folder's narrator/clips."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("narrator")) / "clips"


def parse_size(text: str) -> int:
    """A size such as "4G", "500M", "1.5GB" or "123456" (bytes), in bytes; ValueError if bad."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a size: {text!r} (e.g. 4G, 500M)")
    unit = 1000 ** " kmgt".index(match.group(2).lower() or " ")
    return int(float(match.group(1)) * unit)


def default_max_bytes() -> int:
    """$NARRATOR_CACHE_MAX (e.g. "10G"), else DEFAULT_MAX_BYTES."""
    configured = os.environ.get(CACHE_MAX_ENV)
    if not configured:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(configured)
    except ValueError as exc:
        raise ConfigError(f"{CACHE_MAX_ENV}: {exc}") from exc


@dataclass(frozen=True)
class CacheInfo:
    """What the clip cache holds."""

    cache_dir: Path
    clips: int
    size_bytes: int
    max_bytes: int


def clip_key(text: str, settings: VoiceSettings, engine_id: str) -> str:
    """The cache key of a clip: what is said, how, and by which engine."""
    payload = json.dumps(
        {"v": _FORMAT_VERSION, "text": text, "voice": asdict(settings), "engine": engine_id},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_folder(path: Path) -> None:
    """Remove a folder standing where a cache file belongs (a link is only unlinked)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


class ClipCache:
    """A folder of validated clips; a damaged entry reads as missing and is removed."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()

    def wav_path(self, key: str) -> Path:
        # Two-letter sub-folders keep folders small for books of tens of thousands of lines.
        return self.cache_dir / key[:2] / f"{key}.wav"

    def _sidecar_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether a clip seems stored under `key`: its files are there and the sizes agree.

        For estimates (a dry run): reads no audio, hashes nothing, changes nothing; `get`
        is the check that counts before a clip is used.
        """
        wav_path = self.wav_path(key)
        try:
            meta = json.loads(self._sidecar_path(key).read_text(encoding="utf-8"))
            return (
                isinstance(meta, dict)
                and meta.get("version") == _FORMAT_VERSION
                and meta.get("bytes") == wav_path.stat().st_size
            )
        except (OSError, ValueError):
            return False

    def get(self, key: str) -> Clip | None:
        """The clip stored under `key`, or None when it is missing or damaged."""
        wav_path = self.wav_path(key)
        sidecar_path = self._sidecar_path(key)
        if not wav_path.exists() or not sidecar_path.exists():
            return None
        try:
            meta = json.loads(sidecar_path.read_text(encoding="utf-8"))
            if (
                not isinstance(meta, dict)
                or meta.get("version") != _FORMAT_VERSION
                or meta.get("bytes") != wav_path.stat().st_size
                or meta.get("sha256") != _sha256_file(wav_path)
            ):
                raise ValueError("sidecar does not match the WAV")
            info = read_wav(wav_path)
            if info.frames != meta.get("frames"):
                raise ValueError("frame count does not match")
        except (OSError, ValueError):
            self.discard(key)
            return None
        with contextlib.suppress(OSError):  # its use time, for least-recently-used eviction
            os.utime(sidecar_path)
        return Clip(key=key, wav_path=wav_path, duration_ms=info.duration_ms)

    def put(self, key: str, wav_path: Path) -> Clip:
        """Move a finished WAV into the cache under `key` (ValueError if it holds no audio)."""
        info = read_wav(wav_path)
        try:
            return self._put(key, wav_path, info.frames, info.duration_ms)
        except OSError as exc:
            raise OutputError(f"{self.cache_dir}: cannot write the clip cache: {exc}") from exc

    def _put(self, key: str, wav_path: Path, frames: int, duration_ms: int) -> Clip:
        final_wav = self.wav_path(key)
        final_wav.parent.mkdir(parents=True, exist_ok=True)
        for path in (final_wav, self._sidecar_path(key)):
            _remove_folder(path)  # damage: os.replace cannot put a file over a folder
        meta = {
            "version": _FORMAT_VERSION,
            "bytes": wav_path.stat().st_size,
            "frames": frames,
            "duration_ms": duration_ms,
            "sha256": _sha256_file(wav_path),
        }
        # Same file system as the final name (the temp folder is inside the cache), so
        # os.replace is atomic; the sidecar goes last, so a WAV is never trusted without it.
        os.replace(wav_path, final_wav)
        with atomic_path(self._sidecar_path(key)) as tmp_path:
            tmp_path.write_text(json.dumps(meta), encoding="utf-8")
        return Clip(key=key, wav_path=final_wav, duration_ms=duration_ms)

    def discard(self, key: str) -> None:
        """Remove an entry (both files), if present."""
        for path in (self._sidecar_path(key), self.wav_path(key)):
            _remove_folder(path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _entries(self) -> list[tuple[float, int, str]]:
        """(last use, bytes, key) of every entry; the sidecar's mtime is its last use."""
        entries: list[tuple[float, int, str]] = []
        if not self.cache_dir.is_dir():
            return entries
        for sidecar in self.cache_dir.glob("??/*.json"):
            key = sidecar.stem
            with contextlib.suppress(OSError):
                meta = sidecar.stat()
                size = meta.st_size + self.wav_path(key).stat().st_size
                entries.append((meta.st_mtime, size, key))
        return entries

    def info(self, max_bytes: int | None = None) -> CacheInfo:
        """How many clips the cache holds and their size on disk."""
        entries = self._entries()
        limit = max_bytes if max_bytes is not None else default_max_bytes()
        return CacheInfo(self.cache_dir, len(entries), sum(e[1] for e in entries), limit)

    def prune(self, max_bytes: int | None = None) -> int:
        """Drop the least recently used clips until the cache fits max_bytes; bytes freed."""
        limit = max_bytes if max_bytes is not None else default_max_bytes()
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        freed = 0
        for _, size, key in entries:
            if total - freed <= limit:
                break
            self.discard(key)
            freed += size
        return freed

    def clear(self) -> int:
        """Remove every clip (and leftovers of killed runs); bytes freed."""
        entries = self._entries()
        freed = sum(size for _, size, _ in entries)
        for _, _, key in entries:
            self.discard(key)
        for folder in self.cache_dir.glob("??"):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: never anything that is not ours
        shutil.rmtree(self.cache_dir / "tmp", ignore_errors=True)
        return freed

    def make_temp_dir(self) -> Path:
        """A private folder inside the cache for clips being rendered (same file system)."""
        temp_root = self.cache_dir / "tmp"
        try:
            temp_root.mkdir(parents=True, exist_ok=True)
            self._prune_stale_temp_dirs(temp_root)
            return Path(tempfile.mkdtemp(dir=temp_root, prefix=f"{os.getpid()}-"))
        except OSError as exc:
            raise OutputError(f"{self.cache_dir}: cannot write the clip cache: {exc}") from exc

    @staticmethod
    def _prune_stale_temp_dirs(temp_root: Path) -> None:
        # Left behind by runs that were killed; a live run touches its folder constantly.
        cutoff = time.time() - _STALE_TEMP_S
        for child in temp_root.iterdir():
            with contextlib.suppress(OSError):
                if child.is_dir() and child.stat().st_mtime < cutoff:
                    shutil.rmtree(child, ignore_errors=True)
