"""Write chapters: ChapterPlan + synthesized clips -> WrittenChapter (stitched, encoded, recorded).

Chapters are stitched and encoded on background threads while the next one is synthesized;
each returns its result instead of changing shared state, and `ChapterWriter.results` gives
them back in the order they were submitted.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from narrator.audio_format import wav_duration_ms
from narrator.export import write_transcripts
from narrator.layout import Layout
from narrator.master import mastering_for
from narrator.model import Clip
from narrator.plan import ChapterPlan, ChapterResult, ChapterStatus, RenderOptions, Sound
from narrator.progress import Reporter, StageTimer
from narrator.state import ChapterRecord, Manifest, part_path, write_record
from narrator.stitch import stitch_chapter


@dataclass(frozen=True)
class WrittenChapter:
    """A chapter whose files are written: its result, the files, in order, and its record."""

    result: ChapterResult
    written: tuple[Path, ...]
    record: ChapterRecord


class ChapterWriter:
    """Stitches and encodes chapters on background threads while synthesis goes on."""

    def __init__(
        self,
        layout: Layout,
        manifest: Manifest,
        options: RenderOptions,
        sound: Sound,
        timed: StageTimer,
        reporter: Reporter,
    ) -> None:
        self.layout = layout
        self.manifest = manifest
        self.options = options
        self.sound = sound
        self.timed = timed
        self.reporter = reporter
        # ffmpeg runs in its own process: threads are enough to encode chapters side by side.
        self.executor = ThreadPoolExecutor(
            max(1, options.jobs), thread_name_prefix="narrator-encode"
        )
        self.futures: list[Future[WrittenChapter | None]] = []
        self.failed = threading.Event()

    def __enter__(self) -> ChapterWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self.failed.set()  # what is queued is dropped; what runs finishes atomically
        self.executor.shutdown(wait=True)

    def submit(self, plan: ChapterPlan, clips: Sequence[Clip]) -> None:
        self.futures.append(self.executor.submit(self._write, plan, clips))

    def raise_failure(self) -> None:
        """Re-raise the error of a chapter that failed, so the run stops early."""
        for future in self.futures:
            if future.done():
                future.result()

    def results(self) -> list[WrittenChapter]:
        """Every chapter written, in the order submitted (waits for them; re-raises errors)."""
        self.executor.shutdown(wait=True)
        return [written for future in self.futures if (written := future.result()) is not None]

    def _write(self, plan: ChapterPlan, clips: Sequence[Clip]) -> WrittenChapter | None:
        if self.failed.is_set():
            return None
        result = plan.result
        fmt = self.options.format
        token = secrets.token_hex(4)
        wav_path = self.layout.work_dir / f"{result.fingerprint[:32]}.{token}.wav"
        part = part_path(self.layout, result.fingerprint) if fmt.m4b else None
        written: list[Path] = []
        loudness = None
        try:
            sound = self.sound
            with self.timed("stitch"):
                stitched = stitch_chapter(
                    clips,
                    plan.lines,
                    wav_path,
                    tail_ms=round(sound.pauses.tail_s * 1000),
                    room_tone_db=sound.room_tone_db,
                )
                cues = stitched.cues
            mastering = mastering_for(stitched.loudness_lufs, sound.loudness_lufs)
            with self.timed("encode"):
                duration_ms = 0
                if result.mp3_path is not None and result.vtt_path is not None:
                    # The M4B's part comes from the WAV too: one lossy step, not two.
                    duration_ms = self.options.encoder.encode_mp3(
                        wav_path,
                        result.mp3_path,
                        plan.tags,
                        sound.bitrate_kbps,
                        m4b_part=part,
                        mastering=mastering,
                        sample_rate_hz=sound.sample_rate_hz,
                    )
                    srt_path = write_transcripts(cues, result.vtt_path)
                    written += [result.mp3_path, result.vtt_path, srt_path]
                elif part is not None:
                    self.options.encoder.encode_m4b_part(wav_path, part, mastering=mastering)
                    duration_ms = wav_duration_ms(wav_path)
            checked = result.mp3_path or part  # the MP3, else the M4B's part (--format m4b)
            if sound.check_loudness and checked is not None:
                with self.timed("check"):
                    loudness = self.options.encoder.measure_loudness(checked)
            record = ChapterRecord(duration_ms, tuple(cues))
            write_record(self.layout, result.fingerprint, record)
        except BaseException:
            self.failed.set()
            raise
        finally:
            wav_path.unlink(missing_ok=True)
        result = replace(
            result, status=ChapterStatus.RENDERED, duration_ms=duration_ms, loudness=loudness
        )
        if result.mp3_path is not None:
            self.manifest.record(
                result.mp3_path, result.mp3_fingerprint, result.duration_ms, result.fingerprint
            )
        self.reporter.chapter_finished(result)
        return WrittenChapter(result, tuple(written), record)
