"""Crawl throughput: the full pipeline against its unavoidable stages, on one local site, in one run.

Run by hand from the project root (about 15 minutes on 2 cores; ``--quick``: one)::

    .venv/bin/python benchmarks/crawl_throughput.py [--articles 1000] [--rounds 3] [--quick]
    .venv/bin/python benchmarks/crawl_throughput.py --pages 10000      # RSS over one long crawl
    git worktree add /tmp/before HEAD~5 && \
    .venv/bin/python benchmarks/crawl_throughput.py --baseline /tmp/before  # + its pipeline rows

The site is :func:`tests.sites.build_copies_site`: every real page of ``../shared/datasets``
(243 pages in a dozen languages; scripts and styles left out) copied over and over, each copy
its own URL, title and canonical link (so none folds into another) and its own photo file (its
requisite; the page's own relative links lead off the site, through ``<base>``), served by the demo's
server in a process of its own. Each round runs every row once, in turn, so a busy
machine slows all of them alike; the table gives each row's median over the rounds:

- ``bare scrapy``: a spider that only fetches and follows links (robots.txt obeyed, 8 at once);
- ``trafilatura alone``: ``bare_extraction`` with metadata over every article page, one
  process per core;
- ``newsarchive extraction alone``: what the crawl's extraction workers do, same pool;
- ``pipeline sqlite`` / ``pipeline postgresql``: ``newsarchive crawl`` of the site (WARC,
  requisites, extraction, catalogue) into a fresh data dir and database;
- ``2 workers, redis frontier``: two such crawls at once, sharing one Redis frontier
  (``NEWSARCHIVE_BENCH_REDIS``, db 14 by default, emptied first) and one PostgreSQL
  catalogue: on one 2-core machine they share its cores, so this row shows the frontier's
  overhead, not a speed-up.

Every row is a process (tree) of its own, timed from start to exit (start-up included) and
its resident memory sampled every 0.2 s, summed over its processes. Every row counts article
pages (fetched, extracted, catalogued): the crawls' other responses (robots.txt, feed,
sections; the pipeline's requisites) are part of their cost. ``ratio`` is the pipeline's
articles/s over min(bare scrapy, trafilatura alone). ``--baseline DIR`` adds the pipeline rows
of another checkout of the project (same venv, its code run from DIR), alternated with the
rest: a change's before and after, side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.sites import COPIES_PATTERN, FEED_PATH, build_copies_site  # noqa: E402

POSTGRES = os.environ.get("NEWSARCHIVE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("NEWSARCHIVE_BENCH_REDIS", "redis://127.0.0.1:6379/14")  # emptied before each run
DATASETS = Path(os.environ.get("NEWSARCHIVE_DATASETS", ROOT.parent / "shared" / "datasets"))
SAMPLE_EVERY = 0.2  # seconds between RSS samples
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

SERVER = (
    "import signal, sys; from pathlib import Path; from cli.demo_server import DemoServer\n"
    "server = DemoServer(Path(sys.argv[1])).start(); print(server.base_url, flush=True); signal.pause()"
)
# Two crawl workers at once, each its own process (tree); exits with the worse status.
WORKERS = (
    "import json, subprocess, sys\n"
    "workers = [subprocess.Popen(command) for command in json.loads(sys.argv[1])]\n"
    "sys.exit(max(worker.wait() for worker in workers))"
)
BARE_SPIDER = '''
import json, re, sys, scrapy

class Bare(scrapy.Spider):
    """Fetch and follow what the news spider follows (sections, feed, articles), nothing else."""
    name = "bare"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": True,
                       "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False}

    def __init__(self, base, articles, **kw):
        super().__init__(**kw)
        self.start_urls = [base + "/", base + "/rss.xml"]
        self.allowed_domains = ["127.0.0.1"]
        self.articles = re.compile(articles)
        self.fetched = 0

    def parse(self, response):
        if self.articles.search(response.url):
            self.fetched += 1
        if isinstance(response, scrapy.http.TextResponse):
            for href in response.xpath("//a/@href | //item/link/text()").getall():
                url = response.urljoin(href.strip())
                if url.startswith(self.start_urls[0] + "news/"):
                    yield scrapy.Request(url, callback=self.parse)

    def closed(self, reason):
        print(json.dumps({"articles": self.fetched}))
'''


@dataclass
class Measured:
    """One row's run: article pages done, wall seconds, the process tree's peak RSS and its samples."""

    pages: int
    seconds: float
    peak_rss: int
    samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE_SIZE
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended between two reads
    return total


def measure(command: list[str], count: callable, **popen) -> Measured:
    """Run ``command`` to its end, sampling its tree's RSS; ``count(stdout)`` gives the pages it did."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    samples: list[tuple[float, int]] = []

    def sample() -> None:
        while process.poll() is None:
            samples.append((time.perf_counter() - started, tree_rss(process.pid)))
            time.sleep(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode:
        raise RuntimeError(f"{command[:4]} exited {process.returncode}: {stderr[-2000:]}")
    return Measured(count(stdout), seconds, max((rss for _, rss in samples), default=0), samples)


# --- the rows ----------------------------------------------------------------------------
def bare_scrapy(base: str, work: Path) -> Measured:
    work.mkdir(parents=True, exist_ok=True)
    spider = work / "bare_spider.py"
    spider.write_text(BARE_SPIDER)
    return measure([sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"base={base}",
                    "-a", f"articles={COPIES_PATTERN}"],
                   lambda out: json.loads(out.strip().splitlines()[-1])["articles"], cwd=work)


def extraction_alone(which: str, site: Path, base: str) -> Measured:
    return measure([sys.executable, __file__, "--extract-only", which, str(site), base], int, cwd=ROOT)


def pipeline(base: str, work: Path, db: str | None, max_pages: int, workers: int = 1, code: Path = ROOT) -> Measured:
    """``newsarchive crawl`` of the site into a fresh data dir (and ``db``, when given).

    ``workers`` > 1: that many crawl processes, each with a data dir of its own, sharing one
    Redis frontier (``--redis``) and the catalogue ``db``. ``code``: the checkout run.
    """
    work.mkdir(parents=True, exist_ok=True)
    sources = work / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "bench"\nstart_urls = ["{base}/"]\nfeeds = ["{base}{FEED_PATH}"]\n'
        f"allow = ['{COPIES_PATTERN}']\nmax_pages = {max_pages}\nconcurrency = 8\ndelay = 0\n"
    )

    def cli(n: int) -> list[str]:
        return [sys.executable, "-m", "cli", "--data-dir", str(work / f"data{n}"), "--sources", str(sources),
                *(["--db", db] if db else []), *(["--redis", REDIS] if workers > 1 else [])]

    if workers == 1:
        measured = measure([*cli(0), "crawl", "--no-progress"], lambda out: 0, cwd=code)
    else:
        redis.Redis.from_url(REDIS).flushdb()
        commands = [[*cli(n), "crawl", "--no-progress"] for n in range(workers)]
        measured = measure([sys.executable, "-c", WORKERS, json.dumps(commands)], lambda out: 0, cwd=code)
    runs = subprocess.run([*cli(0), "runs", "--format", "jsonl", "--limit", str(workers)], check=True,
                          capture_output=True, text=True, cwd=ROOT).stdout
    measured.pages = sum(run["articles_new"] + run["articles_updated"] + run["articles_duplicate"]
                         for run in map(json.loads, runs.splitlines()))
    return measured


