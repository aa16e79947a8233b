"""Read-along EPUB 3: pages with a span per line, SMIL clip times from the cues, epubcheck."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import EPUBCHECK_JAR
from test_ffmpeg import make_wav

from narrator.errors import OutputError
from narrator.ffmpeg import encode_mp3
from narrator.model import BookInfo, Cue, Tags
from narrator.readalong import ACTIVE_CLASS, ReadAlongChapter, write_read_along

pytestmark = pytest.mark.ffmpeg

SMIL = "{http://www.w3.org/ns/SMIL}"
OPF = "{http://www.idpf.org/2007/opf}"
XHTML = "{http://www.w3.org/1999/xhtml}"

CUES = (
    (
        Cue(0, 1200, "Narrator", "Chapter One."),
        Cue(1500, 2600, "Wren", '"Who is there?" & <why>'),
        Cue(2900, 4100, "Narrator", "Nobody answered."),
    ),
    (Cue(0, 900, "Narrator", "Chapter Two."), Cue(1100, 2500, "Old Tam", '"Me."')),
)


def _chapters(tmp_path: Path) -> list[ReadAlongChapter]:
    chapters = []
    for number, cues in enumerate(CUES, start=1):
        wav = make_wav(tmp_path / f"{number}.wav", cues[-1].end_ms + 300)
        mp3 = tmp_path / f"{number}.mp3"
        duration_ms = encode_mp3(wav, mp3, Tags(title=f"Chapter {number}", album="Book"))
        chapters.append(ReadAlongChapter(f"Chapter {number}", mp3, duration_ms, cues))
    return chapters


def _tags() -> Tags:
    return Tags(
        title="The Lantern Book",
        album="The Lantern Book",
        artist="Ada Writer",
        info=BookInfo(
            narrator="narrator (espeak-ng)",
            year=2024,
            description="Two short chapters.",
            language="en",
        ),
    )


def _clock_ms(value: str) -> int:
    hours, minutes, seconds = value.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def test_every_line_is_a_span_whose_overlay_plays_its_cue(tmp_path: Path) -> None:
    epub_path = tmp_path / "out" / "book.epub"
    write_read_along(_chapters(tmp_path), epub_path, _tags())
    with zipfile.ZipFile(epub_path) as epub:
        first = epub.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert epub.read("mimetype") == b"application/epub+zip"
        package = ET.fromstring(epub.read("EPUB/package.opf"))
        items = {item.get("id"): item for item in package.iter(f"{OPF}item")}
        durations = {
            meta.get("refines"): _clock_ms(meta.text or "")
            for meta in package.iter(f"{OPF}meta")
            if meta.get("property") == "media:duration"
        }
        active = [
            m.text for m in package.iter(f"{OPF}meta") if m.get("property") == "media:active-class"
        ]
        assert active == [ACTIVE_CLASS]
        for number, cues in enumerate(CUES, start=1):
            page_item = items[f"c{number}"]
            overlay = items[page_item.get("media-overlay")]
            assert overlay.get("media-type") == "application/smil+xml"
            assert durations[f"#{overlay.get('id')}"] == cues[-1].end_ms
            smil = ET.fromstring(epub.read(f"EPUB/{overlay.get('href')}"))
            page = ET.fromstring(epub.read(f"EPUB/{page_item.get('href')}"))
            spans = {span.get("id"): span for span in page.iter(f"{XHTML}span")}
            pars = list(smil.iter(f"{SMIL}par"))
            assert len(pars) == len(cues) == len(spans)
            for par, cue in zip(pars, cues, strict=True):
                text = par.find(f"{SMIL}text")
                audio = par.find(f"{SMIL}audio")
                assert text is not None and audio is not None
                span = spans[text.get("src", "").split("#")[1]]
                assert "".join(span.itertext()) == cue.text  # escaped in, read back whole
                assert span.get("title") == cue.speaker
                assert _clock_ms(audio.get("clipBegin", "")) == cue.start_ms
                assert _clock_ms(audio.get("clipEnd", "")) == cue.end_ms
                assert epub.getinfo(f"EPUB/{audio.get('src')}").file_size > 0
        assert durations[None] == sum(cues[-1].end_ms for cues in CUES)
        # A class per speaker, the same across chapters, and a colour for each character.
        classes = {
            span.get("title"): span.get("class")
            for name in epub.namelist()
            if name.endswith(".xhtml") and name != "EPUB/nav.xhtml"
            for span in ET.fromstring(epub.read(name)).iter(f"{XHTML}span")
        }
        assert classes == {"Narrator": "sp-narrator", "Wren": "sp-wren", "Old Tam": "sp-old-tam"}
        css = epub.read("EPUB/style.css").decode()
        assert re.search(r"\.sp-wren \{ color: #", css) and ".sp-narrator" not in css


def test_a_missing_audio_file_fails_cleanly(tmp_path: Path) -> None:
    chapter = ReadAlongChapter("One", tmp_path / "gone.mp3", 1000, CUES[0])
    with pytest.raises(OutputError, match=r"book\.epub: .*gone\.mp3 is missing"):
        write_read_along([chapter], tmp_path / "book.epub", _tags())
    assert not list(tmp_path.iterdir())


@pytest.mark.epubcheck
def test_the_read_along_passes_epubcheck(tmp_path: Path) -> None:
    chapters = _chapters(tmp_path)
    silent = ReadAlongChapter("An empty page", chapters[0].audio_path, 0, ())
    epub_path = tmp_path / "book.epub"
    cover = tmp_path / "cover.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=teal:s=32x32:d=1",
         "-frames:v", "1", "-y", str(cover)],
        check=True,
    )  # fmt: skip
    tags = Tags(**{**_tags().__dict__, "cover": cover.read_bytes(), "cover_mime": "image/png"})
    write_read_along([*chapters, silent], epub_path, tags)
    done = subprocess.run(
        ["java", "-jar", str(EPUBCHECK_JAR), str(epub_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No errors or warnings detected" in done.stdout + done.stderr
