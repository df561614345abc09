"""pywb's CDX server API over the captures table: a query string in, CDX lines out.

The parameters are pywb's (its manual, "CDXJ Server API", and ``pywb.warcserver.index``),
so tools written for pywb's ``/cdx`` work against ours:

- ``url``, with ``matchType`` ``exact`` (default), ``prefix``, ``host`` or ``domain``; or
  the wildcards ``http://example.com/path/*`` (prefix) and ``*.example.com`` (domain);
- ``from`` / ``to``: 1 to 14 timestamp digits, padded down and up, inclusive;
- ``filter`` (repeatable): ``[!][=|~]field:expression``, contains / exact / regex from the
  start (``re.match``), ``!`` negates; without a field it tests the whole CDXJ line;
- ``collapseTime=n`` (pywb's): of consecutive captures with the same first n timestamp
  digits and status, the first; ``collapse=field[:n]`` (the Wayback CDX server's, which
  pywb lacks): of consecutive captures with the same field (or its first n characters),
  the first;
- ``sort=reverse`` (or ``reverse=true``), or ``closest=<timestamp>`` (with or without
  ``sort=closest``): nearest in time first, the earlier on a tie;
- ``limit``: at most that many lines (pywb's default 100000 when not given);
- ``fl`` / ``fields``: the fields each line carries, in that order;
- ``output``: ``cdxj`` (default: ``urlkey timestamp {json}``), ``json`` (one JSON object a
  line) or ``text`` (the field values, space-separated);
- ``page``, ``pageSize``, ``showNumPages=true``: the results in pages. pywb pages only a
  ZipNum index, by compressed blocks of lines; here a block is one capture, so a page is
  ``pageSize`` captures (after filtering and collapsing; default
  :data:`archive.config.CDX_PAGE_SIZE`) and ``showNumPages`` counts them exactly.

Range, time bounds, order, and (when no filter or collapse applies) offset and limit are
SQL on the ``(urlkey, timestamp)`` index; filters and collapsing run on the rows as they
stream, as pywb runs them on index lines.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from archive.catalogue.models import Capture
from archive.config import CDX_PAGE_SIZE
from archive.warc.cdxj import capture_info, cdx_fields
from archive.warc.index import MATCH_TYPES, CaptureIndex, CaptureQueryError
from archive.wayback import WaybackError, parse_timestamp

DEFAULT_LIMIT = 100_000  # pywb's CDXQuery.limit when none is given
OUTPUTS = ("cdxj", "json", "text")
FIELD_ALIASES = {"u": "url", "original": "url", "statuscode": "status", "mimetype": "mime", "m": "mime",
                 "l": "length", "o": "offset", "d": "digest", "t": "timestamp", "k": "urlkey",
                 "f": "filename"}  # pywb's CDXObject.CDX_ALT_FIELDS, as its filters accept them
MEDIA_TYPES = {"cdxj": "text/x-cdxj", "json": "text/x-ndjson", "text": "text/plain"}  # as pywb sends them
Entry = dict[str, str]


@dataclass(frozen=True)
class CdxFilter:
    """One ``filter=`` parameter, as pywb's CDXFilter reads it."""

    field: str  # "" tests the whole CDXJ line
    test: Callable[[str], bool]
    negate: bool

    @classmethod
    def parse(cls, spec: str) -> CdxFilter:
        negate = spec.startswith("!")
        spec = spec[negate:]
        mode = spec[:1] if spec[:1] in ("=", "~") else ""
        spec = spec[len(mode):]
        name, _, expression = spec.partition(":") if ":" in spec else ("", "", spec)
        test: Callable[[str], bool]
        if mode == "~":
            try:
                test = re.compile(expression).match  # type: ignore[assignment]
            except re.error as exc:
                raise CaptureQueryError(f"filter {spec!r}: not a regular expression ({exc})") from exc
        elif mode == "=":
            test = expression.__eq__
        else:  # pywb's default: the field contains the expression
            def test(value: str) -> bool:
                return expression in value
        return cls(FIELD_ALIASES.get(name, name), test, negate)

    def __call__(self, entry: Entry) -> bool:
        value = entry.get(self.field, "") if self.field else cdxj_text(entry)
        return bool(self.test(value)) != self.negate


