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

import codecs
import html
import json
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import py3langid
from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Document
from trafilatura.utils import load_html
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

from archive.extract import authors, dates

# --- Tuned constants (calibrated on shared/datasets/articles-dev) ------------------------
# Comments are not the article (F1 0.961 -> 0.967); favor_precision drops the teasers and
# "related" blocks the balanced mode keeps (-> 0.973); tables stay (without: 0.966).
TRAFILATURA_OPTIONS = {"include_comments": False, "favor_precision": True, "include_tables": True}
RECALL_OPTIONS = {"include_comments": False, "favor_recall": True}  # precision found no body
HEADLINE_SCAN_LINES = 3  # headline, date and byline lines sit in the first three lines
FURNITURE_MAX_WORDS = 20  # "Read more: <a headline>" fits in 20 words; a real paragraph rarely
# Below this share of the JSON-LD articleBody's words, trafilatura missed the body (a page
# that fills it in with JavaScript) and the stated body is used. Safety net only: on the dev
# sets trafilatura found 0.92 to 1.1 times the stated words, or far more over a teaser.
STATED_BODY_SHARE = 0.5
# Less text than this is a stub or an error page unless the page says it is an article: a
# third of the shortest body on the dev sets (303 characters, a Chinese news brief).
MIN_ARTICLE_CHARS = 100
# htmldate as trafilatura calls it, but reading the page's meta tags before the URL's date.
DATE_OPTIONS = {"original_date": True, "extensive_search": True, "deferred_url_extractor": True}
MIN_LANGID_CHARS = 40  # below this py3langid guesses; <html lang>/og:locale is then better
SITE_NAME_MIN_CHARS = 4  # a shorter title segment inside the host name matches by chance
LANGID_SAMPLE_CHARS = 2000  # as accurate as the whole text on the dev sets, in half the time

_WORD = re.compile(r"\w+")
_WIDE_ENCODINGS = ("utf-16", "utf-32")  # ASCII text in these is valid UTF-8 (with NULs)
_HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([a-zA-Z]{2})\b", re.IGNORECASE)
_LANG_SCAN_BYTES = 4096  # the <html> tag comes first; w3lib reads <meta charset> as far
# The WHATWG HTML standard's legacy default encoding by locale (windows-1252 elsewhere).
_LEGACY_ENCODINGS = {
    **dict.fromkeys(("ar", "fa", "ur"), "cp1256"),
    **dict.fromkeys(("be", "bg", "kk", "mk", "ru", "sr", "uk"), "cp1251"),
    **dict.fromkeys(("cs", "hr", "sk"), "cp1250"),
    **dict.fromkeys(("hu", "pl", "sl"), "iso8859-2"),
    **{"el": "iso8859-7", "he": "cp1255", "ja": "shift_jis", "ko": "euc_kr", "lt": "cp1257"},
    **{"lv": "cp1257", "th": "cp874", "tr": "cp1254", "vi": "cp1258", "zh": "gb18030"},
}
_WHATWG_DEFAULT = "cp1252"  # the legacy default of every other locale (fr, en, es, de...)
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
)
_FURNITURE = re.compile(
    rf"^[\[(]?(?:{'|'.join(_FURNITURE_LABELS)})\s*(?:[:|…]|\.\.\.|$)", re.IGNORECASE
)
_AUTHOR_META = (
    '//meta[@name="author" or @property="article:author" or @name="article:author" or @name="byl"'
    ' or @name="dc.creator" or @name="DC.creator" or @name="parsely-author"]/@content'
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
_BLOCKS = ("p", "li", "div", "span", "a", "h2", "h3", "h4", "h5", "h6", "figcaption", "td")
# Elements whose text is metadata when it reappears as a line at the top of the body.
_ABOVE_BODY = (
    "//h1|//time|//*[@itemprop='datePublished' or @itemprop='dateModified' or @itemprop='author']"
)
# How sites join a headline and their name: "Headline | Site", "Headline - Site", "标题_网站".
_TITLE_SEPARATOR = re.compile(
    r"\s+[|»›·–—-]\s+|\s*::\s*|(?<=[\u3000-\u9fff])[_-]|_(?=[\u3000-\u9fff])"  # CJK: no spaces
)
_ARTICLE_TYPES = re.compile(r"article|posting|report|blog", re.IGNORECASE)  # og:type, @type
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|h\d|li|blockquote)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


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


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes to text: charset from the BOM, the Content-Type header or <meta charset>, else detection.

    Valid UTF-8 is read as UTF-8 whatever is declared. When the header says UTF-8 and the
    bytes are not, the server is misconfigured (common for legacy pages behind a new
    front end): the page's own <meta charset> decides, then, for a page that is UTF-8
    with a few stray bytes, UTF-8; then the legacy default of its <html lang>; then
    detection.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return to_unicode(body[len(bom) :], bom_encoding)
    header = http_content_type_encoding(content_type)
    declared = header or html_body_declared_encoding(body)
    if not (declared or "").startswith(_WIDE_ENCODINGS):
        try:
            # Valid UTF-8 is UTF-8 whatever the page says: legacy text with many accented
            # bytes is practically never valid UTF-8, while servers often mislabel pages.
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared == "utf-8":
        return _not_utf8_after_all(body, header)
    if declared:
        return to_unicode(body, declared)
    if _mostly_utf8(body):
        return _utf8_with_cp1252(body)
    return _detect(body)


