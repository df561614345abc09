"""`newsarchive verify`: is the archive whole? Every WARC record's digests, every catalogue pointer.

Two independent checks, because they fail differently: a WARC file can be damaged on
disk (bit rot, a truncated copy), and a catalogue row can point at a record that is not
there (a file moved, an index built from other files).

A file a dead crawl left unfinished (``*.warc.gz.open`` that no live writer owns, see
:mod:`archive.warc.files`) is not damage: it is listed with what recovery would keep and
cut, and so are the capture rows pointing past its last whole record; ``newsarchive
verify --repair`` recovers it (:func:`archive.warc.recovery.recover_warcs`) before checking.
A file a live crawl is writing is listed too, and the captures in it are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.catalogue.store import Catalogue
from archive.catalogue.models import Capture
from archive.warc.recovery import scan_warc
from archive.warc.reader import read_capture
from archive.warc.records import WarcFormatError
from archive.warc.files import WARC_SUFFIX, WarcState, finished_files, finished_name, open_files, resolve, state


@dataclass(frozen=True)
class Unfinished:
    """A ``.open`` file no live writer owns, as recovery would find it."""

    name: str
    records: int  # whole records recovery keeps
    end: int  # where they end: recovery cuts the file there
    bytes_cut: int  # bytes after them
    damaged: bool = False  # a whole record after a broken one: recovery leaves it alone

    def describe(self) -> str:
        return f"{self.records} whole records, {self.bytes_cut:,} bytes after them to cut"


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    problems: list[str] = field(default_factory=list)  # damage: exit 1
    unfinished: list[Unfinished] = field(default_factory=list)  # left by a crash: `verify --repair`
    being_written: list[str] = field(default_factory=list)  # owned by a live writer
    captures_past_cut: int = 0  # rows into unfinished files, past their last whole record: --repair drops them

    @property
    def ok(self) -> bool:
        return not self.problems


def _record_offsets(path: Path) -> Iterator[int]:
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        for _record in records:
            yield records.get_record_offset()


def verify_warcs(warc_dir: Path, report: VerifyReport, progress: Callable[[str], None] | None = None) -> None:
    """Recompute the block and payload digests of every record of every finished WARC file.

    ``.open`` files are sorted out: being written (not read), or unfinished (scanned as
    recovery would; damaged when a whole record follows a broken one).
    """
    for path in open_files(warc_dir):
        if state(path) is WarcState.OPEN:
            report.being_written.append(path.name)
            continue
        scan = scan_warc(path)
        report.unfinished.append(Unfinished(path.name, scan.records, scan.end, scan.cut, scan.damaged_at is not None))
        if scan.damaged_at is not None:
            report.problems.append(f"{path.name}@{scan.damaged_at}: unreadable record followed by whole ones: "
                                   "damaged, not merely cut short by a crash; `verify --repair` leaves it alone")
    for path in finished_files(warc_dir):
        if not path.name.endswith(WARC_SUFFIX):
            continue  # another tool's uncompressed file: not ours to check record by record
        report.files += 1
        if progress:
            progress(path.name)
        try:
            for offset in _record_offsets(path):
                report.records += 1
                record = read_capture(path, offset)
                report.problems += [f"{path.name}@{offset}: {problem}" for problem in record.digest_problems]
        except (ArchiveLoadFailed, WarcFormatError, OSError, EOFError) as exc:
            report.problems.append(f"{path.name}: unreadable after {report.records} records: {exc}")


def verify_captures(catalogue: Catalogue, warc_dir: Path, report: VerifyReport) -> None:
    """Each capture row must point at a record of its URL and type, whose digests match.

    A row into an unfinished file past its last whole record is counted, not damage:
    recovery re-points or drops what it backed.
    """
    cuts = {finished_name(u.name): u.end for u in report.unfinished if not u.damaged}
    with catalogue.session() as session:
        captures = session.execute(
            select(Capture.id, Capture.url, Capture.record_type, Capture.warc_file, Capture.warc_offset)
            .order_by(Capture.warc_file, Capture.warc_offset)
        ).all()
    for capture_id, url, record_type, warc_file, offset in captures:
        report.captures += 1
        where = f"capture {capture_id} ({warc_file}@{offset})"
        try:
            path = resolve(warc_dir, warc_file)
        except ValueError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if path is None:
            report.problems.append(f"{where}: WARC file missing from {warc_dir}")
            continue
        if warc_file in cuts and offset >= cuts[warc_file]:
            report.captures_past_cut += 1
            continue
        try:
            record = read_capture(path, offset)
        except WarcFormatError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if record.warc_header("WARC-Target-URI") != url or record.record_type != record_type:
            report.problems.append(
                f"{where}: points at a {record.record_type} of {record.warc_header('WARC-Target-URI')}, "
                f"not a {record_type} of {url}: rebuild the index with `newsarchive index`"
            )
        report.problems += [f"{where}: {problem}" for problem in record.digest_problems]


def verify_archive(catalogue: Catalogue, warc_dir: Path,
                   progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Both checks; the report lists every problem found."""
    report = VerifyReport()
    if warc_dir.is_dir():
        verify_warcs(warc_dir, report, progress)
    verify_captures(catalogue, warc_dir, report)
    return report
