"""`newsarchive demo`: the whole pipeline, offline, on the bundled example news site.

The newspaper (``cli/demo_site/``) is rendered into a temporary folder (:mod:`cli.demo_pages`) and
served by :mod:`cli.demo_server` on 127.0.0.1 at a fixed port, so a second demo run finds the
same URLs and the same bytes, and shows the incremental crawl at work.
"""

from __future__ import annotations

import errno
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from archive.catalogue.store import Catalogue
from archive.config import ConfigError, Settings, parse_sources
from archive.query.search import ArticleQuery, search_articles
from cli.formats import write_rows
from crawler.run import run_crawl
from cli.demo_pages import DEMO_SITE, render_demo_site
from cli.demo_server import BASE_PLACEHOLDER, DemoServer

SOURCES_TEMPLATE = Path(__file__).with_name("sources_template.toml")  # the sources.toml the demo leaves


def run_demo(settings: Settings, out: TextIO, port: int = 8765) -> int:
    """Serve, crawl and report; the exit status (0 when the crawl succeeded)."""
    with tempfile.TemporaryDirectory(prefix="newsarchive-demo-") as site:
        try:
            server = DemoServer(render_demo_site(Path(site)), port=port).start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise ConfigError(f"127.0.0.1:{port} is in use (another `newsarchive demo`?): give --port N "
                              "(0: any free port)") from None
        try:
            base_url = server.base_url
            demo_sources = (DEMO_SITE / "sources.toml").read_text(encoding="utf-8").replace(BASE_PLACEHOLDER,
                                                                                          base_url)
            sources = parse_sources(demo_sources, str(DEMO_SITE / "sources.toml"))
            runs = run_crawl(settings, sources, progress=out.isatty())
        finally:
            server.stop()
    catalogue = Catalogue(settings.database_url, read_only=True)
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
    program = entry_point()
    prefix = program + (f" --data-dir {shlex.quote(str(settings.data_dir))}"
                        if settings.data_dir != Path("data") else "")
    wrote_sources = leave_sources_file(settings.sources_file, demo_sources, program)
    example_id = rows[0]["id"] if rows else 1
    out.write("\nNext:\n")
    for command, why in (
        ("articles --lang fr", "query the catalogue"),
        ("articles --format jsonl", "every field, one JSON object a line"),
        (f"show {example_id}", "one article, its versions and captures"),
        ("runs", "crawl history"),
        ("verify", "check every WARC record and catalogue pointer"),
        ("serve", "search and API at http://127.0.0.1:8000/, replay from :8080"),
        ("demo", "again: known articles are not fetched twice"),
        ("crawl", f"your own news sites, once {settings.sources_file} lists them"),
    ):
        out.write(f"  {prefix} {command:<26} # {why}\n")
    activate = Path(program).parent / "activate"
    if program != "newsarchive" and activate.is_file():
        out.write(f"  (or `. {shlex.quote(str(activate))}` once, then plain `newsarchive ...`)\n")
    if wrote_sources:
        out.write(f"\n{settings.sources_file}: written, every source commented out: add your sites there\n")
    else:
        out.write(f"\n{settings.sources_file}: already there, left as it was\n")
    return 0 if runs and all(run.status == "ok" for run in runs) else 1


def entry_point() -> str:
    """How a fresh shell here runs this newsarchive: ``newsarchive`` when PATH finds it, else its path.

    The path is relative when under the working directory (``.venv/bin/newsarchive``).
    """
    script = Path(sys.argv[0])
    if script.name != "newsarchive" or not script.is_file():  # python -m cli, python -c ...
        script = Path(sys.executable).with_name("newsarchive")  # the console script beside this Python
        if not script.is_file():
            return f"{shlex.quote(sys.executable)} -m cli"
    found = shutil.which("newsarchive")
    if found and Path(found).resolve() == script.resolve():
        return "newsarchive"
    script = script.absolute()
    try:
        return shlex.quote(str(script.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(script))


def leave_sources_file(path: Path, demo_sources: str, program: str) -> bool:
    """Write a commented sources file for the user's own sites, unless ``path`` exists; whether it did."""
    demo_source = demo_sources[demo_sources.index("[[source]]"):]
    text = (SOURCES_TEMPLATE.read_text(encoding="utf-8")
            .replace("{{COMMAND}}", program)
            .replace("{{DEMO_SOURCE}}", "".join(f"# {line}".rstrip() + "\n" for line in demo_source.splitlines())))
    try:
        with open(path, "x", encoding="utf-8") as file:  # "x": never overwrite the user's file
            file.write(text)
    except FileExistsError:
        return False
    return True
