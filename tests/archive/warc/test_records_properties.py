"""Property tests of WARC records: whatever an exchange holds, it reads back exactly as written.

An archive is only as good as this: the status, the headers (but for the renames DESIGN.md
and the writer's docstring state) and the payload bytes, found again by the offset the
capture index keeps and by a scan of the file, with digests that check.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.warc.reader import iter_captures, read_capture
from archive.warc.writer import WarcWriter

PROPERTIES = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TOKEN = string.ascii_letters + string.digits + "-_"  # header names: RFC 9110 tokens, in part
VALUE = "".join(chr(c) for c in range(0x20, 0x7F))  # visible ASCII and spaces, no CR or LF

header_value = st.text(alphabet=VALUE, max_size=60).map(str.strip)
headers = st.lists(st.tuples(st.text(alphabet=TOKEN, min_size=1, max_size=20).map(lambda n: f"X-{n}"),
                             header_value), max_size=8)
path = st.text(alphabet=string.ascii_letters + string.digits + "-._~/%", max_size=40)
query = st.one_of(st.just(""), st.text(alphabet=string.ascii_letters + string.digits + "=&%+", max_size=30)
                  .map(lambda q: f"?{q}"))


@PROPERTIES
@given(path=path, query=query, status=st.sampled_from([200, 204, 301, 404, 410, 500, 503]),
       reason=st.sampled_from(["", "OK", "Custom Reason"]), response_headers=headers,
       payload=st.binary(max_size=4096), protocol=st.sampled_from(["HTTP/1.0", "HTTP/1.1", "h2"]),
       seconds=st.integers(0, 10**8), micros=st.integers(0, 999_999))
def test_an_exchange_reads_back_exactly_as_written(tmp_path: Path, path: str, query: str, status: int, reason: str,
                                                   response_headers: list[tuple[str, str]], payload: bytes,
                                                   protocol: str, seconds: int, micros: int) -> None:
    url = f"http://news.example/{path.lstrip('/')}{query}"
    date = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=micros)
    stored_headers = [("Content-Type", "application/octet-stream"), *response_headers]
    directory = tmp_path / f"w{seconds}-{micros}-{len(payload)}"
    with WarcWriter(directory, "prop") as writer:
        info = writer.write_exchange(url=url, method="GET", request_headers=[("User-Agent", "test")],
                                     request_body=b"", protocol=protocol, status=status, reason=reason,
                                     response_headers=stored_headers, payload=payload, date=date)
    (name,) = writer.files
    record = read_capture(directory / name, info.offset)
    assert record.record_type == "response" and record.digest_problems == ()
    assert record.status == status and record.payload == payload
    assert record.warc_header("WARC-Target-URI") == url
    assert list(record.http_headers)[: len(stored_headers)] == stored_headers
    (scanned,) = list(iter_captures(directory / name))
    assert scanned == info
    assert scanned.timestamp == date
