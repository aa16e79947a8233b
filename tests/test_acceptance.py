"""What the first issue asks for, checked on the bundled example chapter as a user runs it."""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from narrator.export import read_vtt

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the-lantern-keeper.txt"
CAST = ROOT / "examples" / "cast.toml"
NARRATOR = [sys.executable, "-m", "narrator"]

pytestmark = pytest.mark.ffmpeg

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _duration_ms(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"]) * 1000


def _render(tmp_path: Path, engine: str, *extra: str) -> tuple[Path, Path]:
    chapter = tmp_path / "the-lantern-keeper.txt"
    shutil.copy(EXAMPLE, chapter)
    shutil.copy(CAST, tmp_path / "cast.toml")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            *NARRATOR,
            "render",
            str(chapter),
            "--out",
            str(out),
            "--engine",
            engine,
            "--format",
            "mp3",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (mp3,) = (out / "The Lantern Keeper").glob("*.mp3")
    return mp3, mp3.with_suffix(".vtt")


def _words_in_order(text: str, cues: list) -> float:
    """The share of the text's words that the transcript holds, in order."""
    chapter_words = _words(text)
    spoken_words = _words(" ".join(c.text for c in cues))
    matcher = difflib.SequenceMatcher(None, chapter_words, spoken_words, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(chapter_words)


def _check_transcript(mp3: Path, vtt: Path) -> None:
    cues = read_vtt(vtt)
    speakers = {cue.speaker for cue in cues} - {"Narrator", "Unknown"}
    assert len(speakers) >= 4, speakers
    duration = _duration_ms(mp3)
    assert all(0 <= c.start_ms < c.end_ms <= duration + 1 for c in cues)
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(cues))
    assert _words_in_order(EXAMPLE.read_text(encoding="utf-8"), cues) >= 0.97


def test_every_word_of_every_example_chapter_is_in_its_transcript(tmp_path: Path) -> None:
    arc = tmp_path / "arc"
    shutil.copytree(ROOT / "examples" / "arc", arc)
    out = tmp_path / "out"
    subprocess.run(
        [*NARRATOR, "render", str(arc), "--out", str(out), "--engine", "fake", "--format", "mp3"],
        check=True,
        capture_output=True,
    )
    for number, name in enumerate(["1.txt", "2.txt", "10.txt"], 1):
        (vtt,) = out.glob(f"*/{number:02d} - *.vtt")
        # Nothing is dropped: every word, the chapter heading included, is spoken.
        assert _words_in_order((arc / name).read_text(encoding="utf-8"), read_vtt(vtt)) == 1.0


def test_the_example_chapter_renders_to_a_multi_voice_mp3_with_transcript(tmp_path: Path) -> None:
    mp3, vtt = _render(tmp_path, "fake")
    _check_transcript(mp3, vtt)
    text = vtt.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT")
    assert re.search(r'<v Wren>"[^<]+"</v>', text)


@pytest.mark.espeak
def test_a_real_pyttsx3_render_of_the_example(tmp_path: Path) -> None:
    mp3, vtt = _render(tmp_path, "espeak")
    _check_transcript(mp3, vtt)
    # Speech from espeak-ng at ~150-190 wpm: the chapter's ~1,700 words take minutes, not seconds.
    assert 5 * 60_000 < _duration_ms(mp3) < 16 * 60_000
    # Every clip's length fits its words: no clip lost or cut short (voices run 80-450 wpm).
    for cue in read_vtt(vtt):
        words = len(_words(cue.text))
        if words >= 4:
            assert (
                words * 60_000 / 450 * 0.6 <= cue.end_ms - cue.start_ms <= words * 60_000 / 80 * 1.5
            )


@pytest.mark.espeak
def test_a_real_render_killed_midway_leaves_no_broken_file_and_resumes(tmp_path: Path) -> None:
    arc = tmp_path / "arc"
    shutil.copytree(ROOT / "examples" / "arc", arc)
    out = tmp_path / "out"
    command = [*NARRATOR, "render", str(arc), "--out", str(out), "--jobs", "2", "--format", "both"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*/01 - *.mp3")):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the command and its workers, as kill -9 would
    process.wait()
    book_dir = out / "Arc"
    mp3_dir = out / "Arc (MP3)"
    assert mp3_dir.is_dir()
    for path in [*book_dir.glob("*"), *mp3_dir.glob("*")]:
        if path.suffix in {".mp3", ".vtt", ".m4b"}:
            assert path.stat().st_size > 0
        if path.suffix == ".mp3":
            _duration_ms(path)  # ffprobe reads every MP3 at its final name
    assert not list(book_dir.glob("*.m4b"))
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped" in resumed.stdout and "rendered" in resumed.stdout
    assert len(list(mp3_dir.glob("*.mp3"))) == 3
    assert len(list(book_dir.glob("*.m4b"))) == 1
