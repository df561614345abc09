"""The ``newsarchive`` command: options in, library calls out, results printed.

No logic lives here: each command turns its options into arguments of a function of
``archive/``, ``crawler/`` or ``scheduler/`` and prints what it returns.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from datetime import date
from pathlib import Path

import click

from archive.catalogue.database import CatalogueError, describe_url, upgrade_catalogue
from archive.catalogue.store import Catalogue
from archive.config import (
    CRAWL_STOP_GRACE,
    CRAWL_TIME_LIMIT,
    MAX_CONCURRENT_CRAWLS,
    MISFIRE_GRACE,
    WATCH_INTERVAL,
    ConfigError,
    SchedulerSettings,
    Settings,
    load_sources,
    select_sources,
)
from archive.query.search import (
    FIELDS,
    MAX_LIMIT,
    ORDERS,
    SORTS,
    ArticleQuery,
    QueryError,
    check_fields,
    iter_articles,
    project,
    search_page,
)
from archive.query.articles import get_article
from archive.query.facets import facet_counts
from archive.query.runs import list_runs, run_dict
from cli.formats import FORMATS, write_rows

# The tables fit 80 columns; --format jsonl/json/csv have every field.
ARTICLE_TABLE = ("id", "published", "source", "language", "title", "duplicate_of")
RUN_TABLE = ("id", "source", "status", "started", "pages", "articles_new", "errors")  # messages below it
SCHEDULE_TABLE = ("source", "schedule", "next_run", "last_run", "last_status", "last_pages", "last_articles_new",
                  "last_errors")


@click.group()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="NEWSARCHIVE_DATA_DIR",
              default="./data", show_default=True, help="WARC files, catalogue and logs.")
@click.option("--db", "db_url", envvar="NEWSARCHIVE_DB", default=None,
              help="SQLAlchemy URL of the catalogue [default: sqlite:///DATA_DIR/catalogue.sqlite].")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False, path_type=Path),
              envvar="NEWSARCHIVE_SOURCES", default="./sources.toml", show_default=True,
              help="The sources file.")
@click.option("--redis", "redis_url", envvar="NEWSARCHIVE_REDIS", default=None,
              help="Redis URL: crawl workers given the same one share one frontier (scrapy-redis).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, db_url: str | None, sources_file: Path, redis_url: str | None) -> None:
    """newsarchive: crawl news sites into WARC files and a deduplicated article catalogue."""
    ctx.obj = Settings.from_env(data_dir=data_dir, db_url=db_url, sources_file=sources_file, redis_url=redis_url)


def _catalogue(settings: Settings) -> Catalogue:
    """The catalogue for a command that writes it: created or migrated as needed."""
    return Catalogue(settings.database_url)


def _reader(settings: Settings, *, warcs: bool = False) -> Catalogue:
    """The catalogue for a read command: never created, migrated or locked (works on a read-only disk)."""
    _require_data_dir(settings, warcs=warcs)
    return Catalogue(settings.database_url, read_only=True)


def _require_data_dir(settings: Settings, *, warcs: bool) -> None:
    """A read command finds the data dir it reads (the WARC files, the SQLite catalogue), never makes one."""
    if (warcs or settings.db_url is None) and not settings.data_dir.is_dir():
        raise CatalogueError(f"{settings.data_dir}: no such data dir (give --data-dir DIR; `newsarchive demo` "
                             "or `newsarchive crawl` makes one)")


def _print_runs(rows: list[dict], fmt: str = "table", title: str | None = None) -> None:
    """Runs as a table, each failed or stopped run's message below it; or in a machine format."""
    write_rows(rows, fmt, sys.stdout, table_fields=RUN_TABLE, title=title)
    if fmt == "table":
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 200  # as the table's
        for row in rows:
            if row.get("message"):
                click.echo(textwrap.fill(f"run {row['id']} ({row['status']}): {row['message']}", width,
                                         subsequent_indent="  ", break_long_words=False, break_on_hyphens=False))


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--progress/--no-progress", default=None, help="Live progress table [default: on a terminal].")
@click.pass_obj
def crawl(settings: Settings, names: tuple[str, ...], progress: bool | None) -> None:
    """Crawl the named sources (all when none); exit 1 when a run failed."""
    from crawler.run import run_crawl

    sources = select_sources(load_sources(settings.sources_file), names)
    if not sources:
        raise ConfigError(f"{settings.sources_file}: no sources to crawl: add a [[source]] table (README: Sources)")
    runs = run_crawl(settings, sources, progress=sys.stderr.isatty() if progress is None else progress)
    _print_runs([run_dict(run, run.source.name) for run in runs], title="crawl runs")  # these, not the last ones
    for run in runs:
        if run.status == "failed" and run.message:
            click.echo(f"error: crawl of {run.source.name} failed: {run.message}", err=True)
    if len(runs) < len(sources) or any(run.status != "ok" for run in runs):
        sys.exit(1)


