"""`newsarchive verify`: is the archive whole? Every WARC record's digests, every catalogue pointer.

Two independent checks, because they fail differently: a WARC file can be damaged on
disk (bit rot, a truncated copy), and a catalogue row can point at a record that is not
there (a file moved, an index built from other files).
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
from archive.warc.records import OPEN_SUFFIX, WARC_SUFFIX, WarcFormatError, read_capture


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    problems: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # *.warc.gz.open left by a crash

    @property
    def ok(self) -> bool:
        return not self.problems


def _record_offsets(path: Path) -> Iterator[int]:
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        for _record in records:
            yield records.get_record_offset()


def verify_warcs(warc_dir: Path, report: VerifyReport, progress: Callable[[str], None] | None = None) -> None:
    """Recompute the block and payload digests of every record of every finished WARC file."""
    report.unfinished = sorted(p.name for p in warc_dir.glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}"))
    for path in sorted(warc_dir.glob(f"*{WARC_SUFFIX}")):
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
    """Each capture row must point at a record of its URL and type, whose digests match."""
    with catalogue.session() as session:
        captures = session.execute(
            select(Capture.id, Capture.url, Capture.record_type, Capture.warc_file, Capture.warc_offset)
            .order_by(Capture.warc_file, Capture.warc_offset)
        ).all()
    for capture_id, url, record_type, warc_file, offset in captures:
        report.captures += 1
        where = f"capture {capture_id} ({warc_file}@{offset})"
        path = warc_dir / warc_file
        if not path.exists():
            report.problems.append(f"{where}: WARC file missing from {warc_dir}")
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
