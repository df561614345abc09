"""Fixtures of the scheduler tests: a local news site, a server that never answers, a real scheduler.

The scheduler runs as users run it, ``newsarchive schedule run`` in its own process, with
second-level cron schedules; the tests read its log lines and the catalogue it writes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.catalogue.store import Catalogue
from archive.query.runs import list_runs
from tests.bench_site import build_bench_site
from tests.command import run_cli, start_cli
from tests.site_server import SiteServer

ARTICLES = r"/news/\d{4}/\d{2}/\d{2}/"  # the bench site's article URLs
# An allow rule no URL matches: every page is navigation, crawled without extraction, which
# keeps a crawl process to a few seconds where articles and their versions are not the point.
NO_ARTICLES = "/no-such-section/"


def source_toml(name: str, base_url: str, schedule: str, **fields: Any) -> str:
    """One ``[[source]]`` table for the bench site served at ``base_url``, crawled without delay."""
    values = {"start_urls": [f"{base_url}/"], "feeds": [f"{base_url}/rss.xml"], "allow": [ARTICLES],
              "schedule": schedule, "delay": 0, **fields}
    lines = [f'name = "{name}"'] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "[[source]]\n" + "\n".join(lines) + "\n"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    """The bench site with three articles, served on 127.0.0.1; ``build_bench_site`` again grows it."""
    root = tmp_path / "site"
    build_bench_site(root, 3)
    with SiteServer(root) as server:
        yield server


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung news server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


class ScheduledService:
    """``newsarchive schedule run`` in a subprocess, its log in a file the test reads as it grows."""

    def __init__(self, tmp_path: Path, sources: str, *options: str) -> None:
        self.data_dir = tmp_path / "data"
        self.sources_file = tmp_path / "sources.toml"
        self.sources_file.write_text(sources)
        self.log_file = tmp_path / "scheduler.log"
        self.global_options = ["--data-dir", str(self.data_dir), "--sources", str(self.sources_file)]
        self.options = ["--watch-interval", "0.3", *options]
        self.process: subprocess.Popen[bytes] | None = None
        self.catalogue: Catalogue | None = None

    def start(self) -> ScheduledService:
        with self.log_file.open("wb") as log:
            self.process = start_cli(*self.global_options, "schedule", "run", *self.options,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir.parent)
        self.wait_for(lambda: "event=scheduler-start" in self.log(), "the scheduler to start")
        self.catalogue = Catalogue(f"sqlite:///{self.data_dir / 'catalogue.sqlite'}")
        return self

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def events(self, event: str) -> list[str]:
        """The log lines of one event (``crawl-end``...)."""
        return [line for line in self.log().splitlines() if f"event={event} " in line + " "]

    def runs(self, source: str | None = None) -> list[dict[str, Any]]:
        """Runs, oldest first."""
        assert self.catalogue is not None
        return list_runs(self.catalogue, source, limit=100)[::-1]

    def finished_runs(self, source: str | None = None) -> list[dict[str, Any]]:
        return [run for run in self.runs(source) if run["status"] != "running"]

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 40) -> Any:
        """Poll ``condition`` until it is true; fail with the scheduler's log when it does not come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"the scheduler exited ({self.process.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}:\n{self.log()}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd stops a service; the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def cli(self, *args: str) -> str:
        """Another newsarchive command on the same data, its output."""
        return run_cli(*self.global_options, *args, timeout=60, check=True).stdout

    def kill(self) -> None:
        """After a failed test: the scheduler and any crawl process still running."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for run in self.runs() if self.catalogue else []:
            if run["status"] == "running":
                try:
                    os.killpg(run_pid(self.catalogue, run["id"]), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if self.catalogue is not None:
            self.catalogue.close()


def run_pid(catalogue: Catalogue | None, run_id: int) -> int:
    assert catalogue is not None
    run = catalogue.get_run(run_id)
    assert run is not None and run.pid is not None
    return run.pid


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[Callable[..., ScheduledService]]:
    """Starts ``newsarchive schedule run`` with a sources text and options; cleans up whatever happens."""
    services: list[ScheduledService] = []

    def start(sources: str, *options: str) -> ScheduledService:
        service = ScheduledService(tmp_path, sources, *options)
        services.append(service)
        return service.start()

    yield start
    for service in services:
        service.kill()
