"""Fuzzing parse_sources: whatever the file holds, the only failure is a ConfigError naming it."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.config import ConfigError, Source, parse_sources

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = ["name", "start_urls", "feeds", "sitemaps", "allow", "deny", "language", "schedule", "max_pages",
          "concurrency", "delay", "refresh_hours", "requisite_hosts"]

scalar = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["https://news.example/", "http://127.0.0.1:8000/rss", "ftp://x/", "news", "[", r"\d{4}/",
                     "*/5 * * * *", "0 0 31 2 *", "* * * * * * *", "fr", "maghreb-news", "Bad Name"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
table = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(string.ascii_lowercase, min_size=1, max_size=8)),
                        value, max_size=8)


def toml_value(v: object) -> str:
    """A TOML spelling of a generated value (strings as JSON strings: TOML basic strings accept them)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)  # finite: TOML reads Python's int and float spellings (1e+100 included)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(toml_value(item) for item in v) + "]"  # type: ignore[attr-defined]


def toml_file(tables: list[dict[str, object]]) -> str:
    return "".join("[[source]]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in t.items())
                   for t in tables)


@FUZZ
@given(st.lists(table, max_size=3))
def test_any_sources_table_parses_or_fails_with_a_config_error(tables: list[dict[str, object]]) -> None:
    try:
        sources = parse_sources(toml_file(tables), "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml")
        return
    assert all(isinstance(s, Source) for s in sources)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_parses_or_fails_with_a_config_error(text: str) -> None:
    try:
        parse_sources(text, "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml")
