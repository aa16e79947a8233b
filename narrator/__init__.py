"""narrator: turn book chapters into multi-voice audiobooks."""

__version__ = "0.1.0"
