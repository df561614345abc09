"""Crawl scope: which requests a source's crawl may send at all.

Checked in a downloader middleware on every request before it leaves (start requests,
links, feed and sitemap entries, redirect targets, retries, page requisites, robots.txt),
so no path of the spider can step outside it. In order:

1. **scheme**: http and https only (a feed or a redirect may name ``file:``, ``ftp:``,
   ``data:`` or ``javascript:``; Scrapy has handlers for some of them);
2. **offsite**: the host is one of the source's hosts (those of its start URLs, feeds
   and sitemaps) or of its ``requisite_hosts``, or a subdomain of one;
3. **private_address**: the host, as resolved, is not in private, loopback, link-local
   or other non-global space (a public name pointed at 10.0.0.1, a redirect to
   169.254.169.254) -- unless the source's own hosts are in such space, as they are for
   an intranet site or the local test sites: then the crawl was meant to go there, and
   the scope check above still keeps it to the source's hosts.

A refused request is counted as an error of its kind (``newsarchive/errors/offsite``,
``.../scheme``, ``.../private_address``: ``newsarchive runs`` shows them) and dropped
with :class:`OutOfScope`. A redirect to another scheme, which Scrapy's redirect middleware
leaves unfollowed, is counted as ``scheme`` too.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

from archive.urls import same_site

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
Resolver = Callable[[str], Awaitable[str | None]]  # host name -> the IP address it resolves to, or None


class OutOfScope(IgnoreRequest):
    """A request the source's scope refuses; ``kind`` is the error kind it is counted as."""

    def __init__(self, kind: str, url: str) -> None:
        super().__init__(f"{kind}: {url}")
        self.kind = kind


def absolute_http_url(value: object, base: str) -> str | None:
    """``value`` made absolute against ``base`` when it is an http(s) URL with a host, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    return absolute if parts.scheme.lower() in ALLOWED_SCHEMES and parts.hostname else None


def is_non_global(address: str) -> bool:
    """Whether an IP address is private, loopback, link-local, shared or reserved space."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global


def ip_literal(host: str) -> str | None:
    """The host itself when it is an IP address, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class CrawlScope:
    """The hosts a source's crawl may reach; see the module docstring for the rules."""

    hosts: tuple[str, ...]  # the source's own
    requisite_hosts: tuple[str, ...] = ()

    def refusal(self, url: str) -> str | None:
        """The kind of refusal of ``url`` by scheme and host, or None when it is in scope."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "offsite"
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            return "scheme"
        if not host or not same_site(url, (*self.hosts, *self.requisite_hosts)):
            return "offsite"
        return None

    def own_hosts_are_non_global(self, resolved: Iterable[str | None]) -> bool:
        """Whether any of the source's own hosts (their ``resolved`` addresses) is non-global space."""
        return any(address is not None and is_non_global(address) for address in resolved)


class ScopeMiddleware:
    """Downloader middleware enforcing :class:`CrawlScope` (first of all, before robots.txt)."""

    def __init__(self, scope: CrawlScope, stats: StatsCollector, resolve: Resolver | None = None) -> None:
        self.scope = scope
        self.stats = stats
        self.resolve = resolve or resolve_with_reactor
        self._own_non_global: bool | None = None  # decided on the first request that needs it

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        source = crawler.spider.source
        return cls(CrawlScope(tuple(source.domains), tuple(source.requisite_hosts)), crawler.stats)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        kind = self.scope.refusal(request.url)
        if kind is None:
            kind = await self._address_refusal(urlsplit(request.url).hostname or "")
        if kind is not None:
            self._refuse(kind, request.url)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        """A redirect Scrapy would not follow for its scheme is a refusal too, counted as such."""
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            if urlsplit(target).scheme.lower() not in ALLOWED_SCHEMES:
                self._refuse("scheme", target)
        return response

    def _refuse(self, kind: str, url: str) -> None:
        self.stats.inc_value(f"newsarchive/errors/{kind}")
        logger.info("Out of scope (%s): %s", kind, url)
        raise OutOfScope(kind, url)

    async def _address_refusal(self, host: str) -> str | None:
        """``private_address`` when ``host`` resolves to non-global space the source does not live in."""
        if self._own_non_global is None:
            own = [await self._resolve(h) for h in self.scope.hosts]
            self._own_non_global = self.scope.own_hosts_are_non_global(own)
        if self._own_non_global:
            return None
        address = await self._resolve(host)
        return "private_address" if address is not None and is_non_global(address) else None

    async def _resolve(self, host: str) -> str | None:
        return ip_literal(host) or await self.resolve(host)


async def resolve_with_reactor(host: str) -> str | None:
    """The address a download to ``host`` connects to (Scrapy's DNS cache); None when it does not resolve."""
    from twisted.internet import reactor  # the running one: importing it earlier would install the default

    try:
        return await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
    except DNSLookupError:  # the download fails the same way, and is counted as that
        return None
