"""Recovery of unfinished WARC files, on real files cut where a crash cuts them, and a real catalogue."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from warcio.archiveiterator import ArchiveIterator

from archive.catalogue.store import Catalogue
from archive.config import Source
from archive.extract.article import extract_article
from archive.catalogue.models import Article, ArticleUrl, Capture, CrawlRun
from archive.warc.recovery import RecoveryReport, recover_file, recover_warcs, scan_warc
from archive.warc.verify import verify_archive
from archive.warc.records import CaptureInfo
from archive.warc.writer import WarcWriter
from archive.warc.files import OPEN_SUFFIX, WarcState, open_files, state

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
BASE = "https://news.example"
SOURCE = Source(name="news", start_urls=(f"{BASE}/",), allow=(r"/2019/\d+/",))


def write(writer: WarcWriter, path: str, payload: bytes, *, minutes: int = 0,
          content_type: str = "text/html; charset=utf-8") -> CaptureInfo:
    return writer.write_exchange(
        url=BASE + path, method="GET", request_headers=[("User-Agent", "test")], request_body=b"",
        protocol="HTTP/1.1", status=200, reason="OK", response_headers=[("Content-Type", content_type)],
        payload=payload, date=T0 + timedelta(minutes=minutes))


def record_ids(path: Path) -> list[str]:
    with open(path, "rb") as f:
        return [record.rec_headers.get_header("WARC-Record-ID") for record in ArchiveIterator(f)]


def boundaries(path: Path) -> list[tuple[int, int, str]]:
    """(offset, end, record id) of each record."""
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        out = []
        for record in records:
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            record.raw_stream.read()
            out.append((records.get_record_offset(), records.get_record_offset() + records.get_record_length(),
                        record_id))
    return out


def crash_copy(finished: Path, size: int, into: Path) -> Path:
    """The file as a crash leaves it: ``.open``, its first ``size`` bytes."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / (finished.name + OPEN_SUFFIX)
    target.write_bytes(finished.read_bytes()[:size])
    return target


@pytest.fixture
def finished_warc(tmp_path: Path) -> Path:
    """A finished file with responses, requests and a revisit; payloads of several gzip buffers."""
    with WarcWriter(tmp_path / "source", "news") as writer:
        write(writer, "/robots.txt", b"User-agent: *\n", content_type="text/plain")
        write(writer, "/2019/1/a.html", b"<p>" + b"first story " * 4000 + b"</p>")
        write(writer, "/2019/1/b.html", bytes(range(256)) * 300)  # incompressible: members of many KB
        write(writer, "/2019/1/c.html", b"<p>" + b"first story " * 4000 + b"</p>")  # a revisit
    [name] = writer.files
    return tmp_path / "source" / name


