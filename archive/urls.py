"""URL identity: which URLs name the same article, and the SURT keys the capture index uses.

The catalogue identifies an article by its canonical URL (DESIGN.md, "Catalogue rules"):
the declared ``<link rel=canonical>``/og:url when it is believable, else the page URL,
normalised (w3lib) with tracking parameters dropped and AMP/print variants folded into
the main article URL. Capture lookups use pywb's SURT keys instead (:func:`surt`), which
must match what cdxj-indexer writes, so the two are deliberately separate functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

import surt as surt_lib
from courlan import extract_domain, is_navigation_page
from w3lib.url import canonicalize_url

# Query parameters that only say how a reader arrived, never which page they read. An
# explicit list, not courlan's TRACKERS_RE: that regex matches substrings, so it also drops
# ``gallery``, ``game``, ``cid``, ``uid`` and ``reference``, which some CMSs use as article
# ids, and merging two articles is far worse than keeping a stray tracker.
TRACKING_PARAMS = frozenset({
    "__hsfp", "__hssc", "__hstc", "__twitter_impression", "_ga", "_gl", "_hsenc", "_hsmi",
    "cmp", "cmpid", "dclid", "fbclid", "gbraid", "gclid", "gclsrc", "guccounter",
    "guce_referrer", "guce_referrer_sig", "icid", "igsh", "igshid", "intcmp", "li_fat_id",
    "mc_cid", "mc_eid", "mkt_tok", "msclkid", "ocid", "ref_src", "ref_url", "s_cid",
    "smid", "smtyp", "soc_src", "soc_trk", "sr_share", "ttclid", "twclid", "wbraid",
    "wt.mc_id", "xtor", "xtref", "yclid",
})
# Parameter families: Google Analytics (utm_), AT Internet (at_medium, at_campaign...),
# Matomo/Piwik (pk_, mtm_, matomo_), comScore (ns_), HubSpot ads (hsa_), Omeda (oly_), Vero.
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "matomo_", "ns_", "hsa_", "oly_", "vero_")
# ``ref`` (and its spellings) is usually a referrer label (?ref=rss, ?ref=hp), but a
# numeric one (?ref=48213) may be a CMS's article number, so that is kept.
REFERRER_PARAMS = frozenset({"ref", "referer", "referrer"})

# AMP and print variants of an article, in the forms news CMSs publish them.
VARIANT_SEGMENTS = frozenset({"amp", "print", "printable"})  # /amp/, /story/amp, /print/
VARIANT_FLAG_PARAMS = frozenset({  # ?amp=1, ?amp, ?print=1 ...: present means the variant
    "amp", "_amp", "amp_gsa", "amp_js_v", "usqp", "__amp_source_origin",
    "print", "printable", "printer_friendly", "printerfriendly",
})
VARIANT_VALUE_PARAMS = frozenset({  # ?outputType=amp, ?output=print, ?view=print ...
    "output", "outputtype", "view", "format", "mode", "template", "layout", "style", "type",
})
VARIANT_VALUES = frozenset({
    "amp", "print", "printable", "printer", "printerfriendly", "printer-friendly",
    "printer_friendly", "print-friendly",
})
AMP_FILE_SUFFIX = re.compile(r"\.amp(?=\.html?$)|\.amp$")  # story.amp.html, news-123.amp
AMP_SEGMENT_PREFIX = "amp_"  # Times Internet sites: /amp_articleshow/123.cms
AMP_CACHE_HOST_SUFFIX = ".cdn.ampproject.org"  # Google's AMP cache: /c/s/<host>/<path>
DEFAULT_PORTS = {"http": 80, "https": 443}
INDEX_PAGE = re.compile(r"^index\.\w+$")  # /index.html, /index.php: a home page too
DATE_PART = re.compile(r"\d{1,4}")  # /2024/, /05/, /17/ in dated article URLs


def normalise_url(url: str) -> str:
    """The URL in one canonical spelling: w3lib's canonical form, default port and trackers dropped.

    w3lib lower-cases scheme and host, IDNA-encodes the host, percent-encodes path and
    query the same way whether the input was raw Unicode or already encoded, sorts the
    query and drops the fragment; the rest is what w3lib leaves to the caller. Raises
    ValueError for a URL that cannot be parsed (a non-numeric port).
    """
    parts = urlsplit(canonicalize_url(url.strip()))
    netloc = parts.netloc
    if parts.port is not None and parts.port == DEFAULT_PORTS.get(parts.scheme):
        netloc = netloc.rsplit(":", 1)[0]
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracking(pair))
    return urlunsplit((parts.scheme, netloc, parts.path or "/", query, ""))


def without_tracking(url: str) -> str:
    """The URL with its tracking parameters (``TRACKING_PARAMS``...) removed and nothing else changed.

    What the crawler requests for an article linked as ``?utm_source=...``: the page the
    reader reads, under the URL that names it, spelt as the site spells it (the query's order
    and encoding kept, unlike :func:`normalise_url`).
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracking(pair))
    return urlunsplit(parts._replace(query=query)) if query != parts.query else url


