"""What a WARC record is to newsarchive: the index row it makes, the record read back, and small shared helpers.

:mod:`archive.warc.writer` writes records, :mod:`archive.warc.reader` reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from warcio.utils import Digester


class WarcFormatError(ValueError):
    """No readable WARC record where one was expected; the message names file and offset."""


@dataclass(frozen=True)
class CaptureInfo:
    """Where one response or revisit landed: a row of the capture index."""

    url: str
    timestamp: datetime  # the WARC-Date of the response/revisit record (UTC, tz-aware)
    status: int
    mime: str | None  # Content-Type media type without parameters, lowercased
    record_type: str  # "response" or "revisit"
    warc_file: str  # basename of the finished file (never ends in ".open")
    offset: int  # byte offset of the response/revisit record in the file
    length: int  # compressed length of that record
    payload_digest: str  # "sha1:BASE32"
    refers_to_url: str | None  # revisits: the URL of the original capture
    refers_to_date: str | None  # revisits: the WARC-Date string of the original capture


@dataclass(frozen=True)
class StoredRecord:
    """One record read back by offset: what replay serves and what verify checks."""

    record_type: str  # WARC-Type: "response", "revisit", "request", "warcinfo", ...
    warc_headers: tuple[tuple[str, str], ...]
    status: int | None  # HTTP status of a response or revisit; None for other records
    reason: str | None
    http_headers: tuple[tuple[str, str], ...]  # as stored, Transfer-Encoding renamed
    payload: bytes  # still content-encoded; empty for a revisit (its payload is the original's)
    digest_problems: tuple[str, ...]  # empty when the record is whole and its digests match

    def warc_header(self, name: str) -> str | None:
        """The first WARC header of that name (case-insensitive), or None."""
        return first_header(self.warc_headers, name)

    def http_header(self, name: str) -> str | None:
        """The first HTTP header of that name (case-insensitive), or None."""
        return first_header(self.http_headers, name)


def sha1_digest(data: bytes) -> str:
    """The WARC digest ("sha1:BASE32") of ``data``, as warcio writes it."""
    digester = Digester("sha1")
    digester.update(data)
    return str(digester)


def media_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type value, without parameters, lowercased."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type or None


def first_header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of a header (case-insensitive), or None."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def read_all(stream: BinaryIO) -> bytes:
    """The rest of a stream, read in chunks."""
    return b"".join(iter(lambda: stream.read(65536), b""))
