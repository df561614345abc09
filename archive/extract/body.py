"""The article body: trafilatura's main text without what news pages put around it.

Trimmed: the repeated headline, date and byline above the body, section labels, "Read
more" and teaser lines, captions, share, newsletter and related blocks; the JSON-LD
``articleBody`` stands in when trafilatura missed the body.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document

from archive.extract.metadata import WORD, canonical_url

RECALL_OPTIONS = {"include_comments": False, "favor_recall": True}  # precision found no body
LINK_TARGETS_CACHE = 20_000  # split hrefs kept per process, some 10 MB
HEADLINE_SCAN_LINES = 3  # headline, date and byline lines sit in the first three lines
FURNITURE_MAX_WORDS = 20  # "Read more: <a headline>" fits in 20 words; a real paragraph rarely
# Below this share of the JSON-LD articleBody's words, trafilatura missed the body (a page
# that fills it in with JavaScript) and the stated body is used. Safety net only: on the dev
# sets trafilatura found 0.92 to 1.1 times the stated words, or far more over a teaser.
STATED_BODY_SHARE = 0.5
# Less text than this is a stub or an error page unless the page says it is an article: a
# third of the shortest body on the dev sets (303 characters, a Chinese news brief).
MIN_ARTICLE_CHARS = 100
# Labels of lines that point elsewhere or describe the page, not the story. A line is
# dropped only when the label ends it or a colon, bar or ellipsis follows the label, so a
# sentence such as "More than 200 people..." stays.
_FURNITURE_LABELS = (
    r"read more|related(?: articles?| stories| coverage)?|more|also|see also|recommended",
    r"you (?:may|might) also like|don'?t miss|most read(?: in [\w ]+)?|filed under|tags?",
    r"\d* ?comments?|advertisement|share this(?: article| story)?|follow us on [\w ]+",
    r"subscribe to [\w ]+|sign up for [\w ]+|(?:estimated )?reading time|\d+ min(?:ute)?s? read",
    r"lesen sie auch|mehr zum thema|lesezeit|lire aussi|à lire aussi|temps de lecture",
    r"leia também|tempo de leitura|leer más|lea también|tiempo de lectura|читайте также|baca juga",
    r"read also|see more|voir aussi|à voir aussi|auch interessant|ver también|leia mais|newsletter",
    r"اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|إقرأ أيضاً|اقرأ المزيد|czytaj (?:też|także|również)|zobacz też",
    r"смотрите также|διαβάστε επίσης|延伸閱讀|延伸阅读|相关阅读|相關新聞|相关新闻|関連記事",
    r"zobacz (?:także|również)|также по теме|ссылки по теме|по теме|sur le même sujet",
    r"(?:à )?lire également|related links|noticias relacionadas|te puede interesar|weitere artikel",
    r"das könnte sie auch interessieren|مواضيع ذات صلة|أخبار ذات صلة|اقرأ ايضا",
    # The heading of the comment form, which trafilatura keeps on some pages.
    r"(?:add|leave|post) a comment|comentar|añadir comentario|deja (?:un|tu) comentario",
    r"(?:ajouter|laisser) un commentaire|commentaires|kommentar schreiben|kommentare",
    r"добавить комментарий|أضف تعليق|التعليقات",
)
_FURNITURE = re.compile(
    rf"^[\[(]?(?:{'|'.join(_FURNITURE_LABELS)})\s*(?:[:|…]|\.\.\.|$)", re.IGNORECASE
)
# Elements that are not the article wherever they are: navigation, and blocks whose class or
# id names them (share bars, newsletter boxes, related articles, captions, breadcrumbs).
_FURNITURE_WORDS = (
    "share", "social", "newsletter", "related", "caption", "breadcrumb", "promo", "teaser",
    "recommend", "more-articles", "read-more", "readmore", "see-also", "subscribe",
)
_FURNITURE_TAGS = frozenset(("nav", "header", "footer", "aside"))
# A class or id token that begins with one of the words ("share-bar", "relatedArticles").
_FURNITURE_NAME = re.compile(rf"(?:^|\s)(?:{'|'.join(_FURNITURE_WORDS)})", re.IGNORECASE)
# A furniture element holding more than this share of the body's characters holds the body
# itself ("entry-content-read-more", <body class="unsubscribed">): its lines stay.
FURNITURE_MAX_SHARE = 0.5
# A short line whose characters are mostly one link's text to the site is a teaser, with a
# bullet or a date around it; links shorter than this ("More", "Home") match too much.
TEASER_LINE_SHARE = 0.6
TEASER_MIN_CHARS = 12
# A row of a layout table, as trafilatura renders tables ("| a | b |"): a lone cell or one
# beside empty spacer cells, each of a few words ("| Общество |", "|  | Login | Register |").
# Data tables fill every cell and stay. Up to 3 words: on the dev sets, navigation and
# partner-link cells, and no row of a ground-truth body.
LAYOUT_CELL_MAX_WORDS = 3
# A time stamp standing as a line ("18:13 28.11.2011", "6 января 2012, 15:08"): a clock
# time, at least 3 numbers, at most one word (a month name) besides. On the dev sets such
# lines dated the page, its comments or its teasers on 4 pages; on 1 the body began with one.
_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")  # digits only: CJK text has no \b there
STAMP_MIN_NUMBERS = 3
STAMP_MAX_WORDS = 1
# A list item (trafilatura's "- ") dated to the minute is a teaser of another story, as in
# the latest-news lists below Chinese and Taiwanese articles ("- Headline (01/11 22:27)"):
# on the dev sets 12 such items on 4 pages, none of them in a ground-truth body.
_DAY = re.compile(r"\d{1,4}[-/.]\d{1,2}")
# A line of items of a few words between bars is a menu or a byline, not a sentence
# ("Print | Share | Comment", "Name | City | 08/01/2014"); items as short as layout cells.
_MENU_BAR = " | "
_BLOCKS = ("p", "li", "div", "span", "a", "h2", "h3", "h4", "h5", "h6", "figcaption", "td")
# Elements whose text is metadata when it reappears as a line at the top of the body. Those
# with the itemprops are found from the attributes: testing every element for one takes the
# query 2.6 times as long (0.16 s against 0.06 s over the dev pages).
_ABOVE_BODY = "//h1|//time|//@itemprop[.='datePublished' or .='dateModified' or .='author']/.."
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|h\d|li|blockquote)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def article_body(
    tree: HtmlElement, url: str, document: Document, structured: list[dict], says_article: bool
) -> str:
    """trafilatura's text without page furniture, or the JSON-LD articleBody where that is fuller."""
    text = document.text or ""
    if len(text) < MIN_ARTICLE_CHARS and says_article:
        # Precision mode may drop a whole body it is unsure of; recall mode finds it again
        # (on a page that is no article, it would find link lists).
        second = bare_extraction(tree, url=url, **RECALL_OPTIONS)
        text = max(text, second.text if second else "", key=len)
    text = _clean_text(text, *_not_body(tree, document.title, url, text, _declared_sections(tree, structured)))
    stated = _stated_body(structured)
    if len(WORD.findall(text)) < STATED_BODY_SHARE * len(WORD.findall(stated)):
        return stated
    # trafilatura falls back on the JSON-LD body itself, but flattens its paragraphs.
    same_words = _normalised(text) == _normalised(stated)
    return stated if same_words and stated.count("\n") > text.count("\n") else text