class FreshPostgres:
    """A database of its own for one crawl, created and dropped on the server of ``POSTGRES``."""

    def __init__(self, name: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.admin = make_url(POSTGRES)
        self.url = self.admin.set(database=name).render_as_string(hide_password=False)
        self.name = name
        self.connect = lambda: psycopg.connect(self.admin.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True)

    def __enter__(self) -> str:
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            connection.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc: object) -> None:
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- extraction in a pool (the --extract-only subprocess) ---------------------------------
def _trafilatura(page: tuple[bytes, str]) -> bool:
    from trafilatura import bare_extraction

    return bare_extraction(page[0], url=page[1], with_metadata=True) is not None


def _newsarchive(page: tuple[bytes, str]) -> bool:
    from crawler.extraction import extract_page

    return extract_page(page[0], page[1], "text/html; charset=utf-8").article is not None


def extract_only(which: str, site: Path, base: str) -> None:
    """Every article page of the site through one extractor, one process per core; prints the count."""
    task = {"trafilatura": _trafilatura, "newsarchive": _newsarchive}[which]
    pages = [(path.read_bytes().replace(b"{{BASE}}", base.encode()), base + "/" + str(path.relative_to(site)))
             for path in sorted((site / "news" / "2019").rglob("*.html"))]
    with ProcessPoolExecutor(os.cpu_count(), mp_context=get_context("spawn")) as pool:
        list(pool.map(task, pages, chunksize=4))
    print(len(pages))


