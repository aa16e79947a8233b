"""Words narrator reads prose by, kept in one place: the verbs that introduce speech.

Used by the segmenter (tags of dash dialogue) and by attribution (speech tags).
"""

from __future__ import annotations

import re


def words(spaced: str) -> list[str]:
    """Word lists are kept as spaced text: easier to read and extend than list literals."""
    return spaced.split()


# Verbs that introduce speech. Base forms; inflections are generated below.
SPEECH_VERBS = words("""
say tell ask reply answer cry exclaim add continue remark shout whisper mutter return observe
inquire enquire rejoin retort repeat demand interrupt call murmur laugh interpose explain pursue
resume begin sigh gasp growl admit urge stammer echo ejaculate assent protest falter sob
suggest remonstrate announce agree proceed persist plead query address scream sneer respond
insist assure conclude confess promise mourn entreat acquiesce implore grumble hesitate thunder
blurt muse question sniff wail breathe reiterate confide groan declare bluster comment offer
reflect think yell snap chuckle hiss snarl bark roar squeak shriek giggle grin smile nod
observe mumble sing chirp purr moan whimper stutter croak drawl quip lie volunteer correct
warn order command beg cackle huff scoff snort muse mention note counter argue object
prompt coax soothe tease joke rasp scold greet wonder guess sob bellow holler rumble grunt
exclaim recite read write pray plead pout admonish corroborate venture vociferate speak
proclaim quaver asseverate coo interject assert
""")
_IRREGULAR = {
    "say": ["said", "says", "saying"],
    "tell": ["told", "tells", "telling"],
    "think": ["thought", "thinks", "thinking"],
    "begin": ["began", "begins", "beginning"],
    "sing": ["sang", "sings", "singing"],
    "write": ["wrote", "writes", "writing"],
    "speak": ["spoke", "speaks", "speaking"],
    "read": ["reads", "reading"],
    "lie": ["lied", "lies", "lying"],
}


def _inflect(verb: str) -> list[str]:
    if verb in _IRREGULAR:
        return [verb, *_IRREGULAR[verb]]
    forms = [verb]
    if verb.endswith("e"):
        forms += [verb + "d", verb + "s", verb[:-1] + "ing"]
    elif verb.endswith("y") and verb[-2] not in "aeiou":
        forms += [verb[:-1] + "ied", verb[:-1] + "ies", verb + "ing"]
    elif re.fullmatch(r".*[^aeiou][aeiou][bdgmnprt]", verb) and len(verb) <= 4:
        forms += [verb + verb[-1] + "ed", verb + "s", verb + verb[-1] + "ing"]
    else:
        suffix_s = "es" if verb.endswith(("s", "sh", "ch", "x", "z", "o")) else "s"
        forms += [verb + "ed", verb + suffix_s, verb + "ing"]
    return forms


SPEECH_VERB_FORMS = sorted(
    {f for v in SPEECH_VERBS for f in _inflect(v)}
    | {"went on", "goes on", "put in", "puts in", "broke in", "breaks in", "cut in", "chimed in"},
    key=len,
    reverse=True,
)
SPEECH_VERB_ALT = "|".join(re.escape(f) for f in SPEECH_VERB_FORMS)
# Whole-word verb, any capitalisation of the first letter (`"Run." Said the blonde`).
SPEECH_VERB_RE = re.compile(rf"\b(?i:{SPEECH_VERB_ALT})\b")

