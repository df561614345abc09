"""The demo newspaper's pages, rendered from one data file through one page template.

``cli/demo_site/newspaper.toml`` holds the paper (its editions, one per language, and its
articles: title, section, author, date, image, paragraphs); ``cli/demo_site/templates/``
holds ``page.html`` (every HTML page: home, sections, articles, their AMP copies, the
staff page) and the feed and sitemaps. :func:`demo_site_files` renders them, with the
static files (``media/``, ``static/``, ``robots.txt``, ``sitemap.xml``) and the server's
``_site.toml`` (``/latest`` redirects to the newest article; pages in a legacy charset
say so in Content-Type), as ``{URL path: bytes}``; :func:`render_demo_site` writes them
into a folder for :class:`cli.demo_server.DemoServer`.

What is derived rather than written out: section pages (newest first, ``per_page`` to a
page, rel=next/prev), the home page's teasers (the newest articles of all editions), the
related links under an article (the other articles of its edition, then the newest of
another), the feed, the news sitemap and the sitemap of section pages. Rendering is
deterministic, so a second demo gets the same bytes, hence the same ETags and its 304s.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cli.demo_server import BASE_PLACEHOLDER, SITE_CONFIG

DEMO_SITE = Path(__file__).with_name("demo_site")  # the demo newspaper's data, templates and static files
NEWSPAPER = "newspaper.toml"
TEMPLATES = "templates"
STATIC = ("media", "static", "robots.txt", "sitemap.xml")  # served as they are


@dataclass(frozen=True)
class Article:
    """One article of ``newspaper.toml``."""

    path: str  # its URL path, /LANG/YYYY/MM/DD/slug.html
    edition: str  # the language code of its edition
    section: str
    title: str
    lead: str
    author: str
    published: datetime
    image: dict[str, str]  # src, alt, caption
    body: list[str]  # paragraphs
    charset: str = "utf-8"
    amp: bool = False
    related: list[Article] = field(default_factory=list, compare=False)

    @property
    def amp_path(self) -> str:
        return self.path.removesuffix(".html") + ".amp.html"


def demo_site_files(source: Path = DEMO_SITE) -> dict[str, bytes]:
    """Every file of the demo site, by URL path (``/fr/`` for ``fr/index.html``)."""
    paper = tomllib.loads((source / NEWSPAPER).read_text(encoding="utf-8"))
    editions: dict[str, dict[str, Any]] = paper["editions"]
    articles = sorted((Article(**a) for a in paper["article"]), key=lambda a: a.published, reverse=True)
    for article in articles:
        own = [a for a in articles if a.edition == article.edition and a is not article]
        article.related.extend([*own, next(a for a in articles if a.edition != article.edition)])
    env = Environment(loader=FileSystemLoader(source / TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=False)
    env.filters["display_time"] = display_time
    env.filters["rfc2822"] = format_datetime
    common = {"BASE": BASE_PLACEHOLDER, "editions": editions, "home": paper["home"], "private": paper["private"],
              "articles": articles, "ed": editions[paper["home"]["edition"]]}
    template = env.get_template("page.html")
    files: dict[str, bytes] = {}

    def page(path: str, charset: str = "utf-8", **fields: Any) -> None:
        edition = editions[fields["lang"]]
        text = _apostrophes(template.render(common, page={"charset": charset, "edition": edition, "path": path,
                                                          **fields}))
        files[path] = text.encode(charset, errors="xmlcharrefreplace")  # what a legacy charset lacks: &#...;

    home = paper["home"]
    most_read = next(a for a in articles if a.path == home["most_read_path"])
    page("/", kind="home", lang=home["edition"], title=home["title"], most_read=most_read,
         articles=[a for a in articles if a is not most_read][:home["teasers"]])
    sections = []
    for code, edition in editions.items():
        own = [a for a in articles if a.edition == code]
        per_page = edition["per_page"]
        chunks = [own[i:i + per_page] for i in range(0, len(own), per_page)]
        paths = [f"/{code}/" if n == 0 else f"/{code}/page/{n + 1}/" for n in range(len(chunks))]
        for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True)):
            title = edition["section"] if n == 0 else f"{edition['section']} - {edition['page']} {n + 1}"
            page(path, kind="section", lang=code, title=f"{title} | {edition['name']}", articles=chunk,
                 previous=paths[n - 1] if n else None, next=paths[n + 1] if n + 1 < len(paths) else None)
        sections += paths
    for article in articles:
        edition = editions[article.edition]
        fields = {"lang": article.edition, "title": f"{article.title} | {edition['name']}", "article": article,
                  "related": article.related, "json_ld": _json_ld(article, edition)}
        page(article.path, article.charset, kind="article", **fields)
        if article.amp:
            page(article.amp_path, article.charset, kind="amp", **fields)
    page("/private/", kind="private", lang=home["edition"],
         title=f"{paper['private']['title']} | {editions[home['edition']]['name']}")
    for name, context in (("rss.xml", {}), ("sitemap-news.xml", {}), ("sitemap-pages.xml", {"pages": ["/", *sections]})):
        files[f"/{name}"] = _apostrophes(env.get_template(name).render(common, **context)).encode()
    files["/" + SITE_CONFIG] = _site_config(articles).encode()
    for name in STATIC:
        path = source / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file():
                files["/" + file.relative_to(source).as_posix()] = file.read_bytes()
    return files


def render_demo_site(root: Path, source: Path = DEMO_SITE) -> Path:
    """Write the demo site into ``root`` (created when missing); ``root``.

    Every file is dated as ``newspaper.toml`` is, so Last-Modified does not change from
    one rendering to the next.
    """
    stamp = (source / NEWSPAPER).stat().st_mtime
    for path, data in demo_site_files(source).items():
        target = root / path.lstrip("/")
        if path.endswith("/"):
            target /= "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, (stamp, stamp))
    return root


def display_time(moment: datetime, edition: dict[str, Any]) -> str:
    """A date and time as the edition prints it: ``5 November 2026, 08:15``, ``4 novembre 2026 à 18h45``."""
    return edition["time_format"].format(day=moment.day, month=edition["months"][moment.month - 1],
                                         year=moment.year, hour=f"{moment:%H}", minute=f"{moment:%M}")


def _apostrophes(text: str) -> str:
    """Autoescaping writes ' as &#39;; the templates quote every attribute with ", so ' can stay as it is."""
    return text.replace("&#39;", "'")


def _json_ld(article: Article, edition: dict[str, Any]) -> str:
    """The article's schema.org NewsArticle, safe inside ``<script>``."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": BASE_PLACEHOLDER + article.path,
        "headline": article.title,
        "description": article.lead,
        "image": [BASE_PLACEHOLDER + article.image["src"]],
        "datePublished": article.published.isoformat(),
        "dateModified": article.published.isoformat(),
        "inLanguage": article.edition,
        "articleSection": article.section,
        "author": [{"@type": "Person", "name": article.author}],
        "publisher": {"@type": "Organization", "name": edition["name"],
                      "logo": {"@type": "ImageObject", "url": BASE_PLACEHOLDER + "/media/logo.svg"}},
    }
    return json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")


def _site_config(articles: list[Article]) -> str:
    """The server's rules: /latest to the newest article, and the Content-Type of legacy-charset pages."""
    lines = ["# Rendered by cli/demo_pages.py; the format is described in cli/demo_server.py.", "",
             "[redirects]", f'"/latest" = {json.dumps(articles[0].path)}']
    for article in articles:
        if article.charset != "utf-8":
            for path in (article.path, article.amp_path) if article.amp else (article.path,):
                lines += ["", f"[headers.{json.dumps(path)}]", f'Content-Type = "text/html; charset={article.charset}"']
    return "\n".join(lines) + "\n"
