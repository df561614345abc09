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

The first two keep the time and zone the source states (``2024-05-14T08:30:00+02:00``),
but a stated time is given in the offset of the local time the page's text shows for the
same instant when that offset changes its day or the source said UTC; htmldate and the URL
give a date alone. ``modified`` comes from structured data only
(``dateModified``, ``article:modified_time``, ``og:updated_time``) and is never used as
the publication date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

from dateparser.date import DateDataParser
from htmldate.extractors import COMPLETE_URL, try_date_expr
from lxml.etree import XPath
from lxml.html import HtmlElement

EARLIEST = date(1995, 1, 1)  # htmldate's own lower bound: no news site dates from before
FUTURE_MARGIN = timedelta(days=1)  # a stated date ahead of the clock by more is a typo or an event
ARTICLE_TYPES = re.compile(r"article|posting|report|blog", re.IGNORECASE)  # schema.org @type
# Newsroom offsets run from UTC-12 to UTC+14, in half hours (India +05:30): quarter hours
# (Nepal +05:45) would double the chance that the clock of a comment matches by accident.
_OFFSETS = frozenset(timedelta(minutes=30 * half) for half in range(-12 * 2, 14 * 2 + 1))
# A byline's date and time ("3/5/2022 22:41", "6 May 2022 - 2:00 a. m.") fit in this many
# characters; a longer text around a clock is a paragraph or a list, not a byline.
MAX_BYLINE_CHARS = 80

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
# ISO 8601's basic format, "20120105T0659+0400", and Unix time, "1326813281" (or in ms).
_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})?")
_UNIX_TIME = re.compile(r"\d{10}(?:\d{3})?")
# A clock time as bylines write it: "22:41", "10h30", "14.00", "2:00 a. m.", "10:31 PM".
_CLOCK = re.compile(
    r"(?<![\d.:])([01]?\d|2[0-3])\s?[:.h]\s?([0-5]\d)(?!\.?\d)(?::\d{2})?(?:\s?([ap])\.?\s?m\b)?",
    re.IGNORECASE,
)
# The page's text nodes that hold one of two minutes: a filter lxml runs in C, where reading
# every text node in Python took 4 ms a page (the median extraction takes 25).
_BODY_TEXT_WITH = XPath(
    "//body//text()[contains(., $minute) or contains(., $other)]"
    "[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)


def normalise(value: str | None, *, now: datetime | None = None) -> str | None:
    """A stated date as ISO 8601: with time and zone where stated; None when not a plausible date.

    ISO 8601 (extended or basic), Unix time (UTC), RFC 2822, else a date in words or digits
    as htmldate's parser reads it ("Fri 6:45 PM, Feb 16, 2018"), which gives the day alone.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    if _UNIX_TIME.fullmatch(text):
        return _iso(datetime.fromtimestamp(int(text[:10]), timezone.utc), now)
    match = _ISO_LIKE.match(text) or _ISO_BASIC.match(text)
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
        return try_date_expr(text, "%Y-%m-%d", False, *_bounds(now))


def _bounds(now: datetime | None) -> tuple[datetime, datetime]:
    """The plausible dates (:func:`_plausible`) as htmldate's parser takes them: naive datetimes."""
    latest = (now or datetime.now(timezone.utc)) + FUTURE_MARGIN
    return datetime.combine(EARLIEST, datetime.min.time()), latest.replace(tzinfo=None)


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


def _normalised(values: Iterable[str], now: datetime | None) -> list[str]:
    """The plausible dates among the candidates, as ISO 8601, in their order."""
    return [iso for iso in (normalise(value, now=now) for value in values) if iso]


def _first(found: list[str], shown: str | None = None) -> str | None:
    """The first of the stated dates, in the local zone another one states for it.

    Where the candidates disagree on the day, the first one on the day the page shows
    (``shown``, htmldate's reading of it) wins: a republished article keeps its first
    ``datePublished`` in one place and states the new one in another. A day stated alone
    ("November 19, 2019" in an itemprop's text) gives way to the same day stated with a time.
    Sites often write UTC in JSON-LD and the newsroom's offset in a meta tag; the local
    rendering of the same instant keeps the day the page shows its readers.
    """
    if not found:
        return None
    on_shown_day = [iso for iso in found if shown and iso[:10] == shown[:10]]
    chosen = on_shown_day[0] if on_shown_day else found[0]
    chosen = next((iso for iso in found if iso[:10] == chosen[:10] and "T" in iso), chosen)
    instant = _instant(chosen)
    if instant is not None and instant.utcoffset() == timedelta(0):
        for other in found:
            local = _instant(other)
            if local is not None and local.utcoffset() != timedelta(0) and local == instant:
                return other
    return chosen


def _shown_clocks(
    tree: HtmlElement, minute: int, language: str | None, now: datetime | None
) -> Iterator[datetime]:
    """The dates with a time of day at this minute or half an hour from it that the page's
    text shows its readers, as naive wall-clock times.

    A clock in the text counts with the date written around it: in the smallest enclosing
    element that holds one, up to a byline's length, as htmldate's own parser reads it
    (numeric dates, month names in a few languages), else dateparser in the page's language
    ("22 de janeiro de 2018 às 0:13"; in every language it would cost 0.1 s a page).
    """
    bounds = _bounds(now)
    minutes = {minute, (minute + 30) % 60}
    for text in _BODY_TEXT_WITH(tree, minute=f"{minute:02d}", other=f"{(minute + 30) % 60:02d}"):
        for clock in _CLOCK.finditer(text):
            hour, half = int(clock[1]), (clock[3] or "").lower()
            if int(clock[2]) not in minutes or (half and not 1 <= hour <= 12):
                continue
            if half:
                hour = hour % 12 + (12 if half == "p" else 0)
            holder = text.getparent()
            day = _day_around(holder.getparent() if text.is_tail else holder, bounds, language)
            if day is None:
                continue
            if isinstance(day, datetime) and day.minute == int(clock[2]):
                hour = day.hour  # dateparser knows the language's "p.m." ("9:02 μμ" is 21:02)
            yield datetime(day.year, day.month, day.day, hour, int(clock[2]))


def _day_around(
    element: HtmlElement | None, bounds: tuple[datetime, datetime], language: str | None
) -> date | None:
    """The date written in the element or its nearest ancestors, while they are byline-short;
    with its time of day where dateparser read the date and a time with it."""
    while element is not None and len(context := element.text_content()) <= MAX_BYLINE_CHARS:
        found = try_date_expr(context, "%Y-%m-%d", False, *bounds)
        if found:
            return date.fromisoformat(found)
        in_words = _in_words(context, language, bounds)
        if in_words is not None:
            return in_words
        element = element.getparent()
    return None


def _in_words(text: str, language: str | None, bounds: tuple[datetime, datetime]) -> date | None:
    """A day, month and year written in the language's words, as dateparser reads them: a
    (naive) datetime where it read a time of day with them."""
    parser = _words_parser(language) if language else None
    if parser is None:
        return None
    try:
        found = parser.get_date_data(text)
    except (OverflowError, ValueError):  # the two errors htmldate guards its own calls against
        return None
    if found.date_obj is None or not {"day", "month", "year"} <= set(found.parts):
        return None
    moment = found.date_obj.replace(tzinfo=None)  # the day as written, whatever zone follows
    if not bounds[0] <= moment <= bounds[1]:
        return None
    return moment if "time" in found.parts else moment.date()


@lru_cache(maxsize=None)
def _words_parser(language: str) -> DateDataParser | None:
    """dateparser for one language's absolute dates (no "2 hours ago"), None for one it lacks."""
    try:
        return DateDataParser(languages=[language], settings={"PARSERS": ["absolute-time"]})
    except ValueError:
        return None


def _as_shown(stated: str, tree: HtmlElement, language: str | None, now: datetime | None) -> str | None:
    """The stated time in the offset of the local time the page shows for the same instant,
    None when the page shows no time for it (or the stated time has no zone).

    A site may state UTC in its structured data and show its readers local time, or state its
    offset and show UTC: the day the readers see is the page's day (posted at 22:41 in La Paz,
    a page shows the 3rd where its JSON-LD says 02:41 UTC on the 4th). A time stated in an
    offset of its own is kept as stated where the page shows its day: a comment's clock can
    match it by chance, and the day then does not change.
    """
    moment = _instant(stated)
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None, second=0)
    for clock in _shown_clocks(tree, utc.minute, language, now):
        if clock - utc in _OFFSETS:
            local = moment.astimezone(timezone(clock - utc))
            if moment.utcoffset() == timedelta(0) or local.date() != moment.date():
                return local.isoformat(timespec="seconds")
            return stated
    return None


