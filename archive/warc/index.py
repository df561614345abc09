"""The capture index: which archived exchange answers a URL at a moment, and where its record lies.

The catalogue's ``captures`` table is the index: one row per response or revisit record,
keyed by SURT ``urlkey`` and time, pointing at a WARC file, offset and length, so replay
reads a capture with one seek (:func:`archive.warc.reader.read_capture`). :class:`CaptureIndex`
answers replay's questions (the closest capture, its neighbours, a revisit's original, a
pywb-style CDX query); :func:`index_warcs` rebuilds the table from the WARC files alone,
which are the source of truth, and writes a CDXJ index as cdxj-indexer does, so pywb and
ReplayWeb.page read it as their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, ArticleVersion, Capture
from archive.urls import surt
from archive.warc.reader import iter_captures
from archive.warc.records import CaptureInfo, WarcFormatError
from archive.warc.files import finished_files, finished_name, open_files
from archive.wayback import timestamp14

MATCH_TYPES = ("exact", "prefix", "host", "domain")
NOT_MODIFIED = 304  # a capture without a body: replay shows the one it confirmed instead
CDXJ_FIELDS = ("url", "mime", "status", "digest", "length", "offset", "filename")  # cdxj-indexer's defaults
REVISIT_MIME = "warc/revisit"  # what CDX indexes say a revisit's media type is
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


def capture_info(capture: Capture) -> CaptureInfo:
    """A catalogue row as the record facts the WARC reader gives, for CDX output."""
    return CaptureInfo(
        url=capture.url, timestamp=capture.timestamp.replace(tzinfo=UTC), status=capture.status,
        mime=capture.mime, record_type=capture.record_type, warc_file=capture.warc_file,
        offset=capture.warc_offset, length=capture.warc_length, payload_digest=capture.payload_digest,
        refers_to_url=capture.refers_to_url, refers_to_date=capture.refers_to_date,
    )


def cdx_fields(info: CaptureInfo) -> dict[str, str]:
    """One CDX entry as pywb's CDX server writes it with ``output=json``: all values strings."""
    fields = {"urlkey": surt(info.url), "timestamp": timestamp14(info.timestamp)}
    fields.update(_cdxj_json(info))
    return fields


def cdxj_line(info: CaptureInfo) -> str:
    """One line of a CDXJ index, byte for byte as cdxj-indexer writes it."""
    return f"{surt(info.url)} {timestamp14(info.timestamp)} {json.dumps(_cdxj_json(info))}\n"


def _cdxj_json(info: CaptureInfo) -> dict[str, str]:
    mime = REVISIT_MIME if info.record_type == "revisit" else info.mime
    values = {"url": info.url, "mime": mime, "status": str(info.status), "digest": info.payload_digest,
              "length": str(info.length), "offset": str(info.offset), "filename": info.warc_file}
    return {name: values[name] for name in CDXJ_FIELDS if values[name] is not None}


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
        key = surt(url)
        with self.catalogue.session() as session:
            base = select(Capture).where(Capture.urlkey == key, Capture.status != NOT_MODIFIED)
            before = session.scalars(base.where(Capture.timestamp <= moment)
                                     .order_by(Capture.timestamp.desc(), Capture.id.desc()).limit(2)).all()
            after = session.scalars(base.where(Capture.timestamp > moment)
                                    .order_by(Capture.timestamp, Capture.id).limit(2)).all()
        timeline = [*reversed(before), *after]  # in time order; moment falls between before and after
        if not timeline:
            return None
        earlier_wins = before and (not after or moment - before[0].timestamp <= after[0].timestamp - moment)
        at = len(before) - 1 if earlier_wins else len(before)
        return Closest(timeline[at], timeline[at - 1] if at > 0 else None,
                       timeline[at + 1] if at + 1 < len(timeline) else None)

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
        start, end = search_range(url, match_type)
        with self.catalogue.session() as session:
            key = _urlkey(session)
            statement = select(Capture).where(
                key == start if match_type == "exact" else (key >= start) & (key < end))
            if since is not None:
                statement = statement.where(Capture.timestamp >= since)
            if until is not None:
                statement = statement.where(Capture.timestamp <= until)
            order = (key, Capture.timestamp, Capture.id)
            statement = statement.order_by(*(o.desc() for o in order) if reverse else order).limit(limit)
            yield from session.scalars(statement.execution_options(yield_per=500))

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
            column = _urlkey(session)
            candidates = select(Capture.urlkey, Capture.url, Capture.timestamp).where(Capture.status != NOT_MODIFIED)
            rows = [*session.execute(candidates.where((column < key) & (column >= host_start))
                                     .order_by(column.desc(), Capture.timestamp.desc()).limit(scan)),
                    *session.execute(candidates.where((column > key) & (column < host_end))
                                     .order_by(column, Capture.timestamp.desc()).limit(scan))]
        latest: dict[str, tuple[str, str, datetime]] = {}  # urlkey -> (urlkey, url, latest time)
        for row in rows:
            if row.urlkey not in latest or row.timestamp > latest[row.urlkey][2]:
                latest[row.urlkey] = (row.urlkey, row.url, row.timestamp)
        ordered = sorted(latest.values())
        before = [(other, when) for urlkey, other, when in ordered if urlkey < key][-half:]
        after = [(other, when) for urlkey, other, when in ordered if urlkey > key][:half]
        return before + after


