#!/usr/bin/env python3
"""The web-fiction score with the cast's names written in other scripts (issue 16).

Copies /work/shared/bench/webfic into a temporary folder (never into the repository),
rewrites every name of every cast there, in the text, the cast file and the gold speakers,
letter for letter so offsets stay valid, and runs that folder's score.py:

- `plain`: unchanged (the reference);
- `accents`: the first letter accented (`Mira` -> `Ḿira`, `Effie` -> `Éffie`), one more
  vowel accented (`Ḿíra`);
- `cyrillic`: transliterated letter by letter (`Mira` -> `Мира`);
- `greek`: likewise (`Mira` -> `Μιρα`).

A narrator that treats names in any script as names scores the same in all four.

usage: python3 bench/webfic_scripts.py [NARRATOR_COMMAND ...]   (default: .venv/bin/narrator)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from collections.abc import Callable
from pathlib import Path

from bench_data import BENCH_DATA

WEBFIC = BENCH_DATA / "webfic"
# English words in aliases (titles, `Mum`): not names, so they stay as they are.
NOT_NAMES = {
    "I", "The", "A", "An", "Mr", "Mrs", "Ms", "Miss", "Dr", "Sergeant", "Captain", "Professor",
    "Cadet", "Mum",
}  # fmt: skip

_CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "абкдефгхийклмнопкрстуввхыз", strict=True))
_GREEK = dict(zip("abcdefghijklmnopqrstuvwxyz", "αβκδεφγηιικλμνοπκρστυβωξυζ", strict=True))


def _letters(table: dict[str, str]) -> Callable[[str], str]:
    def convert(word: str) -> str:
        out = []
        for ch in word:
            new = table.get(ch.lower(), ch)
            out.append(new.upper() if ch.isupper() else new)
        return "".join(out)

    return convert


def _accent_one(ch: str) -> str:
    for mark in ("\u0301", "\u0304", "\u0307", "\u0308", "\u030c"):
        composed = unicodedata.normalize("NFC", ch + mark)
        if len(composed) == 1:
            return composed
    return ch


def _accents(word: str) -> str:
    chars = list(word)
    chars[0] = _accent_one(chars[0])
    for i in range(1, len(chars)):
        if chars[i] in "aeiou":
            chars[i] = _accent_one(chars[i])
            break
    return "".join(chars)


STYLES: dict[str, Callable[[str], str]] = {
    "plain": lambda word: word,
    "accents": _accents,
    "cyrillic": _letters(_CYRILLIC),
    "greek": _letters(_GREEK),
}


def _name_words(cast_path: Path) -> set[str]:
    data = tomllib.loads(cast_path.read_text(encoding="utf-8"))
    words = set()
    for character in data.get("character", []):
        for alias in (character["name"], *character.get("aliases", [])):
            for word in re.findall(r"[A-Za-z]+", alias):
                if word[0].isupper() and word not in NOT_NAMES and len(word) > 1:
                    words.add(word)
    return words


def _rewrite(folder: Path, convert: Callable[[str], str]) -> None:
    words: set[str] = set()
    for cast in folder.glob("*.toml"):
        words |= _name_words(cast)
    # As written, shouted and (harrow-01 writes its names so) in lower case.
    forms = {
        **{w.lower(): convert(w).lower() for w in words},
        **{w: convert(w) for w in words},
        **{w.upper(): convert(w).upper() for w in words},
    }
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, forms), key=len)[::-1]) + r")\b")
    for path in [*folder.glob("*.txt"), *folder.glob("*.toml"), *folder.glob("*.jsonl")]:
        text = path.read_text(encoding="utf-8")
        new = pattern.sub(lambda m: forms[m.group(0)], text)
        assert len(new) == len(text) or path.suffix != ".txt", path
        path.write_text(new, encoding="utf-8")


def main() -> None:
    cli = sys.argv[1:] or [str(Path(".venv/bin/narrator").resolve())]
    for style, convert in STYLES.items():
        with tempfile.TemporaryDirectory(prefix=f"webfic-{style}-") as tmp:
            folder = Path(tmp) / "webfic"
            shutil.copytree(WEBFIC, folder)
            _rewrite(folder, convert)
            result = subprocess.run(
                [sys.executable, str(folder / "score.py"), *cli],
                capture_output=True,
                text=True,
                check=False,
            )
            total = [ln for ln in result.stdout.splitlines() if ln.startswith("total:")]
            print(
                f"{style:<9} {total[0] if total else result.stdout[-300:] + result.stderr[-300:]}"
            )


if __name__ == "__main__":
    main()
