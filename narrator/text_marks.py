"""The text conventions the loaders write and the later stages read.

Every input (plain text, Markdown, HTML, EPUB) is loaded as plain text in which:
- a thematic break (<hr>, `***`, `---`) is a paragraph of its own, `SCENE_BREAK`;
- italics stand between asterisks, `*like this*`, closed at every line end; plain text
  written by hand may use underscores too (`ITALIC_MARKS`).
The segmenter reads italic passages as thoughts or stress and a scene break as a heading;
the stitcher pauses longer at a scene break (`is_scene_break`); the script drops the marks
before speech.
"""

from __future__ import annotations

SCENE_BREAK = "* * *"
ITALIC_MARK = "*"  # what the loaders write
ITALIC_MARKS = "*_"  # what the segmenter reads


def mark_italic(text: str) -> str:
    """`text` marked as italics, as the loaders write it."""
    return f"{ITALIC_MARK}{text}{ITALIC_MARK}"


def is_scene_break(gap_text: str) -> bool:
    """A line of three or more symbols and nothing else: "***", "* * *", "---", "~~~"."""
    for raw in gap_text.splitlines():
        symbols = "".join(raw.split())
        if len(symbols) >= 3 and not any(ch.isalnum() for ch in symbols):
            return True
    return False
