"""Speech tags (sieves 1-3): reading `said Tom`, `she replied`, `the old man said`.

Finds the tag after or before a quotation (`tag_after`, `tag_before`), or the subject of
narration ending in a colon (`colon_intro`), as what it names (`TagKind`) and its words, and
resolves it to a speaker (`resolve_tag`): a name is certain, a pronoun goes to
`pronouns.py`, a description to `descriptions.py`."""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from narrator.attribute.cast_index import NOT_NAMES
from narrator.attribute.chapter import Chapter
from narrator.attribute.descriptions import resolve_description
from narrator.attribute.patterns import (
    ACTS_RE,
    AND_NAME_RE,
    INDEFINITE_PEOPLE,
    NOUN_ALT,
    NOUN_PATTERNS,
    PREPOSITIONS,
    QUANTIFIERS,
    SAID_AFTER_RE,
    SENT_END_RE,
    loose_description,
)
from narrator.attribute.pronouns import antecedent, described_subject, group_speaker
from narrator.attribute.quotes import (
    CONF_DESCRIPTIVE,
    CONF_EXPLICIT,
    CONF_PRONOUN,
    Quote,
    Tag,
    TagKind,
)
from narrator.lexicon import (
    ATTRIBUTION_TITLES,
    FUNCTION_WORDS,
    NOUN_GENDER,
    PRONOUN_GENDER,
    SPEECH_VERB_ALT,
    SPEECH_VERB_RE,
    said_together,
)
from narrator.names import UPPER, name_key

# Tag pronouns that name several people at once (`"Yes!" they said`): a group speaker.
GROUP_PRONOUNS = frozenset({"they", "we"})
# The pronoun a speech tag can have (`said she`), any capitalisation.
_TAG_PRONOUN_RE = re.compile(rf"(?i:{'|'.join(PRONOUN_GENDER)})\b")
_REPLY_NOUNS = (
    r"(?:reply|answer|question|remark|response|rejoinder|retort|comment|cry|greeting|"
    r"exclamation)\b"
)
# `"No," was his reply.` / `was the old man's answer`: the speaker owns the reply.
_REPLY_OF_RE = re.compile(
    rf"(?:(?P<pron>[Hh]is|[Hh]er)|(?P<desc>the\s+(?:[a-z][\w-]*\s+){{0,2}}?[a-z]+)['\u2019 ]s)"
    rf"\s+(?:[a-z]+\s+)?{_REPLY_NOUNS}"
)
# Capitals of any script, compiled once: the class is long, and these run per quotation.
_PROPER_RE = re.compile(rf"(?:[{UPPER}][\w-]+)(?:\s+[{UPPER}][\w-]+)?")


# Keyed by the nouns a chapter adds: bounded, as a batch of books brings new ones.
@lru_cache(maxsize=NOUN_PATTERNS)
def _desc_subject(more_nouns: frozenset[str]) -> re.Pattern[str]:
    """A descriptive subject: a person noun of the lexicon's, of `more_nouns` (the ones the
    text makes speak, `Chapter.person_nouns`), or a capitalised word (`the Coroner`)."""
    more = "".join(f"{re.escape(n)}|" for n in sorted(more_nouns - NOUN_GENDER.keys()))
    return re.compile(
        rf"(?i:the|a|an|one of the|his|her|my|our|their)\s+(?:[\w-]+\s+){{0,3}}?"
        rf"(?:(?i:{more}{NOUN_ALT})|[{UPPER}][\w-]+)\b"
    )


