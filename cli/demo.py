"""`newsarchive demo`: the whole pipeline, offline, on the bundled example news site.

The site (``newsarchive/demo_site/``) is served on 127.0.0.1 at a fixed port, so a
second demo run finds the same URLs and shows the incremental crawl at work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from archive.catalogue.store import Catalogue
from archive.config import Settings, parse_sources
from archive.query.search import ArticleQuery, search_articles
from crawler.run import run_crawl
from cli.formats import write_rows
from tests.site_server import serve_site

DEMO_SITE = Path(__file__).with_name("demo_site")


def run_demo(settings: Settings, out: TextIO, port: int = 8765) -> int:
    """Serve, crawl and report; the exit status (0 when the crawl succeeded)."""
    with serve_site(DEMO_SITE, port=port) as base_url:
        template = (DEMO_SITE / "sources.toml").read_text(encoding="utf-8")
        sources = parse_sources(template.replace("{{BASE}}", base_url), str(DEMO_SITE / "sources.toml"))
        runs = run_crawl(settings, sources, progress=out.isatty())
    catalogue = Catalogue(settings.database_url)
    rows = search_articles(catalogue, ArticleQuery(source=sources[0].name, limit=100))
    write_rows(rows, "table", out, table_fields=("id", "published", "language", "title", "duplicate_of"),
               title=f"{len(rows)} articles catalogued from {base_url}")
    for run in runs:
        out.write(
            f"\nrun {run.id} ({run.status}): {run.pages} pages fetched ({run.not_modified} not modified), "
            f"{run.bytes / 1e3:.0f} kB; "
            f"articles new {run.articles_new}, updated {run.articles_updated}, "
            f"duplicate {run.articles_duplicate}; errors {run.errors}\n"
        )
        for name in run.warc_files:
            out.write(f"  WARC: {settings.warc_dir / name}\n")
    prefix = "newsarchive" + (f" --data-dir {settings.data_dir}" if settings.data_dir != Path("data") else "")
    example_id = rows[0]["id"] if rows else 1
    out.write("\nNext:\n")
    for command, why in (
        ("articles --lang fr", "query the catalogue"),
        ("articles --format jsonl", "every field, one JSON object a line"),
        (f"show {example_id}", "one article, its versions and captures"),
        ("runs", "crawl history"),
        ("verify", "check every WARC record and catalogue pointer"),
        ("serve", "search, API and replay at http://127.0.0.1:8000/"),
        ("demo", "again: known articles are not fetched twice"),
    ):
        out.write(f"  {prefix} {command:<26} # {why}\n")
    return 0 if runs and all(run.status == "ok" for run in runs) else 1
