"""Export: Cues + Tags -> WebVTT and SRT transcripts, the extended M3U playlist,
Audiobookshelf's metadata.json; reading covers and transcripts back.

The audio files themselves are written by an encoder (narrator.encode; ffmpeg's in
narrator.ffmpeg). Every file is written to a temp name beside its target and moved into place
with os.replace, so a failure never leaves a partial file under the final name.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from narrator.errors import InputError
from narrator.files import atomic_path, write_if_changed
from narrator.model import Cue, Tags

GENRE = "Audiobook"
MP3_BITRATE_KBPS = 64


def write_vtt(cues: Sequence[Cue], vtt_path: Path) -> None:
    """Write a WebVTT transcript: one cue per line, its text in a voice tag naming the speaker."""
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(cues, start=1):
        speaker = _vtt_escape(" ".join(cue.speaker.split())) or "Unknown"
        text = _vtt_escape(" ".join(cue.text.split()))
        timing = f"{_vtt_time(cue.start_ms)} --> {_vtt_time(max(cue.end_ms, cue.start_ms))}"
        blocks.append(f"{number}\n{timing}\n<v {speaker}>{text}</v>\n")
    _write_text(vtt_path, "\n".join(blocks))


def write_srt(cues: Sequence[Cue], srt_path: Path) -> None:
    """Write a SubRip transcript (for players that read no WebVTT): the speaker before the text."""
    blocks = []
    for number, cue in enumerate(cues, start=1):
        speaker = " ".join(cue.speaker.split()) or "Unknown"
        text = " ".join(cue.text.split())
        end_ms = max(cue.end_ms, cue.start_ms)
        timing = f"{_srt_time(cue.start_ms)} --> {_srt_time(end_ms)}"
        blocks.append(f"{number}\n{timing}\n{speaker}: {text}\n")
    _write_text(srt_path, "\n".join(blocks))


def _srt_time(ms: int) -> str:
    return _vtt_time(ms).replace(".", ",")


def write_transcripts(cues: Sequence[Cue], vtt_path: Path) -> Path:
    """Write the WebVTT transcript and an SRT beside it; return the SRT's path."""
    write_vtt(cues, vtt_path)
    srt_path = vtt_path.with_suffix(".srt")
    write_srt(cues, srt_path)
    return srt_path


def shift_cues(cues: Sequence[Cue], offset_ms: int) -> list[Cue]:
    """Cues moved later by offset_ms (a chapter's cues placed in the whole book)."""
    return [
        Cue(cue.start_ms + offset_ms, cue.end_ms + offset_ms, cue.speaker, cue.text) for cue in cues
    ]


def read_cover(path: Path) -> tuple[bytes, str]:
    """A cover image's bytes and MIME type; InputError unless it is a readable JPEG or PNG."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the cover {path}: {exc.strerror or exc}") from exc
    kind = image_kind(data, None)
    if kind is None:
        raise InputError(f"{path}: the cover must be a JPEG or PNG image")
    return data, f"image/{'jpeg' if kind == 'jpg' else 'png'}"


def write_abs_metadata(
    json_path: Path, tags: Tags, chapters: Sequence[tuple[str, int, int]] = ()
) -> bool:
    """Write Audiobookshelf's `metadata.json` (its own schema) beside a book's audio, unless
    it holds that already; whether it wrote.

    A library scan prefers it to tags and folder names, so the book shows with its title,
    author, narrator, series and description however the folders are named.
    """
    info = tags.info
    series = []
    if info.series:
        series.append(info.series + (f" #{info.series_part}" if info.series_part else ""))
    metadata = {
        "tags": [],
        "chapters": [
            {"id": number, "start": start_ms / 1000, "end": end_ms / 1000, "title": title}
            for number, (title, start_ms, end_ms) in enumerate(chapters)
        ],
        "metadata": {
            "title": tags.album,
            "subtitle": None,
            "authors": [tags.artist] if tags.artist else [],
            "narrators": [info.narrator] if info.narrator else [],
            "series": series,
            "genres": [GENRE],
            "publishedYear": str(info.year) if info.year is not None else None,
            "publisher": None,
            "description": info.description,
            "isbn": None,
            "asin": None,
            "language": info.language,
            "explicit": False,
            "abridged": False,
        },
    }
    return write_if_changed(json_path, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")


def read_vtt(path: Path) -> list[Cue]:
    """Read the cues of a WebVTT file (voice tag -> speaker; other tags are dropped)."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    blocks = re.split(r"\n[ \t]*\n", content.replace("\r\n", "\n").strip("\n"))
    if not blocks or not re.match(r"WEBVTT(?:[ \t].*)?$", blocks[0].split("\n")[0]):
        raise InputError(f"{path}: not a WebVTT file (no WEBVTT header)")
    cues: list[Cue] = []
    for block in blocks[1:]:
        rows = block.split("\n")
        if rows[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        if "-->" not in rows[0]:
            rows = rows[1:]  # a cue identifier
        timing = re.match(r"\s*([\d:.]+)\s+-->\s+([\d:.]+)", rows[0]) if rows else None
        if timing is None:
            raise InputError(f"{path}: bad cue timing in block {block[:40]!r}")
        payload = "\n".join(rows[1:])
        speaker = ""
        voice = re.match(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>(.*?)(?:</v>)?$", payload, re.DOTALL)
        if voice:
            speaker = html.unescape(voice.group(1)).strip()
            payload = voice.group(2)
        text = html.unescape(re.sub(r"<[^>]*>", "", payload))
        start_ms = _vtt_ms(timing.group(1), path)
        cues.append(Cue(start_ms, _vtt_ms(timing.group(2), path), speaker, text))
    return cues


def write_m3u(entries: Sequence[tuple[Path, str, int]], m3u_path: Path) -> None:
    """Write an extended M3U playlist of (audio path, title, duration_ms).

    Entries are relative to the playlist's own folder, however the paths were given (a
    relative path means relative to the working directory, as everywhere else).
    """
    rows = ["#EXTM3U"]
    base = m3u_path.parent.resolve()
    for path, title, duration_ms in entries:
        where = Path(os.path.relpath(path.resolve(), base))
        rows.append(f"#EXTINF:{round(duration_ms / 1000)},{' '.join(title.split())}")
        rows.append(where.as_posix())
    _write_text(m3u_path, "\n".join(rows) + "\n")


def image_kind(data: bytes, mime: str | None) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    return {"image/png": "png", "image/jpeg": "jpg"}.get(mime or "")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(max(0, ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _vtt_ms(stamp: str, path: Path) -> int:
    match = re.fullmatch(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})", stamp)
    if match is None:
        raise InputError(f"{path}: bad WebVTT timestamp {stamp!r}")
    hours, minutes, seconds, millis = (int(g or 0) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _write_text(path: Path, content: str) -> None:
    with atomic_path(path) as tmp_path:  # an OSError comes out as "cannot write <path>"
        tmp_path.write_text(content, encoding="utf-8")
