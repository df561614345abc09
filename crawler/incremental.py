"""Downloader middleware that keeps redirects from re-fetching articles already archived.

The spider vets every URL it requests, but a redirect (``/latest``, ``/go/5``, a short
link) lands on a URL it never saw: when that is an article already in the catalogue, or
already fetched in this crawl, the redirected request is dropped and counted
(``newsarchive/dropped/redirect_to_known_article``).

The claim a redirected request makes is kept on it (``meta["article_claim"]``, the
article's key), so its retries, which copy its meta, pass as the same claim instead of
being taken for a second request of an article already queued. A redirect of such a
request lands on another URL, whose key differs, and is vetted afresh. A redirect landing on
the very URL the spider has requested an article under goes on: the dupefilter (Scrapy's, or
the Redis frontier's shared one) has let the first of the two through and drops the second,
while dropping the redirect here could lose both when it reached the scheduler first.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


class KnownArticle(IgnoreRequest):
    """A redirect to an article this crawl already has or has queued; counted where raised."""

    kind = "redirect_to_known_article"


class KnownArticleRedirects:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticleRedirects:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        news = self.crawler.spider
        if not request.meta.get("redirect_urls") or not news.is_article(request.url):
            return
        key = news.article_key(request.url)
        if request.meta.get("article_claim") == key:  # a retry of this very request
            return
        if not news.claim_article(request.url):
            if news.requested_as(request.url) == request.url:
                # The spider's own request for this URL, not yet scheduled when this redirect was:
                # the dupefilter drops whichever of the two reaches it second, so this one goes on.
                request.meta["article_claim"] = key
                return
            self.crawler.stats.inc_value(f"newsarchive/dropped/{KnownArticle.kind}")
            raise KnownArticle(f"redirect to an article already archived or queued: {request.url}")
        request.meta["article_claim"] = key
