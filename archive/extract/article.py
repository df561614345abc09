"""Article extraction: an archived HTML response in, the article's text and metadata out.

trafilatura finds the main text and the metadata; this module decodes the bytes the way
the page meant them, trims what news pages put around a body (the repeated headline,
section labels, "Read more" and teaser lines, share, newsletter and related blocks), and
fills in what trafilatura leaves out: the canonical URL as the page states it, and the
language of the text itself. Dates are ``archive.extract.dates``'s job (structured data, a hint
from the crawler, htmldate, the URL), authors ``archive.extract.authors``'s (people only). It
knows nothing of Scrapy, and ``extract_article`` is a plain top-level function so that a
process pool can run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura import bare_extraction
from trafilatura.metadata import extract_metadata
from trafilatura.utils import is_dubious_html, repair_faulty_html

from archive.extract import authors, dates
from archive.extract.body import MIN_ARTICLE_CHARS, article_body
from archive.extract.decoding import decode_html
from archive.extract.metadata import (
    canonical_url,
    declared_language,
    headline,
    says_article,
    squeezed,
    stated_authors,
    structured_data,
    text_language,
    title_segments,
)

# --- Tuned constants (calibrated on shared/datasets/articles-dev) ------------------------
# Comments are not the article (F1 0.961 -> 0.967); favor_precision drops the teasers and
# "related" blocks the balanced mode keeps (-> 0.973); tables stay (without: 0.966). Not ``fast``:
# without its comparison with readability and jusText a multilingual-dev page takes 33 ms
# instead of 49, but F1 falls 0.888 -> 0.847 there (0.980 -> 0.973 on articles-dev).
TRAFILATURA_OPTIONS = {"include_comments": False, "favor_precision": True, "include_tables": True}
# htmldate as trafilatura calls it, but reading the page's meta tags before the URL's date.
DATE_OPTIONS = {"original_date": True, "extensive_search": True, "deferred_url_extractor": True}


@dataclass(frozen=True)
class Extracted:
    """What the catalogue stores of an article page."""

    text: str  # article body, paragraphs separated by "\n\n" (may be "" if none found)
    title: str | None
    authors: list[str]  # individual names
    # ISO 8601 with time and zone where the page states them ("2024-05-14T08:30:00+02:00"),
    # else a date ("2024-05-14"): the first ten characters are always the day.
    published: str | None
    language: str | None  # ISO 639-1, detected from the text
    sitename: str | None
    canonical_url: str | None  # absolute; None when the page names none
    description: str | None
    modified: str | None = None  # last modified, as the page's structured data states it


def _html_parser() -> etree.HTMLParser:
    """trafilatura's parser, its options, but every element an ``HtmlElement`` chosen in C.

    ``lxml.html``'s parser looks up a class per tag (``FormElement``, ``InputElement``...) in
    Python, once for every element of every tree walk: some 5 % of an extraction's time
    (1.5 million calls over the 243 dataset pages), for classes nothing here uses; the
    extracted articles are the same to the byte.
    """
    parser = etree.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                              remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
    return parser


_PARSER = _html_parser()


def parse_page(body: bytes, content_type: str | None = None) -> HtmlElement | None:
    """The page's lxml tree as extraction reads it (decoded by :func:`decode_html`), or None."""
    return parse_html(decode_html(body, content_type))


def parse_html(html: str) -> HtmlElement | None:
    """The lxml tree of a decoded page, or None when it is no HTML page.

    As ``trafilatura.utils.load_html`` parses text (its repairs, its rejection of what is not
    HTML), with :func:`_html_parser`.
    """
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    try:
        tree = fromstring(html, parser=_PARSER)
    except (ValueError, etree.ParserError):  # a str that declares its encoding (lxml wants bytes); empty
        tree = None
    try:
        if tree is None or len(tree) < 1:
            tree = fromstring(html.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except etree.ParserError:  # nothing to parse
        return None
    if is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def extract_article(
    body: bytes, url: str, content_type: str | None = None, *, published_hint: str | None = None
) -> Extracted | None:
    """None when the page has no article-like main text.

    ``published_hint`` is a date for this URL from outside the page (a Google News
    sitemap's ``publication_date``, a feed's ``pubDate``): ``published`` comes from the
    page's structured data, then the hint, then htmldate, then the URL (see ``archive.extract.dates``).
    """
    tree = parse_page(body, content_type)
    return None if tree is None else extract_from_tree(tree, url, published_hint=published_hint)


def extract_from_tree(tree: HtmlElement, url: str, *, published_hint: str | None = None) -> Extracted | None:
    """:func:`extract_article` of a page already parsed by :func:`parse_page`: the crawl's
    worker reads the page's links in the same tree (``crawler/extraction.py``)."""
    structured = structured_data(tree)
    is_article = says_article(tree, structured)
    now = datetime.now(timezone.utc)
    date_params = {**DATE_OPTIONS, "max_date": (now + dates.FUTURE_MARGIN).strftime("%Y-%m-%d")}
    # No document when trafilatura finds no main text: the metadata alone may still be wanted.
    document = bare_extraction(
        tree, url=url, with_metadata=True, date_extraction_params=date_params, **TRAFILATURA_OPTIONS
    )
    document = document or extract_metadata(tree, url, date_params)
    text = article_body(tree, url, document, structured, is_article)
    if len(text) < MIN_ARTICLE_CHARS and not is_article:
        return None
    language = text_language(text) or declared_language(tree)
    host = urlsplit(url).hostname or ""
    site_names = {squeezed(document.sitename or ""), squeezed(host.removeprefix("www."))}
    return Extracted(
        text=text,
        title=headline(document.title, tree, site_names),
        authors=authors.people(
            [*stated_authors(structured, tree), document.author],
            authors.SiteNames(document.sitename, host, title_segments(document.title)),
            authors.shown_bylines(tree, text),
        ),
        published=dates.published_date(
            dates.stated_published(tree, structured, shown=document.date, language=language, now=now),
            published_hint,
            document.date,
            url,
            now=now,
        ),
        language=language,
        sitename=document.sitename,
        canonical_url=canonical_url(tree, url),
        description=document.description,
        modified=dates.stated_modified(tree, structured, now=now),
    )
