"""`newsarchive index` rebuilds the capture index from the WARC files; `newsarchive replay` serves it."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import delete, select, update
from starlette.testclient import TestClient

from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, ArticleVersion, Capture, NotArticle
from archive.web.replay import create_replay_app
from tests.command import run_cli, run_cli_in, start_cli
from tests.replay_archive import ReplayArchive, free_port
from tests.replay_site import STORY, STORY_MARKER

FACTS = (Capture.warc_file, Capture.warc_offset, Capture.warc_length, Capture.url, Capture.urlkey,
         Capture.timestamp, Capture.status, Capture.mime, Capture.record_type, Capture.payload_digest,
         Capture.refers_to_url, Capture.refers_to_date)


def index_rows(db_url: str) -> set[tuple]:
    catalogue = Catalogue(db_url)
    with catalogue.session() as session:
        rows = {tuple(row) for row in session.execute(select(*FACTS))}
    catalogue.close()
    return rows


def copy_archive(archive: ReplayArchive, workdir: Path) -> Path:
    """A copy of the archive's data dir (the catalogue copied with SQLite's backup API: it is in WAL mode)."""
    data = workdir / "data"
    shutil.copytree(archive.warc_dir, data / "warcs")
    with sqlite3.connect(archive.data_dir / "catalogue.sqlite") as source, \
            sqlite3.connect(data / "catalogue.sqlite") as target:
        source.backup(target)
    return data


def test_index_repairs_the_captures_table_from_the_warc_files(replay_archive: ReplayArchive, tmp_path: Path) -> None:
    data = copy_archive(replay_archive, tmp_path)
    db_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    before = index_rows(db_url)
    catalogue = Catalogue(db_url)
    with catalogue.session() as session:
        referenced = set(session.scalars(select(Article.capture_id))) | set(
            session.scalars(select(ArticleVersion.capture_id))) | set(session.scalars(select(NotArticle.capture_id)))
        lost = session.execute(delete(Capture).where(Capture.id.not_in(referenced))).rowcount
        session.execute(update(Capture).where(Capture.id == min(referenced)).values(status=500, urlkey="wrong"))
        session.add(Capture(url="http://gone.example/", urlkey="example,gone)/", timestamp=datetime(2000, 1, 1),
                            status=200, record_type="response", warc_file="gone.warc.gz", warc_offset=0,
                            warc_length=1, payload_digest="sha1:X"))
    catalogue.close()

    result = run_cli_in(tmp_path, "index")
    assert result.returncode == 0, result.stderr
    assert f"{lost} captures added, 1 corrected, 1 removed" in result.stderr
    assert index_rows(db_url) == before


def test_index_builds_a_new_catalogue_from_the_warc_files_alone(
        replay_archive: ReplayArchive, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    result = run_cli("--data-dir", str(replay_archive.data_dir), "--db", db_url, "index", timeout=120)
    assert result.returncode == 0, result.stderr
    assert index_rows(db_url) == index_rows(replay_archive.db_url)
    catalogue = Catalogue(db_url)
    with TestClient(create_replay_app(catalogue, replay_archive.warc_dir)) as client:
        page = client.get(f"/web/{replay_archive.second}/{replay_archive.url(STORY)}")
    catalogue.close()
    assert page.status_code == 200 and STORY_MARKER in page.text


def wait_for(server: subprocess.Popen[str], url: str, **headers: str) -> httpx.Response:
    """The first answer of a server that is starting."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()[0]
            time.sleep(0.2)


def test_replay_command_serves_the_replay_origin_alone(replay_archive: ReplayArchive) -> None:
    port = free_port()
    server = start_cli("--data-dir", str(replay_archive.data_dir), "replay", "--host", "127.0.0.1",
                       "--port", str(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        response = wait_for(server, f"{base}/web/{replay_archive.first}/{replay_archive.url(STORY)}")
        assert response.status_code == 200 and STORY_MARKER in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        for path in ("/api/articles", "/"):  # no app here
            assert httpx.get(base + path, timeout=5).status_code == 404, path
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_command_serves_the_app_and_replay_on_two_origins(replay_archive: ReplayArchive) -> None:
    app_port, replay_port = free_port(), free_port()
    server = start_cli("--data-dir", str(replay_archive.data_dir), "serve", "--port", str(app_port),
                       "--replay-port", str(replay_port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    app, replay = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{replay_port}"
    page = f"/web/{replay_archive.first}/{replay_archive.url(STORY)}"
    try:
        frame = wait_for(server, app + page)
        assert frame.status_code == 200 and STORY_MARKER not in frame.text
        assert f'src="{replay}/web/{replay_archive.first}mp_/{replay_archive.url(STORY)}"' in frame.text
        content = wait_for(server, replay + page, **{"Sec-Fetch-Dest": "iframe"})
        assert content.status_code == 200 and STORY_MARKER in content.text
        assert f"frame-ancestors 'self' {app}" in content.headers["content-security-policy"]
        opened = httpx.get(replay + page, headers={"Sec-Fetch-Dest": "document"}, timeout=5)
        assert opened.status_code == 302 and opened.headers["location"] == app + page
        assert httpx.get(app + "/api/articles", timeout=5).status_code == 200
        assert httpx.get(replay + "/api/articles", timeout=5).status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_missing_or_damaged_warc_file_is_reported_not_guessed(replay_archive: ReplayArchive, tmp_path: Path) -> None:
    data = copy_archive(replay_archive, tmp_path)
    first = min((data / "warcs").glob("*.warc.gz"))
    first.rename(first.with_suffix(".moved"))
    catalogue = Catalogue(f"sqlite:///{data / 'catalogue.sqlite'}")
    with TestClient(create_replay_app(catalogue, data / "warcs")) as client:
        page = client.get(f"/web/{replay_archive.first}/{replay_archive.url(STORY)}")
    catalogue.close()
    assert page.status_code == 502
    assert f"WARC file {first.name} is not in" in page.text and "newsarchive index" in page.text

    first.with_suffix(".moved").rename(first)
    boundary = replay_archive.captures(STORY)[0].warc_offset  # where a record starts: garbage goes in there
    content = first.read_bytes()
    first.write_bytes(content[:boundary] + gzip.compress(b"not a WARC record\r\n\r\n") + content[boundary:])
    result = run_cli_in(tmp_path, "index")
    assert result.returncode == 1
    assert f"{first} cannot be read to its end" in result.stderr and "newsarchive verify" in result.stderr
