"""Tests for narrator.synth: fake engine, clip cache, worker pool (fake and real engine)."""

from __future__ import annotations

import array
import importlib.metadata
import itertools
import os
import sys
import time
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from narrator.errors import ConfigError, EngineError, OutputError, ToolMissingError
from narrator.model import Line, VoiceSettings
from narrator.synth import (
    ClipCache,
    SynthPool,
    base,
    check_engine,
    clip_key,
    count_words,
    default_cache_dir,
    duration_plausible,
    engine_voices,
    expected_duration_ms,
    max_duration_ms,
)
from narrator.synth.base import (
    DEFAULT_ENGINE,
    engine_entry,
    engine_id,
    engine_names,
    is_latin_letter,
    read_wav,
    spelled_letters,
    split_voice,
    write_wav,
)
from narrator.synth.cache import DEFAULT_MAX_BYTES, default_max_bytes, parse_size
from narrator.synth.fake import (
    FAULT_DIR_ENV,
    HISTORY_ENV,
    START_FAULT_ENV,
    FakeEngine,
    Request,
    read_history,
)
from narrator.synth.language import language_stretches
from narrator.synth.pace import pace_factor
from narrator.synth.pool import ProgressCallback, SynthResult

VOICE = VoiceSettings(engine_voice="gmw/en-us", rate_wpm=175, pitch=50, volume=1.0)
LOW = VoiceSettings(engine_voice="gmw/en-us+m7", rate_wpm=150, pitch=20, volume=1.0)
HIGH = VoiceSettings(engine_voice="gmw/en-us+f3", rate_wpm=190, pitch=80, volume=1.0)


def synthesize_lines(
    lines: Sequence[Line],
    engine_name: str,
    *,
    cache: ClipCache,
    jobs: int = 1,
    on_progress: ProgressCallback | None = None,
) -> SynthResult:
    """Speak `lines` into cached clips with a pool started for this call only."""
    with SynthPool(engine_name, cache, jobs) as pool:
        return pool.synthesize(lines, on_progress)


def voice_known(engine_voice: str, voices: list[str]) -> bool:
    """Whether `engine_voice` ("base" or "base+variant") is among an engine's voices()."""
    base, variant = split_voice(engine_voice)
    known = set(voices)
    return base in known and (not variant or f"+{variant}" in known)


# Original sentences written for these tests.
SENTENCES = [
    "The lamplighter climbed his ladder while the rain kept falling on the square.",
    "Nobody in the village remembered who had planted the crooked pear tree.",
    "She folded the map twice and slipped it into the lining of her coat.",
    "By noon the ferry had crossed the bay and the gulls had given up on it.",
    "A clock somewhere below struck eleven, then, after a pause, twelve.",
]


def make_line(text: str, settings: VoiceSettings = VOICE, index: int = 0) -> Line:
    return Line(
        segment_index=index,
        text=text,
        display=text,
        speaker="Narrator",
        voice_id="test",
        settings=settings,
    )


def zero_crossings_per_s(wav_path: Path) -> float:
    with wave.open(str(wav_path), "rb") as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
        rate = wav.getframerate()
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings * rate / len(samples)


def fast_pool(cache: ClipCache, engine: str = "fake-faulty", jobs: int = 1) -> SynthPool:
    # Small timeouts keep the hang tests quick; the fake engine answers in milliseconds.
    return SynthPool(
        engine, cache, jobs, timeout_base_s=1.0, timeout_per_word_s=0.0, start_timeout_s=20
    )


@pytest.fixture
def cache(tmp_path: Path) -> ClipCache:
    return ClipCache(tmp_path / "clips")


@pytest.fixture
def fault_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "faults"
    folder.mkdir()
    monkeypatch.setenv(FAULT_DIR_ENV, str(folder))
    return folder


# ------------------------------------------------------------------ words and durations


