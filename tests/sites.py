"""The fixture news site of the end-to-end crawl test, built from real pages of ``articles-dev``.

``build_fixture_site(root, datasets_dir)`` lays out, for :func:`tests.site_server.serve_site`,
a site whose every page is a real news page with known ground truth, reached in every way a
crawler meets on the web: section pages with pagination, an RSS feed, a sitemap index (found
through robots.txt) over a Google News sitemap and a plain one, a tracking-parameter link,
an AMP copy, a syndicated copy, a redirect, a 404, a page disallowed by robots.txt, a page
the source's ``deny`` rule excludes and an ISO-8859-1 page. One article is only in the feed
and one only in the plain sitemap, so a crawl that finds them all has used both.

Article pages are served with the stored bytes; only ``<link rel=canonical>`` is replaced so
it names the local URL (og:url and everything else still say where the page came from), and
the ISO-8859-1 page is re-encoded (characters outside Latin-1 become character references,
so its text is unchanged). ``fetch`` is the plain HTTP request the tests of local sites share.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from tests.site_builder import (
    TITLE_TAG,
    Listed,
    after_head,
    html_page,
    page_title,
    to_latin1,
    with_canonical,
    write_file,
    write_listing,
    write_news_sitemap,
    write_robots,
    write_rss,
    write_sitemap,
    write_sitemap_index,
)
from tests.site_server import BASE_PLACEHOLDER as BASE
from tests.site_server import SITE_CONFIG

ARTICLE_PATTERN = r"/(?:news|partner)/2019/\d+/"  # articles, their AMP and syndicated copies
DENY_PATTERN = r"/comments\.html$"  # comment pages sit under article paths but are not articles
FEED_PATH = "/rss.xml"
SITEMAP_PATH = "/sitemap.xml"  # a sitemap index, named in robots.txt
PER_PAGE = 4  # headlines per section page: 12 articles make three pages to paginate through
NEWEST = datetime(2019, 11, 20, 18, 0, tzinfo=UTC)
MIN_ARTICLES = 8  # one plain article, four with variants, one Latin-1, one feed-only, one sitemap-only



@dataclass(frozen=True)
class FixtureArticle:
    """One distinct article of the site and its ground truth."""

    path: str  # URL path of its main page, which its canonical link names
    id: str  # ground-truth id in articles-dev
    body: str  # ground-truth articleBody
    title: str
    language: str


@dataclass(frozen=True)
class Variant:
    """Another URL that serves an article's text."""

    path: str
    article: FixtureArticle


@dataclass(frozen=True)
class FixtureSite:
    """What the built site holds, for a test to check a crawl of it against."""

    root: Path
    articles: list[FixtureArticle]  # each distinct article once
    amp: Variant  # an AMP copy whose canonical is the article's: the same article
    tracking: Variant  # the article's URL with utm_ parameters: the same article
    syndicated: Variant  # the same HTML at /partner/... with its own canonical: a duplicate
    redirect: Variant  # /go/N, answered 301 to the article
    latin1_path: str  # an article served as ISO-8859-1 (header and <meta>)
    feed_only_path: str  # an article linked from the RSS feed alone
    sitemap_only_path: str  # an article listed in the plain sitemap alone (robots.txt -> index -> sitemap)
    denied_path: str  # matches the allow rule and the deny rule: not an article
    disallowed_path: str  # linked from the home page, disallowed by robots.txt: never fetched
    missing_path: str  # linked from the home page, answers 404
    section_paths: list[str]  # section pages, first page first
    feed_path: str = FEED_PATH
    sitemap_path: str = SITEMAP_PATH

    def sources_toml(self, base_url: str) -> str:
        """A sources file with the source ``fixture-news`` for the site served at ``base_url``.

        Sitemaps are not listed: the crawler must find them through robots.txt.
        """
        return (
            "[[source]]\n"
            'name = "fixture-news"\n'
            f'start_urls = ["{base_url}/"]\n'
            f'feeds = ["{base_url}{self.feed_path}"]\n'
            f"allow = ['{ARTICLE_PATTERN}']\n"
            f"deny = ['{DENY_PATTERN}']\n"
            'language = "en"\n'
            "max_pages = 1000  # the real pages link many local paths that answer 404\n"
            "concurrency = 8\n"
            "delay = 0\n"
        )