# After `said Yuna and Da-eun`: the end of the tag, so both of them said it.
_PAIR_END_RE = re.compile(r"\s*(?:[,.;:!?\u2014]|$|together\b|in unison\b|as one\b|at once\b)")
_VOICE_OF_RE = re.compile(r"(?i:the\s+)?(?:\w+\s+)?voice\s+of\s+")  # `the voice of Vesh`
# Someone nobody named, as the subject before a speech verb (`"No," the baker said`,
# `someone in the crowd muttered`, `one of the burly followers barked`): a noun phrase of
# any nouns, its opener here and up to LOOSE_WORDS lower-case words after it.
_LOOSE_OPENER_RE = re.compile(
    rf"(?i:(?:{QUANTIFIERS})\s+of\s+(?:the|his|her|their)|the|a|an|{INDEFINITE_PEOPLE})\b"
)
_LOOSE_WORD_RE = re.compile(r"\s+[a-z][\w-]*")
LOOSE_WORDS = 4
_WORD_RE = re.compile(r"\S+")
_LAST_WORD_RE = re.compile(r"\S+$")
_CAPITALISED_RE = re.compile(r"[A-Z][a-z]+")
# Between a quotation and its tag: spaces, commas, dashes.
_TAG_GAP_RE = re.compile(r"[\s,\u2014\u2013-]*")
_BLANKS_RE = re.compile(r"[ \t\n]+")
_EPITHET_WORDS_RE = re.compile(r"(?:[a-z][\w-]*\s+){1,2}")  # `poor` in `inquired poor Oliver`
_PARTICIPLE_RE = re.compile(r"\w{3,}ing")  # `addressing`, not `sing`
_EPITHET_DET_RE = re.compile(r"^(?:the|an?)\s+")  # `the sleepy` in `asked the sleepy Noah`
_INVERTED_VERB_RE = re.compile(r"([a-z]{2,}ed)[ \t\n]+")
_WAS_CAME_RE = re.compile(r"(?:was|came)\s+")  # `was his reply`, `came a voice`
# `Frank's reply`, `Frank's angry voice` (after the owner's name).
_OWNERS_REPLY_RE = re.compile(rf"['\u2019 ]s\s+(?:\w+\s+){{0,2}}?(?:{_REPLY_NOUNS}|voice\b)")
_ADVERB_RE = re.compile(r"(?:\w+ly|again|then|now|too|once|at last|at once|aloud|softly)\b")


def _verb_after_subject(group: str) -> re.Pattern[str]:
    """A speech verb after a tag's subject (`Tom, pale, had quietly said`)."""
    return re.compile(
        rf"{group}(?:,[^,\"\u201c\u201d]{{1,60}},)?\s+(?:(?:had|has|was|then|again|only|just)\s+)?"
        rf"(?:{_ADVERB_RE.pattern}\s+)?(?i:{SPEECH_VERB_ALT})\b"
    )


_VERB_AFTER_SUBJECT_RE = _verb_after_subject("")
# `they both said`, `we all cried`: a plural subject may float a `both` or `all`.
_VERB_AFTER_GROUP_RE = _verb_after_subject(r"(?:\s+(?:both|all))?")
_CLAUSE_BEFORE_QUOTE_RE = re.compile(r"[,:\u2014-]\s*$|\w\s*$")
_OBJECT_BEFORE_RE = re.compile(rf"\b(?:{PREPOSITIONS})\s+$")
# What may stand between a tag's subject and its verb (`Tom had turned and said`).
_SUBJECT_TO_VERB_RE = re.compile(
    r"(?:\s+(?:\w+ly|had|has|was|then|again|only|just|turned|and|to \w+|"
    r"at \w+|\w+ed(?: and)?))*\s+"
)
_COLON_GAP_RE = re.compile(r"\s*[,:]?\s*")
_AND_END_RE = re.compile(r"\band\s*$")
_CLAUSE_OPENER_RE = re.compile(r"\s*(?:(?:Then|But|And|So|Now|At last|At length),?\s+)?")
# Where a clause, and so perhaps a subject, starts in narration introducing a quotation;
# `sub`: a subordinate clause (`before Ana went on`), whose subject speaks only when nothing
# else comes between it and the colon.
_CLAUSE_MARK_RE = re.compile(
    r"(?:(?P<sub>(?:,\s+|\s)(?:who|when|as|before|while|till|until|after|because)\s+)"
    r"|^|(?<=\n)|(?<=[.!?])\s+|(?<=[\"\u201d])\s+|,\s+|;\s+|\s(?:and|then|but|so)\s+)"
    r"(?:(?:and|then|at last|at length|at once|suddenly|so)[,\s]+)*"
)
_INTRO_REACH = 600  # characters before a colon read for the sentence introducing a quotation