@cli.command()
@click.option("--port", default=8765, show_default=True,
              help="Port of the local example site (0: any free port; URLs then differ between runs).")
@click.pass_obj
def demo(settings: Settings, port: int) -> None:
    """Offline demo: serve the bundled example site on 127.0.0.1, crawl it, show the result."""
    from cli.demo import run_demo

    sys.exit(run_demo(settings, port=port, out=sys.stdout))


# Options of every command that filters articles, and the ArticleQuery field each fills.
FILTER_OPTIONS = (
    click.option("--source", "source", multiple=True, help="Only this source (repeatable)."),
    click.option("--lang", "language", multiple=True, help="Only this language, ISO 639-1 (repeatable)."),
    click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD)."),
    click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD)."),
    click.option("--seen-since", type=click.DateTime(["%Y-%m-%d"]), help="First archived on or after (UTC)."),
    click.option("--seen-until", type=click.DateTime(["%Y-%m-%d"]), help="First archived on or before (UTC)."),
    click.option("--author", help="Part of an author's name, any case."),
    click.option("--has-duplicates", type=click.BOOL, default=None,
                 help="true: only articles copied elsewhere; false: only the others."),
    click.option("--unique", is_flag=True, help="Hide duplicates (articles with duplicate_of set)."),
)
OPTION_OF_FIELD = {"text": "QUERY", "language": "--lang", "seen_since": "--seen-since",
                   "seen_until": "--seen-until", "has_duplicates": "--has-duplicates"}


def _filter_options(command):  # type: ignore[no-untyped-def]
    for option in reversed(FILTER_OPTIONS):
        command = option(command)
    return command


def _article_query(text: str | None = None, **options) -> ArticleQuery:  # type: ignore[no-untyped-def]
    """The ArticleQuery of a command's options; a bad value is a usage error naming the option."""
    for name in ("since", "until", "seen_since", "seen_until"):
        options[name] = _date(options.get(name))
    try:
        return ArticleQuery(text=text, **options)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint=OPTION_OF_FIELD.get(exc.field, f"--{exc.field}")) from None


@cli.command()
@click.argument("query", required=False)
@_filter_options
@click.option("--sort", type=click.Choice(SORTS), help="[default: relevance with QUERY, else published]")
@click.option("--order", type=click.Choice(ORDERS), default="desc", show_default=True,
              help="Of published and first_seen; relevance is always best first.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--cursor", help="Start after the page that printed this cursor (keyset pagination).")
@click.option("--all", "everything", is_flag=True, help="Every match, streamed (an export): no --limit.")
@click.option("--fields", help=f"Comma-separated columns: {', '.join(FIELDS)}.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def articles(settings: Settings, query: str | None, limit: int, everything: bool, fields: str | None,  # type: ignore[no-untyped-def]
             fmt: str, **options) -> None:
    """Query the catalogue: QUERY is words, "a phrase", OR, -excluded, prefix*."""
    try:
        columns = check_fields([f.strip() for f in fields.split(",") if f.strip()]) if fields else None
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint="--fields") from None
    search = _article_query(query, limit=None if everything else limit, **options)
    catalogue = _reader(settings)
    if everything:
        rows, next_cursor = iter_articles(catalogue, search), None
    else:
        page = search_page(catalogue, search)
        rows, next_cursor = page.articles, page.next_cursor
    shown = write_rows((project(row, columns) for row in rows), fmt, sys.stdout,
                       table_fields=columns or ARTICLE_TABLE, title=None if everything else f"{len(rows)} articles")
    if not shown:
        click.echo("no articles match", err=True)
    if next_cursor:
        click.echo(f"more: add --cursor {next_cursor}", err=True)