# --- the run -----------------------------------------------------------------------------
def serve(site: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(site)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def throughput_table(site: Path, base: str, work: Path, rounds: int, max_pages: int, baseline: Path | None) -> None:
    rows = {
        "bare scrapy": lambda n: bare_scrapy(base, work / f"bare{n}"),
        "trafilatura alone": lambda n: extraction_alone("trafilatura", site, base),
        "newsarchive extraction alone": lambda n: extraction_alone("newsarchive", site, base),
        "pipeline sqlite": lambda n: pipeline(base, work / f"sqlite{n}", None, max_pages),
        "pipeline postgresql": lambda n: _on_postgres(base, work / f"pg{n}", max_pages),
        "2 workers, redis frontier": lambda n: _on_postgres(base, work / f"redis{n}", max_pages, workers=2),
    }
    if baseline:
        rows["pipeline sqlite, baseline"] = lambda n: pipeline(base, work / f"bsqlite{n}", None, max_pages,
                                                               code=baseline)
        rows["pipeline postgresql, baseline"] = lambda n: _on_postgres(base, work / f"bpg{n}", max_pages, code=baseline)
    results: dict[str, list[Measured]] = {name: [] for name in rows}
    for n in range(1, rounds + 1):
        for name, run in rows.items():
            measured = run(n)
            results[name].append(measured)
            print(f"  round {n} {name}: {measured.pages} pages in {measured.seconds:.1f} s = "
                  f"{measured.rate:.1f}/s, peak RSS {measured.peak_rss / 2**20:.0f} MB", flush=True)
    medians = {name: statistics.median(m.rate for m in runs) for name, runs in results.items()}
    floor = min(medians["bare scrapy"], medians["trafilatura alone"])
    print(f"\n{'row':30} {'art./s':>8} {'peak RSS MB':>12} {'ratio':>6}   (median of {rounds}, alternated)")
    for name, runs in results.items():
        ratio = f"{medians[name] / floor:6.2f}" if name.startswith(("pipeline", "2 workers")) else ""
        peak = max(m.peak_rss for m in runs) / 2**20
        print(f"{name:30} {medians[name]:8.1f} {peak:12.0f} {ratio:>6}")


def _on_postgres(base: str, work: Path, max_pages: int, workers: int = 1, code: Path = ROOT) -> Measured:
    with FreshPostgres(f"bench_crawl_{os.getpid()}") as url:
        return pipeline(base, work, url, max_pages, workers, code)


def rss_curve(base: str, work: Path, max_pages: int) -> None:
    """One long pipeline crawl on SQLite, its tree's RSS every few seconds."""
    measured = pipeline(base, work, None, max_pages)
    print(f"pipeline sqlite: {measured.pages} pages in {measured.seconds:.0f} s = {measured.rate:.1f}/s")
    print(f"{'seconds':>8} {'RSS MB':>8}")
    step = max(1, len(measured.samples) // 40)
    for at, rss in measured.samples[::step]:
        print(f"{at:8.0f} {rss / 2**20:8.0f}")
    print(f"peak {measured.peak_rss / 2**20:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000, help="article pages on the site (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every row (default 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 150 articles, one round")
    parser.add_argument("--pages", type=int, help="instead of the table: one crawl of this many articles, RSS over time")
    parser.add_argument("--baseline", type=Path, help="another checkout whose pipeline rows to run alongside")
    parser.add_argument("--extract-only", nargs=3, metavar=("WHICH", "SITE", "BASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.extract_only:
        which, site, base = args.extract_only
        return extract_only(which, Path(site), base)
    articles = args.pages or (150 if args.quick else args.articles)
    rounds = 1 if args.quick else args.rounds
    with tempfile.TemporaryDirectory(prefix="crawl-bench-") as tmp:
        work = Path(tmp)
        site = build_copies_site(work / "site", DATASETS, n_articles=articles, n_originals=None).root
        server, base = serve(site)
        max_pages = 3 * articles  # each article and its photo, with room for sections, feed and robots.txt
        try:
            print(f"site: {articles} article pages at {base}, served by process {server.pid}; {os.cpu_count()} cores")
            if args.pages:
                rss_curve(base, work / "long", max_pages)
            else:
                throughput_table(site, base, work, rounds, max_pages, args.baseline and args.baseline.resolve())
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
