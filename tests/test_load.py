"""Tests for narrator.load: decoding, chapter splitting, Markdown/HTML, folders and EPUB."""

from __future__ import annotations

import codecs
import itertools
import re
import shutil
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
from epubfactory import EpubSpec, Page, build_epub, rewrite_epub, tiny_png
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator.errors import InputError
from narrator.load import decode_text, load_book, natural_key, read_text, split_chapters
from narrator.load.markup import html_to_text, markdown_to_text

DATA = Path(__file__).parent / "data" / "load"

PROSE = (
    "The tide came in slowly over the flats, and the herons lifted one by one, "
    "complaining, towards the reeds on the far side of the estuary where the old boats lay."
)


def one_line(error: pytest.ExceptionInfo[InputError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# --- decode_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Plain ASCII text.\n", "Plain ASCII text.\n"),
        (
            "Caf\u00e9 \u201cquoted\u201d \u2014 ok".encode(),
            "Caf\u00e9 \u201cquoted\u201d \u2014 ok",
        ),
        (codecs.BOM_UTF8 + "With BOM \u00e9".encode(), "With BOM \u00e9"),
        (
            codecs.BOM_UTF16_LE + "Little \u201cend\u201d".encode("utf-16-le"),
            "Little \u201cend\u201d",
        ),
        (codecs.BOM_UTF16_BE + "Big \u00fcber".encode("utf-16-be"), "Big \u00fcber"),
        (codecs.BOM_UTF32_LE + "Wide \u00e9".encode("utf-32-le"), "Wide \u00e9"),
        # Windows-1252: 0x93/0x94 are curly double quotes, 0x97 an em dash, 0x85 an ellipsis.
        (
            b"He said \x93hello\x94 \x97 caf\xe9\x85",
            "He said \u201chello\u201d \u2014 caf\u00e9\u2026",
        ),
        (b"It\x92s fine", "It\u2019s fine"),
        # Latin-1 German: the same bytes in cp1252.
        (
            b"Gr\xfc\xdfe aus K\xf6ln, sch\xf6ne Gr\xfc\xdfe!",
            "Gr\u00fc\u00dfe aus K\u00f6ln, sch\u00f6ne Gr\u00fc\u00dfe!",
        ),
    ],
    ids=[
        "ascii",
        "utf8",
        "utf8-bom",
        "utf16le",
        "utf16be",
        "utf32le",
        "cp1252",
        "cp1252-apos",
        "latin1",
    ],
)
def test_decode_encodings(data: bytes, expected: str) -> None:
    assert decode_text(data, "x.txt") == expected


def test_decode_latin1_bytes_undefined_in_cp1252_become_spaces() -> None:
    assert decode_text(b"na\xefve \x81 caf\xe9", "x.txt") == "na\u00efve   caf\u00e9"


def test_decode_other_code_pages_through_charset_normalizer() -> None:
    russian = "Привет, как дела? Это длинный тестовый текст, чтобы проверить кодировку файла."
    assert decode_text(russian.encode("cp1251"), "x.txt") == russian


def test_decode_utf8_with_a_stray_cp1252_byte() -> None:
    data = "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 ".encode() + b"\x93odd\x94"
    assert decode_text(data, "x.txt") == "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u201codd\u201d"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_decode_utf16_without_bom(codec: str) -> None:
    text = "No mark at all, \u201cjust\u201d UTF-16.\n"
    assert decode_text(text.encode(codec), "x.txt") == text


def test_letters_typed_with_combining_accents_become_one_letter() -> None:
    # `É` as E + U+0301 (macOS, some editors) is the `É` a cast file spells.
    decomposed = '"Where?" asked E\u0301owyn and O\u0304kami.'
    assert decode_text(decomposed.encode("utf-8"), "x.txt") == '"Where?" asked Éowyn and Ōkami.'


def test_decode_normalises_mixed_newlines() -> None:
    text = decode_text(b"one\r\ntwo\rthree\nfour\r\n\r\nfive\r", "x.txt")
    assert text == "one\ntwo\nthree\nfour\n\nfive\n"


def test_decode_utf16_crlf() -> None:
    data = codecs.BOM_UTF16_LE + "a\r\nb\r\n".encode("utf-16-le")
    assert decode_text(data, "x.txt") == "a\nb\n"


def test_decode_replaces_control_characters_with_spaces() -> None:
    data = b"A bell\x07 rang, a vertical\x0btab, a\ttab and an escape\x1b."
    assert decode_text(data, "x.txt") == "A bell  rang, a vertical tab, a\ttab and an escape ."


