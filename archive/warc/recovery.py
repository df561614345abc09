"""Recovery of the WARC files a dead crawl left unfinished, and of what the catalogue lost with it.

A crawl killed with SIGKILL (an operator, the OOM killer, the scheduler past its grace)
leaves its WARC file named ``*.warc.gz.open``: whole records but perhaps the last, since
warcio hands each record to the OS as it ends; capture rows for all of them but those
written in the last instants; and articles archived but not yet catalogued (their
extraction was queued or running). :func:`recover_warcs` makes all of that right, and is
run at the start of every crawl (``crawler.run.run_crawl``) and by ``newsarchive verify
--repair``. For every ``.open`` file that no live writer owns (:mod:`archive.warc.files`):

1. **Cut.** Each gzip member is read back: a whole record decompresses to its end (gzip
   CRC and length) and holds exactly one WARC record whose block has its Content-Length
   and matching digests. The file is truncated after the last whole record and fsynced.
   A whole record *after* a broken one is damage, not an interrupted write: such a file
   is left as it is, for ``newsarchive verify`` to report.
2. **Index.** Records without a capture row get one (the crawl died between writing and
   indexing them); rows pointing past the cut (a power cut can lose a tail the crawl had
   indexed) are removed. An article whose capture is removed is re-pointed at another
   capture of one of its URLs, or else removed from the catalogue, URLs and all, so that
   the next crawl fetches it again.
3. **Catalogue.** Article pages (by the source's own rules, :mod:`archive.article_rule`)
   archived in the file but not catalogued are extracted from their archived response
   and recorded, as the crawl's pipeline would have: never fetched again.
4. **Finish.** Run records that listed the ``.open`` name list the finished one, and the
   file is renamed to it (directory fsynced); a file without one whole record is removed.
   The rename comes last and the file is owned (``flock``) throughout, so a recovery that
   dies midway is done again, whole, by the next one: every step is idempotent.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import brotli
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.article_rule import ArticleRule
from archive.warc.index import CaptureIndex
from archive.catalogue.captures import capture_values
from archive.warc.reindex import captures_in
from archive.catalogue.store import Catalogue
from archive.config import Source
from archive.catalogue.models import Article, ArticleUrl, ArticleVersion, Capture, CrawlRun, SourceRow
from archive.catalogue.not_articles import forget_not_articles_of
from archive.web.rewrite import HTML_TYPES
from archive.urls import fold_variants, normalise_url, surt
from archive.warc.reader import parse_record, read_capture
from archive.warc.records import CaptureInfo, WarcFormatError
from archive.warc.files import (
    OPEN_SUFFIX,
    Ownership,
    WarcName,
    finish,
    finished_name,
    fsync_directory,
    open_files,
    resolve,
)

logger = logging.getLogger("newsarchive.recovery")

READ_CHUNK = 1 << 20  # bytes read at a time; a member is at most a 50 MB response (DOWNLOAD_MAXSIZE)
INFLATE_PIECE = 16 << 10  # bytes given to zlib at a time: what it copies back past a member's end
GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 CM=deflate: how every gzip member starts
RUN_LOOKBACK = 50  # runs of a source searched for the one that wrote a file


@dataclass(frozen=True)
class Scan:
    """What an unfinished file holds: whole records from its start, and where they end."""

    size: int  # bytes on disk
    end: int  # just past the last whole record: where the file is cut
    records: int  # whole records, warcinfo included
    damaged_at: int | None = None  # a broken record with whole ones after it: damage, not a crash

    @property
    def cut(self) -> int:
        """Bytes after the last whole record."""
        return self.size - self.end


@dataclass(frozen=True)
class RecoveredFile:
    name: str  # the finished name
    records: int  # whole records kept
    bytes_cut: int
    removed: bool = False  # no whole record in it: nothing to keep


@dataclass
class RecoveryReport:
    """What :func:`recover_warcs` found and did."""

    files: list[RecoveredFile] = field(default_factory=list)
    being_written: list[str] = field(default_factory=list)  # owned by a live writer: left alone
    damaged: list[str] = field(default_factory=list)  # broken before their end: left for verify
    failed: list[str] = field(default_factory=list)  # "name: error" of files whose recovery failed midway
    captures_added: int = 0  # records that had no capture row
    captures_removed: int = 0  # rows pointing past the cut
    articles_repointed: int = 0  # articles (and versions) moved to another capture of theirs
    articles_catalogued: int = 0  # articles (new ones, versions, copies) catalogued from their archived response
    articles_dropped: list[str] = field(default_factory=list)  # URLs removed from the catalogue: fetched again
    pages_not_extracted: int = 0  # article URLs whose archived page extraction found no article in
    no_rules: list[str] = field(default_factory=list)  # prefixes with no source: their articles not catalogued

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def bytes_cut(self) -> int:
        return sum(f.bytes_cut for f in self.files)

    def lines(self) -> list[str]:
        """What a person wants to read: one line per file and problem, then the totals."""
        out = []
        for f in self.files:
            if f.removed:
                out.append(f"recovered {f.name}: no whole record in it, removed ({f.bytes_cut:,} bytes)")
            else:
                out.append(f"recovered {f.name}: {f.records} records kept, {f.bytes_cut:,} bytes cut")
        out += [f"not recovered {name}: a whole record follows a broken one, which is damage, not an "
                "interrupted write; left as it is (see `newsarchive verify`)" for name in self.damaged]
        out += [f"not recovered {failure}; the file stays .open and the next recovery tries again "
                "(`newsarchive verify --repair`)" for failure in self.failed]
        out += [f"articles of {prefix} not catalogued from the archive: no source of that name in the sources "
                "file; its next crawl fetches them again" for prefix in self.no_rules]
        out.append(f"recovery: {len(self.files)} unfinished WARC files, {self.records} records kept, "
                   f"{self.bytes_cut:,} bytes cut; captures: {self.captures_added} added, "
                   f"{self.captures_removed} removed; articles: {self.articles_repointed} re-pointed, "
                   f"{self.articles_catalogued} catalogued from WARC, {len(self.articles_dropped)} dropped")
        return out


def recover_warcs(catalogue: Catalogue, warc_dir: Path, sources: Iterable[Source] = ()) -> RecoveryReport:
    """Recover every ``.open`` file of ``warc_dir`` that no live writer owns (see the module docstring).

    ``sources`` give the article rules of each file's prefix; articles of a prefix with no
    source are not catalogued from the archive (the report says so). What was done is
    logged (``newsarchive.recovery``, a warning per line of :meth:`RecoveryReport.lines`).
    """
    report = RecoveryReport()
    rules = {source.name: ArticleRule(source) for source in sources}
    for path in open_files(Path(warc_dir)):
        try:
            recover_file(path, report, catalogue, rules)
        except Exception as exc:  # one file must not keep every later crawl from starting
            logger.exception("recovery of %s failed", path.name)
            report.failed.append(f"{path.name}: {type(exc).__name__}: {exc}")
    if report.files or report.damaged or report.failed:
        for line in report.lines():
            logger.warning(line)
    return report


def recover_file(path: Path, report: RecoveryReport, catalogue: Catalogue | None = None,
                 rules: dict[str, ArticleRule] | None = None) -> RecoveredFile | None:
    """Recover one ``.open`` file if nobody owns it; None when it was left alone (owned, or damaged).

    The file is owned while it is recovered, and renamed last: a recovery that dies midway
    is done again, whole, by the next one. Without a catalogue only the file is recovered.
    """
    ownership = Ownership.take(path, wait=False)
    if ownership is None:
        if path.exists():
            report.being_written.append(path.name)
        return None  # else its writer finished it meanwhile
    try:
        scan = scan_warc(path)
        if scan.damaged_at is not None:
            report.damaged.append(path.name)
            return None
        name = finished_name(path.name)
        with open(path, "r+b") as f:
            f.truncate(scan.end)
            os.fsync(f.fileno())
        infos = captures_in(path) if scan.records else []
        if catalogue is not None:
            captures = _index_file(catalogue, path, infos, report)
            prefix = WarcName.parse(name).prefix  # type: ignore[union-attr] - open_files parsed it
            source = source_of_prefix(prefix, rules or ())
            if rules is not None and source is not None:
                _catalogue_articles(catalogue, path.parent, source, rules[source], infos, captures, report)
            elif infos and prefix not in report.no_rules:
                report.no_rules.append(prefix)
            _rename_in_runs(catalogue, name, name if scan.records else None)
        if scan.records:
            finish(path)
            recovered = RecoveredFile(name, scan.records, scan.cut)
        else:
            path.unlink()
            fsync_directory(path.parent)
            recovered = RecoveredFile(name, 0, scan.size, removed=True)
    finally:
        ownership.release()
    report.files.append(recovered)
    return recovered


def scan_warc(path: Path) -> Scan:
    """Read back every gzip member of a file from its start, up to the first that is not a whole record."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        end = records = 0
        for _offset, member_end, content in _members(f, 0):
            if content is None or not _is_whole_record(content):
                break
            end, records = member_end, records + 1
        damaged = end if end < size and _whole_record_after(f, end + 1) else None
    return Scan(size, end, records, damaged)


