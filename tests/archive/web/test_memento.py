"""Memento (RFC 7089) on both origins: TimeMaps list every capture, the TimeGate honours Accept-Datetime,
a memento's Memento-Datetime is its WARC-Date.

The archive is written with the project's WARC writer: one article captured four times (the
last a 304, which is no memento of its own) on four days.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.warc.index import CaptureIndex
from archive.warc.reader import read_capture
from archive.wayback import timestamp14
from archive.web.app import create_app
from archive.web.replay import create_replay_app
from tests.replay_archive import TEST_ORIGINS, Page, write_archive

URL = "http://news.example/2026/11/story.html"
T0 = datetime(2026, 11, 1, 8, 30, 15, tzinfo=UTC)
DAYS = [T0 + timedelta(days=n, minutes=7 * n) for n in range(3)]
NOT_MODIFIED_AT = T0 + timedelta(days=3)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    pages = [Page(URL, when, f"<html><body><p>version {n}</p></body></html>".encode()) for n, when in enumerate(DAYS)]
    pages.append(Page(URL, NOT_MODIFIED_AT, b"", status=304))
    return write_archive(tmp_path_factory.mktemp("memento") / "data", pages)


@pytest.fixture(scope="module")
def clients(archive: Settings) -> Iterator[dict[str, TestClient]]:
    catalogue = Catalogue(archive.database_url, read_only=True)
    with TestClient(create_replay_app(catalogue, archive.warc_dir, TEST_ORIGINS), follow_redirects=False) as replay, \
            TestClient(create_app(archive, TEST_ORIGINS), base_url=TEST_ORIGINS.app,
                       follow_redirects=False) as app:
        yield {"replay": replay, "app": app}
    catalogue.close()


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


def links(value: str) -> list[tuple[str, dict[str, str]]]:
    """The links of a link-format document or Link header: (URI, parameters)."""
    out = []
    for match in re.finditer(r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", value):
        params = dict(re.findall(r'([a-z]+)="([^"]*)"', match.group(2)))
        out.append((match.group(1), params))
    return out


@pytest.mark.parametrize("origin", ["replay", "app"])
def test_the_timemap_lists_every_capture(clients: dict[str, TestClient], origin: str) -> None:
    client = clients[origin]
    base = str(client.base_url).rstrip("/")
    response = client.get(f"/timemap/link/{URL}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/link-format")
    entries = links(response.text)
    assert entries[0] == (URL, {"rel": "original"})
    assert (f"{base}/web/{URL}", {"rel": "timegate"}) in entries
    own = next(params for uri, params in entries if params["rel"] == "self")
    assert (own["from"], own["until"]) == (http_date(DAYS[0]), http_date(DAYS[-1]))
    mementos = [(uri, params) for uri, params in entries if "memento" in params["rel"].split()]
    assert [uri for uri, _ in mementos] == [f"{base}/web/{timestamp14(day)}/{URL}" for day in DAYS]
    assert [params["datetime"] for _, params in mementos] == [http_date(day) for day in DAYS]
    assert mementos[0][1]["rel"] == "first memento" and mementos[-1][1]["rel"] == "last memento"

    as_json = client.get(f"/timemap/json/{URL}")
    assert as_json.status_code == 200
    rows = [json.loads(line) for line in as_json.text.splitlines()]
    assert [(row["timestamp"], row["url"], row["status"]) for row in rows] == [
        (timestamp14(day), URL, "200") for day in DAYS]


def test_a_timemap_of_a_url_not_archived_is_a_404(clients: dict[str, TestClient]) -> None:
    assert clients["replay"].get("/timemap/link/http://news.example/never.html").status_code == 404
    assert clients["replay"].get(f"/timemap/xml/{URL}").status_code == 404


@pytest.mark.parametrize("origin", ["replay", "app"])
def test_accept_datetime_on_the_timegate_picks_the_closest_capture(clients: dict[str, TestClient],
                                                                  origin: str) -> None:
    client = clients[origin]
    for asked, expected in ((DAYS[0] - timedelta(days=30), DAYS[0]),
                            (DAYS[1] - timedelta(hours=3), DAYS[1]),
                            (DAYS[1] + timedelta(hours=11), DAYS[1]),
                            (DAYS[2] - timedelta(hours=11), DAYS[2]),
                            (NOT_MODIFIED_AT + timedelta(days=1), DAYS[2])):  # the 304 is not a memento
        another = DAYS[2] if expected == DAYS[0] else DAYS[0]  # a memento's own address, of another time
        for path in (f"/web/{URL}", f"/web/{timestamp14(another)}/{URL}", f"/web/2026/{URL}"):
            response = client.get(path, headers={"Accept-Datetime": http_date(asked)})
            assert response.status_code == 302, (path, asked)
            assert response.headers["location"] == f"/web/{timestamp14(expected)}/{URL}", (path, asked)
            assert response.headers["vary"] == "accept-datetime"
            assert {params["rel"] for _, params in links(response.headers["link"])} == {"original", "timemap"}
    # without Accept-Datetime: the timestamp decides, and /web/<url> is the latest
    assert client.get(f"/web/{URL}").headers["location"] == f"/web/{timestamp14(DAYS[2])}/{URL}"
    assert client.get(f"/web/{timestamp14(DAYS[1])[:8]}/{URL}").headers["location"] == (
        f"/web/{timestamp14(DAYS[1])}/{URL}")
    # the capture asked for by its own time and date is served, not redirected
    exact = client.get(f"/web/{timestamp14(DAYS[1])}/{URL}", headers={"Accept-Datetime": http_date(DAYS[1])})
    assert exact.status_code == 200
    bad = client.get(f"/web/{URL}", headers={"Accept-Datetime": "last tuesday"})
    assert bad.status_code == 400


@pytest.mark.parametrize("origin", ["replay", "app"])
def test_a_replayed_capture_carries_its_warc_date_and_its_links(clients: dict[str, TestClient], archive: Settings,
                                                               origin: str) -> None:
    client = clients[origin]
    base = str(client.base_url).rstrip("/")
    catalogue = Catalogue(archive.database_url, read_only=True)
    try:
        captures = [c for c in CaptureIndex(catalogue).query(URL) if c.status == 200]
    finally:
        catalogue.close()
    for capture in captures:
        warc_date = read_capture(Path(archive.warc_dir) / capture.warc_file, capture.warc_offset).warc_header(
            "WARC-Date")
        timestamp = timestamp14(capture.timestamp)
        response = client.get(f"/web/{timestamp}/{URL}")
        assert response.status_code == 200
        memento_datetime = parsedate_to_datetime(response.headers["memento-datetime"])
        assert memento_datetime == datetime.fromisoformat(warc_date).replace(microsecond=0)
        entries = {params["rel"]: (uri, params) for uri, params in links(response.headers["link"])}
        assert entries["original"][0] == URL
        assert entries["timegate"][0] == f"{base}/web/{URL}"
        assert entries["timemap"] == (f"{base}/timemap/link/{URL}",
                                      {"rel": "timemap", "type": "application/link-format"})
        assert entries["memento"] == (f"{base}/web/{timestamp}/{URL}",
                                      {"rel": "memento", "datetime": response.headers["memento-datetime"]})
