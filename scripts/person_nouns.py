#!/usr/bin/env python3
"""Write narrator/data/person_nouns.txt: English nouns whose commonest sense is a person.

Read from WordNet 3.0 (Debian's `wordnet-base`, /usr/share/wordnet): a lemma is kept when
the first (most frequent) sense in index.noun is in the lexicographer file noun.person, it
is a common noun (its first synset spells it in lower case), one word of letters and
hyphens, and not also an adjective (`general`, `private`, `native` describe more often than
they name). Run by hand when the list should change; narrator reads only the written file.

usage: python3 scripts/person_nouns.py [/usr/share/wordnet]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PERSON_LEXFILE = 18  # noun.person
OUT = Path(__file__).resolve().parent.parent / "narrator" / "data" / "person_nouns.txt"
HEADER = (
    "# Nouns whose commonest sense is a person, from WordNet 3.0 (Princeton University), written\n"
    "# by scripts/person_nouns.py. WordNet 3.0 Copyright 2006 by Princeton University. All\n"
    "# rights reserved. Used under the WordNet 3.0 license (see README.md, Licenses).\n"
)


def main(folder: Path) -> None:
    if not (folder / "index.noun").is_file():
        sys.exit(
            f"person_nouns: no WordNet in {folder}: "
            "apt-get install wordnet-base, or give its folder"
        )
    synsets: dict[str, tuple[int, list[str]]] = {}
    for line in (folder / "data.noun").open(encoding="latin-1"):
        if line.startswith("  "):
            continue
        parts = line.split()
        count = int(parts[3], 16)
        words = [parts[4 + 2 * k] for k in range(count)]
        synsets[parts[0]] = (int(parts[1]), words)
    adjectives = {
        line.split()[0]
        for line in (folder / "index.adj").open(encoding="latin-1")
        if not line.startswith("  ")
    }
    kept = []
    for line in (folder / "index.noun").open(encoding="latin-1"):
        if line.startswith("  "):
            continue
        p = line.split()
        lemma, pointers = p[0], int(p[3])
        offsets = p[4 + pointers + 2 :]
        if not re.fullmatch(r"[a-z][a-z-]*[a-z]", lemma) or lemma in adjectives:
            continue
        lexfile, words = synsets[offsets[0]]
        spelled = next((w for w in words if w.lower() == lemma), lemma)
        if lexfile == PERSON_LEXFILE and spelled == lemma:
            kept.append(lemma)
    part = OUT.with_suffix(".part")  # never a half-written list
    part.write_text(HEADER + "\n".join(sorted(kept)) + "\n", encoding="utf-8")
    part.replace(OUT)
    print(f"{len(kept)} nouns -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"))
