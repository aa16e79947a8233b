"""Lines in other scripts: which stretches of a line are in which language, and which engine
voice speaks them.

Input: the text of a line (and the engine's installed voices); output: `Stretch`es, each with
the language its script says (None: the script of the speaker's own voice, Latin) and the
VoiceSettings to speak it with. An English voice reads `Θάλασσα` or `我们走吧` letter by letter
("Greek letter theta...", several seconds per word), so a stretch in another script is
spoken by the espeak-ng voice for that language, with the speaker's variant, pitch, pace and
volume; a mixed line switches for the foreign stretch and back. Spaces, punctuation and digits
belong to the stretch they follow. A script tells the language only roughly: Han is read as
Mandarin unless kana share the stretch (Japanese), Cyrillic as Russian unless it has letters
only Ukrainian uses. A language without an installed voice is read by the speaker's own
voice; `languages_without_voice` says which, for the run summary.
"""

from __future__ import annotations

import array
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from narrator.model import VoiceSettings
from narrator.synth.base import SAMPLE_RATE_HZ, is_latin_letter, split_voice

# The first word of a letter's Unicode name -> the language espeak-ng reads that script as.
_SCRIPT_LANGUAGE = {
    "GREEK": "el", "CYRILLIC": "ru", "CJK": "cmn", "HIRAGANA": "ja", "KATAKANA": "ja",
    "HANGUL": "ko", "ARABIC": "ar", "HEBREW": "he", "THAI": "th", "DEVANAGARI": "hi",
    "BENGALI": "bn", "GEORGIAN": "ka", "ARMENIAN": "hy", "TAMIL": "ta", "TELUGU": "te",
    "KANNADA": "kn", "MALAYALAM": "ml", "GUJARATI": "gu", "GURMUKHI": "pa", "ORIYA": "or",
    "SINHALA": "si", "MYANMAR": "my", "ETHIOPIC": "am", "KHMER": "km", "LAO": "lo",
    "TIBETAN": "bo", "MONGOLIAN": "mn",
}  # fmt: skip
# Language code -> the name the run summary uses.
LANGUAGE_NAMES = {
    "el": "Greek", "ru": "Russian", "uk": "Ukrainian", "cmn": "Mandarin", "ja": "Japanese",
    "ko": "Korean", "ar": "Arabic", "he": "Hebrew", "th": "Thai", "hi": "Hindi",
    "bn": "Bengali", "ka": "Georgian", "hy": "Armenian", "ta": "Tamil", "te": "Telugu",
    "kn": "Kannada", "ml": "Malayalam", "gu": "Gujarati", "pa": "Punjabi", "or": "Odia",
    "si": "Sinhala", "my": "Burmese", "am": "Amharic", "km": "Khmer", "lo": "Lao",
    "bo": "Tibetan", "mn": "Mongolian",
}  # fmt: skip
_KANA = frozenset({"HIRAGANA", "KATAKANA"})
_UKRAINIAN_ONLY = frozenset("ІіЇїЄєҐґ")
_LATIN = "LATIN"


@dataclass(frozen=True)
class Stretch:
    """A piece of a line in one script; `language` None means the speaker's own voice."""

    text: str
    language: str | None


@lru_cache(maxsize=4096)
def _script(char: str) -> str | None:
    """A letter's script ("LATIN", "GREEK", "CJK", ...); None for what any voice reads.

    "LATIN" stands for every letter no other language's voice reads (IPA letters, ª, µ)."""
    if not char.isalpha():
        return None  # spaces, punctuation, digits, marks: part of the stretch around them
    if is_latin_letter(char):
        return _LATIN
    name = unicodedata.name(char, "")
    script = name.split(" ", 1)[0]
    if script in ("HALFWIDTH", "FULLWIDTH"):
        script = name.split(" ")[1]  # `HALFWIDTH KATAKANA LETTER A`, `FULLWIDTH LATIN ...`
    return script if script in _SCRIPT_LANGUAGE or script in _KANA else _LATIN


