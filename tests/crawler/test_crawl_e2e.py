"""End to end: `newsarchive crawl` of a local news site built from real pages of articles-dev.

The site (tests/sites.py) has a feed, a sitemap index named in robots.txt with a Google
News sitemap, pagination, a robots.txt-disallowed page, tracking-parameter and AMP
variants, a syndicated copy, a redirect, a 404 and an ISO-8859-1 page. One crawl is
made per module (Twisted's reactor runs once per process, so crawls are subprocesses);
then a second, incremental one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.warc.index import CaptureIndex
from tests.scoring import shingle_scores
from tests.command import run_cli_in
from tests.site_server import SiteServer
from tests.sites import FixtureSite, build_fixture_site


@dataclass
class Crawled:
    site: FixtureSite
    base: str
    workdir: Path
    result: subprocess.CompletedProcess[str]
    server: SiteServer
    paths: list[str]  # what the server was asked during the first crawl, in order
    articles: list[dict]

    def by_canonical(self) -> dict[str, dict]:
        return {a["canonical_url"]: a for a in self.articles}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, datasets_dir: Path) -> Crawled:
    workdir = tmp_path_factory.mktemp("e2e")
    site = build_fixture_site(workdir / "site", datasets_dir)
    server = SiteServer(site.root).start()
    try:
        (workdir / "sources.toml").write_text(site.sources_toml(server.base_url))
        result = run_cli_in(workdir, "crawl", "--no-progress")
        paths = list(server.paths)
        listing = run_cli_in(workdir, "articles", "--format", "jsonl", "--limit", "1000")
        articles = [json.loads(line) for line in listing.stdout.splitlines()]
        yield Crawled(site, server.base_url, workdir, result, server, paths, articles)
    finally:
        server.stop()


def test_crawl_succeeds(crawled: Crawled) -> None:
    assert crawled.result.returncode == 0, crawled.result.stderr[-3000:]


def test_every_article_is_catalogued_once_with_its_variants_folded(crawled: Crawled) -> None:
    catalogued = crawled.by_canonical()
    for article in crawled.site.articles:
        assert crawled.base + article.path in catalogued, f"{article.path} not catalogued"
    originals = [a for a in crawled.articles if a["duplicate_of"] is None]
    assert len(originals) == len(crawled.site.articles)  # AMP and tracking variants are not extra articles
    assert len(crawled.articles) == len(crawled.site.articles) + 1  # + the syndicated copy


def test_syndicated_copy_is_linked_to_the_earliest_published(crawled: Crawled) -> None:
    """The same text at another canonical URL is one copy of the other: the original is the one
    published first (the feed dates the publisher's page, the copy has the day its page shows),
    then the first catalogued, whichever the crawl met first."""
    catalogued = crawled.by_canonical()
    main = catalogued[crawled.base + crawled.site.syndicated.article.path]
    copy = next(a for a in crawled.articles if urlpath(a["url"], crawled.base) == crawled.site.syndicated.path)
    first, second = sorted([main, copy], key=lambda a: (a["published"][:10], a["id"]))
    assert first["duplicate_of"] is None
    assert second["duplicate_of"] == first["id"]


def test_an_article_linked_with_trackers_is_fetched_and_replayed_without_them(crawled: Crawled) -> None:
    """The home page links it with ?utm_source=... first: it is fetched and archived clean, and
    replay answers both spellings with that capture (pywb-style fuzzy matching)."""
    tracked, clean = crawled.site.tracking.path, crawled.site.tracking.article.path
    assert tracked not in crawled.paths and clean in crawled.paths
    article = crawled.by_canonical()[crawled.base + clean]
    assert article["url"] == crawled.base + clean
    settings = Settings(data_dir=crawled.workdir / "data")
    catalogue = Catalogue(settings.database_url, read_only=True)
    try:
        index = CaptureIndex(catalogue)
        now = datetime.now()
        clean_capture = index.closest(crawled.base + clean, now)
        tracked_capture = index.closest(crawled.base + tracked + "&fbclid=x", now)
        assert clean_capture is not None and tracked_capture is not None
        assert tracked_capture.capture.id == clean_capture.capture.id
    finally:
        catalogue.close()


def test_feed_only_and_sitemap_only_articles_are_found(crawled: Crawled) -> None:
    catalogued = crawled.by_canonical()
    assert crawled.base + crawled.site.feed_only_path in catalogued
    assert crawled.base + crawled.site.sitemap_only_path in catalogued  # via robots.txt Sitemap:


def test_nothing_disallowed_or_denied_is_fetched(crawled: Crawled) -> None:
    assert crawled.site.disallowed_path not in crawled.paths
    assert crawled.site.denied_path not in crawled.paths
    assert crawled.paths.count("/robots.txt") == 1  # once per host and crawl: obeyed and read for Sitemap:


def test_extracted_bodies_are_close_to_the_ground_truth(crawled: Crawled) -> None:
    catalogued = crawled.by_canonical()
    pairs = [(a.body, catalogued[crawled.base + a.path]["text"]) for a in crawled.site.articles]
    scores = shingle_scores(pairs)
    assert scores.f1 >= 0.9, scores


def test_iso_8859_1_page_is_stored_as_correct_unicode(crawled: Crawled) -> None:
    latin1 = next(a for a in crawled.site.articles if a.path == crawled.site.latin1_path)
    text = crawled.by_canonical()[crawled.base + latin1.path]["text"]
    assert "Ã" not in text and "\ufffd" not in text
    assert shingle_scores([(latin1.body, text)]).f1 >= 0.9


def warc_records(crawled: Crawled) -> list[dict]:
    records = []
    for path in sorted((crawled.workdir / "data" / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                headers = record.rec_headers
                records.append({
                    "type": record.rec_type,
                    "url": headers.get_header("WARC-Target-URI"),
                    "id": headers.get_header("WARC-Record-ID"),
                    "concurrent_to": headers.get_header("WARC-Concurrent-To"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "file": path.name,
                })
    return records


def test_warc_files_are_finished_and_pass_warcio_check(crawled: Crawled) -> None:
    warcs = crawled.workdir / "data" / "warcs"
    assert not list(warcs.glob("*.open"))
    files = sorted(warcs.glob("*.warc.gz"))
    assert files
    check = subprocess.run([Path(sys.executable).with_name("warcio"), "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_each_article_has_request_and_response_records(crawled: Crawled) -> None:
    records = warc_records(crawled)
    responses = {r["url"]: r for r in records if r["type"] in ("response", "revisit")}
    requests = defaultdict(list)
    for r in records:
        if r["type"] == "request":
            requests[r["url"]].append(r["concurrent_to"])
    for article in crawled.site.articles:
        url = crawled.base + article.path
        assert url in responses, f"no response record for {article.path}"
        assert responses[url]["id"] in requests[url], f"request of {article.path} not tied to its response"


def test_every_exchange_is_archived_redirects_and_errors_included(crawled: Crawled) -> None:
    statuses = {(urlpath(r["url"], crawled.base), r["status"]) for r in warc_records(crawled)
                if r["type"] in ("response", "revisit")}
    assert ("/robots.txt", "200") in statuses
    assert (crawled.site.redirect.path, "301") in statuses
    assert (crawled.site.missing_path, "404") in statuses
    assert (crawled.site.feed_path, "200") in statuses
    assert (crawled.site.sitemap_path, "200") in statuses


def test_run_is_recorded_with_its_figures_and_errors(crawled: Crawled) -> None:
    (run,) = [json.loads(line) for line in run_cli_in(crawled.workdir, "runs", "--format", "jsonl").stdout.splitlines()]
    assert run["status"] == "ok"
    assert run["articles_new"] == len(crawled.site.articles)
    assert run["articles_duplicate"] >= 1
    assert run["error_kinds"].get("http_404", 0) >= 1
    assert run["pages"] == len(crawled.paths)
    assert run["warc_files"] == sorted(p.name for p in (crawled.workdir / "data" / "warcs").glob("*.warc.gz"))


def test_verify_finds_the_archive_whole(crawled: Crawled) -> None:
    result = run_cli_in(crawled.workdir, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def test_second_crawl_fetches_no_known_article(crawled: Crawled) -> None:
    before = len(crawled.server.paths)
    result = run_cli_in(crawled.workdir, "crawl", "--no-progress")
    paths = crawled.server.paths[before:]
    assert result.returncode == 0, result.stderr[-3000:]
    assert [(e.path, e.status) for e in crawled.server.log[before:] if e.path == "/robots.txt"] == [
        ("/robots.txt", 304)]  # asked once, conditionally; its Sitemap: lines still followed:
    assert crawled.site.sitemap_path in paths
    article_paths = {a.path for a in crawled.site.articles}
    assert not article_paths & set(paths), f"known articles fetched again: {sorted(article_paths & set(paths))}"
    assert crawled.site.feed_path in paths and "/" in paths  # feeds and sections are re-fetched
    runs = [json.loads(line) for line in run_cli_in(crawled.workdir, "runs", "--format", "jsonl").stdout.splitlines()]
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["articles_new"] == 0


def test_unreachable_host_finishes_records_the_error_and_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "gone"\nstart_urls = ["http://127.0.0.1:9/"]\ndelay = 0\n')
    result = run_cli_in(tmp_path, "crawl", "--no-progress")
    assert result.returncode == 1
    (run,) = [json.loads(line) for line in run_cli_in(tmp_path, "runs", "--format", "jsonl").stdout.splitlines()]
    assert run["status"] == "failed" and run["errors"] >= 1
    assert any("Connection" in kind or "Refused" in kind for kind in run["error_kinds"]), run["error_kinds"]
    # why, in words: how many requests, what went wrong, where
    assert re.fullmatch(r"nothing fetched: \d+ requests? failed: \w*Refused\w* \(connection refused\) "
                        r"at http://127\.0\.0\.1:9/", run["message"]), run["message"]


def urlpath(url: str, base: str) -> str:
    return url.removeprefix(base)
