"""Scale-out: two crawl workers share one Redis frontier and one PostgreSQL catalogue."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import redis

from tests.bench_site import build_bench_site
from tests.command import run_cli, start_cli
from tests.site_server import SiteServer
from tests.conftest import REDIS_URL

ARTICLES = 150


def worker_args(workdir: Path, db: str, *args: str) -> list[str]:
    """A worker's global options (its own data dir; the shared sources, catalogue and frontier), then ARGS."""
    return ["--data-dir", str(workdir), "--db", db, "--sources", str(workdir.parent / "sources.toml"),
            "--redis", REDIS_URL, *args]


def start_worker(workdir: Path, db: str) -> subprocess.Popen[str]:
    return start_cli(*worker_args(workdir, db, "crawl", "--no-progress"), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)


def test_two_workers_fetch_each_url_once_into_one_catalogue(tmp_path: Path, postgres_url: str) -> None:
    build_bench_site(tmp_path / "site", ARTICLES)
    server = SiteServer(tmp_path / "site").start()
    try:
        base = server.base_url
        (tmp_path / "sources.toml").write_text(
            '[[source]]\nname = "shared"\n'
            f'start_urls = ["{base}/"]\nfeeds = ["{base}/rss.xml"]\n'
            "allow = ['/\\d{4}/\\d{2}/\\d{2}/']\nmax_pages = 5000\nconcurrency = 1\ndelay = 0.1\n"
        )
        workers = [start_worker(tmp_path / "worker1", postgres_url)]
        frontier = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 60
        while not frontier.zcard("newsarchive:shared:requests") and time.monotonic() < deadline:
            time.sleep(0.05)  # the second worker joins a crawl under way, with work left in the queue
        workers.append(start_worker(tmp_path / "worker2", postgres_url))
        outputs = [worker.communicate(timeout=300) for worker in workers]
        paths = list(server.paths)
    finally:
        server.stop()
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outputs]

    fetched = Counter(path for path in paths if path != "/robots.txt")  # each worker's robots.txt middleware asks once
    assert [path for path, count in fetched.items() if count > 1] == []

    runs = [json.loads(line) for line in run_cli(
        *worker_args(tmp_path / "worker1", postgres_url, "runs", "--format", "jsonl"), check=True).stdout.splitlines()]
    assert len(runs) == 2 and {r["status"] for r in runs} == {"ok"}
    assert all(r["articles_new"] > 0 for r in runs), f"one worker did all the work: {runs}"
    assert sum(r["articles_new"] for r in runs) == ARTICLES
    assert all((tmp_path / f"worker{n}" / "warcs").glob("shared-*.warc.gz") for n in (1, 2))

    articles = run_cli(*worker_args(tmp_path / "worker1", postgres_url, "articles", "--format", "jsonl",
                                    "--limit", "1000"), check=True).stdout
    assert len(articles.splitlines()) == ARTICLES
    assert not redis.Redis.from_url(REDIS_URL).keys("newsarchive:shared:*"), "the frontier outlived its crawl"
