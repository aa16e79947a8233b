"""HTML and Markdown -> plain chapter text.

Block elements become paragraphs separated by blank lines, <br> a newline, headings a line
of their own; <em>/<i> become *...* because the segmenter reads asterisks as thought
markers; a thematic break (<hr>, ---) becomes the scene break "* * *"; scripts, styles,
images and comments go.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from narrator.text_marks import ITALIC_MARK, SCENE_BREAK, mark_italic

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_SKIP = frozenset(
    ["script", "style", "head", "template", "noscript", "svg", "math", "object", "iframe"]
)
_ITALIC = frozenset(["em", "i"])
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
# Inline elements: with the lists above, every element name read as markup outside HTML files.
_INLINE = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "cite",
        "code",
        "del",
        "dfn",
        "font",
        "ins",
        "kbd",
        "label",
        "mark",
        "nobr",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "td",
        "th",
        "time",
        "tt",
        "u",
        "var",
    ]
)
_ELEMENT_NAMES = _BLOCK | _VOID | _SKIP | _ITALIC | _INLINE
# A tag of a known HTML element, whose attributes all have values: "<b>", "</span>",
# '<p class="x">', "<br/>". "<Enter>", "<I am the system>" and "<Level Up!>" are words.
HTML_TAG_RE = re.compile(
    r"</?(?:" + "|".join(sorted(_ELEMENT_NAMES, key=len, reverse=True)) + r")"
    r"(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>=`]+))*\s*/?>",
    re.IGNORECASE,
)
# What is left in angle brackets after the tags are gone: words to say, brackets dropped.
_BRACKETED_RE = re.compile(r"(?<!<)<+([^<>]{1,500})>+")  # (?<!<): one try per run of "<"


def unwrap_tags(text: str) -> str:
    """`text` without HTML tags, and without the angle brackets around anything else."""
    text = HTML_TAG_RE.sub(" ", text)
    return _BRACKETED_RE.sub(r" \1 ", text)


# A decimal character reference: Python refuses to read more than 4300 digits as an int.
_DECIMAL_CHARREF_RE = re.compile(r"&#0*(\d+;?)")
_MAX_CODE_POINT_DIGITS = 7  # U+10FFFF is 1114111


def _defuse_charrefs(text: str) -> str:
    """Numeric references html.unescape can read: leading zeros gone, huge numbers U+FFFD."""

    def shorten(match: re.Match[str]) -> str:
        digits = match.group(1).rstrip(";")
        if len(digits) > _MAX_CODE_POINT_DIGITS:
            return "\ufffd"  # what html.unescape gives for any number past U+10FFFF
        return "&#" + match.group(1)

    return _DECIMAL_CHARREF_RE.sub(shorten, text) if "&#" in text else text


# A "<" that starts a tag never closed before the next "<" ("<a <a <a ..."): html.parser
# rescans the rest of the document for each one (quadratic time), and would show none of it.
_UNCLOSED_TAG_RE = re.compile(r"<(?!!--)(?=[A-Za-z/!?])(?![^<>]*>)")


def _defuse_unclosed_tags(markup: str) -> str:
    """Unclosed tag starts as text ("&lt;"), so that the parser reads the document once."""
    return _UNCLOSED_TAG_RE.sub("&lt;", markup)


# Private-use sentinels for italics; turned into asterisks once paragraphs are known.
_OPEN, _CLOSE = "\ue000", "\ue001"
_NOTEREF_RE = re.compile(r"^\W*\d{1,3}\W*$|^\W*[*\u2020\u2021]\W*$")


@dataclass
class HtmlText:
    """An HTML document as plain text, with its headings (level, text) and <title>."""

    text: str
    headings: list[tuple[int, str]] = field(default_factory=list)
    title: str | None = None
    types: set[str] = field(default_factory=set)  # epub:type values seen on body/sections
    anchors: dict[str, int] = field(default_factory=dict)  # element id -> offset in text
    link_words: int = 0  # words inside links to other pages (a contents page is mostly these)


_CSS_RULE_RE = re.compile(r"([^{}]+)\{([^}]*)\}")
_CSS_ITALIC_RE = re.compile(r"font-style\s*:\s*(?:italic|oblique)", re.IGNORECASE)
_CSS_CLASS_RE = re.compile(r"^\s*[A-Za-z0-9]*\.([\w-]+)\s*$")


def italic_classes(css: str) -> frozenset[str]:
    """Classes a stylesheet sets in italics (".calibre5 { font-style: italic }")."""
    found = set()
    for selectors, body in _CSS_RULE_RE.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)):
        if _CSS_ITALIC_RE.search(body):
            for selector in selectors.split(","):
                match = _CSS_CLASS_RE.match(selector)
                if match:
                    found.add(match.group(1))
    return frozenset(found)


@dataclass(frozen=True)
class _Open:
    tag: str
    skip: bool = False  # inside script, style, hidden...: no text
    italic: bool = False


class _Converter(HTMLParser):
    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # html.parser raises AssertionError on a broken "<![" (e.g. "<![1"): keep it as text.
        try:
            return int(super().parse_marked_section(i, report))
        except AssertionError:
            self.handle_data(self.rawdata[i : i + 3])
            return i + 3

    def __init__(self, anchor_ids: frozenset[str], italic: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.italic_classes = set(italic)
        self.style_parts: list[str] | None = None
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.heading: list[str] | None = None
        self.heading_level = 0
        self.headings: list[tuple[int, str]] = []
        self.title_parts: list[str] | None = None
        self.title: str | None = None
        self.types: set[str] = set()
        self.anchor_ids = anchor_ids
        self.anchor_marks: list[str] = []
        self.noteref: list[str] | None = None
        self.stack: list[_Open] = []
        # How many of each tag are open: "is a <p> open?" without walking a deep stack.
        self.open_tags: Counter[str] = Counter()
        self.pending_marks: list[str] = []
        self.link_depth = 0
        self.link_words = 0

    def _push(self, element: _Open) -> None:
        self.stack.append(element)
        self.open_tags[element.tag] += 1

    def flush_marks(self) -> None:
        self.parts.extend(self.pending_marks)
        self.pending_marks = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): v or "" for k, v in attrs}
        if tag == "title" and self.title is None:
            self.title_parts = []
        if tag == "style":
            self.style_parts = []
        if tag in _SKIP or "hidden" in attr:
            if tag not in _VOID:
                self.skip_depth += 1
                self._push(_Open(tag, skip=True))
            return
        epub_type = attr.get("epub:type", "")
        if tag in ("body", "section", "div", "nav", "aside"):
            self.types.update(epub_type.split())
        if "pagebreak" in epub_type.split() and tag not in _VOID:
            self.skip_depth += 1
            self._push(_Open(tag, skip=True))
            return
        if tag in _BLOCK:
            if self.open_tags["p"] and tag not in (
                "li",
                "dd",
                "dt",
                "td",
                "th",
                "tr",
            ):
                self.handle_endtag("p")  # HTML closes an open <p> at the next block
            self.parts.append("\n\n")
        element_id = attr.get("id")
        if element_id and element_id in self.anchor_ids:
            # A private-use marker per anchor, put down before the next text so that a
            # chapter starts at its first word; its offset is read after clean-up.
            self.pending_marks.append(chr(0xF0000 + len(self.anchor_marks)))
            self.anchor_marks.append(element_id)
        if tag in _VOID:
            if tag == "br":
                self.parts.append("\n")
            elif tag == "hr":
                self.parts.append(f"\n\n{SCENE_BREAK}\n\n")
            return
        italic = (
            tag in _ITALIC
            or bool(self.italic_classes & set(attr.get("class", "").split()))
            or bool(_CSS_ITALIC_RE.search(attr.get("style", "")))
        )
        self._push(_Open(tag, italic=italic))
        if tag == "a" and ("noteref" in epub_type.split() or attr.get("href", "").startswith("#")):
            self.noteref = []
        elif tag == "a" and attr.get("href"):
            self.link_depth += 1
        if tag == "pre":
            self.pre_depth += 1
        if tag in _HEADINGS:
            self.heading = []
            self.heading_level = int(tag[1])
        if italic:
            self.flush_marks()
            self.parts.append(_OPEN)
        if tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title_parts is not None:
            self.title = " ".join("".join(self.title_parts).split()) or None
            self.title_parts = None
        if tag == "style" and self.style_parts is not None:
            self.italic_classes |= italic_classes("".join(self.style_parts))
            self.style_parts = None
        if tag in _VOID or not self.open_tags[tag]:
            return  # stray end tag
        while self.stack:
            top = self.stack.pop()
            self.open_tags[top.tag] -= 1
            if top.skip:
                self.skip_depth -= 1
            else:
                self._close(top)
            if top.tag == tag:
                break

    def _close(self, element: _Open) -> None:
        tag = element.tag
        if tag == "a" and self.noteref is None and self.link_depth:
            self.link_depth -= 1
        if tag == "a" and self.noteref is not None:
            label = "".join(self.noteref)
            if not _NOTEREF_RE.match(label):
                self.parts.append(label)  # an ordinary in-page link: keep its words
            self.noteref = None
        if element.italic:
            self.parts.append(_CLOSE)
        if tag in _HEADINGS and self.heading is not None:
            text = " ".join("".join(self.heading).split())
            if text:
                self.headings.append((self.heading_level, text))
            self.heading = None
        if tag == "pre":
            self.pre_depth -= 1
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.title_parts is not None:
            self.title_parts.append(data)
        if self.style_parts is not None:
            self.style_parts.append(data)
        if self.skip_depth:
            return
        if not self.pre_depth:
            data = re.sub(r"\s+", " ", data)
        if self.heading is not None:
            self.heading.append(data)
        if self.noteref is not None:
            self.noteref.append(data)
            return
        if data.strip():
            self.flush_marks()
        if self.link_depth:
            self.link_words += len(data.split())
        self.parts.append(data)


def html_to_text(markup: str, anchor_ids: frozenset[str] = frozenset(), css: str = "") -> HtmlText:
    """Convert an HTML/XHTML document (or fragment) to plain paragraphs.

    anchor_ids: element ids whose offsets in the text to report (chapters inside a page);
    css: linked stylesheets, for classes that set italics (the page's own <style> is read too).
    """
    converter = _Converter(anchor_ids, italic_classes(css))
    converter.feed(_defuse_unclosed_tags(_defuse_charrefs(markup)))
    converter.close()
    converter.flush_marks()  # anchors after the last text
    text = _tidy("".join(converter.parts))
    text = _italics(text)
    anchors: dict[str, int] = {}
    for index, element_id in enumerate(converter.anchor_marks):
        mark = chr(0xF0000 + index)
        at = text.find(mark)
        if at >= 0:
            anchors[element_id] = at
            text = text.replace(mark, "")
            # Later marks shift left by one; offsets already read are before this one.
    return HtmlText(
        text, converter.headings, converter.title, converter.types, anchors, converter.link_words
    )


def _tidy(text: str) -> str:
    """Trim lines and collapse runs of blank lines into one paragraph break."""
    text = text.replace("\u00a0", " ")
    lines = [line.strip(" \t") for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n" if text.strip() else ""


def _italics(text: str) -> str:
    """Turn italic sentinels into *...*, closed at every line end and reopened after it."""
    out: list[str] = []
    depth = 0
    for line in text.split("\n"):
        runs: list[tuple[str, bool]] = []
        current: list[str] = []
        for ch in line:
            if ch in (_OPEN, _CLOSE):
                was = depth > 0
                depth = depth + 1 if ch == _OPEN else max(depth - 1, 0)
                if was != (depth > 0):
                    runs.append(("".join(current), was))
                    current = []
            else:
                current.append(ch)
        runs.append(("".join(current), depth > 0))
        pieces = []
        for run, italic in runs:
            core = run.strip()
            if italic and core:
                lead = run[: len(run) - len(run.lstrip())]
                trail = run[len(run.rstrip()) :]
                pieces.append(f"{lead}{mark_italic(core)}{trail}")
            else:
                pieces.append(run)
        out.append(re.sub(" {2,}", " ", "".join(pieces)).strip(" "))
    return "\n".join(out)


# --- Markdown -------------------------------------------------------------------------

_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_ATX_RE = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$|^[ ]{0,3}(#{1,6})[ \t]*$")
_SETEXT_RE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_BREAK_RE = re.compile(r"^[ ]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE_RE = re.compile(r"^[ ]{0,3}(```|~~~)")
_REFDEF_RE = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*\S+.*$")
_QUOTE_RE = re.compile(r"^[ ]{0,3}(?:>[ ]?)+")
_BULLET_RE = re.compile(r"^([ \t]*)[-+*][ \t]+(?=\S)")
# Linear time on any line: no class below may run past the next opening bracket or
# delimiter, so that a line of "![" or "**a " is scanned once, not once per opening.
_IMAGE_RE = re.compile(r"!\[[^\][]*\]\([^()]*\)|!\[[^\][]*\]\[[^\][]*\]")
_LINK_RE = re.compile(r"\[([^\][]*)\]\((?:[^()]|\([^()]*\))*\)|\[([^\][]+)\]\[[^\][]*\]")
_AUTOLINK_RE = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_FOOTREF_RE = re.compile(r"\[\^[^\][]+\]")
_CODE_RE = re.compile(r"(`+)(.+?)\1")
_STRONG_STAR_RE = re.compile(r"\*\*(?=\S)((?:[^*\n]|\*(?!\*))+?)(?<=\S)\*\*")
_STRONG_UNDERSCORE_RE = re.compile(r"__(?=\S)((?:[^_\n]|_(?!_))+?)(?<=\S)__")
_STRONG_EM_RE = re.compile(r"\*\*\*(?=\S)((?:[^*\n]|\*(?!\*\*))+?)(?<=\S)\*\*\*")
_EM_UNDERSCORE_RE = re.compile(r"(?<![\w\\])_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)")
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


@dataclass
class MarkdownText:
    """A Markdown document as plain text, with its headings (level, text) and front-matter title."""

    text: str
    headings: list[tuple[int, str]] = field(default_factory=list)
    title: str | None = None


def markdown_to_text(source: str) -> MarkdownText:
    """Strip the Markdown markup that would be read aloud; keep *italics* and the prose."""
    title = None
    front = _FRONT_MATTER_RE.match(source)
    if front:
        found = re.search(r"^title:[ \t]*(.+?)[ \t]*$", front.group(1), re.MULTILINE)
        if found:
            title = found.group(1).strip("'\"") or None
        source = source[front.end() :]
    source = _defuse_charrefs(_COMMENT_RE.sub("", source))
    lines = source.split("\n")
    out: list[str] = []
    headings: list[tuple[int, str]] = []
    in_fence = False
    skip_next = False
    for index, line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        line = _QUOTE_RE.sub("", line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        atx = _ATX_RE.match(line)
        if atx:
            text = _inline(atx.group(2) or "").strip()
            if text:
                headings.append((len(atx.group(1) or atx.group(3)), text))
            out.append(text)
            continue
        if line.strip() and _SETEXT_RE.match(_QUOTE_RE.sub("", following)):
            text = _inline(line).strip()
            headings.append((1 if following.strip()[0] == "=" else 2, text))
            out.append(text)
            skip_next = True
            continue
        if _BREAK_RE.match(line):
            out.append(SCENE_BREAK)
            continue
        if _REFDEF_RE.match(line):
            continue
        text = _inline(_BULLET_RE.sub(r"\1", line))
        out.append(text)
    return MarkdownText("\n".join(out), headings, title)


def _inline(line: str) -> str:
    line = _IMAGE_RE.sub("", line)
    line = _LINK_RE.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), line)
    line = _AUTOLINK_RE.sub(r"\1", line)
    line = _FOOTREF_RE.sub("", line)
    line = _CODE_RE.sub(r"\2", line)
    line = _BR_RE.sub("\n", line)
    line = re.sub(r"</?(?:em|i)>", ITALIC_MARK, line, flags=re.IGNORECASE)
    line = HTML_TAG_RE.sub("", line)
    line = html.unescape(line)
    # ***x*** -> *x*; **x** and __x__ are bold, not thought: plain.
    line = _STRONG_EM_RE.sub(lambda m: mark_italic(m.group(1)), line)
    line = _STRONG_STAR_RE.sub(r"\1", line)
    line = _STRONG_UNDERSCORE_RE.sub(r"\1", line)
    line = _EM_UNDERSCORE_RE.sub(r"*\1*", line)
    return _ESCAPE_RE.sub(r"\1", line)
