"""Tests for narrator.export: WebVTT and SRT transcripts, M3U playlists, atomic writes."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator.errors import InputError, OutputError
from narrator.export import read_vtt, write_m3u, write_vtt
from narrator.model import Cue

RATE = 22050


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- MP3 -----------------------------------------------------------------------------------


# --- durations -----------------------------------------------------------------------------


# --- M4B -----------------------------------------------------------------------------------


# --- WebVTT --------------------------------------------------------------------------------


def test_vtt_voice_tags_and_round_trip(tmp_path: Path) -> None:
    cues = [
        Cue(500, 1800, "Narrator", "The door opened."),
        Cue(2150, 3000, "Tom", '"Go away!"'),
        Cue(3350, 5100, "Ann & <Bo>", "Fish & chips <b>now</b> --> later"),
        Cue(3_725_001, 3_726_999, "the old man", "Line one\nline two"),
    ]
    vtt_path = tmp_path / "sub" / "ch.vtt"
    write_vtt(cues, vtt_path)
    content = vtt_path.read_text(encoding="utf-8")
    assert content.startswith("WEBVTT\n\n")
    assert '<v Tom>"Go away!"</v>' in content
    assert "<v Narrator>The door opened.</v>" in content
    assert "00:00:02.150 --> 00:00:03.000" in content
    assert "01:02:05.001 --> 01:02:06.999" in content
    assert "Fish &amp; chips &lt;b&gt;now&lt;/b&gt; --&gt; later" in content
    assert "<b>" not in content
    # "-->" appears only on timing rows, never in cue text.
    arrow_rows = [row for row in content.split("\n") if "-->" in row]
    assert len(arrow_rows) == len(cues)
    assert all(re.fullmatch(r"[\d:.]+ --> [\d:.]+", row) for row in arrow_rows)
    # No blank line inside a cue: each cue is one block of three rows.
    assert all(len(b.split("\n")) == 3 for b in content.strip().split("\n\n")[1:])

    back = read_vtt(vtt_path)
    assert [(c.start_ms, c.end_ms, c.speaker) for c in back] == [
        (c.start_ms, c.end_ms, c.speaker) for c in cues
    ]
    assert [c.text for c in back[:3]] == [c.text for c in cues[:3]]
    assert back[3].text == "Line one line two"
    assert files_in(vtt_path.parent) == ["ch.vtt"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
            st.integers(0, 10_000_000),
            st.integers(0, 90_000),
        ),
        max_size=5,
    )
)
def test_vtt_round_trip_property(rows: list[tuple[str, str, int, int]]) -> None:
    cues = [Cue(start, start + length, speaker, text) for speaker, text, start, length in rows]
    with tempfile.TemporaryDirectory() as folder:
        vtt_path = Path(folder) / "a.vtt"
        write_vtt(cues, vtt_path)
        back = read_vtt(vtt_path)
    assert [(c.start_ms, c.end_ms) for c in back] == [(c.start_ms, c.end_ms) for c in cues]
    assert [c.speaker for c in back] == [" ".join(c.speaker.split()) or "Unknown" for c in cues]
    assert [c.text for c in back] == [" ".join(c.text.split()) for c in cues]


def test_vtt_speaker_that_would_break_the_tag(tmp_path: Path) -> None:
    cues = [Cue(0, 1000, "Bad>Name\n<x>", "hi"), Cue(1000, 2000, "   ", "who?")]
    write_vtt(cues, tmp_path / "a.vtt")
    rows = (tmp_path / "a.vtt").read_text(encoding="utf-8").split("\n")
    voice_rows = [r for r in rows if r.startswith("<v ")]
    for row in voice_rows:
        annotation = row[3 : row.index(">")]
        assert "<" not in annotation and "\n" not in annotation
    assert voice_rows[0].endswith(">hi</v>")
    assert [c.speaker for c in read_vtt(tmp_path / "a.vtt")] == ["Bad>Name <x>", "Unknown"]


def test_read_vtt_from_other_writers(tmp_path: Path) -> None:
    vtt_path = tmp_path / "x.vtt"
    vtt_path.write_text(
        "\ufeffWEBVTT - made elsewhere\r\n\r\nNOTE a comment\r\nspanning rows\r\n\r\n"
        "intro\r\n00:01.250 --> 00:02.000 align:start\r\n<v.loud Ann>Hello</v>\r\n\r\n"
        "00:02.000 --> 00:03.500\r\nplain <i>text</i>\r\nsecond row\r\n",
        encoding="utf-8",
    )
    assert read_vtt(vtt_path) == [
        Cue(1250, 2000, "Ann", "Hello"),
        Cue(2000, 3500, "", "plain text\nsecond row"),
    ]


def test_read_vtt_rejects_other_files(tmp_path: Path) -> None:
    srt = tmp_path / "x.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.srt"):
        read_vtt(srt)
    with pytest.raises(InputError, match=r"missing\.vtt"):
        read_vtt(tmp_path / "missing.vtt")


def test_vtt_into_a_folder_path_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "ch.vtt").mkdir()
    with pytest.raises(OutputError, match=r"ch\.vtt"):
        write_vtt([Cue(0, 1, "A", "b")], tmp_path / "ch.vtt")


# --- M3U -----------------------------------------------------------------------------------


def test_m3u_lists_relative_paths_with_durations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    book = tmp_path / "book"
    entries = [
        (book / "mp3" / "01 - Start.mp3", "Chapter 1: Start", 61_499),
        (book / "mp3" / "02.mp3", "Chapter 2\nwith a break", 1_800_600),
        # Relative to the working directory, as `--out out` gives them: the playlist
        # must still find it from its own folder.
        (Path("book/03.mp3"), "Relative", 999),
    ]
    m3u_path = Path("book") / "book.m3u"
    write_m3u(entries, m3u_path)
    assert m3u_path.read_text(encoding="utf-8").split("\n") == [
        "#EXTM3U",
        "#EXTINF:61,Chapter 1: Start",
        "mp3/01 - Start.mp3",
        "#EXTINF:1801,Chapter 2 with a break",
        "mp3/02.mp3",
        "#EXTINF:1,Relative",
        "03.mp3",
        "",
    ]
    assert files_in(book) == ["book.m3u"]


def test_m3u_path_outside_the_playlist_folder(tmp_path: Path) -> None:
    write_m3u([(tmp_path / "a" / "x.mp3", "X", 5000)], tmp_path / "b" / "list.m3u")
    assert (tmp_path / "b" / "list.m3u").read_text(encoding="utf-8").split("\n")[2] == "../a/x.mp3"
