"""Rotating WARC writer and record reader: how newsarchive keeps what it fetched.

Every HTTP exchange of a crawl is written here as WARC/1.1 records, one gzip member per
record so that any record can be read back with one seek from its offset. Replay and
``newsarchive verify`` read records with :func:`read_capture`; ``newsarchive index``
rebuilds the capture index from the files alone with :func:`iter_captures`.

warcio serialises, digests and parses; this module decides what goes into the records
(DESIGN.md, "WARC rules"); :mod:`archive.warc.files` names the files and tells their state:

- Files are named ``<prefix>-<YYYYMMDDHHMMSS>-<serial:05d>.warc.gz`` (UTC time the file was
  opened), written as ``<name>.open`` and renamed once finished (fsynced, then the
  directory) on :meth:`WarcWriter.close` or when the file reaches ``max_size`` bytes.
- While it writes a file the writer owns it (an exclusive ``flock``, see
  :mod:`archive.warc.files`), so a file still named ``*.warc.gz.open`` that nobody owns was
  left by a crash or a kill. Every record in it is whole but perhaps the last, because
  warcio hands each record to the OS as it ends (a kill loses nothing the OS has; a power
  cut may lose the tail). :func:`archive.warc.recovery.recover_warcs`, run at the start of every
  crawl and by ``newsarchive verify --repair``, cuts such a file after its last whole
  record, renames it to its finished name and indexes it.
- A write that fails midway (disk full, file size limit, an interrupt) cuts the file back
  to its last whole exchange and finishes it; the next exchange starts a new file. The
  OSError raised names the file (``filename``), as open(2) errors do.

This module knows nothing of Scrapy: the crawler adapts its requests and responses to
:meth:`WarcWriter.write_exchange`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archive.warc.files import (
    OPEN_SUFFIX,
    Ownership,
    WarcName,
    finish,
)
from archive.warc.records import CaptureInfo, first_header, media_type, sha1_digest

# gzip levels of the records, measured in CPU time on the 243 dev pages: HTML at level 6
# (zlib's default) is 35 MB/s for 0.201 of its size, at 9 (warcio's) 23 MB/s for 0.200, at
# 1 85 MB/s for 0.239. A payload already compressed (gzip-encoded pages, the way sites send
# them; images, fonts, archives) takes as long at any level from 1 to 9 (33 MB/s) and does
# not shrink: it is stored (level 0, 940 MB/s, 0.08 % larger). Still one member per record.
COMPRESS_LEVEL = 6
STORED_LEVEL = 0
COMPRESSED_MEDIA = ("image/", "video/", "audio/", "font/", "application/font-woff", "application/zip",
                    "application/gzip", "application/x-gzip", "application/zstd", "application/x-xz",
                    "application/x-bzip2", "application/pdf")

WARC_VERSION = "WARC/1.1"
WARC_FORMAT = "WARC File Format 1.1"
WARC_SPEC = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
ORIG_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"

# WARC-Protocol (IIPC warc-specifications proposal #42, as Heritrix writes it) names the
# protocol on the wire by its ALPN id, for every exchange: the crawler always knows it.
# HTTP/2 and HTTP/3 carry HTTP/1.1 semantics, but WARC readers (warcio, pywb) parse only
# HTTP/1.x status lines, so such exchanges are stored in HTTP/1.1 form. (The TLS version
# would be a second WARC-Protocol; Scrapy's responses do not expose it.)
_HTTP_VERSIONS: dict[str, tuple[str, str]] = {
    "HTTP/1.0": ("HTTP/1.0", "http/1.0"),
    "HTTP/1.1": ("HTTP/1.1", "http/1.1"),
    "HTTP/2": ("HTTP/1.1", "h2"),
    "HTTP/2.0": ("HTTP/1.1", "h2"),
    "H2": ("HTTP/1.1", "h2"),
    "HTTP/3": ("HTTP/1.1", "h3"),
    "H3": ("HTTP/1.1", "h3"),
}


class WarcWriter:
    """Writes HTTP exchanges into rotating, gzip-per-record WARC/1.1 files in one directory.

    Not thread-safe, by design: it is called from one thread (Scrapy's Twisted reactor),
    which keeps records in order without locks. Files are opened lazily, so a writer that
    archived nothing leaves no file.
    """

    def __init__(
        self,
        directory: Path,
        prefix: str,
        max_size: int = 1_000_000_000,
        software: str = "newsarchive",
        operator: str | None = None,
        revisit_lookup: Callable[[str], tuple[str, str] | None] | None = None,
    ) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be a positive number of bytes, got {max_size}")
        WarcName.make(prefix, datetime.now(UTC), 0)  # a prefix that cannot make a file name fails here
        self._directory = Path(directory)
        self._prefix = prefix
        self._max_size = max_size
        self._software = software
        self._operator = operator
        self._revisit_lookup = revisit_lookup
        self._hostname = socket.gethostname()
        self._serial = 0
        self._files: list[str] = []
        # Payloads written as responses by this writer: digest -> (URL, WARC-Date).
        self._originals: dict[str, tuple[str, str]] = {}
        self._out: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""  # finished name of the file being written
        self._ownership: Ownership | None = None  # the flock that says a live writer has the file
        self._warcinfo_id = ""

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def files(self) -> list[str]:
        """Basenames (finished names) of every file this writer started, oldest first."""
        return list(self._files)

    def write_exchange(
        self,
        *,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        protocol: str,
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        payload: bytes,
        ip: str | None = None,
        date: datetime | None = None,
        truncated: str | None = None,
    ) -> CaptureInfo:
        """Archive one exchange as a response (or revisit) record and its request record.

        ``payload`` is the body as the server sent it, still content-encoded but de-chunked;
        ``protocol`` is "HTTP/1.0", "HTTP/1.1", "h2" or "h3", named by a WARC-Protocol header
        (the last two are stored in HTTP/1.1 form);
        ``reason`` may be empty, then the standard phrase for ``status`` is stored, because
        replay servers need one and HTTP clients such as Scrapy's do not keep the server's.
        A 200 response whose payload was archived before becomes a revisit record.
        ``truncated`` is the WARC-Truncated reason ("length", "time", "disconnect") of a
        payload the crawler cut short; such a record is never a revisit nor revisited.
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https") or any(c.isspace() for c in url):
            raise ValueError(
                f"cannot archive {url!r}: only http(s) URLs without whitespace make response "
                "records; skip other schemes (data:, file:, ftp:) before write_exchange"
            )
        when = _as_utc(date)
        warc_date = datetime_to_iso_date(when.replace(tzinfo=None), use_micros=True)
        status_version, wire_protocol = _http_version(protocol)
        digest = sha1_digest(payload)
        whole = status == 200 and bool(payload) and not truncated
        original = self._find_original(digest) if whole else None

        if self._out is None or self._writer is None:
            self._out, self._writer = self._open_file()
        out, writer = self._out, self._writer

        response_id = StatusAndHeadersParser.make_warc_id()
        common = [("WARC-Target-URI", url), ("WARC-Date", warc_date), ("WARC-Warcinfo-ID", self._warcinfo_id)]
        if ip:
            common.append(("WARC-IP-Address", ip))
        common.append(("WARC-Protocol", wire_protocol))
        http_head = StatusAndHeaders(
            f"{status} {reason or _standard_reason(status)}",
            _stored_response_headers(response_headers),
            protocol=status_version,
        )
        # WARC-Type first: warcio replaces a header in place but appends one it lacks.
        response_type = "revisit" if original else "response"
        response_warc = dict([("WARC-Type", response_type), ("WARC-Record-ID", response_id), *common])
        if truncated:
            response_warc["WARC-Truncated"] = truncated
        if original:
            response = writer.create_revisit_record(
                url, digest, original[0], original[1], http_headers=http_head, warc_headers_dict=response_warc
            )
        else:
            response_warc["WARC-Payload-Digest"] = digest  # already computed: spare warcio a second pass
            response = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(payload),
                length=len(payload),
                http_headers=http_head,
                warc_headers_dict=response_warc,
            )
        request = writer.create_warc_record(
            url,
            "request",
            payload=BytesIO(request_body),
            length=len(request_body),
            http_headers=_request_head(method, url, status_version, request_headers),
            warc_headers_dict=dict(
                [
                    ("WARC-Type", "request"),
                    ("WARC-Record-ID", StatusAndHeadersParser.make_warc_id()),
                    *common,
                    ("WARC-Concurrent-To", response_id),
                ]
            ),
        )

        offset = out.tell()
        try:
            _write_member(writer, out, response, _level_for(response_headers) if not original else COMPRESS_LEVEL)
            length = out.tell() - offset
            _write_member(writer, out, request, COMPRESS_LEVEL)
        except BaseException as exc:
            open_path = self._directory / (self._name + OPEN_SUFFIX)
            with contextlib.suppress(OSError):  # then it stays .open: recovery cuts it back the same way
                self._finish_at(offset)
            _name_file(exc, open_path if open_path.exists() else self._directory / self._name)
            raise

        capture = CaptureInfo(
            url=url,
            timestamp=when,
            status=status,
            mime=media_type(first_header(response_headers, "Content-Type")),
            record_type=response_type,
            warc_file=self._name,
            offset=offset,
            length=length,
            payload_digest=digest,
            refers_to_url=original[0] if original else None,
            refers_to_date=original[1] if original else None,
        )
        if whole:
            self._originals.setdefault(digest, original or (url, warc_date))
        if out.tell() >= self._max_size:
            self.close()
        return capture

    def close(self) -> None:
        """Finish the current file: fsync it, rename ``*.warc.gz.open`` to ``*.warc.gz``, let go of it.

        Safe to call twice; a later write_exchange starts a new file.
        """
        if self._out is None:
            return
        out = self._out
        self._out = self._writer = None
        try:
            try:
                out.flush()
                os.fsync(out.fileno())
                finish(self._open_path)  # still owned: no recovery can take a file its writer is finishing
            finally:
                with contextlib.suppress(OSError):  # a failed flush fails again on close: already raised
                    out.close()
        except OSError as exc:  # the file stays .open: unfinished, as after a crash, for recovery to take
            _name_file(exc, self._open_path)
            raise
        finally:
            self._release()

    def _find_original(self, digest: str) -> tuple[str, str] | None:
        """(URL, WARC-Date) of an earlier capture of this payload: this writer's, or an earlier crawl's."""
        if digest in self._originals:
            return self._originals[digest]
        return self._revisit_lookup(digest) if self._revisit_lookup else None

    @property
    def _open_path(self) -> Path:
        return self._directory / (self._name + OPEN_SUFFIX)

    def _open_file(self) -> tuple[BinaryIO, WARCWriter]:
        """Start the next file, named for the current time, owned, with its warcinfo record."""
        self._directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        while True:
            name = WarcName.make(self._prefix, now, self._serial).finished
            self._serial += 1
            if (self._directory / name).exists():
                continue  # another writer with this prefix got there first: never overwrite
            try:
                out = open(self._directory / (name + OPEN_SUFFIX), "xb")  # noqa: SIM115 - open until close()
            except FileExistsError:
                continue
            ownership = Ownership.take(Path(out.name), wait=True)
            if ownership is None:  # a recovery found it empty and removed it before we owned it
                out.close()
                continue
            break
        writer = WARCWriter(out, gzip=False, warc_version=WARC_VERSION)  # gzip members: _write_member
        info = {
            "software": self._software,
            "format": WARC_FORMAT,
            "conformsTo": WARC_SPEC,
            "hostname": self._hostname,
            "operator": self._operator,  # None: warcio leaves the field out
        }
        warcinfo = writer.create_warcinfo_record(name, info)
        try:
            _write_member(writer, out, warcinfo, COMPRESS_LEVEL)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                out.close()
            os.unlink(out.name)
            _name_file(exc, Path(out.name))
            ownership.release()
            raise
        self._name = name
        self._ownership = ownership
        self._warcinfo_id = warcinfo.rec_headers.get_header("WARC-Record-ID")
        self._files.append(name)
        return out, writer

    def _finish_at(self, size: int) -> None:
        """Cut the current file back to its last whole exchange and finish it (fsynced, renamed).

        Called when a write failed midway, so no file keeps half an exchange; the buffered
        file object may fail again on close (the disk is still full), so it is dropped and
        the file is truncated and fsynced by path (the writer owns it on a descriptor of its
        own). Cutting frees blocks: this works on a full disk.
        """
        out = self._out
        self._out = self._writer = None
        assert out is not None
        with contextlib.suppress(OSError):
            out.close()
        os.truncate(self._open_path, size)
        descriptor = os.open(self._open_path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        finish(self._open_path)
        self._release()

    def _release(self) -> None:
        if self._ownership is not None:
            self._ownership.release()
            self._ownership = None


class _GzipMember:
    """What warcio writes one record into: the record as one gzip member, at ``level``, handed
    to the OS when warcio flushes at the record's end (so a kill leaves every record before whole)."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


def _write_member(writer: WARCWriter, out: BinaryIO, record: ArcWarcRecord, level: int) -> None:
    """One record as one gzip member: warcio's own gzip is fixed at level 9."""
    writer.out = _GzipMember(out, level)
    try:
        writer.write_record(record)
    finally:
        writer.out = out


def _level_for(response_headers: list[tuple[str, str]]) -> int:
    """Stored (level 0) for a payload already compressed, COMPRESS_LEVEL for the rest."""
    encoding = (first_header(response_headers, "Content-Encoding") or "identity").strip().lower()
    kind = media_type(first_header(response_headers, "Content-Type")) or ""
    compressed = encoding != "identity" or kind.startswith(COMPRESSED_MEDIA) and kind != "image/svg+xml"
    return STORED_LEVEL if compressed else COMPRESS_LEVEL


def _name_file(error: BaseException, path: Path) -> None:
    """Let an OSError of a write say which file it was (write(2) errors name none)."""
    if isinstance(error, OSError) and error.filename is None:
        error.filename = str(path)


def _stored_response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers as they go into the WARC record.

    ``Transfer-Encoding`` is renamed to ``X-Archive-Orig-Transfer-Encoding``, not dropped
    and not kept. Kept, it would lie: the HTTP client has already de-chunked the body, yet
    warcio's ``content_stream()`` and pywb's replay de-chunk any body whose stored headers
    say ``chunked`` (warcio falls back to "not chunked" only when the first line does not
    parse, so a body that merely starts like a chunk-size line would be corrupted). Renamed,
    the evidence of how the server sent it survives, in exactly the name pywb gives the
    header when it replays a wire-level capture (its header rewriter's ``X-Archive-Orig-``
    prefix), so replay output is the same either way; Common Crawl does likewise with
    ``X-Crawler-Transfer-Encoding``. ``Content-Encoding`` stays: the payload is still
    encoded. HTTP/2 pseudo-headers (``:status``) have no HTTP/1.1 form and are left out;
    the status line carries the status.
    """
    stored = []
    for name, value in headers:
        if name.startswith(":"):
            continue
        if name.lower() == "transfer-encoding":
            name = ORIG_TRANSFER_ENCODING
        stored.append((name, value))
    return stored


def _request_head(method: str, url: str, version: str, headers: list[tuple[str, str]]) -> StatusAndHeaders:
    """The request line and headers; Host is added when absent because the client sent one on the wire."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = StatusAndHeaders(f"{method} {target} {version}", list(headers), is_http_request=True)
    if not head.get_header("Host"):
        head.headers.insert(0, ("Host", parts.netloc.rpartition("@")[2]))
    return head


def _http_version(protocol: str) -> tuple[str, str]:
    """The HTTP version for the status line, and the WARC-Protocol value."""
    try:
        return _HTTP_VERSIONS[protocol.upper()]
    except KeyError:
        raise ValueError(
            f"unknown HTTP protocol {protocol!r}: pass 'HTTP/1.0', 'HTTP/1.1', 'h2' or 'h3' "
            "(map an unknown one to 'HTTP/1.1')"
        ) from None


def _as_utc(date: datetime | None) -> datetime:
    if date is None:
        return datetime.now(UTC)
    if date.tzinfo is None:
        raise ValueError("date must be timezone-aware: pass datetime.now(UTC) or attach tzinfo=UTC")
    return date.astimezone(UTC)


def _standard_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""  # unregistered code: an empty reason phrase is valid HTTP
