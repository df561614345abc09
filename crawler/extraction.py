"""The crawl's extraction workers: a page's article text, fingerprints and links, off the reactor.

trafilatura is CPU-bound, so extraction (and the text fingerprints dedup needs) runs in a
process pool, one worker per core by default, while the reactor keeps downloading. One
pool serves every crawl of the process (``crawl A B C`` crawls three sources in one
reactor): a pool per source would start and warm up that many workers per core, to fight
over the cores. The worker also finds the page's links, feeds and requisites
(:mod:`archive.web.page_links`) in the tree it parses for trafilatura, so an article page
is parsed in the worker only and the reactor just schedules what it finds.

Bounds, so that one hostile page cannot stall a worker:
- **size**: trafilatura gets at most ``NEWSARCHIVE_EXTRACT_MAX_BYTES`` of a page's HTML
  (cut before the last tag that starts within the cap); the archive keeps the whole page,
  and the spider finds the links of a page cut short in all of it.
- **time**: a page still being extracted after ``NEWSARCHIVE_EXTRACT_TIME_LIMIT`` seconds
  is interrupted inside its worker (SIGALRM), which goes on with the next page. The
  signal lands only when the worker runs Python again, and libxml2 may not return for
  minutes (16,000 sibling ``<div>``s, 200 KB, keep one XPath call busy for 100 s): a
  page not back ``HARD_STOP_GRACE`` seconds after that is abandoned and the pool
  replaced, its workers terminated; the other pages that were in that pool are extracted
  again in the new one. Either way the page is counted (error kind ``extract_timeout``)
  and not catalogued. A page's time runs from when its worker begins it (the worker
  says so on a queue), not from a worker start-up slowed by a busy machine.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import queue
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.queues import Queue
from types import FrameType
from typing import Any

from scrapy.crawler import Crawler

from archive.catalogue.dedup import Fingerprint
from archive.extract.article import Extracted, extract_article, extract_from_tree, parse_html, parse_page
from archive.web.page_links import PageLinks, page_links

HARD_STOP_GRACE = 5.0  # seconds past the time limit before a worker that ignored it is terminated
START_POLL = 0.25  # seconds between looks at which pages the workers have begun
# Pages in the pool at once, per worker: one being extracted and the next one already waiting
# in the pool's queue, so a worker that finishes does not sit idle while the reactor (busy
# with responses and the catalogue writer's thread) gets round to sending it another page.
# Its time limit runs only from when the worker begins it. One per worker: 8% slower crawl.
QUEUED_PER_WORKER = 2

WARM_UP_PAGE = (b"<html lang=en><body><article><p>" + b"A short warm-up paragraph for the extractor. " * 8
                + b"</p></article></body></html>")


class ExtractionTimeout(Exception):
    """A page whose extraction took longer than the time limit."""


class _Alarm(BaseException):
    """Raised by SIGALRM inside a worker; a BaseException, so that no ``except Exception`` in
    trafilatura or lxml swallows it."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Alarm


@dataclass(frozen=True)
class PageExtraction:
    """A worker's answer for one page: its article, if it has one, and what it links to."""

    article: Extracted | None  # None: no article text
    fingerprint: Fingerprint | None
    links: PageLinks
    not_article: str | None = None  # why there is no article: not_html (nothing to parse), too_short


# In a worker process: where it says which page (by token) it has begun, so the parent times
# each page from then, not from a start-up that may take seconds on a busy machine.
_starts: Queue[int] | None = None


def _warm_up(starts: Queue[int] | None = None) -> None:
    """Load trafilatura and the language model once per worker, not on the first article."""
    global _starts
    _starts = starts
    signal.signal(signal.SIGALRM, _on_alarm)
    extract_article(WARM_UP_PAGE, "http://localhost/warm-up", "text/html; charset=utf-8")


def extract_page(body: bytes, url: str, content_type: str | None, time_limit: float = 0.0,
                 token: int | None = None, published_hint: str | None = None) -> PageExtraction:
    """Runs in a worker: the CPU-heavy part of crawling a page, its links, extraction and fingerprints.

    Raises ExtractionTimeout past ``time_limit`` seconds (0: none).
    """
    if _starts is not None and token is not None:
        _starts.put(token)
    if time_limit:
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        tree = parse_page(body, content_type)
        if tree is None:
            return PageExtraction(None, None, PageLinks(), "not_html")
        links = page_links(tree, url)  # before extraction, which may prune the tree
        extracted = extract_from_tree(tree, url, published_hint=published_hint)
        if extracted is None or not extracted.text:
            return PageExtraction(None, None, links, "too_short")
        return PageExtraction(extracted, Fingerprint.of(extracted.text), links)
    except _Alarm:
        raise ExtractionTimeout(f"extraction of {url} took longer than {time_limit} s") from None
    finally:
        if time_limit:
            signal.setitimer(signal.ITIMER_REAL, 0)


