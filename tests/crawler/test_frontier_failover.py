"""Three crawl workers on one Redis frontier, one of them killed mid-crawl (SIGKILL).

The others finish their crawl; no URL is fetched twice in it; every article is catalogued
once in the shared PostgreSQL catalogue; what the killed worker had taken from the queue
(scrapy-redis pops requests: crawler/frontier.py) is catalogued by the next crawl, which
fetches nothing else again; every WARC file is valid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import redis
from sqlalchemy import create_engine, text

from archive.catalogue.database import upgrade_catalogue
from tests.bench_site import bench_article, build_bench_site
from tests.command import NEWSARCHIVE, start_cli
from tests.conftest import REDIS_URL
from tests.site_server import SiteServer

ARTICLES = 40
SOURCE = "failover"
FRONTIER = REDIS_URL.rsplit("/", 1)[0] + "/13"  # test_frontier.py has db 15
# Liveness of runs and of frontier workers alike: the killed worker is dead to both after 5 s.
ENV = {**os.environ, "NEWSARCHIVE_HEARTBEAT_INTERVAL": "0.5", "NEWSARCHIVE_HEARTBEAT_TIMEOUT": "5"}
# Article pages a worker has archived and not yet catalogued (extraction is under way).
IN_HAND = ("SELECT count(*) FROM captures c JOIN crawl_runs r ON r.id = c.run_id WHERE r.pid = :pid "
           "AND c.status = 200 AND c.url LIKE '%/news/20%' "
           "AND NOT EXISTS (SELECT 1 FROM article_urls u WHERE u.url = c.url)")


def crawl_args(workdir: Path, db: str) -> list[str]:
    return ["--data-dir", str(workdir), "--db", db, "--sources", str(workdir.parent / "sources.toml"),
            "--redis", FRONTIER, "crawl", "--no-progress"]


def start_worker(workdir: Path, db: str) -> subprocess.Popen[str]:
    """A worker in a process group of its own, so that it dies with its extraction processes, as a lost machine."""
    return start_cli(*crawl_args(workdir, db), env=ENV, start_new_session=True, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)


def scalar(db, sql: str, **params: object) -> int:  # type: ignore[no-untyped-def]
    with db.connect() as connection:
        return connection.scalar(text(sql), params) or 0


def catalogued_paths(db) -> Counter[str]:  # type: ignore[no-untyped-def]
    with db.connect() as connection:
        return Counter(urlsplit(url).path for url in connection.scalars(text("SELECT canonical_url FROM articles")))


def test_a_killed_worker_leaves_the_crawl_to_the_others_and_its_share_to_the_next_crawl(
        tmp_path: Path, postgres_url: str) -> None:
    build_bench_site(tmp_path / "site", ARTICLES)
    article_paths = {bench_article(i)[0].path for i in range(ARTICLES)}
    frontier = redis.Redis.from_url(FRONTIER)
    upgrade_catalogue(postgres_url)  # the schema is there to watch the crawl in
    db = create_engine(postgres_url)
    server = SiteServer(tmp_path / "site").start()
    workers: dict[subprocess.Popen[str], Path] = {}
    try:
        base = server.base_url
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "{SOURCE}"\nstart_urls = ["{base}/"]\nfeeds = ["{base}/rss.xml"]\n'
            "allow = ['/news/\\d{4}/\\d{2}/\\d{2}/']\nmax_pages = 5000\nconcurrency = 1\ndelay = 0.3\n")
        workers = {start_worker(tmp_path / f"worker{n}", postgres_url): tmp_path / f"worker{n}" for n in range(3)}
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline:  # killed: the first caught with an article in hand
            victim = next((worker for worker in workers if worker.poll() is None and scalar(
                db, IN_HAND, pid=worker.pid)), None)
            time.sleep(0.02)
        assert victim is not None, "no worker was caught between archiving an article and cataloguing it"
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        victim.communicate()
        survivors = [worker for worker in workers if worker is not victim]
        outputs = [worker.communicate(timeout=300) for worker in survivors]
        assert [worker.returncode for worker in survivors] == [0, 0], [err[-2000:] for _, err in outputs]
        first_crawl = list(server.paths)
        after_first = catalogued_paths(db)

        time.sleep(max(0.0, killed_at + 6 - time.monotonic()))  # its heartbeat expired: the next crawl starts afresh
        restarted = start_cli(*crawl_args(workers[victim], postgres_url), env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        _, err = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, err[-2000:]
        next_crawl = list(server.paths)[len(first_crawl):]
        after_next = catalogued_paths(db)
        statuses = {pid: status for pid, status in db.connect().execute(text("SELECT pid, status FROM crawl_runs"))}
    finally:
        for worker in workers:  # a failed assertion leaves none running on a dropped database
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        server.stop()
        db.dispose()
        keys = frontier.keys(f"newsarchive:{SOURCE}:*")
        if keys:
            frontier.delete(*keys)

    fetched = Counter(path for path in first_crawl if path != "/robots.txt")  # each worker asks for robots.txt
    assert [path for path, count in fetched.items() if count > 1] == []
    assert max(after_first.values()) == 1 and set(after_first) <= article_paths
    lost = article_paths - set(after_first)
    assert lost, "the killed worker had nothing in hand: nothing was tested"
    refetched = {path for path in next_crawl if path in article_paths}
    assert refetched <= lost, sorted(refetched - lost)  # the next crawl fetches no article the catalogue has
    assert after_next == Counter(article_paths)  # and every article is catalogued, once
    assert statuses[victim.pid] == "interrupted" and list(statuses.values()).count("ok") == 3

    warcs = sorted(tmp_path.glob("worker*/warcs/*"))
    assert warcs and all(path.name.endswith(".warc.gz") for path in warcs)  # the killed worker's file recovered
    check = subprocess.run([str(Path(NEWSARCHIVE[0]).with_name("warcio")), "check", *map(str, warcs)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
