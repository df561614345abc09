"""The read commands: on a read-only data dir, on what is not there, on nothing, at 80 columns.

A read command (articles, show, stats, runs, verify, serve, replay, schedule list, export)
opens the catalogue without creating, migrating, locking or writing anything. The
read-only data dir is a real one: a read-only bind mount of it, in a mount namespace of
the command's own (``unshare --mount``), so that root, who runs the tests and whom
permission bits do not stop, gets EROFS like anyone else.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from archive.catalogue.database import MIGRATIONS
from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.warc.writer import WarcWriter

SOURCE = "le-courrier-du-maghreb-edition-du-soir"  # a long name: the runs table must still fit
URL = "http://127.0.0.1:9/fr/2026/11/03/port.html"  # never fetched: the archive is built directly
PAGE = ("<html><head><title>Le port</title></head><body><p>"
        + "Le port de Bahria lance l'extension de son terminal. " * 20 + "</p></body></html>").encode()
TITLE = "Le port de Bahria lance l'extension de son terminal à conteneurs, la plus grande de son histoire"
FAILED = ("nothing fetched: 3 requests failed: DownloadConnectionRefusedError (connection refused) "
          "at http://127.0.0.1:9/sitemap.xml")
NEWSARCHIVE = [sys.executable, "-c", "from cli.main import main; main()"]
# The command after it, with its first argument (the data dir) bind-mounted read-only over itself.
READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def build_archive(workdir: Path) -> Path:
    """A data dir as a crawl leaves it: one WARC file, its capture, an article, an ok and a failed run."""
    data_dir = workdir / "data"
    catalogue = Catalogue(f"sqlite:///{data_dir / 'catalogue.sqlite'}")
    run_id = catalogue.start_run(SOURCE, host="crawler-1")
    with WarcWriter(data_dir / "warcs", SOURCE, revisit_lookup=catalogue.revisit_target) as writer:
        info = writer.write_exchange(url=URL, method="GET", request_headers=[("Host", "127.0.0.1:9")],
                                     request_body=b"", protocol="HTTP/1.1", status=200, reason="",
                                     response_headers=[("Content-Type", "text/html; charset=utf-8")], payload=PAGE)
        capture_id = catalogue.add_capture(run_id, info)
    catalogue.record_article(SOURCE, URL, Extracted(
        text="Le port de Bahria lance l'extension de son terminal. " * 20, title=TITLE, authors=["Nadia B."],
        published="2026-11-03", language="fr", sitename="Le Courrier", canonical_url=None, description=None),
        capture_id=capture_id, seen=info.timestamp)
    catalogue.finish_run(run_id, "ok", pages=1, bytes=len(PAGE), articles_new=1, warc_files=writer.files)
    failed = catalogue.start_run(SOURCE, host="crawler-1")
    catalogue.finish_run(failed, "failed", errors=3, error_kinds={"DownloadConnectionRefusedError": 3},
                         message=FAILED)
    catalogue.close()  # the last connection gone, SQLite has removed catalogue.sqlite-wal and -shm
    (workdir / "sources.toml").write_text(
        f'[[source]]\nname = "{SOURCE}"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "*/30 * * * *"\n')
    return data_dir


def newsarchive(workdir: Path, *args: str, read_only: Path | None = None, timeout: float = 120,
                ) -> subprocess.CompletedProcess[str]:
    """The command in ``workdir``; with ``read_only``, that directory is a read-only mount for it."""
    mount = ["unshare", "--mount", "sh", "-c", READ_ONLY_MOUNT, "sh", str(read_only)] if read_only else []
    return subprocess.run([*mount, *NEWSARCHIVE, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=workdir)


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and mtime: what a read must leave as it was."""
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*"))}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_archive(tmp_path)


def test_read_commands_work_on_a_read_only_data_dir(archive: Path, tmp_path: Path) -> None:
    workdir = tmp_path
    touched = subprocess.run(["unshare", "--mount", "sh", "-c", READ_ONLY_MOUNT, "sh", str(archive),
                              "touch", str(archive / "x")], capture_output=True, text=True)
    assert "Read-only file system" in touched.stderr, f"no read-only mount, nothing tested: {touched.stderr}"
    before = snapshot(archive)

    rows = [json.loads(line) for line in
            newsarchive(workdir, "articles", "--format", "jsonl", read_only=archive).stdout.splitlines()]
    assert [row["title"] for row in rows] == [TITLE]
    shown = newsarchive(workdir, "show", str(rows[0]["id"]), read_only=archive)
    assert shown.returncode == 0 and TITLE in shown.stdout, shown.stderr
    stats = newsarchive(workdir, "stats", "--format", "json", read_only=archive)
    assert json.loads(stats.stdout)["total"] == 1, stats.stderr
    runs = [json.loads(line) for line in
            newsarchive(workdir, "runs", "--format", "jsonl", read_only=archive).stdout.splitlines()]
    assert [(run["status"], run["message"]) for run in runs] == [("failed", FAILED), ("ok", None)]
    verified = newsarchive(workdir, "verify", read_only=archive)
    assert verified.returncode == 0 and "1 WARC files, 3 records, 1 catalogue captures: ok" in verified.stdout, (
        verified.stdout + verified.stderr)
    timetable = newsarchive(workdir, "schedule", "list", "--format", "jsonl", read_only=archive)
    assert [row["last_status"] for row in map(json.loads, timetable.stdout.splitlines())] == ["failed"], (
        timetable.stderr)
    exported = newsarchive(workdir, "export", "--wacz", str(workdir / "archive.warc.wacz"), read_only=archive)
    assert exported.returncode == 0 and (workdir / "archive.warc.wacz").stat().st_size > 0, exported.stderr
    assert SOURCE.encode() in served(workdir, archive, "serve", "/api/runs")
    assert b"Le port de Bahria" in served(workdir, archive, "replay", f"/web/{URL}")

    assert snapshot(archive) == before  # nothing created, migrated, locked or written