def _not_utf8_after_all(body: bytes, header: str | None) -> str:
    """Bytes declared UTF-8 that are not: the page's own word, then its language's, then detection."""
    meta = html_body_declared_encoding(body) if header else None
    if meta and meta != "utf-8" and not meta.startswith(_WIDE_ENCODINGS):
        return to_unicode(body, meta)
    if _mostly_utf8(body):
        return _utf8_with_cp1252(body)
    lang = _html_lang(body)
    if lang:
        return body.decode(_LEGACY_ENCODINGS.get(lang, _WHATWG_DEFAULT), "replace")
    return _detect(body)


def _html_lang(body: bytes) -> str | None:
    """The two-letter language of the page's <html lang>, lower-cased, or None."""
    match = _HTML_LANG.search(body[:_LANG_SCAN_BYTES])
    return match[1].decode("ascii").lower() if match else None


def _detect(body: bytes) -> str:
    """Undeclared legacy bytes: charset_normalizer's guesses, the <html lang>'s usual one first."""
    # Short pages leave several single-byte code pages about as plausible (French reads as
    # Baltic windows-1257 too): the language's legacy default settles it, as in browsers.
    usual = _LEGACY_ENCODINGS.get(_html_lang(body) or "", _WHATWG_DEFAULT)
    usual = codecs.lookup(usual).name
    matches = from_bytes(body)
    for match in matches:
        if codecs.lookup(match.encoding).name == usual:
            return str(match)
    best = matches.best()
    return str(best) if best is not None else body.decode(usual, "replace")


def _mostly_utf8(body: bytes) -> bool:
    """Whether most non-ASCII bytes form UTF-8 sequences (a UTF-8 page with stray bytes)."""
    text = body.decode("utf-8", "surrogateescape")
    stray = sum(1 for char in text if "\udc80" <= char <= "\udcff")
    return stray * 2 < sum(1 for byte in body if byte > 127)


def _utf8_with_cp1252(body: bytes) -> str:
    """UTF-8, reading bytes that are not UTF-8 as windows-1252 (pages pasted from both)."""
    text = body.decode("utf-8", "surrogateescape")
    return re.sub(
        "[\udc80-\udcff]+",
        lambda m: m.group().encode("utf-8", "surrogateescape").decode("cp1252", "replace"),
        text,
    )


