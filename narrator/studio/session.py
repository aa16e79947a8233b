"""The studio's work, without HTTP: a book's script, cast and renders as JSON-ready data.

Input: a chapter, folder or EPUB with its cast and corrections files (StudioConfig). Output:
plain dicts for the page, and the files the CLI writes, written by the CLI's own code:
`review.assign_line` for line corrections (as `narrator assign`), `casting.set_character`
and `write_cast_file` for the cast file (as `narrator cast --write`, comments
kept), `pipeline.render_book` for audio (as `narrator render --format mp3`).

Every save names the version of the file the page read (narrator.studio.versions); a save
against a file changed since is refused. Paths never come from a request: samples are
found by their hash, chapter audio by its chapter number.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any

from narrator import pipeline, review
from narrator.analysis import REVIEW_THRESHOLD, default_cast_path, is_doubtful
from narrator.casting import CHARACTER_SETTINGS, set_character
from narrator.corrections import default_lines_path
from narrator.errors import ConfigError, InputError, NarratorError
from narrator.export import read_vtt
from narrator.layout import Format, default_state_dir
from narrator.model import Character, Gender, Kind
from narrator.plan import ChapterResult, ChapterStatus, RenderOptions
from narrator.preview import SAMPLE_TEXT, first_spoken_lines, speak_sample
from narrator.progress import Reporter
from narrator.report import AnalyzeReport, analyze_input, write_cast_file
from narrator.studio.versions import check_version, file_version
from narrator.synth import DEFAULT_ENGINE
from narrator.voices import PITCH_RANGE, RATE_WPM_RANGE

SAMPLE_NAME_CHARS = 24  # hex digits of a sample's content hash: its file name and URL


@dataclass(frozen=True)
class StudioConfig:
    """What the studio works on: the same inputs and options as the CLI commands."""

    input_path: Path
    cast_path: Path | None = None  # None: the book's own cast.toml
    lines_path: Path | None = None  # None: the book's own corrections file
    out_dir: Path = Path("output")
    voices_dirs: tuple[Path, ...] = ()
    engine: str = DEFAULT_ENGINE
    jobs: int = 2

    @property
    def cast_file(self) -> Path:
        return self.cast_path or default_cast_path(self.input_path)

    @property
    def lines_file(self) -> Path:
        return self.lines_path or default_lines_path(self.input_path)


@dataclass
class RenderJob:
    """The state of the studio's one render: for the progress bar and the Listen view."""

    state: str = "idle"  # "idle" | "running" | "done" | "failed"
    stage: str = ""
    clips_done: int = 0
    clips_total: int = 0
    message: str = ""
    chapters: dict[int, ChapterResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "stage": self.stage,
            "clips_done": self.clips_done,
            "clips_total": self.clips_total,
            "message": self.message,
        }


class _JobReporter(Reporter):
    def __init__(self, job: RenderJob) -> None:
        self.job = job

    def stage(self, name: str) -> None:
        self.job.stage = name

    def run_started(self, chapters: int, clips: int) -> None:
        self.job.stage = "synthesize"
        self.job.clips_total = clips

    def clips_done(self, done: int, total: int) -> None:
        self.job.clips_done, self.job.clips_total = done, total


