"""URL identity: what makes two URLs the same article, and SURT keys as pywb writes them."""

from __future__ import annotations

import pytest

from archive.urls import article_url_key, fold_variants, foreign_canonical, normalise_url, same_site, surt

ARTICLE = "https://www.example.com/2024/05/17/budget-vote"


@pytest.mark.parametrize(
    "url",
    [
        ARTICLE + "?utm_source=twitter&utm_medium=social&utm_campaign=x",
        ARTICLE + "?fbclid=IwAR0abc",
        ARTICLE + "?gclid=Cj0KCQ&mc_cid=123&mc_eid=abc",
        ARTICLE + "?igshid=MzRlODBiNWFlZA==&_ga=2.1.2.3",
        ARTICLE + "?xtor=RSS-3&at_medium=sl&at_campaign=rss",
        ARTICLE + "?ref=rss",
        ARTICLE + "?ref_src=twsrc%5Etfw",
        ARTICLE + "?CMP=share_btn_tw",
        ARTICLE + "#comments",
        ARTICLE + "?utm_source=rss#top",
        "HTTPS://WWW.EXAMPLE.COM/2024/05/17/budget-vote",
        "https://www.example.com:443/2024/05/17/budget-vote",
        "  https://www.example.com/2024/05/17/budget-vote\n",
    ],
)
def test_tracking_fragment_case_and_default_port_do_not_change_identity(url: str) -> None:
    assert normalise_url(url) == ARTICLE


def test_default_http_port_dropped_other_ports_kept() -> None:
    assert normalise_url("http://example.com:80/a") == "http://example.com/a"
    assert normalise_url("http://example.com:8080/a") == "http://example.com:8080/a"
    assert normalise_url("https://example.com:80/a") == "https://example.com:80/a"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/article?id=3", "https://example.com/article?id=3"),
        ("https://example.com/story?page=2", "https://example.com/story?page=2"),
        ("https://example.com/read.php?page=2&id=3", "https://example.com/read.php?id=3&page=2"),
        ("https://example.com/read.php?id=3&utm_source=x&page=2", "https://example.com/read.php?id=3&page=2"),
        # courlan's tracker pattern would drop these; they name different articles.
        ("https://example.com/photos?gallery=12", "https://example.com/photos?gallery=12"),
        ("https://example.com/news?cid=4417", "https://example.com/news?cid=4417"),
        ("https://example.com/story.php?ref=48213", "https://example.com/story.php?ref=48213"),
    ],
)
def test_meaningful_parameters_kept_and_sorted(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_path_case_is_kept() -> None:
    # Paths are case-sensitive on most servers: /News/A and /news/a may differ.
    assert normalise_url("https://EXAMPLE.com/News/A") == "https://example.com/News/A"


def test_arabic_path_raw_and_percent_encoded_give_one_key() -> None:
    raw = "https://www.aljazeera.net/news/2024/5/17/الانتخابات-البرلمانية"
    encoded = (
        "https://www.aljazeera.net/news/2024/5/17/"
        "%D8%A7%D9%84%D8%A7%D9%86%D8%AA%D8%AE%D8%A7%D8%A8%D8%A7%D8%AA-"
        "%D8%A7%D9%84%D8%A8%D8%B1%D9%84%D9%85%D8%A7%D9%86%D9%8A%D8%A9"
    )
    assert normalise_url(raw) == normalise_url(encoded) == normalise_url(encoded.lower())
    assert normalise_url(raw) == encoded
    assert article_url_key(raw) == article_url_key(encoded)
    assert surt(raw) == surt(encoded)


def test_idn_host_unicode_and_punycode_give_one_key() -> None:
    unicode_host = "https://مثال.إختبار/مقالة?ق=ع"
    punycode_host = "https://xn--mgbh0fb.xn--kgbechtv/%D9%85%D9%82%D8%A7%D9%84%D8%A9?%D9%82=%D8%B9"
    assert normalise_url(unicode_host) == normalise_url(punycode_host) == punycode_host


def test_normalise_is_idempotent() -> None:
    url = "HTTP://Example.com:80/a b/%7euser?z=1&utm_source=x&a=%c3%a9#f"
    once = normalise_url(url)
    assert normalise_url(once) == once


STORY = "https://www.example.com/2024/05/17/budget-vote"


@pytest.mark.parametrize(
    ("variant", "main"),
    [
        (STORY + "/amp", STORY),
        (STORY + "/amp/", STORY + "/"),
        ("https://www.example.com/amp/2024/05/17/budget-vote", STORY),
        (STORY + "?amp=1", STORY),
        (STORY + "?amp", STORY),
        (STORY + "?amp=true&utm_source=google", STORY),
        (STORY + "?outputType=amp", STORY),
        ("https://www.bbc.co.uk/news/uk-politics-68123456.amp", "https://www.bbc.co.uk/news/uk-politics-68123456"),
        ("https://edition.example.com/2024/05/17/politics/vote/index.amp.html",
         "https://edition.example.com/2024/05/17/politics/vote/index.html"),
        ("https://amp.theguardian.com/politics/2024/may/17/budget-vote",
         "https://www.theguardian.com/politics/2024/may/17/budget-vote"),
        ("https://amp.news.example.co.uk/story-1", "https://news.example.co.uk/story-1"),
        ("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/2024/05/17/budget-vote",
         STORY),
        ("https://timesofindia.indiatimes.com/india/amp_articleshow/110123456.cms",
         "https://timesofindia.indiatimes.com/india/articleshow/110123456.cms"),
        ("https://www.example.com/print/2024/05/17/budget-vote", STORY),
        (STORY + "/print/", STORY + "/"),
        (STORY + "?print=1", STORY),
        (STORY + "?output=print", STORY),
        (STORY + "?view=print", STORY),
        (STORY + "?format=printable", STORY),
        ("https://www.example.com/read.php?id=3&print=yes", "https://www.example.com/read.php?id=3"),
    ],
)
def test_amp_and_print_variants_fold_to_the_article(variant: str, main: str) -> None:
    assert fold_variants(variant) == main


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/2024/05/17/amplifier-review",
        "https://www.example.com/camp/2024/summer",
        "https://www.example.com/story?view=full",
        "https://www.example.com/blueprint/plans",
        "https://ampere.example.com/story",
    ],
)
def test_lookalikes_are_not_variants(url: str) -> None:
    assert fold_variants(url) == normalise_url(url)


