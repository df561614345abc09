"""The capture index: which archived exchange answers a URL at a moment, and where its record lies.

The catalogue's ``captures`` table is the index: one row per response or revisit record,
keyed by SURT ``urlkey`` and time, pointing at a WARC file, offset and length, so replay
reads a capture with one seek (:func:`archive.warc.reader.read_capture`). :class:`CaptureIndex`
answers replay's questions (the closest capture, its neighbours, a revisit's original, the
captures a CDX ``matchType`` selects). The table is rebuilt from the WARC files by
:mod:`archive.warc.reindex`, written out as CDXJ by :mod:`archive.warc.cdxj` and queried
with pywb's whole CDX server API by :mod:`archive.warc.cdx_server`.

Every match type is a range of urlkeys, which the ``(urlkey, timestamp)`` index answers
on both databases: ``urlkey`` compares byte-wise, as CDX ranges assume (SQLite's default;
on PostgreSQL the column has the "C" collation, migration 0006).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from warcio.timeutils import iso_date_to_datetime

from archive.catalogue.models import Capture
from archive.catalogue.store import Catalogue
from archive.urls import surt, without_tracking

MATCH_TYPES = ("exact", "prefix", "host", "domain")
NOT_MODIFIED = 304  # a capture without a body: replay shows the one it confirmed instead
FUZZY_CANDIDATES = 200  # URLs of one path with other queries read to find one that differs by trackers
NEARBY_SCAN = 20  # captures read per URL a "not archived" page wants: a URL crawled often repeats


class CaptureQueryError(ValueError):
    """A CDX query that cannot be answered; the message names the parameter at fault."""


def search_range(url: str, match_type: str) -> tuple[str, str]:
    """The urlkey range [start, end) a CDX query covers, as pywb's ``calc_search_range`` computes it."""
    key = surt(url)
    if match_type == "exact":
        return key, key + "!"
    if match_type == "prefix":
        for mark in ("/", "?"):  # http://example.com/path/ covers /path/..., not /pathology
            if url.endswith(mark) and not key.endswith(mark):
                key += mark
        return key, key[:-1] + chr(ord(key[-1]) + 1)
    host = key.split(")/", 1)[0]
    if match_type == "host":
        return host + ")/", host + "*"
    if match_type == "domain":  # the host and its subdomains: com,example) and com,example,www)
        return (host + "," if "," not in host else host + ")/"), host + "-"
    raise CaptureQueryError(f"matchType {match_type!r} is not one of {', '.join(MATCH_TYPES)}")


@dataclass(frozen=True)
class Closest:
    """The capture that answers a URL at a moment, and the replayable captures just before and after it."""

    capture: Capture
    previous: Capture | None
    following: Capture | None


