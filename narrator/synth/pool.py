"""Speaking lines in worker processes, with the clip cache in front.

Input: Sequence[Line]; output: SynthResult with one validated Clip per line, in order.
Workers are started with the spawn context and each holds one engine, so the parent never
holds a pyttsx3 engine (forking one deadlocks in C). Cache hits never reach a worker, and
identical lines in a batch are spoken once. Every clip has a timeout that grows with its
length; a worker that hangs, crashes or returns a bad clip (no audio, a length that does not
fit its words and rate) is killed and replaced and the clip tried again, up to `attempts`
times, before EngineError names the line. A clip longer than its words need is tried once
more; when it comes back long again it is what the engine says (a hum, a line in another
script spelled out): it is kept and named in the warnings, never a failed render.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import shutil
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import Any

from narrator.errors import EngineError, NarratorError, OutputError
from narrator.model import Clip, Line, VoiceSettings
from narrator.synth.base import (
    SAMPLE_RATE_HZ,
    count_words,
    create_engine,
    engine_class,
    engine_id,
    expected_duration_ms,
    max_duration_ms,
    read_wav,
    too_short,
    write_wav,
)
from narrator.synth.cache import CACHE_DIR_ENV, ClipCache, clip_key

ProgressCallback = Callable[[int, int], None]

DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT_BASE_S = 10.0
# pyttsx3 needs 6-12 s for a 3000-word utterance (its buffer grows quadratically).
DEFAULT_TIMEOUT_PER_WORD_S = 0.02
DEFAULT_START_TIMEOUT_S = 60.0
# A line with no letters or digits ("...", "—") becomes this much silence, engine unasked.
SILENT_LINE_MS = 250
# Free space a clip needs beyond its own audio (the cache entry's sidecar, file system slack).
_SPACE_MARGIN_BYTES = 1 << 20


def free_bytes(folder: Path) -> int | None:
    """Free space on the file system holding `folder` (None when it cannot be asked)."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


@dataclass(frozen=True)
class SynthResult:
    """Clips in the order of the lines; synthesized + reused == number of lines."""

    clips: list[Clip]
    synthesized: int  # clips rendered in this call (silent lines included)
    reused: int  # lines served from the cache or by an identical line of the batch
    # One message per failed attempt that was tried again (hang, crash, bad clip), naming
    # the line: material for the end-of-run warnings.
    retries: tuple[str, ...] = ()
    # Clips kept although longer than their words need, naming the line.
    warnings: tuple[str, ...] = ()

    @property
    def retried(self) -> int:
        """Failed attempts that were tried again."""
        return len(self.retries)


def _snippet(text: str) -> str:
    return repr(" ".join(text.split())[:60])


# ---------------------------------------------------------------- worker process side


def _silence_stdout() -> None:
    # pyttsx3 prints "Audio saved to ..." for every clip; workers have nothing to say.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


class Message(StrEnum):
    """What the parent and a worker send each other: (Message, *values) tuples; None stops
    the worker."""

    READY = "ready"  # worker -> parent: the engine started (its id)
    SYNTH = "synth"  # parent -> worker: (text, settings, wav_path) to speak
    VOICES = "voices"  # parent -> worker: list the engine's voices; worker -> parent: them
    DONE = "done"  # worker -> parent: the clip is written
    ERROR = "error"  # worker -> parent: a NarratorError for the user (not retried)
    FAIL = "fail"  # worker -> parent: anything else went wrong (the line is retried)


def worker_main(engine_name: str, conn: Connection) -> None:
    """Body of a worker process: create one engine, then serve requests until told to stop."""
    # Ctrl-C (and SIGTERM from systemd or docker) goes to the whole process group; the
    # parent decides, cleans up and kills the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _silence_stdout()
    # An error inside the engine's C callback (a full disk while pyttsx3 writes the WAV) is
    # "unraisable": Python would print a traceback. Keep it for the answer instead.
    sys.unraisablehook = _keep_unraisable
    # A parent that died (kill -9) closes the pipe: leave quietly, no traceback.
    with contextlib.suppress(EOFError, OSError):
        _serve(engine_name, conn)