def build_fixture_site(root: Path, datasets_dir: Path, n_articles: int = 12) -> FixtureSite:
    """Build the site in ``root`` from the first ``n_articles`` pages (by id) of ``articles-dev``."""
    if n_articles < MIN_ARTICLES:
        raise ValueError(f"the fixture site needs at least {MIN_ARTICLES} articles, got {n_articles}")
    dataset = datasets_dir / "articles-dev"
    with (dataset / "ground-truth.jsonl").open(encoding="utf-8") as lines:
        truths = sorted((json.loads(line) for line in lines), key=lambda row: row["id"])[:n_articles]
    pages = [(dataset / f"{row['id']}.html").read_bytes() for row in truths]
    articles = [
        FixtureArticle(
            path=f"/news/2019/{n}/{_slug(row['url'])}.html",
            id=row["id"],
            body=row["articleBody"],
            title=page_title(page) or _slug(row["url"]),
            language=row["lang"],
        )
        for n, (row, page) in enumerate(zip(truths, pages, strict=True), start=1)
    ]
    html_of = {a.path: page for a, page in zip(articles, pages, strict=True)}
    amp = Variant(articles[1].path.replace(".html", ".amp.html"), articles[1])
    tracking = Variant(articles[2].path + "?utm_source=home&utm_medium=web", articles[2])
    syndicated = Variant(articles[3].path.replace("/news/", "/partner/"), articles[3])
    redirect = Variant("/go/5", articles[4])  # /go/<n> leads to /news/2019/<n>/...
    feed_only, sitemap_only = articles[-2], articles[-1]
    latin1 = max(articles[5:-2], key=lambda a: sum(127 < ord(c) < 256 for c in a.body))
    denied_path = articles[0].path.replace(".html", "/comments.html")
    disallowed_path = "/private/drafts.html"

    for article in articles:
        page = with_canonical(html_of[article.path], BASE + article.path)
        write_file(root, article.path, to_latin1(page) if article is latin1 else page)
    write_file(root, amp.path, with_canonical(html_of[amp.article.path], BASE + amp.article.path))
    write_file(
        root, syndicated.path, with_canonical(html_of[syndicated.article.path], BASE + syndicated.path)
    )
    write_file(root, denied_path, html_page("Comments", "<h1>Comments</h1>\n<p>No comments yet.</p>"))
    write_file(root, disallowed_path, html_page("Drafts", "<h1>Staff only</h1>\n<p>Unpublished drafts.</p>"))
    write_file(
        root,
        "/" + SITE_CONFIG,
        f"[redirects]\n{json.dumps(redirect.path)} = {json.dumps(redirect.article.path)}\n\n"
        f"[headers.{json.dumps(latin1.path)}]\n"
        'Content-Type = "text/html; charset=iso-8859-1"\n',
    )

    entries = {
        a.path: Listed(a.path, a.title, NEWEST - timedelta(hours=5 * i), a.language)
        for i, a in enumerate(articles)
    }
    in_sections = [e for path, e in entries.items() if path not in (feed_only.path, sitemap_only.path)]
    section_paths = write_listing(root, "/news/", "All news", in_sections, PER_PAGE)
    half = len(in_sections) // 2
    write_rss(root, FEED_PATH, "Fixture News", [entries[feed_only.path], *in_sections[:half]])
    write_news_sitemap(root, "/sitemap-news.xml", "Fixture News", in_sections[half:])
    write_sitemap(root, "/sitemap-pages.xml", ["/", *section_paths, sitemap_only.path])
    write_sitemap_index(root, SITEMAP_PATH, ["/sitemap-news.xml", "/sitemap-pages.xml"])
    write_robots(root, ["/private/"], SITEMAP_PATH)
    site = FixtureSite(
        root=root,
        articles=articles,
        amp=amp,
        tracking=tracking,
        syndicated=syndicated,
        redirect=redirect,
        latin1_path=latin1.path,
        feed_only_path=feed_only.path,
        sitemap_only_path=sitemap_only.path,
        denied_path=denied_path,
        disallowed_path=disallowed_path,
        missing_path="/news/2019/404/removed-story.html",
        section_paths=section_paths,
    )
    write_file(root, "/", _home_page(site, in_sections[:3]))
    return site