class CaptureIndex:
    """Replay's questions to the captures table; every lookup is an indexed query, never a WARC scan."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def closest(self, url: str, moment: datetime) -> Closest | None:
        """The replayable capture of ``url`` nearest to ``moment`` (the earlier one on a tie), with its neighbours.

        URLs are compared by SURT key, as pywb does (scheme, ``www.``, query order and case
        of the host do not matter). 304 captures are skipped: they confirm an earlier body
        and carry none. Two indexed queries, the two captures on each side of ``moment``,
        give the capture and the previous and next ones the banner links to.
        """
        with self.catalogue.session() as session:
            key = surt(url)
            before, after = self._around(session, key, moment)
            if not (before or after) and (fuzzy := self._fuzzy_urlkey(session, url, key)) is not None:
                before, after = self._around(session, fuzzy, moment)
        timeline = [*reversed(before), *after]  # in time order; moment falls between before and after
        if not timeline:
            return None
        earlier_wins = before and (not after or moment - before[0].timestamp <= after[0].timestamp - moment)
        at = len(before) - 1 if earlier_wins else len(before)
        return Closest(timeline[at], timeline[at - 1] if at > 0 else None,
                       timeline[at + 1] if at + 1 < len(timeline) else None)

    @staticmethod
    def _around(session: Session, key: str, moment: datetime) -> tuple[Sequence[Capture], Sequence[Capture]]:
        """The two replayable captures of ``key`` at or before ``moment``, newest first, and the two after."""
        base = select(Capture).where(Capture.urlkey == key, Capture.status != NOT_MODIFIED)
        before = session.scalars(base.where(Capture.timestamp <= moment)
                                 .order_by(Capture.timestamp.desc(), Capture.id.desc()).limit(2)).all()
        after = session.scalars(base.where(Capture.timestamp > moment)
                                .order_by(Capture.timestamp, Capture.id).limit(2)).all()
        return before, after

    @staticmethod
    def _fuzzy_urlkey(session: Session, url: str, key: str) -> str | None:
        """For a URL with no capture under its own ``key``: one that differs by tracking parameters only.

        pywb's fuzzy matching, for trackers: a URL asked for with ``?utm_source=...`` finds the
        capture of the clean URL, and the clean URL finds a capture archived with trackers (one
        indexed range read of the keys that share its path). Asked only on a miss, so replay of
        an archived URL costs no extra query.
        """
        if session.scalar(select(Capture.id).where(Capture.urlkey == key).limit(1)) is not None:
            return None  # captured, only not replayable (304s): as without fuzzy matching
        clean = without_tracking(url)
        clean_key = surt(clean)
        if clean_key != key and session.scalar(select(Capture.id).where(Capture.urlkey == clean_key).limit(1)):
            return clean_key
        start, end = search_range(urlsplit(clean)._replace(query="", fragment="").geturl() + "?", "prefix")
        for other_key, other_url in session.execute(
                select(Capture.urlkey, Capture.url).where(Capture.urlkey >= start, Capture.urlkey < end)
                .distinct().limit(FUZZY_CANDIDATES)):
            if surt(without_tracking(other_url)) == clean_key:
                return other_key
        return None

    def original(self, revisit: Capture) -> Capture | None:
        """The response capture whose payload a revisit record stands for.

        Found by payload digest, preferring the record the revisit names
        (WARC-Refers-To-Target-URI and -Date), then the same URL, then any URL: a crawl
        dedups across URLs too.
        """
        with self.catalogue.session() as session:
            candidates = session.scalars(
                select(Capture).where(Capture.payload_digest == revisit.payload_digest,
                                      Capture.record_type == "response")
                .order_by(Capture.id)
            ).all()
        if not candidates:
            return None
        url = revisit.refers_to_url or revisit.url
        when = _warc_date(revisit.refers_to_date)
        return (next((c for c in candidates if c.url == url and c.timestamp == when), None)
                or next((c for c in candidates if c.url == url), None)
                or candidates[0])

    def query(self, url: str, match_type: str = "exact", *, since: datetime | None = None,
              until: datetime | None = None, limit: int | None = None, reverse: bool = False) -> Iterator[Capture]:
        """Captures in CDX order (urlkey, then time), as pywb's CDX server's ``matchType`` selects them.

        A generator holding a session: consume it, or close it.
        """
        order = (Capture.urlkey, Capture.timestamp, Capture.id)
        statement = self.matching(url, match_type, since=since, until=until)
        statement = statement.order_by(*(o.desc() for o in order) if reverse else order).limit(limit)
        with self.catalogue.session() as session:
            yield from session.scalars(statement.execution_options(yield_per=500))

    @staticmethod
    def matching(url: str, match_type: str, *, since: datetime | None = None,
                 until: datetime | None = None) -> Select[tuple[Capture]]:
        """The captures of a ``matchType`` query between two moments, unordered: one urlkey range."""
        start, end = search_range(url, match_type)
        statement = select(Capture).where(
            Capture.urlkey == start if match_type == "exact" else (Capture.urlkey >= start) & (Capture.urlkey < end))
        if since is not None:
            statement = statement.where(Capture.timestamp >= since)
        if until is not None:
            statement = statement.where(Capture.timestamp <= until)
        return statement

    def nearby(self, url: str, limit: int = 10) -> list[tuple[str, datetime]]:
        """URLs of the same host nearest to ``url`` in SURT order, each with its latest capture time.

        What a "not archived" page offers instead: the neighbours of a missing page are its
        siblings and parents.
        """
        key = surt(url)
        host_start, host_end = search_range(url, "host")
        half = max(limit // 2, 1)
        scan = half * NEARBY_SCAN
        with self.catalogue.session() as session:
            candidates = select(Capture.urlkey, Capture.url, Capture.timestamp).where(Capture.status != NOT_MODIFIED)
            rows = [*session.execute(candidates.where((Capture.urlkey < key) & (Capture.urlkey >= host_start))
                                     .order_by(Capture.urlkey.desc(), Capture.timestamp.desc()).limit(scan)),
                    *session.execute(candidates.where((Capture.urlkey > key) & (Capture.urlkey < host_end))
                                     .order_by(Capture.urlkey, Capture.timestamp.desc()).limit(scan))]
        latest: dict[str, tuple[str, str, datetime]] = {}  # urlkey -> (urlkey, url, latest time)
        for row in rows:
            if row.urlkey not in latest or row.timestamp > latest[row.urlkey][2]:
                latest[row.urlkey] = (row.urlkey, row.url, row.timestamp)
        ordered = sorted(latest.values())
        before = [(other, when) for urlkey, other, when in ordered if urlkey < key][-half:]
        after = [(other, when) for urlkey, other, when in ordered if urlkey > key][:half]
        return before + after


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return iso_date_to_datetime(value)  # naive UTC, as the catalogue stores times
    except ValueError:
        return None

