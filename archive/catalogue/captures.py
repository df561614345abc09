"""Captures: the index of archived exchanges, and what revisits and conditional GETs need of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from warcio.timeutils import datetime_to_iso_date

from archive.catalogue.database import CatalogueDatabase, naive_utc
from archive.catalogue.models import Capture
from archive.urls import surt
from archive.warc.records import CaptureInfo


@dataclass(frozen=True)
class Validators:
    """What a conditional GET of a URL sends, and where the body it would get again is archived."""

    etag: str | None
    last_modified: str | None
    warc_file: str  # the response record holding the payload (a revisit's original)
    warc_offset: int


class CaptureLog(CatalogueDatabase):
    """The ``captures`` table: one row per response or revisit record, pointing into its WARC file."""

    def add_capture(self, run_id: int | None, info: CaptureInfo, *, etag: str | None = None,
                    last_modified: str | None = None) -> int:
        """Index one archived exchange (its response or revisit record), in a transaction of its own."""
        with self.session() as session:
            return add_captures(session, [capture_row(run_id, info, etag=etag, last_modified=last_modified)])[0]

    def revisit_target(self, payload_digest: str) -> tuple[str, str] | None:
        """(url, WARC-Date) of the first 200 response record with this payload, from any crawl.

        Only a 200: a revisit stands for an original response's payload, not for a 404 page or
        a redirect's body that happened to be the same. The date is written as the writer
        writes WARC-Date (warcio's form: microseconds only when there are some), so a
        revisit's WARC-Refers-To-Date is its original's WARC-Date character for character.
        """
        with self.session() as session:
            row = session.execute(
                select(Capture.url, Capture.timestamp)
                .where(Capture.payload_digest == payload_digest, Capture.record_type == "response",
                       Capture.status == 200)
                .order_by(Capture.id).limit(1)
            ).first()
        if row is None:
            return None
        return row.url, datetime_to_iso_date(row.timestamp, use_micros=True)

    def revisit_index(self) -> RevisitIndex:
        """What :meth:`revisit_target` answers, with the payloads archived so far held in memory."""
        with self.session() as session:
            digests = session.scalars(
                select(Capture.payload_digest).where(Capture.record_type == "response", Capture.status == 200)
                .execution_options(yield_per=10_000)
            )
            return RevisitIndex(self, {hash(digest) for digest in digests})

    def latest_validators(self, url: str) -> Validators | None:
        """ETag / Last-Modified of the latest 200 capture of ``url``, with where its body lies.

        None when there is none, or the server sent neither validator.
        """
        with self.session() as session:
            latest = session.scalar(
                select(Capture).where(Capture.urlkey == surt(url), Capture.url == url, Capture.status == 200)
                .order_by(Capture.timestamp.desc(), Capture.id.desc()).limit(1)
            )
            if latest is None or not (latest.etag or latest.last_modified):
                return None
            holder = latest if latest.record_type == "response" else session.scalar(
                select(Capture).where(Capture.payload_digest == latest.payload_digest,
                                      Capture.record_type == "response")
                .order_by(Capture.id).limit(1)
            )
            if holder is None:
                return None
            return Validators(latest.etag, latest.last_modified, holder.warc_file, holder.warc_offset)


class RevisitIndex:
    """The revisit lookup a crawl's WARC writer makes for every 200 response, mostly in memory.

    Most payloads are new: their lookup is a set membership test instead of a query. The
    set holds the hashes of the payload digests of the 200 responses archived before the
    crawl began (a few tens of bytes each: about 60 MB for a million captures); a hit, or a
    hash that collides, is answered by the catalogue. Payloads this crawl archives are the
    writer's own to remember; those another worker archives meanwhile are not seen, and
    are written in full once more (correct, only not as small as a revisit).
    """

    def __init__(self, captures: CaptureLog, digests: set[int]) -> None:
        self.captures = captures
        self.digests = digests

    def __call__(self, payload_digest: str) -> tuple[str, str] | None:
        if hash(payload_digest) not in self.digests:
            return None
        return self.captures.revisit_target(payload_digest)


def capture_values(info: CaptureInfo) -> dict[str, object]:
    """The columns of a capture row for a record (run, ETag and Last-Modified aside): the crawl's,
    recovery's and ``index``'s rows alike."""
    return dict(
        url=info.url, urlkey=surt(info.url), timestamp=naive_utc(info.timestamp),
        status=info.status, mime=info.mime, record_type=info.record_type,
        warc_file=info.warc_file, warc_offset=info.offset, warc_length=info.length,
        payload_digest=info.payload_digest, refers_to_url=info.refers_to_url,
        refers_to_date=info.refers_to_date,
    )


def capture_row(run_id: int | None, info: CaptureInfo, *, etag: str | None = None,
                last_modified: str | None = None) -> dict[str, object]:
    """The ``captures`` row of an exchange a crawl archived."""
    return dict(run_id=run_id, etag=etag, last_modified=last_modified, **capture_values(info))


def add_captures(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert capture rows in one statement (Core, not ORM objects: the crawl writes one per
    response, and the unit of work's bookkeeping cost more than the insert); their ids, in order."""
    statement = insert(Capture).returning(Capture.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))