def subject_at(
    ch: Chapter, pos: int, limit: int, verb_before: bool = False
) -> tuple[TagKind, str, int] | None:
    """A subject starting at pos: ('name'|'pronoun'|'desc'|'proper', value, end).
    `verb_before`: the tag's verb came first (`said Yuna and Da-eun together`)."""
    m = ch.mention_at.get(pos)
    if m is not None and m.narr and ch.text[m.start : m.end].lower() not in ("i", "you"):
        return None  # `told me`, `my`: the first-person narrator as object or owner
    if m is not None and m.names and not m.titled:
        related = ch.relative_after(m.end, limit)
        if related is not None:
            # `said the baker's wife`: the wife, someone the baker is not.
            return TagKind.DESC, ch.text[m.start : related], related
        if set(m.names) <= ch.cast.weak:
            return TagKind.DESC, ch.text[m.start : m.end], m.end
        who, end = ch.pick(m.names, pos), m.end
        # `Rook and Bo said in unison`: a line they say together, theirs together.
        am = AND_NAME_RE.match(ch.text, end, limit)
        other = ch.mention_at.get(am.end()) if am else None
        if other is not None and other.names and not other.narr:
            second = ch.pick(other.names, other.start)
            if verb_before:  # `said Rook and Bo together`: the tag ends there
                both = _PAIR_END_RE.match(ch.text, other.end)
            else:  # `Rook and Bo said`
                both = SPEECH_VERB_RE.match(ch.text, other.end + 1)
            if second != who and both:
                return TagKind.NAME, said_together((who, second)), other.end
        return TagKind.NAME, who, end
    rest = ch.text[pos:limit]
    # `The voice of Vesh echoed`: the owner of the voice.
    vm = _VOICE_OF_RE.match(rest)
    if vm:
        owner = ch.mention_at.get(pos + vm.end())
        if owner is not None and owner.names:
            return TagKind.NAME, ch.pick(owner.names, owner.start), owner.end
    pm = _TAG_PRONOUN_RE.match(rest)
    if pm and (pm.group(0) != "i" or ch.lower_i):
        return TagKind.PRONOUN, pm.group(0).lower(), pos + pm.end()
    dm = _desc_subject(ch.person_nouns).match(rest)
    if dm:
        last = _LAST_WORD_RE.search(dm.group(0))
        inner = ch.mention_at.get(pos + last.start()) if last else None
        if inner is not None and inner.names and not inner.narr:
            return TagKind.NAME, ch.pick(inner.names, inner.start), inner.end
        return TagKind.DESC, dm.group(0), pos + dm.end()
    nm = _PROPER_RE.match(rest)
    if nm is None:
        return None
    # `De Griers` (only `Griers` is a known name), `Mademoiselle` / `Mlle.` alone.
    for w in _WORD_RE.finditer(nm.group(0)):
        inner = ch.mention_at.get(pos + w.start())
        if inner is not None and inner.names and not inner.narr:
            return TagKind.NAME, ch.pick(inner.names, inner.start), inner.end
    title = _CAPITALISED_RE.match(rest)
    if (
        title
        and title.group(0) in ATTRIBUTION_TITLES
        and ch.cast.by_title.get(title.group(0).lower())
    ):
        end = pos + title.end() + (1 if rest[title.end() : title.end() + 1] == "." else 0)
        return TagKind.NAME, ch.pick(ch.cast.by_title[title.group(0).lower()], pos), end
    word = nm.group(0)
    if (
        word.lower() not in NOT_NAMES
        and word.split()[0].lower() not in FUNCTION_WORDS  # `So saying, he left.`
        and not SPEECH_VERB_RE.fullmatch(word)
    ):
        return TagKind.PROPER, word, pos + nm.end()
    return None


def _is_epithet(words: str) -> bool:
    """`poor`, `the sleepy` before a name; not `he to` (`said he to Temple`): a pronoun or a
    preposition is no epithet."""
    return FUNCTION_WORDS.isdisjoint(_EPITHET_DET_RE.sub("", words).split())


