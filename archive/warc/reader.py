"""Reading WARC records back: one by offset (replay, verify), or every capture of a file (index rebuilds)."""

from __future__ import annotations

import hashlib
from base64 import b32encode
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.timeutils import iso_date_to_datetime

from archive.warc.files import (
    finished_name,
)
from archive.warc.records import (
    CaptureInfo,
    StoredRecord,
    WarcFormatError,
    media_type,
    read_all,
    sha1_digest,
)


def read_capture(path: Path, offset: int) -> StoredRecord:
    """Read the record that starts at ``offset`` of a WARC file, with one seek.

    The payload comes back as stored (still content-encoded); every digest the record
    carries is recomputed into ``digest_problems``, the revisit's payload digest excepted
    (it names the original's payload). Raises WarcFormatError when no record starts there.
    """
    with open(path, "rb") as f:
        f.seek(offset)
        stream = DecompressingBufferedReader(f, decomp_type="gzip")
        try:
            return _load_record(stream)
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            raise WarcFormatError(
                f"no readable WARC record at offset {offset} of {path} ({str(exc)[:80]!r}): the file "
                "is damaged there, or the offset is stale; rebuild the index with `newsarchive index`, "
                "then run `warcio check` on the file"
            ) from exc


def parse_record(data: bytes) -> StoredRecord:
    """The record a gzip member holds, from its decompressed bytes: what recovery checks is whole.

    Raises WarcFormatError unless ``data`` is exactly one record: a WARC header, a block of
    its Content-Length and the two CRLFs that end it. Digests are checked as by
    :func:`read_capture`, into ``digest_problems``.
    """
    stream = BytesIO(data)
    try:
        record = _load_record(stream)
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        raise WarcFormatError(f"not a WARC record ({str(exc)[:80]!r})") from exc
    if stream.read() != b"\r\n\r\n":
        raise WarcFormatError("the record does not end where its Content-Length says, with two CRLFs")
    return record


def _load_record(stream: BinaryIO) -> StoredRecord:
    """The record at the start of a decompressed stream, which is left just after its block."""
    loader = ArcWarcRecordLoader(verify_http=False)
    record = loader.parse_record_stream(stream, known_format="warc", no_record_parse=True)
    block = read_all(record.raw_stream)
    headers = record.rec_headers
    problems = []
    declared = int(headers.get_header("Content-Length") or 0)
    if len(block) != declared:
        problems.append(f"record cut short: {len(block)} of {declared} bytes")
    problems += _digest_problems("block", headers.get_header("WARC-Block-Digest"), block)

    block_stream = BytesIO(block)
    http = loader.load_http_headers(
        record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "", block_stream, len(block)
    )
    payload = block[block_stream.tell() :]
    if record.rec_type == "response":
        problems += _digest_problems("payload", headers.get_header("WARC-Payload-Digest"), payload)

    status = reason = None
    if http and record.rec_type in ("response", "revisit"):
        code, _, reason = http.statusline.partition(" ")
        status = int(code)
    return StoredRecord(
        record_type=record.rec_type,
        warc_headers=tuple(headers.headers),
        status=status,
        reason=reason,
        http_headers=tuple(http.headers) if http else (),
        payload=payload,
        digest_problems=tuple(problems),
    )


def iter_captures(path: Path) -> Iterator[CaptureInfo]:
    """Every response and revisit record of a WARC file, with its offset and length.

    Enough to rebuild the capture index from the WARC files alone.
    """
    path = Path(path)
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        for record in records:
            if record.rec_type not in ("response", "revisit") or not record.http_headers:
                continue
            headers = record.rec_headers
            digest = headers.get_header("WARC-Payload-Digest")
            if not digest:  # written by a tool that leaves it out: compute it
                digest = sha1_digest(read_all(record.raw_stream))
            yield CaptureInfo(
                url=headers.get_header("WARC-Target-URI"),
                timestamp=iso_date_to_datetime(headers.get_header("WARC-Date"), tz_aware=True),
                status=int(record.http_headers.get_statuscode()),
                mime=media_type(record.http_headers.get_header("Content-Type")),
                record_type=record.rec_type,
                warc_file=finished_name(path.name),  # capture rows name a file as it is once finished
                offset=records.get_record_offset(),
                length=records.get_record_length(),
                payload_digest=digest,
                refers_to_url=headers.get_header("WARC-Refers-To-Target-URI"),
                refers_to_date=headers.get_header("WARC-Refers-To-Date"),
            )


def _digest_problems(kind: str, declared: str | None, data: bytes) -> list[str]:
    """An empty list when ``declared`` ("algo:BASE32") matches ``data`` or is absent."""
    if not declared:
        return []
    algorithm, _, value = declared.partition(":")
    try:
        computed = b32encode(hashlib.new(algorithm.lower(), data).digest()).decode("ascii")
    except ValueError:
        return [f"{kind} digest {declared}: unknown algorithm {algorithm!r}"]
    if computed != value.upper():
        return [f"{kind} digest mismatch: record says {declared}, content is {algorithm}:{computed}"]
    return []