@cli.command()
@_filter_options
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def stats(settings: Settings, query: str | None, fmt: str, **options) -> None:  # type: ignore[no-untyped-def]
    """Counts of the (matching) articles per source, language and day."""
    counts = facet_counts(_reader(settings), _article_query(query, limit=None, **options))
    if fmt == "json":
        click.echo(json.dumps(counts, ensure_ascii=False, indent=2))
        return
    if not counts["total"]:
        click.echo("no articles match", err=True)
        return
    click.echo(f"{counts['total']} articles ({counts['undated']} undated)")
    write_rows(counts["sources"], "table", sys.stdout, table_fields=("value", "count"), title="per source")
    write_rows(counts["languages"], "table", sys.stdout, table_fields=("value", "count"), title="per language")
    write_rows(counts["days"], "table", sys.stdout, table_fields=("day", "count"), title="per day")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def serve(settings: Settings, host: str, port: int) -> None:
    """JSON API (/api, described at /api/openapi.json), web page (/) and replay, in one server."""
    import uvicorn

    from archive.web.app import create_app

    _require_data_dir(settings, warcs=True)
    app = create_app(settings)  # opens the catalogue read-only: a bad one stops us here, in one line
    click.echo(f"newsarchive: http://{host}:{port}/  (API: /api/openapi.json)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def replay(settings: Settings, host: str, port: int) -> None:
    """Replay archived pages at /web/<timestamp>/<url> (CDX API at /cdx), with the web UI when installed."""
    import importlib.util

    import uvicorn

    _require_data_dir(settings, warcs=True)
    if importlib.util.find_spec("archive.web.app") is not None:  # the web UI, which mounts replay
        from archive.web.app import create_app

        app = create_app(settings)
    else:
        from archive.web.replay import create_replay_app

        app = create_replay_app(_reader(settings, warcs=True), settings.warc_dir)
    click.echo(f"newsarchive replay: http://{host}:{port}/web/<timestamp>/<url>  (CDX: /cdx?url=...)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@cli.command()
@click.option("--cdxj", "cdxj_file", type=click.File("w", encoding="utf-8", lazy=True),
              help="Also write a sorted CDXJ index (pywb, cdxj-indexer) to FILE ('-': standard output).")
@click.pass_obj
def index(settings: Settings, cdxj_file) -> None:  # type: ignore[no-untyped-def]
    """Rebuild the capture index from the WARC files, which are the source of truth."""
    from archive.warc.index import index_warcs
    from archive.warc.records import WarcFormatError

    try:
        report = index_warcs(_catalogue(settings), settings.warc_dir, cdxj_file)
    except (FileNotFoundError, WarcFormatError) as exc:
        raise click.ClickException(str(exc)) from None
    for name in report.unfinished:
        click.echo(f"unfinished, not read and its captures kept: {name} (being written, or left by a crash: "
                   "`newsarchive verify --repair` recovers it)", err=True)
    if report.stale_kept:
        click.echo(f"{report.stale_kept} captures point at no record but articles refer to them: "
                   "run `newsarchive verify`", err=True)
    click.echo(f"{len(report.files)} WARC files, {report.records} records: {report.added} captures added, "
               f"{report.updated} corrected, {report.removed} removed", err=True)


@cli.command()
@click.option("--wacz", "wacz_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The WACZ file to write (opens in ReplayWeb.page).")
@click.option("--title", help="Title of the collection [default: newsarchive export].")
@click.pass_obj
def export(settings: Settings, wacz_file: Path, title: str | None) -> None:
    """Package the WARC files with their index and the article list as a WACZ file."""
    from archive.warc.wacz import export_wacz
    from archive.warc.records import WarcFormatError

    try:
        report = export_wacz(_reader(settings, warcs=True), settings.warc_dir, wacz_file, title=title)
    except (FileNotFoundError, WarcFormatError) as exc:
        raise click.ClickException(str(exc)) from None
    for name in report.unfinished:
        click.echo(f"unfinished, not exported: {name} (being written, or left by a crash: "
                   "`newsarchive verify --repair` recovers it)", err=True)
    click.echo(f"{report.path}: {len(report.warc_files)} WARC files, {report.captures} captures, "
               f"{report.pages} pages, {report.size:,} bytes")


@cli.command()
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def show(settings: Settings, ref: str, fmt: str) -> None:
    """One article in full, by id or URL, with its versions and captures."""
    from cli.article_view import print_article

    article = get_article(_reader(settings), ref)
    if article is None:
        raise click.ClickException(f"no article with id or URL {ref!r} (try: newsarchive articles)")
    if fmt == "json":
        click.echo(json.dumps(article, ensure_ascii=False, indent=2))
    else:
        print_article(article, sys.stdout)


@cli.command()
@click.option("--source")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1))
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "json", "csv"]), default="table",
              show_default=True)
@click.pass_obj
def runs(settings: Settings, source: str | None, limit: int, fmt: str) -> None:
    """History of crawl runs, newest first."""
    rows = list_runs(_reader(settings), source, limit)
    _print_runs(rows, fmt)
    if not rows:
        click.echo(f"no crawl runs{f' of source {source!r}' if source else ''} yet", err=True)


