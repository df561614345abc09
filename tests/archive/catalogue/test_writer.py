"""The crawl's catalogue writer: batched writes that keep their order, and fail one by one."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from archive.catalogue.models import Article, Capture
from archive.catalogue.store import Catalogue
from archive.catalogue.writer import CatalogueWriter
from archive.warc.records import CaptureInfo
from tests.archive.catalogue.test_identity import page

WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def catalogue(catalogue_url: str) -> Iterator[Catalogue]:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def info(url: str, offset: int) -> CaptureInfo:
    return CaptureInfo(url=url, timestamp=WHEN, status=200, mime="text/html", record_type="response",
                       warc_file="news-00000.warc.gz", offset=offset, length=100,
                       payload_digest=f"sha1:{offset:032d}", refers_to_url=None, refers_to_date=None)


def story(n: int) -> str:
    return f"https://news.example/2026/11/story-{n}.html"


WORDS = [a + b for a in ("ba", "ko", "ri", "mel", "tus", "an", "vor", "si") for b in ("la", "ten", "rok", "mi", "das",
                                                                                  "po", "ner", "gul")]


def text(n: int) -> str:
    """A body of its own for each story (words drawn with seed ``n``), so none is taken for a copy of another."""
    draw = random.Random(n)
    return " ".join(draw.choice(WORDS) for _ in range(300))


def test_each_article_points_at_its_own_capture_queued_before_it(catalogue: Catalogue) -> None:
    run_id = catalogue.start_run("news", host="crawler-1")
    writer = CatalogueWriter(catalogue, batch_max=16)
    futures = []
    for n in range(100):  # more than a batch holds: several batches, each with captures and articles
        capture = writer.add_capture(run_id, info(story(n), offset=1000 * n))
        futures.append(writer.submit(
            lambda session, n=n, capture=capture: catalogue.record_article(
                "news", story(n), page("2026-11-02T08:30:00+01:00", story(n), text=text(n), title=f"Story {n}"),
                capture_id=capture.id, session=session)))
    outcomes = [future.result(timeout=60) for future in futures]
    writer.close()
    assert [outcome.status for outcome in outcomes] == ["new"] * 100
    with catalogue.session() as session:
        rows = session.execute(select(Article.url, Capture.url).join(Capture, Article.capture_id == Capture.id))
        pointed = {article: capture for article, capture in rows}
    assert pointed == {story(n): story(n) for n in range(100)}


def test_a_write_that_fails_fails_alone_and_the_rest_of_its_batch_commits(catalogue: Catalogue) -> None:
    run_id = catalogue.start_run("news", host="crawler-1")
    writer = CatalogueWriter(catalogue)
    captures = [writer.add_capture(run_id, info(story(n), offset=n)) for n in range(3)]

    def broken(session: object) -> None:
        raise ValueError("a bad page")

    futures = [writer.submit(broken) if n == 1 else writer.submit(
        lambda session, n=n: catalogue.record_article("news", story(n), page("2026-11-02T08:30:00+01:00", story(n),
                                                                               text=text(n)),
                                                       capture_id=captures[n].id, session=session))
        for n in range(3)]
    writer.close()
    with pytest.raises(ValueError, match="a bad page"):
        futures[1].result()
    assert futures[0].result().status == futures[2].result().status == "new"
    assert all(capture.id is not None for capture in captures)
    with catalogue.session() as session:
        assert set(session.scalars(select(Article.url))) == {story(0), story(2)}
        assert session.scalar(select(Capture.id).where(Capture.url == story(1))) == captures[1].id


def test_a_capture_that_cannot_be_written_is_reported_and_the_others_are_kept(catalogue: Catalogue) -> None:
    run_id = catalogue.start_run("news", host="crawler-1")
    failures: list[BaseException] = []
    writer = CatalogueWriter(catalogue, on_failure=failures.append)
    kept = writer.add_capture(run_id, info(story(0), offset=0))
    lost = writer.add_capture(run_id + 1000, info(story(1), offset=1))  # a run that does not exist
    writer.close()
    assert len(failures) == 1 and lost.id is None and kept.id is not None
    with catalogue.session() as session:
        assert list(session.scalars(select(Capture.url))) == [story(0)]


def test_close_writes_everything_queued(catalogue: Catalogue) -> None:
    run_id = catalogue.start_run("news", host="crawler-1")
    writer = CatalogueWriter(catalogue)
    captures = [writer.add_capture(run_id, info(story(n), offset=n)) for n in range(500)]
    writer.close()
    assert all(capture.id is not None for capture in captures)
    with catalogue.session() as session:
        assert len(session.scalars(select(Capture.id)).all()) == 500
