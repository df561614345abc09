"""Authors of an article: the people a page names as its writers, one name each, written alike.

Pages name their authors in JSON-LD, in meta tags and in bylines (marked up by the theme, or
a line opening or closing the text), and mix in what is not a person: the site or the agency
("AFP", "Redacción Trome"), the newsroom ("Staff"), the login link a theme marks up as
``author`` ("Log in", "Войти"), e-mail addresses, dates.
``people`` keeps what has the shape of a person's name, split where a byline joins several
("A and B", "A, B", "A et B", "A و B"), byline words taken off, all-caps names in title case.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator

from lxml.html import HtmlElement

MAX_NAME_WORDS = 5  # "Juan Carlos Muñoz de la Fuente" has six with its particles, which don't count
MAX_NAME_CHARS = 60
ACRONYM_MAX_LETTERS = 4  # "CNN", "AFP", "PL", "RDN": in a mixed-case name, an organisation's mark
SITE_WORD_MIN_CHARS = 4  # "kath" of kath.net; shorter host words ("gr", "tv") match names by chance
BYLINE_MAX_CHARS = 120  # trafilatura's limit for a byline element; longer is an author's box or a teaser
# The words of a class, id, itemprop or rel that mark the element a theme shows its byline in, in
# the languages we crawl: trafilatura reads "author" and "byline" only ("auteurs", "autor" missed).
_BYLINE_MARKUP = re.compile(r"author|autor|auteur|byline|verfasser|firma|writer|reporter|creator", re.IGNORECASE)
# Where such an element names someone else: comments, teasers, login links ("authorized").
_OTHERS_MARKUP = re.compile(r"comment|related|sidebar|widget|teaser|recommend|popular|authori[sz]|login", re.IGNORECASE)
_OTHERS_TAGS = frozenset({"aside", "footer", "nav", "form"})
_MARKUP_ATTRIBUTES = ("class", "id", "itemprop", "rel")
_NO_TEXT_TAGS = frozenset({"meta", "link", "script", "style"})
_MICRODATA_NAME = ".//*[@itemprop='name']/@content"
# Words that begin a byline: "By", "Par", "Von", "بقلم", "Автор:", "作者："...; Greek
# "Γράφει ο/η" (writes; not "Του/Της", "of", which puts the name in the genitive), Turkish "Yazan".
_BYLINE_WORDS = (
    r"(?:written |reported |text |photos? )?by|par|por|di|da|door|av|af|przez|von|texte?|autor(?:in|a)?",
    r"auteur|author|écrit par|escrito por|redactado por|بقلم|كتب|كتبت|автор|текст",
    r"γράφει(?: [οη])?|yazan|yazar",
)
_BYLINE_PREFIX = re.compile(
    rf"^(?:(?:{'|'.join(_BYLINE_WORDS)})(?:\s*[:：|–—-]\s*|\s+)|(?:作者|撰文|记者|記者|文)\s*[:：]?\s*)",
    re.IGNORECASE,
)
# Where a byline joins names: commas (Latin, Arabic, CJK), semicolons, slashes, ampersands, and
# "and" in the languages we crawl (Arabic "و" is written apart from the name it joins here).
# Chinese bylines write the role between names, without spaces ("文/圖記者A、B實習生C"), Korean
# ones after the name ("홍길동 기자": reporter, "특파원": correspondent).
_JOINERS = re.compile(
    r"\s*[,;/&،、；／╱]\s*|\s+(?:and|et|und|y|e|i|en|og|och|oraz|и|και|ve|و)\s+"
    r"|\s*(?:记者|記者|实习生|實習生|通讯员|通訊員|摄影|攝影|기자|특파원)\s*",
    re.IGNORECASE,
)
# In a script without case the shape tells nothing, but an outlet ("港湾日報", "港湾网", "某某社",
# "港湾뉴스"), a role ("编辑") or brackets ("【...報導】") written into the name do.
_NOT_AN_UNCASED_NAME = re.compile(
    r"[【】〔〕「」『』《》〈〉（）()]|编辑|編輯|报道|報導|新闻|新聞|日报|日報|[报報网網社]$|뉴스|일보|신문|방송"
)
UNCASED_MIN_CHARS = 2  # a Chinese name has two characters or more; "文", "圖" are roles
_EMAIL = re.compile(r"\S+@\S+\.\w+")  # "Ann Jones ann.jones@example.com": the address out, the name kept
# A weekday after a name starts the date a byline ends with ("Ann Jones Monday, November 18").
# Not "domingo", "sabato", "domenica": names too.
_WEEKDAY_ON = re.compile(
    r"\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi"
    r"|samedi|dimanche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|lunes|martes"
    r"|miércoles|jueves|viernes|sábado|lunedì|martedì|mercoledì|giovedì|venerdì|\w+-feira|poniedziałek"
    r"|wtorek|środa|czwartek|piątek|sobota|niedziela|понедельник|вторник|среда|четверг|пятница|суббота"
    r"|воскресенье)\b.*$",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(r"[\d@©®™«»\"“”„<>|=+#*]|https?:|www\.|\.\w{2,4}\b|\s-\s")
# Ends of host names that bylines keep when they lose the dot ("wpolityce pl", "udn com").
_DOMAIN_ENDINGS = frozenset(
    "com net org info pl gr de fr ru es it uk ua cn pa br ar mx co cl pe ve bo py uy ch at be nl eu tv".split()
)
# A name's particles, lower-case in the middle of a name in many languages.
_PARTICLES = frozenset(
    "de da di do du del della der den des dos das la le van von ter ten zu zur al el bin ibn bint y e".split()
)
# Words that name a role, an organisation or a page control, not a person (case-folded,
# compared with whole words). Kept short: the shape tests above catch most others.
_NOT_PEOPLE = frozenset(
    """staff team editor editors editorial redaction rédaction redacción redação redaktion redazione
    redakcja редакция newsroom desk reporters correspondent correspondents writer writers contributor
    contributors agency agencia agence agenzia press presse prensa stampa news noticias nachrichten
    actualités wiadomości новости online digital media gmbh ag inc ltd llc plc sa srl e.v verlag
    stiftung foundation fondation fundación association verein ministry ministère ministerio
    government admin administrator webmaster bureau service services business group interactive logo
    solutions www
    ομαδα συντακτικη συνταξη
    login logout log sign register subscribe account connexion anmelden registrieren abmelden
    iniciar sesión registrarse войти вход выход регистрация аккаунт تسجيل الدخول""".split()
)


def people(candidates: Iterable[str | None], site: SiteNames, shown: Iterable[str] = ()) -> list[str]:
    """The persons named by the candidate bylines of the first source that names any.

    ``candidates`` go from the most to the least trusted source (JSON-LD, meta tags,
    trafilatura's byline), then come the bylines the page ``shown`` (see ``shown_bylines``),
    read only as far as needed. A shown byline that names the stated people and more replaces
    them: JSON-LD often names only the first of several authors. A name that is the site's own
    is kept only where nothing else is found and it has a person's shape: on a personal blog
    the site is named after its author.
    """
    shown = iter(shown)
    for candidate in candidates:
        if found := _persons(candidate, site):
            for byline in shown:
                fuller = _persons(byline, site)
                if {squeezed(name) for name in found} < {squeezed(name) for name in fuller}:
                    return fuller
            return found
    for byline in shown:
        if found := _persons(byline, site):
            return found
    return []


def _persons(byline: str | None, site: SiteNames) -> list[str]:
    """The persons one byline names, the site's own name only where it names no one else."""
    names = [clean_name(part) for part in split_byline(byline or "")]
    found = list(dict.fromkeys(name for name in names if name and is_person(name, site)))
    others = [name for name in found if not site.is_named(name)]
    return others or [name for name in found if _is_cased(name)]


def shown_bylines(tree: HtmlElement, text: str) -> Iterator[str]:
    """Bylines the page shows, for pages that state none: a byline line opening or closing the
    text ("Von Ann Jones"), then the first element marked up as a byline.

    Marked elements up to the first that names anyone, person or not ("AFP"): the later ones
    are mostly teasers' and comments' authors; one with only dates ("mars 2024") names no one.
    """
    paragraphs = text.split("\n\n")
    for paragraph in dict.fromkeys((paragraphs[0], paragraphs[-1])):
        if len(paragraph) < BYLINE_MAX_CHARS and _BYLINE_PREFIX.match(paragraph):
            yield paragraph
    for element in tree.iter("*"):
        if element.tag in _NO_TEXT_TAGS or not _BYLINE_MARKUP.search(_marks(element)):
            continue
        if any(_OTHERS_MARKUP.search(_marks(e)) or e.tag in _OTHERS_TAGS for e in (element, *element.iterancestors())):
            continue
        # Microdata may give the name in a <meta itemprop="name"> alone.
        byline = " ".join(" ".join(element.itertext()).split()) or "; ".join(element.xpath(_MICRODATA_NAME))
        if 2 < len(byline) < BYLINE_MAX_CHARS:
            yield byline
            if any(part and not _NOT_A_NAME.search(part) for part in split_byline(byline)):
                return


def _marks(element: HtmlElement) -> str:
    """The words a theme names an element by: its class, id, itemprop and rel."""
    return " ".join(element.get(name, "") for name in _MARKUP_ATTRIBUTES)


class SiteNames:
    """The names a site goes by: its og:site_name, its host, and the words of its host."""

    def __init__(self, sitename: str | None, host: str, title_parts: Iterable[str] = ()) -> None:
        """``title_parts``: the segments of the page title, one of them the site's name."""
        labels = [label for label in host.lower().removeprefix("www.").split(".")[:-1] if label]
        names = (sitename or "", host.removeprefix("www."), *labels, *title_parts)
        self.whole = {squeezed(name) for name in names} - {""}
        words = {squeezed(word) for label in labels for word in label.split("-")}
        self.words = {word for word in words if len(word) >= SITE_WORD_MIN_CHARS}
        phrases = (_squeezed_words(name) for name in (sitename or "", *title_parts))
        self.phrases = {phrase for phrase in phrases if len(phrase) > 1}

    def is_named(self, name: str) -> bool:
        """Whether the name is the site's whole name ("Harbour Times", "tageswoche.ch")."""
        return squeezed(name) in self.whole

    def is_within(self, name: str) -> bool:
        """Whether the name holds the site's name of several words, and more ("Redacción Harbour Times")."""
        words = _squeezed_words(name)
        return any(
            words[start : start + len(phrase)] == phrase
            for phrase in self.phrases
            if len(phrase) < len(words)
            for start in range(len(words) - len(phrase) + 1)
        )

    def has_word_of(self, name: str) -> bool:
        """Whether a word of the name is a word of the host ("Rizospastis Gr", "Kath Net")."""
        return any(squeezed(word) in self.words for word in name.split())


def split_byline(byline: str) -> list[str]:
    """One byline's names: entities decoded, byline words off, split where it joins names."""
    text = " ".join(_EMAIL.sub(" ", unicodedata.normalize("NFC", html.unescape(byline))).split())
    parts = (_BYLINE_PREFIX.sub("", part) for part in _JOINERS.split(_BYLINE_PREFIX.sub("", text)))
    return [_name_alone(part).strip(" .:-–—") for part in parts]


def _name_alone(part: str) -> str:
    """A byline's part without the date or the affiliation written after the name: a weekday on,
    or what follows a name in capitals in mixed case ("ANN JONES Associated Press")."""
    words = _WEEKDAY_ON.sub("", part).split()
    capitals = 0
    while capitals < len(words) and words[capitals].isupper() and _letters(words[capitals]) > 1:
        capitals += 1
    if capitals >= 2 and capitals < len(words) and words[capitals][0].isupper():
        words = words[:capitals]  # the next word is capitalised, not in capitals: another name's
    half = len(words) // 2
    if half and words[:half] == words[half:]:
        words = words[:half]  # an element showing the name twice (a link's text and its tooltip)
    return " ".join(words)


def clean_name(name: str) -> str:
    """A name with its whitespace collapsed and its words in capitals ("Chokri GHARBI") in title case.

    A short word in capitals inside a name in mixed case stays: it is an acronym
    ("CNN Business"), and ``is_person`` turns the name down.
    """
    words = name.split()
    all_caps = all(word.isupper() for word in words if any(char.isalpha() for char in word))
    return " ".join(
        word.title() if word.isupper() and (all_caps or _letters(word) > ACRONYM_MAX_LETTERS) else word
        for word in words
    )


def _letters(word: str) -> int:
    return sum(char.isalpha() for char in word)


def is_person(name: str, site: SiteNames | None = None) -> bool:
    """Whether a cleaned name has the shape of a person's name and names no role or site."""
    if not name or len(name) > MAX_NAME_CHARS or _NOT_A_NAME.search(name):
        return False
    words = name.split()
    core = [word for word in words if word.casefold() not in _PARTICLES]
    if not core or len(core) > MAX_NAME_WORDS:
        return False
    if len(core) > 1 and _plain(core[-1]) in _DOMAIN_ENDINGS:
        return False  # "Biolog Pl", "Udn Com": a host, its dot lost
    if len(core) > 2 and all(len(word) == 1 for word in core[-2:]):
        return False  # "Interia S A", "AltumNet sp z o o": a company's legal form
    parts = {_plain(part).strip(".'’") for word in words for part in re.split(r"[-‐]", word)}
    if parts & _NOT_PEOPLE or (site is not None and (site.has_word_of(name) or site.is_within(name))):
        return False
    if not _is_cased(name):  # a script without case (CJK, Arabic): little to tell from its shape
        return len(name) >= UNCASED_MIN_CHARS and not _NOT_AN_UNCASED_NAME.search(name)
    if len(core) < 2:
        return False  # "Log", "Войти", "Editor", "AFP": a person is named with at least two words
    for word in core:
        if not word[0].isupper() and not word[0] in "'’(":
            return False  # "Log in", "Se connecter": a name's words are capitalised
        letters = [char for char in word if char.isalpha()]
        if len(letters) <= ACRONYM_MAX_LETTERS and len(letters) > 1 and word.isupper() and "." not in word:
            return False  # "CNN Business", "AP National Political Writer"
    return True


def _is_cased(name: str) -> bool:
    """Whether the name is written in a script with capitals, where its shape tells."""
    return any(char.isupper() or char.islower() for char in name)


def _plain(word: str) -> str:
    """A word case-folded and without accents: "ΟΜΑΔΑ" and "Ομάδα" compare."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _squeezed_words(text: str) -> tuple[str, ...]:
    """The squeezed words of a name, in order."""
    return tuple(word for word in map(squeezed, text.split()) if word)


def squeezed(text: str) -> str:
    """Letters and digits only, case-folded: "Tages-Woche" and "tageswoche.ch" compare."""
    return "".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


_NOT_PEOPLE = frozenset(map(_plain, _NOT_PEOPLE))  # compared as ``is_person`` sees words
