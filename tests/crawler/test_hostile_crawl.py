"""One `newsarchive crawl` of the hostile site (tests/hostile_site.py): it ends, archives, catalogues.

Every fault of tests/fault_server.py on one site, crawled once as a user would (a
subprocess): the crawl ends by itself, every WARC file passes ``warcio check``, the
catalogue holds exactly the good articles, and the legacy-charset pages are stored as
the text their own declared charset gives. ``pytest -s`` prints, for each fault, what the
crawl did, what was archived and what was catalogued.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import html as lxml_html
from warcio.archiveiterator import ArchiveIterator

from archive.config import DOWNLOAD_MAXSIZE
from archive.extract.article import extract_article
from tests.command import run_cli_in
from tests.fault_server import FaultServer, route_key
from tests.hostile_site import Case, HostileSite, build_hostile_site

# `warcio check`, with its brotli decoder fixed: warcio 1.7 sets ``unused_data`` on a
# ``brotli.Decompressor``, which Google's brotli (>= 1.1, the one Scrapy needs) refuses, so
# plain `warcio check` stops with an AttributeError at the first br-encoded response.
WARCIO_CHECK = """
import sys, brotli
from warcio import bufferedreaders
from warcio.cli import main

class Brotli:
    def __init__(self):
        self.decoder = brotli.Decompressor()
        self.unused_data = None
    def decompress(self, data):
        return self.decoder.process(data)
    def flush(self):
        return b""

