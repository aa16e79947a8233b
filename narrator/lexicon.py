"""Words narrator reads prose by, kept in one place.

- Verbs that introduce speech (``SPEECH_VERBS`` and their forms), with the narrower sets some
  steps use on purpose (``SEGMENT_SPEECH_FORMS``, ``SEGMENT_THINK_FORMS``,
  ``QUOTE_STYLE_TAG_VERBS``, ``PERSON_CONTEXT_WORDS``).
- Titles with the role and gender they give (``TITLE_ROLES``, ``ROLE_OF_TITLE``,
  ``GENDER_OF_ROLE``, ``TITLE_GENDER``).
- Person nouns and gender words (``PRONOUN_GENDER``, ``NOUN_GENDER``, ``FEMALE_WORDS``,
  ``MALE_WORDS``).
- English function words, which never name anyone when capitalised (``FUNCTION_WORDS``).

Used by the segmenter, character discovery, attribution and casting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from narrator.model import Gender

# Cast aliases that say "this character tells the story" (the first-person narrator): "I",
# and PDNC's `_narr`; or "the story is told to them" (a quest's or a reader insert's "you").
# Read by attribution, character discovery and casting.
STORYTELLER_ALIASES = frozenset({"i", "_narr", "narr", "narrator", "me", "myself", "you"})


def is_storyteller_alias(alias: str) -> bool:
    return alias.strip().lower() in STORYTELLER_ALIASES


def any_of(words: Iterable[str]) -> str:
    """A pattern matching any of `words`, the longest first where several fit (as the list
    `a|b|c` sorted longest first does), written as a prefix tree in one group: a flat list is
    tried word by word at every place (under `(?i:...)` without even a first-letter check),
    and the speech verbs, titles and person nouns are hundreds of words."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def written(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + written(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return ("(?:" + body + ")" if len(branches) == 1 else body) + "?"  # longer first

    return written(tree)


# A line several people say together: attribution's label for it (`Rook and Bo`), which
# casting reads back (`Rook and Bo`, `Rook & Bo`, `Ann, Bo and Cy` as an author may write it).
_TOGETHER_RE = re.compile(r"\s*(?:,|&|\band\b)\s*")


def said_together(names: Sequence[str]) -> str:
    """The speaker label of a line these people say together."""
    return " and ".join(names)


def together_names(label: str) -> list[str]:
    """The people a label says together (one name: not a line said together)."""
    return [part for part in (p.strip() for p in _TOGETHER_RE.split(label)) if part]


def words(spaced: str) -> list[str]:
    """Word lists are kept as spaced text: easier to read and extend than list literals."""
    return spaced.split()


def word_set(spaced: str) -> frozenset[str]:
    """`words`, as a set to test membership in."""
    return frozenset(spaced.split())


# English function words: pronouns, determiners, prepositions, conjunctions and adverbs.
# Capitalised, they open sentences, never name anyone (`So saying, he left.`, `This was
# said gravely.`); character discovery and attribution's tags both read them.
FUNCTION_WORDS = word_set(
    """
    a about above after again against all almost along already also although always am
    among an and another any anybody anyone anything are as at away back be because been
    before behind being below beside besides between both but by can cannot could did do
    does doing done down during each either else enough even ever every everybody everyone
    everything except far few first for from further had has have having he her here hers
    herself him himself his how however i if in indeed instead into is it its itself just
    last least less let like many may me might mine more moreover most much must my myself
    neither never nevertheless next no nobody none nor not nothing now of off often on once
    one only or other others otherwise our ours ourselves out over perhaps quite rather
    really same second several shall she should since so some somebody someone something
    sometimes soon still such than that the their theirs them themselves then there
    therefore these they this those though through thus till to too toward towards under
    unless until up upon us very was we well were what whatever when whenever where
    whereas wherever whether which while who whoever whole whom whose why will with within
    without would yet you your yours yourself yourselves
    """
)


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
proclaim quaver asseverate coo interject assert ponder
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
    "quip": ["quipped", "quips", "quipping"],  # `qu` is one consonant: not `quiped`
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
    | {"went on", "goes on", "put in", "puts in", "broke in", "breaks in", "cut in", "chimed in"}
    | {"pointed out", "points out", "called out", "calls out", "piped up", "pipes up"}
    | {"spoke up", "speaks up"},
    key=len,
    reverse=True,
)
SPEECH_VERB_ALT = any_of(SPEECH_VERB_FORMS)
# Whole-word verb, any capitalisation of the first letter (`"Run." Said the blonde`).
SPEECH_VERB_RE = re.compile(rf"\b(?i:{SPEECH_VERB_ALT})\b")


