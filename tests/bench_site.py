"""A synthetic news site of any size: the crawl benchmark's, and the tests' where many plain articles are wanted.

``build_bench_site(root, n)`` writes n article pages with news markup and generated English
text (deterministic: article i is the same whatever n is), section pages linking all of
them 50 to a page, an RSS feed of the newest 50, a sitemap of every article and a
robots.txt. Serve the folder with :func:`tests.site_server.serve_site`; URLs in it use
the server's ``{{BASE}}`` placeholder. Article URLs match ``/news/\\d{4}/\\d{2}/\\d{2}/``.

The files are written with :mod:`tests.site_builder`, as the other test sites are.

    python -m tests.bench_site DIR --articles 1000
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.site_builder import Listed, html_page, write_file, write_listing, write_robots, write_rss, write_sitemap
from tests.site_server import BASE_PLACEHOLDER as BASE

LINKS_PER_PAGE = 50  # a typical news section page lists 20-60 headlines
FEED_SIZE = 50  # feeds carry the newest items only, as news sites' feeds do
FIRST_PUBLISHED = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
PUBLISHED_EVERY = timedelta(hours=3)  # ~8 stories a day: 1000 articles span about 4 months


# --- Generated text ------------------------------------------------------------------
# Many small pools combined at random, so two articles share few word 4-grams and the
# catalogue's near-duplicate detection does not link them: over the first 200 articles,
# shingle Jaccard similarity is at most 0.23 and 64-bit SimHash distance at least 13.
_SUBJECTS = (
    "The city council",
    "Regional officials",
    "The port authority",
    "A coalition of farmers",
    "The transport ministry",
    "Local traders",
    "The university board",
    "Health inspectors",
    "The water utility",
    "A group of residents",
    "The national rail operator",
    "Tourism officials",
    "The chamber of commerce",
    "Teachers' unions",
    "The weather service",
    "Fishing cooperatives",
)
_VERBS = (
    "approved",
    "postponed",
    "announced",
    "criticised",
    "welcomed",
    "revised",
    "questioned",
    "presented",
    "defended",
    "expanded",
    "cancelled",
    "reviewed",
    "unveiled",
    "funded",
)
_OBJECTS = (
    "a plan to renovate the old market",
    "the budget for coastal roads",
    "new rules on night deliveries",
    "a study of groundwater levels",
    "the timetable for the summer ferries",
    "a training scheme for nurses",
    "the tender for a desalination plant",
    "a programme of school repairs",
    "the merger of two clinics",
    "a proposal to widen the ring road",
    "plans for a cycling network",
    "the sale of municipal land",
    "a grant for rooftop solar panels",
    "the closure of a textile factory",
    "a festival of street music",
)
_COMPLEMENTS = (
    "after months of debate",
    "despite objections from the opposition",
    "ahead of the winter season",
    "following a public consultation",
    "to the surprise of many observers",
    "at a meeting on Tuesday",
    "in a statement released late on Monday",
    "as costs continued to rise",
    "under pressure from donors",
    "for the third year in a row",
    "before the end of the fiscal year",
    "amid a shortage of workers",
)
_PEOPLE = (
    "Amina Haddad",
    "Karim Benali",
    "Sofia Martins",
    "Youssef El Idrissi",
    "Claire Dubois",
    "Omar Tazi",
    "Leila Mansour",
    "Daniel Ortega Ruiz",
    "Nadia Cherif",
    "Hamza Ouali",
)
_ROLES = (
    "a spokesperson for the council",
    "an economist at the regional institute",
    "a local shop owner",
    "the head of the workers' association",
    "a civil engineer on the project",
    "a retired teacher",
    "the deputy mayor",
    "a researcher in hydrology",
    "the director of the port",
    "a union delegate",
)
_QUOTES = (
    "We have waited a long time for this decision",
    "The figures simply do not add up",
    "This will change the way people travel to work",
    "Nobody asked the families who live here",
    "It is a first step, but much remains to be done",
    "The schedule is ambitious but realistic",
    "We expect the first results within a year",
    "The money must reach the smaller towns too",
)
_FACTS = (
    "The project is expected to cost {n} million dinars over {k} years.",
    "About {n} households are directly affected, according to official estimates.",
    "Turnout at the consultation reached {p} percent, well above the previous one.",
    "Prices in the sector rose by {p} percent last year.",
    "The first phase covers {n} kilometres and should be finished within {k} months.",
    "Some {n} jobs could be created, most of them in construction.",
)


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return (
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_COMPLEMENTS)}."
        )
    if kind < 0.8:
        return f'"{rng.choice(_QUOTES)}," said {rng.choice(_PEOPLE)}, {rng.choice(_ROLES)}.'
    return rng.choice(_FACTS).format(n=rng.randint(12, 950), k=rng.randint(2, 9), p=rng.randint(3, 78))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].rstrip("-")


def bench_article(index: int) -> tuple[Listed, list[str]]:
    """Article ``index``: its listing entry and its paragraphs; the same for a given index."""
    rng = random.Random(index)
    title = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    published = FIRST_PUBLISHED + index * PUBLISHED_EVERY
    path = f"/news/{published:%Y/%m/%d}/{_slug(title)}-{index}.html"
    paragraphs = [
        " ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(6, 10))
    ]
    return Listed(path, title, published), paragraphs


def _article_html(entry: Listed, paragraphs: list[str], author: str, related: Sequence[Listed]) -> str:
    """News markup as sites have it: metadata, navigation, byline, related links and footer around the text."""
    title = html.escape(entry.title)
    when = entry.published.isoformat()
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": entry.title,
        "datePublished": when,
        "author": {"@type": "Person", "name": author},
    }
    head = (
        f'<link rel="canonical" href="{BASE}{entry.path}">\n'
        f'<meta name="author" content="{author}">\n'
        f'<meta property="og:type" content="article">\n<meta property="og:title" content="{title}">\n'
        f'<meta property="og:url" content="{BASE}{entry.path}">\n'
        f'<meta property="article:published_time" content="{when}">\n'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>\n'
    )
    text = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    links = "\n".join(f'<li><a href="{r.path}">{html.escape(r.title)}</a></li>' for r in related)
    body = (
        f'<header class="masthead"><a href="/">The Bench Gazette</a>'
        '<nav><a href="/">Home</a> <a href="/news/">All news</a></nav></header>\n'
        f"<main><article>\n<h1>{title}</h1>\n"
        f'<p class="byline">By <span class="author">{author}</span>, '
        f'<time datetime="{when}">{entry.published:%d %B %Y, %H:%M}</time></p>\n'
        f"{text}\n</article>\n"
        f'<aside class="related"><h2>Read more</h2><ul>\n{links}\n</ul></aside></main>\n'
        "<footer><p>&copy; The Bench Gazette, a synthetic newspaper for benchmarks.</p>"
        '<a href="/news/">All news</a> <a href="/rss.xml">RSS</a></footer>'
    )
    return html_page(entry.title, body, head=head)


def build_bench_site(root: Path, n_articles: int = 1000) -> None:
    """Write the benchmark site into ``root``: articles, paginated sections, RSS, sitemap, robots.txt."""
    root.mkdir(parents=True, exist_ok=True)
    articles = [bench_article(i) for i in range(n_articles)]
    entries = [entry for entry, _ in articles]
    for index, (entry, paragraphs) in enumerate(articles):
        related = [entries[(index - k) % n_articles] for k in range(1, 6) if n_articles > k]
        author = random.Random(-index).choice(_PEOPLE)
        write_file(root, entry.path, _article_html(entry, paragraphs, author, related))
    newest_first = entries[::-1]
    sections = write_listing(root, "/news/", "All news", newest_first, LINKS_PER_PAGE)
    latest = "\n".join(f'<li><a href="{e.path}">{html.escape(e.title)}</a></li>' for e in newest_first[:10])
    write_file(
        root,
        "/",
        html_page(
            "The Bench Gazette",
            f'<h1>The Bench Gazette</h1>\n<ul>\n{latest}\n</ul>\n<p><a href="/news/">All news</a></p>',
        ),
    )
    write_rss(root, "/rss.xml", "The Bench Gazette", newest_first[:FEED_SIZE])
    write_sitemap(root, "/sitemap.xml", ["/", *sections, *(e.path for e in entries)])
    write_robots(root, [], "/sitemap.xml")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write the benchmark site into a folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder to write the site into")
    parser.add_argument("--articles", type=int, default=1000, help="number of article pages (default 1000)")
    args = parser.parse_args(argv)
    build_bench_site(args.dir, args.articles)
    print(f"wrote {args.articles} articles to {args.dir}; serve it with tests.site_server.serve_site")


if __name__ == "__main__":
    main()
