"""Retries with backoff (crawler/retry.py), through real crawls of fault-injection servers.

A failing page is asked again after RETRY_BACKOFF_BASE seconds, then twice that, and given
up after RETRY_TIMES retries, counted as an error of the run; Retry-After, in seconds or
as an HTTP date, lengthens a wait.

A retry's wait holds no download slot: one host answering 503 does not slow the others.
One crawl of a source on two local hosts, 127.0.0.1 and 127.0.0.2 (two servers, two
ports). Every article of the first answers 503 with ``Retry-After: 5`` to its first
request, more of them than ``CONCURRENT_REQUESTS`` (32); the second answers normally, a
little slowly. Waiting inside the retry middleware, the 503s would fill the downloader
and the second host would wait too; re-scheduled after the wait, its pages are fetched
while the first host's retries wait, and the retries come when Retry-After said.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from crawler.retry import backoff_delay
from crawler.settings import RETRY_BACKOFF_BASE, RETRY_TIMES
from tests.command import run_cli_in
from tests.fault_server import FaultServer, always, delayed, failing_first, page

BUSY_ARTICLES = 40  # more than CONCURRENT_REQUESTS (32)
CALM_ARTICLES = 24
RETRY_AFTER = 5


def _page(title: str, links: list[str] = ()) -> bytes:  # type: ignore[assignment]
    items = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return (f"<!DOCTYPE html><html lang=en><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>{title} is a page of the retry test.</p><ul>{items}</ul></body></html>").encode()


def test_a_host_answering_503_does_not_hold_up_another(tmp_path: Path) -> None:
    with FaultServer("127.0.0.1") as busy, FaultServer("127.0.0.2") as calm:
        busy_paths = [f"/busy/{n}.html" for n in range(BUSY_ARTICLES)]
        calm_paths = [f"/calm/{n}.html" for n in range(CALM_ARTICLES)]
        for server in (busy, calm):
            server.route("/robots.txt", page(b"User-agent: *\nDisallow:\n", "text/plain"))
        busy.route("/", page(_page("Busy", busy_paths)))
        calm.route("/", page(_page("Calm", calm_paths)))
        for path in busy_paths:
            busy.route(path, failing_first(1, 503, page(_page(path)), retry_after=str(RETRY_AFTER)))
        for path in calm_paths:
            calm.route(path, delayed(0.2, page(_page(path))))
        (tmp_path / "sources.toml").write_text(
            '[[source]]\nname = "two-hosts"\n'
            f'start_urls = ["{busy.base_url}/", "{calm.base_url}/"]\n'
            "allow = ['/busy/', '/calm/']\nmax_pages = 500\nconcurrency = 4\ndelay = 0\n")
        result = run_cli_in(tmp_path, "crawl", "--no-progress")
        assert result.returncode == 0, result.stderr[-3000:]

        busy_hits = [h for h in busy.log if h.path.startswith("/busy/")]
        calm_hits = [h for h in calm.log if h.path.startswith("/calm/")]
    first_503 = min(h.time for h in busy_hits if h.outcome == "503")
    first_retry = min(h.time for h in busy_hits if h.attempt == 2)
    assert len(calm_hits) == CALM_ARTICLES
    assert max(h.time for h in calm_hits) < first_retry, (
        "the calm host's pages waited for the busy host's retries: "
        f"last calm page {max(h.time for h in calm_hits) - first_503:.1f} s after the first 503, "
        f"first retry at {first_retry - first_503:.1f} s")
    # Each busy article: a 503, then a retry no sooner than Retry-After said, answered 200.
    for path in busy_paths:
        hits = [h for h in busy_hits if h.path == path]
        assert [h.outcome for h in hits] == ["503", "200"], (path, hits)
        assert hits[1].time - hits[0].time >= RETRY_AFTER - 0.1
    (run,) = [json.loads(line) for line in run_cli_in(tmp_path, "runs", "--format", "jsonl").stdout.splitlines()]
    assert run["status"] == "ok" and not run["error_kinds"], run


def test_a_failing_page_is_retried_after_doubling_waits_then_given_up_and_counted(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.route("/robots.txt", page(b"User-agent: *\nDisallow:\n", "text/plain"))
        server.route("/", page(_page("Home", ["/news/flaky.html", "/news/down.html"])))
        server.route("/news/flaky.html", failing_first(2, 503, page(_page("Flaky"))))  # no Retry-After
        server.route("/news/down.html", always(503))
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "retries"\nstart_urls = ["{server.base_url}/"]\n'
            "allow = ['/news/']\ndelay = 0\n")
        result = run_cli_in(tmp_path, "crawl", "--no-progress")
        flaky, down = server.hits("/news/flaky.html"), server.hits("/news/down.html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [h.outcome for h in flaky] == ["503", "503", "200"]
    waits = [later.time - earlier.time for earlier, later in zip(flaky, flaky[1:])]
    assert waits[0] >= RETRY_BACKOFF_BASE - 0.1 and waits[1] >= 2 * RETRY_BACKOFF_BASE - 0.1, waits
    assert [h.outcome for h in down] == ["503"] * (1 + RETRY_TIMES)  # then given up
    (run,) = [json.loads(line) for line in run_cli_in(tmp_path, "runs", "--format", "jsonl").stdout.splitlines()]
    assert run["status"] == "ok" and run["error_kinds"] == {"http_503": 1}, run
    assert run["pages"] == 2 + len(flaky) + len(down)  # robots.txt, home, and every attempt archived


def test_retry_after_as_an_http_date_is_honoured_when_longer_and_capped() -> None:
    # the crawls above send Retry-After in seconds; a date is the other form servers use
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15.0 < backoff_delay(1, base=2.0, cap=60.0, retry_after=in_20s) <= 20.0
    assert backoff_delay(3, base=2.0, cap=60.0, retry_after="1") == 8.0  # shorter than the backoff
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after="3600") == 60.0
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after="soon") == 2.0