def _is_tracking(pair: str) -> bool:
    name, _, value = pair.partition("=")
    name = unquote_plus(name).lower()
    if name in REFERRER_PARAMS:
        return not unquote_plus(value).isdigit()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def fold_variants(url: str) -> str:
    """The normalised URL of the main article behind an AMP or print variant of it.

    A fallback: AMP pages must declare their canonical, and :func:`article_url_key` prefers
    that; folding matters for pages reached without one (print pages, broken AMP markup).
    """
    parts = urlsplit(normalise_url(url))
    if parts.hostname and parts.hostname.endswith(AMP_CACHE_HOST_SUFFIX):
        parts = _from_amp_cache(parts)
    host = parts.netloc
    if host.startswith("amp.") and "." in host[len("amp."):]:
        host = host[len("amp."):]
        # amp.theguardian.com mirrors www.theguardian.com; amp.news.example.com mirrors news.
        if host.split(":")[0] == extract_domain(f"http://{host}/", fast=True):
            host = "www." + host
    # Dropping a variant segment keeps the slash that followed it: /story/amp/ -> /story/,
    # /story/amp -> /story, /amp/2024/story -> /2024/story.
    segments = [s for s in parts.path.split("/")[1:] if s not in VARIANT_SEGMENTS]
    segments = [s.removeprefix(AMP_SEGMENT_PREFIX) for s in segments]
    if segments:
        segments[-1] = AMP_FILE_SUFFIX.sub("", segments[-1])
    path = "/" + "/".join(segments)
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_variant(pair))
    return normalise_url(urlunsplit((parts.scheme, host, path, query, "")))


def _is_variant(pair: str) -> bool:
    name, _, value = pair.partition("=")
    name = unquote_plus(name).lower()
    if name in VARIANT_FLAG_PARAMS:
        return True
    return name in VARIANT_VALUE_PARAMS and unquote_plus(value).lower() in VARIANT_VALUES


def _from_amp_cache(parts: SplitResult) -> SplitResult:
    """The origin URL inside a Google AMP cache URL (/c/s/www.example.com/a: https, /c/: http)."""
    segments = parts.path.split("/")[1:]
    if len(segments) < 2 or segments[0] not in {"c", "v", "i"}:
        return parts
    scheme = "http"
    if segments[1] == "s":
        scheme, segments = "https", segments[1:]
    if len(segments) < 2:
        return parts
    return SplitResult(scheme, segments[1], "/" + "/".join(segments[2:]), parts.query, "")


