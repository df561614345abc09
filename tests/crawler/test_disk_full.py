"""A disk that fills during a crawl: the crawl stops at once, says why, and leaves a whole archive.

The first test makes the data dir's ``warcs`` a small tmpfs (mounted here, as root) that
fills long before the local site is crawled; the catalogue (SQLite) and the logs stay on the
ordinary disk, where the run record can still be written. That is the layout that matters:
WARC files are what grows. The second puts the whole data dir on the small disk: the crawl
stops as promptly with its WARC files whole, but cannot record its run until space is freed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.bench_site import build_bench_site
from crawler.settings import CONCURRENT_REQUESTS
from tests.command import run_cli_in
from tests.site_server import SiteServer
from tests.archive.warc.test_records import warcio_check

DISK_SIZE = "256k"  # about 80 pages of the bench site, gzipped, with their request records
ARTICLES = 300  # about 1 MB of WARC records: the disk is full a quarter of the way


@pytest.fixture
def small_disk() -> Iterator[Callable[[Path, str], None]]:
    """Mounts a tmpfs of a given size on a new directory; unmounted afterwards.

    Mounting needs root (scripts/test runs as CI's root): elsewhere the test fails saying so,
    rather than passing untested.
    """
    if os.geteuid() != 0:
        pytest.fail("mounting a tmpfs needs root: run this test as root")
    with ExitStack() as unmount:

        def mount(path: Path, size: str) -> None:
            path.mkdir(parents=True)
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                     capture_output=True, text=True)
            if mounted.returncode:
                pytest.fail(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
            unmount.callback(subprocess.run, ["umount", str(path)], check=True)

        yield mount


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    """The bench site, and a sources file with its source ``gazette`` crawled without delay."""
    build_bench_site(tmp_path / "site", ARTICLES)
    with SiteServer(tmp_path / "site") as server:
        (tmp_path / "sources.toml").write_text(sources_toml(server, max_pages=5000))
        yield server


def sources_toml(server: SiteServer, max_pages: int) -> str:
    return (f'[[source]]\nname = "gazette"\nstart_urls = ["{server.base_url}/"]\n'
            f'feeds = ["{server.base_url}/rss.xml"]\nallow = [\'/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/\']\n'
            f"max_pages = {max_pages}\ndelay = 0\n")


def test_a_full_disk_stops_the_crawl_failed_with_its_archive_whole(
        tmp_path: Path, small_disk: Callable[[Path, str], None], site: SiteServer) -> None:
    data_dir = tmp_path / "data"
    small_disk(data_dir / "warcs", DISK_SIZE)
    crawl = run_cli_in(tmp_path, "crawl", "--no-progress")
    fetched = len(site.paths)
    warcs = data_dir / "warcs"

    assert crawl.returncode == 1
    (line,) = crawl.stderr.splitlines()  # one clear line
    assert line.startswith(f"error: crawl of gazette failed: disk full writing {warcs}/gazette-")
    assert "(No space left on device): crawl stopped" in line and f"free space in {warcs}" in line

    (run,) = [json.loads(row) for row in run_cli_in(tmp_path, "runs", "--format", "jsonl").stdout.splitlines()]
    assert run["status"] == "failed" and line.endswith(run["message"])
    assert 0 < run["pages"] and run["articles_new"] > 0
    # Prompt: nothing new was asked once the disk was full; only requests the downloader already
    # held (at most CONCURRENT_REQUESTS) went on, their responses dropped unarchived.
    assert fetched - run["pages"] <= CONCURRENT_REQUESTS
    assert fetched < ARTICLES / 2

    files = sorted(warcs.iterdir())
    assert files and all(path.name.endswith(".warc.gz") for path in files)  # finished, none left .open
    assert [path.name for path in files] == run["warc_files"]
    for path in files:
        assert warcio_check(path).returncode == 0, warcio_check(path).stdout
    verify = run_cli_in(tmp_path, "verify")
    assert verify.returncode == 0, verify.stdout
    assert f"{run['pages']} catalogue captures: ok" in verify.stdout


def test_a_full_disk_under_the_catalogue_stops_the_crawl_and_its_run_is_closed_once_space_is_freed(
        tmp_path: Path, small_disk: Callable[[Path, str], None], site: SiteServer) -> None:
    data_dir = tmp_path / "data"
    small_disk(data_dir, "1m")  # the catalogue, its WARC files and its log
    crawl = run_cli_in(tmp_path, "crawl", "--no-progress")
    fetched = len(site.paths)
    assert crawl.returncode == 1
    assert fetched < ARTICLES / 2
    files = sorted((data_dir / "warcs").iterdir())
    assert files and all(path.name.endswith(".warc.gz") for path in files)
    for path in files:
        assert warcio_check(path).returncode == 0, warcio_check(path).stdout

    subprocess.run(["mount", "-o", "remount,size=64m", str(data_dir)], check=True)  # space freed
    (tmp_path / "sources.toml").write_text(sources_toml(site, max_pages=1))
    assert run_cli_in(tmp_path, "crawl", "--no-progress").returncode == 0
    first, _ = [json.loads(row) for row in run_cli_in(tmp_path, "runs", "--format", "jsonl").stdout.splitlines()][::-1]
    if first["status"] == "failed":  # the full catalogue still took the run's last, one-row write
        # The disk holds the catalogue and the WARC files: whichever write meets it full first stops the crawl.
        assert first["message"].startswith((f"disk full writing the catalogue {data_dir / 'catalogue.sqlite'}: "
                                            "crawl stopped", f"disk full writing {data_dir / 'warcs'}/gazette-"))
        assert "crawl stopped" in first["message"]
    else:  # it could not: closed by the next crawl, as its process is gone
        assert first["status"] == "interrupted"
        assert "its crawl process" in first["message"] and "is gone" in first["message"]
    verify = run_cli_in(tmp_path, "verify")
    assert verify.returncode == 0, verify.stdout
