"""CDXJ output: index lines byte for byte as cdxj-indexer writes them, and pywb's JSON form of them.

pywb, ReplayWeb.page and cdxj-indexer read these as their own: ``newsarchive index --cdxj``,
the WACZ export and the CDX server API (:mod:`archive.warc.cdx_server`) all write them here.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC

from archive.catalogue.models import Capture
from archive.urls import surt
from archive.warc.records import CaptureInfo
from archive.wayback import timestamp14

CDXJ_FIELDS = ("url", "mime", "status", "digest", "length", "offset", "filename")  # cdxj-indexer's defaults
REVISIT_MIME = "warc/revisit"  # what CDX indexes say a revisit's media type is
CDXJ_BLOCK_LINES = 1024  # lines per gzip block of a compressed index: cdxj-indexer's and ArchiveWeb.page's


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


def compressed_cdxj(lines: list[str], name: str, block_lines: int = CDXJ_BLOCK_LINES) -> tuple[bytes, str]:
    """Sorted CDXJ lines as cdxj-indexer's ``cdxj-gzip-1.0`` pair: gzipped blocks, and the index of them.

    Each block of ``block_lines`` lines is one gzip member; each line of the secondary index
    (``.idx``) is a block's first urlkey and timestamp with its offset, length and sha256 in
    ``name``. A reader bisects the small index and fetches one block by range request: how
    ReplayWeb.page reads a large WACZ without loading its whole index first.
    """
    data = bytearray()
    index = [f"!meta 0 {json.dumps({'format': 'cdxj-gzip-1.0', 'filename': name})}\n"]
    for start in range(0, len(lines), block_lines):
        block = lines[start:start + block_lines]
        packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)  # a gzip member, as cdxj-indexer writes
        member = packer.compress("".join(block).encode("utf-8")) + packer.flush()
        where = {"offset": len(data), "length": len(member), "digest": "sha256:" + hashlib.sha256(member).hexdigest()}
        index.append(f"{block[0].split('{', 1)[0].strip()} {json.dumps(where)}\n")
        data += member
    return bytes(data), "".join(index)
