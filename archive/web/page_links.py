"""What an HTML page links to, announces and embeds, read in one walk over its lxml tree.

The crawler's view of a page: ``links`` (``<a>`` and ``<area>`` hrefs, followed when they
are articles), ``feeds`` (``<link rel=alternate>`` of a feed type) and ``embeds``, the page
requisites. Embeds are found by the tables replay rewrites with (:mod:`archive.web.rewrite`:
which attribute of which element is loaded as what, ``<link>`` by its rel, srcset, inline
CSS), so the crawl fetches what replay will ask for. The crawl's extraction worker reads
them from the tree it parses for trafilatura anyway, so an article page is parsed once, by
lxml, off the reactor, instead of three times on it (a link extractor, the replay
rewriter's pure-Python tokenizer, then trafilatura).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from archive.wayback import PAGE
from archive.web.rewrite import (
    SRCSET_ATTRIBUTES,
    URL_ATTRIBUTES,
    _link_modifier,
    _srcset_spans,
    css_urls,
    resolve_url,
)

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
RESOLVED_CACHE = 50_000  # resolved links kept per process, some 10 MB
_FOLLOWED = frozenset({"a", "area"})  # what a link extractor follows: navigation, not <form> or <blockquote cite>


def _document_elements(tree: HtmlElement) -> Iterator[HtmlElement]:
    """Every element of the tree's document, in document order: those broken pages leave beside
    the root (a second ``<html>``) too, which ``iter()`` alone does not reach.

    A walk in Python that looks at each element's tag and style costs a sixth of an XPath that
    tests the dozen attributes which may hold a URL (0.07 s against 0.43 s over the 243 dev
    pages): libxml2 reads the attribute list once per name tested.
    """
    root = tree.getroottree().getroot()  # the document's first element: only comments come before it
    for top in (root, *root.itersiblings()):
        yield from top.iter(etree.Element)


@dataclass(frozen=True)
class PageLinks:
    """Absolute http(s) URLs of one page, each list in document order without repeats."""

    links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    embeds: list[str] = field(default_factory=list)


def page_links(tree: HtmlElement, url: str) -> PageLinks:
    """The links, feeds and embeds of a parsed page fetched from ``url`` (its ``<base href>`` applies)."""
    base = url
    for value in tree.xpath("//base/@href")[:1]:  # the first <base href> is the document's base URL
        base = resolve_url(url, value) or url
    # Raw values first, each resolved once: news pages repeat their links, and resolving is the cost.
    links: dict[str, None] = {}
    feeds: dict[str, None] = {}
    embeds: dict[str, None] = {}
    for element in _document_elements(tree):
        tag = element.tag
        style = element.get("style")
        if style is not None:
            embeds.update(dict.fromkeys(css_urls(style, base)))
        if tag == "style" and element.text:
            embeds.update(dict.fromkeys(css_urls(element.text, base)))
        for name, modifier in URL_ATTRIBUTES.get(tag, {}).items():
            value = element.get(name)
            if value is None:
                continue
            if tag == "link" and name == "href":
                modifier = _link_modifier(element.attrib)
                if element.get("rel") == "alternate" and element.get("type") in FEED_TYPES:
                    feeds[value] = None
            if modifier != PAGE:
                for start, end in _srcset_spans(value) if name in SRCSET_ATTRIBUTES else [(0, len(value))]:
                    embeds[value[start:end]] = None
            elif tag in _FOLLOWED:
                links[value] = None
    return PageLinks(_resolved(base, links), _resolved(base, feeds), _resolved(base, embeds))


def _resolved(base: str, values: dict[str, None]) -> list[str]:
    """The absolute http(s) URLs of ``values``, in order, without repeats."""
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}/"
    found: dict[str, None] = {}
    for value in values:
        if value.startswith(("http://", "https://")):
            url = _absolute(value)
        elif value.startswith("/") and not value.startswith("//"):
            url = _rooted(origin, value)
        else:
            url = resolve_url(base, value)
        if url is not None:
            found[url] = None
    return list(found)


# A site's pages share most of their links (navigation, footer, their own images), written
# absolute or from the root: their resolution depends on the value (and host) alone, so the
# worker keeps it across pages. resolve_url (urljoin) is most of the cost of a page's walk.
@lru_cache(maxsize=RESOLVED_CACHE)
def _absolute(value: str) -> str | None:
    return resolve_url("http://base.invalid/", value)  # a value with its own host: any base gives one result


@lru_cache(maxsize=RESOLVED_CACHE)
def _rooted(origin: str, value: str) -> str | None:
    return resolve_url(origin, value)
