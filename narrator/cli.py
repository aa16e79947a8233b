"""The `narrator` command: parses arguments, calls the pipeline, prints the result.

This is the only module that prints or knows about typer. Every NarratorError becomes one
`error: ...` line on stderr and exit 1 (a traceback only with --debug); Ctrl-C exits 130.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from narrator import __version__, pipeline, review
from narrator.analysis import REVIEW_THRESHOLD, is_below, is_doubtful
from narrator.errors import ConfigError, NarratorError
from narrator.layout import DEFAULT_FORMAT, Format, default_state_dir, state_size_bytes
from narrator.master import DEFAULT_LOUDNESS_LUFS, LOUDNESS_RANGE_LUFS
from narrator.model import Kind, Segment
from narrator.plan import ChapterResult, ChapterStatus, Preset, RenderOptions
from narrator.preview import list_voices, preview_characters, preview_voice
from narrator.progress import Reporter
from narrator.report import CharacterRow, analyze_input, write_cast_file
from narrator.synth.base import DEFAULT_ENGINE, engine_names
from narrator.synth.cache import ClipCache, parse_size

app = typer.Typer(
    help="Turn book chapters into multi-voice audiobooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
voices_app = typer.Typer(help="List voice profiles and audition them.", no_args_is_help=False)
app.add_typer(voices_app, name="voices")
cache_app = typer.Typer(help="See, prune or clear the clip cache.", no_args_is_help=False)
app.add_typer(cache_app, name="cache")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}


# The --engine choices: the engine registry's, built-ins and plugins alike.
Engine = StrEnum("Engine", [(name, name) for name in engine_names()])  # type: ignore[misc]
DEFAULT = Engine(DEFAULT_ENGINE)


class LineKind(StrEnum):
    """What `narrator assign --kind` can make a line."""

    narration = "narration"
    dialogue = "dialogue"
    thought = "thought"


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # cleaned up and reported as Ctrl-C is


@contextmanager
def _user_errors() -> Iterator[None]:
    """The one place where errors become what the user sees."""
    # SIGTERM is what `timeout`, systemd and `docker stop` send: handled like Ctrl-C.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        yield
    except NarratorError as exc:
        if _state["debug"]:
            raise
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except MemoryError:
        if _state["debug"]:
            raise
        err.print(
            "error: out of memory: the input is too large for this machine "
            "(split it into smaller files, or free memory)",
            markup=False,
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume where it stopped")
        raise typer.Exit(130) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def _working(what: str, console: Console = err) -> Iterator[None]:
    """A spinner saying `what` on a terminal while a step runs that shows nothing else (a
    novel takes seconds to analyse); nothing at all when the output is not a terminal."""
    if not console.is_terminal:
        yield
        return
    with console.status(what):
        yield


def _version(value: bool) -> None:
    if value:
        out.print(f"narrator {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Turn book chapters into multi-voice audiobooks."""
    _state["debug"] = debug


InputArg = Annotated[
    Path,
    typer.Argument(
        help="A chapter (.txt/.md/.html), a folder of chapters, or an .epub.",
        show_default=False,
    ),
]
CastOpt = Annotated[
    Path | None,
    typer.Option("--cast", help="Cast file (TOML); default: cast.toml beside the input."),
]
LinesOpt = Annotated[
    Path | None,
    typer.Option(
        "--lines",
        help="Line corrections (TOML); default: <stem>.lines.toml beside the input, "
        "lines.toml in a folder.",
    ),
]
LowOpt = Annotated[
    float,
    typer.Option("--low", min=0.0, max=1.0, help="Flag lines below this confidence."),
]
VoicesOpt = Annotated[
    list[Path] | None,
    typer.Option("--voices", help="Extra folder of voice profiles (can repeat)."),
]