def extract_article(
    body: bytes, url: str, content_type: str | None = None, *, published_hint: str | None = None
) -> Extracted | None:
    """None when the page has no article-like main text.

    ``published_hint`` is a date for this URL from outside the page (a Google News
    sitemap's ``publication_date``, a feed's ``pubDate``): ``published`` comes from the
    page's structured data, then the hint, then htmldate, then the URL (see ``archive.extract.dates``).
    """
    tree = load_html(decode_html(body, content_type))
    if tree is None:
        return None
    structured = _structured_data(tree)
    says_article = _says_article(tree, structured)
    now = datetime.now(timezone.utc)
    date_params = {**DATE_OPTIONS, "max_date": (now + dates.FUTURE_MARGIN).strftime("%Y-%m-%d")}
    # No document when trafilatura finds no main text: the metadata alone may still be wanted.
    document = bare_extraction(
        tree, url=url, with_metadata=True, date_extraction_params=date_params, **TRAFILATURA_OPTIONS
    )
    document = document or extract_metadata(tree, url, date_params)
    text = _body(tree, url, document, structured, says_article)
    if len(text) < MIN_ARTICLE_CHARS and not says_article:
        return None
    host = urlsplit(url).hostname or ""
    site_names = {_squeezed(document.sitename or ""), _squeezed(host.removeprefix("www."))}
    return Extracted(
        text=text,
        title=_headline(document.title, tree, site_names),
        authors=authors.people(
            [*_stated_authors(structured, tree), document.author],
            authors.SiteNames(document.sitename, host, _title_segments(document.title)),
        ),
        published=dates.published_date(
            dates.stated_published(tree, structured, shown=document.date, now=now),
            published_hint,
            document.date,
            url,
            now=now,
        ),
        language=_language(text) or _declared_language(tree),
        sitename=document.sitename,
        canonical_url=_canonical_url(tree, url),
        description=document.description,
        modified=dates.stated_modified(tree, structured, now=now),
    )


def _body(
    tree: HtmlElement, url: str, document: Document, structured: list[dict], says_article: bool
) -> str:
    """trafilatura's text without page furniture, or the JSON-LD articleBody where that is fuller."""
    text = document.text or ""
    if len(text) < MIN_ARTICLE_CHARS and says_article:
        # Precision mode may drop a whole body it is unsure of; recall mode finds it again
        # (on a page that is no article, it would find link lists).
        second = bare_extraction(tree, url=url, **RECALL_OPTIONS)
        text = max(text, second.text if second else "", key=len)
    text = _clean_text(text, *_not_body(tree, document.title, url, text))
    stated = _stated_body(structured)
    if len(_WORD.findall(text)) < STATED_BODY_SHARE * len(_WORD.findall(stated)):
        return stated
    # trafilatura falls back on the JSON-LD body itself, but flattens its paragraphs.
    same_words = _normalised(text) == _normalised(stated)
    return stated if same_words and stated.count("\n") > text.count("\n") else text


def _structured_data(tree: HtmlElement) -> list[dict]:
    """Every JSON-LD object of the page, @graph members and list items included."""
    objects: list[dict] = []
    pending: deque[object] = deque()
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            pending.append(json.loads(script, strict=False))
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


def _stated_body(structured: list[dict]) -> str:
    """The articleBody the page states in JSON-LD, as plain paragraphs ("" if none)."""
    bodies = [obj["articleBody"] for obj in structured if isinstance(obj.get("articleBody"), str)]
    if not bodies:
        return ""
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", max(bodies, key=len))))
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _says_article(tree: HtmlElement, structured: list[dict]) -> bool:
    """Whether the page declares itself an article (og:type, schema.org @type)."""
    types = [*tree.xpath('//meta[@property="og:type"]/@content')]
    for obj in structured:
        kind = obj.get("@type")
        types.extend(kind if isinstance(kind, list) else [str(kind)])
    return any(_ARTICLE_TYPES.search(str(kind)) for kind in types)


def _canonical_url(tree: HtmlElement, url: str) -> str | None:
    """<link rel=canonical> or og:url, absolute against the page URL."""
    for href in (
        *tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'),
        *tree.xpath('//meta[@property="og:url"]/@content'),
    ):
        if href.strip():
            return urljoin(url, href.strip())
    return None