def test_a_stray_nul_byte_is_a_space_like_other_control_characters() -> None:
    data = b"One stray\x00 NUL byte in a long chapter should not cost the chapter."
    assert decode_text(data, "x.txt") == (
        "One stray  NUL byte in a long chapter should not cost the chapter."
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG image"),
        (b"%PDF-1.7\n%binary", "PDF"),
        (b"PK\x03\x04zipdata", "ZIP"),
        (b"text\x00with\x00a\x00NUL\x00byte\x00in\x00each\x00gap", "NUL"),
        (bytes(range(1, 32)) * 4 + b"abc", "control characters"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "UTF-16"),  # a lone surrogate
    ],
    ids=["png", "pdf", "zip", "nul", "controls", "bad-utf16"],
)
def test_decode_rejects_binary(data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as error:
        decode_text(data, "book/ch1.txt")
    message = one_line(error)
    assert message.startswith("book/ch1.txt: not a text file (")
    assert reason in message


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\t\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")],
    ids=["empty", "whitespace", "bom-only", "utf16-whitespace"],
)
def test_decode_rejects_empty(data: bytes) -> None:
    with pytest.raises(InputError) as error:
        decode_text(data, "ch1.txt")
    assert one_line(error) == "ch1.txt: the file is empty"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decode_any_bytes_gives_text_or_input_error(data: bytes) -> None:
    try:
        text = decode_text(data, "x.txt")
    except InputError as error:
        assert str(error).startswith("x.txt: ")
        return
    assert isinstance(text, str)
    assert text.strip()
    assert "\r" not in text and "\ufeff" not in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


_PLAIN_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufeff\u2028\u2029",
    )
    | st.sampled_from("\n\t"),
    max_size=200,
).filter(str.strip)


