"""The WARC writer and reader, checked on real files with warcio's own reader and CLI."""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
import textwrap
from base64 import b32encode
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc.files import OPEN_SUFFIX
from archive.warc.reader import iter_captures, read_capture
from archive.warc.records import CaptureInfo, WarcFormatError
from archive.warc.writer import WarcWriter

HTML = b"<html><head><title>Story</title></head><body><p>" + b"Lorem ipsum. " * 40 + b"</p></body></html>"
GZIPPED_HTML = gzip.compress(HTML)
# A de-chunked body that happens to start like a chunk-size line: de-chunking it again corrupts it.
LOOKS_CHUNKED = b"5\r\nhello world, this body only looks chunked\r\n"
NAME_RE = re.compile(r"^news-\d{14}-\d{5}\.warc\.gz$")
T0 = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def exchange(writer: WarcWriter, url: str, **overrides: object) -> CaptureInfo:
    """Write one GET exchange with sensible defaults; keyword arguments override them."""
    kwargs: dict = {
        "url": url,
        "method": "GET",
        "request_headers": [("User-Agent", "newsarchive-test"), ("Accept", "*/*")],
        "request_body": b"",
        "protocol": "HTTP/1.1",
        "status": 200,
        "reason": "OK",
        "response_headers": [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
        "payload": GZIPPED_HTML,
        "ip": "127.0.0.1",
        "date": T0,
    }
    kwargs.update(overrides)
    return writer.write_exchange(**kwargs)


def records(path: Path) -> list[dict]:
    """Every record of a file as plain data: WARC headers, HTTP head and the raw block."""
    out = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, no_record_parse=True):
            out.append(
                {"type": record.rec_type, "warc": record.rec_headers, "block": record.raw_stream.read()}
            )
    for rec in out:
        rec["http"] = None
        rec["payload"] = rec["block"]
        if rec["type"] in ("response", "revisit", "request") and rec["block"]:
            head, _, rec["payload"] = rec["block"].partition(b"\r\n\r\n")
            rec["http"] = head.decode("latin-1").split("\r\n")
    return out


