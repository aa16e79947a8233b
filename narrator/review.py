"""Review and assign: an analysed book -> its speech lines for review; one line corrected.

`review_input` lists every speech line with its id, speaker, confidence, evidence and
candidates (`narrator review`); `assign_line` writes one correction into the book's
corrections file and analyses again, to say what changed (`narrator assign`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from narrator.analysis import REVIEW_THRESHOLD, is_below
from narrator.corrections import (
    Change,
    Correction,
    Stale,
    check_correction,
    default_lines_path,
    load_corrections,
    reminder,
    save_correction,
    split_offset,
)
from narrator.errors import ConfigError, InputError
from narrator.lines import base_id, is_line_id, piece_number
from narrator.model import Kind
from narrator.report import AnalyzeReport, analyze_input


@dataclass(frozen=True)
class ReviewLine:
    """One speech line as `narrator review` shows it."""

    line_id: str
    chapter: int
    start: int
    end: int
    kind: Kind
    speaker: str | None
    confidence: float | None
    evidence: tuple[str, ...]
    candidates: tuple[tuple[str, float], ...]
    corrected: bool
    text: str

    def to_json(self) -> dict[str, object]:
        """The line in `review --json`."""
        return {
            "id": self.line_id,
            "chapter": self.chapter,
            "start": self.start,
            "end": self.end,
            "kind": self.kind.value,
            "speaker": self.speaker,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "candidates": [
                {"speaker": name, "probability": probability}
                for name, probability in self.candidates
            ],
            "corrected": self.corrected,
        }


@dataclass(frozen=True)
class ReviewReport:
    """Every speech line of a book, and what corrections did."""

    lines: tuple[ReviewLine, ...]  # in book order
    changed: tuple[tuple[Change, ReviewLine], ...]  # speakers changed as a consequence
    stale: tuple[Stale, ...]
    warnings: tuple[str, ...]
    lines_path: Path

    def doubtful(self, threshold: float = REVIEW_THRESHOLD) -> list[ReviewLine]:
        """Lines below `threshold`, least certain first (corrected lines are certain)."""
        low = [line for line in self.lines if is_below(line.confidence, threshold)]
        return sorted(low, key=lambda line: line.confidence or 0.0)

    def find(self, line_id: str) -> ReviewLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)

    def to_json(self, threshold: float | None = None) -> dict[str, object]:
        """`review --json`: {"lines": [...]} in book order; all, or those below `threshold`."""
        lines = [
            line for line in self.lines if threshold is None or is_below(line.confidence, threshold)
        ]
        return {"lines": [line.to_json() for line in lines]}


def review_report(report: AnalyzeReport, lines_path: Path) -> ReviewReport:
    """The review of an analysed book."""
    lines = []
    changed = []
    for chapter in report.analysis.chapters:
        by_id = {}
        for segment, line_id in zip(chapter.segments, chapter.ids, strict=True):
            if not segment.kind.is_speech:
                continue
            line = ReviewLine(
                line_id=line_id,
                chapter=chapter.chapter.number,
                start=segment.start,
                end=segment.end,
                kind=segment.kind,
                speaker=segment.speaker,
                confidence=segment.confidence,
                evidence=segment.evidence,
                candidates=segment.candidates,
                corrected=line_id in chapter.corrected,
                text=segment.text,
            )
            lines.append(line)
            by_id[line_id] = line
        changed += [(change, by_id[change.line_id]) for change in chapter.changed]
    return ReviewReport(
        tuple(lines), tuple(changed), report.analysis.stale, tuple(report.warnings), lines_path
    )


def review_input(
    input_path: Path,
    cast_path: Path | None = None,
    lines_path: Path | None = None,
    voices_dirs: Sequence[Path] = (),
) -> ReviewReport:
    """Analyse a file, folder or EPUB with its corrections: the data behind `narrator review`."""
    report = analyze_input(input_path, cast_path, voices_dirs, lines_path)
    return review_report(report, lines_path or default_lines_path(input_path))


@dataclass(frozen=True)
class AssignResult:
    """What `narrator assign` did: the file written, the line before and after, side effects."""

    lines_path: Path
    line_id: str
    before: ReviewLine | None  # None: the line was not speech
    after: ReviewLine | None  # None: the line is not speech any more
    parts: tuple[ReviewLine, ...]  # the line's other pieces after a split (`<id>.2`)
    also_changed: tuple[tuple[ReviewLine, ReviewLine], ...]  # other lines (before, after)
    stale: tuple[Stale, ...]


def assign_line(
    input_path: Path,
    line_id: str,
    speaker: str | None = None,
    *,
    kind: Kind | None = None,
    split_at: str | None = None,
    then: str | None = None,
    auto: bool = False,
    cast_path: Path | None = None,
    lines_path: Path | None = None,
    voices_dirs: Sequence[Path] = (),
) -> AssignResult:
    """Record who speaks a line (or what it is) in the corrections file; `auto` drops it."""
    if not is_line_id(line_id):
        raise InputError(f"{line_id}: not a line id (like L3f9a2c); `narrator review` lists them")
    path = lines_path or default_lines_path(input_path)
    if not auto and not (speaker or kind or split_at or then):
        raise ConfigError(f"{line_id}: say who speaks it (SPEAKER), or give --kind or --auto")
    if auto and (speaker or kind or split_at or then):
        raise ConfigError("--auto takes the line back to narrator's choice: give nothing else")
    corrections = load_corrections(path)  # --lines may name a file to create
    existing = {c.line_id: c for c in corrections.entries}
    report = analyze_input(input_path, cast_path, voices_dirs, corrections=corrections)
    before = review_report(report, path)
    segment_text = _line_text(report, line_id)
    if segment_text is None and not (auto and line_id in existing):
        raise InputError(
            f"no line {line_id} in {input_path}; `narrator review --all` lists the ids"
        )
    if auto:
        save_correction(path, None, line_id)
    else:
        assert segment_text is not None
        correction = _merged(existing, line_id, segment_text, speaker, kind, split_at, then)
        check_correction(correction)
        whole = _line_text(report, correction.line_id) or ""
        if correction.split_at is not None and split_offset(whole, correction.split_at) is None:
            raise ConfigError(
                f'{correction.line_id}: "{correction.split_at}" is not in the line: {whole}'
            )
        save_correction(path, correction, correction.line_id)
    after = review_input(input_path, cast_path, path, voices_dirs)
    own = base_id(line_id)
    also = tuple(
        (old, new)
        for new in after.lines
        if base_id(new.line_id) != own
        and (old := before.find(new.line_id)) is not None
        and old.speaker != new.speaker
    )
    parts = tuple(
        line for line in after.lines if base_id(line.line_id) == own and line.line_id != line_id
    )
    return AssignResult(
        path, line_id, before.find(line_id), after.find(line_id), parts, also, after.stale
    )


def _line_text(report: AnalyzeReport, line_id: str) -> str | None:
    """A line's text: a piece's own, or the whole line (all its pieces) for a line id."""
    for chapter in report.analysis.chapters:
        if line_id not in chapter.ids:
            continue
        if piece_number(line_id) > 1:
            return chapter.segments[chapter.ids.index(line_id)].text
        return "".join(
            segment.text
            for segment, segment_id in zip(chapter.segments, chapter.ids, strict=True)
            if base_id(segment_id) == line_id
        )
    return None


def _merged(
    existing: dict[str, Correction],
    line_id: str,
    text: str,
    speaker: str | None,
    kind: Kind | None,
    split_at: str | None,
    then: str | None,
) -> Correction:
    """The new correction of a line, on top of what the file already says about it."""
    whole = base_id(line_id)
    split = existing.get(whole)
    if piece_number(line_id) == 2 and split is not None and split.split_at and speaker:
        # The second part of the author's own split: who speaks it is that split's `then`.
        return replace(split, then=speaker)
    old = existing.get(line_id) or Correction(line_id)
    if kind is Kind.NARRATION:
        return Correction(line_id, kind=kind, text=reminder(text))
    return Correction(
        line_id,
        speaker=speaker or old.speaker,
        kind=kind or (old.kind if old.kind is not Kind.NARRATION else None),
        split_at=split_at if split_at is not None else old.split_at,
        then=then if then is not None else old.then,
        text=reminder(text) if split_at is not None or not old.text else old.text,
    )
