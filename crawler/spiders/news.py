"""The one generic spider: a source's feeds, sitemaps and section pages, driven by config.

Discovery paths, all from ``sources.toml``:
- feeds (RSS/Atom), plus feeds announced by pages with ``<link rel=alternate>``;
- sitemaps, plus ``Sitemap:`` lines of robots.txt, sitemap indexes and Google News sitemaps;
- start (section) pages, whose links are followed within the source's hosts up to
  ``NEWSARCHIVE_NAV_DEPTH`` steps, pagination (``rel=next``) at any depth.
A URL matching ``allow`` (and no ``deny``) is an article: it is fetched once, archived
with its page requisites and handed to the pipeline. Session ids in URLs
(``;jsessionid=``, ``?PHPSESSID=``...) do not make a page new: a site that mints one per
link would otherwise be an endless supply of copies. Articles already in the catalogue
are not fetched again, nor are article URLs whose page was found to hold no article (a
gallery, a live page: ``archive/catalogue/not_articles.py``), except those younger than
the source's ``refresh_hours``.
Navigation requests (feeds, sitemaps, section pages) carry ``meta["conditional"]``: on a
recrawl they are conditional GETs, and a 304 comes back with the page as last archived
(``crawler/conditional_get.py``), parsed like a fresh one. robots.txt is fetched once per
host, by Scrapy's RobotsTxtMiddleware (conditionally too); the spider reads the
``Sitemap:`` lines of that very response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from scrapy.utils.url import url_has_any_extension
from twisted.internet.error import ConnectError
from twisted.python.failure import Failure

from archive.article_rule import NON_PAGE_EXTENSIONS, ArticleRule
from archive.catalogue.database import utcnow
from archive.config import Source, load_sources, select_sources
from archive.web.page_links import FEED_TYPES, PageLinks
from archive.web.rewrite import css_urls
from archive.urls import fold_variants, normalise_url, same_site, without_tracking
from crawler.context import crawl_context
from crawler.extraction import ExtractionTimeout, acquire_pool, bounded_html, html_links
from crawler.run_record import FIRST_ERROR
from crawler.feeds import feed_entries, newest_first
from crawler.retry import RetryLater
from crawler.size_limit import is_truncated
from crawler.sitemaps import sitemap_links

REASON_LENGTH = 120  # characters of an error's description kept for a failed run's message
# Query parameters and ;path parameters that carry a session, never which page it is
# (Java servlets, PHP, ASP, ColdFusion, Zen Cart / osCommerce shops). Not ``sid``: PHP-Nuke
# and its heirs number their stories with it.
SESSION_PARAMS = frozenset({
    "jsessionid", "phpsessid", "sessionid", "session_id", "sessid", "cfid", "cftoken", "zenid", "oscsid",
})
SESSION_PARAM_PREFIXES = ("aspsessionid",)


class NewsSpider(Spider):
    name = "news"

    def __init__(self, source: Source | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(source, Source):
            raise ValueError("NewsSpider needs a source: scrapy crawl news -a source=NAME")
        self.source = source
        self.rule = ArticleRule(source)
        self.hosts = source.domains
        self.requisite_hosts = [*self.hosts, *source.requisite_hosts]
        self.links = LinkExtractor(deny=source.deny, deny_extensions=[e.lstrip(".") for e in NON_PAGE_EXTENSIONS])
        self.known_urls: set[str] = set()  # normalised URLs of catalogued articles: not fetched again
        self.not_articles: set[str] = set()  # keys of article URLs found to hold no article, as remembered
        self.skipped_not_articles: set[str] = set()  # of those, the ones not fetched again this run
        # Article keys claimed in this run, each with the URL of its request (None: not requested, known)
        self.claims: dict[str, str | None] = {}
        self.seen_navigation: set[str] = set()  # session-free URLs of navigation pages requested

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, source: Source | str | None = None,
                     **kwargs: Any) -> NewsSpider:
        if isinstance(source, str):  # `scrapy crawl news -a source=NAME`
            sources = load_sources(crawler.settings.get("NEWSARCHIVE_SOURCES"))
            source = select_sources(sources, [source])[0]
        if isinstance(source, Source):
            _apply_politeness(crawler, source)
        spider = super().from_crawler(crawler, *args, source=source, **kwargs)
        crawler.signals.connect(spider.response_received, signal=signals.response_received)
        spider.extraction = acquire_pool(crawler)
        crawler.signals.connect(spider.extraction.release, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        catalogue, name = crawl_context(self.crawler).catalogue, self.source.name
        self.known_urls = catalogue.known_article_urls(name)
        self.not_articles = catalogue.known_not_article_urls(name)
        self.skipped_not_articles = set(self.not_articles)
        if self.source.refresh_hours:
            since = utcnow() - timedelta(hours=self.source.refresh_hours)
            self.known_urls -= catalogue.recent_article_urls(name, since)
            self.skipped_not_articles -= catalogue.recent_not_article_urls(name, since)
        # No request for robots.txt here: RobotsTxtMiddleware fetches it before the first request
        # to each host, and response_received hands that response to parse_robots.
        for url in self.source.sitemaps:
            yield self.navigation_request(url, self.parse_sitemap, priority=20)
        for url in self.source.feeds:
            yield self.navigation_request(url, self.parse_feed, priority=20)
        for url in self.source.start_urls:
            yield self.navigation_request(url, self.parse_page, priority=10, nav_depth=0)

    # --- classification ----------------------------------------------------------------
    def is_article(self, url: str) -> bool:
        """Article URLs match an ``allow`` pattern (any page but the home page when none) and no ``deny``."""
        return self.rule.matches(url)

    def article_key(self, url: str) -> str:
        """What identifies an article URL within a crawl: normalised, variants folded, no session id."""
        return fold_variants(normalise_url(without_session_ids(url)))

    def claim_article(self, url: str) -> bool:
        """True the first time an article URL is seen; False when catalogued, known to be none, or queued."""
        key = self.article_key(url)
        for known, stat in ((self.known_urls, "articles_skipped_known"),
                            (self.skipped_not_articles, "not_articles_skipped")):
            if key in known:
                known.discard(key)  # counted once per run
                self.claims[key] = None
                self.crawler.stats.inc_value(f"newsarchive/{stat}")
                return False
        if key in self.claims:
            return False
        self.claims[key] = None
        return True

    def requested_as(self, url: str) -> str | None:
        """The URL this run requested the article at ``url`` under, if it requested it."""
        return self.claims.get(self.article_key(url))

    def article_request(self, url: str, published_hint: str | None = None) -> Request | None:
        """A request for an article URL, or None when it is known or already queued.

        ``published_hint``: when a feed or a Google News sitemap says it was published, for
        extraction to use when the page itself states no date (archive.extract.dates).
        """
        if not _valid(url) or not self.rule.is_site_page(url):
            return None
        if not self.claim_article(url):
            return None
        # Requested without its trackers (?utm_source=...): archived under the URL that names the
        # page; the URL as linked is kept among the article's URLs.
        key = self.article_key(url)
        request = Request(without_tracking(url), callback=self.parse_article, priority=5, errback=self.on_error,
                          meta={"article_claim": key, "linked_url": url, "published_hint": published_hint})
        self.claims[key] = request.url
        return request

    def navigation_request(self, url: str, callback: Any, priority: int = 0, **meta: Any) -> Request:
        """A request for robots.txt, a feed, a sitemap or a section page: conditional on recrawls."""
        return Request(url, callback=callback, priority=priority, errback=self.on_error,
                       meta={"conditional": True, **meta})

    def follow(self, url: str, nav_depth: int, published_hint: str | None = None) -> Request | None:
        """A request for any discovered URL: article, or navigation page within depth."""
        if self.is_article(url):
            return self.article_request(url, published_hint)
        if nav_depth > self.settings.getint("NEWSARCHIVE_NAV_DEPTH") or not same_site(url, self.hosts):
            return None
        key = without_session_ids(url)
        if key in self.seen_navigation:
            return None
        self.seen_navigation.add(key)
        return self.navigation_request(url, self.parse_page, nav_depth=nav_depth)

    # --- callbacks -----------------------------------------------------------------------
    def response_received(self, response: Response, request: Request) -> None:
        """robots.txt as fetched by RobotsTxtMiddleware (of the source's hosts): follow its Sitemap: lines."""
        first_url = (request.meta.get("redirect_urls") or [request.url])[0]
        if (request.meta.get("dont_obey_robotstxt") and urlsplit(first_url).path == "/robots.txt"
                and same_site(first_url, self.hosts)):
            for sitemap_request in self.parse_robots(response):
                self.crawler.engine.crawl(sitemap_request)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            if url not in self.source.sitemaps:
                yield self.navigation_request(url, self.parse_sitemap, priority=20)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if is_truncated(response):
            return
        sitemap = sitemap_links(response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))
        if not sitemap.kind:
            self.logger.warning("Not a sitemap: %s", response.url)
        for loc in sitemap.urls:
            if sitemap.kind == "sitemapindex":
                if same_site(loc, self.hosts):
                    yield self.navigation_request(loc, self.parse_sitemap, priority=20)
            elif (request := self.follow(loc, nav_depth=1, published_hint=sitemap.published.get(loc))) is not None:
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """RSS, Atom or JSON Feed (crawler/feeds.py): its articles, newest first."""
        if is_truncated(response):
            return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        for entry in newest_first(feed_entries(response.body, response.url, content_type)):
            hint = entry.published.isoformat() if entry.published else None
            if self.is_article(entry.url) and (request := self.article_request(entry.url, hint)) is not None:
                yield request

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        """A section or home page: feeds it announces, then its links."""
        if not isinstance(response, TextResponse) or is_truncated(response):
            return
        if response.meta.get("redirect_urls") and self.is_article(response.url):
            async for output in self.parse_article(response):  # a redirect (e.g. /latest) to an article
                yield output
            return
        depth = response.meta.get("nav_depth", 0)
        for request in self._feed_requests(response):
            yield request
        for href in response.xpath("//link[@rel='next']/@href | //a[@rel='next']/@href").getall():
            yield self.navigation_request(response.urljoin(href), self.parse_page, nav_depth=depth)
        for link in self.links.extract_links(response):
            if (request := self.follow(link.url, depth + 1)) is not None:
                yield request

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        """An article: extracted in the pool, handed to the pipeline; its requisites fetched, its links followed.

        The extraction worker also finds the page's links (crawler/extraction.py); those of a
        page too large for it, or that it failed on, are found here.
        """
        if not isinstance(response, TextResponse) or response.status != 200 or is_truncated(response):
            return
        capture = response.meta.get("capture", {})
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        body = bounded_html(response.body, self.settings.getint("NEWSARCHIVE_EXTRACT_MAX_BYTES"))
        key = response.meta.get("article_claim") or self.article_key(response.url)
        item: dict[str, Any] = {"url": response.url, "linked_url": response.meta.get("linked_url"),
                                "article_key": key, "was_not_article": key in self.not_articles,
                                "capture": capture.get("row"),
                                "fetched": capture.get("timestamp"), "capped": len(body) < len(response.body),
                                "extraction": None, "error": None}
        try:
            item["extraction"] = await self.extraction.extract(body, response.url, content_type,
                                                               response.meta.get("published_hint"))
        except ExtractionTimeout as exc:
            item["error"] = ("extract_timeout", exc)
        except Exception as exc:  # trafilatura or lxml failing on a hostile page: that page only
            item["error"] = ("extract_failed", exc)
        yield item
        links = item["extraction"].links if item["extraction"] and not item["capped"] else None
        for request in self.page_requests(links or html_links(response.text, response.url)):
            yield request

    def page_requests(self, links: PageLinks) -> Iterator[Request]:
        """What an article page embeds, the feeds it announces and the articles it links to."""
        for url in links.embeds:
            yield from self._requisite(url)
        for url in links.feeds:
            if same_site(url, self.hosts):
                yield self.navigation_request(url, self.parse_feed, priority=15)
        for url in links.links:
            if (self.links.matches(url) and not url_has_any_extension(urlparse(url), self.links.deny_extensions)
                    and self.is_article(url) and (request := self.article_request(url)) is not None):
                yield request

    def parse_requisite(self, response: Response) -> Iterator[Request]:
        """Stylesheets pull in their imports (and theirs), fonts and images; frames their own requisites."""
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or is_truncated(response):
            return
        if "css" in content_type:
            for url in css_urls(response.text, response.url):
                yield from self._requisite(url)
        elif "html" in content_type:  # an <iframe>: replayed inside the page, so archived whole
            for url in html_links(response.text, response.url).embeds:
                yield from self._requisite(url)

    def on_error(self, failure: Failure) -> None:
        """A failed request (HTTP error status, DNS, refused, timeout) is counted by kind; the crawl goes on.

        A request dropped by a decision (robots.txt, a body too large once decoded) is no
        error: it is counted as ``newsarchive/dropped/<reason>``. Those the crawler's own
        middlewares drop (out of scope, known articles) are counted where they are dropped,
        and a retry that waits is no drop at all.
        """
        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            exception = failure.value
            if not isinstance(exception, RetryLater) and not hasattr(exception, "kind"):
                self.crawler.stats.inc_value(f"newsarchive/dropped/{_ignore_reason(str(exception))}")
            return
        else:
            kind = failure.type.__name__
        self.crawler.stats.inc_value(f"newsarchive/errors/{kind}")
        if self.crawler.stats.get_value(FIRST_ERROR + kind) is None:  # what a failed run's message tells
            self.crawler.stats.set_value(FIRST_ERROR + kind, (_reason(failure.value), failure.request.url))
        self.logger.warning("%s: %s", kind, failure.request.url)

    # --- helpers -------------------------------------------------------------------------
    def _feed_requests(self, response: TextResponse) -> Iterable[Request]:
        types = " or ".join(f"@type='{t}'" for t in sorted(FEED_TYPES))
        for href in response.xpath(f"//link[@rel='alternate' and ({types})]/@href").getall():
            url = response.urljoin(href)
            if same_site(url, self.hosts):
                yield self.navigation_request(url, self.parse_feed, priority=15)

    def _requisite(self, url: str) -> Iterable[Request]:
        if url.startswith(("http://", "https://")) and same_site(url, self.requisite_hosts):
            yield Request(url, callback=self.parse_requisite, priority=-5, errback=self.on_error,
                          meta={"requisite": True})