# --- the file ------------------------------------------------------------------------------
def _members(f: BinaryIO, start: int) -> Iterator[tuple[int, int, bytes | None]]:
    """(offset, end, content) of each gzip member from ``start``, in one sequential read.

    Stops after the first member that is cut short or garbled, given with content None.
    zlib checks each member's CRC and length. Input goes to zlib in small pieces, so what
    it hands back unused past a member's end is small too.
    """
    f.seek(start)
    window, base, at = b"", start, 0  # the bytes read last, where they start, the next to inflate
    while True:
        if at == len(window):
            base, window, at = base + len(window), f.read(READ_CHUNK), 0
            if not window:
                return
        offset, inflater, parts = base + at, zlib.decompressobj(16 + zlib.MAX_WBITS), []
        while not inflater.eof:
            if at == len(window):
                base, window, at = base + len(window), f.read(READ_CHUNK), 0
                if not window:
                    yield offset, offset, None  # cut short
                    return
            piece = memoryview(window)[at:at + INFLATE_PIECE]
            try:
                parts.append(inflater.decompress(piece))
            except zlib.error:
                yield offset, offset, None  # garbled
                return
            at += len(piece) - len(inflater.unused_data)
        yield offset, base + at, b"".join(parts)


def _is_whole_record(data: bytes) -> bool:
    try:
        return not parse_record(data).digest_problems
    except WarcFormatError:
        return False


