"""A retry's wait holds no download slot: one host answering 503 does not slow the others.

One crawl of a source on two local hosts, 127.0.0.1 and 127.0.0.2 (two servers, two
ports). Every article of the first answers 503 with ``Retry-After: 5`` to its first
request, more of them than ``CONCURRENT_REQUESTS`` (32); the second answers normally, a
little slowly. Waiting inside the retry middleware, the 503s would fill the downloader
and the second host would wait too; re-scheduled after the wait, its pages are fetched
while the first host's retries wait, and the retries come when Retry-After said.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.command import run_cli_in
from tests.fault_server import FaultServer, delayed, failing_first, page

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
