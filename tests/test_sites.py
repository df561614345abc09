"""The local sites: the fixture site of the end-to-end test and the benchmark site, served for real."""

from __future__ import annotations

import html
import json
import re
from collections import deque
from pathlib import Path

import pytest

from archive.config import parse_sources
from tests.bench_site import build_bench_site
from cli.demo_pages import DEMO_SITE
from tests.site_server import BASE_PLACEHOLDER, SiteServer
from tests.site_builder import CANONICAL_LINK
from tests.sites import FixtureSite, build_fixture_site, fetch

_LINK = re.compile(r"""(?:href="|<loc>|<link>)([^"<]+)""")


def site_links(base: str, start: list[str], avoid: frozenset[str] = frozenset()) -> dict[str, int]:
    """Status of every path reachable from ``start`` through the site's own listing pages and XML.

    The fixture's article pages are fetched but not followed: they are real pages linking half the web.
    """
    articles = re.compile(r"/(?:news|partner)/2019/")
    seen: dict[str, int] = {}
    queue = deque(start)
    while queue:
        path = queue.popleft()
        if path in seen or path in avoid:
            continue
        status, _, body = fetch(base + path)
        seen[path] = status
        if status == 200 and not articles.search(path):
            for link in _LINK.findall(body.decode("utf-8", "replace")):  # links are ASCII in any charset
                link = html.unescape(link).removeprefix(base)
                if link.startswith("/"):
                    queue.append(link)
    return seen


def _text(page: bytes, encoding: str) -> str:
    """A page as a reader's browser decodes it, less its canonical link and charset name."""
    decoded = html.unescape(CANONICAL_LINK.sub(b"", page).decode(encoding))
    return re.sub(r"charset=.?[\w-]+", "charset=", decoded, flags=re.IGNORECASE)


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory, datasets_dir: Path) -> FixtureSite:
    return build_fixture_site(tmp_path_factory.mktemp("fixture-site"), datasets_dir)


def test_every_linked_page_answers(fixture_site: FixtureSite) -> None:
    site = fixture_site
    with SiteServer(site.root) as server:
        statuses = site_links(server.base_url, ["/", "/robots.txt", site.sitemap_path])
        robots = fetch(server.base_url + "/robots.txt")[2].decode()
        assert robots.splitlines()[:2] == ["User-agent: *", "Disallow: /private/"]
        assert f"Sitemap: {server.base_url}{site.sitemap_path}" in robots

    assert statuses.pop(site.missing_path) == 404
    assert statuses.pop(site.redirect.path) == 301
    assert set(statuses.values()) == {200}
    distinct = {a.path for a in site.articles}
    variants = {site.amp.path, site.tracking.path, site.syndicated.path}
    assert distinct | variants | {site.denied_path, site.disallowed_path} <= set(statuses)
    assert site.section_paths == ["/news/", "/news/page/2.html", "/news/page/3.html"]


def test_each_article_is_found_only_the_way_the_site_says(fixture_site: FixtureSite) -> None:
    site = fixture_site
    with SiteServer(site.root) as server:
        without_feed = site_links(
            server.base_url, ["/", site.sitemap_path], avoid=frozenset([site.feed_path])
        )
        without_sitemaps = site_links(server.base_url, ["/"])
    assert site.feed_only_path not in without_feed and site.feed_only_path in without_sitemaps
    assert site.sitemap_only_path not in without_sitemaps and site.sitemap_only_path in without_feed
    assert len({a.id for a in site.articles}) == len(site.articles) == 12


def test_pages_are_served_as_stored_but_for_the_canonical_link(
    fixture_site: FixtureSite, datasets_dir: Path
) -> None:
    site = fixture_site
    with SiteServer(site.root) as server:
        base = server.base_url
        for article in site.articles:
            status, headers, body = fetch(base + article.path)
            assert status == 200
            original = (datasets_dir / "articles-dev" / f"{article.id}.html").read_bytes()
            assert CANONICAL_LINK.findall(body) == [
                f'<link rel="canonical" href="{base}{article.path}">'.encode()
            ]
            if article.path == site.latin1_path:
                assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
                assert re.search(rb"<meta[^>]*charset=.?iso-8859-1", body, re.IGNORECASE)
                assert any(127 < ord(c) < 256 for c in article.body)
                assert _text(body, "iso-8859-1") == _text(original, "utf-8")
            else:
                assert CANONICAL_LINK.sub(b"", body) == CANONICAL_LINK.sub(b"", original)
        for variant, canonical in (
            (site.amp, site.amp.article.path),
            (site.syndicated, site.syndicated.path),
            (site.tracking, site.tracking.article.path),
        ):
            body = fetch(base + variant.path)[2]
            assert CANONICAL_LINK.findall(body) == [
                f'<link rel="canonical" href="{base}{canonical}">'.encode()
            ]
            assert CANONICAL_LINK.sub(b"", body) == CANONICAL_LINK.sub(
                b"", fetch(base + variant.article.path)[2]
            )
        assert fetch(base + site.redirect.path)[1]["Location"] == base + site.redirect.article.path


