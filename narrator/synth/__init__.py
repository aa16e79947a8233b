"""Synthesis stage: Sequence[Line] -> SynthResult (one validated, cached Clip per line).

`synthesize_lines` is the stage function; `SynthPool` keeps its worker processes alive across
calls (one per chapter, say). Engines: "espeak" (pyttsx3 + espeak-ng, the default) and
"fake" (tones whose length follows the text, for tests and dry runs).
"""

from narrator.synth.base import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    Engine,
    count_words,
    duration_plausible,
    engine_id,
    expected_duration_ms,
    max_duration_ms,
    split_voice,
    voice_known,
)
from narrator.synth.cache import ClipCache, clip_key, default_cache_dir
from narrator.synth.pool import (
    SynthPool,
    SynthResult,
    check_engine,
    engine_voices,
    synthesize_lines,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "ClipCache",
    "Engine",
    "SynthPool",
    "SynthResult",
    "check_engine",
    "clip_key",
    "count_words",
    "default_cache_dir",
    "duration_plausible",
    "engine_id",
    "engine_voices",
    "expected_duration_ms",
    "max_duration_ms",
    "split_voice",
    "synthesize_lines",
    "voice_known",
]