def _urlkey(session: Session) -> ColumnElement[str]:
    """The urlkey column compared byte-wise, as CDX ranges assume (PostgreSQL's locale collations do not)."""
    if session.get_bind().dialect.name == "postgresql":
        return Capture.urlkey.collate("C")
    return Capture.urlkey  # SQLite compares text byte-wise already


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return iso_date_to_datetime(value)  # naive UTC, as the catalogue stores times
    except ValueError:
        return None


# --- rebuilding from the WARC files ----------------------------------------------------
@dataclass
class IndexReport:
    """What :func:`index_warcs` found and changed."""

    files: list[str] = field(default_factory=list)  # WARC files read
    records: int = 0  # response and revisit records in them
    added: int = 0  # rows that were missing from the captures table
    updated: int = 0  # rows whose facts differed from their record
    removed: int = 0  # rows pointing at no record
    stale_kept: int = 0  # rows pointing at no record, kept because articles refer to them
    unfinished: list[str] = field(default_factory=list)  # *.warc.gz.open files, not read


def index_warcs(catalogue: Catalogue, warc_dir: Path, cdxj: TextIO | None = None) -> IndexReport:
    """Make the captures table agree with the WARC files in ``warc_dir``; write CDXJ to ``cdxj``.

    Rows are matched to records by (file, offset): a record without a row is added (no
    crawl run), a row whose URL, time, status or digests differ from its record is
    corrected, and a row pointing at no record is removed — unless an article refers to
    it, then it is kept and counted in ``stale_kept`` (``newsarchive verify`` reports
    those). Files not finished (``*.open``: being written, or left by a crash for
    :mod:`archive.warc.recovery`) are not read, and their rows are left as they are. The CDXJ
    lines are sorted, as pywb needs them.
    """
    warc_dir = Path(warc_dir)
    report = IndexReport()
    if not warc_dir.is_dir():
        raise FileNotFoundError(f"{warc_dir}: no WARC directory; crawl first, or pass --data-dir")
    unfinished = open_files(warc_dir)
    report.unfinished = [p.name for p in unfinished]
    infos: list[CaptureInfo] = []
    for path in finished_files(warc_dir):
        report.files.append(path.name)
        infos.extend(captures_in(path))
    report.records = len(infos)
    with catalogue.session() as session:
        _reconcile(session, infos, report, {finished_name(p.name) for p in unfinished})
    if cdxj is not None:
        cdxj.writelines(sorted(cdxj_line(info) for info in infos))
    return report


def captures_in(path: Path) -> list[CaptureInfo]:
    """Every response and revisit record of a WARC file; WarcFormatError names a file that cannot be read."""
    try:
        return list(iter_captures(path))
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        raise WarcFormatError(
            f"{path} cannot be read to its end ({str(exc)[:80]!r}): check it with `newsarchive verify`, and "
            f"move it out of {path.parent} to index the other files") from exc


def capture_values(info: CaptureInfo) -> dict[str, object]:
    """The columns of a capture row for a record (run, ETag and Last-Modified aside)."""
    return {
        "url": info.url, "urlkey": surt(info.url), "timestamp": info.timestamp.astimezone(UTC).replace(tzinfo=None),
        "status": info.status, "mime": info.mime, "record_type": info.record_type, "warc_file": info.warc_file,
        "warc_offset": info.offset, "warc_length": info.length, "payload_digest": info.payload_digest,
        "refers_to_url": info.refers_to_url, "refers_to_date": info.refers_to_date,
    }


def _reconcile(session: Session, infos: Iterable[CaptureInfo], report: IndexReport, unread: set[str]) -> None:
    """Rows to records by (file, offset); rows of the ``unread`` files are not touched."""
    compared = ("url", "urlkey", "timestamp", "status", "mime", "record_type", "warc_length", "payload_digest",
                "refers_to_url", "refers_to_date")
    rows = {(row.warc_file, row.warc_offset): row
            for row in session.execute(select(Capture.id, *(getattr(Capture, name) for name in compared),
                                              Capture.warc_file, Capture.warc_offset))
            if row.warc_file not in unread}
    additions, corrections = [], []
    for info in infos:
        values = capture_values(info)
        row = rows.pop((info.warc_file, info.offset), None)
        if row is None:
            additions.append(values)
        elif any(getattr(row, name) != values[name] for name in compared):
            corrections.append({"id": row.id, **values})
    if additions:
        session.execute(insert(Capture), additions)
    if corrections:
        session.execute(update(Capture), corrections)
    stale = [row.id for row in rows.values()]
    referenced = set()
    if stale:
        referenced = set(session.scalars(select(Article.capture_id).where(Article.capture_id.in_(stale))))
        referenced |= set(session.scalars(select(ArticleVersion.capture_id)
                                          .where(ArticleVersion.capture_id.in_(stale))))
        removable = [capture_id for capture_id in stale if capture_id not in referenced]
        if removable:
            session.execute(delete(Capture).where(Capture.id.in_(removable)))
    report.added, report.updated = len(additions), len(corrections)
    report.removed, report.stale_kept = len(stale) - len(referenced), len(referenced)
