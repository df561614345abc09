"""Crawls killed with SIGKILL mid-write and mid-commit, then crawled to the end: nothing lost, nothing fetched twice.

A local site of 300 distinct articles (tests/sites.py: real articles-dev pages, copied) is
crawled by the real ``newsarchive crawl`` in a subprocess, three times killed with SIGKILL
(its whole process group: the crawl and its extraction workers), each time at a kind of
moment a crash hurts most: while a WARC response record is half on disk, while the
transaction indexing a capture commits, while the one cataloguing an article commits.
``stop_at.py`` makes the crawl stop itself at such a moment once armed (at a number of
requests drawn with a fixed seed); py-spy shows where it stands; then the group is killed.
The next crawl recovers what the killed one left (the last time ``verify --repair`` does),
and a last crawl runs to the end. Then: ``verify`` is clean, no ``.open`` file is left,
every article is catalogued once and replays, and no article page was fetched again unless
the killed crawl had not archived it whole.

Run with ``-s`` to see the figures of each kill.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from archive.warc.reindex import index_warcs
from archive.wayback import timestamp14
from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, Capture, CrawlRun
from archive.web.replay import create_replay_app
from archive.warc.reader import iter_captures
from archive.warc.files import OPEN_SUFFIX, WARC_SUFFIX, finished_files, finished_name, open_files
from tests.command import run_cli_in, workdir_options
from tests.site_server import SiteServer
from tests.crawler.stop_at import POINTS
from tests.sites import COPIES_PATTERN, CopiesSite, build_copies_site

SEED = 20261201
ARTICLES = 300
ARM_AFTER = (35, 70)  # requests a crawl has made when it is armed to stop: drawn with SEED
STOP_AT = Path(__file__).with_name("stop_at.py")
PY_SPY = Path(sys.executable).with_name("py-spy")
_SUMMARY = re.compile(r"recovery: (\d+) unfinished WARC files, (\d+) records kept, ([\d,]+) bytes cut; captures: "
                      r"(\d+) added, (\d+) removed; articles: (\d+) re-pointed, (\d+) catalogued from WARC, (\d+) dropped")


@dataclass
class Kill:
    """One killed crawl and what recovery found of it."""

    point: str
    pid: int
    requests: list[str]  # paths the site server answered during this crawl
    stack: str  # the crawl's thread that stopped, as py-spy saw it
    warc_file: str = ""  # finished name of the file it was writing
    records: int = 0
    bytes_cut: int = 0
    captures_added: int = 0
    captures_removed: int = 0
    repointed: int = 0
    catalogued_from_warc: int = 0
    dropped: int = 0
    refetched: int = 0

    def recovered(self, summary: str) -> None:
        match = _SUMMARY.search(summary)
        assert match, f"no recovery summary in:\n{summary[-3000:]}"
        figures = [int(group.replace(",", "")) for group in match.groups()]
        (_, self.records, self.bytes_cut, self.captures_added, self.captures_removed, self.repointed,
         self.catalogued_from_warc, self.dropped) = figures


def stopped_thread(pid: int) -> str:
    """The stack of the thread that stopped the process (stop_at.py's hook in it), innermost frame
    first, as py-spy dumps it."""
    if not PY_SPY.exists():
        pytest.fail(f"{PY_SPY} is missing: install the test extras (pip install -e '.[test]')")
    dump = subprocess.run([str(PY_SPY), "dump", "--nonblocking", "--pid", str(pid)],
                          capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, f"py-spy could not read the crawl's stack (it needs ptrace): {dump.stderr}"
    threads = re.split(r"\n(?=Thread )", dump.stdout)
    return next((t for t in threads if t.startswith("Thread ") and re.search(r"^\s*(StopAt\.)?stop \(.*stop_at\.py",
                                                                                  t, re.MULTILINE)), dump.stdout)


def wait_stopped(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the crawl ended before reaching its stop point"
        with open(f"/proc/{process.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    pytest.fail("the crawl did not reach its stop point")


def kill_crawl(workdir: Path, server: SiteServer, point: str, arm_after: int) -> Kill:
    """Start a crawl, arm it after ``arm_after`` requests, and SIGKILL its process group where it stops."""
    first = len(server.log)
    with open(workdir / f"crawl-{point}.stderr", "wb") as stderr:
        process = subprocess.Popen([sys.executable, str(STOP_AT), point, *workdir_options(workdir), "crawl",
                                    "--no-progress"],
                                   stdout=subprocess.DEVNULL, stderr=stderr, cwd=workdir, start_new_session=True)
    try:
        while len(server.log) - first < arm_after:
            assert process.poll() is None, (workdir / f"crawl-{point}.stderr").read_text()[-3000:]
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGUSR1)
        wait_stopped(process)
        stack = stopped_thread(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the crawl and its extraction workers, as the OOM killer would
        process.wait()
    assert process.returncode == -signal.SIGKILL
    return Kill(point, process.pid, server.paths[first:], stack)


def crawl_log(workdir: Path, pid: int) -> str:
    [log] = (workdir / "data" / "logs").glob(f"crawl-*-{pid}.log")
    return log.read_text(errors="replace")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, datasets_dir: Path) -> CopiesSite:
    return build_copies_site(tmp_path_factory.mktemp("copies-site"), datasets_dir, ARTICLES)


def test_killed_crawls_lose_nothing_and_fetch_nothing_twice(site: CopiesSite, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    warc_dir = tmp_path / "data" / "warcs"
    with SiteServer(site.root) as server:
        base = server.base_url
        (tmp_path / "sources.toml").write_text(site.sources_toml(base))
        kills: list[Kill] = []
        for n, point in enumerate(POINTS):
            before = {finished_name(p.name) for p in [*finished_files(warc_dir), *open_files(warc_dir)]}
            kill = kill_crawl(tmp_path, server, point, rng.randint(*ARM_AFTER))
            [unfinished] = open_files(warc_dir)  # its file, left .open
            assert finished_name(unfinished.name) not in before
            kill.warc_file = finished_name(unfinished.name)
            if kills:  # this crawl began by recovering the one killed before it
                kills[-1].recovered(crawl_log(tmp_path, kill.pid))
            if n == 0:  # unfinished is not damage, and index keeps what points into it
                catalogue = Catalogue(f"sqlite:///{tmp_path / 'data' / 'catalogue.sqlite'}", migrate=False)
                assert index_warcs(catalogue, warc_dir).removed == 0
                catalogue.close()
                verify = run_cli_in(tmp_path, "verify")
                assert verify.returncode == 0, verify.stdout + verify.stderr
                assert f"recoverable with `newsarchive verify --repair`: {unfinished.name}" in verify.stdout
            kills.append(kill)
        repair = run_cli_in(tmp_path, "verify", "--repair")
        assert repair.returncode == 0, repair.stdout + repair.stderr
        kills[-1].recovered(repair.stdout)
        assert not open_files(warc_dir)
        first = len(server.log)
        final = run_cli_in(tmp_path, "crawl", "--no-progress")
        assert final.returncode == 0, final.stdout + final.stderr
        final_requests = server.paths[first:]

    # Nothing unfinished, nothing damaged.
    assert not list(warc_dir.glob(f"*{OPEN_SUFFIX}"))
    verify = run_cli_in(tmp_path, "verify")
    assert verify.returncode == 0 and "unfinished" not in verify.stdout, verify.stdout + verify.stderr

    # No article page fetched again, unless the crawl that fetched it first had not archived it whole.
    article = re.compile(COPIES_PATTERN + r"[^/]+\.html$")
    for n, kill in enumerate(kills):
        later = {p for k in kills[n + 1:] for p in k.requests} | set(final_requests)
        archived = {info.url.removeprefix(base) for info in iter_captures(warc_dir / kill.warc_file)
                    if info.status == 200}
        refetched = {p for p in kill.requests if article.search(p)} & later
        assert not refetched & archived, f"{kill.point}: archived, yet fetched again: {sorted(refetched & archived)}"
        kill.refetched = len(refetched)
    fetched = [p for p in server.paths if article.search(p)]
    assert set(fetched) == set(site.article_paths)

    # Every article catalogued once, each pointing at a capture that replays.
    catalogue = Catalogue(f"sqlite:///{tmp_path / 'data' / 'catalogue.sqlite'}", migrate=False)
    with catalogue.session() as session:
        rows = session.execute(select(Article.canonical_url, Capture.url, Capture.timestamp)
                               .outerjoin(Capture, Capture.id == Article.capture_id)).all()
    canonical = sorted(row.canonical_url.removeprefix(base) for row in rows)
    assert canonical == sorted(site.article_paths)  # each once
    with TestClient(create_replay_app(catalogue, warc_dir)) as client:
        for row in rows:
            replayed = client.get(f"/web/{timestamp14(row.timestamp)}id_/{row.url}")
            assert replayed.status_code == 200, row.url
            assert f'<link rel="canonical" href="{row.url}">'.encode() in replayed.content, row.url

    # Each kill landed where it was meant to, and recovery gave back what that kill takes.
    warc_write, capture_commit, article_commit = kills
    assert "_write_warc_record" in warc_write.stack and warc_write.bytes_cut > 0  # a torn record, cut
    assert "_write_batch" in capture_commit.stack and "do_commit" in capture_commit.stack
    assert capture_commit.captures_added >= 1  # the record whose row never committed
    assert "_write_batch" in article_commit.stack and "do_commit" in article_commit.stack
    assert article_commit.catalogued_from_warc >= 1  # the article whose row never committed
    with catalogue.session() as session:
        runs = session.execute(select(CrawlRun.status, CrawlRun.warc_files).order_by(CrawlRun.id)).all()
    assert len(runs) == len(kills) + 1 and runs[-1].status == "ok"
    assert all(name.endswith(WARC_SUFFIX) for r in runs for name in r.warc_files)  # no .open name left
    print_table(kills, len(final_requests))


def print_table(kills: list[Kill], final_requests: int) -> None:
    print("\n| kill point | stopped in | requests before kill | records recovered | bytes cut | captures repaired "
          "(added/removed) | articles re-pointed | articles catalogued from WARC | article pages refetched |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kill in kills:
        print(f"| {kill.point} | {_where(kill.stack)} | {len(kill.requests)} | {kill.records} | {kill.bytes_cut:,} | "
              f"{kill.captures_added + kill.captures_removed} ({kill.captures_added}/{kill.captures_removed}) | "
              f"{kill.repointed} | {kill.catalogued_from_warc} | {kill.refetched} |")
    print(f"final crawl: {final_requests} requests")


def _where(stack: str) -> str:
    """The innermost warcio or SQLAlchemy frame of a py-spy dump, and the newsarchive frame that called it."""
    frames = [re.sub(r" \((.*):\d+\)$", r" (\1)", line.strip()) for line in stack.splitlines()[1:]]
    library = next((f for f in frames if "warcio/" in f or "sqlalchemy/" in f), "?")
    ours = next((f for f in frames if ("archive/" in f or "crawler/" in f) and "stop_at" not in f
                 and not f.startswith("Catalogue.session ")), "?")  # the method, not its session helper
    return f"`{library.split(' ')[0]}` in `{ours.split(' ')[0]}`"