@dataclass(frozen=True)
class CdxQuery:
    """A parsed CDX query; :meth:`from_params` raises CaptureQueryError naming the parameter at fault."""

    url: str
    match_type: str = "exact"
    since: datetime | None = None
    until: datetime | None = None
    filters: tuple[CdxFilter, ...] = ()
    collapse: tuple[tuple[str, int | None], ...] = ()  # (field, characters compared or all)
    collapse_time: int | None = None
    reverse: bool = False
    closest: datetime | None = None
    limit: int = DEFAULT_LIMIT
    fields: tuple[str, ...] = ()
    output: str = "cdxj"
    page: int | None = None
    page_size: int = CDX_PAGE_SIZE
    count_pages: bool = False

    @classmethod
    def from_params(cls, params: Callable[[str], list[str]]) -> CdxQuery:
        """From a query string's parameters: ``params(name)`` is every value given for ``name``."""

        def one(name: str) -> str:
            values = params(name)
            return values[-1] if values else ""

        url, match_type = one("url"), one("matchType")
        if not url:
            raise CaptureQueryError("the url parameter is required: /cdx?url=http://example.com/&output=json")
        if not match_type:
            if url.startswith("*."):
                url, match_type = url[2:], "domain"
            elif url.endswith("*"):
                url, match_type = url[:-1], "prefix"
            else:
                match_type = "exact"
        if match_type not in MATCH_TYPES:
            raise CaptureQueryError(f"matchType {match_type!r} is not one of {', '.join(MATCH_TYPES)}")
        output = one("output") or "cdxj"
        if output not in OUTPUTS:
            raise CaptureQueryError(f"output {output!r} is not one of {', '.join(OUTPUTS)}")
        sort = one("sort")
        if sort not in ("", "reverse", "closest"):
            raise CaptureQueryError(f"sort {sort!r} is not reverse or closest")
        if sort == "closest" and not one("closest"):
            raise CaptureQueryError("sort=closest needs closest=<timestamp>")
        try:
            since = parse_timestamp(one("from")) if one("from") else None
            until = parse_timestamp(one("to"), pad_up=True) if one("to") else None
            closest = parse_timestamp(one("closest")) if one("closest") else None
        except WaybackError as exc:
            raise CaptureQueryError(str(exc)) from exc
        page = one("page")
        return cls(
            url=url, match_type=match_type, since=since, until=until,
            filters=tuple(CdxFilter.parse(spec) for spec in params("filter")),
            collapse=tuple(_collapse(spec) for spec in params("collapse")),
            collapse_time=_whole("collapseTime", one("collapseTime")) if one("collapseTime") else None,
            reverse=sort == "reverse" or one("reverse") in ("1", "true"),
            closest=closest,
            limit=_whole("limit", one("limit")) if one("limit") else DEFAULT_LIMIT,
            fields=tuple(f for f in (one("fl") or one("fields")).split(",") if f),
            output=output,
            page=_whole("page", page) if page else None,
            page_size=_whole("pageSize", one("pageSize"), least=1) if one("pageSize") else CDX_PAGE_SIZE,
            count_pages=one("showNumPages") in ("1", "true"),
        )


def _whole(name: str, value: str, least: int = 0) -> int:
    if not value.isdigit() or int(value) < least:
        raise CaptureQueryError(f"{name} {value!r} must be a whole number{' from ' + str(least) if least else ''}")
    return int(value)


def _collapse(spec: str) -> tuple[str, int | None]:
    name, _, width = spec.partition(":")
    return FIELD_ALIASES.get(name, name), _whole("collapse", width, least=1) if width else None


def cdxj_text(entry: Entry) -> str:
    """An entry as a CDXJ line without its newline: ``urlkey timestamp {json of the rest}``."""
    rest = {name: value for name, value in entry.items() if name not in ("urlkey", "timestamp")}
    return f"{entry['urlkey']} {entry['timestamp']} {json.dumps(rest)}"