def _stated_body(structured: list[dict]) -> str:
    """The articleBody the page states in JSON-LD, as plain paragraphs ("" if none)."""
    bodies = [obj["articleBody"] for obj in structured if isinstance(obj.get("articleBody"), str)]
    if not bodies:
        return ""
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", max(bodies, key=len))))
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _normalised(text: str) -> str:
    """Words only, case-folded: how two renderings of one line are compared."""
    return " ".join(WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _declared_sections(tree: HtmlElement, structured: list[dict]) -> list[str]:
    """The sections the page says it is filed under (``article:section``, JSON-LD ``articleSection``):
    news pages print that name as a label (a kicker) over the headline, not linked, where the
    teaser rule cannot see it."""
    sections = tree.xpath('//meta[@property="article:section" or @name="article:section"]/@content')
    for obj in structured:
        stated = obj.get("articleSection")
        sections += (s for s in (stated if isinstance(stated, list) else [stated]) if isinstance(s, str))
    return sections


def _not_body(
    tree: HtmlElement, title: str | None, url: str, text: str, sections: list[str]
) -> tuple[set[str], set[str], set[str]]:
    """Lines that are furniture: above the body (headline, section label, date, byline), anywhere
    (captions...).

    Anywhere: image captions; the text of a link to another page of the site standing
    alone as a line (a teaser, "Read more", a section label over the headline); lines of the
    navigation and of elements whose class or id says they are captions, sharing, newsletter
    or related-article blocks.
    """
    above = [title or "", *sections, *tree.xpath('//meta[@property="og:title" or @name="twitter:title"]/@content')]
    above += (e.text_content() for e in tree.xpath(_ABOVE_BODY))
    anywhere = [*tree.xpath("//img/@alt"), *(e.text_content() for e in tree.iter("figcaption"))]
    teasers = _teasers(tree, url)
    anywhere += teasers
    for element in _furniture_elements(tree):
        content = element.text_content()
        if len(content) > FURNITURE_MAX_SHARE * len(text):
            continue
        anywhere.append(content)
        anywhere.extend(block.text_content() for block in element.iterdescendants(*_BLOCKS))
    teaser_texts = {n for n in _normalised_set(teasers) if len(n) >= TEASER_MIN_CHARS}
    return _normalised_set(above), _normalised_set(anywhere), teaser_texts


def _normalised_set(texts: list[str]) -> set[str]:
    """The texts' non-empty normalised forms; each distinct text normalised once (a page's
    furniture blocks nest and its teaser links repeat: of 96k texts over the dev pages, 52k distinct)."""
    return {n for n in map(_normalised, set(texts)) if n}


def _teasers(tree: HtmlElement, url: str) -> list[str]:
    """The texts of the links to other pages of the page's site."""
    page = urlsplit(url or canonical_url(tree, url) or "")
    links = [(link, _link_target(link.get("href") or "")) for link in tree.iter("a")]
    host = page.hostname or _commonest_host(hostname for _, (_, hostname, _) in links)
    return [
        link.text_content()
        for link, (netloc, hostname, path) in links
        if (not netloc or hostname == host) and path.strip("/") and path != page.path
    ]


@lru_cache(maxsize=LINK_TARGETS_CACHE)
def _link_target(href: str) -> tuple[str, str | None, str]:
    """An href's netloc, host and path, split once per process: a site's pages repeat their links."""
    target = urlsplit(href)
    return target.netloc, target.hostname, target.path


def _commonest_host(hostnames: Iterable[str | None]) -> str | None:
    """Without the page's URL, its site is the host most of its links go to."""
    hosts = Counter(hostname for hostname in hostnames if hostname)
    return hosts.most_common(1)[0][0] if hosts else None


def _furniture_elements(tree: HtmlElement) -> Iterator[HtmlElement]:
    """Navigation and the blocks whose class or id names them furniture (share, related...)."""
    elements = iter(tree.iter())
    for element in elements:
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if (
            element.tag in _FURNITURE_TAGS
            or element.get("role") == "navigation"
            or (names.strip() and _FURNITURE_NAME.search(names))
        ):
            yield element


def _clean_text(text: str, above: set[str], anywhere: set[str], teasers: set[str] = frozenset()) -> str:
    """Paragraphs separated by blank lines, without headline, byline, captions and teasers."""
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    kept = []
    for index, line in enumerate(paragraphs):
        words = _normalised(line)
        if not words or words in anywhere or (index < HEADLINE_SCAN_LINES and words in above):
            continue
        if len(words.split()) <= FURNITURE_MAX_WORDS and _mostly_teaser(words, teasers):
            continue
        if len(words.split()) <= FURNITURE_MAX_WORDS and _FURNITURE.match(line):
            continue
        if len(words.split()) <= FURNITURE_MAX_WORDS and _dated_item(line):
            continue
        if _layout_row(line) or _time_stamp(line) or _menu_line(line):
            continue
        kept.append(line)
    return "\n\n".join(kept)


def _mostly_teaser(words: str, teasers: set[str]) -> bool:
    """Whether a short line is mostly the text of a link to the site ("- Headline (12/01 10:26)")."""
    return any(len(teaser) >= TEASER_LINE_SHARE * len(words) and teaser in words for teaser in teasers)


def _layout_row(line: str) -> bool:
    """Whether a line is a row of a table laid out for navigation, not one of data."""
    if not (line.startswith("|") and line.endswith("|") and len(line) > 1):
        return False
    cells = [cell.strip() for cell in line[1:-1].split("|")]
    filled = [cell for cell in cells if cell]
    if len(filled) > 1 and len(filled) == len(cells):
        return False
    return all(len(WORD.findall(cell)) <= LAYOUT_CELL_MAX_WORDS for cell in filled)


def _time_stamp(line: str) -> bool:
    """Whether a line is only a date and time (of the page, a comment or a teaser)."""
    if not _CLOCK.search(line):
        return False
    tokens = WORD.findall(line)
    numbers = sum(token.isdigit() for token in tokens)
    return numbers >= STAMP_MIN_NUMBERS and len(tokens) - numbers <= STAMP_MAX_WORDS


def _dated_item(line: str) -> bool:
    """Whether a line is a list item carrying a day and a clock time (a teaser in a news list)."""
    return line.startswith("- ") and bool(_CLOCK.search(line)) and bool(_DAY.search(line))


def _menu_line(line: str) -> bool:
    """Whether a line outside a table is short items between bars (a menu, a byline)."""
    if line.startswith("|") or _MENU_BAR not in line:
        return False
    items = line.removeprefix("- ").split(_MENU_BAR)
    return all(0 < len(WORD.findall(item)) <= LAYOUT_CELL_MAX_WORDS for item in items)
