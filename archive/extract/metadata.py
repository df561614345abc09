"""Article metadata the page states: JSON-LD, its canonical URL, language, headline and bylines."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import deque
from urllib.parse import urljoin

import py3langid
from lxml.html import HtmlElement

from archive.extract import dates

WORD = re.compile(r"\w+")
MIN_LANGID_CHARS = 40  # below this py3langid guesses; <html lang>/og:locale is then better
SITE_NAME_MIN_CHARS = 4  # a shorter title segment inside the host name matches by chance
LANGID_SAMPLE_CHARS = 2000  # as accurate as the whole text on the dev sets, in half the time
_AUTHOR_META = (
    '//meta[@name="author" or @property="article:author" or @name="article:author" or @name="byl"'
    ' or @name="dc.creator" or @name="DC.creator" or @name="parsely-author"]/@content'
)
# How sites join a headline and their name: "Headline | Site", "Headline - Site", "标题_网站".
_TITLE_SEPARATOR = re.compile(
    r"\s+[|»›·–—-]\s+|\s*::\s*|(?<=[\u3000-\u9fff])[_-]|_(?=[\u3000-\u9fff])"  # CJK: no spaces
)
_ARTICLE_TYPES = re.compile(r"article|posting|report|blog", re.IGNORECASE)  # og:type, @type
# JSON-LD that templates wrap in a CDATA section, bare or inside JS comments ("//<![CDATA[" ...
# "//]]>"): JSON cannot read it, and with it the page's authors and dates were lost.
_CDATA_WRAPPER = re.compile(r"^\s*(?://|/\*)?\s*<!\[CDATA\[(?:\s*\*/)?|(?://|/\*)?\s*\]\]>(?:\s*\*/)?\s*$")


def structured_data(tree: HtmlElement) -> list[dict]:
    """Every JSON-LD object of the page, @graph members and list items included."""
    objects: list[dict] = []
    pending: deque[object] = deque()
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            pending.append(json.loads(_CDATA_WRAPPER.sub("", script), strict=False))
        except ValueError:
            continue  # broken JSON-LD is common; the HTML still has the article
    while pending:  # breadth first: the page's own objects before those nested in them
        item = pending.popleft()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            objects.append(item)
            graph = item.get("@graph", ())
            pending.extend(graph if isinstance(graph, list) else [graph])
    return objects


def says_article(tree: HtmlElement, structured: list[dict]) -> bool:
    """Whether the page declares itself an article (og:type, schema.org @type)."""
    types = [*tree.xpath('//meta[@property="og:type"]/@content')]
    for obj in structured:
        kind = obj.get("@type")
        types.extend(kind if isinstance(kind, list) else [str(kind)])
    return any(_ARTICLE_TYPES.search(str(kind)) for kind in types)


def canonical_url(tree: HtmlElement, url: str) -> str | None:
    """<link rel=canonical> or og:url, absolute against the page URL."""
    for href in (
        *tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'),
        *tree.xpath('//meta[@property="og:url"]/@content'),
    ):
        if href.strip():
            return urljoin(url, href.strip())
    return None


def declared_language(tree: HtmlElement) -> str | None:
    """The page's own language claim, <html lang> then og:locale, as ISO 639-1."""
    for value in (*tree.xpath("/html/@lang"), *tree.xpath('//meta[@property="og:locale"]/@content')):
        code = re.split(r"[-_]", value.strip())[0].lower()
        if len(code) == 2 and code.isalpha():
            return code
    return None


def headline(title: str | None, tree: HtmlElement, site_names: set[str]) -> str | None:
    """The page title without the site's name: the <h1> it contains, else minus a site segment."""
    if not title:
        return None
    for h1 in tree.iter("h1"):
        heading = " ".join(h1.text_content().split())
        # An <h1> shorter than half the title is a logo or a section name, not the headline.
        if heading != title and 2 * len(heading) >= len(title) and heading in title:
            return heading
    bounds = [0, *(i for m in _TITLE_SEPARATOR.finditer(title) for i in m.span()), len(title)]
    parts = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]  # (start, end) of each
    while len(parts) > 1 and _is_site_name(title[slice(*parts[-1])], site_names):
        parts.pop()
    while len(parts) > 1 and _is_site_name(title[slice(*parts[0])], site_names):
        parts.pop(0)
    return title[parts[0][0] : parts[-1][1]]


def title_segments(title: str | None) -> list[str]:
    """The parts of a page title between separators ("Headline | Site" has two)."""
    parts = _TITLE_SEPARATOR.split(title or "")
    return [part for part in parts if part.strip()] if len(parts) > 1 else []


def squeezed(text: str) -> str:
    """Letters and digits only, case-folded: "Tages-Woche" and "tageswoche.ch" compare."""
    return "".join(WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _is_site_name(part: str, site_names: set[str]) -> bool:
    """Whether a title segment or byline names the site (its og:site_name, or part of its host)."""
    name = squeezed(part)
    partial = len(name) >= SITE_NAME_MIN_CHARS
    return any(name == site or (partial and name in site) for site in site_names if name)


def stated_authors(structured: list[dict], tree: HtmlElement) -> list[str]:
    """Bylines the page states, most trusted first: JSON-LD people, then meta tags."""
    names = []
    # Yoast's @graph names the author by reference ({"@id": ".../#/schema/person/..."}) only.
    by_id = {obj["@id"]: obj for obj in structured if isinstance(obj.get("@id"), str)}
    for obj in structured:
        if not dates.ARTICLE_TYPES.search(str(obj.get("@type"))):
            continue
        stated = obj.get("author")
        for author in stated if isinstance(stated, list) else [stated]:
            if isinstance(author, dict) and "name" not in author and isinstance(author.get("@id"), str):
                author = by_id.get(author["@id"], author)
            if isinstance(author, str):
                names.append(author)
            elif isinstance(author, dict) and "Organization" not in str(author.get("@type")):
                names.extend(name for name in [author.get("name")] if isinstance(name, str))
    metas = [
        value
        for value in tree.xpath(_AUTHOR_META)
        if not value.strip().lower().startswith(("http:", "https:", "/", "@"))
    ]
    return ["; ".join(names), "; ".join(metas)]


def text_language(text: str) -> str | None:
    """ISO 639-1 code of the text, None when too short to tell."""
    if len(text) < MIN_LANGID_CHARS:
        return None
    code, _ = py3langid.classify(text[:LANGID_SAMPLE_CHARS])
    return code