@app.command()
def render(
    input_path: InputArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("output"),
    cast: CastOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64, help="Synthesis workers.")] = 2,
    engine: Annotated[
        Engine, typer.Option("--engine", help="Speech engine; 'fake' writes tones (for tests).")
    ] = DEFAULT,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; synthesize and write nothing.")
    ] = False,
    voices: VoicesOpt = None,
    bitrate: Annotated[
        int | None,
        typer.Option("--bitrate", min=16, max=320, help="MP3 kbit/s [default: 64; acx: 192]."),
    ] = None,
    preset: Annotated[
        Preset,
        typer.Option(
            "--preset",
            help="default: small mono MP3s to listen to; acx: 44.1 kHz 192 kbit/s CBR with "
            "room tone, loudness and peaks checked.",
        ),
    ] = Preset.DEFAULT,
    loudness: Annotated[
        float,
        typer.Option(
            "--loudness",
            min=LOUDNESS_RANGE_LUFS[0],
            max=LOUDNESS_RANGE_LUFS[1],
            help="Integrated loudness of every chapter, LUFS.",
        ),
    ] = DEFAULT_LOUDNESS_LUFS,
    audio_format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="m4b: one audiobook file with chapters (for audiobook apps); mp3: one MP3 "
            "per chapter and a playlist (for any player); both: each in its own folder.",
        ),
    ] = DEFAULT_FORMAT,
    epub: Annotated[
        bool,
        typer.Option("--epub", help="Also write a read-along EPUB 3 (text highlighted as read)."),
    ] = False,
    feed: Annotated[
        str | None,
        typer.Option(
            "--feed",
            metavar="URL",
            help="Also write a podcast feed (feed.xml) for the chapter MP3s, to be published "
            "at URL.",
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Set the book's title (kept in the cast file).")
    ] = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Set the author (kept in the cast file).")
    ] = None,
    cover: Annotated[
        Path | None,
        typer.Option(
            "--cover", exists=True, dir_okay=False, help="Set the cover image (JPEG or PNG)."
        ),
    ] = None,
    lines: LinesOpt = None,
) -> None:
    """Render chapters into an audiobook: an M4B and/or chapter MP3s, with transcripts.

    Title, author, narrator credit, series, year, description and cover come from the
    [book] table of the cast file, which the first render writes.
    """
    options = RenderOptions(
        out_dir=out_dir,
        cast_path=cast,
        engine=engine.value,
        jobs=jobs,
        dry_run=dry_run,
        voices_dirs=tuple(voices or ()),
        bitrate_kbps=bitrate,
        format=audio_format,
        epub=epub,
        feed_url=feed,
        title=title,
        author=author,
        cover=cover,
        preset=preset,
        loudness_lufs=loudness,
        lines_path=lines,
    )
    with _user_errors(), _ProgressReporter(enabled=err.is_terminal) as reporter:
        summary = pipeline.render_book(input_path, options, reporter)
    _print_summary(summary)
    if summary.doubtful_lines:
        out.print(
            f"{summary.doubtful_lines} lines below confidence {REVIEW_THRESHOLD:.2f}; "
            f"list them with: narrator review {_quoted(input_path)}",
            markup=False,
        )


@app.command()
def analyze(
    input_path: InputArg,
    cast: CastOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    threshold: LowOpt = REVIEW_THRESHOLD,
    voices: VoicesOpt = None,
    lines: LinesOpt = None,
) -> None:
    """Show who says what: a readable script, or JSON with offsets (--json)."""
    with _user_errors(), _working(_finding_speakers(input_path)):
        report = analyze_input(input_path, cast, tuple(voices or ()), lines)
    _print_warnings(report.warnings)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
        return
    for title, segments in report.parts():
        if title:
            out.print(f"[bold]== {title} ==[/bold]")
        for segment in segments:
            _print_segment(segment, threshold)
    low = [s for _, segs in report.parts() for s in segs if _is_low(s, threshold)]
    out.print()
    _print_characters(report.character_rows())
    if low:
        out.print(f"\n{len(low)} lines below confidence {threshold:.2f} (marked '?'); list them")
        out.print(
            f"with `narrator review {_quoted(input_path)}` and fix one with `narrator assign`."
        )


