"""The attribution steps, in the order they run.

1. sieves (`sieves.py`): tags, paragraph sharing, actions, vocatives, turn-taking and the
   nearest-mention fallback give each quotation a first answer and the sieve that gave it;
2. ranking (`ranker.py`): ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from narrator.attribute.sieves import NARRATOR, SIEVES, explain_speakers, guess_narrative_person
from narrator.model import Character, Segment

__all__ = ["NARRATOR", "SIEVES", "attribute_speakers", "explain_speakers", "guess_narrative_person"]


def attribute_speakers(
    text: str,
    segments: Sequence[Segment],
    characters: Sequence[Character],
    *,
    narrative_person: int | None = None,
    fixed: Mapping[int, str] | None = None,
) -> list[Segment]:
    """Fill in speaker and confidence on the dialogue and thought segments of a chapter.

    `fixed` maps the start offset of a speech segment to the speaker an author gave it (a
    correction): that segment keeps it with confidence 1.0, and it is evidence for the others.
    """
    out = explain_speakers(text, segments, characters, narrative_person=narrative_person)[0]
    if not fixed:
        return out
    return [
        replace(s, speaker=fixed[s.start], confidence=1.0, evidence=("corrected by the author",))
        if s.kind.is_speech and s.start in fixed
        else s
        for s in out
    ]