def tag_after(ch: Chapter, q: Quote, limit: int) -> Tag | None:
    """A speech tag right after the quotation: `said Tom`, `Tom said`, `he asked`."""
    text = ch.text
    pos = q.end
    # Skip spaces, commas, dashes (and a capitalised tag after `."`).
    m = _TAG_GAP_RE.match(text, pos, limit)
    pos = m.end() if m else pos
    # `and said Tom` / `then said Tom`
    vm = SPEECH_VERB_RE.match(text, pos, limit)
    if vm and _PARTICIPLE_RE.fullmatch(vm.group(0)):
        return None  # `addressing Sissy`: whom the line is said to, not who says it
    if vm:
        after = _BLANKS_RE.match(text, vm.end(), limit)
        if after:
            # `inquired poor Oliver`: a name behind an epithet or two.
            epithet = _EPITHET_WORDS_RE.match(text, after.end(), limit)
            if epithet and _is_epithet(epithet.group(0)):
                named = ch.mention_at.get(epithet.end())
                if named is not None and named.names and not named.narr:
                    return TagKind.NAME, ch.pick(named.names, named.start)
            subj = subject_at(ch, after.end(), limit, verb_before=True)
            if subj:
                return subj[0], subj[1]
            # `"Us!" chirped the twins`: right after the quotation and its verb, any
            # noun phrase is the speaker, a person noun or not.
            loose = loose_description(text, after.end(), limit)
            if loose:
                return TagKind.DESC, loose
        # `said Tom` may be preceded by an adverb: `said quietly Tom` is rare; skip.
        return None
    # `"I'd rather not," flashed Anne`: after a line its tag goes on (a comma, or a question
    # or a cry closing it), a past-tense verb the lexicon does not list, then the speaker.
    im = _INVERTED_VERB_RE.match(text, pos, limit)
    if im and text[q.end - 2 : q.end - 1] in ",!?" and im.group(1) not in FUNCTION_WORDS:
        subj = subject_at(ch, im.end(), limit, verb_before=True)
        if subj and _names_right_after(ch, subj, im.end()):
            return subj[0], subj[1]
    # `"No," was Frank's reply.`
    wm = _WAS_CAME_RE.match(text, pos, limit)
    if wm:
        owner = ch.mention_at.get(wm.end())
        if (
            owner is not None
            and owner.names
            and _OWNERS_REPLY_RE.match(text[owner.end : owner.end + 50])
        ):
            return TagKind.NAME, ch.pick(owner.names, owner.start)
        # `was his reply`, `was the impatient man's question`.
        pm = _REPLY_OF_RE.match(text, wm.end(), limit)
        if pm and pm.group("pron"):
            return TagKind.PRONOUN, "he" if pm.group("pron").lower() == "his" else "she"
        if pm:
            return TagKind.DESC, pm.group("desc")
        # `came a voice from the stairs`: the voice is the speaker.
        voice = loose_description(text, wm.end(), limit) if wm.group(0)[0] == "c" else None
        if voice and voice.endswith(" voice"):
            return TagKind.DESC, voice
    subj = subject_at(ch, pos, limit)
    if subj is not None:
        kind, value, end = subj
        verb = _VERB_AFTER_GROUP_RE if value in GROUP_PRONOUNS else _VERB_AFTER_SUBJECT_RE
        if verb.match(text, end, limit):
            return kind, value
    # `the baker said`: a noun phrase the lexicon does not know as a person's, then a verb.
    loose = _loose_subject(text, pos, limit)
    if loose is not None:
        return TagKind.DESC, loose
    return None


def _names_right_after(ch: Chapter, subj: tuple[TagKind, str, int], pos: int) -> bool:
    """Is the subject the words right after the verb: a name there, a pronoun, or a person
    noun (`the beadle`), not a name further on (`seemed the best answer to Diana`)?"""
    kind, value, _ = subj
    if kind is TagKind.NAME:
        return pos in ch.mention_at
    if kind is TagKind.DESC:
        noun = value.split()[-1].lower()
        return noun in NOUN_GENDER or noun in ch.person_nouns
    return kind is TagKind.PRONOUN


