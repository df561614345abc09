"""Sitemap parsing: the URLs of an XML sitemap or sitemap index, gzipped or not.

A pure function of the bytes the server sent, so the spider and the fuzz tests call the
same code. Broken XML yields the entries read before the break (lxml's recovering parser
may still stop part way); bytes that are no sitemap yield none. Never raises.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from io import BytesIO

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawler.scope import absolute_http_url

SITEMAP_MAX_URLS = 50_000  # the sitemaps.org limit per file; more is not a sitemap we follow


@dataclass(frozen=True)
class SitemapLinks:
    """What a sitemap lists: pages (``urlset``) or other sitemaps (``sitemapindex``)."""

    kind: str = ""  # "urlset", "sitemapindex", or "" when the bytes are no sitemap
    urls: list[str] = field(default_factory=list)
    # URL -> the Google News sitemap's <news:publication_date> (W3C datetime, as written)
    published: dict[str, str] = field(default_factory=dict)


def sitemap_links(body: bytes, url: str, max_size: int = 0) -> SitemapLinks:
    """The ``<loc>`` URLs of the sitemap in ``body`` (from ``url``), absolute http(s), each once.

    A ``.xml.gz`` served as a file (not as Content-Encoding) is gunzipped first, to at most
    ``max_size`` bytes (0: no limit).
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, EOFError, struct.error, zlib.error, ValueError):  # ValueError: past max_size
            return SitemapLinks()
    try:
        sitemap = Sitemap(body)
    except (etree.LxmlError, StopIteration, ValueError):
        return SitemapLinks()
    if sitemap.type not in ("urlset", "sitemapindex"):
        return SitemapLinks()
    urls: dict[str, None] = {}
    try:
        for entry in sitemap:
            loc = absolute_http_url(entry.get("loc"), url)
            if loc:
                urls[loc] = None
            if len(urls) >= SITEMAP_MAX_URLS:
                break
    except (etree.LxmlError, ValueError):  # broken past some entries: keep those
        pass
    published = _news_dates(body, url, urls) if b"publication_date" in body else {}
    return SitemapLinks(sitemap.type, list(urls), published)


def _news_dates(body: bytes, url: str, urls: dict[str, None]) -> dict[str, str]:
    """``<news:publication_date>`` of each listed URL (Scrapy's Sitemap drops nested elements)."""
    dates: dict[str, str] = {}
    try:
        for _, element in etree.iterparse(BytesIO(body), events=("end",), recover=True, resolve_entities=False,
                                          remove_comments=True, remove_pis=True):
            if not isinstance(element.tag, str) or etree.QName(element).localname != "url":
                continue
            loc = absolute_http_url(element.findtext("{*}loc"), url)
            stated = element.findtext("{*}news/{*}publication_date")
            if loc in urls and stated and stated.strip():
                dates[loc] = stated.strip()[:40]
            element.clear()
    except (etree.LxmlError, ValueError):  # broken past some entries: keep those
        pass
    return dates