bufferedreaders.BufferedReader.DECOMPRESSORS["br"] = Brotli
main(["check", *sys.argv[1:]])
"""
CRAWL_TIME_LIMIT = 80.0  # seconds; the slow-loris pages alone take DOWNLOAD_TIMEOUT (30 s) + a retry


@dataclass
class Record:
    type: str
    path: str
    status: str | None
    truncated: str | None
    length: int
    content_encoding: str | None


@dataclass
class HostileCrawl:
    site: HostileSite
    server: FaultServer
    workdir: Path
    result: subprocess.CompletedProcess[str]
    seconds: float
    articles: list[dict]
    run: dict
    records: list[Record]
    stats: dict[str, int]
    log: str

    def article(self, case: Case) -> dict | None:
        url = self.site.base + (case.article_path or case.path)
        return next((a for a in self.articles if a["canonical_url"] == url), None)

    def records_of(self, path: str) -> list[Record]:
        return [r for r in self.records if route_key(r.path) == path and r.type != "request"]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory, datasets_dir: Path) -> HostileCrawl:
    workdir = tmp_path_factory.mktemp("hostile")
    with FaultServer() as server:
        site = build_hostile_site(server, datasets_dir)
        (workdir / "sources.toml").write_text(site.sources_toml())
        started = time.monotonic()
        result = run_cli_in(workdir, "crawl", "--no-progress")
        seconds = time.monotonic() - started
    listing = run_cli_in(workdir, "articles", "--format", "jsonl", "--limit", "1000")
    (run,) = [json.loads(line) for line in run_cli_in(workdir, "runs", "--format", "jsonl").stdout.splitlines()]
    log = "\n".join(p.read_text(errors="replace") for p in sorted((workdir / "data" / "logs").glob("*.log")))
    return HostileCrawl(site, server, workdir, result, seconds,
                        [json.loads(line) for line in listing.stdout.splitlines()], run,
                        _records(workdir, site.base), _final_stats(log), log)


def test_crawl_ends_by_itself_without_a_traceback(crawl: HostileCrawl) -> None:
    assert crawl.result.returncode == 0, crawl.result.stderr[-3000:]
    assert crawl.seconds < CRAWL_TIME_LIMIT
    assert crawl.run["status"] == "ok"
    assert "Traceback" not in crawl.result.stderr and "Traceback" not in crawl.log, crawl.log[-5000:]


def test_warc_files_are_finished_and_pass_warcio_check(crawl: HostileCrawl) -> None:
    warcs = crawl.workdir / "data" / "warcs"
    assert not list(warcs.glob("*.open"))
    files = sorted(warcs.glob("*.warc.gz"))
    check = subprocess.run([sys.executable, "-c", WARCIO_CHECK, *map(str, files)], capture_output=True, text=True)
    assert files and check.returncode == 0, check.stdout + check.stderr


def test_exactly_the_good_articles_are_catalogued(crawl: HostileCrawl) -> None:
    expected = {crawl.site.base + (c.article_path or c.path) for c in crawl.site.articles}
    assert {a["canonical_url"] for a in crawl.articles} == expected
    assert len(crawl.articles) == len(expected)  # each once: no session-id or redirect copies


def test_legacy_charset_pages_are_stored_as_their_declared_charset_reads_them(crawl: HostileCrawl) -> None:
    for case in (c for c in crawl.site.cases if c.served is not None):
        text = case.served.decode(case.declared)  # type: ignore[union-attr, arg-type]
        article = crawl.article(case)
        assert article is not None, case.name
        # Every paragraph of the story, as the page's own charset reads the bytes served...
        paragraphs = [" ".join(p.text_content().split()) for p in lxml_html.fromstring(text.lstrip("\ufeff"))
                      .xpath("//article//p") if len(p.text_content()) > 80]
        assert paragraphs, case.name
        stored = " ".join(article["text"].split())
        for paragraph in paragraphs:
            assert paragraph in stored, (case.name, paragraph[:60], stored[:200])
        # ...is what extraction gives when the page is labelled truthfully, in its language.
        truthful = extract_article(case.served, article["url"], f"text/html; charset={case.declared}")  # type: ignore[arg-type]
        assert truthful is not None and article["text"] == truthful.text, case.name
        assert article["language"] == case.language, case.name


def test_pages_past_the_size_limit_are_archived_truncated(crawl: HostileCrawl) -> None:
    for path in ("/news/huge.html", "/news/huge-unknown-length.html"):
        (record,) = crawl.records_of(path)
        assert record.truncated == "length" and record.status == "200"
        assert DOWNLOAD_MAXSIZE <= record.length < DOWNLOAD_MAXSIZE + 2 * 1024 * 1024
    assert crawl.run["error_kinds"].get("truncated") == 2


def test_bombs_are_archived_as_sent_and_dropped_once_decoded(crawl: HostileCrawl) -> None:
    for path, encoding in (("/news/gzip-bomb.html", "gzip"), ("/news/brotli-bomb.html", "br")):
        (record,) = crawl.records_of(path)
        assert record.content_encoding == encoding and record.length < 1024 * 1024
    assert crawl.stats.get("newsarchive/dropped/too_large_decoded") == 2


def test_extraction_is_bounded_in_size_and_time(crawl: HostileCrawl) -> None:
    assert crawl.stats.get("newsarchive/extract_capped") == 1  # the 8 MiB page, catalogued all the same
    assert crawl.run["error_kinds"].get("extract_timeout") == 1  # the element bomb


def test_out_of_scope_requests_are_refused_and_counted(crawl: HostileCrawl) -> None:
    kinds = crawl.run["error_kinds"]
    assert kinds.get("offsite") == 1  # the redirect to 127.0.0.2 (links to it are not followed)
    assert kinds.get("scheme") == 2  # the redirect to file:, the ftp:// link (of an allowed path)
    assert not crawl.records_of("/news/elsewhere.html")


def test_non_permalink_guids_and_traps_are_not_followed(crawl: HostileCrawl) -> None:
    assert not crawl.server.hits("/news/not-a-permalink.html")
    assert not crawl.server.hits("/news/beyond-long-chain.html")
    assert len(crawl.server.hits("/news/session.html")) == 1
    assert len(crawl.server.hits("/section/sessions.html")) == 1
    assert len({h.path for h in crawl.server.log if h.path.startswith("/calendar/")}) <= 3  # NAV_DEPTH


def test_retries_waited_for_retry_after_and_backoff(crawl: HostileCrawl) -> None:
    hits = crawl.server.hits("/news/retry-429.html")
    assert [h.outcome for h in hits] == ["429", "429", "200"]
    assert hits[1].time - hits[0].time >= 2 - 0.1 and hits[2].time - hits[1].time >= 4 - 0.1
    hits = crawl.server.hits("/news/retry-503.html")
    assert [h.outcome for h in hits] == ["503", "200"] and hits[1].time - hits[0].time >= 3 - 0.1
    assert [h.outcome for h in crawl.server.hits("/news/redirect-then-503.html")] == ["503", "200"]


def test_print_the_fault_table(crawl: HostileCrawl) -> None:
    rows = [("fault", "path", "server saw", "archived", "catalogued")]
    for case in crawl.site.cases:
        hits = crawl.server.hits(case.path)
        saw = f"{len(hits)}x: " + ", ".join(h.outcome for h in hits[:4]) + (" ..." if len(hits) > 4 else "")
        archived = ", ".join(
            f"{r.status}" + (f" {r.content_encoding}" if r.content_encoding else "")
            + (f" truncated={r.truncated}" if r.truncated else "") + f" {_size(r.length)}"
            for r in crawl.records_of(case.path)[:4]) or "-"
        if case.article_path:
            archived += f"; target: {len(crawl.records_of(case.article_path))} record(s)"
        article = crawl.article(case)
        catalogued = f"yes ({article['language']})" if article else "-"
        rows.append((case.name, case.path, saw if hits else "never asked", archived, catalogued))
        assert (article is not None) == case.article, case.name
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\nHostile crawl: {crawl.seconds:.0f} s, {crawl.run['pages']} responses archived, "
          f"{len(crawl.articles)} articles catalogued")
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print("error kinds:", json.dumps(crawl.run["error_kinds"], sort_keys=True))
    print("dropped:", json.dumps({k.removeprefix("newsarchive/dropped/"): v for k, v in crawl.stats.items()
                                  if k.startswith("newsarchive/dropped/")}, sort_keys=True))
    print("retries:", crawl.stats.get("retry/count", 0), "given up:", crawl.stats.get("retry/max_reached", 0))


# --- helpers -------------------------------------------------------------------------------
def _records(workdir: Path, base: str) -> list[Record]:
    records = []
    for path in sorted((workdir / "data" / "warcs").glob("*.warc.gz")):
        with path.open("rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "warcinfo":
                    continue
                headers = record.rec_headers
                http = record.http_headers
                records.append(Record(
                    type=record.rec_type,
                    path=headers.get_header("WARC-Target-URI").removeprefix(base),
                    status=http.get_statuscode() if http else None,
                    truncated=headers.get_header("WARC-Truncated"),
                    length=len(record.raw_stream.read()) if record.rec_type == "response" else 0,
                    content_encoding=http.get_header("Content-Encoding") if http else None,
                ))
    return records


def _final_stats(log: str) -> dict[str, int]:
    """The stats Scrapy dumps at the end of its log."""
    match = re.search(r"Dumping Scrapy stats:\n(\{.*?\})\n", log, re.DOTALL)
    if not match:
        return {}
    text = re.sub(r"datetime\.datetime\([^)]*\)", "None", match[1])
    stats = ast.literal_eval(text)
    return {k: v for k, v in stats.items() if isinstance(v, int)}


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"

