"""Feed: chapter MP3s + transcripts + Tags -> a podcast RSS 2.0 feed for a serial.

Web fiction is read as it updates: a feed lets a podcast app fetch each new chapter. One
item per chapter, with its enclosure, duration, a `<podcast:transcript>` (the WebVTT) and a
`<podcast:chapters>` JSON file. An item keeps the publication date it was first given, so a
re-render that adds a chapter adds one item and leaves the others as they were.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree as ET

from narrator.errors import ConfigError
from narrator.files import write_if_changed
from narrator.model import Tags

FEED_NAME = "feed.xml"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CHAPTERS_SUFFIX = ".chapters.json"


@dataclass(frozen=True)
class FeedItem:
    """One chapter as a podcast episode: its MP3 and transcript in the feed's folder."""

    number: int
    title: str
    mp3_path: Path
    vtt_path: Path
    duration_ms: int


def check_base_url(base_url: str) -> str:
    """The URL the feed's folder is published at, ending in "/"; ConfigError if not http(s)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"--feed: {base_url!r} is not a web address; give the http(s) URL where the "
            "MP3 folder will be published, e.g. https://example.org/my-serial/"
        )
    return base_url if base_url.endswith("/") else base_url + "/"


def write_feed(items: Sequence[FeedItem], feed_path: Path, tags: Tags, base_url: str) -> bool:
    """Write (or update) the feed; whether the feed changed. Items already in it keep their
    publication date; files that did not change are left alone."""
    base_url = check_base_url(base_url)
    published = _published_dates(feed_path)
    now = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
    rendered = []
    for item in sorted(items, key=lambda i: i.number, reverse=True):  # newest first
        guid = _guid(tags, item)
        chapters_path = item.mp3_path.with_name(item.mp3_path.stem + CHAPTERS_SUFFIX)
        write_if_changed(chapters_path, _chapters_json(item))
        rendered.append(_item(item, guid, published.get(guid, now), base_url, chapters_path))
    description = tags.info.description or _credit(tags)
    channel = [
        f"<title>{_x(tags.album)}</title>",
        f"<link>{_x(base_url)}</link>",
        f"<description>{_x(description)}</description>",
        f"<language>{_x(tags.info.language or 'en')}</language>",
        "<generator>narrator</generator>",
        f"<itunes:author>{_x(tags.artist or '')}</itunes:author>",
        "<itunes:explicit>false</itunes:explicit>",
        "<itunes:type>serial</itunes:type>",
        f'<atom:link href="{_x(base_url + FEED_NAME)}" rel="self" type="application/rss+xml"/>',
    ]
    cover = _cover_name(tags)
    if cover:
        write_if_changed(feed_path.with_name(cover), tags.cover or b"")
        channel.append(f'<itunes:image href="{_x(base_url + quote(cover))}"/>')
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:itunes="{ITUNES_NS}" xmlns:podcast="{PODCAST_NS}" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        + "\n".join(channel)
        + "\n"
        + "".join(rendered)
        + "</channel>\n</rss>\n"
    )
    return write_if_changed(feed_path, text)


def _item(item: FeedItem, guid: str, published: str, base_url: str, chapters: Path) -> str:
    mp3_url = base_url + quote(item.mp3_path.name)
    vtt_url = base_url + quote(item.vtt_path.name)
    chapters_url = base_url + quote(chapters.name)
    length = item.mp3_path.stat().st_size
    rows = [
        f"<title>{_x(item.title)}</title>",
        f'<guid isPermaLink="false">{_x(guid)}</guid>',
        f"<pubDate>{published}</pubDate>",
        f'<enclosure url="{_x(mp3_url)}" length="{length}" type="audio/mpeg"/>',
        f"<itunes:duration>{round(item.duration_ms / 1000)}</itunes:duration>",
        f"<itunes:episode>{item.number}</itunes:episode>",
        f'<podcast:transcript url="{_x(vtt_url)}" type="text/vtt" rel="captions"/>',
        f'<podcast:chapters url="{_x(chapters_url)}" type="application/json+chapters"/>',
    ]
    return "<item>\n" + "\n".join(rows) + "\n</item>\n"


def _chapters_json(item: FeedItem) -> str:
    """The podcast chapters file of an episode that is one book chapter."""
    chapters = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": item.title}]}
    return json.dumps(chapters, ensure_ascii=False, indent=1) + "\n"


def _guid(tags: Tags, item: FeedItem) -> str:
    """Stable across renders: the book and the chapter's number and title."""
    book = re.sub(r"\s+", " ", f"{tags.artist or ''}/{tags.album}").strip()
    return f"narrator:{book}:{item.number}:{item.title}"


def _published_dates(feed_path: Path) -> dict[str, str]:
    """guid -> pubDate of the items an earlier render wrote (none if there is no feed)."""
    try:
        root = ET.parse(feed_path).getroot()
    except (OSError, ET.ParseError):
        return {}
    dates = {}
    for element in root.iter("item"):
        guid, date = element.findtext("guid"), element.findtext("pubDate")
        if guid and date:
            dates[guid] = date
    return dates


def _credit(tags: Tags) -> str:
    by = f" by {tags.artist}" if tags.artist else ""
    read = f", read by {tags.info.narrator}" if tags.info.narrator else ""
    return f"{tags.album}{by}{read}."


def _cover_name(tags: Tags) -> str | None:
    if not tags.cover:
        return None
    return "cover.png" if tags.cover.startswith(b"\x89PNG") else "cover.jpg"


def _x(value: str) -> str:
    return html.escape(value, quote=True)
