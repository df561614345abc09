"""Properties of normalise_url over generated URLs: idempotent, trackers gone, nothing else lost, no crash."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.urls import REFERRER_PARAMS, TRACKING_PARAMS, TRACKING_PREFIXES, normalise_url

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
unicode_label = st.text(st.characters(whitelist_categories=("Ll",), max_codepoint=0x6FF), min_size=1, max_size=8)
host = st.lists(st.one_of(label, unicode_label), min_size=1, max_size=3).map(".".join).map(lambda h: h + ".example")
segment = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#"), max_size=12)
path = st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
tracker = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.tuples(st.sampled_from(TRACKING_PREFIXES), label).map("".join),
    st.sampled_from(sorted(REFERRER_PARAMS)),
)
plain_name = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in TRACKING_PARAMS and n not in REFERRER_PARAMS and not n.startswith(TRACKING_PREFIXES))
value = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="&#"), max_size=10)


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """A URL, the names of its ordinary parameters and of its trackers."""
    plain = draw(st.lists(plain_name, max_size=3, unique=True))
    trackers = draw(st.lists(tracker, max_size=3, unique=True))
    names = draw(st.permutations(plain + trackers))
    query = "&".join(f"{quote(n)}={quote(draw(value), safe='')}" for n in names)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    fragment = draw(st.sampled_from(["", "#top", "#c-1"]))
    url = f"{scheme}://{draw(host)}{port}{draw(path)}" + (f"?{query}" if query else "") + fragment
    return url, plain, trackers


@FUZZ
@given(urls())
def test_normalising_is_idempotent(generated: tuple[str, list[str], list[str]]) -> None:
    url, _, _ = generated
    once = normalise_url(url)
    assert normalise_url(once) == once


@FUZZ
@given(urls())
def test_trackers_are_dropped_and_other_parameters_kept(generated: tuple[str, list[str], list[str]]) -> None:
    url, plain, trackers = generated
    names = {name for name, _ in parse_qsl(urlsplit(normalise_url(url)).query, keep_blank_values=True)}
    kept_referrers = {n for n in trackers if n in REFERRER_PARAMS}  # a numeric ?ref= is an article id
    assert not (names - kept_referrers) & set(trackers)
    assert set(plain) <= names
    assert "#" not in normalise_url(url)


@FUZZ
@given(st.text(max_size=80))
def test_any_text_normalises_or_is_refused_with_value_error(text: str) -> None:
    try:
        result = normalise_url(text)
    except ValueError:  # documented: a URL that cannot be parsed (a port that is not a number)
        return
    assert isinstance(result, str)


@pytest.mark.parametrize("url", ["http://example.com:99999999999/", "http://[::1/", "http://example.com:x/"])
def test_unparseable_urls_raise_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(url)
