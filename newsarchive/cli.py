"""The ``newsarchive`` command: options in, library calls out, results printed.

No logic lives here: each command turns its options into arguments of a function of
``archive/``, ``crawler/`` or ``scheduler/`` and prints what it returns.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from archive.catalogue import Catalogue
from archive.config import ConfigError, Settings, load_sources, select_sources
from archive.query import ArticleQuery, get_article, list_runs, search_articles
from newsarchive.formats import FORMATS, write_rows

ARTICLE_TABLE = ("id", "published", "source", "language", "title", "duplicate_of")
RUN_TABLE = ("id", "source", "status", "started", "finished", "pages", "articles_new",
             "articles_updated", "articles_duplicate", "errors", "bytes")


@click.group()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="NEWSARCHIVE_DATA_DIR",
              default="./data", show_default=True, help="WARC files, catalogue and logs.")
@click.option("--db", "db_url", envvar="NEWSARCHIVE_DB", default=None,
              help="SQLAlchemy URL of the catalogue [default: sqlite:///DATA_DIR/catalogue.sqlite].")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False, path_type=Path),
              envvar="NEWSARCHIVE_SOURCES", default="./sources.toml", show_default=True,
              help="The sources file.")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, db_url: str | None, sources_file: Path) -> None:
    """newsarchive: crawl news sites into WARC files and a deduplicated article catalogue."""
    ctx.obj = Settings(data_dir=data_dir, db_url=db_url, sources_file=sources_file)


def _catalogue(settings: Settings) -> Catalogue:
    return Catalogue(settings.database_url)


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--progress/--no-progress", default=None, help="Live progress table [default: on a terminal].")
@click.pass_obj
def crawl(settings: Settings, names: tuple[str, ...], progress: bool | None) -> None:
    """Crawl the named sources (all when none); exit 1 when a run failed."""
    from crawler.run import run_crawl

    sources = select_sources(load_sources(settings.sources_file), names)
    runs = run_crawl(settings, sources, progress=sys.stderr.isatty() if progress is None else progress)
    rows = list_runs(_catalogue(settings), limit=len(runs)) if runs else []
    write_rows(rows, "table", sys.stdout, table_fields=RUN_TABLE, title="crawl runs")
    if len(runs) < len(sources) or any(run.status != "ok" for run in runs):
        sys.exit(1)


@cli.command()
@click.option("--port", default=8765, show_default=True, help="Port of the local example site.")
@click.pass_obj
def demo(settings: Settings, port: int) -> None:
    """Offline demo: serve the bundled example site on 127.0.0.1, crawl it, show the result."""
    from newsarchive.demo import run_demo

    sys.exit(run_demo(settings, port=port, out=sys.stdout))


@cli.command()
@click.argument("query", required=False)
@click.option("--source")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD).")
@click.option("--lang", "language")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.option("--unique", is_flag=True, help="Hide duplicates (articles with duplicate_of set).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def articles(settings: Settings, query: str | None, source: str | None, since, until,  # type: ignore[no-untyped-def]
             language: str | None, limit: int, unique: bool, fmt: str) -> None:
    """Query the catalogue."""
    rows = search_articles(_catalogue(settings), ArticleQuery(
        text=query, source=source, since=_date(since), until=_date(until), language=language,
        unique=unique, limit=limit,
    ))
    write_rows(rows, fmt, sys.stdout, table_fields=ARTICLE_TABLE, title=f"{len(rows)} articles")


@cli.command()
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def show(settings: Settings, ref: str, fmt: str) -> None:
    """One article in full, by id or URL, with its versions and captures."""
    from newsarchive.article_view import print_article

    article = get_article(_catalogue(settings), ref)
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
    write_rows(list_runs(_catalogue(settings), source, limit), fmt, sys.stdout, table_fields=RUN_TABLE)


@cli.command()
@click.pass_obj
def verify(settings: Settings) -> None:
    """Check every WARC record's digests and every catalogue pointer; exit 1 on damage."""
    from archive.verify import verify_archive

    report = verify_archive(_catalogue(settings), settings.warc_dir,
                            progress=lambda name: click.echo(f"checking {name}", err=True))
    for problem in report.problems:
        click.echo(f"DAMAGED {problem}")
    for name in report.unfinished:
        click.echo(f"unfinished (left by a crash; not checked): {name}")
    click.echo(f"{report.files} WARC files, {report.records} records, {report.captures} catalogue "
               f"captures: {'ok' if report.ok else f'{len(report.problems)} problems'}")
    if not report.ok:
        sys.exit(1)


def _date(value) -> date | None:  # type: ignore[no-untyped-def]
    return value.date() if value else None


def main() -> None:
    """Console entry point: configuration errors are one clear line and exit status 2."""
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
