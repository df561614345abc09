"""Publication and modification dates of an article page, as ISO 8601 with time and zone.

A page states its dates in several places of unequal trust. ``published`` is taken, in
this order, from:

1. the page's structured data: JSON-LD ``datePublished`` (article objects first), the
   ``article:published_time`` meta tag, an ``itemprop="datePublished"`` element;
2. a hint from outside the page: the Google News sitemap's ``publication_date`` or the
   feed's ``pubDate`` for this URL, passed in by the crawler;
3. htmldate's search of the page (``original_date``, extensive search), which sees the
   other meta tags and JSON, then the URL (``deferred_url_extractor``), then ``<time>``
   elements and dates in the text;
4. a date in the URL (``/2024/05/14/``), should htmldate find none.

The first two keep the time and zone the source states (``2024-05-14T08:30:00+02:00``);
htmldate and the URL give a date alone. ``modified`` comes from structured data only
(``dateModified``, ``article:modified_time``, ``og:updated_time``) and is never used as
the publication date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from htmldate.extractors import COMPLETE_URL
from lxml.html import HtmlElement

EARLIEST = date(1995, 1, 1)  # htmldate's own lower bound: no news site dates from before
FUTURE_MARGIN = timedelta(days=1)  # a stated date ahead of the clock by more is a typo or an event
ARTICLE_TYPES = re.compile(r"article|posting|report|blog", re.IGNORECASE)  # schema.org @type

_PUBLISHED_META = (
    '//meta[@property="article:published_time" or @name="article:published_time"'
    ' or @property="og:article:published_time"]/@content'
)
_MODIFIED_META = (
    '//meta[@property="article:modified_time" or @name="article:modified_time"'
    ' or @property="og:updated_time"]/@content'
)
# "2024-05-14T8:30", "2024-05-14 08:30:00.000000 UTC", "...+0200": ISO 8601 as sites write it.
_ISO_LIKE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)


def normalise(value: str | None, *, now: datetime | None = None) -> str | None:
    """A stated date as ISO 8601: with time and zone where stated; None when not a plausible date."""
    if not value or not value.strip():
        return None
    text = value.strip()
    match = _ISO_LIKE.match(text)
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            day_only = date(int(year), int(month), int(day))
            if hour is None:
                return day_only.isoformat() if _plausible(day_only, now) else None
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return None
        return _iso(moment.replace(tzinfo=_zone(zone)), now)
    try:  # RFC 2822, as feeds and some JSON-LD write it: "Wed, 04 May 2022 02:41:00 GMT"
        return _iso(parsedate_to_datetime(text), now)
    except (TypeError, ValueError, IndexError):
        return None


def _zone(text: str | None) -> timezone | None:
    """A zone suffix as a fixed offset; None when the source states no zone."""
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _plausible(day: date, now: datetime | None) -> bool:
    """Not before the web had news sites, not (much) after the moment of extraction."""
    latest = (now or datetime.now(timezone.utc)) + FUTURE_MARGIN
    return EARLIEST <= day <= latest.date()


def _iso(moment: datetime, now: datetime | None) -> str | None:
    """A moment to the second, its zone kept as stated (a naive time stays naive)."""
    return moment.isoformat(timespec="seconds") if _plausible(moment.date(), now) else None


def _instant(value: str) -> datetime | None:
    """The moment an ISO string with time and zone denotes, None without them."""
    moment = datetime.fromisoformat(value) if "T" in value else None
    return moment if moment is not None and moment.tzinfo is not None else None


def _jsonld_values(structured: list[dict], key: str) -> Iterator[str]:
    """A JSON-LD key's values, from article objects first, then from the others."""
    ranked = sorted(structured, key=lambda obj: not ARTICLE_TYPES.search(str(obj.get("@type"))))
    for obj in ranked:
        value = obj.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield item


