"""The whole pipeline with the fake engine: arcs as folders and EPUBs, skipping, resuming."""

from __future__ import annotations

import array
import html
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from epubfactory import EpubSpec, Page, build_epub, tiny_png
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator import pipeline, writer
from narrator.analysis import analyze_text, candidate_characters
from narrator.audio_format import wav_duration_ms
from narrator.casting import load_cast
from narrator.encode import FFMPEG, FakeEncoder, read_fake_tags
from narrator.errors import ConfigError, InputError, OutputError, ToolMissingError
from narrator.export import read_vtt
from narrator.files import MAX_NAME_BYTES, safe_file_name
from narrator.layout import Format, Layout, plan_layout
from narrator.load import read_text
from narrator.master import Mastering
from narrator.model import Cast, Character, Gender, Kind
from narrator.plan import ChapterResult, ChapterStatus, Preset, RenderOptions
from narrator.progress import Reporter
from narrator.report import AnalyzeReport, analyze_input, write_cast_file
from narrator.synth.fake import HISTORY_ENV, read_history

ROOT = Path(__file__).resolve().parent.parent
ARC = ROOT / "examples" / "arc"


def _ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def _render(input_path: Path, out: Path, **kwargs: object) -> pipeline.RenderSummary:
    """A render with the fake engine and encoder; chapter MP3s only unless a format is given."""
    kwargs.setdefault("format", Format.MP3)
    kwargs.setdefault("encoder", FakeEncoder())
    kwargs.setdefault("state_dir", out.parent / "state")
    options = RenderOptions(out_dir=out, engine="fake", jobs=2, **kwargs)  # type: ignore[arg-type]
    return pipeline.render_book(input_path, options)


def _path_without_ffmpeg() -> str:
    """$PATH without the folders that hold ffmpeg or ffprobe."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(
        folder
        for folder in folders
        if not any((Path(folder) / tool).exists() for tool in ("ffmpeg", "ffprobe"))
    )


@pytest.fixture(autouse=True)
def _no_ffmpeg_unless_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests not marked `ffmpeg` run with ffmpeg and ffprobe off $PATH: the fake encoder and
    engine are all they may need (the test below checks that this hides ffmpeg)."""
    if request.node.get_closest_marker("ffmpeg") is None:
        monkeypatch.setenv("PATH", _path_without_ffmpeg())


def test_pipeline_tests_render_whole_books_without_ffmpeg(arc: Path, tmp_path: Path) -> None:
    assert shutil.which("ffmpeg") is None and shutil.which("ffprobe") is None
    with pytest.raises(ToolMissingError, match="ffmpeg is not installed"):
        _render(arc, tmp_path / "real", encoder=FFMPEG)
    summary = _render(arc, tmp_path / "out", format=Format.BOTH, epub=True)
    assert summary.count(ChapterStatus.RENDERED) == 3
    assert summary.m4b_path is not None and summary.epub_path is not None
    # The fake encoder's MP3 is the stitched WAV, its tags beside it.
    first = summary.chapters[0]
    assert first.mp3_path is not None
    assert first.duration_ms == wav_duration_ms(first.mp3_path) > 0
    tags = read_fake_tags(first.mp3_path)
    assert (tags["album"], tags["track"], tags["track_total"]) == ("Clockwork Arc", 1, 3)
    chapters = read_fake_tags(summary.m4b_path)["chapters"]
    assert [title for title, _, _ in chapters] == [ch.title for ch in summary.chapters]
    assert chapters[-1][2] == summary.duration_ms
    # Chapter lengths are each rounded to the millisecond; the whole book once.
    assert abs(wav_duration_ms(summary.m4b_path) - summary.duration_ms) <= len(chapters)


def _mtimes(folder: Path) -> dict[str, int]:
    # Keyed by path within the folder: two folders each hold a metadata.json.
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def arc(tmp_path: Path) -> Path:
    folder = tmp_path / "Clockwork Arc"
    shutil.copytree(ARC, folder)
    return folder


