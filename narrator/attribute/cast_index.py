"""The cast as the text names it: alias lookup, walk-ons, names written in lower case.

Input: the characters (a cast, or those found in the text). Output: a `CastIndex` that finds
every mention of a cast member in a chapter with one compiled alternation (names
case-sensitive, descriptions not, line breaks inside names allowed) and answers which cast
entries an alias, a title or a description may mean. An alias shared by several characters
is settled by a title's gender; a bare surname shared by a couple is the man."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from narrator.attribute.quotes import Mention, SpanTest
from narrator.lexicon import (
    ATTRIBUTION_TITLES,
    FUNCTION_WORDS,
    HONORIFIC_SUFFIX,
    NOUN_GENDER,
    SPEECH_VERB_ALT,
    TITLE_GENDER,
    TITLE_IN_FULL,
    any_of,
    is_storyteller_alias,
    word_set,
)
from narrator.model import Character, Gender
from narrator.names import (
    CASELESS,
    UPPER,
    could_be_name,
    fold_accents,
    is_caseless_letter,
    match_form,
    name_key,
)

_TITLE_RE = "(?:" + "|".join(sorted(ATTRIBUTION_TITLES, key=len, reverse=True)) + r")\.?"
# Words never used as a name on their own, even when a multi-word alias contains them.
NOT_NAMES = {
    "the", "of", "de", "la", "le", "du", "von", "van", "and", "a", "an", "old", "young",
    "little", "big", "external", "story", "one", "two", "man", "woman", "i", "my", "his", "her",
    *(t.lower() for t in ATTRIBUTION_TITLES),
}  # fmt: skip


class CastIndex:
    """Alias lookup for the cast: one compiled alternation, alias -> candidate names."""

    def __init__(
        self,
        characters: Sequence[Character],
        loose: frozenset[str] = frozenset(),
        complete: bool | None = None,
    ) -> None:
        """`loose`: names (lower case) the text writes in lower case too (`nix`, `mags`).
        `complete`: every speaker is in the cast (None: if it lists walk-ons, see
        `lists_walk_ons`)."""
        self.loose = frozenset(fold_accents(name) for name in loose)  # as the regex sees them
        self.gender: dict[str, Gender | None] = {}
        self.narrator: str | None = None
        self.by_alias: dict[str, list[str]] = {}
        derived: dict[str, list[str]] = {}
        spellings: set[str] = set()
        self.descriptive: dict[str, list[str]] = {}  # normalised description -> names
        # Entries named by a longer description than the text uses (`our last guide`, `The
        # first man who came in`), by their head noun: the words before it (`described`).
        # A plain description (`The Old Woman`) is there too, never to be matched so: only
        # so that `the woman` is then nobody's.
        self.by_head: dict[str, list[tuple[frozenset[str], str, bool]]] = {}
        # Characters named by a description only (`The Lad`, `The Old Woman`).
        self.generic = frozenset(ch.name for ch in characters if _is_description(ch.name))
        # Description-only entries without a gender (`The Painter`): often an epithet.
        self.weak = self.generic - {ch.name for ch in characters if ch.gender}
        # Every line goes to someone in the cast (`features.candidates`).
        self.complete = lists_walk_ons(characters) if complete is None else complete
        # People go by epithets here too (`the redhead`, an author's cast): a description it
        # does not list is likely someone outside it (`features.nameless`).
        self.lists_epithets = any(
            alias[:1].islower() and _is_description(alias)
            for ch in characters
            for alias in ch.aliases
        )
        for ch in characters:
            self.gender[ch.name] = ch.gender
            for alias in (ch.name, *ch.aliases):
                alias = alias.strip()
                if not alias:
                    continue
                if is_storyteller_alias(alias):
                    self.narrator = self.narrator or ch.name
                    continue
                key = name_key(alias)
                spellings.add(match_form(alias))
                if ch.name not in self.by_alias.setdefault(key, []):
                    self.by_alias[key].append(ch.name)
                words = alias.split()
                head = _head_noun(alias)
                if head is not None:
                    self.by_head.setdefault(head[0], []).append((head[1], ch.name, head[2]))
                if _is_description(alias):
                    norm = " ".join(words[1:]).lower()
                    self.descriptive.setdefault(norm, []).append(ch.name)
                    continue
                # `Jake Barnes` is also `Jake` and `Barnes` (and `Mr. Barnes` via the title);
                # `Tomas's sister` is not `Tomas`.
                for w in words:
                    bare = w.rstrip(".,")
                    if bare.endswith(("'s", "\u2019s")):
                        continue
                    if len(bare) > 1 and could_be_name(bare) and bare.lower() not in NOT_NAMES:
                        spellings.add(match_form(bare))
                        names = derived.setdefault(name_key(bare), [])
                        if ch.name not in names:
                            names.append(ch.name)
        # `the count` / `the doctor`: a title inside a cast name (`Count Mippipopolous`).
        self.by_title: dict[str, list[str]] = {}
        for ch in characters:
            for alias in (ch.name, *ch.aliases):
                for w in alias.replace(".", " ").split():
                    if w not in ATTRIBUTION_TITLES:
                        continue
                    for t in {w.lower(), TITLE_IN_FULL.get(w.lower(), w.lower())}:
                        if ch.name not in self.by_title.setdefault(t, []):
                            self.by_title[t].append(ch.name)
        stubs = {
            ch.name
            for ch in characters
            if " " not in ch.name.strip() and set(ch.aliases) <= {ch.name}
        }
        for key, names in derived.items():
            have = self.by_alias.setdefault(key, names)
            if have is not names and set(have) <= stubs:
                # A bare `Bounderby` entry next to `Josiah Bounderby`: context decides.
                self.by_alias[key] = [n for n in names if n not in have] + have
        alts = set()
        lower_starts: set[str] = set()  # first words of aliases matched in any case
        caseless_starts: set[str] = set()  # first letters of names in scripts without case
        for spelling in spellings:
            words = [re.escape(w) for w in spelling.split()]
            # Names as the cast spells them (`Will` is not `will`); descriptions (`the
            # redhead`, `kid`) and `The Jew` also with the other case of their first letter.
            first = spelling[0]
            # Hard-wrapped text breaks names over lines.
            alt = r"\s+".join(words)
            if first.isalpha() and (
                first.islower()
                or _is_description(spelling)
                or spelling.split()[0].lower() in self.loose
            ):
                alt = f"(?i:{alt})"
                lower_starts.add(re.escape(spelling.split()[0].lower()))
            elif is_caseless_letter(first):
                caseless_starts.add(re.escape(first))
            alts.add(alt)
        self.regex: re.Pattern[str] | None = None
        # Where a mention can start: a capital, or the first word of a description. Trying
        # the long alternation only there keeps a 150,000-word novel well under a second.
        # Names in a script without case (`李明`) start anywhere: such scripts leave no space
        # between words, so there is no word boundary to ask for.
        starts = "|".join(sorted(lower_starts))
        starter = (
            rf"(?<![\w-])(?:[{UPPER}]|(?i:{starts})(?![\w-]))"
            if starts
            else rf"(?<![\w-])[{UPPER}]"
        )
        if caseless_starts:
            starter += f"|[{''.join(sorted(caseless_starts))}]"
        self.starter = re.compile(starter)
        if alts:
            self.regex = re.compile(
                rf"(?:(?<![\w-])|(?=[{CASELESS}]))(?:(?P<title>{_TITLE_RE})\s+)?"
                rf"(?P<alias>{'|'.join(sorted(alts, key=len, reverse=True))})"
                rf"{HONORIFIC_SUFFIX}?(?:(?<=[{CASELESS}])|(?![\w-]))"
            )

    def described(self, norm: str) -> list[str]:
        """The cast entries named by a description (`hump-backed man`), its article stripped:
        the whole of it, else without its first modifiers (`little ugly hump-backed man`),
        else the one entry it is a shorter form of (`guide` for `our last guide`)."""
        words = norm.split()
        for k in range(len(words) - 1 if len(words) > 1 else 1):
            names = self.descriptive.get(" ".join(words[k:]))
            if names:
                return names
        if words:
            mods = set(words[:-1])
            fits = {(name, plain) for before, name, plain in self.by_head.get(words[-1], ())
                    if mods <= before}  # fmt: skip
            if len(fits) == 1:
                ((name, plain),) = fits
                return [] if plain else [name]
        return []

    @property
    def head_nouns(self) -> frozenset[str]:
        """The head nouns of entries named by a longer description: person nouns here."""
        return frozenset(h for h, fits in self.by_head.items() if not all(p for *_, p in fits))

    def mentions(self, text: str, in_quote: SpanTest) -> list[Mention]:
        found: list[Mention] = []
        if self.regex is None:
            return found
        regex = self.regex
        # Accents do not count (`Eowyn` is the cast's `Éowyn`); the folded text has the
        # same length, so its offsets are the chapter's.
        text = fold_accents(text)
        pos = 0
        for start in self.starter.finditer(text):
            if start.start() < pos:
                continue
            m = regex.match(text, start.start())
            if m is None:
                continue
            pos = m.end()
            alias = m.group("alias")
            # A lower-case one-word alias (`red`, `kid`) only counts inside quotes.
            if (
                alias[0].islower()
                and " " not in alias
                and alias.lower() not in self.loose
                and not in_quote(m.start())
            ):
                continue
            title = (m.group("title") or "").rstrip(".")
            whole = name_key(m.group(0))  # hard-wrapped: `Mrs.\nPell`
            names = self.by_alias.get(whole) or self.by_alias.get(name_key(alias), [])
            if title and whole not in self.by_alias:
                tg = TITLE_GENDER.get(title)
                if tg is not None:
                    fitting = [n for n in names if self.gender.get(n) in (tg, None)]
                    names = fitting or names
            elif not title and len(names) > 1:
                # A bare surname shared by a couple (`Bounderby`) is the man, by convention.
                men = [n for n in names if self.gender.get(n) == Gender.MALE]
                names = men if len(men) == 1 else names
            if not names:
                continue
            gender = self.gender.get(names[0]) if len(names) == 1 else None
            if gender is None and title:
                gender = TITLE_GENDER.get(title)
            found.append(Mention(m.start(), m.end(), tuple(names), "", gender, in_quote(m.start())))
        return found


# Words before which a lower-case word is a verb or a noun, not a name (`I will`, `the rose`).
_NOT_BEFORE_NAME_RE = re.compile(
    r"\b(?i:to|i|you|we|they|he|she|it|will|would|can|could|may|might|must|shall|should"
    r"|the|a|an|my|your|his|her|our|their|its|this|that|some|no)\s+$"
)
# A text writes names in lower case when this share of its paragraphs opens in lower case.
_LOWER_CASE_TEXT = 0.25
# A lower-case name used this share of the time after `to`, `I`, `the`, ... is a word.
_AS_WORD_SHARE = 0.25


def lower_case_names(text: str, characters: Sequence[Character]) -> frozenset[str]:
    """Cast names this text writes in lower case (web fiction: `nix groaned`, `said mags`).

    Only in a text that opens many paragraphs in lower case, and only names that the text
    does not use as an ordinary word (after `to`, `I`, `the`, ...: `will`, `rose`, `may`):
    never, or, for a name it never capitalises and puts in a tag, at most a quarter of the
    time (`is that nell?`).
    """
    # Paragraphs open after a blank line; in a text without blank lines, on every line. (A
    # line wrapped inside a paragraph, as Project Gutenberg's are, often opens in lower case.)
    opener = r"(?:^|\n[ \t]*\n)" if text.count("\n\n") * 10 > text.count("\n") else r"(?:^|\n)"
    paragraphs = re.findall(rf"{opener}[ \t]*([^\W\d_])", text)
    if not paragraphs or sum(c.islower() for c in paragraphs) < _LOWER_CASE_TEXT * len(paragraphs):
        return frozenset()
    names = {
        w.lower()
        for ch in characters
        for alias in (ch.name, *ch.aliases)
        for w in alias.split()
        if w[:1].isupper() and len(w) > 1 and w.lower() not in NOT_NAMES
    }
    if not names:
        return frozenset()
    # One pass over the text for all the names (a cast can hold thousands).
    alternation = any_of(names)
    used: Counter[str] = Counter()
    as_words: Counter[str] = Counter()
    for m in re.finditer(rf"(?<![\w-])(?:{alternation})(?![\w-])", text):
        used[m.group(0)] += 1
        if _NOT_BEFORE_NAME_RE.search(text[max(0, m.start() - 12) : m.start()]):
            as_words[m.group(0)] += 1
    # `you will`, `she rose`: a word. A name the text never capitalises and uses in a speech
    # tag (`nell yelled`; `is that nell?` once) is a word only when a quarter of its uses
    # read so.
    capitalised = {
        m.group(0).lower()
        for m in re.finditer(rf"(?<![\w-])(?i:{alternation})(?![\w-])", text)
        if m.group(0)[0].isupper()
    }
    tagged = {
        m.group(1).lower()
        for m in re.finditer(rf"(?<![\w-])({alternation})\s+(?:{SPEECH_VERB_ALT})\b", text)
    }
    return frozenset(
        w
        for w, n in used.items()
        if w not in FUNCTION_WORDS
        and (
            not as_words[w]
            or (w in tagged and w not in capitalised and as_words[w] <= _AS_WORD_SHARE * n)
        )
    )


def lists_walk_ons(characters: Sequence[Character]) -> bool:
    """Does a cast list walk-ons by description (`The Turnkey`, `A Waiter`)? Then it lists
    everyone who speaks, and no line goes to someone outside it."""
    return any(_is_description(ch.name) for ch in characters)


_ARTICLES = word_set("the a an one")
_DESCRIPTION_OPENERS = _ARTICLES | word_set("our my his her their your old poor little good")
# Words after a description's head noun (`man who came in`, `Clerk At Oliver's Trial`).
_HEAD_ENDS = word_set("who which that whom whose in at of with from on to by sold")


def _head_noun(alias: str) -> tuple[str, frozenset[str], bool] | None:
    """A cast entry named by a description: its head noun, the words before it, and whether
    it is plain (`our last guide` -> guide, {our, last}; `The first man who came in` -> man,
    {the, first}; `man sold to` -> man). A plain description (`The Old Woman`: an article,
    words, the noun) names the person as the text does, so `the woman` may be anyone; a
    longer one (a clause, a possessive, lower case) is a label the text shortens. None for a
    name."""
    words = alias.lower().replace(",", " ").split()
    lower = alias[0].islower()
    if len(words) < 2 or not (lower or words[0] in _DESCRIPTION_OPENERS):
        return None
    head = next(
        (k for k, w in enumerate(words)
         if w in NOUN_GENDER or (k + 1 < len(words) and words[k + 1] in _HEAD_ENDS)),
        len(words) - 1,
    )  # fmt: skip
    if head == 0 and not lower:
        return None
    plain = not lower and head == len(words) - 1 and words[0] in _ARTICLES
    return words[head], frozenset(words[:head]), plain


def _is_description(name: str) -> bool:
    return name.lower().split()[:1] in (["the"], ["a"], ["an"])
