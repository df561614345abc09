"""newsarchive's own settings and the sources file, in one typed, documented place.

Scrapy's settings live in ``crawler/settings.py``; everything newsarchive itself decides
(where data goes, which database, WARC sizes, politeness defaults) is here.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger


class ConfigError(ValueError):
    """A sources file or setting that cannot be used; the message names the file and field."""


# --- Defaults ---------------------------------------------------------------------------
DEFAULT_DATA_DIR = "./data"  # relative to where newsarchive is run, like git's work tree
DEFAULT_SOURCES_FILE = "./sources.toml"
WARC_MAX_SIZE = 1_000_000_000  # DESIGN.md: roll WARC files at 1 GB (compressed bytes)
USER_AGENT = "newsarchive/0.1 (news web archive crawler)"  # honest and stable: sites can allow or block it
DEFAULT_MAX_PAGES = 500  # per source and run: a news site's fresh pages fit easily
DEFAULT_CONCURRENCY = 4  # requests per host at once; gentle for small newsroom servers
DEFAULT_DELAY = 1.0  # seconds between requests to a host; AutoThrottle adapts above it
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # a news page, image or feed above 50 MB is not news
COPY_BATCH_ROWS = 1000  # rows per transaction of `db copy`: an interrupted copy redoes at most one
#                         batch, and a batch of articles (a few KB of text each) is a few MB in memory
CDX_PAGE_SIZE = 1000  # captures on one page of the CDX API (page=, pageSize= overrides): one indexed
#                       range read of a thousand rows, a fraction of a second on either database

# The web servers (`newsarchive serve`, `newsarchive replay`). Replayed pages are untrusted
# code: they get an origin of their own (another port, or another host name), never the app's.
DEFAULT_BIND_HOST = "127.0.0.1"  # loopback only; any other address needs an access token
DEFAULT_APP_PORT = 8000  # the web page, the JSON API and the replay frame
DEFAULT_REPLAY_PORT = 8080  # the replay origin: archived pages themselves (DESIGN.md's replay server)

# The scheduler (`newsarchive schedule run`); its command-line options override these.
CRAWL_TIME_LIMIT = 3600.0  # seconds; max_pages = 500 at delay 1 s takes about 10 minutes: 6x that is a hang
CRAWL_STOP_GRACE = 60.0  # seconds from SIGTERM to SIGKILL: Scrapy lets in-flight downloads end
#                          (DOWNLOAD_TIMEOUT 30 s), then closes its WARC file and records the run
MISFIRE_GRACE = 6 * 3600  # seconds a slot may be late (scheduler down) and still run, once (coalesced);
#                           later than that, wait for the next slot: a daily crawl survives a short outage
MAX_CONCURRENT_CRAWLS = 4  # crawl processes at once; each runs its own pool of extraction workers
WATCH_INTERVAL = 2.0  # seconds between looks at the sources file and at pending signals

# Crawl-run liveness: a run is alive while its heartbeat is fresh (DESIGN.md, catalogue rules).
# Every host sharing a catalogue should use the same values.
HEARTBEAT_INTERVAL = 5.0  # seconds between a crawl's heartbeats, its running figures saved with each:
#                           one UPDATE of one row, cheap for many workers on one PostgreSQL
HEARTBEAT_TIMEOUT = 60.0  # seconds without one after which a run is dead (closed `interrupted`): twelve
#                           missed beats, so a reactor held up for a while (a huge sitemap parsed, a slow
#                           catalogue transaction, a database failover) is never taken for dead; the price
#                           is a crashed crawl of another host showing `running` a minute longer (one of
#                           this host is closed at once: its pid is gone). As the Redis frontier's worker TTL.


@dataclass(frozen=True)
class Settings:
    """Where newsarchive keeps its data; built from CLI options, environment, then defaults."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    db_url: str | None = None  # None: SQLite file in data_dir
    sources_file: Path = Path(DEFAULT_SOURCES_FILE)
    warc_max_size: int = WARC_MAX_SIZE
    redis_url: str | None = None  # set: crawl workers share a scrapy-redis frontier
    # The name this machine's runs carry (crawl_runs.host); NEWSARCHIVE_HOST overrides it where
    # machines share a host name (containers, cloned VMs): liveness checks tell hosts by it.
    host: str = field(default_factory=socket.gethostname)
    heartbeat_interval: float = HEARTBEAT_INTERVAL  # NEWSARCHIVE_HEARTBEAT_INTERVAL
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT  # NEWSARCHIVE_HEARTBEAT_TIMEOUT
    # Public base URLs of the two web origins, as readers' browsers reach them (behind a proxy,
    # or under two host names: `https://news.example.org`, `https://replay.example.org`).
    # None: http://<bound host>:<port> of each server.
    app_url: str | None = None  # NEWSARCHIVE_APP_URL, --app-url
    replay_url: str | None = None  # NEWSARCHIVE_REPLAY_URL, --replay-url
    # The secret a server bound to a non-loopback address asks of every request (no default:
    # such a server refuses to start without one). NEWSARCHIVE_TOKEN, --token.
    access_token: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("NEWSARCHIVE_HOST: the host name of crawl runs must not be empty")
        if self.heartbeat_interval <= 0:
            raise ConfigError(f"NEWSARCHIVE_HEARTBEAT_INTERVAL: must be a positive number of seconds, "
                              f"got {self.heartbeat_interval!r}")
        for name in ("app_url", "replay_url"):
            value = getattr(self, name)
            if value is not None and not re.match(r"^https?://[^/\s?#]+/?$", value):
                raise ConfigError(f"NEWSARCHIVE_{name.upper()}: {value!r} must be an origin, "
                                  "http(s)://host[:port] with no path")
        if self.heartbeat_timeout < 2 * self.heartbeat_interval:
            raise ConfigError(
                f"NEWSARCHIVE_HEARTBEAT_TIMEOUT: {self.heartbeat_timeout:g} s is less than two heartbeats "
                f"({self.heartbeat_interval:g} s apart): live runs would be taken for dead"
            )

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warcs"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'catalogue.sqlite').resolve()}"

    @classmethod
    def from_env(
        cls,
        data_dir: str | Path | None = None,
        db_url: str | None = None,
        sources_file: str | Path | None = None,
        redis_url: str | None = None,
    ) -> Settings:
        """Settings from the global options (None = not given), then NEWSARCHIVE_* variables, then defaults."""
        env = os.environ
        values: dict[str, Any] = {
            "data_dir": Path(data_dir or env.get("NEWSARCHIVE_DATA_DIR") or DEFAULT_DATA_DIR),
            "db_url": db_url or env.get("NEWSARCHIVE_DB") or None,
            "sources_file": Path(sources_file or env.get("NEWSARCHIVE_SOURCES") or DEFAULT_SOURCES_FILE),
            "redis_url": redis_url or env.get("NEWSARCHIVE_REDIS") or None,
            "app_url": env.get("NEWSARCHIVE_APP_URL") or None,
            "replay_url": env.get("NEWSARCHIVE_REPLAY_URL") or None,
            "access_token": env.get("NEWSARCHIVE_TOKEN") or None,
        }
        host = env.get("NEWSARCHIVE_HOST")
        if host:
            values["host"] = host
        for key in ("heartbeat_interval", "heartbeat_timeout"):
            variable = f"NEWSARCHIVE_{key.upper()}"
            value = env.get(variable)
            if value:
                try:
                    values[key] = float(value)
                except ValueError:
                    raise ConfigError(f"{variable}: must be a number of seconds, got {value!r}") from None
        return cls(**values)


NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class SchedulerSettings:
    """How `newsarchive schedule run` runs crawls; the defaults above say why they are what they are."""

    crawl_time_limit: float = CRAWL_TIME_LIMIT
    stop_grace: float = CRAWL_STOP_GRACE
    misfire_grace: int = MISFIRE_GRACE
    max_crawls: int = MAX_CONCURRENT_CRAWLS
    watch_interval: float = WATCH_INTERVAL


def cron_trigger(expression: str) -> CronTrigger:
    """The trigger of a ``schedule``: five crontab fields, or six with seconds first.

    Raises ValueError on a bad expression.
    """
    fields = expression.split()
    if len(fields) != 6:
        return CronTrigger.from_crontab(expression)
    second, minute, hour, day, month, day_of_week = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=day_of_week)


@dataclass(frozen=True)
class Source:
    """One news site to crawl, as written in ``sources.toml``."""

    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    language: str | None = None
    schedule: str | None = None  # cron for the scheduler: crontab's five fields, or six with seconds first
    max_pages: int = DEFAULT_MAX_PAGES
    concurrency: int = DEFAULT_CONCURRENCY
    delay: float = DEFAULT_DELAY
    refresh_hours: float = 0.0  # re-check articles younger than this (news gets corrected)
    requisite_hosts: tuple[str, ...] = ()  # CDN hosts whose images/CSS the pages embed

    @property
    def domains(self) -> list[str]:
        """Hosts the crawl may follow links within: those of all configured URLs."""
        from urllib.parse import urlsplit

        hosts = {urlsplit(u).hostname for u in (*self.start_urls, *self.feeds, *self.sitemaps)}
        return sorted(h for h in hosts if h)


