"""Crawl scope: scheme, then host, then the address class of what the host resolves to.

Only loopback is ever resolved here (``localhost``, from /etc/hosts) and nothing is
connected to: the middleware decides before a request leaves.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.scope import CrawlScope, OutOfScope, ScopeMiddleware, is_non_global

PUBLIC = "93.184.215.14"  # a global address, given as a literal: never resolved nor contacted


async def resolve_locally(host: str) -> str | None:
    """What the system resolver says (here only for localhost: /etc/hosts)."""
    try:
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror:
        return None


def refusal(scope: CrawlScope, url: str) -> str | None:
    crawler = get_crawler(Spider)
    middleware = ScopeMiddleware(scope, crawler.stats, resolve_locally)
    try:
        asyncio.run(middleware.process_request(Request(url)))
    except OutOfScope as refused:
        assert crawler.stats.get_value(f"newsarchive/errors/{refused.kind}") == 1
        return refused.kind
    return None


@pytest.mark.parametrize(("url", "expected"), [
    ("http://news.example/2026/story", None),
    ("https://www.news.example/2026/story", None),  # www. and subdomains of the source's host
    ("http://m.news.example/story", None),
    ("http://cdn.example.net/img.png", None),  # a requisite host
    ("http://evil.example/story", "offsite"),
    ("http://news.example.evil.example/", "offsite"),
    ("ftp://news.example/file", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("data:text/html,hi", "scheme"),
])
def test_scheme_and_host_decide_first(url: str, expected: str | None) -> None:
    assert CrawlScope(("news.example",), ("cdn.example.net",)).refusal(url) == expected


def test_a_host_resolving_to_loopback_is_refused_for_a_public_source() -> None:
    scope = CrawlScope((PUBLIC,), ("localhost",))
    assert refusal(scope, "http://localhost:8080/img.png") == "private_address"
    assert refusal(scope, f"http://{PUBLIC}/story") is None


def test_a_source_living_on_loopback_may_use_it_but_not_leave_its_hosts() -> None:
    scope = CrawlScope(("127.0.0.1",))
    assert refusal(scope, "http://127.0.0.1:8765/story") is None
    assert refusal(scope, "http://127.0.0.2:8765/story") == "offsite"  # loopback too, but not the source's
    assert refusal(scope, "http://[::1]:8765/story") == "offsite"


@pytest.mark.parametrize(("address", "non_global"), [
    ("127.0.0.2", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("fe80::1", True),
    ("fd00::1", True), ("::ffff:10.0.0.1", True), (PUBLIC, False), ("2606:4700::1111", False),
])
def test_address_classes(address: str, non_global: bool) -> None:
    assert is_non_global(address) is non_global