def _whole_record_after(f: BinaryIO, start: int) -> bool:
    """Whether a whole record starts anywhere after ``start``: then the file is damaged, not cut short."""
    for offset in _magic_offsets(f, start):
        _offset, _end, content = next(_members(f, offset))
        if content is not None and _is_whole_record(content):
            return True
    return False


def _magic_offsets(f: BinaryIO, start: int) -> Iterator[int]:
    """Offsets from ``start`` where a gzip member could begin."""
    position, carry = start, b""
    while True:
        f.seek(position)
        chunk = f.read(READ_CHUNK)
        if not chunk:
            return
        data = carry + chunk
        base = position - len(carry)
        found = data.find(GZIP_MAGIC)
        while found != -1:
            yield base + found
            found = data.find(GZIP_MAGIC, found + 1)
        carry = data[-(len(GZIP_MAGIC) - 1):]
        position += len(chunk)


# --- the catalogue ---------------------------------------------------------------------------
def _index_file(catalogue: Catalogue, path: Path, infos: list[CaptureInfo],
                report: RecoveryReport) -> dict[int, int]:
    """Make the captures of one recovered file agree with its records; capture id by record offset."""
    name = finished_name(path.name)
    with catalogue.session() as session:
        rows = {row.warc_offset: row for row in session.execute(
            select(Capture.id, Capture.warc_offset, Capture.payload_digest).where(Capture.warc_file == name))}
        offsets = {info.offset for info in infos}
        missing = [info for info in infos if info.offset not in rows]
        run_id = _run_that_wrote(session, name) if missing else None
        for info in missing:
            stored = read_capture(path, info.offset)
            session.add(Capture(run_id=run_id, etag=stored.http_header("ETag"),
                                last_modified=stored.http_header("Last-Modified"), **capture_values(info)))
        gone = {row.id: row.payload_digest for offset, row in rows.items() if offset not in offsets}
        if gone:
            _repoint_articles(session, gone, report)
            forget_not_articles_of(session, gone)
            session.execute(delete(Capture).where(Capture.id.in_(gone)))
        session.flush()
        captures = {offset: capture_id for capture_id, offset in session.execute(
            select(Capture.id, Capture.warc_offset).where(Capture.warc_file == name))}
    report.captures_added += len(missing)
    report.captures_removed += len(gone)
    return captures


