"""Extraction bounds: the HTML cap cuts cleanly, and the time limit frees the worker for the next page."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from crawler.extraction import ExtractionTimeout, _warm_up, bounded_html, extract_page

STORY = (b"<html lang=en><head><meta charset=utf-8><title>Pier</title></head><body><article><h1>Pier</h1>"
         + b"".join(b"<p>Paragraph %d of the story about the old pier, long enough to be text.</p>" % n
                    for n in range(8)) + b"</article>")


def test_the_cap_cuts_before_a_tag_and_leaves_small_pages_alone() -> None:
    page = "<p>é</p>".encode() * 1000
    assert bounded_html(page, len(page)) == page
    cut = bounded_html(page, 1001)
    assert len(cut) <= 1001 and cut.endswith("</p>".encode()) and cut.decode("utf-8")


@pytest.fixture(scope="module")
def pool() -> ProcessPoolExecutor:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up) as executor:
        yield executor


def test_a_page_past_the_time_limit_is_interrupted_and_the_worker_goes_on(pool: ProcessPoolExecutor) -> None:
    slow = STORY + b"<script>/* filler */</script>\n" * 9000 + b"</body></html>"  # ~2 s of Python-level work
    with pytest.raises(ExtractionTimeout):
        pool.submit(extract_page, slow, "http://news.example/slow", None, 0.3).result(timeout=120)
    result = pool.submit(extract_page, STORY + b"</body></html>", "http://news.example/ok", None,
                         30.0).result(timeout=60)
    assert result.article is not None and "old pier" in result.article.text