def article_url_key(url: str, declared_canonical: str | None = None, home_hosts: Iterable[str] = ()) -> str:
    """The identity of the article at url: its declared canonical URL when believable and trusted, else url.

    Either way normalised and with variants folded. A canonical that is not an absolute
    http(s) URL is not believable, nor one that names the home page or one of the page's
    parent sections (a common CMS bug that would merge every article of a site into one).
    It is trusted only on the page's own registrable domain or one of ``home_hosts`` (the
    source's hosts): another site's canonical is a claim of syndication
    (:func:`foreign_canonical`), not an identity the page may take over.
    """
    page = fold_variants(url)
    if declared_canonical and _plausible_canonical(declared_canonical, page):
        if _trusted(declared_canonical, page, home_hosts):
            return fold_variants(declared_canonical)
    return page


def foreign_canonical(url: str, declared_canonical: str | None, home_hosts: Iterable[str] = ()) -> str | None:
    """The article another site's canonical names (normalised), when the page declares one; else None.

    A partner page that names the publisher's article: it is a copy of that article if the
    texts match, never a version of it.
    """
    page = fold_variants(url)
    if not declared_canonical or not _plausible_canonical(declared_canonical, page):
        return None
    return None if _trusted(declared_canonical, page, home_hosts) else fold_variants(declared_canonical)


def registrable_domain(url: str) -> str | None:
    """The domain a site registered (``lemonde.fr`` of ``www.lemonde.fr``, ``bbc.co.uk`` of
    ``news.bbc.co.uk``, by the public suffix list); the host itself for an IP address or an
    unlisted suffix."""
    host = _site_host(url)
    if not host:
        return None
    return extract_domain(f"http://{host}/") or host


def _trusted(declared: str, page: str, home_hosts: Iterable[str]) -> bool:
    try:
        return registrable_domain(declared) == registrable_domain(page) or same_site(declared, home_hosts)
    except ValueError:
        return False


def _plausible_canonical(declared: str, page: str) -> bool:
    try:
        parts = urlsplit(declared.strip())
        if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
            return False
        canonical = urlsplit(fold_variants(declared))
    except ValueError:  # a bad port or IPv6 literal: markup we cannot trust
        return False
    page_parts = urlsplit(page)
    segments = _segments(canonical.path)
    page_segments = _segments(page_parts.path)
    if canonical.query or len(segments) >= len(page_segments):
        return True
    # Shallower than the page: a home page (of this site or another), a listing or the
    # page's own section is the CMS bug; a shorter permalink is not.
    if not segments or (len(segments) == 1 and INDEX_PAGE.match(segments[0])):
        return False
    if is_navigation_page(canonical.geturl()):  # /category/world/, /tag/x/, /page/2/
        return False
    # A parent path of the page (/world/ for /world/2024/story, /2024/05/ for a dated URL)
    # is a listing, unless the parent still holds an id (/article/48213 for
    # /article/48213/some-slug): a digit that is not a bare year, month or day.
    is_parent = page_segments[: len(segments)] == segments
    last = segments[-1]
    return not is_parent or (any(c.isdigit() for c in last) and not DATE_PART.fullmatch(last))


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def surt(url: str) -> str:
    """The SURT urlkey pywb and cdxj-indexer write for url ('com,example)/path?a=b').

    Calls the ``surt`` package with its defaults, exactly as both of them do, so keys
    built here find captures in their indexes.
    """
    return surt_lib.surt(url)


def same_site(url: str, hosts: Iterable[str]) -> bool:
    """True when url's host is one of hosts or a subdomain of one (a leading www. ignored)."""
    host = _site_host(url)
    if not host:
        return False
    for site in hosts:
        site_host = _site_host(site if "://" in site else f"http://{site}")
        if site_host and (host == site_host or host.endswith("." + site_host)):
            return True
    return False


@lru_cache(maxsize=4096)  # every request and requisite is checked against the same few hosts
def _site_host(url: str) -> str | None:
    """The IDNA-encoded, lower-cased host without a leading www., comparable across spellings."""
    url = url.strip()
    host = urlsplit(url).hostname
    if host is None or not host.isascii():  # w3lib's IDNA encoding (canonicalising the whole URL is slow)
        host = urlsplit(canonicalize_url(url)).hostname
    return host.rstrip(".").removeprefix("www.") if host else None
