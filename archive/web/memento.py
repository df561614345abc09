"""Memento (RFC 7089), as pywb serves it, so Memento clients find our captures.

- A replayed capture (a *memento*) carries ``Memento-Datetime`` (its WARC-Date) and a
  ``Link`` header naming the original URL, the TimeGate, the TimeMap and itself.
- ``/web/<url>`` and ``/web/<timestamp>/<url>`` are TimeGates: with ``Accept-Datetime``
  they redirect to the capture closest to that moment (``Vary: accept-datetime``).
- ``/timemap/link/<url>`` (``application/link-format``) and ``/timemap/json/<url>`` (JSON
  lines, pywb's CDX fields) list every capture of a URL. 304 captures are left out: they
  confirm an earlier body and replay as that one, so they are no memento of their own.

Every URL in these headers and lists is absolute, on the origin the request came to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from archive.catalogue.models import Capture
from archive.warc.cdxj import capture_info, cdx_fields
from archive.warc.index import CaptureIndex, Closest
from archive.wayback import (
    PAGE,
    REPLAY_PREFIX,
    ReplayTarget,
    WaybackError,
    parse_replay_path,
    parse_timestamp,
    replay_url,
    timestamp14,
)

TIMEMAP_PREFIX = "/timemap/"
TIMEMAP_FORMS = ("link", "json")
LINK_FORMAT = "application/link-format"
NOT_MODIFIED = 304
LATEST = datetime(9999, 12, 31)  # /web/<url> without Accept-Datetime: the latest capture


def http_date(moment: datetime) -> str:
    """An HTTP date (RFC 7231 IMF-fixdate) of a capture time (naive UTC, as the catalogue stores it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def accept_datetime(request: Request) -> datetime | None:
    """The moment an ``Accept-Datetime`` header asks for (naive UTC); None without one.

    Raises WaybackError when it is not an HTTP date.
    """
    value = request.headers.get("accept-datetime")
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise WaybackError(f"Accept-Datetime {value!r} is not an HTTP date, e.g. "
                           "Tue, 01 Dec 2026 12:00:00 GMT") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _link(uri: str, *params: str) -> str:
    return "; ".join([f"<{uri.replace('>', '%3E')}>", *params])


def base_of(request: Request) -> str:
    """The origin the request came to, which absolute Memento URLs are written on."""
    return str(request.base_url).rstrip("/")


def memento_headers(base: str, original: str, captured: datetime) -> list[tuple[str, str]]:
    """``Memento-Datetime`` and ``Link`` of the capture of ``original`` at ``captured``."""
    when = http_date(captured)
    links = [
        _link(original, 'rel="original"'),
        _link(base + REPLAY_PREFIX + original, 'rel="timegate"'),
        _link(f"{base}{TIMEMAP_PREFIX}link/{original}", 'rel="timemap"', f'type="{LINK_FORMAT}"'),
        _link(base + replay_url(captured, original), 'rel="memento"', f'datetime="{when}"'),
    ]
    return [("Memento-Datetime", when), ("Link", ", ".join(links))]


def timegate_headers(base: str, original: str) -> list[tuple[str, str]]:
    """The headers of a TimeGate's redirect: it varies with Accept-Datetime, and names its TimeMap."""
    links = [_link(original, 'rel="original"'),
             _link(f"{base}{TIMEMAP_PREFIX}link/{original}", 'rel="timemap"', f'type="{LINK_FORMAT}"')]
    return [("Vary", "accept-datetime"), ("Link", ", ".join(links))]


@dataclass(frozen=True)
class Choice:
    """The capture a replay address gets, and where a page address is redirected instead."""

    closest: Closest | None  # None: nothing of this URL is archived
    redirect: str | None = None  # a page asked at another time: the capture's own address (a path)
    headers: tuple[tuple[str, str], ...] = ()  # of that redirect


def choose(index: CaptureIndex, target: ReplayTarget, request: Request) -> Choice:
    """The TimeGate: the capture closest to ``Accept-Datetime``, else to the address's timestamp, else the latest.

    A page (no modifier) asked at any other time than its capture's own is redirected to
    that, as pywb does; from ``/web/<url>`` or with Accept-Datetime the redirect varies with
    Accept-Datetime. An embed (``im_``, ``mp_``...) is served as found: what it loads in
    turn is chosen for the page's time. Raises WaybackError on a bad timestamp or date.
    """
    asked = accept_datetime(request)
    moment = asked or (parse_timestamp(target.timestamp) if target.timestamp else LATEST)
    closest = index.closest(target.url, moment)
    if closest is None or target.modifier != PAGE:
        return Choice(closest)
    own = timestamp14(closest.capture.timestamp)
    if target.timestamp == own:
        return Choice(closest)
    negotiated = asked is not None or not target.timestamp
    headers = timegate_headers(base_of(request), target.url) if negotiated else []
    return Choice(closest, replay_url(own, closest.capture.url), tuple(headers))


class TimeMaps:
    """The TimeMap endpoints over the capture index."""

    def __init__(self, index: CaptureIndex) -> None:
        self.index = index

    def mementos(self, url: str) -> list[Capture]:
        """Every replayable capture of ``url`` (its SURT key: the same URL as replay finds), oldest first."""
        captures = sorted(self.index.query(url, "exact"), key=lambda c: (c.timestamp, c.id))
        return [c for c in captures if c.status != NOT_MODIFIED]

    def timemap(self, request: Request) -> Response:
        form = request.path_params["form"]
        if form not in TIMEMAP_FORMS:
            return PlainTextResponse(f"TimeMaps are {TIMEMAP_PREFIX}link/<url> and {TIMEMAP_PREFIX}json/<url>\n",
                                     status_code=404)
        raw_path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
        path = raw_path.split("?", 1)[0][len(f"{TIMEMAP_PREFIX}{form}/"):]
        try:
            target = parse_replay_path(path, request.url.query)
            if target.listing or target.timestamp or target.modifier:
                raise WaybackError(f"a TimeMap is of a URL: {TIMEMAP_PREFIX}{form}/http://example.com/")
        except WaybackError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        captures = self.mementos(target.url)
        if not captures:
            return PlainTextResponse(f"{target.url} is not in the archive\n", status_code=404)
        if form == "json":
            return StreamingResponse(_json_lines(captures), media_type="application/x-ndjson")
        return Response(link_timemap(base_of(request), target.url, captures), media_type=LINK_FORMAT)


def link_timemap(base: str, original: str, captures: list[Capture]) -> str:
    """A TimeMap in link format (RFC 7089 section 5): original, self, TimeGate, then each memento."""
    first, last = http_date(captures[0].timestamp), http_date(captures[-1].timestamp)
    lines = [
        _link(original, 'rel="original"'),
        _link(f"{base}{TIMEMAP_PREFIX}link/{original}", 'rel="self"', f'type="{LINK_FORMAT}"',
              f'from="{first}"', f'until="{last}"'),
        _link(base + REPLAY_PREFIX + original, 'rel="timegate"'),
    ]
    for position, capture in enumerate(captures):
        rel = "memento"
        if position == 0:
            rel = "first memento"
        if position == len(captures) - 1:
            rel = "last memento" if position else "first last memento"
        lines.append(_link(base + replay_url(timestamp14(capture.timestamp), capture.url), f'rel="{rel}"',
                           f'datetime="{http_date(capture.timestamp)}"'))
    return ",\n".join(lines) + "\n"


def _json_lines(captures: list[Capture]) -> Iterator[str]:
    for capture in captures:
        yield json.dumps(cdx_fields(capture_info(capture))) + "\n"


def timemap_routes(index: CaptureIndex) -> list[Route]:
    """``/timemap/link/<url>`` and ``/timemap/json/<url>``."""
    timemaps = TimeMaps(index)
    return [Route(TIMEMAP_PREFIX + "{form:str}/{path:path}", timemaps.timemap, methods=["GET", "HEAD"],
                  name="timemap")]
