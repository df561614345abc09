"""Run liveness across hosts: two `newsarchive crawl` processes, named as two hosts, on one
PostgreSQL catalogue.

Each crawl start closes the runs it finds dead. A live run of another host is never closed
(its pid means nothing here); a run whose process was SIGKILLed is closed ``interrupted``
once its heartbeat is older than the timeout, with its figures counted from its captures.
The heartbeat interval and timeout are kept small through their settings (environment).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.catalogue.store import Catalogue
from archive.catalogue.models import Capture, CrawlRun
from tests.bench_site import build_bench_site
from tests.command import start_cli
from tests.site_server import SiteServer

HEARTBEAT = {"NEWSARCHIVE_HEARTBEAT_INTERVAL": "0.5", "NEWSARCHIVE_HEARTBEAT_TIMEOUT": "5"}
TIMEOUT = 5.0
NO_ARTICLES = "/no-such-section/"


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[SiteServer, SiteServer]]:
    """A large site crawled slowly (alpha) and a small one crawled at once (beta).

    Their allow rule matches no URL: every page is navigation, archived without extraction,
    which spares the cores; articles are not the point here.
    """
    build_bench_site(tmp_path / "alpha", 200)
    build_bench_site(tmp_path / "beta", 10)
    with SiteServer(tmp_path / "alpha") as alpha, SiteServer(tmp_path / "beta") as beta:
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "alpha"\nstart_urls = ["{alpha.base_url}/"]\nallow = ["{NO_ARTICLES}"]\n'
            'concurrency = 1\ndelay = 0.3\n'
            f'[[source]]\nname = "beta"\nstart_urls = ["{beta.base_url}/"]\nallow = ["{NO_ARTICLES}"]\ndelay = 0\n')
        yield alpha, beta


def start_crawl(tmp_path: Path, db: str, host: str, source: str) -> subprocess.Popen[str]:
    """`newsarchive crawl SOURCE` as host ``host``, in its own data dir and process group."""
    return start_cli(
        "--data-dir", str(tmp_path / host), "--db", db, "--sources", str(tmp_path / "sources.toml"),
        "crawl", "--no-progress", source,
        env={**os.environ, **HEARTBEAT, "NEWSARCHIVE_HOST": host}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def run_of(catalogue: Catalogue, host: str) -> CrawlRun | None:
    with catalogue.session() as session:
        return session.scalar(select(CrawlRun).where(CrawlRun.host == host).order_by(CrawlRun.id.desc()).limit(1))


def test_hosts_never_close_each_others_live_runs_and_a_killed_one_is_closed_after_the_timeout(
        tmp_path: Path, postgres_url: str, sites: tuple[SiteServer, SiteServer]) -> None:
    catalogue = Catalogue(postgres_url)
    alpha = start_crawl(tmp_path, postgres_url, "host-a", "alpha")
    try:
        wait_for(lambda: (run := run_of(catalogue, "host-a")) and run.pages > 0, "host-a's crawl to save figures")

        beta = start_crawl(tmp_path, postgres_url, "host-b", "beta")  # its start looks for dead runs
        _, beta_err = beta.communicate(timeout=120)
        assert beta.returncode == 0, beta_err[-2000:]
        running = run_of(catalogue, "host-a")
        assert (running.status, running.finished, running.message) == ("running", None, None)
        assert run_of(catalogue, "host-b").status == "ok"

        os.killpg(alpha.pid, signal.SIGKILL)  # the crawl and its extraction workers, as the OOM killer would
        alpha.wait(10)
        killed_at = time.monotonic()
        assert catalogue.mark_dead_runs("host-b", TIMEOUT) == []  # its heartbeat is still fresh
        assert run_of(catalogue, "host-a").status == "running"
    finally:
        if alpha.poll() is None:
            os.killpg(alpha.pid, signal.SIGKILL)
            alpha.wait(10)

    time.sleep(max(0.0, TIMEOUT + 1 - (time.monotonic() - killed_at)))
    again = start_crawl(tmp_path, postgres_url, "host-b", "beta")
    _, again_err = again.communicate(timeout=120)
    assert again.returncode == 0, again_err[-2000:]

    dead = run_of(catalogue, "host-a")
    assert dead is not None and dead.status == "interrupted"
    assert dead.message == (f"no heartbeat since {dead.heartbeat:%Y-%m-%d %H:%M:%S} UTC from host host-a "
                            f"(timeout {TIMEOUT:g} s): its crawl process is gone")
    assert dead.finished == dead.heartbeat
    with catalogue.session() as session:
        captures = session.scalar(select(func.count(Capture.id)).where(Capture.run_id == dead.id))
    assert dead.pages == captures > 0  # recounted: it was killed between two saves
    catalogue.close()
