"""Dates from outside the page: a Google News sitemap's publication_date and a feed's pubDate.

A page that states no date of its own is catalogued with the date its site's sitemap or feed
gives it (archive.extract.dates' precedence), time and zone included.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.command import run_cli_in
from tests.site_builder import Listed, html_page, write_file, write_news_sitemap, write_robots, write_rss
from tests.site_server import SiteServer

PARAGRAPH = ("The regional council debated the harbour budget for a long evening, weighing dredging "
             "works, fishing quotas and the winter ferry timetable before a narrow vote. ")


def test_undated_pages_take_the_sitemaps_and_the_feeds_date(tmp_path: Path) -> None:
    root = tmp_path / "site"
    in_sitemap = Listed("/news/harbour-budget.html", "Harbour budget",
                        datetime(2026, 11, 2, 8, 30, tzinfo=timezone(timedelta(hours=1))))
    in_feed = Listed("/news/ferry-timetable.html", "Ferry timetable", datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc))
    for listed in (in_sitemap, in_feed):  # no date in the page, nor in its URL
        write_file(root, listed.path, html_page(listed.title, f"<article><h1>{listed.title}</h1>"
                                                + f"<p>{PARAGRAPH * 4}</p>" * 3 + "</article>"))
    write_file(root, "/index.html", html_page("Courier", "<p>Today's news.</p>"))
    write_news_sitemap(root, "/sitemap-news.xml", "Courier", [in_sitemap])
    write_rss(root, "/rss.xml", "Courier", [in_feed])
    write_robots(root, [], "/sitemap-news.xml")
    with SiteServer(root) as server:
        base = server.base_url
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "courier"\nstart_urls = ["{server.base_url}/"]\n'
            f'feeds = ["{server.base_url}/rss.xml"]\nallow = ["/news/"]\ndelay = 0\n')
        crawl = run_cli_in(tmp_path, "crawl", "--no-progress")
        assert crawl.returncode == 0, crawl.stderr[-2000:]
    listing = run_cli_in(tmp_path, "articles", "--format", "jsonl", "--fields", "url,published")
    published = {json.loads(line)["url"].removeprefix(base): json.loads(line)["published"]
                 for line in listing.stdout.splitlines()}
    assert published == {in_sitemap.path: "2026-11-02T08:30:00+01:00", in_feed.path: "2026-11-03T10:00:00+00:00"}