def _loose_subject(text: str, pos: int, limit: int) -> str | None:
    """`the baker`, `someone in the crowd` at pos, when a speech verb follows it. After a
    sentence's end (`"Go." The guard`) only `said`-like verbs: `The wind roared` is not one."""
    om = _LOOSE_OPENER_RE.match(text, pos, limit)
    if om is None:
        return None
    verbs = _VERB_AFTER_SUBJECT_RE if text[pos].islower() else SAID_AFTER_RE
    end = om.end()
    complete = " " not in om.group(0) and om.group(0).lower().endswith(("one", "body"))
    for _ in range(LOOSE_WORDS + 1):
        if complete and verbs.match(text, end, limit):
            return " ".join(text[pos:end].split())
        wm = _LOOSE_WORD_RE.match(text, end, limit)
        if wm is None:
            return None
        end, complete = wm.end(), True
    return None


def tag_before(ch: Chapter, q: Quote, floor: int) -> Tag | None:
    """A speech tag in the clause right before the quotation: `Tom said:`, `she asked,`."""
    text = ch.text
    clause_start = floor
    for sm in SENT_END_RE.finditer(text, floor, q.start):
        clause_start = sm.end()
    clause = text[clause_start : q.start]
    if not clause.strip() or not _CLAUSE_BEFORE_QUOTE_RE.search(clause):
        return None
    verbs = list(SPEECH_VERB_RE.finditer(text, clause_start, q.start))
    if not verbs:
        return None
    vm = verbs[-1]
    if q.start - vm.end() > 40:
        return None
    # Subject after the verb (`said Tom,`) ...
    after = _BLANKS_RE.match(text, vm.end(), q.start)
    if after:
        subj = subject_at(ch, after.end(), q.start)
        if subj and subj[0] in (TagKind.NAME, TagKind.PRONOUN):
            return subj[0], subj[1]
    # ... or the last subject before it, separated by adverbs / an auxiliary only.
    head = text[clause_start : vm.start()]
    for m in reversed(list(_WORD_RE.finditer(head))[-6:]):
        sub_pos = ch.mention_start(clause_start + m.start())
        sub = subject_at(ch, sub_pos, vm.start())
        if sub is None:
            continue
        if _OBJECT_BEFORE_RE.search(text[max(0, sub_pos - 8) : sub_pos]):
            break  # `turned to Hallward and said`: an object, not the subject
        between = text[sub[2] : vm.start()]
        if _SUBJECT_TO_VERB_RE.fullmatch(between):
            return sub[0], sub[1]
        break
    # `Tom crossed the room, laid a hand on the door, and said:` -- the sentence subject.
    if _COLON_GAP_RE.fullmatch(text[vm.end() : q.start]) and _AND_END_RE.search(
        text[clause_start : vm.start()]
    ):
        wm = _CLAUSE_OPENER_RE.match(text, clause_start)
        sub = subject_at(ch, wm.end() if wm else clause_start, vm.start())
        if sub is not None and sub[0] in (TagKind.NAME, TagKind.PRONOUN):
            return sub[0], sub[1]
    return None


def colon_intro(ch: Chapter, q: Quote, floor: int, last: Quote | None) -> Tag | None:
    """The subject of narration ending in a colon right before the quotation.

    `Tom crossed the room, looked out at the rain, and then said:`, `..., who answered
    gravely:`, `A pause followed before Ana went on:`: the subject of the last clause
    that has one, however far from the colon its verb is. `last` is the quotation before
    this one: when it closes the paragraph before, the narration after it is read
    (`"Go," said Tom. Ana turned and said:`).
    """
    text = ch.text
    lead = text[floor : q.start].rstrip()
    if lead:
        start = floor
    elif q.para > 0 and (last is None or last.para < q.para):
        # The paragraph before: all of it when it is narration, else what follows its
        # last quotation.
        start = (
            last.end if last is not None and last.para == q.para - 1 else ch.para_starts[q.para - 1]
        )
        lead = text[start : ch.para_starts[q.para]].rstrip()
    else:
        return None
    if not lead.endswith(":"):
        return None
    colon = start + len(lead) - 1
    # Only the end of a long paragraph: an introduction is a sentence, and this keeps one
    # huge paragraph linear in time.
    start = max(start, colon - _INTRO_REACH)
    sentence = start
    for sm in SENT_END_RE.finditer(text, start, colon):
        if sm.group().startswith(";"):
            continue  # `...on her arms; and continued:` is one sentence
        sentence = sm.end()
    found: Tag | None = None
    for cm in _CLAUSE_MARK_RE.finditer(text, sentence, colon):
        if cm["sub"] and "," in text[cm.end() : colon]:
            continue  # `while they talked, ..., said`: not the clause that speaks
        if cm["sub"] and cm["sub"].split()[-1] == "who":
            subj = _antecedent_of_who(ch, sentence, cm.start())
        else:
            subj = subject_at(ch, cm.end(), colon)
            if subj is not None and not ACTS_RE.match(text, subj[2]):
                subj = None
        if subj is not None and subj[0] is not TagKind.PROPER:
            found = (subj[0], subj[1])
    return found


