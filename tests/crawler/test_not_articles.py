"""Article URLs that hold no article: fetched once, remembered, and not fetched again.

A gallery and a live page sit under the source's article path (``allow = ["/news/"]``) but
have no article text. A second crawl does not request them (the server's log says so) unless
they are younger than ``refresh_hours``; one that has become an article since is catalogued.
"""

from __future__ import annotations

import json
from pathlib import Path

from archive.catalogue.store import Catalogue
from tests.command import run_cli_in
from tests.site_builder import html_page, write_file
from tests.site_server import SiteServer

STORY = "/news/harbour-budget.html"
GALLERY = "/news/photos-of-the-regatta.html"
LIVE = "/news/election-night-live.html"
BUDGET = ("The regional council debated the harbour budget for a long evening, weighing dredging "
          "works, fishing quotas and the winter ferry timetable before a narrow vote. ")
REGATTA = ("Forty boats sailed the autumn regatta in a stiff westerly; the harbour club's crew led "
           "from the second mark and crossed the line four minutes ahead of the visitors. ")


def article(title: str, paragraph: str) -> str:
    return html_page(title, f"<article><h1>{title}</h1>" + f"<p>{paragraph * 4}</p>" * 3 + "</article>")


def build_site(root: Path) -> None:
    write_file(root, STORY, article("Harbour budget", BUDGET))
    write_file(root, GALLERY, html_page("Regatta photos", "<h1>Regatta</h1>" + "".join(
        f'<figure><img src="/img/{n}.jpg" alt=""><figcaption>Boat {n}</figcaption></figure>' for n in range(6))))
    write_file(root, LIVE, html_page("Election night", "<h1>Live</h1><p>Results from 8 pm.</p>"))
    write_file(root, "/index.html", html_page("Courier", "".join(
        f'<p><a href="{path}">{path}</a></p>' for path in (STORY, GALLERY, LIVE))))


def crawl(workdir: Path) -> None:
    result = run_cli_in(workdir, "crawl", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]


def runs(workdir: Path) -> list[dict]:
    """The runs, newest first."""
    return [json.loads(line) for line in run_cli_in(workdir, "runs", "--format", "jsonl").stdout.splitlines()]


def catalogued(workdir: Path, base: str) -> set[str]:
    listing = run_cli_in(workdir, "articles", "--format", "jsonl", "--fields", "url")
    return {json.loads(line)["url"].removeprefix(base) for line in listing.stdout.splitlines()}


def sources_toml(workdir: Path, base: str, extra: str = "") -> None:
    (workdir / "sources.toml").write_text(
        f'[[source]]\nname = "courier"\nstart_urls = ["{base}/"]\nallow = ["/news/"]\ndelay = 0\n{extra}')


def test_a_page_that_is_no_article_is_not_fetched_again(tmp_path: Path) -> None:
    build_site(tmp_path / "site")
    with SiteServer(tmp_path / "site") as server:
        sources_toml(tmp_path, server.base_url)
        crawl(tmp_path)
        first = list(server.paths)
        crawl(tmp_path)
        second = server.paths[len(first):]
        base = server.base_url
    assert {GALLERY, LIVE, STORY} <= set(first)
    assert catalogued(tmp_path, base) == {STORY}
    assert "/" in second  # the section page is read again...
    assert not {GALLERY, LIVE, STORY} & set(second), second  # ...but neither the article nor the non-articles
    assert [r["not_articles"] for r in runs(tmp_path)] == [0, 2]  # newest first
    table = run_cli_in(tmp_path, "runs", "--format", "csv").stdout.splitlines()
    assert "not_articles" in table[0].split(",")


def test_a_young_not_article_is_fetched_again_under_refresh_hours_and_catalogued_once_it_is_one(
        tmp_path: Path) -> None:
    root = tmp_path / "site"
    build_site(root)
    with SiteServer(root) as server:
        sources_toml(tmp_path, server.base_url, "refresh_hours = 1000\n")
        crawl(tmp_path)
        first = len(server.paths)
        write_file(root, GALLERY, article("Regatta won by the harbour club", REGATTA))  # the gallery got its story
        crawl(tmp_path)
        second = server.paths[first:]
        crawl(tmp_path)  # the gallery is an article now, the live page still none
        base = server.base_url
    assert {GALLERY, LIVE} <= set(second)
    assert catalogued(tmp_path, base) == {STORY, GALLERY}
    newest, middle, oldest = runs(tmp_path)
    assert (oldest["not_articles"], oldest["articles_new"]) == (2, 1)
    assert (middle["not_articles"], middle["articles_new"]) == (1, 1)
    assert (newest["not_articles"], newest["articles_new"]) == (1, 0)
    catalogue = Catalogue(f"sqlite:///{tmp_path / 'data' / 'catalogue.sqlite'}", read_only=True)
    try:  # remembered as no article: the live page only, the gallery forgotten once it was one
        assert {url.removeprefix(base) for url in catalogue.known_not_article_urls("courier")} == {LIVE}
    finally:
        catalogue.close()