def source_of_prefix(prefix: str, names: Iterable[str]) -> str | None:
    """The source whose file a WARC prefix names: the source's name, or the name, host and pid of a
    frontier worker (``crawler.context.warc_prefix``): the longest name that fits."""
    fits = [name for name in names if prefix == name or prefix.startswith(name + "-")]
    return max(fits, key=len, default=None)


def _run_that_wrote(session: Session, name: str) -> int | None:
    """The crawl run a file is from: the one that listed it, else its source's last run begun before it."""
    parsed = WarcName.parse(name)
    if parsed is None:
        return None
    source = source_of_prefix(parsed.prefix, session.scalars(select(SourceRow.name)))
    runs = session.execute(
        select(CrawlRun.id, CrawlRun.warc_files).join(SourceRow, SourceRow.id == CrawlRun.source_id)
        .where(SourceRow.name == source,
               CrawlRun.started <= parsed.opened.replace(tzinfo=None) + timedelta(seconds=1))
        .order_by(CrawlRun.started.desc(), CrawlRun.id.desc()).limit(RUN_LOOKBACK)
    ).all()
    listed = next((run.id for run in runs if {name, parsed.open} & set(run.warc_files or [])), None)
    return listed or (runs[0].id if runs else None)


def _rename_in_runs(catalogue: Catalogue, name: str, new_name: str | None) -> None:
    """Runs that list a file by its ``.open`` name list it as it is now (or not at all: removed)."""
    open_name = name + OPEN_SUFFIX
    with catalogue.session() as session:
        run_id = _run_that_wrote(session, name)
        if run_id is None:
            return
        files = session.scalar(select(CrawlRun.warc_files).where(CrawlRun.id == run_id)) or []
        if open_name in files:
            renamed = [new_name if f == open_name else f for f in files]
            session.execute(update(CrawlRun).where(CrawlRun.id == run_id)
                            .values(warc_files=[f for f in renamed if f is not None]))


def _repoint_articles(session: Session, gone: dict[int, str], report: RecoveryReport) -> None:
    """Articles and versions whose capture is going: to another capture of the article, or out."""
    for article in session.scalars(select(Article).where(Article.capture_id.in_(gone))).all():
        other = _other_capture(session, article.id, article.url, gone, gone[article.capture_id])
        if other is not None:
            article.capture_id = other
            report.articles_repointed += 1
        else:
            report.articles_dropped.append(article.url)
            _drop_article(session, article)
    for version in session.scalars(select(ArticleVersion).where(ArticleVersion.capture_id.in_(gone))).all():
        article_url = session.scalar(select(Article.url).where(Article.id == version.article_id)) or ""
        version.capture_id = _other_capture(session, version.article_id, article_url, gone,
                                            gone[version.capture_id])


