"""The one site builder of the tests and benchmarks: files of a local news site, for :mod:`tests.site_server`.

Pages, section listings with rel=next/prev pagination, RSS feeds, plain and Google News
sitemaps, sitemap indexes and robots.txt, written under a root folder by URL path; links
use the server's ``{{BASE}}`` placeholder where they must be absolute. The rewriting
helpers give a real page of ``../shared/datasets`` a local canonical link or re-encode it
as ISO-8859-1. The sites themselves are :mod:`tests.sites` (real dataset pages),
:mod:`tests.bench_site` (generated text, any size) and :mod:`tests.replay_site`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from tests.site_server import BASE_PLACEHOLDER as BASE

CANONICAL_LINK = re.compile(rb"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.IGNORECASE)
HEAD_TAG = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)
META_CHARSET = re.compile(rb"""(<meta\b[^>]*?\bcharset\s*=\s*["']?)[\w-]+""", re.IGNORECASE)
TITLE_TAG = re.compile(rb"<title\b[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Listed:
    """An article as section pages, feeds and sitemaps list it."""

    path: str  # URL path on the site, e.g. /news/2026/01/05/story.html
    title: str
    published: datetime
    language: str = "en"


def write_file(root: Path, path: str, content: str | bytes) -> None:
    """Write a site file at URL ``path`` (``/a/`` is ``a/index.html``), creating folders."""
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        target.write_text(content, encoding="utf-8")
    else:
        target.write_bytes(content)


def html_page(title: str, body: str, *, lang: str = "en", head: str = "") -> str:
    """A plain UTF-8 HTML page advertising the site's feed; ``body`` and ``head`` are markup."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{BASE}/rss.xml">\n'
        f"{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_listing(root: Path, prefix: str, title: str, entries: Sequence[Listed], per_page: int) -> list[str]:
    """Section pages at ``prefix`` (``/news/``, ``/news/page/2.html``...) linked by rel=next/prev.

    Returns the pages' URL paths, first page first.
    """
    chunks = [entries[i : i + per_page] for i in range(0, len(entries), per_page)] or [[]]
    paths = [prefix if n == 1 else f"{prefix}page/{n}.html" for n in range(1, len(chunks) + 1)]
    for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True)):
        items = "\n".join(
            f'<li><a href="{e.path}">{html.escape(e.title)}</a> '
            f'<time datetime="{e.published.isoformat()}">{e.published:%Y-%m-%d}</time></li>'
            for e in chunk
        )
        head, nav = "", []
        if n > 0:
            head += f'<link rel="prev" href="{BASE}{paths[n - 1]}">\n'
            nav.append(f'<a rel="prev" href="{paths[n - 1]}">Previous page</a>')
        if n + 1 < len(paths):
            head += f'<link rel="next" href="{BASE}{paths[n + 1]}">\n'
            nav.append(f'<a rel="next" href="{paths[n + 1]}">Next page</a>')
        body = (
            f'<h1>{html.escape(title)}</h1>\n<ul class="headlines">\n{items}\n</ul>\n'
            f'<nav class="pagination">{" ".join(nav)}</nav>'
        )
        page_title = title if n == 0 else f"{title} - page {n + 1}"
        write_file(root, path, html_page(page_title, body, head=head))
    return paths


def write_rss(root: Path, path: str, title: str, entries: Iterable[Listed]) -> None:
    """An RSS 2.0 feed of ``entries`` with absolute links."""
    items = "".join(
        f"  <item>\n    <title>{xml_escape(e.title)}</title>\n    <link>{BASE}{xml_escape(e.path)}</link>\n"
        f'    <guid isPermaLink="true">{BASE}{xml_escape(e.path)}</guid>\n'
        f"    <pubDate>{format_datetime(e.published)}</pubDate>\n  </item>\n"
        for e in entries
    )
    write_file(
        root,
        path,
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        f"  <title>{xml_escape(title)}</title>\n  <link>{BASE}/</link>\n"
        f"  <description>{xml_escape(title)}: latest stories</description>\n{items}</channel>\n</rss>\n",
    )


def write_sitemap(root: Path, path: str, paths: Iterable[str]) -> None:
    """A plain sitemap (urlset) of site paths."""
    _write_loc_list(root, path, "urlset", "url", paths)


def write_robots(root: Path, disallow: Iterable[str], sitemap: str) -> None:
    """A robots.txt for all agents with a ``Sitemap:`` line, as crawlers discover sitemaps there."""
    rules = "".join(f"Disallow: {p}\n" for p in disallow) or "Disallow:\n"  # empty: all allowed
    write_file(root, "/robots.txt", f"User-agent: *\n{rules}\nSitemap: {BASE}{sitemap}\n")


def write_news_sitemap(root: Path, path: str, publication: str, entries: Iterable[Listed]) -> None:
    """A Google News sitemap: publication, language, date and title for each article."""
    urls = "".join(
        f"  <url>\n    <loc>{BASE}{xml_escape(e.path)}</loc>\n    <news:news>\n"
        f"      <news:publication><news:name>{xml_escape(publication)}</news:name>"
        f"<news:language>{e.language}</news:language></news:publication>\n"
        f"      <news:publication_date>{e.published.isoformat()}</news:publication_date>\n"
        f"      <news:title>{xml_escape(e.title)}</news:title>\n    </news:news>\n  </url>\n"
        for e in entries
    )
    write_file(
        root,
        path,
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
        f'        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n',
    )


def write_sitemap_index(root: Path, path: str, sitemaps: Iterable[str]) -> None:
    """A sitemap index over other sitemaps of the site."""
    _write_loc_list(root, path, "sitemapindex", "sitemap", sitemaps)


def _write_loc_list(root: Path, path: str, list_tag: str, entry_tag: str, paths: Iterable[str]) -> None:
    """A sitemaps.org document: one ``<loc>`` for each path, each in an ``entry_tag``."""
    entries = "".join(f"  <{entry_tag}><loc>{BASE}{xml_escape(p)}</loc></{entry_tag}>\n" for p in paths)
    write_file(root, path, '<?xml version="1.0" encoding="UTF-8"?>\n'
                           f'<{list_tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</{list_tag}>\n')


def page_title(page: bytes) -> str:
    """The text of the page's <title>, whitespace folded, at most 150 characters; "" when none.

    Read as UTF-8, a page in another encoding with U+FFFD for what is not (a headline in a
    listing, not the page's own text)."""
    match = TITLE_TAG.search(page)
    return " ".join(html.unescape(match.group(1).decode("utf-8", "replace")).split())[:150] if match else ""


def after_head(page: bytes, tag: bytes) -> bytes:
    """Insert ``tag`` right after the opening ``<head>`` (or at the start when there is none)."""
    match = HEAD_TAG.search(page)
    at = match.end() if match else 0
    return page[:at] + tag + page[at:]


def with_canonical(page: bytes, url: str) -> bytes:
    """The page with its canonical links replaced by one naming ``url``."""
    return after_head(CANONICAL_LINK.sub(b"", page), f'<link rel="canonical" href="{url}">'.encode())


def to_latin1(page: bytes) -> bytes:
    """The UTF-8 page re-encoded as ISO-8859-1, its charset declaration changed to match."""
    page, declared = META_CHARSET.subn(rb"\g<1>iso-8859-1", page)
    if not declared:
        page = after_head(page, b'<meta charset="iso-8859-1">')
    return page.decode("utf-8").encode("iso-8859-1", errors="xmlcharrefreplace")