def _reason(error: BaseException) -> str:
    """A failure in a few words: "connection refused", "DNS lookup failed: ...", "HTTP 404"."""
    if isinstance(error, HttpError):
        return f"HTTP {error.response.status}"
    cause: BaseException | None = error
    while cause is not None:  # Scrapy re-raises Twisted's errors as its own, "from" them
        if isinstance(cause, ConnectError) and cause.args and cause.args[0]:
            text = str(cause.args[0])  # the OS's words ("Connection refused"), not Twisted's preamble
            break
        cause = cause.__cause__
    else:
        text = str(error) or type(error).__name__
    text = text.strip().rstrip(".")
    if text[:2].istitle():  # "Connection refused" -> "connection refused"; "DNS ..." stays
        text = text[0].lower() + text[1:]
    return text[:REASON_LENGTH]


def without_session_ids(url: str) -> str:
    """``url`` without session-id query parameters and ``;jsessionid=``-style path parameters."""
    parts = urlsplit(url)
    path = ";".join(p for i, p in enumerate(parts.path.split(";")) if i == 0 or not _is_session(p))
    query = "&".join(p for p in parts.query.split("&") if p and not _is_session(p))
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def _is_session(pair: str) -> bool:
    name = pair.partition("=")[0].lower()
    return name in SESSION_PARAMS or name.startswith(SESSION_PARAM_PREFIXES)


