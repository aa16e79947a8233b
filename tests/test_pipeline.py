"""The whole pipeline with the fake engine: arcs as folders and EPUBs, skipping, resuming."""

from __future__ import annotations

import array
import html
import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from epubfactory import EpubSpec, Page, build_epub, tiny_png
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator import pipeline
from narrator.export import read_vtt
from narrator.load import read_text
from narrator.master import Mastering
from narrator.model import Cast, Character, Gender, Kind

ROOT = Path(__file__).resolve().parent.parent
ARC = ROOT / "examples" / "arc"

pytestmark = pytest.mark.ffmpeg


def _ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def _render(input_path: Path, out: Path, **kwargs: object) -> pipeline.RenderSummary:
    options = pipeline.RenderOptions(out_dir=out, engine="fake", jobs=2, **kwargs)  # type: ignore[arg-type]
    return pipeline.render_book(input_path, options)


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def arc(tmp_path: Path) -> Path:
    folder = tmp_path / "Clockwork Arc"
    shutil.copytree(ARC, folder)
    return folder


def test_a_folder_arc_becomes_tagged_chapters_an_m4b_and_a_playlist(
    arc: Path, tmp_path: Path
) -> None:
    summary = _render(arc, tmp_path / "out")
    book_dir = tmp_path / "out" / "Clockwork Arc"
    mp3s = sorted(book_dir.glob("*.mp3"))
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
    playlist = (book_dir / "Clockwork Arc.m3u").read_text()
    assert playlist.startswith("#EXTM3U") and playlist.count(".mp3") == 3
    assert summary.count("rendered") == 3 and summary.clips_synthesized > 0
    # The cast file is written beside the chapters so that voices stay the same next time.
    cast_text = (arc / "cast.toml").read_text()
    assert "Marta" in cast_text and "voice =" in cast_text


def test_a_second_run_with_nothing_changed_rewrites_no_file(arc: Path, tmp_path: Path) -> None:
    _render(arc, tmp_path / "out")
    before = _mtimes(tmp_path / "out") | {"cast": (arc / "cast.toml").stat().st_mtime_ns}
    again = _render(arc, tmp_path / "out")
    after = _mtimes(tmp_path / "out") | {"cast": (arc / "cast.toml").stat().st_mtime_ns}
    assert before == after
    assert again.count("skipped") == 3 and again.clips_synthesized == 0
    assert again.duration_ms > 0  # durations come from the manifest


def test_changing_one_voice_redoes_only_that_characters_lines(arc: Path, tmp_path: Path) -> None:
    first = _render(arc, tmp_path / "out")
    cast_path = arc / "cast.toml"
    text = cast_path.read_text()
    # Teodor first speaks in chapter 2: give him another voice.
    start = text.index('name = "Teodor')
    voice_at = text.index("voice = ", start)
    line_end = text.index("\n", voice_at)
    old_voice = text[voice_at:line_end]
    new_voice = 'voice = "old-man"' if "old-man" not in old_voice else 'voice = "deep-man"'
    cast_path.write_text(text[:voice_at] + new_voice + text[line_end:])
    parts_dir = tmp_path / "out" / "Clockwork Arc" / pipeline.PARTS_DIR
    parts_before = _mtimes(parts_dir)
    second = _render(arc, tmp_path / "out")
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


def test_dry_run_writes_nothing_and_counts_clips(arc: Path, tmp_path: Path) -> None:
    summary = _render(arc, tmp_path / "out", dry_run=True)
    assert not (tmp_path / "out").exists()
    assert not (arc / "cast.toml").exists()
    assert all(ch.status == "planned" and ch.clips_to_synthesize > 0 for ch in summary.chapters)