@app.command(name="review")
def review_command(
    input_path: InputArg,
    cast: CastOpt = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every speech line, not only the doubtful ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    threshold: LowOpt = REVIEW_THRESHOLD,
    lines: LinesOpt = None,
    voices: VoicesOpt = None,
) -> None:
    """List the lines most likely wrong, least certain first, with the evidence for each."""
    with _user_errors(), _working(_finding_speakers(input_path)):
        report = review.review_input(input_path, cast, lines, tuple(voices or ()))
    _print_warnings(list(report.warnings))
    for change, line in report.changed:
        (err if as_json else out).print(
            f"changed by your corrections: {line.line_id} {change.before or '?'} -> "
            f"{change.after or '?'}: {_short(line.text)}",
            markup=False,
        )
    if as_json:
        data = report.to_json(None if show_all else threshold)
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    shown = report.doubtful(threshold)
    if show_all:
        doubtful = {line.line_id for line in shown}
        shown += [line for line in report.lines if line.line_id not in doubtful]
    for line in shown:
        _print_review_line(line, threshold)
    count = len(report.doubtful(threshold))
    out.print(
        f"\n{count} of {len(report.lines)} speech lines below confidence {threshold:.2f}; "
        f"corrections: {report.lines_path}",
        markup=False,
    )
    if shown:
        out.print(
            f"fix one with: narrator assign {_quoted(input_path)} {shown[0].line_id} NAME",
            markup=False,
        )


@app.command()
def assign(
    input_path: InputArg,
    line_id: Annotated[str, typer.Argument(help="The line's id (`narrator review` lists them).")],
    speaker: Annotated[
        str | None, typer.Argument(help="Who speaks it, as a name, alias or printed label.")
    ] = None,
    kind: Annotated[
        LineKind | None, typer.Option("--kind", help="What the line is (narration: not speech).")
    ] = None,
    split_at: Annotated[
        str | None, typer.Option("--split-at", help="Words where a second speaker takes over.")
    ] = None,
    then: Annotated[
        str | None, typer.Option("--then", help="Who speaks from --split-at on.")
    ] = None,
    auto: Annotated[
        bool, typer.Option("--auto", help="Drop the correction: narrator's own choice again.")
    ] = False,
    cast: CastOpt = None,
    lines: LinesOpt = None,
    voices: VoicesOpt = None,
) -> None:
    """Correct one line: who speaks it, what it is, or where a second speaker takes over."""
    with _user_errors(), _working(_finding_speakers(input_path)):
        result = review.assign_line(
            input_path,
            line_id,
            speaker,
            kind=Kind(kind.value) if kind else None,
            split_at=split_at,
            then=then,
            auto=auto,
            cast_path=cast,
            lines_path=lines,
            voices_dirs=tuple(voices or ()),
        )
    before = _who(result.before)
    after = _who(result.after)
    line = result.after or result.before
    text = _short(line.text) if line else ""
    out.print(f"{result.line_id}: {after} (was {before}) {text}", markup=False)
    for part in result.parts:
        out.print(f"  {part.line_id}: {_who(part)} {_short(part.text)}", markup=False)
    for old, new in result.also_changed:
        out.print(
            f"  also changed: {new.line_id} {_who(old)} -> {_who(new)} {_short(new.text)}",
            markup=False,
        )
    for stale in result.stale:
        err.print(f"warning: {stale.message()}", markup=False)
    err.print(f"corrections: {result.lines_path}", markup=False)


def _who(line: review.ReviewLine | None) -> str:
    if line is None:
        return "narration"
    mark = " (corrected)" if line.corrected else ""
    return f"{line.speaker or '?'}{mark}"


def _short(text: str, limit: int = 60) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1] + "\u2026"


def _finding_speakers(path: Path) -> str:
    return f"finding who speaks in {path.name}"


def _quoted(path: Path) -> str:
    shown = str(path)
    return f'"{shown}"' if any(c in shown for c in " '\"$&;()|<>*?") else shown


def _print_review_line(line: review.ReviewLine, threshold: float) -> None:
    mark = "?" if is_below(line.confidence, threshold) else " "
    conf = f"{line.confidence:.2f}" if line.confidence is not None else "-"
    fixed = " (corrected)" if line.corrected else ""
    out.print(
        f"{mark} {line.line_id}  ch {line.chapter}  {line.speaker or '?'}{fixed} [{conf}]: "
        f"{_short(line.text, 100)}",
        markup=False,
    )
    if line.evidence:
        out.print(f"      why: {'; '.join(line.evidence)}", markup=False, style="dim")
    if line.candidates:
        others = ", ".join(f"{name} {p:.2f}" for name, p in line.candidates)
        out.print(f"      or: {others}", markup=False, style="dim")