def html_links(text: str, url: str) -> PageLinks:
    """The links, feeds and embeds of an HTML document (none when it does not parse)."""
    tree = parse_html(text)
    return page_links(tree, url) if tree is not None else PageLinks()


def bounded_html(body: bytes, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of the page, cut before a tag (a clean cut in any ASCII-based charset)."""
    if len(body) <= max_bytes:
        return body
    cut = body.rfind(b"<", 0, max_bytes)
    return body[: cut if cut > 0 else max_bytes]


class ExtractionPool:
    """The process's extraction workers, shared by its crawls; pages are submitted from the reactor."""

    def __init__(self, workers: int, time_limit: float) -> None:
        self.workers = workers
        self.time_limit = time_limit
        self.pool, self.starts = self._new_pool()
        self.slots = asyncio.Semaphore(QUEUED_PER_WORKER * workers)
        self.tokens = itertools.count()
        self.pending: set[int] = set()  # tokens of the pages in the pool
        self.started: dict[int, float] = {}  # token -> loop time its worker began it
        self.users = 0  # crawls using it; the last one to close shuts it down

    async def extract(self, body: bytes, url: str, content_type: str | None,
                      published_hint: str | None = None) -> PageExtraction:
        """Extraction in the pool, within the time limit; once more if the pool broke meanwhile."""
        async with self.slots:
            for attempt in (1, 2):
                pool, starts, token = self.pool, self.starts, next(self.tokens)
                future = pool.submit(extract_page, body, url, content_type, self.time_limit, token, published_hint)
                try:
                    return await self._outcome(future, starts, token)
                except TimeoutError:
                    self._replace_pool(pool)  # its worker did not come back to Python for the alarm
                    raise ExtractionTimeout(f"extraction of {url} did not stop at {self.time_limit} s") from None
                except BrokenProcessPool:  # replaced under it, or a worker died (killed for memory)
                    if attempt == 2:
                        raise
                    self._replace_pool(pool)
        raise AssertionError("unreachable")

    async def _outcome(self, future: Future[Any], starts: Queue[int], token: int) -> Any:
        """The page's result; TimeoutError once it has run HARD_STOP_GRACE past the limit in its worker."""
        loop = asyncio.get_running_loop()
        waiting = asyncio.wrap_future(future)
        deadline: float | None = None
        self.pending.add(token)
        try:
            while True:
                timeout = START_POLL if deadline is None else max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait({waiting}, timeout=timeout)
                if done:
                    return waiting.result()
                if deadline is not None:
                    raise TimeoutError
                self._collect_starts(starts, loop.time())
                if token in self.started:
                    deadline = self.started[token] + self.time_limit + HARD_STOP_GRACE
        finally:
            self.pending.discard(token)
            self.started.pop(token, None)

    def _collect_starts(self, starts: Queue[int], now: float) -> None:
        while True:
            try:
                token = starts.get_nowait()
            except queue.Empty:
                return
            if token in self.pending:
                self.started[token] = now

    def _new_pool(self) -> tuple[ProcessPoolExecutor, Queue[int]]:
        # spawn, not fork: forking a process that runs a reactor and threads is unsafe.
        context = multiprocessing.get_context("spawn")
        starts: Queue[int] = context.Queue()
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm_up,
                                   initargs=(starts,)), starts

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """A fresh pool for the pages to come; the workers of ``broken`` are terminated."""
        if broken is not self.pool:
            return  # another page already replaced it
        self.pool, self.starts = self._new_pool()
        # The executor has no public way to stop a running task; its processes are all we can reach.
        for process in list(getattr(broken, "_processes", {}).values()):
            process.terminate()
        broken.shutdown(wait=False)  # its running pages fail with BrokenProcessPool and are retried

    def release(self) -> None:
        """One crawl is done with the pool; the last one shuts it down."""
        global _shared
        self.users -= 1
        if self.users == 0:
            self.pool.shutdown(wait=True, cancel_futures=True)
            if _shared is self:
                _shared = None


_shared: ExtractionPool | None = None  # the process's pool, while some crawl uses it


def acquire_pool(crawler: Crawler) -> ExtractionPool:
    """The process's extraction pool, started by the first crawl that asks; ``release()`` it when done."""
    global _shared
    if _shared is None:
        settings = crawler.settings
        workers = settings.getint("NEWSARCHIVE_EXTRACT_WORKERS") or os.cpu_count() or 1
        _shared = ExtractionPool(workers, time_limit=settings.getfloat("NEWSARCHIVE_EXTRACT_TIME_LIMIT"))
    _shared.users += 1
    return _shared