_LIST_FIELDS = ("start_urls", "feeds", "sitemaps", "allow", "deny", "requisite_hosts")
_KNOWN_FIELDS = {
    *_LIST_FIELDS, "name", "language", "schedule", "max_pages", "concurrency", "delay", "refresh_hours",
}


def _source_from_table(table: dict[str, Any], where: str) -> Source:
    """Validate one ``[[source]]`` table; ``where`` names it in errors."""

    def fail(field_name: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: field '{field_name}': {problem}")

    unknown = set(table) - _KNOWN_FIELDS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    name = table.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise fail("name", f"{name!r} must be a string of lowercase letters, digits and '-'")
    values: dict[str, Any] = {"name": name}
    for key in _LIST_FIELDS:
        items = table.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise fail(key, "must be a list of strings")
        if key in ("start_urls", "feeds", "sitemaps"):
            for url in items:
                if not re.match(r"^https?://[^/\s]+", url):
                    raise fail(key, f"{url!r} is not an absolute http(s) URL")
        if key in ("allow", "deny"):
            for pattern in items:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise fail(key, f"bad regular expression {pattern!r}: {exc}") from None
        values[key] = tuple(items)
    if not (values["start_urls"] or values["feeds"] or values["sitemaps"]):
        raise fail("start_urls", "a source needs at least one of start_urls, feeds or sitemaps")
    for key, kind, minimum in (("max_pages", int, 1), ("concurrency", int, 1), ("delay", float, 0),
                               ("refresh_hours", float, 0)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind is int and not isinstance(value, int)
            ):
                raise fail(key, f"must be a {'whole number' if kind is int else 'number'}, got {value!r}")
            if value < minimum:
                raise fail(key, f"must be at least {minimum}, got {value!r}")
            values[key] = kind(value)
    for key in ("language", "schedule"):
        if key in table and not isinstance(table[key], str):
            raise fail(key, "must be a string")
        values[key] = table.get(key)
    if values["schedule"]:
        try:
            cron_trigger(values["schedule"])
        except ValueError as exc:
            raise fail("schedule", f"bad cron expression {values['schedule']!r}: {exc}") from None
    return Source(**values)


def parse_sources(text: str, path: str = "<sources>") -> list[Source]:
    """Parse the sources TOML text; errors name ``path``, the source and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: 'source' must be an array of tables ([[source]])")
    sources: list[Source] = []
    for index, table in enumerate(tables, start=1):
        label = table.get("name") if isinstance(table.get("name"), str) else f"#{index}"
        sources.append(_source_from_table(table, f"{path}: source '{label}'"))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{path}: source '{name}': field 'name': defined more than once")
    return sources


def load_sources(path: Path | str) -> list[Source]:
    """Read and validate a sources file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: sources file not found (give --sources FILE or set NEWSARCHIVE_SOURCES)"
        ) from None
    return parse_sources(text, str(path))


def select_sources(sources: list[Source], names: list[str] | tuple[str, ...]) -> list[Source]:
    """The named sources (all when none named); an unknown name is an error listing the known ones."""
    if not names:
        return sources
    by_name = {s.name: s for s in sources}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ConfigError(
            f"unknown source {missing[0]!r}; known sources: {', '.join(by_name) or '(none)'}"
        )
    return [by_name[n] for n in names]
