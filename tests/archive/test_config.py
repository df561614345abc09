"""A bad sources file fails fast, naming the file, the source and the field; so does a bad setting."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from archive.config import (
    HEARTBEAT_INTERVAL,
    HEARTBEAT_TIMEOUT,
    ConfigError,
    Settings,
    load_sources,
    select_sources,
)

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


def test_run_liveness_settings_default_to_this_host_and_are_overridden_by_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("NEWSARCHIVE_HOST", "NEWSARCHIVE_HEARTBEAT_INTERVAL", "NEWSARCHIVE_HEARTBEAT_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    defaults = Settings.from_env()
    assert (defaults.host, defaults.heartbeat_interval, defaults.heartbeat_timeout) == (
        socket.gethostname(), HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT)
    monkeypatch.setenv("NEWSARCHIVE_HOST", "crawler-7")
    monkeypatch.setenv("NEWSARCHIVE_HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("NEWSARCHIVE_HEARTBEAT_TIMEOUT", "3")
    assert Settings.from_env() == Settings(host="crawler-7", heartbeat_interval=0.5, heartbeat_timeout=3.0)


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("NEWSARCHIVE_HEARTBEAT_TIMEOUT", "9", "less than two heartbeats"),
    ("NEWSARCHIVE_HEARTBEAT_INTERVAL", "soon", "must be a number of seconds"),
    ("NEWSARCHIVE_HEARTBEAT_INTERVAL", "-1", "positive"),
])
def test_a_heartbeat_setting_that_cannot_work_names_its_variable(
        monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable}: .*{problem}"):
        Settings.from_env()