# The segmenter decides whether the words beside a quotation are a tag (and whether it is
# speech or thought) from these common forms only: the full list above holds verbs such as
# `read`, `note`, `order`, `smile` that are ordinary narration far more often than tags, and
# widening the test would turn narration into tags.
SEGMENT_THINK_FORMS = frozenset(
    words(
        "thought thinks think thinking wondered wonders wondering mused muses musing pondered "
        "ponders pondering reflected"
    )
)
SEGMENT_SPEECH_FORMS = frozenset(
    words(
        "said says say asked asks replied replies answered answers shouted yelled whispered "
        "whispers muttered mutters cried cries added adds told tells explained exclaimed snapped "
        "growled roared murmured murmurs continued began responded screamed laughed chuckled "
        "sighed hissed spoke protested offered groaned demanded insisted"
    )
)
# Counting which quote style a text uses for speech: a tag right after a closing mark. Only
# verbs that are nearly always speech tags, so that a quoted title or term is not counted.
QUOTE_STYLE_TAG_VERBS = words("said asked replied answered cried called whispered")
# Words next to a capitalised form that show it is a person rather than a place (character
# discovery): common speech verbs and verbs people do (`Jo went`, `Jo was`). Kept to these:
# verbs of the full speech list such as `read`, `note`, `order` also follow place names.
PERSON_CONTEXT_WORDS = frozenset(
    words(
        "said says say asked asks cried cries replied replies answered answers exclaimed "
        "whispered shouted called returned continued added began remarked observed murmured "
        "muttered repeated interrupted rejoined retorted demanded inquired enquired responded "
        "laughed sighed smiled nodded thought told"
    )
) | frozenset(
    words(
        "went came looked turned was had did would could should has is felt knew saw took gave "
        "stood sat"
    )
)


class TitleRole(StrEnum):
    """The role a title gives: who a titled name is, of the people sharing a surname."""

    MR = "mr"
    MRS = "mrs"
    MISS = "miss"
    MX = "mx"
    MASTER = "master"
    SIR = "sir"
    LORD = "lord"
    LADY = "lady"
    UNCLE = "uncle"
    AUNT = "aunt"
    FATHER = "father"
    MOTHER = "mother"
    KING = "king"
    QUEEN = "queen"
    DR = "dr"
    OFFICER = "officer"