def _valid(url: str) -> bool:
    """Whether the URL can be normalised at all (a port that is not a number cannot)."""
    try:
        normalise_url(url)
    except ValueError:
        return False
    return True


def _ignore_reason(message: str) -> str:
    """The reason of an IgnoreRequest Scrapy raised, from its message (Scrapy gives no type)."""
    if message.startswith("Forbidden by robots.txt"):
        return "robots_txt"
    if "DOWNLOAD_MAXSIZE" in message and "decompress" in message:  # HttpCompressionMiddleware: a bomb
        return "too_large_decoded"
    if "max redirections" in message:  # RedirectMiddleware: REDIRECT_MAX_TIMES
        return "too_many_redirects"
    return "ignored"


def _apply_politeness(crawler: Crawler, source: Source) -> None:
    """The source's politeness overrides, before the crawler's settings freeze."""
    settings = crawler.settings
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.concurrency, priority="spider")
    settings.set("DOWNLOAD_DELAY", source.delay, priority="spider")
    settings.set("AUTOTHROTTLE_START_DELAY", max(source.delay, 0.1), priority="spider")
    if source.delay == 0:  # DESIGN.md: delay = 0 turns throttling off (own or local sites)
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        settings.set("DOWNLOAD_DELAY_JITTER", 0, priority="spider")
    settings.set("CLOSESPIDER_PAGECOUNT", source.max_pages, priority="spider")
