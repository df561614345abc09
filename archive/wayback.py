"""The wayback URL scheme: 14-digit timestamps and ``/web/<timestamp><modifier>/<url>`` addresses.

DESIGN.md's replay scheme, which is pywb's and the Wayback Machine's, so links and tools
carry over. A timestamp is YYYYMMDDhhmmss in UTC, or any prefix of it; the modifier says
what the URL is loaded as (none for a page, ``im_`` an image, ``id_`` the raw payload...).
Query results, the replay server, the HTML and CSS rewriter, the CDX index and the web
page all write and read addresses here, so they cannot drift apart.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

TIMESTAMP_DIGITS = 14  # YYYYMMDDhhmmss, the Wayback/CDX timestamp
TIMESTAMP_PAD = "10000101000000"  # a timestamp prefix is padded down (pywb's PAD_14_DOWN): 2026 = 2026-01-01
TIMESTAMP_PAD_UP = "99991231235959"  # ...or up, for the end of a range: 2026 = 2026-12-31 23:59:59
REPLAY_PREFIX = "/web/"
PAGE = ""  # modifier of a page the reader navigates to: replayed with the banner
RAW = "id_"  # the archived payload byte for byte
MODIFIERS = frozenset({RAW, "mp_", "im_", "cs_", "js_", "oe_", "if_", "fr_"})  # pywb's, besides PAGE

_TARGET = re.compile(r"^(?P<timestamp>\d{1,14})?(?P<modifier>[a-z]{2}_)?/(?P<url>.*)$", re.DOTALL)
_SCHEME_SLASH = re.compile(r"^(https?):/+", re.IGNORECASE)


class WaybackError(ValueError):
    """A timestamp or replay path that is not in the scheme; the message shows the expected form."""


def timestamp14(moment: datetime) -> str:
    """The 14-digit timestamp of a capture time (naive UTC, as the catalogue stores it, or aware)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S")


def parse_timestamp(value: str, *, pad_up: bool = False) -> datetime:
    """The moment a timestamp names: any prefix of YYYYMMDDhhmmss, out-of-range fields clamped.

    Padded down as pywb does ("2026" is 2026-01-01 00:00:00), or up for the end of a range
    ("2026" is 2026-12-31 23:59:59.999999); naive UTC, as the catalogue stores times. Raises
    WaybackError when it is not 1 to 14 digits.
    """
    if not value.isdigit() or not 1 <= len(value) <= TIMESTAMP_DIGITS:
        raise WaybackError(f"timestamp {value!r} must be 1 to 14 digits: YYYYMMDDhhmmss or a prefix of it")
    digits = value + (TIMESTAMP_PAD_UP if pad_up else TIMESTAMP_PAD)[len(value):]
    year = max(int(digits[0:4]), 1)
    month = min(max(int(digits[4:6]), 1), 12)
    day = min(max(int(digits[6:8]), 1), calendar.monthrange(year, month)[1])
    return datetime(year, month, day, min(int(digits[8:10]), 23), min(int(digits[10:12]), 59),
                    min(int(digits[12:14]), 59), 999_999 if pad_up else 0)


def replay_url(timestamp: str | datetime, url: str, modifier: str = PAGE) -> str:
    """The replay path of ``url`` at ``timestamp`` with a modifier.

    ``timestamp`` is a capture time, or as written in an address: any prefix of
    YYYYMMDDhhmmss, or ``*`` for the list of every capture.
    """
    if isinstance(timestamp, datetime):
        timestamp = timestamp14(timestamp)
    return f"{REPLAY_PREFIX}{timestamp}{modifier}/{url}"


@dataclass(frozen=True)
class ReplayTarget:
    """What a /web/ path asks for."""

    url: str
    timestamp: str | None  # digits as given; None: the latest capture
    modifier: str  # "" (page), "id_", "im_"...
    listing: bool = False  # /web/*/url: every capture
    prefix: bool = False  # /web/*/url*: every URL under url


def parse_replay_path(path: str, query: str = "") -> ReplayTarget:
    """The target of a replay path (after ``/web/``, still percent-encoded) and its query string.

    The query string belongs to the archived URL. ``http:/host`` (a slash lost by a proxy)
    and scheme-less URLs are read as http(s) URLs, as the Wayback Machine does.
    """
    listing = path.startswith("*/")
    rest = path[2:] if listing else path
    match = _TARGET.match(rest) if not listing else None
    if match is not None and (match.group("timestamp") or match.group("modifier")):
        modifier = match.group("modifier") or PAGE
        if modifier != PAGE and modifier not in MODIFIERS:
            raise WaybackError(f"unknown modifier {modifier!r} in /web/{path}: use one of "
                               f"{', '.join(sorted(MODIFIERS))} or none")
        timestamp, url = match.group("timestamp"), match.group("url")
    else:
        timestamp, modifier, url = None, PAGE, rest
    if query:
        url += "?" + query
    prefix = listing and url.endswith("*")
    url = url[:-1] if prefix else url
    if not url:
        raise WaybackError("no URL to replay: use /web/<timestamp>/<url>, e.g. /web/2026/http://example.com/")
    url = _SCHEME_SLASH.sub(lambda m: m.group(1).lower() + "://", url)
    if "://" not in url:
        url = "http://" + url
    return ReplayTarget(url=url, timestamp=timestamp, modifier=modifier, listing=listing, prefix=prefix)