def test_a_render_reads_each_chapter_record_once(
    arc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan reads a chapter's record; the M4B's cues and the read-along are given it."""
    reads: list[str] = []
    read_text = Path.read_text

    def counting(path: Path, *args: Any, **kwargs: Any) -> str:
        if path.parent.name == "chapters" and tmp_path / "state" in path.parents:
            reads.append(path.name)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    first = _render(arc, tmp_path / "out", format=Format.BOTH, epub=True)
    assert first.count(ChapterStatus.RENDERED) == 3 and first.epub_path is not None
    assert len(reads) == 3 and len(set(reads)) == 3  # by the plan, before any was written
    (tmp_path / "out" / "Clockwork Arc" / "Clockwork Arc.m4b").unlink()
    reads.clear()
    again = _render(arc, tmp_path / "out", format=Format.BOTH, epub=True)
    assert again.count(ChapterStatus.SKIPPED) == 3 and again.m4b_path is not None
    assert again.m4b_path.is_file()
    assert len(reads) == 3 and len(set(reads)) == 3


@pytest.mark.ffmpeg
def test_a_folder_arc_becomes_tagged_chapters_an_m4b_and_a_playlist(
    arc: Path, tmp_path: Path
) -> None:
    summary = _render(arc, tmp_path / "out", format=Format.BOTH, encoder=FFMPEG)
    book_dir = tmp_path / "out" / "Clockwork Arc"
    # One book per folder for a library scanner: the M4B here, the chapter MP3s beside it.
    assert sorted(p.name for p in book_dir.iterdir()) == [
        "Clockwork Arc.m4b",
        "Clockwork Arc.srt",
        "Clockwork Arc.vtt",
        "metadata.json",
    ]
    mp3_dir = tmp_path / "out" / "Clockwork Arc (MP3)"
    mp3s = sorted(mp3_dir.glob("*.mp3"))
    # Natural order: 10.txt is the third chapter, not the second.
    assert [p.name[:2] for p in mp3s] == ["01", "02", "03"]
    assert "Every Clock in Town" in mp3s[2].name
    for number, mp3 in enumerate(mp3s, 1):
        tags = _ffprobe(mp3)["format"]["tags"]
        assert tags["album"] == "Clockwork Arc"
        assert tags["track"] == f"{number}/3"
        cues = read_vtt(mp3.with_suffix(".vtt"))
        assert cues and cues[-1].end_ms <= float(_ffprobe(mp3)["format"]["duration"]) * 1000 + 5
    m4b = _ffprobe(book_dir / "Clockwork Arc.m4b")
    assert [c["tags"]["title"] for c in m4b["chapters"]] == [ch.title for ch in summary.chapters]
    playlist = (mp3_dir / "Clockwork Arc.m3u").read_text()
    assert playlist.startswith("#EXTM3U") and playlist.count(".mp3") == 3
    assert summary.count("rendered") == 3 and summary.clips_synthesized > 0
    # The cast file is written beside the chapters so that voices stay the same next time.
    cast_text = (arc / "cast.toml").read_text()
    assert "Marta" in cast_text and "voice =" in cast_text


def test_only_chapters_renders_those_and_leaves_the_books_files_for_a_whole_render(
    arc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = _render(arc, out, only_chapters=frozenset({2}))
    mp3_dir = out / "Clockwork Arc"
    assert [p.name[:2] for p in sorted(mp3_dir.glob("*.mp3"))] == ["02"]
    assert [p.name[:2] for p in sorted(mp3_dir.glob("*.vtt"))] == ["02"]
    assert not list(mp3_dir.glob("*.m3u"))
    assert [ch.status for ch in summary.chapters] == ["planned", "rendered", "planned"]
    whole = _render(arc, out)
    assert [ch.status for ch in whole.chapters] == ["rendered", "skipped", "rendered"]
    assert (mp3_dir / "Clockwork Arc.m3u").read_text().count(".mp3") == 3
    with pytest.raises(ConfigError, match="no chapter 7: the book has 3"):
        _render(arc, out, only_chapters=frozenset({7}))
    # Refused before anything is written, and in a dry run too.
    with pytest.raises(ConfigError, match="no chapter 7: the book has 3"):
        _render(arc, out, only_chapters=frozenset({7}), dry_run=True)


def test_a_second_run_with_nothing_changed_rewrites_no_file(arc: Path, tmp_path: Path) -> None:
    _render(arc, tmp_path / "out", format=Format.BOTH)
    before = _mtimes(tmp_path / "out") | {"cast": (arc / "cast.toml").stat().st_mtime_ns}
    again = _render(arc, tmp_path / "out", format=Format.BOTH)
    after = _mtimes(tmp_path / "out") | {"cast": (arc / "cast.toml").stat().st_mtime_ns}
    assert before == after
    # Audiobookshelf's metadata.json beside the MP3s and beside the M4B: both left alone.
    assert sum(name.endswith("metadata.json") for name in after) == 2
    assert again.count("skipped") == 3 and again.clips_synthesized == 0
    assert again.duration_ms > 0  # durations come from the manifest


@pytest.mark.ffmpeg
def test_changing_one_voice_redoes_only_that_characters_lines(arc: Path, tmp_path: Path) -> None:
    first = _render(arc, tmp_path / "out", format=Format.BOTH, encoder=FFMPEG)
    cast_path = arc / "cast.toml"
    text = cast_path.read_text()
    # Teodor first speaks in chapter 2: give him another voice.
    start = text.index('name = "Teodor')
    voice_at = text.index("voice = ", start)
    line_end = text.index("\n", voice_at)
    old_voice = text[voice_at:line_end]
    new_voice = 'voice = "old-man"' if "old-man" not in old_voice else 'voice = "deep-man"'
    cast_path.write_text(text[:voice_at] + new_voice + text[line_end:])
    (parts_dir,) = (tmp_path / "state").glob("renders/*/parts")
    parts_before = _mtimes(parts_dir)
    second = _render(arc, tmp_path / "out", format=Format.BOTH, encoder=FFMPEG)
    statuses = [ch.status for ch in second.chapters]
    assert statuses == ["skipped", "rendered", "rendered"]
    # The M4B is joined again, but the unchanged chapter's audio is not re-encoded for it.
    parts_after = _mtimes(parts_dir)
    assert len(parts_after) == 3 and len(set(parts_before) & set(parts_after)) == 1
    for name in set(parts_before) & set(parts_after):
        assert parts_before[name] == parts_after[name]
    m4b = _ffprobe(second.m4b_path)  # type: ignore[arg-type]
    assert len(m4b["chapters"]) == 3
    teodor_lines = sum(
        1
        for ch in first.chapters[1:]
        for cue in read_vtt(ch.vtt_path)
        if cue.speaker.startswith("Teodor")
    )
    assert 0 < second.clips_synthesized <= teodor_lines
    assert second.clips_reused > 0


def test_after_one_sentence_changes_only_the_line_holding_it_is_synthesized_again(
    arc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = tmp_path / "history.jsonl"
    monkeypatch.setenv(HISTORY_ENV, str(history))
    first = _render(arc, tmp_path / "out")
    asked = read_history(history)
    # Every clip the run synthesized was asked of the engine once; the rest came from the cache.
    assert len(asked) == first.clips_synthesized > 0
    assert len({(r.text, r.voice) for r in asked}) == len(asked)
    history.unlink()
    chapter = arc / "10.txt"
    old = "Teodor Brask sat in the only good chair"
    chapter.write_text(
        chapter.read_text("utf-8").replace(old, "Teodor Brask sat in the only soft chair"),
        "utf-8",
    )
    second = _render(arc, tmp_path / "out")
    again = read_history(history)
    # One line (the narration around the sentence), asked once, with the new words.
    assert len(again) == 1 and "the only soft chair" in again[0].text
    assert second.clips_synthesized == 1
    assert [ch.status for ch in second.chapters] == ["skipped", "skipped", "rendered"]


def test_dry_run_writes_nothing_and_counts_clips(arc: Path, tmp_path: Path) -> None:
    summary = _render(arc, tmp_path / "out", dry_run=True)
    assert not (tmp_path / "out").exists()
    assert not (arc / "cast.toml").exists()
    assert all(ch.status == "planned" and ch.clips_to_synthesize > 0 for ch in summary.chapters)


def test_a_run_that_died_mid_arc_resumes_with_the_missing_chapters(
    arc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DyingEncoder(FakeEncoder):
        """Killed while encoding the second chapter (whichever chapter's encoder starts first)."""

        def encode_mp3(self, wav_path: Path, mp3_path: Path, *args: Any, **kwargs: Any) -> int:
            if mp3_path.name.startswith("02"):
                raise KeyboardInterrupt
            return super().encode_mp3(wav_path, mp3_path, *args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        _render(arc, tmp_path / "out", encoder=DyingEncoder())
    book_dir = tmp_path / "out" / "Clockwork Arc"
    assert len(list(book_dir.glob("*.mp3"))) == 1
    assert not [p for p in book_dir.iterdir() if ".tmp" in p.name]
    resumed = _render(arc, tmp_path / "out")
    assert [ch.status for ch in resumed.chapters] == ["skipped", "rendered", "rendered"]
    assert resumed.clips_synthesized == 0  # every clip was cached by the first run


def _chapter_html(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"<h1>{html.escape(title)}</h1>{body}"


@pytest.mark.ffmpeg
def test_an_epub_arc_renders_with_its_metadata_and_cover(tmp_path: Path) -> None:
    pages = [Page("title.xhtml", "<h1>The Bell Tower</h1><p>by Ada Writer</p>", None, "titlepage")]
    for number, name in enumerate(["1.txt", "2.txt", "10.txt"], 1):
        lines = (ARC / name).read_text().splitlines()
        title, paragraphs = lines[0], [ln for ln in lines[1:] if ln.strip()]
        pages.append(Page(f"ch{number}.xhtml", _chapter_html(title, paragraphs), title))
    epub = build_epub(
        tmp_path / "bell.epub",
        EpubSpec(pages=tuple(pages), title="The Bell Tower", cover=tiny_png()),
    )
    summary = _render(epub, tmp_path / "out", format=Format.BOTH, encoder=FFMPEG)
    assert len(summary.chapters) == 3
    # Audiobookshelf's layout: Author/Title.
    book_dir = tmp_path / "out" / "Ada Writer" / "The Bell Tower"
    first = _ffprobe(sorted(book_dir.with_name("The Bell Tower (MP3)").glob("*.mp3"))[0])
    assert first["format"]["tags"]["artist"] == "Ada Writer"
    assert first["format"]["tags"]["album"] == "The Bell Tower"
    m4b = _ffprobe(book_dir / "The Bell Tower.m4b")
    assert len(m4b["chapters"]) == 3
    assert m4b["format"]["tags"]["artist"] == "Ada Writer"


def test_analyze_offsets_refer_to_the_decoded_file(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b'\xef\xbb\xbfAnn looked up.\r\n"Run!" said Ann.\r\n')
    report = analyze_input(path)
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    data = report.to_json()
    segments = data["segments"]
    assert "".join(s["text"] for s in segments) == text
    assert all(text[s["start"] : s["end"]] == s["text"] for s in segments)
    speech = [s for s in segments if s["kind"] == Kind.DIALOGUE]
    assert speech and speech[0]["speaker"] == "Ann"


def test_safe_file_names() -> None:
    assert safe_file_name('Chapter 3: "The Mine"?') == "Chapter 3 The Mine"
    assert safe_file_name("../..") == "untitled"
    assert len(safe_file_name("x" * 300)) == MAX_NAME_BYTES
    # Cut by UTF-8 bytes on a character boundary, leaving room for temporary names.
    for name in ("字" * 300, "😀" * 300, "Ωμέγα " * 100):
        cut = safe_file_name(name)
        assert len(cut.encode("utf-8")) <= MAX_NAME_BYTES
        assert name.startswith(cut)
    # Direction overrides and other invisible format characters never reach a file name.
    assert safe_file_name("evil\u202egnp.mp3 \u200bx\u2066") == "evilgnp.mp3 x"


def test_long_non_latin_titles_render(tmp_path: Path) -> None:
    chapter = tmp_path / "c.md"
    chapter.write_text("# " + "第一章" * 27 + '\n\n"Hi," said Ann.\n', encoding="utf-8")
    summary = _render(chapter, tmp_path / "out", title="😀" * 70, format=Format.BOTH)
    assert summary.count("rendered") == 1
    names = [p.name for p in (tmp_path / "out").rglob("*")]
    assert names and all(len(name.encode("utf-8")) <= 255 - 21 for name in names)


def test_temporary_files_left_by_a_killed_run_are_cleared(arc: Path, tmp_path: Path) -> None:
    book_dir = tmp_path / "out" / "Clockwork Arc"
    book_dir.mkdir(parents=True)
    leftovers = [
        ".01 - x.mp3.1a2b3c4d.part",
        ".01 - x.wav.tmp",
        ".01 - x.mp3.deadbeef.ffmeta",
        ".Clockwork Arc.m4b.0badf00d.concat",
        ".Clockwork Arc.m4b.0badf00d.img",
        ".01 - x.1a2b3c4d.wav.tmp",
    ]
    for name in leftovers:
        (book_dir / name).write_bytes(b"half")
    (book_dir / "notes.txt").write_text("mine")
    layout = _layout(tmp_path / "out", "Clockwork Arc")
    layout.parts_dir.mkdir(parents=True)
    part = layout.parts_dir / ".0123abcd.m4a.1a2b3c4d.part"  # an AAC part cut short
    part.write_bytes(b"half")
    _render(arc, tmp_path / "out", dry_run=False)
    assert not [name for name in leftovers if (book_dir / name).exists()]
    assert not part.exists()
    assert (book_dir / "notes.txt").exists()


def _layout(out: Path, name: str) -> Layout:
    """Where `_render` puts a book's folders and state."""
    return plan_layout(out, [name], Format.MP3, out.parent / "state")


def _write_chapter(tmp_path: Path) -> Path:
    chapter = tmp_path / "story" / "chapter.txt"
    chapter.parent.mkdir()
    chapter.write_text(
        "AN: thanks for reading!\n\n"
        'Ann walked in. "Naruto is here," said Ann.\n\n'
        "'I hope he stays.' Thought Ann.\n",
        encoding="utf-8",
    )
    return chapter


def _cues(summary: pipeline.RenderSummary) -> list:
    return read_vtt(summary.chapters[0].vtt_path)


def test_the_cast_file_controls_notes_pronunciations_thoughts_and_overrides(tmp_path: Path) -> None:
    chapter = _write_chapter(tmp_path)
    cast = chapter.parent / "cast.toml"
    cast.write_text(
        '[[character]]\nname = "Ann"\ngender = "female"\nvoice = "woman"\nrate_wpm = 120\n',
        encoding="utf-8",
    )
    plain = _render(chapter, tmp_path / "out")
    assert any("thanks for reading" in cue.text for cue in _cues(plain))

    cast.write_text(
        cast.read_text()
        + '\n[reading]\nnotes = false\n\n[thoughts]\nvoice = "girl"\n\n'
        + '[pronunciations]\n"Naruto" = "Nah-roo-toh"\n',
        encoding="utf-8",
    )
    tuned = _render(chapter, tmp_path / "out")
    cues = _cues(tuned)
    assert not any("thanks for reading" in cue.text for cue in cues)
    assert "girl" in tuned.lines_per_voice  # the thought
    # The line with the pronounced name and the thought are new clips; the rest are reused.
    assert tuned.clips_synthesized == 2 and tuned.clips_reused >= 2

    report = analyze_input(chapter)
    ann = report.casting.speaker_voice("Ann")
    assert ann.voice_id == "woman" and ann.settings.rate_wpm == 120


@pytest.mark.ffmpeg
def test_one_long_text_with_chapter_headings_becomes_chapters(tmp_path: Path) -> None:
    book = tmp_path / "The Mine.txt"
    body = '"Dig," said Ann. Tom dug, and the dark went on and on.\n\n'
    book.write_text(
        f"Chapter 1: The Shaft\n\n{body * 3}CHAPTER II\n\n{body * 2}Chapter 3: Light\n\n{body}",
        encoding="utf-8",
    )
    summary = _render(book, tmp_path / "out", author="Ada Writer", encoder=FFMPEG)
    assert summary.chapters[0].title.endswith("The Shaft")
    first = _ffprobe(summary.chapters[0].mp3_path)["format"]["tags"]
    assert (first["artist"], first["album"]) == ("Ada Writer", "The Mine")
    assert len(summary.chapters) == 3
    assert len(list((tmp_path / "out" / "Ada Writer" / "The Mine").glob("*.mp3"))) == 3


def test_pathological_text_is_spoken_without_markup_or_control_characters(tmp_path: Path) -> None:
    chapter = tmp_path / "odd.txt"
    chapter.write_text(
        "<b>Bold</b> words\x07 and \u202eright-to-left\u202c and emoji \U0001f600 here.\n\n"
        + '"' * 300
        + "\n\n"
        + ("Supercalifragilistic" * 40)
        + "\n\n"
        + "word " * 3000
        + "\n",
        encoding="utf-8",
    )
    summary = _render(chapter, tmp_path / "out")
    cues = _cues(summary)
    spoken = " ".join(cue.text for cue in cues)
    assert "Bold" in spoken and spoken.count("word") >= 3000
    assert all(cue.end_ms > cue.start_ms for cue in cues)
    report = analyze_input(chapter)
    # Offsets refer to the decoded text, in which control characters became spaces.
    assert "".join(s.text for s in report.parts()[0][1]) == read_text(chapter)
    assert "\x07" not in read_text(chapter)


@pytest.mark.parametrize("name", ["the-lantern-keeper.txt", "arc"])
def test_the_cast_file_a_run_writes_gives_the_next_run_the_same_speakers_and_voices(
    tmp_path: Path, name: str
) -> None:
    source = ROOT / "examples" / name
    target = tmp_path / name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    first = analyze_input(target)
    write_cast_file(target, None, first)
    second = analyze_input(target)

    def speakers(report: AnalyzeReport) -> list[tuple[int, str | None]]:
        return [
            (s.start, s.speaker) for _, segs in report.parts() for s in segs if s.kind.is_speech
        ]

    def voices(report: AnalyzeReport) -> dict[str, object]:
        return {r.name: r.voice for r in report.character_rows() if r.lines}

    assert speakers(first) == speakers(second)
    assert voices(first) == voices(second)


_TRICKY = st.sampled_from(
    ['"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "*", "\n", "\n\n", " said Ann", " Tom", ":"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_TRICKY, st.text(max_size=12)), max_size=40))
def test_analyze_json_segments_cover_any_text_exactly(pieces: list[str]) -> None:
    text = "".join(pieces)
    characters = [
        Character("Ann", ("Ann",), Gender.FEMALE),
        Character("Tom", ("Tom",), Gender.MALE),
    ]
    for cast in (characters, []):
        segments = analyze_text(text, cast)
        position = 0
        for segment in segments:
            assert segment.start == position < segment.end
            assert text[segment.start : segment.end] == segment.text
            position = segment.end
        assert position == len(text)


@pytest.mark.slow
def test_a_200000_word_paragraph_of_random_quotes_and_names_is_analysed() -> None:
    # Guards the linear-time promise (run with -m slow): counting quote marks from the
    # paragraph start for each mention, or scanning a paragraph's tags for each quote, made
    # this take 24 s; it takes about 4 s.
    words = ["the", '"said', "Tom", "Ann:", '"', "\u201c", "\u201d", "'", "word", "*x*", "ran."]
    text = " ".join(words[(i * 7919) % len(words)] for i in range(200_000))
    segments = analyze_text(text, candidate_characters(Cast(), [text], managed=True))
    assert "".join(s.text for s in segments) == text


# ---------------------------------------------------------------------------- book, layout, tags


def _png(path: Path) -> Path:
    path.write_bytes(tiny_png())
    return path


def _streams(path: Path) -> list[dict]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["streams"]


def test_the_book_table_is_written_on_the_first_run_and_used_after(
    arc: Path, tmp_path: Path
) -> None:
    cover = _png(tmp_path / "cover.png")
    first = _render(arc, tmp_path / "out", title="The Clockwork Arc", author="Ada", cover=cover)
    book = load_cast(arc / "cast.toml").book
    assert (book.title, book.author, book.cover) == ("The Clockwork Arc", "Ada", cover)
    assert book.narrator == "narrator (a test tone engine)" and book.language == "en"
    assert first.cast_written
    # Without the options, the next run finds the same book: no second copy elsewhere.
    again = _render(arc, tmp_path / "out")
    assert again.book_dir == first.book_dir == tmp_path / "out" / "Ada" / "The Clockwork Arc"
    assert again.count("skipped") == 3 and not again.cast_written and not again.written
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["Ada"]
    assert [p.name for p in (tmp_path / "out" / "Ada").iterdir()] == ["The Clockwork Arc"]


@pytest.mark.ffmpeg
def test_the_m4b_carries_every_tag_audiobook_apps_read(arc: Path, tmp_path: Path) -> None:
    mutagen_mp4 = pytest.importorskip("mutagen.mp4")
    (arc / "cast.toml").write_text(
        '[book]\ntitle = "Clockwork"\nauthor = "Ada Writer"\nnarrator = "Sam Reed"\n'
        'series = "Bell Street"\nseries_part = 2\nyear = 2024\n'
        'description = "A shop of clocks."\nlanguage = "en"\ncover = "cover.png"\n',
        encoding="utf-8",
    )
    _png(arc / "cover.png")
    summary = _render(arc, tmp_path / "out", format=Format.M4B, encoder=FFMPEG)
    assert (
        summary.m4b_path
        == tmp_path / "out" / "Ada Writer" / "Bell Street" / "Clockwork" / "Clockwork.m4b"
    )
    info = _ffprobe(summary.m4b_path)
    tags = info["format"]["tags"]
    assert {k: tags.get(k) for k in ("title", "album", "artist", "album_artist", "composer")} == {
        "title": "Clockwork",
        "album": "Clockwork",
        "artist": "Ada Writer",
        "album_artist": "Ada Writer",
        "composer": "Sam Reed",
    }
    assert (tags["genre"], tags["date"], tags["media_type"]) == ("Audiobook", "2024", "2")
    assert tags["description"] == tags["comment"] == "A shop of clocks."
    assert tags["grouping"] == "Bell Street #2"
    titles = [ch.title for ch in summary.chapters]
    # The QuickTime chapter track (a text stream ffprobe reads chapters from) ...
    assert [c["tags"]["title"] for c in info["chapters"]] == titles
    streams = _streams(summary.m4b_path)
    assert any(s["codec_type"] == "data" and s.get("codec_tag_string") == "text" for s in streams)
    assert any(s.get("disposition", {}).get("attached_pic") for s in streams)  # the cover
    # ... and the Nero chpl atom, which mutagen reads.
    m4b = mutagen_mp4.MP4(summary.m4b_path)
    assert [c.title for c in m4b.chapters] == titles
    assert m4b.chapters[1].start == pytest.approx(
        float(info["chapters"][1]["start_time"]), abs=0.01
    )
    assert m4b.tags["stik"] == [2] and m4b.tags["©wrt"] == ["Sam Reed"]
    assert m4b.tags["covr"][0].imageformat == mutagen_mp4.MP4Cover.FORMAT_PNG
    # Audiobookshelf's own metadata file beside it.
    meta = json.loads((summary.m4b_path.parent / "metadata.json").read_text())
    assert meta["metadata"]["title"] == "Clockwork"
    assert meta["metadata"]["authors"] == ["Ada Writer"]
    assert meta["metadata"]["narrators"] == ["Sam Reed"]
    assert meta["metadata"]["series"] == ["Bell Street #2"]
    assert meta["metadata"]["description"] == "A shop of clocks."
    assert [c["title"] for c in meta["chapters"]] == titles
    assert meta["chapters"][1]["start"] == pytest.approx(m4b.chapters[1].start, abs=0.01)
    # The book's transcript: the chapters' cues moved to where each chapter starts.
    book_cues = read_vtt(summary.m4b_path.with_suffix(".vtt"))
    assert book_cues[-1].end_ms <= float(info["format"]["duration"]) * 1000 + 5
    second_start = round(float(info["chapters"][1]["start_time"]) * 1000)
    before = [c for c in book_cues if c.start_ms < second_start]
    after = [c for c in book_cues if c.start_ms >= second_start]
    assert before[-1].end_ms <= second_start and after[0].start_ms - second_start < 2000
    # The first cue starts after the chapter's head pause (1 s by default).
    assert summary.m4b_path.with_suffix(".srt").read_text().startswith("1\n00:00:01,000 -->")


@pytest.mark.ffmpeg
def test_chapter_mp3s_carry_id3_title_album_artist_track_and_cover(
    arc: Path, tmp_path: Path
) -> None:
    id3 = pytest.importorskip("mutagen.id3")
    cover = _png(tmp_path / "cover.png")
    summary = _render(arc, tmp_path / "out", author="Ada Writer", cover=cover, encoder=FFMPEG)
    for chapter in summary.chapters:
        assert chapter.mp3_path is not None
        tags = id3.ID3(chapter.mp3_path)
        assert tags.version[:2] == (2, 3)
        assert str(tags["TIT2"]) == chapter.title
        assert str(tags["TALB"]) == "Clockwork Arc"
        assert str(tags["TPE1"]) == "Ada Writer"
        assert str(tags["TRCK"]) == f"{chapter.number}/3"
        assert str(tags["TCOM"]) == "narrator (a test tone engine)"
        (picture,) = tags.getall("APIC")
        assert (
            picture.mime == "image/png" and picture.type == 3 and picture.data == cover.read_bytes()
        )
        srt = chapter.vtt_path.with_suffix(".srt")  # type: ignore[union-attr]
        assert srt.read_text().count(" --> ") == len(read_vtt(chapter.vtt_path))  # type: ignore[arg-type]


def test_nothing_narrator_needs_between_runs_is_left_under_the_output_folder(
    arc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    old = out / "Clockwork Arc" / ".m4b-parts"  # where narrator 0.1 kept the M4B's parts
    old.mkdir(parents=True)
    (old / "x.m4a").write_bytes(b"old")
    (out / "Clockwork Arc" / ".narrator-manifest.json").write_text("{}")
    _render(arc, out, format=Format.BOTH, epub=True)
    hidden = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert hidden == []
    audio = [p for p in (out / "Clockwork Arc").iterdir() if p.suffix in {".mp3", ".m4a", ".m4b"}]
    assert [p.name for p in audio] == ["Clockwork Arc.m4b"]


def test_the_playlist_plays_from_its_own_folder_when_out_is_relative(
    arc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    summary = _render(arc, Path("out"))
    assert summary.m3u_path is not None
    entries = [
        line for line in summary.m3u_path.read_text().splitlines() if not line.startswith("#")
    ]
    assert len(entries) == 3
    assert all((summary.m3u_path.parent / entry).is_file() for entry in entries)


class _Recorder(Reporter):
    def __init__(self) -> None:
        self.totals: tuple[int, int] | None = None
        self.clips: list[tuple[int, int]] = []
        self.finished = 0

    def run_started(self, chapters: int, clips: int) -> None:
        self.totals = (chapters, clips)

    def clips_done(self, done: int, total: int) -> None:
        self.clips.append((done, total))

    def chapter_finished(self, result: ChapterResult) -> None:
        self.finished += 1


def test_progress_counts_the_whole_run_and_never_passes_its_totals(
    arc: Path, tmp_path: Path
) -> None:
    recorder = _Recorder()
    options = RenderOptions(
        out_dir=tmp_path / "out", engine="fake", jobs=2, format=Format.BOTH, encoder=FakeEncoder()
    )
    summary = pipeline.render_book(arc, options, recorder)
    lines = sum(ch.lines for ch in summary.chapters)
    assert recorder.totals == (3, lines)
    assert all(done <= total == lines for done, total in recorder.clips)
    assert [done for done, _ in recorder.clips] == sorted(done for done, _ in recorder.clips)
    assert recorder.clips[-1] == (lines, lines) and recorder.finished == 3


@pytest.mark.ffmpeg
def test_a_read_along_epub_uses_the_chapter_cues(arc: Path, tmp_path: Path) -> None:
    summary = _render(arc, tmp_path / "out", format=Format.M4B, epub=True, encoder=FFMPEG)
    assert summary.epub_path == tmp_path / "out" / "Clockwork Arc" / "Clockwork Arc.epub"
    with zipfile.ZipFile(summary.epub_path) as epub:
        smil = epub.read("EPUB/c002.smil").decode()
        audio = [n for n in epub.namelist() if n.startswith("EPUB/audio/")]
    assert audio == ["EPUB/audio/c001.m4a", "EPUB/audio/c002.m4a", "EPUB/audio/c003.m4a"]
    # Chapter 2's overlay plays the cues of chapter 2, timed within its own audio.
    assert summary.m4b_path is not None
    info = _ffprobe(summary.m4b_path)
    start, end = (round(float(info["chapters"][1][k]) * 1000) for k in ("start_time", "end_time"))
    book_cues = read_vtt(summary.m4b_path.with_suffix(".vtt"))
    expected = [c.start_ms - start for c in book_cues if start <= c.start_ms < end]
    begins = [_clock_ms(value) for value in re.findall(r'clipBegin="([^"]+)"', smil)]
    assert begins == expected and len(begins) > 5


def _clock_ms(value: str) -> int:
    hours, minutes, seconds = value.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def test_a_cover_that_is_not_an_image_is_one_clear_error(arc: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cover.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match=r"cover\.png: the cover must be a JPEG or PNG image"):
        _render(arc, tmp_path / "out", cover=bad)
    assert not (tmp_path / "out").exists()


def test_a_clip_longer_than_its_words_is_kept_and_the_book_renders(tmp_path: Path) -> None:
    # "{long}" makes the test engine answer with five times the audio, every time, as
    # espeak-ng does for a snore, a hum or a line in a script its voice spells out.
    chapter = tmp_path / "Hum.txt"
    chapter.write_text('The kettle sang. "Zzzzzzzzzz {long}," snored Tom.\n', encoding="utf-8")
    options = RenderOptions(
        out_dir=tmp_path / "out",
        engine="fake-faulty",
        format=Format.MP3,
        state_dir=tmp_path / "s",
        encoder=FakeEncoder(),
    )
    summary = pipeline.render_book(chapter, options)
    assert summary.count("rendered") == 1
    assert any("kept as the engine said it" in warning for warning in summary.warnings)


# ------------------------------------------------------------------ the output folder


def _chapter(tmp_path: Path, name: str = "Tide.txt") -> Path:
    chapter = tmp_path / name
    chapter.write_text('The tide came in. "Look," said Ann.\n', encoding="utf-8")
    return chapter


def test_links_planted_where_narrator_writes_are_never_written_through(tmp_path: Path) -> None:
    layout = _layout(tmp_path / "out", "Tide")
    layout.state_dir.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (layout.state_dir / "manifest.json.tmp").symlink_to(victim)  # the old fixed name
    book_dir = tmp_path / "out" / "Tide"
    book_dir.mkdir(parents=True)
    foreign = tmp_path / "music"
    foreign.mkdir()
    (foreign / "song.m4a").write_bytes(b"not narrator's")
    (book_dir / ".m4b-parts").symlink_to(foreign)  # where narrator 0.1 kept its parts
    assert _render(_chapter(tmp_path), tmp_path / "out").count("rendered") == 1
    assert victim.read_text() == "precious"
    assert (foreign / "song.m4a").read_bytes() == b"not narrator's"


@pytest.mark.ffmpeg
def test_a_render_into_a_folder_another_render_is_writing_is_refused(tmp_path: Path) -> None:
    chapter = _chapter(tmp_path)
    book_dir = tmp_path / "out" / "Tide"
    state_dir = _layout(tmp_path / "out", "Tide").state_dir
    state_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from narrator.files import lock_folder\n"
            "with lock_folder(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)",
            str(state_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(OutputError) as caught:
            _render(chapter, tmp_path / "out", encoder=FFMPEG)
        assert str(caught.value) == (
            f"another render is writing {book_dir} (pid {holder.pid}); wait for it to finish"
        )
    finally:
        holder.kill()
        holder.wait()
    # The holder died without cleaning up: its lock went with it.
    assert _render(chapter, tmp_path / "out", encoder=FFMPEG).count("rendered") == 1


def test_a_truncated_chapter_mp3_is_rendered_again(tmp_path: Path) -> None:
    chapter = _chapter(tmp_path)
    first = _render(chapter, tmp_path / "out")
    mp3 = first.chapters[0].mp3_path
    assert mp3 is not None
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    second = _render(chapter, tmp_path / "out")
    assert second.chapters[0].status == "rendered"


@pytest.mark.ffmpeg
def test_an_output_folder_with_a_newline_in_its_name_gets_an_m4b(tmp_path: Path) -> None:
    (tmp_path / "arc").mkdir()
    for number in (1, 2):
        _chapter(tmp_path / "arc", f"{number}.txt")
    out = tmp_path / "line\nbreak"
    summary = _render(tmp_path / "arc", out, format=Format.M4B, encoder=FFMPEG)
    assert summary.m4b_path is not None and summary.m4b_path.exists()
    assert len(_ffprobe(summary.m4b_path)["chapters"]) == 2


@pytest.mark.ffmpeg
def test_sigterm_stops_a_render_like_ctrl_c_and_cleans_up(tmp_path: Path) -> None:
    # The engine hangs on a line, so the render is surely running when SIGTERM comes.
    chapter = tmp_path / "Hang.txt"
    chapter.write_text("The tide came in {hang}.\n", encoding="utf-8")
    out = tmp_path / "out"
    script = (
        "import sys\nfrom narrator.cli import main\n"
        "sys.argv = ['narrator', 'render', sys.argv[1], '--out', sys.argv[2], '--engine', 'fake']\n"
        "import narrator.cli as cli\n"
        "real = cli.RenderOptions\n"
        "cli.RenderOptions = lambda **kw: real(**{**kw, 'engine': 'fake-faulty'})\n"
        "main()\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", script, str(chapter), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a failed test can stop the workers too
    )
    deadline = time.monotonic() + 30
    cache_tmp = Path(os.environ["NARRATOR_CACHE_DIR"]) / "tmp"
    while time.monotonic() < deadline and not (cache_tmp.exists() and any(cache_tmp.iterdir())):
        time.sleep(0.05)
    time.sleep(0.5)
    run.send_signal(signal.SIGTERM)
    try:
        _, stderr = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # the render and its workers, started above
        raise
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not list(cache_tmp.iterdir())  # the pool's temporary clips are gone
    state_dir = Path(os.environ["NARRATOR_STATE_DIR"])
    assert not list(state_dir.rglob(".narrator.lock"))  # the lock went with the run


@pytest.mark.ffmpeg
def test_pauses_in_the_cast_file_set_the_chapter_timing(tmp_path: Path) -> None:
    chapter = _write_chapter(tmp_path)
    cast = chapter.parent / "cast.toml"
    default = _render(chapter, tmp_path / "out", encoder=FFMPEG)
    first = _cues(default)[0]
    assert first.start_ms == 1000  # the default head
    cast.write_text(
        "[pauses]\nhead = 0.5\nparagraph = 2.0\nscene_break = 2.5\ntail = 3.0\n", encoding="utf-8"
    )
    tuned = _render(chapter, tmp_path / "out", encoder=FFMPEG)
    assert tuned.count("rendered") == 1  # a timing change re-renders the chapter
    cues = _cues(tuned)
    assert cues[0].start_ms == 500
    gaps = [b.start_ms - a.end_ms for a, b in itertools.pairwise(cues)]
    assert 2000 in gaps  # the paragraph break
    mp3 = tuned.chapters[0].mp3_path
    length_ms = float(_ffprobe(mp3)["format"]["duration"]) * 1000
    assert length_ms - cues[-1].end_ms == pytest.approx(3000, abs=80)


@pytest.mark.ffmpeg
def test_acx_preset_encodes_masters_checks_and_fills_pauses(tmp_path: Path) -> None:
    chapter = _write_chapter(tmp_path)
    summary = _render(chapter, tmp_path / "out", preset=Preset.ACX, encoder=FFMPEG)
    result = summary.chapters[0]
    stream = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries"),
            *("stream=sample_rate,bit_rate", "-of", "csv=p=0", str(result.mp3_path)),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert stream == "44100,192000"
    # Checked after encoding. The fake engine's tones are not speech: the voices' weighting,
    # measured on espeak-ng speech, misjudges them by ~2 dB (test_master.py and
    # bench/sound.py hold the +/- 1 LU figure), so only the neighbourhood is checked here.
    assert result.loudness is not None
    assert result.loudness.integrated_lufs == pytest.approx(-20.0, abs=3.0)
    assert result.loudness.true_peak_dbtp <= -3.0
    assert not [w for w in summary.warnings if "dBTP" in w]
    # Room tone: the head is quiet noise, not digital silence.
    head = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", str(result.mp3_path), "-t", "0.8"),
            *("-f", "s16le", "-ac", "1", "-"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    samples = array.array("h", head)[2000:]  # past the encoder's priming
    assert samples.count(0) < len(samples) // 4
    assert max(abs(s) for s in samples) < 32768 * 10 ** (-40 / 20)


@pytest.mark.ffmpeg
def test_a_loudness_target_out_of_reach_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chapter = _write_chapter(tmp_path)
    # As if mastering had missed: the check reports it, it does not fail the render.
    monkeypatch.setattr(writer, "mastering_for", lambda estimate, target: Mastering(-12.0))
    summary = _render(chapter, tmp_path / "out", preset=Preset.ACX, encoder=FFMPEG)
    assert summary.count("rendered") == 1
    assert any("chapter 1: loudness" in w and "target -20" in w for w in summary.warnings)