def _declared_language(tree: HtmlElement) -> str | None:
    """The page's own language claim, <html lang> then og:locale, as ISO 639-1."""
    for value in (*tree.xpath("/html/@lang"), *tree.xpath('//meta[@property="og:locale"]/@content')):
        code = re.split(r"[-_]", value.strip())[0].lower()
        if len(code) == 2 and code.isalpha():
            return code
    return None


def _normalised(text: str) -> str:
    """Words only, case-folded: how two renderings of one line are compared."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _not_body(
    tree: HtmlElement, title: str | None, url: str, text: str
) -> tuple[set[str], set[str], set[str]]:
    """Lines that are furniture: above the body (headline, date, byline), anywhere (captions...).

    Anywhere: image captions; the text of a link to another page of the site standing
    alone as a line (a teaser, "Read more", a section label over the headline); lines of the
    navigation and of elements whose class or id says they are captions, sharing, newsletter
    or related-article blocks.
    """
    above = [title or "", *tree.xpath('//meta[@property="og:title" or @name="twitter:title"]/@content')]
    above += (e.text_content() for e in tree.xpath(_ABOVE_BODY))
    anywhere = [*tree.xpath("//img/@alt"), *(e.text_content() for e in tree.iter("figcaption"))]
    page = urlsplit(url or _canonical_url(tree, url) or "")
    links = [(link, urlsplit(link.get("href") or "")) for link in tree.iter("a")]
    # Without the page's URL, its site is the host most of its links go to.
    hosts = Counter(target.hostname for _, target in links if target.hostname)
    host = page.hostname or (hosts.most_common(1)[0][0] if hosts else None)
    teasers = []
    for link, target in links:
        same_site = not target.netloc or target.hostname == host
        if same_site and target.path.strip("/") and target.path != page.path:
            teasers.append(link.text_content())
    anywhere += teasers
    for element in _furniture_elements(tree):
        content = element.text_content()
        if len(content) > FURNITURE_MAX_SHARE * len(text):
            continue
        anywhere.append(content)
        anywhere.extend(block.text_content() for block in element.iterdescendants(*_BLOCKS))
    teaser_texts = {n for n in map(_normalised, teasers) if len(n) >= TEASER_MIN_CHARS}
    return (
        {n for n in map(_normalised, above) if n},
        {n for n in map(_normalised, anywhere) if n},
        teaser_texts,
    )


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
        kept.append(line)
    return "\n\n".join(kept)


def _mostly_teaser(words: str, teasers: set[str]) -> bool:
    """Whether a short line is mostly the text of a link to the site ("- Headline (12/01 10:26)")."""
    return any(len(teaser) >= TEASER_LINE_SHARE * len(words) and teaser in words for teaser in teasers)


def _headline(title: str | None, tree: HtmlElement, site_names: set[str]) -> str | None:
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


def _title_segments(title: str | None) -> list[str]:
    """The parts of a page title between separators ("Headline | Site" has two)."""
    parts = _TITLE_SEPARATOR.split(title or "")
    return [part for part in parts if part.strip()] if len(parts) > 1 else []


def _squeezed(text: str) -> str:
    """Letters and digits only, case-folded: "Tages-Woche" and "tageswoche.ch" compare."""
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _is_site_name(part: str, site_names: set[str]) -> bool:
    """Whether a title segment or byline names the site (its og:site_name, or part of its host)."""
    name = _squeezed(part)
    partial = len(name) >= SITE_NAME_MIN_CHARS
    return any(name == site or (partial and name in site) for site in site_names if name)


def _stated_authors(structured: list[dict], tree: HtmlElement) -> list[str]:
    """Bylines the page states, most trusted first: JSON-LD people, then meta tags."""
    names = []
    for obj in structured:
        if not dates.ARTICLE_TYPES.search(str(obj.get("@type"))):
            continue
        stated = obj.get("author")
        for author in stated if isinstance(stated, list) else [stated]:
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


def _language(text: str) -> str | None:
    """ISO 639-1 code of the text, None when too short to tell."""
    if len(text) < MIN_LANGID_CHARS:
        return None
    code, _ = py3langid.classify(text[:LANGID_SAMPLE_CHARS])
    return code