@cli.group()
def schedule() -> None:
    """Scheduled crawls: the scheduler service and its timetable."""


@schedule.command("run")
@click.option("--time-limit", type=click.FloatRange(min=1), default=CRAWL_TIME_LIMIT, show_default=True,
              help="Seconds a crawl may run before it is stopped and recorded failed.")
@click.option("--stop-grace", type=click.FloatRange(min=0), default=CRAWL_STOP_GRACE, show_default=True,
              help="Seconds a stopped crawl gets to close its WARC file before it is killed.")
@click.option("--misfire-grace", type=click.IntRange(min=1), default=MISFIRE_GRACE, show_default=True,
              help="Seconds a missed slot may be late and still run (once).")
@click.option("--max-crawls", type=click.IntRange(min=1), default=MAX_CONCURRENT_CRAWLS, show_default=True,
              help="Crawl processes at once.")
@click.option("--watch-interval", type=click.FloatRange(min=0.1), default=WATCH_INTERVAL, show_default=True,
              help="Seconds between looks at the sources file and at signals.")
@click.pass_obj
def schedule_run(settings: Settings, time_limit: float, stop_grace: float, misfire_grace: int, max_crawls: int,
                 watch_interval: float) -> None:
    """Crawl each source on its schedule until SIGTERM or SIGINT (SIGHUP re-reads the sources file)."""
    from scheduler.service import SchedulerService, configure_logging

    configure_logging()
    options = SchedulerSettings(crawl_time_limit=time_limit, stop_grace=stop_grace, misfire_grace=misfire_grace,
                                max_crawls=max_crawls, watch_interval=watch_interval)
    SchedulerService(settings, _catalogue(settings), options).run()


@schedule.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def schedule_list(settings: Settings, fmt: str) -> None:
    """Each source's cron, next crawl, last run and its outcome."""
    from scheduler.service import schedule_table

    sources = load_sources(settings.sources_file)
    if not write_rows(schedule_table(_reader(settings), sources), fmt, sys.stdout, table_fields=SCHEDULE_TABLE):
        click.echo(f"no sources in {settings.sources_file}", err=True)


@cli.command()
@click.option("--repair", is_flag=True,
              help="First recover unfinished (.open) WARC files a dead crawl left, and what they back.")
@click.pass_obj
def verify(settings: Settings, repair: bool) -> None:
    """Check every WARC record's digests and every catalogue pointer; exit 1 on damage."""
    from archive.warc.verify import verify_archive

    if repair:
        from archive.warc.recovery import recover_warcs

        sources = load_sources(settings.sources_file) if settings.sources_file.exists() else []
        for line in recover_warcs(_catalogue(settings), settings.warc_dir, sources).lines():
            click.echo(line)
    report = verify_archive(_reader(settings, warcs=True), settings.warc_dir,
                            progress=lambda name: click.echo(f"checking {name}", err=True))
    for problem in report.problems:
        click.echo(f"DAMAGED {problem}")
    for name in report.being_written:
        click.echo(f"being written by a live crawl (its captures checked, the file when finished): {name}")
    for unfinished in report.unfinished:
        if not unfinished.damaged:
            click.echo(f"unfinished (left by a crash), recoverable with `newsarchive verify --repair`: "
                       f"{unfinished.name}: {unfinished.describe()}")
    if report.captures_past_cut:
        click.echo(f"{report.captures_past_cut} captures point past the last whole record of an unfinished file: "
                   "`newsarchive verify --repair` re-points or drops what they back")
    click.echo(f"{report.files} WARC files, {report.records} records, {report.captures} catalogue "
               f"captures: {'ok' if report.ok else f'{len(report.problems)} problems'}")
    if not report.ok:
        sys.exit(1)


@cli.group()
def db() -> None:
    """The catalogue database: schema upgrades."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply the catalogue's migrations, creating it when new (crawl and schedule run do it too)."""
    before, after = upgrade_catalogue(settings.database_url)
    where = describe_url(settings.database_url)
    if before == after:
        click.echo(f"{where}: schema already at revision {after}")
    else:
        click.echo(f"{where}: schema upgraded from {before or '(none)'} to revision {after}")


def _date(value) -> date | None:  # type: ignore[no-untyped-def]
    return value.date() if value else None


def main() -> None:
    """Console entry point: configuration errors and unusable catalogues are one clear line and exit status 2."""
    try:
        cli(standalone_mode=True)
    except (ConfigError, CatalogueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