def test_source_rules_tell_articles_from_other_pages(fixture_site: FixtureSite) -> None:
    site = fixture_site
    (source,) = parse_sources(site.sources_toml("http://127.0.0.1:8123"), "fixture")
    assert (source.name, source.delay, source.concurrency) == ("fixture-news", 0.0, 8)

    def is_article(path: str) -> bool:
        url = "http://127.0.0.1:8123" + path
        return any(re.search(p, url) for p in source.allow) and not any(
            re.search(p, url) for p in source.deny
        )

    variants = [site.amp.path, site.tracking.path, site.syndicated.path]
    assert all(is_article(path) for path in [*(a.path for a in site.articles), *variants])
    assert not any(is_article(path) for path in ["/", site.denied_path, *site.section_paths])


def test_bench_site_links_every_article(tmp_path: Path) -> None:
    build_bench_site(tmp_path, n_articles=120)
    with SiteServer(tmp_path) as server:
        statuses = site_links(server.base_url, ["/"])
        feed = fetch(server.base_url + "/rss.xml")[2].decode()
        sitemap = fetch(server.base_url + "/sitemap.xml")[2].decode()
    articles = [p for p in statuses if re.match(r"/news/\d{4}/\d{2}/\d{2}/", p)]
    assert len(articles) == 120 and set(statuses.values()) == {200}
    assert feed.count("<item>") == 50 and sitemap.count("/news/20") == 120
    assert [p for p in statuses if "/page/" in p] == ["/news/page/2.html", "/news/page/3.html"]


def test_demo_site_is_a_complete_small_newspaper(demo_site: Path) -> None:
    files = [p for p in demo_site.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 200_000
    (source,) = parse_sources(
        (DEMO_SITE / "sources.toml")
        .read_text(encoding="utf-8")
        .replace(BASE_PLACEHOLDER, "http://127.0.0.1:8123"),
        "demo",
    )
    with SiteServer(demo_site) as server:
        base = server.base_url
        statuses = site_links(base, ["/", "/robots.txt", "/sitemap.xml"])
        assert statuses.pop("/latest") == 301 and set(statuses.values()) == {200}
        articles = [p for p in statuses if any(re.search(rule, p) for rule in source.allow)]
        assert len([p for p in articles if "?" not in p and ".amp." not in p]) == 9
        assert (
            "/private/" in statuses
            and "User-agent: *\nDisallow: /private/" in fetch(base + "/robots.txt")[2].decode()
        )

        encodings = {}
        for path in articles:
            status, headers, body = fetch(base + path)
            charset = headers["Content-Type"].split("charset=")[1]
            encodings[path] = charset
            page = body.decode(charset)
            assert re.search(f'<meta charset="{charset}">', page, re.IGNORECASE)
            canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page)[1]
            assert canonical == base + path.split("?")[0].replace(".amp.html", ".html")
            ld = json.loads(
                re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)[1]
            )
            assert (
                ld["@type"] == "NewsArticle" and ld["author"][0]["name"] and ld["datePublished"][:4] == "2026"
            )
            paragraphs = re.findall(r"<p>([^<]+)</p>", page)
            assert 4 <= len(paragraphs) <= 8 and 150 <= sum(len(p.split()) for p in paragraphs) <= 400
            assert ('dir="rtl"' in page) == path.startswith("/ar/")
            for requisite in re.findall(r'(?:src|href)="(/(?:media|static)/[^"]+)"', page):
                assert fetch(base + requisite)[0] == 200
        assert sorted(set(encodings.values())) == ["iso-8859-1", "utf-8", "windows-1256"]
        css = fetch(base + "/static/site.css")[2].decode()
        assert '@import url("typography.css")' in css and 'url("../media/pattern.svg")' in css
        assert fetch(base + "/static/typography.css")[0] == fetch(base + "/media/pattern.svg")[0] == 200
        assert fetch(base + "/sources.toml")[0] == 404