def _antecedent_of_who(ch: Chapter, start: int, who: int) -> tuple[TagKind, str, int] | None:
    """`the stranger at the door, who answered`: the person a `who` clause is about."""
    words = list(_WORD_RE.finditer(ch.text, start, who))
    for m in reversed(words[-8:]):
        subj = subject_at(ch, ch.mention_start(m.start()), who)
        if subj is not None and subj[0] is not TagKind.PROPER:
            return subj
    return None


# Between a quotation and someone its tag speaks to: `said he to `, `, he said, turning to `.
_SPOKEN_TO_RE = re.compile(r"[^.!?\"\u201c\u201d]{0,40}\bto\s+")


def spoken_to(ch: Chapter, q: Quote) -> set[str]:
    """Whom the tag after the quotation speaks to (`he said to Temple`): not its speaker."""
    out = set()
    i = bisect.bisect_right(ch.mention_starts, q.end)
    end = min(q.end + 60, ch.para_end(q.para))
    while i < len(ch.mentions) and ch.mentions[i].start <= end:
        m = ch.mentions[i]
        i += 1
        if not m.names or m.narr:
            continue
        between = ch.text[q.end : m.start]
        if _SPOKEN_TO_RE.fullmatch(between) and SPEECH_VERB_RE.search(between):
            out.add(ch.pick(m.names, m.start))
    return out


def resolve_tag(
    ch: Chapter, kind: TagKind, value: str, q: Quote, prev: str | None
) -> tuple[str, float]:
    if kind is TagKind.NAME:
        if value in ch.cast.generic:
            return resolve_description(ch, value, q.start, prev)
        return value, CONF_EXPLICIT
    if kind is TagKind.PRONOUN:
        if value in GROUP_PRONOUNS:
            return group_speaker(ch, value, q.start), CONF_DESCRIPTIVE
        if value == "i":
            return ch.narrator_at(q.start), CONF_EXPLICIT - 0.05
        gender = PRONOUN_GENDER.get(value)
        # `"Must I go, Basil?" he asked`, `he said to Basil`: the one addressed is not the
        # speaker.
        avoid = q.vocatives | spoken_to(ch, q)
        described = described_subject(ch, q.start, gender)
        if described is not None:
            return described, CONF_PRONOUN
        who = antecedent(ch, q.start, gender, prev, avoid=avoid)
        if who is None:
            who = antecedent(ch, q.start, gender, prev, window=8000, avoid=avoid)
        if who is None and gender is not None:
            # Nobody named or introduced: someone only described (`the skinny boy`).
            who = antecedent(ch, q.start, gender, prev, avoid=avoid, described=True)
        return (who or value), CONF_PRONOUN if who else 0.2
    if kind is TagKind.DESC:
        return resolve_description(ch, value, q.start, prev)
    # A bare title (`said Mademoiselle`) names the cast character bearing it.
    titled = ch.cast.by_title.get(value.lower().rstrip("."))
    if titled:
        return ch.pick(titled, q.start), CONF_DESCRIPTIVE
    # A cast name in other capitals (`said ANNA`): matching those everywhere would make
    # every shouted `BRETT` a mention (PDNC: 2 quotations lost), so only in a tag.
    known = ch.cast.by_alias.get(name_key(value))
    if known:
        return ch.pick(known, q.start), CONF_EXPLICIT
    # An unknown capitalised word: a name not in the cast (`Kai said`).
    return value, CONF_DESCRIPTIVE