def test_declared_canonical_is_the_identity() -> None:
    page = "https://m.example.com/news/budget-vote?utm_source=rss"
    canonical = "https://www.example.com/2024/05/17/budget-vote"
    assert article_url_key(page, canonical) == canonical
    # An AMP page and its article agree through the canonical the AMP page declares.
    assert article_url_key(STORY + "/amp", STORY) == article_url_key(STORY, STORY) == STORY



def test_another_sites_canonical_is_a_claim_not_an_identity() -> None:
    """A partner page naming the publisher's article stays its own article, a copy of that one."""
    partner = "https://partner.example.org/wire/2024/05/17/x"
    assert article_url_key(partner, STORY) == partner
    assert foreign_canonical(partner, STORY) == STORY
    # The same registrable domain (another subdomain) or one of the source's hosts is trusted.
    assert article_url_key("https://news.bbc.co.uk/1/story", "https://www.bbc.co.uk/news/story") == (
        "https://www.bbc.co.uk/news/story")
    assert foreign_canonical("https://news.bbc.co.uk/1/story", "https://www.bbc.co.uk/news/story") is None
    assert article_url_key(partner, STORY, home_hosts=["partner.example.org", "example.com"]) == STORY
    # Public suffixes are not a site: two sites under co.uk are two registrable domains.
    assert foreign_canonical("https://a.co.uk/x/story", "https://b.co.uk/x/story") == "https://b.co.uk/x/story"


