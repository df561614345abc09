"""WARC file names and states, with real files and a real writer process killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.warc.files import (
    OPEN_SUFFIX,
    WarcName,
    WarcState,
    finished_files,
    open_files,
    resolve,
    state,
)

NAME = "news-fr-20240501100000-00003.warc.gz"


def test_names_are_made_and_parsed_exactly() -> None:
    made = WarcName.make("news-fr", datetime(2024, 5, 1, 12, 0, tzinfo=UTC).astimezone(), 3)
    assert made.finished == "news-fr-20240501120000-00003.warc.gz" and made.open == made.finished + OPEN_SUFFIX
    assert WarcName.parse(NAME) == WarcName("news-fr", "20240501100000", 3)
    assert WarcName.parse(NAME + OPEN_SUFFIX) == WarcName.parse(NAME)
    assert WarcName.parse("news-fr-20240501100000-123456.warc.gz") == WarcName("news-fr", "20240501100000", 123456)
    for other in ("news-20240501.warc.gz", "news-fr-20240501100000-00003.warc", "crawl.warc.gz", NAME + ".tmp"):
        assert WarcName.parse(other) is None, other
    with pytest.raises(ValueError, match="without '/'"):
        WarcName.make("a/b", datetime.now(UTC), 0)


def test_open_files_of_a_prefix_are_its_own(tmp_path: Path) -> None:
    for name in ("news-20240501100000-00000.warc.gz.open", "news-fr-20240501100000-00000.warc.gz.open",
                 "news-20240501100000-00001.warc.gz", "newsx-20240501100000-00000.warc.gz.open", "news-notes.open"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in open_files(tmp_path, "news")] == ["news-20240501100000-00000.warc.gz.open"]
    assert [p.name for p in open_files(tmp_path, "news-fr")] == ["news-fr-20240501100000-00000.warc.gz.open"]
    assert len(open_files(tmp_path)) == 3
    assert [p.name for p in finished_files(tmp_path)] == ["news-20240501100000-00001.warc.gz"]


def test_a_capture_resolves_to_its_file_whatever_its_state(tmp_path: Path) -> None:
    assert resolve(tmp_path, NAME) is None
    (tmp_path / (NAME + OPEN_SUFFIX)).write_bytes(b"")
    assert resolve(tmp_path, NAME) == tmp_path / (NAME + OPEN_SUFFIX)
    (tmp_path / (NAME + OPEN_SUFFIX)).rename(tmp_path / NAME)
    assert resolve(tmp_path, NAME) == tmp_path / NAME
    for bad in ("../" + NAME, NAME + OPEN_SUFFIX):
        with pytest.raises(ValueError):
            resolve(tmp_path, bad)


def test_a_writer_owns_its_file_until_it_dies_even_of_sigkill(tmp_path: Path) -> None:
    """The kernel drops the writer's flock when the process dies, however it dies: no stale owner."""
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from archive.warc.writer import WarcWriter
        writer = WarcWriter(Path({str(tmp_path)!r}), "news")
        writer.write_exchange(url="http://127.0.0.1/a", method="GET", request_headers=[], request_body=b"",
                              protocol="HTTP/1.1", status=200, reason="", response_headers=[], payload=b"a")
        print("written", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[3])
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "written\n"
        [path] = open_files(tmp_path)
        assert state(path) is WarcState.OPEN
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert state(path) is WarcState.UNFINISHED
    assert state(path.with_name(NAME)) is WarcState.FINISHED  # by its name alone
