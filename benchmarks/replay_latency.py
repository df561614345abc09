"""Replay latency of one archived article: newsarchive's replay server beside pywb, same WARC files.

Run by hand from the project root (about a minute; pywb comes from ``.venv-pywb``, which
``scripts/test`` creates)::

    python benchmarks/replay_latency.py                  # crawls the demo site into a temp dir first
    python benchmarks/replay_latency.py --data-dir data  # or uses an existing archive

It serves the archive with ``newsarchive replay`` (what a user runs) and with pywb's
``wayback`` over a collection made of the same WARC files (``wb-manager add``), both on
127.0.0.1, and requests one article capture over and over, one request at a time, after a
warm-up, each on a new connection and then all on one keep-alive connection:

- *page*: the rewritten page a reader gets — ours ``/web/<ts>/<url>`` of the replay origin,
  the page itself as the app's frame shows it; pywb's ``/<coll>/<ts>mp_/<url>``, the page
  itself without pywb's surrounding frame;
- *raw*: the archived payload, ``id_`` on both.

Each request's time runs from opening the connection (or sending the request, on a kept
connection) to the last byte of the body read. It prints the median and 90th percentile in
milliseconds for each server and mode. pywb's keep-alive figures include a stall of about
40 ms per request: its server writes a response in several small packets, and TCP's
delayed acknowledgement holds the last one back (Nagle's algorithm); the new-connection
figures are free of that.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

from sqlalchemy import select

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from archive.wayback import RAW, replay_url, timestamp14
from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, Capture

WARM_UP = 20  # requests before timing: imports, caches and connection set-up out of the figures
NEWSARCHIVE = [sys.executable, "-c", "from cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def article_capture(data_dir: Path) -> tuple[str, str]:
    """(url, 14-digit timestamp) of the first catalogued article's capture."""
    catalogue = Catalogue(f"sqlite:///{(data_dir / 'catalogue.sqlite').resolve()}")
    with catalogue.session() as session:
        row = session.execute(select(Capture.url, Capture.timestamp).join(Article, Article.capture_id == Capture.id)
                              .order_by(Article.id).limit(1)).one()
    catalogue.close()
    return row.url, timestamp14(row.timestamp)


@contextmanager
def running(command: list[str], port: int, cwd: Path) -> Iterator[None]:
    """A server process, until it answers on ``port``; stopped on exit."""
    log = open(cwd / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start: see {log.name}") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def timings(port: int, path: str, requests: int, keep_alive: bool) -> list[float]:
    """Milliseconds per request, after a warm-up: each on a new connection, or all on one."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    result = []
    for n in range(WARM_UP + requests):
        start = perf_counter()
        if not keep_alive:
            connection.close()  # the request below opens a new one
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        elapsed = (perf_counter() - start) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        if n >= WARM_UP:
            result.append(elapsed)
    connection.close()
    return result


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(values):8.2f} {ordered[int(0.9 * (len(ordered) - 1))]:8.2f}"


def measure(port: int, paths: dict[str, str], requests: int) -> dict[str, tuple[list[float], list[float]]]:
    """Per mode: timings on new connections, then on one kept connection."""
    return {mode: (timings(port, path, requests, keep_alive=False), timings(port, path, requests, keep_alive=True))
            for mode, path in paths.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="an existing archive (default: crawl the demo site first)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per server and mode")
    parser.add_argument("--pywb-venv", type=Path, default=PROJECT / ".venv-pywb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="replay-latency-") as temp:
        work = Path(temp)
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = work / "data"
            subprocess.run([*NEWSARCHIVE, "--data-dir", str(data_dir), "demo", "--port", str(free_port())],
                           check=True, stdout=subprocess.DEVNULL, cwd=work)
        url, ts = article_capture(data_dir)
        warcs = sorted(str(p) for p in (data_dir / "warcs").glob("*.warc.gz"))
        tools = args.pywb_venv / "bin"
        subprocess.run([tools / "wb-manager", "init", "bench"], check=True, cwd=work, capture_output=True)
        subprocess.run([tools / "wb-manager", "add", "bench", *warcs], check=True, cwd=work, capture_output=True)

        ours_port, pywb_port = free_port(), free_port()
        with running([*NEWSARCHIVE, "--data-dir", str(data_dir.resolve()), "replay", "--port", str(ours_port)],
                     ours_port, work):
            ours = measure(ours_port, {"page": replay_url(ts, url), "raw": replay_url(ts, url, RAW)}, args.requests)
        with running([str(tools / "wayback"), "--port", str(pywb_port), "--bind", "127.0.0.1"], pywb_port, work):
            pywb = measure(pywb_port, {"page": f"/bench/{ts}mp_/{url}", "raw": f"/bench/{ts}id_/{url}"},
                           args.requests)

    print(f"capture: {url} at {ts}; {args.requests} sequential requests each, after {WARM_UP} warm-up")
    print(f"{'':18} {'new connection':>17}   {'keep-alive':>17}")
    print(f"{'(ms)':18} {'median':>8} {'p90':>8}   {'median':>8} {'p90':>8}")
    for server, results in (("newsarchive", ours), ("pywb", pywb)):
        for mode, (fresh, kept) in results.items():
            print(f"{server + ' ' + mode:18} {summary(fresh)}   {summary(kept)}")


if __name__ == "__main__":
    main()