def test_count_words_counts_each_digit() -> None:
    assert count_words("It was 1834, wasn't it?") == 9
    assert count_words("  ... — !") == 0


def test_duration_plausible_rejects_short_and_long_clips() -> None:
    text = " ".join(["word"] * 30)  # 10 s at 180 wpm
    assert duration_plausible(9000, text, 180)
    assert not duration_plausible(2000, text, 180)
    assert not duration_plausible(40000, text, 180)
    # One word is padded by espeak-ng to ~0.7 s: short lines get slack.
    assert duration_plausible(700, "Hi.", 175)


# Measured with espeak-ng 1.51 at 165 wpm (`espeak-ng -v en-us -s 165 -w out.wav TEXT`): the
# English voice spells what it cannot read, letter by letter. Texts written for these tests.
SPELLED_LINES_MS = [
    ("Zzzzzzzzzzzz, snored Tom", 3460),
    ("Hmmmmmmmmmmmmmmmmmmmmmm", 3440),
    ("Shhhhhhhhhhhhhhhhh", 4100),
    ("你好，我的朋友，今天天气很好。", 8990),
    ("こんにちは、元気ですか。今日はいい天気ですね。", 15540),
    ("Καλημέρα σας, τι κάνετε σήμερα;", 9310),
    ("Привет, как дела у тебя сегодня?", 6430),
]


@pytest.mark.parametrize(("text", "measured_ms"), SPELLED_LINES_MS)
def test_duration_plausible_allows_what_the_engine_spells(text: str, measured_ms: int) -> None:
    assert duration_plausible(measured_ms, text, 165)
    assert max_duration_ms(text, 165) >= 1.4 * measured_ms  # room for slower voices


def test_spelled_letters_counts_what_the_engine_reads_letter_by_letter() -> None:
    assert spelled_letters("The lamplighter climbed his ladder.") == 0
    assert spelled_letters("Café, naïve, Łódź.") == 0
    assert spelled_letters("Zzzzz, snored Tom. Hmm.") == 8
    assert spelled_letters("Он сказал: да") == 10


# IPA letters are Latin by their Unicode names, but a voice names them one by one
# (espeak-ng en-us: "ʃɔə" is "esh, open o, schwa"). The clip checks, the pace estimate and
# the language split once disagreed on them; ª, º and µ are not Latin letters either.
NOT_LATIN = "ʃɔəɛʰªºµ"
LATIN = "aZéßðþŁœȝḃﬁ"


def test_one_latin_letter_for_clip_checks_pace_and_language() -> None:
    assert [c for c in LATIN if not is_latin_letter(c)] == []
    assert [c for c in NOT_LATIN if is_latin_letter(c)] == []
    assert [c for c in "1 ,-_" if is_latin_letter(c)] == []
    assert spelled_letters("ʃɔə ɛ") == 4 and spelled_letters("ðe ȝe ﬁne") == 0
    assert pace_factor("ʃɔə ʃɔə ʃɔə ʃɔə ʃɔə, ʃɔə ʃɔə.") == 1.0  # not estimated as English
    assert pace_factor("thee and thou, ye and you, here and there.") != 1.0
    assert [s.language for s in language_stretches("Say ʃɔə and ɛ, fine.")] == [None]


# ------------------------------------------------------------------ fake engine


def test_fake_durations_follow_words_and_rate(tmp_path: Path) -> None:
    engine = FakeEngine()
    durations = {}
    for name, text, settings in [
        ("ten", " ".join(["word"] * 10), VOICE),
        ("twenty", " ".join(["word"] * 20), VOICE),
        ("twenty-slow", " ".join(["word"] * 20), LOW),
        ("one", "Hi", VOICE),
    ]:
        engine.synthesize(text, settings, tmp_path / f"{name}.wav")
        durations[name] = read_wav(tmp_path / f"{name}.wav").duration_ms
    assert durations["ten"] == pytest.approx(expected_duration_ms("a " * 10, 175), abs=2)
    assert durations["twenty"] == pytest.approx(2 * durations["ten"], abs=2)
    assert durations["twenty-slow"] == pytest.approx(durations["twenty"] * 175 / 150, abs=2)
    assert durations["one"] == 343
    with pytest.raises(EngineError):
        engine.synthesize("   \n ", VOICE, tmp_path / "empty.wav")


