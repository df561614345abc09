"""A small real catalogue to query, on SQLite and PostgreSQL, built once per session (a pytest plugin).

The bundled demo site (French, Arabic and English articles) is served on 127.0.0.1 and
crawled by the ``newsarchive`` command in subprocesses (Twisted's reactor runs once per
process), one into each database at once. Then a few articles are recorded directly, for
what a small newspaper does not show: a syndicated copy, an undated article, harakat,
markup in the text, articles first seen on known days.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.search import ArticleQuery, iter_articles
from cli.demo_pages import DEMO_SITE
from tests.command import start_cli
from tests.site_server import serve_site
from tests.conftest import POSTGRES_ADMIN_URL

DEMO_SOURCE = "maghreb-courier"
WIRE = "partner-wire"


@dataclass(frozen=True)
class Recorded:
    """The directly recorded articles' ids, by role."""

    copy: int  # an exact copy (in WIRE) of a French demo article
    original: int  # the demo article it copies
    undated: int  # no published date; English; text with markup, "Interpol", "sécurité"
    harakat: int  # Arabic with diacritics
    title_match: int  # "harbour" in the title
    text_match: int  # "harbour" in the text only


@dataclass(frozen=True)
class QueryCatalogue:
    """A crawled and completed catalogue, its URL and every article (the oracle of filters)."""

    url: str
    data_dir: Path  # its WARC files are in data_dir/warcs
    catalogue: Catalogue
    recorded: Recorded
    articles: list[dict]

    @property
    def backend(self) -> str:
        return self.catalogue.engine.dialect.name


def _record_extras(catalogue: Catalogue) -> Recorded:
    french = next(a for a in iter_articles(catalogue, ArticleQuery(language="fr", limit=None, sort="first_seen",
                                                                   order="asc")))
    copy = catalogue.record_article(WIRE, "https://wire.example/2026/11/copy.html", Extracted(
        text=french["text"], title=french["title"], authors=["Wire Desk"], published=french["published"],
        language="fr", sitename="Partner Wire", canonical_url=None, description=None))
    seen = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    undated = catalogue.record_article(WIRE, "https://wire.example/undated.html", Extracted(
        text="Interpol and the Conseil de sécurité met on <script>alert(1)</script> & other matters.\n\n"
             "The harbour authority was not involved.",
        title="Interpol meets the council", authors=["Jane O'Neil", "Zoë Martín"], published=None,
        language="en", sitename="Partner Wire", canonical_url=None, description="A wire story."), seen=seen)
    harakat = catalogue.record_article(WIRE, "https://wire.example/ar/harakat.html", Extracted(
        text="وَقَّعَتْ الجَامِعَةُ اتِّفَاقِيَّةً جديدة مع إدارة الميناء.", title="اتفاقية جديدة", authors=[],
        published="2026-10-20", language="ar", sitename="Partner Wire", canonical_url=None,
        description=None), seen=datetime(2025, 6, 1, 12, tzinfo=UTC))
    title_match = catalogue.record_article(WIRE, "https://wire.example/harbour-title.html", Extracted(
        text="Cranes and gantries were busy all week long.", title="Harbour traffic doubles", authors=["Ali Ben"],
        published="2026-09-01", language="en", sitename="Partner Wire", canonical_url=None,
        description=None), seen=datetime(2025, 6, 2, 12, tzinfo=UTC))
    text_match = catalogue.record_article(WIRE, "https://wire.example/harbour-text.html", Extracted(
        text="The new ferry timetable was published, far from the harbour and its cranes, on a long day of "
             "meetings about buses, trams, taxis, bicycles, ferries, trains and parking spaces.",
        title="Ferry timetable published", authors=["Ali Ben"], published="2026-09-02", language="en",
        sitename="Partner Wire", canonical_url=None, description=None), seen=datetime(2025, 6, 3, 12, tzinfo=UTC))
    assert copy.status == "duplicate" and copy.duplicate_of == french["id"]
    return Recorded(copy.article_id, french["id"], undated.article_id, harakat.article_id,
                    title_match.article_id, text_match.article_id)


@pytest.fixture(scope="session")
def crawled_urls(tmp_path_factory: pytest.TempPathFactory, demo_site: Path) -> Iterator[dict[str, str]]:
    """Catalogue URLs (sqlite, postgresql) of two crawls of the demo site, made side by side;
    the WARC files of each are in <its data dir>/warcs, the data dir named after the database."""
    workdir = tmp_path_factory.mktemp("query-crawl")
    name = f"newsarchive_query_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    urls = {"sqlite": f"sqlite:///{workdir / 'catalogue.sqlite'}",
            "postgresql": POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"}
    try:
        with serve_site(demo_site) as base_url:
            sources = workdir / "sources.toml"
            sources.write_text((DEMO_SITE / "sources.toml").read_text(encoding="utf-8").replace("{{BASE}}", base_url),
                               encoding="utf-8")
            crawls = {
                backend: start_cli("--data-dir", str(workdir / "data" / backend), "--db", url, "--sources",
                                   str(sources), "crawl", "--no-progress",
                                   cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for backend, url in urls.items()
            }
            for backend, process in crawls.items():
                output, _ = process.communicate(timeout=300)
                assert process.returncode == 0, f"crawl into {backend} failed:\n{output[-3000:]}"
        yield urls | {"data": str(workdir / "data")}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def query_catalogues(crawled_urls: dict[str, str]) -> Iterator[dict[str, QueryCatalogue]]:
    """Each crawled catalogue completed with the recorded articles."""
    catalogues = {}
    for backend in ("sqlite", "postgresql"):
        catalogue = Catalogue(crawled_urls[backend])
        recorded = _record_extras(catalogue)
        catalogues[backend] = QueryCatalogue(crawled_urls[backend], Path(crawled_urls["data"]) / backend,
                                             catalogue, recorded,
                                             list(iter_articles(catalogue, ArticleQuery(limit=None))))
    yield catalogues
    for completed in catalogues.values():
        completed.catalogue.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def qc(request: pytest.FixtureRequest, query_catalogues: dict[str, QueryCatalogue]) -> QueryCatalogue:
    """The query catalogue on each database (tests must not write to it)."""
    return query_catalogues[request.param]


@pytest.fixture(scope="session")
def sqlite_qc(query_catalogues: dict[str, QueryCatalogue]) -> QueryCatalogue:
    """The SQLite query catalogue, for the API, CLI and web page tests."""
    return query_catalogues["sqlite"]