def test_a_run_that_died_mid_arc_resumes_with_the_missing_chapters(
    arc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_encode = pipeline.encode_mp3
    calls = {"n": 0}

    def dying_encode(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_encode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "encode_mp3", dying_encode)
    with pytest.raises(KeyboardInterrupt):
        _render(arc, tmp_path / "out")
    book_dir = tmp_path / "out" / "Clockwork Arc"
    assert len(list(book_dir.glob("*.mp3"))) == 1
    assert not [p for p in book_dir.iterdir() if ".tmp" in p.name]
    monkeypatch.setattr(pipeline, "encode_mp3", real_encode)
    resumed = _render(arc, tmp_path / "out")
    assert [ch.status for ch in resumed.chapters] == ["skipped", "rendered", "rendered"]
    assert resumed.clips_synthesized == 0  # every clip was cached by the first run


def _chapter_html(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"<h1>{html.escape(title)}</h1>{body}"


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
    summary = _render(epub, tmp_path / "out")
    assert len(summary.chapters) == 3
    book_dir = tmp_path / "out" / "The Bell Tower"
    first = _ffprobe(sorted(book_dir.glob("*.mp3"))[0])
    assert first["format"]["tags"]["artist"] == "Ada Writer"
    assert first["format"]["tags"]["album"] == "The Bell Tower"
    m4b = _ffprobe(book_dir / "The Bell Tower.m4b")
    assert len(m4b["chapters"]) == 3
    assert m4b["format"]["tags"]["artist"] == "Ada Writer"


def test_analyze_offsets_refer_to_the_decoded_file(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b'\xef\xbb\xbfAnn looked up.\r\n"Run!" said Ann.\r\n')
    report = pipeline.analyze_input(path)
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    data = report.to_json()
    segments = data["segments"]
    assert "".join(s["text"] for s in segments) == text
    assert all(text[s["start"] : s["end"]] == s["text"] for s in segments)
    speech = [s for s in segments if s["kind"] == Kind.DIALOGUE]
    assert speech and speech[0]["speaker"] == "Ann"


def test_safe_file_names() -> None:
    assert pipeline.safe_file_name('Chapter 3: "The Mine"?') == "Chapter 3 The Mine"
    assert pipeline.safe_file_name("../..") == "untitled"
    assert len(pipeline.safe_file_name("x" * 300)) == 80


def test_temporary_files_left_by_a_killed_run_are_cleared(arc: Path, tmp_path: Path) -> None:
    book_dir = tmp_path / "out" / "Clockwork Arc"
    book_dir.mkdir(parents=True)
    leftovers = [".01 - x.mp3.1a2b3c4d.part", ".01 - x.wav.tmp", ".01 - x.mp3.deadbeef.ffmeta"]
    for name in leftovers:
        (book_dir / name).write_bytes(b"half")
    (book_dir / "notes.txt").write_text("mine")
    _render(arc, tmp_path / "out", dry_run=False)
    assert not [name for name in leftovers if (book_dir / name).exists()]
    assert (book_dir / "notes.txt").exists()


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

    report = pipeline.analyze_input(chapter)
    ann = report.casting.speaker_voice("Ann")
    assert ann.voice_id == "woman" and ann.settings.rate_wpm == 120


def test_one_long_text_with_chapter_headings_becomes_chapters(tmp_path: Path) -> None:
    book = tmp_path / "The Mine.txt"
    body = '"Dig," said Ann. Tom dug, and the dark went on and on.\n\n'
    book.write_text(
        f"Chapter 1: The Shaft\n\n{body * 3}CHAPTER II\n\n{body * 2}Chapter 3: Light\n\n{body}",
        encoding="utf-8",
    )
    summary = _render(book, tmp_path / "out", m4b=False, author="Ada Writer")
    assert summary.chapters[0].title.endswith("The Shaft")
    first = _ffprobe(summary.chapters[0].mp3_path)["format"]["tags"]
    assert (first["artist"], first["album"]) == ("Ada Writer", "The Mine")
    assert len(summary.chapters) == 3
    assert len(list((tmp_path / "out" / "The Mine").glob("*.mp3"))) == 3


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
    report = pipeline.analyze_input(chapter)
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
    first = pipeline.analyze_input(target)
    pipeline.write_cast_file(target, None, first)
    second = pipeline.analyze_input(target)

    def speakers(report: pipeline.AnalyzeReport) -> list[tuple[int, str | None]]:
        return [
            (s.start, s.speaker) for _, segs in report.parts() for s in segs if s.kind.is_speech
        ]

    def voices(report: pipeline.AnalyzeReport) -> dict[str, object]:
        return {str(r["name"]): r["voice"] for r in report.character_rows() if r["lines"]}

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
        segments = pipeline.analyze_text(text, cast)
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
    segments = pipeline.analyze_text(
        text, pipeline.candidate_characters(Cast(), [text], managed=True)
    )
    assert "".join(s.text for s in segments) == text


def test_pauses_in_the_cast_file_set_the_chapter_timing(tmp_path: Path) -> None:
    chapter = _write_chapter(tmp_path)
    cast = chapter.parent / "cast.toml"
    default = _render(chapter, tmp_path / "out")
    first = _cues(default)[0]
    assert first.start_ms == 1000  # the default head
    cast.write_text("[pauses]\nhead = 0.5\nparagraph = 2.0\ntail = 3.0\n", encoding="utf-8")
    tuned = _render(chapter, tmp_path / "out")
    assert tuned.count("rendered") == 1  # a timing change re-renders the chapter
    cues = _cues(tuned)
    assert cues[0].start_ms == 500
    gaps = [b.start_ms - a.end_ms for a, b in itertools.pairwise(cues)]
    assert 2000 in gaps  # the paragraph break
    mp3 = tuned.chapters[0].mp3_path
    length_ms = float(_ffprobe(mp3)["format"]["duration"]) * 1000
    assert length_ms - cues[-1].end_ms == pytest.approx(3000, abs=80)


def test_acx_preset_encodes_masters_checks_and_fills_pauses(tmp_path: Path) -> None:
    chapter = _write_chapter(tmp_path)
    summary = _render(chapter, tmp_path / "out", preset=pipeline.Preset.ACX)
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


def test_a_loudness_target_out_of_reach_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chapter = _write_chapter(tmp_path)
    # As if mastering had missed: the check reports it, it does not fail the render.
    monkeypatch.setattr(pipeline, "mastering_for", lambda estimate, target: Mastering(-12.0))
    summary = _render(chapter, tmp_path / "out", preset=pipeline.Preset.ACX)
    assert summary.count("rendered") == 1
    assert any("chapter 1: loudness" in w and "target -20" in w for w in summary.warnings)
