"""Rebuilding the capture index from the WARC files, which are the source of truth.

:func:`index_warcs` makes the catalogue's ``captures`` table agree with the records in the
finished WARC files (``newsarchive index``), and writes a CDXJ index of them as
cdxj-indexer does (:mod:`archive.warc.cdxj`), so pywb and ReplayWeb.page read it as their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from warcio.exceptions import ArchiveLoadFailed

from archive.catalogue.captures import capture_values
from archive.catalogue.models import Article, ArticleVersion, Capture
from archive.catalogue.not_articles import forget_not_articles_of
from archive.catalogue.store import Catalogue
from archive.warc.cdxj import cdxj_line
from archive.warc.files import finished_files, finished_name, open_files
from archive.warc.reader import iter_captures
from archive.warc.records import CaptureInfo, WarcFormatError


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
            forget_not_articles_of(session, removable)
            session.execute(delete(Capture).where(Capture.id.in_(removable)))
    report.added, report.updated = len(additions), len(corrections)
    report.removed, report.stale_kept = len(stale) - len(referenced), len(referenced)