_unraisable: list[BaseException] = []


def _keep_unraisable(unraisable: Any) -> None:
    if unraisable.exc_value is not None:
        _unraisable.append(unraisable.exc_value)


def _serve(engine_name: str, conn: Connection) -> None:
    try:
        engine = create_engine(engine_name)
    except NarratorError as exc:
        conn.send((Message.ERROR, exc))
        return
    except Exception as exc:
        conn.send((Message.FAIL, f"{type(exc).__name__}: {exc}"))
        return
    conn.send((Message.READY, engine.id))
    while True:
        request = conn.recv()
        if request is None:
            return
        if request[0] is Message.VOICES:
            conn.send((Message.VOICES, engine.voices()))
            continue
        _, text, settings, wav_path = request
        _unraisable.clear()
        try:
            engine.synthesize(text, settings, Path(wav_path))
        except NarratorError as exc:
            conn.send((Message.ERROR, exc))
        except Exception as exc:
            cause = _unraisable[0] if _unraisable else exc
            conn.send((Message.FAIL, f"{type(cause).__name__}: {cause}"))
        else:
            if _unraisable:
                cause = _unraisable[0]
                conn.send((Message.FAIL, f"{type(cause).__name__}: {cause}"))
            else:
                conn.send((Message.DONE,))


# ---------------------------------------------------------------- parent side


@dataclass
class _Job:
    key: str
    text: str
    settings: VoiceSettings
    line_index: int  # the first line that needs this clip, for messages
    attempts: int = 0
    long_clips: int = 0  # attempts that came back longer than the words need


class _Worker:
    """A worker process as seen from the parent."""

    def __init__(self, engine_name: str, start_timeout_s: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=worker_main,
            args=(engine_name, child_conn),
            name=f"narrator-synth-{engine_name}",
            daemon=True,
        )
        self.process.start()
        # Without closing our copy of the child's end, a crash would never read as EOF.
        child_conn.close()
        self.ready = False
        self.job: _Job | None = None
        self.wav_path: Path | None = None
        self.deadline = time.monotonic() + start_timeout_s

    @property
    def busy(self) -> bool:
        return not self.ready or self.job is not None

    def exit_reason(self) -> str:
        self.process.join(1)
        code = self.process.exitcode
        return f"the engine process stopped (exit code {code})"

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        # A busy worker would only read the request after its clip (or never, if it hangs).
        if not self.busy:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.process.join(2)
        self.kill()