def stated_published(
    tree: HtmlElement,
    structured: list[dict],
    *,
    shown: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """The publication date the page's structured data states, None when it states none.

    Given in the offset of the local time the page shows for it, where it shows one
    (:func:`_as_shown`; ``language``, the page's, to read its dates in words). Else ``shown``,
    htmldate's date from the page, overrules the day of a stated time that has no zone or is
    in UTC when it is the next or the previous day and the stated time is close enough to
    midnight for the newsroom's offset (-12 to +14 hours) to explain it: the page then shows
    its readers that other day, and the date alone is kept.
    """
    found = _normalised(
        [
            *_jsonld_values(structured, "datePublished"),
            *tree.xpath(_PUBLISHED_META),
            *_itemprop_values(tree, "datePublished"),
        ],
        now,
    )
    if not found:
        return None
    shown = normalise(shown, now=now)
    chosen = _first(found, shown)
    return _as_shown(chosen, tree, language, now) or _local_day(chosen, shown)


def stated_modified(tree: HtmlElement, structured: list[dict], *, now: datetime | None = None) -> str | None:
    """The last-modified date the page's structured data states, None when it states none."""
    return _first(
        _normalised(
            [
                *_jsonld_values(structured, "dateModified"),
                *tree.xpath(_MODIFIED_META),
                *_itemprop_values(tree, "dateModified"),
            ],
            now,
        )
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

    ``stated`` is :func:`stated_published`'s, ``found`` htmldate's date from the page.
    """
    return stated or normalise(hint, now=now) or normalise(found, now=now) or url_date(url, now=now)


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
