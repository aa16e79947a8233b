"""Attribute speakers: chapter text + segments (list[Segment]) + characters -> list[Segment].

See `narrator.attribute.runner` for the steps, in the order they run.
"""

from narrator.attribute.runner import (
    NARRATOR,
    SIEVES,
    SYSTEM,
    Sieve,
    attribute_speakers,
    explain_speakers,
    guess_narrative_person,
    lists_walk_ons,
    sieve_book,
)

__all__ = [
    "NARRATOR",
    "SIEVES",
    "SYSTEM",
    "Sieve",
    "attribute_speakers",
    "explain_speakers",
    "guess_narrative_person",
    "lists_walk_ons",
    "sieve_book",
]