class Studio:
    """One book open in the studio; every method is what one page request does."""

    def __init__(self, config: StudioConfig) -> None:
        if not config.input_path.exists():
            raise InputError(f"{config.input_path}: no such file or folder")
        self.config = config
        self.samples_dir = default_state_dir() / "studio-samples"
        self.job = RenderJob()
        self._write_lock = threading.Lock()  # one save or render start at a time
        self._cache_lock = threading.Lock()
        self._cached: tuple[tuple[str, ...], AnalyzeReport] | None = None

    # ------------------------------------------------------------------ reading

    def versions(self) -> dict[str, str]:
        """The versions of the files a save may write, as the page must send them back."""
        return {
            "cast": file_version(self.config.cast_file),
            "lines": file_version(self.config.lines_file),
        }

    def _input_stamp(self) -> str:
        path = self.config.input_path
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        stamps = [f"{f}:{f.stat().st_mtime_ns}:{f.stat().st_size}" for f in files if f.is_file()]
        return hashlib.sha256("\n".join(stamps).encode("utf-8")).hexdigest()

    def report(self, versions: Mapping[str, str] | None = None) -> AnalyzeReport:
        """The book analysed with its cast and corrections (re-read when a file changed).

        versions: the files' versions as the caller has just read them (not hashed again).
        """
        key = (*(versions or self.versions()).values(), self._input_stamp())
        with self._cache_lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
        c = self.config
        report = analyze_input(c.input_path, c.cast_path, c.voices_dirs, c.lines_path)
        with self._cache_lock:
            self._cached = (key, report)
        return report

    def lines(self) -> dict[str, object]:
        """Every speech line: the same object as `narrator review --all --json`."""
        c = self.config
        return review.review_input(c.input_path, c.cast_path, c.lines_path, c.voices_dirs).to_json()

    def script(self) -> dict[str, object]:
        """The book for the Script view: every segment of every chapter, and who may speak."""
        versions = self.versions()
        report = self.report(versions)
        chapters = []
        for chapter in report.analysis.chapters:
            segments = []
            changed = {change.line_id for change in chapter.changed}
            for segment, line_id in zip(chapter.segments, chapter.ids, strict=True):
                speech = segment.kind.is_speech
                segments.append(
                    {
                        "id": line_id,
                        "kind": segment.kind.value,
                        "speaker": segment.speaker if speech else None,
                        "confidence": segment.confidence if speech else None,
                        "doubtful": is_doubtful(segment),
                        "evidence": list(segment.evidence) if speech else [],
                        "candidates": [
                            {"speaker": name, "probability": p} for name, p in segment.candidates
                        ]
                        if speech
                        else [],
                        "corrected": line_id in chapter.corrected,
                        "changed": line_id in changed,
                        "text": segment.text,
                    }
                )
            chapters.append(
                {
                    "number": chapter.chapter.number,
                    "title": chapter.chapter.title,
                    "segments": segments,
                }
            )
        return {
            "title": report.analysis.book.title,
            "chapters": chapters,
            "characters": [row.to_json() for row in report.character_rows()],
            "threshold": REVIEW_THRESHOLD,
            "warnings": report.warnings,
            "versions": versions,
        }

    # ------------------------------------------------------------------ line corrections

    def assign(self, line_id: str, body: Mapping[str, Any]) -> dict[str, object]:
        """Correct one line exactly as `narrator assign` does; refused on a stale version.

        body: {"speaker": "Name"} | {"kind": "narration"|"dialogue"|"thought"} | {"auto": true},
        with "version": the corrections file's version the page read (optional for API use).
        """
        allowed = {"speaker", "kind", "auto", "version"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise InputError(f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        speaker = _optional_str(body, "speaker")
        kind_value = _optional_str(body, "kind")
        auto = body.get("auto", False)
        if not isinstance(auto, bool):
            raise InputError("auto: must be true or false")
        kinds = {k.value: k for k in (Kind.NARRATION, Kind.DIALOGUE, Kind.THOUGHT)}
        if kind_value is not None and kind_value not in kinds:
            raise InputError(f"kind: must be one of {', '.join(kinds)}, got {kind_value!r}")
        c = self.config
        with self._write_lock:
            check_version(c.lines_file, _optional_str(body, "version"))
            result = review.assign_line(
                c.input_path,
                line_id,
                speaker,
                kind=kinds[kind_value] if kind_value else None,
                auto=auto,
                cast_path=c.cast_path,
                lines_path=c.lines_path,
                voices_dirs=c.voices_dirs,
            )
        return {
            "id": result.line_id,
            "before": result.before.to_json() if result.before else None,
            "after": result.after.to_json() if result.after else None,
            "parts": [part.to_json() for part in result.parts],
            "also_changed": [
                {"id": new.line_id, "before": old.speaker, "after": new.speaker, "text": new.text}
                for old, new in result.also_changed
            ],
            "stale": [stale.message() for stale in result.stale],
            "lines_file": str(result.lines_path),
            "versions": self.versions(),
        }

    # ------------------------------------------------------------------ cast

    def cast(self) -> dict[str, object]:
        """The Cast view: characters with voices and settings, the profiles to choose from."""
        versions = self.versions()
        report = self.report(versions)
        by_name = {character.name: character for character in report.analysis.characters}
        first = first_spoken_lines(report)
        rows = []
        for row in report.character_rows():
            character = by_name.get(row.name)
            rows.append(
                {
                    **row.to_json(),
                    "rate_wpm": character.rate_wpm if character else None,
                    "pitch": character.pitch if character else None,
                    "sample": " ".join(first.get(row.name, "").split()),
                }
            )
        profiles = sorted(report.casting.profiles.values(), key=lambda p: p.id)
        return {
            "characters": rows,
            "narrator": report.casting.assignment.narrator,
            "profiles": [
                {
                    "id": p.id,
                    "description": p.description,
                    "gender": p.gender.value if p.gender else None,
                    "age": p.age,
                    "engine_voice": p.engine_voice,
                    "rate_wpm": p.rate_wpm,
                    "pitch": p.pitch,
                }
                for p in profiles
            ],
            "genders": [g.value for g in Gender],
            "rate_wpm_range": list(RATE_WPM_RANGE),
            "pitch_range": list(PITCH_RANGE),
            "cast_file": str(self.config.cast_file),
            "versions": versions,
        }

    def save_character(self, name: str, body: Mapping[str, Any]) -> dict[str, object]:
        """Change a character's settings in the cast file (comments kept); stale: refused.

        body: any of aliases (list of names), gender, voice (a profile id), rate_wpm, pitch
        (a number, or null for the voice's own), and "version": the cast file's version.
        """
        values = {key: value for key, value in body.items() if key != "version"}
        unknown = sorted(set(values) - set(CHARACTER_SETTINGS))
        if unknown:
            raise InputError(
                f"unknown field {unknown[0]!r}; allowed: {', '.join(CHARACTER_SETTINGS)}"
            )
        if not name.strip():
            raise InputError("a character needs a name")
        voice = values.get("voice")
        if voice is not None:
            profiles = self.report().casting.profiles  # as the page offered them, read once
            if voice not in profiles:
                raise ConfigError(f"unknown voice profile {voice!r}; `narrator voices` lists them")
        if isinstance(values.get("aliases"), list):
            values["aliases"] = [a.strip() for a in values["aliases"] if str(a).strip()]
        path = self.config.cast_file
        with self._write_lock:
            check_version(path, _optional_str(body, "version"))
            if self.config.cast_path is None and not path.exists():
                # The book's own cast file starts as `narrator cast --write` would write it.
                write_cast_file(self.config.input_path, None, self.report())
            cast = set_character(path, name, values)
        saved = next((c for c in cast.characters if c.name == name), None) or Character(name)
        return {
            "name": saved.name,
            "aliases": list(saved.aliases),
            "gender": saved.gender.value if saved.gender else None,
            "voice": saved.voice,
            "rate_wpm": saved.rate_wpm,
            "pitch": saved.pitch,
            "versions": self.versions(),
        }

    def sample(self, name: str, body: Mapping[str, Any] | None = None) -> str:
        """A short MP3 of a character's first line in its voice: its hash.

        body may try out settings before they are saved: "voice" (a profile id), "rate_wpm",
        "pitch". Generated on demand and kept by content (text, voice settings, engine), so
        hearing the same voice again costs nothing.
        """
        body = body or {}
        unknown = sorted(set(body) - {"voice", "rate_wpm", "pitch"})
        if unknown:
            raise InputError(f"unknown field {unknown[0]!r}; allowed: pitch, rate_wpm, voice")
        report = self.report()
        casting = report.casting
        voice_id = _optional_str(body, "voice")
        if voice_id is not None and voice_id not in casting.profiles:
            raise ConfigError(f"unknown voice profile {voice_id!r}; `narrator voices` lists them")
        by_name = {character.name: character for character in report.analysis.characters}
        character = by_name.get(name) or Character(name)
        if "rate_wpm" in body:
            character = replace(character, rate_wpm=_optional_int(body, "rate_wpm", RATE_WPM_RANGE))
        if "pitch" in body:
            character = replace(character, pitch=_optional_int(body, "pitch", PITCH_RANGE))
        if voice_id is None:
            voice_id = casting.speaker_voice(name).voice_id
        voice = casting.voice(voice_id, character)
        text = first_spoken_lines(report).get(name) or SAMPLE_TEXT
        text = " ".join(text.split())
        settings = list(astuple(voice.settings))
        key_source = [self.config.engine, name, text, voice.voice_id, voice.gain_db, settings]
        key = hashlib.sha256(json.dumps(key_source, default=str).encode()).hexdigest()
        key = key[:SAMPLE_NAME_CHARS]
        path = self.sample_path(key)
        if not path.exists():
            speak_sample(text, name, voice, path, self.config.engine)
        return key

    def sample_path(self, key: str) -> Path:
        """Where the sample with this hash is kept (it may not exist)."""
        if len(key) != SAMPLE_NAME_CHARS or any(ch not in "0123456789abcdef" for ch in key):
            raise InputError(f"{key}: not a sample")
        return self.samples_dir / f"{key}.mp3"

    # ------------------------------------------------------------------ render and listen

    def _render_options(self, dry_run: bool, chapter: int | None = None) -> RenderOptions:
        c = self.config
        return RenderOptions(
            only_chapters=frozenset({chapter}) if chapter is not None else None,
            out_dir=c.out_dir,
            cast_path=c.cast_path,
            engine=c.engine,
            jobs=c.jobs,
            dry_run=dry_run,
            voices_dirs=c.voices_dirs,
            format=Format.MP3,
            lines_path=c.lines_path,
        )

    def listen(self) -> dict[str, object]:
        """The chapters, whether each has audio, and whether it is up to date."""
        summary = pipeline.render_book(self.config.input_path, self._render_options(True))
        chapters = []
        for result in summary.chapters:
            audio = result.mp3_path is not None and result.mp3_path.exists()
            if audio:
                self.job.chapters[result.number] = result
            chapters.append(
                {
                    "number": result.number,
                    "title": result.title,
                    "audio": audio,
                    "current": result.status is ChapterStatus.SKIPPED,
                }
            )
        return {"chapters": chapters, "render": self.job.to_json()}

    def start_render(self, chapter: int | None = None, wait: bool = False) -> dict[str, object]:
        """Render one chapter (None: the whole book) in the background; changed ones only.

        Chapter MP3s and WebVTT transcripts, as `narrator render --format mp3` writes them.
        """
        with self._write_lock:
            if self.job.state == "running":
                raise InputError("a render is already running")
            self.job = RenderJob(state="running", stage="starting", chapters=self.job.chapters)
        thread = threading.Thread(target=self._render, args=(self.job, chapter), daemon=True)
        thread.start()
        if wait:
            thread.join()
        return self.job.to_json()

    def _render(self, job: RenderJob, chapter: int | None) -> None:
        try:
            options = self._render_options(False, chapter)
            summary = pipeline.render_book(self.config.input_path, options, _JobReporter(job))
        except NarratorError as exc:
            job.state, job.message = "failed", str(exc)
            return
        except Exception as exc:  # a bug: the page says so instead of spinning forever
            job.state, job.message = "failed", f"internal error: {exc!r}"
            return
        job.chapters = {result.number: result for result in summary.chapters}
        done = summary.count(ChapterStatus.RENDERED) + summary.count(ChapterStatus.RETAGGED)
        job.stage, job.state = "done", "done"
        if chapter is not None:
            job.message = f"chapter {chapter} " + ("rendered" if done else "was up to date")
        else:
            job.message = (
                f"{done} chapters rendered, {summary.count(ChapterStatus.SKIPPED)} up to date"
            )

    def chapter_files(self, number: int) -> tuple[Path, Path]:
        """A rendered chapter's MP3 and WebVTT transcript (InputError if there are none)."""
        result = self.job.chapters.get(number)
        if result is None:
            self.listen()
            result = self.job.chapters.get(number)
        if result is None or result.mp3_path is None or result.vtt_path is None:
            raise InputError(f"chapter {number} has no audio yet: render it first")
        out_dir = self.config.out_dir.resolve()
        for path in (result.mp3_path, result.vtt_path):
            if not path.resolve().is_relative_to(out_dir) or not path.exists():
                raise InputError(f"chapter {number} has no audio yet: render it first")
        return result.mp3_path, result.vtt_path

    def cues(self, number: int) -> dict[str, object]:
        """A rendered chapter's transcript cues (from its WebVTT file), for the Listen view."""
        _, vtt_path = self.chapter_files(number)
        return {
            "cues": [
                {"start_ms": c.start_ms, "end_ms": c.end_ms, "speaker": c.speaker, "text": c.text}
                for c in read_vtt(vtt_path)
            ]
        }


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key}: must be a non-empty string")
    return value.strip()


def _optional_int(body: Mapping[str, Any], key: str, bounds: tuple[int, int]) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{key}: must be a whole number {low}..{high}, got {value!r}")
    return value