@settings(max_examples=200, deadline=None)
@given(_PLAIN_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_decode_round_trips_unicode_text(text: str, codec: str) -> None:
    # Up to NFC: `É` typed as two code points, or a CJK compatibility ideograph, comes
    # back in its one canonical spelling.
    assert decode_text(text.encode(codec), "x.txt") == unicodedata.normalize("NFC", text)


# --- split_chapters -----------------------------------------------------------------------


def titles(text: str) -> list[str | None]:
    return [span.title for span in split_chapters(text)]


def book_text(*headings: str) -> str:
    return "".join(f"{heading}\n\n{PROSE}\n\n" for heading in headings)


@pytest.mark.parametrize(
    "headings",
    [
        ["Chapter 1", "Chapter 2", "Chapter 12"],
        ["CHAPTER I", "CHAPTER II", "CHAPTER XII"],
        ["Chapter 3: The Mine", "Chapter 4: The Shaft"],
        ["Chapter 3 - The Mine", "Chapter 4 \u2014 The Shaft"],
        ["Chapter One", "Chapter Twenty-One", "CHAPTER FORTY TWO"],
        ["Chapter 7.", "Ch. 8", "chapter 9"],
        ["## Chapter 5", "**Chapter 6**", "=== Chapter 7 ==="],
        ["Prologue", "Chapter 1", "Interlude: Elsewhere", "Chapter 2", "Epilogue"],
    ],
    ids=["digits", "roman", "named", "dashes", "words", "abbrev", "decorated", "extras"],
)
def test_split_at_each_heading_style(headings: list[str]) -> None:
    text = book_text(*headings)
    spans = split_chapters(text)
    assert len(spans) == len(headings)
    for span, heading in zip(spans, headings, strict=True):
        assert text[span.start :].startswith(heading)
        assert span.title is not None and span.title in heading
        assert PROSE in text[span.start : span.end]


@pytest.mark.parametrize(
    "line",
    [
        "Chapter 3 was the best part of the whole book, she said.",
        "chapter mix of things",
        "The chapter 3 heading is not at the start",
        "Chapters 3 and 4",
        "Chapter 3, in which she lied",
        "Prologue",
    ],
)
def test_lines_that_are_not_chapter_headings(line: str) -> None:
    text = f"{PROSE}\n\n{line}\n\n{PROSE}\n"
    assert len(split_chapters(text)) == 1


def test_short_front_text_is_read_with_chapter_one() -> None:
    text = "Author's note: thanks for reading!\n\n" + book_text("Chapter 1", "Chapter 2")
    spans = split_chapters(text)
    assert [s.title for s in spans] == ["Chapter 1", "Chapter 2"]
    assert spans[0].start == 0


def test_long_front_text_is_a_chapter_of_its_own() -> None:
    preface = "Preface\n\n" + " ".join([PROSE] * 4) + "\n\n"
    spans = split_chapters(preface + book_text("Chapter 1", "Chapter 2"))
    assert [s.title for s in spans] == ["Preface", "Chapter 1", "Chapter 2"]


def test_table_of_contents_is_not_split_into_chapters() -> None:
    text = (DATA / "the_lighthouse_keeper.txt").read_text()
    spans = split_chapters(text)
    assert [s.title for s in spans] == [
        "CHAPTER I: The Storm",
        "CHAPTER II: The Letter",
        "CHAPTER III: The Morning",
    ]
    assert text[spans[0].start : spans[0].end].startswith("THE LIGHTHOUSE KEEPER")
    assert text[spans[1].start :].startswith("CHAPTER II.")


def test_book_heading_goes_with_the_next_chapter() -> None:
    text = book_text("Chapter 1") + "Book II\n\n" + book_text("Chapter 2")
    spans = split_chapters(text)
    assert text[spans[1].start :].startswith("Book II\n\nChapter 2")
    assert "Book II" not in text[spans[0].start : spans[0].end]


def test_bare_numerals_that_count_up_are_headings() -> None:
    text = "Title Line\n\n" + book_text("I", "II", "III", "1", "2", "3")
    spans = split_chapters(text)
    assert [s.title for s in spans] == [f"Chapter {n}" for n in ("I", "II", "III", "1", "2", "3")]


@pytest.mark.parametrize(
    "numerals",
    [("I", "II"), ("I", "III", "V"), ("2", "3", "4")],
    ids=["too-few", "gaps", "not-from-one"],
)
def test_bare_numerals_that_do_not_count_up_are_prose(numerals: tuple[str, ...]) -> None:
    assert len(split_chapters(book_text(*numerals))) == 1


def test_heading_word_and_number_on_two_lines() -> None:
    text = "BOOK I\n\n\nCHAPTER\n1\n\n" + PROSE + "\n\nCHAPTER\n2\n\n" + PROSE
    spans = split_chapters(text)
    assert [s.title for s in spans] == ["CHAPTER 1", "CHAPTER 2"]
    assert text[spans[1].start :].startswith("CHAPTER\n2")


def test_part_with_its_own_title_goes_with_the_next_chapter() -> None:
    text = book_text("CHAPTER I") + "BOOK THE SECOND\nREAPING\n\n\n" + book_text("CHAPTER I")
    spans = split_chapters(text)
    assert text[spans[1].start :].startswith("BOOK THE SECOND\nREAPING\n\n\nCHAPTER I")


def test_no_headings_one_span_titled_by_a_title_line() -> None:
    text = f"The Long Road\n\n{PROSE}\n"
    assert split_chapters(text)[0].title == "The Long Road"
    assert split_chapters(f"{PROSE}\n\n{PROSE}\n")[0].title is None
    assert split_chapters(f"\u201cRun!\u201d\n\n{PROSE}\n")[0].title is None


_HEADING_LINES = st.sampled_from(
    [
        "Chapter 1",
        "CHAPTER IV.",
        "Chapter Two: Snow",
        "Prologue",
        "Book II",
        "# Chapter 9",
        "CHAPTER",
        "II",
        "3",
        "The Title",
        "",
    ]
)
_LINES = st.lists(st.one_of(_HEADING_LINES, st.text(max_size=60)), max_size=30)


@settings(max_examples=500, deadline=None)
@given(_LINES)
def test_split_covers_the_text_exactly(lines: list[str]) -> None:
    text = "\n".join(lines)
    spans = split_chapters(text)
    assert spans[0].start == 0 and spans[-1].end == len(text)
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
        assert before.start < before.end
    assert "".join(text[s.start : s.end] for s in spans) == text


# --- Markdown and HTML --------------------------------------------------------------------


def test_markdown_to_text() -> None:
    source = (
        "---\ntitle: Salt and Tar\n---\n"
        "# Chapter 2\n\n"
        "Some *italic*, _underlined_, **bold** and ***both***; snake_case_name stays.\n"
        'A [link](https://example.org/a "t") and ![an image](a.png) and `code`.\n'
        "<!-- a comment\nover lines -->Kept &amp; decoded.\n\n"
        "Setext Heading\n--------------\n\n"
        "> quoted line\n- a bullet\n\n***\n\nAfter the break[^1].\n\n[^1]: http://example.org\n"
    )
    converted = markdown_to_text(source)
    assert converted.title == "Salt and Tar"
    assert converted.headings == [(1, "Chapter 2"), (2, "Setext Heading")]
    assert converted.text.splitlines() == [
        "Chapter 2",
        "",
        "Some *italic*, *underlined*, bold and *both*; snake_case_name stays.",
        "A link and  and code.",
        "Kept & decoded.",
        "",
        "Setext Heading",
        "",
        "quoted line",
        "a bullet",
        "",
        "* * *",
        "",
        "After the break.",
        "",
    ]


def test_html_to_text() -> None:
    markup = (
        "<html><head><title>Doc</title><style>p {color: red}</style>"
        "<script>var x = '<p>no</p>';</script></head><body>"
        "<h1>Chapter 1</h1><p>She said <em> hello </em>&amp; left&nbsp;early.<br/>New line."
        '<a href="#fn1" epub:type="noteref"><sup>1</sup></a></p>'
        "<p><i>First thought<br/>second line</i></p><hr/>"
        "<div><p>Nested <i>a <b>b</b> c</i> &#8220;q&#8221;</p></div>"
        '<p>Page<span epub:type="pagebreak" title="12">12</span> break.</p>'
        "<ul><li>one</li><li>two</li></ul><img src='x.png' alt='pic'/></body></html>"
    )
    converted = html_to_text(markup)
    assert converted.title == "Doc"
    assert converted.headings == [(1, "Chapter 1")]
    assert converted.text == (
        "Chapter 1\n\nShe said *hello* & left early.\nNew line.\n\n"
        "*First thought*\n*second line*\n\n* * *\n\nNested *a b c* \u201cq\u201d\n\n"
        "Page break.\n\none\n\ntwo\n"
    )


def test_html_closes_paragraphs_and_italics_it_was_not_told_to_close() -> None:
    text = html_to_text("<p>one <i>unclosed<p>two<div>three</div><p>four").text
    assert text == "one *unclosed*\n\ntwo\n\nthree\n\nfour\n"


def test_html_italics_set_by_css() -> None:
    markup = (
        "<style>/* x */ p.note, .it { font-style: italic } .b { font-weight: bold }</style>"
        '<p>A <span class="it">class</span>, <span style="font-style: oblique">style</span>, '
        '<span class="b">bold</span> and <span class="linked x">linked</span>.</p>'
        '<p class="note">A whole paragraph.</p>'
    )
    text = html_to_text(markup, css=".linked{font-style:italic;}").text
    assert text == "A *class*, *style*, bold and *linked*.\n\n*A whole paragraph.*\n"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"'&;#ap ibrhemdv1!-*_[]()\n")), max_size=120))
