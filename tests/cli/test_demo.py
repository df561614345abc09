"""`newsarchive demo` on a fresh data dir: the README's main job."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from archive.config import load_sources
from cli.demo import leave_sources_file
from cli.demo_pages import DEMO_SITE
from tests.command import run_cli
from tests.conftest import fresh_shell_env
from tests.site_server import serve_site

DEMO_ARTICLES = 9  # 3 French, 3 Arabic, 3 English articles in cli/demo_site


def newsarchive(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``newsarchive ARGS`` run in WORKDIR from a new terminal's environment."""
    return run_cli(*args, cwd=workdir, env=fresh_shell_env())


def in_a_new_shell(workdir: Path, command: str) -> subprocess.CompletedProcess[str]:
    """A command line as a user pastes it into a new terminal (no virtual environment active)."""
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=300, cwd=workdir,
                          env=fresh_shell_env())


def next_commands(output: str) -> dict[str, str]:
    """The demo's "Next:" commands, by subcommand: {"runs": "/…/.venv/bin/newsarchive runs", ...}."""
    block = output.split("\nNext:\n", 1)[1].split("\n\n", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if "#" in line]
    return {re.sub(r"^.*newsarchive ", "", c).split()[0]: c for c in commands}


def test_demo_crawls_the_example_site_offline_and_says_what_to_do_next(tmp_path: Path, demo_site: Path) -> None:
    result = newsarchive(tmp_path, "demo", "--port", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{DEMO_ARTICLES} articles catalogued" in result.stdout
    assert "(0 not modified)" in result.stdout  # a first crawl: robots.txt asked once, not twice
    assert list((tmp_path / "data" / "warcs").glob("maghreb-courier-*.warc.gz"))

    # What it says to do next works as printed, in a new terminal where no venv is active
    commands = next_commands(result.stdout)
    assert {"articles", "show", "runs", "verify", "serve", "crawl"} <= set(commands)
    program = commands["runs"].removesuffix(" runs")
    assert Path(program).is_absolute() and Path(program).is_file()  # the entry point that ran, not a bare name
    for name in ("articles", "show", "runs", "verify"):
        done = in_a_new_shell(tmp_path, commands[name])
        assert done.returncode == 0, (commands[name], done.stderr[-2000:])
        assert done.stdout.strip(), commands[name]
    assert "Festival du film de Tiznar" in in_a_new_shell(tmp_path, commands["articles"]).stdout  # --lang fr

    rows = [json.loads(line) for line in newsarchive(tmp_path, "articles", "--format", "jsonl").stdout.splitlines()]
    assert sorted({row["language"] for row in rows}) == ["ar", "en", "fr"]
    assert all(row["title"] and row["published"] and len(row["text"]) > 500 for row in rows)
    # the windows-1256 and ISO-8859-1 pages come out as proper Unicode
    assert not any("Ã" in row["text"] or "\ufffd" in row["text"] for row in rows)
    assert sum("\u0600" <= ch <= "\u06ff" for row in rows if row["language"] == "ar" for ch in row["text"]) > 1000

    # It leaves a sources file with every source commented out, for the user's own sites ...
    sources_file = tmp_path / "sources.toml"
    assert "sources.toml: written" in result.stdout
    assert load_sources(sources_file) == []
    assert f"#     {program} crawl" in sources_file.read_text()
    # ... which, once a source is uncommented and pointed at a live site, `crawl` crawls.
    with serve_site(demo_site) as base_url:
        lines = sources_file.read_text().splitlines()
        start = max(i for i, line in enumerate(lines) if line == "# [[source]]")  # the demo's source, last
        lines[start:] = [re.sub(r"http://127\.0\.0\.1:\d+", base_url, line.removeprefix("# "))
                         for line in lines[start:]]
        sources_file.write_text("\n".join(lines) + "\n")
        crawled = in_a_new_shell(tmp_path, commands["crawl"] + " --no-progress")
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert "│ ok " in crawled.stdout


def test_the_demo_never_overwrites_a_sources_file(tmp_path: Path) -> None:
    mine = tmp_path / "sources.toml"
    mine.write_text('[[source]]\nname = "mine"\nfeeds = ["https://news.example/rss"]\n')
    assert not leave_sources_file(mine, (DEMO_SITE / "sources.toml").read_text(), "newsarchive")
    assert mine.read_text() == '[[source]]\nname = "mine"\nfeeds = ["https://news.example/rss"]\n'
