"""Fixtures shared by the test suite: datasets, databases (real PostgreSQL too) and data dirs."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, text

from archive.catalogue.database import MIGRATIONS
from cli.demo_pages import render_demo_site

# Session fixtures several test packages share, registered once so each is built once:
# the crawled query catalogues (archive/query, archive/web, cli) and the replay archive
# (archive/web, cli).
pytest_plugins = ["tests.query_catalogue", "tests.replay_archive"]

PROJECT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/15")


@contextmanager
def schema_at(engine: Engine, revision: str) -> Iterator[Connection]:
    """A connection to a catalogue whose schema is as migration ``revision`` left it (committed
    on exit): for writing the rows an older release wrote, then testing the migrations after it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        yield connection


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fresh-clone tests (a whole install, the longest) first: on two workers
    (scripts/test) the other worker runs the rest meanwhile instead of waiting at the end."""
    items.sort(key=lambda item: item.get_closest_marker("fresh_clone") is None)


def fresh_shell_env() -> dict[str, str]:
    """The environment of a new terminal: this test run's virtual environment neither active nor on PATH."""
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
           and not k.startswith("NEWSARCHIVE_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    return env


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo newspaper rendered into a folder, as `newsarchive demo` serves it."""
    return render_demo_site(tmp_path_factory.mktemp("demo-site"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """../shared/datasets beside the project (NEWSARCHIVE_DATASETS overrides)."""
    path = Path(os.environ.get("NEWSARCHIVE_DATASETS", PROJECT.parent / "shared" / "datasets"))
    if not (path / "articles-dev").is_dir():
        pytest.fail(f"datasets not found at {path}: set NEWSARCHIVE_DATASETS")
    return path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database on the local server, dropped afterwards."""
    name = f"newsarchive_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each catalogue test runs on SQLite and on the real local PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("postgres_url")