class CdxServer:
    """Answers :class:`CdxQuery` from the captures table."""

    def __init__(self, index: CaptureIndex) -> None:
        self.index = index

    def page_count(self, query: CdxQuery) -> dict[str, int]:
        """``showNumPages``: pywb's answer shape, with a block being one capture."""
        if _processed(query):
            blocks = sum(1 for _ in self.entries(query, paginate=False, limited=False))
        else:
            with self.index.catalogue.session() as session:
                counted = self.index.matching(query.url, query.match_type, since=query.since, until=query.until)
                blocks = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
        return {"pages": math.ceil(blocks / query.page_size), "pageSize": query.page_size, "blocks": blocks}

    def lines(self, query: CdxQuery) -> Iterator[str]:
        """The answer's lines, newline-terminated, in ``query.output`` form."""
        if query.count_pages:
            yield json.dumps(self.page_count(query)) + "\n"
            return
        for entry in self.entries(query):
            yield format_entry(entry, query) + "\n"

    def entries(self, query: CdxQuery, *, paginate: bool = True, limited: bool = True) -> Iterator[Entry]:
        """The captures the query selects, in its order, as CDX fields (before ``fl``)."""
        paging = paginate and query.page is not None
        offset = query.page * query.page_size if paging else 0
        take = (min(query.limit, query.page_size) if paging else query.limit) if limited else None
        if not _processed(query):  # offset and limit in SQL
            yield from self._rows(query, offset, take)
            return
        entries: Iterable[Entry] = self._rows(query, 0, None)
        if query.filters:
            entries = (e for e in entries if all(test(e) for test in query.filters))
        if query.collapse_time:
            entries = _collapsed(entries, lambda e: (e["timestamp"][:query.collapse_time], e.get("status", "")))
        for name, width in query.collapse:
            entries = _collapsed(entries, lambda e, name=name, width=width: e.get(name, "")[:width])
        yield from itertools.islice(entries, offset, None if take is None else offset + take)

    def _rows(self, query: CdxQuery, offset: int, take: int | None) -> Iterator[Entry]:
        statement = self.index.matching(query.url, query.match_type, since=query.since, until=query.until)
        if query.closest is None:
            order = (Capture.urlkey, Capture.timestamp, Capture.id)
            statement = statement.order_by(*(o.desc() for o in order) if query.reverse else order)
            with self.index.catalogue.session() as session:
                rows = session.scalars(statement.offset(offset or None).limit(take).execution_options(yield_per=500))
                yield from (cdx_fields(capture_info(row)) for row in rows)
            return
        yield from itertools.islice(self._closest_first(query, statement), offset, None if take is None else offset + take)

    def _closest_first(self, query: CdxQuery, statement) -> Iterator[Entry]:  # type: ignore[no-untyped-def]
        """Captures nearest ``query.closest`` first, as pywb's ``cdx_sort_closest`` orders them.

        Distance counts whole seconds (14-digit timestamps); captures at the same distance
        keep CDX order (urlkey, time). Two indexed scans outwards from the moment, merged and
        read only as far as the caller takes (a whole group of ties at most beyond).
        """
        moment = query.closest
        assert moment is not None
        edge = moment + timedelta(seconds=1)  # the timestamps14 up to the closest one's are "before"
        before = statement.where(Capture.timestamp < edge).order_by(Capture.timestamp.desc())
        after = statement.where(Capture.timestamp >= edge).order_by(Capture.timestamp)

        def distance(row: Capture) -> int:
            return abs(int((row.timestamp.replace(microsecond=0) - moment).total_seconds()))

        with self.index.catalogue.session() as session:
            scans = [session.scalars(scan.execution_options(yield_per=500)) for scan in (before, after)]
            merged = heapq.merge(*scans, key=distance)
            for _, tied in itertools.groupby(merged, key=distance):
                for row in sorted(tied, key=lambda row: (row.urlkey, row.timestamp, row.id)):
                    yield cdx_fields(capture_info(row))


def _processed(query: CdxQuery) -> bool:
    """Whether rows are dropped after SQL (filters, collapsing), so SQL cannot count or skip them."""
    return bool(query.filters or query.collapse or query.collapse_time)


def _collapsed(entries: Iterable[Entry], key: Callable[[Entry], object]) -> Iterator[Entry]:
    previous: object = object()
    for entry in entries:
        current = key(entry)
        if current != previous:
            previous = current
            yield entry


def format_entry(entry: Entry, query: CdxQuery) -> str:
    """One entry in the query's output form, with only its ``fl`` fields when given (pywb's to_cdxj/json/text)."""
    if query.output == "json":
        return json.dumps({name: entry[name] for name in query.fields or entry if name in entry})
    if query.output == "text":
        return " ".join(entry.get(name, "-") for name in query.fields or entry)
    if query.fields:
        entry = {"urlkey": entry["urlkey"], "timestamp": entry["timestamp"],
                 **{name: entry[name] for name in query.fields if name in entry}}
    return cdxj_text(entry)