@app.command(name="cast")
def cast_command(
    input_path: InputArg,
    cast: CastOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Create or update the cast file, keeping your edits.")
    ] = False,
    preview: Annotated[
        Path | None,
        typer.Option("--preview", help="Render one short line per main character into DIR."),
    ] = None,
    engine: Annotated[Engine, typer.Option("--engine", help="Speech engine.")] = DEFAULT,
    voices: VoicesOpt = None,
) -> None:
    """List the characters with their voices; --write saves them to the cast file."""
    with _user_errors():
        with _working(_finding_speakers(input_path)):
            report = analyze_input(input_path, cast, tuple(voices or ()))
        written = write_cast_file(input_path, cast, report) if write else None
        previews = []
        if preview:
            with _working("rendering a line per main character"):
                previews = preview_characters(report, preview, engine.value)
    _print_warnings(report.warnings)
    rows = report.character_rows()
    if as_json:
        sys.stdout.write(
            json.dumps({"characters": [row.to_json() for row in rows]}, ensure_ascii=False) + "\n"
        )
    else:
        _print_characters(rows)
    if written:
        err.print(f"cast file written: {written}")
    for path in previews:
        err.print(f"preview: {path}")


@app.command()
def studio(
    input_path: InputArg,
    cast: CastOpt = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder for what the page renders.")
    ] = Path("output"),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0: a free one.")
    ] = 0,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    engine: Annotated[
        Engine, typer.Option("--engine", help="Speech engine; 'fake' writes tones (for tests).")
    ] = DEFAULT,
    lines: LinesOpt = None,
    voices: VoicesOpt = None,
) -> None:
    """Cast, review and listen in the browser: a local page over the same files as the CLI.

    Serves on 127.0.0.1 only; the first line printed is the address with its one-time token.
    Ctrl-C stops it.
    """
    from narrator.studio import Studio, StudioConfig, StudioServer

    config = StudioConfig(
        input_path=input_path,
        cast_path=cast,
        lines_path=lines,
        out_dir=out_dir,
        voices_dirs=tuple(voices or ()),
        engine=engine.value,
    )
    with _user_errors():
        try:
            server = StudioServer(Studio(config), port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from exc
    out.print(server.url, markup=False)
    sys.stdout.flush()
    err.print("narrator studio: serving on 127.0.0.1 only; Ctrl-C stops it", markup=False)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err.print("narrator studio: stopped", markup=False)
    finally:
        server.server_close()


@voices_app.callback(invoke_without_command=True)
def voices_list(
    ctx: typer.Context,
    voices: VoicesOpt = None,
    engine: Annotated[Engine, typer.Option("--engine", help="Speech engine.")] = DEFAULT,
) -> None:
    """List the voice profiles and the engine's installed voices."""
    if ctx.invoked_subcommand is not None:
        return
    with _user_errors():
        profiles, engine_voices = list_voices(tuple(voices or ()), engine.value)
    out.print("[bold]Voice profiles[/bold] (set: rate, pitch; measured: F0, pace, loudness)")
    for profile in profiles:
        gender = profile.gender.value if profile.gender else "-"
        figures = profile.measured
        heard = f"{'not measured':<27}"
        if figures:
            heard = f"{figures.pitch_hz:>4.0f} Hz {figures.pace_wpm:>4.0f} wpm "
            heard += f"{figures.loudness_lufs:>6.1f} LUFS"
        out.print(
            f"  {profile.id:<18} {gender:<6} {profile.age:<5} {profile.engine_voice:<22} "
            f"{profile.rate_wpm:>3} wpm pitch {profile.pitch:>2} | {heard}  {profile.description}",
            markup=False,
        )
    out.print(f"\n[bold]Engine voices[/bold] ({len(engine_voices)}; variants as voice+variant)")
    out.print("  " + ", ".join(engine_voices), markup=False)


@voices_app.command("preview")
def voices_preview(
    profile: Annotated[str, typer.Argument(help="A voice profile id (see `narrator voices`).")],
    text: Annotated[str | None, typer.Argument(help="What to say.")] = None,
    out_path: Annotated[Path, typer.Option("--out", help="MP3 file to write.")] = Path(
        "sample.mp3"
    ),
    engine: Annotated[Engine, typer.Option("--engine", help="Speech engine.")] = DEFAULT,
    voices: VoicesOpt = None,
) -> None:
    """Audition a voice: speak a line with it into an MP3."""
    with _user_errors():
        path = preview_voice(profile, text, out_path, engine.value, tuple(voices or ()))
    err.print(f"wrote {path}")


@cache_app.callback(invoke_without_command=True)
def cache_info(ctx: typer.Context) -> None:
    """Show where the clip cache is, how much it holds and its size limit."""
    if ctx.invoked_subcommand is not None:
        return
    with _user_errors():
        info = ClipCache().info()
    out.print(f"clip cache: {info.cache_dir}", markup=False)
    out.print(f"{info.clips} clips, {_format_size(info.size_bytes)} ", end="")
    out.print(f"(limit {_format_size(info.max_bytes)}; set it with NARRATOR_CACHE_MAX)")
    out.print(
        f"render state: {default_state_dir()}, {_format_size(state_size_bytes())} "
        "(M4B parts kept so that unchanged chapters are not encoded again)",
        markup=False,
    )


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached clip (the next render synthesizes everything again)."""
    with _user_errors():
        freed = ClipCache().clear()
    out.print(f"cleared the clip cache: {_format_size(freed)} freed")


@cache_app.command("prune")
def cache_prune(
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", help="Keep at most this much, e.g. 2G or 500M."),
    ] = None,
) -> None:
    """Delete the least recently used clips until the cache fits its size limit."""
    with _user_errors():
        try:
            limit = parse_size(max_size) if max_size is not None else None
        except ValueError as exc:
            raise ConfigError(f"--max-size: {exc}") from exc
        freed = ClipCache().prune(limit)
        info = ClipCache().info(limit)
    out.print(
        f"pruned the clip cache: {_format_size(freed)} freed, {_format_size(info.size_bytes)} "
        f"in {info.clips} clips left"
    )


def _format_size(size_bytes: int) -> str:
    value, unit = float(size_bytes), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{size_bytes} B" if unit == "B" else f"{value:.1f} {unit}"


def _is_low(segment: Segment, threshold: float) -> bool:
    return is_doubtful(segment, threshold)


def _print_segment(segment: Segment, threshold: float) -> None:
    text = " ".join(segment.text.split())
    if not text:
        return
    if segment.kind.is_speech:
        mark = "?" if _is_low(segment, threshold) else " "
        kind = " (thought)" if segment.kind is Kind.THOUGHT else ""
        conf = f"{segment.confidence:.2f}" if segment.confidence is not None else "-"
        _print_listed(f"{mark} {segment.speaker or '?'}{kind} [{conf}]: {text}")
    else:
        label = {"heading": "# ", "note": "(note) "}.get(segment.kind.value, "")
        _print_listed(f"    {label}{text}", style="dim")


def _print_listed(text: str, style: str | None = None) -> None:
    """One line of a listing as long as a book: written straight out unless a terminal
    shows its style (rich lays out every line it prints, a second or two for a novel)."""
    if out.is_terminal:
        out.print(text, markup=False, style=style)
    else:
        out.file.write(text + "\n")


def _print_characters(rows: list[CharacterRow]) -> None:
    out.print("[bold]Characters[/bold]")
    if not rows:
        out.print("  (none found)")
    for row in rows:
        aliases = ", ".join(a for a in row.aliases if a != row.name)
        out.print(
            f"  {row.name:<24} {row.gender or '-':<7} {row.lines:>4} lines  "
            f"voice {row.voices or '-':<18} {aliases}",
            markup=False,
        )


def _format_duration(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _print_summary(summary: pipeline.RenderSummary) -> None:
    if summary.dry_run:
        out.print(f"[bold]Plan for {summary.book_title}[/bold] (dry run: nothing written)")
        for ch in summary.chapters:
            state = (
                "up to date"
                if ch.status is ChapterStatus.SKIPPED
                else f"{ch.clips_to_synthesize} clips to synthesize"
            )
            out.print(f"  {ch.number:>3}. {ch.title}  {ch.lines} lines, {state}", markup=False)
        out.print(f"into {summary.book_dir}", markup=False)
    else:
        out.print(f"[bold]{summary.book_title}[/bold]: {summary.book_dir}")
        if summary.written:
            out.print("files written:")
        for path in summary.written:
            out.print(f"  {path}", markup=False)
        if summary.cast_written and summary.cast_path:
            out.print(f"cast file written: {summary.cast_path} (edit it and render again)")
    rendered, skipped = summary.count(ChapterStatus.RENDERED), summary.count(ChapterStatus.SKIPPED)
    audio = _format_duration(summary.duration_ms)
    done = (
        f"{summary.count(ChapterStatus.PLANNED)} chapters to render"
        if summary.dry_run
        else f"{rendered} chapters rendered"
    )
    if summary.count(ChapterStatus.RETAGGED):
        done += f", {summary.count(ChapterStatus.RETAGGED)} retagged (same audio, new tags)"
    out.print(f"{done}, {skipped} skipped; audio {audio}; {summary.elapsed_s:.1f} s")
    out.print(f"{summary.clips_synthesized} clips synthesized, {summary.clips_reused} reused")
    voices = ", ".join(f"{v} {n}" for v, n in sorted(summary.lines_per_voice.items()))
    out.print(f"lines per voice: {voices}", markup=False)
    for ch in summary.chapters:
        if ch.loudness is not None:
            out.print(
                f"  chapter {ch.number}: {ch.loudness.integrated_lufs:.1f} LUFS, "
                f"true peak {ch.loudness.true_peak_dbtp:.1f} dBTP",
                markup=False,
            )
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in summary.stage_seconds.items())
    out.print(f"time per stage (summed over parallel work): {stages}", markup=False)
    if summary.to_review:
        out.print("lines whose speaker is a guess, the first few:")
    for chapter, speaker, text in summary.to_review[:_REVIEW_SHOWN]:
        out.print(f"  ch {chapter}  {speaker}: {text[:70]}", markup=False)
    _print_warnings(summary.warnings)


_REVIEW_SHOWN = 5  # the summary shows a few; `narrator analyze` lists them all


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False)


# What the render shows before its bars start, by stage (`Reporter.stage`).
_STEPS = {"load": "loading the book", "analyze": "finding who speaks"}


class _ProgressReporter(Reporter):
    """Progress bars for chapters and clips on a terminal; silent otherwise.

    Both bars count the whole run: clips synthesized out of all clips, chapters written
    (stitched and encoded) out of all chapters; the chapters bar's ETA is the run's.
    """

    def __init__(self, enabled: bool, console: Console = err) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.chapters: TaskID | None = None
        self.clips: TaskID | None = None
        self.step: TaskID | None = None

    def __enter__(self) -> _ProgressReporter:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def run_started(self, chapters: int, clips: int) -> None:
        if self.enabled:
            if self.step is not None:
                self.progress.remove_task(self.step)
                self.step = None
            self.chapters = self.progress.add_task("chapters", total=chapters)
            self.clips = self.progress.add_task("clips", total=clips)

    def chapter_started(self, index: int, total: int, title: str, clips: int) -> None:
        if self.enabled and self.clips is not None:
            self.progress.update(self.clips, description=f"clips: {title[:30]}")

    def clips_done(self, done: int, total: int) -> None:
        if self.enabled and self.clips is not None:
            self.progress.update(self.clips, completed=min(done, total), total=total)

    def chapter_finished(self, result: ChapterResult) -> None:
        if self.enabled and self.chapters is not None:
            self.progress.advance(self.chapters)

    def stage(self, name: str) -> None:
        if not self.enabled:
            return
        if name in _STEPS:
            # Before the bars: loading and analysing a novel take seconds, shown as a
            # bar with no total (it pulses) until the chapters start.
            if self.step is None:
                self.step = self.progress.add_task(_STEPS[name], total=None)
            self.progress.update(self.step, description=_STEPS[name])
        elif self.chapters is not None and name == "package":
            self.progress.update(self.chapters, description="packaging")


def main() -> None:
    """Entry point of the `narrator` command."""
    app()