def language_stretches(text: str) -> list[Stretch]:
    """`text` cut where the script changes, each piece with its language (None: Latin)."""
    if text.isascii():
        return [Stretch(text, None)]
    pieces: list[tuple[str | None, list[str]]] = []  # (script, chars)
    for char in text:
        script = _script(char)
        if script is not None and script in _KANA:
            script = "CJK"  # kana and kanji are one stretch of Japanese
        if not pieces or (script is not None and script != pieces[-1][0]):
            if pieces and pieces[-1][0] is None:
                pieces[-1] = (script, pieces[-1][1])  # leading spaces join the first letters
            else:
                pieces.append((script, []))
        pieces[-1][1].append(char)
    stretches = []
    for script, chars in pieces:
        piece = "".join(chars)
        stretches.append(Stretch(piece, _language(script, piece)))
    return stretches


def _language(script: str | None, piece: str) -> str | None:
    if script is None or script == _LATIN:
        return None
    if script == "CJK":
        return "ja" if any(_script(c) in _KANA for c in piece) else "cmn"
    if script == "CYRILLIC" and any(c in _UKRAINIAN_ONLY for c in piece):
        return "uk"
    return _SCRIPT_LANGUAGE[script]


def language_voice(language: str, installed: Iterable[str]) -> str | None:
    """The installed engine voice for `language` (`grk/el` for "el"), or None."""
    for voice in installed:
        if voice.rsplit("/", 1)[-1].casefold() == language:
            return voice
    return None


def stretch_settings(
    voice: VoiceSettings, language: str | None, installed: Sequence[str]
) -> VoiceSettings:
    """The speaker's settings with the engine voice of `language` (their own when None or
    when no voice for it is installed), keeping the speaker's variant, pitch and pace."""
    if language is None:
        return voice
    base = language_voice(language, installed)
    if base is None:
        return voice
    own_base, variant = split_voice(voice.engine_voice)
    if own_base == base:
        return voice
    return replace(voice, engine_voice=f"{base}+{variant}" if variant else base)


# espeak-ng ends every utterance with ~300 ms of silence (measured at 175 wpm); between two
# stretches of one sentence that is a gap no reader makes, so it is cut to this.
SWITCH_PAUSE_MS = 60
_SILENCE_LEVEL = 300  # |sample| below this counts as silence (speech peaks near full scale)
# Punctuation after which a reader pauses anyway, in Latin and CJK text.
_CLAUSE_END = ".!?;:,\u2014\u3001\u3002\uff01\uff0c\uff1f\u2026\"'\u201d\u2019)"


def ends_clause(text: str) -> bool:
    """Whether a stretch ends a sentence or clause (then espeak-ng's pause after it is right)."""
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] in _CLAUSE_END


def trim_switch_pause(pcm: bytes, keep_ms: int = SWITCH_PAUSE_MS) -> bytes:
    """16-bit mono 22050 Hz PCM without its trailing silence beyond `keep_ms`."""
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    end = len(samples)
    while end > 0 and abs(samples[end - 1]) < _SILENCE_LEVEL:
        end -= 1
    keep = end + keep_ms * SAMPLE_RATE_HZ // 1000
    return pcm[: 2 * min(keep, len(samples))]


def languages_without_voice(texts: Iterable[str], installed: Sequence[str]) -> dict[str, int]:
    """Languages in `texts` that no installed voice speaks -> how many texts hold them."""
    missing: dict[str, int] = {}
    for text in texts:
        languages = {s.language for s in language_stretches(text) if s.language is not None}
        for language in sorted(languages):
            if language_voice(language, installed) is None:
                missing[language] = missing.get(language, 0) + 1
    return missing


def language_name(language: str) -> str:
    """`Greek (el)`: how a language is named in messages."""
    return f"{LANGUAGE_NAMES.get(language, language)} ({language})"
