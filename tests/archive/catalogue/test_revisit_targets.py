"""Revisits across crawls: what an earlier crawl's captures let a new record stand for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.catalogue.store import Catalogue
from archive.warc.reader import read_capture
from archive.warc.records import CaptureInfo
from archive.warc.writer import WarcWriter

PAGE = b"<html><body>The same bytes, served at two URLs.</body></html>"
FIRST_CRAWL = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)  # a whole second: no microseconds in WARC-Date
NEXT_CRAWL = datetime(2026, 5, 2, 10, 0, 0, 250_000, tzinfo=UTC)


@pytest.fixture
def catalogue(catalogue_url: str) -> Iterator[Catalogue]:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def crawl(catalogue: Catalogue, warc_dir: Path, exchanges: list[tuple[str, int]], when: datetime) -> list[CaptureInfo]:
    """One crawl writing ``(url, status)`` exchanges of PAGE, each catalogued as the crawler does,
    its revisits looked up as the crawler does (the index of payloads archived before it)."""
    run_id = catalogue.start_run("news", host="crawler-1")
    infos = []
    with WarcWriter(warc_dir, "news", revisit_lookup=catalogue.revisit_index()) as writer:
        for url, status in exchanges:
            info = writer.write_exchange(url=url, method="GET", request_headers=[], request_body=b"",
                                         protocol="HTTP/1.1", status=status, reason="",
                                         response_headers=[("Content-Type", "text/html")], payload=PAGE, date=when)
            catalogue.add_capture(run_id, info)
            infos.append(info)
    return infos


def test_a_revisit_stands_only_for_a_200_and_names_its_date_as_written(catalogue: Catalogue, tmp_path: Path) -> None:
    (missing,) = crawl(catalogue, tmp_path, [("https://news.example/gone", 404)], FIRST_CRAWL)
    (after_404,) = crawl(catalogue, tmp_path, [("https://news.example/story", 200)], NEXT_CRAWL)
    # the 404 page had the same bytes, but a revisit of it would replay a 200 as an error page's body
    assert (missing.record_type, after_404.record_type) == ("response", "response")

    (again,) = crawl(catalogue, tmp_path, [("https://news.example/copy", 200)], NEXT_CRAWL)
    assert again.record_type == "revisit" and again.refers_to_url == "https://news.example/story"
    original = read_capture(tmp_path / after_404.warc_file, after_404.offset)
    revisit = read_capture(tmp_path / again.warc_file, again.offset)
    assert revisit.warc_header("WARC-Refers-To-Date") == original.warc_header("WARC-Date")


def test_refers_to_date_of_a_whole_second_is_written_as_warc_date_is(catalogue: Catalogue, tmp_path: Path) -> None:
    (first,) = crawl(catalogue, tmp_path, [("https://news.example/story", 200)], FIRST_CRAWL)
    (later,) = crawl(catalogue, tmp_path, [("https://news.example/story", 200)], NEXT_CRAWL)
    original = read_capture(tmp_path / first.warc_file, first.offset)
    revisit = read_capture(tmp_path / later.warc_file, later.offset)
    assert revisit.record_type == "revisit"
    assert original.warc_header("WARC-Date") == "2026-05-01T10:00:00Z"
    assert revisit.warc_header("WARC-Refers-To-Date") == "2026-05-01T10:00:00Z"  # not ...10:00:00.000000Z
    assert revisit.warc_header("WARC-Protocol") == original.warc_header("WARC-Protocol") == "http/1.1"