def served(workdir: Path, data_dir: Path, server: str, path: str) -> bytes:
    """The body of ``path`` from ``newsarchive serve`` or ``replay`` running on the read-only data dir."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mount = ["unshare", "--mount", "sh", "-c", READ_ONLY_MOUNT, "sh", str(data_dir)]
    process = subprocess.Popen([*mount, *NEWSARCHIVE, server, "--port", str(port)], cwd=workdir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                    return response.read()
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{server} did not answer: {process.communicate()[1][-3000:]}") from None
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_read_only_mount_sees_what_a_crawl_writing_elsewhere_committed(archive: Path, tmp_path: Path) -> None:
    writer = Catalogue(f"sqlite:///{archive / 'catalogue.sqlite'}")  # a crawl, keeping its connection open
    try:
        live = writer.start_run("live", host="crawler-1")  # committed, still in catalogue.sqlite-wal
        runs = newsarchive(tmp_path, "runs", "--format", "jsonl", read_only=archive)
        assert [json.loads(line)["id"] for line in runs.stdout.splitlines()][0] == live, runs.stderr
    finally:
        writer.close()


def test_a_data_dir_that_is_not_there_is_one_line_and_not_created(tmp_path: Path) -> None:
    for args in (["articles"], ["show", "1"], ["verify"], ["export", "--wacz", "a.wacz"]):
        result = newsarchive(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr == "error: data: no such data dir (give --data-dir DIR; `newsarchive demo` or " \
                                "`newsarchive crawl` makes one)\n", args
    assert list(tmp_path.iterdir()) == []


def test_an_older_catalogue_says_to_upgrade_and_db_upgrade_does(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    catalogue = Catalogue(f"sqlite:///{data_dir / 'catalogue.sqlite'}", migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:  # as the release before the newest migration left it
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    catalogue.close()
    head = ScriptDirectory.from_config(config).get_current_head()

    old = newsarchive(tmp_path, "runs", read_only=data_dir)
    assert old.returncode == 2
    assert old.stderr == (f"error: {data_dir / 'catalogue.sqlite'}: schema revision 0002 is older than this "
                          f"newsarchive's ({head}): run `newsarchive db upgrade`\n")

    upgraded = newsarchive(tmp_path, "db", "upgrade")
    assert (upgraded.returncode, upgraded.stdout) == (
        0, f"{data_dir / 'catalogue.sqlite'}: schema upgraded from 0002 to revision {head}\n"), upgraded.stderr
    assert newsarchive(tmp_path, "runs", read_only=data_dir).stderr == "no crawl runs yet\n"
    assert f"schema already at revision {head}" in newsarchive(tmp_path, "db", "upgrade").stdout


def test_no_results_are_said_in_words(tmp_path: Path) -> None:
    assert newsarchive(tmp_path, "db", "upgrade").returncode == 0  # an empty catalogue
    (tmp_path / "sources.toml").write_text("# no sources yet\n")
    for args, words in ((["articles", "harbour"], "no articles match\n"), (["articles"], "no articles match\n"),
                        (["stats"], "no articles match\n"), (["runs"], "no crawl runs yet\n"),
                        (["runs", "--source", "lemonde"], "no crawl runs of source 'lemonde' yet\n"),
                        (["schedule", "list"], "no sources in sources.toml\n")):
        result = newsarchive(tmp_path, *args)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", words), args
    assert newsarchive(tmp_path, "articles", "--format", "json").stdout == "[]\n"  # programs get valid JSON
    crawl = newsarchive(tmp_path, "crawl")
    assert crawl.returncode == 2
    assert crawl.stderr == "error: sources.toml: no sources to crawl: add a [[source]] table (README: Sources)\n"


def in_terminal(workdir: Path, *args: str, columns: int = 80) -> str:
    """What ``newsarchive ARGS`` shows on a terminal ``columns`` wide (a pty, with COLUMNS set too)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([*NEWSARCHIVE, *args], cwd=workdir, stdin=follower, stdout=follower,
                               stderr=follower, env={**os.environ, "COLUMNS": str(columns)})
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the command has exited and closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, output.decode()
    return re.sub(r"\x1b\[[0-9;]*m", "", output.decode().replace("\r\n", "\n"))  # what shows: no colour codes


def test_runs_and_articles_tables_fit_80_columns(archive: Path, tmp_path: Path) -> None:
    runs = in_terminal(tmp_path, "runs")
    assert max(map(len, runs.splitlines())) <= 80, runs
    header = next(line for line in runs.splitlines() if "id" in line and "status" in line)
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "id", "source", "status", "started", "pages", "new", "errors"]  # whole words, not 3-letter slivers
    assert "│ failed │" in runs and "│ ok     │" in runs
    assert " ".join(runs.split()).endswith(f"run 2 (failed): {FAILED}")  # why, below the table, wrapped

    articles = in_terminal(tmp_path, "articles")
    assert max(map(len, articles.splitlines())) <= 80, articles
    assert "│ 2026-11-03 │" in articles and "│ fr   │" in articles
    title_words = [line.split("│")[5].strip() for line in articles.splitlines() if line.count("│") == 7]
    assert " ".join(word for word in title_words if word) == TITLE  # folded between words, all there