def test_converters_take_any_text(source: str) -> None:
    for text in (html_to_text(source).text, markdown_to_text(source).text):
        assert isinstance(text, str)
        assert not re.search("[\ue000\ue001]", text)  # no italic sentinel left behind


# --- load_book: single files --------------------------------------------------------------


def test_load_txt_chapters_are_slices_of_the_decoded_file(tmp_path: Path) -> None:
    path = tmp_path / "the_lighthouse_keeper.txt"
    data = (DATA / "the_lighthouse_keeper.txt").read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(data)
    book = load_book(path)
    decoded = decode_text(data, str(path))
    assert book.title == "The Lighthouse Keeper"
    assert book.author is None and book.source_path == path
    assert [c.number for c in book.chapters] == [1, 2, 3]
    assert "".join(c.text for c in book.chapters) == decoded
    offset = 0
    for chapter in book.chapters:
        assert decoded[offset : offset + len(chapter.text)] == chapter.text
        assert str(path) in chapter.source and chapter.title in chapter.source
        offset += len(chapter.text)


def test_read_text_is_what_txt_chapters_slice(tmp_path: Path) -> None:
    path = tmp_path / "notes"  # no suffix: plain text
    path.write_bytes(b"\xef\xbb\xbfChapter 1\r\n\r\n\x93Hi\x94\r\n\r\nChapter 2\r\n\r\nBye.\r\n")
    text = read_text(path)
    assert text == "Chapter 1\n\n\u201cHi\u201d\n\nChapter 2\n\nBye.\n"
    assert "".join(c.text for c in load_book(path).chapters) == text
    for bad, message in ((tmp_path / "nope.txt", "no such file"), (tmp_path, "is a folder")):
        with pytest.raises(InputError) as error:
            read_text(bad)
        assert one_line(error).startswith(f"{bad}: {message}")


def test_load_txt_without_headings(tmp_path: Path) -> None:
    path = tmp_path / "my_short-story.txt"
    path.write_text(f"{PROSE}\n\n{PROSE}\n")
    book = load_book(path)
    assert book.title == "My Short Story"
    assert [(c.title, c.source) for c in book.chapters] == [("My Short Story", str(path))]
    titled = tmp_path / "story.txt"
    titled.write_text(f"The Long Road\n\n{PROSE}\n")
    assert load_book(titled).chapters[0].title == "The Long Road"


def test_load_cp1252_txt(tmp_path: Path) -> None:
    path = tmp_path / "ch.txt"
    path.write_bytes(b"Chapter 1\r\n\r\n\x93Hello,\x94 she said.\r\n")
    chapter = load_book(path).chapters[0]
    assert chapter.text == "Chapter 1\n\n\u201cHello,\u201d she said.\n"


def test_markdown_keeps_words_in_angle_brackets_that_are_not_html() -> None:
    text = markdown_to_text(
        "<Level Up! You have reached level 5.>\n\nHe pressed <Enter> twice, <b>hard</b>."
    ).text
    assert "<Level Up! You have reached level 5.>" in text
    assert "He pressed <Enter> twice, hard." in text


def test_plain_text_chapter_speaks_words_in_angle_brackets(tmp_path: Path) -> None:
    from narrator.script import speakable_text

    chapter = tmp_path / "one.txt"
    chapter.write_text("<Level Up! You have reached level 5.>\n\nHe pressed <Enter> twice.\n")
    text = load_book(chapter).chapters[0].text
    assert [speakable_text(p) for p in text.split("\n\n")] == [
        "Level Up! You have reached level 5.",
        "He pressed Enter twice.",
    ]


