"""Bytes -> text: guess the encoding, normalise newlines, refuse what is not text.

The decoded string is what every later offset refers to, so the clean-up keeps it simple:
newlines become \\n, the byte-order mark goes, and stray control characters (NUL included)
become spaces; a file where they are more than a tenth of the text is refused as not text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

from narrator.errors import InputError

# Magic numbers of files people rename to .txt by accident; the message says what it looks like.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (EPUB, DOCX or ODT?)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"{\\rtf", "an RTF document (save it as plain text)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

# Controls other than \n and \t; \r is gone by the time this runs.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A few controls in a long file are noise; this share of them means it is not text.
_MAX_CONTROL_SHARE = 0.1


class EmptyFileError(InputError):
    """A file with nothing but whitespace in it (a folder of chapters skips these)."""


def decode_text(data: bytes, source: str) -> str:
    """Decode a text file's bytes to a str with \\n newlines; InputError if it is not text."""
    if not data.strip():
        raise EmptyFileError(f"{source}: the file is empty")
    text = _decode(data, source)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Line and paragraph separators are newlines by another name.
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\u0085", "\n")
    text = text.replace("\ufeff", "")
    # Letters are NFC, one spelling each: `É` typed as E + combining accent is the `É` of the
    # cast file (offsets refer to this text).
    text = unicodedata.normalize("NFC", text)
    controls = len(_CONTROL_RE.findall(text))
    if controls and controls > _MAX_CONTROL_SHARE * len(text):
        raise InputError(f"{source}: not a text file (mostly control characters)")
    text = _CONTROL_RE.sub(" ", text)
    if not text.strip():
        raise EmptyFileError(f"{source}: the file is empty")
    return text


def _decode(data: bytes, source: str) -> str:
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with that one's
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return body.decode(codec)
            except UnicodeDecodeError:
                if codec == "utf-8":
                    return _decode_mixed(body)
                raise InputError(
                    f"{source}: not a text file (invalid {codec.upper()} after its byte-order mark)"
                ) from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source}: not a text file (looks like {what})")
    if b"\x00" in data:
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            return utf16
        # A stray NUL is a control character like any other (a space); many mean binary.
        if data.count(0) > _MAX_CONTROL_SHARE * len(data):
            raise InputError(f"{source}: not a text file (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return _decode_mixed(data)
    if _looks_western(data):
        # Latin-1 text is cp1252 text (they differ only in 0x80-0x9f, controls in Latin-1);
        # the five bytes cp1252 leaves undefined become spaces.
        return data.decode("cp1252", errors="narrator-space")
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise InputError(f"{source}: not a text file (unknown encoding)")
    return str(best)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 written without a byte-order mark: mostly-ASCII text has every other byte NUL."""
    if len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    for zeros, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.6 * len(zeros) and other.count(0) <= 0.01 * len(other):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def _mostly_utf8(data: bytes) -> bool:
    """True when valid multi-byte UTF-8 sequences outnumber the invalid bytes (pasted text)."""
    kept = data.decode("utf-8", errors="ignore")
    valid = len(kept) - len(kept.encode("ascii", errors="ignore"))
    invalid = len(data.decode("utf-8", errors="replace")) - len(kept)
    return valid > invalid


def _decode_mixed(data: bytes) -> str:
    """UTF-8 with the odd Windows-1252 byte in it, as copy-pasted web text often is."""
    return data.decode("utf-8", errors="narrator-cp1252")


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", " "), err.end


def _space_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return " " * (err.end - err.start), err.end


codecs.register_error("narrator-cp1252", _cp1252_fallback)
codecs.register_error("narrator-space", _space_fallback)

_HIGH_BYTES = bytes(range(0x80, 0x100))
_HIGH_RUN_RE = re.compile(rb"[\x80-\xff]{3,}")
_MAX_RUN_SHARE = 0.3


def _looks_western(data: bytes) -> bool:
    """True when bytes read as Windows-1252 give Western text.

    In French or German a non-ASCII letter mostly stands alone between ASCII ones ("caf\xe9");
    Cyrillic, Greek or CJK in a legacy code page come as long runs of high bytes.
    charset-normalizer guesses wrong on short Western texts (cp1250 for cp1252), so this
    check comes before it.
    """
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    in_runs = sum(len(run) for run in _HIGH_RUN_RE.findall(data))
    return in_runs <= _MAX_RUN_SHARE * high