# Titles, grouped by the role they give: forms of one surname with titles of different roles
# are different people ("Mr. Bennet", "Mrs. Bennet", "Miss Bennet"). The gender is the
# role's; None for ranks and professions, which in the fiction we read are nearly always
# men, but not surely, so pronouns decide.
TITLE_ROLES: dict[TitleRole, tuple[Gender | None, list[str]]] = {
    TitleRole.MR: (Gender.MALE, words("Mr Monsieur M Signor Señor Senor Herr Mynheer")),
    TitleRole.MRS: (Gender.FEMALE, words("Mrs Madame Mme Signora Señora Frau Madam Mistress")),
    TitleRole.MISS: (Gender.FEMALE, words("Miss Ms Mademoiselle Mlle Signorina Fraulein")),
    TitleRole.MX: (None, words("Mx")),
    TitleRole.MASTER: (Gender.MALE, words("Master")),
    TitleRole.SIR: (Gender.MALE, words("Sir")),
    TitleRole.LORD: (Gender.MALE, words("Lord")),
    TitleRole.LADY: (Gender.FEMALE, words("Lady Dame")),
    TitleRole.UNCLE: (Gender.MALE, words("Uncle")),
    TitleRole.AUNT: (Gender.FEMALE, words("Aunt Auntie")),
    TitleRole.FATHER: (Gender.MALE, words("Father Brother Friar")),
    TitleRole.MOTHER: (Gender.FEMALE, words("Mother Sister Granny Grandma Nurse")),
    TitleRole.KING: (Gender.MALE, words("King Prince Duke Count Baron Marquis Earl")),
    TitleRole.QUEEN: (Gender.FEMALE, words("Queen Princess Duchess Countess Baroness")),
    TitleRole.DR: (None, words("Dr Doctor Professor Prof Rev Reverend")),
    TitleRole.OFFICER: (
        None,
        words(
            "Captain Capt Colonel Col General Gen Major Lieutenant Lt Sergeant Sgt Admiral "
            "Inspector Detective Constable Judge Senator Governor"
        ),
    ),
}
ROLE_OF_TITLE = {t: role for role, (_, titles) in TITLE_ROLES.items() for t in titles}
GENDER_OF_ROLE = {role: gender for role, (gender, _) in TITLE_ROLES.items()}
TITLE_GENDER = {t: GENDER_OF_ROLE[role] for t, role in ROLE_OF_TITLE.items()}
TITLES = list(ROLE_OF_TITLE)
# Attribution reads every title. (Leaving out "Detective" would win 3 quotations on The Sport
# of the Gods, whose cast has "The Detective"; that novel is kept out of all tuning, so the
# exception is not made: bench/RESULTS.md.)
ATTRIBUTION_TITLES = TITLES
# Titles held of a place (`the Duke of Harley`, `Lady of Shalott`): the peerage and royalty.
NOBLE_TITLES = words(
    "Duke Duchess Earl Count Countess Marquis Prince Princess Lord Lady Baron Baroness King Queen"
)
# Abbreviated titles whose period ends no sentence (`Mr. Poirot`): read by attribution's
# sentence splitting and, with the other abbreviations below, by the one that groups lines.
# Japanese honorifics fan fiction writes after a name (`Sasuke-kun`, `Kakashi-sensei`,
# `Naruto-nii-chan`): still that name. A regex fragment, the hyphen included.
HONORIFIC_SUFFIX = (
    r"(?:-(?:kun|chan|san|sama|sensei|senpai|sempai|dono|hime|tan|chin|nii|nee|onii|onee)"
    r"(?:-(?:san|chan|sama|kun))?)"
)
TITLE_ABBREVIATIONS = words("Mr Mrs Ms Dr St Mlle Mme Prof Capt Col Gen Lt Sgt Rev")
# The word an abbreviated title stands for: `Dr. Archie` is `the doctor` in narration.
TITLE_IN_FULL = {
    "dr": "doctor", "prof": "professor", "rev": "reverend", "capt": "captain", "col": "colonel",
    "gen": "general", "lt": "lieutenant", "sgt": "sergeant", "mme": "madame",
    "mlle": "mademoiselle",
}  # fmt: skip
ABBREVIATIONS = frozenset(
    {t.lower() for t in TITLE_ABBREVIATIONS}
    | set(words("jr sr vs etc hon mt ft no vol fig e.g i.e"))
)
# Titles too common to point at one cast member on their own (`the lady`, `the master`).
COMMON_TITLES = frozenset(
    words("lady lord sir master mistress mother father brother sister aunt uncle miss")
)

# Gender of the pronouns a speech tag can have (`she said`, `said I`).
PRONOUN_GENDER: dict[str, Gender | None] = {
    "he": Gender.MALE, "she": Gender.FEMALE, "i": None, "they": None, "we": None,
}  # fmt: skip
# Possessive determiners (`said his voice`, `her sister`), by the gender of the owner.
POSSESSIVE_GENDER: dict[str, Gender | None] = {
    "his": Gender.MALE, "her": Gender.FEMALE, "my": None, "our": None, "their": None,
}  # fmt: skip
# Nouns for a person (`said the old man`, `the shopkeeper asked`), by the gender they say.
MALE_NOUNS = words(
    "man men gentleman gentlemen boy lad fellow guy husband father son brother uncle king lord "
    "sir master prince duke count knight monk priest bandit youngster chap gent stranger-man "
    "grandfather nephew groom butler waiter beadle"
)
FEMALE_NOUNS = words(
    "woman women lady ladies girl wife mother daughter sister aunt queen maid widow mistress "
    "madam matron princess duchess countess grandmother niece bride nurse witch brunette"
)
OTHER_NOUNS = words(
    "child kid stranger voice other doctor guard guards soldier officer clerk servant driver "
    "shopkeeper innkeeper merchant painter jew undertaker robber companion visitor figure "
    "creature thing one person youth elder traveller traveler porter coroner surgeon boss "
    "leader captain sergeant spirit sword ghost whelp spy croupier redhead blonde blond"
)
_PLURAL_IRREGULAR = {
    "man": "men", "gentleman": "gentlemen", "woman": "women", "child": "children",
    "person": "people", "wife": "wives",
}  # fmt: skip
_ALREADY_PLURAL = frozenset(words("men gentlemen women ladies guards"))


