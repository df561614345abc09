"""A bad sources file fails fast, naming the file, the source and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import ConfigError, load_sources, select_sources

GOOD = """
[[source]]
name = "maghreb-news"
start_urls = ["https://news.example/"]
feeds = ["https://news.example/rss"]
allow = ['/\\d{4}/\\d{2}/']
schedule = "*/30 * * * *"
delay = 0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_read_with_defaults(tmp_path: Path) -> None:
    (source,) = load_sources(write(tmp_path, GOOD))
    assert source.name == "maghreb-news"
    assert source.delay == 0 and source.max_pages == 500 and source.concurrency == 4
    assert source.domains == ["news.example"]


@pytest.mark.parametrize(("replace", "by", "field"), [
    ('name = "maghreb-news"', 'name = "Maghreb News"', "name"),
    ("allow = ['/\\d{4}/\\d{2}/']", "allow = ['/(unclosed/']", "allow"),
    ('schedule = "*/30 * * * *"', 'schedule = "every hour"', "schedule"),
    ("delay = 0", "delay = -1", "delay"),
    ("delay = 0", "delay = 'slow'", "delay"),
    ('feeds = ["https://news.example/rss"]', 'feeds = ["news.example/rss"]', "feeds"),
    ("delay = 0", "delay = 0\nmax_page = 3", "max_page"),
])
def test_bad_field_is_named_with_file_and_source(tmp_path: Path, replace: str, by: str, field: str) -> None:
    path = write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(ConfigError) as error:
        load_sources(path)
    message = str(error.value)
    assert str(path) in message and f"field '{field}'" in message
    assert "source '" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[[source]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=rf"{path}.*line \d+"):
        load_sources(path)


def test_missing_file_and_unknown_source_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_sources(tmp_path / "nope.toml")
    sources = load_sources(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="unknown source 'other'; known sources: maghreb-news"):
        select_sources(sources, ["other"])
