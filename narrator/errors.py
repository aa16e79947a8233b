"""Errors shown to users: every message is one readable line with its context."""

from __future__ import annotations


class NarratorError(Exception):
    """Base of all errors whose message is shown to the user as it is (`error: <message>`)."""

    exit_code: int = 1


class InputError(NarratorError):
    """An input file or folder that cannot be read as a book or chapter."""


class ConfigError(NarratorError):
    """A cast file or voice profile that is malformed or names something unknown."""


class EngineError(NarratorError):
    """The speech engine failed for a line, after retries."""


class ToolMissingError(NarratorError):
    """A system program or library that narrator needs (espeak-ng, ffmpeg) is not installed."""


class OutputError(NarratorError):
    """An output location that cannot be written (not a folder, read-only, disk full)."""


class StaleEditError(NarratorError):
    """A save against a file that changed on disk since it was read (narrator studio)."""
