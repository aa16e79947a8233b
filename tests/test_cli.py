"""The `narrator` command: exit codes, one-line errors, output shapes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from narrator import __version__, pipeline
from narrator.cli import app
from narrator.plan import ChapterResult

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the-lantern-keeper.txt"

runner = CliRunner()


def _one_line_error(result: object, *needles: str) -> None:
    output = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in lines[0]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_analyze_json_covers_the_input_exactly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    text = EXAMPLE.read_text(encoding="utf-8")
    position = 0
    for segment in data["segments"]:
        assert segment["start"] == position
        assert text[segment["start"] : segment["end"]] == segment["text"]
        position = segment["end"]
    assert position == len(text)
    assert {"narration", "dialogue", "thought", "heading", "note"} <= {
        s["kind"] for s in data["segments"]
    }
    assert all(
        set(c) == {"name", "aliases", "gender", "voice", "chorus"} for c in data["characters"]
    )


def test_analyze_with_a_cast_names_speakers_by_their_cast_name() -> None:
    cast = ROOT / "examples" / "cast.toml"
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--cast", str(cast), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    speakers = {s["speaker"] for s in data["segments"] if s["kind"] == "dialogue"}
    assert {"Wren", "Tobin", "Hollis"} <= speakers
    assert "the blonde" not in speakers  # an alias resolves to the character's name


def test_analyze_script_marks_low_confidence_lines(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--low", "1.0"])
    assert result.exit_code == 0
    assert "Characters" in result.stdout
    assert "lines below confidence 1.00" in result.stdout
    assert any(line.startswith("? ") for line in result.stdout.splitlines())


def test_the_analyze_listing_keeps_the_text_order_and_ends_with_the_characters() -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    listing = result.stdout.splitlines()
    end = listing.index("Characters")
    segments = [line for line in listing[:end] if line.strip()]
    words = " ".join(EXAMPLE.read_text(encoding="utf-8").split())
    position = 0
    for line in segments:
        text = line.split("]: ", 1)[1] if line[:1] in "? " and "]: " in line else line.strip()
        text = text.removeprefix("# ").removeprefix("(note) ")
        found = words.find(text, position)
        assert found >= 0, f"out of order or changed: {line!r}"
        position = found + len(text)
    assert position > len(words) * 0.9


def test_the_command_line_loads_without_nltk() -> None:
    """Importing nltk takes half a second; only rendering splits sentences with it."""
    code = "import sys, narrator.cli; print('nltk' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_cast_json_and_write(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    shutil.copy(EXAMPLE, chapter)
    result = runner.invoke(app, ["cast", str(chapter), "--json", "--write"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["characters"]
    keys = {"name", "aliases", "gender", "voice", "chorus", "lines"}
    assert rows and all(set(r) == keys for r in rows)
    assert (tmp_path / "cast.toml").exists()
    names = {r["name"] for r in rows if r["lines"] >= 3}
    assert {"Wren", "Tobin"} <= names


def test_a_line_said_together_is_listed_with_every_voice_that_says_it(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(
        'Rook and Bo ran in.\n\n"Now!" Rook and Bo said in unison.\n\n"Fine," said Ana.\n',
        encoding="utf-8",
    )
    cast = tmp_path / "cast.toml"
    cast.write_text(
        '[[character]]\nname = "Rook"\nvoice = "deep-man"\n\n'
        '[[character]]\nname = "Bo"\nvoice = "northern-man"\n\n'
        '[[character]]\nname = "Ana"\ngender = "female"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["cast", str(chapter), "--cast", str(cast), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["characters"]}
    assert rows["Rook and Bo"]["chorus"] == ["deep-man", "northern-man"]
    assert rows["Ana"]["chorus"] == []
    table = runner.invoke(app, ["analyze", str(chapter), "--cast", str(cast)])
    assert "voice deep-man + northern-man" in table.stdout


def test_voices_lists_profiles() -> None:
    result = runner.invoke(app, ["voices", "--engine", "fake"])
    assert result.exit_code == 0, result.stderr
    assert "narrator" in result.stdout and "old-man" in result.stdout
    # The measured figures, as stored in voices/deep-man.toml.
    deep = next(line for line in result.stdout.splitlines() if "deep-man" in line)
    assert re.search(r"\b6\d Hz +1\d\d wpm +-2\d\.\d LUFS", deep), deep


def test_voices_says_when_a_profile_is_not_measured(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'description = "Mine"\nengine_voice = "gmw/en"\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["voices", "--engine", "fake", "--voices", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    mine = next(line for line in result.stdout.splitlines() if "mine" in line)
    assert "not measured" in mine


@pytest.mark.ffmpeg
def test_voices_preview_writes_an_mp3(tmp_path: Path) -> None:
    out = tmp_path / "sample.mp3"
    result = runner.invoke(
        app,
        ["voices", "preview", "old-man", "Who goes there?", "--out", str(out), "--engine", "fake"],
    )
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 1000


def test_voices_preview_of_an_unknown_profile_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["voices", "preview", "nobody", "--out", str(tmp_path / "x.mp3"), "--engine", "fake"]
    )
    _one_line_error(result, "nobody", "old-man")
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.ffmpeg
def test_render_with_the_fake_engine_prints_a_summary(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text('"Hello," said Ann.\n"Hi," said Tom.\n', encoding="utf-8")
    result = runner.invoke(
        app, ["render", str(chapter), "--out", str(tmp_path / "out"), "--engine", "fake"]
    )
    assert result.exit_code == 0, result.stderr
    assert "clips synthesized" in result.stdout and "reused" in result.stdout
    # The default is one M4B per book, and the summary names every file it wrote.
    m4b_path = tmp_path / "out" / "Chapter" / "Chapter.m4b"
    assert m4b_path.exists() and not list((tmp_path / "out").rglob("*.mp3"))
    assert str(m4b_path) in result.stdout
    assert f"cast file written: {tmp_path / 'cast.toml'}" in result.stdout


@pytest.mark.ffmpeg
def test_render_with_the_acx_preset_reports_loudness_and_peaks(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text('"Hello," said Ann.\n"Hi," said Tom.\n', encoding="utf-8")
    out = str(tmp_path / "out")
    args = ["render", str(chapter), "--out", out, "--engine", "fake", "--preset", "acx"]
    result = runner.invoke(app, [*args, "--loudness", "-23"])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"chapter 1: -2\d\.\d LUFS, true peak -\d+\.\d dBTP", result.stdout)


@pytest.mark.parametrize(
    ("option", "value"), [("--preset", "loud"), ("--loudness", "-5"), ("--loudness", "x")]
)
def test_bad_preset_or_loudness_is_a_usage_error(tmp_path: Path, option: str, value: str) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text("Words.\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(chapter), "--engine", "fake", option, value])
    assert result.exit_code == 2


@pytest.mark.usefixtures("fake_encoder")
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        (b"", "empty"),
        (b"   \n\n  \t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text file"),
    ],
)
@pytest.mark.parametrize("command", ["render", "analyze", "cast"])
def test_bad_input_is_one_clear_line_and_exit_1(
    tmp_path: Path, command: str, content: bytes | None, needle: str
) -> None:
    path = tmp_path / "chapter.txt"
    if content is not None:
        path.write_bytes(content)
    args = [command, str(path)] + (
        ["--out", str(tmp_path / "out"), "--engine", "fake"] if command == "render" else []
    )
    result = runner.invoke(app, args)
    _one_line_error(result, "chapter.txt", needle)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.mp3"))


@pytest.mark.usefixtures("fake_encoder")
def test_a_folder_without_chapters_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "cover.png").write_bytes(b"\x89PNG")
    result = runner.invoke(
        app, ["render", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "fake"]
    )
    _one_line_error(result, str(tmp_path))


def test_a_broken_cast_file_names_file_and_line(tmp_path: Path) -> None:
    cast = tmp_path / "cast.toml"
    cast.write_text('[[character]]\nname = "Ann"\ngender = "f"\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--cast", str(cast)])
    _one_line_error(result, "cast.toml", "gender")
    cast.write_text('[[character]\nname = "Ann"\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--cast", str(cast)])
    _one_line_error(result, "cast.toml", "line 1")


@pytest.mark.usefixtures("fake_encoder")
def test_an_unknown_voice_in_the_cast_stops_before_synthesis(tmp_path: Path) -> None:
    cast = tmp_path / "cast.toml"
    cast.write_text('[[character]]\nname = "Wren"\nvoice = "opera-singer"\n', encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "render",
            str(EXAMPLE),
            "--cast",
            str(cast),
            "--out",
            str(tmp_path / "o"),
            "--engine",
            "fake",
        ],
    )
    _one_line_error(result, "cast.toml", "opera-singer")
    assert not (tmp_path / "o").exists()


@pytest.mark.usefixtures("fake_encoder")
def test_an_output_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    chapter = tmp_path / "c.txt"
    chapter.write_text('"Hi," said Ann.\n')
    result = runner.invoke(app, ["render", str(chapter), "--out", str(blocker), "--engine", "fake"])
    _one_line_error(result, "out", "not a folder")


def _render_raising(
    exception: type[BaseException], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Result:
    def raising(*args: object, **kwargs: object) -> None:
        raise exception

    monkeypatch.setattr(pipeline, "render_book", raising)
    return runner.invoke(app, ["render", str(EXAMPLE), "--out", str(tmp_path), "--engine", "fake"])


def test_ctrl_c_exits_130_with_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _render_raising(KeyboardInterrupt, tmp_path, monkeypatch)
    assert result.exit_code == 130
    assert "again to resume" in result.stderr


def test_running_out_of_memory_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_line_error(_render_raising(MemoryError, tmp_path, monkeypatch), "out of memory")


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["render"]).exit_code == 2
    assert runner.invoke(app, ["render", str(EXAMPLE), "--jobs", "0"]).exit_code == 2
    assert runner.invoke(app, ["render", str(EXAMPLE), "--engine", "nope"]).exit_code == 2


@pytest.mark.espeak
def test_a_profile_naming_an_engine_voice_not_installed_stops_before_synthesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "martian.toml").write_text(
        'description = "not a real voice"\nengine_voice = "gmw/en-mars"\n'
        'rate_wpm = 170\npitch = 50\nvolume = 1.0\ngain_db = 0.0\ngender = "male"\nage = "adult"\n'
    )
    cast = tmp_path / "cast.toml"
    cast.write_text('[[character]]\nname = "Tobin"\nvoice = "martian"\n')
    result = runner.invoke(
        app,
        [
            "render",
            str(EXAMPLE),
            "--cast",
            str(cast),
            "--voices",
            str(voices),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    _one_line_error(result, "martian.toml", "gmw/en-mars")
    assert not list((tmp_path / "o").rglob("*.mp3"))


def test_an_alias_shared_by_two_characters_is_accepted_with_a_warning(tmp_path: Path) -> None:
    chapter = tmp_path / "c.txt"
    chapter.write_text(
        'Charles Hale came in. "Tea?" said Charles Hale.\n'
        'Charles Brandt frowned. "No," said Charles Brandt.\n',
        encoding="utf-8",
    )
    cast = tmp_path / "cast.toml"
    cast.write_text(
        '[[character]]\nname = "Charles Hale"\naliases = ["Charles"]\n\n'
        '[[character]]\nname = "Charles Brandt"\naliases = ["Charles"]\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["analyze", str(chapter), "--cast", str(cast), "--json"])
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "Charles" in result.stderr
    speakers = [
        s["speaker"] for s in json.loads(result.stdout)["segments"] if s["kind"] == "dialogue"
    ]
    assert speakers == ["Charles Hale", "Charles Brandt"]


@pytest.mark.ffmpeg
def test_cast_preview_renders_one_clip_per_main_character(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    shutil.copy(EXAMPLE, chapter)
    out = tmp_path / "previews"
    result = runner.invoke(app, ["cast", str(chapter), "--preview", str(out), "--engine", "fake"])
    assert result.exit_code == 0, result.stderr
    names = {p.stem for p in out.glob("*.mp3")}
    assert {"Wren", "Tobin"} <= names


def test_missing_espeak_ng_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import narrator.synth.espeak as espeak

    monkeypatch.setattr(espeak, "_LIBRARY_NAMES", ("libespeak-ng-not-here.so.1",))
    chapter = tmp_path / "c.txt"
    chapter.write_text('"Hi," said Ann.\n')
    result = runner.invoke(app, ["render", str(chapter), "--out", str(tmp_path / "o")])
    _one_line_error(result, "espeak-ng", "apt-get install espeak-ng")
    assert not (tmp_path / "o").exists()


def test_missing_ffmpeg_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    chapter = tmp_path / "c.txt"
    chapter.write_text('"Hi," said Ann.\n')
    result = runner.invoke(
        app, ["render", str(chapter), "--out", str(tmp_path / "o"), "--engine", "fake"]
    )
    _one_line_error(result, "ffmpeg", "apt-get install ffmpeg")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp1252", b""), ("latin-1", b""), ("utf-16-le", b"\xff\xfe"), ("utf-8", b"\xef\xbb\xbf")],
)
def test_dialogue_is_found_in_every_supported_encoding(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    quote_open, quote_close = ("\u201c", "\u201d") if encoding != "latin-1" else ('"', '"')
    text = (
        f"Ren\u00e9e stopped at the caf\u00e9.\r\n"
        f"{quote_open}Not again,{quote_close} said Ren\u00e9e.\r"
        f"{quote_open}Yes, again,{quote_close} said Marc.\n"
    )
    chapter = tmp_path / "c.txt"
    chapter.write_bytes(bom + text.encode(encoding))
    result = runner.invoke(app, ["analyze", str(chapter), "--json"])
    assert result.exit_code == 0, result.stderr
    segments = json.loads(result.stdout)["segments"]
    dialogue = [s for s in segments if s["kind"] == "dialogue"]
    assert [s["text"].strip(quote_open + quote_close + '"') for s in dialogue] == [
        "Not again,",
        "Yes, again,",
    ]
    assert [s["speaker"] for s in dialogue] == ["Renée", "Marc"]


def test_dry_run_prints_the_plan(tmp_path: Path) -> None:
    chapter = tmp_path / "c.txt"
    chapter.write_text('"Hello," said Ann.\n', encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["render", str(chapter), "--out", str(out), "--dry-run", "--engine", "fake"]
    )
    assert result.exit_code == 0, result.stderr
    assert "dry run" in result.stdout and "1 chapters to render" in result.stdout
    assert "clips to synthesize" in result.stdout
    assert not out.exists() and not (tmp_path / "cast.toml").exists()


@pytest.mark.usefixtures("fake_encoder")
def test_render_formats_and_a_bad_format_exits_2(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text('"Hello," said Ann.\n', encoding="utf-8")
    args = ["render", str(chapter), "--out", str(tmp_path / "out"), "--engine", "fake"]
    result = runner.invoke(app, [*args, "--format", "both", "--epub"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "Chapter" / "Chapter.m4b").exists()
    assert (tmp_path / "out" / "Chapter" / "Chapter.epub").exists()
    assert list((tmp_path / "out" / "Chapter (MP3)").glob("01 - *.mp3"))
    result = runner.invoke(app, [*args, "--format", "flac"])
    assert result.exit_code == 2 and "flac" in result.stderr


@pytest.mark.usefixtures("fake_encoder")
def test_cache_info_prune_and_clear(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text('"Hello," said Ann. "Hi," said Tom.\n', encoding="utf-8")
    rendered = runner.invoke(
        app, ["render", str(chapter), "--out", str(tmp_path / "out"), "--engine", "fake"]
    )
    assert rendered.exit_code == 0, rendered.stderr
    info = runner.invoke(app, ["cache"])
    assert info.exit_code == 0, info.stderr
    assert info.stdout.startswith(f"clip cache: {os.environ['NARRATOR_CACHE_DIR']}\n")
    clips = int(info.stdout.split("\n")[1].split()[0])
    assert clips >= 2 and "limit 4.0 GB" in info.stdout
    state = info.stdout.split("\n")[2]
    assert state.startswith(f"render state: {os.environ['NARRATOR_STATE_DIR']}, ")
    assert not state.startswith(f"render state: {os.environ['NARRATOR_STATE_DIR']}, 0 B")
    pruned = runner.invoke(app, ["cache", "prune", "--max-size", "1"])
    assert pruned.exit_code == 0 and "0 B in 0 clips left" in pruned.stdout, pruned.stdout
    bad = runner.invoke(app, ["cache", "prune", "--max-size", "big"])
    _one_line_error(bad, "--max-size", "not a size")
    runner.invoke(app, ["render", str(chapter), "--out", str(tmp_path / "o2"), "--engine", "fake"])
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "freed" in cleared.stdout
    assert "0 clips" in runner.invoke(app, ["cache"]).stdout


def test_the_progress_bars_never_pass_their_totals() -> None:
    import io

    from rich.console import Console

    from narrator.cli import _ProgressReporter

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    reporter = _ProgressReporter(enabled=True, console=console)
    with reporter:
        reporter.run_started(chapters=2, clips=10)
        reporter.chapter_started(1, 2, "One", 6)
        reporter.clips_done(6, 10)
        reporter.chapter_started(2, 2, "Two", 4)  # the first chapter is still encoding
        reporter.clips_done(10, 10)
        for number in (1, 2):
            reporter.chapter_finished(ChapterResult(number, "x", None, None, "rendered", 1))
        tasks = {task.description.split(":")[0]: task for task in reporter.progress.tasks}
        assert (tasks["chapters"].completed, tasks["chapters"].total) == (2, 2)
        assert (tasks["clips"].completed, tasks["clips"].total) == (10, 10)


def test_a_render_shows_a_step_before_its_bars_and_drops_it_when_they_start() -> None:
    import io

    from rich.console import Console

    from narrator.cli import _ProgressReporter

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    reporter = _ProgressReporter(enabled=True, console=console)
    with reporter:
        reporter.stage("load")
        reporter.stage("analyze")
        shown = [task.description for task in reporter.progress.tasks]
        assert shown == ["finding who speaks"]
        reporter.run_started(chapters=1, clips=3)
        shown = [task.description for task in reporter.progress.tasks]
        assert shown == ["chapters", "clips"]


def test_a_slow_step_shows_a_spinner_on_a_terminal_and_nothing_elsewhere() -> None:
    import io

    from rich.console import Console

    from narrator.cli import _working

    for terminal in (True, False):
        shown = io.StringIO()
        console = Console(file=shown, force_terminal=terminal, width=100)
        with _working("finding who speaks in book.txt", console):
            console.file.flush()
        assert ("finding who speaks in book.txt" in shown.getvalue()) is terminal


def test_analyze_prints_no_spinner_into_output_that_is_not_a_terminal(tmp_path: Path) -> None:
    chapter = tmp_path / "c.txt"
    chapter.write_text('"Hello," said Ann.\n\n"Hi," said Bob.\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(chapter)])
    assert result.exit_code == 0
    assert "finding who speaks" not in result.stdout + result.stderr
