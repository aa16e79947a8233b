"""Find a book's characters in its text: names, aliases and gender.

Input: the chapters' texts (``Sequence[str]``), in order. Output: ``list[Character]`` sorted
by how often each character is mentioned, with ``voice=None`` (casting picks voices).

How it works, in one pass of regular expressions and Counters:

1. Capitalised sequences, optionally after an honorific (``Mr.``, ``Lady``, ``Aunt``...), are
   the candidate names. Leading words that are not names ("Poor Emma", "When Emma") are
   stripped: a word is a name only if it is capitalised mid-sentence more often than it is
   written in lower case (a first name from the list gets more slack: "Will", "Rose").
2. Stop words, days, months, interjections, nationalities and the like are dropped, and so
   are forms that behave like places (mostly after "in", "at", "the"... and never next to a
   speech verb or an honorific).
3. Forms are clustered: full names first ("Emma Woodhouse"), then honorific + surname
   ("Miss Woodhouse") joined to the one full name of a compatible gender with that surname,
   then bare first names and surnames joined to the one cluster they can mean. Different
   honorifics of one surname stay apart ("Mr. Bennet", "Mrs. Bennet"). A rank used as a name
   ("the General", "the Duchess of Harley", three mentions or more) is a character too.
4. Gender comes from honorifics, then from the pronouns that follow mentions in narration
   (he/his against she/her; object pronouns are someone else's and are skipped), then from a
   first-name list (US Census 1990, public domain; see narrator/data/README.md). Strong
   pronoun evidence overrides the list, which reflects modern American usage.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from narrator.lexicon import (
    FUNCTION_WORDS,
    GENDER_OF_ROLE,
    HONORIFIC_SUFFIX,
    NOBLE_TITLES,
    PERSON_CONTEXT_WORDS,
    ROLE_OF_TITLE,
    TitleRole,
    any_of,
    is_storyteller_alias,
    word_set,
)
from narrator.model import Character, Gender
from narrator.names import LOWER, UPPER, name_key
from narrator.segment import is_editorial, is_system_line, rough_quoted_spans

__all__ = ["count_mentions", "find_characters", "guess_gender", "name_the_narrator"]

# Titles used with a first name ("Sir Thomas", "Aunt Josephine") rather than a surname.
_FIRST_NAME_ROLES = frozenset(
    {
        TitleRole.SIR,
        TitleRole.UNCLE,
        TitleRole.AUNT,
        TitleRole.MASTER,
        TitleRole.FATHER,
        TitleRole.MOTHER,
    }
)

_TITLE_ALT = any_of(ROLE_OF_TITLE)
# Letters of any cased script count ("Zoë", "Éowyn", "Ōkami", "Анна", "Νίκος").
_UP = UPPER
_LOW = LOWER
_WORD = rf"(?:[{_UP}][{_LOW}]*['’][{_UP}][{_LOW}]+|[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)*)"
_WS = r"(?:[ \t]*\n[ \t]*|[ \t]+)"  # a line break inside a name is fine, a blank line is not
_PARTICLE = r"(?:de|du|da|di|del|della|van|von|der|den|le|la|St\.)"
_NAME_RE = re.compile(
    rf"(?<![\w'’.-])(?:(?P<title>{_TITLE_ALT})\.?{_WS}(?P<initials>(?:[{_UP}]\.{_WS}?)*))?"
    rf"(?P<name>{_WORD}(?:{_WS}(?:[{_UP}]\.{_WS}?)*(?:{_PARTICLE}{_WS})?{_WORD})*)"
    rf"(?!['’]?[{_UP}{_LOW}])"
)
_RANK_TITLES = [
    t
    for t, r in ROLE_OF_TITLE.items()
    if r in (TitleRole.OFFICER, TitleRole.DR, TitleRole.KING, TitleRole.QUEEN) and len(t) > 3
]  # `any_of` takes the longest first
_RANK_RE = re.compile(
    rf"(?<![\w'’])[Tt]he{_WS}({any_of(_RANK_TITLES)})(?![\w'’-])(?!\.?{_WS}[{_UP}])"
)
_OF_PLACE_RE = re.compile(
    rf"(?<![\w'’])({'|'.join(NOBLE_TITLES)}){_WS}of{_WS}({_WORD}(?:{_WS}{_WORD})*)"
)
_MIN_RANK_MENTIONS = 3
_HEADING_WORD_RE = re.compile(rf"[{_UP}{_LOW}][{_UP}{_LOW}'’]+")
_TOKEN_SPLIT_RE = re.compile(r"\s+")
_LOWER_WORD_RE = re.compile(rf"(?<![\w'’-])[{_LOW}][{_LOW}]+")
_PRONOUN_RE = re.compile(
    r"[\"“”]|[.!?](?=\s)|\b(?:(he|his|himself)|(she|hers|herself|her(?=\s+[a-z]+)(?!\s+"
    r"(?:and|or|but|to|in|on|at|with|for|from|as|that|the|a|an|again|so|too|up|down|out|off"
    r"|away|back|now|then|when|if|was|is|by)\b)))\b",
    re.IGNORECASE,
)
# Object pronouns ("him", "her" not followed by a noun) are left out: after "Pell came and
# sat next to her" the pronoun is someone else.
# Russian patronymics ("Alexis Ivanovitch", "Polina Alexandrovna", "Анна Петровна") say
# the gender.
_MALE_PATRONYMIC_RE = re.compile(r"[a-z](?:itch|ich|itsch)$|[а-я](?:ович|евич|ич)$")
_FEMALE_PATRONYMIC_RE = re.compile(r"(?:ovna|evna|ichna|ishna|овна|евна|ична|инична)$")
# The words either side of a mention, in any script (`сказал Анна` has none in Latin).
_PREV_WORD_RE = re.compile(r"([^\W\d_]+)[\W\d_]*$")
_NEXT_WORD_RE = re.compile(r"^(?:['’]s)?[\s,]*([^\W\d_]+)")


_PLACE_PREVS = word_set(
    "in at into to from near towards toward through across within inside outside "
    "reach reached reaching round around leave left visit visited"
)
_DETERMINERS = word_set("the a an this that these those our your their every no")

# Capitalised words that are not names, or not names of people: the usual sentence openers
# are caught by the case statistics too, but short texts need the list.
_STOP_WORDS = FUNCTION_WORDS | word_set(
    """
    oh ah aha alas eh ha hah hey hm hmm hush lo nay o oho ooh ouch pooh pshaw tut yes yeah
    yep no nope okay ok hello hallo hullo goodbye good bye bravo amen pray please thanks
    thank sorry ay aye ugh whew wow welcome dear poor oh-oh maybe sure right okay look
    listen wait stop come go
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december christmas easter
    god lord heaven heavens christ jesus providence devil hell bible gospel
    sir madam madame ma'am mamma mama papa pa ma mother father mr mrs miss ms dr
    english french german italian spanish russian american british irish scotch scottish
    welsh dutch greek roman latin jewish christian catholic protestant negro indian
    chinese japanese european african asian
    england london paris france america europe scotland ireland wales italy rome germany
    spain russia india africa asia china japan egypt greece new york boston chicago
    chapter book part volume section act scene page
    mister señor messrs saint
    """
)
# Word endings of places ("Charlottetown", "Spencervale") and of peoples ("Russians").
_PLACE_ENDING_RE = re.compile(r"(?:town|ville|vale|mere|shire|burg|bourg|borough|minster)$")
_DEMONYM_RE = re.compile(r"(?:ians|eans|men|ese|ish)$")
_PLACE_PREFIXES = word_set(
    "boulevard rue via mount lake fort port cape avenue château chateau villa hotel"
)
# Last words that make a capitalised sequence a place or an institution, not a person.
_PLACE_SUFFIXES = word_set(
    """
    street st road lane avenue square place park gardens garden hall house court manor
    abbey castle church chapel cathedral hill hills river bridge station hotel inn college
    school university club company theatre theater office county city town village island
    islands lake sea ocean mountain mountains valley bay harbour harbor gate row terrace
    green common cross farm mill wood woods forest hospital museum gallery palace tower
    lodge isle waters falls springs point heights cottage grange rectory vicarage
    """
)


@dataclass
class _Form:
    """Statistics of one surface form ("Mr. Knightley") over the whole book."""

    text: str
    role: TitleRole | None  # the title's role, None without a title
    words: tuple[str, ...]  # the name words after the title, initials included
    count: int = 0
    mid: int = 0  # mentions not at the start of a sentence
    person: int = 0  # next to a speech or action verb
    place: int = 0  # after a preposition of place
    det: int = 0  # after "the", "a", ...
    he: int = 0
    she: int = 0


@dataclass
class _Cluster:
    forms: list[_Form] = field(default_factory=list)

    @property
    def role_gender(self) -> Gender | None:
        """The gender its forms imply (titles, first names, else pronouns): what it may join."""
        return self.hint()[0]

    def hint(self) -> tuple[Gender | None, int]:
        """The gender its forms imply and how strongly: the strongest form hint wins."""
        best: tuple[Gender | None, int] = (None, 0)
        for f in sorted(self.forms, key=lambda f: -f.count):
            g, strength = _form_hint_strength(f)
            if g is not None and strength > best[1]:
                best = (g, strength)
        if best[0] is None:
            he = sum(f.he for f in self.forms)
            she = sum(f.she for f in self.forms)
            best = (_pronoun_gender(he, she, strict=False), _BY_PRONOUN)
        return best

    @property
    def count(self) -> int:
        return sum(f.count for f in self.forms)


@lru_cache(maxsize=1)
def _first_names() -> dict[str, Gender]:
    names: dict[str, Gender] = {}
    path = resources.files("narrator") / "data" / "first_names.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, sex = line.split("\t")
        names[name] = Gender.MALE if sex == "M" else Gender.FEMALE
    return names


def _name_gender(word: str) -> Gender | None:
    """The gender of a first name in the list, accents ignored ("Zoë" is "Zoe")."""
    names = _first_names()
    found = names.get(word)
    if found is None and not word.isascii():
        plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
        found = names.get(plain)
    return found


def guess_gender(name: str) -> Gender | None:
    """Gender suggested by a name alone: its title ("Mrs. Hale"), else its first name."""
    words = [w.rstrip(".") for w in _TOKEN_SPLIT_RE.split(name.strip()) if w]
    if not words:
        return None
    role = ROLE_OF_TITLE.get(words[0])
    if role is not None and len(words) > 1:
        gender = GENDER_OF_ROLE[role]
        if gender is not None:
            return gender
        words = words[1:]
    by_patronymic = _patronymic_gender(words)
    if by_patronymic is not None:
        return by_patronymic
    first = next((w for w in words if len(w) > 1), None)
    return _name_gender(first.capitalize()) if first else None


def _is_sentence_start(text: str, start: int) -> bool:
    """Whether a word at text[start] opens a sentence (capitalised whatever it is)."""
    i = start - 1
    saw_space = False
    newlines = 0
    while i >= 0 and text[i] in " \t\r\n*_":  # markup emphasis is not punctuation
        saw_space = True
        newlines += text[i] == "\n"
        i -= 1
    if i < 0 or newlines >= 2:
        return True
    ch = text[i]
    if ch in "\"“‘'(" and not saw_space:
        return True  # an opening quote or bracket right before the word
    if ch in "\"”’'":
        i -= 1  # a closing quote: look at what ended inside it
        if i < 0:
            return True
        ch = text[i]
    # A title's dot never gets here: "Mr. Knightley" is matched as one sequence.
    return ch in ".!?:;—-_"


def _mentions(texts: Sequence[str]) -> tuple[list[tuple[int, int, int, str]], Counter[str]]:
    """Every capitalised sequence as (text index, start, end, form); and lower-case counts."""
    found: list[tuple[int, int, int, str]] = []
    lower: Counter[str] = Counter()
    for ti, text in enumerate(texts):
        lower.update(_LOWER_WORD_RE.findall(text))
        heading_lines: dict[int, bool] = {}
        line_start = scanned = 0
        for m in _NAME_RE.finditer(text):
            # Matches come in order: look back only as far as the previous one (a 10 MB
            # line would otherwise be scanned back to its start once per capital).
            newline = text.rfind("\n", scanned, m.start())
            if newline >= 0:
                line_start = newline + 1
            scanned = m.start()
            heading = heading_lines.get(line_start)
            if heading is None:
                heading = heading_lines[line_start] = _is_heading(text, line_start)
            if not heading:
                found.append((ti, m.start(), m.end(), m.group(0)))
    return found, lower


def _is_heading(text: str, line_start: int) -> bool:
    """A title-case line ("Marilla Makes Up Her Mind"), an editor's (`[Illustration]`) or a
    game's (`[Level Up! You are now Level 5.]`): its capitals say nothing of names."""
    line_end = text.find("\n", line_start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if is_editorial(line) or is_system_line(line):
        return True
    words = _HEADING_WORD_RE.findall(line)
    return len(words) >= 3 and len(line) <= 100 and all(w[0].isupper() for w in words)


def _split(form: str) -> tuple[str | None, TitleRole | None, list[str]]:
    """A matched sequence as (title as written, its role, name words)."""
    words = _TOKEN_SPLIT_RE.split(form.strip())
    title = words[0].rstrip(".")
    role = ROLE_OF_TITLE.get(title)
    if role is not None and len(words) > 1:
        return words[0], role, words[1:]
    return None, None, words


@lru_cache(maxsize=4)
def _marks(text: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """Positions of paragraph breaks and of straight, opening and closing double quotes."""
    return (
        [m.start() for m in re.finditer(r"(?=\n\n)", text)],
        [m.start() for m in re.finditer('"', text)],
        [m.start() for m in re.finditer("“", text)],
        [m.start() for m in re.finditer("”", text)],
    )


def _between(positions: list[int], start: int, end: int) -> int:
    return bisect_left(positions, end) - bisect_left(positions, start)


def _pronoun_vote(text: str, end: int) -> int:
    """+1 if the first pronoun in the narration after a mention is male, -1 female, 0 none."""
    # Counted with bisect over positions found once per text: counting from the paragraph
    # start for every mention is quadratic in a huge paragraph.
    breaks, straight, opening, closing = _marks(text)
    last_break = bisect_right(breaks, end - 2) - 1
    para_start = breaks[last_break] + 1 if last_break >= 0 else 0
    if _between(straight, para_start, end) % 2 or _between(opening, para_start, end) > _between(
        closing, para_start, end
    ):
        return 0  # mentioned inside dialogue: the pronouns nearby are the speaker's
    window = text[end : end + 300]
    cut = window.find("\n\n")
    if cut >= 0:
        window = window[:cut]
    inside = False
    stops = 0
    for m in _PRONOUN_RE.finditer(window):
        tok = m.group(0)
        if tok == '"':
            inside = not inside
        elif tok in "“”":
            inside = tok == "“"
        elif inside:
            continue
        elif m.group(1):
            return 1
        elif m.group(2):
            return -1
        else:
            stops += 1
            if stops >= 2:
                return 0
    return 0


def _clean_words(words: list[str], is_name: dict[str, bool]) -> tuple[list[str], bool]:
    """Drop leading words that are not names ("Poor Emma" -> "Emma"); says if any dropped."""
    dropped = False
    while words and not is_name.get(words[0], False) and not _is_initial(words[0]):
        words = words[1:]
        dropped = True
    # Later words of a sequence are capitalised mid-sentence, so only stop words end it
    # ("Mrs. Rachel Lynde Is Surprised", a title-case heading).
    for i, w in enumerate(words[1:], 1):
        if w.lower() in _STOP_WORDS:
            words = words[:i]
            break
    while words and _is_initial(words[-1]):
        words = words[:-1]
    return words, dropped


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word[1] == "." and word[0].isupper()


def _word_is_name(word: str, cap_mid: int, lower: int) -> bool:
    if word.lower() in _STOP_WORDS or word.rstrip(".").lower() in _STOP_WORDS:
        return False
    if _is_initial(word):
        return True
    if cap_mid == 0:
        return False
    if _name_gender(word) is not None:
        return cap_mid * 10 >= lower
    return cap_mid >= lower


def find_characters(texts: Sequence[str], *, min_mentions: int = 2) -> list[Character]:
    """The characters named in a book's chapters, most mentioned first, with aliases and gender."""
    found, lower = _mentions(texts)

    # Word statistics: how often each capitalised word appears mid-sentence.
    starts: list[bool] = []
    cap_mid: Counter[str] = Counter()
    for ti, s, _e, form in found:
        at_start = _is_sentence_start(texts[ti], s)
        starts.append(at_start)
        _title, role, words = _split(form)
        for i, w in enumerate(words):
            if i > 0 or role is not None or not at_start:
                cap_mid[w] += 1
    is_name = {w: _word_is_name(w, cap_mid[w], lower[w.lower()]) for w in cap_mid}
    for *_pos, form in found:
        for w in _split(form)[2][:1]:
            if w not in is_name:
                is_name[w] = _word_is_name(w, 0, lower[w.lower()])

    forms: dict[str, _Form] = {}
    for (ti, s, e, raw), at_start in zip(found, starts, strict=True):
        text = texts[ti]
        title, role, words = _split(raw)
        words, dropped = _clean_words(words, is_name)
        if not words or all(_is_initial(w) for w in words):
            continue
        if dropped:
            # The title went with a word that is not a name ("Mother Nature"): drop it too.
            title = role = None
        key_words = tuple(words)
        label = " ".join(([title] if title else []) + list(key_words))
        f = forms.get(label)
        if f is None:
            f = forms[label] = _Form(label, role, key_words)
        f.count += 1
        # After a title, or with a second capitalised word, the name is mid-sentence anyway.
        if not at_start or dropped or role is not None or len(words) > 1:
            f.mid += 1
        prev = _PREV_WORD_RE.search(text, max(0, s - 30), s)
        prev_word = prev.group(1).lower() if prev else ""
        nxt = _NEXT_WORD_RE.search(text[e : e + 30])
        next_word = nxt.group(1).lower() if nxt else ""
        if prev_word in PERSON_CONTEXT_WORDS or next_word in PERSON_CONTEXT_WORDS:
            f.person += 1
        if prev_word in _PLACE_PREVS:
            f.place += 1
        if prev_word in _DETERMINERS:
            f.det += 1
        vote = _pronoun_vote(text, e)
        if vote > 0:
            f.he += 1
        elif vote < 0:
            f.she += 1

    forms = _merge_spellings(forms)
    _add_rank_forms(texts, forms)
    people = [f for f in forms.values() if _looks_like_person(f) and not _is_plural(f, cap_mid)]
    clusters = _cluster(people)
    kept = sorted((c for c in clusters if c.count >= min_mentions), key=lambda c: -c.count)
    return [_to_character(c) for c in kept]


# The storyteller of a first-person book is named by the other characters (`Jake, come
# here`) but hardly ever by the narration, which says "I". On the three first-person PDNC
# dev novels the character with the highest ratio of quoted to narrated mentions is the
# narrator each time (The Gambler 30:1, Styles 49:0, The Sun Also Rises 121:0).
_NARRATOR_QUOTED = 10  # quoted mentions at least
_NARRATOR_RATIO = 5  # quoted mentions per narrated one, at least


def name_the_narrator(texts: Sequence[str], characters: Sequence[Character]) -> list[Character]:
    """In a first-person book, give "I" to the character the others name and the narration doesn't.

    Call it only for a book told in the first person, with characters narrator found itself
    (an author's cast says who "I" is with the alias "I"). Nobody clear: the list unchanged.
    """
    if any(is_storyteller_alias(a) for c in characters for a in c.aliases):
        return list(characters)
    # One pass over the book: every name of every character in one alternation.
    owner, pattern = _names_pattern(characters)
    if pattern is None:
        return list(characters)
    quoted = [0] * len(characters)
    narrated = [0] * len(characters)
    for text in texts:
        spans = rough_quoted_spans(text)
        starts = [a for a, _ in spans]
        for m in pattern.finditer(text):
            i = bisect_right(starts, m.start()) - 1
            counts = quoted if i >= 0 and m.start() < spans[i][1] else narrated
            counts[owner[_name_matched(m)]] += 1
    best: tuple[float, int] | None = None
    for index in range(len(characters)):
        q, n = quoted[index], narrated[index]
        if q >= _NARRATOR_QUOTED and q >= _NARRATOR_RATIO * n:
            ratio = q / (n + 1)
            if best is None or ratio > best[0]:
                best = (ratio, index)
    if best is None:
        return list(characters)
    out = list(characters)
    who = out[best[1]]
    out[best[1]] = replace(who, aliases=(*who.aliases, "I"))
    return out


def _merge_spellings(forms: dict[str, _Form]) -> dict[str, _Form]:
    """`Éowyn` and `Eowyn`: one form, under the spelling used most, with both counts."""
    groups: defaultdict[str, list[_Form]] = defaultdict(list)
    for f in forms.values():
        groups[name_key(f.text)].append(f)
    merged: dict[str, _Form] = {}
    for group in groups.values():
        head, *others = sorted(group, key=lambda f: -f.count)
        for other in others:
            for stat in ("count", "mid", "person", "place", "det", "he", "she"):
                setattr(head, stat, getattr(head, stat) + getattr(other, stat))
        merged[head.text] = head
    return merged


def _add_rank_forms(texts: Sequence[str], forms: dict[str, _Form]) -> None:
    """Characters known by a rank: "the General", "the Duchess of Harley"."""
    counts: Counter[tuple[str, str]] = Counter()
    votes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for text in texts:
        for m in _RANK_RE.finditer(text):
            key = (f"the {m.group(1)}", m.group(1))
            counts[key] += 1
            vote = _pronoun_vote(text, m.end())
            if vote:
                votes[key][0 if vote > 0 else 1] += 1
        for m in _OF_PLACE_RE.finditer(text):
            place = " ".join(m.group(2).split())
            key = (f"{m.group(1)} of {place}", m.group(1))
            counts[key] += 1
            vote = _pronoun_vote(text, m.end())
            if vote:
                votes[key][0 if vote > 0 else 1] += 1
    for (label, title), n in counts.items():
        if n >= _MIN_RANK_MENTIONS:
            he, she = votes[(label, title)]
            words = (title,) if label.startswith("the ") else (label,)
            forms[label] = _Form(label, ROLE_OF_TITLE[title], words, n, n, 0, 0, 0, he, she)


def _is_plural(f: _Form, cap_mid: Counter[str]) -> bool:
    """ "the Gradgrinds", "Russians": a plural of a capitalised word is a family or a people."""
    if f.role is not None or len(f.words) != 1:
        return False
    word = f.words[0]
    return word.endswith("s") and not word.endswith("ss") and cap_mid[word[:-1]] > 0


def _looks_like_person(f: _Form) -> bool:
    if f.words[0].lower() in _PLACE_PREFIXES or f.words[-1].lower() in _PLACE_SUFFIXES:
        return False
    if f.role is not None:
        return True
    if f.mid * 3 < f.count or f.words[0].rstrip(".") in ROLE_OF_TITLE:
        return False  # mostly sentence-initial: an interjection or a common word
    last = f.words[-1]
    if _PLACE_ENDING_RE.search(last) or (len(f.words) == 1 and _DEMONYM_RE.search(last)):
        return False
    if f.det * 2 > f.count:
        return False
    if (f.place + f.det) * 2 >= f.count and f.person * 4 < f.count:
        return False
    # Places and things: mostly after "in", "at", "the", and never doing or saying anything.
    return not (f.place * 3 > f.count and f.person * 10 < f.count)


def _form_gender(f: _Form) -> Gender | None:
    return GENDER_OF_ROLE.get(f.role) if f.role else None


def _is_wife_form(f: _Form) -> bool:
    """ "Mrs. John Dashwood": a married title before her husband's first name."""
    return f.role is TitleRole.MRS and len(f.words) >= 2 and _name_gender(f.words[0]) == Gender.MALE


_BY_NAME, _BY_PRONOUN, _BY_TITLE = 1, 2, 3  # how much a gender hint can be trusted


def _form_hint_strength(f: _Form) -> tuple[Gender | None, int]:
    if f.role is not None:
        return _form_gender(f), _BY_TITLE
    by_name = _patronymic_gender(f.words)
    if by_name is None:
        by_name = _name_gender(f.words[0])
    if by_name is not None:
        return by_name, _BY_NAME
    return _pronoun_gender(f.he, f.she, strict=True), _BY_PRONOUN


def _pronoun_gender(he: int, she: int, *, strict: bool) -> Gender | None:
    """The gender of the pronouns after a name's mentions, if they clearly agree."""
    total = he + she
    if total < (4 if strict else 3):
        return None
    lead = 0.8 if strict else 0.6
    if he >= lead * total:
        return Gender.MALE
    if she >= lead * total:
        return Gender.FEMALE
    return None


def _patronymic_gender(words: Sequence[str]) -> Gender | None:
    for w in words:
        if _MALE_PATRONYMIC_RE.search(w):
            return Gender.MALE
        if _FEMALE_PATRONYMIC_RE.search(w):
            return Gender.FEMALE
    return None


def _cluster(people: list[_Form]) -> list[_Cluster]:
    """Group the forms of one person; forms of different roles of a surname stay apart."""
    clusters: list[_Cluster] = []
    owner: dict[str, _Cluster] = {}

    def new(f: _Form) -> _Cluster:
        c = _Cluster([f])
        clusters.append(c)
        owner[f.text] = c
        return c

    def join(c: _Cluster, f: _Form) -> None:
        c.forms.append(f)
        owner[f.text] = c

    by_count = sorted(people, key=lambda f: -f.count)
    multi = [f for f in by_count if len(f.words) >= 2]
    single = [f for f in by_count if len(f.words) == 1]

    # 1. Full names: "Mr. John Dashwood" and "John Dashwood" are one person unless the
    #    titles disagree ("Mrs. John Dashwood" is his wife).
    full: dict[tuple[str, ...], list[_Cluster]] = defaultdict(list)
    for f in sorted(multi, key=lambda f: (f.role is None, -f.count)):
        cands = [c for c in full[f.words] if _compatible(c, f)]
        if f.role is None and len(cands) > 1:
            # An untitled full name goes to the titled person its first name fits.
            g = _name_gender(f.words[0])
            fitting = [c for c in cands if c.role_gender == g] if g else []
            cands = fitting if len(fitting) == 1 else cands[:1]
        if cands:
            join(cands[0], f)
        else:
            full[f.words].append(new(f))

    # Indexes of the full-name clusters by surname and by first name.
    by_surname: dict[str, list[_Cluster]] = defaultdict(list)
    by_given: dict[str, list[_Cluster]] = defaultdict(list)
    by_husband: dict[str, list[_Cluster]] = defaultdict(list)  # "Mrs. Peter" -> Mrs. Peter X
    for c in clusters:
        for f in c.forms:
            by_surname[f.words[-1]].append(c)
            first = f.words[0]
            if _is_wife_form(f):
                by_husband[first].append(c)
            elif not _is_initial(first):
                by_given[first].append(c)

    # 2. Bare first names of one full name ("Emma" -> "Emma Woodhouse"), so that the full
    #    name's gender is known before titles join it.
    rest: list[_Form] = []
    for f in [f for f in single if f.role is None]:
        word = f.words[0]
        given = _unique([c for c in by_given.get(word, []) if _compatible(c, f)])
        target = _dominant(given) if given and not by_surname.get(word) else None
        if target is not None:
            join(target, f)
        else:
            rest.append(f)

    # 3. Title + one word: "Miss Woodhouse", "Mr. Knightley", "Sir Thomas", "Aunt Polly".
    titled: dict[tuple[str, str], _Cluster] = {}
    for f in [f for f in single if f.role is not None]:
        word = f.words[0]
        key = (f.role or "", word)
        if key in titled:
            join(titled[key], f)
            continue
        if f.text.startswith("the "):
            # "the General" is the one General of the book, if there is one by name.
            ranked = _unique([c for c in clusters if any(g.text.startswith(word) for g in c.forms)])
            titled[key] = ranked[0] if len(ranked) == 1 else new(f)
            if len(ranked) == 1:
                join(ranked[0], f)
            continue
        if f.role in _FIRST_NAME_ROLES:
            pools = [by_given[word], by_surname[word]]
        elif f.role is TitleRole.MRS:
            pools = [by_surname[word], by_husband[word], by_given[word]]
        else:
            pools = [by_surname[word], by_given[word]]
        cands = []
        for pool in pools:
            cands = _unique([c for c in pool if _compatible(c, f)])
            if cands:
                break
        if f.role in (TitleRole.KING, TitleRole.QUEEN):
            # "King James" is not James Vane: royal titles join only their own kind.
            cands = [c for c in cands if any(g.role == f.role for g in c.forms)]
        if f.role is TitleRole.MRS:
            # A married title joins a full name only if that name was seen with it too:
            # "Mrs. Gradgrind" is not her daughter "Louisa Gradgrind".
            cands = [c for c in cands if any(g.role is TitleRole.MRS for g in c.forms)]
        if len(cands) > 1:
            # "Lord Henry" is Lord Henry Wotton rather than Sir Henry Ashton.
            with_role = [c for c in cands if any(g.role == f.role for g in c.forms)]
            if len(with_role) == 1:
                cands = with_role
        if len(cands) > 1:
            # Clusters with a twentieth of the leader's mentions are noise, not rivals.
            top = max(c.count for c in cands)
            cands = [c for c in cands if c.count * 20 >= top]
        if len(cands) == 1:
            join(cands[0], f)
            titled[key] = cands[0]
        else:
            titled[key] = new(f)

    for key, c in titled.items():
        if c not in by_surname[key[1]] and key[0] not in _FIRST_NAME_ROLES:
            by_surname[key[1]].append(c)
        elif c not in by_given[key[1]] and key[0] in _FIRST_NAME_ROLES:
            by_given[key[1]].append(c)

    # 4. Other bare words: a first name or a surname that means one cluster only.
    for f in rest:
        word = f.words[0]
        given = _unique([c for c in by_given.get(word, []) if _compatible(c, f)])
        surname = _unique([c for c in by_surname.get(word, []) if _compatible(c, f)])
        if given and not surname:
            target = _dominant(given)
        elif surname and not given:
            # A bare surname is the man of the family more often than not ("Bennet").
            men = [c for c in surname if c.role_gender == Gender.MALE]
            target = _dominant(men) if men else _dominant(surname)
        elif given and surname:
            target = _dominant(_unique(given + surname))
        else:
            target = None
        if target is not None:
            join(target, f)
        else:
            new(f)
    return clusters


def _unique(cs: list[_Cluster]) -> list[_Cluster]:
    seen: list[_Cluster] = []
    for c in cs:
        if all(c is not s for s in seen):
            seen.append(c)
    return seen


def _dominant(cs: list[_Cluster]) -> _Cluster | None:
    """The one cluster meant, or the most mentioned if it clearly leads; else None."""
    if not cs:
        return None
    if len(cs) == 1:
        return cs[0]
    ranked = sorted(cs, key=lambda c: -c.count)
    return ranked[0] if ranked[0].count >= 3 * ranked[1].count else None


def _compatible(c: _Cluster, f: _Form) -> bool:
    """Whether form f can name the person of cluster c (titles of one role, or none)."""
    hint, strength = _form_hint_strength(f)
    have, have_strength = c.hint()
    if hint is not None and have is not None and hint != have:
        # A title beats a first name's usual gender ("Lady Brett Ashley" is "Brett"), but only
        # when the two share that first name: "Edna Pontellier" is not "Mr. Pontellier", and
        # "John Dashwood" is not "Mrs. John Dashwood".
        if {strength, have_strength} != {_BY_TITLE, _BY_NAME}:
            return False
        givens = {g.words[0] for g in c.forms if g.role is None or len(g.words) >= 2}
        if f.words[0] not in givens or any(_is_wife_form(g) for g in c.forms) or _is_wife_form(f):
            return False
    if f.role is None:
        return True
    roles = {g.role for g in c.forms if g.role is not None}
    if not roles:
        g = _form_gender(f)
        return g is None or c.role_gender is None or c.role_gender == g
    if f.role in roles:
        return True
    # Ranks and titles of honour sit on top of Mr/Mrs; "Miss" and "Mrs" are two people.
    fg = _form_gender(f)
    kinds = {GENDER_OF_ROLE.get(r) for r in roles}
    plain = {TitleRole.MR, TitleRole.MRS, TitleRole.MISS}
    if f.role in plain and roles & plain:
        return False
    return fg is None or None in kinds or fg in kinds


def _canonical(c: _Cluster) -> str:
    """The fullest common form: the most mentioned multi-word form, else the most mentioned."""
    multi = [f for f in c.forms if len(f.words) >= 2 and f.count >= 2]
    pool = multi or c.forms
    best = max(pool, key=lambda f: (f.count, len(f.text)))
    return best.text


def _to_character(c: _Cluster) -> Character:
    aliases = tuple(f.text for f in sorted(c.forms, key=lambda f: (-f.count, f.text)))
    return Character(name=_canonical(c), aliases=aliases, gender=_cluster_gender(c))


def _cluster_gender(c: _Cluster) -> Gender | None:
    votes: Counter[Gender] = Counter()
    for f in c.forms:
        g = _form_gender(f)
        if g is not None:
            votes[g] += f.count
    if votes:
        return votes.most_common(1)[0][0]
    he = sum(f.he for f in c.forms)
    she = sum(f.she for f in c.forms)
    by_name: Gender | None = None
    for f in sorted(c.forms, key=lambda f: -f.count):
        g = _patronymic_gender(f.words) or _name_gender(f.words[0])
        if g is not None and not _is_initial(f.words[0]):
            by_name = g
            break
    total = he + she
    if by_name is None and total >= 1 and (he == 0 or she == 0):
        return Gender.MALE if he else Gender.FEMALE
    if total >= 3:
        share = he / total
        strong = total >= 8 and (share >= 0.75 or share <= 0.25)
        if strong or by_name is None:
            if share >= 0.6:
                return Gender.MALE
            if share <= 0.4:
                return Gender.FEMALE
    return by_name


def count_mentions(texts: Sequence[str], characters: Sequence[Character]) -> dict[str, int]:
    """How often each character's name or aliases occur (whole words, longest alias first)."""
    counts = dict.fromkeys((c.name for c in characters), 0)
    owner, pattern = _names_pattern(characters)
    if pattern is None:
        return counts
    for text in texts:
        for m in pattern.finditer(text):
            counts[characters[owner[_name_matched(m)]].name] += 1
    return counts


def _names_pattern(
    characters: Sequence[Character],
) -> tuple[dict[str, int], re.Pattern[str] | None]:
    """Every name and alias of the characters -> the index of the first character with it,
    and one pattern finding any of them as whole words, the longest first (None: no names).

    Hard-wrapped text breaks names across lines: any run of spaces matches a space. A name
    is whole when no letter, digit or hyphen touches it: "Tom's" and "'Tom," are Tom,
    "Tomas" and "Tom-Tom" are not.
    """
    owner: dict[str, int] = {}
    for index, character in enumerate(characters):
        for name in (character.name, *character.aliases):
            if name.strip():
                owner.setdefault(" ".join(name.split()), index)
    if not owner:
        return owner, None
    alternatives = "|".join(
        r"\s+".join(map(re.escape, name.split())) for name in sorted(owner, key=len, reverse=True)
    )
    return owner, re.compile(rf"(?<![\w-])(?:{alternatives})(?={HONORIFIC_SUFFIX}?(?![\w-]))")


def _name_matched(match: re.Match[str]) -> str:
    """The name a match of `_names_pattern` found, its spaces as in the owner table."""
    return " ".join(match.group(0).split())
