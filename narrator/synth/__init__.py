"""Synthesis stage: Sequence[Line] -> SynthResult (one validated, cached Clip per line).

`SynthPool.synthesize` is the stage; the pool keeps its worker processes alive across calls
(one per chapter, say). Engines come from the registry in narrator.synth.base ("espeak",
pyttsx3 + espeak-ng, the default; "fake", tones whose length follows the text, for tests),
where plugins register the same way.
"""

from narrator.synth.base import (
    DEFAULT_ENGINE,
    Engine,
    count_words,
    duration_plausible,
    engine_entry,
    engine_id,
    engine_names,
    expected_duration_ms,
    max_duration_ms,
    register_engine,
    split_voice,
)
from narrator.synth.cache import ClipCache, clip_key, default_cache_dir
from narrator.synth.pool import (
    SynthPool,
    SynthResult,
    check_engine,
    engine_voices,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ClipCache",
    "Engine",
    "SynthPool",
    "SynthResult",
    "check_engine",
    "clip_key",
    "count_words",
    "default_cache_dir",
    "duration_plausible",
    "engine_entry",
    "engine_id",
    "engine_names",
    "engine_voices",
    "expected_duration_ms",
    "max_duration_ms",
    "register_engine",
    "split_voice",
]
