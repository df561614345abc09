"""Downloader middleware that keeps redirects from re-fetching articles already archived.

The spider vets every URL it requests, but a redirect (``/latest``, ``/go/5``, a short
link) lands on a URL it never saw: when that is an article already in the catalogue, or
already fetched in this crawl, the redirected request is dropped.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


class KnownArticleRedirects:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticleRedirects:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        news = self.crawler.spider
        if request.meta.get("redirect_urls") and news.is_article(request.url) and not news.claim_article(request.url):
            raise IgnoreRequest(f"redirect to an article already archived: {request.url}")