def _itemprop_values(tree: HtmlElement, prop: str) -> Iterator[str]:
    """What elements with the itemprop hold: their content or datetime attribute, else their text.

    The elements are found from the page's itemprop attributes (``//@itemprop[...]/..``), in a
    third less time than by testing every element for one (``//*[@itemprop=...]``).
    """
    for element in tree.xpath(f'//@itemprop[.="{prop}"]/..'):
        yield element.get("content") or element.get("datetime") or element.text_content()


def _first(values: Iterable[str], now: datetime | None, shown: str | None = None) -> str | None:
    """The first plausible date of the candidates, in the local zone another one states for it.

    Where the candidates disagree on the day, the first one on the day the page shows
    (``shown``, htmldate's reading of it) wins: a republished article keeps its first
    ``datePublished`` in one place and states the new one in another. Sites often write UTC
    in JSON-LD and the newsroom's offset in a meta tag; the local rendering of the same
    instant keeps the day the page shows its readers.
    """
    found = [iso for iso in (normalise(value, now=now) for value in values) if iso]
    if not found:
        return None
    on_shown_day = [iso for iso in found if shown and iso[:10] == shown[:10]]
    chosen = on_shown_day[0] if on_shown_day else found[0]
    instant = _instant(chosen)
    if instant is not None and instant.utcoffset() == timedelta(0):
        for other in found:
            local = _instant(other)
            if local is not None and local.utcoffset() != timedelta(0) and local == instant:
                return other
    return chosen


def stated_published(
    tree: HtmlElement, structured: list[dict], *, shown: str | None = None, now: datetime | None = None
) -> str | None:
    """The publication date the page's structured data states, None when it states none."""
    return _first(
        [
            *_jsonld_values(structured, "datePublished"),
            *tree.xpath(_PUBLISHED_META),
            *_itemprop_values(tree, "datePublished"),
        ],
        now,
        shown,
    )


def stated_modified(tree: HtmlElement, structured: list[dict], *, now: datetime | None = None) -> str | None:
    """The last-modified date the page's structured data states, None when it states none."""
    return _first(
        [
            *_jsonld_values(structured, "dateModified"),
            *tree.xpath(_MODIFIED_META),
            *_itemprop_values(tree, "dateModified"),
        ],
        now,
    )


def url_date(url: str, *, now: datetime | None = None) -> str | None:
    """A year-month-day date in the URL's path (``/2024/05/14/``, ``2024-05-14``), else None."""
    match = COMPLETE_URL.search(url or "")
    if not match:
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return day.isoformat() if _plausible(day, now) else None


def published_date(
    stated: str | None, hint: str | None, found: str | None, url: str, *, now: datetime | None = None
) -> str | None:
    """The publication date by the module's precedence: stated, hint, htmldate's, the URL's.

    ``found`` is htmldate's date from the page. It overrules the day of a stated time that
    has no zone or is in UTC when it is the next or the previous day and the stated time is
    close enough to midnight for the newsroom's offset (-12 to +14 hours) to explain it:
    the page then shows its readers that other day, and the date alone is kept.
    """
    found = normalise(found, now=now)
    if stated:
        return _local_day(stated, found)
    return normalise(hint, now=now) or found or url_date(url, now=now)


def _local_day(stated: str, found: str | None) -> str:
    """The stated date, or the page's shown day where a zoneless or UTC time explains the gap."""
    if found is None or "T" not in stated or found[:10] == stated[:10]:
        return stated
    moment = datetime.fromisoformat(stated)
    if moment.utcoffset() not in (None, timedelta(0)):
        return stated  # the newsroom's own offset: its day is the day
    shown = date.fromisoformat(found[:10])
    midnight = datetime.combine(moment.date(), datetime.min.time(), moment.tzinfo)
    since_midnight = moment - midnight
    if shown == moment.date() - timedelta(days=1) and since_midnight < timedelta(hours=12):
        return shown.isoformat()
    if shown == moment.date() + timedelta(days=1) and since_midnight >= timedelta(hours=10):
        return shown.isoformat()
    return stated