def _other_capture(session: Session, article_id: int, url: str, gone: dict[int, str], digest: str) -> int | None:
    """A 200 capture of one of the article's URLs that stays: the same payload first, else the latest."""
    urls = {url, *session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == article_id))}
    candidates = session.execute(
        select(Capture.id, Capture.payload_digest).where(
            Capture.urlkey.in_({surt(u) for u in urls}), Capture.status == 200, Capture.id.not_in(gone))
        .order_by(Capture.timestamp.desc(), Capture.id.desc())
    ).all()
    same = next((row.id for row in candidates if row.payload_digest == digest), None)
    return same or (candidates[0].id if candidates else None)


def _drop_article(session: Session, article: Article) -> None:
    """Remove an article that nothing archived backs; its copies stop naming it as their original."""
    session.execute(update(Article).where(Article.duplicate_of == article.id)
                    .values(duplicate_of=None, duplicate_kind=None))
    session.execute(delete(ArticleVersion).where(ArticleVersion.article_id == article.id))
    session.execute(delete(ArticleUrl).where(ArticleUrl.article_id == article.id))
    session.delete(article)


def _catalogue_articles(catalogue: Catalogue, warc_dir: Path, source: str, rule: ArticleRule,
                        infos: list[CaptureInfo], captures: dict[int, int], report: RecoveryReport) -> None:
    """Catalogue the article pages of a recovered file that the dead crawl archived but never catalogued."""
    from archive.extract.article import extract_article  # here, not on top: trafilatura is slow to import, every crawl

    known = catalogue.known_article_urls(source)
    name = infos[0].warc_file if infos else ""
    with catalogue.session() as session:
        catalogued = set(session.scalars(select(ArticleVersion.capture_id)
                                         .join(Capture, Capture.id == ArticleVersion.capture_id)
                                         .where(Capture.warc_file == name)))
    index = CaptureIndex(catalogue)
    for info in infos:
        capture_id = captures.get(info.offset)
        page = normalise_url(info.url)
        if (info.status != 200 or (info.mime or "text/html") not in HTML_TYPES or capture_id in catalogued
                or not rule.is_article_page(info.url) or {page, fold_variants(page)} & known):
            continue
        body, content_type = _archived_page(index, warc_dir, capture_id)
        extracted = extract_article(body, info.url, content_type) if body is not None else None
        if extracted is None or not extracted.text:
            report.pages_not_extracted += 1
            continue
        outcome = catalogue.record_article(source, info.url, extracted, capture_id=capture_id, seen=info.timestamp,
                                         home_hosts=rule.hosts)
        known |= {page, fold_variants(page)}
        if outcome.status != "unchanged":  # not another URL of an article catalogued already
            report.articles_catalogued += 1


def _archived_page(index: CaptureIndex, warc_dir: Path, capture_id: int | None) -> tuple[bytes | None, str | None]:
    """The body of a capture as the crawl's pipeline saw it (a revisit's from its original), decoded."""
    from archive.web.replay import decode_content  # here, not on top: the replay app's imports, every crawl

    with index.catalogue.session() as session:
        capture = session.get(Capture, capture_id)
    if capture is None:
        return None, None
    path = resolve(warc_dir, capture.warc_file)
    if path is None:
        return None, None
    record = read_capture(path, capture.warc_offset)
    payload = record.payload
    if capture.record_type == "revisit":
        original = index.original(capture)
        original_path = resolve(warc_dir, original.warc_file) if original else None
        if original is None or original_path is None:
            return None, None
        payload = read_capture(original_path, original.warc_offset).payload
    try:
        body = decode_content(payload, record.http_header("Content-Encoding"))
    except (OSError, EOFError, ValueError, zlib.error, brotli.error):  # a body its server garbled
        return None, None
    return body, record.http_header("Content-Type")