SCRIPTS_AND_STYLES = re.compile(
    rb"<(script|style|noscript)\b(?![^>]*application/ld\+json)[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_PARAGRAPH = re.compile(rb"<p\b[^>]*>(.*?)</p\s*>", re.IGNORECASE | re.DOTALL)
COPIES_PATTERN = r"/news/2019/\d+/"
PHOTO_EVERY = 4  # copies with an inline photo
PHOTO_BYTES = 48_000  # random, so incompressible: some 64 kB of base64 in the page
PHOTO_FILE_BYTES = 20_000  # each copy's photo file, its one requisite on the site
ORIGINAL_SITE = "https://original.example/"  # where a copy's own relative links lead (<base>)


@dataclass(frozen=True)
class CopiesSite:
    """A site of many distinct articles made from a few real pages (see :func:`build_copies_site`)."""

    root: Path
    article_paths: list[str]  # each page's own URL path, which its canonical link names

    def sources_toml(self, base_url: str, name: str = "copies-news") -> str:
        return (
            "[[source]]\n"
            f'name = "{name}"\n'
            f'start_urls = ["{base_url}/"]\n'
            f'feeds = ["{base_url}{FEED_PATH}"]\n'
            f"allow = ['{COPIES_PATTERN}']\n"
            'language = "en"\n'
            "max_pages = 5000\n"
            "concurrency = 8\n"
            "delay = 0\n"
        )


def build_copies_site(root: Path, datasets_dir: Path, n_articles: int = 300,
                      n_originals: int | None = 30) -> CopiesSite:
    """Build a site of ``n_articles`` pages, copies of real pages of ``../shared/datasets``.

    The originals: the ``n_originals`` smallest pages of ``articles-dev`` (a quick site for
    tests), or with None every page of the three sets, in a dozen languages (the crawl
    benchmark's). Every copy is its own article: its own URL, its canonical link naming it,
    its title and its longest paragraph (the article's, in a news page) marked with its
    number, so no two have the same text; every fourth has a photo inlined as a ``data:``
    URL, as some CMSs do, which makes its WARC record large (zlib then writes it out in
    pieces). Scripts and styles are left out (the crawler runs none, and trafilatura is then
    two to three times faster); the rest of each page is as stored. Section pages list every
    article, 50 a page; the feed has the newest 50 and the sitemap (named in robots.txt) all
    of them.
    """
    sets = ("articles-dev",) if n_originals else ("articles-dev", "multilingual-dev", "dates-dev")
    stripped = {path: SCRIPTS_AND_STYLES.sub(b"", path.read_bytes())
                for name in sets for path in (datasets_dir / name).glob("*.html")}
    by_size = sorted(stripped, key=lambda path: (len(stripped[path]), path.name))
    originals = sorted(by_size[:n_originals] if n_originals else by_size)
    paths, entries = [], []
    for n in range(n_articles):
        original = originals[n % len(originals)]
        page = stripped[original]
        path = f"/news/2019/{n}/{original.stem[:12]}-{n // len(originals)}.html"
        title = f"{page_title(page) or original.stem} (no. {n})"
        if (stated := TITLE_TAG.search(page)) is not None:  # in the page's own encoding: bytes
            page = page[:stated.end(1)] + f" (no. {n})".encode() + page[stated.end(1):]
        longest = max(_PARAGRAPH.finditer(page), key=lambda m: len(m.group(1)), default=None)
        if longest is not None:
            at = longest.start(1) + len(longest.group(1))
            page = page[:at] + f" Copy number {n}.".encode() + page[at:]
        if n % PHOTO_EVERY == 0:
            page = _with_inline_photo(page, n)
        # The page's own links and requisites resolve on the site it came from, as they would in a
        # copy of another site's page, not to pages and files this site has not got; its photo is here.
        page = after_head(page, f'<base href="{ORIGINAL_SITE}">'.encode())
        page = _after_body(page, f'<img alt="" src="{BASE}/img/{n}.jpg">'.encode())
        write_file(root, f"/img/{n}.jpg", b"\xff\xd8\xff\xe0" + random.Random(n).randbytes(PHOTO_FILE_BYTES))
        write_file(root, path, with_canonical(page, BASE + path))
        paths.append(path)
        entries.append(Listed(path, title, NEWEST - timedelta(hours=n)))
    sections = write_listing(root, "/news/", "All news", entries, 50)
    write_rss(root, FEED_PATH, "Copies News", entries[:50])
    write_sitemap(root, SITEMAP_PATH, ["/", *sections, *paths])
    write_robots(root, [], SITEMAP_PATH)
    write_file(root, "/", html_page("Copies News", f'<h1>Copies News</h1>\n<p><a href="{sections[0]}">All news</a></p>'))
    return CopiesSite(root, paths)


def _with_inline_photo(page: bytes, seed: int) -> bytes:
    """The page with a JPEG-sized ``data:`` image right after ``<body>``."""
    rng = random.Random(seed)
    photo = base64.b64encode(b"\xff\xd8\xff\xe0" + rng.randbytes(PHOTO_BYTES))
    return _after_body(page, b'<img alt="" width="640" height="360" src="data:image/jpeg;base64,' + photo + b'">')


def _after_body(page: bytes, tag: bytes) -> bytes:
    match = re.search(rb"<body\b[^>]*>", page, re.IGNORECASE)
    at = match.end() if match else 0
    return page[:at] + tag + page[at:]


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and raw body of one request to a local site; redirects are not followed.

    Header names are given with underscores: ``fetch(url, Accept_Encoding="gzip")``.
    """
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        url, method=method, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # hand the 3xx back to the caller


def _home_page(site: FixtureSite, top: list[Listed]) -> str:
    """The home page: top stories, the section, and every special link the test checks."""

    def link(path: str, text: str) -> str:
        return f'<li><a href="{html.escape(path)}">{html.escape(text)}</a></li>'

    stories = "\n".join(link(e.path, e.title) for e in top)
    special = "\n".join(
        [
            link(site.tracking.path, site.tracking.article.title),
            link(site.amp.path, f"{site.amp.article.title} (AMP)"),
            link(site.syndicated.path, f"From our partners: {site.syndicated.article.title}"),
            link(site.redirect.path, site.redirect.article.title),
            link(site.denied_path, "Comments"),
            link(site.missing_path, "A story that was taken down"),
            link(site.disallowed_path, "Staff drafts"),
        ]
    )
    body = (
        f'<h1>Fixture News</h1>\n<nav><a href="{site.section_paths[0]}">All news</a> '
        f'<a href="{FEED_PATH}">RSS</a></nav>\n'
        f"<h2>Top stories</h2>\n<ul>\n{stories}\n</ul>\n<h2>Elsewhere</h2>\n<ul>\n{special}\n</ul>"
    )
    return html_page("Fixture News", body)


def _slug(url: str) -> str:
    """A readable file name from the page's original URL: its last path segment."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    last = re.sub(r"\.\w+$", "", segments[-1]) if segments else ""
    return re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-")[:60].rstrip("-") or "article"