def _plural(noun: str) -> str:
    if noun in _PLURAL_IRREGULAR:
        return _PLURAL_IRREGULAR[noun]
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


_SINGULAR_GENDER: dict[str, Gender | None] = {
    **{n: Gender.MALE for n in MALE_NOUNS},
    **{n: Gender.FEMALE for n in FEMALE_NOUNS},
    **{n: None for n in OTHER_NOUNS},
}
# `said the guards`, `the women cried`: several people speaking at once, a speaker of their
# own (a group), never one cast member.
# Parts of a speaker that speak for them: `said his voice` is him speaking (`his friend` is
# someone else).
SPEAKING_PARTS = word_set("voice voices lips mouth tongue")
# What only people do, in narration (`The steward bowed.`, `The clerk doesn't look up.`): a
# noun a text makes do it is a person noun of that text.
PERSON_BEATS = [
    *words(
        "nodded nods shrugged shrugs smiled smiles grinned grins frowned frowns sighed sighs "
        "winked winks bowed bows chuckled chuckles snorted snorts scowled scowls smirked "
        "smirks grimaced grimaces hesitated hesitates swallowed swallows glanced glances"
    ),
    "looked up",
    "looks up",
    "look up",
]
# Parts of a person whose moving is that person acting (`Tom's eyes narrowed. "No."`).
ACTING_PARTS = word_set(
    "face eyes eye gaze look smile grin frown expression countenance brow brows eyebrows "
    "forehead jaw chin cheeks lips mouth voice tone head shoulders hand hands fingers fist"
)
PLURAL_PERSON_NOUNS: dict[str, Gender | None] = {
    (n if n in _ALREADY_PLURAL else _plural(n)): g
    for n, g in _SINGULAR_GENDER.items()
    if "-" not in n
}
NOUN_GENDER: dict[str, Gender | None] = {**PLURAL_PERSON_NOUNS, **_SINGULAR_GENDER}
# Words that say a label's gender (`the old woman`, `Mrs Pell's maid`, casting a voice for an
# unnamed speaker): the person nouns and titles above, and these.
FEMALE_WORDS = frozenset(
    {*(n for n, g in NOUN_GENDER.items() if g == Gender.FEMALE)}
    | {t.lower() for t, g in TITLE_GENDER.items() if g == Gender.FEMALE}
    | set(
        words(
            "girls she her ma mama mom mum lass nun empress waitress actress hostess landlady "
            "gal female"
        )
    )
)
MALE_WORDS = frozenset(
    {*(n for n, g in NOUN_GENDER.items() if g == Gender.MALE)}
    | {t.lower() for t, g in TITLE_GENDER.items() if g == Gender.MALE}
    | set(
        words("boys he him his dad pa papa grandpa mister emperor actor host landlord male wizard")
    )
) - {"m"}  # the title `M.` (Monsieur) is no word in a label
# Common irregular past-tense verbs (regular ones end in -ed). The segmenter tells narration
# from speech by them: `He turned and left.` after a dialogue tag is the story going on in
# its narrative past, `He can't wear them.` is someone still talking.
IRREGULAR_PAST_FORMS = word_set("""
was were had did went came saw took made got gave found knew thought told felt left kept
stood sat ran began became brought held put set let shook spoke rose fell drew threw grew
wore bore tore broke chose drove rode wrote struck stuck hung swung fought caught taught
bought sought heard meant sent spent lent bent built lost met paid laid led fed fled slept
swept wept crept knelt lit hit shut cut spread sank sang rang swam forgot understood withdrew
said sprang slid flung strode bit hid won woke froze stole dealt dug shone
""")


@lru_cache(maxsize=1)
def person_nouns() -> frozenset[str]:
    """Nouns whose commonest sense is a person (`the sailor`, `a bouncer`), from WordNet 3.0
    (narrator/data/README.md); the ones a text uses after an article are person nouns of it.
    Read when first needed, not when the program starts."""
    path = resources.files("narrator") / "data" / "person_nouns.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))
