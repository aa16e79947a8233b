"""Podcast feed for serials: RSS 2.0 items with enclosures, transcripts and chapters."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from narrator import pipeline
from narrator.errors import ConfigError
from narrator.feed import ITUNES_NS, PODCAST_NS
from narrator.layout import Format
from narrator.plan import RenderOptions

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://example.org/clockwork/"

pytestmark = pytest.mark.ffmpeg


def _render(arc: Path, tmp_path: Path, **kwargs: object) -> pipeline.RenderSummary:
    options = RenderOptions(
        out_dir=tmp_path / "out", engine="fake", format=Format.MP3, feed_url=BASE, **kwargs
    )  # type: ignore[arg-type]
    return pipeline.render_book(arc, options)


def _items(feed: str) -> list[str]:
    return re.findall(r"<item>.*?</item>", feed, re.DOTALL)


def test_the_feed_has_one_item_per_chapter_and_a_new_chapter_adds_one(tmp_path: Path) -> None:
    arc = tmp_path / "Clockwork"
    shutil.copytree(ROOT / "examples" / "arc", arc)
    later = tmp_path / "10.txt"
    shutil.move(arc / "10.txt", later)
    first = _render(arc, tmp_path)
    assert (
        first.feed_path is not None and first.feed_path.parent == first.chapters[0].mp3_path.parent
    )  # type: ignore[union-attr]
    before = first.feed_path.read_text(encoding="utf-8")
    rss = ET.fromstring(before)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Clockwork" and channel.findtext("link") == BASE
    assert channel.findtext("description")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == [
        ch.title for ch in reversed(first.chapters)
    ]
    for item, chapter in zip(items, reversed(first.chapters), strict=True):
        assert chapter.mp3_path is not None and chapter.vtt_path is not None
        enclosure = item.find("enclosure")
        assert enclosure is not None and enclosure.get("type") == "audio/mpeg"
        assert enclosure.get("url", "").startswith(BASE)
        assert _local(enclosure.get("url", "")) == chapter.mp3_path.name
        assert int(enclosure.get("length", "0")) == chapter.mp3_path.stat().st_size
        assert item.findtext("guid") and item.findtext("pubDate")
        assert int(item.findtext(f"{{{ITUNES_NS}}}duration") or 0) == round(
            chapter.duration_ms / 1000
        )
        transcript = item.find(f"{{{PODCAST_NS}}}transcript")
        assert transcript is not None and transcript.get("type") == "text/vtt"
        assert _local(transcript.get("url", "")) == chapter.vtt_path.name
        chapters = item.find(f"{{{PODCAST_NS}}}chapters")
        assert chapters is not None and chapters.get("type") == "application/json+chapters"
        data = json.loads((chapter.mp3_path.parent / _local(chapters.get("url", ""))).read_text())
        assert data["version"] == "1.2.0" and data["chapters"][0]["title"] == chapter.title

    audio_before = _audio_frames(first.chapters[0].mp3_path)  # type: ignore[arg-type]
    shutil.move(later, arc / "10.txt")
    second = _render(arc, tmp_path)
    # A new chapter changes the others' track total only: their audio is kept, retagged.
    assert [ch.status for ch in second.chapters] == ["retagged", "retagged", "rendered"]
    assert second.clips_synthesized > 0 and all(ch.mp3_path.exists() for ch in second.chapters)  # type: ignore[union-attr]
    id3 = pytest.importorskip("mutagen.id3")
    first_mp3 = second.chapters[0].mp3_path
    assert str(id3.ID3(first_mp3)["TRCK"]) == "1/3"
    # The audio frames are the very same bytes (a remux, not an encode); only the first
    # frame, the Xing/LAME header, is written anew.
    audio_after = _audio_frames(first_mp3)  # type: ignore[arg-type]
    assert len(audio_after) == len(audio_before) and audio_after[1000:] == audio_before[1000:]
    after = second.feed_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert len(_items(after)) == 3
    assert _items(after)[1:] == _items(before)  # the old items are untouched, to the byte


def _audio_frames(mp3_path: Path) -> bytes:
    """An MP3's bytes after its ID3v2 tag (header: 10 bytes, then a syncsafe size)."""
    data = mp3_path.read_bytes()
    assert data[:3] == b"ID3"
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | byte
    return data[10 + size :]


def _local(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url.removeprefix(BASE))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feed_url": "example.org/x"}, "--feed: 'example.org/x' is not a web address"),
        ({"format": Format.M4B}, "--feed needs chapter MP3s"),
    ],
)
def test_feed_problems_are_said_before_any_work(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    chapter = tmp_path / "c.txt"
    chapter.write_text("Hello.\n", encoding="utf-8")
    options = RenderOptions(
        **{"out_dir": tmp_path / "out", "engine": "fake", "format": Format.MP3, "feed_url": BASE}
        | kwargs  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        pipeline.render_book(chapter, options)
    assert not (tmp_path / "out").exists() and not (tmp_path / "cast.toml").exists()