class SynthPool:
    """Worker processes with one engine each; use as a context manager."""

    def __init__(
        self,
        engine_name: str,
        cache: ClipCache,
        jobs: int = 1,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout_base_s: float = DEFAULT_TIMEOUT_BASE_S,
        timeout_per_word_s: float = DEFAULT_TIMEOUT_PER_WORD_S,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
    ) -> None:
        self.engine_name = engine_name
        self.engine_id = engine_id(engine_name)  # also rejects unknown names early
        self.cache = cache
        self.jobs = jobs if jobs >= 1 else (os.cpu_count() or 1)
        self.attempts = max(1, attempts)
        self.timeout_base_s = timeout_base_s
        self.timeout_per_word_s = timeout_per_word_s
        self.start_timeout_s = start_timeout_s
        self._workers: list[_Worker] = []
        self._temp_dir: Path | None = None
        self._names = itertools.count()
        self._start_failures = 0
        self._retries: list[str] = []
        self._warnings: list[str] = []

    def __enter__(self) -> SynthPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers and remove clips left half-done."""
        for worker in self._workers:
            worker.stop()
        self._workers.clear()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def timeout_s(self, text: str) -> float:
        """How long a worker may take on one clip of `text`."""
        return self.timeout_base_s + self.timeout_per_word_s * count_words(text)

    def synthesize(
        self, lines: Sequence[Line], on_progress: ProgressCallback | None = None
    ) -> SynthResult:
        """One validated clip per line, in order; on_progress(lines_done, lines_total)."""
        total = len(lines)
        clips: list[Clip | None] = [None] * total
        known: dict[str, Clip] = {}
        pending: dict[str, _Job] = {}
        waiting: dict[str, list[int]] = {}
        done = made = 0
        self._retries = []
        self._warnings = []
        for index, line in enumerate(lines):
            key = clip_key(line.text, line.settings, self.engine_id)
            if key in pending:
                waiting[key].append(index)
                continue
            clip = known.get(key) or self.cache.get(key)
            if clip is None and count_words(line.text) == 0:
                clip = self._silent_clip(key)
                made += 1
            if clip is not None:
                known[key] = clip
                clips[index] = clip
                done += 1
                continue
            pending[key] = _Job(key=key, text=line.text, settings=line.settings, line_index=index)
            waiting[key] = [index]
        if on_progress is not None:
            on_progress(done, total)

        def finish(job: _Job, clip: Clip) -> None:
            nonlocal done
            for index in waiting[job.key]:
                clips[index] = clip
            done += len(waiting[job.key])
            if on_progress is not None:
                on_progress(done, total)

        if pending:
            try:
                self._run(deque(pending.values()), finish)
            except BaseException:
                self.close()
                raise
        assert all(clip is not None for clip in clips)
        return SynthResult(
            clips=[clip for clip in clips if clip is not None],
            synthesized=len(pending) + made,
            reused=total - len(pending) - made,
            retries=tuple(self._retries),
            warnings=tuple(self._warnings),
        )

    def _silent_clip(self, key: str) -> Clip:
        wav_path = self._temp_path(key)
        write_wav(wav_path, b"\0\0" * (22050 * SILENT_LINE_MS // 1000))
        return self.cache.put(key, wav_path)

    def _temp_path(self, key: str) -> Path:
        if self._temp_dir is None:
            self._temp_dir = self.cache.make_temp_dir()
        return self._temp_dir / f"{key[:16]}-{next(self._names)}.wav"

    def _start_worker(self) -> None:
        self._workers.append(_Worker(self.engine_name, self.start_timeout_s))

    def _run(self, queue: deque[_Job], finish: Callable[[_Job, Clip], None]) -> None:
        while len(self._workers) < min(self.jobs, len(queue)):
            self._start_worker()
        while queue or any(worker.job is not None for worker in self._workers):
            for worker in self._workers:
                if queue and worker.ready and worker.job is None:
                    self._assign(worker, queue.popleft())
            busy = [worker for worker in self._workers if worker.busy]
            if not busy:
                # Cannot happen while failed workers are replaced; a guard against spinning.
                self._start_worker()
                continue
            timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
            by_conn = {worker.conn: worker for worker in self._workers}
            for conn in wait(list(by_conn), timeout):
                assert isinstance(conn, Connection)
                self._receive(by_conn[conn], queue, finish)
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.busy and now > worker.deadline and worker in self._workers:
                    limit = self.timeout_s(worker.job.text) if worker.job else self.start_timeout_s
                    self._replace(worker, queue, f"no answer within {limit:.1f} s")

    def _check_space(self, job: _Job | None) -> None:
        """OutputError naming the cache folder when its disk cannot hold another clip."""
        folder = self._temp_dir or self.cache.cache_dir
        free = free_bytes(folder)
        longest_ms = max_duration_ms(job.text, job.settings.rate_wpm) if job else 0.0
        needed = int(longest_ms * SAMPLE_RATE_HZ / 1000) * 2 + _SPACE_MARGIN_BYTES
        if free is not None and free < needed:
            raise OutputError(
                f"{self.cache.cache_dir}: the disk holding the clip cache is full "
                f"({free // 1024} kB free): free some space, or set {CACHE_DIR_ENV} "
                "to a folder on another disk"
            )

    def _assign(self, worker: _Worker, job: _Job) -> None:
        self._check_space(job)  # before the engine fails inside its C callback, unclearly
        worker.job = job
        worker.wav_path = self._temp_path(job.key)
        worker.deadline = time.monotonic() + self.timeout_s(job.text)
        worker.conn.send((Message.SYNTH, job.text, job.settings, str(worker.wav_path)))

    def _receive(
        self, worker: _Worker, queue: deque[_Job], finish: Callable[[_Job, Clip], None]
    ) -> None:
        try:
            message: tuple[Any, ...] = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker, queue, worker.exit_reason())
            return
        kind = message[0]
        if kind is Message.READY:
            worker.ready = True
            worker.deadline = math.inf
            self._start_failures = 0
        elif kind is Message.ERROR:
            error: NarratorError = message[1]
            if worker.job is not None:
                line = worker.job.line_index + 1
                raise type(error)(f"{error} (line {line}: {_snippet(worker.job.text)})")
            raise error
        elif kind is Message.FAIL:
            self._replace(worker, queue, str(message[1]))
        elif kind is Message.DONE and worker.job is not None and worker.wav_path is not None:
            job = worker.job
            try:
                clip = self._validate_and_store(job, worker.wav_path)
            except ValueError as exc:
                # The engine may be confused (a clip cut short or merged with another):
                # a fresh process is cheaper than finding out.
                self._replace(worker, queue, str(exc))
                return
            worker.job = None
            worker.wav_path = None
            worker.deadline = math.inf
            finish(job, clip)

    def _validate_and_store(self, job: _Job, wav_path: Path) -> Clip:
        info = read_wav(wav_path)
        rate_wpm = job.settings.rate_wpm
        if too_short(info.duration_ms, job.text, rate_wpm):
            expected_ms = expected_duration_ms(job.text, rate_wpm)
            raise ValueError(
                f"clip is {info.duration_ms} ms long, expected about {expected_ms:.0f} ms"
            )
        longest_ms = max_duration_ms(job.text, rate_wpm)
        if info.duration_ms > longest_ms:
            if job.long_clips == 0 and job.attempts + 1 < self.attempts:
                job.long_clips += 1
                raise ValueError(
                    f"clip is {info.duration_ms} ms long, at most {longest_ms:.0f} ms expected"
                )
            self._warnings.append(
                f"line {job.line_index + 1} ({_snippet(job.text)}) is "
                f"{info.duration_ms / 1000:.1f} s long, more than its words need "
                f"(at most {longest_ms / 1000:.1f} s): kept as the engine said it"
            )
        return self.cache.put(job.key, wav_path)

    def _replace(self, worker: _Worker, queue: deque[_Job], reason: str) -> None:
        worker.kill()
        self._workers.remove(worker)
        job = worker.job
        if worker.wav_path is not None:
            with contextlib.suppress(OSError):
                worker.wav_path.unlink()
        self._check_space(job)  # a full disk is the cause to name, not the engine
        if job is None:
            self._start_failures += 1
            if self._start_failures >= self.attempts:
                raise EngineError(f"speech engine {self.engine_name!r} did not start: {reason}")
        else:
            job.attempts += 1
            if job.attempts >= self.attempts:
                raise EngineError(
                    f"speech engine failed {job.attempts} times on line {job.line_index + 1} "
                    f"({_snippet(job.text)}): {reason}"
                )
            self._retries.append(
                f"line {job.line_index + 1} ({_snippet(job.text)}) tried again: {reason}"
            )
            queue.appendleft(job)
        self._start_worker()


def engine_voices(engine_name: str, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> list[str]:
    """The voices an engine offers: ids, then variants as "+name"; asked in a worker process."""
    engine_class(engine_name).check()
    worker = _Worker(engine_name, timeout_s)
    try:
        for expected in (Message.READY, Message.VOICES):
            if not worker.conn.poll(timeout_s):
                raise EngineError(f"speech engine {engine_name!r} did not answer in {timeout_s} s")
            try:
                message = worker.conn.recv()
            except (EOFError, OSError) as exc:
                raise EngineError(f"speech engine {engine_name!r}: {worker.exit_reason()}") from exc
            if message[0] is Message.ERROR:
                raise message[1]
            if message[0] is not expected:
                raise EngineError(f"speech engine {engine_name!r} failed: {message[1]}")
            if expected is Message.READY:
                worker.conn.send((Message.VOICES,))
        voices: list[str] = message[1]
        return voices
    finally:
        worker.stop()


def check_engine(engine_name: str) -> None:
    """Raise ConfigError for an unknown engine, ToolMissingError when it cannot run here."""
    engine_class(engine_name).check()
