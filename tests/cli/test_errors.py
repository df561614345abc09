"""Bad input to the `newsarchive` command: one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.command import run_cli


def newsarchive(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--data-dir", str(tmp_path / "data"), *args, cwd=tmp_path, timeout=120)

def test_malformed_sources_file_names_file_source_and_field(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "news"\nstart_urls = ["http://127.0.0.1:9/"]\nmax_pages = "many"\n')
    result = newsarchive(tmp_path, "--sources", str(sources), "crawl")
    assert result.returncode == 2
    assert f"{sources}: source 'news': field 'max_pages'" in result.stderr


def test_unknown_source_lists_known_ones(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "news"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = newsarchive(tmp_path, "--sources", str(sources), "crawl", "nosuch")
    assert result.returncode == 2
    assert "unknown source 'nosuch'; known sources: news" in result.stderr


def test_missing_sources_file_says_how_to_give_one(tmp_path: Path) -> None:
    result = newsarchive(tmp_path, "--sources", str(tmp_path / "absent.toml"), "crawl")
    assert result.returncode == 2
    assert "sources file not found" in result.stderr


def test_unknown_article_is_an_error(tmp_path: Path) -> None:
    assert newsarchive(tmp_path, "db", "upgrade").returncode == 0  # a catalogue: read commands never make one
    result = newsarchive(tmp_path, "show", "12345")
    assert result.returncode == 1
    assert "no article with id or URL '12345'" in result.stderr
