"""Scale-out: two crawl workers share one Redis frontier and one PostgreSQL catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import redis

from benchmarks.bench_site import build_bench_site
from newsarchive.site_server import SiteServer
from tests.conftest import REDIS_URL

ARTICLES = 60


def cli(workdir: Path, db: str, *args: str) -> list[str]:
    return [sys.executable, "-c", "from newsarchive.cli import main; main()", "--data-dir", str(workdir),
            "--db", db, "--sources", str(workdir.parent / "sources.toml"), "--redis", REDIS_URL, *args]


def test_two_workers_fetch_each_url_once_into_one_catalogue(tmp_path: Path, postgres_url: str) -> None:
    build_bench_site(tmp_path / "site", ARTICLES)
    server = SiteServer(tmp_path / "site").start()
    try:
        base = server.base_url
        (tmp_path / "sources.toml").write_text(
            '[[source]]\nname = "shared"\n'
            f'start_urls = ["{base}/"]\nfeeds = ["{base}/rss.xml"]\n'
            "allow = ['/\\d{4}/\\d{2}/\\d{2}/']\nmax_pages = 5000\nconcurrency = 1\ndelay = 0.05\n"
        )
        workers = [subprocess.Popen(cli(tmp_path / f"worker{n}", postgres_url, "crawl", "--no-progress"),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for n in (1, 2)]
        outputs = [worker.communicate(timeout=300) for worker in workers]
        paths = list(server.paths)
    finally:
        server.stop()
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outputs]

    fetched = Counter(path for path in paths if path != "/robots.txt")  # each worker's robots.txt middleware asks once
    assert [path for path, count in fetched.items() if count > 1] == []

    runs = [json.loads(line) for line in subprocess.run(
        cli(tmp_path / "worker1", postgres_url, "runs", "--format", "jsonl"),
        capture_output=True, text=True, check=True).stdout.splitlines()]
    assert len(runs) == 2 and {r["status"] for r in runs} == {"ok"}
    assert all(r["articles_new"] > 0 for r in runs), "one worker did all the work"
    assert sum(r["articles_new"] for r in runs) == ARTICLES
    assert all((tmp_path / f"worker{n}" / "warcs").glob("shared-*.warc.gz") for n in (1, 2))

    articles = subprocess.run(cli(tmp_path / "worker1", postgres_url, "articles", "--format", "jsonl",
                                  "--limit", "1000"), capture_output=True, text=True, check=True).stdout
    assert len(articles.splitlines()) == ARTICLES
    assert not redis.Redis.from_url(REDIS_URL).keys("newsarchive:shared:*"), "the frontier outlived its crawl"