def test_load_markdown_file(tmp_path: Path) -> None:
    path = tmp_path / "salt.md"
    path.write_text("# The Salt Road\n\nShe walked *alone* past [the mill](http://x).\n")
    book = load_book(path)
    assert book.chapters[0].title == "The Salt Road"
    assert book.chapters[0].text == "The Salt Road\n\nShe walked *alone* past the mill.\n"


def test_load_html_file_with_chapters(tmp_path: Path) -> None:
    path = tmp_path / "serial.xhtml"
    path.write_text(
        f"<html><body><h2>Chapter 1</h2><p>{PROSE}</p><h2>Chapter 2: After</h2>"
        f"<p><em>Later</em>, {PROSE}</p></body></html>"
    )
    book = load_book(path)
    assert [c.title for c in book.chapters] == ["Chapter 1", "Chapter 2: After"]
    assert book.chapters[1].text.startswith("Chapter 2: After\n\n*Later*, The tide")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.txt", None, "missing.txt: no such file or folder"),
        ("empty.txt", b"", "empty.txt: the file is empty"),
        ("blank.md", b"\n  \n", "blank.md: the file is empty"),
        (
            "image.txt",
            b"\x89PNG\r\n\x1a\nrest",
            "image.txt: not a text file (looks like a PNG image)",
        ),
        ("book.pdf", b"%PDF-1.4", "book.pdf: unsupported file type '.pdf'"),
        ("comment.md", b"<!-- only a comment -->\n", "comment.md: the file has no text"),
    ],
)
def test_load_file_errors(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as error:
        load_book(path)
    assert one_line(error).startswith(f"{tmp_path}/{expected}")


# --- load_book: folders -------------------------------------------------------------------


def test_natural_key_orders_numbers_as_numbers() -> None:
    names = ["ch10.txt", "ch2.txt", "10.txt", "2.txt", "Ch1.md", "ch1b.txt", "ch1a.txt"]
    assert natural_key("ch02.txt") == natural_key("ch2.txt")
    assert sorted(names, key=natural_key) == [
        "2.txt",
        "10.txt",
        "Ch1.md",
        "ch1a.txt",
        "ch1b.txt",
        "ch2.txt",
        "ch10.txt",
    ]


def test_load_folder(tmp_path: Path) -> None:
    folder = tmp_path / "the-salt-road"
    shutil.copytree(DATA / "serial", folder)
    (folder / "cover.png").write_bytes(tiny_png())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"))
    (folder / "comment.md").write_text("<!-- nothing yet -->\n")
    (folder / "extras").mkdir()
    (folder / "extras" / "ch3.txt").write_text(PROSE)
    book = load_book(folder)
    assert book.title == "The Salt Road" and book.source_path == folder
    assert [c.title for c in book.chapters] == [
        "Chapter 1: The Ferry",
        "Chapter 2: Salt",
        "Chapter 10: The Lamp",
    ]
    assert [c.number for c in book.chapters] == [1, 2, 3]
    assert [Path(c.source).name for c in book.chapters] == ["ch1.txt", "ch2.md", "ch10.html"]
    text = "\n".join(c.text for c in book.chapters)
    assert "hidden draft" not in text and "my notes" not in text and "gender" not in text
    assert "*He knows*, she thought." in text and "fix the tide" not in text
    assert "*Too late*, Mira thought." in text and "alert" not in text
    assert "\u2014 nobody" in text


def test_folder_titles_from_file_names(tmp_path: Path) -> None:
    for name in ("02_the-well.txt", "01_the-gate.txt"):
        (tmp_path / name).write_text(f"{PROSE}\n")
    assert [c.title for c in load_book(tmp_path).chapters] == ["01 The Gate", "02 The Well"]


def test_folder_without_chapters(tmp_path: Path) -> None:
    (tmp_path / "cast.toml").write_text("")
    (tmp_path / ".hidden.txt").write_text(PROSE)
    with pytest.raises(InputError) as error:
        load_book(tmp_path)
    assert one_line(error).startswith(f"{tmp_path}: no chapter files")


def test_folder_with_a_binary_chapter_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "ch1.txt").write_text(PROSE)
    (tmp_path / "ch2.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InputError) as error:
        load_book(tmp_path)
    assert one_line(error).startswith(f"{tmp_path / 'ch2.txt'}: not a text file")


# --- load_book: EPUB ----------------------------------------------------------------------


def chapter_body(title: str, words: str = PROSE) -> str:
    return f"<h1>{title}</h1><p>{words}</p><p><em>Odd</em>, she thought.</p>"


FRONT = (
    Page("cover.xhtml", '<div><img src="images/cover.png" alt="Cover"/></div>', "Cover", "cover"),
    Page("title.xhtml", "<h1>A Test Book</h1><p>Ada Writer</p>", "Title Page"),
    Page(
        "copyright.xhtml",
        "<p>Copyright 2026 Ada Writer. All rights reserved. No part of this book may be "
        "reproduced without permission.</p>",
        "Copyright",
    ),
)


def test_epub3_with_nav_cover_and_front_matter(tmp_path: Path) -> None:
    pages = (
        *FRONT,
        Page("ch1.xhtml", chapter_body("One"), "Chapter 1: Arrival"),
        Page("ch2.xhtml", chapter_body("Two"), "Chapter 2: Departure"),
    )
    path = build_epub(
        tmp_path / "book.epub",
        EpubSpec(pages, authors=("Ada Writer", "Bo Coauthor"), cover=tiny_png()),
    )
    book = load_book(path)
    assert book.title == "A Test Book"
    assert book.author == "Ada Writer, Bo Coauthor"
    assert book.cover == tiny_png() and book.cover_mime == "image/png"
    assert book.source_path == path
    assert [c.title for c in book.chapters] == ["Chapter 1: Arrival", "Chapter 2: Departure"]
    assert [c.number for c in book.chapters] == [1, 2]
    first = book.chapters[0]
    assert first.text.startswith("One\n\nThe tide came in")
    assert "*Odd*, she thought." in first.text and "color" not in first.text
    assert first.source == f"{path}:OEBPS/ch1.xhtml"


def test_epub_front_matter_found_by_its_look(tmp_path: Path) -> None:
    links = "".join(
        f'<p><a href="c{n}.xhtml">Chapter {n}: The Long Way Round the Harbour</a></p>'
        for n in range(1, 31)
    )
    legal = (
        "<p>First published in 2026 by Harbour Press. All rights reserved. "
        + " ".join(["This is a work of fiction and any likeness is coincidence."] * 6)
        + "</p>"
    )
    pages = (
        Page("page1.xhtml", legal),
        Page("page2.xhtml", f"<h1>In This Book</h1>{links}"),
        Page("c1.xhtml", chapter_body("One"), "Chapter 1"),
    )
    book = load_book(build_epub(tmp_path / "b.epub", EpubSpec(pages)))
    assert [c.title for c in book.chapters] == ["Chapter 1"]


def test_epub2_with_ncx_guide_and_meta_cover(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    pages = (
        Page("titlepage.xhtml", "<p>A Test Book, by Ada Writer, a novel in parts</p>"),
        Page("a.xhtml", chapter_body("First"), "The First Part"),
        Page("b.xhtml", chapter_body("Second"), "The Second Part"),
    )
    spec = EpubSpec(
        pages,
        version=2,
        cover=jpeg,
        cover_mime="image/jpeg",
        guide=(("title-page", "titlepage.xhtml"),),
    )
    book = load_book(build_epub(tmp_path / "old.epub", spec))
    assert [c.title for c in book.chapters] == ["The First Part", "The Second Part"]
    assert book.author == "Ada Writer"
    assert book.cover == jpeg and book.cover_mime == "image/jpeg"


def test_epub_landmarks_skip_typed_pages_and_no_toc_uses_headings(tmp_path: Path) -> None:
    dedication = "<p>" + " ".join(["For everyone who waited for the boat."] * 4) + "</p>"
    pages = (
        Page("front.xhtml", dedication),
        Page("c1.xhtml", chapter_body("The Quay")),
        Page("c2.xhtml", f"<p>{PROSE}</p>"),
        Page("notes.xhtml", "<p>Not in the reading order at all, these notes.</p>", linear=False),
    )
    spec = EpubSpec(pages, title=None, landmarks=(("titlepage", "front.xhtml"),))
    book = load_book(build_epub(tmp_path / "no_title.epub", spec))
    assert book.title == "No Title"
    # Without a TOC every page with text is a chapter, titled by its heading or its number.
    assert [c.title for c in book.chapters] == ["The Quay", "Chapter 2"]
    assert all("notes" not in c.text for c in book.chapters)


def test_epub_chapters_inside_one_file_and_continuations(tmp_path: Path) -> None:
    body = (
        f"<p>{PROSE}</p><h2 id='c1'>One</h2><p>{PROSE}</p>"
        # Converters often mark a chapter with an empty anchor before its heading.
        f"<a id='c2'></a><h2><i>Two</i></h2><p>Second chapter. {PROSE}</p>"
    )
    pages = (
        Page("all.xhtml", body),
        Page("all_split_001.xhtml", "<p>Still chapter two, continued in a second file.</p>"),
        Page("end.xhtml", chapter_body("Three"), "Chapter Three"),
    )
    spec = EpubSpec(
        pages, anchors=(("all.xhtml", "c1", "Chapter One"), ("all.xhtml", "c2", "Chapter Two"))
    )
    book = load_book(build_epub(tmp_path / "b.epub", spec))
    assert [c.title for c in book.chapters] == ["Chapter One", "Chapter Two", "Chapter Three"]
    one, two, _ = book.chapters
    assert one.text.count(PROSE) == 2 and "Second chapter" not in one.text
    assert two.text.startswith("*Two*\n\nSecond chapter.")
    assert one.text.endswith(PROSE + "\n\n")
    assert two.text.rstrip().endswith("continued in a second file.")


def test_epub_nav_with_html_entities(tmp_path: Path) -> None:
    path = build_epub(tmp_path / "b.epub", EpubSpec((Page("c.xhtml", chapter_body("X"), "X"),)))
    nav = (
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
        '<body><nav epub:type="toc"><ol><li><a href="c.xhtml">One&nbsp;&mdash;&nbsp;Start</a>'
        "</li></ol></nav></body></html>"
    )
    rewrite_epub(path, {"OEBPS/nav.xhtml": nav.encode()})
    assert load_book(path).chapters[0].title == "One \u2014 Start"


def test_epub_without_container_finds_the_opf_and_css_italics(tmp_path: Path) -> None:
    body = chapter_body("Only") + '<p class="calibre7">Thought.</p>'
    spec = EpubSpec(
        (Page("c.xhtml", body, "Only"),), container=False, css=".calibre7 {font-style: italic}"
    )
    chapters = load_book(build_epub(tmp_path / "b.epub", spec)).chapters
    assert [c.title for c in chapters] == ["Only"]
    assert chapters[0].text.endswith("\n\n*Thought.*\n")


def _epub_error(path: Path) -> str:
    with pytest.raises(InputError) as error:
        load_book(path)
    message = one_line(error)
    assert message.startswith(f"{path}:")  # the EPUB, or a file inside it ("book.epub:ch1.xhtml")
    return message


def test_epub_errors(tmp_path: Path) -> None:
    not_zip = tmp_path / "not_zip.epub"
    not_zip.write_bytes(b"this is not a zip file")
    assert "not a zip archive" in _epub_error(not_zip)

    no_opf = tmp_path / "no_opf.epub"
    with zipfile.ZipFile(no_opf, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    assert "no OPF" in _epub_error(no_opf)

    bad_xml = tmp_path / "bad_xml.epub"
    with zipfile.ZipFile(bad_xml, "w") as archive:
        archive.writestr("content.opf", "<package><metadata>")
    assert "content.opf is not well-formed XML" in _epub_error(bad_xml)

    missing = build_epub(
        tmp_path / "missing.epub", EpubSpec((Page("c.xhtml", chapter_body("X"), "X"),))
    )
    rewrite_epub(missing, {"OEBPS/c.xhtml": None})
    assert "OEBPS/c.xhtml is missing" in _epub_error(missing)

    binary = build_epub(
        tmp_path / "binary.epub", EpubSpec((Page("c.xhtml", chapter_body("X"), "X"),))
    )
    rewrite_epub(binary, {"OEBPS/c.xhtml": b"\x00\x01garbage"})
    assert f"{binary}:OEBPS/c.xhtml: not a text file" in _epub_error(binary)

    empty = build_epub(tmp_path / "empty.epub", EpubSpec(FRONT))
    assert "no chapters" in _epub_error(empty)

    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
        '<enc:CipherReference URI="OEBPS/c.xhtml"/></enc:CipherData></enc:EncryptedData>'
        "</encryption>"
    )
    drm = build_epub(
        tmp_path / "drm.epub",
        EpubSpec(
            (Page("c.xhtml", chapter_body("X"), "X"),),
            extra_files={"META-INF/encryption.xml": encryption.encode()},
        ),
    )
    assert "DRM" in _epub_error(drm)


@pytest.mark.parametrize("source", ["<![1", "<![a;", "text <![ more"])
def test_broken_marked_sections_stay_text(source: str) -> None:
    # html.parser raised AssertionError on these (found by the property test above).
    assert "<![" in html_to_text(source).text


def test_a_cover_image_in_a_chapter_folder_becomes_the_book_cover(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("Chapter 1\n\nShe ran.\n", encoding="utf-8")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    (tmp_path / "Cover.PNG").write_bytes(png)
    book = load_book(tmp_path)
    assert (book.cover, book.cover_mime) == (png, "image/png")
    (tmp_path / "Cover.PNG").unlink()
    assert load_book(tmp_path).cover is None


# ------------------------------------------------------------------ hostile files

HUGE_CHARREF = "&#" + "9" * 5000 + ";"
PADDED_CHARREF = "&#" + "0" * 5000 + "65;"  # "A" behind 5000 zeros


def test_huge_numeric_character_references_do_not_stop_a_load(tmp_path: Path) -> None:
    # Python refuses to turn more than 4300 digits into an int; such a reference is no
    # character at all (U+FFFD, as html.unescape says for any number past U+10FFFF).
    body = f"<p>One {HUGE_CHARREF} two {PADDED_CHARREF} three.</p>"
    assert html_to_text(body).text == "One \ufffd two A three.\n"
    assert markdown_to_text(f"One {HUGE_CHARREF} two {PADDED_CHARREF}.").text == (
        "One \ufffd two A."
    )
    (tmp_path / "c.html").write_text(f"<h1>Ch</h1>{body}", encoding="utf-8")
    assert "two A three" in load_book(tmp_path / "c.html").chapters[0].text
    epub = build_epub(
        tmp_path / "refs.epub",
        EpubSpec((Page("c.xhtml", chapter_body("X", f"{PROSE} Hi {HUGE_CHARREF}"), "X"),)),
    )
    assert "Hi \ufffd" in load_book(epub).chapters[0].text


def _rezip_deflated(path: Path) -> None:
    with zipfile.ZipFile(path) as source:
        files = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)


def _data_offset(raw: bytes, info: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes start (after its local header)."""
    at = info.header_offset
    name_len = int.from_bytes(raw[at + 26 : at + 28], "little")
    extra_len = int.from_bytes(raw[at + 28 : at + 30], "little")
    return at + 30 + name_len + extra_len


def test_corrupted_deflate_data_in_an_epub_is_an_input_error(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "corrupt.epub", EpubSpec((Page("c.xhtml", chapter_body("X", PROSE * 20), "X"),))
    )
    _rezip_deflated(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("OEBPS/c.xhtml")
    raw = bytearray(path.read_bytes())
    start = _data_offset(raw, info)
    raw[start : start + 8] = b"\xff" * 8  # block type 3: invalid deflate data
    path.write_bytes(bytes(raw))
    assert "OEBPS/c.xhtml cannot be read" in _epub_error(path)


def test_a_zip_member_that_lies_about_its_size_is_refused_without_inflating_it(
    tmp_path: Path,
) -> None:
    import tracemalloc

    path = build_epub(tmp_path / "bomb.epub", EpubSpec((Page("c.xhtml", chapter_body("X"), "X"),)))
    bomb = b"<p>" + b" " * 100_000_000 + b"</p>"  # 100 MB of spaces: 100 kB deflated
    rewrite_epub(path, {"OEBPS/c.xhtml": None})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OEBPS/c.xhtml", bomb)
    del bomb
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("OEBPS/c.xhtml")
    # Claim 1000 bytes in both headers: zipfile trusts the claim until the CRC at the end.
    size = (1000).to_bytes(4, "little")
    raw[info.header_offset + 22 : info.header_offset + 26] = size
    at = -1
    while (at := raw.find(b"PK\x01\x02", at + 1)) >= 0:
        if int.from_bytes(raw[at + 42 : at + 46], "little") == info.header_offset:
            raw[at + 24 : at + 28] = size
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        message = _epub_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "OEBPS/c.xhtml cannot be read" in message
    assert peak < 20_000_000


def test_an_epub_past_the_inflated_size_limit_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrator.load import limits

    path = build_epub(
        tmp_path / "big.epub",
        EpubSpec(tuple(Page(f"c{i}.xhtml", chapter_body(f"C{i}"), f"C{i}") for i in range(6))),
    )
    monkeypatch.setattr(limits, "MAX_BOOK_BYTES", 4000)
    message = _epub_error(path)
    assert "more than 4 kB" in message and "unpacked" in message


def test_a_text_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from narrator.load import limits

    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB, sparse: costs no disk
    with pytest.raises(InputError) as error:
        load_book(huge)
    message = one_line(error)
    assert message.startswith(f"{huge}: ")
    assert f"{limits.MAX_FILE_BYTES // 1_000_000} MB" in message


def test_a_folder_past_the_book_size_limit_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrator.load import limits

    for number in range(3):
        (tmp_path / f"{number}.txt").write_text(PROSE * 10, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_BOOK_BYTES", len(PROSE) * 25)
    with pytest.raises(InputError) as error:
        load_book(tmp_path)
    assert "larger than" in one_line(error)


# ------------------------------------------------------------------ linear time on any input

LINE_REPEATS = 80_000  # a 320 kB line: 10 s to minutes each with the old patterns


@pytest.mark.parametrize("unit", ["**a ", "__a ", "***a ", "_a ", "![", "[", "[^", "![a](", "[a]("])
def test_markdown_lines_built_to_backtrack_take_linear_time(unit: str) -> None:
    start = time.perf_counter()
    text = markdown_to_text(unit * LINE_REPEATS).text
    assert time.perf_counter() - start < 5.0
    assert text.strip()


def test_markdown_emphasis_still_reads_as_before() -> None:
    source = "***Hush*** now, **bold *inner* words**, __under__ and _this_ [link](u) ![i](x.png)"
    assert markdown_to_text(source).text == (
        "*Hush* now, bold *inner* words, under and *this* link "
    )


@pytest.mark.parametrize(
    "markup",
    ["<div>" * LINE_REPEATS + "deep", "<a " * LINE_REPEATS, "<p>x" * LINE_REPEATS],
    ids=["nested-divs", "unclosed-tags", "paragraphs"],
)
def test_html_built_to_be_slow_takes_linear_time(markup: str) -> None:
    start = time.perf_counter()
    html_to_text(markup)
    assert time.perf_counter() - start < 5.0


def test_an_unclosed_tag_start_is_read_as_text() -> None:
    assert html_to_text("<p>a <b and <i>c</i></p>").text == "a <b and *c*\n"