def sha1_b32(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    """Run the `warcio check` command line of this environment on one file."""
    warcio_cli = Path(sys.executable).with_name("warcio")
    return subprocess.run([str(warcio_cli), "check", "-v", str(path)], capture_output=True, text=True)


@pytest.fixture
def warc_dir(tmp_path: Path) -> Path:
    return tmp_path / "warcs"


def test_exchange_is_a_response_and_a_request_tied_by_concurrent_to(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news", operator="Newsroom Archive") as writer:
        exchange(writer, "https://news.example/2024/05/story?page=2")
        exchange(
            writer,
            "https://news.example/feed.xml",
            payload=b"<rss/>",
            response_headers=[("Content-Type", "application/rss+xml")],
        )

    [name] = writer.files
    recs = records(warc_dir / name)
    assert [r["type"] for r in recs] == ["warcinfo", "response", "request", "response", "request"]
    assert all(r["warc"].protocol == "WARC/1.1" for r in recs)

    info = recs[0]["payload"].decode()
    assert recs[0]["warc"]["WARC-Filename"] == name
    for field in (
        "software: newsarchive",
        "format: WARC File Format 1.1",
        "operator: Newsroom Archive",
        "hostname: ",
    ):
        assert field in info
    assert (
        "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/" in info
    )

    response, request = recs[1], recs[2]
    assert request["warc"]["WARC-Concurrent-To"] == response["warc"]["WARC-Record-ID"]
    assert response["warc"]["WARC-Record-ID"] != request["warc"]["WARC-Record-ID"]
    for rec in (response, request):
        assert rec["warc"]["WARC-Target-URI"] == "https://news.example/2024/05/story?page=2"
        assert rec["warc"]["WARC-Date"] == "2024-05-01T10:00:00.123456Z"
        assert rec["warc"]["WARC-IP-Address"] == "127.0.0.1"
        assert rec["warc"]["WARC-Warcinfo-ID"] == recs[0]["warc"]["WARC-Record-ID"]
        assert rec["warc"].headers[0] == ("WARC-Type", rec["type"])
    assert response["http"][0] == "HTTP/1.1 200 OK"
    assert request["http"] == [
        "GET /2024/05/story?page=2 HTTP/1.1",
        "Host: news.example",
        "User-Agent: newsarchive-test",
        "Accept: */*",
    ]


def test_digests_match_the_stored_bytes(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        exchange(writer, "https://news.example/a")
        exchange(
            writer,
            "https://news.example/search",
            method="POST",
            request_body=b"q=election",
            payload=b"results",
        )
        exchange(writer, "https://news.example/b")  # a revisit: block digest only covers its HTTP head

    recs = records(warc_dir / writer.files[0])
    assert [r["type"] for r in recs[1:]] == [
        "response",
        "request",
        "response",
        "request",
        "revisit",
        "request",
    ]
    for rec in recs:
        assert rec["warc"]["WARC-Block-Digest"] == sha1_b32(rec["block"])
    for rec in recs:
        if rec["type"] in ("response", "request"):
            assert rec["warc"]["WARC-Payload-Digest"] == sha1_b32(rec["payload"])
    assert recs[4]["payload"] == b"q=election"
    assert recs[5]["warc"]["WARC-Payload-Digest"] == sha1_b32(GZIPPED_HTML)


def test_gzip_content_encoding_is_kept_with_the_compressed_bytes(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        capture = exchange(writer, "https://news.example/a")

    with open(warc_dir / writer.files[0], "rb") as f:
        response = next(r for r in ArchiveIterator(f) if r.rec_type == "response")
        assert response.http_headers["Content-Encoding"] == "gzip"
        assert response.raw_stream.read() == GZIPPED_HTML
    with open(warc_dir / writer.files[0], "rb") as f:
        response = next(r for r in ArchiveIterator(f) if r.rec_type == "response")
        assert response.content_stream().read() == HTML  # readers can still decode it
    assert capture.payload_digest == sha1_b32(GZIPPED_HTML)
    assert capture.mime == "text/html"


def test_compressed_payloads_are_stored_and_text_compressed_each_record_its_own_gzip_member(warc_dir: Path) -> None:
    photo = bytes(range(256)) * 400  # a 100 kB "JPEG": a pattern gzip would shrink, had it been tried
    with WarcWriter(warc_dir, "news") as writer:
        page = exchange(writer, "https://news.example/page", response_headers=[("Content-Type", "text/html")],
                        payload=HTML * 50)
        encoded = exchange(writer, "https://news.example/encoded", payload=gzip.compress(HTML * 50 + b"!"))
        image = exchange(writer, "https://news.example/photo.jpg", response_headers=[("Content-Type", "image/jpeg")],
                         payload=photo)
    assert page.length < len(HTML * 50) / 10  # compressed
    assert encoded.length > len(gzip.compress(HTML * 50 + b"!"))  # stored as it came: no second deflate
    assert image.length > len(photo)
    for capture, payload in ((page, HTML * 50), (image, photo)):
        assert read_capture(warc_dir / writer.files[0], capture.offset).payload == payload
    with open(warc_dir / writer.files[0], "rb") as f:  # one gzip member per record, each read on its own
        f.seek(image.offset)
        assert gzip.decompress(f.read(image.length)).startswith(b"WARC/1.1\r\nWARC-Type: response")
    assert warcio_check(warc_dir / writer.files[0]).returncode == 0


def test_transfer_encoding_is_renamed_so_readers_do_not_dechunk_again(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        exchange(
            writer,
            "https://news.example/plain.txt",
            response_headers=[("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
            payload=LOOKS_CHUNKED,
        )

    with open(warc_dir / writer.files[0], "rb") as f:
        response = next(r for r in ArchiveIterator(f) if r.rec_type == "response")
        assert response.http_headers.get_header("Transfer-Encoding") is None
        assert response.http_headers["X-Archive-Orig-Transfer-Encoding"] == "chunked"
        assert response.content_stream().read() == LOOKS_CHUNKED


def test_identical_payload_in_the_same_crawl_is_a_revisit(warc_dir: Path) -> None:
    later = T0 + timedelta(minutes=5)
    with WarcWriter(warc_dir, "news") as writer:
        first = exchange(writer, "https://news.example/story")
        amp = exchange(writer, "https://news.example/amp/story", date=later)

    assert first.record_type == "response"
    assert amp.record_type == "revisit"
    assert (amp.refers_to_url, amp.refers_to_date) == (
        "https://news.example/story",
        "2024-05-01T10:00:00.123456Z",
    )
    assert amp.payload_digest == first.payload_digest
    assert (amp.status, amp.mime, amp.timestamp) == (200, "text/html", later)

    revisit = records(warc_dir / writer.files[0])[3]
    assert revisit["type"] == "revisit"
    assert (
        revisit["warc"]["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert revisit["warc"]["WARC-Refers-To-Target-URI"] == "https://news.example/story"
    assert revisit["warc"]["WARC-Refers-To-Date"] == "2024-05-01T10:00:00.123456Z"
    assert revisit["warc"]["WARC-Payload-Digest"] == sha1_b32(GZIPPED_HTML)
    assert revisit["http"] == [
        "HTTP/1.1 200 OK",
        "Content-Type: text/html; charset=utf-8",
        "Content-Encoding: gzip",
    ]
    assert revisit["payload"] == b""


def test_payload_archived_by_an_earlier_crawl_is_a_revisit(warc_dir: Path) -> None:
    asked = []

    def lookup(digest: str) -> tuple[str, str] | None:
        asked.append(digest)
        return (
            ("https://news.example/story", "2024-04-30T08:00:00Z")
            if digest == sha1_b32(GZIPPED_HTML)
            else None
        )

    with WarcWriter(warc_dir, "news", revisit_lookup=lookup) as writer:
        again = exchange(writer, "https://news.example/story")
        fresh = exchange(writer, "https://news.example/new", payload=b"new story")
        fresh_again = exchange(writer, "https://news.example/new?utm_source=x", payload=b"new story")

    assert (again.record_type, again.refers_to_url, again.refers_to_date) == (
        "revisit",
        "https://news.example/story",
        "2024-04-30T08:00:00Z",
    )
    assert fresh.record_type == "response"
    assert (fresh_again.record_type, fresh_again.refers_to_url) == ("revisit", "https://news.example/new")
    assert asked == [sha1_b32(GZIPPED_HTML), sha1_b32(b"new story")]  # the writer's own map answers the third


def test_errors_redirects_and_empty_bodies_are_never_revisits(warc_dir: Path) -> None:
    not_found = [("Content-Type", "text/html")]
    with WarcWriter(
        warc_dir, "news", revisit_lookup=lambda digest: ("https://news.example/x", "2024-01-01T00:00:00Z")
    ) as writer:
        captures = [
            exchange(
                writer,
                "https://news.example/gone1",
                status=404,
                reason="Not Found",
                response_headers=not_found,
                payload=b"nope",
            ),
            exchange(
                writer,
                "https://news.example/gone2",
                status=404,
                reason="Not Found",
                response_headers=not_found,
                payload=b"nope",
            ),
            exchange(
                writer,
                "https://news.example/moved",
                status=301,
                reason="",
                response_headers=[("Location", "/a")],
                payload=b"",
            ),
            exchange(writer, "https://news.example/empty1", payload=b""),
            exchange(writer, "https://news.example/empty2", payload=b""),
        ]
    assert [c.record_type for c in captures] == ["response"] * 5
    with WarcWriter(warc_dir, "news") as writer:
        exchange(writer, "https://news.example/gone", status=404, reason="Not Found", payload=b"same body")
        after_404 = exchange(writer, "https://news.example/ok", payload=b"same body")
    assert after_404.record_type == "response"  # a 404 body is no original for a 200


def test_missing_reason_gets_the_standard_phrase(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        exchange(
            writer,
            "https://news.example/moved",
            status=301,
            reason="",
            response_headers=[("Location", "/a")],
            payload=b"",
        )
        exchange(writer, "https://news.example/odd", status=599, reason="", payload=b"")
    recs = records(warc_dir / writer.files[0])
    assert recs[1]["http"][0] == "HTTP/1.1 301 Moved Permanently"
    assert recs[3]["http"][0] == "HTTP/1.1 599 "


def test_http2_exchange_is_stored_in_http11_form_with_warc_protocol(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        exchange(
            writer,
            "https://news.example/h2",
            protocol="h2",
            response_headers=[
                (":status", "200"),
                ("content-type", "text/html"),
                ("content-encoding", "gzip"),
            ],
        )
    response, request = records(warc_dir / writer.files[0])[1:3]
    assert response["http"] == ["HTTP/1.1 200 OK", "content-type: text/html", "content-encoding: gzip"]
    assert request["http"][0] == "GET /h2 HTTP/1.1"
    assert response["warc"]["WARC-Protocol"] == request["warc"]["WARC-Protocol"] == "h2"


def test_rollover_at_max_size(warc_dir: Path) -> None:
    writer = WarcWriter(warc_dir, "news", max_size=3000)
    captures = [
        exchange(writer, f"https://news.example/{i}", payload=gzip.compress(HTML + bytes([i])))
        for i in range(12)
    ]
    assert len(list(warc_dir.glob(f"*{OPEN_SUFFIX}"))) <= 1  # only the file being written
    writer.close()

    names = writer.files
    assert len(names) >= 3
    assert sorted(p.name for p in warc_dir.iterdir()) == sorted(names)  # none left ".open"
    assert all(NAME_RE.match(name) for name in names)
    assert [int(name[-13:-8]) for name in names] == list(range(len(names)))
    assert {c.warc_file for c in captures} == set(names)
    for name in names:
        recs = records(warc_dir / name)
        assert recs[0]["type"] == "warcinfo"
        assert recs[0]["warc"]["WARC-Filename"] == name
        assert [r["type"] for r in recs[1:]] == ["response", "request"] * ((len(recs) - 1) // 2)
        # a file only grows past max_size by the exchange that crossed it
        assert (warc_dir / name).stat().st_size < 3000 + 2 * 1500


def test_file_is_open_while_written_and_flushed_after_each_exchange(warc_dir: Path) -> None:
    writer = WarcWriter(warc_dir, "news")
    assert writer.files == [] and not warc_dir.exists()  # nothing archived, no file
    capture = exchange(writer, "https://news.example/a")
    [open_file] = list(warc_dir.iterdir())
    assert open_file.name == capture.warc_file + OPEN_SUFFIX
    # A crash now would leave this file: everything written so far is readable from it.
    assert [r["type"] for r in records(open_file)] == ["warcinfo", "response", "request"]
    assert read_capture(open_file, capture.offset).payload == GZIPPED_HTML

    writer.close()
    writer.close()
    assert [p.name for p in warc_dir.iterdir()] == [capture.warc_file]
    assert warcio_check(warc_dir / capture.warc_file).returncode == 0


def test_every_file_passes_warcio_check(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news", max_size=2500) as writer:
        for i in range(6):
            exchange(writer, f"https://news.example/{i}", payload=gzip.compress(HTML + bytes([i])))
            exchange(writer, f"https://news.example/amp/{i}", payload=gzip.compress(HTML + bytes([i])))
        exchange(
            writer,
            "https://news.example/t",
            response_headers=[("Transfer-Encoding", "chunked")],
            payload=LOOKS_CHUNKED,
        )
        exchange(
            writer,
            "https://news.example/p",
            method="POST",
            request_body=b"a=1",
            status=500,
            reason="Oops",
            payload=b"",
        )
    assert len(writer.files) > 1
    for name in writer.files:
        result = warcio_check(warc_dir / name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "digest pass" in result.stdout
        assert "failed" not in result.stdout


def test_read_capture_returns_the_record_at_an_offset(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        story = exchange(writer, "https://news.example/story")
        plain = exchange(
            writer,
            "https://news.example/t",
            response_headers=[("Transfer-Encoding", "chunked")],
            payload=LOOKS_CHUNKED,
        )
        amp = exchange(writer, "https://news.example/amp/story")
    path = warc_dir / writer.files[0]

    record = read_capture(path, story.offset)
    assert (record.record_type, record.status, record.reason) == ("response", 200, "OK")
    assert record.payload == GZIPPED_HTML
    assert record.http_header("content-encoding") == "gzip"
    assert record.warc_header("WARC-Target-URI") == "https://news.example/story"
    assert record.digest_problems == ()

    assert read_capture(path, plain.offset).payload == LOOKS_CHUNKED

    revisit = read_capture(path, amp.offset)
    assert (revisit.record_type, revisit.status, revisit.payload) == ("revisit", 200, b"")
    assert revisit.warc_header("WARC-Refers-To-Target-URI") == "https://news.example/story"
    assert revisit.http_header("Content-Type") == "text/html; charset=utf-8"
    assert revisit.digest_problems == ()

    with pytest.raises(WarcFormatError, match="newsarchive index"):
        read_capture(path, story.offset + 7)


def test_read_capture_refuses_a_damaged_record(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news") as writer:
        story = exchange(writer, "https://news.example/story")
    path = warc_dir / writer.files[0]
    data = bytearray(path.read_bytes())
    data[story.offset + story.length // 2] ^= 0xFF
    path.write_bytes(data)
    with pytest.raises(WarcFormatError, match=f"offset {story.offset} .* damaged"):
        read_capture(path, story.offset)


def test_read_capture_reports_a_digest_that_does_not_match(tmp_path: Path) -> None:
    path = tmp_path / "damaged.warc.gz"
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True, warc_version="1.1")
        head = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "https://news.example/a",
            "response",
            payload=BytesIO(b"tampered"),
            length=8,
            http_headers=head,
            warc_headers_dict={"WARC-Payload-Digest": sha1_b32(b"original")},
        )
        writer.write_record(record)
    [problem] = read_capture(path, 0).digest_problems
    assert problem.startswith("payload digest mismatch: record says " + sha1_b32(b"original"))


def test_iter_captures_computes_a_payload_digest_another_tool_left_out(tmp_path: Path) -> None:
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold news"
    record = (
        b"WARC/1.0\r\nWARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Target-URI: http://old.example/\r\nWARC-Date: 2010-01-02T03:04:05Z\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(block)).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    )
    path = tmp_path / "old.warc.gz"
    path.write_bytes(gzip.compress(record))
    [capture] = iter_captures(path)
    assert capture.payload_digest == sha1_b32(b"old news")
    assert (capture.offset, capture.length, capture.mime) == (0, path.stat().st_size, "text/plain")
    assert capture.timestamp == datetime(2010, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_iter_captures_rebuilds_what_write_exchange_reported(warc_dir: Path) -> None:
    with WarcWriter(warc_dir, "news", max_size=4000) as writer:
        written = [
            exchange(writer, "https://news.example/story"),
            exchange(writer, "https://news.example/amp/story", date=T0 + timedelta(seconds=1)),
            exchange(
                writer,
                "https://news.example/gone",
                status=404,
                reason="Not Found",
                payload=b"",
                response_headers=[],
            ),
            exchange(
                writer,
                "https://news.example/feed",
                payload=b"<rss/>",
                response_headers=[("Content-Type", "Application/RSS+XML; charset=UTF-8")],
            ),
            *[
                exchange(writer, f"https://news.example/{i}", payload=gzip.compress(HTML + bytes([i])))
                for i in range(6)
            ],
        ]
    assert len(writer.files) > 1
    rebuilt = [capture for name in writer.files for capture in iter_captures(warc_dir / name)]
    assert rebuilt == written
    assert written[2].mime is None
    assert written[3].mime == "application/rss+xml"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses Linux's RLIMIT_FSIZE and SIGXFSZ")
def test_a_failed_write_leaves_only_whole_exchanges(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, resource, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
        from archive.warc.writer import WarcWriter

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit: EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        writer = WarcWriter(Path({str(tmp_path / "warcs")!r}), "news")
        kwargs = dict(method="GET", request_headers=[], request_body=b"", protocol="HTTP/1.1",
                      status=200, reason="OK", response_headers=[])
        written = 0
        try:
            for i in range(100):
                writer.write_exchange(url=f"https://news.example/{{i}}", payload=os.urandom(3000), **kwargs)
                written += 1
        except OSError as exc:
            print("failed after", written, exc.errno)
        writer.write_exchange(url="https://news.example/after", payload=b"small", **kwargs)
        writer.close()
        print(*writer.files)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    failed_line, files_line = result.stdout.splitlines()
    written = int(failed_line.split()[2])
    assert written >= 1
    first, second = (tmp_path / "warcs" / name for name in files_line.split())
    assert [c.url for c in iter_captures(first)] == [f"https://news.example/{i}" for i in range(written)]
    assert [r["type"] for r in records(first)][-1] == "request"
    assert [c.url for c in iter_captures(second)] == ["https://news.example/after"]
    assert warcio_check(first).returncode == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "ftp://news.example/a"}, "only http"),
        ({"url": "https://news.example/a b"}, "without whitespace"),
        ({"date": datetime(2024, 5, 1)}, "timezone-aware"),
        ({"protocol": "SPDY/3"}, "'HTTP/1.1'"),
    ],
)
def test_unusable_exchanges_are_refused_before_anything_is_written(
    warc_dir: Path, overrides: dict, message: str
) -> None:
    writer = WarcWriter(warc_dir, "news")
    with pytest.raises(ValueError, match=message):
        exchange(writer, **{"url": "https://news.example/a", **overrides})
    assert writer.files == []


def test_writer_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_size"):
        WarcWriter(Path("unused"), "news", max_size=0)
    with pytest.raises(ValueError, match="prefix"):
        WarcWriter(Path("unused"), "a/b")
