"""One archive made by two real crawls of the replay site, for the replay and CLI tests (a pytest plugin).

The site (``replay_site.py``) is served on 127.0.0.1 and crawled with ``newsarchive crawl``
in a subprocess (Twisted's reactor runs once per process); one article is changed
between the two crawls. The site server is stopped before any test runs, so a replayed
page that reached for the original host would fail.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp
from sqlalchemy import select
from starlette.testclient import TestClient

from archive.wayback import timestamp14
from archive.catalogue.store import Catalogue
from archive.catalogue.models import Capture
from archive.config import Settings
from archive.warc.reindex import index_warcs
from archive.warc.writer import WarcWriter
from archive.web.app import create_app
from archive.web.isolation import Origins
from archive.web.replay import create_replay_app
from archive.web.serving import bind, bound_port
from archive.urls import surt
from tests.command import run_cli_in
from tests.site_server import SiteServer
from tests.replay_site import (
    CHANGING,
    SECOND_VERSION,
    STORY,
    ReplaySite,
    build_replay_site,
    change_page,
)

PROJECT = Path(__file__).resolve().parents[1]
PEERS_VENV = PROJECT / ".venv-pywb"  # pywb, cdxj-indexer and wacz: test peers, never project dependencies


def free_port() -> int:
    """A loopback port free right now, for a server that cannot be told to take port 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peer_tool(name: str) -> Path:
    """A command of the interop peers' venv, which scripts/test creates."""
    tool = PEERS_VENV / "bin" / name
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run scripts/test, which creates {PEERS_VENV} with pywb, cdxj-indexer "
                    "and wacz (they cannot share the project's venv)")
    return tool


@dataclass(frozen=True)
class ReplayArchive:
    """The crawled archive and what the tests need to know about it."""

    site: ReplaySite
    workdir: Path
    first: str  # 14-digit timestamps of the story's captures in the first and second crawl
    second: str

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warcs"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'catalogue.sqlite'}"

    def url(self, path: str) -> str:
        return self.site.base_url + path

    def captures(self, url: str) -> list[Capture]:
        """The captures of a URL (or a path of the site), oldest first."""
        url = url if "://" in url else self.url(url)
        catalogue = Catalogue(self.db_url)
        try:
            with catalogue.session() as session:
                return list(session.scalars(select(Capture).where(Capture.urlkey == surt(url))
                                            .order_by(Capture.timestamp, Capture.id)))
        finally:
            catalogue.close()


CRAWL_GAP = 7.0  # seconds between the end of the first crawl and the start of the second


@pytest.fixture(scope="session")
def replay_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayArchive]:
    workdir = tmp_path_factory.mktemp("replay")
    (workdir / "site").mkdir()
    with SiteServer(workdir / "site") as server:
        site = build_replay_site(workdir / "site", server.base_url)
        (workdir / "sources.toml").write_text(site.sources_toml())
        for crawl in (1, 2):
            if crawl == 2:
                change_page(site.root, SECOND_VERSION)
                # The two crawls' captures more than 6 s apart: a moment a third of the way from one
                # to the other, cut to the whole second as 14-digit timestamps are, is then still
                # nearer the one it was taken from (test_replay's closest capture).
                time.sleep(CRAWL_GAP)
            result = run_cli_in(workdir, "crawl", "--no-progress")
            if result.returncode != 0:
                pytest.fail(f"crawl {crawl} of the replay site failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    archive = ReplayArchive(site, workdir, "", "")
    stamps = [timestamp14(c.timestamp) for c in archive.captures(STORY)]
    changing = [timestamp14(c.timestamp) for c in archive.captures(CHANGING)]
    if len(stamps) != 2 or len(changing) != 2:
        pytest.fail(f"expected two captures of {STORY} and {CHANGING}, got {stamps} and {changing}")
    yield ReplayArchive(site, workdir, stamps[0], stamps[1])


# In-process clients: the replay origin is the TestClient's own, the app origin another.
TEST_ORIGINS = Origins.of("http://app.test", "http://testserver")


@pytest.fixture(scope="session")
def replay_client(replay_archive: ReplayArchive) -> Iterator[TestClient]:
    """The replay origin's app in-process, redirects not followed."""
    catalogue = Catalogue(replay_archive.db_url)
    with TestClient(create_replay_app(catalogue, replay_archive.warc_dir, TEST_ORIGINS),
                    follow_redirects=False) as client:
        yield client
    catalogue.close()


@pytest.fixture(scope="session")
def app_client(replay_archive: ReplayArchive) -> Iterator[TestClient]:
    """The app origin's app in-process (its replay frames point at ``replay_client``), redirects not followed."""
    settings = Settings(data_dir=replay_archive.data_dir, db_url=replay_archive.db_url)
    with TestClient(create_app(settings, TEST_ORIGINS), base_url=TEST_ORIGINS.app,
                    follow_redirects=False) as client:
        yield client


def start_server(app: ASGIApp, sock: socket.socket) -> uvicorn.Server:
    """``app`` served by uvicorn on a bound socket, in a thread; returns once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("a web server did not start within 10 s")
        time.sleep(0.02)
    return server


@dataclass(frozen=True)
class Page:
    """One archived exchange of a written archive."""

    url: str
    date: datetime
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


def write_archive(data_dir: Path, pages: list[Page]) -> Settings:
    """An archive of ``pages`` written with the project's WARC writer and indexed, as a crawl leaves one."""
    warc_dir = data_dir / "warcs"
    warc_dir.mkdir(parents=True)
    with WarcWriter(warc_dir, "written") as writer:
        for page in pages:
            writer.write_exchange(url=page.url, method="GET", request_headers=[("Accept", "*/*")], request_body=b"",
                                  protocol="HTTP/1.1", status=page.status, reason="",
                                  response_headers=[("Content-Type", page.content_type)], payload=page.body,
                                  ip="127.0.0.1", date=page.date)
    settings = Settings(data_dir=data_dir)
    catalogue = Catalogue(settings.database_url)  # created, as `newsarchive index` would
    try:
        index_warcs(catalogue, warc_dir)
    finally:
        catalogue.close()
    return settings


@contextmanager
def running_origins(settings: Settings, app_socket: socket.socket | None = None,
                    replay_socket: socket.socket | None = None) -> Iterator[Origins]:
    """The app and the replay origin of an archive served by uvicorn on loopback, as ``newsarchive serve`` does.

    Sockets may be bound beforehand, when what is archived must name the origins' ports.
    """
    app_socket = app_socket or bind("127.0.0.1", 0)
    replay_socket = replay_socket or bind("127.0.0.1", 0)
    origins = Origins.of(f"http://127.0.0.1:{bound_port(app_socket)}", f"http://127.0.0.1:{bound_port(replay_socket)}")
    catalogue = Catalogue(settings.database_url, read_only=True)
    running = [start_server(create_app(settings, origins), app_socket),
               start_server(create_replay_app(catalogue, settings.warc_dir, origins, token=settings.access_token),
                            replay_socket)]
    try:
        yield origins
    finally:
        for server in running:
            server.should_exit = True
        catalogue.close()


@pytest.fixture(scope="session")
def servers(replay_archive: ReplayArchive) -> Iterator[Origins]:
    """Both origins over the crawled archive."""
    with running_origins(Settings(data_dir=replay_archive.data_dir, db_url=replay_archive.db_url)) as origins:
        yield origins


@pytest.fixture(scope="session")
def replay_server(servers: Origins) -> str:
    """The replay origin's base URL."""
    return servers.replay