def test_canonical_is_normalised_and_folded() -> None:
    assert article_url_key(STORY, "HTTPS://WWW.EXAMPLE.COM:443/2024/05/17/budget-vote/amp?utm_source=x") == STORY


@pytest.mark.parametrize(
    "canonical",
    [
        "https://www.example.com/",
        "https://www.example.com",
        "https://example.com/",
        "https://www.example.com/index.html",
        "https://www.example.com/?utm_source=homepage",
        "https://www.example.com/2024/",  # a parent path: the archive of the year
        "https://www.example.com/category/politics/",
        "https://www.other-cms-host.com/",
        "/2024/05/17/budget-vote",  # relative: not this module's job to resolve, so ignored
        "ftp://www.example.com/2024/05/17/budget-vote",
        "javascript:void(0)",
        "http://[::1",
        "",
    ],
)
def test_implausible_canonical_falls_back_to_page_url(canonical: str) -> None:
    assert article_url_key(STORY + "?utm_medium=email", canonical) == STORY


def test_section_canonical_ignored_but_shorter_permalink_kept() -> None:
    page = "https://www.example.com/world/europe/2024/05/17/budget-vote"
    assert article_url_key(page, "https://www.example.com/world/") == page
    assert article_url_key(page, "https://www.example.com/world/europe/") == page
    assert article_url_key(page, "https://www.example.com/budget-vote-123") == "https://www.example.com/budget-vote-123"
    slugged = "https://www.example.com/article/48213/budget-vote"
    assert article_url_key(slugged, "https://www.example.com/article/48213") == "https://www.example.com/article/48213"


def test_home_page_canonical_kept_for_the_home_page_itself() -> None:
    assert article_url_key("https://www.example.com/?utm_source=x", "https://www.example.com/") == "https://www.example.com/"


def test_no_canonical_uses_the_page() -> None:
    assert article_url_key(STORY + "?amp=1#x") == STORY
    assert article_url_key(STORY, None) == STORY


@pytest.mark.parametrize(
    ("url", "key"),
    [
        # pywb's own doctests and sample index (pywb/utils/canonicalize.py, sample_archive).
        ("http://example.com/path/file.html", "com,example)/path/file.html"),
        ("http://example.com?example=1", "com,example)/?example=1"),
        ("http://www.iana.org/domains/example", "org,iana)/domains/example"),
        ("http://www.iana.org/_css/2013.1/screen.css", "org,iana)/_css/2013.1/screen.css"),
        ("https://www.example.com/", "com,example)/"),
        ("http://example.com", "com,example)/"),
        # the surt package's rules: scheme, www, default port, case, fragment, query order.
        ("http://www.archive.org:80/index.html", "org,archive)/index.html"),
        ("http://archive.org/goo/?a=2&b&a=1", "org,archive)/goo?a=1&a=2&b"),
        ("HTTPS://WWW.Example.COM/Path?b=1#frag", "com,example)/path?b=1"),
        ("http://news.example.co.uk/a", "uk,co,example,news)/a"),
    ],
)
def test_surt_matches_pywb_keys(url: str, key: str) -> None:
    assert surt(url) == key


def test_same_site() -> None:
    hosts = ["example.com", "www.news.example.org"]
    assert same_site("https://example.com/a", hosts)
    assert same_site("https://www.example.com/a", hosts)
    assert same_site("https://edition.Example.COM/a", hosts)
    assert same_site("https://news.example.org/a", hosts)
    assert same_site("https://live.news.example.org:8443/a", hosts)
    assert not same_site("https://example.org/a", hosts)
    assert not same_site("https://notexample.com/a", hosts)
    assert not same_site("https://example.com.evil.net/a", hosts)
    assert not same_site("mailto:desk@example.com", hosts)
    assert not same_site("https://example.com/a", [])


def test_same_site_idn_hosts_in_either_spelling() -> None:
    assert same_site("https://www.مثال.إختبار/مقالة", ["xn--mgbh0fb.xn--kgbechtv"])
    assert same_site("https://xn--mgbh0fb.xn--kgbechtv/", ["مثال.إختبار"])