def test_fake_pitch_and_voice_change_the_tone(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.synthesize(SENTENCES[0], LOW, tmp_path / "low.wav")
    engine.synthesize(SENTENCES[0], HIGH, tmp_path / "high.wav")
    assert zero_crossings_per_s(tmp_path / "high.wav") > 1.5 * zero_crossings_per_s(
        tmp_path / "low.wav"
    )


def test_fake_engine_voices_and_voice_known() -> None:
    voices = engine_voices("fake")
    assert voice_known("gmw/en-us+f3", voices)
    assert voice_known("gmw/en-us", voices)
    assert not voice_known("gmw/en-us+nope", voices)
    assert not voice_known("xx/none", voices)


def test_unknown_engine_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown speech engine 'festival'"):
        check_engine("festival")
    check_engine("fake")


def test_the_engine_registry_offers_built_ins_and_plugins_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine_names() == ("espeak", "fake")  # the default first; test-only ones unlisted
    assert engine_entry("espeak").credit == "espeak-ng"
    # A plugin package names its engine class under the entry-point group; its module is
    # only imported when the engine is used.
    plugin = importlib.metadata.EntryPoint(
        "tones", "narrator.synth.fake:FakeEngine", base.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group: [plugin] if group == plugin.group else []
    )
    base._load_plugins.cache_clear()
    try:
        assert engine_names() == ("espeak", "fake", "tones")
        assert base.engine_class("tones") is FakeEngine and engine_id("tones") == "fake-1"
    finally:
        base._load_plugins.cache_clear()


def test_the_cli_offers_the_registrys_engines() -> None:
    from narrator import cli

    assert [engine.value for engine in cli.Engine] == list(engine_names())
    assert cli.DEFAULT.value == DEFAULT_ENGINE


def test_the_fake_engine_remembers_what_it_was_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history_path = tmp_path / "history.jsonl"
    monkeypatch.setenv(HISTORY_ENV, str(history_path))
    engine = FakeEngine()
    engine.synthesize("One line.", VOICE, tmp_path / "a.wav")
    engine.synthesize("Another.", LOW, tmp_path / "b.wav")
    assert engine.history == [Request("One line.", VOICE), Request("Another.", LOW)]
    assert read_history(history_path) == engine.history
    # Through the worker pool, which runs engines in other processes, and past the cache.
    cache = ClipCache(tmp_path / "clips")
    history_path.unlink()
    lines = [make_line("First of two."), make_line("Second of two."), make_line("First of two.")]
    synthesize_lines(lines, "fake", cache=cache, jobs=2)
    assert sorted(r.text for r in read_history(history_path)) == ["First of two.", "Second of two."]
    synthesize_lines(lines, "fake", cache=cache)
    assert len(read_history(history_path)) == 2  # all cached: the engine was not asked again


def test_split_long_text_keeps_every_word_in_order() -> None:
    from narrator.synth.espeak import clean_text, split_long_text

    assert split_long_text(SENTENCES[0]) == [SENTENCES[0]]
    run_on = " ".join(f"word{i}" for i in range(300))  # no punctuation at all
    text = " ".join(SENTENCES * 20) + " " + run_on + ", and then " + " ".join(SENTENCES)
    pieces = split_long_text(text, max_words=50)
    assert " ".join(pieces).split() == text.split()
    assert all(len(piece.split()) <= 50 for piece in pieces)
    assert pieces[0].endswith(".")  # cut at a sentence end where there is one
    assert clean_text("<b>Stop</b>\tthere!\x07") == "Stop there!"
    assert clean_text("He pressed <Enter> twice.") == "He pressed Enter twice."


# ------------------------------------------------------------------ cache


def test_default_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("NARRATOR_CACHE_DIR")
    assert default_cache_dir().parts[-2:] == ("narrator", "clips")
    assert str(default_cache_dir()).startswith(os.environ["HOME"])


def test_clip_key_depends_on_text_voice_and_engine() -> None:
    base = clip_key("Hello.", VOICE, "fake-1")
    assert base == clip_key("Hello.", VOICE, "fake-1")
    assert base != clip_key("Hello!", VOICE, "fake-1")
    assert base != clip_key("Hello.", LOW, "fake-1")
    assert base != clip_key("Hello.", VOICE, "fake-2")
    louder = VoiceSettings(VOICE.engine_voice, VOICE.rate_wpm, VOICE.pitch, 0.9)
    assert base != clip_key("Hello.", louder, "fake-1")


def _store(cache: ClipCache, tmp_path: Path, key: str = "ab" * 32) -> Path:
    wav_path = tmp_path / "clip.wav"
    FakeEngine().synthesize(SENTENCES[0], VOICE, wav_path)
    return cache.put(key, wav_path).wav_path


def test_cache_round_trip(cache: ClipCache, tmp_path: Path) -> None:
    key = "ab" * 32
    assert cache.get(key) is None
    stored = _store(cache, tmp_path, key)
    clip = cache.get(key)
    assert clip is not None
    assert clip.wav_path == stored
    assert clip.duration_ms == read_wav(stored).duration_ms > 0


def test_has_tells_a_stored_clip_without_touching_it(cache: ClipCache, tmp_path: Path) -> None:
    key = "ef" * 32
    assert not cache.has(key)
    stored = _store(cache, tmp_path, key)
    sidecar = stored.with_suffix(".json")
    os.utime(sidecar, (1_000_000, 1_000_000))
    assert cache.has(key)
    assert sidecar.stat().st_mtime == 1_000_000  # no use recorded: an estimate is no use
    _truncate(stored)
    assert not cache.has(key)  # sizes disagree
    assert stored.exists()  # and nothing is removed: `get` decides that


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1000])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _header_only(path: Path) -> None:
    write_wav(path, b"")


