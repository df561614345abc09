"""CDXJ output: index lines byte for byte as cdxj-indexer writes them, and pywb's JSON form of them.

pywb, ReplayWeb.page and cdxj-indexer read these as their own: ``newsarchive index --cdxj``,
the WACZ export and the CDX server API (:mod:`archive.warc.cdx_server`) all write them here.
"""

from __future__ import annotations

import json
from datetime import UTC

from archive.catalogue.models import Capture
from archive.urls import surt
from archive.warc.records import CaptureInfo
from archive.wayback import timestamp14

CDXJ_FIELDS = ("url", "mime", "status", "digest", "length", "offset", "filename")  # cdxj-indexer's defaults
REVISIT_MIME = "warc/revisit"  # what CDX indexes say a revisit's media type is


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
