"""Crawl throughput: the full newsarchive pipeline vs a bare Scrapy spider, same local site.

Run by hand from the project root (it takes a few minutes)::

    python benchmarks/crawl_throughput.py --articles 1000 --rounds 3

It builds a synthetic news site (tests/bench_site.py), serves it on 127.0.0.1 and,
alternating A B A B ..., crawls it with

- A: ``newsarchive crawl`` (WARC capture of every exchange, trafilatura extraction in a
  process pool, deduplicating catalogue), into a fresh data dir each round;
- B: a bare Scrapy spider that follows the same links and only fetches (no storage),

both with robots.txt obeyed, 8 requests at once and no delay. It prints each round's
pages/s (responses over the process's wall time, start-up included) and the medians and
their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.bench_site import build_bench_site  # noqa: E402
from tests.site_server import serve_site  # noqa: E402

BARE_SPIDER = '''
import json, sys, scrapy

class Bare(scrapy.Spider):
    """Fetch-only twin of the news spider: sections, pagination, feed and articles."""
    name = "bare"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": True,
                       "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False}

    def __init__(self, base, **kw):
        super().__init__(**kw)
        self.start_urls = [base + "/", base + "/rss.xml"]
        self.allowed_domains = ["127.0.0.1"]

    def parse(self, response):
        if not isinstance(response, scrapy.http.TextResponse):
            return
        for href in response.xpath("//a/@href | //item/link/text()").getall():
            yield response.follow(href.strip(), callback=self.parse)

    def closed(self, reason):
        stats = self.crawler.stats.get_stats()
        print(json.dumps({"pages": stats.get("response_received_count", 0)}), file=sys.stderr)
'''


def run_pipeline(base: str, workdir: Path) -> tuple[int, float]:
    """Responses archived and wall seconds of one `newsarchive crawl`."""
    sources = workdir / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "bench"\n'
        f'start_urls = ["{base}/"]\nfeeds = ["{base}/rss.xml"]\n'
        "allow = ['/\\d{4}/\\d{2}/\\d{2}/']\nmax_pages = 100000\nconcurrency = 8\ndelay = 0\n"
    )
    data = workdir / "data"
    cli = [sys.executable, "-c", "from cli.main import main; main()", "--data-dir", str(data),
           "--sources", str(sources)]
    started = time.perf_counter()
    subprocess.run([*cli, "crawl", "--no-progress"], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    runs = subprocess.run([*cli, "runs", "--format", "jsonl", "--limit", "1"], check=True,
                          capture_output=True, text=True).stdout
    return json.loads(runs)["pages"], elapsed


def run_bare(base: str, workdir: Path) -> tuple[int, float]:
    """Responses fetched and wall seconds of the bare spider."""
    spider = workdir / "bare_spider.py"
    spider.write_text(BARE_SPIDER)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"base={base}"],
                            check=True, capture_output=True, text=True, cwd=workdir)
    elapsed = time.perf_counter() - started
    pages = json.loads(result.stderr.strip().splitlines()[-1])["pages"]
    return pages, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_bench_site(root / "site", args.articles)
        pipeline_rates, bare_rates = [], []
        with serve_site(root / "site") as base:
            for round_ in range(1, args.rounds + 1):
                workdir = root / f"round{round_}"
                workdir.mkdir()
                pages_a, seconds_a = run_pipeline(base, workdir)
                pages_b, seconds_b = run_bare(base, workdir)
                pipeline_rates.append(pages_a / seconds_a)
                bare_rates.append(pages_b / seconds_b)
                print(f"round {round_}: newsarchive {pages_a} pages in {seconds_a:.1f} s "
                      f"({pages_a / seconds_a:.1f}/s); bare scrapy {pages_b} pages in {seconds_b:.1f} s "
                      f"({pages_b / seconds_b:.1f}/s)")
    a, b = statistics.median(pipeline_rates), statistics.median(bare_rates)
    print(f"median pages/s: newsarchive {a:.1f}, bare scrapy {b:.1f}; ratio newsarchive/bare = {a / b:.2f}")


if __name__ == "__main__":
    main()