def test_a_file_cut_anywhere_recovers_exactly_the_whole_records_before_the_cut(
        finished_warc: Path, tmp_path: Path) -> None:
    records = boundaries(finished_warc)
    size = finished_warc.stat().st_size
    cuts = {0, 1, size}
    for offset, end, _ in records:
        cuts |= {max(0, min(size, at)) for at in range(end - 3, end + 4)}  # each boundary, +- 3 bytes
        cuts |= {offset + (end - offset) // 2, offset + 10, end - 9}  # mid-member, in its header and trailer
    recovered = []
    for n, cut in enumerate(sorted(cuts)):
        open_path = crash_copy(finished_warc, cut, tmp_path / f"cut-{n}")
        report = RecoveryReport()
        result = recover_file(open_path, report)
        expected = [record_id for _, end, record_id in records if end <= cut]
        assert result is not None and report.files == [result]
        assert not open_path.exists(), f"cut at {cut}: still .open"
        finished = open_path.with_name(finished_warc.name)
        if not expected:
            assert result.removed and not finished.exists()
            continue
        assert record_ids(finished) == expected, f"cut at {cut}"
        assert result.records == len(expected)
        assert result.bytes_cut == cut - max(end for _, end, _ in records if end <= cut)
        recovered.append(str(finished))
    check = subprocess.run([Path(sys.executable).with_name("warcio"), "check", *recovered],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]


def test_a_broken_record_followed_by_whole_ones_is_damage_and_left_alone(finished_warc: Path, tmp_path: Path) -> None:
    (_, _, _), (offset, end, _), *_ = boundaries(finished_warc)
    data = bytearray(finished_warc.read_bytes())
    data[offset + (end - offset) // 2] ^= 0xFF  # bit rot inside the first response, whole records after it
    open_path = tmp_path / "rot" / (finished_warc.name + OPEN_SUFFIX)
    open_path.parent.mkdir()
    open_path.write_bytes(bytes(data))
    assert scan_warc(open_path).damaged_at == offset
    report = RecoveryReport()
    assert recover_file(open_path, report) is None
    assert report.damaged == [open_path.name] and open_path.read_bytes() == bytes(data)
    checked = verify_archive(Catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite'}"), open_path.parent)
    assert not checked.ok and f"{open_path.name}@{offset}" in checked.problems[0]  # damage: exit 1


def test_a_file_a_live_writer_owns_is_left_alone_and_its_captures_read(tmp_path: Path) -> None:
    catalogue = Catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite'}")
    warc_dir = tmp_path / "warcs"
    writer = WarcWriter(warc_dir, "news")
    info = write(writer, "/2019/1/a.html", b"<p>story</p>")
    catalogue.add_capture(None, info)
    [open_path] = open_files(warc_dir)
    assert state(open_path) is WarcState.OPEN
    report = recover_warcs(catalogue, warc_dir, [SOURCE])
    assert report.being_written == [open_path.name] and not report.files
    checked = verify_archive(catalogue, warc_dir)
    assert checked.ok and checked.being_written == [open_path.name] and checked.captures == 1
    writer.close()
    assert not open_files(warc_dir)


# A frontier worker's files carry its host and pid after the source's name (crawler.context.warc_prefix).
@pytest.mark.parametrize("prefix", ["news", "news-crawler-1-4242"])
def test_recovery_indexes_repoints_drops_and_catalogues_from_the_archive(
        catalogue_url: str, tmp_path: Path, datasets_dir: Path, prefix: str) -> None:
    """The kinds of loss a crash leaves, in one file: each made right, and verify finds the archive whole."""
    catalogue = Catalogue(catalogue_url)
    warc_dir = tmp_path / "warcs"
    pages = sorted((datasets_dir / "articles-dev").glob("*.html"))[:6]
    html = {f"/2019/1/{letter}.html": page.read_bytes() for letter, page in zip("abcde", pages, strict=False)}
    html["/2019/1/e.html"] = pages[5].read_bytes()

    def catalogued(info: CaptureInfo, capture_id: int) -> int:
        extracted = extract_article(html[info.url.removeprefix(BASE)], info.url, "text/html; charset=utf-8")
        assert extracted is not None
        return catalogue.record_article("news", info.url, extracted, capture_id=capture_id,
                                        seen=info.timestamp).article_id

    with WarcWriter(warc_dir, prefix) as earlier:  # an earlier crawl archived e.html
        e_first = write(earlier, "/2019/1/e.html", html["/2019/1/e.html"])
    e_first_id = catalogue.add_capture(None, e_first)
    e_article = catalogued(e_first, e_first_id)

    run_id = catalogue.start_run("news", host="crawler-1")
    writer = WarcWriter(warc_dir, prefix)
    robots = write(writer, "/robots.txt", b"User-agent: *\n", content_type="text/plain", minutes=1)
    catalogue.add_capture(run_id, robots)
    a = write(writer, "/2019/1/a.html", html["/2019/1/a.html"], minutes=2)
    a_article = catalogued(a, catalogue.add_capture(run_id, a))
    b = write(writer, "/2019/1/b.html", html["/2019/1/b.html"], minutes=3)
    b_id = catalogue.add_capture(run_id, b)  # indexed, its extraction still queued: not catalogued
    c = write(writer, "/2019/1/c.html", html["/2019/1/c.html"], minutes=4)  # archived, not even indexed
    d = write(writer, "/2019/1/d.html", html["/2019/1/d.html"], minutes=5)
    catalogued(d, catalogue.add_capture(run_id, d))
    e_again = write(writer, "/2019/1/e.html", html["/2019/1/e.html"] + b"\n", minutes=6)
    e_again_id = catalogue.add_capture(run_id, e_again)
    # Pages found to be no article, as the capture that showed it: one kept by the cut, one past it.
    catalogue.record_not_article("news", BASE + "/2019/1/kept-gallery", reason="too_short", capture_id=b_id)
    catalogue.record_not_article("news", BASE + "/2019/1/lost-gallery", reason="too_short", capture_id=e_again_id)
    with catalogue.session() as session:
        session.execute(update(Article).where(Article.id == e_article).values(capture_id=e_again_id))
    catalogue.update_run(run_id, warc_files=[writer.files[0] + OPEN_SUFFIX])
    writer.close()
    # The crash: the OS kept the file up to the middle of d.html's response (a power cut took the
    # rest), while the catalogue had d.html and the second e.html indexed and catalogued.
    name = writer.files[0]
    crash_copy(warc_dir / name, d.offset + d.length // 2, warc_dir / "tmp")
    (warc_dir / "tmp" / (name + OPEN_SUFFIX)).rename(warc_dir / (name + OPEN_SUFFIX))
    (warc_dir / name).unlink()
    shutil.rmtree(warc_dir / "tmp")

    before = verify_archive(catalogue, warc_dir)
    assert before.ok, before.problems  # unfinished is not damage
    assert [u.name for u in before.unfinished] == [name + OPEN_SUFFIX] and before.captures_past_cut == 2

    report = recover_warcs(catalogue, warc_dir, [SOURCE])
    assert [(f.name, f.records) for f in report.files] == [(name, 1 + 2 * 4)]  # warcinfo, robots, a, b, c
    assert (report.captures_added, report.captures_removed) == (1, 2)
    assert report.articles_repointed == 1 and report.articles_dropped == [d.url]
    assert report.articles_catalogued == 2  # b and c, from their archived responses
    assert report.lines()[-1].startswith("recovery: 1 unfinished WARC files, 9 records kept")
    # The memory whose page the cut took is forgotten: the next crawl fetches that URL again.
    assert catalogue.known_not_article_urls("news") == {BASE + "/2019/1/kept-gallery"}

    with catalogue.session() as session:
        by_url = {row.url: row for row in session.scalars(select(Article))}
        captures = {(row.warc_file, row.warc_offset): row for row in session.scalars(select(Capture))}
        urls = set(session.scalars(select(ArticleUrl.url)))
        run = session.get(CrawlRun, run_id)
    assert by_url[a.url].id == a_article and by_url[b.url].capture_id == b_id
    assert captures[(name, c.offset)].run_id == run_id and by_url[c.url].capture_id == captures[(name, c.offset)].id
    assert by_url[e_first.url].capture_id == e_first_id  # back to the earlier crawl's capture
    assert d.url not in by_url  # dropped: nothing archived backs it
    assert not any("/2019/1/d" in url for url in urls)  # so the next crawl fetches it again
    assert run is not None and run.warc_files == [name]
    after = verify_archive(catalogue, warc_dir)
    assert after.ok and not after.unfinished and after.captures == len(captures), after.problems
    assert recover_warcs(catalogue, warc_dir, [SOURCE]).files == []  # nothing left to do


def test_gzip_members_are_whole_records(finished_warc: Path) -> None:
    """The premise of recovery: every record is one gzip member, so a member boundary is a record boundary."""
    data = finished_warc.read_bytes()
    starts = [offset for offset, _, _ in boundaries(finished_warc)]
    assert all(data[at:at + 3] == b"\x1f\x8b\x08" for at in starts)
    assert gzip.decompress(data[starts[0]:starts[1]]).startswith(b"WARC/1.1\r\nWARC-Type: warcinfo")
