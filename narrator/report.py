"""The analyze report: a file, folder or EPUB -> AnalyzeReport (`narrator analyze`, `cast`).

Segments with speakers and characters with voices, as rows for the CLI's tables and JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from narrator.analysis import (
    Analysis,
    ChapterAnalysis,
    analyze_book,
    book_warnings,
    cast_book,
    default_cast_path,
    resolve_cast,
    resolve_corrections,
    speaking_characters,
)
from narrator.casting import Casting, voiced_together, write_cast
from narrator.corrections import Corrections
from narrator.load import TEXT_SUFFIXES, load_book, read_text
from narrator.model import Book, Chapter, Segment


@dataclass(frozen=True)
class CharacterRow:
    """One character (or unnamed speaker) as `narrator cast` lists it."""

    name: str
    aliases: tuple[str, ...]
    gender: str | None  # a Gender value
    voice: str  # a voice profile id
    lines: int  # speech lines attributed
    # A line said together (`Rook and Bo`): the voice of each, all heard at once.
    chorus: tuple[str, ...] = ()

    @property
    def voices(self) -> str:
        """The voice as a listener hears it: `deep-man + northern-man` for a chorus."""
        return " + ".join(self.chorus) if self.chorus else self.voice

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "aliases": list(self.aliases), "gender": self.gender,
            "voice": self.voice, "chorus": list(self.chorus), "lines": self.lines,
        }  # fmt: skip


@dataclass(frozen=True)
class AnalyzeReport:
    """`narrator analyze` and `narrator cast`: segments with speakers, characters with voices."""

    analysis: Analysis
    casting: Casting
    whole_text: bool  # True: one text file, offsets refer to the whole decoded file

    @property
    def warnings(self) -> list[str]:
        """Shared aliases, shared voices, stale corrections: worth a look, not errors."""
        return book_warnings(self.analysis, self.casting)

    def parts(self) -> list[tuple[str | None, tuple[Segment, ...]]]:
        if self.whole_text:
            return [(None, self.analysis.chapters[0].segments)]
        return [(ch.chapter.title, ch.segments) for ch in self.analysis.chapters]

    def character_rows(self) -> list[CharacterRow]:
        """Characters (and unnamed speakers) with aliases, gender, voice and line count."""
        counts = self.analysis.line_counts
        rows: list[CharacterRow] = []
        named = set()
        for character in self.analysis.characters:
            named.add(character.name)
            rows.append(
                CharacterRow(
                    name=character.name,
                    aliases=tuple(character.aliases),
                    gender=character.gender.value if character.gender else None,
                    voice=self.casting.speaker_voice(character.name).voice_id,
                    lines=counts.get(character.name, 0),
                )
            )
        for speaker, lines in counts.items():
            if speaker not in named:
                voice = self.casting.speaker_voice(speaker).voice_id
                together = voiced_together(speaker, self.casting.assignment)
                chorus = tuple(self.casting.speaker_voice(part).voice_id for part in together)
                rows.append(CharacterRow(speaker, (), None, voice, lines, chorus))
        rows.sort(key=lambda row: (-row.lines, row.name))
        return rows

    def to_json(self) -> dict[str, object]:
        def seg(segment: Segment, line_id: str) -> dict[str, object]:
            return {
                "id": line_id,
                "start": segment.start,
                "end": segment.end,
                "kind": segment.kind.value,
                "speaker": segment.speaker if segment.kind.is_speech else None,
                "confidence": segment.confidence if segment.kind.is_speech else None,
                "evidence": list(segment.evidence) if segment.kind.is_speech else [],
                "text": segment.text,
            }

        def segs(ch: ChapterAnalysis) -> list[dict[str, object]]:
            return [seg(s, i) for s, i in zip(ch.segments, ch.ids, strict=True)]

        result: dict[str, object] = {}
        if self.whole_text:
            result["segments"] = segs(self.analysis.chapters[0])
        else:
            result["chapters"] = [
                {
                    "number": ch.chapter.number,
                    "title": ch.chapter.title,
                    "source": ch.chapter.source,
                    "segments": segs(ch),
                }
                for ch in self.analysis.chapters
            ]
        result["characters"] = [
            {key: value for key, value in row.to_json().items() if key != "lines"}
            for row in self.character_rows()
        ]
        return result


def analyze_input(
    input_path: Path,
    cast_path: Path | None = None,
    voices_dirs: Sequence[Path] = (),
    lines_path: Path | None = None,
    *,
    corrections: Corrections | None = None,
) -> AnalyzeReport:
    """Analyze a file, folder or EPUB with its cast and line corrections (`narrator analyze`).

    `corrections`, when given, is used instead of reading them from `lines_path`.
    """
    whole_text = input_path.is_file() and input_path.suffix.lower() in TEXT_SUFFIXES
    if whole_text:
        text = read_text(input_path)
        chapter = Chapter(1, input_path.stem, text, str(input_path))
        book = Book(title=input_path.stem, chapters=(chapter,), source_path=input_path)
    else:
        book = load_book(input_path)
    cast, _, managed = resolve_cast(input_path, cast_path)
    if corrections is None:
        corrections = resolve_corrections(input_path, lines_path)
    analysis = analyze_book(book, cast, managed=managed, corrections=corrections)
    return AnalyzeReport(analysis, cast_book(analysis, voices_dirs), whole_text)


def write_cast_file(input_path: Path, cast_path: Path | None, report: AnalyzeReport) -> Path:
    """Create or update the cast file with every speaking character and its voice."""
    path = cast_path or default_cast_path(input_path)
    write_cast(path, speaking_characters(report.analysis), report.casting.assignment)
    return path
