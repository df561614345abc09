"""The hostile news site: every fault of tests/fault_server.py behind one home page and its feeds.

``build_hostile_site(server, datasets_dir)`` registers the routes on a running
:class:`~tests.fault_server.FaultServer` and returns what a test needs to check a crawl of
it: each :class:`Case` (a fault, its path, whether its page is a good article that must be
catalogued), and for the charset cases the bytes served and the charset the page itself
declares, so the expected text is computed from what was served.

Good articles are the demo site's French and Arabic pages (real markup: JSON-LD, og:
tags, navigation) re-encoded behind a lying ``charset=utf-8`` header, and English
articles built from ``articles-dev`` ground truth; all live under ``/news/`` (the
source's ``allow``), each with its own text so that none is a duplicate of another.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from cli.demo_pages import demo_site_files
from tests.site_server import BASE_PLACEHOLDER
from tests.fault_server import (
    Exchange,
    FaultServer,
    always,
    bomb,
    compressed,
    failing_first,
    huge,
    page,
    redirect,
    reset_in_body,
    reset_in_headers,
    short_body,
    slow_body,
    slow_headers,
)

BOMB_SIZE = 256 * 1024 * 1024  # decoded; DOWNLOAD_MAXSIZE is 50 MB
HUGE_SIZE = 60 * 1024 * 1024  # on the wire, past DOWNLOAD_MAXSIZE
CAPPED_SIZE = 8 * 1024 * 1024  # under DOWNLOAD_MAXSIZE, past NEWSARCHIVE_EXTRACT_MAX_BYTES
# Extraction takes about 100 s over 16,000 sibling <div>s (200 KB; it grows with the square of
# their number), inside libxml2: far past NEWSARCHIVE_EXTRACT_TIME_LIMIT (10 s) on any machine.
ELEMENT_BOMB_COUNT = 16_000
LONG_CHAIN = 25  # redirects; Scrapy follows REDIRECT_MAX_TIMES = 20
SHORT_CHAIN = 4
UTF8 = "text/html; charset=utf-8"
_META_CHARSET = re.compile(r"""<meta\s+charset=["']?[\w-]+["']?\s*/?>""", re.IGNORECASE)
_CANONICAL = re.compile(r"""<link rel="canonical" href="[^"]*">""")
_OG_URL = re.compile(r"""<meta property="og:url" content="[^"]*">""")


@dataclass
class Case:
    """One fault of the site: where it is, what it does, and whether a good article is behind it."""

    name: str
    path: str  # the path the fault answers (what the server log and WARC records show)
    fault: str  # what the server does
    article: bool = False  # a good article: catalogued exactly once, at canonical base + article_path
    article_path: str | None = None  # where the article is, when the fault path leads there
    served: bytes | None = None  # charset cases: the bytes of the page
    declared: str | None = None  # charset cases: the charset the page declares itself (meta, BOM or lang)
    language: str | None = None


@dataclass
class HostileSite:
    base: str
    cases: list[Case] = field(default_factory=list)

    def sources_toml(self) -> str:
        return (
            "[[source]]\n"
            'name = "hostile"\n'
            f'start_urls = ["{self.base}/"]\n'
            f'feeds = ["{self.base}/feed.json", "{self.base}/rss.xml"]\n'
            "allow = ['/news/']\n"
            'language = "en"\n'
            "max_pages = 400\n"
            "concurrency = 8\n"
            "delay = 0\n"
        )

    @property
    def articles(self) -> list[Case]:
        return [c for c in self.cases if c.article]


def build_hostile_site(server: FaultServer, datasets_dir: Path) -> HostileSite:
    """Register every fault on ``server``; the site's cases in the order of the fault table."""
    base = server.base_url
    site = HostileSite(base)
    english = _english_articles(datasets_dir, base)

    def add(case: Case, fault) -> None:  # type: ignore[no-untyped-def]
        site.cases.append(case)
        server.route(case.path, fault)

    # --- charsets: a UTF-8 header over legacy bytes, BOMs ---------------------------------
    for name, demo, charset, meta, lang, header in (
        ("utf-8 header, windows-1256 body, <meta>", "ar/2026/11/01", "windows-1256", True, "ar", UTF8),
        ("utf-8 header, windows-1256 body, <html lang=ar> only", "ar/2026/11/02", "windows-1256", False, "ar", UTF8),
        ("utf-8 header, ISO-8859-1 body, <meta>", "fr/2026/11/03", "iso-8859-1", True, "fr", UTF8),
        ("utf-8 header, windows-1252 body, <meta>", "fr/2026/11/04", "windows-1252", True, "fr", UTF8),
        ("latin-1 header, UTF-8 BOM body", "fr/2026/11/06", "utf-8-sig", False, "fr",
         "text/html; charset=iso-8859-1"),
        ("no charset, UTF-16LE BOM body", "ar/2026/11/05", "utf-16", False, "ar", "text/html"),
    ):
        path = f"/news/{_slug(name)}.html"
        served = _demo_page(demo, base + path, charset, meta)
        add(Case(name, path, f"{header!r}", article=True, served=served,
                 declared=charset, language=lang), page(served, header))

    # --- retries, redirects ----------------------------------------------------------------
    add(Case("429 twice, Retry-After: 1", "/news/retry-429.html", "429, 429, then 200", article=True),
        failing_first(2, 429, page(english.pop("/news/retry-429.html")), retry_after="1"))
    add(Case("503 once, Retry-After: 3", "/news/retry-503.html", "503, then 200", article=True),
        failing_first(1, 503, page(english.pop("/news/retry-503.html")), retry_after="3"))
    add(Case("redirect, then 503 on the target", "/go/retry-redirect", "302 -> article answering 503 once",
             article=True, article_path="/news/redirect-then-503.html"),
        redirect("/news/redirect-then-503.html"))
    server.route("/news/redirect-then-503.html",
                 failing_first(1, 503, page(english.pop("/news/redirect-then-503.html")), retry_after="1"))
    add(Case("redirect chain", "/go/chain/1", f"{SHORT_CHAIN} redirects to an article", article=True,
             article_path="/news/after-redirects.html"), redirect("/go/chain/2"))
    for hop in range(2, SHORT_CHAIN + 1):
        server.route(f"/go/chain/{hop}", redirect(f"/go/chain/{hop + 1}" if hop < SHORT_CHAIN
                                                  else "/news/after-redirects.html"))
    server.route("/news/after-redirects.html", page(english.pop("/news/after-redirects.html")))
    add(Case("long redirect chain", "/go/long/1", f"{LONG_CHAIN} redirects"), redirect("/go/long/2"))
    for hop in range(2, LONG_CHAIN + 1):
        server.route(f"/go/long/{hop}", redirect(f"/go/long/{hop + 1}" if hop < LONG_CHAIN
                                                 else "/news/beyond-long-chain.html"))
    server.route("/news/beyond-long-chain.html", page(_simple_article("Beyond", ["Never reached."] * 3)))
    add(Case("redirect loop", "/go/loop/a", "a -> b -> a"), redirect("/go/loop/b"))
    server.route("/go/loop/b", redirect("/go/loop/a"))
    add(Case("redirect off site (127.0.0.2)", "/go/offsite", "302 to another loopback host"),
        redirect(f"http://127.0.0.2:{base.rsplit(':', 1)[1]}/news/elsewhere.html"))
    add(Case("redirect to file:", "/go/file", "302 to file:///etc/passwd"), redirect("file:///etc/passwd"))

    # --- bodies that lie or explode ----------------------------------------------------------
    add(Case("gzip bomb", "/news/gzip-bomb.html", f"{len(bomb('gzip', BOMB_SIZE)) // 1024} KB gzip of 256 MiB"),
        compressed("gzip", bomb("gzip", BOMB_SIZE)))
    add(Case("brotli bomb", "/news/brotli-bomb.html", f"{len(bomb('br', BOMB_SIZE)) // 1024} KB brotli of 256 MiB"),
        compressed("br", bomb("br", BOMB_SIZE)))
    add(Case("not gzip under Content-Encoding: gzip", "/news/not-gzip.html", "plain HTML labelled gzip"),
        compressed("gzip", _simple_article("Not gzip", ["This body was never compressed."] * 5)))
    truncated_section = _listing("Truncated gzip", ["/news/after-truncated-gzip.html"], filler=3000)
    add(Case("truncated gzip (section page)", "/section/truncated-gzip.html", "gzip stream cut at 60 %",
             article=True, article_path="/news/after-truncated-gzip.html"),
        compressed("gzip", (z := gzip.compress(truncated_section, mtime=0))[: len(z) * 6 // 10]))
    server.route("/news/after-truncated-gzip.html", page(english.pop("/news/after-truncated-gzip.html")))
    add(Case("random bytes as text/html", "/news/binary.html", "200 KB of random bytes"),
        page(random.Random(9).randbytes(200_000)))
    add(Case("empty body", "/news/empty.html", "200, Content-Length: 0"), page(b""))
    add(Case("huge page, Content-Length", "/news/huge.html", f"{HUGE_SIZE >> 20} MiB announced"),
        huge(HUGE_SIZE, announce_length=True))
    add(Case("huge page, close-delimited", "/news/huge-unknown-length.html", f"{HUGE_SIZE >> 20} MiB, no length"),
        huge(HUGE_SIZE, announce_length=False))
    state = b'{"props": {"items": [' + b'{"id": 1, "text": "filler"}, ' * (CAPPED_SIZE // 28) + b"{}]}}"
    capped = english.pop("/news/big-capped.html").replace(
        b"</body>", b'<script id="__NEXT_DATA__" type="application/json">' + state + b"</script></body>")
    add(Case("8 MiB article (past the extraction cap)", "/news/big-capped.html", "article, then 8 MiB of inline JSON",
             article=True), page(capped))
    element_bomb = _simple_article("Element bomb", ["A short story before a great many empty elements."] * 3)
    element_bomb = element_bomb.replace(b"</body>", b"<div>x</div>\n" * ELEMENT_BOMB_COUNT + b"</body>")
    add(Case("element bomb (past the extraction time limit)", "/news/element-bomb.html",
             f"{ELEMENT_BOMB_COUNT} tiny elements ({len(element_bomb) >> 10} KB)"), page(element_bomb))

    # --- connections that stall or break -----------------------------------------------------
    add(Case("slow loris: headers", "/news/slow-headers.html", "headers 1 byte / 0.5 s (1st try), then 410"),
        slow_headers(server.stopping, 1, always(410)))
    add(Case("slow loris: body", "/news/slow-body.html", "body 1 byte / 0.5 s (1st try), then 410"),
        slow_body(server.stopping, 1, always(410)))
    add(Case("reset in the headers", "/news/reset-headers.html", "TCP RST mid status line"), reset_in_headers)
    add(Case("reset in the body", "/news/reset-body.html", "TCP RST after 3 KB of 10 KB"), reset_in_body)
    add(Case("short body", "/news/short-body.html", "FIN after 40 B of 10 KB"), short_body)
    add(Case("always 500", "/news/always-500.html", "500 every time"), always(500))

    # --- traps --------------------------------------------------------------------------------
    add(Case("calendar trap", "/calendar/2026/11/", "each month links the next and previous"), _calendar)
    server.route("/calendar/*", _calendar)
    add(Case("session ids in URLs (article)", "/news/session.html", "every page links it with a new jsessionid",
             article=True), page(english.pop("/news/session.html")))
    add(Case("session ids in URLs (section)", "/section/sessions.html", "links itself with a new PHPSESSID"),
        page(lambda ex: _listing("Sessions", [f"/section/sessions.html?PHPSESSID={ex.attempt + 1:08x}"])))

    # --- feeds -------------------------------------------------------------------------------------
    add(Case("JSON Feed item", "/news/json-feed-only.html", "only in /feed.json", article=True),
        page(english.pop("/news/json-feed-only.html")))
    add(Case("RSS <link> item", "/news/rss-only.html", "only in /rss.xml", article=True),
        page(english.pop("/news/rss-only.html")))
    add(Case('RSS <guid isPermaLink="false">', "/news/not-a-permalink.html", "a URL in a non-permalink guid"),
        page(_simple_article("Not a permalink", ["A guid that is not a permalink names no page."] * 5)))
    add(Case("plain article", "/news/plain.html", "an ordinary page, in the sitemap", article=True),
        page(english.pop("/news/plain.html")))
    server.route("/feed.json", page(_json_feed(base), "application/feed+json"))
    server.route("/rss.xml", page(_rss(base), "application/rss+xml"))
    server.route("/sitemap.xml", page(_sitemap(base, ["/news/plain.html"]), "application/xml"))
    server.route("/robots.txt", page(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n".encode(),
                                     "text/plain"))
    linked = [c.path for c in site.cases if c.path not in ("/news/json-feed-only.html", "/news/rss-only.html",
                                                           "/news/not-a-permalink.html")]
    linked += ["/news/session.html;jsessionid=0A1B2C", "/news/session.html?PHPSESSID=deadbeef",
               f"http://127.0.0.2:{base.rsplit(':', 1)[1]}/news/other-host.html", "ftp://127.0.0.1/news/ftp.html"]
    server.route("/", page(_listing("Hostile News", linked, feeds=True)))
    assert not english, f"unused articles: {sorted(english)}"
    return site


# --- pages ------------------------------------------------------------------------------------
def _english_articles(datasets_dir: Path, base: str) -> dict[str, bytes]:
    """Simple English article pages from articles-dev ground truth, by the path they are served at."""
    rows = [json.loads(line) for line in (datasets_dir / "articles-dev" / "ground-truth.jsonl").open()]
    texts = [r for r in sorted(rows, key=lambda r: r["id"]) if r["lang"] == "en" and len(r["articleBody"]) > 1500]
    names = ["retry-429", "retry-503", "redirect-then-503", "after-redirects", "after-truncated-gzip",
             "big-capped", "session", "json-feed-only", "rss-only", "plain"]
    pages = {}
    for name, row in zip(names, texts, strict=False):
        path = f"/news/{name}.html"
        paragraphs = [p.strip() for p in row["articleBody"].split("\n") if p.strip()]
        pages[path] = _simple_article(paragraphs[0][:80], paragraphs, canonical=base + path)
    return pages


def _simple_article(title: str, paragraphs: list[str], lang: str = "en", canonical: str | None = None) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    related = '<aside><a href="/news/session.html;jsessionid={{SESSION}}">More</a></aside>'
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{link}'
        '<meta property="og:type" content="article"></head><body><header><nav><a href="/">Home</a></nav></header>'
        f"<main><article><h1>{html.escape(title)}</h1>\n{body}</article>{related}</main>"
        "<footer><p>Hostile News</p></footer></body></html>"
    ).replace("{{SESSION}}", f"{random.Random(title).getrandbits(48):012X}").encode()


def _demo_page(demo_dir: str, url: str, charset: str, keep_meta: bool) -> bytes:
    """The demo site's article in ``demo_dir``, at ``url``, encoded in ``charset``.

    ``<meta charset>`` names ``charset`` when ``keep_meta``, else is removed. ``utf-8-sig``
    and ``utf-16`` (little-endian) write a byte order mark.
    """
    (stored,) = (data for path, data in demo_site_files().items()
                 if path.startswith(f"/{demo_dir}/") and not path.endswith(".amp.html"))
    stored_charset = re.search(rb"""<meta charset="([\w-]+)">""", stored)[1].decode()  # type: ignore[index]
    text = stored.decode(stored_charset).replace(BASE_PLACEHOLDER, url.rsplit("/news/", 1)[0])
    text = _CANONICAL.sub(f'<link rel="canonical" href="{url}">', text)
    text = _OG_URL.sub(f'<meta property="og:url" content="{url}">', text)
    text = _META_CHARSET.sub(f'<meta charset="{charset}">' if keep_meta else "", text)
    if charset == "utf-16":
        return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    return text.encode(charset, errors="xmlcharrefreplace")


def _listing(title: str, paths: list[str], *, feeds: bool = False, filler: int = 0) -> bytes:
    links = "\n".join(f'<li><a href="{html.escape(p)}">{html.escape(p)}</a></li>' for p in paths)
    announce = ('<link rel="alternate" type="application/feed+json" href="/feed.json">'
                '<link rel="alternate" type="application/rss+xml" href="/rss.xml">') if feeds else ""
    padding = "".join(f"<p>Filler paragraph {n} of the listing.</p>\n" for n in range(filler))
    return (f"<!DOCTYPE html><html><head><title>{title}</title>{announce}</head><body>"
            f"<h1>{title}</h1><ul>\n{links}\n</ul>{padding}</body></html>").encode()


def _calendar(exchange: Exchange) -> None:
    """/calendar/YYYY/MM/: a month with links to the months around it, forever."""
    match = re.match(r"/calendar/(\d+)/(\d+)/", exchange.path)
    year, month = (int(match[1]), int(match[2])) if match else (2026, 11)
    around = [(year + (month + d - 1) // 12, (month + d - 1) % 12 + 1) for d in (-1, 1)]
    exchange.reply(200, [("Content-Type", UTF8)],
                   _listing(f"Calendar {year}-{month:02d}", [f"/calendar/{y}/{m:02d}/" for y, m in around]))


def _json_feed(base: str) -> bytes:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile News",
        "home_page_url": base + "/",
        "items": [
            {"id": "1", "url": base + "/news/json-feed-only.html", "date_published": "2026-11-20T08:00:00Z",
             "content_text": "An item."},
            {"id": "2", "external_url": "https://elsewhere.example/commented.html", "content_text": "A link post."},
            {"id": "3", "url": "javascript:alert(1)"},
            {"id": "4", "url": base + "/news/plain.html", "date_published": "not a date"},
        ],
    }).encode()


def _rss(base: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Hostile News</title>'
        f"<link>{base}/</link>"
        f"<item><title>RSS only</title><link>{base}/news/rss-only.html</link>"
        "<guid>tag:hostile.example,2026:rss-only</guid><pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate></item>"
        f'<item><title>Opaque id</title><guid isPermaLink="false">{base}/news/not-a-permalink.html</guid></item>'
        "<item><title>Number</title><guid>48213</guid></item>"
        "</channel></rss>"
    ).encode()


def _sitemap(base: str, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