def _extend(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\0" * 64)


@pytest.mark.parametrize("damage", [_truncate, _flip, _header_only, _extend])
def test_damaged_entry_reads_as_missing(cache: ClipCache, tmp_path: Path, damage) -> None:
    key = "cd" * 32
    stored = _store(cache, tmp_path, key)
    damage(stored)
    assert cache.get(key) is None
    assert not stored.exists()  # removed, so the next run renders it again


def test_entry_without_sidecar_or_with_wrong_length_reads_as_missing(
    cache: ClipCache, tmp_path: Path
) -> None:
    key = "ef" * 32
    stored = _store(cache, tmp_path, key)
    sidecar = stored.with_suffix(".json")
    sidecar.write_text(sidecar.read_text().replace('"bytes": ', '"bytes": 1'))
    assert cache.get(key) is None
    # As a kill -9 between the two renames would leave it: a WAV with no sidecar.
    stored = _store(cache, tmp_path, key)
    stored.with_suffix(".json").unlink()
    assert cache.get(key) is None


@pytest.mark.parametrize("suffix", [".wav", ".json"])
def test_an_entry_that_is_a_folder_reads_as_missing_and_is_replaced(
    cache: ClipCache, tmp_path: Path, suffix: str
) -> None:
    key = "ef" * 32
    _store(cache, tmp_path, key)
    path = cache.wav_path(key).with_suffix(suffix)
    path.unlink()
    (path / "inside").mkdir(parents=True)  # a folder where the file should be
    assert cache.get(key) is None
    _store(cache, tmp_path, key)
    assert cache.get(key) is not None


def test_a_folder_at_the_clip_name_does_not_stop_put(cache: ClipCache, tmp_path: Path) -> None:
    key = "fa" * 32
    (cache.wav_path(key) / "inside").mkdir(parents=True)
    _store(cache, tmp_path, key)
    assert cache.get(key) is not None


def test_put_refuses_a_header_only_wav(cache: ClipCache, tmp_path: Path) -> None:
    wav_path = tmp_path / "empty.wav"
    write_wav(wav_path, b"")
    assert wav_path.stat().st_size == 44
    with pytest.raises(ValueError, match="no audio"):
        cache.put("12" * 32, wav_path)


def test_unwritable_cache_is_an_output_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "clips"
    not_a_folder.write_text("a file where the cache folder should be")
    with pytest.raises(OutputError, match="cannot write the clip cache"):
        synthesize_lines([make_line(SENTENCES[0])], "fake", cache=ClipCache(not_a_folder))


# ------------------------------------------------------------------ pool with the fake engine


def test_pool_keeps_order_dedups_and_reuses_the_cache(cache: ClipCache) -> None:
    lines = [make_line(text, HIGH if i % 2 else LOW, i) for i, text in enumerate(SENTENCES)]
    lines.append(make_line(SENTENCES[0], LOW, 5))  # identical to line 0
    lines.append(make_line(SENTENCES[0], HIGH, 6))  # same text, other voice
    progress: list[tuple[int, int]] = []
    with SynthPool("fake", cache, jobs=2) as pool:
        result = pool.synthesize(lines, lambda done, total: progress.append((done, total)))
        assert (result.synthesized, result.reused, result.retried) == (6, 1, 0)
        assert result.clips[0] == result.clips[5]
        assert result.clips[0] != result.clips[6]
        for line, clip in zip(lines, result.clips, strict=True):
            assert clip.key == clip_key(line.text, line.settings, "fake-1")
            expected = expected_duration_ms(line.text, line.settings.rate_wpm)
            assert clip.duration_ms == pytest.approx(expected, abs=2)
        assert progress[-1] == (7, 7)
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
        again = pool.synthesize(lines)
    assert (again.synthesized, again.reused) == (0, 7)
    assert again.clips == result.clips
    assert not list((cache.cache_dir / "tmp").iterdir())  # the pool's temp folder is gone


def test_damaged_cache_entry_is_synthesized_again(cache: ClipCache) -> None:
    lines = [make_line(text) for text in SENTENCES[:3]]
    first = synthesize_lines(lines, "fake", cache=cache)
    _flip(first.clips[1].wav_path)
    second = synthesize_lines(lines, "fake", cache=cache)
    assert (second.synthesized, second.reused) == (1, 2)
    assert read_wav(second.clips[1].wav_path).duration_ms == first.clips[1].duration_ms


def test_lines_without_words_become_short_silence(cache: ClipCache) -> None:
    result = synthesize_lines([make_line("..."), make_line(" — ")], "fake", cache=cache)
    assert [clip.duration_ms for clip in result.clips] == [250, 250]


def test_very_long_line_is_spoken_in_full(cache: ClipCache) -> None:
    text = " ".join(SENTENCES * 46)  # about 3000 words
    result = synthesize_lines([make_line(text)], "fake", cache=cache)
    assert result.clips[0].duration_ms == pytest.approx(expected_duration_ms(text, 175), abs=2)


@pytest.mark.parametrize("fault", ["hang", "crash", "raise", "empty", "short"])
def test_pool_retries_a_failing_clip(cache: ClipCache, fault_dir: Path, fault: str) -> None:
    bad = f"{SENTENCES[1]} [{fault}*2]"
    lines = [make_line(SENTENCES[0]), make_line(bad, index=1), make_line(SENTENCES[2], index=2)]
    with fast_pool(cache) as pool:
        result = pool.synthesize(lines)
    assert (result.synthesized, result.retried) == (3, 2)
    assert len(result.clips) == 3
    expected = expected_duration_ms(bad, 175)
    assert result.clips[1].duration_ms == pytest.approx(expected, abs=2)
    assert sorted(p.read_text() for p in fault_dir.iterdir()) == ["3"]  # 2 failures + success


@pytest.mark.parametrize("fault", ["hang", "crash", "short"])
def test_pool_gives_up_naming_the_line(cache: ClipCache, fault_dir: Path, fault: str) -> None:
    bad = f"{SENTENCES[3]} [{fault}]"
    lines = [make_line(SENTENCES[0]), make_line(bad, index=1)]
    with fast_pool(cache) as pool, pytest.raises(EngineError) as caught:
        pool.synthesize(lines)
    message = str(caught.value)
    assert "failed 3 times on line 2" in message
    assert SENTENCES[3][:40] in message
    assert "\n" not in message


def test_long_but_complete_clip_is_kept_with_a_warning(cache: ClipCache) -> None:
    # "[long]" always comes back five times longer than its words need: after one more
    # try the clip is what the engine says, kept, and the run goes on.
    lines = [make_line(SENTENCES[0]), make_line(f"{SENTENCES[1]} [long]", index=1)]
    with fast_pool(cache) as pool:
        result = pool.synthesize(lines)
    assert len(result.clips) == 2
    assert result.clips[1].duration_ms > 4 * expected_duration_ms(lines[1].text, 175)
    assert result.retried == 1
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("line 2 ('Nobody in the village")
    assert "kept" in result.warnings[0]


def test_long_clip_once_is_tried_again_without_a_warning(cache: ClipCache, fault_dir: Path) -> None:
    line = make_line(f"{SENTENCES[1]} [long*1]")
    with fast_pool(cache) as pool:
        result = pool.synthesize([line])
    assert (result.retried, result.warnings) == (1, ())
    expected = expected_duration_ms(line.text, 175)
    assert result.clips[0].duration_ms == pytest.approx(expected, abs=2)


def test_a_full_cache_disk_is_named_before_the_engine_fails(
    cache: ClipCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrator.synth import pool as pool_module

    monkeypatch.setattr(pool_module, "free_bytes", lambda folder: 10_000)
    start = time.monotonic()
    with fast_pool(cache) as pool, pytest.raises(OutputError) as caught:
        pool.synthesize([make_line(SENTENCES[0])])
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert message.startswith(f"{cache.cache_dir}: the disk holding the clip cache is full")
    assert "NARRATOR_CACHE_DIR" in message


def test_an_error_inside_the_engine_callback_is_reported_without_a_traceback(
    cache: ClipCache, capfd: pytest.CaptureFixture[str]
) -> None:
    with fast_pool(cache) as pool, pytest.raises(EngineError) as caught:
        pool.synthesize([make_line(f"{SENTENCES[0]} [callback]")])
    assert "No space left on device" in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err


def test_engine_errors_are_not_retried_and_name_the_line(cache: ClipCache) -> None:
    lines = [make_line(SENTENCES[0]), make_line(f"{SENTENCES[4]} [refuse]", index=1)]
    with fast_pool(cache) as pool, pytest.raises(EngineError) as caught:
        pool.synthesize(lines)
    assert str(caught.value).startswith("the fake engine refuses this line (line 2: 'A clock")


@pytest.mark.parametrize(
    ("start_fault", "error", "message"),
    [
        ("crash", EngineError, "'fake-faulty' did not start: RuntimeError"),
        ("missing", ToolMissingError, "fake-tool is not installed"),
    ],
)
def test_engine_that_cannot_start(
    cache: ClipCache,
    monkeypatch: pytest.MonkeyPatch,
    start_fault: str,
    error: type[Exception],
    message: str,
) -> None:
    monkeypatch.setenv(START_FAULT_ENV, start_fault)
    with fast_pool(cache) as pool, pytest.raises(error, match=message):
        pool.synthesize([make_line(SENTENCES[0])])


# ------------------------------------------------------------------ the real engine


@pytest.mark.espeak
def test_espeak_renders_plausible_clips_in_two_voices(cache: ClipCache) -> None:
    voices = engine_voices("espeak")
    assert voice_known(LOW.engine_voice, voices)
    assert voice_known(HIGH.engine_voice, voices)
    lines = [make_line(text, LOW, i) for i, text in enumerate(SENTENCES[:3])]
    lines += [make_line(text, HIGH, i + 3) for i, text in enumerate(SENTENCES[:3])]
    with SynthPool("espeak", cache, jobs=2) as pool:
        result = pool.synthesize(lines)
    assert result.synthesized == 6
    for line, clip in zip(lines, result.clips, strict=True):
        expected = expected_duration_ms(line.text, line.settings.rate_wpm)
        assert 0.5 * expected < clip.duration_ms < 2.0 * expected
    low = [zero_crossings_per_s(clip.wav_path) for clip in result.clips[:3]]
    high = [zero_crossings_per_s(clip.wav_path) for clip in result.clips[3:]]
    assert min(high) > max(low)
    # The parent must never hold an engine: pyttsx3's driver lives in the workers only.
    assert "pyttsx3.drivers.espeak" not in sys.modules


@pytest.mark.espeak
def test_espeak_speaks_hums_snores_and_other_scripts_without_failing(cache: ClipCache) -> None:
    lines = [make_line(text, index=i) for i, (text, _) in enumerate(SPELLED_LINES_MS)]
    with SynthPool("espeak", cache, jobs=2) as pool:
        result = pool.synthesize(lines)
    assert len(result.clips) == len(lines)
    assert result.warnings == ()


@pytest.mark.espeak
def test_espeak_without_its_data_says_what_to_install(
    cache: ClipCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(tmp_path))  # an empty folder: no voice data
    with pytest.raises(ToolMissingError, match="apt-get install --reinstall espeak-ng-data"):
        synthesize_lines([make_line(SENTENCES[0])], "espeak", cache=cache)


@pytest.mark.espeak
def test_espeak_unknown_voice_is_a_config_error(cache: ClipCache) -> None:
    bogus = VoiceSettings("gmw/en-us+nosuchvariant", 175, 50, 1.0)
    with SynthPool("espeak", cache) as pool, pytest.raises(ConfigError, match="nosuchvariant"):
        pool.synthesize([make_line(SENTENCES[0], bogus)])


@pytest.mark.espeak
def test_espeak_obeys_a_rate_change_on_every_clip(cache: ClipCache) -> None:
    # Changing the rate before each clip is what made pyttsx3 cancel queued settings and
    # utterances (espeak_Cancel in runAndWait) before the engine waited for espeak-ng.
    slow = VoiceSettings("gmw/en-us", 100, 50, 1.0)
    fast = VoiceSettings("gmw/en-us", 300, 50, 1.0)
    lines = [
        make_line(f"{SENTENCES[0]} Number {i}.", slow if i % 2 else fast, i) for i in range(40)
    ]
    with SynthPool("espeak", cache, jobs=1) as pool:
        result = pool.synthesize(lines)
    assert result.retries == ()
    for settings in (slow, fast):
        durations = sorted(
            clip.duration_ms
            for line, clip in zip(lines, result.clips, strict=True)
            if line.settings == settings
        )
        median = durations[len(durations) // 2]
        assert durations[0] > 0.85 * median
        assert durations[-1] < 1.15 * median


@pytest.mark.espeak
def test_espeak_long_line_is_spoken_in_pieces_and_in_full(cache: ClipCache) -> None:
    text = " ".join(f"{sentence} That was part {i}." for i in range(8) for sentence in SENTENCES)
    assert count_words(text) > 400  # above the engine's piece size
    one = " ".join(SENTENCES)
    lines = [make_line(text), make_line(one, index=1)]
    result = synthesize_lines(lines, "espeak", cache=cache)
    long_ms, one_ms = (clip.duration_ms for clip in result.clips)
    # Eight times the sentences plus the "That was part N." tails: a little over 8x.
    assert 8 * one_ms < long_ms < 11 * one_ms


_KILL_SCRIPT = """
import sys
from pathlib import Path
from narrator.model import Line, VoiceSettings
from narrator.synth import ClipCache, SynthPool

if __name__ == "__main__":
    voice = VoiceSettings("gmw/en-us", 175, 50, 1.0)
    lines = [
        Line(i, f"Line number {i} of a very long list.", "", "Narrator", "v", voice)
        for i in range(5000)
    ]
    def report(done: int, total: int) -> None:
        if done >= 50:
            print("busy", flush=True)
    with SynthPool("fake", ClipCache(Path(sys.argv[1])), 2) as pool:
        pool.synthesize(lines, on_progress=report)
"""


def test_kill_9_leaves_no_damaged_entry(tmp_path: Path) -> None:
    import signal
    import subprocess

    cache_dir = tmp_path / "clips"
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(cache_dir)], stdout=subprocess.PIPE, env=env
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"busy\n"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    cache = ClipCache(cache_dir)
    stored = list(cache_dir.glob("??/*.wav"))
    assert len(stored) >= 50
    for wav_path in stored:
        clip = cache.get(wav_path.stem)
        if clip is not None:  # whole, or else it reads as missing
            assert read_wav(clip.wav_path).duration_ms == clip.duration_ms


# ---------------------------------------------------------------------------- cache size


def _fill(cache: ClipCache, tmp_path: Path, count: int) -> list[str]:
    """count clips, the first used longest ago."""
    keys = [f"{n:02d}" * 32 for n in range(count)]
    for age, key in enumerate(reversed(keys), start=1):
        _store(cache, tmp_path, key)
        sidecar = cache.wav_path(key).with_suffix(".json")
        os.utime(sidecar, (1_000_000 - age * 10, 1_000_000 - age * 10))
    return keys


def test_prune_drops_the_least_recently_used_clips(cache: ClipCache, tmp_path: Path) -> None:
    keys = _fill(cache, tmp_path, 4)
    clip_bytes = cache.info().size_bytes // 4
    assert cache.get(keys[0]) is not None  # reading a clip makes it the most recently used
    freed = cache.prune(max_bytes=2 * clip_bytes + 10)
    assert freed == 2 * clip_bytes
    assert [key for key in keys if cache.get(key) is not None] == [keys[0], keys[3]]
    assert cache.prune(max_bytes=10**9) == 0


def test_cache_info_and_clear(cache: ClipCache, tmp_path: Path) -> None:
    assert cache.info().clips == 0 and cache.info().size_bytes == 0
    keys = _fill(cache, tmp_path, 3)
    info = cache.info(max_bytes=123)
    assert (info.clips, info.max_bytes, info.cache_dir) == (3, 123, cache.cache_dir)
    assert info.size_bytes > 3 * 1000
    (cache.cache_dir / "notes.txt").write_text("not a clip")
    assert cache.clear() == info.size_bytes
    assert all(cache.get(key) is None for key in keys) and cache.info().clips == 0
    assert (cache.cache_dir / "notes.txt").exists()  # only its own files are removed


def test_cache_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_max_bytes() == DEFAULT_MAX_BYTES
    monkeypatch.setenv("NARRATOR_CACHE_MAX", "1.5G")
    assert default_max_bytes() == 1_500_000_000
    monkeypatch.setenv("NARRATOR_CACHE_MAX", "lots")
    with pytest.raises(ConfigError, match="NARRATOR_CACHE_MAX: not a size: 'lots'"):
        default_max_bytes()


@pytest.mark.parametrize(
    ("text", "size"),
    [("123", 123), ("4G", 4_000_000_000), ("500 MB", 500_000_000), ("2k", 2000), ("1T", 10**12)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size
